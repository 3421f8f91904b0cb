"""Training runs: from settings to a complete run folder, resumable after a kill.

A run is described by its settings (family, parameters, data); :func:`prepare` checks all of it
and loads the data once — before any folder exists, so a mistake leaves nothing behind.
:func:`train` then trains into a :class:`~aekit.run_folder.RunFolder` under its lock, writing the
model and the history after every epoch and, at the end, the metrics, the family's figures and
the report. :func:`resume` continues an interrupted run to the result of an unbroken one. The
command line's ``train``, ``demo`` and the other commands are thin adapters over these.
"""

from __future__ import annotations

import contextlib
import platform
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from aekit import persistence, registry
from aekit.datasets import Dataset, concatenate, fit_shape, load_dataset
from aekit.errors import AekitError, DataError, ParameterError, RunError, TrainingDiverged
from aekit.run_folder import HISTORY, METRICS, MODEL, PLOTS, REPORT, SETTINGS, RunFolder, model_path, now


@dataclass
class Prepared:
    """A run ready to train: its settings, a fresh estimator and the data, all checked."""

    settings: dict
    estimator: object
    dataset: Dataset
    x_train: np.ndarray
    x_test: np.ndarray
    #: the Keras distribution training runs under (``settings["devices"]``), or None for one device
    distribution: object = None


def new_settings(family: str, params: dict, data: dict, command: str = "train", devices=None) -> dict:
    """The settings of a new run: the family's defaults overridden by ``params``, validated.

    ``devices`` (a number or ``"all"``) trains data-parallel over that many devices (jax).
    """
    cls = registry.get(family)
    estimator = cls(**params)
    checked = estimator.validate_params()
    plan = estimator.training_plan(checked)  # a recipe's values are written down, so the settings say what ran
    checked.update(epochs=plan.epochs, batch_size=plan.batch_size, learning_rate=plan.learning_rate)
    settings = {"command": command, "family": family, "params": checked, "data": data}
    if devices is not None:
        settings["devices"] = devices
    return settings


def data_settings(
    source="digits",
    test_size: float = 0.1,
    split_seed: int = 0,
    train_samples: int | None = None,
    *,
    image_size=None,
    color_mode=None,
    impute=None,
    skip_bad_files: bool = False,
    stream=None,
) -> dict:
    """How a run reads its data. A file or folder is recorded by its absolute path and a fingerprint of its
    content, so the run means the same data from any working folder and notices when that data changed.
    ``stream`` (None: by size) says whether its samples are read batch by batch; it changes no number."""
    from aekit.datasets import builtin_name, is_glob, source_exists

    settings = {
        "source": str(source),
        "path": None,
        "fingerprint": None,
        "test_size": test_size,
        "split_seed": split_seed,
        "train_samples": train_samples,
        "image_size": list(image_size) if image_size else None,
        "color_mode": color_mode,
        "impute": impute,
        "skip_bad_files": skip_bad_files,
    }
    if stream is not None:
        settings["stream"] = bool(stream)
    if builtin_name(source) is None:
        expanded = Path(source).expanduser()
        path = expanded.parent.resolve() / expanded.name if is_glob(expanded) else expanded.resolve()
        settings["path"] = str(path)
        if source_exists(path):
            settings["fingerprint"] = _fingerprint(path)
    return settings


