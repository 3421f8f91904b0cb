"""Data parallelism (Keras' ``DataParallel``, jax): which devices train, and how each batch splits over them."""

from __future__ import annotations

import contextlib
import sys

import numpy as np

from aekit.errors import ParameterError


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
        raise ParameterError(
            f"{{p}} {batch_size} does not split evenly over {devices} devices; use a multiple of {devices}",
            p="batch_size",
        )
    return Shards(devices, jax.process_count(), jax.process_index())


def data_parallel(devices):
    """A ``keras.distribution.DataParallel`` over ``devices``, or None for training on one device.

    ``devices`` is None (one device), a number (the first N of ``jax.devices()``), ``"all"`` (every
    device of every process: all local GPUs, or all hosts after ``jax.distributed.initialize``) or
    a Keras ``Distribution`` (used as it is). Data parallelism is Keras' and runs on the jax backend.
    """
    import keras

    from aekit.training._keras_shims import Distribution

    if devices is None or isinstance(devices, Distribution()):
        if devices is not None and devices._num_processes > 1:
            devices.auto_shard_dataset = False  # each process reads its own part of every batch (epoch_batches)
        return devices
    if keras.backend.backend() != "jax":
        raise ParameterError(
            f"{{p}}: data-parallel training runs on the jax backend, and Keras runs on "
            f"{keras.backend.backend()}; use --backend jax (KERAS_BACKEND=jax)",
            p="devices",
        )
    import jax

    available = jax.devices()
    if devices == "all":
        chosen = available
    else:
        if isinstance(devices, bool) or not isinstance(devices, (int, np.integer)) or devices < 1:
            raise ParameterError(f"{{p}} must be a positive number of devices or 'all', got {devices!r}", p="devices")
        if devices > len(available):
            hint = (
                " (on a CPU, start Python with XLA_FLAGS=--xla_force_host_platform_device_count=N "
                "to split it into N devices)"
                if available[0].platform == "cpu"
                else ""
            )
            raise ParameterError(
                f"{{p}} {devices} asks for more devices than the {len(available)} jax sees "
                f"({available[0].platform}){hint}",
                p="devices",
            )
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
