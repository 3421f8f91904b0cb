"""``.npy`` files read batch by batch: one memory-mapped file, or a glob of shards read as one source."""

from __future__ import annotations

import glob as _glob
import os
import threading
from pathlib import Path

import numpy as np

from aekit.datasets._arrays import PIXEL_DEPTHS, check_layout, convert_samples
from aekit.datasets._sources import Source, is_glob
from aekit.errors import DataError


class NpySource(Source):
    """One ``.npy`` file or several (shards) of the same dtype and sample shape, memory-mapped.

    Only the headers are read when the source opens; a batch reads its rows from the page cache or
    the disk and converts them as :func:`~aekit.datasets.as_samples` does (``uint8``/``uint16`` as
    pixels, other numbers as they are, a NaN named by file and sample). Shards are opened when
    first needed and a few dozen stay open, so thousands of shards need no more file handles.
    """

    _OPEN = 32

    def __init__(self, files, name: str):
        files = [Path(f) for f in files]
        headers = [npy_header(f) for f in files]
        first_shape, first_dtype = headers[0]
        for file, (shape, dtype) in zip(files, headers):
            where = str(file)
            check_layout(where, _Layout(shape, dtype))
            if dtype != first_dtype or _samples_shape(shape) != _samples_shape(first_shape):
                raise DataError(
                    f"{file}: holds {dtype} samples shaped {shape[1:]}, but {files[0].name} holds "
                    f"{first_dtype} samples shaped {first_shape[1:]}; every shard must hold the same kind"
                )
        counts = [shape[0] for shape, _ in headers]
        super().__init__(name, (sum(counts), *_samples_shape(first_shape)))
        self.files, self.dtype_on_disk = files, first_dtype
        self.starts = np.cumsum([0] + counts)
        self.image_shape = None if len(self.sample_shape) == 1 else self.sample_shape
        self._maps: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def _map(self, k: int) -> np.ndarray:
        with self._lock:
            array = self._maps.pop(k, None)
            if array is None:
                try:
                    array = np.load(self.files[k], mmap_mode="r", allow_pickle=False)
                except (OSError, ValueError) as exc:
                    raise _gone(self.files[k], exc) from None
                if len(self._maps) >= self._OPEN:
                    self._maps.pop(next(iter(self._maps)))
            self._maps[k] = array  # most recently used last
            return array

    def _read_sorted(self, rows):
        which = np.searchsorted(self.starts, rows, side="right") - 1
        parts = []
        for k in np.unique(which):
            local = rows[which == k] - self.starts[k]
            try:
                raw = self._map(int(k))[local]
            except OSError as exc:  # the file shrank or went away under the map
                raise _gone(self.files[k], exc) from None
            parts.append(convert_samples(str(self.files[k]), np.asarray(raw), row_numbers=local))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def known_range(self):
        if _pixels(self.dtype_on_disk) or self.dtype_on_disk == np.dtype(bool):
            return (0.0, 1.0)  # pixels by their depth, or 0/1: within [0, 1] by construction
        return None


class _Layout:
    """What :func:`check_layout` looks at, from a header (no data read)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype
        self.ndim, self.size = len(shape), int(np.prod(shape)) if shape else 0

    def __len__(self):
        return self.shape[0] if self.shape else 0


def _pixels(dtype) -> bool:
    return dtype.kind == "u" and dtype.itemsize in PIXEL_DEPTHS


def _samples_shape(shape) -> tuple[int, ...]:
    return (*shape[1:], 1) if len(shape) == 3 else tuple(shape[1:])


def npy_header(file: Path):
    """``(shape, dtype)`` from a ``.npy`` file's header, refusing what cannot be memory-mapped."""
    try:
        with open(file, "rb") as f:
            version = np.lib.format.read_magic(f)
            reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(
                version
            )
            shape, fortran, dtype = reader(f) if reader else np.lib.format._read_array_header(f, version)
    except FileNotFoundError:
        raise DataError(f"{file}: no such file") from None
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{file}: not a readable .npy file ({exc.__class__.__name__}); it may be truncated") from None
    if dtype.hasobject:
        raise DataError(f"{file}: holds Python objects (pickled); save a numeric array instead")
    size = os.path.getsize(file)
    needed = int(np.prod(shape)) * dtype.itemsize
    if size < needed:
        raise DataError(
            f"{file}: holds {size} bytes, fewer than its header's {shape} {dtype} samples need; it is truncated"
        )
    return tuple(shape), dtype


def _gone(file, exc) -> DataError:
    error = DataError(
        f"{file}: cannot be read any more ({exc.__class__.__name__}); it was readable when training started"
    )
    error.data_file = str(file)
    return error


def shard_files(source) -> list[Path]:
    """The ``.npy`` files a folder or a glob pattern names, sorted by name (``part-000.npy``, ...)."""
    text = str(source)
    if is_glob(text):
        files = sorted(Path(p) for p in _glob.glob(os.path.expanduser(text)) if p.lower().endswith(".npy"))
    else:
        folder = Path(source)
        files = (
            sorted(
                p for p in folder.iterdir() if p.suffix.lower() == ".npy" and not p.name.startswith(".") and p.is_file()
            )
            if folder.is_dir()
            else []
        )
    return files


def open_shards(source) -> NpySource:
    files = shard_files(source)
    if not files:
        raise DataError(f"{source}: matches no .npy files")
    return NpySource(files, Path(str(source)).name if not is_glob(source) else str(source))
