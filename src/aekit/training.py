"""The one training loop every aekit entry point uses (Python API, command line, benchmarks), and fast inference.

:func:`train` wraps ``model.fit`` with aekit's conventions: epoch ``e`` visits the samples in the
order of a permutation drawn from ``(seed, e)`` (:func:`epoch_order`), whatever ran before in
the process, so the same seed gives the same weights from Python and from the shell, and a run
resumed from a checkpoint ends where an unbroken run ends. After every epoch the loss is checked
(NaN or infinite stops training with :class:`~aekit.errors.TrainingDiverged`) and only then does
``on_epoch_end`` see the epoch, e.g. to write a checkpoint and the history once.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time

import numpy as np

from aekit.errors import ParameterError, TrainingDiverged


def train(
    model,
    x,
    y=None,
    *,
    epochs: int,
    batch_size: int = 256,
    seed: int = 0,
    validation_data=None,
    initial_epoch: int = 0,
    history: dict | None = None,
    callbacks=(),
    shuffle: bool = True,
    verbose: int = 0,
    on_epoch_end=None,
    workers: int | None = None,
) -> dict[str, list[float]]:
    """Fit ``model`` to reproduce ``y`` (default: ``x``) from ``x``; return the per-epoch history.

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
    if initial_epoch >= epochs:
        return history
    import keras

    steps = -(-len(x) // batch_size)
    _run_steps_together(model)
    shards = data_shards(batch_size)
    tensorflow = keras.backend.backend() == "tensorflow"
    if tensorflow and isinstance(x, np.ndarray) and (y is None or isinstance(y, np.ndarray)):
        _align_steps(model, steps)
        batches = _tensorflow_batches(x, y, batch_size, seed, initial_epoch, epochs, shuffle)
    elif tensorflow and is_streamed(x):
        _align_steps(model, steps)
        batches = _tensorflow_stream(x, y, batch_size, seed, initial_epoch, epochs, shuffle, workers)
    else:
        batches = epoch_batches(x, y, batch_size=batch_size, seed=seed, epoch=initial_epoch, shuffle=shuffle,
                                shards=shards, workers=workers, epochs=epochs)
    validation_batch_size = batch_size
    if validation_data is not None and (shards is not None or is_streamed(validation_data[0])):
        x_val, y_val = validation_data
        validation_data = epoch_batches(x_val, None if y_val is x_val else y_val, batch_size=batch_size, seed=seed,
                                        shuffle=False, shards=shards, workers=workers)
        validation_batch_size = None  # a dataset brings its own batches
    guard = _epoch_guard(batches, history, on_epoch_end)
    try:
        # shuffle=False: the order is ours (Keras would also shuffle the batches with Python's global random)
        model.fit(batches, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps, shuffle=False,
                  validation_data=validation_data, validation_batch_size=validation_batch_size,
                  callbacks=[guard, *callbacks], verbose=verbose)
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


def epoch_batches(x, y=None, *, batch_size: int, seed: int, epoch: int = 0, shuffle: bool = True, shards=None,
                  workers: int | None = None, epochs: int | None = None):
    """A Keras ``PyDataset`` of ``(x, y)`` batches in the order of :func:`epoch_order` for each epoch.

    ``x`` (and ``y``) is anything indexable by an array of sample indices with a length: a NumPy
    array, a memory map, or a streaming source. ``set_epoch(e)`` (called by the training loop as
    epoch ``e`` begins) selects that epoch's permutation; Keras' own epoch-end calls change nothing.

    For a streamed ``x``, ``workers`` threads (default: the source's ``workers`` hint) read the
    batches that come next while the model trains: batch ``i`` of epoch ``e`` is always the same
    rows, whichever thread reads it and whenever, and reading runs on into the next epoch (up to
    ``epochs``). Keras' own worker pool is not used: it hands batches read for one pass over the
    data to the next one. ``shards`` (from :func:`data_shards`) tops the last batch up to split
    evenly over the devices and keeps this process's part of each batch.
    """
    import keras

    threads = workers if workers is not None else (getattr(x, "workers", 4) if is_streamed(x) else 1)
    steps = -(-len(x) // batch_size)

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.orders = {}
            self.ahead = _ReadAhead(self.batch, threads, _depth(threads, x, batch_size)) if threads > 1 else None
            self.set_epoch(epoch)

        def set_epoch(self, number: int):
            self.epoch = number
            self.order = self.order_of(number)

        def order_of(self, number: int) -> np.ndarray:
            if not shuffle:
                number = 0
            if number not in self.orders:
                self.orders[number] = epoch_order(len(x), seed, number) if shuffle else np.arange(len(x))
                for old in [e for e in self.orders if e < number - 1]:
                    del self.orders[old]
            return self.orders[number]

        def __len__(self):
            return steps

        def batch(self, number: int, index: int):
            order = self.order_of(number)
            rows = order[index * batch_size : (index + 1) * batch_size]
            if shuffle:
                rows = np.sort(rows)  # the batch is a set: reading in file order is cheaper, the loss is the same
            if shards is not None:
                rows = shards.local(rows, order)
            inputs = x[rows]
            return inputs, (inputs if y is None else y[rows])

        def following(self, number: int, index: int):
            """The batches after ``(number, index)``, in the order Keras will ask for them."""
            while True:
                index += 1
                if index == steps:
                    number, index = (number + 1, 0) if shuffle else (number, 0)
                    if shuffle and epochs is not None and number >= epochs:
                        return
                yield number, index

        def __getitem__(self, index):
            if self.ahead is None:
                return self.batch(self.epoch, index)
            return self.ahead.get((self.epoch, index), self.following(self.epoch, index))

        def close(self):
            if self.ahead is not None:
                self.ahead.close()

    return EpochBatches()


class _ReadAhead:
    """Batches read by a few threads ahead of the model: ``get(key, following)`` returns batch ``key``
    (read already, or now) and starts reading the next ``depth`` of ``following``."""

    def __init__(self, load, threads: int, depth: int):
        from concurrent.futures import ThreadPoolExecutor

        self.load, self.depth = load, depth
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="aekit-batches")
        self.pending = {}

    def get(self, key, following):
        import itertools

        future = self.pending.pop(key, None) or self.pool.submit(self.load, *key)
        window = list(itertools.islice(following, self.depth))
        for stale in set(self.pending) - set(window):
            self.pending.pop(stale).cancel()
        for later in window:
            if later not in self.pending:
                self.pending[later] = self.pool.submit(self.load, *later)
        return future.result()

    def close(self):
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)


