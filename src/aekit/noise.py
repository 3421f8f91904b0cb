"""The noise kinds, in one place: their default levels, the limits of a level, and NumPy corruption.

Five kinds, each with one ``level`` (its default in brackets):

* ``"gaussian"``: add ``level * N(0, 1)`` and clip to [0, 1] (0.5; lesson 000 uses 0.6), unclipped when
  the model's data is standardised (a table in any units: the noise is then in standard deviations);
* ``"dropout"``: Keras ``Dropout(level)`` on the input (0.5, as lesson 004);
* ``"gaussian_noise"``: Keras ``GaussianNoise(level)``, unclipped (0.2, as lesson 004);
* ``"salt_and_pepper"``: set a fraction ``level`` of the values to 0 or 1 (0.1);
* ``"masking"``: set a fraction ``level`` of the values to 0 (0.25).

The denoising families (:mod:`aekit.models.denoising`, whose Keras layer is ``make_corruption``),
the command line's ``--add-noise`` and the explorer's denoising panel all read the kinds from here.
:func:`corrupt` applies a corruption to NumPy arrays, reproducibly, to make noisy test data.
No Keras here; NumPy is imported only by :func:`corrupt`, so the command line reads the kinds at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

DEFAULT_LEVELS = {"gaussian": 0.5, "dropout": 0.5, "gaussian_noise": 0.2, "salt_and_pepper": 0.1, "masking": 0.25}
NOISE_KINDS = tuple(DEFAULT_LEVELS)
#: kinds whose level is the fraction of values corrupted, so it must stay below 1
FRACTION_KINDS = ("dropout", "salt_and_pepper", "masking")
#: the largest level the explorer's slider offers for each kind: 1 (a factor), or 0.9 for a fraction
NOISE_LIMITS = {kind: 0.9 if kind in FRACTION_KINDS else 1.0 for kind in NOISE_KINDS}
#: the image itself and its four one-pixel shifts (rows, columns) that ``denoise(..., shift_average=True)`` averages
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def noise_level(kind, level=None) -> float:
    """The level of ``kind`` noise: ``level``, or the kind's default when None; ValueError if impossible."""
    if kind not in DEFAULT_LEVELS:
        raise ValueError(f"unknown noise kind {kind!r}; use one of {', '.join(NOISE_KINDS)}")
    level = DEFAULT_LEVELS[kind] if level is None else float(level)
    if level < 0 or (kind in FRACTION_KINDS and level >= 1):
        raise ValueError(
            f"{kind} noise level must be {'in [0, 1)' if kind in FRACTION_KINDS else '>= 0'}, got {level:g}"
        )
    return level


def corrupt(X, kind="gaussian", level=None, seed=0) -> np.ndarray:
    """A noisy float32 copy of ``X``, made as the training-time layer of the same ``kind`` would make it.

    The same ``seed`` gives the same noise, so noisy test sets are reproducible.
    """
    import numpy as np

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
