"""Streamed data: image folders, .npy shards, memory maps and CSV files read batch by batch while training.

Training on a streamed source gives the same losses as on the same data loaded whole (same seed),
a killed streamed run resumes to the result of an unbroken one, and a file that fails while it is
read stops training with one line, the last completed epoch kept.
"""

import json
import signal
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import aekit
from aekit import cli, runs
from aekit.datasets import DataError, Source, concatenate, fingerprint, load_dataset, open_source
from aekit.run_folder import RunFolder
from held_run import HeldRun

FIT = dict(hidden_layers=(16,), latent_dim=4, epochs=3, batch_size=16, seed=3)
pytestmark = pytest.mark.backend


def pixels(n=120, size=(8, 8), seed=0) -> np.ndarray:
    """``n`` gray images of ``size`` as uint8, smooth enough for a dense model to learn something."""
    rng = np.random.default_rng(seed)
    base = rng.random((n, 1, 1)) * np.linspace(0, 1, size[0] * size[1]).reshape(1, *size)
    return np.clip(255 * (base + 0.1 * rng.random((n, *size))), 0, 255).astype(np.uint8)


def image_folder(folder: Path, images: np.ndarray, classes: int = 2) -> Path:
    for i, image in enumerate(images):
        sub = folder / f"class{i % classes}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(sub / f"{i:04d}.png")
    return folder


@pytest.fixture
def data(tmp_path):
    """The same 120 images as a folder of PNGs, three .npy shards and one .npy file."""
    images = pixels()
    folder = image_folder(tmp_path / "images", images)
    shards = tmp_path / "shards"
    shards.mkdir()
    for k, part in enumerate(np.array_split(images, 3)):
        np.save(shards / f"part-{k:03d}.npy", part)
    np.save(tmp_path / "all.npy", images)
    return {"images": folder, "shards": shards, "memmap": tmp_path / "all.npy", "array": images}


@pytest.mark.parametrize("kind", ["images", "shards", "memmap"])
@pytest.mark.slow
def test_streamed_training_equals_in_memory_training(data, kind):
    reference = load_dataset(data["memmap"] if kind != "images" else data["images"], stream=False, flat=True)
    streamed = load_dataset(data[kind], stream=True, flat=True)
    assert streamed.streamed and not reference.streamed
    assert isinstance(streamed.x_train, Source)
    np.testing.assert_array_equal(np.asarray(streamed.x_train), reference.x_train)  # same split, same samples

    a = aekit.DenseAutoencoder(**FIT).fit(reference.x_train, validation_data=reference.x_test)
    b = aekit.DenseAutoencoder(**FIT).fit(streamed.x_train, validation_data=streamed.x_test)
    assert b.history_["loss"] == pytest.approx(a.history_["loss"], rel=1e-6)
    assert b.history_["val_loss"] == pytest.approx(a.history_["val_loss"], rel=1e-6)

    # encoding, reconstruction errors and the run's metrics, read chunk by chunk, are the in-memory numbers
    np.testing.assert_allclose(b.encode(streamed.x_test), b.encode(reference.x_test), rtol=1e-6)
    np.testing.assert_allclose(
        b.reconstruction_error(streamed.x_test), b.reconstruction_error(reference.x_test), rtol=1e-6
    )
    assert runs.evaluate(b, streamed.x_test) == pytest.approx(runs.evaluate(b, reference.x_test), rel=1e-6)


@pytest.mark.slow
def test_a_conv_model_trains_on_a_folder_resized_on_the_fly(data, tmp_path):
    source = open_source(data["images"], image_size=(12, 12))
    assert source.shape == (120, 12, 12, 1) and source.labels is not None
    model = aekit.ConvAutoencoder(filters=(4, 4), epochs=1, batch_size=32).fit(source)
    assert np.isfinite(model.history_["loss"][0])
    assert model.reconstruct(source[:5]).shape == (5, 12, 12, 1)


def test_sources_index_like_arrays(data):
    source = open_source(data["shards"])
    whole = data["array"].astype(np.float32)[..., None] / 255
    assert source.shape == (120, 8, 8, 1) and len(source) == 120 and source.ndim == 4
    np.testing.assert_array_equal(source[np.array([5, 41, 0, 119])], whole[[5, 41, 0, 119]])  # across shards, any order
    np.testing.assert_array_equal(source[-1], whole[-1])
    np.testing.assert_array_equal(np.asarray(source[10:50:3]), whole[10:50:3])
    view = source.take([3, 2, 1]).reshape(3, -1)
    assert isinstance(view, Source) and view.shape == (3, 64)
    np.testing.assert_array_equal(np.asarray(view), whole[[3, 2, 1]].reshape(3, -1))
    mask = np.zeros(120, bool)
    mask[[7, 9]] = True
    np.testing.assert_array_equal(source[mask], whole[[7, 9]])
    both = concatenate([source[:4], whole[4:6]])
    np.testing.assert_array_equal(np.asarray(both), whole[:6])
    with pytest.raises(IndexError):
        source[np.array([120])]
    assert source.value_range() == (0.0, 1.0)  # uint8 pixels: in [0, 1] by their depth, nothing read


