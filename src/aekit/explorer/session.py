"""What the explorer page shows, computed from one trained model and its test samples.

An :class:`ExploreSession` holds the estimator, the samples, their codes, the 2-D map of those
codes and their reconstruction errors. Each of its public methods answers one kind of request
of the page with a JSON-ready dict, images included as PNG data URLs. It knows nothing of HTTP:
:mod:`aekit.explorer.server` checks the requests and calls it.
"""

from __future__ import annotations

import base64
import io
import math
import threading

import numpy as np

from aekit.noise import DEFAULT_LEVELS, NOISE_LIMITS, corrupt

#: the largest latent grid the generation panel may ask for (n x n decoded images)
MAX_GRID = 30
#: the most images one request may ask for (interpolation steps, prior samples, anomalies)
MAX_IMAGES = 64


def _can(estimator, use: str) -> bool:
    """Whether ``estimator``'s family declares ``use`` ("denoise", "sample") among what it can do."""
    return use in getattr(estimator, "uses", ())


def _noise_defaults(estimator) -> tuple[str, float]:
    """The noise a denoiser was trained with (other families: gaussian 0.5), within the slider's range."""
    params = estimator.get_params() if _can(estimator, "denoise") else {}
    kind = params.get("noise", "gaussian")
    level = params.get("noise_level") or DEFAULT_LEVELS[kind]
    return kind, min(float(level), NOISE_LIMITS[kind])


class ExploreSession:
    """A trained autoencoder and the test samples the page explores.

    ``x`` holds samples shaped as the model expects, ``labels`` one label per sample (or None).
    ``image_shape`` says how to draw a sample, e.g. ``(8, 8, 1)``; samples that are not images are
    drawn as a strip of feature values. Every model call holds one lock: Keras models are not
    meant to be called from several threads at once.
    """

    def __init__(self, estimator, x, labels=None, *, history=None, metrics=None, image_shape=None, title=None):
        self.estimator = estimator
        self.x = np.asarray(x, dtype=np.float32)
        self.labels = None if labels is None else np.asarray(labels).ravel()
        if self.labels is not None and len(self.labels) != len(self.x):
            raise ValueError(f"got {len(self.x)} samples but {len(self.labels)} labels; pass one label per sample")
        self.history = history or {}
        self.metrics = metrics or {}
        self.image_shape = image_shape
        self.title = title or f"{estimator.family} autoencoder"
        self._lock = threading.Lock()

        codes = estimator.encode(self.x)
        self.code_shape = codes.shape[1:]
        self.codes = codes.reshape(len(codes), -1).astype(np.float64)
        self.projection = MapProjection(self.codes)
        self.points = self.projection.to_map(self.codes)
        self.reconstructions = estimator.reconstruct(self.x)
        self.errors = np.mean((self.reconstructions - self.x).reshape(len(self.x), -1) ** 2, axis=1)
        self.ranking = np.argsort(-self.errors, kind="stable")
        self.default_noise, self.default_level = _noise_defaults(estimator)
        self._warm_up()

    @property
    def size(self) -> int:
        return len(self.x)

    def _warm_up(self):
        """Run each kind of model call once, so the first click does not wait for a compilation."""
        self.decode_point(*self.points[0])
        self.interpolation(0, self.size - 1, 11)
        self.denoising(0, self.default_noise, self.default_level, seed=0)
        if _can(self.estimator, "sample"):
            self.generation(16, seed=0)

    # ---------------------------------------------------------------- answers to the page

    def overview(self) -> dict:
        """Everything the page draws once: the map, labels, errors, history, metrics and uses."""
        classes, label_index = (None, None)
        if self.labels is not None:
            classes, label_index = np.unique(self.labels, return_inverse=True)
        return {
            "title": self.title,
            "family": self.estimator.family,
            "samples": self.size,
            "code_size": int(self.codes.shape[1]),
            "map": {
                "kind": self.projection.kind,
                "explained_variance": self.projection.explained_variance,
                "points": np.round(self.points, 4).tolist(),
                "limits": self.projection.limits,
            },
            "classes": None if classes is None else [str(c) for c in classes],
            "label_index": None if label_index is None else label_index.tolist(),
            "errors": np.round(self.errors, 6).tolist(),
            "uses": {"denoise": _can(self.estimator, "denoise"), "generate": _can(self.estimator, "sample")},
            "noise": {"kinds": NOISE_LIMITS, "default_kind": self.default_noise, "default_level": self.default_level},
            "max_grid": MAX_GRID,
            "max_images": MAX_IMAGES,
            "history": self.history,
            "metrics": self.metrics,
        }

    def sample(self, index: int) -> dict:
        """One test sample: original, reconstruction, label and reconstruction error."""
        return {
            "index": index,
            "label": None if self.labels is None else str(self.labels[index]),
            "error": float(self.errors[index]),
            "original": self._png(self.x[index]),
            "reconstruction": self._png(self.reconstructions[index]),
        }

    def decode_point(self, x: float, y: float) -> dict:
        """The decoder's image for a point of the map (on a PCA map: the code on the PCA plane there)."""
        code = self.projection.to_code(np.array([[x, y]]))
        return {"x": x, "y": y, "image": self._png(self._decode(code)[0])}

    def interpolation(self, a: int, b: int, steps: int) -> dict:
        """Decoded codes evenly spaced on the straight line from sample ``a``'s code to ``b``'s."""
        weights = np.linspace(0.0, 1.0, steps)[:, None]
        codes = (1 - weights) * self.codes[a] + weights * self.codes[b]
        return {"a": a, "b": b, "images": [self._png(image) for image in self._decode(codes)]}

    def denoising(self, index: int, kind: str, level: float, seed: int) -> dict:
        """Sample ``index`` with ``kind`` noise of ``level``, and what the model makes of it."""
        noisy = corrupt(self.x[index : index + 1], kind, level, seed=seed)
        with self._lock:
            output = self.estimator.reconstruct(noisy)
        return {
            "index": index,
            "original": self._png(self.x[index]),
            "noisy": self._png(noisy[0]),
            "output": self._png(output[0]),
            "error_noisy": float(np.mean((noisy - self.x[index]) ** 2)),
            "error_output": float(np.mean((output - self.x[index]) ** 2)),
        }

    def generation(self, n: int, seed: int) -> dict:
        """``n`` new samples decoded from codes drawn from the prior, as one mosaic."""
        with self._lock:
            samples = self.estimator.sample(n, seed=seed)
        return {"seed": seed, "image": self._png_mosaic(samples, n_cols=math.ceil(math.sqrt(n)))}

    def latent_grid(self, n: int, extent: float) -> dict:
        """The decoded ``n x n`` grid over ``[-extent, extent]`` in the first two latent dimensions.

        Laid out as the map is: the first dimension grows to the right, the second upwards.
        """
        with self._lock:
            grid = self.estimator.latent_grid(n=n, extent=extent)  # grid[i, j]: z0 = axis[i], z1 = axis[j]
        rows = np.swapaxes(grid, 0, 1)[::-1]
        return {"n": n, "extent": extent, "image": self._png_mosaic(rows.reshape(n * n, *grid.shape[2:]), n_cols=n)}

    def anomalies(self, offset: int, count: int) -> dict:
        """Test samples ranked by reconstruction error, worst first: ``count`` of them from ``offset``."""
        ranked = self.ranking[offset : offset + count]
        return {
            "offset": offset,
            "total": self.size,
            "samples": [self.sample(int(i)) for i in ranked],
        }

    # ---------------------------------------------------------------- helpers

    def _decode(self, codes) -> np.ndarray:
        codes = np.asarray(codes, dtype=np.float32).reshape((len(codes), *self.code_shape))
        with self._lock:
            return self.estimator.decode(codes)

    def _pixels(self, samples) -> np.ndarray:
        """Samples as ``uint8`` images ``(n, H, W[, 3])``; feature vectors become one-row strips."""
        from aekit.plots import as_images

        samples = np.asarray(samples, dtype=np.float32)
        try:
            images = as_images(samples, self.image_shape)
        except ValueError:
            images = np.clip(samples.reshape(len(samples), 1, -1), 0.0, 1.0)
        return np.round(images * 255).astype(np.uint8)

    def _png(self, sample) -> str:
        return _png_data_url(self._pixels(sample[None])[0])

    def _png_mosaic(self, samples, n_cols: int) -> str:
        """Samples tiled ``n_cols`` per row, one white pixel between them, as one PNG."""
        images = self._pixels(samples)
        k, height, width = images.shape[:3]
        n_rows = math.ceil(k / n_cols)
        mosaic = np.full((n_rows * (height + 1) - 1, n_cols * (width + 1) - 1, *images.shape[3:]), 255, np.uint8)
        for i, image in enumerate(images):
            row, col = divmod(i, n_cols)
            mosaic[row * (height + 1) : row * (height + 1) + height, col * (width + 1) : col * (width + 1) + width] = (
                image
            )
        return _png_data_url(mosaic)


