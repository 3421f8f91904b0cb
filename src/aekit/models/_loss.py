"""The loss policy every family shares: which reconstruction loss and output a model gets for its data.

``"auto"`` follows the data as the network sees it (after the family's ``scale``): cross-entropy
and a sigmoid output for values in [0, 1] (images), mean squared error and a linear output for
anything else (tables in any units).
"""

from __future__ import annotations

#: what a reconstruction-loss parameter (``loss``, ``reconstruction``) may be: ``auto`` follows the data
LOSSES = ("auto", "binary_crossentropy", "mse")
LOSS_HELP = (
    "reconstruction loss; auto: cross-entropy and a sigmoid output for data in [0, 1] (images), mean squared "
    "error and a linear output otherwise (tables, scaled by --scale)"
)


class LossPolicy:
    """The methods of :class:`~aekit.models.base.Autoencoder` that decide its loss, output and default metric."""

    #: per-sample error that ``reconstruction_error`` reports by default
    reconstruction_metric = "mse"

    def _check_loss(self, values: dict) -> None:
        """Refuse a scale that makes values unbounded together with a cross-entropy loss (one line)."""
        from aekit.errors import ParameterError

        loss_name = "loss" if "loss" in values else "reconstruction"
        if values.get("scale") == "standard" and "crossentropy" in str(values.get(loss_name)):
            raise ParameterError(
                "{p} standard makes values unbounded, which a cross-entropy loss cannot reconstruct; "
                "use {p} minmax, or {l} auto",
                p="scale",
                l=loss_name,
            )

    def needs_unit_range(self) -> bool:
        """Whether training targets must lie in [0, 1]: a cross-entropy loss asked for by name, or ``"auto"``
        in a family whose output is a sigmoid whatever the data (one without ``scale``: images)."""
        loss = self._loss_param()
        return "crossentropy" in str(loss) or (loss == "auto" and "scale" not in self.params)

    def _loss_param(self):
        """The family's reconstruction-loss parameter (``loss`` or ``reconstruction``), as set."""
        return getattr(self, "loss", None) or getattr(self, "reconstruction", None)

    def resolved_loss(self) -> str | None:
        """The reconstruction loss the model trains with: the one asked for, or for ``"auto"`` cross-entropy
        when the data the network sees lies in [0, 1] and mean squared error otherwise."""
        loss = self._loss_param()
        if loss != "auto":
            return loss
        return "binary_crossentropy" if self.bounded_output() else "mse"

    def bounded_output(self) -> bool:
        """Whether the network reproduces data in [0, 1] (a sigmoid output): true for data in [0, 1] as the
        network sees it (after scaling), false for standardised or unscaled unbounded data; true before fitting."""
        fitted = getattr(self, "scaling_", None)
        return True if fitted is None else bool(fitted["bounded"])

    def _default_metric(self) -> str:
        """``reconstruction_metric``, unless that is cross-entropy and the model's data is not in [0, 1]."""
        metric = self.reconstruction_metric
        return "mse" if metric == "bce" and not self.bounded_output() else metric
