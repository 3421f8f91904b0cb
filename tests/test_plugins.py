"""A family from another package is trainable, loadable and usable with no change to aekit.

``tests/plugin`` holds one file defining a family and the ``.dist-info`` that registers it under
the ``aekit.families`` entry point group; with that folder on ``PYTHONPATH`` it is an installed
plug-in as far as Python's package metadata is concerned. Everything runs through the real
``aekit`` executable and a fresh interpreter, as a user's would.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # the real executable, with the plug-in on PYTHONPATH

AEKIT = str(Path(sys.executable).with_name("aekit"))
PLUGIN = Path(__file__).parent / "plugin"


def run(*argv, cwd, ok=True):
    env = {**os.environ, "PYTHONPATH": str(PLUGIN)}
    result = subprocess.run([*argv], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    if ok:
        assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_plugin_family_trains_saves_loads_and_evaluates(tmp_path):
    listed = run(AEKIT, "train", "--help", cwd=tmp_path).stdout
    assert "shallow" in listed
    own_help = run(AEKIT, "train", "shallow", "--help", cwd=tmp_path).stdout
    assert "--latent N" in own_help and "--output-activation" in own_help and "(default: 3)" in own_help

    run(AEKIT, "train", "shallow", "--latent", "3", "--epochs", "2", "--out", "run", "-q", cwd=tmp_path)
    settings = json.loads((tmp_path / "run" / "settings.json").read_text())
    assert settings["family"] == "shallow" and settings["params"]["latent_dim"] == 3
    assert settings["params"]["output_activation"] == "sigmoid" and settings["status"] == "complete"
    assert (tmp_path / "run" / "plots" / "reconstructions.png").is_file()

    evaluated = json.loads(run(AEKIT, "evaluate", "run", "--json", cwd=tmp_path).stdout)
    assert evaluated["family"] == "shallow" and evaluated["samples"] == 360 and evaluated["mse"] > 0
    run(AEKIT, "encode", "run", "-o", "codes.npy", "-q", cwd=tmp_path)
    assert np.load(tmp_path / "codes.npy").shape == (360, 3)

    code = (
        "import aekit; m = aekit.load('run/model.keras'); x = aekit.load_dataset('digits').x_test[:5]; "
        "print(type(m).__name__, m.family, m.latent_dim, m.encode(x).shape)"
    )
    loaded = run(sys.executable, "-c", code, cwd=tmp_path).stdout.split()
    assert loaded == ["ShallowAutoencoder", "shallow", "3", "(5,", "3)"]


def test_plugin_options_are_checked_by_its_declaration(tmp_path):
    bad = run(AEKIT, "train", "shallow", "--output-activation", "tanh", cwd=tmp_path, ok=False)
    assert bad.returncode == 2 and "invalid choice: 'tanh'" in bad.stderr
    other = run(AEKIT, "train", "shallow", "--hidden", "8", cwd=tmp_path, ok=False)
    assert other.returncode == 2 and "--hidden does not apply to the shallow family" in other.stderr
