"""The lessons' figures, drawn headless with matplotlib and saved as PNG files.

Every function takes plain arrays (not models), draws one figure, writes it to ``path`` (through
:mod:`aekit.files`: atomically, ``.png`` added to a bare name; an existing figure of aekit's is
replaced, any other file only with ``overwrite=True``) and returns the path, so the Python API,
the command line and the tests share them. Figures are saved at a fixed size (each function's
docstring gives it in pixels), never cropped, so the files are predictable. Images may be
grayscale ``(n, H, W)``/``(n, H, W, 1)``, RGB ``(n, H, W, 3)`` or flat vectors (square grayscale
or square RGB, otherwise pass ``image_shape``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

DPI = 100


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def as_images(x, image_shape=None) -> np.ndarray:
    """Samples as displayable images ``(n, H, W)`` or ``(n, H, W, 3)``; flat vectors need ``image_shape``
    unless they are square (``side * side`` gray or ``side * side * 3`` RGB values)."""
    x = np.asarray(x, dtype=np.float32)
    if image_shape is not None:
        x = x.reshape((len(x), *image_shape))
    elif x.ndim == 2:
        x = x.reshape((len(x), *square_shape(x.shape[1])))
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (3, 4)):
        raise ValueError(f"cannot show samples shaped {x.shape[1:]} as grayscale or RGB images")
    return np.clip(x, 0.0, 1.0)


def square_shape(features: int) -> tuple[int, ...]:
    """The image shape of a flat vector of ``features`` values: square gray or square RGB, else ValueError."""
    for channels in (1, 3):
        side = int(round(math.sqrt(features / channels)))
        if side * side * channels == features:
            return (side, side) if channels == 1 else (side, side, 3)
    raise ValueError(f"cannot show {features}-feature vectors as images; pass image_shape")


def _figure(width_px: int, height_px: int, **kwargs):
    return _pyplot().subplots(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, **kwargs)


def _save(fig, path, overwrite: bool | None) -> Path:
    """Write ``fig`` through aekit's one writer (``.png`` added to a bare name; atomic) and close it.

    ``overwrite=None`` (the default) replaces a figure aekit drew and refuses any other file."""
    from aekit.files import write_figure

    try:
        return write_figure(fig, path, force=overwrite, dpi=DPI)
    finally:
        _pyplot().close(fig)


def _show(ax, image, **kwargs):
    """One image in ``[0, 1]``: grayscale with a gray colour map, RGB as it is."""
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest", **kwargs)


def _mosaic(images: np.ndarray, n_cols: int, pad: int = 1) -> np.ndarray:
    """Tile ``(k, H, W[, 3])`` images into one image, ``n_cols`` per row, separated by white lines."""
    k, height, width = images.shape[:3]
    n_rows = -(-k // n_cols)
    canvas = np.ones((n_rows * (height + pad) - pad, n_cols * (width + pad) - pad, *images.shape[3:]), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        canvas[r * (height + pad) : r * (height + pad) + height, c * (width + pad) : c * (width + pad) + width] = image
    return canvas


# ---------------------------------------------------------------------- rows of images


def plot_image_rows(rows, path, titles=None, image_shape=None, n: int = 10, overwrite: bool | None = None) -> Path:
    """Rows of images (e.g. originals over reconstructions), ``n`` per row, each row titled.

    The figure is ``120 * n`` by ``130 * len(rows)`` pixels.
    """
    rows = [as_images(r[:n], image_shape) for r in rows]
    n = min(n, *(len(r) for r in rows))
    fig, axes = _figure(120 * n, 130 * len(rows), nrows=len(rows), ncols=n, squeeze=False)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99 - 0.15 / len(rows), hspace=0.25, wspace=0.05)
    for r, images in enumerate(rows):
        for i in range(n):
            _show(axes[r][i], images[i])
            axes[r][i].axis("off")
        if titles:
            axes[r][0].set_title(titles[r], loc="left", fontsize=9)
    return _save(fig, path, overwrite)


def plot_reconstructions(
    originals, reconstructions, path, image_shape=None, n: int = 10, overwrite: bool | None = None
) -> Path:
    """The lessons' first figure: originals on top, their reconstructions below (``120 n x 260`` px)."""
    return plot_image_rows([originals, reconstructions], path, ["original", "reconstructed"], image_shape, n, overwrite)


