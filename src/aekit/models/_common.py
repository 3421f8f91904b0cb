"""Pieces every builder shares: input shapes, optimizers, flattening and assembling the autoencoder."""

import math

from aekit.errors import DataError
from aekit.params import Sizes


def as_shape(input_dims) -> tuple[int, ...]:
    """An int or a tuple of ints as a shape tuple, with a clear error for anything else."""
    shape = (input_dims,) if isinstance(input_dims, int) else tuple(input_dims)
    if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"input shape must be positive integers, got {input_dims!r}")
    return shape


def check_sizes(what: str, sizes) -> list[int]:
    """A list of positive layer sizes (an int counts as one), or a ValueError naming ``what``."""
    try:
        return list(Sizes().check(sizes))
    except ValueError as exc:
        raise ValueError(f"{what} {exc}, got {sizes!r}") from None


def make_optimizer(optimizer="adam", learning_rate=None):
    """Keras' optimizer by name, with ``learning_rate`` applied when given."""
    import keras

    if learning_rate is None:
        return optimizer
    opt = keras.optimizers.get(optimizer)
    opt.learning_rate = learning_rate
    return opt


def flatten_input(inputs, shape):
    """Flatten image-shaped inputs for a dense encoder (identity for vectors)."""
    import keras

    return keras.layers.Flatten()(inputs) if len(shape) > 1 else inputs


def unflatten_output(outputs, shape):
    """Give a dense decoder's output the input's shape again (identity for vectors)."""
    import keras

    return keras.layers.Reshape(shape)(outputs) if len(shape) > 1 else outputs


def size(shape) -> int:
    return math.prod(shape)


def assemble(encoder, decoder, input_shape, corruption=None, name="autoencoder"):
    """The autoencoder ``decoder(encoder(corruption(x)))``; corruption acts only while training."""
    import keras

    inputs = keras.Input(input_shape, name="input")
    x = corruption(inputs) if corruption is not None else inputs
    code = encoder(x)
    if isinstance(code, (list, tuple)):  # a variational encoder returns [z, mean, log_var]
        code = code[0]
    return keras.Model(inputs, decoder(code), name=name)


def checked_columns(columns, sample_shape, error=DataError) -> tuple[str, ...] | None:
    """Column names for samples of ``sample_shape``: one text per feature of a table, or None."""
    if columns is None:
        return None
    columns = tuple(columns)
    if len(sample_shape) != 1 or len(columns) != sample_shape[0] or not all(isinstance(c, str) for c in columns):
        raise error(
            f"columns: {len(columns)} names for samples shaped {tuple(sample_shape)}; "
            "give one name (text) per column of a table"
        )
    return columns
