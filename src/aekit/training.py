"""The one training loop every aekit entry point uses (Python API, command line, benchmarks).

It wraps ``model.fit`` with aekit's conventions: seeded, shuffled each epoch, quiet by default,
history returned as a plain ``{metric: [per-epoch values]}`` dict.

Given a ``seed``, aekit shuffles by itself: epoch ``e`` sees the samples in the order of a
permutation drawn from ``(seed, e)`` and ``fit`` runs one epoch at a time. Nothing then depends
on how many epochs ran before in this process, so training resumed from a checkpoint
(:func:`save_checkpoint` / :func:`load_checkpoint`: weights, optimizer state, random-generator
state and history in one atomically written ``.keras`` file) ends where an uninterrupted run ends.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from aekit._files import regular_file_mode

#: name of the random-generator state stored inside a checkpoint's ``.keras`` zip
RNG_STATE_NAME = "aekit_rng.json"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; training stopped and the last good checkpoint was kept."""

    def __init__(self, epoch: int, metric: str):
        self.epoch = epoch
        self.metric = metric
        super().__init__(f"the {metric} became NaN or infinite in epoch {epoch}; training stopped")


def train(
    model,
    x,
    y=None,
    *,
    epochs: int,
    batch_size: int = 256,
    validation_data=None,
    initial_epoch: int = 0,
    callbacks=(),
    shuffle: bool = True,
    verbose: int = 0,
    seed: int | None = None,
    history: dict | None = None,
    on_epoch_end=None,
) -> dict[str, list[float]]:
    """Fit ``model`` to reproduce ``y`` (default: ``x``) from ``x``; return the per-epoch history.

    ``validation_data`` is ``x_val`` or ``(x_val, y_val)``; an autoencoder's target defaults to its
    input in both. Training continues from ``initial_epoch`` up to ``epochs``.

    With ``seed`` (or ``on_epoch_end``) aekit shuffles with a permutation drawn from
    ``(seed, epoch)``, runs one epoch per ``fit`` call, appends to ``history`` (the epochs done
    before ``initial_epoch``) and calls ``on_epoch_end(epochs_done, history)`` after every epoch,
    e.g. to save a checkpoint. A NaN or infinite loss raises :class:`TrainingDiverged` before
    ``on_epoch_end`` sees that epoch. Keras callbacks then see one epoch per call.
    """
    if y is None:
        y = x
    if validation_data is not None and not isinstance(validation_data, tuple):
        validation_data = (validation_data, validation_data)
    fit_args = dict(batch_size=batch_size, validation_data=validation_data, callbacks=list(callbacks), verbose=verbose)
    if seed is None and on_epoch_end is None:
        result = model.fit(x, y, epochs=epochs, initial_epoch=initial_epoch, shuffle=shuffle, **fit_args)
        return {k: [float(v) for v in values] for k, values in result.history.items()}

    history = {k: list(v) for k, v in (history or {}).items()}
    for epoch in range(initial_epoch, epochs):
        order = epoch_order(len(x), seed or 0, epoch) if shuffle else np.arange(len(x))
        result = model.fit(x[order], y[order], epochs=epoch + 1, initial_epoch=epoch, shuffle=False, **fit_args)
        logs = {k: float(values[-1]) for k, values in result.history.items()}
        for metric in ("loss", "val_loss"):
            if metric in logs and not math.isfinite(logs[metric]):
                raise TrainingDiverged(epoch + 1, metric)
        for k, value in logs.items():
            history.setdefault(k, []).append(value)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, history)
        if model.stop_training:  # a Keras callback asked to stop
            break
    return history


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``n`` samples: a function of ``(seed, epoch)`` only."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def predict(model, x, batch_size: int = 4096):
    """Run ``model`` on ``x`` in inference mode, without ``predict``'s per-call set-up cost.

    Uses the model's compiled predict step one batch at a time, so a call on a handful of
    samples costs about as much as the arithmetic. Batches are zero-padded to a power of two
    (at least 8 rows), so calls with many different sizes reuse a few compiled programs instead
    of compiling one per size (jax and tf.function both compile per input shape). Returns NumPy
    arrays (a list of them for models with several outputs).
    """
    x = np.asarray(x, dtype=np.float32)
    parts = [_predict_batch(model, x[i : i + batch_size]) for i in range(0, max(len(x), 1), batch_size)]
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], list):
        return [np.concatenate(column) for column in zip(*parts)]
    return np.concatenate(parts)


def _predict_batch(model, batch):
    n = len(batch)
    rows = max(8, 1 << max(n - 1, 0).bit_length())
    if rows != n:
        batch = np.concatenate([batch, np.zeros((rows - n, *batch.shape[1:]), batch.dtype)])
    out = model.predict_on_batch(batch)
    if isinstance(out, (list, tuple)):
        return [np.asarray(o)[:n] for o in out]
    return np.asarray(out)[:n]


# ---------------------------------------------------------------- checkpoints


