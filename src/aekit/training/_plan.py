"""The training plan: what one training run does, resolved once and handed to everything that trains.

A family's parameters (and its recipe) become one :class:`TrainingPlan` when they are validated;
end-to-end training, greedy pretraining, the stacked classifier's stages, data parallelism and
a resumed run all read their epochs, batch size, learning rate and schedule from it, so none of
them can disagree with another about what the recipe asked for.
"""

from __future__ import annotations

import dataclasses

SCHEDULES = ("constant", "cosine", "warmup_cosine")


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Gradient steps in one pass over ``n_samples`` samples in batches of ``batch_size`` (the last may be smaller)."""
    return -(-int(n_samples) // int(batch_size))


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """Epochs, batch size, (peak) learning rate and its schedule, Adam's ``beta_2`` and weight decay, the seed.

    ``schedule`` is ``"constant"``, ``"cosine"`` (decayed to 1 % of ``learning_rate`` over the epochs)
    or ``"warmup_cosine"`` (warmed up over the first epoch, then decayed to 0: recipe ``fast``).
    """

    epochs: int
    batch_size: int = 256
    learning_rate: float = 1e-3
    schedule: str = "constant"
    seed: int = 0
    beta_2: float | None = None
    weight_decay: float = 0.0

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if int(self.batch_size) < 1 or int(self.epochs) < 0:
            raise ValueError(f"a plan needs batch_size >= 1 and epochs >= 0, got {self.batch_size} and {self.epochs}")

    def steps_per_epoch(self, n_samples: int) -> int:
        """Gradient steps in one pass over ``n_samples`` samples (the last batch may be smaller)."""
        return steps_per_epoch(n_samples, self.batch_size)

    def replace(self, **changes) -> TrainingPlan:
        """This plan with some values changed (e.g. a stage's own epochs)."""
        return dataclasses.replace(self, **changes)

    def shards(self):
        """How each batch splits over the devices of the Keras distribution in force (None on one device);
        refuses a batch size that does not split evenly, before any work."""
        from aekit.training._parallel import data_shards

        return data_shards(self.batch_size)

    def optimizer(self, n_samples: int, name: str = "adam"):
        """A fresh Keras optimizer following this plan over ``n_samples`` samples an epoch."""
        import keras

        optimizer = keras.optimizers.get(name)
        self.configure(optimizer, n_samples)
        return optimizer

    def configure(self, optimizer, n_samples: int) -> None:
        """Give ``optimizer`` the plan's learning rate (and its schedule), ``beta_2`` and weight decay.

        A schedule counts optimizer steps, which a model file keeps: a resumed run goes on along it."""
        import keras

        if self.weight_decay:
            optimizer.weight_decay = self.weight_decay
        if self.beta_2 is not None:
            optimizer.beta_2 = self.beta_2  # read when the train step is traced, kept in the model file
        steps = self.steps_per_epoch(n_samples)
        if self.schedule == "cosine":
            optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
                initial_learning_rate=self.learning_rate,
                decay_steps=max(1, self.epochs * steps),
                alpha=0.01,
            )
        elif self.schedule == "warmup_cosine":
            optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
                initial_learning_rate=self.learning_rate / steps,
                decay_steps=max(1, (self.epochs - 1) * steps),
                warmup_target=self.learning_rate,
                warmup_steps=steps,
            )
        else:
            optimizer.learning_rate = self.learning_rate
