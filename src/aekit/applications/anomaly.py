"""Anomaly detection by reconstruction error (lesson 000's applications).

An autoencoder trained only on normal data reconstructs normal samples well and anything else
badly, so the reconstruction error is an anomaly score. :class:`AnomalyDetector` puts a threshold
on it and speaks scikit-learn's outlier-detector language (``IsolationForest``'s conventions).
On a table the score is measured in the model's scaled units (standardised columns count alike,
whatever their units), and :meth:`AnomalyDetector.explain` names the columns that made it.
:func:`find_anomalies` gathers a detector's verdict on new samples and :func:`write_scores` writes
it as the scores table (``aekit anomaly``'s CSV).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted

_METRICS = ("mse", "sse", "bce")


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """Flag samples an autoencoder fitted on normal data cannot reconstruct.

    ``autoencoder`` is any aekit estimator (default: :func:`default_autoencoder` for the data's
    width); ``fit`` trains a clone of it, or with ``prefit=True`` uses it as it is (already
    fitted) and only sets the threshold. The threshold is the ``percentile`` of the training
    errors when given, otherwise the ``100 * (1 - contamination)`` percentile: about that fraction
    of the training data counts as anomalous. ``metric`` is the reconstruction error: ``"mse"``,
    ``"sse"`` or ``"bce"``, measured in the autoencoder's scaled units (for data in [0, 1]: as is).

    >>> detector = AnomalyDetector(contamination=0.01).fit(X_normal)
    >>> detector.predict(X)            # +1 normal, -1 anomaly
    >>> detector.anomaly_score(X)      # reconstruction errors, compare with detector.threshold_
    >>> detector.explain(X, top=3)     # per sample: the 3 columns with the largest share of its error
    """

    def __init__(self, autoencoder=None, *, contamination=0.05, percentile=None, metric="mse", prefit=False):
        self.autoencoder = autoencoder
        self.contamination = contamination
        self.percentile = percentile
        self.metric = metric
        self.prefit = prefit

    def fit(self, X, y=None, *, columns=None):
        """Train the autoencoder on ``X`` (normal data; ``y`` is ignored) and set ``threshold_``.

        ``columns`` names a table's columns (a DataFrame's are taken), for :meth:`explain`."""
        percentile = self._threshold_percentile()
        if self.metric not in _METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; use one of {', '.join(_METRICS)}")
        if self.prefit:
            if self.autoencoder is None or not hasattr(self.autoencoder, "model_"):
                raise ValueError("prefit=True needs a fitted aekit autoencoder as `autoencoder`")
            self.autoencoder_ = self.autoencoder
        else:
            self.autoencoder_ = clone(self.autoencoder if self.autoencoder is not None else default_autoencoder(X))
            self.autoencoder_.fit(X, columns=columns)
        self.n_features_in_ = self.autoencoder_.n_features_in_
        self.train_scores_ = self.anomaly_score(X)
        self.threshold_ = float(np.percentile(self.train_scores_, percentile))
        self.offset_ = -self.threshold_
        return self

    def anomaly_score(self, X) -> np.ndarray:
        """Reconstruction error of each sample (in the model's scaled units): the higher, the more anomalous."""
        check_is_fitted(self, "autoencoder_")
        return self.autoencoder_.reconstruction_error(X, self.metric, scaled=True)

    def column_scores(self, X) -> np.ndarray:
        """Each sample's error column by column, ``(n, features)``, in the scaled units of :meth:`anomaly_score`."""
        check_is_fitted(self, "autoencoder_")
        return self.autoencoder_.reconstruction_error(X, self.metric, scaled=True, per_column=True)

    def explain(self, X, top: int = 3, rounds: int = 3) -> list[list[tuple[str, float]]]:
        """For each sample, the ``top`` columns that make its score: ``[(name, share), ...]``, largest first.

        A column's share is the part of the sample's score that goes away when that column alone is
        replaced by the value the model expects from the others (imputed through the autoencoder,
        ``rounds`` times): 0.93 means the row would score 93 % lower with a normal value there.
        Unlike the per-column errors (:meth:`column_scores`), which a bottleneck spreads over the
        columns it uses to explain an odd value, this points at the column that was odd. Names come
        from the training table's header (``autoencoder_.columns_``), else ``column 1``, ``column 2``, ...
        """
        check_is_fitted(self, "autoencoder_")
        model = self.autoencoder_
        X = model._check_input(X)
        shape = tuple(model.input_shape_)
        n, d = len(X), int(np.prod(shape))
        flat = model._to_model(X).reshape(n, d)
        reconstruct = lambda rows: model._reconstruct_model(rows.reshape(len(rows), *shape)).reshape(len(rows), d)  # noqa: E731
        base = self._errors(flat, reconstruct(flat))
        diagonal = np.arange(d)
        variants = np.repeat(flat[:, None, :], d, axis=1)  # variant (i, j): row i with column j imputed
        variants[:, diagonal, diagonal] = reconstruct(flat)
        for _ in range(rounds):
            variants[:, diagonal, diagonal] = reconstruct(variants.reshape(n * d, d)).reshape(n, d, d)[
                :, diagonal, diagonal
            ]
        rows = variants.reshape(n * d, d)
        imputed = self._errors(rows, reconstruct(rows)).reshape(n, d)
        shares = np.clip(
            1.0 - np.divide(imputed, base[:, None], out=np.ones_like(imputed), where=base[:, None] > 0), 0.0, 1.0
        )
        names = model.column_names()
        order = np.argsort(-shares, axis=1, kind="stable")[:, :top]
        return [[(names[j], float(row[j])) for j in best] for row, best in zip(shares, order)]

    def _errors(self, x, x_hat) -> np.ndarray:
        from aekit.evaluation import reconstruction_error

        return reconstruction_error(x, x_hat, self.metric)

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


@dataclass
class Findings:
    """A fitted detector's verdict on samples: each one's ``scores`` and ``flags`` (True: above the
    threshold); for a table (``tabular``), ``reasons``: flagged index -> its ``(column, share)`` pairs."""

    scores: np.ndarray
    flags: np.ndarray
    reasons: dict
    tabular: bool

    def flagged(self) -> list[dict]:
        """One dict per flagged sample, in order: ``index``, ``score`` and for a table ``top_columns``."""
        return [
            {
                "index": i,
                "score": float(self.scores[i]),
                **(
                    {"top_columns": [{"column": name, "share": share} for name, share in self.reasons.get(i, [])]}
                    if self.tabular
                    else {}
                ),
            }
            for i in np.flatnonzero(self.flags).tolist()
        ]

    def to_csv(self) -> str:
        """The scores table: ``index``, ``score`` (7 significant digits), ``anomaly`` (1 or 0) and for a
        table ``top_columns`` (``"name (93%); ..."``, empty for a sample not flagged)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["index", "score", "anomaly", *(["top_columns"] if self.tabular else [])])
        for i, (score, flag) in enumerate(zip(self.scores, self.flags)):
            why = "; ".join(f"{name} ({share:.0%})" for name, share in self.reasons.get(i, []))
            writer.writerow([i, f"{score:.7g}", int(flag), *([why] if self.tabular else [])])
        return buffer.getvalue()


def find_anomalies(detector: AnomalyDetector, X, top: int = 3) -> Findings:
    """Score ``X`` with a fitted ``detector`` and flag the samples above its threshold; on a table (rows of
    named columns, not images), also the ``top`` columns that made each flagged score (``top=0``: none)."""
    scores = detector.anomaly_score(X)
    flags = detector.predict(X) == -1
    tabular = len(detector.autoencoder_.input_shape_) == 1
    explained = detector.explain(X[flags], top=top) if tabular and top and flags.any() else []
    return Findings(scores, flags, dict(zip(np.flatnonzero(flags).tolist(), explained)), tabular)


def write_scores(path, findings: Findings, force: bool = False):
    """Write ``findings`` as the CSV scores table (:meth:`Findings.to_csv`) to ``path`` through :mod:`aekit.files`."""
    from aekit.files import write_text

    return write_text(path, findings.to_csv(), force=force)


#: the default detector's network: hidden layers, code size as a share of the features, training batches
DEFAULT_HIDDEN, DEFAULT_CODE_SHARE, DEFAULT_STEPS, DEFAULT_BATCH = (64, 32), 0.25, 50, 32


def default_autoencoder(X):
    """The autoencoder an :class:`AnomalyDetector` trains when none is given, sized for ``X``.

    A :class:`~aekit.DenseAutoencoder` with hidden layers 64-32 and a code of a quarter of the
    features (at least 2, at most 16), trained in batches of 32 for about 50 steps and at least 10 epochs (at most 300),
    with ``scale="auto"`` (a table is standardised). Chosen on validation splits of tabular
    data sets (``benchmarks/bench_tabular.py --select``), never on their test parts.
    """
    from aekit.models import DenseAutoencoder

    shape = np.shape(X)
    n, d = shape[0], int(np.prod(shape[1:]))
    steps_per_epoch = -(-n // DEFAULT_BATCH)
    epochs = max(10, min(300, -(-DEFAULT_STEPS // steps_per_epoch)))
    code = min(max(2, round(d * DEFAULT_CODE_SHARE)), DEFAULT_HIDDEN[-1] // 2)  # a bottleneck, even for wide data
    return DenseAutoencoder(hidden_layers=DEFAULT_HIDDEN, latent_dim=code, epochs=epochs, batch_size=DEFAULT_BATCH)
