"""Data read batch by batch while a model trains: image folders, sharded and memory-mapped ``.npy`` files,
large CSV files (converted once into a memory-mapped cache).

A :class:`Source` stands where a float32 array of samples would: it has a ``shape``, a length and
fancy indexing (``source[rows]`` reads exactly those samples, as float32, by the same rules as
the in-memory readers); a slice or :meth:`Source.take` is a view that reads nothing until it is
indexed. aekit's training engine gathers each batch with ``source[rows]`` in the order drawn from
``(seed, epoch)``, exactly as it gathers rows of an array, so training on a source gives the same
losses as training on the same data loaded whole, and a run resumed after a kill ends where an
unbroken one ends. Everything that can be checked without reading every sample is checked when
the source is opened (before a run folder exists): an image folder's files by their headers,
``.npy`` files by theirs. What can only show up later (a file damaged after that check, a NaN
deep inside a file) stops training with one line naming the file, and the checkpoint of the last
completed epoch stays.
"""

from __future__ import annotations

import glob as _glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from aekit.datasets._arrays import PIXEL_DEPTHS, check_layout, convert_samples
from aekit.datasets._images import (
    COLOR_MODES,
    IMAGE_SUFFIXES,
    _to_mode,
    common_mode,
    has_transparency,
    image_header,
    iter_image_names,
    read_pixels,
    read_pixels_8bit,
    size_error,
    transparency_error,
)
from aekit.errors import DataError

#: samples read per chunk when a source is walked in order (prediction, scans)
CHUNK = 4096
_GLOB_CHARS = set("*?[")


def is_source(x) -> bool:
    """Whether ``x`` is read batch by batch (a :class:`Source`), not an array in memory."""
    return isinstance(x, Source)


def is_glob(source) -> bool:
    return any(c in _GLOB_CHARS for c in Path(str(source)).name)


