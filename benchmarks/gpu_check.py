#!/usr/bin/env python3
"""aekit on a GPU machine: what jax sees, the exercise models' speed, data-parallel training on all devices.

Install (from a fresh checkout; jax's CUDA wheels come from pip):

    pip install -e . "jax[cuda12]"

Run (MNIST is read from $AEKIT_DATA_DIR, ./shared/datasets, ../shared/datasets or Keras' cache;
without it the script trains on random MNIST-shaped data and says so):

    OUT=gpu-results python benchmarks/gpu_check.py          # about 2-4 minutes on one H100
    python benchmarks/gpu_check.py --quick --out /tmp/g      # tiny sizes, any machine (the test suite's check)

What it does, each step timed and written as it finishes into ``$OUT/gpu_check.json`` (or ``--out``):

1. prints and records ``jax.devices()``, the backend, versions and ``nvidia-smi``;
2. trains the dense exercise model (``DenseAutoencoder((128, 64), 32)``) and the convolutional one
   (``ConvAutoencoder((16, 8, 8), lesson_layout=True)``) on MNIST's 60,000 training images, batch 256,
   validation each epoch, through aekit's default path; reports s/epoch and samples/s (the median of
   the epochs after the first, which compiles) and encoding samples/s;
3. trains the dense model data-parallel over all local devices: ``fit(..., distribution="all")``
   (Keras' ``DataParallel``; on one GPU a one-device mesh, so the distributed path still runs),
   the command line's ``aekit train dense --devices all``, and compares the losses with step 2's;
4. streams the same images from ``.npy`` shards written to a temporary folder and compares the
   dense model's samples/s with in-memory training.

A step that fails is recorded with its error and the script goes on; steps are skipped when the
time budget (``--budget`` seconds, default 270) would run out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def epoch_clock(times: list):
    """A Keras callback that appends each epoch's wall seconds to ``times`` (bench_scale.py uses it too)."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    return EpochClock()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ["OUT"]) if os.environ.get("OUT") else None,
        help="folder for gpu_check.json (default: $OUT)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny data and one epoch: checks the script, numbers mean nothing"
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default 4; 2 with --quick)")
    parser.add_argument("--budget", type=float, default=270.0, help="seconds after which remaining steps are skipped")
    args = parser.parse_args()
    if args.out is None:
        parser.error("name the results folder with --out or $OUT")
    args.out.mkdir(parents=True, exist_ok=True)
    _find_mnist()
    check = Check(args)
    check.step("devices", check.devices)
    x_train, x_test, source = check.data()
    check.step("dense", lambda: check.train("dense", x_train, x_test))
    check.step("conv", lambda: check.train("conv", x_train.reshape(-1, 28, 28, 1), x_test.reshape(-1, 28, 28, 1)))
    check.step("data_parallel", lambda: check.data_parallel(x_train, x_test))
    check.step("command_line_devices_all", lambda: check.command_line())
    check.step("streamed_shards", lambda: check.streamed(x_train))
    check.save()
    print(json.dumps(check.results["summary"], indent=2))
    return 0


def _find_mnist() -> None:
    if os.environ.get("AEKIT_DATA_DIR"):
        return
    for folder in (ROOT / "shared" / "datasets", ROOT.parent / "shared" / "datasets"):
        if (folder / "mnist.npz").is_file():
            os.environ["AEKIT_DATA_DIR"] = str(folder)
            return


