"""bench_vae.py --merge: seeds from several runs form one result only when their settings agree.

Each VAE seed costs about an hour on this CPU, so a result's seeds may come from separate runs; the
merge must never average in a run made with other settings. Quick mode (tiny data, seconds).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_vae.py"

pytestmark = [pytest.mark.mnist, pytest.mark.slow]


def bench_vae(out, *options):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out), *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_merge_keeps_the_earlier_seeds_and_refuses_other_settings(tmp_path, mnist):
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":
        pytest.skip("benchmark scripts run on aekit's default backend: checked once, in the jax run")
    assert bench_vae(tmp_path).returncode == 0
    first = json.loads((tmp_path / "vae.json").read_text())

    proc = bench_vae(tmp_path, "--first-seed", "1", "--merge")
    assert proc.returncode == 0, proc.stderr[-3000:]
    merged = json.loads((tmp_path / "vae.json").read_text())
    rows = merged["tables"][""]["rows"]
    assert [row["seed"] for row in rows] == [0, 1]
    assert rows[0] == first["tables"][""]["rows"][0]  # the earlier seed kept as it was measured
    assert any(first["command"] in note for note in merged["notes"])  # and said where it came from

    before = (tmp_path / "vae.json").read_text()
    proc = bench_vae(tmp_path, "--first-seed", "2", "--merge", "--latent", "3")
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith("--merge:")
    assert "latent" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "vae.json").read_text() == before  # nothing overwritten
