"""Fully connected autoencoders: vanilla, multilayer, sparse and denoising (lessons 000, 003, 004).

One builder covers them all: the encoder is ``hidden_layers`` then the code layer, the decoder
mirrors ``hidden_layers`` and ends in ``output_activation``. Sparsity is an activity regularizer
on the code; denoising is a corruption layer placed before the encoder in the autoencoder only.
"""

import keras

from aekit.models._common import (
    as_shape,
    assemble,
    check_sizes,
    flatten_input,
    make_optimizer,
    size,
    unflatten_output,
)
from aekit.models.base import Autoencoder, register_family


def build_dense_autoencoder(
    input_dims,
    hidden_layers,
    latent_dims,
    *,
    activation="relu",
    code_activation="relu",
    output_activation="sigmoid",
    code_regularizer=None,
    corruption=None,
    loss="binary_crossentropy",
    optimizer="adam",
    learning_rate=None,
):
    """Return ``(encoder, decoder, autoencoder)``, the autoencoder compiled with ``optimizer`` and ``loss``.

    ``input_dims`` is an int or a sample shape (image-shaped inputs are flattened and the
    decoder's output reshaped back). ``code_regularizer`` (e.g. ``keras.regularizers.L1``) acts on
    the code's activations; ``corruption`` is a layer applied to the autoencoder's input.
    """
    shape = as_shape(input_dims)
    hidden_layers = check_sizes("hidden layer sizes", hidden_layers)
    (latent_dims,) = check_sizes("latent size", latent_dims)

    inputs = keras.Input(shape)
    x = flatten_input(inputs, shape)
    for units in hidden_layers:
        x = keras.layers.Dense(units, activation=activation)(x)
    code = keras.layers.Dense(
        latent_dims, activation=code_activation, activity_regularizer=code_regularizer, name="code"
    )(x)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input((latent_dims,))
    y = latent
    for units in reversed(hidden_layers):
        y = keras.layers.Dense(units, activation=activation)(y)
    y = keras.layers.Dense(size(shape), activation=output_activation)(y)
    decoder = keras.Model(latent, unflatten_output(y, shape), name="decoder")

    auto = assemble(encoder, decoder, shape, corruption)
    auto.compile(optimizer=make_optimizer(optimizer, learning_rate), loss=loss)
    return encoder, decoder, auto


@register_family("dense")
class DenseAutoencoder(Autoencoder):
    """A fully connected autoencoder: vanilla (one hidden size), multilayer/deep, sparse (``l1``).

    >>> ae = DenseAutoencoder(hidden_layers=(128, 64), latent_dim=32, epochs=10).fit(X)
    >>> codes = ae.encode(X)
    """

    reconstruction_metric = "mse"

    def __init__(
        self,
        hidden_layers=(128, 64),
        latent_dim=32,
        *,
        activation="relu",
        code_activation="relu",
        l1=0.0,
        loss="binary_crossentropy",
        epochs=20,
        batch_size=256,
        learning_rate=1e-3,
        seed=0,
    ):
        self.hidden_layers = hidden_layers
        self.latent_dim = latent_dim
        self.activation = activation
        self.code_activation = code_activation
        self.l1 = l1
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed

    def _code_regularizer(self):
        return keras.regularizers.L1(self.l1) if self.l1 else None

    def _corruption(self):
        return None

    def _build(self, input_shape):
        return build_dense_autoencoder(
            input_shape,
            list(self.hidden_layers),
            self.latent_dim,
            activation=self.activation,
            code_activation=self.code_activation,
            code_regularizer=self._code_regularizer(),
            corruption=self._corruption(),
            loss=self.loss,
            learning_rate=self.learning_rate,
        )
