"""Per-column scaling that travels with a model: fitted on the training data, kept in the model file as JSON.

A dense family's ``scale`` parameter chooses it (:class:`~aekit.models.base.ScaledInput`):

* ``"auto"``: data already in [0, 1] (images, shares) is left alone; anything else is standardised,
  or mapped to [0, 1] when a cross-entropy loss was asked for (it needs values there);
* ``"standard"``: each column minus its mean, divided by its standard deviation (scikit-learn's
  ``StandardScaler``, and PyOD's default preprocessing);
* ``"minmax"``: each column mapped to [0, 1] by the training data's minimum and range;
* ``None`` (``"none"`` on the command line): the data as given.

A constant column (standard deviation or range 0) is divided by 1, as scikit-learn does, so it
becomes 0 (standard) or 0 (minmax) and never NaN. A fitted scaler is a small dict of plain lists,
``{"kind", "offset", "scale", "bounded"}``: ``bounded`` says whether the scaled training data lies
in [0, 1], which decides the model's output layer (sigmoid or linear) and its ``"auto"`` loss.
Only NumPy here: no Keras, no pickle.
"""

from __future__ import annotations

import math

import numpy as np

KINDS = ("auto", "standard", "minmax")
#: a column whose spread is below this (relative to its size) counts as constant
_TINY = 1e-12


def value_range(X) -> tuple[float, float]:
    """``(low, high)`` of ``X``'s values; a streamed source gives its own (known bounds, or one pass)."""
    if getattr(X, "streamed", False):
        return X.value_range()
    X = np.asarray(X)
    return float(np.min(X)), float(np.max(X))


def in_unit_range(X) -> bool:
    """Whether every value of ``X`` lies in [0, 1]."""
    if not (X.size if hasattr(X, "size") else np.size(X)):
        return False
    low, high = value_range(X)
    return low >= 0.0 and high <= 1.0


def resolve(kind, X, cross_entropy: bool = False) -> str:
    """The scaling ``kind`` means for training data ``X``: ``"standard"``, ``"minmax"`` or ``"none"``."""
    if kind is None or kind == "none":
        return "none"
    if kind == "auto":
        if in_unit_range(X):
            return "none"
        return "minmax" if cross_entropy else "standard"
    if kind not in KINDS:
        raise ValueError(f"unknown scaling {kind!r}; use one of {', '.join(KINDS)} or None")
    return kind


def fit(X, kind, cross_entropy: bool = False, *, per_column: bool = True) -> dict:
    """The scaler of ``kind`` fitted on ``X`` (samples along the first axis), as a JSON-ready dict.

    ``per_column=False`` fits one offset and one scale to all of ``X``'s values and repeats them for
    every column: one affine map for all features, so distances between samples keep their proportions.
    """
    kind = resolve(kind, X, cross_entropy)
    if kind == "none":
        return {"kind": "none", "offset": None, "scale": None, "bounded": in_unit_range(X)}
    chunks = X.chunks() if getattr(X, "streamed", False) else [np.asarray(X)]
    mean, std, low, high = _column_stats(
        chunk.reshape(len(chunk), -1) if per_column else chunk.reshape(-1, 1) for chunk in chunks
    )
    if kind == "standard":
        offset, spread = mean, std
    else:
        offset, spread = low, high - low
    constant = spread <= _TINY * np.maximum(1.0, np.abs(offset))
    spread = np.where(constant, 1.0, spread)
    if not per_column:
        columns = math.prod(X.shape[1:])
        offset, spread, constant = (np.repeat(a, columns) for a in (offset, spread, constant))
    return {
        "kind": kind,
        "offset": offset.tolist(),
        "scale": spread.tolist(),
        "bounded": kind == "minmax",
        "constant_columns": np.flatnonzero(constant).tolist(),
    }


def _column_stats(chunks):
    """Per column over all ``chunks`` (2-D, in float64): mean, standard deviation, minimum, maximum.
    Sums are taken about the first chunk's mean, so a large offset costs no precision."""
    count, total, squares, low, high, shift = 0, 0.0, 0.0, np.inf, -np.inf, None
    for chunk in chunks:
        chunk = np.asarray(chunk, dtype=np.float64)
        if not len(chunk):
            continue
        shift = chunk.mean(axis=0) if shift is None else shift
        centred = chunk - shift
        count += len(chunk)
        total = total + centred.sum(axis=0)
        squares = squares + (centred**2).sum(axis=0)
        low, high = np.minimum(low, chunk.min(axis=0)), np.maximum(high, chunk.max(axis=0))
    moved = total / count
    return shift + moved, np.sqrt(np.maximum(squares / count - moved**2, 0.0)), low, high


def transform(X, scaler: dict | None) -> np.ndarray:
    """``X`` in the model's units (float32); unchanged without a scaler. A streamed source becomes a
    view scaled as it is read."""
    if not scaler or scaler.get("kind", "none") == "none":
        return X
    if getattr(X, "streamed", False):
        return X.mapped(lambda batch: transform(batch, scaler))
    X = np.asarray(X)
    offset, spread = _arrays(scaler, X.shape[1:])
    return ((X - offset) / spread).astype(np.float32)


def inverse(Y, scaler: dict | None) -> np.ndarray:
    """Model outputs ``Y`` back in the data's units (float32); unchanged without a scaler."""
    if not scaler or scaler.get("kind", "none") == "none":
        return Y
    Y = np.asarray(Y)
    offset, spread = _arrays(scaler, Y.shape[1:])
    return (Y * spread + offset).astype(np.float32)


def check(scaler, n_features: int) -> dict:
    """A scaler read back from a model file, checked field by field; ``ValueError`` names what is wrong."""
    if not isinstance(scaler, dict):
        raise ValueError("scaling_ must be a JSON object")
    kind = scaler.get("kind")
    if kind not in ("none", "standard", "minmax"):
        raise ValueError(f"scaling_.kind must be none, standard or minmax, got {kind!r}")
    if not isinstance(scaler.get("bounded"), bool):
        raise ValueError("scaling_.bounded must be true or false")
    if kind == "none":
        return scaler
    for key in ("offset", "scale"):
        values = scaler.get(key)
        if (
            not isinstance(values, list)
            or len(values) != n_features
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
        ):
            raise ValueError(f"scaling_.{key} must be {n_features} finite numbers")
    if not all(v > 0 for v in scaler["scale"]):
        raise ValueError("scaling_.scale must be positive numbers")
    return scaler


def _arrays(scaler: dict, sample_shape) -> tuple[np.ndarray, np.ndarray]:
    """The scaler's offset and scale as float64 arrays shaped like one sample (the arithmetic is done in float64)."""
    offset = np.asarray(scaler["offset"], dtype=np.float64).reshape(sample_shape)
    spread = np.asarray(scaler["scale"], dtype=np.float64).reshape(sample_shape)
    return offset, spread
