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
from aekit.datasets._hashing import file_digest, hash_file
from aekit.datasets._image_folder_source import ImageFolderSource, load_image_folder
from aekit.datasets._images import COLOR_MODES, IMAGE_SUFFIXES, iter_image_names
from aekit.datasets._npy_source import NpySource, open_shards, shard_files
from aekit.datasets._sources import Source, concatenate, is_glob, is_source
from aekit.datasets._stream_policy import estimated_bytes, stream_threshold
from aekit.datasets._tables import read_csv
from aekit.errors import DataError

__all__ = [
    "BUILTIN",
    "COLOR_MODES",
    "DATA_DIR_ENV",
    "Dataset",
    "DataError",
    "Source",
    "as_samples",
    "builtin_name",
    "concatenate",
    "data_dirs",
    "find_mnist",
    "fingerprint",
    "fit_shape",
    "is_source",
    "keras_cache_dir",
    "load_dataset",
    "mnist_load_data",
    "open_source",
    "source_exists",
]

_WHOLE_FILE_BYTES = 1 << 30
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
    stream: bool | None = None,
    replaced: tuple[str, ...] = (),
) -> Dataset:
    """Load a built-in data set by name (``mnist``, ``fashion_mnist``, ``digits``) or a user's file or folder.

    A user's ``.npy``, ``.npz``, ``.csv`` or folder of images is split into train and test parts
    (``test_size``, shuffled with ``seed``; with 0 the samples keep their order) unless the
    ``.npz`` holds ``x_train``/``x_test``. ``image_size=(H, W)`` resizes images, ``color_mode``
    ("L", "RGB", "RGBA") sets their channels, ``skip_bad_files`` leaves unreadable images out;
    ``impute="mean"`` fills a CSV's missing values with their column's mean.

    ``stream=True`` reads the samples batch by batch while training (``x_train``/``x_test`` are then
    :class:`Source` views, used like arrays by every estimator); ``False`` loads them whole; None (the
    default) streams data whose float32 samples would take more than :func:`stream_threshold` bytes
    (2 GiB, or an eighth of the memory), and always streams a folder or glob of ``.npy`` shards.
    Streamed or not, training sees the same samples in the same order. ``replaced`` names image files
    of a run that failed on them, whose places the next readable image fills.
    """
    key = builtin_name(source)
    path = Path(source).expanduser()
    if key is not None and path.exists() and str(source) == key:
        raise DataError(
            f"{source!r} names both a built-in data set and {path.resolve()}; pass ./{source} for your "
            "file or folder (or run from another folder for the built-in one)"
        )
    if key is not None:
        data = load_builtin(key, download, seed)
    else:
        _check_options(path, image_size, color_mode, impute, skip_bad_files)
        data = _load_path(path, test_size, seed, image_size, color_mode, impute, skip_bad_files, stream, replaced)
    return data.flat() if flat else data


def open_source(source, *, image_size=None, color_mode=None, impute=None, skip_bad_files: bool = False) -> Source:
    """All the samples of a folder of images, a folder or glob of ``.npy`` shards, a ``.npy`` file (memory-mapped)
    or a CSV file (converted once into a memory-mapped cache), read batch by batch.

    Pass it wherever an array of samples goes: ``model.fit(source)``, ``model.encode(source)``,
    ``model.reconstruction_error(source)``. Slices and :meth:`Source.take` are views; indexing with an
    array of sample numbers reads those samples as float32.
    """
    path = Path(str(source)).expanduser()
    if not is_glob(path):
        _check_options(path, image_size, color_mode, impute, skip_bad_files)
    return _open_path(path, image_size, color_mode, impute, skip_bad_files, ())


def source_exists(path) -> bool:
    """Whether a file, folder or glob pattern (of ``.npy`` shards) names something that is there."""
    return bool(shard_files(path)) if is_glob(path) else Path(path).exists()


def builtin_name(source) -> str | None:
    """The built-in data set ``source`` names (``"Fashion-MNIST"`` -> ``"fashion_mnist"``), or None."""
    key = str(source).lower().replace("-", "_")
    return key if key in BUILTIN else None


