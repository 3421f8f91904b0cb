"""Run folders: everything one training run produced, in one place, never half-written.

A run folder holds

* ``settings.json``: every setting of the run (family, model parameters, data, seed), the
  package and backend versions, and the run's status (running, interrupted, diverged, complete);
* ``model.keras``: the model, rewritten atomically after every epoch (it is also the checkpoint
  that ``aekit train --resume`` continues from);
* ``history.csv``: one row per completed epoch (loss, val_loss, ...);
* ``metrics.json``: the final model's scores on the test split;
* ``plots/*.png``: the lesson's figures for the model's family;
* ``report.html``: a self-contained page with the plots, metrics and settings.

Every file is written through a temporary file and renamed into place, so a kill at any moment
leaves the previous version or the new one. Nothing in a folder is replaced unless asked.
This module imports Keras only inside the functions that train or load a model.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from aekit._files import regular_file_mode

SETTINGS = "settings.json"
MODEL = "model.keras"
HISTORY = "history.csv"
METRICS = "metrics.json"
REPORT = "report.html"
PLOTS = "plots"
#: the files and folders aekit writes in a run folder (``--force`` removes only these)
RUN_FILES = (SETTINGS, MODEL, HISTORY, METRICS, REPORT, PLOTS)


class RunError(ValueError):
    """A run folder cannot be used as asked; the message says why and what to do."""


# ---------------------------------------------------------------- atomic files


def write_atomic(path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, regular_file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_json(path, obj) -> Path:
    return write_atomic(path, json.dumps(obj, indent=2, default=_jsonable) + "\n")


def write_history(path, history: dict) -> Path:
    """``history`` as CSV: a header ``epoch,loss,val_loss,...`` and one row per epoch."""
    keys = sorted(history, key=lambda k: (k.startswith("val_"), k))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for i in range(len(history.get("loss", []))):
        writer.writerow([i + 1, *(repr(float(history[k][i])) for k in keys)])
    return write_atomic(path, out.getvalue())


def read_history(path) -> dict[str, list[float]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    return {k: [float(row[k]) for row in rows] for k in keys}


def write_array(path, array: np.ndarray, force: bool = False) -> Path:
    """Save ``array`` as ``.npy`` or ``.csv`` (one row per sample, flattened), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise RunError(f"{path}: output files must end in .npy or .csv")
    refuse_overwrite(path, force)
    array = np.asarray(array)
    if suffix == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return write_atomic(path, buffer.getvalue())
    out = io.StringIO()
    np.savetxt(out, array.reshape(len(array), -1), delimiter=",", fmt="%.7g")
    return write_atomic(path, out.getvalue())


def refuse_overwrite(path, force: bool) -> None:
    if Path(path).exists() and not force:
        raise RunError(f"{path} already exists; choose another output name or add --force to replace it")


# ---------------------------------------------------------------- the folder


def prepare(folder, force: bool = False) -> Path:
    """Make ``folder`` ready for a new run: create it, or clear aekit's files from it with ``force``.

    An existing non-empty folder is refused without ``force``; with it, only the files aekit
    writes (:data:`RUN_FILES`) are removed, never anything else a user keeps there.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunError(f"{folder} is a file, not a folder; choose another --out")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            hint = f", or continue it with: aekit train --resume {folder}" if (folder / SETTINGS).exists() else ""
            raise RunError(f"{folder} already exists and is not empty; choose another --out or add --force to replace its run{hint}")
        for name in RUN_FILES:
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_folder(family: str, root="runs") -> Path:
    """``runs/<family>-<UTC time>``, with a counter if two runs start in the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = Path(root) / f"{family}-{stamp}"
    n = 2
    while folder.exists():
        folder = Path(root) / f"{family}-{stamp}-{n}"
        n += 1
    return folder


def read_settings(folder) -> dict:
    folder = Path(folder)
    path = folder / SETTINGS
    if not folder.is_dir():
        raise RunError(f"{folder}: no such run folder; pass a folder written by 'aekit train'")
    if not path.is_file():
        raise RunError(f"{folder}: not a run folder (no {SETTINGS}); pass a folder written by 'aekit train'")
    try:
        settings = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: unreadable settings ({exc.__class__.__name__}); the run cannot be resumed or reported") from exc
    if not isinstance(settings, dict) or "family" not in settings or "params" not in settings:
        raise RunError(f"{path}: not aekit run settings (no family or params)")
    return settings


def update_status(folder, settings: dict, status: str, **extra) -> dict:
    settings = {**settings, "status": status, **extra, "updated": _now()}
    write_json(Path(folder) / SETTINGS, settings)
    return settings


def model_path(run_or_model) -> Path:
    """The model file of a run folder, or the ``.keras`` file itself."""
    path = Path(run_or_model)
    if path.is_dir():
        if not (path / MODEL).is_file():
            raise RunError(f"{path}: no {MODEL} in this folder; pass a run folder written by 'aekit train' or a .keras file")
        return path / MODEL
    if not path.exists():
        raise RunError(f"{path}: no such run folder or model file")
    if path.suffix != ".keras":
        raise RunError(f"{path}: not a model; pass a run folder or a .keras file written by aekit")
    return path


