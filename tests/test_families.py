"""Every model family does its job on the digits data, and one API uses them all.

Models are small and trained once per module (the ``fitted`` fixture), then shared by the tests
of what each family is for and by the save/load round trip every family must pass.
"""

from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit.errors import DataError
from aekit.models import (
    ConvAutoencoder,
    ConvDenoisingAutoencoder,
    ConvVariationalAutoencoder,
    DenoisingAutoencoder,
    DenseAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    VariationalAutoencoder,
    build_conv_autoencoder,
    build_conv_variational_autoencoder,
    corrupt,
    make_corruption,
)
from aekit.noise import DEFAULT_LEVELS, NOISE_KINDS, NOISE_LIMITS, noise_level
from aekit.training import TrainingPlan

# trains every family for a few seconds each (slow); models, layers and model files are Keras' business (backend)
pytestmark = [pytest.mark.slow, pytest.mark.backend]

FAST = dict(batch_size=64, learning_rate=1e-2, seed=0)
# sizes that are multiples of the batch size: on jax every new batch shape costs a compilation
N_TRAIN, N_TEST = 1280, 320

# family -> (estimator, training epochs): small enough to train in seconds on digits
CONFIGS = {
    "dense": lambda: DenseAutoencoder((32,), 16, epochs=15, **FAST),
    "tied": lambda: DenseAutoencoder((32,), 16, tied_weights=True, epochs=15, **FAST),
    "sparse_l1": lambda: SparseAutoencoder((32,), 16, l1=1e-3, epochs=15, **FAST),
    "dense_sigmoid": lambda: DenseAutoencoder((32,), 32, code_activation="sigmoid", epochs=15, **FAST),
    "sparse_sigmoid_l1": lambda: SparseAutoencoder((32,), 32, code_activation="sigmoid", l1=1e-3, epochs=15, **FAST),
    "sparse_kl": lambda: SparseAutoencoder((32,), 32, sparsity="kl", target=0.05, weight=0.5, epochs=15, **FAST),
    "denoising": lambda: DenoisingAutoencoder((64,), 32, noise="gaussian", noise_level=0.5, epochs=20, **FAST),
    "conv_denoising": lambda: ConvDenoisingAutoencoder(
        (16,), noise="salt_and_pepper", noise_level=0.2, epochs=20, **FAST
    ),
    "vae": lambda: VariationalAutoencoder((64,), 2, epochs=20, **FAST),
    "conv_vae": lambda: ConvVariationalAutoencoder((16,), 2, epochs=25, **{**FAST, "learning_rate": 3e-3}),
    "stacked": lambda: StackedAutoencoder(
        (32, 16), pretrain_epochs=10, head_epochs=10, epochs=10, finetune_learning_rate=1e-2, **FAST
    ),
}


@pytest.fixture(scope="module")
def data(digits):
    """Digits cut to whole batches: ``(x_train, y_train, x_test, y_test)``."""
    return digits.x_train[:N_TRAIN], digits.y_train[:N_TRAIN], digits.x_test[:N_TEST], digits.y_test[:N_TEST]


@pytest.fixture(scope="module")
def fitted(data):
    """``fitted(name)``: the model of ``CONFIGS[name]`` trained on digits, trained only once."""
    x_train, y_train, x_test, y_test = data
    cache = {}

    def get(name):
        if name not in cache:
            model = CONFIGS[name]()
            if isinstance(model, StackedAutoencoder):
                model.fit(x_train, y_train, validation_data=(x_test, y_test))
            else:
                model.fit(x_train)
            cache[name] = model
        return cache[name]

    return get


