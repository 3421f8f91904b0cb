"""A model family that lives outside aekit: one file, registered through the ``aekit.families`` entry point.

The test suite puts this folder (with its ``.dist-info``) on ``PYTHONPATH``, which is how an
installed package's entry points are found, and drives the family through the real ``aekit``.
"""

from aekit import Autoencoder, Param
from aekit.params import Choice, Integer


class ShallowAutoencoder(Autoencoder):
    """One dense layer in, one out: the smallest autoencoder there is."""

    family = "shallow"
    summary = "a single dense layer each way (a plug-in family)"
    params = (
        Param("latent_dim", 4, Integer(1), "size of the code", flag="latent", positional=True),
        Param("output_activation", "sigmoid", Choice("sigmoid", "linear"), "activation of the reconstruction"),
    )
    defaults = {"epochs": 3, "batch_size": 64}

    def _build(self, input_shape):
        import math

        import keras

        inputs = keras.Input(input_shape)
        flat = keras.layers.Flatten()(inputs)
        encoder = keras.Model(inputs, keras.layers.Dense(self.latent_dim, activation="relu")(flat), name="encoder")
        code = keras.Input((self.latent_dim,))
        out = keras.layers.Dense(math.prod(input_shape), activation=self.output_activation)(code)
        decoder = keras.Model(code, keras.layers.Reshape(input_shape)(out), name="decoder")
        x = keras.Input(input_shape)
        autoencoder = keras.Model(x, decoder(encoder(x)), name="autoencoder")
        autoencoder.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy")
        return encoder, decoder, autoencoder