def environment() -> dict:
    """Versions of Python, aekit, Keras, the backend and NumPy, for the run's settings."""
    import keras

    backend = keras.backend.backend()
    versions = {"python": platform.python_version(), "platform": platform.platform(), "backend": backend}
    for package in ("aekit", "keras", "numpy", "scikit-learn", {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}.get(backend)):
        if package is None:
            continue
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            module = sys.modules.get(package)
            versions[package] = getattr(module, "__version__", "unknown")
    if backend == "tensorflow" and "tensorflow" in sys.modules:
        versions["tensorflow"] = sys.modules["tensorflow"].__version__
    return versions


# ---------------------------------------------------------------- data and checks


def load_data(settings: dict):
    """The run's data set as its settings describe it (source, split, seed, sample limit)."""
    from aekit.datasets import load_dataset

    data = settings["data"]
    dataset = load_dataset(data["source"], test_size=data.get("test_size", 0.1), seed=data.get("split_seed", 0))
    if data.get("train_samples"):
        dataset = dataset.subset(n_train=data["train_samples"])
    return dataset


def fit_shape(x: np.ndarray, input_shape, source) -> np.ndarray:
    """``x`` reshaped to a model's sample shape when only the layout differs, else a clear error."""
    input_shape = tuple(input_shape)
    if tuple(x.shape[1:]) == input_shape:
        return x
    if math.prod(x.shape[1:]) == math.prod(input_shape):
        return x.reshape((len(x), *input_shape))
    raise RunError(
        f"{source}: samples have shape {tuple(x.shape[1:])}, but the model expects {input_shape}; "
        "pass data like the data the model was trained on"
    )


def check_range(x: np.ndarray, loss: str | None, source) -> None:
    """Cross-entropy needs targets in [0, 1]: refuse data outside it before training on it."""
    if loss and "crossentropy" in str(loss):
        low, high = float(np.min(x)), float(np.max(x))
        if low < 0.0 or high > 1.0:
            raise RunError(
                f"{source}: values range {low:.3g}..{high:.3g}, but the {loss} loss needs values in [0, 1]; "
                "rescale the data to [0, 1] or use --loss mse"
            )


# ---------------------------------------------------------------- training


def estimator_class(family: str):
    from aekit.models import families

    classes = families()
    if family not in classes:
        raise RunError(f"unknown model family {family!r}; choose one of: {', '.join(sorted(classes))}")
    return classes[family]


def training_arrays(settings: dict, dataset):
    """``(x_train, x_test)`` shaped for the run's family, checked against its architecture and loss."""
    source = settings["data"]["source"]
    params = settings["params"]
    if "filters" in params:  # convolutional families want images and shrink them once per block
        from aekit.models.conv import check_pooling_depth

        dataset = dataset.images()
        try:
            check_pooling_depth(dataset.image_shape, len(params["filters"]))
        except ValueError as exc:
            raise RunError(f"{source}: {exc}") from None
    loss = params.get("loss") or params.get("reconstruction")
    check_range(dataset.x_train, loss, source)
    return dataset.x_train, dataset.x_test


def train(folder, settings: dict, *, resume: bool = False, callbacks=(), log=None) -> dict:
    """Train the run ``settings`` describe into ``folder``; return the final metrics.

    Resuming loads ``model.keras`` (the last completed epoch) and trains on to the planned
    epochs; a run killed before its first epoch ended starts over. A NaN loss raises
    :class:`RunError` saying which checkpoint was kept; Ctrl-C marks the run interrupted.
    """
    from aekit import training

    folder = Path(folder)
    log = log or (lambda message: None)
    for leftover in folder.glob(".*.tmp"):  # temporary files of a write that a kill cut short
        leftover.unlink()
    for leftover in folder.glob(".*.keras"):
        leftover.unlink()
    dataset = load_data(settings)
    x_train, x_test = training_arrays(settings, dataset)
    checkpoint = folder / MODEL
    cls = estimator_class(settings["family"])
    resumed = resume and checkpoint.exists()
    if resumed:
        estimator = training.load_checkpoint(checkpoint)
        done = len(estimator.history_.get("loss", []))
        log(f"resuming {folder} after epoch {done} of {settings['params']['epochs']}")
    else:
        estimator = cls(**settings["params"])
        settings = {**settings, "versions": environment(), "created": _now()}
        if settings["params"].get("pretrain_epochs"):
            layers = len(settings["params"]["hidden_layers"]) + 1
            log(f"pretraining {layers} layers one at a time, {settings['params']['pretrain_epochs']} epochs each, "
                "before the end-to-end epochs")
    estimator.epochs = settings["params"]["epochs"]
    settings = update_status(folder, settings, "running")

    history_so_far = dict(getattr(estimator, "history_", {})) if resumed else {}

    def write_epoch(epoch, logs):
        for key, value in (logs or {}).items():
            history_so_far.setdefault(key, []).append(float(value))
        write_history(folder / HISTORY, history_so_far)

    import keras

    start = time.perf_counter()
    guard = training.interrupt_guard()
    try:
        with guard, training.no_tensorflow_import():
            estimator.fit(
                x_train,
                validation_data=x_test,
                checkpoint=checkpoint,
                resume=resumed,
                callbacks=[*callbacks, keras.callbacks.LambdaCallback(on_epoch_end=write_epoch), guard],
            )
    except training.TrainingDiverged as exc:
        kept = _sync_history(folder)
        update_status(folder, settings, "diverged")
        where = f"the model of epoch {kept} is kept in {checkpoint}" if kept else "no epoch finished, so no model was kept"
        raise RunError(f"{exc}; {where}. Train again with a lower --learning-rate") from None
    except KeyboardInterrupt:
        _sync_history(folder)
        update_status(folder, settings, "interrupted")
        raise
    seconds = round(time.perf_counter() - start, 2)

    metrics = {**evaluate(estimator, x_test), "epochs": len(estimator.history_["loss"]), "train_seconds": seconds}
    for key in ("loss", "val_loss"):
        if key in estimator.history_:
            metrics[f"final_{key}"] = estimator.history_[key][-1]
    write_history(folder / HISTORY, estimator.history_)
    write_json(folder / METRICS, metrics)
    make_plots(estimator, dataset, folder)
    settings = update_status(folder, settings, "complete")
    from aekit import report

    report.write_report(folder)
    return metrics