class Source:
    """Samples read on demand: float32, shaped ``(n, *sample_shape)``, indexed like an array.

    ``source[rows]`` (an index array), ``source[i]`` and ``np.asarray(source)`` read samples;
    ``source[a:b]``, :meth:`take` and :meth:`reshape` are views. :meth:`chunks` walks the samples
    in order with the next chunk read ahead, :meth:`value_range` gives bounds of the values (from
    the format where it fixes them, else one pass). ``name`` says where the samples come from.
    """

    #: how the training engine recognises a source without importing this module
    streamed = True
    dtype = np.dtype(np.float32)
    #: threads that read batches ahead of the model (a hint for the training engine)
    workers = 4

    def __init__(self, name: str, shape):
        self.name = name
        self.shape = tuple(int(s) for s in shape)

    # ------------------------------------------------------------ the array protocol aekit uses

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.shape[1:]

    @property
    def nbytes(self) -> int:
        return 4 * self.size

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.take(range(len(self))[key])
        if isinstance(key, (int, np.integer)):
            index = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= index < len(self):
                raise IndexError(f"index {key} is out of range for {len(self)} samples")
            return self.read(np.array([index]))[0]
        rows = np.asarray(key)
        if rows.dtype == bool:
            if rows.shape != (len(self),):
                raise IndexError(f"a boolean index must have {len(self)} entries, got {rows.shape}")
            rows = np.flatnonzero(rows)
        if rows.ndim != 1 or not (np.issubdtype(rows.dtype, np.integer) or rows.size == 0):
            raise IndexError("a source is indexed by an integer, a slice or a 1-D array of sample numbers")
        rows = rows.astype(np.int64)
        rows = np.where(rows < 0, rows + len(self), rows)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"sample numbers must lie in 0..{len(self) - 1}")
        return self.read(rows)

    def __array__(self, dtype=None, copy=None):
        whole = np.concatenate([chunk for chunk in self.chunks()]) if len(self) else np.zeros(self.shape, np.float32)
        return whole if dtype is None else whole.astype(dtype)

    def __iter__(self):
        for chunk in self.chunks():
            yield from chunk

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {len(self)} samples of shape {self.sample_shape}>"

    # ------------------------------------------------------------ reading

    def read(self, rows: np.ndarray) -> np.ndarray:
        """The samples numbered ``rows`` (valid, any order), as float32 ``(len(rows), *sample_shape)``."""
        if rows.size == 0:
            return np.zeros((0, *self.sample_shape), np.float32)
        order = np.argsort(rows, kind="stable")
        if np.all(order == np.arange(len(rows))):
            return self._read_sorted(rows)
        out = np.empty((len(rows), *self.sample_shape), np.float32)
        out[order] = self._read_sorted(rows[order])
        return out

    def _read_sorted(self, rows: np.ndarray) -> np.ndarray:
        """The samples ``rows`` (sorted ascending): what each kind of source implements."""
        raise NotImplementedError

    def chunks(self, size: int = CHUNK):
        """The samples in order, ``size`` at a time, the next chunk read in a thread while the caller works."""
        starts = range(0, len(self), size)
        if len(starts) <= 1:
            for start in starts:
                yield self.read(np.arange(start, min(start + size, len(self))))
            return
        with ThreadPoolExecutor(1, thread_name_prefix="aekit-read") as pool:
            pending = pool.submit(self.read, np.arange(0, min(size, len(self))))
            for start in starts:
                chunk = pending.result()
                following = start + size
                if following < len(self):
                    pending = pool.submit(self.read, np.arange(following, min(following + size, len(self))))
                yield chunk

    def known_range(self) -> tuple[float, float] | None:
        """Bounds the format guarantees without reading a sample (pixels lie in [0, 1]), or None."""
        return None

    def value_range(self) -> tuple[float, float]:
        """``(low, high)`` bounds of the values: those the format guarantees, else exact after one pass."""
        known = self.known_range()
        if known is not None:
            return known
        if getattr(self, "_range", None) is None:
            low, high = np.inf, -np.inf
            for chunk in self.chunks():
                if chunk.size:
                    low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
            self._range = (low, high)
        return self._range

    # ------------------------------------------------------------ views

    def take(self, rows) -> "Source":
        """The samples numbered ``rows``, in that order, as a view that reads nothing yet."""
        return Subset(self, np.asarray(rows, dtype=np.int64))

    def reshape(self, *shape) -> "Source":
        """The same samples with each shaped anew (``reshape(n, -1)`` flattens them), as a view."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if not shape or shape[0] not in (len(self), -1):
            raise ValueError(f"a source of {len(self)} samples keeps its number of samples; got shape {shape}")
        sample = list(shape[1:])
        total = int(np.prod(self.sample_shape))
        if sample.count(-1) > 1:
            raise ValueError("only one dimension can be -1")
        if -1 in sample:
            known = int(np.prod([s for s in sample if s != -1]))
            sample[sample.index(-1)] = total // max(known, 1)
        if int(np.prod(sample)) != total:
            raise ValueError(f"cannot reshape samples of shape {self.sample_shape} into {tuple(sample)}")
        return self if tuple(sample) == self.sample_shape else Reshaped(self, tuple(sample))

    def mapped(self, function) -> "Source":
        """The same samples passed through ``function`` (a batch in, a batch of the same shape out) as
        they are read: a model's scaling applied to streamed data, as a view."""
        return Mapped(self, function)


class Subset(Source):
    """Some samples of another source, in a given order (a train or test split, a slice)."""

    def __init__(self, base: Source, rows: np.ndarray):
        super().__init__(base.name, (len(rows), *base.sample_shape))
        self.base, self.rows = base, rows
        self.workers = base.workers

    def _read_sorted(self, rows):
        return self.base.read(self.rows[rows])

    def take(self, rows):
        return Subset(self.base, self.rows[np.asarray(rows, dtype=np.int64)])

    def known_range(self):
        return self.base.known_range()


class Reshaped(Source):
    """Another source's samples, each reshaped (images as vectors for a dense model, or back)."""

    def __init__(self, base: Source, sample_shape):
        super().__init__(base.name, (len(base), *sample_shape))
        self.base = base
        self.workers = base.workers

    def _read_sorted(self, rows):
        return self.base.read(rows).reshape((len(rows), *self.sample_shape))

    def take(self, rows):
        return Reshaped(self.base.take(rows), self.sample_shape)

    def known_range(self):
        return self.base.known_range()

    def value_range(self):
        return self.base.value_range()


