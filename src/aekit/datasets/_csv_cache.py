"""Large CSV files, streamed: converted once into a memory-mapped float32 ``.npy`` cache, then read batch by batch.

Why a cache: a text file has no random access (row ``i`` starts wherever the rows before it end),
and training reads rows in a new order every epoch. Parsing once, in two sequential passes that
hold one row at a time, into a ``.npy`` file gives every later read the speed of a memory map;
the cache is keyed by the CSV's content digest (and the impute option), so an edited CSV is
converted again and an unchanged one never is. It is written through :mod:`aekit.files`
(temporary file, then an atomic rename), so a killed conversion leaves no half cache behind.

The rules are :mod:`._tables`' own (encodings, delimiters, header and index column, decimal
commas, trailing delimiters, missing values and ``impute="mean"``): the first pass learns what
needs every row (the width, a trailing delimiter on every line, an index column, decimal commas),
the second parses and writes.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

from aekit.datasets._hashing import hash_file
from aekit.datasets._npy_source import NpySource
from aekit.datasets._tables import (
    _DECIMAL_COMMA,
    _FLOAT32_MAX,
    _dialect,
    _is_header,
    _is_number,
    _missing,
    _rows,
)
from aekit.errors import DataError

#: bumped when the conversion's rules change, so older caches are not used
CACHE_FORMAT = 1
CACHE_ENV = "AEKIT_CACHE_DIR"


def cache_dir() -> Path:
    """Where converted CSV files are kept: ``$AEKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/aekit``,
    else ``~/.cache/aekit``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "aekit"


def csv_source(path: Path, impute: str | None = None) -> NpySource:
    """The samples of a CSV file, streamed from its memory-mapped cache (converted first if needed)."""
    path = Path(path)
    try:
        digest = hashlib.sha256(f"{CACHE_FORMAT}\0{impute}\0".encode())
        hash_file(digest, path, 1 << 30)
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({(exc.strerror or str(exc)).lower()})") from None
    target = cache_dir() / "csv" / f"{path.stem[:40]}-{digest.hexdigest()[:24]}.npy"
    about = target.with_suffix(".json")
    if not (target.is_file() and about.is_file()):
        _convert(path, impute, target, about)
    columns = json.loads(about.read_text()).get("columns")
    source = NpySource([target], path.stem)
    source.columns = tuple(columns) if columns else None
    source.name = path.stem
    return source


def _convert(path: Path, impute, target: Path, about: Path) -> None:
    from aekit.files import replacing, write_text

    try:
        with replacing(target, force=True) as tmp:
            header = _parse(path, impute, tmp, "utf-8")
        write_text(about, json.dumps({"source": str(path), "columns": list(header) if header else None}), force=True)
    except UnicodeDecodeError:  # not UTF-8 after all: numbers are ASCII, only header names may differ
        with replacing(target, force=True) as tmp:
            header = _parse(path, impute, tmp, "cp1252")
        write_text(about, json.dumps({"source": str(path), "columns": list(header) if header else None}), force=True)


