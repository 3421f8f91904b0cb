"""What every benchmark script shares: arguments, MNIST (full or a tiny --quick slice), the machine,
and writing one result as a Markdown table plus JSON into ``benchmarks/results/``.

A result file records the machine, the software versions, the budget (``quick`` or ``reduced``
or ``full``) and the rows, so every figure in BENCHMARKS.md can be traced to the run that made it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
QUICK_RESULTS = RESULTS / "quick"

os.environ.setdefault("AEKIT_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import aekit  # noqa: E402,F401  (chooses aekit's default Keras backend unless the user set one)

#: the machine's 1-minute load average when this script started (2 cores: above ~0.5 means other jobs)
LOAD_AT_START = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def parser(doc: str) -> argparse.ArgumentParser:
    """The arguments every script takes: ``--quick`` (tiny data, seconds) and ``--out`` (results folder)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="tiny data and budgets: checks the script runs, numbers mean nothing"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default benchmarks/results, or results/quick with --quick)",
    )
    return p


def out_dir(args) -> Path:
    return args.out or (QUICK_RESULTS if args.quick else RESULTS)


def mnist(flat: bool = True, quick: bool = False, n_train: int | None = None, n_test: int | None = None):
    """MNIST as float32 in [0, 1] with labels: ``x_train, y_train, x_test, y_test``.

    ``quick`` takes 512 training and 256 test images; ``n_train``/``n_test`` take the first N.
    """
    from aekit.datasets import load_dataset

    data = load_dataset("mnist", flat=flat, download=False)
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    if quick:
        n_train, n_test = min(n_train or 512, 512), min(n_test or 256, 256)
    if n_train:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    if n_test:
        x_test, y_test = x_test[:n_test], y_test[:n_test]
    return x_train, y_train, x_test, y_test


def machine() -> dict:
    """CPU model, core count, Python and library versions of this run."""
    model = platform.processor() or "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    info = {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version()}
    from importlib import metadata

    for name in ("keras", "jax", "tensorflow-cpu", "numpy", "scikit-learn", "scikit-image"):
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    try:
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
        info["load_average_at_start"] = LOAD_AT_START
    except OSError:
        pass
    return info


def fmt(value, digits: int = 3) -> str:
    """A table cell: floats to ``digits`` significant decimals, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if 0 < abs(value) < 1:  # losses and accuracies: one more decimal
            return f"{value:.{digits + 1}f}"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(columns: list[str], rows: list[dict]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def command_line(argv: list[str] | None = None) -> str:
    """The command that reproduces this result: the script and its options, without ``--out``."""
    argv = list(sys.argv if argv is None else argv)
    kept, skip = [], False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            kept.append(arg)
    return " ".join(["python benchmarks/" + Path(argv[0]).name, *kept])


def write_result(
    args,
    name: str,
    title: str,
    tables: dict[str, tuple[list[str], list[dict]]],
    *,
    budget: str,
    notes: list[str] = (),
    extra: dict | None = None,
    started: float | None = None,
) -> Path:
    """Write ``<name>.json`` and ``<name>.md`` into the results folder; return the Markdown path.

    ``tables`` maps a table caption to ``(columns, rows)``; ``budget`` says how much training the
    figures got ("quick", "reduced: ..." or "full"); ``notes`` are printed under the tables.
    """
    folder = out_dir(args)
    folder.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    record = {
        "benchmark": name,
        "title": title,
        "date": now,
        "budget": "quick" if args.quick else budget,
        "command": command_line(),
        "machine": info,
        "wall_seconds": round(time.perf_counter() - started, 1) if started else None,
        "tables": {caption: {"columns": cols, "rows": rows} for caption, (cols, rows) in tables.items()},
        "notes": list(notes),
        **(extra or {}),
    }
    from aekit import files  # atomic: an interrupted write leaves the earlier result whole (--merge reads it)

    files.write_text(folder / f"{name}.json", json.dumps(record, indent=2, default=_jsonable), force=True)
    md = [
        f"### {title}",
        "",
        f"`{record['command']}` — {now}, budget: **{record['budget']}**, "
        f"{info['cpu']} ({info['cores']} cores), keras {info.get('keras', '?')}"
        + (f", wall {record['wall_seconds']:.0f} s" if record["wall_seconds"] else "")
        + (
            f", load average {LOAD_AT_START} at start / {info['load_average_1min']} at end"
            if "load_average_1min" in info
            else ""
        ),
        "",
    ]
    for caption, (cols, rows) in tables.items():
        if caption:
            md += [f"**{caption}**", ""]
        md += [markdown_table(cols, rows), ""]
    md += [f"- {note}" for note in notes]
    path = folder / f"{name}.md"
    files.write_text(path, "\n".join(md).rstrip() + "\n", force=True)
    print(path.read_text())
    return path


def earlier_record(args, name: str, parser: argparse.ArgumentParser, settings: tuple[str, ...]) -> dict:
    """The result ``<name>.json`` already in the results folder, for a ``--merge`` run to add its seeds to.

    Exits with a one-line message when the file cannot be read, or when it was made with other
    ``settings`` (options read back by parsing its recorded command with ``parser``): seeds made with
    different settings are never averaged into one figure.
    """
    import shlex

    path = out_dir(args) / f"{name}.json"
    try:
        record = json.loads(path.read_text())
        earlier = parser.parse_args(shlex.split(record["command"])[2:])
    except (OSError, ValueError, KeyError, TypeError, SystemExit) as exc:
        sys.exit(f"--merge: cannot read an earlier result from {path} ({exc!r}); run without --merge")
    differ = [setting for setting in settings if getattr(earlier, setting) != getattr(args, setting)]
    if differ:
        sys.exit(
            f"--merge: {path} was made with other settings ({', '.join(differ)}): "
            f"`{record['command']}`; run with the same options or without --merge"
        )
    return record


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    return str(value)


class Timer:
    """``with Timer() as t: ...``; then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def cosine_schedule(epochs: int, learning_rate: float):
    """A Keras callback: the learning rate of epoch ``e`` is ``learning_rate * (1 + cos(pi * e / epochs)) / 2``."""
    import math

    import keras

    return keras.callbacks.LearningRateScheduler(
        lambda epoch: learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    )


