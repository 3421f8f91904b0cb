"""Anomaly detection by reconstruction error (lesson 000's applications).

An autoencoder trained only on normal data reconstructs normal samples well and anything else
badly, so the reconstruction error is an anomaly score. :class:`AnomalyDetector` puts a threshold
on it and speaks scikit-learn's outlier-detector language (``IsolationForest``'s conventions).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted

_METRICS = ("mse", "sse", "bce")


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """Flag samples an autoencoder fitted on normal data cannot reconstruct.

    ``autoencoder`` is any aekit estimator (default: a :class:`~aekit.DenseAutoencoder`); ``fit``
    trains a clone of it, or with ``prefit=True`` uses it as it is (already fitted) and only sets
    the threshold. The threshold is the ``percentile`` of the training errors when given,
    otherwise the ``100 * (1 - contamination)`` percentile: about that fraction of the training
    data counts as anomalous. ``metric`` is the reconstruction error: ``"mse"``, ``"sse"`` or ``"bce"``.

    >>> detector = AnomalyDetector(contamination=0.01).fit(X_normal)
    >>> detector.predict(X)            # +1 normal, -1 anomaly
    >>> detector.anomaly_score(X)      # reconstruction errors, compare with detector.threshold_
    """

    def __init__(self, autoencoder=None, *, contamination=0.05, percentile=None, metric="mse", prefit=False):
        self.autoencoder = autoencoder
        self.contamination = contamination
        self.percentile = percentile
        self.metric = metric
        self.prefit = prefit

    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` (normal data; ``y`` is ignored) and set ``threshold_``."""
        percentile = self._threshold_percentile()
        if self.metric not in _METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; use one of {', '.join(_METRICS)}")
        if self.prefit:
            if self.autoencoder is None or not hasattr(self.autoencoder, "model_"):
                raise ValueError("prefit=True needs a fitted aekit autoencoder as `autoencoder`")
            self.autoencoder_ = self.autoencoder
        else:
            self.autoencoder_ = clone(self.autoencoder if self.autoencoder is not None else _default_autoencoder())
            self.autoencoder_.fit(X)
        self.n_features_in_ = self.autoencoder_.n_features_in_
        self.train_scores_ = self.anomaly_score(X)
        self.threshold_ = float(np.percentile(self.train_scores_, percentile))
        self.offset_ = -self.threshold_
        return self

    def anomaly_score(self, X) -> np.ndarray:
        """Reconstruction error of each sample: the higher, the more anomalous."""
        check_is_fitted(self, "autoencoder_")
        return self.autoencoder_.reconstruction_error(X, self.metric)

    def score_samples(self, X) -> np.ndarray:
        """Negative reconstruction error: the higher, the more normal (scikit-learn's convention)."""
        return -self.anomaly_score(X)

    def decision_function(self, X) -> np.ndarray:
        """``threshold_ - error``: negative for anomalies, positive for normal samples."""
        check_is_fitted(self, "threshold_")
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """+1 for normal samples, -1 for anomalies (error above ``threshold_``)."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def _threshold_percentile(self) -> float:
        if self.percentile is not None:
            if not 0 <= self.percentile <= 100:
                raise ValueError(f"percentile must be in [0, 100], got {self.percentile!r}")
            return float(self.percentile)
        if not 0 <= self.contamination <= 0.5:
            raise ValueError(f"contamination must be in [0, 0.5], got {self.contamination!r}")
        return 100.0 * (1.0 - self.contamination)


def _default_autoencoder():
    from aekit.models import DenseAutoencoder

    return DenseAutoencoder()
