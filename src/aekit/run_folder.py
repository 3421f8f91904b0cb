"""A run folder's files: their names, how each is written and how each is read back.

A run folder holds ``settings.json`` (every setting, the versions and the run's status),
``model.keras`` (the model and checkpoint), ``history.csv``, ``metrics.json``, ``plots/*.png`` and
``report.html``. Every one is written through :mod:`aekit.files` (atomically) and then recorded in
the folder's manifest, ``.aekit-files.json`` (name, size and modification time of each file aekit
wrote). ``--force`` removes only files the manifest proves aekit wrote and that are unchanged since;
anything else in the folder is the user's and stays. Readers validate what they read and say which
file and field is wrong. This module knows files, not training (that is :mod:`aekit.runs`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

from aekit._schema import check_format, field, parse_json
from aekit._version import version
from aekit.errors import RunError
from aekit.files import remove_leftovers, write_json, write_text

SETTINGS = "settings.json"
MODEL = "model.keras"
HISTORY = "history.csv"
METRICS = "metrics.json"
REPORT = "report.html"
PLOTS = "plots"
#: the figures aekit 0.1 drew, recognised in run folders it wrote before the manifest existed
LEGACY_FIGURES = (
    "loss",
    "reconstructions",
    "denoising",
    "samples",
    "latent_manifold",
    "latent_space",
    "code_distribution",
)
MANIFEST = ".aekit-files.json"
PENDING = "pending"
LOCK = ".aekit-lock"
#: version of settings.json's layout; a newer one is refused with "upgrade aekit"
SETTINGS_FORMAT = 1
STATUSES = ("running", "interrupted", "diverged", "failed", "complete")


class RunFolder:
    """The files of one run folder at ``path``."""

    def __init__(self, path):
        self.path = Path(path).expanduser()

    def __repr__(self):
        return f"RunFolder({str(self.path)!r})"

    def __truediv__(self, name) -> Path:
        return self.path / name

    # ---------------------------------------------------------------- claiming a folder for a new run

    def make(self) -> bool:
        """Create the folder if needed (its lock lives in it); return whether it is new."""
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"{self.path} is a file, not a folder; choose another --out")
        new = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(
                f"{self.path}: cannot create the run folder ({(exc.strerror or str(exc)).lower()}); "
                "choose another --out"
            ) from None
        return new

    def clear_for_new_run(self, force: bool, will_write=()) -> None:
        """Under the lock: refuse a folder holding anything (without ``force``), or remove aekit's files.

        With ``force`` only files the manifest proves aekit wrote (unchanged since) are removed;
        then every name the new run ``will_write`` is checked to hold no file of the user's, so a
        conflict is found before any training, not after it.
        """
        others = [p for p in self.path.iterdir() if p.name != LOCK]
        if others and not force:
            hint = f", or continue it with: aekit train --resume {self.path}" if (self / SETTINGS).exists() else ""
            raise RunError(
                f"{self.path} already exists and is not empty; "
                f"choose another --out or add --force to replace its run{hint}"
            )
        if others:
            self.remove_own_files()
        self.check_free(will_write)

    def check_free(self, names) -> None:
        """Refuse if a file aekit did not write sits where aekit is about to write one of ``names``."""
        manifest = self._manifest()
        for name in names:
            if not self._owned(name, manifest):
                path = self / name
                what = "is a folder" if path.is_dir() else "is not a file aekit wrote"
                raise RunError(f"{path} {what}; move it out of {self.path} and run again")

    def remove_own_files(self) -> list[str]:
        """Remove the files aekit wrote here (per the manifest, unchanged since); return their names."""
        remove_leftovers(self.path)
        remove_leftovers(self / PLOTS)
        manifest = self._manifest()
        changed = [name for name in manifest if not self._owned(name, manifest)]
        if changed:
            raise RunError(
                f"{self / changed[0]} was changed after aekit wrote it; "
                f"move it out of {self.path} (or delete it) before --force replaces the run"
            )
        removed = []
        for name in manifest:
            if (self / name).is_file():
                (self / name).unlink()
                removed.append(name)
        if (self / PLOTS).is_dir() and not any((self / PLOTS).iterdir()):
            (self / PLOTS).rmdir()
        if (self / MANIFEST).is_file():
            (self / MANIFEST).unlink()
        return removed

    def lock(self) -> RunLock:
        """The folder's lock (a context manager): one aekit process at a time works in it."""
        return RunLock(self)

    # ---------------------------------------------------------------- writing aekit's files

    @contextlib.contextmanager
    def writing(self, *names: str):
        """Yield the paths of aekit's files ``names`` to (re)write, each recorded in the manifest.

        Names are recorded as pending before the block and with their size and SHA-256 after it,
        so a kill in between still leaves them provably aekit's, and a copied run folder (new
        times, same content) still proves them.
        """
        manifest = self._manifest()
        write_json(self / MANIFEST, {**manifest, **{name: PENDING for name in names}}, force=True)
        yield [self / name for name in names]
        manifest = self._manifest()
        for name in names:
            if (self / name).is_file():
                manifest[name] = _mark(self / name)
            else:  # not written after all
                manifest.pop(name, None)
        write_json(self / MANIFEST, manifest, force=True)

    def own(self, name: str) -> bool:
        """Whether ``name`` is free or a file aekit wrote here, unchanged since (so aekit may replace it)."""
        return self._owned(name, self._manifest())

    def _owned(self, name: str, manifest: dict) -> bool:
        path = self / name
        if not os.path.lexists(path):
            return True
        return path.is_file() and not path.is_symlink() and manifest.get(name) in (PENDING, _mark(path))

    def write_settings(self, settings: dict) -> dict:
        settings = {"format_version": SETTINGS_FORMAT, "aekit_version": version(), **settings, "updated": now()}
        with self.writing(SETTINGS) as (path,):
            write_json(path, settings, force=True)
        return settings

    def set_status(self, settings: dict, status: str, **extra) -> dict:
        return self.write_settings({**settings, "status": status, **extra})

    def write_metrics(self, metrics: dict) -> Path:
        with self.writing(METRICS) as (path,):
            return write_json(path, metrics, force=True)

    def write_history(self, history: dict) -> Path:
        with self.writing(HISTORY) as (path,):
            return write_text(path, history_csv(history), force=True)

    def write_checkpoint(self, estimator) -> None:
        """The model of the epoch just completed, then its history: the history never runs ahead of the model."""
        with self.writing(MODEL, HISTORY) as (model, history):
            estimator.save(model)
            write_text(history, history_csv(estimator.history_), force=True)

    # ---------------------------------------------------------------- reading back

    def read_settings(self) -> dict:
        """settings.json, validated: a damaged, foreign or newer file gets one line naming the field."""
        path = self / SETTINGS
        if not self.path.is_dir():
            raise RunError(f"{self.path}: no such run folder; pass a folder written by 'aekit train'")
        _refuse_folder(path)
        if not path.is_file():
            raise RunError(f"{self.path}: not a run folder (no {SETTINGS}); pass a folder written by 'aekit train'")
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise RunError(f"{path}: cannot read it ({(exc.strerror or str(exc)).lower()})") from None
        settings = parse_json(text, str(path), RunError)
        check_format(settings, str(path), RunError, SETTINGS_FORMAT)
        field(settings, "family", str, str(path), RunError)
        field(settings, "params", dict, str(path), RunError)
        data = field(settings, "data", dict, str(path), RunError)
        _check_data_settings(data, f"{path} (data)")
        devices = settings.get("devices")
        if (
            devices is not None
            and devices != "all"
            and not (isinstance(devices, int) and not isinstance(devices, bool) and devices >= 1)
        ):
            raise RunError(f"{path}: field 'devices' must be a positive whole number, \"all\" or null, got {devices!r}")
        status = field(settings, "status", str, str(path), RunError, optional=True, default="running")
        if status not in STATUSES:
            raise RunError(f"{path}: field 'status' must be one of {', '.join(STATUSES)}, got {status!r}")
        return settings

    def read_history(self) -> dict[str, list[float]]:
        """history.csv as ``{metric: [per-epoch values]}`` ({} when absent); a damaged row is named."""
        path = self / HISTORY
        if not path.exists():
            return {}
        _refuse_folder(path)
        try:
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RunError(
                f"{path}: unreadable ({exc.__class__.__name__}); "
                "delete it: 'aekit report RUN' rebuilds it from model.keras"
            ) from None
        if not rows:
            return {}
        header, body = rows[0], rows[1:]
        history = {key: [] for key in header[1:]}
        for line, row in enumerate(body, start=2):
            if len(row) != len(header):
                raise RunError(
                    f"{path}: line {line} has {len(row)} fields, the header {len(header)}; "
                    "delete the file: 'aekit report RUN' rebuilds it from model.keras"
                )
            try:
                for key, value in zip(header[1:], row[1:]):
                    history[key].append(float(value))
            except ValueError:
                raise RunError(
                    f"{path}: line {line} holds a value that is not a number; "
                    "delete the file: 'aekit report RUN' rebuilds it from model.keras"
                ) from None
        return history

    def read_metrics(self) -> dict:
        """metrics.json ({} when the run has not finished)."""
        path = self / METRICS
        if not path.exists():
            return {}
        _refuse_folder(path)
        metrics = parse_json(path.read_bytes(), str(path), RunError)
        for key, value in metrics.items():
            if isinstance(value, float) and not math.isfinite(value):
                metrics[key] = None  # JSON has no NaN: the value was not a number
        return metrics

    def plots(self) -> list[Path]:
        return sorted((self / PLOTS).glob("*.png")) if (self / PLOTS).is_dir() else []

    def _manifest(self) -> dict:
        path = self / MANIFEST
        if not path.exists():
            return self._adopt_legacy()
        _refuse_folder(path)
        manifest = parse_json(path.read_bytes(), str(path), RunError)
        # only aekit's own names count: an edited entry cannot point outside the folder or at a user's file
        return {
            name: mark
            for name, mark in manifest.items()
            if _is_run_file_name(name) and (isinstance(mark, list) or mark == PENDING)
        }

    def _adopt_legacy(self) -> dict:
        """A run folder written before aekit kept a manifest: its files proven aekit's by their content."""
        if not (self / SETTINGS).is_file():
            return {}
        names = [SETTINGS, MODEL, HISTORY, METRICS, REPORT] + [f"{PLOTS}/{name}.png" for name in LEGACY_FIGURES]
        return {name: _mark(self / name) for name in names if (self / name).is_file() and _is_aekit_file(self / name)}


