"""bench_time_to_quality.py's selection: a recipe is picked on its worst seed, and the pick is what
``recipe="fast"`` runs. Pure functions, no training."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_time_to_quality.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_time_to_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pick_is_the_best_worst_seed_among_the_recipes_that_fit_the_time(bench):
    lesson = bench.seeds_row("lesson", [(40.0, 0.0860), (40.0, 0.0862), (40.0, 0.0864)])
    lucky = bench.seeds_row("lucky", [(10.0, 0.0801), (10.0, 0.0804), (10.0, 0.0915)])  # best mean, bad worst seed
    steady = bench.seeds_row("steady", [(11.0, 0.0839), (11.0, 0.0836), (11.0, 0.0855)])
    too_slow = bench.seeds_row("too slow", [(13.0, 0.0823), (13.0, 0.0821), (13.0, 0.0841)])  # 15.6 s on 60,000
    assert (
        lucky["validation BCE (mean)"] < steady["validation BCE (mean)"] and lucky["validation BCE (worst)"] == 0.0915
    )
    recipes = {"lucky": {"epochs": 10}, "steady": {"epochs": 11}, "too slow": {"epochs": 16}}
    assert bench.choose([lesson, lucky, steady, too_slow], recipes, seconds_scale=1.2) == ("steady", {"epochs": 11})
    assert bench.choose([lesson, lucky, steady, too_slow], recipes, seconds_scale=1.0)[0] == "too slow"
    # none fits the time: the fastest
    assert bench.choose([lesson, steady, too_slow], recipes, seconds_scale=2.0)[0] == "steady"


def test_fast_recipe_stands_in_for_recipe_fast_only_inside_the_block(bench):
    import aekit
    from aekit.models import _recipes

    product = dict(_recipes.FAST_RECIPE)
    assert bench.CANDIDATES[[label for label, _ in bench.CANDIDATES].index(bench.PRODUCT_RECIPE)][1] == product
    with bench.fast_recipe({"epochs": 2, "batch_size": 32, "beta_2": 0.9}):
        plan = aekit.DenseAutoencoder(recipe="fast").training_plan()
        assert (plan.epochs, plan.batch_size, plan.learning_rate, plan.beta_2) == (2, 32, product["learning_rate"], 0.9)
    assert _recipes.FAST_RECIPE == product
