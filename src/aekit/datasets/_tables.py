"""CSV tables as they come from spreadsheets, databases and loggers: read right, or refused with one line.

The variants handled: a UTF-8 byte-order mark (Excel's "CSV UTF-8"), UTF-16 with its mark, Windows
line ends, a header row (its names are kept), comma, semicolon or tab delimiters, decimal commas
with semicolon delimiters, quoted numbers, blank lines, and a trailing delimiter on every line.
What cannot be read right is refused naming the line and column: text in a numeric column, a
missing value (unless ``impute="mean"``), rows of different lengths, numbers beyond float32.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from pathlib import Path

import numpy as np

from aekit.errors import DataError

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def read_csv(path: Path, impute: str | None = None) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """The numbers of a CSV file as float32 ``(rows, columns)`` and its column names (None without a header)."""
    text = _decode(path)
    dialect = _dialect(text)
    rows = [(number, row) for number, row in _rows(path, text, dialect)]
    if not rows:
        raise DataError(f"{path}: holds no data rows")
    header = None
    if _is_header(rows):
        header = tuple(cell.strip() for cell in rows[0][1])
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: holds a header but no data rows")
    if all(row and not row[-1].strip() for _, row in rows):
        rows = [(n, row[:-1]) for n, row in rows]  # a trailing delimiter on every data line
        if header and len(header) == len(rows[0][1]) + 1 and not header[-1]:
            header = header[:-1]
    width = len(header) if header else len(rows[0][1])
    if header and not header[-1] and all(len(row) == width - 1 for _, row in rows):
        header, width = header[:-1], width - 1  # a trailing delimiter on the header only
    if header and not header[0] and _is_index(rows):
        header, width = header[1:], width - 1  # pandas' index column (to_csv's default): not a feature
        rows = [(n, row[1:]) for n, row in rows]
    names = header or tuple(f"column {i + 1}" for i in range(width))
    decimal_comma = dialect.delimiter != "," and any(_DECIMAL_COMMA.match(c.strip()) for _, r in rows for c in r)
    values = np.empty((len(rows), width), dtype=np.float64)
    missing = []
    for i, (line, row) in enumerate(rows):
        if len(row) != width:
            raise DataError(
                f"{path}: line {line} has {len(row)} fields, "
                f"but {'the header has' if header else 'line ' + str(rows[0][0]) + ' has'} {width}; "
                "every row needs the same number"
            )
        for j, cell in enumerate(row):
            cell = cell.strip()
            if _missing(cell):
                missing.append((line, j))
                values[i, j] = math.nan
                continue
            try:
                values[i, j] = float(cell.replace(",", ".") if decimal_comma else cell)
            except ValueError:
                raise DataError(_not_a_number(path, line, names[j], cell, rows, j)) from None
    _check_range(path, values, rows, names)
    if missing:
        if impute != "mean":
            line, j = missing[0]
            raise DataError(
                f"{path}: line {line}, column {names[j]!r} is empty (a missing value; {len(missing)} in all); "
                "fill them in or drop those rows, or pass --impute mean to use each column's mean"
            )
        values = _impute_means(path, values, names)
    return values.astype(np.float32), header


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({(exc.strerror or str(exc)).lower()})") from None
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    head = raw[:4096]
    if head[1::2].count(0) > 0.4 * len(head[1::2]) and head[::2].count(0) < 0.1 * len(head[::2]):
        return raw.decode("utf-16-le", errors="replace")  # UTF-16 without its byte-order mark
    if head[::2].count(0) > 0.4 * len(head[::2]) and head[1::2].count(0) < 0.1 * len(head[1::2]):
        return raw.decode("utf-16-be", errors="replace")
    if b"\x00" in head:
        raise DataError(f"{path}: a binary file, not a text CSV; export it as CSV (comma-separated text)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # numbers are ASCII; only header names may differ


def _dialect(text: str):
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    sample = "\n".join(lines)
    if lines and not any(d in sample for d in ",;\t") and all(len(line.split()) > 1 for line in lines):
        return _Whitespace  # numpy.savetxt's default: numbers separated by spaces
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


class _Whitespace(csv.Dialect):
    delimiter = " "
    quotechar = '"'
    skipinitialspace = True
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL


def _rows(path: Path, text, dialect):
    """``(line number, cells)`` of each non-blank row of ``text`` (a string, or a text file opened with newline="")."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(stream, delimiter=dialect.delimiter, quotechar='"', skipinitialspace=True)
    try:
        for row in reader:
            if dialect is _Whitespace:
                row = [cell for cell in row if cell]  # runs of spaces are one separator
            if row and any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num} is not valid CSV ({exc})") from None


def _is_header(rows) -> bool:
    """Whether the first row names the columns: text in it, or numbers that are names: pandas' default
    column names (0, 1, 2, ...) or consecutive years, above rows that are not such a run."""
    first = rows[0][1]
    if not all(_is_number(cell) or _missing(cell) for cell in first):
        return True
    if len(first) < 2 or not _consecutive(first) or any(_consecutive(row) for _, row in rows[1:4]):
        return False
    start = float(first[0])
    return start == 0 or 1900 <= start <= 2100


def _consecutive(row) -> bool:
    try:
        values = [float(cell) for cell in row]
    except ValueError:
        return False
    return all(v.is_integer() for v in values) and all(b - a == 1 for a, b in zip(values, values[1:]))


def _is_index(rows) -> bool:
    """Whether the first column counts the rows (0, 1, 2, ...): an index written beside the data."""
    try:
        first = [float(row[0]) for _, row in rows]
    except (ValueError, IndexError):
        return False
    return len(first) > 1 and all(b - a == 1 for a, b in zip(first, first[1:]))


def _is_number(cell: str) -> bool:
    try:
        float(cell.strip().replace(",", ".") if _DECIMAL_COMMA.match(cell.strip()) else cell)
    except ValueError:
        return False
    return True


def _missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def _not_a_number(path, line, name, cell, rows, j) -> str:
    numeric = sum(_is_number(row[j]) for _, row in rows if j < len(row))
    if numeric == 0:
        return (
            f"{path}: column {name!r} holds text (e.g. {cell!r} on line {line}), not numbers; "
            "drop that column (aekit learns from numeric columns)"
        )
    return f"{path}: line {line}, column {name!r} holds {cell!r}, which is not a number; fix or drop that row"


def _check_range(path, values, rows, names) -> None:
    with np.errstate(invalid="ignore"):
        beyond = np.abs(values) > _FLOAT32_MAX
    if beyond.any():
        i, j = (int(k) for k in np.argwhere(beyond)[0])
        raise DataError(
            f"{path}: line {rows[i][0]}, column {names[j]!r} holds {values[i, j]:g}, "
            "beyond float32's range; rescale that column"
        )


def _impute_means(path, values, names) -> np.ndarray:
    counts = np.sum(~np.isnan(values), axis=0)
    empty = [names[j] for j in np.flatnonzero(counts == 0)]
    if empty:
        raise DataError(f"{path}: column {empty[0]!r} has no values at all; drop it")
    means = np.nansum(values, axis=0) / counts
    return np.where(np.isnan(values), means, values)