def mse(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


# ---------------------------------------------------------------------- every family


# the plain ConvAutoencoder makes its round trip in test_conv_autoencoder_trains_on_any_image_shape
@pytest.mark.parametrize(
    "name", ["dense", "tied", "sparse_kl", "denoising", "conv_denoising", "vae", "conv_vae", "stacked"]
)
def test_save_and_load_give_the_same_encoder_and_decoder(name, fitted, data, tmp_path):
    model = fitted(name)
    x = data[2]
    loaded = aekit.load(model.save(tmp_path / f"{name}.keras"))
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    codes = model.encode(x)
    np.testing.assert_allclose(loaded.encode(x), codes, atol=1e-6)
    np.testing.assert_allclose(loaded.decode(codes), model.decode(codes), atol=1e-6)
    errors = loaded.reconstruction_error(x)
    assert errors.shape == (N_TEST,) and np.all(errors >= 0)
    np.testing.assert_allclose(errors, model.reconstruction_error(x), rtol=1e-5)
    assert model.reconstruct(x).shape == x.shape


def test_every_family_is_registered_and_exported():
    names = {"dense", "sparse", "denoising", "conv", "conv_denoising", "vae", "conv_vae", "stacked"}
    assert names <= set(aekit.families())
    for cls in (
        "SparseAutoencoder",
        "DenoisingAutoencoder",
        "ConvDenoisingAutoencoder",
        "ConvVariationalAutoencoder",
        "StackedAutoencoder",
    ):
        assert getattr(aekit, cls) is getattr(aekit.models, cls)
    assert aekit.corrupt is corrupt


# ---------------------------------------------------------------------- tied weights


def test_tied_dense_maps_back_with_the_transposed_kernel(rng):
    from aekit.layers import TiedDense

    layer = TiedDense(3, activation="relu", transposed_activation="sigmoid")
    x = rng.normal(size=(4, 5)).astype("float32")
    code = np.array(layer(x))
    kernel, bias, back_bias = (np.array(w) for w in (layer.kernel, layer.bias, layer.transposed_bias))
    np.testing.assert_allclose(code, np.maximum(x @ kernel + bias, 0), atol=1e-5)
    back = np.array(layer(code, transpose=True))
    np.testing.assert_allclose(back, 1 / (1 + np.exp(-(code @ kernel.T + back_bias))), atol=1e-5)
    assert kernel.shape == (5, 3) and len(layer.weights) == 3


def test_tied_decoder_uses_the_encoders_kernels_after_loading(fitted, data, tmp_path):
    tied, untied = fitted("tied"), fitted("dense")
    # 64-32-16: each kernel stored once, plus a bias in each direction
    assert tied.model_.count_params() == 64 * 32 + 32 * 16 + (32 + 64) + (16 + 32)
    assert tied.model_.count_params() < untied.model_.count_params()
    assert -tied.score(data[2]) < 2 * -untied.score(data[2])  # half the weights, comparable error
    loaded = aekit.load(tied.save(tmp_path / "tied.keras"))
    for model in (tied, loaded):
        assert model.encoder_.get_layer("tied_0") is model.decoder_.get_layer("tied_0")
    # training the loaded model moves encoder and decoder together
    x = data[0][:64]
    layer = loaded.encoder_.get_layer("tied_1")
    before, codes = np.array(layer.kernel), loaded.encode(x)
    loaded.model_.fit(x, x, epochs=1, batch_size=64, verbose=0)
    assert len(loaded.model_.trainable_weights) == 6
    assert not np.allclose(np.array(layer.kernel), before)
    np.testing.assert_array_equal(np.array(loaded.decoder_.get_layer("tied_1").kernel), np.array(layer.kernel))
    assert not np.allclose(loaded.encode(x), codes)


# ---------------------------------------------------------------------- sparse


def test_l1_codes_are_sparser_than_a_plain_models(fitted, data):
    plain, sparse = fitted("dense").encode(data[2]), fitted("sparse_l1").encode(data[2])
    assert sparse.mean() < 0.5 * plain.mean()
    assert np.mean(sparse < 1e-3) > np.mean(plain < 1e-3)


def test_kl_sparsity_pulls_mean_activation_toward_the_target(fitted, data):
    plain, sparse = fitted("dense_sigmoid").encode(data[2]), fitted("sparse_kl").encode(data[2])
    assert abs(sparse.mean() - 0.05) < abs(plain.mean() - 0.05)
    assert sparse.mean() < 0.5 * plain.mean()


def test_l1_on_a_sigmoid_code_lowers_its_activations(fitted, data):
    # lesson 004, approach 1: sigmoid code plus an L1 penalty on its activations
    plain, sparse = fitted("dense_sigmoid").encode(data[2]), fitted("sparse_sigmoid_l1").encode(data[2])
    assert sparse.min() >= 0 and sparse.max() <= 1
    assert sparse.mean() < 0.5 * plain.mean()
    assert np.mean(sparse < 0.05) > np.mean(plain < 0.05)


def test_sparse_settings_are_checked(data):
    with pytest.raises(ValueError, match="sigmoid"):
        SparseAutoencoder((8,), 4, sparsity="kl", code_activation="relu", epochs=1).fit(data[0])
    with pytest.raises(ValueError, match="sparsity must be one of l1, kl"):
        SparseAutoencoder((8,), 4, sparsity="l2", epochs=1).fit(data[0])


# ---------------------------------------------------------------------- denoising


@pytest.mark.parametrize(
    "name, kind, level", [("denoising", "gaussian", 0.5), ("conv_denoising", "salt_and_pepper", 0.2)]
)
def test_denoised_output_is_closer_to_clean_than_the_noisy_input(name, kind, level, fitted, data):
    clean = data[2]
    noisy = corrupt(clean, kind, level, seed=1)
    denoised = fitted(name).denoise(noisy)
    assert denoised.shape == clean.shape
    assert mse(denoised, clean) < 0.6 * mse(noisy, clean)


@pytest.mark.parametrize("name", ["denoising", "conv_denoising"])
def test_shift_average_is_the_mean_over_one_pixel_shifts_undone(name, fitted, data):
    model = fitted(name)
    noisy = corrupt(data[2], "gaussian", 0.3, seed=1)
    averaged = model.denoise(noisy, shift_average=True)
    expected = np.mean(
        [
            np.roll(model.denoise(np.roll(noisy, (dy, dx), axis=(1, 2))), (-dy, -dx), axis=(1, 2))
            for dy, dx in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]
        ],
        axis=0,
    )
    assert averaged.shape == noisy.shape
    np.testing.assert_allclose(averaged, expected, atol=1e-6)
    assert not np.allclose(averaged, model.denoise(noisy), atol=1e-3)  # the shifted passes changed it


