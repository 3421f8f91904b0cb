"""Per-column scaling (aekit.scaling): what ``scale`` means for a table, and that a scaler fitted on the
training data round-trips values exactly, survives JSON and refuses a damaged copy. NumPy only."""

import json

import numpy as np
import pytest

from aekit import scaling


@pytest.fixture
def table(rng):
    """Four columns in their own units: large, negative, constant, and one already in [0, 1]."""
    return np.column_stack(
        [rng.normal(1000, 50, 200), rng.normal(-3, 0.1, 200), np.full(200, 7.0), rng.random(200)]
    ).astype(np.float32)


def test_auto_leaves_unit_range_data_alone_and_scales_anything_else(table, rng):
    images = rng.random((10, 8, 8, 1))
    assert scaling.resolve("auto", images) == "none"
    assert scaling.resolve("auto", table) == "standard"
    assert scaling.resolve("auto", table, cross_entropy=True) == "minmax"  # cross-entropy needs [0, 1]
    assert scaling.resolve(None, table) == scaling.resolve("none", table) == "none"
    assert scaling.resolve("minmax", images) == "minmax"
    with pytest.raises(ValueError, match="unknown scaling 'robust'"):
        scaling.resolve("robust", table)
    assert scaling.in_unit_range(np.array([0.0, 1.0])) and not scaling.in_unit_range(np.array([-1e-3, 0.5]))
    assert not scaling.in_unit_range(np.zeros((0, 3)))  # no data says nothing about its range


def test_standard_scaling_centres_each_column_and_inverse_gives_the_data_back(table):
    scaler = scaling.fit(table, "standard")
    assert scaler["kind"] == "standard" and scaler["bounded"] is False
    scaled = scaling.transform(table, scaler)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(scaled[:, [0, 1, 3]].std(axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(scaling.inverse(scaled, scaler), table, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(scaler["offset"], table.astype(np.float64).mean(axis=0), rtol=1e-6)


def test_a_constant_column_becomes_zeros_never_nan(table):
    for kind in ("standard", "minmax"):
        scaler = scaling.fit(table, kind)
        assert scaler["constant_columns"] == [2] and scaler["scale"][2] == 1.0
        scaled = scaling.transform(table, scaler)
        assert np.all(np.isfinite(scaled)) and np.all(scaled[:, 2] == 0)


def test_minmax_maps_the_training_range_onto_0_1_and_is_bounded(table):
    scaler = scaling.fit(table, "minmax")
    assert scaler["bounded"] is True
    scaled = scaling.transform(table, scaler)
    np.testing.assert_allclose(scaled[:, [0, 1, 3]].min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(scaled[:, [0, 1, 3]].max(axis=0), 1, atol=1e-6)
    beyond = scaling.transform(table[:1] * 2, scaler)  # new data outside the training range is not clipped
    assert beyond[0, 0] > 1


def test_one_map_for_all_columns_keeps_their_proportions(table):
    scaler = scaling.fit(table, "minmax", per_column=False)
    low, high = float(table.min()), float(table.max())
    assert scaler["offset"] == [low] * 4 and scaler["scale"] == [high - low] * 4 and scaler["constant_columns"] == []
    scaled = scaling.transform(table, scaler)
    assert scaled.min() == 0 and scaled.max() == 1
    np.testing.assert_allclose(scaled, (table - low) / (high - low), atol=1e-6)
    np.testing.assert_allclose(scaling.inverse(scaled, scaler), table, rtol=1e-5, atol=1e-4)
    flat = scaling.fit(np.full((3, 2), 5.0), "minmax", per_column=False)
    assert flat["scale"] == [1.0, 1.0] and flat["constant_columns"] == [0, 1]


def test_no_scaler_is_the_identity_and_records_whether_data_is_bounded(rng):
    images = rng.random((5, 4))
    scaler = scaling.fit(images, "auto")
    assert scaler == {"kind": "none", "offset": None, "scale": None, "bounded": True}
    assert scaling.transform(images, scaler) is images and scaling.inverse(images, scaler) is images
    assert scaling.transform(images, None) is images
    assert scaling.fit(images * 10, None)["bounded"] is False


def test_image_shaped_samples_are_scaled_per_pixel(rng):
    images = rng.normal(5, 2, (30, 3, 3, 2))
    scaler = scaling.fit(images, "standard")
    assert len(scaler["offset"]) == 18
    scaled = scaling.transform(images, scaler)
    assert scaled.shape == images.shape
    np.testing.assert_allclose(scaling.inverse(scaled, scaler), images, rtol=1e-5, atol=1e-5)


def test_a_large_offset_costs_no_precision():
    column = 1e9 + np.arange(10, dtype=np.float64)[:, None]
    scaler = scaling.fit(column, "standard")
    assert scaler["scale"][0] == pytest.approx(np.std(np.arange(10)), rel=1e-9)


def test_a_scaler_survives_json_and_a_damaged_copy_is_refused_by_field(table):
    scaler = json.loads(json.dumps(scaling.fit(table, "standard")))
    assert scaling.check(scaler, 4) is scaler
    fitted_here = scaling.fit(table, "standard")
    np.testing.assert_allclose(scaling.transform(table, scaler), scaling.transform(table, fitted_here))
    damaged = [
        ("not a dict", "scaling_ must be a JSON object"),
        ({**scaler, "kind": "robust"}, "scaling_.kind must be none, standard or minmax, got 'robust'"),
        ({**scaler, "bounded": "no"}, "scaling_.bounded must be true or false"),
        ({**scaler, "offset": scaler["offset"][:3]}, "scaling_.offset must be 4 finite numbers"),
        ({**scaler, "scale": [1.0, 1.0, float("nan"), 1.0]}, "scaling_.scale must be 4 finite numbers"),
        ({**scaler, "scale": [1.0, 0.0, 1.0, 1.0]}, "scaling_.scale must be positive numbers"),
    ]
    for copy, message in damaged:
        with pytest.raises(ValueError) as info:
            scaling.check(copy, 4)
        assert str(info.value) == message
    assert scaling.check({"kind": "none", "bounded": True}, 4)["kind"] == "none"
