"""Whether to stream: a source's estimated size in memory against what this machine has."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aekit.datasets._images import (
    image_header,
    iter_image_names,
)
from aekit.datasets._npy_source import npy_header, shard_files
from aekit.datasets._sources import is_glob
from aekit.errors import DataError


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
            return sum(4 * int(np.prod(npy_header(f)[0])) for f in shard_files(path))
        if is_glob(path):
            return sum(4 * int(np.prod(npy_header(f)[0])) for f in shard_files(path))
        suffix = path.suffix.lower()
        if suffix == ".npy":
            return 4 * int(np.prod(npy_header(path)[0]))
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
