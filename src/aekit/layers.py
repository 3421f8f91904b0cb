"""The custom pieces aekit's models are made of: sampling, tied weights, corruption, sparsity, losses.

Each is written with ``keras.ops`` only (runs on jax, tensorflow and torch) and registered as
serializable under the ``aekit`` package, so ``.keras`` files load in safe mode. Random layers
draw from a seeded ``keras.random.SeedGenerator``, which jax requires and which makes runs
repeatable.
"""

import keras
from keras import ops

PACKAGE = "aekit"
register = keras.saving.register_keras_serializable(package=PACKAGE)


@register
class Sampling(keras.layers.Layer):
    """Draw ``z = mean + exp(log_var / 2) * eps`` (the reparameterisation trick) and add the latent loss.

    The latent loss is ``beta`` times the KL divergence of ``N(mean, exp(log_var))`` from ``N(0, I)``,
    summed over the latent dimensions and averaged over the batch; ``beta=0`` turns it off.
    """

    def __init__(self, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        if self.beta:
            kl = -0.5 * ops.sum(1.0 + log_var - ops.exp(log_var) - ops.square(mean), axis=-1)
            self.add_loss(self.beta * ops.mean(kl))
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator, dtype=mean.dtype)
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}


@register
class TiedDense(keras.layers.Layer):
    """A dense layer that also serves, transposed, as its mirror image in the decoder (tied weights).

    ``layer(x)`` computes ``activation(x @ W + b)``; ``layer(y, transpose=True)`` computes
    ``transposed_activation(y @ W.T + c)`` with the same kernel ``W`` and a bias ``c`` of its own.
    Encoder and decoder call this one layer object, so a model holds ``W`` once: the tie halves the
    weights and survives saving, because there is nothing to re-link when the model is loaded.
    The first call must be the forward one: it decides the kernel's input size.
    """

    def __init__(self, units, activation=None, transposed_activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.transposed_activation = keras.activations.get(transposed_activation)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.transposed_bias = self.add_weight(name="transposed_bias", shape=(input_dim,), initializer="zeros")

    def call(self, inputs, transpose=False):
        if transpose:
            return self.transposed_activation(ops.matmul(inputs, ops.transpose(self.kernel)) + self.transposed_bias)
        return self.activation(ops.matmul(inputs, self.kernel) + self.bias)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "transposed_activation": keras.activations.serialize(self.transposed_activation),
        }


