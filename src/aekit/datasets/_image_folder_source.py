"""A folder of images read batch by batch: headers checked when opened, pixels decoded as batches are asked for."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

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

from aekit.datasets._sources import Source


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
