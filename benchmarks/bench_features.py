#!/usr/bin/env python3
"""Features: a linear probe on 32-d autoencoder codes vs PCA-32 and raw pixels; the stacked
autoencoder's fine-tuned test accuracy.

    python benchmarks/bench_features.py            # full MNIST; a few minutes per stage
    python benchmarks/bench_features.py --quick    # tiny data, seconds

Linear probe: ``aekit.applications.linear_probe`` fits the same standardised logistic regression on
the codes of a ``DenseAutoencoder`` (784-[256, 128]-32 by default, trained on the 60,000 training
images), on PCA-32 and on the raw pixels, trained on the first ``--probe-train`` training images
and scored on the 10,000 test images; k-nearest neighbours (k = 5) on the same features beside.
Stacked: ``StackedAutoencoder`` (lesson 003: greedy pretraining of 784-500-250 layers, a softmax
head on the frozen encoders, then fine-tuning on the labels with a cosine learning-rate decay).

Protocol (benchmarks/PROTOCOL.md): the stacked classifier's dropout is chosen on a validation split
carved from the training images (table 1); the chosen one trains on all 60,000 images for 3 seeds
and the test set is scored once per seed (mean +- sd). Target (issue 15): stacked fine-tuned
>= 98.5 % beyond the spread; the probe is reported against issue 5's 97 %.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

TARGET_PROBE = 0.97
TARGET_STACKED = 0.985


def knn_accuracies(ae, x_train, y_train, x_test, y_test) -> dict:
    """Test accuracy of 5-nearest neighbours on the codes, on PCA-32 and on the raw pixels."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    pca = PCA(32, random_state=0).fit(x_train)
    features = {
        "codes": (ae.encode(x_train), ae.encode(x_test)),
        "pca": (pca.transform(x_train), pca.transform(x_test)),
        "pixels": (x_train, x_test),
    }
    return {name: float(KNeighborsClassifier(5).fit(a, y_train).score(b, y_test)) for name, (a, b) in features.items()}


