"""Every benchmark script runs end to end in its --quick mode and writes a parseable table.

The quick modes train on a few hundred MNIST images for an epoch or two: the numbers mean
nothing, the test only keeps the scripts from rotting. The full runs are not part of the suite.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))
# script -> the results file name(s) its quick mode writes
OUTPUTS = {
    "bench_anomaly.py": ["anomaly"],
    "bench_denoising.py": ["denoising"],
    "bench_exercises.py": ["exercises"],
    "bench_features.py": ["features"],
    "bench_reduction.py": ["reduction"],
    "bench_scale.py": ["scale"],
    "bench_settings.py": ["settings"],
    "bench_speed.py": ["speed"],
    "bench_tabular.py": ["tabular"],
    "bench_time_to_quality.py": ["time_to_quality"],
    "bench_vae.py": ["vae"],
}
# options a quick run adds so that a script's optional paths run too
EXTRA_ARGS = {"bench_anomaly.py": ["--seeds", "2"], "bench_reduction.py": ["--pretrain-epochs", "1"]}

pytestmark = [pytest.mark.mnist, pytest.mark.slow]


def test_every_script_is_listed():
    assert sorted(OUTPUTS) == SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_mode_writes_its_tables(script, tmp_path, mnist):
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":  # they run on aekit's default backend (bench_speed starts both)
        pytest.skip("benchmark scripts run on aekit's default backend: checked once, in the jax run")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    args = [sys.executable, str(BENCHMARKS / script), "--quick", "--out", str(tmp_path)]
    args += EXTRA_ARGS.get(script, [])
    if script == "bench_exercises.py":  # on the suite's backend, not forced to tensorflow
        args += ["--backend", os.environ.get("KERAS_BACKEND", "jax")]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in OUTPUTS[script]:
        backend = os.environ.get("KERAS_BACKEND", "jax")
        if script == "bench_exercises.py" and backend != "tensorflow":
            name = f"{name}_{backend}"
        record = json.loads((tmp_path / f"{name}.json").read_text())
        assert record["budget"] == "quick"
        assert record["command"].startswith(f"python benchmarks/{script} --quick")  # reproducible, without --out
        assert "--out" not in record["command"]
        assert record["machine"]["cores"] >= 1
        assert record["tables"], "no tables written"
        for table in record["tables"].values():
            assert table["rows"], f"{name}: an empty table"
            assert table["columns"] and all(set(row) & set(table["columns"]) for row in table["rows"])
        markdown = (tmp_path / f"{name}.md").read_text()
        assert markdown.startswith("### ") and "| --- |" in markdown


def test_report_collects_the_results(tmp_path):
    """benchmarks/report.py turns result files into BENCHMARKS.md sections without inventing numbers."""
    sys.path.insert(0, str(BENCHMARKS))
    import report

    (tmp_path / "x.md").write_text("### A table\n\n| a |\n| --- |\n| 1 |\n")
    (tmp_path / "x.json").write_text(json.dumps({"benchmark": "x", "budget": "full", "tables": {}}))
    text = report.collect(tmp_path)
    assert "### A table" in text and "| 1 |" in text


def test_report_names_each_machine_with_its_results(tmp_path):
    """Results from two sessions on different CPUs: BENCHMARKS.md says which table ran where."""
    sys.path.insert(0, str(BENCHMARKS))
    import report

    for name, cpu in (("a", "CPU One"), ("b", "CPU Two"), ("c", "CPU One")):
        (tmp_path / f"{name}.json").write_text(json.dumps({"machine": {"cpu": cpu, "cores": 2, "keras": "3.15.1"}}))
    line = report.machine_line(tmp_path)
    assert (
        "CPU One (2 cores, no GPU); keras 3.15.1: a, c" in line and "CPU Two (2 cores, no GPU); keras 3.15.1: b" in line
    )
    (tmp_path / "b.json").unlink()
    assert report.machine_line(tmp_path) == "**Machine:** CPU One (2 cores, no GPU); keras 3.15.1.\n"


def test_time_budget_stops_training_and_decays_the_learning_rate():
    """The callback behind --minutes: training ends once the budget is spent, with the rate decayed."""
    sys.path.insert(0, str(BENCHMARKS))
    import keras
    import numpy as np

    import _common
    from aekit import training

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    ticks = iter(range(10**6))  # a clock that advances one second per reading: two per epoch
    rates = []

    class RecordRate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    budget = _common.time_budget(minutes=0.5, learning_rate=1e-2, clock=lambda: float(next(ticks)))
    x = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    history = training.train(
        model, x, plan=training.TrainingPlan(epochs=1000, batch_size=32), callbacks=[budget, RecordRate()]
    )
    assert budget.exhausted
    assert 10 <= len(history["loss"]) <= 30  # 30 s of budget, epochs of 1 s (and the gaps between them)
    assert rates[0] == pytest.approx(1e-2)
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:]))
    assert rates[-1] < 1e-3  # near the end of the cosine, towards 1e-2 * final_fraction

    # a budget counted from an earlier stage (pretraining, 20 s before fit on this clock) leaves fewer epochs
    ticks = iter(range(10**6))
    started = float(next(ticks))
    for _ in range(20):
        next(ticks)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    later = _common.time_budget(
        minutes=0.5, learning_rate=1e-2, clock=lambda: float(next(ticks)), counting_from=started
    )
    shorter = training.train(model, x, plan=training.TrainingPlan(epochs=1000, batch_size=32), callbacks=[later])
    assert later.exhausted and len(shorter["loss"]) < len(history["loss"]) / 2


@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "jax") != "jax", reason="the GPU check runs on jax (checked in the jax run)"
)
def test_the_gpu_check_runs_here_in_its_quick_mode(tmp_path, mnist):
    """benchmarks/gpu_check.py (run by hand on a GPU machine) works end to end on this CPU, split into 2 devices."""
    env = {**os.environ, "MPLBACKEND": "Agg", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "gpu_check.py"), "--quick", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "gpu_check.json").read_text())
    assert record["steps"]["devices"]["jax_devices"] == ["cpu:0", "cpu:1"]
    failed = {name: step.get("error") for name, step in record["steps"].items() if "error" in step or "skipped" in step}
    assert not failed
    assert record["steps"]["data_parallel"]["max_loss_difference_vs_one_device"] < 1e-4
    assert record["steps"]["command_line_devices_all"]["status"] == 0
    assert record["summary"]["dense_samples_per_s"] > 0 and record["summary"]["streamed_vs_in_memory"] > 0


def test_reduction_tries_a_lever_on_validation_without_a_result(tmp_path, mnist):
    """--validation-only prints held-out training figures and writes no result: no test score to peek at."""
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":
        pytest.skip("benchmark scripts run on aekit's default backend: checked once, in the jax run")
    args = [
        sys.executable,
        str(BENCHMARKS / "bench_reduction.py"),
        "--quick",
        "--validation-only",
        "--out",
        str(tmp_path),
    ]
    proc = subprocess.run(args, env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "seed 0: validation squared error / image" in proc.stdout
    assert "test" not in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_denoising_probes_a_variant_on_validation_without_a_result(tmp_path, mnist):
    """--probe trains a variant of the pick on the validation split, prints its PSNR and writes no result."""
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":
        pytest.skip("benchmark scripts run on aekit's default backend: checked once, in the jax run")
    args = [
        sys.executable,
        str(BENCHMARKS / "bench_denoising.py"),
        "--quick",
        "--probe",
        "batch 64",
        "as chosen",
        "--out",
        str(tmp_path),
    ]
    proc = subprocess.run(args, env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("probe ")]
    assert [line.split(",")[0] for line in lines] == ["probe batch 64", "probe as chosen"]
    psnrs = [float(line.split("PSNR ")[1].split()[0]) for line in lines]
    assert all(5 < value < 40 for value in psnrs)
    assert psnrs[0] != psnrs[1]  # the variant really trained differently
    assert "test" not in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_denoising_merges_seeds_of_separate_runs_and_refuses_other_settings(tmp_path, mnist):
    """A long run may be split: --first-seed 1 --merge adds its seed to the earlier result of the same
    settings (its selection reused), and refuses a result made with other settings."""
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":
        pytest.skip("benchmark scripts run on aekit's default backend: checked once, in the jax run")
    script = [
        sys.executable,
        str(BENCHMARKS / "bench_denoising.py"),
        "--quick",
        "--sigmas",
        "0.5",
        "--out",
        str(tmp_path),
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}

    def run(*extra):
        return subprocess.run(script + list(extra), env=env, capture_output=True, text=True, timeout=600)

    def record():
        return json.loads((tmp_path / "denoising.json").read_text())

    first = run("--members", "2")
    assert first.returncode == 0, first.stderr[-3000:]
    assert [row["seed"] for row in record()["sigma_0.5_seeds"]] == [0]
    refused = run("--members", "1", "--first-seed", "1", "--merge")
    assert refused.returncode != 0
    assert "other settings (members)" in refused.stderr and "Traceback" not in refused.stderr
    second = run("--members", "2", "--first-seed", "1", "--merge")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "selection:" not in second.stdout  # the earlier selection is kept, not trained again
    merged = record()
    seeds = merged["sigma_0.5_seeds"]
    assert [row["seed"] for row in seeds] == [0, 1] and seeds[0]["PSNR dB"] != seeds[1]["PSNR dB"]
    ours = [row for row in merged["tables"]["2. Test images"]["rows"] if row["method"].startswith("aekit")]
    assert len(ours) == 1 and "mean of 2 denoisers, shift-averaged, 2 seed(s)" in ours[0]["method"]
    assert ours[0]["PSNR dB"] == pytest.approx((seeds[0]["PSNR dB"] + seeds[1]["PSNR dB"]) / 2)
    assert any("from the earlier run" in note for note in merged["notes"])
