"""aekit's version, read once from the installed package's metadata (``pyproject.toml`` is its one source)."""

from functools import lru_cache
from importlib import metadata


@lru_cache(maxsize=1)
def version() -> str:
    try:
        return metadata.version("aekit")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.10.2"`` -> ``(0, 10, 2)``, ignoring anything after the numbers, for comparisons."""
    parts = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit()) if part[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)