def test_shift_average_refuses_rows_that_are_no_image(rng):
    table = rng.uniform(size=(32, 50)).astype("float32")
    model = DenoisingAutoencoder((8,), 4, epochs=1, batch_size=32, seed=0).fit(table)
    with pytest.raises(DataError, match="50-value rows are no square image"):
        model.denoise(table, shift_average=True)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_corruption_acts_only_while_training_and_matches_corrupt(kind, rng):
    x = rng.uniform(0.2, 0.8, size=(64, 50)).astype("float32")
    layer = make_corruption(kind, seed=0)
    np.testing.assert_array_equal(np.array(layer(x, training=False)), x)
    noisy_layer = np.array(layer(x, training=True))
    noisy = corrupt(x, kind, seed=3)
    assert not np.allclose(noisy_layer, x) and not np.allclose(noisy, x)
    np.testing.assert_array_equal(corrupt(x, kind, seed=3), noisy)
    assert not np.array_equal(corrupt(x, kind, seed=4), noisy)
    # layer and NumPy helper corrupt by about the same amount
    assert mse(noisy_layer, x) == pytest.approx(mse(noisy, x), rel=0.25)


def test_corrupt_follows_the_lessons_recipes(rng):
    x = rng.uniform(0, 1, size=(200, 64)).astype("float32")
    gaussian = corrupt(x, "gaussian", 0.6)
    assert gaussian.min() >= 0 and gaussian.max() <= 1
    assert np.mean(corrupt(x, "masking", 0.25) == 0) == pytest.approx(0.25, abs=0.02)
    pepper = corrupt(x, "salt_and_pepper", 0.2)
    assert np.mean((pepper == 0) | (pepper == 1)) == pytest.approx(0.2, abs=0.02)
    dropped = corrupt(x, "dropout", 0.5)
    np.testing.assert_allclose(dropped[dropped > 0], 2 * x[dropped > 0])
    with pytest.raises(ValueError, match="unknown noise kind"):
        corrupt(x, "speckle")
    with pytest.raises(ValueError, match="in \\[0, 1\\)"):
        make_corruption("masking", 1.5)


def test_every_noise_kind_has_a_default_level_and_a_slider_limit_it_accepts():
    assert set(NOISE_LIMITS) == set(DEFAULT_LEVELS) == set(NOISE_KINDS)
    for kind in NOISE_KINDS:
        assert noise_level(kind) == DEFAULT_LEVELS[kind] <= NOISE_LIMITS[kind] == noise_level(kind, NOISE_LIMITS[kind])


