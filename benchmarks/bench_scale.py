#!/usr/bin/env python3
"""Scaling beyond memory: peak memory when the data grows 10x, and streaming's speed against in-memory data.

    python benchmarks/bench_scale.py            # full: MNIST's 60,000 training images, 1x and 10x (600,000)
    python benchmarks/bench_scale.py --quick    # 512 images, seconds

MNIST's training images are written into a temporary folder (removed afterwards) in two forms:
PNG files (1,000 per sub-folder) and ``.npy`` shards of 10,000 uint8 images; the 10x data repeats
each file ten times (hard links where the file system allows, so the disk holds the bytes once,
while aekit still opens and decodes 600,000 files). Each case then runs in a fresh Python process
that trains the dense exercise model (``DenseAutoencoder((128, 64), 32)``, batch 256, jax) on it:

* **streamed**: ``aekit.datasets.open_source(folder)`` passed to ``fit``, read batch by batch;
* **in memory**: the same images as one float32 array (``load_dataset("mnist")``, tiled 10x).

Reported per case: seconds to open the source (the header scan of every image), seconds per
epoch and samples per second (the epochs after the first, which also compiles), and the
process's peak resident memory (``ru_maxrss``). Targets (issue 17): streamed peak memory grows by
at most 20 % from 1x to 10x, and streamed throughput is at least 80 % of in-memory throughput.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

TARGET_MEMORY_GROWTH = 1.2
TARGET_THROUGHPUT = 0.8


# ---------------------------------------------------------------------------------------- data


def write_data(root: Path, images, copies: int) -> dict:
    """PNG folders and .npy shard folders of ``images`` (uint8, n x 28 x 28), 1x and ``copies``x; seconds taken."""
    import numpy as np
    from PIL import Image

    timings = {}
    start = time.perf_counter()
    png = root / "images_1x"
    per_folder = 1000
    for i, image in enumerate(images):
        folder = png / f"{i // per_folder:04d}"
        if i % per_folder == 0:
            folder.mkdir(parents=True)
        Image.fromarray(image).save(folder / f"{i:06d}.png", compress_level=1)
    timings["images_1x"] = time.perf_counter() - start
    start = time.perf_counter()
    many = root / f"images_{copies}x"
    for copy in range(copies):
        for folder in sorted(png.iterdir()):
            target = many / f"{copy:02d}-{folder.name}"
            target.mkdir(parents=True)
            for file in folder.iterdir():
                _link_or_copy(file, target / file.name)
    timings[f"images_{copies}x"] = time.perf_counter() - start
    start = time.perf_counter()
    shard = max(1, min(10_000, len(images) // 6))
    for name, repeat in (("shards_1x", 1), (f"shards_{copies}x", copies)):
        folder = root / name
        folder.mkdir()
        k = 0
        for _ in range(repeat):
            for lo in range(0, len(images), shard):
                np.save(folder / f"part-{k:04d}.npy", images[lo : lo + shard])
                k += 1
    timings["shards"] = time.perf_counter() - start
    return timings


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


# ---------------------------------------------------------------------------------------- worker


def worker(case: dict) -> dict:
    """Train the dense exercise model on one case's data in this (fresh) process; time and measure it."""
    import resource

    import numpy as np

    import aekit
    from aekit.datasets import load_dataset, open_source

    start = time.perf_counter()
    if case["kind"] == "memory":
        x = load_dataset("mnist", flat=True, download=False).x_train[: case["n"]]
        x = np.tile(x, (case["copies"], 1)) if case["copies"] > 1 else x
    else:
        source = open_source(case["path"])
        x = source.reshape(len(source), -1)
    opened = time.perf_counter() - start
    from gpu_check import epoch_clock

    times = []
    model = aekit.DenseAutoencoder((128, 64), 32, batch_size=256, epochs=case["epochs"])
    model.fit(x, callbacks=[epoch_clock(times)])
    measured = times[1:] or times
    per_epoch = sorted(measured)[len(measured) // 2]
    return {
        "samples": len(x),
        "open_s": opened,
        "epoch_s": per_epoch,
        "first_epoch_s": times[0],
        "samples_per_s": len(x) / per_epoch,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "final_loss": model.history_["loss"][-1],
    }


def run_case(case: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(case)],
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"case {case['name']} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"  {case['name']}: {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()})}",
        flush=True,
    )
    return result


