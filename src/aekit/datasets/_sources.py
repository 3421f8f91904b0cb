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

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

#: samples read per chunk when a source is walked in order (prediction, scans), at most
CHUNK = 4096
#: float32 bytes of one chunk, at most: large samples (64x64 colour images) come fewer at a time, so that what
#: is computed per chunk (errors and image quality in float64) stays the same size whatever the data's size
CHUNK_BYTES = 8 << 20
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

    def chunks(self, size: int | None = None):
        """The samples in order, ``size`` at a time (default: :data:`CHUNK`, fewer for large samples), the next
        chunk read in a thread while the caller works."""
        if size is None:
            size = max(1, min(CHUNK, CHUNK_BYTES // (4 * max(1, int(np.prod(self.sample_shape))))))
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

    def take(self, rows) -> Source:
        """The samples numbered ``rows``, in that order, as a view that reads nothing yet."""
        return Subset(self, np.asarray(rows, dtype=np.int64))

    def reshape(self, *shape) -> Source:
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

    def mapped(self, function) -> Source:
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
