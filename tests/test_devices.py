"""Data-parallel training over several devices (Keras' DataParallel on jax), checked on this CPU split in two.

XLA makes a CPU into N devices with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``, read
once when jax starts; so each check runs in a fresh Python process with the flag set. The losses
on 2 devices match 1 device (same global batch) to 1e-4, a run resumed on 2 devices ends where an
unbroken 2-device run ends, and the command line's ``--devices`` does the same.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from aekit import cli

BACKEND = os.environ.get("KERAS_BACKEND", "jax")
jax_only = pytest.mark.skipif(BACKEND != "jax", reason="Keras' data-parallel distribution runs on the jax backend only")
AEKIT = str(Path(sys.executable).with_name("aekit"))

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import numpy as np
    import jax
    import aekit

    folder = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, 64, dtype=np.float32)
    x = np.clip(rng.random((512, 1)) * ramp + 0.1 * rng.random((512, 64)), 0, 1).astype(np.float32)
    settings = dict(hidden_layers=(32,), latent_dim=8, batch_size=64, seed=1)
    result = {"devices": len(jax.devices())}

    # one device and two, the same global batch of 64: the same losses
    for devices in (None, 2):
        model = aekit.DenseAutoencoder(epochs=2, **settings).fit(x, validation_data=x[:96], distribution=devices)
        result[f"history_{devices}"] = model.history_
        result[f"codes_{devices}"] = model.encode(x[:4]).tolist()

    # an epoch whose last batch (53 samples) does not split over two devices: topped up, and close
    odd = aekit.DenseAutoencoder(epochs=1, **settings)
    result["odd_1"] = aekit.DenseAutoencoder(epochs=1, **settings).fit(x[:501]).history_["loss"]
    result["odd_2"] = odd.fit(x[:501], distribution=2).history_["loss"]

    # resumed on two devices from a checkpoint: the same as unbroken
    unbroken = aekit.DenseAutoencoder(epochs=4, **settings).fit(x, distribution=2, checkpoint=folder / "unbroken.keras")
    aekit.DenseAutoencoder(epochs=2, **settings).fit(x, distribution=2, checkpoint=folder / "half.keras")
    resumed = aekit.load(folder / "half.keras")
    resumed.epochs = 4
    resumed.fit(x, resume=True, distribution=2, checkpoint=folder / "half.keras")
    result["unbroken"] = unbroken.history_["loss"]
    result["resumed"] = resumed.history_["loss"]
    result["weights_equal"] = all(np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in
                                  zip(aekit.load(folder / "unbroken.keras").model_.get_weights(),
                                      aekit.load(folder / "half.keras").model_.get_weights()))
    try:
        aekit.DenseAutoencoder(epochs=1, hidden_layers=(4,), latent_dim=2, batch_size=63).fit(x, distribution=2)
    except aekit.ParameterError as exc:
        result["odd_batch"] = str(exc)
    print("RESULT", json.dumps(result))
""")


def run_split(tmp_path, *args, script=SCRIPT, devices=2, timeout=300):
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", "KERAS_BACKEND": "jax"}
    (tmp_path / "script.py").write_text(script)
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "script.py"), str(tmp_path), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@jax_only
@pytest.mark.slow  # fresh Python processes with XLA split in two
def test_two_devices_match_one_and_a_resumed_two_device_run_matches_an_unbroken_one(tmp_path):
    proc = run_split(tmp_path)
    result = json.loads(proc.stdout.split("RESULT ", 1)[1])
    assert result["devices"] == 2
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(result["history_2"][key], result["history_None"][key], rtol=0, atol=1e-4)
    np.testing.assert_allclose(result["codes_2"], result["codes_None"], atol=1e-4)
    np.testing.assert_allclose(result["odd_2"], result["odd_1"], rtol=1e-3)  # 1 of 501 samples seen twice
    np.testing.assert_allclose(result["resumed"], result["unbroken"], rtol=1e-6)
    assert result["weights_equal"]
    assert result["odd_batch"] == "batch_size 63 does not split evenly over 2 devices; use a multiple of 2"