# ---------------------------------------------------------------------------------------- main


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--worker", help=argparse_suppress())
    parser.add_argument("--copies", type=int, default=10, help="how many times the data grows (default 10)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per 1x case (default 3; 10x cases train 2)")
    parser.add_argument(
        "--tmp", type=Path, default=None, help="where to write the data (default: the system's temp folder)"
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    started = time.perf_counter()
    x_train, _, _, _ = _common.mnist(flat=False, quick=args.quick)
    images = (x_train.reshape(-1, 28, 28) * 255).round().astype("uint8")
    n, copies = len(images), args.copies
    epochs = args.epochs or (2 if args.quick else 3)
    root = Path(tempfile.mkdtemp(prefix="aekit-scale-", dir=args.tmp))
    try:
        print(f"writing {n:,} images and {n * copies:,} ({copies}x) into {root}", flush=True)
        written = write_data(root, images, copies)
        cases = [
            {"name": "in memory, 1x", "kind": "memory", "n": n, "copies": 1, "epochs": epochs},
            {"name": "shards, 1x", "kind": "stream", "path": str(root / "shards_1x"), "epochs": epochs},
            {"name": "image files, 1x", "kind": "stream", "path": str(root / "images_1x"), "epochs": epochs},
            {"name": f"in memory, {copies}x", "kind": "memory", "n": n, "copies": copies, "epochs": 2},
            {"name": f"shards, {copies}x", "kind": "stream", "path": str(root / f"shards_{copies}x"), "epochs": 2},
            {"name": f"image files, {copies}x", "kind": "stream", "path": str(root / f"images_{copies}x"), "epochs": 2},
        ]
        results = {case["name"]: run_case(case) for case in cases}
    finally:
        shutil.rmtree(root, ignore_errors=True)

    memory_1x = results["in memory, 1x"]["samples_per_s"]
    rows = []
    for case in cases:
        r = results[case["name"]]
        rows.append(
            {
                "data": case["name"],
                "samples": r["samples"],
                "open (s)": r["open_s"],
                "s/epoch": r["epoch_s"],
                "samples/s": r["samples_per_s"],
                "vs in memory": r["samples_per_s"] / memory_1x if case["name"].endswith("1x") else None,
                "peak RSS (MB)": r["peak_rss_mb"],
            }
        )
    growth = {
        kind: results[f"{kind}, {copies}x"]["peak_rss_mb"] / results[f"{kind}, 1x"]["peak_rss_mb"]
        for kind in ("in memory", "shards", "image files")
    }
    ratio = {kind: results[f"{kind}, 1x"]["samples_per_s"] / memory_1x for kind in ("shards", "image files")}
    summary = [
        {
            "target": f"streamed peak memory, {copies}x vs 1x data",
            "shards": growth["shards"],
            "image files": growth["image files"],
            "in memory (for scale)": growth["in memory"],
            "goal": f"<= {TARGET_MEMORY_GROWTH}",
            "met": f"shards {_met(growth['shards'] <= TARGET_MEMORY_GROWTH)}, "
            f"image files {_met(growth['image files'] <= TARGET_MEMORY_GROWTH)}",
        },
        {
            "target": "streamed throughput vs in memory (dense, 1x)",
            "shards": ratio["shards"],
            "image files": ratio["image files"],
            "goal": f">= {TARGET_THROUGHPUT}",
            "met": f"shards {_met(ratio['shards'] >= TARGET_THROUGHPUT)}, "
            f"image files {_met(ratio['image files'] >= TARGET_THROUGHPUT)}",
        },
    ]
    notes = [
        f"Data written once per run into a temporary folder: {n:,} PNG files ({written['images_1x']:.0f} s), the "
        f"{copies}x folder as hard links ({written[f'images_{copies}x']:.0f} s), shards of up to 10,000 uint8 images.",
        "Each case ran in a fresh process; s/epoch is the median of the epochs after the first (which compiles); "
        "'open' is the time to list the files and read every image's header (streamed) or to load the array.",
        "Peak RSS is the whole process (Python, jax, Keras and the data): streamed data adds the read-ahead "
        "batches and, for image folders, one name per file.",
    ]
    _common.write_result(
        args,
        "scale",
        "Scaling: streamed data at 1x and 10x MNIST, against in-memory arrays",
        {
            "targets": (["target", "shards", "image files", "in memory (for scale)", "goal", "met"], summary),
            "cases": (["data", "samples", "open (s)", "s/epoch", "samples/s", "vs in memory", "peak RSS (MB)"], rows),
        },
        budget=f"full: {n:,} images, {epochs} epochs at 1x, 2 at {copies}x",
        notes=notes,
        extra={"results": results, "growth": growth, "throughput_ratio": ratio},
        started=started,
    )


def _met(ok: bool) -> str:
    return "yes" if ok else "no"


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
