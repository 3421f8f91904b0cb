"""Image folders decoded once: every image's pixels in one ``.npy`` file in aekit's cache, read by memory map.

Why a cache: decoding a PNG costs far more than reading its pixels, and training reads every
image once an epoch, in a new order each time. The first use of a folder (streamed or loaded
whole) decodes its images, in worker processes for a large folder, into one ``(n, H, W, C)``
array on disk: ``uint8`` when every pixel is an 8-bit value (``k / 255`` exactly, as the readers
make it), else ``float32`` (16-bit images, resized ones, colour made gray). Every later read
takes rows of that file and converts them per batch, with the numbers of decoding each file.

The cache is keyed by the folder's listing (every image's name, size and modification time)
with ``image_size`` and ``color_mode``, so an added, removed or edited file gives a new cache and
an unchanged folder never decodes again; a second file (``.npz``) keeps the listing, each file's
header (size, colour model), which files could not be read and the colour mode. Both are written
through :mod:`aekit.files` (a temporary file, then an atomic rename; the pixels first, the
listing last), so a killed build leaves nothing that is used; an entry whose pixel file is
shorter than its header says is ignored and rebuilt. A new entry for a folder removes the older
entries for the same folder and options, and those of folders that are gone.
"""

from __future__ import annotations

import array
import hashlib
import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aekit.datasets._images import (
    _to_mode,
    image_header,
    iter_image_names,
    read_pixels,
    read_pixels_8bit,
)
from aekit.errors import DataError

#: bumped when the decoding rules change, so older caches are not used
CACHE_FORMAT = 1
#: folders with at least this many images are decoded in worker processes (fewer: threads, or one)
PROCESS_MIN = 1024
#: at most this many worker processes or threads decode
MAX_WORKERS = 8
#: bytes of pixels one decoding task writes at once
CHUNK_BYTES = 8 << 20

#: what a file's row holds: its pixels, nothing (the header could not be read), nothing (decoding failed)
OK, BAD_HEADER, BAD_PIXELS = 0, 1, 2


@dataclass
class Listing:
    """A folder's image files, in the readers' order, with their sizes and modification times, and the key of
    their cache (with the options that change the pixels)."""

    folder: Path
    names: np.ndarray  # UTF-8 bytes, one per file
    sizes: np.ndarray  # int64, -1 where the file could not be looked at
    mtimes: np.ndarray  # int64 nanoseconds
    key: str


@dataclass
class Headers:
    """What the header of each listed file says: ``(H, W)``, channels as the readers return them, the short
    decoding path (an 8-bit gray or RGB PNG), and ``status`` (:data:`OK` or :data:`BAD_HEADER`)."""

    shapes: np.ndarray
    channels: np.ndarray
    simple: np.ndarray
    status: np.ndarray


@dataclass
class Entry:
    """A cache entry: the headers of the listed files, each file's status after decoding, the colour mode and
    the pixel file (``(n, *sample_shape)`` of ``dtype``, one row per listed file, zeros where none)."""

    headers: Headers
    status: np.ndarray
    mode: str
    pixels: Path
    dtype: np.dtype
    sample_shape: tuple[int, ...]
    messages: dict


def list_folder(folder: Path, image_size=None, color_mode=None) -> Listing:
    """The image files below ``folder`` (as :func:`~._images.iter_image_names` walks them) with their sizes and
    modification times, and the cache key they make with ``image_size`` and ``color_mode``."""
    folder = Path(folder)
    root = os.fspath(folder)
    digest = hashlib.sha256(
        f"aekit images {CACHE_FORMAT}\0{list(image_size) if image_size else None}\0{color_mode}\0".encode()
    )
    parts, chunk = [], []
    sizes, mtimes = array.array("q"), array.array("q")
    for name in iter_image_names(folder):
        raw = name.encode("utf-8", "surrogateescape")
        try:
            stat = os.stat(os.path.join(root, name))
            size, mtime = stat.st_size, stat.st_mtime_ns
        except OSError:
            size = mtime = -1
        sizes.append(size)
        mtimes.append(mtime)
        digest.update(b"%s\0%d\0%d\n" % (raw, size, mtime))
        chunk.append(raw)
        if len(chunk) == 10_000:  # a million names are held as bytes in arrays, never as a list of strings
            parts.append(np.array(chunk, dtype=bytes))
            chunk = []
    if chunk:
        parts.append(np.array(chunk, dtype=bytes))
    names = np.concatenate(parts) if parts else np.zeros(0, dtype="S1")
    return Listing(
        folder,
        names,
        np.frombuffer(sizes, np.int64).copy() if len(sizes) else np.zeros(0, np.int64),
        np.frombuffer(mtimes, np.int64).copy() if len(mtimes) else np.zeros(0, np.int64),
        digest.hexdigest(),
    )


