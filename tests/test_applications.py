"""Applications: dimensionality reduction (vs PCA), anomaly detection, feature learning (linear probe)."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from aekit.applications import AnomalyDetector, AutoencoderReducer, linear_probe, roc_auc
from aekit.applications.anomaly import find_anomalies, write_scores
from aekit.models import DenseAutoencoder

pytestmark = pytest.mark.slow  # a reducer of 80 epochs and a detector, trained once for the module


@pytest.fixture(scope="module")
def flat_digits(digits):
    return digits.flat()


@pytest.fixture(scope="module")
def reducer(flat_digits):
    return AutoencoderReducer(n_components=2, epochs=80, batch_size=128, learning_rate=3e-3).fit(flat_digits.x_train)


# ---------------------------------------------------------------------- dimensionality reduction


def test_reducer_reconstructs_digits_better_than_pca_at_two_components(reducer, flat_digits):
    pca = PCA(2).fit(flat_digits.x_train)
    x = flat_digits.x_test
    pca_error = np.mean((x - pca.inverse_transform(pca.transform(x))) ** 2)
    ae_error = -reducer.score(x)
    # measured: 0.039 (tensorflow) and 0.040 (jax) against PCA's 0.053 on held-out digits
    assert ae_error < 0.9 * pca_error
    assert np.isclose(ae_error, np.mean(reducer.reconstruction_error(x)))


def test_reducer_is_a_transformer(reducer, flat_digits):
    x = flat_digits.x_test[:50]
    codes = reducer.transform(x)
    assert codes.shape == (50, 2)
    assert reducer.inverse_transform(codes).shape == x.shape
    assert reducer.n_features_in_ == 64
    assert list(reducer.get_feature_names_out()) == ["autoencoderreducer0", "autoencoderreducer1"]
    with pytest.raises(ValueError, match="64"):
        reducer.transform(x[:, :10])
    with pytest.raises(ValueError, match="n_components"):
        reducer.inverse_transform(np.zeros((3, 5)))


def test_reducer_undoes_its_scaling_for_data_outside_unit_range(flat_digits):
    x = flat_digits.x_train[:300] * 40.0 - 7.0
    reducer = AutoencoderReducer(n_components=8, epochs=20, batch_size=64, learning_rate=3e-3).fit(x)
    reconstruction = reducer.inverse_transform(reducer.transform(x))
    assert reconstruction.min() >= -7.0 - 1e-3 and reconstruction.max() <= 33.0 + 1e-3
    # reconstructions in x's units: far better than predicting the mean image
    assert -reducer.score(x) < 0.5 * np.mean((x - x.mean(axis=0)) ** 2)


def test_reducer_in_a_pipeline_tuned_by_grid_search(flat_digits):
    # the pipeline's score is the reducer's (negative reconstruction error): its default for tuning
    x = flat_digits.x_train[:300] * 255.0
    pipeline = Pipeline([("scale", MinMaxScaler()), ("reduce", AutoencoderReducer(epochs=10, batch_size=64))])
    search = GridSearchCV(pipeline, {"reduce__n_components": [1, 6]}, cv=2).fit(x)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(scores < 0)
    assert scores[1] > scores[0]  # a 6-wide code reconstructs better than a 1-wide one
    assert search.best_params_ == {"reduce__n_components": 6}
    assert search.best_estimator_.transform(x[:5]).shape == (5, 6)


def test_reducer_params_round_trip():
    reducer = AutoencoderReducer(n_components=5, hidden_layers=(32, 16))
    assert clone(reducer).get_params() == reducer.get_params()
    assert reducer.set_params(epochs=7).epochs == 7


def test_reducer_parameters_are_the_dense_family_s_declarations():
    dense, own = DenseAutoencoder.params, AutoencoderReducer.params
    assert own["n_components"].kind is dense["latent_dim"].kind and own["activation"] == dense["activation"]
    assert AutoencoderReducer().get_params()["learning_rate"] == dense["learning_rate"].default
    with pytest.raises(ValueError, match="n_components must be a positive whole number"):
        AutoencoderReducer(n_components=0).fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="activation must be one of"):
        AutoencoderReducer(activation="wiggly").fit(np.zeros((4, 3)))


# ---------------------------------------------------------------------- anomaly detection


@pytest.fixture(scope="module")
def detector(digits):
    normal = np.isin(digits.y_train, [0, 1, 2, 3, 4])
    model = DenseAutoencoder(hidden_layers=(32,), latent_dim=8, epochs=30, batch_size=32, learning_rate=3e-3)
    return AnomalyDetector(model, contamination=0.05).fit(digits.x_train[normal])


def test_detector_ranks_other_digits_and_noise_above_normal_digits(detector, digits, rng):
    anomalous = ~np.isin(digits.y_test, [0, 1, 2, 3, 4])
    scores = detector.anomaly_score(digits.x_test)
    # measured: 0.91 on tensorflow, 0.95 on jax
    assert roc_auc(scores, anomalous) > 0.85
    noise = rng.random((50, 8, 8, 1)).astype("float32")
    normal_scores = scores[~anomalous]
    assert (
        roc_auc(np.r_[normal_scores, detector.anomaly_score(noise)], np.r_[np.zeros(len(normal_scores)), np.ones(50)])
        > 0.99
    )
    assert np.all(detector.predict(noise) == -1)


def test_detector_threshold_flags_the_contamination_rate_of_training_data(detector, digits):
    normal = np.isin(digits.y_train, [0, 1, 2, 3, 4])
    flagged = np.mean(detector.predict(digits.x_train[normal]) == -1)
    assert abs(flagged - 0.05) < 0.01
    assert detector.threshold_ == pytest.approx(np.percentile(detector.train_scores_, 95))


def test_detector_follows_sklearn_outlier_conventions(detector, digits):
    x = digits.x_test[:100]
    decision = detector.decision_function(x)
    np.testing.assert_allclose(decision, detector.threshold_ - detector.anomaly_score(x), rtol=1e-6)
    np.testing.assert_allclose(detector.score_samples(x), -detector.anomaly_score(x))
    np.testing.assert_array_equal(detector.predict(x), np.where(decision >= 0, 1, -1))


def test_prefit_detector_reuses_the_model_and_percentile_sets_threshold(detector, digits):
    normal = digits.x_train[np.isin(digits.y_train, [0, 1, 2, 3, 4])]
    reused = AnomalyDetector(detector.autoencoder_, percentile=95, prefit=True).fit(normal)
    assert reused.autoencoder_ is detector.autoencoder_
    assert reused.threshold_ == pytest.approx(detector.threshold_)
    strict = AnomalyDetector(detector.autoencoder_, percentile=50, prefit=True).fit(normal)
    assert abs(np.mean(strict.predict(normal) == -1) - 0.5) < 0.01
    labels = AnomalyDetector(detector.autoencoder_, prefit=True).fit_predict(normal)
    assert set(np.unique(labels)) == {-1, 1}


def test_findings_are_the_detector_s_verdict_written_as_the_scores_table(detector, digits, tmp_path):
    x = digits.x_test[:40]
    findings = find_anomalies(detector, x)
    np.testing.assert_array_equal(findings.scores, detector.anomaly_score(x))
    np.testing.assert_array_equal(findings.flags, detector.predict(x) == -1)
    assert not findings.tabular and findings.reasons == {}  # images: no columns to name
    assert [row["index"] for row in findings.flagged()] == np.flatnonzero(findings.flags).tolist()
    lines = write_scores(tmp_path / "scores.csv", findings).read_text().splitlines()
    assert lines[0] == "index,score,anomaly" and len(lines) == 41
    assert lines[1] == f"0,{findings.scores[0]:.7g},{int(findings.flags[0])}"


def test_detector_rejects_bad_settings(digits):
    x = digits.x_train[:20]
    with pytest.raises(ValueError, match="contamination"):
        AnomalyDetector(contamination=0.9).fit(x)
    with pytest.raises(ValueError, match="percentile"):
        AnomalyDetector(percentile=120).fit(x)
    with pytest.raises(ValueError, match="metric"):
        AnomalyDetector(metric="mae").fit(x)
    with pytest.raises(ValueError, match="prefit"):
        AnomalyDetector(DenseAutoencoder(), prefit=True).fit(x)


def test_roc_auc_needs_both_classes():
    assert roc_auc([0.1, 0.2, 0.9], [0, 0, 1]) == 1.0
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([0.1, 0.2], [1, 1])


# ---------------------------------------------------------------------- feature learning


def test_linear_probe_trained_codes_beat_untrained_codes_and_pca(reducer, flat_digits):
    d = flat_digits
    trained = linear_probe(reducer, d.x_train, d.y_train, d.x_test, d.y_test)
    untrained = AutoencoderReducer(n_components=2, epochs=0).fit(d.x_train)
    baseline = linear_probe(untrained, d.x_train, d.y_train, d.x_test, d.y_test)
    # measured: 2-D codes 0.55-0.69 over seeds 0-3 (seed 0: 0.55), PCA(2) 0.59, untrained 0.26-0.39,
    # raw pixels 0.97: trained codes are on a par with PCA and far above untrained ones
    assert trained["code_size"] == 2
    assert trained["codes"] > trained["pca"] - 0.05
    assert trained["codes"] > baseline["codes"] + 0.1
    assert trained["pixels"] > 0.9


def test_linear_probe_on_identity_codes_equals_pixels(digits):
    d = digits
    result = linear_probe(lambda x: x, d.x_train[:300], d.y_train[:300], d.x_test[:100], d.y_test[:100])
    assert result["codes"] == result["pixels"]
    assert result["code_size"] == 64
    with pytest.raises(TypeError, match="encoder"):
        linear_probe(42, d.x_train[:10], d.y_train[:10], d.x_test[:10], d.y_test[:10])
