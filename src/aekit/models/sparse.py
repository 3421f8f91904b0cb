"""Sparse autoencoders: a penalty on the code's activations keeps few code units active per input.

Three recipes from the lessons, all a :class:`DenseAutoencoder` with an activity regularizer:

* exercise 1 / lesson 000: relu code, ``sparsity="l1"``, ``l1=1e-5``;
* lesson 004, approach 1: large sigmoid code (e.g. 300 units), ``sparsity="l1"``, ``l1=1e-4``;
* lesson 004, approach 2: sigmoid code, ``sparsity="kl"``: the KL divergence between a target
  activation ``target`` (0.1) and each unit's mean activation over the batch, times ``weight``
  (:class:`~aekit.layers.KLSparsity`).
"""

import keras

from aekit.layers import KLSparsity
from aekit.models.base import register_family
from aekit.models.dense import DenseAutoencoder


@register_family("sparse")
class SparseAutoencoder(DenseAutoencoder):
    """A dense autoencoder whose code is pushed to be sparse by an L1 or a KL-divergence penalty.

    ``code_activation=None`` picks relu for ``"l1"`` and sigmoid for ``"kl"`` (the KL penalty
    needs activations in (0, 1)).

    >>> SparseAutoencoder((100,), 300, sparsity="kl", target=0.1, weight=5e-3).fit(X)
    """

    def __init__(
        self,
        hidden_layers=(128, 64),
        latent_dim=32,
        *,
        sparsity="l1",
        l1=1e-5,
        target=0.1,
        weight=5e-3,
        code_activation=None,
        activation="relu",
        tied_weights=False,
        loss="binary_crossentropy",
        epochs=20,
        batch_size=256,
        learning_rate=1e-3,
        seed=0,
    ):
        super().__init__(
            hidden_layers,
            latent_dim,
            activation=activation,
            code_activation=code_activation,
            l1=l1,
            tied_weights=tied_weights,
            loss=loss,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            seed=seed,
        )
        self.sparsity = sparsity
        self.target = target
        self.weight = weight

    def _code_regularizer(self):
        if self.sparsity == "l1":
            return keras.regularizers.L1(self.l1)
        if self.sparsity == "kl":
            if self._code_activation() != "sigmoid":
                raise ValueError(f"KL sparsity needs a sigmoid code, got code_activation={self.code_activation!r}")
            return KLSparsity(target=self.target, weight=self.weight)
        raise ValueError(f"sparsity must be 'l1' or 'kl', got {self.sparsity!r}")

    def _code_activation(self):
        if self.code_activation is not None:
            return self.code_activation
        return "sigmoid" if self.sparsity == "kl" else "relu"