def rng_variables(model) -> list:
    """The model's random-generator states (``SeedGenerator``s): variables that are not weights.

    Keras saves weights and optimizer variables in a ``.keras`` file but not these, and a
    sampling or noise layer needs them to draw the same numbers after a resume.
    """
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def save_checkpoint(estimator, path) -> Path:
    """Write a fitted estimator and its random-generator state to ``path`` (``.keras``) atomically.

    The file holds the weights, the optimizer's state, the history so far (``estimator.history_``)
    and the random state, and replaces ``path`` only once complete: a kill at any moment leaves
    either the previous checkpoint or the new one.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.checkpoint.keras")
    try:
        with no_tensorflow_import():
            estimator.save(tmp)
        state = [np.asarray(v).tolist() for v in rng_variables(estimator.model_)]
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(RNG_STATE_NAME, json.dumps(state))
        with open(tmp, "rb") as f:  # the data must be on disk before the rename makes it current
            os.fsync(f.fileno())
        os.chmod(tmp, regular_file_mode())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


@contextlib.contextmanager
def no_tensorflow_import():
    """Keep Keras from importing TensorFlow (seconds) only to seed it or to rule out TF objects.

    Keras' ``set_random_seed`` and its serializer import TensorFlow whenever it is installed. On
    another backend, with TensorFlow not imported, there is no TensorFlow state to seed or save.
    """
    from keras.src.utils import module_utils

    probe = module_utils.tensorflow
    skip = "tensorflow" not in sys.modules and probe._available is None
    if skip:
        probe._available = False
    try:
        yield
    finally:
        if skip:
            probe._available = None



def load_checkpoint(path):
    """Load an estimator from :func:`save_checkpoint` (safe mode) with its random state restored.

    ``len(estimator.history_["loss"])`` is the number of completed epochs; continue with
    ``estimator.fit(X, resume=True)``. Plain model files load too (their random state is fresh).
    """
    from aekit.models import load

    estimator = load(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        state = json.loads(archive.read(RNG_STATE_NAME)) if RNG_STATE_NAME in names else None
    if state is not None:
        variables = rng_variables(estimator.model_)
        if len(variables) == len(state):
            for variable, value in zip(variables, state):
                variable.assign(np.asarray(value, dtype=variable.dtype))
    return estimator


# ---------------------------------------------------------------- progress


def progress_bar(epochs: int, stream=None, width: int = 24):
    """A Keras callback that shows training progress on ``stream`` (default: standard error).

    On a terminal a bar moves through each epoch; every finished epoch prints one line with its
    loss, val_loss, duration and the estimated time left, which is all a log file gets.
    """
    import keras

    stream = stream or sys.stderr
    interactive = hasattr(stream, "isatty") and stream.isatty()

    class ProgressBar(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.durations = []
            self.current = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.current = epoch
            now = time.perf_counter()
            # the time since the last epoch ended counts too: checkpoints, validation, set-up
            self.start = getattr(self, "last_end", now)

        def on_train_batch_end(self, batch, logs=None):
            steps = (self.params or {}).get("steps") or 0
            if interactive and steps:
                done = int(width * (batch + 1) / steps)
                loss = f" loss {float(logs['loss']):.4g}" if logs and "loss" in logs else ""
                bar = "=" * done + "." * (width - done)
                stream.write(f"\repoch {self.current + 1}/{epochs} [{bar}] {batch + 1}/{steps}{loss}")
                stream.flush()

        def on_epoch_end(self, epoch, logs=None):
            self.last_end = time.perf_counter()
            self.durations.append(self.last_end - self.start)
            recent = self.durations[1:][-5:] or self.durations  # the first epoch also compiles
            left = (epochs - epoch - 1) * sum(recent) / len(recent)
            values = "  ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items() if k in ("loss", "val_loss"))
            clear = "\r\033[K" if interactive else ""
            stream.write(f"{clear}epoch {epoch + 1}/{epochs}  {values}  {self.durations[-1]:.1f}s  {_duration(left)} left\n")
            stream.flush()

    return ProgressBar()


def interrupt_guard():
    """A Keras callback, used as a context manager, that turns Ctrl-C into a clean stop.

    Inside ``with`` the first SIGINT only sets a flag; the callback raises ``KeyboardInterrupt``
    at the next batch or epoch boundary. Keras itself never sees the signal mid-step (some of its
    code swallows exceptions, which would lose the Ctrl-C) and a checkpoint being written is
    finished first. A second Ctrl-C interrupts at once.
    """
    import signal
    import threading

    import keras

    class InterruptGuard(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.requested = False
            self.previous = None

        def __enter__(self):
            if threading.current_thread() is threading.main_thread():
                self.previous = signal.signal(signal.SIGINT, self._request)
            return self

        def __exit__(self, kind, value, traceback):
            if self.previous is not None:
                signal.signal(signal.SIGINT, self.previous)
                self.previous = None
            if self.requested and kind is None:  # Ctrl-C while the last checkpoint was written
                raise KeyboardInterrupt
            return False

        def _request(self, signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True

        def _stop_if_asked(self, *args, **kwargs):
            if self.requested:
                raise KeyboardInterrupt

        on_epoch_begin = on_train_batch_end = _stop_if_asked

    return InterruptGuard()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