def read_headers(listing: Listing) -> Headers:
    """Every listed file's header (a few hundred bytes each); a file that is no image gets :data:`BAD_HEADER`."""
    n = len(listing.names)
    headers = Headers(np.zeros((n, 2), np.int32), np.zeros(n, np.int8), np.zeros(n, bool), np.zeros(n, np.int8))
    for i, raw in enumerate(listing.names.tolist()):
        try:
            height, width, headers.channels[i], headers.simple[i] = image_header(listing.folder / _name(raw))
            headers.shapes[i] = height, width
        except DataError:
            headers.status[i] = BAD_HEADER
    return headers


# ---------------------------------------------------------------- the entries in the cache folder


def cache_folder() -> Path:
    from aekit.datasets._csv_cache import cache_dir

    return cache_dir() / "images"


def entry_paths(listing: Listing) -> tuple[Path, Path]:
    """``(pixels.npy, listing.npz)`` of the folder's cache entry."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", listing.folder.resolve().name)[:40] or "folder"
    base = cache_folder() / f"{stem}-{listing.key[:24]}"
    return base.with_suffix(".npy"), base.with_suffix(".npz")


def lookup(listing: Listing) -> Entry | None:
    """The folder's cache entry, or None when there is none (or it is incomplete, damaged or of another listing)."""
    pixels, about = entry_paths(listing)
    if not (pixels.is_file() and about.is_file()):
        return None
    try:
        with np.load(about, allow_pickle=False) as stored:
            info = json.loads(str(stored["info"]))
            if info.get("format") != CACHE_FORMAT or info.get("key") != listing.key:
                return None
            if not (
                np.array_equal(stored["names"], listing.names)
                and np.array_equal(stored["sizes"], listing.sizes)
                and np.array_equal(stored["mtimes"], listing.mtimes)
            ):
                return None
            headers = Headers(stored["shapes"], stored["channels"], stored["simple"], stored["header_status"])
            status = stored["status"]
        shape, dtype, _ = pixel_layout(pixels)
        sample_shape = tuple(info["sample_shape"])
        if shape != (len(listing.names), *sample_shape) or dtype != np.dtype(info["dtype"]):
            return None
    except (OSError, ValueError, KeyError, TypeError, EOFError, DataError):
        return None  # a damaged or foreign entry: decoded again
    return Entry(
        headers,
        status,
        info["mode"],
        pixels,
        dtype,
        sample_shape,
        {int(k): v for k, v in info.get("messages", {}).items()},
    )


def pixel_layout(file: Path):
    """``(shape, dtype, offset of the first pixel)`` of a cache's ``.npy`` file; a file shorter than its header
    says (a copy cut short) is refused."""
    with open(file, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"npy version {version}")
        offset = f.tell()
    if fortran or dtype.hasobject:
        raise ValueError("not a C-ordered numeric array")
    if os.path.getsize(file) < offset + int(np.prod(shape)) * dtype.itemsize:
        raise ValueError("truncated")
    return tuple(shape), dtype, offset


def build(listing: Listing, headers: Headers, mode: str, sample_shape, image_size) -> Entry | None:
    """Decode the listed files whose header was read, in ``mode`` and ``sample_shape``, into a new cache entry;
    None when the cache cannot be written (no room, no right: the caller then decodes file by file)."""
    from aekit.errors import OutputError
    from aekit.files import replacing

    pixels, about = entry_paths(listing)
    sample_shape = tuple(int(s) for s in sample_shape)
    gray_from_colour = mode == "L" and bool(np.any(headers.channels[headers.status == OK] >= 3))
    dtype = np.dtype(np.uint8 if image_size is None and not gray_from_colour else np.float32)
    status = headers.status.copy()
    messages: dict[int, str] = {}
    try:
        with replacing(pixels, force=True) as tmp:
            while True:
                problems = _decode_all(listing, headers, mode, sample_shape, image_size, dtype, tmp)
                if dtype == np.uint8 and any(kind == "inexact" for _, kind, _ in problems):
                    dtype = np.dtype(np.float32)  # some pixels are not 8-bit values (16-bit, float images)
                    continue
                break
            for row, _kind, message in problems:
                status[row] = BAD_PIXELS
                messages[row] = message
        info = {
            "format": CACHE_FORMAT,
            "key": listing.key,
            "folder": str(listing.folder.resolve()),
            "image_size": list(image_size) if image_size else None,
            "mode": mode,
            "dtype": dtype.str,
            "sample_shape": list(sample_shape),
            "messages": {str(k): v for k, v in messages.items()},
        }
        with replacing(about, force=True) as tmp, open(tmp, "wb") as f:
            np.savez(
                f,
                info=np.array(json.dumps(info)),
                names=listing.names,
                sizes=listing.sizes,
                mtimes=listing.mtimes,
                shapes=headers.shapes,
                channels=headers.channels,
                simple=headers.simple,
                header_status=headers.status,
                status=status,
            )
    except (OutputError, OSError):
        return None
    _prune(pixels, about, info)
    return Entry(headers, status, mode, pixels, dtype, sample_shape, messages)


