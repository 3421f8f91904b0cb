"""Every figure is written as a PNG of its documented pixel size, for grayscale and RGB images."""

import numpy as np
import pytest
from PIL import Image

from aekit import plots


def png_size(path):
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        darkest, brightest = image.convert("L").getextrema()
        assert darkest < brightest  # something was drawn
        return image.size


@pytest.fixture(params=[(8, 8, 1), (10, 12, 3)], ids=["gray", "rgb"])
def images(request, rng):
    return rng.random((12, *request.param)).astype("float32")


def test_reconstructions_and_denoising_rows(images, tmp_path):
    path = plots.plot_reconstructions(images, images[::-1], tmp_path / "rec.png", n=6)
    assert path == tmp_path / "rec.png"
    assert png_size(path) == (720, 260)
    noisy = np.clip(images + 0.3, 0, 1)
    assert png_size(plots.plot_denoising(images, noisy, images, tmp_path / "den.png", n=5)) == (600, 390)


def test_flat_vectors_are_shown_as_square_images(rng, tmp_path):
    flat_gray, flat_rgb = rng.random((4, 64)), rng.random((4, 8 * 8 * 3))
    assert plots.as_images(flat_gray).shape == (4, 8, 8)
    assert plots.as_images(flat_rgb).shape == (4, 8, 8, 3)
    assert plots.as_images(rng.random((4, 60)), image_shape=(6, 10)).shape == (4, 6, 10)
    with pytest.raises(ValueError, match="image_shape"):
        plots.as_images(rng.random((4, 60)))
    with pytest.raises(ValueError, match="grayscale or RGB"):
        plots.as_images(rng.random((4, 8, 8, 2)))
    assert png_size(plots.plot_reconstructions(flat_gray, flat_gray, tmp_path / "flat.png", n=4)) == (480, 260)


def test_interpolation_strips(images, tmp_path):
    one = plots.plot_interpolation(images[:7], tmp_path / "one.png")
    assert png_size(one) == (840, 130)
    several = plots.plot_interpolation([images[:7], images[5:12]], tmp_path / "two.png", titles=["a to b", "c to d"])
    assert png_size(several) == (840, 260)


def test_sample_grid(images, tmp_path):
    assert png_size(plots.plot_samples(images, tmp_path / "grid.png")) == (400, 300)  # 12 images, 4 per row
    assert png_size(plots.plot_samples(images[:6], tmp_path / "row.png", n_cols=3, title="samples")) == (300, 230)


def test_latent_manifold_25_by_25(rng, tmp_path):
    grid = rng.random((25, 25, 8, 8, 1))
    assert png_size(plots.plot_latent_manifold(grid, tmp_path / "manifold.png")) == (800, 800)
    rgb = rng.random((5, 5, 6, 6, 3))
    assert png_size(plots.plot_latent_manifold(rgb, tmp_path / "rgb.png", extent=3.0)) == (800, 800)
    with pytest.raises(ValueError, match="square grid"):
        plots.plot_latent_manifold(rng.random((5, 4, 6, 6)), tmp_path / "bad.png")


def test_mosaic_places_images_row_by_row():
    images = np.stack([np.full((2, 2), v) for v in (0.0, 0.25, 0.5, 0.75, 1.0)])
    canvas = plots._mosaic(images, n_cols=2)
    assert canvas.shape == (3 * 3 - 1, 2 * 3 - 1)
    assert canvas[0, 0] == 0.0 and canvas[0, 3] == 0.25 and canvas[3, 0] == 0.5 and canvas[6, 0] == 1.0
    assert canvas[2, 0] == 1.0  # separator line


def test_history_comparison(tmp_path):
    histories = {
        "standard": {"loss": [0.3, 0.2, 0.1], "val_loss": [0.35, 0.25, 0.15]},
        "sparse": {"loss": [0.4, 0.3, 0.2, 0.15]},
    }
    assert png_size(plots.plot_histories(histories, tmp_path / "hist.png")) == (800, 500)
    with pytest.raises(ValueError, match="no histories"):
        plots.plot_histories({}, tmp_path / "none.png")


def test_code_distributions(rng, tmp_path):
    codes = {"standard": rng.gamma(2.0, 2.0, (200, 32)), "sparse": np.maximum(rng.normal(0, 0.5, (200, 32)), 0)}
    assert png_size(plots.plot_code_distributions(codes, tmp_path / "codes.png")) == (800, 500)


@pytest.mark.parametrize("dims", [2, 10])
def test_latent_scatter_projects_wide_codes(dims, rng, tmp_path):
    codes, labels = rng.normal(size=(300, dims)), rng.integers(0, 10, 300)
    assert png_size(plots.plot_latent_scatter(codes, labels, tmp_path / "scatter.png")) == (700, 600)
    assert png_size(plots.plot_latent_scatter(codes, None, tmp_path / "plain.png")) == (700, 600)
    with pytest.raises(ValueError, match="labels"):
        plots.plot_latent_scatter(codes, labels[:10], tmp_path / "bad.png")
    with pytest.raises(ValueError, match="at least 2"):
        plots.plot_latent_scatter(codes[:, :1], labels, tmp_path / "bad.png")


def test_anomaly_score_histogram(rng, tmp_path):
    scores = np.r_[rng.gamma(2.0, 0.01, 200), rng.gamma(2.0, 0.05, 20)]
    labels = np.r_[np.zeros(200), np.ones(20)]
    threshold = np.percentile(scores[:200], 95)
    assert png_size(plots.plot_anomaly_scores(scores, threshold, tmp_path / "a.png", labels=labels)) == (800, 500)
    assert png_size(plots.plot_anomaly_scores(scores, threshold, tmp_path / "b.png")) == (800, 500)


def test_plots_create_missing_folders(images, tmp_path):
    path = plots.plot_samples(images[:4], tmp_path / "deep" / "er" / "grid.png")
    assert path.is_file()


@pytest.mark.slow  # trains a VAE first
def test_plots_take_a_vae_outputs_as_they_come(digits, tmp_path):
    from aekit.models import VariationalAutoencoder

    vae = VariationalAutoencoder(hidden_layers=(16,), latent_dim=2, epochs=1).fit(digits.x_train[:200])
    grid = vae.latent_grid(25)
    assert png_size(plots.plot_latent_manifold(grid, tmp_path / "manifold.png", extent=3.0)) == (800, 800)
    strip = vae.interpolate(digits.x_test[0], digits.x_test[1], steps=7)
    assert png_size(plots.plot_interpolation(strip, tmp_path / "strip.png")) == (840, 130)
    assert png_size(plots.plot_samples(vae.sample(21), tmp_path / "samples.png", n_cols=7)) == (700, 300)
    codes = vae.encode(digits.x_test)
    assert png_size(plots.plot_latent_scatter(codes, digits.y_test, tmp_path / "latent.png")) == (700, 600)
