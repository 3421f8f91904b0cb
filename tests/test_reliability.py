"""Nothing a user made is lost, no data is misread without a word, no file aekit reads back ends in a traceback.

One section per failure class of issue 13, each on cases of its own: the files aekit may touch
(manifest, one writer), real-world data variants, run folders independent of the working folder,
damaged and foreign files, mistakes found before a run folder exists, two processes on one folder,
and messages that name the file and the option.
"""

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from aekit import cli
from aekit.datasets import load_dataset
from aekit.errors import DataError
from aekit.files import TEMP_MARK
from held_run import HeldRun

AEKIT = str(Path(sys.executable).with_name("aekit"))
pytestmark = pytest.mark.slow
TINY = ["--hidden", "8", "--latent", "2", "--epochs", "1", "--train-samples", "100", "-q"]


def fails(capsys, argv) -> str:
    """Run ``aekit argv`` in-process; it must fail with one line (and nothing on stdout): return that line."""
    capsys.readouterr()
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("aekit: error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reliability") / "run"
    assert cli.main(["train", "dense", *TINY, "--out", str(folder)]) == 0
    return folder


# ---------------------------------------------------------------- 1. files aekit did not write


def test_force_replaces_only_files_aekit_wrote(tmp_path, capsys):
    folder = tmp_path / "run"
    assert cli.main(["train", "dense", *TINY, "--out", str(folder)]) == 0
    mine = {
        folder / "plots" / "my_sketch.png": b"mine",
        folder / ".model.keras.bak": b"backup",
        folder / "notes.md": b"notes",
    }
    for path, data in mine.items():
        path.write_bytes(data)
    assert cli.main(["train", "dense", *TINY, "--out", str(folder), "--force"]) == 0
    assert all(path.read_bytes() == data for path, data in mine.items())
    assert (folder / "model.keras").is_file() and (folder / "plots" / "loss.png").is_file()


def test_force_refuses_a_file_the_user_changed_and_removes_nothing(tmp_path, capsys):
    folder = tmp_path / "run"
    assert cli.main(["train", "dense", *TINY, "--out", str(folder)]) == 0
    (folder / "report.html").write_text("<p>my annotated report</p>")
    before = sorted(p.name for p in folder.rglob("*"))
    assert "report.html was changed after aekit wrote it" in fails(
        capsys, ["train", "dense", *TINY, "--out", str(folder), "--force"]
    )
    assert sorted(p.name for p in folder.rglob("*")) == before
    assert (folder / "report.html").read_text() == "<p>my annotated report</p>"


def test_a_users_file_where_aekit_would_write_is_never_replaced(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "settings.json").write_text('{"my": "settings"}')
    assert "settings.json is not a file aekit wrote" in fails(
        capsys, ["train", "dense", *TINY, "--out", str(folder), "--force"]
    )
    assert (folder / "settings.json").read_text() == '{"my": "settings"}'


def test_plot_name_is_resolved_before_the_overwrite_check(run, tmp_path, capsys):
    existing = tmp_path / "figure.png"
    existing.write_bytes(b"my figure")
    argv = ["reconstruct", str(run), "-o", str(tmp_path / "rec.npy"), "--plot", str(tmp_path / "figure")]
    assert "figure.png already exists" in fails(capsys, argv)
    assert existing.read_bytes() == b"my figure" and not (tmp_path / "rec.npy").exists()
    assert cli.main([*argv, "--force", "-q"]) == 0
    assert existing.read_bytes().startswith(b"\x89PNG")


def test_an_output_that_is_a_folder_is_refused_even_with_force(run, tmp_path, capsys):
    (tmp_path / "codes.npy").mkdir()
    assert "codes.npy is a folder" in fails(capsys, ["encode", str(run), "-o", str(tmp_path / "codes.npy"), "--force"])


