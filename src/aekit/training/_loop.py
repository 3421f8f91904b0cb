"""The one training loop every aekit entry point uses (Python API, command line, benchmarks).

:func:`train` wraps ``model.fit`` with aekit's conventions: epoch ``e`` visits the samples in the
order of a permutation drawn from ``(seed, e)`` (:func:`~aekit.training.epoch_order`), whatever ran
before in the process, so the same seed gives the same weights from Python and from the shell, and
a run resumed from a checkpoint ends where an unbroken run ends. After every epoch the loss is
checked (NaN or infinite stops training with :class:`~aekit.errors.TrainingDiverged`) and only then
does ``on_epoch_end`` see the epoch, e.g. to write a checkpoint and the history once.
"""

from __future__ import annotations

import math

import numpy as np

from aekit.errors import TrainingDiverged
from aekit.training._batches import epoch_batches, is_streamed, tensorflow_batches, tensorflow_stream
from aekit.training._plan import TrainingPlan


def train(
    model,
    x,
    y=None,
    *,
    plan: TrainingPlan,
    validation_data=None,
    initial_epoch: int = 0,
    history: dict | None = None,
    callbacks=(),
    shuffle: bool = True,
    verbose: int = 0,
    on_epoch_end=None,
    workers: int | None = None,
) -> dict[str, list[float]]:
    """Fit ``model`` to reproduce ``y`` (default: ``x``) from ``x`` as ``plan`` says; return the per-epoch history.

    ``plan`` (a :class:`TrainingPlan`) gives the epochs, the batch size and the seed of the sample
    order; the model's optimizer already follows its learning rate (:meth:`TrainingPlan.configure`).
    One ``model.fit`` over all epochs, fed by :class:`EpochBatches` (the samples in
    :func:`epoch_order`), so Keras callbacks see an ordinary fit. ``validation_data`` is ``x_val``
    or ``(x_val, y_val)``; an autoencoder's target defaults to its input in both. Training
    continues from ``initial_epoch`` up to ``epochs``, appending to ``history`` (the epochs done
    before). After each epoch whose losses are finite, ``on_epoch_end(epochs_done, history)`` is
    called; a callback that sets ``model.stop_training`` ends training after that epoch.

    ``x`` may be a streamed source (:class:`aekit.datasets.Source`): ``workers`` threads (default:
    the source's hint) then read batches ahead of the model, in the same order. Under a Keras
    data-parallel distribution (:func:`data_parallel`, jax) each global batch is split over the
    devices; a last batch that does not split evenly is topped up with the first samples of the
    epoch's order, and each process of a multi-host run reads only its part of every batch.
    """
    if validation_data is not None and not isinstance(validation_data, tuple):
        validation_data = (validation_data, validation_data)
    history = {k: list(v) for k, v in (history or {}).items()}
    epochs, batch_size, seed = plan.epochs, plan.batch_size, plan.seed
    if initial_epoch >= epochs:
        return history
    import keras

    steps = plan.steps_per_epoch(len(x))
    _run_steps_together(model)
    shards = plan.shards()
    tensorflow = keras.backend.backend() == "tensorflow"
    if tensorflow and isinstance(x, np.ndarray) and (y is None or isinstance(y, np.ndarray)):
        _align_steps(model, steps)
        batches = tensorflow_batches(x, y, batch_size, seed, initial_epoch, epochs, shuffle)
    elif tensorflow and is_streamed(x):
        _align_steps(model, steps)
        batches = tensorflow_stream(x, y, batch_size, seed, initial_epoch, epochs, shuffle, workers)
    else:
        batches = epoch_batches(
            x,
            y,
            batch_size=batch_size,
            seed=seed,
            epoch=initial_epoch,
            shuffle=shuffle,
            shards=shards,
            workers=workers,
            epochs=epochs,
        )
    validation_batch_size = batch_size
    if validation_data is not None and (shards is not None or is_streamed(validation_data[0])):
        x_val, y_val = validation_data
        validation_data = epoch_batches(
            x_val,
            None if y_val is x_val else y_val,
            batch_size=batch_size,
            seed=seed,
            shuffle=False,
            shards=shards,
            workers=workers,
        )
        validation_batch_size = None  # a dataset brings its own batches
    guard = _epoch_guard(batches, history, on_epoch_end)
    try:
        # shuffle=False: the order is ours (Keras would also shuffle the batches with Python's global random)
        model.fit(
            batches,
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps,
            shuffle=False,
            validation_data=validation_data,
            validation_batch_size=validation_batch_size,
            callbacks=[guard, *callbacks],
            verbose=verbose,
        )
    except Exception:
        failures = getattr(batches, "failures", None)
        if failures:  # a source that failed inside TensorFlow's pipeline: its own error, not TensorFlow's wrapper
            raise failures[0] from None
        raise
    finally:
        for dataset in (batches, validation_data):
            if hasattr(dataset, "close"):
                dataset.close()
    if guard.error is not None:
        raise guard.error
    return history


def _run_steps_together(model) -> None:
    """Let Keras run several training steps per dispatch (``steps_per_execution``), unless the model's
    own compile chose a number. The arithmetic is unchanged; tensorflow compiles the steps into one
    loop, jax calls its compiled step back to back. Eight steps for convolutional models and sixteen
    for others keep a dispatch well under a second here, so the progress line still moves."""
    import keras

    if model.steps_per_execution != 1 or getattr(model, "_aekit_steps", None):
        return
    convolutional = any(isinstance(layer, keras.layers.Conv2D) for layer in _all_layers(model))
    model.steps_per_execution = 8 if convolutional else 16
    model._aekit_steps = True
    model.train_function = model.test_function = None  # rebuilt with the new step count


def _align_steps(model, steps: int) -> None:
    """On tensorflow one ``tf.data`` pipeline feeds all epochs, and Keras' multi-step loop runs its full
    ``steps_per_execution`` steps whatever the epoch: a count that does not divide the epoch's steps
    would carry batches of one epoch into the next (and leave the last epoch short). aekit's own
    count is lowered to the largest that divides the steps (a count the model chose is its own)."""
    if not getattr(model, "_aekit_steps", False):
        return
    wanted = getattr(model, "_aekit_steps_wanted", None) or model.steps_per_execution
    model._aekit_steps_wanted = wanted
    fitting = max(d for d in range(1, wanted + 1) if steps % d == 0)
    if fitting != model.steps_per_execution:
        model.steps_per_execution = fitting
        model.train_function = model.test_function = None  # rebuilt with the new step count


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _epoch_guard(batches, history: dict, on_epoch_end):
    """The Keras callback that frames each epoch: its sample order as it begins; as it ends the NaN
    check first, then the history, then ``on_epoch_end``."""
    import keras

    class EpochGuard(keras.callbacks.Callback):
        error = None

        def on_epoch_begin(self, epoch, logs=None):
            batches.set_epoch(epoch)

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            for metric in ("loss", "val_loss"):
                if metric in logs and not math.isfinite(logs[metric]):
                    self.error = TrainingDiverged(epoch + 1, metric)
                    self.model.stop_training = True
                    return
            for k, value in logs.items():
                history.setdefault(k, []).append(value)
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1, history)

    return EpochGuard()
