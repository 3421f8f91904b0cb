"""Numbers that say how well a model reconstructs: per-sample errors and image quality."""

from __future__ import annotations

import numpy as np

_EPS = 1e-7


def reconstruction_error(x, x_hat, metric: str = "mse") -> np.ndarray:
    """Per-sample error between ``x`` and its reconstruction ``x_hat``.

    ``"mse"``: mean squared error over the features; ``"sse"``: summed squared error (Hinton &
    Salakhutdinov's figure); ``"bce"``: mean binary cross-entropy, the lessons' training loss.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    x_hat = np.asarray(x_hat, dtype=np.float64).reshape(len(x_hat), -1)
    if x.shape != x_hat.shape:
        raise ValueError(f"inputs {x.shape} and reconstructions {x_hat.shape} differ in shape")
    if metric == "mse":
        return np.mean((x - x_hat) ** 2, axis=1)
    if metric == "sse":
        return np.sum((x - x_hat) ** 2, axis=1)
    if metric == "bce":
        p = np.clip(x_hat, _EPS, 1 - _EPS)
        return -np.mean(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    raise ValueError(f"unknown reconstruction metric {metric!r}; use 'mse', 'sse' or 'bce'")
