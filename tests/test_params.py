"""Hyper-parameter declarations (aekit.params): what each kind of value accepts and refuses, and how a
family's declaration becomes its scikit-learn ``__init__``. No Keras, no training."""

import inspect
import math

import numpy as np
import pytest

from aekit.errors import ParameterError
from aekit.params import Choice, Flag, Integer, Optional, Param, Real, Sizes, make_init, merge


def refused(kind, value):
    with pytest.raises(ValueError) as info:
        kind.check(value)
    return str(info.value)


def test_integer_takes_whole_numbers_in_bounds_and_refuses_bools_and_floats():
    epochs = Integer(0)
    assert epochs.check(3) == 3 and type(epochs.check(np.int64(3))) is int
    assert refused(epochs, -1) == "must be 0 or more"
    assert refused(epochs, True) == "must be 0 or more"  # a bool is no count
    assert refused(epochs, 2.0) == "must be 0 or more"
    assert refused(Integer(1), 0) == "must be a positive whole number"
    assert refused(Integer(0, 2**32 - 1), 2**32) == f"must be a whole number >= 0 and <= {2**32 - 1}"
    assert Integer().describe() == "a whole number"
    assert epochs.parse("12") == 12
    with pytest.raises(ValueError, match="'1.5' is not a whole number"):
        epochs.parse("1.5")


def test_real_refuses_nan_infinity_and_values_outside_open_or_closed_bounds():
    rate = Real(0, min_open=True)
    assert rate.check(1e-3) == 1e-3 and rate.check(2) == 2.0 and type(rate.check(2)) is float
    assert refused(rate, 0) == "must be a finite number > 0"
    assert refused(Real(0), -0.5) == "must be a finite number >= 0"
    for bad in (math.nan, math.inf, True, "0.1"):
        refused(rate, bad)
    split = Real(0, 1, max_open=True)
    assert split.check(0) == 0.0 and refused(split, 1) == "must be a number in [0, 1)"
    assert Real(max=5).describe() == "a finite number <= 5"
    assert split.parse("0.25") == 0.25
    with pytest.raises(ValueError, match="'a quarter' is not a number"):
        split.parse("a quarter")


def test_sizes_become_tuples_of_positive_whole_numbers():
    hidden = Sizes()
    assert hidden.check([128, 64]) == (128, 64) and hidden.check(32) == (32,) and hidden.check(()) == ()
    assert hidden.check(np.array([8, 4])) == (8, 4)
    for bad in ([0], [3, -1], [2.5], [True], "128,64", None):
        assert refused(hidden, bad) == "must be positive whole numbers"
    assert refused(Sizes(min_len=1), ()) == "must be positive whole numbers (at least one)"
    assert hidden.parse("128,64") == (128, 64) and hidden.parse(" ") == ()
    with pytest.raises(ValueError, match="not a comma-separated list of whole numbers, e.g. 128,64"):
        hidden.parse("128;64")


def test_choice_flag_and_optional():
    loss = Choice("auto", "mse")
    assert loss.check("mse") == "mse" and loss.metavar == "{auto,mse}"
    assert refused(loss, "mae") == "must be one of auto, mse"
    assert Flag().check(np.bool_(True)) is True and Flag().check(False) is False
    assert refused(Flag(), 1) == "must be True or False"  # 1 is not a flag

    scale = Optional(Choice("auto", "standard"), "the data as given", word="none")
    assert scale.check(None) is None and scale.check("none") is None and scale.check("auto") == "auto"
    assert scale.options == ("auto", "standard", "none")
    assert scale.parse("none") == "none"  # the command line still sees that the option was given
    assert "or None ('none': the data as given)" in scale.describe()
    refused(scale, "minmax")
    noise = Optional(Real(0), "the family's default")
    assert noise.check(None) is None and noise.check(0.5) == 0.5
    assert noise.describe() == "a finite number >= 0 (unset: the family's default)"


def test_a_param_is_spelled_for_the_command_line_and_named_in_its_errors():
    latent = Param("latent_dim", 2, Integer(1), "size of the code", flag="latent", positional=True)
    assert latent.option == "--latent"
    assert Param("batch_size", 256, Integer(1), "samples per step").option == "--batch-size"
    assert Param("columns", None, Sizes(), "internal", flag=None).option is None
    assert latent.check(np.int32(4)) == 4
    with pytest.raises(ParameterError) as info:
        latent.check(0)
    error = info.value
    assert isinstance(error, ValueError)  # `except ValueError` keeps working for a Python user
    assert str(error) == "latent_dim must be a positive whole number, got 0"
    assert error.render(lambda name: "--latent") == "--latent must be a positive whole number, got 0"


def test_merge_keeps_positional_first_training_last_and_the_nearest_declaration():
    epochs = Param("epochs", 20, Integer(0), "passes", group="training")
    hidden = Param("hidden_layers", (), Sizes(), "sizes", positional=True)
    latent = Param("latent_dim", 2, Integer(1), "code", positional=True)
    act = Param("activation", "relu", Choice("relu", "tanh"), "activation")
    base = merge([], [epochs, hidden, act], {})
    child = merge([base], [latent, Param("activation", "tanh", Choice("relu", "tanh"), "changed")], {"epochs": 5})
    assert list(child) == ["hidden_layers", "latent_dim", "activation", "epochs"]
    assert child["epochs"].default == 5 and base["epochs"].default == 20  # the parent is not changed
    assert child["activation"].default == "tanh"
    with pytest.raises(TypeError, match="defaults names 'epoch', which is not a parameter"):
        merge([base], [], {"epoch": 5})


def test_make_init_only_stores_and_shows_the_real_signature():
    params = merge(
        [],
        [
            Param("hidden_layers", (8,), Sizes(), "sizes", positional=True),
            Param("epochs", 20, Integer(0), "passes", group="training"),
        ],
        {},
    )

    class Estimator:
        __init__ = make_init(params, "Estimator")

    signature = inspect.signature(Estimator.__init__)
    assert str(signature) == "(self, hidden_layers=(8,), *, epochs=20)"  # what scikit-learn's get_params reads
    assert Estimator.__init__.__qualname__ == "Estimator.__init__"
    assert "``epochs`` (default ``20``): passes" in Estimator.__init__.__doc__
    made = Estimator((-3,), epochs="many")  # stored as given: checked at fit, as scikit-learn asks
    assert made.hidden_layers == (-3,) and made.epochs == "many"
    with pytest.raises(TypeError):
        Estimator((8,), 5)  # training settings are keyword-only


def test_a_family_declaration_drives_get_params_and_validation():
    from aekit import DenseAutoencoder, VariationalAutoencoder

    model = DenseAutoencoder((16,), 3, epochs=2)
    params = model.get_params()
    assert params["hidden_layers"] == (16,) and params["latent_dim"] == 3 and params["epochs"] == 2
    assert set(params) == set(DenseAutoencoder.params)
    assert {"epochs", "batch_size", "learning_rate", "seed"} <= set(VariationalAutoencoder.params)  # inherited
    assert model.validate_params()["hidden_layers"] == (16,)
    with pytest.raises(ParameterError, match=r"DenseAutoencoder: latent_dim must be a positive whole number, got 0"):
        DenseAutoencoder((16,), 0).validate_params()
    with pytest.raises(ParameterError, match="learning_rate must be a finite number > 0"):
        DenseAutoencoder(learning_rate=0.0).validate_params()