def fingerprint(path, exclude=()) -> dict:
    """What identifies the content of a data file or folder: sizes and a SHA-256 of its bytes.

    A file is hashed whole up to 1 GiB (a second or so) and in 64 blocks spread over it beyond; a
    folder (or a glob pattern of ``.npy`` shards) by the names and sizes of all its images (or
    shards) and the content of up to 2,000 of them, spread over the folder; a shard beyond 64 MiB
    by 64 blocks of it. Copies and new timestamps leave it unchanged; an edit changes it.
    ``exclude`` leaves files out by their names in the folder (a file a run failed on and that was
    replaced or removed since).
    """
    path = Path(path)
    digest = hashlib.sha256()
    excluded = set(exclude)
    if path.is_dir() and next(iter_image_names(path), None) is not None:

        def names():  # walked twice (sizes, then content): a million names are never held at once
            return (name for name in iter_image_names(path) if name not in excluded)

        count = total = 0
        for name in names():
            size = os.stat(path / name).st_size
            total += size
            count += 1
            digest.update(f"{name}\0{size}\n".encode())
        stride = max(1, count // _FOLDER_SAMPLES)
        for k, name in enumerate(names()):
            if k % stride == 0:
                digest.update((path / name).read_bytes())
        return {"files": count, "bytes": total, "sha256": digest.hexdigest()}
    if is_glob(path) or path.is_dir():
        root = path if path.is_dir() else path.parent
        names = [f.relative_to(root).as_posix() if f.is_relative_to(root) else str(f) for f in shard_files(path)]
        names = [name for name in names if name not in excluded]
        total = 0
        for name in names:
            size = os.stat(root / name).st_size
            total += size
            digest.update(f"{name}\0{size}\n".encode())
        for name in names[:: max(1, len(names) // _FOLDER_SAMPLES)]:
            digest.update(file_digest(root / name, 64 << 20))
        return {"files": len(names), "bytes": total, "sha256": digest.hexdigest()}
    size = path.stat().st_size
    hash_file(digest, path, _WHOLE_FILE_BYTES)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _check_options(path: Path, image_size, color_mode, impute, skip_bad_files) -> None:
    """Refuse options that would be ignored for this kind of data, rather than ignore them."""
    folder = path.is_dir()
    for given, option in (
        (image_size, "--image-size"),
        (color_mode, "--color-mode"),
        (skip_bad_files, "--skip-bad-files"),
    ):
        if given and not folder:
            raise DataError(f"{path}: {option} applies to folders of images, and this is a file; drop it")
    if impute and path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        raise DataError(f"{path}: --impute applies to CSV files; drop it")


def _load_path(
    path: Path, test_size, seed, image_size, color_mode, impute, skip_bad_files, stream=None, replaced=()
) -> Dataset:
    if is_glob(path):
        if stream is False:
            raise DataError(f"{path}: a glob of .npy shards is always streamed; drop stream=False")
        return _split_source(path.name, open_shards(path), None, test_size, seed)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (built-in data sets: {', '.join(BUILTIN)})")
    suffix = path.suffix.lower()
    if path.is_dir() and not _has_images(path) and shard_files(path):
        stream = True if stream is None else stream  # shards: memory-mapped, nothing to gain from loading them
    elif suffix == ".npz" and stream:
        raise DataError(f"{path}: a .npz archive is read whole; save the samples with np.save as .npy to stream them")
    elif stream is None:
        size = estimated_bytes(path, image_size, color_mode)
        stream = size is not None and size > stream_threshold()
    if replaced:
        stream = True  # a run that failed on files it replaces keeps their places: only the streamed reader can
    if stream:
        source = _open_path(path, image_size, color_mode, impute, skip_bad_files, replaced)
        labels = getattr(source, "labels", None)
        data = _split_source(
            path.name if path.is_dir() else path.stem, source, labels, test_size, seed, getattr(source, "columns", None)
        )
        return _with_skipped(data, path, getattr(source, "skipped", ()))
    if path.is_dir():  # decoded once into the cache, then into one float32 array (no copy per image)
        return load_image_folder(path, image_size, color_mode, skip_bad_files, test_size, seed)
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


def _open_path(path: Path, image_size, color_mode, impute, skip_bad_files, replaced) -> Source:
    """The source that streams ``path``: an image folder, shards (folder or glob), a ``.npy`` file or a CSV file."""
    if is_glob(path):
        return open_shards(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        if not _has_images(path) and shard_files(path):
            return open_shards(path)
        return ImageFolderSource(path, image_size, color_mode, skip_bad_files, replaced)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return NpySource([path], path.stem)
    if suffix in (".csv", ".tsv", ".txt"):
        from aekit.datasets._csv_cache import csv_source

        return csv_source(path, impute)
    raise DataError(
        f"{path}: {suffix or 'this file'} cannot be streamed; use a folder of images, .npy files or a CSV file"
    )


def _has_images(folder: Path) -> bool:
    return next(iter_image_names(folder), None) is not None


def _split_source(name, source: Source, labels, test_size, seed, columns=None) -> Dataset:
    return split(name, source, labels, getattr(source, "image_shape", None), test_size, seed, columns)


def _with_skipped(data: Dataset, folder: Path, skipped) -> Dataset:
    from dataclasses import replace

    if not skipped:
        return data
    return replace(data, skipped=tuple(f if isinstance(f, str) else str(f.relative_to(folder)) for f in skipped))
