"""Where model families come from: aekit's own, and plug-ins from other packages.

A package adds a family by naming its estimator class under the ``aekit.families`` entry point
group (in its ``pyproject.toml``: ``[project.entry-points."aekit.families"] mine = "pkg.mod:MyAutoencoder"``);
the command line then trains it (``aekit train mine``) and :func:`aekit.load` loads its files,
with no change to aekit. Classes are imported only when a family is asked for by name, so
listing names stays cheap. aekit's own families cannot be replaced by a plug-in of the same name.
"""

from __future__ import annotations

import importlib
from importlib import metadata

from aekit.errors import FamilyError

ENTRY_POINT_GROUP = "aekit.families"

#: aekit's own families: name -> "module:Class", in the order the command line lists them
BUILTIN = {
    "dense": "aekit.models.dense:DenseAutoencoder",
    "sparse": "aekit.models.sparse:SparseAutoencoder",
    "denoising": "aekit.models.denoising:DenoisingAutoencoder",
    "conv": "aekit.models.conv:ConvAutoencoder",
    "conv_denoising": "aekit.models.denoising:ConvDenoisingAutoencoder",
    "vae": "aekit.models.variational:VariationalAutoencoder",
    "conv_vae": "aekit.models.conv_variational:ConvVariationalAutoencoder",
    "stacked": "aekit.models.stacked:StackedAutoencoder",
}


def plugins() -> dict[str, metadata.EntryPoint]:
    """Plug-in families found in the installed packages (not imported yet)."""
    found = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in BUILTIN:
            found.setdefault(entry.name, entry)
    return found


def names() -> list[str]:
    """Every family name, aekit's own first."""
    return [*BUILTIN, *sorted(plugins())]


def get(name: str) -> type:
    """The estimator class of family ``name`` (imported on first use)."""
    if name in BUILTIN:
        module, _, attribute = BUILTIN[name].partition(":")
        return getattr(importlib.import_module(module), attribute)
    entry = plugins().get(name)
    if entry is None:
        raise FamilyError(f"unknown model family {name!r}; choose one of: {', '.join(names())}")
    where = f"the {ENTRY_POINT_GROUP} entry point {name!r} ({entry.value})"
    try:
        cls = entry.load()
    except Exception as exc:  # a broken plug-in must not look like an aekit bug
        raise FamilyError(
            f"{where} failed to load ({exc.__class__.__name__}: {exc}); fix or uninstall that package"
        ) from exc
    if getattr(cls, "family", None) != name or not hasattr(cls, "params"):
        raise FamilyError(f"{where} is not an aekit family class with family = {name!r}; fix that package")
    return cls


def families() -> dict[str, type]:
    """Family name -> estimator class, for every family (imports them all)."""
    return {name: get(name) for name in names()}
