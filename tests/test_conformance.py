"""The exercises against the lesson's logs on MNIST, and the lesson's own mains run unchanged.

Full 5- and 50-epoch checks are `make conformance` and the benchmarks; here the first epochs are
compared with the log's first epochs, which keeps CI to a few minutes. The convolutional model
reproduces the lesson's log to the 4th decimal on tensorflow (the lesson's backend), so it is
checked there, where an epoch also costs a third of jax's time.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

EXERCISES_DIR = Path(__file__).resolve().parents[1] / "exercises"
sys.path.insert(0, str(EXERCISES_DIR))
import conformance  # noqa: E402

pytestmark = [pytest.mark.mnist, pytest.mark.backend]  # the lesson's logs are tensorflow's; the exercises run on both
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"


@pytest.fixture(scope="module")
def dense_runs(mnist):
    return {name: conformance.run(name, epochs=2) for name in ("vanilla", "sparse")}


@pytest.mark.parametrize("name", ["vanilla", "sparse"])
def test_dense_exercises_follow_the_lesson_log(dense_runs, name):
    run = dense_runs[name]
    for epoch, value in enumerate(run["val_loss"], start=1):
        assert value == pytest.approx(conformance.LESSON_VAL_LOSS[name][epoch], rel=0.03), f"epoch {epoch}"


def test_sparse_codes_are_smaller_than_vanilla_codes(dense_runs):
    assert dense_runs["sparse"]["mean_code"] < 0.8 * dense_runs["vanilla"]["mean_code"]


def test_variational_exercise_is_on_the_lesson_scale(mnist):
    run = conformance.run("variational", epochs=2)
    for epoch, value in enumerate(run["val_loss"], start=1):
        assert value == pytest.approx(conformance.LESSON_VAL_LOSS["variational"][epoch], rel=0.06), f"epoch {epoch}"


def test_variational_means_spread_by_digit(mnist):
    """A correct VAE separates digits in its 2-D latent space (the lesson's all-zero means are an artefact)."""
    keras.utils.set_random_seed(0)
    encoder, _, auto = conformance.load_exercise("variational")(784, [256], 2)
    x = mnist.x_train[:12000].reshape(-1, 784)
    auto.fit(x, x, epochs=3, batch_size=128, verbose=0)
    _, mean, _ = encoder.predict(mnist.x_test[:2000].reshape(-1, 784), verbose=0)
    labels = mnist.y_test[:2000]
    centroids = np.stack([mean[labels == d].mean(axis=0) for d in range(10)])
    assert np.abs(mean).mean() > 0.3
    spread = np.linalg.norm(centroids - centroids.mean(axis=0), axis=1).mean()
    within = np.mean([np.linalg.norm(mean[labels == d] - centroids[d], axis=1).mean() for d in range(10)])
    assert spread > 0.5 * within


@pytest.mark.skipif(not ON_TENSORFLOW, reason="reproduced exactly on tensorflow, the lesson's backend")
def test_convolutional_exercise_reproduces_the_lesson_log(mnist):
    run = conformance.run("convolutional", epochs=1)
    assert run["val_loss"][0] == pytest.approx(conformance.LESSON_VAL_LOSS["convolutional"][1], abs=2e-3)


@pytest.mark.skipif(not ON_TENSORFLOW, reason="the lesson's mains import tensorflow and run on it")
@pytest.mark.parametrize("main", ["0-main.py", "1-main.py", "2-main.py", "3-main.py"])
def test_lesson_mains_run_against_the_exercise_files(mnist, tmp_path, main):
    """The lesson's script, unchanged but for its data line, with 1 epoch instead of 50."""
    source = (EXERCISES_DIR / main).read_text()
    assert source.count("epochs=50") == 1
    script = tmp_path / main
    script.write_text(source.replace("epochs=50", "epochs=1"))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(EXERCISES_DIR)}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=EXERCISES_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line.strip() for line in result.stdout.splitlines()]
    if main == "3-main.py":  # mu and exp(log_sig / 2), 10 rows of 2 each
        rows = [ln.strip("[]").split() for ln in lines if ln.startswith("[")]
        assert len(rows) == 20 and all(len(r) == 2 for r in rows)
        sigmas = np.array(rows[10:], dtype=float)
        assert np.all(sigmas > 0)
    else:  # np.mean(encoded)
        means = [float(ln) for ln in lines if re.fullmatch(r"-?\d+\.\d+(e[-+]?\d+)?", ln)]
        assert len(means) == 1 and 0 < means[0] < 50