def prepare(settings: dict, where=None) -> Prepared:
    """Check the run's settings against its family and load its data once; nothing is written.

    ``where`` names the settings file they were read from, for messages about a hand-edited one.
    """
    try:
        cls = registry.get(settings["family"])
    except AekitError as exc:
        raise RunError(f"{where}: {exc}" if where else str(exc)) from None
    unknown = sorted(set(settings["params"]) - set(cls.params))
    if unknown:
        raise RunError(
            f"{where or 'settings'}: parameter {unknown[0]!r} is unknown to the {cls.family} family; "
            "was the file written by a newer aekit or edited by hand?"
        )
    estimator = cls(**settings["params"])
    try:
        plan = estimator.training_plan()
    except ParameterError as exc:
        if where is None:
            raise
        raise RunError(
            f"{where}: field 'params.{next(iter(exc.params.values()))}': {exc.render(lambda n: n)}"
        ) from None
    distribution = _distribution(settings, plan)
    dataset = load_data(settings)
    data = settings["data"]
    x_train, x_test = training_arrays(estimator, dataset, data.get("path") or data["source"])
    return Prepared(settings, estimator, dataset, x_train, x_test, distribution)


def _distribution(settings: dict, plan):
    """The data-parallel distribution the settings ask for (checked against the plan's batch size), or None."""
    from aekit import training

    devices = settings.get("devices")
    if devices is None:
        return None
    distribution = training.data_parallel(devices)
    if distribution is not None:
        with training.distributed(distribution):
            plan.shards()
    return distribution


def load_data(settings: dict) -> Dataset:
    """The run's data set as its settings describe it, after checking it is the data the run started with."""
    from aekit.datasets import source_exists

    data = settings["data"]
    source = data.get("path") or data["source"]
    replaced = tuple(data.get("replaced_files") or ())
    if data.get("path") and data.get("fingerprint"):  # the data the run started with
        path = Path(data["path"])
        if not source_exists(path):
            raise DataError(
                f"{path}: the run's data (given as {data['source']!r}) is no longer there; put it back to use this run"
            )
        if _fingerprint(path) != data["fingerprint"] and not (
            replaced and _fingerprint(path, replaced) == data.get("fingerprint_without_replaced")
        ):
            raise DataError(
                f"{path}: the run's data changed since the run started (its content differs); restore it, "
                "or train a new run on the new data"
            )
    size = data.get("image_size")
    dataset = load_dataset(
        source,
        test_size=data.get("test_size", 0.1),
        seed=data.get("split_seed", 0),
        image_size=tuple(size) if size else None,
        color_mode=data.get("color_mode"),
        impute=data.get("impute"),
        skip_bad_files=bool(data.get("skip_bad_files")),
        stream=data.get("stream"),
        replaced=replaced,
    )
    if data.get("train_samples"):
        dataset = dataset.subset(n_train=data["train_samples"])
    return dataset


def _fingerprint(path: Path, exclude=()) -> dict:
    from aekit.datasets import fingerprint

    try:
        return fingerprint(path, exclude)
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({(exc.strerror or str(exc)).lower()})") from None


def training_arrays(estimator, dataset: Dataset, source=None):
    """``(x_train, x_test)`` shaped for ``estimator``'s family and checked against it (``DataError``
    naming the data)."""
    try:
        if estimator.input_kind == "images":
            dataset = dataset.images()
        estimator.check_data(dataset.x_train)
    except DataError as exc:
        raise DataError(f"{source or dataset.name}: {exc}") from None
    if not len(dataset.x_test):
        raise DataError(
            f"{source or dataset.name}: no samples are held out for testing; raise --test-size or add samples"
        )
    return dataset.x_train, dataset.x_test