class Mapped(Source):
    """Another source's samples through a function of each batch (per-column scaling)."""

    def __init__(self, base: Source, function):
        super().__init__(base.name, base.shape)
        self.base, self.function = base, function
        self.workers = base.workers

    def _read_sorted(self, rows):
        return np.asarray(self.function(self.base.read(rows)), dtype=np.float32)

    def take(self, rows):
        return Mapped(self.base.take(rows), self.function)


class Concatenated(Source):
    """Several sources of the same sample shape, one after the other."""

    def __init__(self, parts):
        parts = list(parts)
        super().__init__(parts[0].name, (sum(len(p) for p in parts), *parts[0].sample_shape))
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])
        self.workers = parts[0].workers

    def _read_sorted(self, rows):
        which = np.searchsorted(self.starts, rows, side="right") - 1
        return np.concatenate([self.parts[k].read(rows[which == k] - self.starts[k]) for k in np.unique(which)])


def concatenate(parts):
    """``np.concatenate`` for samples where some parts are sources (the result is then a source)."""
    if not any(is_source(p) for p in parts):
        return np.concatenate(parts)
    parts = [p for p in parts if len(p)]
    if len(parts) == 1:
        return parts[0]
    return Concatenated([p if is_source(p) else ArraySamples(p, "samples") for p in parts])


class ArraySamples(Source):
    """An array already in memory, as a source (to mix it with streamed parts)."""

    def __init__(self, array: np.ndarray, name: str):
        super().__init__(name, array.shape)
        self.array = np.asarray(array, dtype=np.float32)

    def _read_sorted(self, rows):
        return self.array[rows]


# ---------------------------------------------------------------- .npy files: one memory map, or shards


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
        headers = [_npy_header(f) for f in files]
        first_shape, first_dtype = headers[0]
        for file, (shape, dtype) in zip(files, headers):
            where = str(file)
            check_layout(where, _Layout(shape, dtype))
            if dtype != first_dtype or _samples_shape(shape) != _samples_shape(first_shape):
                raise DataError(f"{file}: holds {dtype} samples shaped {shape[1:]}, but {files[0].name} holds "
                                f"{first_dtype} samples shaped {first_shape[1:]}; every shard must hold the same kind")
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
        if _pixels(self.dtype_on_disk) or self.dtype_on_disk == bool:
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


def _npy_header(file: Path):
    """``(shape, dtype)`` from a ``.npy`` file's header, refusing what cannot be memory-mapped."""
    try:
        with open(file, "rb") as f:
            version = np.lib.format.read_magic(f)
            reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
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
        raise DataError(f"{file}: holds {size} bytes, fewer than its header's {shape} {dtype} samples need; it is truncated")
    return tuple(shape), dtype


def _gone(file, exc) -> DataError:
    error = DataError(f"{file}: cannot be read any more ({exc.__class__.__name__}); it was readable when "
                      "training started")
    error.data_file = str(file)
    return error


def shard_files(source) -> list[Path]:
    """The ``.npy`` files a folder or a glob pattern names, sorted by name (``part-000.npy``, ...)."""
    text = str(source)
    if is_glob(text):
        files = sorted(Path(p) for p in _glob.glob(os.path.expanduser(text)) if p.lower().endswith(".npy"))
    else:
        folder = Path(source)
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".npy" and not p.name.startswith(".")
                       and p.is_file()) if folder.is_dir() else []
    return files


def open_shards(source) -> NpySource:
    files = shard_files(source)
    if not files:
        raise DataError(f"{source}: matches no .npy files")
    return NpySource(files, Path(str(source)).name if not is_glob(source) else str(source))


# ---------------------------------------------------------------- a folder of images


