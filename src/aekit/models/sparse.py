"""Sparse autoencoders: a penalty on the code's activations keeps few code units active per input.

Three recipes from the lessons, all a :class:`DenseAutoencoder` with an activity regularizer:

* exercise 1 / lesson 000: relu code, ``sparsity="l1"``, ``l1=1e-5``;
* lesson 004, approach 1: large sigmoid code (e.g. 300 units), ``sparsity="l1"``, ``l1=1e-4``;
* lesson 004, approach 2: sigmoid code, ``sparsity="kl"``: the KL divergence between a target
  activation ``target`` (0.1) and each unit's mean activation over the batch, times ``weight``
  (:class:`~aekit.layers.KLSparsity`).
"""

from aekit.errors import ParameterError
from aekit.models.dense import DenseAutoencoder
from aekit.params import ACTIVATIONS, Choice, Optional, Param, Real


class SparseAutoencoder(DenseAutoencoder):
    """A dense autoencoder whose code is pushed to be sparse by an L1 or a KL-divergence penalty.

    ``code_activation=None`` picks relu for ``"l1"`` and sigmoid for ``"kl"`` (the KL penalty
    needs activations in (0, 1)).

    >>> SparseAutoencoder((100,), 300, sparsity="kl", target=0.1, weight=5e-3).fit(X)
    """

    family = "sparse"
    summary = "dense with an L1 or KL sparsity penalty on the code"
    params = (
        Param("sparsity", "l1", Choice("l1", "kl"), "L1 penalty on the code, or KL divergence to a target activation"),
        Param("l1", 1e-5, Real(0), "weight of the L1 penalty", requires={"sparsity": "l1"}),
        Param(
            "target",
            0.1,
            Real(0, 1, min_open=True, max_open=True),
            "target mean activation of the KL penalty",
            flag="sparsity_target",
            requires={"sparsity": "kl"},
        ),
        Param("weight", 5e-3, Real(0), "weight of the KL penalty", flag="sparsity_weight", requires={"sparsity": "kl"}),
        Param(
            "code_activation",
            None,
            Optional(Choice(*ACTIVATIONS), "relu for l1, sigmoid for kl"),
            "activation of the code layer",
        ),
    )
    figures = ("code_distribution",)

    def figure_names(self):
        return self.figures

    def _check_params(self, params):
        super()._check_params(params)
        if params["sparsity"] == "kl" and self._code_activation() != "sigmoid":
            raise ParameterError(
                f"{{p}}: KL sparsity needs a sigmoid code, got {params['code_activation']!r}", p="code_activation"
            )

    def _code_regularizer(self):
        import keras

        from aekit.layers import KLSparsity

        if self.sparsity == "kl":
            return KLSparsity(target=self.target, weight=self.weight)
        return keras.regularizers.L1(self.l1)

    def _code_activation(self):
        if self.code_activation is not None:
            return self.code_activation
        return "sigmoid" if self.sparsity == "kl" else "relu"
