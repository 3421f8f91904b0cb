#!/usr/bin/env python3
"""Write BENCHMARKS.md from the result files in ``benchmarks/results/`` (never from anything else).

    python benchmarks/report.py

Every figure in BENCHMARKS.md is copied from a Markdown table a benchmark script wrote; the
text around the tables holds only the published anchors and the targets of issue 5.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTES = HERE / "notes.md"
ORDER = [
    "speed",
    "settings",
    "speed_candidates",
    "speed_conv_recheck",
    "time_to_quality",
    "exercises",
    "exercises_vanilla",
    "exercises_sparse",
    "exercises_convolutional",
    "exercises_variational",
    "exercises_jax",
    "reduction",
    "reduction_pretrained",
    "reduction_pretrained_tied",
    "reduction_noise",
    "reduction_mse",
    "reduction_xeon",
    "anomaly",
    "anomaly_ensemble",
    "tabular",
    "tabular_selection",
    "denoising",
    "denoising_30_epochs",
    "denoising_narrow",
    "features",
    "vae",
    "scale",
]
SCRIPTS = {
    "speed": "bench_speed.py",
    "settings": "bench_settings.py",
    "time_to_quality": "bench_time_to_quality.py",
    "exercises": "bench_exercises.py",
    "reduction": "bench_reduction.py",
    "anomaly": "bench_anomaly.py",
    "denoising": "bench_denoising.py",
    "features": "bench_features.py",
    "vae": "bench_vae.py",
    "tabular": "bench_tabular.py",
    "scale": "bench_scale.py",
}

INTRO = """# Benchmarks

How fast aekit trains on this machine and how good its models are, against the published numbers
and the strongest baselines we can run. Every result follows `benchmarks/PROTOCOL.md`: choices on a
validation split carved from the training data, the test set scored once, mean ± sd over seeds,
"met" only beyond the spread. Each section below is the latest table a script in
`benchmarks/` wrote into `benchmarks/results/` (Markdown + JSON, with the machine and software
versions); this file is regenerated from those files by `python benchmarks/report.py`.

Every script runs with one command, `python benchmarks/bench_NAME.py`, and has a `--quick` mode
(tiny data, seconds) that `tests/test_benchmarks.py` runs so the scripts never rot. Quick-mode
numbers mean nothing and are never shown here.

**Budgets.** The machine is a shared 2-core CPU. A result marked *reduced* trained for less than
the issue's budget (the exact budget is printed under its title); its figure is a lower bound on
what aekit reaches, not its best. A result marked *full* ran the benchmark as specified.

**Noise.** Each header gives the load average at the start and end of its run: a load above 2
means another job shared the two cores, so that run's seconds are pessimistic. Ratios come from
cases run back to back in the same run.
"""


def collect(folder: Path = HERE / "results") -> str:
    """The result sections found in ``folder``, in a fixed order, then any others."""
    names = [p.stem for p in sorted(folder.glob("*.md"))]
    ordered = [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]
    parts = []
    for name in ordered:
        parts.append((folder / f"{name}.md").read_text().rstrip())
    missing = [n for n in SCRIPTS if n not in names and not any(m.startswith(n + "_") for m in names)]
    if missing:
        parts.append(
            "### Not run yet\n\n"
            + "\n".join(f"- `python benchmarks/{SCRIPTS[n]}`: no full result yet" for n in missing)
        )
    return "\n\n".join(parts) + "\n"


def machine_line(folder: Path = HERE / "results") -> str:
    """One line per machine the results ran on (sessions may land on different CPUs), naming its results."""
    machines: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.json")):
        m = json.loads(path.read_text()).get("machine")
        if m:
            versions = ", ".join(f"{k} {m[k]}" for k in ("python", "keras", "jax", "tensorflow-cpu", "numpy") if k in m)
            machines.setdefault(f"{m.get('cpu')} ({m.get('cores')} cores, no GPU); {versions}", []).append(path.stem)
    if len(machines) == 1:
        return f"**Machine:** {next(iter(machines))}.\n"
    lines = [f"- {desc}: {', '.join(names)}" for desc, names in machines.items()]
    return "**Machines** (compare seconds only within one machine):\n\n" + "\n".join(lines) + "\n" if lines else ""


def main():
    text = INTRO + "\n" + machine_line() + "\n"
    if NOTES.exists():  # hand-written reading of the tables: it quotes figures, never adds any
        text += NOTES.read_text().rstrip() + "\n\n"
    text += collect()
    (ROOT / "BENCHMARKS.md").write_text(text)
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()
