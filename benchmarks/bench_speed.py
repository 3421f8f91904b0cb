#!/usr/bin/env python3
"""Training and inference speed of the exercise models: aekit's defaults vs the lesson's setup.

    python benchmarks/bench_speed.py            # full: all 60,000 MNIST images per epoch (~20 min)
    python benchmarks/bench_speed.py --quick    # 1,024 images, seconds

Each case runs in its own Python process (Keras picks its backend once per process), one after
the other, so every figure of a table comes from the same run on the same machine:

* **aekit**: the exercise file's model trained with ``aekit.training.train`` on aekit's default
  backend (jax), batch 256, validation on the 10,000 test images each epoch.
* **lesson**: the same model the way the lesson's ``N-main.py`` trains it: tensorflow backend,
  Keras defaults, ``auto.fit(..., batch_size=256, shuffle=True, validation_data=...)``.
* **variants**: single changes to those two (``steps_per_execution``, ``jit_compile``, XLA CPU
  flags, threads, batch size), the candidates for faster library defaults.

Seconds per epoch are the median of the epochs after the first (the first compiles); an epoch
includes the validation pass, as in the lesson's logs. FLOP/s count multiply-adds of the Dense
and Conv2D layers as 2 FLOPs, training as 3x the forward pass, plus the validation forward pass,
against the best float32 matrix multiply measured in the same run (NumPy/OpenBLAS, jax, tf).
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

# Each case: a label and what differs from the default (backend, setup, training options, environment).
BASE_CASES = [
    {"model": m, "label": label, "backend": backend, "setup": setup}
    for m in ("vanilla", "sparse", "convolutional", "variational")
    for label, backend, setup in (("aekit (jax)", "jax", "aekit"), ("lesson (tensorflow)", "tensorflow", "lesson"))
]
VARIANTS = [
    # dense exercise model
    {"model": "vanilla", "label": "jax, steps_per_execution=16", "backend": "jax", "setup": "aekit", "steps_per_execution": 16},
    {"model": "vanilla", "label": "jax, steps_per_execution=64", "backend": "jax", "setup": "aekit", "steps_per_execution": 64},
    {"model": "vanilla", "label": "jax, XLA single thread", "backend": "jax", "setup": "aekit",
     "env": {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}},
    {"model": "vanilla", "label": "jax, no validation pass", "backend": "jax", "setup": "aekit", "validation": False},
    {"model": "vanilla", "label": "jax, batch 1024", "backend": "jax", "setup": "aekit", "batch_size": 1024},
    {"model": "vanilla", "label": "tensorflow, jit_compile=True", "backend": "tensorflow", "setup": "lesson", "jit_compile": True},
    {"model": "vanilla", "label": "tensorflow, steps_per_execution=16", "backend": "tensorflow", "setup": "lesson", "steps_per_execution": 16},
    {"model": "vanilla", "label": "tensorflow, jit + steps_per_execution=16", "backend": "tensorflow", "setup": "lesson",
     "jit_compile": True, "steps_per_execution": 16},
    # aekit's training loop on tensorflow (KERAS_BACKEND=tensorflow), the faster backend for convolutions here
    *[{"model": m, "label": "aekit on tensorflow", "backend": "tensorflow", "setup": "aekit"} for m in ("vanilla", "convolutional")],
    # convolutional exercise model
    {"model": "convolutional", "label": "jax, steps_per_execution=16", "backend": "jax", "setup": "aekit", "steps_per_execution": 16},
    {"model": "convolutional", "label": "jax, XLA single thread", "backend": "jax", "setup": "aekit",
     "env": {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}},
    {"model": "convolutional", "label": "tensorflow, jit_compile=True", "backend": "tensorflow", "setup": "lesson", "jit_compile": True},
    {"model": "convolutional", "label": "tensorflow, steps_per_execution=16", "backend": "tensorflow", "setup": "lesson", "steps_per_execution": 16},
    {"model": "convolutional", "label": "tensorflow, TF_ENABLE_ONEDNN_OPTS=0", "backend": "tensorflow", "setup": "lesson",
     "env": {"TF_ENABLE_ONEDNN_OPTS": "0"}},
    # XLA:CPU library back-ends (jax): oneDNN and XNNPACK kernels for dots and convolutions
    *[{"model": m, "label": f"jax, XLA_FLAGS={flag}", "backend": "jax", "setup": "aekit", "env": {"XLA_FLAGS": flag}}
      for m in ("vanilla", "convolutional")
      for flag in ("--xla_cpu_use_onednn=true", "--xla_cpu_use_xnnpack=true", "--xla_cpu_experimental_onednn_custom_call=true")],
    # aekit.layers.ReshapeMaxPooling2D in place of keras.layers.MaxPooling2D (same function, cheaper gradient on XLA)
    {"model": "convolutional", "label": "jax, ReshapeMaxPooling2D", "backend": "jax", "setup": "aekit", "layers": "aekit.layers"},
    {"model": "convolutional", "label": "jax, ReshapeMaxPooling2D + XNNPACK", "backend": "jax", "setup": "aekit", "layers": "aekit.layers",
     "env": {"XLA_FLAGS": "--xla_cpu_use_xnnpack=true"}},
]
TARGET_SPEEDUP = 3.5
TARGET_PEAK_FRACTION = 0.80
TARGET_ENCODE_PER_S = 300_000


# ---------------------------------------------------------------------------------------- worker


def worker(case: dict) -> dict:
    """Run one case in this process (its backend is already set in the environment)."""
    sys.path.insert(0, str(EXERCISES))
    import numpy as np

    if case["model"] == "matmul":
        return matmul_peak(case)
    import keras

    from aekit import training
    from conformance import EXERCISES as SPECS
    from conformance import load_exercise, seed_as_lesson

    if case.get("layers") == "aekit.layers":  # the faster drop-in layers, in place of Keras' own
        from aekit import layers as speed

        keras.layers.MaxPooling2D = speed.ReshapeMaxPooling2D
    seed_as_lesson(0)
    x_train, _, x_test, _ = _common.mnist(flat=SPECS[case["model"]][2] == "flat", n_train=case["n_train"], n_test=case["n_test"])
    if SPECS[case["model"]][2] == "image":
        x_train, x_test = x_train.reshape(-1, 28, 28, 1), x_test.reshape(-1, 28, 28, 1)
    encoder, decoder, auto = load_exercise(case["model"])(*SPECS[case["model"]][1])
    if case.get("jit_compile") is not None or case.get("steps_per_execution"):
        # the same optimizer and loss, with the one option changed
        auto.compile(optimizer=auto.optimizer, loss=auto.loss,
                     jit_compile=case.get("jit_compile", "auto"), steps_per_execution=case.get("steps_per_execution", 1))

    epoch_times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(time.perf_counter() - self.t0)

    batch = case.get("batch_size", 256)
    validation = (x_test, x_test) if case.get("validation", True) else None
    if case["setup"] == "aekit":
        history = training.train(auto, x_train, epochs=case["epochs"], batch_size=batch,
                                 validation_data=validation, callbacks=[EpochTimer()])
    else:  # the lesson's main: auto.fit with Keras defaults
        history = auto.fit(x_train, x_train, epochs=case["epochs"], batch_size=batch, shuffle=True,
                           validation_data=validation, callbacks=[EpochTimer()], verbose=0).history
    steady = epoch_times[1:] or epoch_times
    forward = forward_flops(encoder) + forward_flops(decoder)
    flops_per_epoch = 3 * forward * len(x_train) + (forward * len(x_test) if validation else 0)
    result = {
        **case,
        "keras_backend": keras.backend.backend(),
        "n_train_used": len(x_train),
        "epoch_seconds": epoch_times,
        "first_epoch_s": epoch_times[0],
        "s_per_epoch": statistics.median(steady),
        "s_per_epoch_min": min(steady),
        "forward_flops_per_sample": forward,
        "gflops_achieved": flops_per_epoch / statistics.median(steady) / 1e9,
        "final_loss": history["loss"][-1],
        "final_val_loss": history.get("val_loss", [None])[-1],
    }
    if case.get("inference"):
        result["inference"] = inference_speed(training, encoder, auto, x_test, case["n_test"], case["inference_seconds"])
    return result


def forward_flops(model) -> int:
    """Multiply-adds x 2 of the Dense and Conv2D layers of ``model`` (nested models included), per sample."""
    import math

    import keras

    total = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            out_h, out_w = layer.output.shape[1:3]
            total += 2 * kh * kw * cin * cout * out_h * out_w
    return int(total) if total else math.nan


def inference_speed(training, encoder, auto, x, n, seconds) -> list[dict]:
    """Samples per second of ``training.predict`` for encode and reconstruct, small and large batches."""
    rows = []
    for what, model in (("encode", encoder), ("reconstruct", auto)):
        for batch in (32, 4096):
            chunk = x[:batch] if batch <= len(x) else x
            training.predict(model, chunk, batch_size=batch)  # compile
            total, runs, start = 0, 0, time.perf_counter()
            best = float("inf")
            while time.perf_counter() - start < seconds or runs < 3:
                t0 = time.perf_counter()
                training.predict(model, x[:n], batch_size=batch)
                best = min(best, time.perf_counter() - t0)
                runs += 1
            rows.append({"what": what, "batch": batch, "samples": min(n, len(x)), "samples_per_s": min(n, len(x)) / best})
    return rows


def matmul_peak(case: dict) -> dict:
    """Best float32 matrix-multiply rate of NumPy (OpenBLAS) and the process's Keras backend."""
    import numpy as np

    n = case["n"]
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    flops = 2 * n**3
    out = {"model": "matmul", "n": n, "backend": case["backend"]}

    def best_of(fn, reps):
        fn()
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return flops / best / 1e9

    out["numpy_gflops"] = best_of(lambda: a @ b, case["reps"])
    if case["backend"] == "jax":
        import jax

        f = jax.jit(lambda p, q: p @ q)
        ja, jb = jax.device_put(a), jax.device_put(b)
        out["backend_gflops"] = best_of(lambda: f(ja, jb).block_until_ready(), case["reps"])
    else:
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)
        f = tf.function(lambda p, q: tf.matmul(p, q))
        out["backend_gflops"] = best_of(lambda: f(ta, tb).numpy(), case["reps"])
    return out


