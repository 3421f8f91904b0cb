"""Evaluation metrics: reconstruction error, PSNR, SSIM and ROC AUC, checked against known values."""

import numpy as np
import pytest

from aekit.evaluation import column_errors, psnr, reconstruction_error, roc_auc, ssim, summary, summary_of_chunks


def test_reconstruction_error_metrics(rng):
    x = rng.random((4, 8, 8, 1))
    x_hat = np.clip(x + 0.1, 0, 1)
    np.testing.assert_allclose(reconstruction_error(x, x_hat, "sse"), 64 * reconstruction_error(x, x_hat, "mse"))
    assert np.all(reconstruction_error(x, x, "mse") == 0)
    assert np.all(reconstruction_error(x, x_hat, "bce") > reconstruction_error(x, x, "bce"))
    with pytest.raises(ValueError, match="unknown reconstruction metric"):
        reconstruction_error(x, x_hat, "mae")


def test_psnr_known_values(rng):
    x = rng.random((3, 10)) * 0.5
    np.testing.assert_allclose(psnr(x, x + 0.1), 20.0)  # mse 0.01 -> 10 log10(1 / 0.01)
    np.testing.assert_allclose(psnr(x * 255, x * 255 + 25.5, data_range=255.0), 20.0)
    assert np.all(np.isinf(psnr(x, x)))


def test_ssim_is_one_for_identical_images_and_falls_with_noise(rng):
    x = rng.random((5, 8, 8))
    mild = np.clip(x + 0.05 * rng.standard_normal(x.shape), 0, 1)
    strong = np.clip(x + 0.3 * rng.standard_normal(x.shape), 0, 1)
    np.testing.assert_allclose(ssim(x, x), 1.0)
    assert np.all(ssim(x, strong) < ssim(x, mild))
    assert np.all(ssim(x, mild) < 1.0)
    assert ssim(x, mild).shape == (5,)


def test_ssim_accepts_channels_and_flat_vectors(rng):
    gray = rng.random((2, 12, 12, 1))
    np.testing.assert_allclose(ssim(gray, gray * 0.9), ssim(gray[..., 0], gray[..., 0] * 0.9))
    np.testing.assert_allclose(
        ssim(gray.reshape(2, -1), gray.reshape(2, -1) * 0.9, image_shape=(12, 12)), ssim(gray, gray * 0.9)
    )
    rgb = rng.random((2, 12, 12, 3))
    per_channel = np.mean([ssim(rgb[..., c], rgb[..., c] ** 2) for c in range(3)], axis=0)
    np.testing.assert_allclose(ssim(rgb, rgb**2), per_channel)
    with pytest.raises(ValueError, match="image_shape"):
        ssim(gray.reshape(2, -1), gray.reshape(2, -1))
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(gray, gray[:, :10])


def test_ssim_matches_scikit_image(rng):
    metrics = pytest.importorskip("skimage.metrics")
    x = rng.random((3, 28, 28, 3))
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1)
    expected = [
        metrics.structural_similarity(
            a, b, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=-1
        )
        for a, b in zip(x, y)
    ]
    np.testing.assert_allclose(ssim(x, y), expected, rtol=1e-6)


def test_roc_auc():
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert roc_auc([3, 2, 1], [True, False, False]) == 1.0
    with pytest.raises(ValueError, match="labels"):
        roc_auc([0.1, 0.2, 0.3], [0, 1])


def test_column_errors_break_the_per_sample_error_down_by_feature(rng):
    x = rng.random((6, 5))
    x_hat = np.clip(x + rng.normal(0, 0.1, x.shape), 0.01, 0.99)
    for metric in ("mse", "bce"):
        columns = column_errors(x, x_hat, metric)
        assert columns.shape == (6, 5) and np.all(columns >= 0)
        np.testing.assert_allclose(columns.mean(axis=1), reconstruction_error(x, x_hat, metric))
    np.testing.assert_allclose(column_errors(x, x_hat, "sse").sum(axis=1), reconstruction_error(x, x_hat, "sse"))
    with pytest.raises(ValueError, match="differ in shape"):
        column_errors(x, x_hat[:, :4])
    with pytest.raises(ValueError, match="unknown reconstruction metric 'mae'"):
        column_errors(x, x_hat, "mae")


def test_summary_gives_ssim_for_images_only_and_chunks_give_the_same_numbers(rng):
    images = rng.random((10, 8, 8, 1))
    noisy = np.clip(images + 0.1 * rng.standard_normal(images.shape), 0, 1)
    whole = summary(images, noisy)
    assert set(whole) == {"samples", "mse", "bce", "psnr", "ssim"} and whole["samples"] == 10
    assert whole["mse"] == pytest.approx(float(np.mean((images - noisy) ** 2)))
    assert whole["psnr"] == pytest.approx(float(np.mean(psnr(images, noisy))))
    chunked = summary_of_chunks((images[i : i + 3], noisy[i : i + 3]) for i in range(0, 10, 3))
    assert chunked.keys() == whole.keys()
    for key in whole:
        assert chunked[key] == pytest.approx(whole[key], rel=1e-12)
    table = summary(images.reshape(10, -1) * 5, noisy.reshape(10, -1))  # rows in other units: no SSIM, finite BCE
    assert "ssim" not in table and np.isfinite(table["bce"])
