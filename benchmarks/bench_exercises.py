#!/usr/bin/env python3
"""The four lesson exercises trained as the lesson's mains train them, against the lesson logs.

    python benchmarks/bench_exercises.py                       # 50 epochs each, tensorflow (the lesson's backend)
    python benchmarks/bench_exercises.py --backend jax         # the same on aekit's default backend
    python benchmarks/bench_exercises.py --exercise vanilla    # one exercise
    python benchmarks/bench_exercises.py --quick               # vanilla + variational, 1 epoch on 256 images

Uses ``exercises/conformance.py`` (the exercise files, seeds as in the mains, batch 256, shuffle,
validation on the 10,000 test images) and compares the last val_loss with the lesson's printed
log: 0.0842 (vanilla), 0.0835 (sparse), 0.0926 (convolutional), 147.9 (variational) after 50 epochs.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

NAMES = ("vanilla", "sparse", "convolutional", "variational")


def main():
    p = _common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--backend", choices=("tensorflow", "jax"), default="tensorflow")
    p.add_argument("--exercise", choices=(*NAMES, "all"), default="all")
    args = p.parse_args()
    os.environ["KERAS_BACKEND"] = args.backend  # before Keras is imported
    started = time.perf_counter()
    sys.path.insert(0, str(_common.ROOT / "exercises"))
    import conformance

    epochs = 1 if args.quick else args.epochs
    names = NAMES if args.exercise == "all" else (args.exercise,)
    if args.quick and args.exercise == "all":
        names = ("vanilla", "variational")  # one dense and the VAE path, to stay within seconds
    rows, runs = [], []
    for name in names:
        result = conformance.run(name, epochs, train_samples=256 if args.quick else None)
        reference = conformance.LESSON_VAL_LOSS[name].get(epochs)
        final = result["val_loss"][-1]
        rows.append(
            {
                "exercise": name,
                "epochs": epochs,
                "val_loss": final,
                "lesson log": reference,
                "difference": f"{(final - reference) / reference:+.1%}" if reference else None,
                "s/epoch": result["seconds"] / epochs,
                "params": result["params"],
            }
        )
        runs.append(result)
        print(f"{name}: val_loss {final:.4f} (lesson {reference})", flush=True)
    notes = [
        f"Backend: {args.backend}; batch 256, shuffle, seeds as in the lesson's mains; "
        "val_loss on the 10,000 MNIST test images."
    ]
    if epochs not in (1, 2, 3, 4, 5, 50):
        notes.append("The lesson logs print epochs 1-5 and 46-50 only: no reference for this epoch count.")
    if not args.quick and args.exercise == "all" and epochs == 50:
        budget = "full"
    else:
        budget = f"reduced: {epochs} epochs, {args.exercise}"
    suffix = ("" if args.backend == "tensorflow" else f"_{args.backend}") + (
        "" if args.exercise == "all" else f"_{args.exercise}"
    )
    _common.write_result(
        args,
        f"exercises{suffix}",
        f"The four exercises vs the lesson logs ({args.backend})",
        {"": (["exercise", "epochs", "val_loss", "lesson log", "difference", "s/epoch", "params"], rows)},
        budget=budget,
        notes=notes,
        started=started,
        extra={"runs": runs},
    )


if __name__ == "__main__":
    main()