def train(prepared: Prepared, folder, *, force: bool = False, callbacks=(), log=None) -> dict:
    """Train a new run into ``folder`` (created, or emptied of aekit's files with ``force``); return its metrics.

    The folder's lock is taken before anything in it is touched, so ``--force`` can never remove
    the files of a run another process is training. A run that fails or is stopped before its
    first epoch ends removes what it wrote (and the folder, if it made it), so the same command
    can simply be run again.
    """
    log = log or (lambda message: None)
    run = RunFolder(folder)
    new = run.make()
    try:
        with run.lock():
            run.clear_for_new_run(force, will_write=_files_of(prepared.estimator))
            settings = {**prepared.settings, "versions": environment(), "created": now()}
            if prepared.dataset.columns:  # a table's header: the names its outputs and reports use
                settings["data"] = {**settings["data"], "columns": list(prepared.dataset.columns)}
            params = settings["params"]
            if params.get("pretrain_epochs") and "hidden_layers" in params:
                log(
                    f"pretraining {len(params['hidden_layers']) + 1} layers one at a time, "
                    f"{params['pretrain_epochs']} epochs each, before the end-to-end epochs"
                )
            return _train(run, settings, prepared, prepared.estimator, resume=False, callbacks=callbacks, log=log)
    except BaseException:
        if not _epochs_kept(run):  # nothing worth keeping: leave no half-made run behind
            with contextlib.suppress(AekitError, OSError):
                run.remove_own_files()
            if new:
                with contextlib.suppress(OSError):
                    run.path.rmdir()
        raise


def resume(folder, *, callbacks=(), log=None, devices=None) -> dict | None:
    """Continue the run in ``folder`` from its last completed epoch; return its metrics (None if complete).

    ``devices`` (a number or ``"all"``) replaces the devices the run trained on so far (say, on
    another machine); by default it continues on the devices its settings name.
    """
    log = log or (lambda message: None)
    run = RunFolder(folder)
    settings = run.read_settings()
    if devices is not None:
        settings = {**settings, "devices": devices}
    if settings.get("status") == "complete":
        if not (run / HISTORY).exists():
            from aekit.report import write_report

            write_report(run.path)  # rebuilds a deleted history.csv from the checkpoint
        return None
    with run.lock():
        prepared = prepare(settings, where=run / SETTINGS)
        # the run's state files are its own; a report or figure the user changed is not replaced
        run.check_free([REPORT, *(f"{PLOTS}/{name}.png" for name in prepared.estimator.figure_names())])
        estimator, done = prepared.estimator, 0
        if (run / MODEL).exists():
            estimator = persistence.load(run / MODEL)
            estimator.epochs = prepared.estimator.epochs  # the plan is the settings' (a hand edit may extend it)
            done = len(estimator.history_.get("loss", []))
            log(f"resuming {run.path} after epoch {done} of {settings['params']['epochs']}")
        return _train(run, settings, prepared, estimator, resume=done > 0, callbacks=callbacks, log=log)


def _files_of(estimator) -> list[str]:
    """Every file a run of ``estimator`` writes into its folder."""
    return [SETTINGS, MODEL, HISTORY, METRICS, REPORT, *(f"{PLOTS}/{name}.png" for name in estimator.figure_names())]


def _train(run: RunFolder, settings: dict, prepared: Prepared, estimator, *, resume: bool, callbacks, log) -> dict:
    from aekit import report, training
    from aekit.figures import draw

    settings = run.set_status(settings, "running")
    start = time.perf_counter()
    guard = training.interrupt_guard()
    try:
        with guard, training.no_tensorflow_import():
            estimator.fit(
                prepared.x_train,
                # val_loss on the test split, unless the run carves its validation from the training data
                validation_data=None if estimator.validation_split else prepared.x_test,
                resume=resume,
                columns=_table_columns(prepared.dataset, estimator),
                callbacks=[*callbacks, guard],
                on_epoch_end=lambda epochs_done, history: run.write_checkpoint(estimator),
                distribution=prepared.distribution,
            )
    except DataError as exc:  # a file that failed while it was read (streamed data): the kept epochs stay
        raise _data_failed(run, settings, exc) from None
    except TrainingDiverged as exc:
        run.set_status(settings, "diverged")
        kept = _epochs_kept(run)
        where = (
            f"the model of epoch {kept} is kept in {run / MODEL}" if kept else "no epoch finished, so no model was kept"
        )
        raise RunError(f"{exc}; {where}. Train again with a lower --learning-rate") from None
    except KeyboardInterrupt:
        run.set_status(settings, "interrupted")
        raise
    except Exception as exc:
        run.set_status(settings, "failed", reason=f"{exc.__class__.__name__}: {exc}"[:300])
        raise
    seconds = round(time.perf_counter() - start, 2)

    metrics = {
        **evaluate(estimator, prepared.x_test),
        "epochs": len(estimator.history_.get("loss", [])),
        "train_seconds": seconds,
    }
    for key in ("loss", "val_loss"):
        if key in estimator.history_:
            metrics[f"final_{key}"] = estimator.history_[key][-1]
    if getattr(estimator, "early_stopping_", {}).get("best_epoch"):
        metrics["best_epoch"] = estimator.early_stopping_["best_epoch"]  # the weights kept
    replaced = _replacements(prepared.x_train)
    if replaced:
        metrics["replaced_files"] = len(replaced)
        log(
            f"{len(replaced)} files could not be read while training and were replaced by the next image: "
            + ", ".join(replaced[:5])
            + (", ..." if len(replaced) > 5 else "")
        )
    run.write_metrics(metrics)
    draw(estimator, prepared.dataset, run)
    run.set_status(settings, "complete")
    report.write_report(run.path)
    return metrics