def plot_denoising(
    originals, noisy, denoised, path, image_shape=None, n: int = 10, overwrite: bool | None = None
) -> Path:
    """Lesson 000's denoising figure: clean originals, the noisy inputs, the denoiser's outputs (``120 n x 390`` px)."""
    return plot_image_rows(
        [originals, noisy, denoised], path, ["original", "noisy input", "denoised"], image_shape, n, overwrite
    )


def plot_interpolation(strips, path, titles=None, image_shape=None, overwrite: bool | None = None) -> Path:
    """Interpolation strips: one array of ``steps`` images, or a list of them (one row each).

    The figure is ``120 * steps`` by ``130 * rows`` pixels.
    """
    if isinstance(strips, np.ndarray):
        strips = [strips]
    steps = max(len(s) for s in strips)
    return plot_image_rows(list(strips), path, titles, image_shape, n=steps, overwrite=overwrite)


# ---------------------------------------------------------------------- image grids


def plot_samples(
    samples, path, n_cols: int | None = None, image_shape=None, title=None, overwrite: bool | None = None
) -> Path:
    """A grid of (generated) images, ``n_cols`` per row (default: as square as possible).

    The figure is ``100 * n_cols`` by ``100 * rows`` pixels (plus 30 for a title).
    """
    images = as_images(samples, image_shape)
    n_cols = n_cols or math.ceil(math.sqrt(len(images)))
    n_rows = -(-len(images) // n_cols)
    title_px = 30 if title else 0
    fig, ax = _figure(100 * n_cols, 100 * n_rows + title_px)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1 - title_px / (100 * n_rows + title_px))
    _show(ax, _mosaic(images, n_cols))
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path, overwrite)


def plot_latent_manifold(
    grid, path, extent: float | None = None, image_shape=None, overwrite: bool | None = None
) -> Path:
    """The decoded latent manifold: an ``(n, n, H, W[, C])`` grid (``VariationalAutoencoder.latent_grid``).

    Row ``i``, column ``j`` is the image decoded at ``(z0, z1) = (axis[i], axis[j])``; with
    ``extent`` the axes are labelled with those latent values over ``[-extent, extent]``.
    The figure is 800 x 800 pixels.
    """
    grid = np.asarray(grid)
    if grid.ndim < 3 or grid.shape[0] != grid.shape[1]:
        raise ValueError(f"expected a square grid of images (n, n, H, W[, C]), got shape {grid.shape}")
    n = grid.shape[0]
    images = as_images(grid.reshape((n * n, *grid.shape[2:])), image_shape)
    fig, ax = _figure(800, 800)
    if extent is None:
        fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
        _show(ax, _mosaic(images, n))
        ax.axis("off")
    else:
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.07, top=0.98)
        _show(ax, _mosaic(images, n), extent=(-extent, extent, extent, -extent))
        ax.set_xlabel("z[1]")
        ax.set_ylabel("z[0]")
    return _save(fig, path, overwrite)


# ---------------------------------------------------------------------- curves and distributions


