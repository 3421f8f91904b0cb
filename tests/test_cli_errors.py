"""Every user mistake ends in one line ``aekit: error: ...`` on stderr, exit status 2, no traceback.

The table is checked in-process through ``cli.main`` (one Keras import for all of it); a few rows
also go through the real ``aekit`` executable, which is what a user runs.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aekit import cli

AEKIT = str(Path(sys.executable).with_name("aekit"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad (and some good) input files, and one tiny trained run."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    f = {"root": root}
    f["tabular"] = root / "tabular.npy"
    np.save(f["tabular"], rng.random((40, 5)).astype(np.float32))
    f["wide"] = root / "wide.npy"
    np.save(f["wide"], rng.random((40, 7)).astype(np.float32))
    f["nan"] = root / "nan.npy"
    bad = rng.random((40, 64)).astype(np.float32)
    bad[3, 5] = np.nan
    np.save(f["nan"], bad)
    f["range"] = root / "range.npy"
    np.save(f["range"], (rng.standard_normal((40, 64)) * 3).astype(np.float32))
    f["pickled"] = root / "pickled.npy"
    np.save(f["pickled"], np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    f["text"] = root / "words.csv"
    f["text"].write_text("1,2,3\n4,five,6\n")
    f["notes"] = root / "notes.txt"
    f["notes"].write_text("not a model\n")
    f["garbage"] = root / "garbage.keras"
    f["garbage"].write_bytes(bytes(rng.integers(0, 256, 2000, dtype=np.uint8)))
    f["taken"] = root / "taken.npy"
    np.save(f["taken"], np.zeros((1, 1)))
    f["busy"] = root / "busy"
    f["busy"].mkdir()
    (f["busy"] / "thesis.tex").write_text("keep me\n")

    import keras

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(root / "foreign.keras")
    f["foreign"] = root / "foreign.keras"
    # a .keras file from aekit whose weights were cut off half-way
    f["run"] = root / "run"
    assert (
        cli.main(
            [
                "train",
                "dense",
                "--hidden",
                "16",
                "--latent",
                "4",
                "--epochs",
                "1",
                "--train-samples",
                "200",
                "--out",
                str(f["run"]),
                "-q",
            ]
        )
        == 0
    )
    data = (f["run"] / "model.keras").read_bytes()
    f["truncated"] = root / "truncated.keras"
    f["truncated"].write_bytes(data[: len(data) // 2])
    return f


# (name, argv built from the files fixture, words the message must contain)
CASES = [
    ("no family", lambda f: ["train"], "name the model family"),
    ("unknown family", lambda f: ["train", "transformer"], "unknown model family 'transformer'"),
    ("unknown command", lambda f: ["fit"], "invalid choice"),
    ("family the command line cannot train", lambda f: ["train", "stacked"], "train it from Python"),
    ("non-positive layer size", lambda f: ["train", "dense", "--hidden", "64,0"], "must be positive"),
    ("negative latent size", lambda f: ["train", "dense", "--latent", "-3"], "--latent"),
    ("epochs not a number", lambda f: ["train", "dense", "--epochs", "ten"], "not a whole number"),
    ("NaN learning rate", lambda f: ["train", "dense", "--learning-rate", "nan"], "finite"),
    ("test size outside (0, 1)", lambda f: ["train", "dense", "--test-size", "1.5"], "must be a number in (0, 1)"),
    ("missing data file", lambda f: ["train", "dense", "--data", str(f["root"] / "nope.npy")], "no such file"),
    ("non-numeric CSV", lambda f: ["train", "dense", "--data", str(f["text"])], "holds 'five', which is not a number"),
    ("NaN in data", lambda f: ["train", "dense", "--data", str(f["nan"])], "NaN or an infinite value"),
    ("pickled array", lambda f: ["train", "dense", "--data", str(f["pickled"])], "pickled"),
    (
        "values outside [0, 1] with cross-entropy, unscaled",
        lambda f: [
            "train",
            "dense",
            "--data",
            str(f["range"]),
            "--loss",
            "binary_crossentropy",
            "--scale",
            "none",
            "--out",
            str(f["root"] / "r1"),
        ],
        "pass --scale minmax",
    ),
    (
        "cross-entropy on standardised data",
        lambda f: ["train", "vae", "--scale", "standard", "--loss", "binary_crossentropy"],
        "--scale standard makes values unbounded",
    ),
    ("unknown scaling", lambda f: ["train", "dense", "--scale", "robust"], "invalid choice: 'robust'"),
    (
        "contamination and percentile",
        lambda f: [
            "anomaly",
            str(f["run"]),
            "--contamination",
            "0.1",
            "--percentile",
            "99",
            "-o",
            str(f["root"] / "s.csv"),
        ],
        "give one of them",
    ),
    (
        "tabular data for a conv model",
        lambda f: ["train", "conv", "--data", str(f["tabular"]), "--out", str(f["root"] / "r2")],
        "use a dense family",
    ),
    (
        "conv input too small for its depth",
        lambda f: ["train", "conv", "--filters", "8,8,8,8", "--out", str(f["root"] / "r3")],
        "too small for 4 pooling stages",
    ),
    (
        "option of another family",
        lambda f: ["train", "conv", "--hidden", "32"],
        "--hidden does not apply to the conv family",
    ),
    ("beta on a dense model", lambda f: ["train", "dense", "--beta", "2"], "--beta does not apply"),
    (
        "pretraining a conv model",
        lambda f: ["train", "conv", "--pretrain-epochs", "2"],
        "--pretrain-epochs does not apply to the conv family",
    ),
    ("negative pretraining epochs", lambda f: ["train", "dense", "--pretrain-epochs", "-1"], "must be 0 or more"),
    ("sparsity target without kl", lambda f: ["train", "sparse", "--sparsity-target", "0.1"], "--sparsity kl"),
    (
        "impossible noise level",
        lambda f: ["train", "denoising", "--noise", "masking", "--noise-level", "1.5"],
        "noise level",
    ),
    ("occupied output folder", lambda f: ["train", "dense", "--out", str(f["busy"])], "--force"),
    ("resume a missing run", lambda f: ["train", "--resume", str(f["root"] / "gone")], "no such run folder"),
    ("resume with new settings", lambda f: ["train", "--resume", str(f["run"]), "--hidden", "8"], "drop --hidden"),
    (
        "missing model",
        lambda f: ["evaluate", str(f["root"] / "none.keras"), "--data", "digits"],
        "no such run folder or model file",
    ),
    ("not a model file", lambda f: ["evaluate", str(f["notes"]), "--data", "digits"], "not a model"),
    ("corrupted .keras", lambda f: ["evaluate", str(f["garbage"]), "--data", "digits"], "corrupt"),
    ("truncated .keras", lambda f: ["evaluate", str(f["truncated"]), "--data", "digits"], "corrupt"),
    ("foreign .keras", lambda f: ["evaluate", str(f["foreign"]), "--data", "digits"], "not written by aekit"),
    ("model file without data", lambda f: ["evaluate", str(f["run"] / "model.keras")], "--data is needed"),
    (
        "wrong sample shape",
        lambda f: ["encode", str(f["run"]), "--data", str(f["wide"]), "-o", str(f["root"] / "c.npy")],
        "model expects (8, 8, 1)",
    ),
    (
        "unknown output type",
        lambda f: ["encode", str(f["run"]), "-o", str(f["root"] / "codes.txt")],
        "must end in .npy or .csv",
    ),
    ("output exists", lambda f: ["encode", str(f["run"]), "-o", str(f["taken"])], "add --force"),
    (
        "generate with a non-generative model",
        lambda f: ["generate", str(f["run"]), "-o", str(f["root"] / "g.npy")],
        "cannot generate",
    ),
    (
        "sample index out of range",
        lambda f: ["interpolate", str(f["run"]), "--to", "5000", "-o", str(f["root"] / "i.npy")],
        "out of range",
    ),
    (
        "noise level without noise",
        lambda f: ["denoise", str(f["run"]), "--noise-level", "0.3", "-o", str(f["root"] / "d.npy")],
        "needs --add-noise",
    ),
    ("anomaly scores not CSV", lambda f: ["anomaly", str(f["run"]), "-o", str(f["root"] / "s.npy")], "CSV"),
    ("report of a non-run", lambda f: ["report", str(f["busy"])], "not a run folder"),
]


@pytest.mark.parametrize("name, argv, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clean_line(files, capsys, name, argv, expected):
    status = cli.main(argv(files))
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("aekit: error: ")
    assert expected in lines[0]


def test_refused_output_folder_keeps_the_users_files(files):
    assert cli.main(["train", "dense", "--out", str(files["busy"]), "-q"]) == 2
    assert (files["busy"] / "thesis.tex").read_text() == "keep me\n"
    assert sorted(p.name for p in files["busy"].iterdir()) == ["thesis.tex"]


@pytest.mark.slow  # the real executable
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["train", "dense", "--hidden", "0"], "must be positive"),
        (["train", "dense", "--data", "missing.npy"], "missing.npy: no such file"),
        (["evaluate", "garbage.keras", "--data", "digits"], "corrupt"),
    ],
    ids=["usage", "missing-data", "corrupt-model"],
)
def test_real_executable_reports_errors_cleanly(files, argv, expected):
    env = {**os.environ, "AEKIT_DEBUG": ""}
    run = subprocess.run([AEKIT, *argv], cwd=files["root"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aekit: error: ") and expected in lines[0], run.stderr
