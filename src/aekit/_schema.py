"""Reading back the JSON documents aekit writes (settings.json, a model file's aekit.json), strictly.

A file edited by hand, cut short or written by a newer aekit must end in one line naming the file
and the field, never in a ``KeyError`` deep inside. Each reader declares the fields it needs with
:func:`field`; :func:`check_format` compares the document's ``format_version`` with the one this
aekit writes.
"""

from __future__ import annotations

import json
import numbers

from aekit._version import version

_KIND_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


def parse_json(text: str | bytes, where: str, error: type[Exception]) -> dict:
    """The JSON object in ``text``, or ``error`` saying the file is damaged."""
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise error(
            f"{where}: not valid JSON{detail}; the file is damaged — restore it or start the run again"
        ) from None
    if not isinstance(document, dict):
        raise error(f"{where}: expected a JSON object, found {type(document).__name__}; the file is damaged")
    return document


def check_format(document: dict, where: str, error: type[Exception], current: int) -> int:
    """The document's ``format_version`` (0 for files from before it was recorded); newer ones are refused."""
    found = document.get("format_version", 0)
    if isinstance(found, bool) or not isinstance(found, int) or found < 0:
        raise error(f"{where}: field 'format_version' must be a whole number, got {found!r}")
    if found > current:
        writer = document.get("aekit_version", "a newer aekit")
        raise error(
            f"{where}: written by aekit {writer} (format {found}); "
            f"this is aekit {version()} (format {current}): upgrade aekit to read it"
        )
    return found


def field(document: dict, key: str, kind, where: str, error: type[Exception], *, optional: bool = False, default=None):
    """``document[key]`` if it has ``kind`` (a type or a tuple of types), else ``error`` naming the field."""
    if key not in document or (optional and document[key] is None):
        if optional:
            return default
        raise error(f"{where}: field '{key}' is missing; the file is damaged or was not written by aekit")
    value = document[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not any(_is(value, k) for k in kinds):
        wanted = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
        raise error(f"{where}: field '{key}' must be {wanted}, got {value!r:.80}")
    return value


def numbers_list(value, key: str, where: str, error: type[Exception]) -> list[float]:
    """A list of numbers (one per epoch, say), or ``error`` naming the field."""
    if not isinstance(value, list) or not all(_is(v, float) for v in value):
        raise error(f"{where}: field '{key}' must be a list of numbers")
    return [float(v) for v in value]


def _is(value, kind) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    return isinstance(value, kind)
