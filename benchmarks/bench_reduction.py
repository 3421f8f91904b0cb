#!/usr/bin/env python3
"""Dimensionality reduction against Hinton & Salakhutdinov (Science 2006), MNIST to 30 dimensions.

    python benchmarks/bench_reduction.py                  # 784-1000-500-250-30, 30 minutes a seed, 3 seeds
    python benchmarks/bench_reduction.py --minutes 10 --seeds 1
    python benchmarks/bench_reduction.py --quick          # tiny data, seconds

The figure is the paper's: the average squared reconstruction error per test image,
``sum((x - x_hat)**2)`` over the 784 pixels in [0, 1], averaged over the 10,000 MNIST test images.
The paper reports 3.00 for its RBM-pretrained autoencoder, 8.01 for logistic PCA and 13.87 for PCA.

Protocol (benchmarks/PROTOCOL.md): the last 10,000 training images are held out as validation; the
model trains on the first 50,000 and every choice is made on the validation images — its
early stopping (``early_stopping`` epochs without a better validation loss; the best epoch's
weights are kept) included. The test images are scored once, at the end, for each seed. The
recipe is aekit's, as any user can run it: ``DenseAutoencoder((1000, 500, 250), 30,
code_activation="linear", tied_weights=False, pretrain_epochs=10, weight_decay=0.15, early_stopping=20)``
(greedy layer-wise pretraining spent from the same budget, as the paper pretrained its layers;
the decay and the untied decoder were chosen on the validation images, benchmarks/notes.md),
Adam with a cosine learning-rate decay over the time budget, binary cross-entropy as the paper's
logistic output layer. Baselines in the same run: PCA-30 and logistic PCA (a linear 30-d code
decoded through a sigmoid, trained on cross-entropy: the same model as the paper's baseline).
Target (issue 15): <= 3.00 (goal 2.5) within 30 minutes of training, mean + sd over the seeds.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

PAPER = {"autoencoder (RBM-pretrained)": 3.00, "logistic PCA": 8.01, "PCA": 13.87}
TARGET, GOAL = 3.00, 2.5
TARGET_MINUTES = 30


def main():
    p = _common.parser(__doc__)
    p.add_argument(
        "--minutes", type=float, default=TARGET_MINUTES, help="training budget per seed, pretraining included"
    )
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--pretrain-epochs", type=int, default=10, help="greedy layer-wise pretraining, epochs per layer")
    p.add_argument(
        "--weight-decay",
        type=float,
        default=0.15,
        help="Adam's decoupled weight decay (chosen on validation: 1e-5 to 0.3 tried, notes.md)",
    )
    p.add_argument("--early-stopping", type=int, default=20, help="patience in epochs on the validation loss")
    p.add_argument(
        "--tied",
        action="store_true",
        help="the decoder reuses the encoder's weights, as the paper's unrolled start (default: untied, "
        "better on validation with weight decay)",
    )
    p.add_argument(
        "--validation-only",
        action="store_true",
        help="try a setting without scoring the test set: print each seed's validation figures, write no result",
    )
    p.add_argument("--logistic-minutes", type=float, default=5.0, help="budget of the logistic PCA baseline")
    args = p.parse_args()
    started = time.perf_counter()
    from sklearn.decomposition import PCA

    from aekit.evaluation import reconstruction_error
    from aekit.models import DenseAutoencoder

    x_train, _, x_test, _ = _common.mnist(flat=True, quick=args.quick)
    cut = len(x_train) - len(x_train) // 6
    x_fit, x_val = x_train[:cut], x_train[cut:]
    minutes = 0.05 if args.quick else args.minutes
    hidden = (64, 32) if args.quick else (1000, 500, 250)
    seeds = 1 if args.quick else args.seeds

    def train(seed, budget_minutes, **settings):
        start = time.perf_counter()
        model = DenseAutoencoder(
            latent_dim=30,
            code_activation="linear",
            epochs=100_000,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            seed=seed,
            **settings,
        )
        budget = _common.time_budget(budget_minutes, args.learning_rate, counting_from=start)
        model.fit(x_fit, validation_data=x_val, callbacks=[budget])
        seconds = time.perf_counter() - start
        return model, seconds, None if args.validation_only else float(model.reconstruction_error(x_test, "sse").mean())

    pretrain = min(args.pretrain_epochs, 1) if args.quick else args.pretrain_epochs
    settings = dict(
        hidden_layers=hidden,
        tied_weights=args.tied,
        pretrain_epochs=pretrain,
        weight_decay=args.weight_decay,
        early_stopping=args.early_stopping,
    )
    if args.validation_only:  # a lever tried on the validation images only: the test set is not scored
        for seed in range(seeds):
            model, seconds, _ = train(seed, minutes, **settings)
            state = getattr(model, "early_stopping_", {})
            print(
                f"seed {seed}: validation squared error / image "
                f"{float(model.reconstruction_error(x_val, 'sse').mean()):.3f}, "
                f"validation BCE at best {state.get('best')}, best epoch {state.get('best_epoch')} of "
                f"{len(model.history_['loss'])}, {seconds / 60:.1f} min",
                flush=True,
            )
        return

    with _common.Timer() as t_pca:
        pca = PCA(30, random_state=0).fit(x_fit)
        pca_error = float(reconstruction_error(x_test, pca.inverse_transform(pca.transform(x_test)), "sse").mean())
    _, logistic_s, logistic_error = train(
        0, min(minutes, args.logistic_minutes), hidden_layers=(), early_stopping=args.early_stopping
    )

    rows = []
    for seed in range(seeds):
        model, seconds, error = train(seed, minutes, **settings)
        state = getattr(model, "early_stopping_", {})
        rows.append(
            {
                "seed": seed,
                "squared error / test image": error,
                "best epoch": state.get("best_epoch"),
                "epochs run": len(model.history_["loss"]),
                "validation loss (BCE) at best": state.get("best"),
                "minutes": seconds / 60,
            }
        )
        print(
            f"seed {seed}: {error:.3f} after {seconds / 60:.1f} min (best epoch {state.get('best_epoch')})", flush=True
        )

    errors = [r["squared error / test image"] for r in rows]
    mean, sd = statistics.mean(errors), (statistics.stdev(errors) if len(errors) > 1 else 0.0)
    arch = "784-" + "-".join(map(str, hidden)) + "-30" + (", tied weights" if args.tied else ", untied weights")
    summary = [
        {
            "method": f"aekit DenseAutoencoder {arch}, {pretrain} pretraining epochs per layer, weight decay "
            f"{args.weight_decay:g}, early stopping {args.early_stopping} (mean +- sd over {len(rows)} seeds)",
            "squared error / test image": mean,
            "sd": sd,
            "published": PAPER["autoencoder (RBM-pretrained)"],
        },
        {
            "method": "logistic PCA: linear 30-d code, sigmoid decoder, cross-entropy (same run, seed 0)",
            "squared error / test image": logistic_error,
            "sd": None,
            "published": PAPER["logistic PCA"],
        },
        {
            "method": "PCA-30 (scikit-learn, same run)",
            "squared error / test image": pca_error,
            "sd": None,
            "published": PAPER["PCA"],
        },
    ]
    minutes_used = max(r["minutes"] for r in rows)
    within = minutes_used <= TARGET_MINUTES + 0.5
    status = (
        "met, and the goal too"
        if mean + sd <= GOAL
        else "met"
        if mean + sd <= TARGET
        else "within the spread: not met"
        if mean <= TARGET
        else "missed"
    )
    notes = [
        f"Target <= {TARGET:.2f} (goal {GOAL}) in <= {TARGET_MINUTES} min: "
        f"{mean:.3f} +- {sd:.3f} over {len(rows)} seeds, "
        f"at most {minutes_used:.1f} min each: {status if within else status + ', but over the time budget'}.",
        "Trained on 50,000 training images; the other 10,000 choose the stopping epoch; the test set is scored once.",
    ]
    budget = ("full" if minutes >= TARGET_MINUTES else "reduced") + f": {minutes:g} min per seed"
    _common.write_result(
        args,
        "reduction",
        "Dimensionality reduction: MNIST to 30 dimensions (Hinton & Salakhutdinov 2006)",
        {
            "Summary": (["method", "squared error / test image", "sd", "published"], summary),
            "Seeds": (
                [
                    "seed",
                    "squared error / test image",
                    "best epoch",
                    "epochs run",
                    "validation loss (BCE) at best",
                    "minutes",
                ],
                rows,
            ),
        },
        budget=budget,
        notes=notes,
        started=started,
        extra={"logistic_pca_seconds": logistic_s, "pca_seconds": t_pca.seconds},
    )


if __name__ == "__main__":
    main()
