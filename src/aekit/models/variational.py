"""Variational autoencoders (exercise 3, lesson 004): Gaussian encoder, sampling layer, latent loss.

The encoder outputs ``[z, mean, log_var]``; the :class:`~aekit.layers.Sampling` layer draws ``z``
and adds ``beta * KL`` to the model's losses. The reconstruction term is summed over the input's
features, so the reported loss is the negative ELBO per sample (about 148 on MNIST for the
lesson's 784-512-2 model). ``reduction="mean"`` divides both terms by the number of features,
which is lesson 004's ``latent_loss / 784`` recipe with a mean-squared-error reconstruction.
"""

import numpy as np

from aekit import training
from aekit.models._common import (
    as_shape,
    assemble,
    check_sizes,
    flatten_input,
    make_optimizer,
    size,
    unflatten_output,
)
from aekit.models._loss import LOSS_HELP, LOSSES
from aekit.models._params import LATENT_DIM
from aekit.models.base import Autoencoder, ScaledInput
from aekit.params import ACTIVATIONS, Choice, Param, Real, Sizes


def build_variational_autoencoder(
    input_dims,
    hidden_layers,
    latent_dim,
    *,
    activation="relu",
    beta=1.0,
    reconstruction="binary_crossentropy",
    reduction="sum",
    seed=None,
    optimizer="adam",
    learning_rate=None,
    output_activation="sigmoid",
):
    """Return ``(encoder, decoder, autoencoder)`` of a dense VAE, the autoencoder compiled.

    ``reconstruction`` is ``"binary_crossentropy"`` or ``"mse"``; ``beta`` weighs the KL term
    (β-VAE); ``seed`` seeds the sampling layer's generator; ``output_activation`` is the decoder's
    last activation (``"linear"`` for unbounded, standardised data).
    """
    import keras

    from aekit.layers import Sampling

    shape = as_shape(input_dims)
    hidden_layers = check_sizes("hidden layer sizes", hidden_layers)
    (latent_dim,) = check_sizes("latent size", latent_dim)
    scale = kl_scale(shape, reduction)

    inputs = keras.Input(shape)
    x = flatten_input(inputs, shape)
    for units in hidden_layers:
        x = keras.layers.Dense(units, activation=activation)(x)
    mean = keras.layers.Dense(latent_dim, activation=None, name="mean")(x)
    log_var = keras.layers.Dense(latent_dim, activation=None, name="log_var")(x)
    z = Sampling(beta=beta * scale, seed=seed, name="z")([mean, log_var])
    encoder = keras.Model(inputs, [z, mean, log_var], name="encoder")

    latent = keras.Input((latent_dim,))
    y = latent
    for units in reversed(hidden_layers):
        y = keras.layers.Dense(units, activation=activation)(y)
    y = keras.layers.Dense(size(shape), activation=output_activation)(y)
    decoder = keras.Model(latent, unflatten_output(y, shape), name="decoder")

    auto = assemble(encoder, decoder, shape)
    auto.compile(
        optimizer=make_optimizer(optimizer, learning_rate), loss=reconstruction_loss(reconstruction, reduction)
    )
    return encoder, decoder, auto


def kl_scale(shape, reduction):
    """Factor on the KL term: 1 for ``"sum"``, ``1 / n_features`` for ``"mean"`` (lesson 004's ``/ 784``)."""
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    return 1.0 if reduction == "sum" else 1.0 / size(shape)


def reconstruction_loss(reconstruction, reduction):
    """The reconstruction term: summed over features (``"sum"``) or Keras' per-feature mean (``"mean"``)."""
    import keras

    from aekit.layers import SummedReconstructionLoss

    if reduction == "mean":
        if reconstruction not in ("binary_crossentropy", "mse"):
            raise ValueError(f"reconstruction loss must be 'binary_crossentropy' or 'mse', got {reconstruction!r}")
        return keras.losses.get(reconstruction)
    return SummedReconstructionLoss(reconstruction)


class VariationalUses:
    """What the dense and convolutional VAEs share: their loss parameters and what a trained VAE is for.

    Needs ``encoder_`` returning ``[z, mean, log_var]``, ``decoder_``, ``latent_dim`` and ``seed``.
    """

    params = (
        Param("beta", 1.0, Real(0), "weight of the KL term (beta-VAE)"),
        Param("reconstruction", "auto", Choice(*LOSSES), LOSS_HELP, flag="loss"),
        Param(
            "reduction",
            "sum",
            Choice("sum", "mean"),
            "sum the loss over features (the ELBO), or average it (lesson 004's latent_loss / 784)",
        ),
    )
    uses = ("sample",)
    figures = ("samples", "latent_manifold")
    reconstruction_metric = "bce"

    def encode(self, X, chunk_size: int = 4096, sample: bool = False) -> np.ndarray:
        """Posterior means of ``X`` (or samples ``z`` with ``sample=True``)."""
        z, mean, _ = training.predict(self.encoder_, self._model_input(X), chunk_size)
        return z if sample else mean

    def encode_distribution(self, X, chunk_size: int = 4096):
        """``(mean, log_var)`` of the Gaussian posterior q(z|x) for each sample."""
        _, mean, log_var = training.predict(self.encoder_, self._model_input(X), chunk_size)
        return mean, log_var

    def _reconstruct_model(self, model_x, chunk_size: int = 4096) -> np.ndarray:
        """Decode the posterior means: the model's deterministic reconstruction (``reconstruct`` uses it)."""
        _, mean, _ = training.predict(self.encoder_, model_x, chunk_size)
        return training.predict(self.decoder_, mean, chunk_size)

    def sample(self, n: int, seed=None) -> np.ndarray:
        """``n`` new samples decoded from codes drawn from the N(0, I) prior."""
        self._check_fitted()
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return self.decode(rng.standard_normal((n, self.latent_dim)).astype(np.float32))

    def latent_grid(self, n: int = 25, extent: float = 3.0, dims=(0, 1)) -> np.ndarray:
        """Decoded ``n x n`` grid over ``[-extent, extent]`` in two latent dimensions (others 0).

        Returns an array shaped ``(n, n, *sample_shape)``: the lesson's 25x25 manifold.
        """
        axis = np.linspace(-extent, extent, n, dtype=np.float32)
        grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
        codes = np.zeros((n * n, self.latent_dim), dtype=np.float32)
        codes[:, list(dims)] = grid
        return self.decode(codes).reshape((n, n, *self.input_shape_))


class VariationalAutoencoder(ScaledInput, VariationalUses, Autoencoder):
    """A dense variational autoencoder: encode to a Gaussian, sample, decode; generate new samples.

    ``encode`` returns the posterior means (``sample=True`` draws ``z`` instead). Tables in any
    units are scaled inside the model (``scale``), and samples come back in the data's units.
    """

    family = "vae"
    summary = "variational (dense): generate new samples, interpolate"
    params = (
        Param(
            "hidden_layers",
            (512,),
            Sizes(),
            "hidden layer sizes from the input to the code",
            flag="hidden",
            positional=True,
        ),
        LATENT_DIM,
        Param("activation", "relu", Choice(*ACTIVATIONS), "activation of the hidden layers"),
    )
    defaults = {"latent_dim": 2}

    def _build(self, input_shape):
        return build_variational_autoencoder(
            input_shape,
            list(self.hidden_layers),
            self.latent_dim,
            activation=self.activation,
            beta=self.beta,
            reconstruction=self.resolved_loss(),
            reduction=self.reduction,
            seed=self.seed,
            learning_rate=self.learning_rate,
            output_activation="sigmoid" if self.bounded_output() else "linear",
        )