def _depth(threads: int, x, batch_size: int) -> int:
    """How many batches to read ahead: two per thread, within about 256 MiB."""
    sample = 4 * int(np.prod(x.shape[1:])) if hasattr(x, "shape") else 4096
    return int(max(2, min(2 * threads, (256 << 20) // max(1, sample * batch_size))))


def is_streamed(x) -> bool:
    """Whether ``x`` is a streamed source (read batch by batch) rather than an array in memory."""
    return bool(getattr(x, "streamed", False))


class Shards:
    """How one global batch is spread under data parallelism: over ``devices`` devices, of which this
    process (``index`` of ``processes``) feeds its share."""

    def __init__(self, devices: int, processes: int = 1, index: int = 0):
        self.devices, self.processes, self.index = devices, processes, index

    def local(self, rows: np.ndarray, order: np.ndarray) -> np.ndarray:
        """This process's rows of the global batch ``rows``, topped up first (from the start of ``order``)
        so that it splits evenly over the devices, as a distributed sampler pads."""
        short = (-len(rows)) % self.devices
        if short:
            rows = np.concatenate([rows, np.resize(order, short)])
        if self.processes > 1:
            share = len(rows) // self.processes
            rows = rows[self.index * share : (self.index + 1) * share]
        return rows


def data_shards(batch_size: int) -> Shards | None:
    """The :class:`Shards` of the Keras distribution in force (jax), or None when training runs on one device.

    Refuses a batch size that does not split evenly over the devices (one line naming it).
    """
    import keras

    if keras.backend.backend() != "jax":
        return None
    distribution = keras.distribution.distribution()
    if distribution is None:
        return None
    import jax

    mesh = distribution.device_mesh
    devices = int(mesh.shape[list(mesh.axis_names).index(distribution.batch_dim_name)])
    if devices <= 1 and jax.process_count() == 1:
        return None
    if batch_size % devices:
        raise ParameterError(f"{{p}} {batch_size} does not split evenly over {devices} devices; use a multiple of {devices}",
                             p="batch_size")
    return Shards(devices, jax.process_count(), jax.process_index())


def data_parallel(devices):
    """A ``keras.distribution.DataParallel`` over ``devices``, or None for training on one device.

    ``devices`` is None (one device), a number (the first N of ``jax.devices()``), ``"all"`` (every
    device of every process: all local GPUs, or all hosts after ``jax.distributed.initialize``) or
    a Keras ``Distribution`` (used as it is). Data parallelism is Keras' and runs on the jax backend.
    """
    import keras

    from keras.src.distribution.distribution_lib import Distribution

    if devices is None or isinstance(devices, Distribution):
        if devices is not None and devices._num_processes > 1:
            devices.auto_shard_dataset = False  # each process reads its own part of every batch (epoch_batches)
        return devices
    if keras.backend.backend() != "jax":
        raise ParameterError(f"{{p}}: data-parallel training runs on the jax backend, and Keras runs on "
                             f"{keras.backend.backend()}; use --backend jax (KERAS_BACKEND=jax)", p="devices")
    import jax

    available = jax.devices()
    if devices == "all":
        chosen = available
    else:
        if isinstance(devices, bool) or not isinstance(devices, (int, np.integer)) or devices < 1:
            raise ParameterError(f"{{p}} must be a positive number of devices or 'all', got {devices!r}", p="devices")
        if devices > len(available):
            hint = (" (on a CPU, start Python with XLA_FLAGS=--xla_force_host_platform_device_count=N to split it into N devices)"
                    if available[0].platform == "cpu" else "")
            raise ParameterError(f"{{p}} {devices} asks for more devices than the {len(available)} jax sees "
                                 f"({available[0].platform}){hint}", p="devices")
        chosen = available[: int(devices)]
    if len(chosen) == 1 and jax.process_count() == 1:
        return None
    distribution = keras.distribution.DataParallel(devices=chosen, auto_shard_dataset=jax.process_count() == 1)
    return distribution


def distributed(distribution):
    """A context in which Keras builds, loads and trains models under ``distribution`` (nothing when None)."""
    return distribution.scope() if distribution is not None else contextlib.nullcontext()


@contextlib.contextmanager
def undistributed():
    """Keras without its distribution for a moment: a model is saved from this process's replica of the
    weights, with no collective operation that every process would have to join (only one writes)."""
    keras = sys.modules.get("keras")
    if keras is None or keras.backend.backend() != "jax" or keras.distribution.distribution() is None:
        yield
        return
    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


def is_main_process() -> bool:
    """Whether this is the process that writes files (the first, in a multi-host run; always, otherwise)."""
    jax = sys.modules.get("jax")
    return jax is None or jax.process_index() == 0


def track_best(model, state: dict, history: dict, patience: int) -> None:
    """Early stopping's bookkeeping after an epoch: keep the best val_loss's weights, stop after ``patience`` worse ones.

    ``state`` (``best``, ``best_epoch``, ``wait`` and ``weights``) travels in the checkpoint, so a
    resumed run stops where an unbroken one would and keeps the same best weights.
    """
    loss = history["val_loss"][-1]
    if "best" not in state or loss < state["best"]:
        state.update(best=loss, best_epoch=len(history["val_loss"]), wait=0, weights=model.get_weights())
    else:
        state["wait"] += 1
        if state["wait"] >= patience:
            model.stop_training = True


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


def _tensorflow_batches(x, y, batch_size, seed, first_epoch, epochs, shuffle):
    """The same batches as :func:`epoch_batches`, as one ``tf.data`` pipeline over all remaining epochs.

    TensorFlow runs a Python ``PyDataset`` through a generator (measured 27% slower on the
    convolutional exercise here); in-memory arrays are gathered by TensorFlow itself instead.
    """
    import tensorflow as tf

    n = len(x)
    orders = np.stack([epoch_order(n, seed, e) if shuffle else np.arange(n) for e in range(first_epoch, epochs)])
    inputs = tf.constant(x)
    targets = inputs if y is None else tf.constant(y)

    def epoch(order):
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    def gather(rows):
        rows = tf.sort(rows) if shuffle else rows
        return tf.gather(inputs, rows), tf.gather(targets, rows)

    dataset = tf.data.Dataset.from_tensor_slices(orders).flat_map(epoch).map(gather).prefetch(2)
    dataset.set_epoch = lambda number: None  # the pipeline already runs the epochs in order
    return dataset


def _tensorflow_stream(x, y, batch_size, seed, first_epoch, epochs, shuffle, workers):
    """The batches of :func:`epoch_batches` from a streamed source, as one ``tf.data`` pipeline over all
    remaining epochs: batch ``(e, s)`` is gathered by a ``numpy_function`` in TensorFlow's threads,
    several at once and in order, so reading runs ahead across epoch boundaries too."""
    import threading

    import tensorflow as tf

    n = len(x)
    steps = -(-n // batch_size)
    orders, lock = {}, threading.Lock()
    target_type = np.float32 if y is None or is_streamed(y) else np.asarray(y[:1]).dtype

    def order_of(epoch: int):
        with lock:
            if epoch not in orders:
                orders[epoch] = epoch_order(n, seed, epoch) if shuffle else np.arange(n)
                for old in [e for e in orders if e < epoch - 1]:
                    del orders[old]
            return orders[epoch]

    failures = []

    def fetch(epoch, step):
        try:
            rows = order_of(int(epoch))[int(step) * batch_size : (int(step) + 1) * batch_size]
            rows = np.sort(rows) if shuffle else rows
            inputs = x[rows]
            targets = inputs if y is None else np.asarray(y[rows], dtype=target_type)
        except Exception as exc:  # TensorFlow re-raises it as its own error: keep ours to raise instead
            failures.append(exc)
            raise
        return inputs, targets

    threads = workers if workers is not None else getattr(x, "workers", 4)

    def batch(epoch, step):
        inputs, targets = tf.numpy_function(fetch, [epoch, step], (tf.float32, tf.as_dtype(target_type)))
        inputs.set_shape((None, *x.shape[1:]))
        targets.set_shape((None, *(x.shape[1:] if y is None else y.shape[1:])))
        return inputs, targets

    def epoch_steps(epoch):
        return tf.data.Dataset.range(steps).map(lambda step: (epoch, step))

    dataset = (tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch_steps)
               .map(batch, num_parallel_calls=max(1, threads), deterministic=True).prefetch(max(2, threads)))
    dataset.set_epoch = lambda number: None  # the pipeline already runs the epochs in order
    dataset.failures = failures
    return dataset


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


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``n`` samples: a function of ``(seed, epoch)`` only."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def predict(model, x, batch_size: int = 4096):
    """Run ``model`` on ``x`` in inference mode, at the cost of the arithmetic even for a few samples.

    On jax the model runs as one cached, jit-compiled stateless call per batch (an interactive page
    or a service encoding one sample at a time pays microseconds, not Keras' ``predict`` set-up);
    other backends use the model's compiled predict step. Batches are zero-padded to a power of
    two (at least 8 rows), so calls with many different sizes reuse a few compiled programs.
    Returns NumPy arrays (a list of them for models with several outputs). A streamed source is read
    chunk by chunk, the next chunk while the model runs on the current one.
    """
    run = _inference_function(model)
    if is_streamed(x):
        parts = [_predict_batch(run, chunk) for chunk in x.chunks(batch_size)] or [_predict_batch(run, x[np.arange(0)])]
    else:
        x = np.asarray(x, dtype=np.float32)
        parts = [_predict_batch(run, x[i : i + batch_size]) for i in range(0, max(len(x), 1), batch_size)]
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], list):
        return [np.concatenate(column) for column in zip(*parts)]
    return np.concatenate(parts)


def _inference_function(model):
    """``batch -> outputs`` for ``model``: a jit-compiled stateless call on jax (cached per model).

    The cache is an attribute of the model, so it goes with the model: a global table keyed by
    models (even weakly, since the function refers to its model) kept every model ever used alive
    with its compiled code, and a process that trains hundreds ran out of memory maps."""
    import keras

    if keras.backend.backend() != "jax":
        return model.predict_on_batch
    run = getattr(model, "_aekit_inference", None)
    if run is None:
        import jax

        @jax.jit
        def call(trainable, non_trainable, batch):
            return model.stateless_call(trainable, non_trainable, batch, training=False)[0]

        def run(batch):  # the weights as they are now: a model trained further is seen at once
            return call([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], batch)

        model._aekit_inference = run
    return run


def _predict_batch(run, batch):
    n = len(batch)
    rows = max(8, 1 << max(n - 1, 0).bit_length())
    if rows != n:
        batch = np.concatenate([batch, np.zeros((rows - n, *batch.shape[1:]), batch.dtype)])
    out = run(batch)
    if isinstance(out, (list, tuple)):
        return [np.asarray(o)[:n] for o in out]
    return np.asarray(out)[:n]


# ---------------------------------------------------------------- state beyond the weights


def rng_variables(model) -> list:
    """The model's random-generator states (``SeedGenerator``s): variables that are not weights.

    Keras saves weights and optimizer variables in a ``.keras`` file but not these, and a
    sampling or noise layer needs them to draw the same numbers after a resume.
    """
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


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
            self.drawn = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.current = epoch
            now = time.perf_counter()
            # the time since the last epoch ended counts too: checkpoints, validation, set-up
            self.start = getattr(self, "last_end", now)

        def on_train_batch_end(self, batch, logs=None):
            # at most ten redraws a second: reading the loss waits for the device, so only then
            steps = (self.params or {}).get("steps") or 0
            now = time.perf_counter()
            if interactive and steps and now - self.drawn >= 0.1:
                self.drawn = now
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

    Inside ``with`` the first SIGINT (and SIGTERM, where the caller made it raise
    ``KeyboardInterrupt``, as the CLI does) only sets a flag; the callback raises ``KeyboardInterrupt``
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
                self.previous = {signal.SIGINT: signal.signal(signal.SIGINT, self._request)}
                if callable(signal.getsignal(signal.SIGTERM)):  # the caller turned SIGTERM into Ctrl-C (the CLI does)
                    self.previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._request)
            return self

        def __exit__(self, kind, value, traceback):
            for signum, handler in (self.previous or {}).items():
                signal.signal(signum, handler)
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
