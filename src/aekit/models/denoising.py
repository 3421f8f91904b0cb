"""Denoising autoencoders (lessons 000 and 004): corrupt the input while training, reconstruct it clean.

The corruption is a layer in front of the encoder that acts only while training, so the
targets stay clean and ``encode``, ``reconstruct`` and ``denoise`` see the data as given.
Five kinds, each with one ``level`` (its default in brackets):

* ``"gaussian"``: add ``level * N(0, 1)`` and clip to [0, 1] (0.5; lesson 000 uses 0.6);
* ``"dropout"``: Keras ``Dropout(level)`` on the input (0.5, as lesson 004);
* ``"gaussian_noise"``: Keras ``GaussianNoise(level)``, unclipped (0.2, as lesson 004);
* ``"salt_and_pepper"``: set a fraction ``level`` of the values to 0 or 1 (0.1);
* ``"masking"``: set a fraction ``level`` of the values to 0 (0.25).

:func:`corrupt` applies the same corruption to NumPy arrays, reproducibly, to make noisy test data.
"""

import keras
import numpy as np

from aekit.layers import GaussianCorruption, MaskingNoise, SaltAndPepper
from aekit.models.base import register_family
from aekit.models.conv import ConvAutoencoder
from aekit.models.dense import DenseAutoencoder

DEFAULT_LEVELS = {"gaussian": 0.5, "dropout": 0.5, "gaussian_noise": 0.2, "salt_and_pepper": 0.1, "masking": 0.25}
NOISE_KINDS = tuple(DEFAULT_LEVELS)


def _check(kind, level):
    if kind not in DEFAULT_LEVELS:
        raise ValueError(f"unknown noise kind {kind!r}; use one of {', '.join(NOISE_KINDS)}")
    level = DEFAULT_LEVELS[kind] if level is None else float(level)
    fraction = kind in ("dropout", "salt_and_pepper", "masking")
    if level < 0 or (fraction and level >= 1):
        raise ValueError(f"{kind} noise level must be {'in [0, 1)' if fraction else '>= 0'}, got {level}")
    return level


def make_corruption(kind="gaussian", level=None, seed=None):
    """The Keras layer that corrupts its input with ``kind`` noise of ``level``, only while training."""
    level = _check(kind, level)
    if kind == "gaussian":
        return GaussianCorruption(noise_factor=level, seed=seed, name="corruption")
    if kind == "dropout":
        return keras.layers.Dropout(level, seed=seed, name="corruption")
    if kind == "gaussian_noise":
        return keras.layers.GaussianNoise(level, seed=seed, name="corruption")
    if kind == "salt_and_pepper":
        return SaltAndPepper(rate=level, seed=seed, name="corruption")
    return MaskingNoise(rate=level, seed=seed, name="corruption")


def corrupt(X, kind="gaussian", level=None, seed=0) -> np.ndarray:
    """A noisy float32 copy of ``X``, made as the training-time layer of the same ``kind`` would make it.

    The same ``seed`` gives the same noise, so noisy test sets are reproducible.
    """
    level = _check(kind, level)
    X = np.asarray(X, dtype=np.float32)
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        return np.clip(X + level * rng.standard_normal(X.shape), 0.0, 1.0).astype(np.float32)
    if kind == "gaussian_noise":
        return (X + level * rng.standard_normal(X.shape)).astype(np.float32)
    u = rng.random(X.shape)
    if kind == "dropout":
        return np.where(u < level, 0.0, X / (1.0 - level)).astype(np.float32)
    if kind == "masking":
        return np.where(u < level, 0.0, X).astype(np.float32)
    noisy = np.where(u < level / 2, 1.0, X)
    return np.where(u > 1.0 - level / 2, 0.0, noisy).astype(np.float32)


class DenoisingUses:
    """The corruption and ``denoise`` shared by the dense and convolutional denoisers."""

    def _corruption(self):
        return make_corruption(self.noise, self.noise_level, self.seed)

    def denoise(self, X, batch_size: int = 4096) -> np.ndarray:
        """Clean versions of noisy samples ``X``: the model's reconstruction, corruption switched off."""
        return self.reconstruct(X, batch_size)


@register_family("denoising")
class DenoisingAutoencoder(DenoisingUses, DenseAutoencoder):
    """A fully connected denoising autoencoder (lesson 000: gaussian noise 0.6, 128-32 layers).

    >>> dae = DenoisingAutoencoder(noise="gaussian", noise_level=0.6, epochs=10).fit(X)
    >>> cleaned = dae.denoise(corrupt(X_test, "gaussian", 0.6))
    """

    def __init__(
        self,
        hidden_layers=(128,),
        latent_dim=32,
        *,
        noise="gaussian",
        noise_level=None,
        activation="relu",
        code_activation="relu",
        l1=0.0,
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
        self.noise = noise
        self.noise_level = noise_level


@register_family("conv_denoising")
class ConvDenoisingAutoencoder(DenoisingUses, ConvAutoencoder):
    """A convolutional denoising autoencoder for (H, W, C) images of any size."""

    def __init__(
        self,
        filters=(32, 32),
        *,
        noise="gaussian",
        noise_level=None,
        lesson_layout=False,
        activation="relu",
        loss="binary_crossentropy",
        epochs=10,
        batch_size=128,
        learning_rate=1e-3,
        seed=0,
    ):
        super().__init__(
            filters,
            lesson_layout=lesson_layout,
            activation=activation,
            loss=loss,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            seed=seed,
        )
        self.noise = noise
        self.noise_level = noise_level