def _is_aekit_file(path: Path) -> bool:
    """Whether ``path`` holds what aekit writes under that name (for run folders from before the manifest)."""
    import zipfile

    try:
        if path.name == MODEL:
            with zipfile.ZipFile(path) as archive:
                return "aekit.json" in archive.namelist()
        head = path.read_bytes()[:4096]
        if path.suffix == ".png":
            return head.startswith(b"\x89PNG\r\n\x1a\n")
        if path.name == HISTORY:
            return head.startswith(b"epoch,")
        if path.name == REPORT:
            return b"<title>aekit run:" in head
        document = json.loads(path.read_bytes())
        keys = {"family", "params", "data"} if path.name == SETTINGS else {"mse", "samples"}
        return isinstance(document, dict) and keys <= set(document)
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


class RunLock:
    """A lock file (``.aekit-lock``: host, pid, the process's start time) that keeps a second aekit process out.

    A lock whose process is gone from this host (or whose pid now belongs to a process started
    later) is stale and taken over; a lock from another host is refused with its holder named,
    since a remote process cannot be checked.
    """

    def __init__(self, folder: RunFolder):
        self.folder = folder
        self.path = folder / LOCK

    def __enter__(self):
        _refuse_folder(self.path)
        holder = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": _process_start(os.getpid()),
            "since": now(),
        }
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                _refuse_folder(self.path)
                if not self._stale():
                    raise RunError(
                        f"{self.folder.path} is in use by {self._describe()}; wait for it to finish "
                        f"(or, if it is gone, delete {self.path})"
                    ) from None
                self.path.unlink(missing_ok=True)
                continue
            except OSError as exc:
                raise RunError(f"{self.path}: cannot create the lock ({(exc.strerror or str(exc)).lower()})") from None
            with os.fdopen(fd, "w") as f:
                json.dump(holder, f)
            # holding the lock, any temporary file here is a leftover of a killed process
            remove_leftovers(self.folder.path)
            if (self.folder / PLOTS).is_dir():
                remove_leftovers(self.folder / PLOTS)
            return self
        raise RunError(f"{self.folder.path}: could not take the lock {self.path}; try again")

    def __exit__(self, *exc):
        if self.path.is_file():
            self.path.unlink()
        return False

    def _holder(self) -> dict:
        try:
            holder = json.loads(self.path.read_text())
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError):
            return {}

    def _stale(self) -> bool:
        holder = self._holder()
        if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
            # unreadable (a kill while it was written) and old, or another machine's: only age can tell
            return not holder and time.time() - self.path.stat().st_mtime > 60
        pid = holder["pid"]
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        started = holder.get("started")
        if started is not None:
            return _process_start(pid) not in (None, started)  # the pid was reused
        try:  # a lock without a start time: a live process that is not Python cannot be aekit
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return False
        return b"python" not in command and b"aekit" not in command

    def _describe(self) -> str:
        holder = self._holder()
        if not holder:
            return "another aekit process"
        return f"aekit process {holder.get('pid')} on {holder.get('host')} (since {holder.get('since')})"


