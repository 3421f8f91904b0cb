"""Tables as users bring them: a CSV with a header, values in any units, constant columns, planted anomalies.

The first tests drive the real ``aekit`` executable, as the issue's "done when" reads: train with no
flags, get reconstructions back in the table's units under its own header, and flag planted
anomalies naming the columns that made them. The others check the scaler from Python: it survives
save and load, constant columns give no NaN, and cross-entropy on unscaled data is refused with
advice that works.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit import cli
from aekit.applications import AnomalyDetector
from aekit.errors import DataError, ParameterError
from aekit.models import DenoisingAutoencoder, DenseAutoencoder, SparseAutoencoder, VariationalAutoencoder

AEKIT = str(Path(sys.executable).with_name("aekit"))
pytestmark = pytest.mark.slow  # the real executable, and a model trained per test (scaling itself: test_scaling.py)
COLUMNS = ["amount", "fee", "temperature", "pressure", "load", "visits", "site_code", "offset"]
CONSTANT = {"site_code": 7.0, "offset": -300.0}
#: planted anomalies of the test table: row -> (column, shift in that column's units)
PLANTED = {3: ("amount", 4000.0), 11: ("temperature", 30.0), 27: ("pressure", -90.0)}


def sensor_table(n: int, seed: int) -> np.ndarray:
    """Rows driven by two hidden factors: amounts in the thousands, negative temperatures, two constant columns."""
    rng = np.random.default_rng(seed)
    f1, f2 = rng.standard_normal((2, n))
    noise = rng.standard_normal((6, n))
    columns = [
        3000 + 600 * f1 + 30 * noise[0],  # amount: 1000..5000
        30 + 6 * f1 + 2 * f2 + 0.3 * noise[1],  # fee
        -5 + 4 * f2 + 0.2 * noise[2],  # temperature: negative
        1013 + 8 * f2 - 5 * f1 + 0.5 * noise[3],  # pressure
        0.5 * f1 - 0.5 * f2 + 0.03 * noise[4],  # load: around 0
        200 + 40 * f1 + 20 * f2 + 2 * noise[5],  # visits
        np.full(n, CONSTANT["site_code"]),
        np.full(n, CONSTANT["offset"]),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def write_table(path: Path, values: np.ndarray) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows([[f"{v:.6g}" for v in row] for row in values])
    return path


def read_table(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def aekit_run(*argv, cwd):
    result = subprocess.run([AEKIT, *argv], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``aekit train dense --data table.csv`` with no flags beyond the run folder, through the real executable."""
    root = tmp_path_factory.mktemp("tabular")
    table = sensor_table(1500, seed=0)
    write_table(root / "table.csv", table)
    aekit_run("train", "dense", "--data", "table.csv", "--out", "run", "-q", cwd=root)
    return root, table


def test_a_csv_in_its_own_units_trains_with_no_flags(trained):
    root, table = trained
    settings = json.loads((root / "run" / "settings.json").read_text())
    assert settings["data"]["columns"] == COLUMNS  # the header, in the run's settings
    assert settings["params"]["scale"] == "auto" and settings["params"]["loss"] == "auto"
    model = aekit.load(root / "run" / "model.keras")
    assert model.scaling_["kind"] == "standard" and model.resolved_loss() == "mse"
    assert model.columns_ == tuple(COLUMNS)
    metrics = json.loads((root / "run" / "metrics.json").read_text())
    assert np.isfinite(metrics["mse"]) and metrics["mse_scaled"] < 0.25  # predicting each column's mean scores ~0.75


def test_reconstructions_come_back_in_the_tables_units_and_names(trained):
    root, table = trained
    aekit_run("reconstruct", "run", "--data", "table.csv", "-o", "out.csv", "-q", cwd=root)
    header, values = read_table(root / "out.csv")
    assert header == COLUMNS
    assert values.shape == table.shape and np.isfinite(values).all()
    for j, name in enumerate(COLUMNS):
        error = np.mean(np.abs(values[:, j] - table[:, j]))
        if name in CONSTANT:
            assert error < 0.05, name  # constant columns: no division by zero, reproduced
            continue
        assert error < 0.35 * table[:, j].std(), name  # close, in the column's own units
    assert 1000 < values[:, 0].mean() < 5000 and values[:, 2].mean() < 0


