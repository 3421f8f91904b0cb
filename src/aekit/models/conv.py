"""Convolutional autoencoders (exercise 2, lesson 003) for images of any size and channel count.

The encoder is ``Conv2D(3x3, same, relu) + MaxPooling2D(2, same)`` per entry of ``filters``; the
decoder mirrors it with ``Conv2D + UpSampling2D`` and ends in a sigmoid ``Conv2D`` with one filter
per input channel. Two decoder layouts:

* ``lesson_layout=True`` (exercise 2): the second-to-last convolution uses valid padding, which
  turns 16x16 into 14x14 so a 28x28 input comes back as 28x28. It fits only sizes for which that
  arithmetic works out, and the builder says so when it does not.
* ``lesson_layout=False`` (default): the input is zero-padded to a multiple of ``2**len(filters)``,
  every convolution uses same padding, and the output is cropped back, so any H x W works.
"""

from aekit.errors import DataError
from aekit.models._common import as_shape, assemble, check_sizes, make_optimizer
from aekit.models.base import Autoencoder
from aekit.params import ACTIVATIONS, Choice, Flag, Param, Sizes


def conv_code_shape(input_shape, filters, lesson_layout=False):
    """Shape of the code the encoder produces for ``input_shape`` (H, W, C)."""
    height, width, _ = input_shape
    if not lesson_layout:
        height, width = _padded(height, len(filters)), _padded(width, len(filters))
    for _ in filters:
        height, width = -(-height // 2), -(-width // 2)
    return (height, width, filters[-1])


def lesson_decoder_size(input_shape, depth: int) -> tuple[int, int]:
    """The (H, W) the exercise's decoder produces for ``input_shape``: each block keeps the size, the last
    one's valid convolution takes 2 off, and every block doubles it."""
    sizes = []
    for n in input_shape[:2]:
        for _ in range(depth):
            n = -(-n // 2)
        for i in range(depth):
            n = (n - 2 if i == depth - 1 else n) * 2
        sizes.append(n)
    return tuple(sizes)


def build_conv_autoencoder(
    input_dims,
    filters,
    latent_dim=None,
    *,
    lesson_layout=False,
    activation="relu",
    corruption=None,
    loss="binary_crossentropy",
    optimizer="adam",
    learning_rate=None,
    fast_pooling=True,
):
    """Return ``(encoder, decoder, autoencoder)`` for images shaped ``input_dims`` = (H, W, C).

    ``latent_dim``, when given, must equal the code shape the encoder produces (it is checked,
    not used to build); ``corruption`` is a layer applied to the autoencoder's input.
    ``fast_pooling`` pools with :class:`~aekit.layers.ReshapeMaxPooling2D` (the same function as
    ``MaxPooling2D``, a gradient several times cheaper on XLA:CPU); exercise 2 keeps Keras' own.
    """
    import keras

    shape = as_shape(input_dims)
    if len(shape) != 3:
        raise ValueError(f"a convolutional autoencoder needs (height, width, channels) inputs, got {shape}")
    filters = check_sizes("filters", filters)
    if not filters:
        raise ValueError("a convolutional autoencoder needs at least one filter count")
    height, width, channels = shape
    check_pooling_depth(shape, len(filters))
    code_shape = conv_code_shape(shape, filters, lesson_layout)
    if latent_dim is not None and tuple(latent_dim) != code_shape:
        raise ValueError(
            f"latent_dim {tuple(latent_dim)} does not match the encoder's output {code_shape} "
            f"for input {shape} and filters {filters}"
        )

    from aekit.layers import ReshapeMaxPooling2D

    pooling = ReshapeMaxPooling2D if fast_pooling else keras.layers.MaxPooling2D
    inputs = keras.Input(shape)
    x = inputs
    if not lesson_layout:
        x = keras.layers.ZeroPadding2D(pooling_padding(shape, len(filters)))(x)
    for n in filters:
        x = keras.layers.Conv2D(n, (3, 3), padding="same", activation=activation)(x)
        x = pooling((2, 2), padding="same")(x)
    encoder = keras.Model(inputs, x, name="encoder")

    latent = keras.Input(code_shape)
    y = latent
    reversed_filters = filters[::-1]
    for i, n in enumerate(reversed_filters):
        valid = lesson_layout and i == len(reversed_filters) - 1
        y = keras.layers.Conv2D(n, (3, 3), padding="valid" if valid else "same", activation=activation)(y)
        y = keras.layers.UpSampling2D((2, 2))(y)
    y = keras.layers.Conv2D(channels, (3, 3), padding="same", activation="sigmoid")(y)
    if lesson_layout:
        if tuple(y.shape[1:3]) != (height, width):
            raise ValueError(
                f"the lesson's decoder turns a {code_shape} code into {tuple(y.shape[1:3])} images, "
                f"not {(height, width)}; use lesson_layout=False for this size"
            )
    else:
        y = keras.layers.Cropping2D(pooling_padding(shape, len(filters)))(y)
    decoder = keras.Model(latent, y, name="decoder")

    auto = assemble(encoder, decoder, shape, corruption)
    auto.compile(optimizer=make_optimizer(optimizer, learning_rate), loss=loss)
    return encoder, decoder, auto


def check_pooling_depth(shape, depth):
    """Refuse images too small for ``depth`` halvings.

    The rule: every 2x2 pooling (or stride-2 convolution) must see at least 2 real pixels along
    each axis, so the last of the ``depth`` stages still has input left to summarise. That holds
    when ``ceil(n / 2**(depth - 1)) >= 2``, i.e. ``n > 2**(depth - 1)`` for the height and the width;
    below that the extra stages would only pool the zero padding.
    """
    height, width = shape[:2]
    smallest = 2 ** (depth - 1) + 1
    if min(height, width) < smallest:
        raise ValueError(
            f"{height}x{width} images are too small for {depth} pooling stages: each must see at least 2 pixels, "
            f"so height and width must be at least {smallest}; use fewer filters"
        )


def _padded(n, depth):
    step = 2**depth
    return -(-n // step) * step


def pooling_padding(shape, depth):
    """((top, bottom), (left, right)) zero padding that makes H and W multiples of 2**depth."""
    pads = []
    for n in shape[:2]:
        extra = _padded(n, depth) - n
        pads.append((extra // 2, extra - extra // 2))
    return tuple(pads)


class ImageInput:
    """Families that take (H, W, C) images and halve them once per entry of ``filters``."""

    input_kind = "images"

    def check_data(self, X):
        super().check_data(X)
        try:
            check_pooling_depth(X.shape[1:], len(self.filters))
        except ValueError as exc:
            raise DataError(str(exc)) from None
        if getattr(self, "lesson_layout", False):
            produced = lesson_decoder_size(X.shape[1:], len(self.filters))
            if produced != tuple(X.shape[1:3]):
                raise DataError(
                    f"the lesson's decoder turns {X.shape[1]}x{X.shape[2]} images into {produced[0]}x{produced[1]}; "
                    "drop --lesson-layout for this image size"
                )


class ConvAutoencoder(ImageInput, Autoencoder):
    """A convolutional autoencoder for (H, W, C) images of any size, grayscale or colour."""

    family = "conv"
    summary = "convolutional, for images (--filters)"
    params = (
        Param("filters", (16, 8, 8), Sizes(min_len=1), "convolution filters per block, e.g. 16,8,8", positional=True),
        Param("lesson_layout", False, Flag(), "exercise 2's decoder (valid padding in its second-to-last convolution)"),
        Param("activation", "relu", Choice(*ACTIVATIONS), "activation of the convolutions"),
        Param("loss", "binary_crossentropy", Choice("binary_crossentropy", "mse"), "reconstruction loss"),
    )
    defaults = {"epochs": 10}

    def _corruption(self):
        return None

    def _build(self, input_shape):
        return build_conv_autoencoder(
            input_shape,
            list(self.filters),
            lesson_layout=self.lesson_layout,
            activation=self.activation,
            corruption=self._corruption(),
            loss=self.loss,
            learning_rate=self.learning_rate,
        )
