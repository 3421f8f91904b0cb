#!/usr/bin/env python3
"""Interleaved A/B of training settings: which change makes an epoch faster, load drift cancelled.

    python benchmarks/bench_settings.py            # dense on 60,000 images, conv on 6,000; 4 rounds
    python benchmarks/bench_settings.py --quick    # tiny data, 2 rounds, seconds

On a shared machine the load changes from minute to minute, so settings timed one after the other
are not comparable. Here one process per backend builds one model per setting (same exercise
model, same initial weights) and trains them in turns, one epoch each, for several rounds: every
setting sees the same load. Reported: the median seconds per epoch over the rounds after the first
(which compiles) and the ratio to the backend's default setting. No validation pass (the settings
act on training). Settings: ``steps_per_execution``, ``jit_compile``, batch size, and on jax
``aekit.layers.ReshapeMaxPooling2D`` in place of ``MaxPooling2D`` for the convolutional model.
"""

import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

SETTINGS = {
    ("jax", "vanilla"): [
        {"setting": "default (batch 256)"},
        {"setting": "steps_per_execution=8", "steps_per_execution": 8},
        {"setting": "steps_per_execution=32", "steps_per_execution": 32},
        {"setting": "batch 512", "batch_size": 512},
        {"setting": "batch 1024", "batch_size": 1024},
    ],
    ("tensorflow", "vanilla"): [
        {"setting": "default (batch 256)"},
        {"setting": "jit_compile=True", "jit_compile": True},
        {"setting": "steps_per_execution=32", "steps_per_execution": 32},
        {"setting": "jit_compile=True, steps_per_execution=32", "jit_compile": True, "steps_per_execution": 32},
    ],
    ("jax", "convolutional"): [
        {"setting": "default (batch 256)"},
        {"setting": "ReshapeMaxPooling2D", "layers": "aekit.layers"},
        {"setting": "steps_per_execution=8", "steps_per_execution": 8},
    ],
    ("tensorflow", "convolutional"): [
        {"setting": "default (batch 256)"},
        {"setting": "jit_compile=True", "jit_compile": True},
    ],
}


def worker(spec):
    sys.path.insert(0, str(_common.ROOT / "exercises"))
    import keras
    from conformance import EXERCISES, load_exercise

    model_name = spec["model"]
    flat = EXERCISES[model_name][2] == "flat"
    x, _, _, _ = _common.mnist(flat=flat, n_train=spec["n_train"], n_test=10)
    if not flat:
        x = x.reshape(-1, 28, 28, 1)
    models = []
    original_pool = keras.layers.MaxPooling2D
    for setting in spec["settings"]:
        keras.utils.set_random_seed(0)
        if setting.get("layers") == "aekit.layers":
            from aekit import layers as speed

            keras.layers.MaxPooling2D = speed.ReshapeMaxPooling2D
        _, _, auto = load_exercise(model_name)(*EXERCISES[model_name][1])
        keras.layers.MaxPooling2D = original_pool
        if setting.get("jit_compile") is not None or setting.get("steps_per_execution"):
            auto.compile(
                optimizer=auto.optimizer,
                loss=auto.loss,
                jit_compile=setting.get("jit_compile", "auto"),
                steps_per_execution=setting.get("steps_per_execution", 1),
            )
        models.append(auto)
    times = [[] for _ in models]
    for _ in range(spec["rounds"]):
        for i, (setting, auto) in enumerate(zip(spec["settings"], models)):
            t0 = time.perf_counter()
            auto.fit(x, x, epochs=1, batch_size=setting.get("batch_size", 256), shuffle=True, verbose=0)
            times[i].append(time.perf_counter() - t0)
    rows = []
    for setting, t in zip(spec["settings"], times):
        steady = t[1:] or t
        rows.append({"setting": setting["setting"], "epoch_seconds": t, "s_per_epoch": statistics.median(steady)})
    return {"backend": keras.backend.backend(), "model": model_name, "n_train": len(x), "rows": rows}


def main():
    p = _common.parser(__doc__)
    p.add_argument("--worker", help=__import__("argparse").SUPPRESS)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--only", choices=("vanilla", "convolutional"), default=None)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    started = time.perf_counter()
    rows, runs = [], []
    for (backend, model), settings in SETTINGS.items():
        if args.only and model != args.only:
            continue
        if args.quick and (model != "vanilla" or backend != os.environ.get("KERAS_BACKEND", "jax")):
            continue
        n_train = 512 if args.quick else (60000 if model == "vanilla" else 6000)
        spec = {
            "model": model,
            "settings": settings[:2] if args.quick else settings,
            "n_train": n_train,
            "rounds": 2 if args.quick else args.rounds,
        }
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
            env={**os.environ, "KERAS_BACKEND": backend},
            capture_output=True,
            text=True,
        )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            rows.append(
                {"backend": backend, "model": model, "setting": "(failed)", "error": proc.stderr.strip()[-300:]}
            )
            continue
        result = json.loads(lines[-1])
        runs.append(result)
        base = result["rows"][0]["s_per_epoch"]
        for r in result["rows"]:
            rows.append(
                {
                    "backend": backend,
                    "model": model,
                    "images/epoch": result["n_train"],
                    "setting": r["setting"],
                    "s/epoch (median)": r["s_per_epoch"],
                    "speed-up vs default": base / r["s_per_epoch"],
                }
            )
            print(f"{backend:<11} {model:<14} {r['setting']:<45} {r['s_per_epoch']:.3f} s/epoch", flush=True)
    notes = [
        "Settings of one backend and model trained in turns in one process, one epoch each; median of rounds 2..N.",
        "Batch sizes other than 256 change the optimisation (fewer, larger steps): "
        "faster epochs are not faster quality.",
    ]
    _common.write_result(
        args,
        "settings",
        "Training settings, interleaved A/B (seconds per epoch, no validation)",
        {
            "": (
                ["backend", "model", "images/epoch", "setting", "s/epoch (median)", "speed-up vs default", "error"],
                rows,
            )
        },
        budget=f"full ({args.rounds} rounds)",
        notes=notes,
        started=started,
        extra={"runs": runs},
    )


if __name__ == "__main__":
    main()
