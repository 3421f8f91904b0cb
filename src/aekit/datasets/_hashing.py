"""Content digests of data files: whole up to a size, sampled in blocks beyond (big files stay cheap to check)."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: blocks hashed from a file too large to hash whole (spread over it, plus its end)
FILE_SAMPLES = 64


def hash_file(digest, path: Path, whole: int) -> None:
    """Feed ``path``'s bytes to ``digest``: all of them up to ``whole`` bytes, else 64 blocks spread
    over it and its end."""
    size = Path(path).stat().st_size
    with open(path, "rb") as f:
        if size <= whole:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        else:
            step = size // FILE_SAMPLES
            for i in range(FILE_SAMPLES):
                f.seek(i * step)
                digest.update(f.read(1 << 20))
            f.seek(size - (1 << 20))
            digest.update(f.read())


def file_digest(path: Path, whole: int) -> bytes:
    """The SHA-256 of what :func:`hash_file` reads of ``path``."""
    digest = hashlib.sha256()
    hash_file(digest, path, whole)
    return digest.digest()