# ---------------------------------------------------------------------------------------- driver


def run_case(case: dict, timeout: float) -> dict:
    env = {**os.environ, "KERAS_BACKEND": case["backend"], **case.get("env", {})}
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(case)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**case, "error": f"timed out after {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {**case, "error": " / ".join(tail)[:300] or f"exit {proc.returncode}"}
    result = json.loads(lines[-1])
    result["process_seconds"] = time.perf_counter() - t0
    print(f"  {case['model']:<14} {case['label']:<45} "
          + (f"{result['s_per_epoch']:.3f} s/epoch" if "s_per_epoch" in result else f"{result.get('backend_gflops', 0):.0f} GFLOP/s"),
          flush=True)
    return result


def main():
    p = _common.parser(__doc__)
    p.add_argument("--worker", help=argparse_hidden())
    p.add_argument("--epochs", type=int, default=None, help="epochs per case (default 4; conv 3; quick 2)")
    p.add_argument("--no-variants", action="store_true", help="only aekit vs lesson, no candidate settings")
    p.add_argument("--select", nargs="*", default=None,
                   help="run only the cases whose 'model: setting' contains one of these strings (the aekit/lesson pair of each model is kept)")
    p.add_argument("--name", default="speed", help="results file name (default speed)")
    p.add_argument("--n-train", type=int, default=60000, help="training images per epoch (default all 60,000)")
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker)), default=_common._jsonable))
        return
    started = time.perf_counter()
    n_train, n_test = (512, 256) if args.quick else (args.n_train, 10000)
    cases = BASE_CASES + ([] if args.no_variants else VARIANTS)
    if args.quick:  # the dense pair and one variant: the code paths, in seconds (conv compiles too slowly)
        cases = BASE_CASES[:2] + [VARIANTS[0]]
    if args.select:
        chosen = [c for c in cases if any(sel in f"{c['model']}: {c['label']}" for sel in args.select)]
        models = {c["model"] for c in chosen}
        cases = [c for c in BASE_CASES if c["model"] in models and c not in chosen] + chosen
        cases = [c for c in cases if c in BASE_CASES] + [c for c in cases if c not in BASE_CASES]
    results = []
    print("matrix-multiply peak")
    for backend in ("jax",) if args.quick else ("jax", "tensorflow"):
        results.append(run_case({"model": "matmul", "label": "matmul", "backend": backend,
                                 "n": 512 if args.quick else 2048, "reps": 3 if args.quick else 10}, 600))
    print("training")
    for case in cases:
        epochs = args.epochs or (2 if args.quick else (3 if case["model"] == "convolutional" else 4))
        case = {**case, "epochs": epochs, "n_train": n_train, "n_test": n_test,
                "inference": case["label"] in ("aekit (jax)", "lesson (tensorflow)"),
                "inference_seconds": 0.1 if args.quick else 2.0}
        results.append(run_case(case, 3600))
    write(args, results, started)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def write(args, results, started):
    n_train = next((r["n_train_used"] for r in results if "n_train_used" in r), 0)
    peaks = [r for r in results if r["model"] == "matmul" and "error" not in r]
    peak = max([max(r["numpy_gflops"], r["backend_gflops"]) for r in peaks], default=float("nan"))
    runs = [r for r in results if r["model"] != "matmul"]
    lesson = {r["model"]: r for r in runs if r["label"] == "lesson (tensorflow)" and "error" not in r}
    aekit = {r["model"]: r for r in runs if r["label"] == "aekit (jax)" and "error" not in r}

    peak_rows = [{"backend process": r["backend"], "matrix": f"{r['n']}x{r['n']} float32",
                  "NumPy (OpenBLAS) GFLOP/s": r["numpy_gflops"], "backend GFLOP/s": r["backend_gflops"]} for r in peaks]

    main_rows, variant_rows = [], []
    for r in runs:
        if "error" in r:
            variant_rows.append({"model": r["model"], "setting": r["label"], "error": r["error"]})
            continue
        ref = lesson.get(r["model"])
        row = {
            "model": r["model"],
            "setting": r["label"],
            "s/epoch (median)": r["s_per_epoch"],
            "s/epoch (min)": r["s_per_epoch_min"],
            "first epoch s": r["first_epoch_s"],
            "speed-up vs lesson": ref["s_per_epoch"] / r["s_per_epoch"] if ref else None,
            "GFLOP/s": r["gflops_achieved"],
            "% of matmul peak": 100 * r["gflops_achieved"] / peak,
            "final val_loss": r["final_val_loss"],
        }
        (main_rows if r["label"] in ("aekit (jax)", "lesson (tensorflow)") else variant_rows).append(row)

    inference_rows = []
    for r in runs:
        for inf in r.get("inference") or []:
            inference_rows.append({"model": r["model"], "setting": r["label"], "call": inf["what"],
                                   "batch": inf["batch"], "samples/s": inf["samples_per_s"]})

    notes = [f"matmul peak used for the percentages: {peak:.0f} GFLOP/s (best of NumPy, jax and tf in this run)."]
    for model, r in aekit.items():
        ref = lesson.get(model)
        if not ref:
            continue
        speedup = ref["s_per_epoch"] / r["s_per_epoch"]
        if model in ("vanilla", "convolutional"):
            verdict = "meets" if speedup >= TARGET_SPEEDUP else f"misses (needs {r['s_per_epoch'] - ref['s_per_epoch'] / TARGET_SPEEDUP:.2f} s/epoch less)"
            notes.append(f"{model}: aekit {r['s_per_epoch']:.2f} s/epoch vs lesson {ref['s_per_epoch']:.2f} s/epoch = "
                         f"{speedup:.2f}x; target >= {TARGET_SPEEDUP}x {verdict}.")
    if "vanilla" in aekit and peak == peak:
        frac = aekit["vanilla"]["gflops_achieved"] / peak
        notes.append(f"vanilla under aekit reaches {100 * frac:.0f}% of the matmul peak; target >= {100 * TARGET_PEAK_FRACTION:.0f}% "
                     + ("met." if frac >= TARGET_PEAK_FRACTION else "missed."))
    enc = [row for row in inference_rows if row["setting"] == "aekit (jax)" and row["call"] == "encode" and row["model"] == "vanilla"]
    if enc:
        best = max(row["samples/s"] for row in enc)
        notes.append(f"vanilla encode under aekit: best {best:,.0f} samples/s; target >= {TARGET_ENCODE_PER_S:,} "
                     + ("met." if best >= TARGET_ENCODE_PER_S else "missed."))
    if args.quick:
        notes.append("--quick: 512 training images, 2 epochs; the figures only show that the script runs.")
    else:
        notes.append("Cases ran one after the other in one run; the load average at start and end is in the header "
                     "(2 cores: a load near 2 means the run had the machine to itself).")
    _common.write_result(
        args, args.name, "Speed: exercise models, aekit defaults vs the lesson's setup" + ("" if args.name == "speed" else f" ({args.name})"),
        {"Matrix-multiply peak (float32)": (list(peak_rows[0]) if peak_rows else [], peak_rows),
         f"Training, seconds per epoch ({n_train:,} images + 10,000 validation, batch 256)": (
             ["model", "setting", "s/epoch (median)", "s/epoch (min)", "first epoch s", "speed-up vs lesson", "GFLOP/s", "% of matmul peak", "final val_loss"], main_rows),
         "Candidate settings (one change each)": (
             ["model", "setting", "s/epoch (median)", "s/epoch (min)", "first epoch s", "speed-up vs lesson", "GFLOP/s", "% of matmul peak", "final val_loss", "error"], variant_rows),
         "Inference (aekit.training.predict), samples per second": (["model", "setting", "call", "batch", "samples/s"], inference_rows)},
        budget="full" if not args.quick else "quick", notes=notes, started=started, extra={"runs": results, "matmul_peak_gflops": peak})


if __name__ == "__main__":
    main()
