"""The one training loop every aekit entry point uses (Python API, command line, benchmarks).

It wraps ``model.fit`` with aekit's conventions: seeded, shuffled each epoch, quiet by default,
history returned as a plain ``{metric: [per-epoch values]}`` dict.
"""

from __future__ import annotations

import numpy as np


def train(
    model,
    x,
    y=None,
    *,
    epochs: int,
    batch_size: int = 256,
    validation_data=None,
    initial_epoch: int = 0,
    callbacks=(),
    shuffle: bool = True,
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Fit ``model`` to reproduce ``y`` (default: ``x``) from ``x``; return the per-epoch history.

    ``validation_data`` is ``x_val`` or ``(x_val, y_val)``; an autoencoder's target defaults to its
    input in both. Training continues from ``initial_epoch`` up to ``epochs``.
    """
    if y is None:
        y = x
    if validation_data is not None and not isinstance(validation_data, tuple):
        validation_data = (validation_data, validation_data)
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation_data,
        initial_epoch=initial_epoch,
        callbacks=list(callbacks),
        shuffle=shuffle,
        verbose=verbose,
    )
    return {k: [float(v) for v in values] for k, values in history.history.items()}


def predict(model, x, batch_size: int = 4096):
    """Run ``model`` on ``x`` in inference mode, without ``predict``'s per-call set-up cost.

    Uses the model's compiled predict step one batch at a time, so a call on a handful of
    samples costs about as much as the arithmetic. Returns NumPy arrays (a list of them for
    models with several outputs).
    """
    x = np.asarray(x, dtype=np.float32)
    if len(x) <= batch_size:
        return _to_numpy(model.predict_on_batch(x))
    parts = [_to_numpy(model.predict_on_batch(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    if isinstance(parts[0], list):
        return [np.concatenate(column) for column in zip(*parts)]
    return np.concatenate(parts)


def _to_numpy(out):
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return np.asarray(out)
