#!/usr/bin/env python3
"""Train the four exercise files with the lesson's settings and compare val_loss to the lesson logs.

    KERAS_BACKEND=tensorflow python exercises/conformance.py --epochs 5
    python exercises/conformance.py --epochs 50 --json results.json

Seeds are set as the lesson's N-main.py scripts set them; MNIST is read locally
(``AEKIT_DATA_DIR`` or Keras' cache). ``--train-samples`` trains on the first N images only.
"""

import argparse
import importlib.util
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# val_loss printed by the lesson's logs (002_*.txt) after epochs 1-5 and 46-50.
LESSON_VAL_LOSS = {
    "vanilla": {1: 0.1704, 2: 0.1370, 3: 0.1242, 4: 0.1165, 5: 0.1119, 50: 0.0842},
    "sparse": {1: 0.1715, 2: 0.1372, 3: 0.1242, 4: 0.1166, 5: 0.1122, 50: 0.0835},
    "convolutional": {1: 0.1597, 2: 0.1358, 3: 0.1271, 4: 0.1216, 5: 0.1179, 50: 0.0926},
    "variational": {1: 175.3891, 2: 164.9127, 3: 161.2009, 4: 159.1755, 5: 157.5874, 50: 147.9027},
}
EXERCISES = {
    "vanilla": ("0-vanilla.py", (784, [128, 64], 32), "flat"),
    "sparse": ("1-sparse.py", (784, [128, 64], 32, 10e-6), "flat"),
    "convolutional": ("2-convolutional.py", ((28, 28, 1), [16, 8, 8], (4, 4, 8)), "image"),
    "variational": ("3-variational.py", (784, [512], 2), "flat"),
}


def load_exercise(name):
    """The ``autoencoder`` function of an exercise file, imported from its path."""
    filename = EXERCISES[name][0]
    spec = importlib.util.spec_from_file_location(filename[:-3].replace("-", "_"), HERE / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.autoencoder


def seed_as_lesson(seed=0):
    """Seed Python, NumPy and the backend the way the lesson's mains do."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.random.set_seed(seed)


def run(name, epochs, train_samples=None, verbose=0):
    """Train one exercise like its main does; return its history dict, timings and mean code."""
    import numpy as np

    from aekit.datasets import mnist_load_data

    seed_as_lesson(0)
    (x_train, _), (x_test, _) = mnist_load_data(download=False)
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    _, args, layout = EXERCISES[name]
    if layout == "flat":
        x_train, x_test = x_train.reshape((-1, 784)), x_test.reshape((-1, 784))
    else:
        x_train, x_test = x_train[..., None], x_test[..., None]
    if train_samples:
        x_train = x_train[:train_samples]
    encoder, decoder, auto = load_exercise(name)(*args)
    start = time.perf_counter()
    history = auto.fit(x_train, x_train, epochs=epochs, batch_size=256, shuffle=True,
                       validation_data=(x_test, x_test), verbose=verbose)
    seconds = time.perf_counter() - start
    encoded = encoder.predict(x_test[:10], verbose=0)
    code = encoded[1] if name == "variational" else encoded
    return {
        "exercise": name,
        "epochs": epochs,
        "train_samples": len(x_train),
        "val_loss": [float(v) for v in history.history["val_loss"]],
        "loss": [float(v) for v in history.history["loss"]],
        "seconds": seconds,
        "mean_code": float(np.mean(code)),
        "params": int(auto.count_params()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--exercise", choices=[*EXERCISES, "all"], default="all")
    parser.add_argument("--train-samples", type=int, default=None)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import keras

    names = list(EXERCISES) if args.exercise == "all" else [args.exercise]
    results = []
    print(f"backend: {keras.backend.backend()}  keras {keras.__version__}")
    print(f"{'exercise':<14} {'epoch':>5} {'val_loss':>10} {'lesson':>10} {'diff':>7} {'s/epoch':>8}")
    for name in names:
        result = run(name, args.epochs, args.train_samples)
        reference = LESSON_VAL_LOSS[name].get(args.epochs)
        final = result["val_loss"][-1]
        diff = f"{(final - reference) / reference:+.1%}" if reference else "-"
        print(f"{name:<14} {args.epochs:>5} {final:>10.4f} {reference or float('nan'):>10.4f} {diff:>7} {result['seconds'] / args.epochs:>8.2f}", flush=True)
        result["lesson_val_loss"] = reference
        results.append(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
