"""aekit's engine: the training plan, the one training loop, batches in a seeded order, data parallelism, inference.

Every entry point (the Python API, the command line, the benchmarks) trains through
:func:`train` with a :class:`TrainingPlan`, and runs trained models through :func:`predict`.
The rooms, one purpose each:

* ``_plan``: :class:`TrainingPlan` (epochs, batch size, learning rate and schedule, seed);
* ``_loop``: :func:`train`, the fit over all epochs with the NaN guard and ``on_epoch_end``;
* ``_batches``: :func:`epoch_order` and the three pipelines that feed batches in that order;
* ``_parallel``: Keras' ``DataParallel`` on jax, and how each batch splits over the devices;
* ``_inference``: :func:`predict`, compiled and chunked;
* ``_callbacks``: early stopping's bookkeeping and the Ctrl-C guard;
* ``_keras_shims``: the only uses of Keras' internals, and state that Keras does not save.
"""

from aekit.training._batches import EpochOrders, epoch_batches, epoch_order, is_streamed
from aekit.training._callbacks import interrupt_guard, track_best
from aekit.training._inference import predict
from aekit.training._keras_shims import no_tensorflow_import, rng_variables
from aekit.training._loop import train
from aekit.training._parallel import (
    Shards,
    data_parallel,
    data_shards,
    distributed,
    is_main_process,
    undistributed,
)
from aekit.training._plan import TrainingPlan, steps_per_epoch

__all__ = [
    "EpochOrders",
    "Shards",
    "TrainingPlan",
    "data_parallel",
    "data_shards",
    "distributed",
    "epoch_batches",
    "epoch_order",
    "interrupt_guard",
    "is_main_process",
    "is_streamed",
    "no_tensorflow_import",
    "predict",
    "rng_variables",
    "steps_per_epoch",
    "track_best",
    "train",
    "undistributed",
]