def _process_start(pid: int):
    """When process ``pid`` started (clock ticks since boot, from /proc), or None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def model_path(run_or_model) -> Path:
    """The model file of a run folder, or the ``.keras`` file itself."""
    path = Path(run_or_model).expanduser()
    if path.is_dir():
        if not (path / MODEL).is_file():
            raise RunError(
                f"{path}: no {MODEL} in this folder; pass a run folder written by 'aekit train' or a .keras file"
            )
        return path / MODEL
    if not path.exists():
        raise RunError(f"{path}: no such run folder or model file")
    if path.suffix != ".keras":
        raise RunError(f"{path}: not a model; pass a run folder or a .keras file written by aekit")
    return path


def history_csv(history: dict) -> str:
    """``history`` as CSV: a header ``epoch,loss,val_loss,...`` and one row per completed epoch."""
    keys = sorted(history, key=lambda k: (k.startswith("val_"), k))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for i in range(len(history.get("loss", []))):
        writer.writerow([i + 1, *(repr(float(history[k][i])) for k in keys)])
    return out.getvalue()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _mark(path: Path) -> list:
    """What proves a file is the one aekit wrote: its size and the SHA-256 of its content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return [path.stat().st_size, digest.hexdigest()]


def _check_data_settings(data: dict, where: str) -> None:
    """The ``data`` part of settings.json, field by field (a hand edit gets one line naming the field)."""
    field(data, "source", str, where, RunError)
    field(data, "path", str, where, RunError, optional=True)
    field(data, "fingerprint", dict, where, RunError, optional=True)
    test_size = field(data, "test_size", float, where, RunError, optional=True, default=0.1)
    if not 0 <= test_size < 1:
        raise RunError(f"{where}: field 'test_size' must be a number in [0, 1), got {test_size!r}")
    field(data, "split_seed", int, where, RunError, optional=True)
    samples = field(data, "train_samples", int, where, RunError, optional=True)
    if samples is not None and samples < 1:
        raise RunError(f"{where}: field 'train_samples' must be a positive whole number or null, got {samples!r}")
    size = field(data, "image_size", list, where, RunError, optional=True)
    if size is not None and (
        len(size) != 2 or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in size)
    ):
        raise RunError(f"{where}: field 'image_size' must be [height, width] or null, got {size!r}")
    for key, choices in (("color_mode", ("L", "RGB", "RGBA")), ("impute", ("mean",))):
        value = field(data, key, str, where, RunError, optional=True)
        if value is not None and value not in choices:
            raise RunError(f"{where}: field '{key}' must be one of {', '.join(choices)} or null, got {value!r}")
    field(data, "skip_bad_files", bool, where, RunError, optional=True)
    columns = field(data, "columns", list, where, RunError, optional=True)
    if columns is not None and not all(isinstance(name, str) for name in columns):
        raise RunError(f"{where}: field 'columns' must be a list of column names (text)")
    field(data, "stream", bool, where, RunError, optional=True)
    replaced = field(data, "replaced_files", list, where, RunError, optional=True)
    if replaced is not None and not all(isinstance(name, str) and name for name in replaced):
        raise RunError(f"{where}: field 'replaced_files' must list file names")
    field(data, "fingerprint_without_replaced", dict, where, RunError, optional=True)


def _is_run_file_name(name) -> bool:
    """``settings.json`` and the other top-level files, or ``plots/NAME.png``: nothing else is ever aekit's."""
    if not isinstance(name, str):
        return False
    if name in (SETTINGS, MODEL, HISTORY, METRICS, REPORT):
        return True
    folder, _, file = name.partition("/")
    return folder == PLOTS and re.fullmatch(r"[A-Za-z0-9_-]+\.png", file) is not None


def _refuse_folder(path: Path) -> None:
    if path.is_dir():
        raise RunError(f"{path} is a folder, where aekit keeps a file of that name; move it away")