def test_anomaly_flags_planted_rows_and_names_their_columns(trained):
    root, _ = trained
    test = sensor_table(60, seed=1)
    for row, (column, shift) in PLANTED.items():
        test[row, COLUMNS.index(column)] += shift
    write_table(root / "test.csv", test)
    result = aekit_run(
        "anomaly", "run", "--data", "test.csv", "-o", "scores.csv", "--plot", "scores", "--json", cwd=root
    )
    report = json.loads(result.stdout)
    flagged = {row["index"]: row for row in report["flagged"]}
    assert set(PLANTED) <= set(flagged) and len(flagged) <= len(PLANTED) + 2
    for row, (column, _) in PLANTED.items():
        assert flagged[row]["top_columns"][0]["column"] == column
    with open(root / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["index", "score", "anomaly", "top_columns"] and len(rows) == 60
    assert rows[11]["anomaly"] == "1" and rows[11]["top_columns"].startswith("temperature (")
    assert rows[0]["top_columns"] == "" or rows[0]["anomaly"] == "1"
    assert (root / "scores.png").stat().st_size > 0


def test_percentile_threshold_and_plain_text_output(trained, capsys):
    root, _ = trained
    test = sensor_table(30, seed=10)
    test[4, COLUMNS.index("load")] += 3.0
    write_table(root / "one.csv", test)
    assert (
        cli.main(
            [
                "anomaly",
                str(root / "run"),
                "--data",
                str(root / "one.csv"),
                "--percentile",
                "100",
                "-o",
                str(root / "one_scores.csv"),
                "--top",
                "1",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "(percentile 100 of the normal data's scores)" in err and "row 4: score" in err and "; load (" in err
    flagged = next(line for line in out.splitlines() if line.startswith("flagged")).split(maxsplit=1)[1]
    assert 4 in [int(i) for i in flagged.split(", ")]


def test_a_reordered_table_is_refused_by_name(trained, capsys):
    root, table = trained
    with open(root / "reordered.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS[::-1])
        writer.writerows(table[:5, ::-1].tolist())
    assert (
        cli.main(["reconstruct", str(root / "run"), "--data", str(root / "reordered.csv"), "-o", str(root / "x.csv")])
        == 2
    )
    assert "in another order than the model's (amount, fee" in capsys.readouterr().err


# ---------------------------------------------------------------- from Python

FAST = dict(epochs=3, batch_size=64, seed=0)


@pytest.mark.parametrize("family", [DenseAutoencoder, SparseAutoencoder, DenoisingAutoencoder, VariationalAutoencoder])
def test_every_dense_family_scales_a_table_and_keeps_the_scaler_in_its_file(family, tmp_path):
    table = sensor_table(300, seed=2)
    model = family(hidden_layers=(16,), latent_dim=3, **FAST).fit(table, columns=COLUMNS)
    assert model.scaling_["kind"] == "standard" and not model.bounded_output()
    assert sorted(model.scaling_["constant_columns"]) == [6, 7]
    before = model.reconstruct(table[:20])
    assert np.isfinite(before).all() and before[:, 0].mean() > 1000  # the user's units, not standard deviations
    again = aekit.load(model.save(tmp_path / "model.keras"))
    assert again.scaling_ == {k: v for k, v in model.scaling_.items()} and again.columns_ == tuple(COLUMNS)
    np.testing.assert_allclose(again.reconstruct(table[:20]), before, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(again.encode(table[:20]), model.encode(table[:20]), rtol=1e-5, atol=1e-5)


def test_a_resumed_table_model_ends_where_an_unbroken_one_does(tmp_path):
    table = sensor_table(300, seed=11)
    unbroken = DenseAutoencoder((16,), 3, epochs=4, batch_size=64).fit(table)
    DenseAutoencoder((16,), 3, epochs=2, batch_size=64).fit(table, checkpoint=tmp_path / "ckpt.keras")
    resumed = aekit.load(tmp_path / "ckpt.keras")
    assert resumed.scaling_ == unbroken.scaling_
    resumed.epochs = 4
    resumed.fit(table, resume=True)
    np.testing.assert_allclose(resumed.reconstruct(table[:10]), unbroken.reconstruct(table[:10]), rtol=1e-4, atol=1e-2)


def test_scaled_and_unscaled_errors_and_the_column_breakdown():
    table = sensor_table(400, seed=3)
    model = DenseAutoencoder((16,), 3, **FAST).fit(table)
    per_column = model.reconstruction_error(table, per_column=True)
    np.testing.assert_allclose(per_column.mean(axis=1), model.reconstruction_error(table), rtol=1e-6)
    scaled = model.reconstruction_error(table, scaled=True, per_column=True)
    assert per_column[:, 0].mean() > 100 * scaled[:, 0].mean()  # amounts in their units: thousands
    assert (
        np.isfinite(scaled).all() and scaled[:, 6:].mean() < 0.1 * scaled[:, :6].mean()
    )  # constant columns: no NaN, easy
    assert model.column_names() == tuple(f"column {i}" for i in range(1, 9))  # no header given


def test_data_in_unit_range_is_left_alone_as_before(digits):
    x = digits.flat().x_train[:200]
    model = DenseAutoencoder((16,), 4, **FAST).fit(x)
    assert (
        model.scaling_["kind"] == "none" and model.bounded_output() and model.resolved_loss() == "binary_crossentropy"
    )
    assert model.model_.loss == "binary_crossentropy"
    assert model.decoder_.layers[-1].activation.__name__ == "sigmoid"
    np.testing.assert_array_equal(model._to_model(x), x)


def test_minmax_keeps_cross_entropy_for_a_table():
    table = sensor_table(200, seed=4)
    model = DenseAutoencoder((8,), 2, scale="minmax", loss="binary_crossentropy", **FAST).fit(table)
    assert model.bounded_output() and model.resolved_loss() == "binary_crossentropy"
    assert np.isfinite(model.reconstruct(table)).all()
    auto = DenseAutoencoder((8,), 2, loss="binary_crossentropy", **FAST).fit(table)  # auto + cross-entropy: minmax
    assert auto.scaling_["kind"] == "minmax"


def test_cross_entropy_on_unscaled_data_outside_unit_range_is_refused_with_advice_that_works(tmp_path, capsys):
    table = sensor_table(200, seed=5)
    with pytest.raises(DataError, match=r"needs values in \[0, 1\]; pass --scale minmax"):
        DenseAutoencoder((8,), 2, scale=None, loss="binary_crossentropy", **FAST).fit(table)
    with pytest.raises(ParameterError, match="scale standard makes values unbounded"):
        DenseAutoencoder((8,), 2, scale="standard", loss="binary_crossentropy", **FAST).fit(table)
    write_table(tmp_path / "table.csv", table)
    argv = [
        "train",
        "dense",
        "--data",
        str(tmp_path / "table.csv"),
        "--hidden",
        "8",
        "--latent",
        "2",
        "--epochs",
        "1",
        "-q",
    ]
    assert cli.main([*argv, "--loss", "binary_crossentropy", "--scale", "none", "--out", str(tmp_path / "a")]) == 2
    assert "pass --scale minmax" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    assert cli.main([*argv, "--loss", "binary_crossentropy", "--scale", "minmax", "--out", str(tmp_path / "b")]) == 0


def test_scale_none_trains_unbounded_data_as_given_with_a_linear_output():
    table = sensor_table(200, seed=6)
    model = DenseAutoencoder((8,), 2, scale=None, **FAST).fit(table)
    assert model.scaling_["kind"] == "none" and not model.bounded_output() and model.resolved_loss() == "mse"
    assert model.decoder_.layers[-1].activation.__name__ == "linear"


def test_detector_explains_rows_by_column_name():
    test = sensor_table(40, seed=8)
    test[5, COLUMNS.index("visits")] += 400
    detector = AnomalyDetector(DenseAutoencoder((16,), 2, epochs=30, batch_size=32), contamination=0.01)
    detector.fit(sensor_table(600, seed=7), columns=COLUMNS)
    assert detector.predict(test)[5] == -1
    (name, share), *_ = detector.explain(test[5:6])[0]
    assert name == "visits" and 0.3 < share <= 1.0
    shares = [s for _, s in detector.explain(test[:3], top=8)[0]]
    assert len(shares) == 8 and shares == sorted(shares, reverse=True) and all(0 <= s <= 1 for s in shares)
    breakdown = detector.column_scores(test[5:6])[0]  # the plain per-column errors, in scaled units
    assert breakdown.shape == (8,) and breakdown.mean() == pytest.approx(detector.anomaly_score(test[5:6])[0])


def test_a_dataframes_header_becomes_the_column_names():
    pandas = pytest.importorskip("pandas")
    model = DenseAutoencoder((8,), 2, epochs=1).fit(pandas.DataFrame(sensor_table(100, seed=9), columns=COLUMNS))
    assert model.columns_ == tuple(COLUMNS)


def test_a_streamed_table_is_scaled_and_trained_as_the_same_table_in_memory(tmp_path):
    """The scaler is fitted over a streamed source's chunks and applied as its batches are read."""
    from aekit.datasets import open_source

    rng = np.random.default_rng(0)
    table = (rng.normal(size=(300, 5)) * [1, 10, 100, 1000, 0.1] + [5, -50, 1e4, 0, 2]).astype(np.float32)
    np.save(tmp_path / "table.npy", table)
    source = open_source(tmp_path / "table.npy")
    make = lambda: DenseAutoencoder((8,), 2, epochs=2, batch_size=32, seed=0)
    streamed, in_memory = make().fit(source), make().fit(table)
    assert streamed.scaling_["kind"] == in_memory.scaling_["kind"] == "standard"
    np.testing.assert_allclose(streamed.scaling_["offset"], in_memory.scaling_["offset"], rtol=1e-9)
    np.testing.assert_allclose(streamed.scaling_["scale"], in_memory.scaling_["scale"], rtol=1e-9)
    assert streamed.history_["loss"] == pytest.approx(in_memory.history_["loss"], rel=1e-5)
    np.testing.assert_allclose(streamed.reconstruct(source), in_memory.reconstruct(table), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(streamed.reconstruction_error(source), in_memory.reconstruction_error(table), rtol=1e-4)
