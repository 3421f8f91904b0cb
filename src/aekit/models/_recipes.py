"""What every family's training takes, and how a recipe turns those parameters into a :class:`TrainingPlan`.

The parameters are declared here once (``TRAINING_PARAMS``); :func:`resolve_plan` is the one place
where ``recipe``, ``epochs``, ``batch_size``, ``learning_rate`` and ``learning_rate_schedule`` meet,
so end-to-end training, pretraining, the stacked classifier, settings.json and a resumed run all
read the same plan.
"""

from __future__ import annotations

from aekit.params import Choice, Integer, Param, Real
from aekit.training import TrainingPlan

#: What every family's training takes; ``epochs`` and ``batch_size`` defaults differ by family.
TRAINING_PARAMS = (
    Param("epochs", 20, Integer(0), "passes over the training data (0 keeps the initial weights)", group="training"),
    Param("batch_size", 256, Integer(1), "samples per gradient step", group="training"),
    Param("learning_rate", 1e-3, Real(0, min_open=True), "Adam's step size", group="training"),
    Param(
        "seed", 0, Integer(0, 2**32 - 1), "seed of the initial weights, the shuffling and the noise", group="training"
    ),
    Param(
        "weight_decay",
        0.0,
        Real(0),
        "Adam's decoupled weight decay (AdamW: every step shrinks the weights by learning_rate x weight_decay), a "
        "regulariser against overfitting; 0.01-0.2 acts, values under 1e-3 barely do (0: none)",
        group="training",
    ),
    Param(
        "validation_split",
        0.0,
        Real(0, 1, max_open=True),
        "fraction of the training samples held out (seeded) to measure val_loss on, when no validation data is given",
        group="training",
    ),
    Param(
        "early_stopping",
        0,
        Integer(0),
        "stop after this many epochs without a better val_loss and keep the best epoch's weights (0: off)",
        group="training",
    ),
    Param(
        "learning_rate_schedule",
        "constant",
        Choice("constant", "cosine"),
        "constant: learning_rate throughout; cosine: decayed along a cosine from learning_rate to a hundredth of "
        "it by the last epoch, so a long run settles instead of hovering (the Hinton reduction benchmark decays "
        "so over its time budget); recipe fast brings its own warm-up and cosine",
        group="training",
    ),
    Param(
        "recipe",
        "standard",
        Choice("standard", "fast"),
        "standard: the learning rate stays as given; fast: batch 128, 14 epochs, the learning rate warmed up over "
        "the first epoch to 0.006 and decayed along a cosine, Adam's beta_2 0.99 (replaces epochs, batch size and "
        "learning rate left at their defaults); reaches the lesson's 50-epoch quality in a fraction of the time",
        group="training",
    ),
)

#: what ``recipe="fast"`` sets, where the user left the value at its default (chosen on three seeds of a
#: validation split of MNIST's training images, ``benchmarks/bench_time_to_quality.py``). ``beta_2`` is Adam's:
#: 0.99 forgets old gradient scales sooner than Keras' 0.999, which at this peak rate left fewer ReLU code
#: units dead and the worst seed's loss nearer the best's.
FAST_RECIPE = {"epochs": 14, "batch_size": 128, "learning_rate": 6e-3, "beta_2": 0.99}


def resolve_plan(values: dict, declared: dict) -> TrainingPlan:
    """The :class:`TrainingPlan` of a family's checked parameter ``values`` (``declared``: its ``params``).

    Recipe ``fast`` replaces the epochs, batch size and learning rate left at the family's defaults
    and brings its warm-up, cosine decay and ``beta_2``; recipe ``standard`` takes the values as given
    with ``learning_rate_schedule``.
    """
    plan = {name: values[name] for name in ("epochs", "batch_size", "learning_rate")}
    fast = values["recipe"] == "fast"
    if fast:
        for name in plan:
            if plan[name] == declared[name].default:
                plan[name] = FAST_RECIPE[name]
    return TrainingPlan(
        **plan,
        schedule="warmup_cosine" if fast else values["learning_rate_schedule"],
        seed=values["seed"],
        beta_2=FAST_RECIPE["beta_2"] if fast else None,
        weight_decay=values["weight_decay"],
    )
