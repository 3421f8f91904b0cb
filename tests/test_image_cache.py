"""Image folders decoded once into aekit's cache: the same numbers as decoding each file, reused until the
folder changes, never half-written, and loaded whole into one preallocated float32 array."""

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.datasets import DataError, _image_cache, load_dataset, open_source
from aekit.datasets._dataset import split
from aekit.datasets._image_folder_source import ImageFolderSource
from aekit.datasets._images import read_image_folder
from aekit.files import TEMP_MARK


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("AEKIT_CACHE_DIR", str(folder))
    return folder / "images"


def folder_of(root: Path, n=30, size=(6, 5), seed=0, mode="RGB") -> Path:
    rng = np.random.default_rng(seed)
    for i in range(n):
        sub = root / f"class{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        shape = (*size, 3) if mode == "RGB" else size
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(sub / f"{i:03d}.png")
    return root


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.glob("*.npy") if not p.name.startswith(".")) if cache.is_dir() else []


@pytest.mark.parametrize("options", [{}, {"color_mode": "L"}, {"color_mode": "RGBA"}, {"image_size": (4, 7)}])
def test_the_cache_gives_the_numbers_of_decoding_each_file(tmp_path, cache, options):
    folder = folder_of(tmp_path / "pets")
    Image.fromarray(np.full((6, 5), 77, np.uint8)).save(folder / "class1" / "gray.jpg")  # JPEG, gray: read by Pillow
    Image.fromarray(np.arange(30, dtype=np.uint8).reshape(6, 5) * 8, "L").convert("P").save(folder / "class2" / "p.png")
    x, y, shape, _ = read_image_folder(folder, **options)  # the direct reader, file by file
    whole = load_dataset(folder, test_size=0.0, stream=False, **options)
    assert whole.x_train.dtype == np.float32 and whole.image_shape == shape
    np.testing.assert_array_equal(whole.x_train, x)  # same pixels, same order: bit for bit
    np.testing.assert_array_equal(whole.y_train, y)
    streamed = open_source(folder, **options)
    assert streamed.cached and len(entries(cache)) == 1
    np.testing.assert_array_equal(np.asarray(streamed), x)
    rows = np.array([17, 3, 30, 0, 3])
    np.testing.assert_array_equal(streamed[rows], x[rows])
    np.testing.assert_array_equal(streamed.labels, y)
    # a split loaded whole: test samples first in one array, train and test as split() makes them
    reference, loaded = split("pets", x, y, shape, 0.25, 7), load_dataset(folder, test_size=0.25, seed=7, **options)
    for part in ("x_train", "x_test", "y_train", "y_test"):
        np.testing.assert_array_equal(getattr(loaded, part), getattr(reference, part))
    assert loaded.x_train.base is loaded.x_test.base is not None


def test_pixels_that_are_not_8_bit_are_cached_as_float32(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for i, level in enumerate((1000, 30000, 65535)):
        Image.fromarray(np.full((6, 6), level, dtype=np.uint16)).save(folder / f"{i}.png")
    x = read_image_folder(folder)[0]
    source = open_source(folder)
    assert source._pixels.rows(np.array([0])).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(source), x)


def test_worker_processes_decode_a_large_folder_to_the_same_bytes(tmp_path, cache, monkeypatch):
    folder = folder_of(tmp_path / "many", n=24, size=(9, 9))
    (folder / "class0" / "broken.png").write_bytes((folder / "class0" / "000.png").read_bytes()[:60])
    monkeypatch.setattr(_image_cache, "PROCESS_MIN", 1)
    monkeypatch.setattr(_image_cache, "MAX_WORKERS", 2)
    ran = []
    in_processes = _image_cache._in_processes
    monkeypatch.setattr(_image_cache, "_in_processes", lambda *a: ran.append(in_processes(*a)) or ran[-1])
    source = open_source(folder, skip_bad_files=True)
    assert ran and ran[0] is not None  # the processes ran (and found the broken file)
    assert source.skipped == ("class0/broken.png",)
    np.testing.assert_array_equal(np.asarray(source), read_image_folder(folder, skip_bad_files=True)[0])
    with pytest.raises(DataError, match="broken.png: not a readable image"):
        open_source(folder)  # the entry knows the file is broken; without --skip-bad-files it is refused