class ImageFolderSource(Source):
    """A folder of images (sub-folders become labels), each decoded when its batch is read.

    Opening it lists the files and reads every header (size, colour model, EXIF rotation), so
    sizes that differ without ``image_size``, colour models, unreadable files and 16-bit colour
    PNGs are refused (or skipped with ``skip_bad_files``) before training, with the messages of
    the in-memory reader; images with an alpha channel are decoded once to see whether it
    matters. A file that fails later (damaged while training) stops training with one line naming
    it; with ``skip_bad_files`` (or for a file listed in ``replaced``, from a run that failed on it)
    its place is taken by the next readable image, which keeps every batch's size and the order of
    all others. ``replacements`` lists the files replaced so far.
    """

    workers = 8

    def __init__(self, folder, image_size=None, color_mode=None, skip_bad_files=False, replaced=()):
        folder = Path(folder)
        if color_mode is not None and color_mode not in COLOR_MODES:
            raise DataError(f"color mode {color_mode!r} is not supported; use one of {', '.join(COLOR_MODES)}")
        names = _compact(iter_image_names(folder))
        replaced = set(replaced)
        missing = replaced - set(_text(names)) if replaced else set()
        if missing:  # files a failed run named and that were removed since: their places stay
            order = sorted([*_text(names), *missing], key=lambda name: name.replace("/", "\0"))
            names = _compact(order)
        if not len(names):
            raise DataError(f"{folder}: holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        n = len(names)
        shapes = np.zeros((n, 2), np.int32)
        channels = np.zeros(n, np.int8)
        simple = np.zeros(n, bool)
        keep = np.ones(n, bool)
        skipped = []
        for i, name in enumerate(_text(names)):
            try:
                height, width, channels[i], simple[i] = image_header(folder / name)
                shapes[i] = height, width
            except DataError:
                if name in replaced:  # already known bad: its place stays, filled by the next image
                    continue
                if not skip_bad_files:
                    raise
                skipped.append(name)
                keep[i] = False
        if skipped:
            names, shapes, channels, simple = names[keep], shapes[keep], channels[keep], simple[keep]
        if not len(names):
            raise DataError(f"{folder}: none of its {n} image files could be read")
        readable = channels > 0
        if image_size is None:
            first = int(np.flatnonzero(readable)[0])
            differ = np.flatnonzero(readable & np.any(shapes != shapes[first], axis=1))
            if differ.size:
                raise size_error(folder, _name(names[first]), shapes[first], _name(names[differ[0]]), shapes[differ[0]])
            size = tuple(int(s) for s in shapes[first])
        else:
            size = tuple(image_size)
        if color_mode is None:
            for i in np.flatnonzero(readable & np.isin(channels, (2, 4))):  # decode only what may be transparent
                file = folder / _name(names[i])
                if has_transparency(read_pixels(file, image_size, bool(simple[i]))):
                    raise transparency_error(file)
            mode = common_mode(bool(np.all(np.isin(channels[readable], (1, 2)))))
        else:
            mode = color_mode
        depth = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
        super().__init__(folder.name, (len(names), *size, depth))
        self.folder, self.image_size, self.mode = folder, image_size, mode
        self.skip_bad_files = skip_bad_files
        self.names, self.simple, self.channels = names, simple, channels
        self.skipped = tuple(skipped)
        self.image_shape = self.sample_shape
        self.bad = set(np.flatnonzero(~readable).tolist())  # known bad (from a failed run): replaced from the start
        self.replacements: list[str] = []
        self._lock = threading.Lock()
        parents = np.array([name.rpartition(b"/")[0] or b"." for name in names.tolist()], dtype=names.dtype)
        classes, labels = np.unique(parents, return_inverse=True)
        self.labels = labels.astype(np.int64) if len(classes) > 1 else None

    def known_range(self):
        return (0.0, 1.0)  # every reader maps pixels into [0, 1]

    def _read_sorted(self, rows):
        raw = np.zeros((len(rows), *self.sample_shape), np.uint8)
        other = {}
        for i, row in enumerate(rows):
            image = self._image(int(row))
            if image.dtype == np.uint8:
                raw[i] = image
            else:
                other[i] = image
        out = raw.astype(np.float32)
        out /= 255.0  # 8-bit pixels as read_image scales them (float32 k / 255), for the whole batch at once
        for i, image in other.items():
            out[i] = image
        return out

    def _image(self, row: int) -> np.ndarray:
        index = row
        for _ in range(len(self)):
            if index not in self.bad:
                try:
                    return self._decode(index)
                except DataError as exc:
                    name = _name(self.names[index])
                    if not self.skip_bad_files:
                        raise _failed(self.folder / name, exc, name) from None
                    with self._lock:
                        self.bad.add(index)
                        self.replacements.append(name)
            index = (index + 1) % len(self)  # the next readable image takes the bad one's place
        raise DataError(f"{self.folder}: none of its images can be read any more")

    def _decode(self, index: int) -> np.ndarray:
        """Image ``index`` in the folder's colour mode: uint8 on the short path (8-bit PNGs already in that
        mode), else float32 as the in-memory reader makes it."""
        file = self.folder / _name(self.names[index])
        if self.simple[index] and self.image_size is None and (self.channels[index], self.mode) in ((1, "L"), (3, "RGB")):
            image = read_pixels_8bit(file)
            if image.shape != self.sample_shape:
                raise DataError(f"{file}: is {image.shape[0]}x{image.shape[1]} now, but the folder's images are "
                                f"{self.sample_shape[0]}x{self.sample_shape[1]} (it changed after training started)")
            return image
        image = read_pixels(file, self.image_size, bool(self.simple[index]))
        if image.shape[:2] != self.sample_shape[:2]:
            raise DataError(f"{file}: is {image.shape[0]}x{image.shape[1]} now, but the folder's images are "
                            f"{self.sample_shape[0]}x{self.sample_shape[1]} (it changed after training started)")
        return _to_mode(file, image, self.mode)


def _compact(names) -> np.ndarray:
    """File names as one array of UTF-8 bytes (a few bytes per name, not a Python string each), built
    10,000 at a time so that no list of all of them is ever held."""
    parts, chunk = [], []
    for name in names:
        chunk.append(name.encode("utf-8", "surrogateescape"))
        if len(chunk) == 10_000:
            parts.append(np.array(chunk, dtype=bytes))
            chunk = []
    if chunk:
        parts.append(np.array(chunk, dtype=bytes))
    return np.concatenate(parts) if parts else np.zeros(0, dtype="S1")


def _name(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "surrogateescape")


def _text(names: np.ndarray):
    return (_name(raw) for raw in names)


def _failed(file, exc: DataError, name: str) -> DataError:
    reason = str(exc)
    reason = reason[len(str(file)) + 2:] if reason.startswith(f"{file}: ") else reason
    reason = reason.split(";")[0]
    error = DataError(f"{file}: {reason}, though it was readable when training started")
    error.data_file = name
    return error


# ---------------------------------------------------------------- sizes, for the choice to stream


def estimated_bytes(path: Path, image_size=None, color_mode=None) -> int | None:
    """About how many bytes ``path``'s samples take as float32 in memory, from headers alone (None if unknown)."""
    try:
        if path.is_dir():
            names = iter_image_names(path)
            first = next(names, None)
            if first is not None:
                height, width, channels, _ = image_header(path / first)
                if image_size is not None:
                    height, width = image_size
                depth = {"L": 1, "RGB": 3, "RGBA": 4}.get(color_mode, 3 if channels >= 3 else 1)
                return (1 + sum(1 for _ in names)) * height * width * depth * 4
            return sum(4 * int(np.prod(_npy_header(f)[0])) for f in shard_files(path))
        if is_glob(path):
            return sum(4 * int(np.prod(_npy_header(f)[0])) for f in shard_files(path))
        suffix = path.suffix.lower()
        if suffix == ".npy":
            return 4 * int(np.prod(_npy_header(path)[0]))
        if suffix in (".csv", ".tsv", ".txt"):
            return path.stat().st_size  # a number in text takes about as many bytes as a float32 and a delimiter
    except (DataError, OSError):
        return None
    return None


def memory_bytes() -> int:
    """The machine's physical memory in bytes (a generous guess where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 << 30


def stream_threshold() -> int:
    """Data larger than this (as float32) is streamed when the choice is left to aekit: the smaller of
    2 GiB and an eighth of the machine's memory."""
    return min(2 << 30, memory_bytes() // 8)
