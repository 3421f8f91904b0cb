"""Data: the built-in data sets and a user's files, as float32 arrays; nothing here imports Keras.

:func:`load_dataset` returns a :class:`Dataset` for a built-in name (``mnist``, ``fashion_mnist``,
``digits``) or a path: ``.npy``, ``.npz``, ``.csv`` or a folder of images. Each format's module
knows its real-world variants (:mod:`._arrays`, :mod:`._tables`, :mod:`._images`) and reads them
right or refuses with one line. :func:`fingerprint` identifies a file's content, so a run can tell
when the data it was trained on has changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from aekit.datasets._arrays import as_samples, read_npy, read_npz
from aekit.datasets._builtin import (
    BUILTIN,
    DATA_DIR_ENV,
    data_dirs,
    find_mnist,
    keras_cache_dir,
    load_builtin,
    mnist_load_data,
)
from aekit.datasets._dataset import Dataset, fit_shape, split
from aekit.datasets._images import COLOR_MODES, IMAGE_SUFFIXES, image_files, read_image_folder
from aekit.datasets._tables import read_csv
from aekit.errors import DataError

__all__ = ["BUILTIN", "COLOR_MODES", "DATA_DIR_ENV", "Dataset", "DataError", "as_samples", "builtin_name",
           "data_dirs", "find_mnist", "fingerprint", "fit_shape", "keras_cache_dir", "load_dataset", "mnist_load_data"]

_WHOLE_FILE_BYTES = 1 << 30
_FILE_SAMPLES = 64
_FOLDER_SAMPLES = 2000


def load_dataset(
    source: str | os.PathLike,
    *,
    flat: bool = False,
    test_size: float = 0.1,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    impute: str | None = None,
    skip_bad_files: bool = False,
    download: bool = True,
) -> Dataset:
    """Load a built-in data set by name (``mnist``, ``fashion_mnist``, ``digits``) or a user's file or folder.

    A user's ``.npy``, ``.npz``, ``.csv`` or folder of images is split into train and test parts
    (``test_size``, shuffled with ``seed``; with 0 the samples keep their order) unless the
    ``.npz`` holds ``x_train``/``x_test``. ``image_size=(H, W)`` resizes images, ``color_mode``
    ("L", "RGB", "RGBA") sets their channels, ``skip_bad_files`` leaves unreadable images out;
    ``impute="mean"`` fills a CSV's missing values with their column's mean.
    """
    key = builtin_name(source)
    path = Path(source).expanduser()
    if key is not None and path.exists() and str(source) == key:
        raise DataError(f"{source!r} names both a built-in data set and {path.resolve()}; pass ./{source} for your "
                        "file or folder (or run from another folder for the built-in one)")
    if key is not None:
        data = load_builtin(key, download, seed)
    else:
        _check_options(path, image_size, color_mode, impute, skip_bad_files)
        data = _load_path(path, test_size, seed, image_size, color_mode, impute, skip_bad_files)
    return data.flat() if flat else data


def builtin_name(source) -> str | None:
    """The built-in data set ``source`` names (``"Fashion-MNIST"`` -> ``"fashion_mnist"``), or None."""
    key = str(source).lower().replace("-", "_")
    return key if key in BUILTIN else None


def fingerprint(path) -> dict:
    """What identifies the content of a data file or image folder: sizes and a SHA-256 of its bytes.

    A file is hashed whole up to 1 GiB (a second or so) and in 64 blocks spread over it beyond; a
    folder by the names and sizes of all its images and the content of up to 2,000 of them, spread
    over the folder. Copies and new timestamps leave it unchanged; an edit changes it.
    """
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        files = image_files(path)
        total = 0
        for file in files:
            size = file.stat().st_size
            total += size
            digest.update(f"{file.relative_to(path).as_posix()}\0{size}\n".encode())
        for file in files[:: max(1, len(files) // _FOLDER_SAMPLES)]:
            digest.update(file.read_bytes())
        return {"files": len(files), "bytes": total, "sha256": digest.hexdigest()}
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= _WHOLE_FILE_BYTES:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        else:
            step = size // _FILE_SAMPLES
            for i in range(_FILE_SAMPLES):
                f.seek(i * step)
                digest.update(f.read(1 << 20))
            f.seek(size - (1 << 20))
            digest.update(f.read())
    return {"bytes": size, "sha256": digest.hexdigest()}


def _check_options(path: Path, image_size, color_mode, impute, skip_bad_files) -> None:
    """Refuse options that would be ignored for this kind of data, rather than ignore them."""
    folder = path.is_dir()
    for given, option in ((image_size, "--image-size"), (color_mode, "--color-mode"), (skip_bad_files, "--skip-bad-files")):
        if given and not folder:
            raise DataError(f"{path}: {option} applies to folders of images, and this is a file; drop it")
    if impute and path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        raise DataError(f"{path}: --impute applies to CSV files; drop it")


def _load_path(path: Path, test_size, seed, image_size, color_mode, impute, skip_bad_files) -> Dataset:
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (built-in data sets: {', '.join(BUILTIN)})")
    if path.is_dir():
        x, y, image_shape, skipped = read_image_folder(path, image_size, color_mode, skip_bad_files)
        data = split(path.name, x, y, image_shape, test_size, seed)
        return data if not skipped else _with_skipped(data, path, skipped)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return read_npy(path, test_size, seed)
    if suffix == ".npz":
        return read_npz(path, test_size, seed)
    if suffix in (".csv", ".tsv", ".txt"):
        values, columns = read_csv(path, impute)
        return split(path.stem, values, None, None, test_size, seed, columns)
    if suffix in IMAGE_SUFFIXES:
        raise DataError(f"{path}: a single image is not a data set; pass the folder that holds the images")
    raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use .npy, .npz, .csv or a folder of images")


def _with_skipped(data: Dataset, folder: Path, skipped) -> Dataset:
    from dataclasses import replace

    return replace(data, skipped=tuple(str(f.relative_to(folder)) for f in skipped))