def test_temporary_files_of_a_killed_writer_are_removed_and_no_others(run, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".codes{TEMP_MARK}{dead.stdout.strip()}-deadbeef.npy"
    live = tmp_path / f".codes{TEMP_MARK}{os.getpid()}-cafe.npy"
    for path in (stale, live):
        path.write_bytes(b"half a file")
    assert cli.main(["encode", str(run), "-o", str(tmp_path / "codes.npy"), "-q"]) == 0
    assert not stale.exists() and live.exists()
    assert [p.name for p in tmp_path.iterdir() if TEMP_MARK in p.name] == [live.name]


def test_a_run_folder_from_before_the_manifest_resumes_and_is_replaced_by_content(tmp_path, capsys):
    folder = tmp_path / "old"
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
                "100",
                "-q",
                "--out",
                str(folder),
            ]
        )
        == 0
    )
    (folder / ".aekit-files.json").unlink()  # as aekit 0.1.0 left it
    settings = json.loads((folder / "settings.json").read_text())
    settings["status"] = "interrupted"
    (folder / "settings.json").write_text(json.dumps(settings))
    assert cli.main(["train", "--resume", str(folder), "-q"]) == 0
    (folder / "plots" / "mine.png").write_bytes(b"not a png")
    (folder / ".aekit-files.json").unlink()
    assert cli.main(["train", "dense", *TINY, "--out", str(folder), "--force"]) == 0
    assert (folder / "plots" / "mine.png").read_bytes() == b"not a png"


# ---------------------------------------------------------------- 2. data read right, or refused


def test_csv_with_a_byte_order_mark_keeps_every_row_and_its_column_names(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefftemp,humidity\r\n0.5,0.25\r\n0.75,0.125\r\n".encode("utf-8"))
    data = load_dataset(path, test_size=0.0)
    assert data.columns == ("temp", "humidity")
    np.testing.assert_allclose(data.x_train, [[0.5, 0.25], [0.75, 0.125]])
    headerless = tmp_path / "plain.csv"
    headerless.write_bytes("\ufeff0.5,0.25\n0.75,0.125\n".encode("utf-8"))
    assert len(load_dataset(headerless, test_size=0.0).x_train) == 2  # the first row is data, not a header


def test_european_csv_and_utf16_are_read_right(tmp_path):
    semicolons = tmp_path / "de.csv"
    semicolons.write_text("a;b\n0,5;1,25\n0,75;2\n")
    np.testing.assert_allclose(load_dataset(semicolons, test_size=0.0).x_train, [[0.5, 1.25], [0.75, 2.0]])
    wide = tmp_path / "utf16.csv"
    wide.write_bytes("x,y\n1,2\n3,4\n".encode("utf-16"))
    assert load_dataset(wide, test_size=0.0).columns == ("x", "y")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a,b\n1,2\n3,\n", "line 3, column 'b' is empty"),
        ("a,b\n1,2\n3,4,5\n", "line 3 has 3 fields, but the header has 2"),
        ("a,name\n1,x\n2,y\n", "column 'name' holds text"),
        ("a,b\n1,2\nthree,4\n", "line 3, column 'a' holds 'three'"),
        ("a\n1e39\n", "beyond float32's range"),
    ],
)
def test_csv_problems_are_named_by_line_and_column(tmp_path, text, expected):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=expected.replace("(", r"\(")):
        load_dataset(path)