# ---------------------------------------------------------------------- convolutional shapes


def test_conv_autoencoder_trains_on_odd_rgb_images_and_round_trips(rng, tmp_path):
    x = rng.uniform(0, 1, size=(32, 7, 9, 3)).astype("float32")
    model = ConvAutoencoder((4, 4, 4), epochs=2, batch_size=32).fit(x)
    assert model.reconstruct(x).shape == x.shape
    assert model.encode(x).shape == (32, 1, 2, 4)  # padded to 8x16, halved three times
    assert model.history_["loss"][1] < model.history_["loss"][0]
    loaded = aekit.load(model.save(tmp_path / "conv.keras"))
    codes = model.encode(x)
    np.testing.assert_allclose(loaded.encode(x), codes, atol=1e-6)
    np.testing.assert_allclose(loaded.decode(codes), model.decode(codes), atol=1e-6)
    assert loaded.reconstruction_error(x).shape == (32,)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_conv_builders_keep_any_image_shape(shape):
    for build in (build_conv_autoencoder, build_conv_variational_autoencoder):
        _, decoder, auto = build(shape, [4, 4, 4])
        assert auto.output_shape == (None, *shape) and decoder.output_shape == (None, *shape)


def test_conv_models_refuse_images_too_small_for_their_depth():
    # three poolings: the last must still see 2 pixels, so sides of at least 2**2 + 1 = 5
    with pytest.raises(ValueError, match="4x5 images are too small for 3 pooling stages.*at least 5"):
        build_conv_autoencoder((4, 5, 1), [4, 4, 4])
    with pytest.raises(ValueError, match="too small for 2 pooling stages"):
        build_conv_variational_autoencoder((2, 9, 1), [4, 4])
    encoder, _, auto = build_conv_autoencoder((4, 5, 1), [4, 4])  # two poolings fit 4 pixels
    assert auto.output_shape == (None, 4, 5, 1) and encoder.output_shape == (None, 1, 2, 4)


# ---------------------------------------------------------------------- variational


@pytest.mark.parametrize("name", ["vae", "conv_vae"])
def test_vae_samples_are_valid_images(name, fitted):
    samples = fitted(name).sample(16, seed=1)
    assert samples.shape == (16, 8, 8, 1)
    assert samples.min() >= 0 and samples.max() <= 1
    assert samples.std(axis=0).mean() > 0.02  # different codes, different images
    grid = fitted(name).latent_grid(5)
    assert grid.shape == (5, 5, 8, 8, 1)


@pytest.mark.parametrize("name", ["vae", "conv_vae"])
def test_vae_interpolation_moves_smoothly_between_the_endpoints(name, fitted, data):
    vae = fitted(name)
    x, y = data[2], data[3]
    a, b = x[y == 0][0], x[y == 7][0]
    frames = vae.interpolate(a, b, steps=9)
    assert frames.shape == (9, 8, 8, 1)
    np.testing.assert_allclose(frames[[0, -1]], vae.reconstruct(np.stack([a, b])), atol=1e-5)
    steps = [mse(frames[i + 1], frames[i]) for i in range(8)]
    assert max(steps) < mse(frames[0], frames[-1])


@pytest.mark.parametrize("name", ["vae", "conv_vae"])
def test_vae_means_spread_by_digit(name, fitted, data):
    from sklearn.neighbors import KNeighborsClassifier

    x_train, y_train, x_test, y_test = data
    vae = fitted(name)
    means, log_var = vae.encode_distribution(x_test)
    assert means.shape == (N_TEST, 2) and log_var.shape == means.shape
    centroids = np.stack([means[y_test == k].mean(axis=0) for k in range(10)])
    assert centroids.std(axis=0).max() > 0.3  # the digits' mean codes are not all near 0
    knn = KNeighborsClassifier(5).fit(vae.encode(x_train), y_train)
    assert knn.score(means, y_test) > 0.5  # chance is 0.1