def test_the_choice_to_stream_is_automatic_above_a_size(data, monkeypatch):
    assert not load_dataset(data["memmap"]).streamed  # small: loaded whole, as before
    assert load_dataset(data["shards"]).streamed  # shards are always memory-mapped
    monkeypatch.setattr("aekit.datasets.stream_threshold", lambda: 1000)
    assert load_dataset(data["memmap"]).streamed and load_dataset(data["images"]).streamed


def test_globs_and_bad_shards(data, tmp_path):
    pattern = str(data["shards"] / "part-*.npy")
    assert len(open_source(pattern)) == 120
    assert load_dataset(pattern, test_size=0.0).x_train.shape == (120, 8, 8, 1)
    first = fingerprint(pattern)
    assert fingerprint(data["shards"])["files"] == 3 and first["files"] == 3
    np.save(data["shards"] / "part-001.npy", np.ones((40, 8, 8), np.uint8))
    assert fingerprint(pattern) != first
    np.save(data["shards"] / "part-003.npy", np.zeros((4, 8, 8), np.float32))
    with pytest.raises(DataError, match=r"part-003.npy: holds float32 samples .* every shard must hold the same kind"):
        open_source(data["shards"])
    (tmp_path / "obj.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="obj.npy: not a readable .npy file"):
        open_source(tmp_path / "obj.npy")
    floats = np.random.default_rng(0).random((30, 4)).astype(np.float32)
    floats[17, 2] = np.nan
    np.save(tmp_path / "nan.npy", floats)
    source = open_source(tmp_path / "nan.npy")
    with pytest.raises(DataError, match="nan.npy: sample 17 holds NaN"):
        source[np.arange(10, 20)]


def test_bad_images_are_refused_before_training_or_skipped(data, capsys):
    folder = data["images"]
    (folder / "class0" / "notes.png").write_text("not an image")
    with pytest.raises(DataError, match=r"notes.png: not a readable image .*--skip-bad-files"):
        open_source(folder)
    source = open_source(folder, skip_bad_files=True)
    assert len(source) == 120 and source.skipped == ("class0/notes.png",)
    (folder / "class0" / "notes.png").unlink()
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(folder / "class1" / "big.png")
    with pytest.raises(DataError, match=r"images differ in size .*big.png is 9x9.*--image-size"):
        open_source(folder)
    assert open_source(folder, image_size=(8, 8)).shape == (121, 8, 8, 1)
    (folder / "class1" / "big.png").unlink()
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba).save(folder / "class1" / "glass.png")
    with pytest.raises(DataError, match="glass.png: has transparent pixels; pass --color-mode RGBA"):
        open_source(folder)
    assert open_source(folder, color_mode="RGBA").shape == (121, 8, 8, 4)

    # the command line says the same, before any run folder exists
    out = folder.parent / "run"
    assert (
        cli.main(["train", "dense", "--data", str(folder), "--stream", "--epochs", "1", "--out", str(out), "-q"]) == 2
    )
    assert "glass.png: has transparent pixels" in capsys.readouterr().err and not out.exists()


