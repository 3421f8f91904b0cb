"""The one writer of every file aekit makes: final name first, no overwrite without ``force``, atomic.

:func:`replacing` is the mechanism; the ``write_*`` functions are its everyday uses. It resolves
the name the file will really have (a plot named ``out`` becomes ``out.png``), refuses an existing
file unless ``force`` is given (and never replaces a folder), hands out a temporary path in the
same folder with the same suffix (so Keras, NumPy and matplotlib recognise the format), and on
success flushes it to disk and renames it into place, so a crash or ``kill -9`` leaves the old
file or the new one, never half of one. Temporary files carry :data:`TEMP_MARK` in their name so
that leftovers of a crash are recognisable (:func:`remove_leftovers`); nothing else is removed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
from pathlib import Path

import numpy as np

from aekit.errors import OutputError, OutputExistsError

TEMP_MARK = ".aekit-tmp-"
#: the Software text chunk of every PNG aekit draws: what proves a figure is aekit's to replace
PNG_MARK = "aekit (matplotlib)"


def final_path(path, suffixes: tuple[str, ...] | None = None, default_suffix: str | None = None) -> Path:
    """The name a file will be written under: ``default_suffix`` added when it has none, then checked.

    ``suffixes`` lists the accepted ones (case-insensitive); another suffix is a one-line error.
    """
    path = Path(path).expanduser()
    if not str(path).strip() or path.name in ("", ".", ".."):
        raise OutputError(f"{str(path)!r} is not a file name; name the file to write")
    if default_suffix and not path.suffix:
        path = path.with_name(path.name + default_suffix)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(f"{path}: the file name must end in {' or '.join(suffixes)}")
    return path


@contextlib.contextmanager
def replacing(path, force: bool | None = False, ours=None):
    """Yield a temporary path to write; on success it becomes ``path`` atomically.

    An existing ``path`` (a link too, even a dangling one) is refused unless ``force``; with
    ``force=None`` it is replaced only when ``ours(path)`` proves aekit wrote it (the Python API's
    default: a model or figure of aekit's is replaced, a user's file never). A folder at ``path``
    is always refused. If the block raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path).expanduser()
    refuse_existing(path, force, ours)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(path.parent, exc) from None
    _remove_stale_temps(path)
    tmp = path.with_name(f".{path.stem}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"{path}: nothing was written")
        with open(tmp, "rb+") as f:  # on disk before the rename makes it current
            os.fsync(f.fileno())
        os.chmod(tmp, regular_file_mode())
        os.replace(tmp, path)
    except OutputError:
        raise
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def refuse_existing(path, force: bool | None, ours=None) -> None:
    """One line saying what to do when ``path`` exists (and always when it is a folder); see :func:`replacing`."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputExistsError(f"{path} is a folder; choose a file name")
    if not os.path.lexists(path) or force:
        return
    if force is None and ours is not None and path.is_file() and not path.is_symlink() and ours(path):
        return
    raise OutputExistsError(
        f"{path} already exists; choose another name or add --force (overwrite=True in Python) to replace it"
    )


def write_bytes(path, data: bytes, force: bool = False) -> Path:
    with replacing(path, force) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path, text: str, force: bool = False) -> Path:
    return write_bytes(path, text.encode("utf-8"), force)


def write_json(path, obj, force: bool = False) -> Path:
    return write_text(path, json.dumps(obj, indent=2, default=jsonable) + "\n", force)


def write_array(path, array, force: bool = False, columns: list[str] | None = None) -> Path:
    """``array`` as ``.npy`` or as ``.csv`` (one row per sample, flattened; ``columns`` as a header)."""
    path = final_path(path, (".npy", ".csv"))
    array = np.asarray(array)
    if path.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return write_bytes(path, buffer.getvalue(), force)
    rows = array.reshape(len(array), -1)
    out = io.StringIO()
    if columns is not None:
        out.write(",".join(_csv_cell(c) for c in columns) + "\n")
    np.savetxt(out, rows, delimiter=",", fmt="%.7g")
    return write_text(path, out.getvalue(), force)


def write_figure(figure, path, force: bool | None = False, dpi: int = 100) -> Path:
    """A matplotlib figure as a PNG file (``.png`` is added to a name without a suffix), marked as aekit's."""
    path = final_path(path, (".png",), default_suffix=".png")
    with replacing(path, force, ours=is_aekit_png) as tmp:
        figure.savefig(tmp, dpi=dpi, format="png", metadata={"Software": PNG_MARK})
    return path


def is_aekit_png(path) -> bool:
    """Whether ``path`` is a PNG aekit drew (its Software text chunk says so)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    return head.startswith(b"\x89PNG") and PNG_MARK.encode() in head


def remove_leftovers(folder) -> list[Path]:
    """Remove the temporary files a killed aekit left in ``folder`` (only those, by their name)."""
    removed = []
    for leftover in Path(folder).glob(f".*{TEMP_MARK}*"):
        if leftover.is_file():
            leftover.unlink()
            removed.append(leftover)
    return removed


def _remove_stale_temps(path: Path) -> None:
    """Remove temporary files for ``path`` left by aekit processes that were killed (their pid is gone)."""
    for leftover in path.parent.glob(f".{path.stem}{TEMP_MARK}*{path.suffix}"):
        pid = leftover.name[len(f".{path.stem}{TEMP_MARK}") :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def regular_file_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0666 less the umask), not a temp file's 0600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def jsonable(value):
    """``json.dumps`` default: NumPy scalars and arrays, tuples and paths as plain JSON."""
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {value!r} as JSON")


def _csv_cell(text: str) -> str:
    text = str(text)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _write_error(path: Path, exc: OSError) -> OutputError:
    reason = (exc.strerror or exc.__class__.__name__).lower()
    return OutputError(f"{path}: cannot write it ({reason}); check that its folder exists and is writable")