def time_budget(
    minutes: float,
    learning_rate: float,
    final_fraction: float = 0.01,
    clock=time.perf_counter,
    counting_from: float | None = None,
):
    """A Keras callback: train for ``minutes`` of wall time with a cosine learning-rate decay.

    The number of epochs that fit is estimated after every epoch from the median duration of the
    epochs so far (the first, which compiles, only while it is the only one); the learning rate of
    each epoch follows a cosine from ``learning_rate`` to ``final_fraction * learning_rate`` over
    that estimate, and training stops when the next epoch would end after the budget. Works with
    aekit's epoch-by-epoch training (``seed`` given) and with plain ``fit``. ``clock`` returns
    seconds (tests pass a fake one). The budget runs from the first epoch's start, or from
    ``counting_from`` (a ``clock`` reading) so that a stage before ``fit``'s epochs, such as
    layer-wise pretraining, is spent from it too.
    """
    import math
    import statistics

    import keras

    class TimeBudget(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.budget = 60.0 * minutes
            self.start = counting_from
            self.durations = []
            self.planned_epochs = None
            self.exhausted = False

        def on_epoch_begin(self, epoch, logs=None):
            now = clock()
            if self.start is None:
                self.start = now
            self.epoch_start = now
            done = len(self.durations)
            progress = 0.0 if not self.planned_epochs else min(1.0, done / self.planned_epochs)
            factor = final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * progress))
            self.model.optimizer.learning_rate.assign(learning_rate * factor)

        def on_epoch_end(self, epoch, logs=None):
            now = clock()
            self.durations.append(now - self.epoch_start)
            per_epoch = statistics.median(self.durations[1:] or self.durations)
            left = self.budget - (now - self.start)
            self.planned_epochs = len(self.durations) + max(0, int(left // per_epoch))
            if left < per_epoch:
                self.exhausted = True
                self.model.stop_training = True

    return TimeBudget()


# ---------------------------------------------------------------- the protocol (PROTOCOL.md)


def carve(x, y=None, fraction: float = 1 / 6, seed: int | None = None):
    """``(x_fit, y_fit, x_val, y_val)``: the last ``fraction`` of the training data held out for every choice.

    With ``seed`` the held-out part is a seeded random subset instead (for training data sorted by class).
    """
    import numpy as np

    n_val = int(round(len(x) * fraction))
    order = np.random.default_rng(seed).permutation(len(x)) if seed is not None else np.arange(len(x))
    fit, val = np.sort(order[: len(x) - n_val]), np.sort(order[len(x) - n_val :])
    pick = lambda a, rows: None if a is None else a[rows]
    return x[fit], pick(y, fit), x[val], pick(y, val)


def mean_sd(values) -> tuple[float, float]:
    """Mean and (sample) standard deviation; 0 for a single value."""
    import statistics

    values = [float(v) for v in values]
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def verdict(mean: float, sd: float, target: float, higher_is_better: bool = True) -> str:
    """ "met" only when the margin exceeds the spread; "within the spread" or "missed" otherwise."""
    if higher_is_better:
        if mean - sd >= target:
            return "met"
        return "within the spread: not met" if mean >= target else "missed"
    if mean + sd <= target:
        return "met"
    return "within the spread: not met" if mean <= target else "missed"