def test_vae_reduction_mean_divides_both_terms_by_the_features(data):
    vae = VariationalAutoencoder((16,), 2, reconstruction="mse", reduction="mean", epochs=1, **FAST).fit(data[0])
    # mean squared error of [0, 1] pixels plus KL / 64: far below the summed negative ELBO
    assert 0 < vae.history_["loss"][-1] < 1
    assert vae.encoder_.get_layer("z").beta == pytest.approx(1 / 64)
    encoder, _, _ = build_conv_variational_autoencoder((8, 8, 1), [4], beta=2.0, reduction="mean")
    assert encoder.get_layer("z").beta == pytest.approx(2 / 64)
    with pytest.raises(ValueError, match="reduction"):
        build_conv_variational_autoencoder((8, 8, 1), [4], reduction="max")


# ---------------------------------------------------------------------- stacked


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_layerwise_pretraining_gives_a_better_start_and_is_kept_on_saving(tied, data, tmp_path):
    """One end-to-end epoch after greedy pretraining reconstructs better than one from random weights."""
    x_train, _, x_test, _ = data
    settings = dict(
        hidden_layers=(64, 32),
        latent_dim=16,
        code_activation="linear",
        tied_weights=tied,
        epochs=1,
        batch_size=64,
        learning_rate=1e-3,
        seed=0,
    )
    random_start = DenseAutoencoder(**settings).fit(x_train)
    pretrained = DenseAutoencoder(pretrain_epochs=5, **settings).fit(x_train)
    assert pretrained.score(x_test) > random_start.score(x_test)
    assert sorted(pretrained.pretrain_history_) == ["pretrain_0_loss", "pretrain_1_loss", "pretrain_2_loss"]
    assert all(len(losses) == 5 and losses[-1] < losses[0] for losses in pretrained.pretrain_history_.values())
    assert not hasattr(random_start, "pretrain_history_")
    loaded = aekit.load(pretrained.save(tmp_path / "pretrained.keras"))
    assert loaded.pretrain_history_ == pretrained.pretrain_history_
    np.testing.assert_allclose(loaded.reconstruct(x_test), pretrained.reconstruct(x_test), atol=1e-5)


def test_pretrain_epochs_must_be_a_whole_number(data):
    with pytest.raises(ValueError, match="pretrain_epochs"):
        DenseAutoencoder(pretrain_epochs=1.5).fit(data[0])


def test_stacked_fine_tuning_beats_the_frozen_stack(fitted, data):
    x_test, y_test = data[2], data[3]
    model = fitted("stacked")
    assert model.finetuned_accuracy_ > model.frozen_accuracy_ + 0.03
    assert model.finetuned_accuracy_ > 0.85
    assert model.score(x_test, y_test) == pytest.approx(model.finetuned_accuracy_)
    np.testing.assert_allclose(model.predict_proba(x_test).sum(axis=1), 1, rtol=1e-5)
    assert model.encode(x_test).shape == (N_TEST, 16)
    assert {"pretrain_0_loss", "pretrain_1_loss", "head_loss", "finetune_accuracy"} <= set(model.history_)


def test_stacked_round_trip_keeps_classes_and_predictions(fitted, data, tmp_path):
    model = fitted("stacked")
    loaded = aekit.load(model.save(tmp_path / "stacked.keras"))
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict(data[2]), model.predict(data[2]))
    assert (loaded.frozen_accuracy_, loaded.finetuned_accuracy_) == (model.frozen_accuracy_, model.finetuned_accuracy_)


def test_stacked_dropout_trains_and_is_off_at_inference(data, tmp_path):
    x, y, x_test, y_test = data[:4]
    model = StackedAutoencoder(
        (32, 16), dropout=0.2, pretrain_epochs=3, head_epochs=3, epochs=5, finetune_learning_rate=1e-2, **FAST
    ).fit(x, y, validation_data=(x_test, y_test))
    assert model.finetuned_accuracy_ > 0.8
    np.testing.assert_array_equal(model.predict_proba(x_test), model.predict_proba(x_test))
    loaded = aekit.load(model.save(tmp_path / "stacked.keras"))
    assert loaded.dropout == 0.2
    np.testing.assert_allclose(loaded.predict_proba(x_test), model.predict_proba(x_test), atol=1e-6)


def test_stacked_rejects_a_dropout_outside_0_1(data):
    with pytest.raises(ValueError, match=r"dropout .* \[0, 1\)"):
        StackedAutoencoder((8,), dropout=1.0).fit(data[0], data[1])