def main():
    p = _common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=20, help="epochs of the autoencoder whose codes are probed")
    p.add_argument("--hidden", default="256,128")
    p.add_argument("--stacked-hidden", default="500,250")
    p.add_argument("--dropouts", default="0,0.3,0.5", help="stacked: dropout candidates, chosen on validation")
    p.add_argument("--seeds", type=int, default=3, help="stacked: seeds of the chosen classifier")
    p.add_argument("--pretrain-epochs", type=int, default=10, help="stacked: epochs per pretrained layer")
    p.add_argument("--head-epochs", type=int, default=5, help="stacked: epochs of the head on frozen encoders")
    p.add_argument("--finetune-epochs", type=int, default=30, help="stacked: fine-tuning epochs (cosine decay)")
    p.add_argument("--probe-train", type=int, default=60000, help="training images the logistic regressions see")
    args = p.parse_args()
    started = time.perf_counter()

    from aekit.applications import linear_probe
    from aekit.models import DenseAutoencoder, StackedAutoencoder

    x_train, y_train, x_test, y_test = _common.mnist(flat=True, quick=args.quick)
    epochs = 1 if args.quick else args.epochs
    hidden = (32,) if args.quick else tuple(int(h) for h in args.hidden.split(","))
    stacked_hidden = (32, 16) if args.quick else tuple(int(h) for h in args.stacked_hidden.split(","))
    n_probe = min(args.probe_train, len(x_train))

    ae = DenseAutoencoder(hidden_layers=hidden, latent_dim=32, epochs=epochs, seed=0)
    with _common.Timer() as t_ae:
        ae.fit(x_train)
    with _common.Timer() as t_probe:
        probe = linear_probe(
            ae, x_train[:n_probe], y_train[:n_probe], x_test, y_test, max_iter=200 if args.quick else 1000
        )
    arch = "784-" + "-".join(map(str, hidden)) + "-32"
    knn = knn_accuracies(ae, x_train[:n_probe], y_train[:n_probe], x_test, y_test)
    probe_rows = [
        {
            "features": f"aekit DenseAutoencoder codes ({arch}, {epochs} epochs)",
            "dims": 32,
            "logistic regression": probe["codes"],
            "5-nearest neighbours": knn["codes"],
            "target (logistic)": TARGET_PROBE,
        },
        {"features": "PCA-32", "dims": 32, "logistic regression": probe["pca"], "5-nearest neighbours": knn["pca"]},
        {
            "features": "raw pixels",
            "dims": 784,
            "logistic regression": probe["pixels"],
            "5-nearest neighbours": knn["pixels"],
        },
    ]

    pretrain, head, finetune = (
        (1, 1, 1) if args.quick else (args.pretrain_epochs, args.head_epochs, args.finetune_epochs)
    )

    def stacked_model(dropout, seed):
        model = StackedAutoencoder(
            hidden_layers=stacked_hidden,
            dropout=dropout,
            pretrain_epochs=pretrain,
            head_epochs=head,
            epochs=finetune,
            seed=seed,
        )
        return model, [_common.cosine_schedule(finetune, model.finetune_learning_rate)]

    x_fit, y_fit, x_val, y_val = _common.carve(x_train, y_train)
    selection = []
    for dropout in [float(d) for d in args.dropouts.split(",")][: 1 if args.quick else None]:
        model, callbacks = stacked_model(dropout, 0)
        model.fit(x_fit, y_fit, callbacks=callbacks)
        selection.append({"dropout": dropout, "validation accuracy": float(model.score(x_val, y_val))})
        print(f"selection: dropout {dropout}: {selection[-1]['validation accuracy']:.4f}", flush=True)
    dropout = max(selection, key=lambda r: r["validation accuracy"])["dropout"]
    stacked_rows = []
    for seed in range(1 if args.quick else args.seeds):
        model, callbacks = stacked_model(dropout, seed)
        with _common.Timer() as t_stacked:
            model.fit(x_train, y_train, callbacks=callbacks)
        stacked_rows.append(
            {
                "seed": seed,
                "frozen-encoder test accuracy": model.frozen_accuracy_,
                "fine-tuned test accuracy": float(model.score(x_test, y_test)),
                "training s": t_stacked.seconds,
            }
        )
        print(f"stacked seed {seed}: {stacked_rows[-1]['fine-tuned test accuracy']:.4f}", flush=True)
    mean, sd = _common.mean_sd([r["fine-tuned test accuracy"] for r in stacked_rows])
    notes = [
        f"Linear probe on codes: {probe['codes']:.4f}; issue 5's target >= {TARGET_PROBE} "
        + ("met." if probe["codes"] >= TARGET_PROBE else f"missed by {TARGET_PROBE - probe['codes']:.4f}.")
        + f" Probe regressions trained on {n_probe} images ({t_probe.seconds:.0f} s for all three); "
        f"autoencoder {t_ae.seconds:.0f} s.",
        f"Stacked 784-{'-'.join(map(str, stacked_hidden))}-10, dropout {dropout:g} (chosen on validation): "
        "fine-tuned test "
        f"accuracy {mean:.4f} +- {sd:.4f} over {len(stacked_rows)} seeds; target >= {TARGET_STACKED}: "
        f"{_common.verdict(mean, sd, TARGET_STACKED)}.",
        "frozen-encoder accuracy is measured on the training data (no test data is seen before the end).",
    ]
    spent = (
        f"autoencoder {epochs} epochs, probe on {n_probe} training images; stacked: {pretrain} pretraining epochs"
        f" per layer, {head} head epochs, {finetune} fine-tuning epochs"
    )
    budget = f"reduced: {spent}" if args.quick or n_probe < 60000 else f"full: {spent}"
    _common.write_result(
        args,
        "features",
        "Features: linear probe on 32-d codes; stacked autoencoder fine-tuned",
        {
            "Probes on the features, MNIST test set": (
                ["features", "dims", "logistic regression", "5-nearest neighbours", "target (logistic)"],
                probe_rows,
            ),
            "Stacked: dropout chosen on a validation split of the training images": (
                ["dropout", "validation accuracy"],
                selection,
            ),
            "Stacked autoencoder classifier, MNIST test set": (
                ["seed", "frozen-encoder test accuracy", "fine-tuned test accuracy", "training s"],
                stacked_rows,
            ),
        },
        budget=budget,
        notes=notes,
        started=started,
        extra={"autoencoder_history": ae.history_},
    )


if __name__ == "__main__":
    main()
