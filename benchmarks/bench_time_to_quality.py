#!/usr/bin/env python3
"""Time to quality: aekit's ``recipe="fast"`` against the lesson's 50-epoch result for 784-[128, 64]-32.

    python benchmarks/bench_time_to_quality.py            # selection on validation, then the test, 3 seeds
    python benchmarks/bench_time_to_quality.py --quick    # tiny data, seconds

The lesson trains exercise 0's model with Adam 1e-3, batch 256, for 50 epochs and logs val BCE
0.0842 on the 10,000 test images. The question: how soon does aekit reach that, from
``aekit.DenseAutoencoder((128, 64), 32, recipe="fast").fit(x_train)``, compilation included?

Protocol (benchmarks/PROTOCOL.md): the recipe is chosen on a validation split carved from the
training images (the first 50,000 train, the last 10,000 validate). The "selection" table trains the
lesson's recipe and each candidate with 3 seeds on that split and picks, among the candidates whose
mean time (scaled from 50,000 to 60,000 images) is within the 15 s target, the one whose *worst*
seed has the least validation BCE (``choose``): at a high learning rate some seeds leave more ReLU
code units dead, and a pick that one lucky seed supports does not hold on the test.
The chosen recipe then trains on all 60,000 training images and the test set is scored once, at the
end, for each of 3 seeds: mean +- standard deviation of the wall time and of the test BCE. Those runs
use ``recipe="fast"`` with nothing else set; a pick other than aekit's own recipe is put in its place
(``aekit.models._recipes.FAST_RECIPE``) for them, and the notes say so.

A candidate's batch size, peak rate, epochs and Adam beta_2 all go through ``FAST_RECIPE``: passed as
arguments, a value equal to the estimator's default (batch 256) would be taken for "left alone" and
replaced by the recipe's (the run of 2026-11-28 labelled a batch-64 run "batch 256" that way).
"""

import contextlib
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

TARGET_LOSS = 0.0842
TARGET_SECONDS = 15.0
# (label, recipe): warm-up over the first epoch, cosine decay to zero after; beta_2 is Adam's
PRODUCT_RECIPE = "batch 128, peak 6e-3, 14 epochs, beta_2 0.99 (aekit's recipe='fast')"
CANDIDATES = [
    (
        "batch 64, peak 4e-3, 12 epochs, beta_2 0.999 (aekit's earlier recipe='fast')",
        dict(batch_size=64, learning_rate=4e-3, epochs=12, beta_2=0.999),
    ),
    (
        "batch 64, peak 5e-3, 10 epochs, beta_2 0.999 (the previous run's pick)",
        dict(batch_size=64, learning_rate=5e-3, epochs=10, beta_2=0.999),
    ),
    ("batch 64, peak 5e-3, 10 epochs, beta_2 0.99", dict(batch_size=64, learning_rate=5e-3, epochs=10, beta_2=0.99)),
    (
        "batch 128, peak 6e-3, 14 epochs, beta_2 0.999",
        dict(batch_size=128, learning_rate=6e-3, epochs=14, beta_2=0.999),
    ),
    (PRODUCT_RECIPE, dict(batch_size=128, learning_rate=6e-3, epochs=14, beta_2=0.99)),
    ("batch 256, peak 8e-3, 20 epochs, beta_2 0.99", dict(batch_size=256, learning_rate=8e-3, epochs=20, beta_2=0.99)),
]
LESSON = (
    "lesson: batch 256, Adam 1e-3 constant, 50 epochs",
    dict(recipe="standard", batch_size=256, learning_rate=1e-3, epochs=50),
)


@contextlib.contextmanager
def fast_recipe(recipe):
    """``recipe="fast"`` made to mean ``recipe`` (batch, peak rate, epochs, beta_2) while the block runs."""
    from aekit.models import _recipes

    saved = dict(_recipes.FAST_RECIPE)
    _recipes.FAST_RECIPE.update(recipe)
    try:
        yield
    finally:
        _recipes.FAST_RECIPE.clear()
        _recipes.FAST_RECIPE.update(saved)


def fit(x_train, x_val, seed, **params):
    """Wall seconds (estimator construction to the end of fit, compilation included) and the final val BCE."""
    import numpy as np

    import aekit
    from aekit.evaluation import reconstruction_error

    start = time.perf_counter()
    model = aekit.DenseAutoencoder((128, 64), 32, seed=seed, **params).fit(x_train)
    seconds = time.perf_counter() - start
    bce = float(np.mean(reconstruction_error(x_val, model.reconstruct(x_val), "bce")))
    return seconds, bce


