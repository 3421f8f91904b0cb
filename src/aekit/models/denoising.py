"""Denoising autoencoders (lessons 000 and 004): corrupt the input while training, reconstruct it clean.

The corruption is a layer in front of the encoder that acts only while training, so the
targets stay clean and ``encode``, ``reconstruct`` and ``denoise`` see the data as given.
Five kinds, each with one ``level`` (its default in brackets):

* ``"gaussian"``: add ``level * N(0, 1)`` and clip to [0, 1] (0.5; lesson 000 uses 0.6), unclipped when
  the model's data is standardised (a table in any units: the noise is then in standard deviations);
* ``"dropout"``: Keras ``Dropout(level)`` on the input (0.5, as lesson 004);
* ``"gaussian_noise"``: Keras ``GaussianNoise(level)``, unclipped (0.2, as lesson 004);
* ``"salt_and_pepper"``: set a fraction ``level`` of the values to 0 or 1 (0.1);
* ``"masking"``: set a fraction ``level`` of the values to 0 (0.25).

:func:`corrupt` applies the same corruption to NumPy arrays, reproducibly, to make noisy test data.
"""

import numpy as np

from aekit.errors import DataError, ParameterError
from aekit.models.conv import ConvAutoencoder
from aekit.models.dense import DenseAutoencoder
from aekit.params import Choice, Optional, Param, Real

DEFAULT_LEVELS = {"gaussian": 0.5, "dropout": 0.5, "gaussian_noise": 0.2, "salt_and_pepper": 0.1, "masking": 0.25}
NOISE_KINDS = tuple(DEFAULT_LEVELS)
#: kinds whose level is the fraction of values corrupted, so it must stay below 1
FRACTION_KINDS = ("dropout", "salt_and_pepper", "masking")


def noise_level(kind, level=None) -> float:
    """The level of ``kind`` noise: ``level``, or the kind's default when None; ValueError if impossible."""
    if kind not in DEFAULT_LEVELS:
        raise ValueError(f"unknown noise kind {kind!r}; use one of {', '.join(NOISE_KINDS)}")
    level = DEFAULT_LEVELS[kind] if level is None else float(level)
    if level < 0 or (kind in FRACTION_KINDS and level >= 1):
        raise ValueError(f"{kind} noise level must be {'in [0, 1)' if kind in FRACTION_KINDS else '>= 0'}, got {level:g}")
    return level


def make_corruption(kind="gaussian", level=None, seed=None, clip=True):
    """The Keras layer that corrupts its input with ``kind`` noise of ``level``, only while training.

    ``clip=False`` leaves ``"gaussian"`` noise unclipped (for standardised, unbounded data)."""
    import keras

    from aekit.layers import GaussianCorruption, MaskingNoise, SaltAndPepper

    level = noise_level(kind, level)
    if kind == "gaussian":
        return GaussianCorruption(noise_factor=level, clip=clip, seed=seed, name="corruption")
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
    level = noise_level(kind, level)
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


#: the image itself and its four one-pixel shifts (rows, columns) that ``denoise(..., shift_average=True)`` averages
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


class DenoisingUses:
    """What the dense and convolutional denoisers share: the noise parameters, the corruption, ``denoise``."""

    params = (
        Param("noise", "gaussian", Choice(*NOISE_KINDS), "kind of corruption applied while training"),
        Param("noise_level", None, Optional(Real(0), "the kind's default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LEVELS.items())),
              "noise factor (gaussian kinds) or corrupted fraction (the others)"),
    )
    uses = ("denoise",)
    figures = ("denoising",)

    def _check_params(self, params):
        super()._check_params(params)
        try:
            noise_level(params["noise"], params["noise_level"])
        except ValueError as exc:
            raise ParameterError(f"{{p}}: {exc}", p="noise_level") from None

    def _corruption(self):
        return make_corruption(self.noise, self.noise_level, self.seed, clip=self.bounded_output())

    def denoise(self, X, batch_size: int = 4096, *, shift_average: bool = False) -> np.ndarray:
        """Clean versions of noisy samples ``X``: the model's reconstruction, corruption switched off.

        ``shift_average=True`` also denoises every image shifted by one pixel up, down, left and right
        (what leaves one edge comes back at the other), shifts those outputs back and returns the mean
        of all five: five times the work for clearer images, no retraining (MNIST at Gaussian noise 0.5:
        +0.22 dB PSNR on a validation split, ``benchmarks/notes.md``). It needs images: samples shaped
        (height, width[, channels]), or flat rows of a square gray or RGB image (784 values: 28 x 28).
        """
        first = self.reconstruct(X, batch_size)
        if not shift_average:
            return first
        from aekit.plots import square_shape

        X = np.asarray(X, dtype=np.float32)
        shape = X.shape[1:]
        if len(shape) == 1:
            try:
                shape = square_shape(shape[0])
            except ValueError:
                raise DataError(f"shift_average needs images, and {shape[0]}-value rows are no square image: pass "
                                "samples shaped (height, width[, channels])") from None
        images = X.reshape((len(X), *shape))
        outputs = [first.reshape(images.shape)]
        for dy, dx in SHIFTS[1:]:
            shifted = np.roll(images, (dy, dx), axis=(1, 2)).reshape(X.shape)
            out = self.reconstruct(shifted, batch_size).reshape(images.shape)
            outputs.append(np.roll(out, (-dy, -dx), axis=(1, 2)))
        return np.mean(outputs, axis=0).reshape(first.shape)


class DenoisingAutoencoder(DenoisingUses, DenseAutoencoder):
    """A fully connected denoising autoencoder (lesson 000: gaussian noise 0.6, 128-32 layers).

    >>> dae = DenoisingAutoencoder(noise="gaussian", noise_level=0.6, epochs=10).fit(X)
    >>> cleaned = dae.denoise(corrupt(X_test, "gaussian", 0.6))
    """

    family = "denoising"
    summary = "dense, trained to undo --noise of --noise-level"
    defaults = {"hidden_layers": (128,)}


class ConvDenoisingAutoencoder(DenoisingUses, ConvAutoencoder):
    """A convolutional denoising autoencoder for (H, W, C) images of any size."""

    family = "conv_denoising"
    summary = "convolutional denoiser"
    defaults = {"filters": (32, 32), "batch_size": 128}