def test_a_second_opening_decodes_nothing(tmp_path, cache, monkeypatch):
    folder = folder_of(tmp_path / "pets")
    first = np.asarray(open_source(folder))
    calls = []
    for name in ("decode_chunk", "read_headers", "decode_file"):
        original = getattr(_image_cache, name)
        monkeypatch.setattr(_image_cache, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    monkeypatch.setattr("aekit.datasets._image_folder_source.read_headers", _image_cache.read_headers)
    monkeypatch.setattr("aekit.datasets._image_folder_source.read_pixels", lambda *a: calls.append("pixels"))
    monkeypatch.setattr("aekit.datasets._image_folder_source.image_header", lambda *a: calls.append("header"))
    again = open_source(folder)
    np.testing.assert_array_equal(np.asarray(again), first)
    whole = load_dataset(folder, test_size=0.0)
    np.testing.assert_array_equal(whole.x_train, first)
    assert calls == [] and len(entries(cache)) == 1


def test_a_changed_folder_gets_a_new_cache(tmp_path, cache):
    folder = folder_of(tmp_path / "pets")
    before = np.asarray(open_source(folder))
    (old,) = entries(cache)
    Image.fromarray(np.zeros((6, 5, 3), np.uint8)).save(folder / "class0" / "new.png")  # added
    assert len(open_source(folder)) == 31
    (new,) = entries(cache)  # the folder's older entry is removed
    assert new != old
    (folder / "class0" / "new.png").unlink()  # removed
    np.testing.assert_array_equal(np.asarray(open_source(folder)), before)
    victim = folder / "class2" / "005.png"  # modified: same size, other pixels
    original = victim.read_bytes()
    edited = np.asarray(Image.open(victim)).copy()
    edited[0, 0] = 255 - edited[0, 0]
    Image.fromarray(edited).save(victim)
    stat = victim.stat()
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = open_source(folder)
    row = after.names.tolist().index(b"class2/005.png")
    np.testing.assert_array_equal(after[row], edited.astype(np.float32) / 255)
    # a file changed after the cache was built (while training) is read as it is now, or refused by name
    victim.write_bytes(original[:60])
    with pytest.raises(DataError, match="005.png: .*readable when training started"):
        after[np.array([4, row])]
    with pytest.raises(DataError, match="005.png: not a readable image"):
        open_source(folder)  # opened again: found while the new cache is built
    assert len(open_source(folder, skip_bad_files=True)) == 29


def test_a_half_written_cache_is_never_used(tmp_path, cache, monkeypatch):
    folder = folder_of(tmp_path / "pets")
    expected = read_image_folder(folder)[0]
    # a build that stops midway leaves no cache entry
    original = _image_cache.decode_chunk

    def killed(*task):
        original(*task)
        raise KeyboardInterrupt

    monkeypatch.setattr(_image_cache, "decode_chunk", killed)
    with pytest.raises(KeyboardInterrupt):
        open_source(folder)
    monkeypatch.setattr(_image_cache, "decode_chunk", original)
    assert entries(cache) == []
    np.testing.assert_array_equal(np.asarray(open_source(folder)), expected)
    (pixels,) = entries(cache)
    # a leftover of a killed process (by its temporary name) is ignored and cleaned away
    leftover = cache / f".{pixels.stem}{TEMP_MARK}999999999-dead{pixels.suffix}"
    leftover.write_bytes(pixels.read_bytes()[:100])
    # pixels cut short (a copy interrupted) or missing their listing: decoded again
    pixels.write_bytes(pixels.read_bytes()[:200])
    np.testing.assert_array_equal(np.asarray(open_source(folder)), expected)
    assert pixels.stat().st_size > 200 and not leftover.exists()
    pixels.with_suffix(".npz").unlink()
    np.testing.assert_array_equal(load_dataset(folder, test_size=0.0).x_train, expected)
    assert pixels.with_suffix(".npz").is_file()


def test_an_unwritable_cache_falls_back_to_decoding_each_batch(tmp_path, monkeypatch):
    folder = folder_of(tmp_path / "pets")
    (tmp_path / "not_a_folder").write_text("x")
    monkeypatch.setenv("AEKIT_CACHE_DIR", str(tmp_path / "not_a_folder"))
    source = open_source(folder)
    assert not source.cached
    np.testing.assert_array_equal(np.asarray(source), read_image_folder(folder)[0])
    assert not ImageFolderSource(folder, cache=False).cached


@pytest.mark.parametrize("cached", [False, True], ids=["first-load", "from-cache"])
def test_loading_whole_holds_one_float32_array(tmp_path, cached):
    folder = folder_of(tmp_path / "photos", n=48, size=(64, 64))
    if cached:
        open_source(folder)
    size = 48 * 64 * 64 * 3 * 4
    tracemalloc.start()
    try:
        data = load_dataset(folder, test_size=0.25, stream=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.x_train.shape == (36, 64, 64, 3)
    assert peak <= 1.6 * size, f"peak {peak / size:.2f}x the float32 size"
