"""The four lesson exercises (002): exact architectures, compilation, losses and save/load round trips."""

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

EXERCISES_DIR = Path(__file__).resolve().parents[1] / "exercises"
sys.path.insert(0, str(EXERCISES_DIR))
import conformance  # noqa: E402  (exercises/conformance.py)

from aekit.layers import Sampling, SummedReconstructionLoss  # noqa: E402

# the lesson's exercises (exercises/, not aekit): plain Keras on whichever backend runs them, lesson-sized models
pytestmark = [pytest.mark.slow, pytest.mark.backend]


def build(name, *args):
    keras.utils.set_random_seed(0)
    return conformance.load_exercise(name)(*args)


def dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def describe(layers):
    return [(layer.units, layer.activation.__name__) for layer in layers]


def test_vanilla_matches_the_spec():
    encoder, decoder, auto = build("vanilla", 784, [128, 64], 32)
    assert describe(dense_layers(encoder)) == [(128, "relu"), (64, "relu"), (32, "relu")]
    assert describe(dense_layers(decoder)) == [(64, "relu"), (128, "relu"), (784, "sigmoid")]
    # hand count: 784*128+128 + 128*64+64 + 64*32+32, and the mirror image ending in 128*784+784
    assert encoder.count_params() == 100480 + 8256 + 2080
    assert decoder.count_params() == 2112 + 8320 + 101136
    assert auto.count_params() == encoder.count_params() + decoder.count_params()
    assert isinstance(auto.optimizer, keras.optimizers.Adam)
    assert auto.loss == "binary_crossentropy"
    assert auto.input_shape == (None, 784) and auto.output_shape == (None, 784)


def test_sparse_puts_l1_on_the_encoded_output_only():
    encoder, decoder, auto = build("sparse", 784, [128, 64], 32, 10e-6)
    layers = dense_layers(encoder)
    assert describe(layers) == [(128, "relu"), (64, "relu"), (32, "relu")]
    assert [type(layer.activity_regularizer).__name__ for layer in layers] == ["NoneType", "NoneType", "L1"]
    assert float(layers[-1].activity_regularizer.l1) == pytest.approx(10e-6)
    assert describe(dense_layers(decoder)) == [(64, "relu"), (128, "relu"), (784, "sigmoid")]
    assert auto.count_params() == 222384 and auto.loss == "binary_crossentropy"
    x = np.random.default_rng(0).random((4, 784)).astype("float32")
    auto(x)
    assert len(auto.losses) == 1  # the activity penalty is part of the training loss


def test_convolutional_matches_the_spec():
    encoder, decoder, auto = build("convolutional", (28, 28, 1), [16, 8, 8], (4, 4, 8))
    convs = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    pools = [layer for layer in encoder.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert [(c.filters, c.kernel_size, c.padding, c.activation.__name__) for c in convs] == [
        (16, (3, 3), "same", "relu"),
        (8, (3, 3), "same", "relu"),
        (8, (3, 3), "same", "relu"),
    ]
    assert [p.pool_size for p in pools] == [(2, 2)] * 3
    assert encoder.output_shape == (None, 4, 4, 8)
    kinds = [type(layer).__name__ for layer in decoder.layers[1:]]
    assert kinds == ["Conv2D", "UpSampling2D"] * 3 + ["Conv2D"]
    convs = [layer for layer in decoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.padding, c.activation.__name__) for c in convs] == [
        (8, "same", "relu"),
        (8, "same", "relu"),
        (16, "valid", "relu"),
        (1, "same", "sigmoid"),
    ]
    assert [u.size for u in decoder.layers if isinstance(u, keras.layers.UpSampling2D)] == [(2, 2)] * 3
    assert decoder.output_shape == (None, 28, 28, 1)
    # hand count: 9*1*16+16, 9*16*8+8, 9*8*8+8 | 9*8*8+8, 9*8*8+8, 9*8*16+16, 9*16*1+1
    assert encoder.count_params() == 160 + 1160 + 584
    assert decoder.count_params() == 584 + 584 + 1168 + 145
    assert auto.loss == "binary_crossentropy" and isinstance(auto.optimizer, keras.optimizers.Adam)


def test_convolutional_rejects_a_latent_shape_that_does_not_fit():
    with pytest.raises(ValueError, match=r"latent_dim \(7, 7, 8\) does not match"):
        build("convolutional", (28, 28, 1), [16, 8, 8], (7, 7, 8))


