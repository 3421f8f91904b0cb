"""Faster drop-in layers for XLA on CPU (jax backend), measured by ``benchmarks/bench_speed.py``.

XLA:CPU computes the gradient of max pooling with ``select_and_scatter``, which is slow on CPU.
:class:`ReshapeMaxPooling2D` is ``keras.layers.MaxPooling2D`` for non-overlapping windows
(``pool_size == strides``) computed as a reshape and a max, whose gradient is cheap; ``same``
padding pads with ``-inf`` first, placed as Keras/TensorFlow place it (extra row/column at the
bottom/right). Same outputs as ``MaxPooling2D``; it subclasses it, so ``isinstance`` checks,
summaries and configs are unchanged, and it is registered for ``.keras`` saving.

(An im2col ``Conv2D`` -- shifted copies of the input and one matmul -- was measured too and was
about 2x slower than XLA's own convolution here, so it is not offered.)
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="aekit")
class ReshapeMaxPooling2D(keras.layers.MaxPooling2D):
    """``MaxPooling2D`` with ``pool_size == strides`` as reshape + max (channels_last)."""

    def call(self, inputs):
        ph, pw = self.pool_size
        if self.data_format != "channels_last" or tuple(self.strides) != (ph, pw):
            return super().call(inputs)
        height, width = inputs.shape[1], inputs.shape[2]
        if height is None or width is None:
            return super().call(inputs)
        x = inputs
        out_h, out_w = (-(-height // ph), -(-width // pw)) if self.padding == "same" else (height // ph, width // pw)
        if self.padding == "same" and (out_h * ph != height or out_w * pw != width):
            # Keras/TF "same" pooling puts the extra padding at the bottom/right
            low = ops.convert_to_tensor(float("-inf"), dtype=x.dtype)
            pad_h, pad_w = out_h * ph - height, out_w * pw - width
            x = ops.pad(x, [[0, 0], [pad_h // 2, pad_h - pad_h // 2], [pad_w // 2, pad_w - pad_w // 2], [0, 0]],
                        constant_values=low)
        else:
            x = x[:, : out_h * ph, : out_w * pw, :]
        channels = x.shape[3]
        x = ops.reshape(x, (-1, out_h, ph, out_w, pw, channels))
        return ops.max(x, axis=(2, 4))
