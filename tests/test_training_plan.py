"""The training plan: resolved once from a family's parameters and its recipe, read by everything that trains."""

import numpy as np
import pytest

import aekit
from aekit.errors import ParameterError
from aekit.models import StackedAutoencoder
from aekit.models._recipes import FAST_RECIPE
from aekit.training import TrainingPlan, steps_per_epoch


def test_standard_recipe_takes_the_values_as_given():
    plan = aekit.DenseAutoencoder(epochs=7, batch_size=32, learning_rate=2e-3, seed=5, weight_decay=0.1).training_plan()
    assert plan == TrainingPlan(
        epochs=7, batch_size=32, learning_rate=2e-3, schedule="constant", seed=5, beta_2=None, weight_decay=0.1
    )


def test_fast_recipe_fills_only_the_values_left_at_their_defaults():
    plan = aekit.DenseAutoencoder(recipe="fast", epochs=3).training_plan()
    assert (plan.epochs, plan.batch_size, plan.learning_rate) == (
        3,
        FAST_RECIPE["batch_size"],
        FAST_RECIPE["learning_rate"],
    )
    assert plan.schedule == "warmup_cosine" and plan.beta_2 == FAST_RECIPE["beta_2"]
    # a family's own default counts as "left alone": conv_denoising declares batch 128
    conv = aekit.ConvDenoisingAutoencoder(recipe="fast").training_plan()
    assert conv.epochs == FAST_RECIPE["epochs"] and conv.batch_size == FAST_RECIPE["batch_size"]


def test_the_plan_validates_the_parameters_first():
    with pytest.raises(ParameterError, match="batch_size"):
        aekit.DenseAutoencoder(batch_size=0).training_plan()
    with pytest.raises(ParameterError, match="recipe"):
        StackedAutoencoder(recipe="fast").training_plan()


@pytest.mark.parametrize("n, batch, steps", [(1, 256, 1), (256, 256, 1), (257, 256, 2), (1000, 128, 8)])
def test_steps_per_epoch_counts_the_last_partial_batch(n, batch, steps):
    assert steps_per_epoch(n, batch) == steps == TrainingPlan(epochs=1, batch_size=batch).steps_per_epoch(n)


def test_a_plan_refuses_what_cannot_run():
    with pytest.raises(ValueError, match="schedule"):
        TrainingPlan(epochs=1, schedule="linear")
    with pytest.raises(ValueError, match="batch_size"):
        TrainingPlan(epochs=1, batch_size=0)


def test_configure_gives_an_optimizer_the_plans_rate_schedule_and_adam_settings():
    import keras

    constant = TrainingPlan(epochs=2, learning_rate=3e-3, weight_decay=0.01).optimizer(100)
    assert float(constant.learning_rate) == pytest.approx(3e-3) and constant.weight_decay == 0.01
    fast = TrainingPlan(epochs=4, batch_size=10, learning_rate=6e-3, schedule="warmup_cosine", beta_2=0.99)
    optimizer = fast.optimizer(100)
    schedule = optimizer.learning_rate if callable(optimizer.learning_rate) else optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(schedule(10)) == pytest.approx(6e-3)  # warmed up over the first epoch (10 steps)
    assert float(schedule(40)) == pytest.approx(0.0, abs=1e-9)  # decayed to zero by the last step
    assert optimizer.beta_2 == 0.99


def test_the_recipe_reaches_greedy_pretraining(monkeypatch):
    """recipe="fast": the layers are pretrained at the recipe's batch size and learning rate, not the defaults."""
    from aekit.models import _pretraining

    plans, rates = [], []
    train = _pretraining.training.train

    def spy(model, x, y=None, *, plan, **kwargs):
        plans.append(plan)
        rates.append(float(model.optimizer.learning_rate))
        return train(model, x, y, plan=plan, **kwargs)

    monkeypatch.setattr(_pretraining.training, "train", spy)
    x = np.random.default_rng(0).random((64, 8), dtype=np.float32)
    aekit.DenseAutoencoder((6,), 3, recipe="fast", epochs=1, pretrain_epochs=2).fit(x)
    pretraining = plans[:-1]  # the last call is the end-to-end training
    assert len(pretraining) == 2 and all(
        p.epochs == 2 and p.batch_size == FAST_RECIPE["batch_size"] for p in pretraining
    )
    assert rates[:2] == pytest.approx([FAST_RECIPE["learning_rate"]] * 2)
    assert [p.seed for p in pretraining] == [0, 1]  # layer i shuffles from (seed + i, epoch)
    assert plans[-1].epochs == 1 and plans[-1].schedule == "warmup_cosine"


def test_the_stacked_classifier_trains_every_stage_along_its_plan(monkeypatch):
    from aekit import training

    plans = []
    train = training.train

    def spy(model, x, y=None, *, plan, **kwargs):
        plans.append(plan)
        return train(model, x, y, plan=plan, **kwargs)

    monkeypatch.setattr(training, "train", spy)
    rng = np.random.default_rng(0)
    x = rng.random((60, 8), dtype=np.float32)
    y = np.array(["a", "b", "c"] * 20)
    model = StackedAutoencoder(
        (6, 4), epochs=2, batch_size=16, pretrain_epochs=1, head_epochs=3, finetune_learning_rate=5e-4
    ).fit(x, y)
    assert [p.epochs for p in plans] == [1, 1, 3, 2]  # two layers pretrained, the head, fine-tuning
    assert {p.batch_size for p in plans} == {16}
    assert plans[-1].learning_rate == 5e-4
    assert set(model.predict(x[:5])) <= {"a", "b", "c"}
