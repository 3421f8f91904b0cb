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


def column_errors(x, x_hat, metric: str = "mse") -> np.ndarray:
    """Each sample's error feature by feature, ``(n, features)``: squared errors (``"mse"``, ``"sse"``) or
    binary cross-entropies (``"bce"``); their mean over the features is the ``"mse"`` (``"bce"``) error."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    x_hat = np.asarray(x_hat, dtype=np.float64).reshape(len(x_hat), -1)
    if x.shape != x_hat.shape:
        raise ValueError(f"inputs {x.shape} and reconstructions {x_hat.shape} differ in shape")
    if metric in ("mse", "sse"):
        return (x - x_hat) ** 2
    if metric == "bce":
        p = np.clip(x_hat, _EPS, 1 - _EPS)
        return -(x * np.log(p) + (1 - x) * np.log(1 - p))
    raise ValueError(f"unknown reconstruction metric {metric!r}; use 'mse', 'sse' or 'bce'")


def summary(x, x_hat) -> dict:
    """A model's reconstructions of ``x`` in numbers: mean squared and cross-entropy errors, PSNR, SSIM for images."""
    x, x_hat = np.asarray(x), np.asarray(x_hat)
    scores = {
        "samples": int(len(x)),
        "mse": float(np.mean(reconstruction_error(x, x_hat, "mse"))),
        "bce": float(np.mean(reconstruction_error(np.clip(x, 0, 1), x_hat, "bce"))),
        "psnr": float(np.mean(psnr(x, x_hat))),
    }
    if x.ndim == 4:
        scores["ssim"] = float(np.mean(ssim(x, x_hat)))
    return scores


def summary_of_chunks(pairs) -> dict:
    """:func:`summary` of data seen ``(x, x_hat)`` chunk by chunk (a streamed source): the same numbers,
    from per-sample values, without holding all the samples at once."""
    parts = {"mse": [], "bce": [], "psnr": [], "ssim": []}
    images = False
    for x, x_hat in pairs:
        x, x_hat = np.asarray(x), np.asarray(x_hat)
        parts["mse"].append(reconstruction_error(x, x_hat, "mse"))
        parts["bce"].append(reconstruction_error(np.clip(x, 0, 1), x_hat, "bce"))
        parts["psnr"].append(psnr(x, x_hat))
        if x.ndim == 4:
            images = True
            parts["ssim"].append(ssim(x, x_hat))
    values = {key: np.concatenate(chunks) if chunks else np.zeros(0) for key, chunks in parts.items()}
    scores = {"samples": int(len(values["mse"]))}
    scores.update({key: float(np.mean(values[key])) for key in ("mse", "bce", "psnr")})
    if images:
        scores["ssim"] = float(np.mean(values["ssim"]))
    return scores


def psnr(x, x_hat, data_range: float = 1.0) -> np.ndarray:
    """Per-sample peak signal-to-noise ratio in dB, ``10 log10(data_range^2 / mse)``; ``inf`` when exact.

    The usual image-quality number: about 20 dB looks blurry, 30 dB and more is close to the original.
    """
    mse = reconstruction_error(x, x_hat, "mse")
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / mse)


def ssim(x, x_hat, data_range: float = 1.0, sigma: float = 1.5, image_shape=None) -> np.ndarray:
    """Per-sample structural similarity (Wang et al., 2004) of images ``(n, H, W)`` or ``(n, H, W, C)``.

    Local means, variances and covariance come from a Gaussian window (``sigma``, truncated at
    3.5 sigma, reflected at the borders), with the paper's constants K1=0.01 and K2=0.03. The map
    is averaged over the image without a border of the window's radius (as scikit-image does with
    ``gaussian_weights=True, use_sample_covariance=False``), or over all of it when the image is
    smaller than the window, and over channels. 1 means identical. Flat vectors need ``image_shape``.
    """
    x, x_hat = _image_batch(x, image_shape), _image_batch(x_hat, image_shape)
    if x.shape != x_hat.shape:
        raise ValueError(f"images {x.shape} and reconstructions {x_hat.shape} differ in shape")
    kernel = _gaussian_kernel(sigma)

    def blur(a):
        return _filter_axis(_filter_axis(a, kernel, 1), kernel, 2)

    mu_x, mu_y = blur(x), blur(x_hat)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(x_hat * x_hat) - mu_y**2
    cov = blur(x * x_hat) - mu_x * mu_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    radius = len(kernel) // 2
    if min(x.shape[1:3]) >= len(kernel):
        ssim_map = ssim_map[:, radius:-radius, radius:-radius]
    return ssim_map.reshape(len(ssim_map), -1).mean(axis=1)


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve of anomaly ``scores`` (higher = more anomalous) for ``labels`` (1 = anomaly).

    0.5 is chance, 1.0 ranks every anomaly above every normal sample.
    """
    from sklearn.metrics import roc_auc_score

    scores, labels = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"got {len(scores)} scores but {len(labels)} labels")
    if len(np.unique(labels)) != 2:
        raise ValueError("ROC AUC needs labels with both classes: 1 (or True) for anomalies, 0 for normal samples")
    return float(roc_auc_score(labels, scores))


def _image_batch(x, image_shape) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if image_shape is not None:
        x = x.reshape((len(x), *image_shape))
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(
            f"ssim needs images shaped (n, H, W) or (n, H, W, C), got {x.shape}; pass image_shape for flat vectors"
        )
    return x


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = int(3.5 * sigma + 0.5)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


def _filter_axis(a: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """Correlate ``a`` with a symmetric 1-D ``kernel`` along ``axis``, mirroring the edges.

    The mirror repeats the edge sample (scipy.ndimage's ``"reflect"``) and keeps reflecting when
    the window is wider than the image, so 8x8 digits work with an 11-tap window.
    """
    n, radius = a.shape[axis], len(kernel) // 2
    mirrored = np.concatenate([np.arange(n), np.arange(n)[::-1]])
    padded = np.take(a, mirrored[np.arange(-radius, n + radius) % (2 * n)], axis=axis)
    return sum(w * np.take(padded, np.arange(k, k + n), axis=axis) for k, w in enumerate(kernel))
