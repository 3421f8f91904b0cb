"""Feature learning: are an autoencoder's codes good features for a classifier? (lessons 000, 003)

A linear probe answers it: fit the same logistic regression on the codes, on the raw pixels and
on as many PCA components as the code has, and compare test accuracies.
"""

from __future__ import annotations

import numpy as np


def linear_probe(encoder, X_train, y_train, X_test, y_test, *, max_iter: int = 1000) -> dict:
    """Test accuracy of a logistic regression on ``encoder``'s codes, on raw pixels and on PCA.

    ``encoder`` is a fitted aekit estimator (its ``encode``), a fitted scikit-learn transformer
    such as :class:`AutoencoderReducer` (its ``transform``), a Keras model or any callable
    mapping samples to codes. Every input is flattened and standardised before the regression;
    PCA keeps as many components as the code has features. Returns
    ``{"codes": ..., "pixels": ..., "pca": ..., "code_size": ...}``.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, X_test = np.asarray(X_train, dtype=np.float32), np.asarray(X_test, dtype=np.float32)
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise ValueError("X_train/y_train and X_test/y_test must have the same number of samples")
    codes_train, codes_test = _flat(_encode(encoder, X_train)), _flat(_encode(encoder, X_test))
    pixels_train, pixels_test = _flat(X_train), _flat(X_test)
    code_size = codes_train.shape[1]

    def accuracy(train, test, *steps):
        classifier = make_pipeline(*steps, StandardScaler(), LogisticRegression(max_iter=max_iter))
        return float(classifier.fit(train, y_train).score(test, y_test))

    return {
        "codes": accuracy(codes_train, codes_test),
        "pixels": accuracy(pixels_train, pixels_test),
        "pca": accuracy(pixels_train, pixels_test, PCA(min(code_size, *pixels_train.shape), random_state=0)),
        "code_size": code_size,
    }


def _encode(encoder, X) -> np.ndarray:
    if hasattr(encoder, "encode"):
        return np.asarray(encoder.encode(X))
    if hasattr(encoder, "transform"):
        return np.asarray(encoder.transform(X.reshape(len(X), -1)))
    if hasattr(encoder, "predict_on_batch"):
        from aekit.training import predict

        codes = predict(encoder, X)
        return codes[0] if isinstance(codes, list) else codes
    if callable(encoder):
        return np.asarray(encoder(X))
    raise TypeError(
        f"encoder must be an aekit estimator, a transformer, a Keras model or a callable, not {type(encoder).__name__}"
    )


def _flat(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1)
