"""Dimensionality reduction with an autoencoder, as a scikit-learn transformer (lesson 000).

:class:`AutoencoderReducer` is to an autoencoder what ``PCA`` is to a linear projection:
``transform`` gives the code, ``inverse_transform`` decodes it. It takes flat 2-D arrays, so it
fits in a ``Pipeline`` and ``GridSearchCV`` tunes its hyper-parameters like any other step.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from aekit import scaling
from aekit.models.dense import DenseAutoencoder
from aekit.params import Param, make_init

#: the reducer's parameters that the dense family names otherwise
DENSE_NAMES = {"n_components": "latent_dim"}
#: the reducer's own defaults, where they differ from the dense family's
DEFAULTS = {
    "n_components": 2,
    "hidden_layers": (64,),
    "code_activation": "linear",
    "loss": "mse",
    "epochs": 100,
    "batch_size": 64,
}


def _declarations(names) -> dict[str, Param]:
    """:class:`~aekit.DenseAutoencoder`'s declarations of ``names`` (kind, help, default), renamed and with
    the reducer's own defaults."""
    dense = {name: DenseAutoencoder.params[DENSE_NAMES.get(name, name)] for name in names}
    return {name: replace(param, name=name, default=DEFAULTS.get(name, param.default)) for name, param in dense.items()}


class AutoencoderReducer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Reduce ``(n, d)`` data to ``n_components`` features with a dense autoencoder.

    The parameters are :class:`~aekit.DenseAutoencoder`'s declarations (``params``: their kinds check
    the values at ``fit``, their help documents them), ``n_components`` being its ``latent_dim``, with
    the reducer's own defaults where they differ (``DEFAULTS``); a linear code keeps the codes
    PCA-like and unbounded.

    The features are scaled to [0, 1] by the training data's overall minimum and maximum
    (``scaling_``: :func:`aekit.scaling.fit` with ``per_column=False``, one affine map for all
    features, so distances keep their proportions) because the decoder ends in a sigmoid;
    ``inverse_transform`` undoes it, so codes come from and decode to ``X``'s units. The dense
    family's own ``scale="minmax"`` would map each column by its own range instead: a feature of
    small range would then weigh as much as one of large range in the loss and in the codes, which
    changes the reduction (and its reconstruction error in ``X``'s units), so the reducer keeps its
    one map and trains the dense model on the scaled data as it is (``scale=None``).

    >>> reducer = AutoencoderReducer(n_components=2, epochs=100).fit(X)
    >>> X2 = reducer.transform(X)
    """

    params = _declarations(
        (
            "n_components",
            "hidden_layers",
            "activation",
            "code_activation",
            "loss",
            "epochs",
            "batch_size",
            "learning_rate",
            "seed",
        )
    )
    __init__ = make_init(params, "AutoencoderReducer")

    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X`` through an ``n_components``-wide code."""
        values = {name: param.check(getattr(self, name)) for name, param in self.params.items()}
        X = self._validate(X, reset=True)
        self.scaling_ = scaling.fit(X, "minmax", per_column=False)
        dense = {DENSE_NAMES.get(name, name): value for name, value in values.items()}
        self.autoencoder_ = DenseAutoencoder(**dense, scale=None).fit(self._scale(X))
        return self

    def transform(self, X) -> np.ndarray:
        """The code of each sample: an ``(n, n_components)`` array."""
        check_is_fitted(self, "autoencoder_")
        return self.autoencoder_.encode(self._scale(self._validate(X)))

    def inverse_transform(self, X) -> np.ndarray:
        """Decode codes ``(n, n_components)`` back to the input space (the reconstruction)."""
        check_is_fitted(self, "autoencoder_")
        Z = check_array(X, dtype=np.float32)
        if Z.shape[1] != self.n_components:
            raise ValueError(f"codes must have {self.n_components} columns (n_components), got {Z.shape[1]}")
        return scaling.inverse(self.autoencoder_.decode(Z), self.scaling_)

    def reconstruction_error(self, X) -> np.ndarray:
        """Per-sample mean squared error of ``inverse_transform(transform(X))``, in ``X``'s units."""
        X = self._validate(X)
        return np.mean((X - self.inverse_transform(self.transform(X))) ** 2, axis=1)

    def score(self, X, y=None) -> float:
        """Negative mean squared reconstruction error, so ``GridSearchCV`` prefers better reconstructions."""
        return -float(np.mean(self.reconstruction_error(X)))

    @property
    def _n_features_out(self):
        return self.n_components

    def _scale(self, X):
        return scaling.transform(X, self.scaling_)

    def _validate(self, X, reset=False) -> np.ndarray:
        return validate_data(self, X, dtype=np.float32, reset=reset)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # Keras computes in float32
        return tags
