"""Arrays of samples from ``.npy`` and ``.npz`` files, and the rule that turns any array into float32 samples.

Pixels are read by their bit depth, never guessed from their values: ``uint8`` is divided by 255,
``uint16`` by 65535 (16-bit images), ``bool`` is 0/1. Every other integer or float array is a
table of numbers and keeps its units (a model that needs [0, 1] says so, with what to do).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aekit.datasets._dataset import Dataset, split, to_unit
from aekit.errors import DataError

#: unsigned integer sizes (bytes) read as pixels, and the value that means white (either byte order)
PIXEL_DEPTHS = {1: 255, 2: 65535}
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def read_npy(path: Path, test_size: float, seed: int) -> Dataset:
    try:
        x = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path}: holds Python objects (pickled); save a numeric array instead") from None
        raise DataError(f"{path}: not a readable .npy file ({exc}); it may be truncated") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc.__class__.__name__}); it may be truncated") from None
    x, image_shape = as_samples(path, x)
    return split(path.stem, x, None, image_shape, test_size, seed)


def read_npz(path: Path, test_size: float, seed: int) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path}: holds Python objects (pickled); save numeric arrays instead") from None
        raise DataError(f"{path}: not a readable .npz file ({exc}); it may be truncated") from None
    except Exception as exc:  # zip and format errors all mean the same to a user
        raise DataError(f"{path}: not a readable .npz file ({exc.__class__.__name__}); it may be truncated") from None
    if not arrays:
        raise DataError(f"{path}: the archive is empty")
    if "x_train" in arrays:
        if "x_test" in arrays and _pixels(arrays["x_train"]) != _pixels(arrays["x_test"]):
            raise DataError(
                f"{path}: x_train is {arrays['x_train'].dtype} and x_test {arrays['x_test'].dtype}, so one "
                "would be scaled as pixels and the other not; save both with the same type"
            )
        x_train, shape = as_samples(f"{path} (x_train)", arrays["x_train"])
        x_test, _ = as_samples(f"{path} (x_test)", arrays["x_test"]) if "x_test" in arrays else (x_train[:0], shape)
        if x_test.shape[1:] != x_train.shape[1:]:
            raise DataError(
                f"{path}: x_test samples have shape {x_test.shape[1:]}, x_train {x_train.shape[1:]}; they must match"
            )
        return Dataset(
            path.stem,
            x_train,
            labels(path, arrays.get("y_train"), len(x_train)),
            x_test,
            labels(path, arrays.get("y_test"), len(x_test)),
            shape,
        )
    key = next((k for k in ("x", "X", "data", "images") if k in arrays), None)
    if key is None:
        if len(arrays) != 1:
            raise DataError(
                f"{path}: cannot tell which array holds the samples ({', '.join(arrays)}); name it 'x' or 'x_train'"
            )
        key = next(iter(arrays))
    x, shape = as_samples(f"{path} ({key})", arrays[key])
    y = next((arrays[k] for k in ("y", "labels", "targets") if k in arrays), None)
    return split(path.stem, x, labels(path, y, len(x)), shape, test_size, seed)


def _pixels(x) -> bool:
    return x.dtype.kind == "u" and x.dtype.itemsize in PIXEL_DEPTHS


def labels(path, y, n: int):
    if y is None:
        return None
    y = np.asarray(y)
    if y.shape != (n,):
        raise DataError(f"{path}: labels have shape {y.shape}, expected ({n},)")
    return y.astype(np.int64) if np.issubdtype(y.dtype, np.integer) else y


def as_samples(where, x) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """``x`` as float32 samples (pixels by bit depth, numbers as they are); return it and its image shape."""
    x = np.asarray(x)
    check_layout(where, x)
    if x.dtype.kind == "u" and x.dtype.itemsize in PIXEL_DEPTHS:
        x = to_unit(x, PIXEL_DEPTHS[x.dtype.itemsize])
    elif x.dtype == bool:
        x = x.astype(np.float32)
    else:
        x = _as_float32(where, x)
    if x.ndim == 2:
        return x, None
    if x.ndim == 3:
        x = x[..., None]
    return x, tuple(x.shape[1:])


def check_layout(where, x) -> None:
    """Refuse an array (or memory map) whose type or shape cannot be samples, reading only its header."""
    if x.dtype.names is not None or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{where}: data type {x.dtype} is not numeric; save plain numbers")
    if np.issubdtype(x.dtype, np.complexfloating):
        raise DataError(f"{where}: complex numbers cannot be learned; save their real and imaginary parts as columns")
    if x.ndim == 0 or x.size == 0 or len(x) == 0:
        raise DataError(f"{where}: holds no samples")
    if x.ndim == 1:
        raise DataError(f"{where}: a 1-D array of {len(x)} values is ambiguous; save it as (samples, features)")
    if x.ndim == 4 and x.shape[1] in (1, 3, 4) and x.shape[1] != x.shape[-1] and x.shape[-1] not in (1, 3, 4):
        raise DataError(
            f"{where}: shape {x.shape} looks channels-first (n, C, H, W); save it as (n, H, W, C), "
            "e.g. np.moveaxis(x, 1, -1)"
        )
    if x.ndim > 4 or (x.ndim == 4 and x.shape[-1] not in (1, 3, 4)):
        raise DataError(f"{where}: shape {x.shape} is not (n, features), (n, H, W) or (n, H, W, C) with C in 1, 3, 4")
    if (
        x.ndim == 4
        and x.shape[1] in (1, 3)
        and x.shape[2] == x.shape[3]
        and x.shape[-1] in (1, 3, 4)
        and x.shape[1] != x.shape[-1]
    ):
        raise DataError(
            f"{where}: shape {x.shape} could be (n, H, W, C) or channels-first (n, C, H, W); "
            "save images as (n, H, W, C) larger than 4 pixels"
        )


def convert_samples(where, x: np.ndarray, row_numbers=None) -> np.ndarray:
    """Raw samples (a batch read from a file) as float32 by the rules of :func:`as_samples`, with a
    channel axis for (n, H, W); ``row_numbers`` names the rows in messages (default: their positions)."""
    if x.dtype.kind == "u" and x.dtype.itemsize in PIXEL_DEPTHS:
        x = to_unit(x, PIXEL_DEPTHS[x.dtype.itemsize])
    elif x.dtype == bool:
        x = x.astype(np.float32)
    else:
        x = _as_float32(where, x, row_numbers)
    return x[..., None] if x.ndim == 3 else x


def _as_float32(where, x: np.ndarray, row_numbers=None) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    name = (lambda row: row) if row_numbers is None else (lambda row: int(row_numbers[row]))
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(flat)
        if bad.any():
            row, column = (int(i) for i in np.argwhere(bad)[0])
            raise DataError(
                f"{where}: sample {name(row)} holds NaN or an infinite value (feature {column}); clean or drop it"
            )
    too_big = np.abs(flat.astype(np.float64)) > _FLOAT32_MAX
    if too_big.any():
        row, column = (int(i) for i in np.argwhere(too_big)[0])
        raise DataError(
            f"{where}: sample {name(row)}, feature {column} is {flat[row, column]!r}, "
            "beyond float32's range; rescale the data"
        )
    return x.astype(np.float32)
