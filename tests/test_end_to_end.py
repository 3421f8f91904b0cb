"""Every family end to end on a few digits, in seconds: it builds, fits, encodes, decodes and reconstructs,
does what it is for (denoise, sample, classify), and its model file loads back to the same outputs; and one
run of the command line, train then evaluate, in this process.

This is the fast lane's (``make check``) look at the whole library: a family whose ``_build`` or training
breaks fails here. What each family learns, on more data and more epochs, is test_families.py's business.
"""

import json

import numpy as np
import pytest

import aekit
from aekit import cli, registry

COMMON = dict(epochs=1, batch_size=32, seed=0)
#: aekit's own families at their smallest; a new family must be added here (the first test says so)
TINY = {
    "dense": dict(hidden_layers=(8,), latent_dim=2),
    "sparse": dict(hidden_layers=(8,), latent_dim=4),
    "denoising": dict(hidden_layers=(8,), latent_dim=2),
    "conv": dict(filters=(4,)),
    "conv_denoising": dict(filters=(4,)),
    "vae": dict(hidden_layers=(8,), latent_dim=2),
    "conv_vae": dict(filters=(4,), latent_dim=2, dense_units=4),
    "stacked": dict(hidden_layers=(8,), pretrain_epochs=1, head_epochs=1),
}
N = 64
pytestmark = pytest.mark.backend  # building, training and model files are Keras' business


@pytest.fixture(scope="module")
def tiny(digits):
    """64 digits (8x8x1 images in [0, 1]) and their labels."""
    return digits.x_train[:N], digits.y_train[:N]


def test_every_family_of_aekit_has_a_tiny_configuration_here():
    assert list(TINY) == list(registry.BUILTIN)


@pytest.mark.parametrize("name", list(TINY))
def test_a_family_fits_predicts_and_its_file_loads_back_the_same(name, tiny, tmp_path):
    x, y = tiny
    model = registry.get(name)(**TINY[name], **COMMON)
    fitted = model.fit(x, y) if "classify" in model.uses else model.fit(x)
    assert fitted is model
    assert model.history_ and all(len(values) and np.all(np.isfinite(values)) for values in model.history_.values())

    codes = model.encode(x)
    reconstructions = model.reconstruct(x)
    assert len(codes) == N and reconstructions.shape == x.shape and np.all(np.isfinite(reconstructions))
    assert model.decode(codes).shape == x.shape
    errors = model.reconstruction_error(x)
    assert errors.shape == (N,) and np.all(errors >= 0)
    if "denoise" in model.uses:
        assert model.denoise(x).shape == x.shape
    if "sample" in model.uses:
        assert model.sample(3, seed=0).shape == (3, *x.shape[1:])
    if "classify" in model.uses:
        assert set(model.predict(x)) <= set(y)

    loaded = aekit.load(model.save(tmp_path / f"{name}.keras"))
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    np.testing.assert_allclose(loaded.encode(x), codes, atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruct(x), reconstructions, atol=1e-6)


def test_the_command_line_trains_a_run_folder_and_evaluates_it(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "dense",
                "--hidden",
                "8",
                "--latent",
                "2",
                "--epochs",
                "2",
                "--train-samples",
                "128",
                "--out",
                str(run),
                "-q",
            ]
        )
        == 0
    )
    assert {"settings.json", "model.keras", "history.csv", "metrics.json", "report.html", "plots"} <= {
        p.name for p in run.iterdir()
    }
    settings = json.loads((run / "settings.json").read_text())
    assert settings["family"] == "dense" and settings["status"] == "complete"
    assert len((run / "history.csv").read_text().splitlines()) == 3  # a header and one row per epoch
    capsys.readouterr()

    assert cli.main(["evaluate", str(run), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["family"] == "dense" and evaluated["mse"] > 0
    model = aekit.load(run / "model.keras")
    assert model.get_params()["latent_dim"] == 2 and model.encode(np.zeros((1, 8, 8, 1))).shape == (1, 2)