def plot_histories(histories, path, metrics=("loss", "val_loss"), title=None, overwrite: bool | None = None) -> Path:
    """Training curves of several models: ``{name: history}`` with per-epoch ``metrics`` lists.

    Training metrics are solid, ``val_`` metrics dashed, one colour per model; the title gives
    each model's final training loss, as lesson 000's ``plot_compare_histories`` does. 800 x 500 px.
    """
    if not histories:
        raise ValueError("no histories to plot; pass {model name: history dict}")
    from matplotlib.ticker import MaxNLocator

    fig, ax = _figure(800, 500, layout="constrained")
    colours = _pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    finals = []
    for k, (name, history) in enumerate(histories.items()):
        colour = colours[k % len(colours)]
        for metric in metrics:
            values = history.get(metric)
            if values:
                style = "--" if metric.startswith("val_") else "-"
                ax.plot(np.arange(1, len(values) + 1), values, style, color=colour, label=f"{name} {metric}")
        if history.get("loss"):
            finals.append(f"{name} {history['loss'][-1]:.4g}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(" / ".join(metrics))
    ax.set_title(title or "training loss: " + " vs ".join(finals))
    ax.grid(True, linestyle="--", linewidth=0.5)
    ax.legend(fontsize=8)
    return _save(fig, path, overwrite)


def plot_code_distributions(
    codes, path, bins: int = 60, log: bool = True, zero_tol: float = 1e-2, overwrite: bool | None = None
) -> Path:
    """Distribution of code activations of several models: ``{name: codes}`` (lesson 000's sparse vs standard).

    Histograms (densities, shared bins, log-scaled by default so the mass at zero and the tail both
    show) with each model's mean activation and share of activations below ``zero_tol`` in the
    legend. 800 x 500 px.
    """
    if not codes:
        raise ValueError("no codes to plot; pass {model name: codes array}")
    values = {name: np.asarray(c, dtype=np.float64).ravel() for name, c in codes.items()}
    edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
    fig, ax = _figure(800, 500, layout="constrained")
    for name, v in values.items():
        label = f"{name}: mean {v.mean():.3g}, {np.mean(np.abs(v) < zero_tol):.0%} below {zero_tol:g}"
        ax.hist(v, bins=edges, density=True, histtype="step", linewidth=1.5, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("code activation")
    ax.set_ylabel("density")
    ax.set_title("distribution of code activations")
    ax.grid(True, linestyle="--", linewidth=0.5)
    ax.legend(fontsize=8)
    return _save(fig, path, overwrite)


def plot_latent_scatter(codes, labels, path, title=None, overwrite: bool | None = None) -> Path:
    """Codes as points coloured by ``labels`` (or one colour when ``None``); 700 x 600 px.

    Codes with more than two dimensions are projected on their first two principal components.
    """
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
    if codes.shape[1] < 2:
        raise ValueError(f"a latent scatter needs codes with at least 2 dimensions, got {codes.shape[1]}")
    axis_names = ("z[0]", "z[1]")
    if codes.shape[1] > 2:
        from sklearn.decomposition import PCA

        pca = PCA(2, random_state=0).fit(codes)
        codes = pca.transform(codes)
        axis_names = tuple(f"PC {i + 1} ({r:.0%} of variance)" for i, r in enumerate(pca.explained_variance_ratio_))
    fig, ax = _figure(700, 600, layout="constrained")
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=4, alpha=0.6)
    else:
        labels = np.asarray(labels).ravel()
        if len(labels) != len(codes):
            raise ValueError(f"got {len(codes)} codes but {len(labels)} labels")
        classes, index = np.unique(labels, return_inverse=True)
        cmap = _pyplot().get_cmap("tab10" if len(classes) <= 10 else "tab20", len(classes))
        points = ax.scatter(
            codes[:, 0], codes[:, 1], c=index, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5, s=4, alpha=0.7
        )
        bar = fig.colorbar(points, ax=ax, ticks=np.arange(len(classes)))
        bar.ax.set_yticklabels([str(c) for c in classes])
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_title(title or "latent space")
    return _save(fig, path, overwrite)


def plot_anomaly_scores(scores, threshold, path, labels=None, bins: int = 50, overwrite: bool | None = None) -> Path:
    """Histogram of anomaly scores with the detector's threshold as a vertical line; 800 x 500 px.

    With ``labels`` (1/True = anomaly) normal samples and anomalies get their own colours.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    edges = np.histogram_bin_edges(np.append(scores, threshold), bins=bins)
    fig, ax = _figure(800, 500, layout="constrained")
    if labels is None:
        ax.hist(scores, bins=edges, color="tab:blue", alpha=0.7, label="samples")
    else:
        labels = np.asarray(labels).ravel().astype(bool)
        if len(labels) != len(scores):
            raise ValueError(f"got {len(scores)} scores but {len(labels)} labels")
        ax.hist(scores[~labels], bins=edges, color="tab:blue", alpha=0.6, label="normal")
        ax.hist(scores[labels], bins=edges, color="tab:red", alpha=0.6, label="anomaly")
    flagged = np.mean(scores > threshold)
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.4g} ({flagged:.1%} above)")
    ax.set_xlabel("anomaly score (reconstruction error)")
    ax.set_ylabel("samples")
    ax.set_title("anomaly scores")
    ax.legend(fontsize=8)
    return _save(fig, path, overwrite)
