"""The one writer of every file aekit makes (aekit.files): the final name first, no overwrite without
force, never a user's file or a folder, atomic, and leftovers of a killed writer recognised by name."""

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from aekit import files
from aekit.errors import OutputError, OutputExistsError


def test_the_final_name_gets_its_suffix_before_anything_is_checked(tmp_path):
    assert files.final_path(tmp_path / "plot", (".png",), default_suffix=".png") == tmp_path / "plot.png"
    assert files.final_path(tmp_path / "codes.NPY", (".npy", ".csv")) == tmp_path / "codes.NPY"
    with pytest.raises(OutputError, match=r"codes\.txt: the file name must end in \.npy or \.csv"):
        files.final_path(tmp_path / "codes.txt", (".npy", ".csv"))
    for empty in ("", " ", "."):
        with pytest.raises(OutputError, match="is not a file name"):
            files.final_path(empty)


def test_an_existing_file_is_kept_unless_forced_and_a_folder_never_replaced(tmp_path):
    path = files.write_text(tmp_path / "sub" / "out.txt", "first")  # missing folders are made
    assert path.read_text() == "first"
    with pytest.raises(OutputExistsError, match=r"out\.txt already exists; choose another name or add --force"):
        files.write_text(path, "second")
    assert path.read_text() == "first"
    files.write_text(path, "second", force=True)
    assert path.read_text() == "second"
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(OutputExistsError, match="is a folder; choose a file name"):
        files.write_text(tmp_path / "folder.txt", "x", force=True)
    dangling = tmp_path / "link.txt"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputExistsError):  # a link counts as a file there, even a dangling one
        files.write_text(dangling, "x")


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = files.write_bytes(tmp_path / "model.keras", b"old")
    with pytest.raises(RuntimeError, match="crashed"):
        with files.replacing(path, force=True) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".keras" and files.TEMP_MARK in tmp.name
            tmp.write_bytes(b"half")
            raise RuntimeError("crashed")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    with pytest.raises(OutputError, match="nothing was written"):
        with files.replacing(tmp_path / "empty.npy"):
            pass
    assert not (tmp_path / "empty.npy").exists()


def test_a_new_file_has_the_mode_open_would_give_it(tmp_path):
    path = files.write_json(tmp_path / "settings.json", {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) == files.regular_file_mode()


def test_a_write_under_a_file_is_one_line_naming_the_folder(tmp_path):
    (tmp_path / "notes").write_text("a file, not a folder")
    with pytest.raises(OutputError, match="cannot write it .*; check that its folder exists and is writable") as info:
        files.write_text(tmp_path / "notes" / "out.txt", "x")
    assert "\n" not in str(info.value) and "notes" in str(info.value)


def test_arrays_are_written_as_npy_or_csv_with_a_header(tmp_path):
    codes = np.arange(6, dtype=np.float32).reshape(3, 2) / 3
    np.testing.assert_array_equal(np.load(files.write_array(tmp_path / "codes.npy", codes)), codes)
    images = np.zeros((2, 2, 2, 1))
    files.write_array(tmp_path / "flat.csv", images, columns=["a", 'b "q"', "c,d", "e"])
    lines = (tmp_path / "flat.csv").read_text().splitlines()
    assert lines[0] == 'a,"b ""q""","c,d",e'  # quoted as CSV readers expect
    assert len(lines) == 3 and lines[1].count(",") == 3  # one flattened row per sample
    written = files.write_array(tmp_path / "codes.csv", codes)
    np.testing.assert_allclose(np.loadtxt(written, delimiter=","), codes, rtol=1e-6)  # 7 significant digits


def test_json_takes_numpy_values_tuples_and_paths():
    document = {
        "n": np.int64(3),
        "x": np.float32(0.5),
        "ok": np.bool_(True),
        "a": np.arange(2),
        "t": (1, 2),
        "p": Path("runs/x"),
    }
    assert json.loads(json.dumps(document, default=files.jsonable)) == {
        "n": 3,
        "x": 0.5,
        "ok": True,
        "a": [0, 1],
        "t": [1, 2],
        "p": "runs/x",
    }
    with pytest.raises(TypeError, match="cannot store"):
        files.jsonable(object())


def test_a_figure_gets_png_and_only_aekits_own_figure_is_replaced_by_default(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(1, 1))
    try:
        path = files.write_figure(figure, tmp_path / "loss", force=None)
        assert path == tmp_path / "loss.png" and files.is_aekit_png(path)
        files.write_figure(figure, tmp_path / "loss", force=None)  # aekit's own: replaced without asking
        users = tmp_path / "photo.png"
        users.write_bytes(b"\x89PNG\r\n\x1a\n a user's picture")
        assert not files.is_aekit_png(users)
        with pytest.raises(OutputExistsError):
            files.write_figure(figure, users, force=None)
        assert users.read_bytes().endswith(b"a user's picture")
    finally:
        plt.close(figure)


def test_leftovers_of_killed_writers_are_removed_and_nothing_else(tmp_path):
    dead_pid = 2**22 + 12345  # above Linux's pid_max: no process has it
    stale = tmp_path / f".model{files.TEMP_MARK}{dead_pid}-abcd1234.keras"
    alive = tmp_path / f".model{files.TEMP_MARK}{os.getpid()}-abcd1234.keras"
    users = tmp_path / "model-backup.keras"
    for path in (stale, alive, users):
        path.write_bytes(b"x")
    files.write_bytes(tmp_path / "model.keras", b"new")  # a write clears its own stale temporaries
    assert not stale.exists() and alive.exists() and users.exists()
    assert files.remove_leftovers(tmp_path) == [alive]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-backup.keras", "model.keras"]
