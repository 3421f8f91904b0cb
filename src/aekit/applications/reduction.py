"""Dimensionality reduction with an autoencoder, as a scikit-learn transformer (lesson 000).

:class:`AutoencoderReducer` is to an autoencoder what ``PCA`` is to a linear projection:
``transform`` gives the code, ``inverse_transform`` decodes it. It takes flat 2-D arrays, so it
fits in a ``Pipeline`` and ``GridSearchCV`` tunes its hyper-parameters like any other step.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data


class AutoencoderReducer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Reduce ``(n, d)`` data to ``n_components`` features with a dense autoencoder.

    The features are scaled to [0, 1] by the training data's overall minimum and maximum (one
    affine map for all features, so distances keep their proportions) because the decoder ends
    in a sigmoid; ``inverse_transform`` undoes it. The other parameters are
    :class:`~aekit.DenseAutoencoder`'s; a linear code keeps the codes PCA-like and unbounded.

    >>> reducer = AutoencoderReducer(n_components=2, epochs=100).fit(X)
    >>> X2 = reducer.transform(X)
    """

    def __init__(
        self,
        n_components=2,
        hidden_layers=(64,),
        *,
        activation="relu",
        code_activation="linear",
        loss="mse",
        epochs=100,
        batch_size=64,
        learning_rate=1e-3,
        seed=0,
    ):
        self.n_components = n_components
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.code_activation = code_activation
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed

    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X`` through an ``n_components``-wide code."""
        from aekit.models import DenseAutoencoder

        X = self._validate(X, reset=True)
        self.data_min_ = float(X.min())
        self.data_scale_ = float(X.max() - X.min()) or 1.0
        self.autoencoder_ = DenseAutoencoder(
            hidden_layers=tuple(self.hidden_layers),
            latent_dim=self.n_components,
            activation=self.activation,
            code_activation=self.code_activation,
            loss=self.loss,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            seed=self.seed,
        ).fit(self._scale(X))
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
        return self.autoencoder_.decode(Z) * self.data_scale_ + self.data_min_

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
        return (X - self.data_min_) / self.data_scale_

    def _validate(self, X, reset=False) -> np.ndarray:
        return validate_data(self, X, dtype=np.float32, reset=reset)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # Keras computes in float32
        return tags