def _encoding(path: Path, fallback: str) -> tuple[str, str]:
    """``(encoding, errors)`` as :func:`._tables._decode` chooses them, from the first 4 KiB."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "replace"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "strict"
    if head[1::2].count(0) > 0.4 * len(head[1::2]) and head[::2].count(0) < 0.1 * len(head[::2]):
        return "utf-16-le", "replace"
    if head[::2].count(0) > 0.4 * len(head[::2]) and head[1::2].count(0) < 0.1 * len(head[1::2]):
        return "utf-16-be", "replace"
    if b"\x00" in head:
        raise DataError(f"{path}: a binary file, not a text CSV; export it as CSV (comma-separated text)")
    return fallback, "strict" if fallback == "utf-8" else "replace"


def _open(path: Path, fallback: str):
    encoding, errors = _encoding(path, fallback)
    return open(path, encoding=encoding, errors=errors, newline="")


def _parse(path: Path, impute, out: Path, fallback: str):
    with _open(path, fallback) as f:
        dialect = _dialect(f.read(1 << 20))
    # ---- pass 1: what needs every row
    first, count, widths = [], 0, set()
    trailing_rest = consecutive = True
    decimal_rest = False
    previous = None
    with _open(path, fallback) as f:
        for number, row in _rows(path, f, dialect):
            if count < 4:
                first.append((number, row))
            if count >= 1:
                trailing_rest &= bool(row) and not row[-1].strip()
                widths.add(len(row))
                if consecutive:
                    try:
                        value = float(row[0])
                    except (ValueError, IndexError):
                        consecutive = False
                    else:
                        consecutive = previous is None or value - previous == 1
                        previous = value
                if dialect.delimiter != "," and not decimal_rest:
                    decimal_rest = any(_DECIMAL_COMMA.match(c.strip()) for c in row)
            count += 1
    if not count:
        raise DataError(f"{path}: holds no data rows")
    header = None
    if _is_header(first):
        header = tuple(cell.strip() for cell in first[0][1])
        if count == 1:
            raise DataError(f"{path}: holds a header but no data rows")
    row0 = first[0][1]
    start = 1 if header else 0
    trailing = trailing_rest and (header is not None or (bool(row0) and not row0[-1].strip()))
    data_widths = widths if header else widths | {len(row0)}
    first_data = first[start][1]
    cut_last = trailing  # a trailing delimiter on every data line
    if cut_last and header and len(header) == len(first_data) and not header[-1]:
        header = header[:-1]
    width = len(header) if header else len(first_data) - (1 if cut_last else 0)
    if not cut_last and header and not header[-1] and data_widths == {width - 1}:
        header, width = header[:-1], width - 1  # a trailing delimiter on the header only
    index = bool(header) and not header[0] and consecutive and count - start > 1
    if index:
        header, width = header[1:], width - 1  # pandas' index column: not a feature
    names = header or tuple(f"column {i + 1}" for i in range(width))
    decimal = dialect.delimiter != "," and (
        decimal_rest or (not header and any(_DECIMAL_COMMA.match(c.strip()) for c in row0))
    )
    # ---- pass 2: parse into the memory map
    n = count - start
    values = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=(n, width))
    sums, counts = np.zeros(width), np.zeros(width, dtype=np.int64)
    missing, first_missing = 0, None
    reference = "the header has" if header else f"line {first[start][0]} has"
    with _open(path, fallback) as f:
        for i, (line, row) in enumerate(r for k, r in enumerate(_rows(path, f, dialect)) if k >= start):
            if cut_last:
                row = row[:-1]
            if index:
                row = row[1:]
            if len(row) != width:
                raise DataError(
                    f"{path}: line {line} has {len(row)} fields, but {reference} {width}; "
                    "every row needs the same number"
                )
            parsed = np.empty(width)
            for j, cell in enumerate(row):
                cell = cell.strip()
                if _missing(cell):
                    missing += 1
                    first_missing = first_missing or (line, j)
                    parsed[j] = math.nan
                    continue
                try:
                    parsed[j] = float(cell.replace(",", ".") if decimal else cell)
                except ValueError:
                    raise DataError(
                        _not_a_number(path, fallback, dialect, start, cut_last, index, line, names[j], cell, j)
                    ) from None
                if abs(parsed[j]) > _FLOAT32_MAX:
                    raise DataError(
                        f"{path}: line {line}, column {names[j]!r} holds {parsed[j]:g}, "
                        "beyond float32's range; rescale that column"
                    )
            seen = ~np.isnan(parsed)
            sums[seen] += parsed[seen]
            counts += seen
            values[i] = parsed
    if missing:
        if impute != "mean":
            line, j = first_missing
            raise DataError(
                f"{path}: line {line}, column {names[j]!r} is empty (a missing value; {missing} in all); "
                "fill them in or drop those rows, or pass --impute mean to use each column's mean"
            )
        empty = [names[j] for j in np.flatnonzero(counts == 0)]
        if empty:
            raise DataError(f"{path}: column {empty[0]!r} has no values at all; drop it")
        means = (sums / counts).astype(np.float32)
        for lo in range(0, n, 65536):
            block = values[lo : lo + 65536]
            block[...] = np.where(np.isnan(block), means, block)
    values.flush()
    del values
    return header


def _not_a_number(path, fallback, dialect, start, cut_last, index, line, name, cell, j) -> str:
    """:func:`._tables._not_a_number`'s message: one more pass tells text columns from a stray value."""
    numeric = 0
    with _open(path, fallback) as f:
        for k, (_, row) in enumerate(_rows(path, f, dialect)):
            if k < start:
                continue
            row = row[:-1] if cut_last else row
            row = row[1:] if index else row
            numeric += j < len(row) and _is_number(row[j])
            if numeric:
                break
    if numeric == 0:
        return (
            f"{path}: column {name!r} holds text (e.g. {cell!r} on line {line}), not numbers; "
            "drop that column (aekit learns from numeric columns)"
        )
    return f"{path}: line {line}, column {name!r} holds {cell!r}, which is not a number; fix or drop that row"