def test_stacked_needs_labels(data):
    with pytest.raises(ValueError, match="needs the labels"):
        StackedAutoencoder((8,)).fit(data[0])
    with pytest.raises(ValueError, match="one label per sample"):
        StackedAutoencoder((8,)).fit(data[0], data[1][:10])


# ---------------------------------------------------------------------- MNIST


def test_tied_sparse_model_trains_on_an_mnist_subset(mnist):
    x = mnist.x_train[:512]
    model = SparseAutoencoder((64,), 32, tied_weights=True, epochs=2, batch_size=128).fit(x)
    assert model.reconstruct(x[:128]).shape == (128, 28, 28, 1)
    assert model.history_["loss"][-1] < model.history_["loss"][0]


MNIST_CONFIGS = {
    "dense": lambda: DenseAutoencoder((64,), 16),
    "sparse": lambda: SparseAutoencoder((64,), 16, l1=1e-4),
    "denoising": lambda: DenoisingAutoencoder((64,), 16, noise="gaussian", noise_level=0.6),
    "conv": lambda: ConvAutoencoder((8, 8)),
    "conv_denoising": lambda: ConvDenoisingAutoencoder((8, 8), noise="masking"),
    "vae": lambda: VariationalAutoencoder((64,), 2),
    "conv_vae": lambda: ConvVariationalAutoencoder((8, 16), 2),
    "stacked": lambda: StackedAutoencoder((64, 16), pretrain_epochs=2, head_epochs=2),
}


@pytest.mark.parametrize("name", list(MNIST_CONFIGS))
def test_every_family_learns_on_an_mnist_subset(name, mnist):
    """Each family trains on 28x28 MNIST images: its loss falls and it reproduces the image shape."""
    x, y = mnist.x_train[:1024], mnist.y_train[:1024]
    model = MNIST_CONFIGS[name]().set_params(epochs=3, batch_size=128, seed=0)
    if isinstance(model, StackedAutoencoder):
        model.fit(x, y)
        assert model.score(x[:256], y[:256]) > 0.5
        losses = model.history_["finetune_loss"]
    else:
        model.fit(x)
        losses = model.history_["loss"]
    assert losses[-1] < losses[0]
    assert model.reconstruct(x[:128]).shape == (128, 28, 28, 1)


# ---------------------------------------------------------------------- faster layers


