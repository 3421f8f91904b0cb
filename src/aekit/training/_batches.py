"""Batches in aekit's order: epoch ``e`` visits the samples in a permutation drawn from ``(seed, e)``.

Three pipelines feed Keras the same batches: a ``PyDataset`` for any backend and source
(:func:`epoch_batches`), and on tensorflow one ``tf.data`` pipeline over all epochs for arrays in
memory and one for streamed sources. All three take each epoch's order from one
:class:`EpochOrders` cache, so the rows of batch ``(epoch, step)`` never depend on which pipeline
or thread reads it.
"""

from __future__ import annotations

import threading

import numpy as np

from aekit.training._plan import steps_per_epoch


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``n`` samples: a function of ``(seed, epoch)`` only."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


class EpochOrders:
    """Each epoch's sample order, computed once and shared by every reader (thread-safe).

    Only the two most recent epochs are kept: a pipeline reads ahead at most into the next one.
    ``shuffle=False`` gives every epoch the samples in their stored order.
    """

    def __init__(self, n: int, seed: int, shuffle: bool = True):
        self.n, self.seed, self.shuffle = n, seed, shuffle
        self.orders, self.lock = {}, threading.Lock()

    def __call__(self, epoch: int) -> np.ndarray:
        epoch = int(epoch) if self.shuffle else 0
        with self.lock:
            if epoch not in self.orders:
                self.orders[epoch] = epoch_order(self.n, self.seed, epoch) if self.shuffle else np.arange(self.n)
                for old in [e for e in self.orders if e < epoch - 1]:
                    del self.orders[old]
            return self.orders[epoch]

    def rows(self, epoch: int, step: int, batch_size: int) -> np.ndarray:
        """The sample indices of batch ``step`` of ``epoch``, in file order (a batch is a set: reading
        in file order is cheaper, and the loss is the same)."""
        rows = self(epoch)[int(step) * batch_size : (int(step) + 1) * batch_size]
        return np.sort(rows) if self.shuffle else rows


def epoch_batches(
    x,
    y=None,
    *,
    batch_size: int,
    seed: int,
    epoch: int = 0,
    shuffle: bool = True,
    shards=None,
    workers: int | None = None,
    epochs: int | None = None,
):
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
    steps = steps_per_epoch(len(x), batch_size)

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.orders = EpochOrders(len(x), seed, shuffle)
            self.ahead = _ReadAhead(self.batch, threads, _depth(threads, x, batch_size)) if threads > 1 else None
            self.set_epoch(epoch)

        def set_epoch(self, number: int):
            self.epoch = number

        def __len__(self):
            return steps

        def batch(self, number: int, index: int):
            rows = self.orders.rows(number, index, batch_size)
            if shards is not None:
                rows = shards.local(rows, self.orders(number))
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


def tensorflow_batches(x, y, batch_size, seed, first_epoch, epochs, shuffle):
    """The same batches as :func:`epoch_batches`, as one ``tf.data`` pipeline over all remaining epochs.

    TensorFlow runs a Python ``PyDataset`` through a generator (measured 27% slower on the
    convolutional exercise here); in-memory arrays are gathered by TensorFlow itself instead.
    """
    import tensorflow as tf

    n = len(x)
    order_of = EpochOrders(n, seed, shuffle)
    orders = np.stack([order_of(e) for e in range(first_epoch, epochs)])
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


def tensorflow_stream(x, y, batch_size, seed, first_epoch, epochs, shuffle, workers):
    """The batches of :func:`epoch_batches` from a streamed source, as one ``tf.data`` pipeline over all
    remaining epochs: batch ``(e, s)`` is gathered by a ``numpy_function`` in TensorFlow's threads,
    several at once and in order, so reading runs ahead across epoch boundaries too."""
    import tensorflow as tf

    n = len(x)
    steps = steps_per_epoch(n, batch_size)
    orders = EpochOrders(n, seed, shuffle)
    target_type = np.float32 if y is None or is_streamed(y) else np.asarray(y[:1]).dtype

    failures = []

    def fetch(epoch, step):
        try:
            rows = orders.rows(epoch, step, batch_size)
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

    dataset = (
        tf.data.Dataset.range(first_epoch, epochs)
        .flat_map(epoch_steps)
        .map(batch, num_parallel_calls=max(1, threads), deterministic=True)
        .prefetch(max(2, threads))
    )
    dataset.set_epoch = lambda number: None  # the pipeline already runs the epochs in order
    dataset.failures = failures
    return dataset