def _data_failed(run: RunFolder, settings: dict, exc: DataError) -> DataError:
    """The one line for data that failed mid-training: what failed, which epoch is kept, how to go on.

    A file of an image folder is recorded in the settings (``replaced_files``), with the folder's
    fingerprint without it, so that ``--resume`` accepts the folder once that file is fixed or
    removed (a removed file's place is then taken by the next image, keeping every other in place).
    """
    kept = _epochs_kept(run)
    data = settings["data"]
    name = getattr(exc, "data_file", None)
    if name is None and not kept:  # refused before training (the data does not suit the model): as it is
        run.set_status(settings, "failed", reason=f"DataError: {exc}"[:300])
        return exc
    path = Path(data["path"]) if data.get("path") else None
    if name and path is not None and path.is_dir():
        replaced = sorted({*(data.get("replaced_files") or ()), name})
        data = {**data, "replaced_files": replaced, "fingerprint_without_replaced": _fingerprint(path, replaced)}
        settings = {**settings, "data": data}
    run.set_status(settings, "failed", reason=f"DataError: {exc}"[:300])
    if not kept:
        return DataError(
            f"{exc}; no epoch finished, so nothing was kept: fix or remove the file and train again "
            "(or pass --skip-bad-files)"
        )
    how = (
        ("replace or remove the file, then continue with: aekit train --resume " + str(run.path))
        if name
        else "fix the data, then train a new run"
    )
    return DataError(f"{exc}; the model of epoch {kept} is kept in {run / MODEL}: {how}")


def _replacements(x) -> list[str]:
    """Files of a streamed image folder replaced while training (unreadable by then), by name."""
    while x is not None and not hasattr(x, "replacements"):
        x = getattr(x, "base", None)
    return list(getattr(x, "replacements", []) if x is not None else [])


def _epochs_kept(run: RunFolder) -> int:
    """Completed epochs the run folder keeps (its checkpoint's), 0 when there is none."""
    if not (run / MODEL).is_file():
        return 0
    try:
        return len(run.read_history().get("loss", [])) or 1
    except AekitError:
        return 1


