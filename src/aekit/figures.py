"""A run folder's figures, by name: each family lists the names it draws (``figures``).

Every figure is a function of a :class:`Sample` (the fitted model and the first test samples)
that writes one PNG with :mod:`aekit.plots` and returns its path, or returns None when it does not
apply (images only, a code of at least two dimensions). A plug-in family can add figures of its
own with :func:`figure`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aekit import plots
from aekit.datasets import fit_shape
from aekit.run_folder import PLOTS, RunFolder

FIGURES: dict[str, Callable] = {}


@dataclass
class Sample:
    """What figures are drawn from: the model, the test samples (model-shaped), their labels and image shape."""

    estimator: object
    x: np.ndarray
    labels: np.ndarray | None
    image_shape: tuple | None

    def first(self, n: int = 10) -> np.ndarray:
        return self.x[:n]


def figure(name: str):
    """Register a figure function under ``name`` (a family lists the name in its ``figures``)."""

    def register(draw):
        FIGURES[name] = draw
        return draw

    return register


def draw(estimator, dataset, run: RunFolder) -> list[Path]:
    """Draw the figures ``estimator``'s family names into ``run``'s plots folder; return the files written."""
    sample = Sample(
        estimator, fit_shape(dataset.x_test, estimator.input_shape_, dataset.name), dataset.y_test, dataset.image_shape
    )
    names = [name for name in estimator.figure_names() if name in FIGURES]
    with run.writing(*(f"{PLOTS}/{name}.png" for name in names)) as paths:
        drawn = [FIGURES[name](sample, path) for name, path in zip(names, paths)]
    return [path for path in drawn if path is not None]


@figure("loss")
def _loss(sample: Sample, path):
    history = getattr(sample.estimator, "history_", {})
    if history.get("loss"):
        return plots.plot_histories({sample.estimator.family: history}, path)
    return None


@figure("reconstructions")
def _reconstructions(sample: Sample, path):
    if sample.image_shape is None:
        return None
    first = sample.first()
    return plots.plot_reconstructions(first, sample.estimator.reconstruct(first), path, image_shape=sample.image_shape)


@figure("denoising")
def _denoising(sample: Sample, path):
    from aekit.noise import corrupt

    if sample.image_shape is None:
        return None
    first, model = sample.first(), sample.estimator
    noisy = corrupt(first, model.noise, model.noise_level, seed=0)
    return plots.plot_denoising(first, noisy, model.denoise(noisy), path, image_shape=sample.image_shape)


@figure("samples")
def _samples(sample: Sample, path):
    if sample.image_shape is None:
        return None
    return plots.plot_samples(
        sample.estimator.sample(36), path, image_shape=sample.image_shape, title="samples from the prior"
    )


@figure("latent_manifold")
def _latent_manifold(sample: Sample, path):
    if sample.image_shape is None or getattr(sample.estimator, "latent_dim", 0) < 2:
        return None
    grid = sample.estimator.latent_grid(n=15, extent=3.0)
    return plots.plot_latent_manifold(grid, path, extent=3.0, image_shape=sample.image_shape)


@figure("latent_space")
def _latent_space(sample: Sample, path):
    codes = sample.estimator.encode(sample.x).reshape(len(sample.x), -1)
    if codes.shape[1] < 2 or len(codes) < 3:  # a map needs two dimensions and a few points
        return None
    return plots.plot_latent_scatter(codes, sample.labels, path)


@figure("code_distribution")
def _code_distribution(sample: Sample, path):
    codes = sample.estimator.encode(sample.x).reshape(len(sample.x), -1)
    return plots.plot_code_distributions({sample.estimator.family: codes}, path)