def _truncate_after_first_epoch(file: Path):
    """A Keras callback that damages ``file`` once the first epoch is done (as a disk error would)."""
    original = file.read_bytes()

    class Damage(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                file.write_bytes(original[:60])

    return Damage(), original


TRAIN = [
    "train",
    "dense",
    "--hidden",
    "16",
    "--latent",
    "4",
    "--epochs",
    "6",
    "--batch-size",
    "16",
    "--seed",
    "1",
    "--stream",
]


@pytest.mark.slow
def test_a_file_damaged_while_training_stops_with_one_line_and_resume_continues(data, tmp_path, capsys):
    folder = data["images"]
    reference = tmp_path / "reference"
    assert cli.main([*TRAIN, "--data", str(folder), "--out", str(reference), "-q"]) == 0

    run = tmp_path / "run"
    settings = runs.data_settings(str(folder), stream=True)
    settings = runs.new_settings(
        "dense", {"hidden_layers": (16,), "latent_dim": 4, "epochs": 6, "batch_size": 16, "seed": 1}, settings
    )
    victim = folder / "class1" / "0001.png"
    damage, original = _truncate_after_first_epoch(victim)
    with pytest.raises(DataError) as failure:
        runs.train(runs.prepare(settings), run, callbacks=[damage])
    message = str(failure.value)
    assert "\n" not in message and str(victim) in message and "readable when training started" in message
    kept = len(RunFolder(run).read_history()["loss"])
    assert 1 <= kept < 6
    assert f"the model of epoch {kept} is kept in {run / 'model.keras'}" in message
    assert f"aekit train --resume {run}" in message
    stored = RunFolder(run).read_settings()
    assert stored["status"] == "failed" and stored["data"]["replaced_files"] == ["class1/0001.png"]

    # fixed: the run resumes and ends where the unbroken run ended
    victim.write_bytes(original)
    assert cli.main(["train", "--resume", str(run), "-q"]) == 0
    assert RunFolder(run).read_history()["loss"] == pytest.approx(RunFolder(reference).read_history()["loss"], rel=1e-6)

    # removed: its place is taken by the next image, every other sample stays where it was
    capsys.readouterr()
    run2 = tmp_path / "run2"
    damage, _ = _truncate_after_first_epoch(victim)
    with pytest.raises(DataError):
        runs.train(runs.prepare(settings), run2, callbacks=[damage])
    victim.unlink()
    assert cli.main(["train", "--resume", str(run2), "-q"]) == 0
    assert json.loads((run2 / "settings.json").read_text())["status"] == "complete"
    capsys.readouterr()
    assert cli.main(["evaluate", str(run2), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 12


@pytest.mark.slow
def test_skip_bad_files_replaces_a_file_that_fails_while_training(data, tmp_path, capsys):
    folder = data["images"]
    settings = runs.data_settings(str(folder), stream=True, skip_bad_files=True)
    settings = runs.new_settings(
        "dense", {"hidden_layers": (16,), "latent_dim": 4, "epochs": 6, "batch_size": 16}, settings
    )
    damage, _ = _truncate_after_first_epoch(folder / "class0" / "0000.png")  # read batches ahead cover 2 epochs at most
    notes = []
    metrics = runs.train(runs.prepare(settings), tmp_path / "run", callbacks=[damage], log=notes.append)
    assert metrics["replaced_files"] == 1 and metrics["epochs"] == 6
    assert any("class0/0000.png" in note and "replaced by the next image" in note for note in notes)


def history_rows(folder) -> int:
    try:
        return max(0, len((Path(folder) / "history.csv").read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_a_killed_streamed_run_resumes_to_the_unbroken_result(data, tmp_path):
    argv = [
        "train",
        "dense",
        "--hidden",
        "16",
        "--latent",
        "4",
        "--epochs",
        "10",
        "--batch-size",
        "8",
        "--seed",
        "2",
        "--data",
        str(data["shards"]),
        "--stream",
    ]
    reference = tmp_path / "reference"
    assert cli.main([*argv, "--out", str(reference), "-q"]) == 0
    run = tmp_path / "run"
    held = HeldRun([*argv, "--out", run, "-q"], at_epoch=3, marker_folder=tmp_path)  # holds with 3 epochs done
    try:
        held.wait_until_held()
        assert held.stop(signal.SIGKILL)[0] == -signal.SIGKILL
    finally:
        held.kill()
    assert history_rows(run) == 3
    assert cli.main(["train", "--resume", str(run), "-q"]) == 0
    assert RunFolder(run).read_history()["loss"] == pytest.approx(RunFolder(reference).read_history()["loss"], rel=1e-6)
    for a, b in zip(
        aekit.load(run / "model.keras").model_.weights, aekit.load(reference / "model.keras").model_.weights
    ):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_csv_files_stream_through_a_memory_mapped_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AEKIT_CACHE_DIR", str(tmp_path / "cache"))
    rows = np.random.default_rng(0).random((50, 3)).round(4)
    text = "a;b;c\n" + "".join(";".join(f"{v:.4f}".replace(".", ",") for v in row) + "\n" for row in rows)
    (tmp_path / "t.csv").write_text(text)
    whole = load_dataset(tmp_path / "t.csv", test_size=0.0, stream=False)
    streamed = load_dataset(tmp_path / "t.csv", test_size=0.0, stream=True)
    assert streamed.streamed and streamed.columns == whole.columns == ("a", "b", "c")
    np.testing.assert_array_equal(np.asarray(streamed.x_train), whole.x_train)
    cached = list((tmp_path / "cache").rglob("*.npy"))
    assert len(cached) == 1
    before = cached[0].stat().st_mtime_ns
    load_dataset(tmp_path / "t.csv", stream=True)
    assert cached[0].stat().st_mtime_ns == before  # converted once, read from the cache since
    (tmp_path / "m.csv").write_text("x,y\n1,2\n,4\n5,6\n")
    with pytest.raises(DataError, match="line 3, column 'x' is empty"):
        open_source(tmp_path / "m.csv")
    np.testing.assert_array_equal(
        np.asarray(open_source(tmp_path / "m.csv", impute="mean")),
        load_dataset(tmp_path / "m.csv", test_size=0.0, impute="mean").x_train,
    )