def evaluate(estimator, x, x_hat=None) -> dict:
    """Scores of ``estimator``'s reconstructions of ``x``: MSE, cross-entropy, PSNR (and SSIM for images).

    ``x_hat``: the reconstructions of an in-memory ``x`` when the caller has them already (not made again).

    For data a model scales (a table in its own units) the image numbers mean nothing: the scores
    are the MSE in the data's units and ``mse_scaled``, in the model's (standardised) units, where
    predicting each column's training mean scores about 1. A streamed ``x`` is scored chunk by chunk
    (the same numbers, without holding it all).
    """
    from aekit.evaluation import summary, summary_of_chunks
    from aekit.training import is_streamed

    if is_streamed(x):
        x = estimator._check_input(x)
        scores = summary_of_chunks((chunk, estimator.reconstruct(chunk)) for chunk in x.chunks())
    else:
        scores = summary(x, estimator.reconstruct(x) if x_hat is None else x_hat)
    fitted = getattr(estimator, "scaling_", None) or {"kind": "none", "bounded": True}
    if fitted["kind"] != "none" or not fitted["bounded"]:
        scores = {key: scores[key] for key in ("samples", "mse")}
        if fitted["kind"] != "none":
            scores["mse_scaled"] = float(np.mean(estimator.reconstruction_error(x, "mse", scaled=True)))
    return scores


def _table_columns(dataset: Dataset, estimator):
    """The data set's column names when the estimator takes its rows as they are (a table), else None."""
    if not dataset.columns or estimator.input_kind == "images" or dataset.x_train.ndim != 2:
        return None
    return dataset.columns


# ---------------------------------------------------------------- using a trained run


def open_model(run_or_model):
    """The estimator of a run folder (its last checkpoint) or of a ``.keras`` file."""
    return persistence.load(model_path(run_or_model))


def samples_for(estimator, run_or_model, source=None, split: str = "test") -> np.ndarray:
    """Samples shaped for ``estimator``: from ``source`` (a data set name or file), else the run's own data.

    A user's file is used whole and in its own order, so row ``i`` of any output belongs to its
    row ``i``; a built-in data set (or the run's) gives its ``split`` (``test``, ``train`` or ``all``).
    """
    from aekit.datasets import builtin_name

    if source is not None:
        source = str(Path(source).expanduser()) if builtin_name(source) is None else source
    if source is None:
        folder = Path(run_or_model).expanduser()
        if not folder.is_dir():
            raise RunError(f"{run_or_model} is a model file, so --data is needed (a run folder remembers its data)")
        dataset, name = load_data(RunFolder(folder).read_settings()), f"{folder}'s data"
    elif builtin_name(source) is not None:
        dataset, name = load_dataset(source), str(source)
    else:
        shape = tuple(estimator.input_shape_)
        size = shape[:2] if len(shape) == 3 and Path(source).is_dir() else None  # a folder's images at the model's size
        dataset, name = load_dataset(source, test_size=0.0, image_size=size), str(source)
        _check_columns(estimator, dataset.columns, name)
        if not len(dataset.x_test):  # a user's file: whole, in its own order
            return fit_shape(dataset.x_train, estimator.input_shape_, name)
    parts = {"test": [dataset.x_test], "train": [dataset.x_train], "all": [dataset.x_train, dataset.x_test]}[split]
    return fit_shape(concatenate(parts), estimator.input_shape_, name)


def _check_columns(estimator, columns, source) -> None:
    """A table's header must name the columns the model was trained on, in the same order."""
    known = getattr(estimator, "columns_", None)
    if not known or not columns or tuple(columns) == tuple(known):
        return
    if len(columns) == len(known) and set(columns) == set(known):
        raise DataError(
            f"{source}: its columns are in another order than the model's ({', '.join(known)}); "
            "put them in the model's order"
        )
    missing = [c for c in known if c not in columns]
    extra = [c for c in columns if c not in known]
    what = "; ".join(
        part
        for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"not the model's: {', '.join(extra)}" if extra else "",
        )
        if part
    )
    raise DataError(
        f"{source}: its columns differ from those the model was trained on ({what}); "
        "pass a table with the model's columns"
    )


def environment() -> dict:
    """Versions of Python, aekit, Keras, the backend and NumPy, for the run's settings."""
    import keras

    backend = keras.backend.backend()
    versions = {"python": platform.python_version(), "platform": platform.platform(), "backend": backend}
    for package in (
        "aekit",
        "keras",
        "numpy",
        "scikit-learn",
        {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}.get(backend),
    ):
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
