"""Convolutional variational autoencoders, after the keras-io VAE example, for images of any size.

The encoder is a stride-2 ``Conv2D`` per entry of ``filters``, a small dense layer, then the
Gaussian's ``mean`` and ``log_var`` and the :class:`~aekit.layers.Sampling` layer; the decoder
mirrors it with ``Conv2DTranspose`` layers and ends in a sigmoid convolution with one filter per
channel. As in :mod:`aekit.models.conv`, the input is zero-padded to a multiple of
``2**len(filters)`` and the output cropped back, so any H x W x C works. Loss, β and reduction
behave exactly as in the dense :class:`~aekit.models.variational.VariationalAutoencoder`.
"""

from aekit.models._common import as_shape, assemble, check_sizes, make_optimizer
from aekit.models._params import LATENT_DIM
from aekit.models.base import Autoencoder
from aekit.models.conv import ImageInput, check_pooling_depth, pooling_padding
from aekit.models.variational import VariationalUses, kl_scale, reconstruction_loss
from aekit.params import ACTIVATIONS, Choice, Integer, Param, Sizes


def build_conv_variational_autoencoder(
    input_dims,
    filters=(32, 64),
    latent_dim=2,
    *,
    dense_units=16,
    activation="relu",
    beta=1.0,
    reconstruction="binary_crossentropy",
    reduction="sum",
    seed=None,
    optimizer="adam",
    learning_rate=None,
):
    """Return ``(encoder, decoder, autoencoder)`` of a convolutional VAE for (H, W, C) images.

    ``dense_units`` is the size of the dense layer between the convolutions and the Gaussian
    (0 for none); the other arguments are those of :func:`build_variational_autoencoder`.
    """
    import keras

    from aekit.layers import Sampling

    shape = as_shape(input_dims)
    if len(shape) != 3:
        raise ValueError(f"a convolutional VAE needs (height, width, channels) inputs, got {shape}")
    filters = check_sizes("filters", filters)
    if not filters:
        raise ValueError("a convolutional VAE needs at least one filter count")
    (latent_dim,) = check_sizes("latent size", latent_dim)
    check_pooling_depth(shape, len(filters))
    scale = kl_scale(shape, reduction)
    padding = pooling_padding(shape, len(filters))
    padded = [n + before + after for n, (before, after) in zip(shape[:2], padding)]
    code_height, code_width = (n // 2 ** len(filters) for n in padded)

    inputs = keras.Input(shape)
    x = keras.layers.ZeroPadding2D(padding)(inputs)
    for n in filters:
        x = keras.layers.Conv2D(n, 3, strides=2, padding="same", activation=activation)(x)
    x = keras.layers.Flatten()(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation=activation)(x)
    mean = keras.layers.Dense(latent_dim, name="mean")(x)
    log_var = keras.layers.Dense(latent_dim, name="log_var")(x)
    z = Sampling(beta=beta * scale, seed=seed, name="z")([mean, log_var])
    encoder = keras.Model(inputs, [z, mean, log_var], name="encoder")

    latent = keras.Input((latent_dim,))
    y = keras.layers.Dense(code_height * code_width * filters[-1], activation=activation)(latent)
    y = keras.layers.Reshape((code_height, code_width, filters[-1]))(y)
    for n in reversed(filters):
        y = keras.layers.Conv2DTranspose(n, 3, strides=2, padding="same", activation=activation)(y)
    y = keras.layers.Conv2D(shape[-1], 3, padding="same", activation="sigmoid")(y)
    decoder = keras.Model(latent, keras.layers.Cropping2D(padding)(y), name="decoder")

    auto = assemble(encoder, decoder, shape)
    auto.compile(
        optimizer=make_optimizer(optimizer, learning_rate), loss=reconstruction_loss(reconstruction, reduction)
    )
    return encoder, decoder, auto


class ConvVariationalAutoencoder(ImageInput, VariationalUses, Autoencoder):
    """A convolutional VAE: ``sample``, ``interpolate`` and ``latent_grid`` as on the dense one.

    >>> vae = ConvVariationalAutoencoder(filters=(32, 64), latent_dim=2, epochs=30).fit(images)
    >>> new_images = vae.sample(16)
    """

    family = "conv_vae"
    summary = "variational with a convolutional encoder and decoder"
    params = (
        Param(
            "filters", (32, 64), Sizes(min_len=1), "filters of the stride-2 convolutions, e.g. 32,64", positional=True
        ),
        LATENT_DIM,
        Param("dense_units", 16, Integer(0), "units of the dense layer before the Gaussian (0: none)"),
        Param("activation", "relu", Choice(*ACTIVATIONS), "activation of the hidden layers"),
    )
    defaults = {"latent_dim": 2, "batch_size": 128, "reconstruction": "binary_crossentropy"}

    def _build(self, input_shape):
        return build_conv_variational_autoencoder(
            input_shape,
            list(self.filters),
            self.latent_dim,
            dense_units=self.dense_units,
            activation=self.activation,
            beta=self.beta,
            reconstruction=self.resolved_loss(),
            reduction=self.reduction,
            seed=self.seed,
            learning_rate=self.learning_rate,
        )