class _TrainingCorruption(keras.layers.Layer):
    """Base for input corruptions that act only while training, so targets and inference stay clean."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        return self.corrupt(inputs) if training else inputs

    def corrupt(self, inputs):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register
class GaussianCorruption(_TrainingCorruption):
    """Add ``noise_factor * N(0, 1)`` noise and clip to [0, 1], as lesson 000's denoising example does."""

    def __init__(self, noise_factor=0.5, clip=True, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.noise_factor = float(noise_factor)
        self.clip = bool(clip)

    def corrupt(self, inputs):
        noisy = inputs + self.noise_factor * keras.random.normal(
            ops.shape(inputs), seed=self.seed_generator, dtype=inputs.dtype
        )
        return ops.clip(noisy, 0.0, 1.0) if self.clip else noisy

    def get_config(self):
        return {**super().get_config(), "noise_factor": self.noise_factor, "clip": self.clip}


@register
class SaltAndPepper(_TrainingCorruption):
    """Set a fraction ``rate`` of the values to 0 or 1 (half each)."""

    def __init__(self, rate=0.1, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = float(rate)

    def corrupt(self, inputs):
        u = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator, dtype=inputs.dtype)
        salt = ops.cast(u < self.rate / 2, inputs.dtype)
        pepper = ops.cast(u > 1.0 - self.rate / 2, inputs.dtype)
        keep = 1.0 - salt - pepper
        return inputs * keep + salt

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@register
class MaskingNoise(_TrainingCorruption):
    """Set a fraction ``rate`` of the values to 0, without dropout's rescaling of the rest."""

    def __init__(self, rate=0.25, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = float(rate)

    def corrupt(self, inputs):
        u = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator, dtype=inputs.dtype)
        return inputs * ops.cast(u >= self.rate, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@register
class KLSparsity(keras.regularizers.Regularizer):
    """Sparsity penalty ``weight * sum_j KL(p || q_j)`` on a layer's activations (lesson 004, approach 2).

    ``q_j`` is unit j's mean activation over the batch and ``p`` the ``target`` activation; the
    activations must lie in (0, 1), so use it on a sigmoid layer. Like every activity
    regularizer, Keras divides the result by the batch size.
    """

    def __init__(self, target=0.1, weight=5e-3):
        if not 0.0 < target < 1.0:
            raise ValueError(f"sparsity target must be in (0, 1), got {target}")
        self.target = float(target)
        self.weight = float(weight)

    def __call__(self, activations):
        p = self.target
        q = ops.clip(ops.mean(activations, axis=0), 1e-7, 1.0 - 1e-7)
        kl = p * ops.log(p / q) + (1.0 - p) * ops.log((1.0 - p) / (1.0 - q))
        return self.weight * ops.sum(kl)

    def get_config(self):
        return {"target": self.target, "weight": self.weight}


@register
class SummedReconstructionLoss(keras.losses.Loss):
    """Per-sample reconstruction loss summed over all features, so it adds to a VAE's KL term.

    ``kind`` is ``"binary_crossentropy"`` or ``"mse"`` (squared error). Keras' built-in losses
    average over the last axis instead, which puts the KL term 784 times too high for MNIST.
    """

    def __init__(self, kind="binary_crossentropy", name=None, **kwargs):
        if kind not in ("binary_crossentropy", "mse"):
            raise ValueError(f"reconstruction loss must be 'binary_crossentropy' or 'mse', got {kind!r}")
        super().__init__(name=name or f"summed_{kind}", **kwargs)
        self.kind = kind

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.kind == "mse":
            per_value = ops.square(y_true - y_pred)
        else:
            per_value = ops.binary_crossentropy(y_true, y_pred)
        return ops.sum(ops.reshape(per_value, (ops.shape(per_value)[0], -1)), axis=-1)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


@register
class ReshapeMaxPooling2D(keras.layers.MaxPooling2D):
    """``MaxPooling2D`` for non-overlapping windows, computed as a reshape and a max.

    The same outputs as ``MaxPooling2D`` (it subclasses it: ``isinstance``, summaries and configs
    are unchanged), but a cheap gradient: XLA:CPU differentiates ``MaxPooling2D`` with
    ``select_and_scatter``, which cost 78 ms of a 256-image step at 28x28x16 here, against 11 ms for
    this (``benchmarks/bench_speed.py``). ``same`` padding pads with ``-inf`` where Keras and
    TensorFlow put the extra row or column (bottom, right). Where a window holds tied maxima the
    gradient is shared between them instead of going to the first one.
    """

    def call(self, inputs):
        ph, pw = self.pool_size
        if keras.backend.backend() != "jax" or self.data_format != "channels_last" or tuple(self.strides) != (ph, pw):
            return super().call(inputs)  # other backends differentiate max pooling well themselves
        height, width = inputs.shape[1], inputs.shape[2]
        if height is None or width is None:
            return super().call(inputs)
        x = inputs
        out_h, out_w = (-(-height // ph), -(-width // pw)) if self.padding == "same" else (height // ph, width // pw)
        if self.padding == "same" and (out_h * ph != height or out_w * pw != width):
            # Keras/TF "same" pooling puts the extra padding at the bottom/right
            low = ops.convert_to_tensor(float("-inf"), dtype=x.dtype)
            pad_h, pad_w = out_h * ph - height, out_w * pw - width
            x = ops.pad(
                x,
                [[0, 0], [pad_h // 2, pad_h - pad_h // 2], [pad_w // 2, pad_w - pad_w // 2], [0, 0]],
                constant_values=low,
            )
        else:
            x = x[:, : out_h * ph, : out_w * pw, :]
        channels = x.shape[3]
        x = ops.reshape(x, (-1, out_h, ph, out_w, pw, channels))
        return ops.max(x, axis=(2, 4))