def choose(rows, candidates, seconds_scale=1.0):
    """The selection's pick: among the candidates whose mean wall time times ``seconds_scale`` (the test's
    training set over the validation split's) is within the target, the one of least worst-seed validation
    BCE; if none is that fast, the fastest. The lesson's row (first) is a reference, never a pick."""
    tried = rows[1:]
    in_time = [r for r in tried if r["wall s (mean)"] * seconds_scale <= TARGET_SECONDS]
    best = (
        min(in_time, key=lambda r: r["validation BCE (worst)"])
        if in_time
        else min(tried, key=lambda r: r["wall s (mean)"])
    )
    return best["recipe"], candidates[best["recipe"]]


def seeds_row(label, results):
    """One selection row: the mean and worst validation BCE over the seeds, and the mean wall time."""
    losses = [bce for _, bce in results]
    return {
        "recipe": label,
        "validation BCE (mean)": statistics.mean(losses),
        "validation BCE (worst)": max(losses),
        "seeds": ", ".join(f"{bce:.4f}" for bce in losses),
        "wall s (mean)": statistics.mean(s for s, _ in results),
    }


def main():
    p = _common.parser(__doc__)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--no-selection", action="store_true", help="skip the selection table (the test runs only)")
    args = p.parse_args()
    started = time.perf_counter()
    x_train, _, x_test, _ = _common.mnist(flat=True, quick=args.quick)
    cut = int(len(x_train) * 5 / 6)
    x_fit, x_val = x_train[:cut], x_train[cut:]
    quick = {"epochs": 1} if args.quick else {}
    tables, notes = {}, []

    selection_seeds = 1 if args.quick else args.seeds
    if not args.no_selection:
        rows = []
        candidates = [c for c in CANDIDATES if c[0] == PRODUCT_RECIPE] if args.quick else CANDIDATES
        for label, recipe in [LESSON, *candidates]:
            results = []
            for seed in range(selection_seeds):
                if label == LESSON[0]:
                    results.append(fit(x_fit, x_val, seed, **{**recipe, **quick}))
                else:
                    with fast_recipe(recipe):
                        results.append(fit(x_fit, x_val, seed, recipe="fast", **quick))
                print(
                    f"selection: {label}: seed {seed}: val {results[-1][1]:.4f} in {results[-1][0]:.1f} s", flush=True
                )
            rows.append(seeds_row(label, results))
        tables[
            "Selection on the validation split (train 50,000 / validate 10,000; test set untouched), "
            f"{selection_seeds} seed(s) each"
        ] = (["recipe", "validation BCE (mean)", "validation BCE (worst)", "seeds", "wall s (mean)"], rows)
        label, chosen = choose(rows, dict(candidates), seconds_scale=len(x_train) / len(x_fit))
        notes.append(
            f"The rule: among the candidates whose mean time, scaled by {len(x_train) / len(x_fit):.2f} "
            "to the full training set, "
            f"is within {TARGET_SECONDS:.0f} s, the one whose worst seed has the least validation BCE. Chosen: {label}"
            + (
                "."
                if label == PRODUCT_RECIPE
                else "; it is not aekit's recipe='fast', which was put in its place for the test runs."
            )
        )
    else:
        label, chosen = PRODUCT_RECIPE + " (no selection run)", {}

    rows = []
    for seed in range(1 if args.quick else args.seeds):
        with fast_recipe(chosen):
            seconds, bce = fit(x_train, x_test, seed, recipe="fast", **quick)
        rows.append({"seed": seed, "wall s": seconds, "test BCE": bce})
        print(f"test: seed {seed}: {bce:.4f} in {seconds:.1f} s", flush=True)
    times, losses = [r["wall s"] for r in rows], [r["test BCE"] for r in rows]
    spread = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
    summary = {
        "runs": len(rows),
        "wall s (mean)": statistics.mean(times),
        "wall s (sd)": spread(times),
        "test BCE (mean)": statistics.mean(losses),
        "test BCE (sd)": spread(losses),
    }
    tables[f"The chosen recipe ({label}) on all 60,000 training images, test set scored once per seed"] = (
        ["seed", "wall s", "test BCE"],
        rows,
    )
    tables["Summary"] = (list(summary), [summary])
    quality = summary["test BCE (mean)"] + summary["test BCE (sd)"] <= TARGET_LOSS
    fast = summary["wall s (mean)"] + summary["wall s (sd)"] <= TARGET_SECONDS
    notes.append(
        f"Target: the lesson's {TARGET_LOSS} in <= {TARGET_SECONDS:.0f} s: test BCE {summary['test BCE (mean)']:.4f} "
        f"+- {summary['test BCE (sd)']:.4f} ({'reached' if quality else 'not reached beyond the spread'}) in "
        f"{summary['wall s (mean)']:.1f} +- {summary['wall s (sd)']:.1f} s ({'within' if fast else 'over'} the time): "
        + ("met." if quality and fast else "missed.")
    )
    _common.write_result(
        args,
        "time_to_quality",
        "Time to quality: the chosen fast recipe vs the lesson's 50 epochs (784-[128, 64]-32)",
        tables,
        budget="quick" if args.quick else "full",
        notes=notes,
        started=started,
    )


if __name__ == "__main__":
    main()
