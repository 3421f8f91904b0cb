#!/usr/bin/env python3
"""Training and inference speed of the exercise models: aekit's default path against the lesson's setup.

    python benchmarks/bench_speed.py            # full: 60,000 MNIST images per epoch, 5 measured epochs
    python benchmarks/bench_speed.py --quick    # 1,024 images, seconds

For each model (the dense ``vanilla`` exercise, 784-128-64-32, and the ``convolutional`` one)
four cases train side by side, each in a process of its own that stays alive, one epoch at a
time in turn (round robin), so every case meets the same machine conditions:

* **lesson (tf.keras)**: the exercise's model as the lesson's ``N-main.py`` trains it: tensorflow
  backend, ``auto.fit(x, x, batch_size=256, shuffle=True, validation_data=(x_test, x_test))``.
* **plain Keras on jax**: the same call with ``KERAS_BACKEND=jax``.
* **aekit (default)**: ``aekit.DenseAutoencoder((128, 64), 32)`` / ``aekit.ConvAutoencoder((16, 8, 8),
  lesson_layout=True)``, batch 256, no backend chosen (jax), validation each epoch: what a user gets.
* **aekit on tensorflow**: the same estimator with ``KERAS_BACKEND=tensorflow``.

The dense cases use the same batch size and the same arithmetic (the same layers, loss and
optimizer; aekit only changes how batches are fed and dispatched). An epoch includes its
validation pass, as in the lesson's logs. Reported: the median seconds per epoch over the measured
rounds with their min and max, and each speed-up as the median of the per-round ratios with its
range. FLOPs: a Dense or Conv2D layer's multiply-adds count 2; training is 3x the forward pass
less the input gradient of the first layer (nothing needs it), plus the validation forward pass.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

EXERCISES = _common.ROOT / "exercises"
CASES = {
    "lesson (tf.keras)": {"backend": "tensorflow", "setup": "lesson"},
    "plain Keras on jax": {"backend": "jax", "setup": "lesson"},
    "aekit (default)": {"backend": None, "setup": "aekit"},
    "aekit on tensorflow": {"backend": "tensorflow", "setup": "aekit"},
}
TARGETS = {
    "vanilla": {"lesson (tf.keras)": 3.5, "plain Keras on jax": 2.0},
    "convolutional": {"lesson (tf.keras)": 2.0},
}
TARGET_ENCODE_BATCH_32 = 100_000


# ---------------------------------------------------------------------------------------- worker


class Worker:
    """One case in this process: build its model once, then train one epoch per request."""

    def __init__(self, model: str, setup: str, n_train: int, n_test: int):
        import numpy as np

        sys.path.insert(0, str(EXERCISES))
        from conformance import EXERCISES as SPECS
        from conformance import load_exercise, seed_as_lesson

        self.model, self.setup = model, setup
        flat = SPECS[model][2] == "flat"
        x_train, _, x_test, _ = _common.mnist(flat=flat, n_train=n_train, n_test=n_test)
        if not flat:
            x_train, x_test = x_train.reshape(-1, 28, 28, 1), x_test.reshape(-1, 28, 28, 1)
        self.x, self.x_test = x_train, x_test
        seed_as_lesson(0)
        if setup == "lesson":
            self.encoder, self.decoder, self.auto = load_exercise(model)(*SPECS[model][1])
        else:
            import aekit

            estimator = (
                aekit.DenseAutoencoder((128, 64), 32, batch_size=256)
                if model == "vanilla"
                else aekit.ConvAutoencoder((16, 8, 8), lesson_layout=True, batch_size=256)
            )
            estimator.epochs = 0  # build the models, train nothing yet
            estimator.fit(x_train)
            self.estimator = estimator
            self.encoder, self.decoder, self.auto = estimator.encoder_, estimator.decoder_, estimator.model_
        self.epoch = 0
        self.np = np

    def train_epoch(self) -> dict:
        from aekit import training

        start = time.perf_counter()
        if self.setup == "lesson":
            logs = self.auto.fit(
                self.x,
                self.x,
                epochs=self.epoch + 1,
                initial_epoch=self.epoch,
                batch_size=256,
                shuffle=True,
                validation_data=(self.x_test, self.x_test),
                verbose=0,
            ).history
        else:
            logs = training.train(
                self.auto,
                self.x,
                plan=training.TrainingPlan(epochs=self.epoch + 1, batch_size=256),
                initial_epoch=self.epoch,
                validation_data=self.x_test,
            )
        seconds = time.perf_counter() - start
        self.epoch += 1
        return {"seconds": seconds, "loss": float(logs["loss"][-1]), "val_loss": float(logs["val_loss"][-1])}

    def inference(self, seconds: float) -> list[dict]:
        """Samples per second of encoding the test images, 32 and 4096 at a time."""
        rows = []
        for batch in (32, 4096):
            chunks = [self.x_test[i : i + batch] for i in range(0, len(self.x_test), batch)][: max(1, 2048 // batch)]
            encode = (
                self.estimator.encode
                if self.setup == "aekit"
                else lambda chunk: self.encoder.predict(chunk, batch_size=len(chunk), verbose=0)
            )
            for chunk in chunks:
                encode(chunk)  # compile
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                for chunk in chunks:
                    encode(chunk)
                    done += len(chunk)
            rows.append({"batch": batch, "samples_per_s": done / (time.perf_counter() - start)})
        return rows

    def flops(self) -> dict:
        forward, first = forward_flops(self.encoder) + forward_flops(self.decoder), first_layer_flops(self.encoder)
        return {"forward": forward, "train_epoch": (3 * forward - first) * len(self.x) + forward * len(self.x_test)}


def forward_flops(model) -> int:
    """Multiply-adds x 2 of the Dense and Conv2D layers of ``model`` (nested models included), per sample."""
    import keras

    total = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        total += _layer_flops(layer, keras)
    return int(total)


def first_layer_flops(model) -> int:
    """Forward FLOPs of the first Dense or Conv2D layer: its input gradient is the one training skips."""
    import keras

    for layer in model._flatten_layers(include_self=False, recursive=True):
        flops = _layer_flops(layer, keras)
        if flops:
            return flops
    return 0


def _layer_flops(layer, keras) -> int:
    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw, cin, cout = layer.kernel.shape
        out_h, out_w = layer.output.shape[1:3]
        return 2 * kh * kw * cin * cout * out_h * out_w
    return 0


def serve(case: dict) -> None:
    """The worker loop: one JSON request per line on stdin, one JSON answer per line on stdout."""
    if case.get("matmul"):
        print(json.dumps(matmul_peak(case["n"], case["reps"])), flush=True)
        return
    worker = Worker(case["model"], case["setup"], case["n_train"], case["n_test"])
    print(json.dumps({"ready": True, **worker.flops()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["do"] == "epoch":
            answer = worker.train_epoch()
        elif request["do"] == "inference":
            answer = {"inference": worker.inference(request["seconds"])}
        else:
            return
        print(json.dumps(answer), flush=True)


def matmul_peak(n: int, reps: int) -> dict:
    """Best float32 matrix-multiply rate of NumPy (OpenBLAS) and of this process's Keras backend."""
    import numpy as np

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)

    def best(fn):
        fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return 2 * n**3 / min(times) / 1e9

    out = {"numpy_gflops": best(lambda: a @ b)}
    import keras

    if keras.backend.backend() == "jax":
        import jax

        f = jax.jit(lambda p, q: p @ q)
        ja, jb = jax.device_put(a), jax.device_put(b)
        out["backend_gflops"] = best(lambda: f(ja, jb).block_until_ready())
    else:
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)
        out["backend_gflops"] = best(lambda: tf.matmul(ta, tb).numpy())
    out["backend"] = keras.backend.backend()
    return out


