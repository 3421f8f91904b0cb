"""Resumable training: a killed or interrupted run continues to the result of an uninterrupted one.

The command-line tests stop ``aekit`` (SIGINT, SIGKILL) while it holds at a chosen epoch (see
``held_run``: the epochs kept never depend on the machine's speed) and compare the resumed run
with the same run trained without a break.
"""

import json
import signal
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit import cli, runs, training
from aekit.errors import RunError
from aekit.files import TEMP_MARK
from aekit.models import VariationalAutoencoder
from aekit.run_folder import RunFolder
from held_run import HeldRun

pytestmark = [pytest.mark.slow, pytest.mark.backend]
EPOCHS = 12
TRAIN = [
    "train",
    "dense",
    "--hidden",
    "32",
    "--latent",
    "8",
    "--epochs",
    str(EPOCHS),
    "--batch-size",
    "16",
    "--train-samples",
    "256",
    "--seed",
    "3",
]


def history_rows(folder) -> int:
    try:
        with open(Path(folder) / "history.csv") as f:
            return max(0, sum(1 for _ in f) - 1)
    except FileNotFoundError:
        return 0


def start_and_stop(argv, sig, epochs_done, marker_folder):
    """Run ``aekit argv`` in a subprocess and send it ``sig`` while it holds with ``epochs_done`` epochs saved."""
    run = HeldRun(argv, at_epoch=epochs_done, marker_folder=marker_folder)
    try:
        run.wait_until_held()
        return run.stop(sig)
    finally:
        run.kill()


def checkpoint_epochs(folder) -> int:
    return len(aekit.load(Path(folder) / "model.keras").history_["loss"])


def weights(folder):
    return [np.asarray(w) for w in aekit.load(Path(folder) / "model.keras").model_.weights]


def assert_same_result(folder, reference):
    assert RunFolder(folder).read_history()["loss"] == pytest.approx(
        RunFolder(reference).read_history()["loss"], rel=1e-5
    )
    for a, b in zip(weights(folder), weights(reference)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume") / "uninterrupted"
    assert cli.main([*TRAIN, "--out", str(folder), "-q"]) == 0
    return folder


def test_ctrl_c_then_kill_9_then_resume_matches_the_uninterrupted_run(tmp_path, uninterrupted, capsys):
    folder = tmp_path / "run"

    # Ctrl-C: a clean exit that says how to continue; the files agree on the epochs done
    status, _, err = start_and_stop([*TRAIN, "--out", str(folder)], signal.SIGINT, 4, tmp_path)
    assert status == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"aekit: interrupted; the last completed epoch is saved in {folder / 'model.keras'}; "
        f"continue with: aekit train --resume {folder}"
    )
    assert json.loads((folder / "settings.json").read_text())["status"] == "interrupted"
    first = checkpoint_epochs(folder)
    assert history_rows(folder) == first == 4

    # kill -9 of the resumed run, three epochs on: the files in place are whole
    status, _, err = start_and_stop(["train", "--resume", str(folder)], signal.SIGKILL, first + 3, tmp_path)
    assert status == -signal.SIGKILL
    assert f"resuming {folder} after epoch {first} of {EPOCHS}" in err
    assert f"epoch {first + 1}/{EPOCHS}" in err and f"epoch {first}/{EPOCHS}" not in err
    second = checkpoint_epochs(folder)
    assert second == first + 3 < EPOCHS
    assert history_rows(folder) == second  # the CSV follows the checkpoint, never runs ahead
    assert json.loads((folder / "settings.json").read_text())["status"] == "running"

    assert cli.main(["train", "--resume", str(folder), "-q"]) == 0
    assert json.loads((folder / "settings.json").read_text())["status"] == "complete"
    assert history_rows(folder) == EPOCHS
    assert not [p.name for p in folder.rglob("*") if TEMP_MARK in p.name]  # no temporary file left behind
    assert_same_result(folder, uninterrupted)

    # resuming a finished run changes nothing
    before = (folder / "model.keras").read_bytes()
    assert cli.main(["train", "--resume", str(folder), "-q", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["status"] == "complete"
    assert (folder / "model.keras").read_bytes() == before


def test_python_api_resume_restores_random_state(digits, tmp_path):
    """A VAE's sampling layer draws the same numbers after a resume as without a break."""
    import shutil

    import keras

    x = digits.x_train[:300]
    checkpoint, after_two = tmp_path / "run.keras", tmp_path / "after_two.keras"

    def keep_second_checkpoint(epoch, logs):
        if epoch == 1:  # callbacks see an epoch after its checkpoint: the file holds epochs 1-2
            shutil.copy(checkpoint, after_two)

    make = lambda: VariationalAutoencoder(hidden_layers=(16,), latent_dim=2, batch_size=64, epochs=4, seed=1)
    full = make().fit(
        x, checkpoint=checkpoint, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=keep_second_checkpoint)]
    )
    resumed = aekit.load(after_two)
    assert len(resumed.history_["loss"]) == 2
    resumed.fit(x, resume=True)
    assert resumed.history_["loss"] == pytest.approx(full.history_["loss"], rel=1e-5)
    np.testing.assert_allclose(resumed.reconstruct(x[:20]), full.reconstruct(x[:20]), rtol=1e-4, atol=1e-5)