CLI_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from aekit import cli
    folder = Path(sys.argv[1])
    base = ["train", "dense", "--hidden", "16", "--latent", "4", "--batch-size", "32", "--train-samples", "320",
            "--seed", "2", "-q"]
    codes = {}
    codes["one"] = cli.main([*base, "--epochs", "3", "--out", str(folder / "one")])
    codes["two"] = cli.main([*base, "--epochs", "3", "--devices", "2", "--out", str(folder / "two")])
    codes["all"] = cli.main([*base, "--epochs", "3", "--devices", "all", "--out", str(folder / "all")])
    # a run interrupted after its first epoch (as a kill leaves it), resumed on two devices
    codes["short"] = cli.main([*base, "--epochs", "1", "--devices", "2", "--out", str(folder / "resumed")])
    settings = json.loads((folder / "resumed" / "settings.json").read_text())
    settings["params"]["epochs"], settings["status"] = 3, "interrupted"
    (folder / "resumed" / "settings.json").write_text(json.dumps(settings))
    codes["resume"] = cli.main(["train", "--resume", str(folder / "resumed")])
    codes["too_many"] = cli.main([*base, "--devices", "3", "--out", str(folder / "three")])
    print("RESULT", json.dumps(codes))
""")


@jax_only
@pytest.mark.slow  # fresh Python processes with XLA split in two
def test_the_command_line_trains_on_two_devices_and_resumes_on_them(tmp_path):
    proc = run_split(tmp_path, script=CLI_SCRIPT)
    codes = json.loads(proc.stdout.split("RESULT ", 1)[1])
    assert codes == {"one": 0, "two": 0, "all": 0, "short": 0, "resume": 0, "too_many": 2}
    assert "aekit: error: --devices 3 asks for more devices than the 2 jax sees (cpu)" in proc.stderr
    histories = {}
    for name in ("one", "two", "all", "resumed"):
        lines = (tmp_path / name / "history.csv").read_text().splitlines()[1:]
        histories[name] = np.array([[float(v) for v in line.split(",")[1:]] for line in lines])
    np.testing.assert_allclose(histories["two"], histories["one"], atol=1e-4)
    np.testing.assert_allclose(histories["all"], histories["two"], rtol=1e-6)
    np.testing.assert_allclose(histories["resumed"], histories["two"], rtol=1e-6)
    assert json.loads((tmp_path / "two" / "settings.json").read_text())["devices"] == 2


@jax_only
def test_more_devices_than_there_are_is_one_line(tmp_path, capsys):
    status = cli.main(["train", "dense", "--devices", "64", "--epochs", "1", "--out", str(tmp_path / "r"), "-q"])
    assert status == 2
    err = capsys.readouterr().err
    assert "--devices 64 asks for more devices than the" in err and "xla_force_host_platform_device_count" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.backend
@pytest.mark.skipif(BACKEND == "jax", reason="checks the message on the other backends")
def test_devices_on_another_backend_say_it_needs_jax(tmp_path, capsys):
    status = cli.main(["train", "dense", "--devices", "2", "--epochs", "1", "--out", str(tmp_path / "r"), "-q"])
    assert status == 2
    assert (
        f"--devices: data-parallel training runs on the jax backend, and Keras runs on {BACKEND}"
        in capsys.readouterr().err
    )


@jax_only
@pytest.mark.slow  # fresh Python processes with XLA split in two
def test_two_processes_train_one_model_as_one_device_does(tmp_path):
    """examples/multihost.py: jax.distributed with two local processes (gloo on the CPU), then a resume on them."""
    rng = np.random.default_rng(0)
    x = np.clip(rng.random((512, 1)) * np.linspace(0, 1, 64) + 0.1 * rng.random((512, 64)), 0, 1).astype(np.float32)
    (tmp_path / "shards").mkdir()
    np.save(tmp_path / "shards" / "part-0.npy", x[:256])
    np.save(tmp_path / "shards" / "part-1.npy", x[256:])
    script = Path(__file__).resolve().parent.parent / "examples" / "multihost.py"
    env = {**os.environ, "KERAS_BACKEND": "jax"}

    def run(*args):
        proc = subprocess.run(
            [sys.executable, str(script), "--data", str(tmp_path / "shards"), "--batch-size", "64", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.split("RESULT ", 1)[1].splitlines()[0])

    one = run("--epochs", "3", "--out", str(tmp_path / "one.keras"))
    two = run("--epochs", "2", "--out", str(tmp_path / "two.keras"), "--local", "2")
    assert two["processes"] == 2 and two["devices"] == 2
    np.testing.assert_allclose(two["history"]["loss"], one["history"]["loss"][:2], atol=1e-4)
    resumed = run("--epochs", "3", "--out", str(tmp_path / "two.keras"), "--local", "2", "--resume")
    np.testing.assert_allclose(resumed["history"]["loss"], one["history"]["loss"], atol=1e-4)