# ---------------------------------------------------------------------------------------- driver


class Process:
    def __init__(self, case: dict, backend: str | None):
        env = dict(os.environ)
        env.pop("KERAS_BACKEND", None)  # aekit (default) must find no backend chosen
        if backend:
            env["KERAS_BACKEND"] = backend
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(case)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def read(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"worker ended (exit {self.proc.wait()})")

    def ask(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"do": "quit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def measure_model(model: str, n_train: int, n_test: int, rounds: int, inference_seconds: float) -> dict:
    """Start the four cases of ``model``, one warm-up epoch each, then ``rounds`` interleaved epochs."""
    procs = {
        name: Process({"model": model, "setup": c["setup"], "n_train": n_train, "n_test": n_test}, c["backend"])
        for name, c in CASES.items()
    }
    try:
        info = {name: p.read() for name, p in procs.items()}
        results = {name: {"flops": info[name], "warmup": p.ask(do="epoch"), "epochs": []} for name, p in procs.items()}
        for r in range(rounds):
            for name, p in procs.items():
                results[name]["epochs"].append(p.ask(do="epoch"))
            print(
                f"  {model} round {r + 1}/{rounds}: "
                + ", ".join(f"{name} {results[name]['epochs'][-1]['seconds']:.2f}s" for name in procs),
                flush=True,
            )
        for name in ("lesson (tf.keras)", "aekit (default)"):
            results[name]["inference"] = procs[name].ask(do="inference", seconds=inference_seconds)["inference"]
    finally:
        for p in procs.values():
            p.close()
    return results


def main():
    p = _common.parser(__doc__)
    p.add_argument("--worker", help=argparse_hidden())
    p.add_argument(
        "--rounds", type=int, default=None, help="measured epochs per case, after one warm-up (default 5; quick 2)"
    )
    p.add_argument("--models", nargs="*", default=["vanilla", "convolutional"], choices=["vanilla", "convolutional"])
    p.add_argument("--name", default="speed", help="results file name (default speed)")
    args = p.parse_args()
    if args.worker:
        serve(json.loads(args.worker))
        return
    started = time.perf_counter()
    n_train, n_test = (1024, 256) if args.quick else (60000, 10000)
    rounds = args.rounds or (2 if args.quick else 5)
    models = ["vanilla"] if args.quick else args.models
    peaks = []
    for backend in ("jax",) if args.quick else ("jax", "tensorflow"):
        peak = Process({"matmul": True, "n": 512 if args.quick else 2048, "reps": 3 if args.quick else 10}, backend)
        peaks.append(peak.read())
        peak.proc.wait(timeout=60)
    results = {}
    for model in models:
        print(f"training: {model}", flush=True)
        results[model] = measure_model(model, n_train, n_test, rounds, 0.2 if args.quick else 3.0)
    write(args, results, peaks, n_train, rounds, started)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def write(args, results, peaks, n_train, rounds, started):
    peak = max(max(p["numpy_gflops"], p["backend_gflops"]) for p in peaks)
    peak_rows = [
        {
            "backend process": p["backend"],
            "NumPy (OpenBLAS) GFLOP/s": p["numpy_gflops"],
            "backend GFLOP/s": p["backend_gflops"],
        }
        for p in peaks
    ]
    rows, ratio_rows, inference_rows, notes = [], [], [], []
    for model, cases in results.items():
        for name, r in cases.items():
            times = [e["seconds"] for e in r["epochs"]]
            median = statistics.median(times)
            gflops = r["flops"]["train_epoch"] / median / 1e9
            rows.append(
                {
                    "model": model,
                    "case": name,
                    "s/epoch (median)": median,
                    "min": min(times),
                    "max": max(times),
                    "warm-up epoch s": r["warmup"]["seconds"],
                    "GFLOP/s": gflops,
                    "% of matmul peak": 100 * gflops / peak,
                    "val_loss after": r["epochs"][-1]["val_loss"],
                }
            )
            for inf in r.get("inference", []):
                inference_rows.append(
                    {"model": model, "case": name, "batch": inf["batch"], "samples/s": inf["samples_per_s"]}
                )
        ours = [e["seconds"] for e in cases["aekit (default)"]["epochs"]]
        for reference, target in TARGETS.get(model, {}).items():
            theirs = [e["seconds"] for e in cases[reference]["epochs"]]
            ratios = [t / o for t, o in zip(theirs, ours)]
            ratio = statistics.median(ratios)
            met = min(ratios) >= target
            ratio_rows.append(
                {
                    "model": model,
                    "aekit (default) vs": reference,
                    "speed-up (median)": ratio,
                    "min": min(ratios),
                    "max": max(ratios),
                    "target": target,
                    "status": "met" if met else ("missed" if ratio < target else "within the spread"),
                }
            )
            notes.append(
                f"{model}: aekit's default path is {ratio:.2f}x {reference} (per-round range {min(ratios):.2f}-"
                f"{max(ratios):.2f}); target >= {target}x: "
                + ("met." if met else "missed." if ratio < target else "not met beyond the spread.")
            )
    enc = [r for r in inference_rows if r["case"] == "aekit (default)" and r["batch"] == 32]
    if enc:
        best = max(r["samples/s"] for r in enc)
        notes.append(
            f"encode at batch 32 on aekit's default path: {best:,.0f} samples/s; target >= {TARGET_ENCODE_BATCH_32:,}: "
            + ("met." if best >= TARGET_ENCODE_BATCH_32 else "missed.")
        )
    notes.append(f"matmul peak used for the percentages: {peak:.0f} GFLOP/s (best of NumPy, jax and tf in this run).")
    if args.quick:
        notes.append("--quick: 1,024 training images, 2 rounds; the figures only show that the script runs.")
    _common.write_result(
        args,
        args.name,
        "Speed: exercise models, aekit's default path vs the lesson's setup",
        {
            "Matrix-multiply peak (float32, 2048x2048)": (list(peak_rows[0]), peak_rows),
            f"Training, seconds per epoch ({n_train:,} images + validation, batch 256, "
            f"{rounds} interleaved rounds after a warm-up)": (
                [
                    "model",
                    "case",
                    "s/epoch (median)",
                    "min",
                    "max",
                    "warm-up epoch s",
                    "GFLOP/s",
                    "% of matmul peak",
                    "val_loss after",
                ],
                rows,
            ),
            "Speed-ups of aekit's default path (median of per-round ratios)": (
                ["model", "aekit (default) vs", "speed-up (median)", "min", "max", "target", "status"],
                ratio_rows,
            ),
            "Inference: encoding the test images, samples per second": (
                ["model", "case", "batch", "samples/s"],
                inference_rows,
            ),
        },
        budget="full" if not args.quick else "quick",
        notes=notes,
        started=started,
        extra={"results": results, "matmul_peak_gflops": peak},
    )


if __name__ == "__main__":
    main()