class MapProjection:
    """The 2-D map of the codes, and the way back from a map point to a code.

    A 2-D latent is its own map. Wider codes are projected on their first two principal
    components, and a map point goes back to the code on that PCA plane (the mean code plus the
    point's coordinates along the two components). A 1-D latent is drawn along x.
    """

    def __init__(self, codes: np.ndarray):
        width = codes.shape[1]
        self.pca = None
        if width == 1:
            self.kind, self.explained_variance = "latent-1d", None
        elif width == 2:
            self.kind, self.explained_variance = "latent", None
        else:
            from sklearn.decomposition import PCA

            self.pca = PCA(2, random_state=0).fit(codes)
            self.kind, self.explained_variance = "pca", [float(r) for r in self.pca.explained_variance_ratio_]
        points = self.to_map(codes)
        low, high = points.min(axis=0), points.max(axis=0)
        span = np.where(high > low, high - low, 1.0)
        #: the range a decoded map point may come from: the samples' range plus one span each side
        self.limits = [[float(lo - s), float(hi + s)] for lo, hi, s in zip(low, high, span)]

    def to_map(self, codes: np.ndarray) -> np.ndarray:
        if self.pca is not None:
            return self.pca.transform(codes)
        if codes.shape[1] == 1:
            return np.column_stack([codes[:, 0], np.zeros(len(codes))])
        return codes

    def to_code(self, points: np.ndarray) -> np.ndarray:
        if self.pca is not None:
            return self.pca.inverse_transform(points)
        if self.kind == "latent-1d":
            return points[:, :1]
        return points


def _png_data_url(pixels: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
