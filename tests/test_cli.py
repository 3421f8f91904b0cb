"""The ``aekit`` command line end to end: a session with the real executable, then every command.

The session (train -> evaluate -> encode -> generate) runs the installed ``aekit`` script in
subprocesses, as a user would; the remaining commands are driven in-process through ``cli.main``
on the run that session wrote, which keeps the file fast.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aekit import cli, runs
from aekit.persistence import load

AEKIT = str(Path(sys.executable).with_name("aekit"))
pytestmark = pytest.mark.slow


def aekit(*argv, cwd):
    result = subprocess.run([AEKIT, *argv], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """``aekit train vae`` -> ``evaluate`` -> ``encode`` -> ``generate`` on the digits, in subprocesses."""
    root = tmp_path_factory.mktemp("session")
    trained = aekit(
        "train",
        "vae",
        "--hidden",
        "32",
        "--latent",
        "2",
        "--epochs",
        "3",
        "--batch-size",
        "64",
        "--out",
        "run",
        cwd=root,
    )
    evaluated = aekit("evaluate", "run", "--json", cwd=root)
    encoded = aekit("encode", "run", "-o", "codes.csv", "--quiet", cwd=root)
    generated = aekit("generate", "run", "-n", "12", "-o", "samples.npy", "--plot", "samples.png", "--json", cwd=root)
    return {
        "root": root,
        "run": root / "run",
        "train": trained,
        "evaluate": evaluated,
        "encode": encoded,
        "generate": generated,
    }


def test_train_shows_progress_and_writes_a_complete_run_folder(session):
    run, err = session["run"], session["train"].stderr
    for epoch in (1, 2, 3):
        assert f"epoch {epoch}/3  loss " in err
    assert "val_loss" in err and "left" in err
    assert {p.name for p in run.iterdir()} == {
        "settings.json",
        "model.keras",
        "history.csv",
        "metrics.json",
        "plots",
        "report.html",
        ".aekit-files.json",
    }

    settings = json.loads((run / "settings.json").read_text())
    assert settings["family"] == "vae" and settings["status"] == "complete"
    assert settings["params"]["hidden_layers"] == [32] and settings["params"]["latent_dim"] == 2
    assert settings["params"]["beta"] == 1.0  # defaults are recorded too, not only the flags given
    assert settings["data"]["source"] == "digits"
    assert settings["versions"]["backend"] in ("jax", "tensorflow") and settings["versions"]["keras"].startswith("3.")

    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])

    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and metrics["samples"] == 360
    assert metrics["final_val_loss"] == pytest.approx(float(rows[-1]["val_loss"]))
    plots = {p.name for p in (run / "plots").glob("*.png")}
    assert {"loss.png", "reconstructions.png", "samples.png", "latent_manifold.png", "latent_space.png"} <= plots

    html = (run / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(plots)
    assert "<h2>Metrics</h2>" in html and "params.latent_dim" in html and "versions.keras" in html


def test_evaluate_encode_generate_use_the_trained_model(session):
    run = session["run"]
    reported = json.loads(session["evaluate"].stdout)
    metrics = json.loads((run / "metrics.json").read_text())
    assert reported["family"] == "vae" and reported["samples"] == 360
    assert reported["mse"] == pytest.approx(metrics["mse"], rel=1e-5)

    codes = np.loadtxt(session["root"] / "codes.csv", delimiter=",")
    assert codes.shape == (360, 2)
    assert session["encode"].stdout.strip() and session["encode"].stderr == ""  # --quiet: no notes
    model = load(run / "model.keras")
    x_test = runs.load_data(json.loads((run / "settings.json").read_text())).x_test
    np.testing.assert_allclose(codes, model.encode(x_test), rtol=1e-4, atol=1e-5)

    generated = json.loads(session["generate"].stdout)
    samples = np.load(session["root"] / "samples.npy")
    assert generated["samples"] == 12 and samples.shape == (12, 8, 8, 1)
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    assert (session["root"] / "samples.png").stat().st_size > 1000


def test_other_commands_on_the_run(session, tmp_path, capsys):
    run = str(session["run"])
    out = lambda name: str(tmp_path / name)

    assert cli.main(["reconstruct", run, "-o", out("rec.npy"), "--plot", out("rec.png"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert np.load(out("rec.npy")).shape == (360, 8, 8, 1) and result["mse"] > 0

    assert (
        cli.main(
            ["denoise", run, "--add-noise", "salt_and_pepper", "--noise-level", "0.2", "-o", out("den.npy"), "--json"]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert np.load(out("den.npy")).shape == (360, 8, 8, 1)
    assert result["mse_noisy"] > 0 and result["mse_denoised"] > 0
    assert cli.main(["denoise", run, "--shift-average", "-o", out("shifted.npy")]) == 2  # a VAE is no denoiser
    assert "not a denoiser" in capsys.readouterr().err and not (tmp_path / "shifted.npy").exists()

    assert (
        cli.main(
            [
                "interpolate",
                run,
                "--from",
                "3",
                "--to",
                "7",
                "--steps",
                "5",
                "-o",
                out("path.csv"),
                "--plot",
                out("path.png"),
            ]
        )
        == 0
    )
    assert "steps            5" in capsys.readouterr().out
    path = np.loadtxt(out("path.csv"), delimiter=",")
    assert path.shape == (5, 64)

    # anomalies: blank white images are far from every digit, the digits' own test split is not
    np.save(tmp_path / "white.npy", np.ones((20, 8, 8, 1), dtype=np.float32))
    assert cli.main(["anomaly", run, "--data", str(tmp_path / "white.npy"), "-o", out("white.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["anomalies"] == 20
    assert cli.main(["anomaly", run, "-o", out("digits.csv"), "--plot", out("scores.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["anomalies"] <= 36
    with open(out("digits.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 360 and set(rows[0]) == {"index", "score", "anomaly"}

    # a user's file is used whole and in its own order: row i of the output belongs to row i
    x_test = runs.load_data(json.loads((session["run"] / "settings.json").read_text())).x_test
    np.savetxt(tmp_path / "mine.csv", x_test[::-1].reshape(360, -1), delimiter=",")
    assert cli.main(["encode", run, "--data", str(tmp_path / "mine.csv"), "-o", out("mine_codes.npy"), "-q"]) == 0
    assert cli.main(["encode", run, "-o", out("run_codes.npy"), "-q"]) == 0
    np.testing.assert_allclose(
        np.load(out("mine_codes.npy")), np.load(out("run_codes.npy"))[::-1], rtol=1e-4, atol=1e-5
    )

    # outputs are not overwritten unless asked
    assert cli.main(["encode", run, "-o", out("rec.npy")]) == 2
    assert cli.main(["encode", run, "-o", out("rec.npy"), "--force", "-q"]) == 0
    assert np.load(out("rec.npy")).shape == (360, 2)

    (session["run"] / "report.html").unlink()
    assert cli.main(["report", run, "-q"]) == 0
    assert "data:image/png;base64," in (session["run"] / "report.html").read_text()


def test_train_with_layerwise_pretraining_says_so_and_records_it(tmp_path, capsys):
    folder = tmp_path / "pretrained"
    argv = [
        "train",
        "dense",
        "--hidden",
        "32",
        "--latent",
        "8",
        "--pretrain-epochs",
        "2",
        "--epochs",
        "2",
        "--out",
        str(folder),
    ]
    assert cli.main(argv) == 0
    assert "pretraining 2 layers one at a time, 2 epochs each" in capsys.readouterr().err
    assert json.loads((folder / "settings.json").read_text())["params"]["pretrain_epochs"] == 2
    model = load(folder / "model.keras")
    assert [len(losses) for losses in model.pretrain_history_.values()] == [2, 2]


def test_demo_trains_on_the_digits_and_says_where_the_plots_are(tmp_path, capsys):
    folder = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(folder), "--epochs", "2"]) == 0
    out, err = capsys.readouterr()
    assert f"{folder / 'plots' / 'reconstructions.png'}" in err and f"{folder / 'report.html'}" in err
    assert (folder / "plots" / "reconstructions.png").stat().st_size > 1000
    assert "epoch 2/2" in err and "status           complete" in out
    # a second demo into the same folder needs --force, which replaces only aekit's files
    (folder / "notes.txt").write_text("mine")
    assert cli.main(["demo", "--out", str(folder), "--epochs", "1", "-q"]) == 2
    assert cli.main(["demo", "--out", str(folder), "--epochs", "1", "-q", "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["metrics"]["epochs"] == 1
    assert (folder / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "command",
    [
        "train",
        "evaluate",
        "encode",
        "reconstruct",
        "denoise",
        "generate",
        "interpolate",
        "anomaly",
        "report",
        "demo",
        "explore",
        "info",
    ],
)
def test_every_command_has_help_with_examples(command, capsys):
    assert cli.main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert f"usage: aekit {command}" in text and "examples:\n  aekit " in text


def test_cli_import_does_not_load_keras():
    code = (
        "import sys, aekit.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch', 'sklearn', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_help_of_the_real_executable():
    result = subprocess.run([AEKIT, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("train", "evaluate", "encode", "generate", "anomaly", "demo"):
        assert command in result.stdout
    assert "aekit demo" in result.stdout  # the examples


def test_explore_serves_the_run_until_ctrl_c(session):
    """Ctrl-C is sent once the address is printed and the page answered: states, not a time."""
    import signal
    import urllib.request

    process = subprocess.Popen(
        [AEKIT, "explore", str(session["run"]), "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()  # printed once the server listens
        url = line.split()[2]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    # stopped by Ctrl-C, the command says so and ends as every interrupted aekit command does: 130
    assert process.returncode == cli.EXIT_INTERRUPTED == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "aekit: interrupted"
    assert out.strip().splitlines()[-1] == "aekit explore: stopped"


@pytest.mark.backend
def test_info_names_the_backend_and_where_it_came_from(capsys):
    assert cli.main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] in ("jax", "tensorflow") and info["origin"] and info["versions"]["keras"].startswith("3.")
