"""Fast inference: a trained model run on many samples or a few, in chunks, at the cost of the arithmetic."""

from __future__ import annotations

import numpy as np

from aekit.training._batches import is_streamed


def predict(model, x, chunk_size: int = 4096):
    """Run ``model`` on ``x`` in inference mode, at the cost of the arithmetic even for a few samples.

    On jax the model runs as one cached, jit-compiled stateless call per batch (an interactive page
    or a service encoding one sample at a time pays microseconds, not Keras' ``predict`` set-up);
    other backends use the model's compiled predict step. Batches are zero-padded to a power of
    two (at least 8 rows), so calls with many different sizes reuse a few compiled programs.
    Returns NumPy arrays (a list of them for models with several outputs). A streamed source is read
    chunk by chunk, the next chunk while the model runs on the current one.
    """
    run = _inference_function(model)
    if is_streamed(x):
        parts = [_predict_batch(run, chunk) for chunk in x.chunks(chunk_size)] or [_predict_batch(run, x[np.arange(0)])]
    else:
        x = np.asarray(x, dtype=np.float32)
        parts = [_predict_batch(run, x[i : i + chunk_size]) for i in range(0, max(len(x), 1), chunk_size)]
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], list):
        return [np.concatenate(column) for column in zip(*parts)]
    return np.concatenate(parts)


def _inference_function(model):
    """``batch -> outputs`` for ``model``: a jit-compiled stateless call on jax (cached per model).

    The cache is an attribute of the model, so it goes with the model: a global table keyed by
    models (even weakly, since the function refers to its model) kept every model ever used alive
    with its compiled code, and a process that trains hundreds ran out of memory maps."""
    import keras

    if keras.backend.backend() != "jax":
        return model.predict_on_batch
    run = getattr(model, "_aekit_inference", None)
    if run is None:
        import jax

        @jax.jit
        def call(trainable, non_trainable, batch):
            return model.stateless_call(trainable, non_trainable, batch, training=False)[0]

        def run(batch):  # the weights as they are now: a model trained further is seen at once
            return call(
                [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], batch
            )

        model._aekit_inference = run
    return run


def _predict_batch(run, batch):
    n = len(batch)
    rows = max(8, 1 << max(n - 1, 0).bit_length())
    if rows != n:
        batch = np.concatenate([batch, np.zeros((rows - n, *batch.shape[1:]), batch.dtype)])
    out = run(batch)
    if isinstance(out, (list, tuple)):
        return [np.asarray(o)[:n] for o in out]
    return np.asarray(out)[:n]