@pytest.mark.parametrize("shape, padding", [((2, 28, 28, 3), "same"), ((2, 7, 7, 2), "same"), ((2, 9, 6, 1), "valid")])
def test_reshape_max_pooling_computes_what_max_pooling_computes(rng, shape, padding, tmp_path):
    import keras

    from aekit.layers import ReshapeMaxPooling2D

    x = rng.normal(size=shape).astype("float32")
    fast, stock = ReshapeMaxPooling2D((2, 2), padding=padding), keras.layers.MaxPooling2D((2, 2), padding=padding)
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(stock(x)), atol=1e-5)
    inputs = keras.Input(shape[1:])
    model = keras.Model(inputs, ReshapeMaxPooling2D((2, 2), padding=padding)(inputs))
    model.save(tmp_path / "pool.keras")
    loaded = keras.saving.load_model(tmp_path / "pool.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(stock(x)), atol=1e-5)
    assert isinstance(loaded.layers[-1], keras.layers.MaxPooling2D)


def test_the_exercise_keeps_keras_own_layers_and_the_family_the_faster_one():
    import importlib.util

    import keras

    from aekit.layers import ReshapeMaxPooling2D

    spec = importlib.util.spec_from_file_location(
        "conv_exercise", Path(__file__).parents[1] / "exercises" / "2-convolutional.py"
    )
    exercise = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exercise)
    encoder, _, _ = exercise.autoencoder((28, 28, 1), [16, 8, 8], (4, 4, 8))
    pools = [layer for layer in encoder.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert len(pools) == 3 and all(type(layer) is keras.layers.MaxPooling2D for layer in pools)
    family = ConvAutoencoder((4, 4), epochs=1)
    encoder, _, _ = family._build((8, 8, 1))
    assert any(type(layer) is ReshapeMaxPooling2D for layer in encoder.layers)


def test_fast_recipe_fills_the_defaults_left_alone_and_decays_the_learning_rate(data, tmp_path):
    from aekit import cli

    x = data[0]
    fast = DenseAutoencoder((16,), 4, recipe="fast", epochs=3).fit(x)
    assert fast.training_plan() == TrainingPlan(
        epochs=3, batch_size=128, learning_rate=6e-3, schedule="warmup_cosine", beta_2=0.99
    )
    assert len(fast.history_["loss"]) == 3 and float(fast.model_.optimizer.learning_rate) < 1e-6  # decayed to zero
    assert fast.model_.optimizer.beta_2 == 0.99 and DenseAutoencoder(epochs=1).fit(x).model_.optimizer.beta_2 == 0.999
    reloaded = tmp_path / "fast.keras"
    fast.save(reloaded)
    assert aekit.load(reloaded).model_.optimizer.beta_2 == 0.99  # a resumed fast run keeps the recipe's Adam
    assert DenseAutoencoder(recipe="standard").training_plan().schedule == "constant"
    assert (
        cli.main(
            [
                "train",
                "dense",
                "--recipe",
                "fast",
                "--epochs",
                "2",
                "--hidden",
                "8",
                "--latent",
                "2",
                "--out",
                str(tmp_path / "run"),
                "-q",
            ]
        )
        == 0
    )
    import json

    params = json.loads((tmp_path / "run" / "settings.json").read_text())["params"]
    assert (params["recipe"], params["epochs"], params["batch_size"], params["learning_rate"]) == ("fast", 2, 128, 6e-3)


def test_cosine_schedule_decays_the_learning_rate_to_a_hundredth_over_the_planned_epochs(data, tmp_path):
    """learning_rate_schedule="cosine": the step size starts at learning_rate and ends at a hundredth of it."""
    from aekit import cli

    x = data[0]
    make = lambda epochs: DenseAutoencoder(
        (16,), 4, epochs=epochs, batch_size=64, learning_rate=1e-2, learning_rate_schedule="cosine"
    )
    assert make(4).training_plan().schedule == "cosine"
    assert float(make(4).fit(x).model_.optimizer.learning_rate) == pytest.approx(1e-4, rel=1e-3)
    assert float(make(0).fit(x).model_.optimizer.learning_rate) == pytest.approx(1e-2)  # starts at learning_rate
    assert DenseAutoencoder(recipe="fast", learning_rate_schedule="cosine").training_plan().schedule == "warmup_cosine"

    run = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "dense",
                "--learning-rate-schedule",
                "cosine",
                "--epochs",
                "2",
                "--hidden",
                "8",
                "--latent",
                "2",
                "--out",
                str(run),
                "-q",
            ]
        )
        == 0
    )
    import json

    assert json.loads((run / "settings.json").read_text())["params"]["learning_rate_schedule"] == "cosine"
    assert cli.main(["train", "dense", "--learning-rate-schedule", "linear", "--out", str(tmp_path / "bad"), "-q"]) == 2


def test_weight_decay_shrinks_the_weights_and_keeps_the_reconstructions_useful(data):
    """weight_decay is AdamW's decoupled decay: the weights end smaller than without it, from the same seed."""
    x = data[0]

    def kernel_norm(model):
        return sum(float(np.sum(np.square(w))) for w in model.model_.get_weights() if w.ndim == 2)

    plain = DenseAutoencoder((32,), 8, epochs=5, batch_size=32, seed=3).fit(x)
    decayed = DenseAutoencoder((32,), 8, epochs=5, batch_size=32, seed=3, weight_decay=0.5).fit(x)
    assert float(decayed.model_.optimizer.weight_decay) == pytest.approx(0.5)
    assert kernel_norm(decayed) < 0.92 * kernel_norm(plain)  # 0.85 on jax, 0.84 on tensorflow
    assert mse(x, decayed.reconstruct(x)) < mse(x, np.broadcast_to(x.mean(axis=0), x.shape))  # still learns


def test_a_model_used_and_dropped_is_freed(digits):
    """Nothing of aekit keeps a model alive after use (a process that trains hundreds of models, as a
    model selection does, ran out of memory maps when compiled inference functions were kept)."""
    import gc
    import weakref

    model = DenseAutoencoder(hidden_layers=(8,), latent_dim=2, epochs=1, seed=0).fit(digits.flat().x_train[:64])
    model.reconstruct(digits.flat().x_test[:5])
    model.encode(digits.flat().x_test[:5])
    network = weakref.ref(model.model_)
    del model
    gc.collect()
    assert network() is None