class Check:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.epochs = args.epochs or (2 if args.quick else 4)
        self.started = time.perf_counter()
        self.results = {
            "script": "benchmarks/gpu_check.py" + (" --quick" if args.quick else ""),
            "steps": {},
            "summary": {},
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        }

    # ------------------------------------------------------------------ bookkeeping

    def step(self, name, run):
        left = self.args.budget - (time.perf_counter() - self.started)
        if left < 20 and name != "devices":
            self.results["steps"][name] = {"skipped": f"time budget: {left:.0f} s left"}
            print(f"[{name}] skipped: {left:.0f} s of the budget left", flush=True)
            return
        print(f"[{name}] ...", flush=True)
        start = time.perf_counter()
        try:
            result = run()
            result["seconds"] = round(time.perf_counter() - start, 1)
        except Exception as exc:  # recorded, and the next step runs
            result = {
                "error": f"{exc.__class__.__name__}: {exc}",
                "traceback": traceback.format_exc()[-3000:],
                "seconds": round(time.perf_counter() - start, 1),
            }
        self.results["steps"][name] = result
        print(
            f"[{name}] {json.dumps({k: v for k, v in result.items() if k != 'traceback'}, default=str)[:1500]}",
            flush=True,
        )
        self.save()

    def save(self):
        self.results["wall_seconds"] = round(time.perf_counter() - self.started, 1)
        (self.args.out / "gpu_check.json").write_text(json.dumps(self.results, indent=2, default=str))

    # ------------------------------------------------------------------ steps

    def devices(self):
        import jax
        import keras

        import aekit

        devices = jax.devices()
        info = {
            "jax_devices": [str(d) for d in devices],
            "device_kind": devices[0].device_kind,
            "platform": devices[0].platform,
            "local_device_count": jax.local_device_count(),
            "backend": keras.backend.backend(),
            "jax": jax.__version__,
            "keras": keras.__version__,
            "aekit": aekit.__version__,
            "python": platform.python_version(),
        }
        try:
            info["nvidia_smi"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            info["nvidia_smi"] = None
        print("jax.devices():", devices, flush=True)
        self.results["summary"]["devices"] = info["jax_devices"]
        return info

    def data(self):
        import numpy as np

        from aekit.datasets import find_mnist, load_dataset

        n_train, n_test = (1024, 256) if self.quick else (60000, 10000)
        if find_mnist() is not None:
            data = load_dataset("mnist", flat=True, download=False)
            x_train, x_test, source = data.x_train[:n_train], data.x_test[:n_test], "MNIST"
        else:
            rng = np.random.default_rng(0)
            x_train = rng.random((n_train, 784), dtype=np.float32)
            x_test = rng.random((n_test, 784), dtype=np.float32)
            source = "random MNIST-shaped data (MNIST not found: set AEKIT_DATA_DIR)"
        self.results["data"] = {"source": source, "train": len(x_train), "test": len(x_test)}
        print(f"data: {source}, {len(x_train)} training and {len(x_test)} test samples", flush=True)
        return x_train, x_test, source

    def _fit(self, model, x, x_test, **kwargs):
        times = []
        model.fit(x, validation_data=x_test, callbacks=[epoch_clock(times)], **kwargs)
        measured = sorted(times[1:] or times)
        per_epoch = measured[len(measured) // 2]
        return {
            "epochs": len(times),
            "first_epoch_s": round(times[0], 3),
            "s_per_epoch": round(per_epoch, 4),
            "samples_per_s": round(len(x) / per_epoch),
            "loss": model.history_["loss"],
            "val_loss": model.history_.get("val_loss"),
        }

    def _model(self, family):
        import aekit

        if family == "dense":
            return aekit.DenseAutoencoder((128, 64), 32, batch_size=256, epochs=self.epochs, seed=0)
        return aekit.ConvAutoencoder((16, 8, 8), lesson_layout=True, batch_size=256, epochs=self.epochs, seed=0)

    def train(self, family, x, x_test):
        model = self._model(family)
        result = self._fit(model, x, x_test)
        start = time.perf_counter()
        codes = model.encode(x)
        result["encode_samples_per_s"] = round(len(codes) / (time.perf_counter() - start))
        self.results["summary"][f"{family}_s_per_epoch"] = result["s_per_epoch"]
        self.results["summary"][f"{family}_samples_per_s"] = result["samples_per_s"]
        return result

    def data_parallel(self, x, x_test):
        import jax
        import keras

        devices = jax.local_devices()
        # "all" is Keras' DataParallel over every device; on one device aekit trains without a mesh, so
        # the distributed path is also run explicitly on a mesh of all local devices (one, or more)
        distribution = keras.distribution.DataParallel(devices=devices)
        result = {
            "devices": len(devices),
            "mesh": self._fit(self._model("dense"), x, x_test, distribution=distribution),
        }
        if len(devices) > 1:
            result["all"] = self._fit(self._model("dense"), x, x_test, distribution="all")
        dense = self.results["steps"].get("dense", {})
        if "loss" in dense:
            result["max_loss_difference_vs_one_device"] = max(
                abs(a - b) for a, b in zip(dense["loss"], result["mesh"]["loss"])
            )
        self.results["summary"]["data_parallel_devices"] = len(devices)
        self.results["summary"]["data_parallel_samples_per_s"] = result["mesh"]["samples_per_s"]
        return result

    def command_line(self):
        out = Path(tempfile.mkdtemp(prefix="aekit-gpu-"))
        try:
            argv = [
                sys.executable,
                "-c",
                "import sys; from aekit.cli import main; sys.exit(main())",
                "train",
                "dense",
                "--hidden",
                "128,64",
                "--latent",
                "32",
                "--epochs",
                str(self.epochs),
                "--devices",
                "all",
                "--out",
                str(out / "run"),
                "--json",
                "-q",
            ]
            from aekit.datasets import find_mnist

            if self.quick:
                argv[5:5] = ["--data", "digits"]
            elif find_mnist() is not None:
                argv[5:5] = ["--data", "mnist"]
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=max(30, self.args.budget))
            result = {
                "command": "aekit " + " ".join(argv[3:]).replace(str(out), "TMP"),
                "status": proc.returncode,
                "stderr": proc.stderr[-1500:],
            }
            if proc.returncode == 0:
                result["result"] = json.loads(proc.stdout.strip().splitlines()[-1])["metrics"]
                result["settings_devices"] = json.loads((out / "run" / "settings.json").read_text()).get("devices")
            return result
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def streamed(self, x):
        import numpy as np

        from aekit.datasets import open_source

        folder = Path(tempfile.mkdtemp(prefix="aekit-gpu-shards-"))
        try:
            pixels = np.round(x.reshape(-1, 28, 28) * 255).astype(np.uint8)
            for k, lo in enumerate(range(0, len(pixels), 10_000)):
                np.save(folder / f"part-{k:03d}.npy", pixels[lo : lo + 10_000])
            source = open_source(folder)
            streamed = self._fit(self._model("dense"), source.reshape(len(source), -1), None)
            memory = self._fit(self._model("dense"), np.asarray(source).reshape(len(source), -1), None)
            ratio = streamed["samples_per_s"] / memory["samples_per_s"]
            self.results["summary"]["streamed_vs_in_memory"] = round(ratio, 3)
            return {"streamed": streamed, "in_memory": memory, "ratio": round(ratio, 3)}
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