def test_a_resumed_cosine_schedule_goes_on_along_the_same_curve(digits, tmp_path):
    """learning_rate_schedule="cosine" counts optimizer steps, which the checkpoint keeps: a run resumed
    after two of four epochs trains with the same step sizes and ends where an unbroken one does."""
    import shutil

    import keras

    from aekit.models import DenseAutoencoder

    x = digits.x_train[:300]
    checkpoint, after_two = tmp_path / "run.keras", tmp_path / "after_two.keras"

    def keep_second_checkpoint(epoch, logs):
        if epoch == 1:
            shutil.copy(checkpoint, after_two)

    make = lambda: DenseAutoencoder(
        (16,), 4, batch_size=64, epochs=4, learning_rate=1e-2, learning_rate_schedule="cosine"
    )
    full = make().fit(
        x, checkpoint=checkpoint, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=keep_second_checkpoint)]
    )
    resumed = aekit.load(after_two)
    assert 1e-4 < float(resumed.model_.optimizer.learning_rate) < 1e-2  # half-way down the curve
    resumed.fit(x, resume=True)
    assert resumed.history_["loss"] == pytest.approx(full.history_["loss"], rel=1e-5)
    assert float(resumed.model_.optimizer.learning_rate) == pytest.approx(1e-4, rel=1e-3)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    import keras

    class PoisonSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                for weight in self.model.trainable_weights:
                    weight.assign(np.full(weight.shape, np.nan, dtype="float32"))

    folder = tmp_path / "nan"
    settings = runs.new_settings(
        "dense",
        {"hidden_layers": [16], "latent_dim": 4, "epochs": 5, "batch_size": 64},
        runs.data_settings("digits", train_samples=300),
    )
    with pytest.raises(
        RunError, match=r"loss became NaN or infinite in epoch 2.*model of epoch 1 is kept.*--learning-rate"
    ):
        runs.train(runs.prepare(settings), folder, callbacks=[PoisonSecondEpoch()])
    kept = aekit.load(folder / "model.keras")
    assert len(kept.history_["loss"]) == 1
    assert all(np.all(np.isfinite(np.asarray(w))) for w in kept.model_.weights)
    assert history_rows(folder) == 1
    assert json.loads((folder / "settings.json").read_text())["status"] == "diverged"


def test_epoch_order_depends_only_on_seed_and_epoch():
    a = training.epoch_order(100, seed=3, epoch=7)
    assert sorted(a) == list(range(100))
    np.testing.assert_array_equal(a, training.epoch_order(100, seed=3, epoch=7))
    assert not np.array_equal(a, training.epoch_order(100, seed=3, epoch=8))
    assert not np.array_equal(a, training.epoch_order(100, seed=4, epoch=7))


def test_early_stopping_keeps_the_best_epoch_and_resumes_to_the_same_result(digits, tmp_path):
    import shutil

    import keras

    x = digits.flat().x_train[:400]
    checkpoint, early = tmp_path / "run.keras", tmp_path / "early.keras"

    def keep(epoch, logs):
        if epoch == 2:
            shutil.copy(checkpoint, early)

    make = lambda: VariationalAutoencoder(
        hidden_layers=(16,),
        latent_dim=2,
        batch_size=32,
        epochs=40,
        seed=2,
        learning_rate=0.03,
        validation_split=0.25,
        early_stopping=2,
    )
    full = make().fit(x, checkpoint=checkpoint, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=keep)])
    state = full.early_stopping_
    assert state["stopped"] and len(full.history_["loss"]) < 40  # it stopped early
    assert state["best"] == min(full.history_["val_loss"]) and state["best_epoch"] == len(full.history_["val_loss"]) - 2
    resumed = aekit.load(early).fit(x, resume=True)
    assert resumed.history_["val_loss"] == pytest.approx(full.history_["val_loss"], rel=1e-5)
    for a, b in zip(resumed.model_.get_weights(), full.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    reloaded = aekit.load(checkpoint)
    assert reloaded.early_stopping_["stopped"] and len(reloaded.fit(x, resume=True).history_["loss"]) == len(
        full.history_["loss"]
    )
