"""A folder of images read batch by batch: headers checked when opened, pixels decoded once into aekit's cache
(:mod:`._image_cache`) and read from it as batches are asked for; the same folder loaded whole."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from aekit.datasets._dataset import Dataset, split_rows
from aekit.datasets._image_cache import (
    BAD_HEADER,
    BAD_PIXELS,
    OK,
    PixelMap,
    build,
    decode_file,
    list_folder,
    lookup,
    read_headers,
)
from aekit.datasets._images import (
    COLOR_MODES,
    IMAGE_SUFFIXES,
    _to_mode,
    _unreadable,
    common_mode,
    has_transparency,
    image_header,
    read_pixels,
    read_pixels_8bit,
    size_error,
    transparency_error,
)
from aekit.datasets._sources import Source
from aekit.errors import DataError

_WHITE = np.float32(255)


class ImageFolderSource(Source):
    """A folder of images (sub-folders become labels), decoded once into aekit's cache and read from it.

    Opening it lists the files and reads every header (size, colour model, EXIF rotation), so
    sizes that differ without ``image_size``, colour models, unreadable files and 16-bit colour
    PNGs are refused (or skipped with ``skip_bad_files``) before training, with the messages of
    the in-memory reader; images with an alpha channel are decoded once to see whether it
    matters. Then every image is decoded, in parallel, into the folder's cache entry (see
    :mod:`._image_cache`; reused as long as no file is added, removed or changed, so a second
    opening reads no pixels), where a file that cannot be decoded is found too. A batch reads
    its rows from the entry (``uint8`` rows scaled per batch: the numbers of decoding each file).

    A file that changes after that (its size or modification time differ; damaged while
    training) is decoded again when its row is read, and one that fails stops training with one
    line naming it; with ``skip_bad_files`` (or for a file listed in ``replaced``, from a run that
    failed on it) its place is taken by the next readable image, which keeps every batch's size
    and the order of all others. ``replacements`` lists the files replaced so far. With
    ``cache=False``, or where the cache cannot be written, every batch decodes its files.
    """

    workers = 8

    def __init__(self, folder, image_size=None, color_mode=None, skip_bad_files=False, replaced=(), cache=True):
        folder = Path(folder)
        if color_mode is not None and color_mode not in COLOR_MODES:
            raise DataError(f"color mode {color_mode!r} is not supported; use one of {', '.join(COLOR_MODES)}")
        image_size = tuple(int(s) for s in image_size) if image_size is not None else None
        listing = list_folder(folder, image_size, color_mode)
        entry = lookup(listing) if cache else None
        headers = entry.headers if entry is not None else read_headers(listing)
        names, crow = listing.names, np.arange(len(listing.names))
        replaced = set(replaced)
        missing = replaced - set(_text(names)) if replaced else set()
        if missing:  # files a failed run named and that were removed since: their places stay
            order = sorted(
                [*((name, i) for i, name in enumerate(_text(names))), *((name, -1) for name in missing)],
                key=lambda item: item[0].replace("/", "\0"),
            )
            names, crow = _compact(name for name, _ in order), np.array([i for _, i in order], np.int64)
        if not len(names):
            raise DataError(f"{folder}: holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        n = len(names)
        present = crow >= 0
        listed = crow[present]
        shapes = np.zeros((n, 2), np.int32)
        channels = np.zeros(n, np.int8)
        simple = np.zeros(n, bool)
        status = np.full(n, BAD_HEADER, np.int8)
        shapes[present], channels[present] = headers.shapes[listed], headers.channels[listed]
        simple[present], status[present] = headers.simple[listed], headers.status[listed]
        channels[status == BAD_HEADER] = 0
        keep = np.ones(n, bool)
        for i in np.flatnonzero(status == BAD_HEADER):
            name = _name(names[i])
            if name in replaced:  # already known bad: its place stays, filled by the next image
                continue
            if not skip_bad_files:
                raise _header_error(folder / name)
            keep[i] = False
        if not keep.any():
            raise DataError(f"{folder}: none of its {n} image files could be read")
        readable = (channels > 0) & keep
        if not readable.any():
            raise DataError(f"{folder}: none of its {n} image files can be read")
        if image_size is None:
            first = int(np.flatnonzero(readable)[0])
            differ = np.flatnonzero(readable & np.any(shapes != shapes[first], axis=1))
            if differ.size:
                raise size_error(folder, _name(names[first]), shapes[first], _name(names[differ[0]]), shapes[differ[0]])
            size = tuple(int(s) for s in shapes[first])
        else:
            size = image_size
        if color_mode is None:
            if entry is None:  # a cache entry exists only for a folder that passed this check
                for i in np.flatnonzero(readable & np.isin(channels, (2, 4))):  # decode only what may be transparent
                    file = folder / _name(names[i])
                    if has_transparency(read_pixels(file, image_size, bool(simple[i]))):
                        raise transparency_error(file)
            mode = common_mode(bool(np.all(np.isin(channels[readable], (1, 2)))))
        else:
            mode = color_mode
        depth = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
        sample_shape = (*size, depth)
        if entry is None and cache:
            entry = build(listing, headers, mode, sample_shape, image_size)
        if entry is not None and (entry.mode != mode or entry.sample_shape != sample_shape):
            entry = None  # not what this folder reads as now (cannot happen for the same key): decode file by file
        cached = np.zeros(n, bool)
        if entry is not None:
            pixels = np.full(n, BAD_HEADER, np.int8)
            pixels[present] = entry.status[listed]
            for i in np.flatnonzero(keep & (pixels == BAD_PIXELS)):  # found when the cache was built
                name = _name(names[i])
                if name in replaced:
                    channels[i] = 0  # already known bad: its place stays
                    continue
                if not skip_bad_files:
                    raise _pixel_error(
                        folder / name, int(crow[i]), entry, simple[i], channels[i], mode, image_size, sample_shape
                    )
                keep[i] = False
            cached = pixels == OK
        skipped = [_name(raw) for raw in names[~keep]]
        if skipped:
            names, channels, simple, crow, cached = names[keep], channels[keep], simple[keep], crow[keep], cached[keep]
        super().__init__(folder.name, (len(names), *sample_shape))
        self.folder, self.image_size, self.mode = folder, image_size, mode
        self.skip_bad_files = skip_bad_files
        self.names, self.simple, self.channels = names, simple, channels
        self.skipped = tuple(skipped)
        self.image_shape = self.sample_shape
        self.bad = set(np.flatnonzero(channels <= 0).tolist())  # known bad (from a failed run): replaced from the start
        self.replacements: list[str] = []
        self._lock = threading.Lock()
        self._pixels = PixelMap(entry.pixels) if entry is not None else None
        if self._pixels is not None:
            self.workers = 2  # reading cached rows is cheap: two threads keep ahead (fewer batches held, flat memory)
        self._crow, self._cached = crow, cached
        safe = np.maximum(crow, 0)
        self._sizes = np.where(crow >= 0, listing.sizes[safe], -1)
        self._mtimes = np.where(crow >= 0, listing.mtimes[safe], -1)
        self._root = os.fsencode(os.fspath(folder))
        parents = np.array([name.rpartition(b"/")[0] or b"." for name in names.tolist()], dtype=names.dtype)
        classes, labels = np.unique(parents, return_inverse=True)
        self.labels = labels.astype(np.int64) if len(classes) > 1 else None

    @property
    def cached(self) -> bool:
        """Whether the pixels are read from the folder's cache entry (else each batch decodes its files)."""
        return self._pixels is not None

    def known_range(self):
        return (0.0, 1.0)  # every reader maps pixels into [0, 1]

    def _read_sorted(self, rows):
        if self._pixels is not None:
            fresh = self._fresh(rows)
            if fresh.all():
                return self._from_cache(self._crow[rows])
        else:
            fresh = np.zeros(len(rows), bool)
        out = np.empty((len(rows), *self.sample_shape), np.float32)
        if fresh.any():
            out[fresh] = self._from_cache(self._crow[rows[fresh]])
        for i in np.flatnonzero(~fresh):
            out[i] = _as_float(self._image(int(rows[i])))
        return out

    def read_into(self, out: np.ndarray, order: np.ndarray) -> None:
        """``out[k] = self[order[k]]`` for every ``k``, a few MiB at a time: the whole folder into one array
        allocated by the caller, with no other copy of it."""
        row_bytes = 4 * int(np.prod(self.sample_shape))
        step = max(1, min((4 << 20) // row_bytes, -(-len(order) // 8)))
        for start in range(0, len(order), step):
            rows = np.asarray(order[start : start + step], dtype=np.int64)
            if self._pixels is not None and self._fresh(rows).all():
                raw = self._pixels.rows(self._crow[rows])
                if raw.dtype == np.uint8:
                    np.divide(raw, _WHITE, out=out[start : start + len(rows)], dtype=np.float32)
                else:
                    out[start : start + len(rows)] = raw
            else:
                out[start : start + len(rows)] = self.read(rows)

    def _from_cache(self, cache_rows: np.ndarray) -> np.ndarray:
        raw = self._pixels.rows(cache_rows)
        return np.divide(raw, _WHITE, dtype=np.float32) if raw.dtype == np.uint8 else raw

    def _fresh(self, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` the cache holds as their files are now (same size and modification time)."""
        fresh = self._cached[rows]
        if not fresh.any():
            return fresh
        fresh = fresh.copy()
        names, sizes, mtimes = self.names[rows].tolist(), self._sizes[rows].tolist(), self._mtimes[rows].tolist()
        root = self._root
        for k in np.flatnonzero(fresh).tolist():
            try:
                stat = os.stat(os.path.join(root, names[k]))
            except OSError:
                fresh[k] = False
                continue
            if stat.st_size != sizes[k] or stat.st_mtime_ns != mtimes[k]:
                fresh[k] = False
        return fresh

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
                        self._cached[index] = False
                        self.replacements.append(name)
            index = (index + 1) % len(self)  # the next readable image takes the bad one's place
        raise DataError(f"{self.folder}: none of its images can be read any more")

    def _decode(self, index: int) -> np.ndarray:
        """Image ``index`` in the folder's colour mode: from the cache while its file is unchanged, else decoded:
        uint8 on the short path (8-bit PNGs already in that mode), else float32 as the in-memory reader makes it."""
        if self._pixels is not None and self._fresh(np.array([index]))[0]:
            return self._pixels.rows(self._crow[index : index + 1])[0]
        file = self.folder / _name(self.names[index])
        if (
            self.simple[index]
            and self.image_size is None
            and (self.channels[index], self.mode) in ((1, "L"), (3, "RGB"))
        ):
            image = read_pixels_8bit(file)
            if image.shape != self.sample_shape:
                raise DataError(
                    f"{file}: is {image.shape[0]}x{image.shape[1]} now, but the folder's images are "
                    f"{self.sample_shape[0]}x{self.sample_shape[1]} (it changed after training started)"
                )
            return image
        image = read_pixels(file, self.image_size, bool(self.simple[index]))
        if image.shape[:2] != self.sample_shape[:2]:
            raise DataError(
                f"{file}: is {image.shape[0]}x{image.shape[1]} now, but the folder's images are "
                f"{self.sample_shape[0]}x{self.sample_shape[1]} (it changed after training started)"
            )
        return _to_mode(file, image, self.mode)


def load_image_folder(folder, image_size=None, color_mode=None, skip_bad_files=False, test_size=0.1, seed=0) -> Dataset:
    """A folder of images loaded whole, split as :func:`~._dataset.split` splits: decoded once into the cache (or
    read from it), then converted into one float32 array allocated once, test samples first, so that the
    train and test parts are views of it (at most the float32 size, plus a few MiB, is held)."""
    folder = Path(folder)
    source = ImageFolderSource(folder, image_size, color_mode, skip_bad_files)
    train, test = split_rows(folder.name, len(source), test_size, seed)
    x = np.empty(source.shape, np.float32)
    source.read_into(x, np.concatenate([test, train]))
    y = source.labels
    return Dataset(
        folder.name,
        x[len(test) :],
        None if y is None else y[train],
        x[: len(test)],
        None if y is None else y[test],
        source.image_shape,
        None,
        source.skipped,
    )


def _as_float(image: np.ndarray) -> np.ndarray:
    return np.divide(image, _WHITE, dtype=np.float32) if image.dtype == np.uint8 else image


def _header_error(file: Path) -> DataError:
    """The error reading ``file``'s header gives (read again, so that it names the file as given now)."""
    try:
        image_header(file)
    except DataError as exc:
        return exc
    return _unreadable(file, ValueError())


def _pixel_error(file: Path, row, entry, simple, channels, mode, image_size, sample_shape) -> DataError:
    """The error decoding ``file`` gives (decoded again, so that it names the file as given now)."""
    try:
        decode_file(file, int(channels), bool(simple), mode, image_size, sample_shape)
    except DataError as exc:
        return exc
    return DataError(entry.messages.get(row) or f"{file}: not a readable image")


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
    reason = reason[len(str(file)) + 2 :] if reason.startswith(f"{file}: ") else reason
    reason = reason.split(";")[0]
    error = DataError(f"{file}: {reason}, though it was readable when training started")
    error.data_file = name
    return error