def _prune(pixels: Path, about: Path, info: dict) -> None:
    """Remove older entries of the same folder and options, entries of folders that are no longer there, and
    temporary files of builds whose process was killed."""
    from aekit.files import TEMP_MARK

    for leftover in pixels.parent.glob(f".*{TEMP_MARK}*"):
        pid = leftover.name.partition(TEMP_MARK)[2].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                leftover.unlink()
            except OSError:
                pass
    for other in pixels.parent.glob("*.npz"):
        if other == about or other.name.startswith("."):
            continue
        try:
            with np.load(other, allow_pickle=False) as stored:
                theirs = json.loads(str(stored["info"]))
            folder = theirs.get("folder")
            same = (
                folder == info["folder"]
                and theirs.get("image_size") == info["image_size"]
                and theirs.get("mode") == info["mode"]
            )
            if not same and folder and Path(folder).is_dir():
                continue
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            continue  # not ours to judge
        for stale in (other, other.with_suffix(".npy")):
            try:
                stale.unlink()
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


# ---------------------------------------------------------------- decoding, in parallel


def _decode_all(listing, headers, mode, sample_shape, image_size, dtype, target: Path):
    """Decode every readable listed file into ``target`` (a new ``.npy`` of ``(n, *sample_shape)`` ``dtype``), in
    chunks of rows written each at once; return the problems ``[(row, kind, message)]``, sorted by row."""
    n = len(listing.names)
    shape = (n, *sample_shape)
    with open(target, "wb") as f:
        np.lib.format.write_array_header_2_0(
            f, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        )
        offset = f.tell()
        f.truncate(offset + int(np.prod(shape)) * dtype.itemsize)
    row_bytes = int(np.prod(sample_shape)) * dtype.itemsize
    workers = max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    per_chunk = max(1, min(CHUNK_BYTES // max(row_bytes, 1), -(-n // (workers * 4))))
    names = listing.names.tolist()
    tasks = [
        (
            os.fspath(listing.folder),
            [_name(raw) for raw in names[a : a + per_chunk]],
            a,
            headers.channels[a : a + per_chunk].tolist(),
            headers.simple[a : a + per_chunk].tolist(),
            headers.status[a : a + per_chunk].tolist(),
            mode,
            list(image_size) if image_size else None,
            list(sample_shape),
            dtype.str,
            os.fspath(target),
            offset,
        )
        for a in range(0, n, per_chunk)
    ]
    problems = None
    if n >= PROCESS_MIN and workers > 1 and len(tasks) > 1:
        problems = _in_processes(tasks, workers)
    if problems is None:
        if len(tasks) == 1 or workers == 1:
            problems = [p for task in tasks for p in decode_chunk(*task)]
        else:
            with ThreadPoolExecutor(min(workers, len(tasks)), thread_name_prefix="aekit-decode") as pool:
                problems = [p for found in pool.map(lambda task: decode_chunk(*task), tasks) for p in found]
    return sorted((int(row), kind, message) for row, kind, message in problems)


def _in_processes(tasks, workers: int):
    """Run the decoding tasks in ``workers`` fresh Python processes (``python -m aekit.datasets._decode_worker``,
    never a fork of this one, which may hold Keras' threads, and never a re-run of the caller's script, as
    multiprocessing's spawn would do); None when they cannot run here (the caller then uses threads)."""
    import subprocess
    import sys
    import tempfile

    import aekit

    groups = [tasks[k::workers] for k in range(min(workers, len(tasks)))]
    env = dict(os.environ)
    package_root = os.fspath(Path(aekit.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    files, running = [], []
    try:
        for group in groups:
            handle, name = tempfile.mkstemp(prefix="aekit-decode-", suffix=".json")
            with os.fdopen(handle, "w") as f:
                json.dump(group, f)
            files.append(name)
            running.append(
                subprocess.Popen(
                    [sys.executable, "-m", "aekit.datasets._decode_worker", name],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        problems = []
        for process in running:
            out, _ = process.communicate()
            if process.returncode != 0:
                return None
            problems.extend(tuple(p) for p in json.loads(out))
        return problems
    except (OSError, ValueError):
        return None
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()
        for name in files:
            try:
                os.unlink(name)
            except OSError:
                pass


def decode_chunk(folder, names, start, channels, simple, status, mode, image_size, sample_shape, dtype, target, offset):
    """Decode ``names`` (rows ``start``...) and write their pixels into ``target`` at their rows, at once.

    Returns the problems: ``(row, "bad", message)`` for a file that cannot be decoded, ``(row, "inexact", "")``
    for pixels a ``uint8`` row cannot hold exactly (the caller then decodes the folder again as float32).
    """
    dtype = np.dtype(dtype)
    sample_shape = tuple(sample_shape)
    block = np.zeros((len(names), *sample_shape), dtype)
    problems = []
    for i, name in enumerate(names):
        if status[i] != OK:
            continue
        row = start + i
        try:
            image = decode_file(Path(folder) / name, channels[i], simple[i], mode, image_size, sample_shape)
        except DataError as exc:
            problems.append((row, "bad", str(exc)))
            continue
        if image.dtype == dtype:
            block[i] = image
        elif dtype == np.uint8:
            values = np.rint(image * np.float32(255))
            exact = values.astype(np.uint8)
            if not np.array_equal(exact.astype(np.float32) / np.float32(255), image):
                problems.append((row, "inexact", ""))
                return problems  # the whole folder is decoded again as float32
            block[i] = exact
        else:
            block[i] = image.astype(np.float32) / np.float32(255) if image.dtype == np.uint8 else image
    with open(target, "r+b") as f:
        f.seek(offset + start * block[0].nbytes)
        f.write(memoryview(block).cast("B"))
    return problems


def decode_file(file: Path, channels: int, simple: bool, mode: str, image_size, sample_shape) -> np.ndarray:
    """One image as the folder readers see it: ``uint8`` on the short path (an 8-bit PNG already in ``mode``),
    else float32 in ``mode``."""
    if simple and image_size is None and (channels, mode) in ((1, "L"), (3, "RGB")):
        image = read_pixels_8bit(file)
        if image.shape != sample_shape:
            raise DataError(
                f"{file}: is {image.shape[0]}x{image.shape[1]}x{image.shape[2]}, but its header said "
                f"{sample_shape[0]}x{sample_shape[1]}x{sample_shape[2]}"
            )
        return image
    image = read_pixels(file, image_size, bool(simple))
    if image.shape[:2] != sample_shape[:2]:
        raise DataError(
            f"{file}: is {image.shape[0]}x{image.shape[1]}, but the folder's images are "
            f"{sample_shape[0]}x{sample_shape[1]}"
        )
    return _to_mode(file, image, mode)


def _name(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- reading


class PixelMap:
    """A cache entry's pixels, read by rows with positioned reads (``preadv``), a run of consecutive rows at once.

    Not a memory map: the system maps whole large pages of a file around every row a map touches,
    so reading rows in a random order each epoch would soon hold the whole file in the process's
    memory; read into the batch's own array, the memory stays flat (the system's page cache keeps
    the file as long as there is room). The file is opened once, when the source opens, so an
    entry removed later (replaced by a newer one) stays readable.
    """

    def __init__(self, file: Path):
        shape, self.dtype, self.offset = pixel_layout(file)
        self.file, self.shape = file, shape
        self.row_bytes = int(np.prod(shape[1:])) * self.dtype.itemsize
        self._fd = os.open(file, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._lock = threading.Lock()

    def __del__(self):
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows ``rows`` (any order), as a new array."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), *self.shape[1:]), self.dtype)
        raw = out.reshape(len(rows), -1).view(np.uint8)
        breaks = (np.flatnonzero(np.diff(rows) != 1) + 1).tolist()
        for start, end in zip([0, *breaks], [*breaks, len(rows)]):  # runs of consecutive rows: one read each
            self._read(memoryview(raw[start:end]).cast("B"), self.offset + int(rows[start]) * self.row_bytes)
        return out

    def _read(self, view: memoryview, position: int) -> None:
        done = 0
        while done < len(view):
            if hasattr(os, "preadv"):
                got = os.preadv(self._fd, [view[done:]], position + done)
            else:  # no positioned reads here (Windows): one reader at a time
                with self._lock:
                    os.lseek(self._fd, position + done, os.SEEK_SET)
                    data = os.read(self._fd, len(view) - done)
                view[done : done + len(data)] = data
                got = len(data)
            if got <= 0:
                raise OSError(f"{self.file}: ends before its rows (it was cut short)")
            done += got