def test_missing_values_can_be_imputed_when_asked(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b\n0.2,0.4\n,0.6\n0.6,NA\n" + "0.5,0.5\n" * 20)
    assert "--impute mean" in fails(
        capsys, ["train", "dense", "--data", str(path), *TINY[:-3], "-q", "--out", str(tmp_path / "r")]
    )
    data = load_dataset(path, test_size=0.0, impute="mean")
    assert data.x_train[1, 0] == pytest.approx(np.mean([0.2, 0.6] + [0.5] * 20))


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    from PIL import Image

    folder = tmp_path / "scans"
    folder.mkdir()
    for i, level in enumerate((1000, 30000, 65535)):
        Image.fromarray(np.full((6, 6), level, dtype=np.uint16)).save(folder / f"{i}.png")
    data = load_dataset(folder, test_size=0.0)
    np.testing.assert_allclose(sorted(data.x_train[:, 0, 0, 0]), [1000 / 65535, 30000 / 65535, 1.0], rtol=1e-6)
    np.save(tmp_path / "raw16.npy", np.array([[0, 32768, 65535]], dtype=np.uint16).repeat(4, axis=0))
    np.testing.assert_allclose(
        load_dataset(tmp_path / "raw16.npy", test_size=0.0).x_train[0], [0, 32768 / 65535, 1.0], rtol=1e-6
    )


def test_images_of_different_sizes_transparency_and_bad_files(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((10, 10, 3), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    Image.fromarray(np.zeros((12, 9, 3), dtype=np.uint8)).save(folder / "big.jpg")
    with pytest.raises(DataError, match=r"images differ in size .*big.jpg is 12x9.*--image-size"):
        load_dataset(folder)
    assert load_dataset(folder, image_size=(10, 10)).image_shape == (10, 10, 3)

    (folder / "big.jpg").unlink()
    rgba = np.full((10, 10, 4), 200, dtype=np.uint8)
    rgba[..., 3] = 0
    Image.fromarray(rgba).save(folder / "ghost.png")
    with pytest.raises(DataError, match="ghost.png: has transparent pixels; pass --color-mode RGBA"):
        load_dataset(folder)
    assert load_dataset(folder, color_mode="RGBA").image_shape == (10, 10, 4)

    (folder / "notes.png").write_text("not an image")
    argv = [
        "train",
        "conv",
        "--filters",
        "2",
        "--epochs",
        "1",
        "--data",
        str(folder),
        "--color-mode",
        "RGB",
        "--out",
        str(tmp_path / "run"),
    ]
    assert "notes.png: not a readable image" in fails(capsys, [*argv, "-q"])
    assert not (tmp_path / "run").exists()
    assert cli.main([*argv, "--skip-bad-files"]) == 0
    assert "skipped 1 unreadable files: notes.png" in capsys.readouterr().err


def test_range_advice_leads_to_a_run_that_works(tmp_path, capsys):
    table = np.random.default_rng(0).normal(20.0, 5.0, size=(80, 6)).astype(np.float32)
    np.save(tmp_path / "sensors.npy", table)
    argv = [
        "train",
        "dense",
        "--hidden",
        "8",
        "--latent",
        "2",
        "--epochs",
        "2",
        "-q",
        "--data",
        str(tmp_path / "sensors.npy"),
    ]
    # by default such data is standardised inside the model; cross-entropy on it as given is refused
    assert cli.main([*argv, "--out", str(tmp_path / "default")]) == 0
    line = fails(capsys, [*argv, "--loss", "binary_crossentropy", "--scale", "none", "--out", str(tmp_path / "a")])
    assert "needs values in [0, 1]; pass --scale minmax" in line and "or --loss auto" in line
    # the advice, followed: either option alone gives a run that works
    assert cli.main([*argv, "--loss", "binary_crossentropy", "--scale", "minmax", "--out", str(tmp_path / "b")]) == 0
    assert cli.main([*argv, "--loss", "auto", "--scale", "none", "--out", str(tmp_path / "c")]) == 0


def test_integers_that_are_not_pixels_are_not_divided_by_255(tmp_path):
    counts = np.arange(40, dtype=np.int64).reshape(10, 4)
    np.save(tmp_path / "counts.npy", counts)
    np.testing.assert_array_equal(load_dataset(tmp_path / "counts.npy", test_size=0.0).x_train, counts)


# ---------------------------------------------------------------- 3. a run folder means the same data anywhere


def test_the_run_reads_its_own_file_from_any_folder_and_notices_changes(tmp_path, monkeypatch, capsys):
    home, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    home.mkdir(), elsewhere.mkdir()
    digits = load_dataset("digits").flat().x_train[:200]
    np.save(home / "data.npy", digits)
    np.save(elsewhere / "data.npy", digits[::-1] * 0.5)  # same name, other content
    monkeypatch.chdir(home)
    assert (
        cli.main(
            [
                "train",
                "dense",
                "--data",
                "data.npy",
                "--hidden",
                "8",
                "--latent",
                "2",
                "--epochs",
                "1",
                "-q",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    settings = json.loads((tmp_path / "run" / "settings.json").read_text())
    assert settings["data"]["path"] == str(home / "data.npy") and settings["data"]["fingerprint"]["bytes"] > 0

    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert cli.main(["evaluate", str(tmp_path / "run"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 20
    np.save(home / "data.npy", digits * 0.9)
    assert "the run's data changed since the run started" in fails(capsys, ["evaluate", str(tmp_path / "run")])
    (home / "data.npy").unlink()
    assert "is no longer there" in fails(capsys, ["evaluate", str(tmp_path / "run")])


# ---------------------------------------------------------------- 4. damaged, edited and foreign files


def rewrite_model_metadata(path: Path, change) -> None:
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["aekit.json"] = change(json.loads(entries["aekit.json"]))
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data if isinstance(data, bytes) else json.dumps(data))


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda m: {**m, "params": {**m["params"], "dropout_schedule": "cosine"}},
            "parameter 'dropout_schedule' is unknown to the dense family",
        ),
        (lambda m: {**m, "format_version": 7, "aekit_version": "9.1"}, "written by aekit 9.1 (format 7)"),
        (lambda m: {**m, "params": {**m["params"], "latent_dim": 2.5}}, "field 'params.latent_dim'"),
        (lambda m: [m], "expected a JSON object"),
        (lambda m: {k: v for k, v in m.items() if k != "input_shape"}, "field 'input_shape' is missing"),
        (lambda m: {**m, "history": {"loss": ["low"]}}, "field 'history.loss' must be a list of numbers"),
    ],
    ids=["newer-parameter", "newer-format", "float-for-int", "wrong-shape", "missing-field", "bad-history"],
)
def test_model_files_are_validated_field_by_field(run, tmp_path, capsys, change, expected):
    path = tmp_path / "model.keras"
    path.write_bytes((run / "model.keras").read_bytes())
    rewrite_model_metadata(path, change)
    line = fails(capsys, ["evaluate", str(path), "--data", "digits"])
    assert str(path) in line and expected in line


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda s: {k: v for k, v in s.items() if k != "family"}, "field 'family' is missing"),
        (lambda s: {**s, "format_version": 3, "aekit_version": "2.0"}, "upgrade aekit"),
        (lambda s: {**s, "params": {**s["params"], "epochs": 3.5}}, "epochs"),
        (lambda s: {**s, "status": "paused"}, "field 'status' must be one of"),
        (lambda s: {**s, "data": "digits"}, "field 'data' must be an object"),
    ],
    ids=["missing-key", "newer-format", "float-epochs", "unknown-status", "wrong-type"],
)
def test_hand_edited_settings_get_one_line(run, tmp_path, capsys, edit, expected):
    import shutil

    folder = tmp_path / "edited"
    shutil.copytree(run, folder)
    settings = json.loads((folder / "settings.json").read_text())
    settings["status"] = "interrupted"
    (folder / "settings.json").write_text(json.dumps(edit(settings)))
    line = fails(capsys, ["train", "--resume", str(folder), "-q"])
    assert "settings.json" in line and expected in line


def test_a_short_history_row_and_truncated_settings_get_one_line(run, tmp_path, capsys):
    import shutil

    folder = tmp_path / "damaged"
    shutil.copytree(run, folder)
    (folder / "history.csv").write_text("epoch,loss,val_loss\n1,0.5\n")
    assert "history.csv: line 2 has 2 fields" in fails(capsys, ["report", str(folder)])
    text = (folder / "settings.json").read_text()
    (folder / "settings.json").write_text(text[: len(text) // 2])
    assert "settings.json: not valid JSON" in fails(capsys, ["report", str(folder)])


# ---------------------------------------------------------------- 5. mistakes found before the folder exists


def test_no_folder_is_left_by_a_run_that_fails_before_its_first_epoch(tmp_path, capsys):
    folder = tmp_path / "never"
    assert "drop --lesson-layout" in fails(
        capsys, ["train", "conv", "--lesson-layout", "--filters", "4,4", "--out", str(folder), "-q"]
    )
    assert not folder.exists()
    diverging = [
        "train",
        "dense",
        "--learning-rate",
        "3e38",
        "--hidden",
        "8",
        "--latent",
        "2",
        "--epochs",
        "1",
        "--out",
        str(folder),
        "-q",
    ]
    assert "NaN or infinite in epoch 1" in fails(capsys, diverging)
    assert not folder.exists()
    assert cli.main(["train", "dense", *TINY, "--out", str(folder)]) == 0  # the same folder, no --force needed


# ---------------------------------------------------------------- 6. two processes, one run folder


def test_a_second_process_on_a_training_run_is_refused_and_a_stale_lock_taken_over(tmp_path):
    folder = tmp_path / "busy"
    # the first process holds after its first checkpoint, still training (and locking) until killed
    first = HeldRun(
        ["train", "dense", "--epochs", "3", "--hidden", "8", "--latent", "2", "--out", folder, "-q"],
        at_epoch=1,
        marker_folder=tmp_path,
    )
    try:
        first.wait_until_held()
        assert (folder / "model.keras").exists()
        second = subprocess.run(
            [AEKIT, "train", "--resume", str(folder), "-q"], capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 2
        assert f"is in use by aekit process {first.pid}" in second.stderr and "Traceback" not in second.stderr
        assert first.stop(signal.SIGKILL)[0] == -signal.SIGKILL
    finally:
        first.kill()
    assert (folder / ".aekit-lock").exists()  # a kill -9 cannot clean up: the lock is stale now
    resumed = subprocess.run(
        [AEKIT, "train", "--resume", str(folder), "-q", "--json"], capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert not (folder / ".aekit-lock").exists()


# ---------------------------------------------------------------- 7. messages name the file and the option


def test_library_messages_are_explained_and_warnings_stay_quiet(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("a,b\n" + "1e300,0.5\n" * 10)
    result = subprocess.run([AEKIT, "train", "dense", "--data", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"aekit: error: {path}: line 2, column 'a' holds 1e+300, beyond float32's range; rescale that column"
    ]
    seed = subprocess.run([AEKIT, "train", "dense", "--seed", str(2**40)], capture_output=True, text=True, timeout=120)
    assert seed.returncode == 2 and "--seed" in seed.stderr and "4294967295" in seed.stderr


# ---------------------------------------------------------------- a second hostile round (issue 13's re-check)


def test_force_waits_for_the_lock_and_the_manifest_names_only_aekit_files(tmp_path, capsys):
    folder = tmp_path / "run"
    assert cli.main(["train", "dense", *TINY, "--out", str(folder)]) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    manifest = json.loads((folder / ".aekit-files.json").read_text())
    manifest["../victim.txt"] = "pending"
    manifest[str(victim)] = "pending"
    (folder / ".aekit-files.json").write_text(json.dumps(manifest))
    (folder / ".aekit-lock").write_text(json.dumps({"host": os.uname().nodename, "pid": os.getpid(), "since": "now"}))
    assert "is in use by aekit process" in fails(capsys, ["train", "dense", *TINY, "--out", str(folder), "--force"])
    assert (folder / "settings.json").exists()  # the lock comes before any removal
    (folder / ".aekit-lock").unlink()
    assert cli.main(["train", "dense", *TINY, "--out", str(folder), "--force"]) == 0
    assert victim.read_text() == "mine"


def test_python_api_replaces_its_own_files_and_never_a_users(run, tmp_path):
    import aekit
    from aekit import plots
    from aekit.errors import OutputExistsError

    model = aekit.load(run / "model.keras")
    thesis = tmp_path / "thesis.keras"
    thesis.write_bytes(b"my thesis")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        model.save(thesis)
    assert thesis.read_bytes() == b"my thesis"
    model.save(tmp_path / "mine.keras")
    model.save(tmp_path / "mine.keras")  # aekit's own model file: replaced
    figure = tmp_path / "figure1.png"
    figure.write_bytes(b"\x89PNG my drawing")
    images = np.zeros((3, 8, 8))
    with pytest.raises(OutputExistsError):
        plots.plot_reconstructions(images, images, tmp_path / "figure1")
    plots.plot_reconstructions(images, images, tmp_path / "drawn")
    plots.plot_reconstructions(images, images, tmp_path / "drawn")  # an aekit figure: replaced
    assert figure.read_bytes() == b"\x89PNG my drawing"
    link = tmp_path / "codes.csv"
    link.symlink_to(tmp_path / "nowhere" / "codes.csv")
    assert cli.main(["encode", str(run), "-o", str(link), "-q"]) == 2 and link.is_symlink()


def test_more_data_variants_are_read_right_or_refused(tmp_path, monkeypatch, capsys):
    from PIL import Image

    pandas = tmp_path / "pandas.csv"
    pandas.write_text(",a,b\n0,0.5,0.25\n1,0.75,0.5\n2,0.1,0.2\n")
    data = load_dataset(pandas, test_size=0.0)
    assert data.columns == ("a", "b") and data.x_train.shape == (3, 2)
    numbered = tmp_path / "numbered.csv"
    numbered.write_text("0,1,2\n0.5,0.25,0.125\n0.1,0.2,0.3\n")
    assert load_dataset(numbered, test_size=0.0).x_train.shape == (2, 3)
    spaced = tmp_path / "saved.txt"
    np.savetxt(spaced, np.full((4, 3), 0.5))
    assert load_dataset(spaced, test_size=0.0).x_train.shape == (4, 3)

    np.save(tmp_path / "big_endian.npy", np.array([[0, 65535]] * 3, dtype=">u2"))
    np.testing.assert_allclose(load_dataset(tmp_path / "big_endian.npy", test_size=0.0).x_train[0], [0.0, 1.0])
    np.savez(tmp_path / "mixed.npz", x_train=np.zeros((4, 6), np.uint8), x_test=np.full((2, 6), 200.0, np.float32))
    with pytest.raises(DataError, match="x_train is uint8 and x_test float32"):
        load_dataset(tmp_path / "mixed.npz")

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((6, 6, 3), 60 * i, np.uint8)).save(folder / f"{i}.png")
    (folder / "phone.heic").write_bytes(b"not readable here")
    with pytest.raises(DataError, match="phone.heic: not a readable image"):
        load_dataset(folder)
    (folder / "phone.heic").unlink()
    wide = np.zeros((6, 6, 3), np.uint16)
    with open(folder / "deep.png", "wb") as f:  # a 16-bit colour PNG, by its header
        import struct
        import zlib

        def chunk(kind, body):
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

        raw = b"".join(b"\x00" + wide[r].byteswap().tobytes() for r in range(6))
        f.write(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", 6, 6, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )
    with pytest.raises(DataError, match="deep.png: a 16-bit colour PNG"):
        load_dataset(folder)

    np.save(tmp_path / "table.npy", np.full((6, 4), 0.5, np.float32))
    with pytest.raises(DataError, match="--image-size applies to folders of images"):
        load_dataset(tmp_path / "table.npy", image_size=(4, 4))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digits").mkdir()
    with pytest.raises(DataError, match="names both a built-in data set"):
        load_dataset("digits")
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("0.1,0.2\n0.3,0.4\n0.5,0.6\n0.7,0.8\n")
    assert (
        cli.main(
            [
                "train",
                "dense",
                "--data",
                str(tiny),
                "--hidden",
                "2",
                "--latent",
                "1",
                "--epochs",
                "1",
                "--out",
                str(tmp_path / "tiny_run"),
                "-q",
            ]
        )
        == 0
    )


def test_changed_images_and_edited_model_files_are_noticed(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(12):
        Image.fromarray(np.full((8, 8), 20 * i, np.uint8)).save(folder / f"{i:02d}.bmp")
    run_folder = folder / "my_run"  # a run kept inside its own data folder: its plots are not data
    assert (
        cli.main(
            [
                "train",
                "dense",
                "--data",
                str(folder),
                "--hidden",
                "4",
                "--latent",
                "2",
                "--epochs",
                "1",
                "--out",
                str(run_folder),
                "-q",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert cli.main(["evaluate", str(run_folder), "-q"]) == 0
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(folder / "03.bmp")  # same size, new content
    assert "the run's data changed" in fails(capsys, ["evaluate", str(run_folder)])

    path = tmp_path / "edited.keras"
    path.write_bytes((run_folder / "model.keras").read_bytes())
    rewrite_model_metadata(path, lambda m: {**m, "params": {**m["params"], "latent_dim": 5}})
    assert "do not match the model's weights" in fails(capsys, ["evaluate", str(path), "--data", "digits"])
    rewrite_model_metadata(path, lambda m: {**m, "params": {**m["params"], "latent_dim": 2}, "rng_state": [["x"]]})
    assert "field 'rng_state'" in fails(capsys, ["evaluate", str(path), "--data", "digits"])


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda d: {**d, "train_samples": "100"}, "field 'train_samples' must be a whole number"),
        (lambda d: {**d, "image_size": 28}, "field 'image_size' must be a list"),
        (lambda d: {**d, "test_size": "0.2"}, "field 'test_size' must be a number"),
        (lambda d: {**d, "path": 42}, "field 'path' must be text"),
    ],
    ids=["samples-text", "size-int", "test-size-text", "path-number"],
)
def test_edited_data_settings_get_one_line(run, tmp_path, capsys, edit, expected):
    import shutil

    folder = tmp_path / "edited"
    shutil.copytree(run, folder)
    settings = json.loads((folder / "settings.json").read_text())
    settings.update(status="interrupted", data=edit(settings["data"]))
    (folder / "settings.json").write_text(json.dumps(settings))
    line = fails(capsys, ["train", "--resume", str(folder), "-q"])
    assert "settings.json (data)" in line and expected in line


def test_a_copied_run_resumes_and_damaged_histories_are_rebuilt(run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy, copy_function=shutil.copyfile)  # new timestamps, as scp or unzip give
    settings = json.loads((copy / "settings.json").read_text())
    settings.update(status="interrupted", params={**settings["params"], "epochs": 2})  # a hand edit: one epoch more
    (copy / "settings.json").write_text(json.dumps(settings))
    assert cli.main(["train", "--resume", str(copy), "-q"]) == 0
    assert len(json.loads((copy / "metrics.json").read_text())) and "epoch" in (copy / "history.csv").read_text()
    (copy / "history.csv").write_text("epoch,loss,val_loss\n\n1,x\n")
    assert "'aekit report RUN' rebuilds it from model.keras" in fails(capsys, ["report", str(copy)])
    (copy / "history.csv").unlink()
    assert cli.main(["report", str(copy), "-q"]) == 0
    assert len((copy / "history.csv").read_text().strip().splitlines()) == 3
    (copy / "metrics.json").unlink()
    (copy / "metrics.json").mkdir()
    assert "metrics.json is a folder" in fails(capsys, ["report", str(copy)])


def test_mistakes_in_names_are_found_before_any_work(run, tmp_path, capsys, monkeypatch):
    assert "the file name must end in .npy or .csv" in fails(
        capsys, ["encode", str(run), "-o", str(tmp_path / "codes")]
    )
    assert "--out is empty" in fails(capsys, ["train", "dense", "--out", "  "])
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "history.csv").write_text("my own history\n")
    assert "history.csv is not a file aekit wrote" in fails(
        capsys, ["train", "dense", *TINY, "--out", str(folder), "--force"]
    )
    assert sorted(p.name for p in folder.iterdir()) == ["history.csv"]  # refused before training: nothing written
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["train", "dense", *TINY, "--out", "~/tilde_run"]) == 0
    assert (tmp_path / "tilde_run" / "model.keras").is_file()
    assert cli.main(["encode", "~/tilde_run", "-o", "~/codes.npy", "-q"]) == 0 and (tmp_path / "codes.npy").is_file()


def test_sigterm_before_the_first_epoch_leaves_no_folder(tmp_path):
    folder = tmp_path / "stopped"
    # held as the first epoch begins: the folder and settings.json exist, no epoch is done
    run = HeldRun(
        ["train", "conv", "--filters", "4,4", "--epochs", "3", "--data", "digits", "--out", folder, "-q"],
        at_epoch=0,
        marker_folder=tmp_path,
    )
    try:
        run.wait_until_held()
        assert (folder / "settings.json").exists() and not (folder / "model.keras").exists()
        status, _, err = run.stop(signal.SIGTERM)
    finally:
        run.kill()
    assert status == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "aekit: interrupted; no epoch was completed, so nothing was kept"
    assert not folder.exists()


SIGTERM_INSIDE_A_GC_CALLBACK = """
import gc, os, signal, sys, time
from aekit import cli

cli._terminate_like_ctrl_c()

def collecting(phase, info):  # jax registers such a callback; a signal handled here cannot raise
    if phase == "start":
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10000):
            pass

gc.callbacks.append(collecting)
try:
    gc.collect()
    gc.callbacks.remove(collecting)
    deadline = time.monotonic() + 50
    while time.monotonic() < deadline:  # until the SIGTERM sent again stops this (the deadline only fails it)
        time.sleep(0.01)
except KeyboardInterrupt:
    print("stopped")
    sys.exit(0)
print("the SIGTERM was lost")
"""


def test_a_sigterm_that_lands_in_a_garbage_collector_callback_still_stops_the_command():
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_INSIDE_A_GC_CALLBACK], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "stopped"
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_a_lock_whose_pid_now_belongs_to_another_process_is_stale(tmp_path):
    from aekit.run_folder import RunFolder

    folder = RunFolder(tmp_path)
    (tmp_path / ".aekit-lock").write_text(json.dumps({"host": os.uname().nodename, "pid": os.getpid(), "started": 1}))
    with folder.lock():  # this process started long after tick 1: the lock's process is gone
        assert json.loads((tmp_path / ".aekit-lock").read_text())["pid"] == os.getpid()
