"""Denoising autoencoders (lessons 000 and 004): corrupt the input while training, reconstruct it clean.

The corruption is a layer in front of the encoder that acts only while training, so the
targets stay clean and ``encode``, ``reconstruct`` and ``denoise`` see the data as given.
The kinds of noise and their levels are :mod:`aekit.noise`'s (``gaussian``, ``dropout``,
``gaussian_noise``, ``salt_and_pepper``, ``masking``); this module holds their Keras side:
:func:`make_corruption` and the families. :func:`corrupt` (NumPy) is :mod:`aekit.noise`'s, also
importable from here.
"""

import numpy as np

from aekit.errors import DataError, ParameterError
from aekit.models.conv import ConvAutoencoder
from aekit.models.dense import DenseAutoencoder
from aekit.noise import DEFAULT_LEVELS, NOISE_KINDS, SHIFTS, corrupt, noise_level
from aekit.params import Choice, Optional, Param, Real

#: ``corrupt`` and ``noise_level`` are re-exported: ``from aekit.models.denoising import corrupt`` keeps working
__all__ = [
    "ConvDenoisingAutoencoder",
    "DenoisingAutoencoder",
    "DenoisingUses",
    "corrupt",
    "make_corruption",
    "noise_level",
]


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


class DenoisingUses:
    """What the dense and convolutional denoisers share: the noise parameters, the corruption, ``denoise``."""

    params = (
        Param("noise", "gaussian", Choice(*NOISE_KINDS), "kind of corruption applied while training"),
        Param(
            "noise_level",
            None,
            Optional(Real(0), "the kind's default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LEVELS.items())),
            "noise factor (gaussian kinds) or corrupted fraction (the others)",
        ),
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

    def denoise(self, X, chunk_size: int = 4096, *, shift_average: bool = False) -> np.ndarray:
        """Clean versions of noisy samples ``X``: the model's reconstruction, corruption switched off.

        ``shift_average=True`` also denoises every image shifted by one pixel up, down, left and right
        (what leaves one edge comes back at the other), shifts those outputs back and returns the mean
        of all five: five times the work for clearer images, no retraining (MNIST at Gaussian noise 0.5:
        +0.22 dB PSNR on a validation split, ``benchmarks/notes.md``). It needs images: samples shaped
        (height, width[, channels]), or flat rows of a square gray or RGB image (784 values: 28 x 28).
        """
        first = self.reconstruct(X, chunk_size)
        if not shift_average:
            return first
        from aekit.plots import square_shape

        X = np.asarray(X, dtype=np.float32)
        shape = X.shape[1:]
        if len(shape) == 1:
            try:
                shape = square_shape(shape[0])
            except ValueError:
                raise DataError(
                    f"shift_average needs images, and {shape[0]}-value rows are no square image: pass "
                    "samples shaped (height, width[, channels])"
                ) from None
        images = X.reshape((len(X), *shape))
        outputs = [first.reshape(images.shape)]
        for dy, dx in SHIFTS[1:]:
            shifted = np.roll(images, (dy, dx), axis=(1, 2)).reshape(X.shape)
            out = self.reconstruct(shifted, chunk_size).reshape(images.shape)
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