def _sync_history(folder) -> int:
    """Rewrite ``history.csv`` from the checkpoint (the source of truth); return its epoch count."""
    import zipfile

    checkpoint = Path(folder) / MODEL
    if not checkpoint.exists():
        return 0
    with zipfile.ZipFile(checkpoint) as archive:
        history = json.loads(archive.read("aekit.json")).get("history", {})
    write_history(Path(folder) / HISTORY, history)
    return len(history.get("loss", []))


# ---------------------------------------------------------------- evaluation and plots


def evaluate(estimator, x) -> dict:
    """Test-set scores: mean squared and cross-entropy errors, PSNR (and SSIM for images)."""
    from aekit import evaluation

    x_hat = estimator.reconstruct(x)
    metrics = {
        "samples": int(len(x)),
        "mse": float(np.mean(evaluation.reconstruction_error(x, x_hat, "mse"))),
        "bce": float(np.mean(evaluation.reconstruction_error(np.clip(x, 0, 1), x_hat, "bce"))),
    }
    if hasattr(evaluation, "psnr"):
        metrics["psnr"] = float(np.mean(evaluation.psnr(x, x_hat)))
    if hasattr(evaluation, "ssim") and x.ndim == 4:
        metrics["ssim"] = float(np.mean(evaluation.ssim(x, x_hat)))
    return metrics


def make_plots(estimator, dataset, folder) -> list[Path]:
    """The lesson's figures for the estimator's family, written to ``folder/plots``.

    Every run gets its loss curves and (for images) originals over reconstructions; denoisers
    show noisy, denoised and clean rows, sparse models their code distribution, variational ones
    samples from the prior and the decoded latent manifold, and 2-D-or-wider codes a latent scatter.
    """
    from aekit import plots

    out = Path(folder) / PLOTS
    paths = []
    history = getattr(estimator, "history_", {})
    if history.get("loss"):
        paths.append(plots.plot_histories({estimator.family: history}, out / "loss.png"))
    x = fit_shape(dataset.x_test, estimator.input_shape_, dataset.name)
    image_shape = dataset.image_shape
    if image_shape is not None:
        first = x[:10]
        paths.append(plots.plot_reconstructions(first, estimator.reconstruct(first), out / "reconstructions.png", image_shape=image_shape))
        if hasattr(estimator, "denoise"):
            from aekit.models.denoising import corrupt

            noisy = corrupt(first, estimator.noise, estimator.noise_level, seed=0)
            paths.append(plots.plot_denoising(first, noisy, estimator.denoise(noisy), out / "denoising.png", image_shape=image_shape))
        if hasattr(estimator, "sample"):
            paths.append(plots.plot_samples(estimator.sample(36), out / "samples.png", image_shape=image_shape, title="samples from the prior"))
        if hasattr(estimator, "latent_grid") and getattr(estimator, "latent_dim", 0) >= 2:
            grid = estimator.latent_grid(n=15, extent=3.0)
            paths.append(plots.plot_latent_manifold(grid, out / "latent_manifold.png", extent=3.0, image_shape=image_shape))
    codes = estimator.encode(x).reshape(len(x), -1)
    if codes.shape[1] >= 2:
        paths.append(plots.plot_latent_scatter(codes, dataset.y_test, out / "latent_space.png"))
    if "sparsity" in estimator.get_params() or getattr(estimator, "l1", 0):
        paths.append(plots.plot_code_distributions({estimator.family: codes}, out / "code_distribution.png"))
    return paths


# ---------------------------------------------------------------- helpers



def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {value!r} in a run's settings")