def test_variational_matches_the_spec():
    encoder, decoder, auto = build("variational", 784, [512], 2)
    assert len(encoder.outputs) == 3
    assert [tuple(o.shape) for o in encoder.outputs] == [(None, 2)] * 3
    layers = {layer.name: layer for layer in dense_layers(encoder)}
    assert layers["mean"].activation.__name__ == "linear" and layers["log_var"].activation.__name__ == "linear"
    assert describe(dense_layers(encoder)) == [(512, "relu"), (2, "linear"), (2, "linear")]
    assert describe(dense_layers(decoder)) == [(512, "relu"), (784, "sigmoid")]
    # 784*512+512 + 2*(512*2+2) | 2*512+512 + 512*784+784
    assert encoder.count_params() == 401920 + 2052 and decoder.count_params() == 1536 + 402192
    assert isinstance(auto.optimizer, keras.optimizers.Adam)
    assert isinstance(auto.loss, SummedReconstructionLoss) and auto.loss.kind == "binary_crossentropy"


def test_variational_loss_is_summed_cross_entropy_plus_kl():
    rng = np.random.default_rng(0)
    y_true = (rng.random((5, 784)) > 0.5).astype("float32")
    y_pred = rng.uniform(0.05, 0.95, (5, 784)).astype("float32")
    per_pixel = keras.losses.binary_crossentropy(y_true, y_pred)
    summed = SummedReconstructionLoss("binary_crossentropy")(y_true, y_pred)
    assert float(summed) == pytest.approx(784 * float(np.mean(per_pixel)), rel=1e-5)

    mean = rng.normal(size=(6, 2)).astype("float32")
    log_var = rng.normal(size=(6, 2)).astype("float32")
    layer = Sampling(seed=1)
    layer([mean, log_var])
    expected = np.mean(-0.5 * np.sum(1 + log_var - np.exp(log_var) - mean**2, axis=1))
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-5)


def test_variational_sampling_is_seeded_and_random():
    mean = np.zeros((1000, 2), "float32")
    log_var = np.zeros((1000, 2), "float32")
    z1 = keras.ops.convert_to_numpy(Sampling(seed=3)([mean, log_var]))
    z2 = keras.ops.convert_to_numpy(Sampling(seed=3)([mean, log_var]))
    np.testing.assert_array_equal(z1, z2)
    assert abs(z1.mean()) < 0.1 and abs(z1.std() - 1) < 0.1


def test_variational_fit_with_validation_reports_lesson_scale_losses():
    encoder, decoder, auto = build("variational", 784, [64], 2)
    x = (np.random.default_rng(0).random((256, 784)) > 0.8).astype("float32")
    history = auto.fit(x, x, epochs=2, batch_size=64, validation_data=(x, x), verbose=0).history
    assert 100 < history["val_loss"][-1] < 784  # summed over 784 pixels, not averaged
    assert history["loss"][-1] < history["loss"][0]


@pytest.mark.parametrize(
    "name, args, flat",
    [
        ("vanilla", (784, [32], 8), True),
        ("sparse", (784, [32], 8, 1e-5), True),
        ("convolutional", ((28, 28, 1), [16, 8, 8], (4, 4, 8)), False),
        ("variational", (784, [32], 2), True),
    ],
)
def test_keras_file_round_trip_gives_the_same_outputs(tmp_path, name, args, flat):
    encoder, decoder, auto = build(name, *args)
    x = np.random.default_rng(1).random((7, 784) if flat else (7, 28, 28, 1)).astype("float32")
    auto.fit(x, x, epochs=1, verbose=0)
    auto.save(tmp_path / "auto.keras")
    loaded = keras.saving.load_model(tmp_path / "auto.keras", safe_mode=True)
    enc, dec = loaded.get_layer("encoder"), loaded.get_layer("decoder")
    code, code2 = encoder.predict(x, verbose=0), enc.predict(x, verbose=0)
    if name == "variational":  # z is random; mean and log_var are not
        np.testing.assert_allclose(code[1:], code2[1:], rtol=1e-5, atol=1e-6)
        code = code[1]
    else:
        np.testing.assert_allclose(code, code2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(decoder.predict(code, verbose=0), dec.predict(code, verbose=0), rtol=1e-5, atol=1e-6)
