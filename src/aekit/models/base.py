"""The estimator every autoencoder family shares, and how a family declares itself.

A family is a subclass of :class:`Autoencoder` that declares, once:

* ``family`` (its name) and ``summary`` (one line for ``aekit train --help``);
* ``params``: its :class:`~aekit.params.Param` entries (``defaults`` changes inherited ones);
  ``__init__``, validation at ``fit``, the command line, settings and reports read them;
* ``uses``: what a trained model can do beyond encoding (``denoise``, ``sample``, ``classify``);
* ``figures``: the run folder's figures for it (see :mod:`aekit.figures`);
* ``_build(input_shape)``: its Keras models.

A child family inherits all of it and adds its own. The estimator follows scikit-learn's
conventions: ``__init__`` only stores hyper-parameters, ``fit`` validates them, builds and trains
the Keras models and returns ``self``; learned state ends in ``_`` (``encoder_``, ``decoder_``,
``model_``, ``history_``, ``input_shape_``). Keras is imported only when a model is built.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from aekit import persistence, scaling, training
from aekit.errors import DataError, ParameterError
from aekit.params import Choice, Integer, Optional, Param, Real, make_init, merge

#: What every family's training takes; ``epochs`` and ``batch_size`` defaults differ by family.
TRAINING_PARAMS = (
    Param("epochs", 20, Integer(0), "passes over the training data (0 keeps the initial weights)", group="training"),
    Param("batch_size", 256, Integer(1), "samples per gradient step", group="training"),
    Param("learning_rate", 1e-3, Real(0, min_open=True), "Adam's step size", group="training"),
    Param("seed", 0, Integer(0, 2**32 - 1), "seed of the initial weights, the shuffling and the noise", group="training"),
    Param("weight_decay", 0.0, Real(0),
          "Adam's decoupled weight decay (AdamW: every step shrinks the weights by learning_rate x weight_decay), a "
          "regulariser against overfitting; 0.01-0.2 acts, values under 1e-3 barely do (0: none)", group="training"),
    Param("validation_split", 0.0, Real(0, 1, max_open=True),
          "fraction of the training samples held out (seeded) to measure val_loss on, when no validation data is given",
          group="training"),
    Param("early_stopping", 0, Integer(0),
          "stop after this many epochs without a better val_loss and keep the best epoch's weights (0: off)",
          group="training"),
    Param("learning_rate_schedule", "constant", Choice("constant", "cosine"),
          "constant: learning_rate throughout; cosine: decayed along a cosine from learning_rate to a hundredth of "
          "it by the last epoch, so a long run settles instead of hovering (the Hinton reduction benchmark decays "
          "so over its time budget); recipe fast brings its own warm-up and cosine", group="training"),
    Param("recipe", "standard", Choice("standard", "fast"),
          "standard: the learning rate stays as given; fast: batch 128, 14 epochs, the learning rate warmed up over "
          "the first epoch to 0.006 and decayed along a cosine, Adam's beta_2 0.99 (replaces epochs, batch size and "
          "learning rate left at their defaults); reaches the lesson's 50-epoch quality in a fraction of the time",
          group="training"),
)
#: what ``recipe="fast"`` sets, where the user left the value at its default (chosen on three seeds of a
#: validation split of MNIST's training images, ``benchmarks/bench_time_to_quality.py``). ``beta_2`` is Adam's:
#: 0.99 forgets old gradient scales sooner than Keras' 0.999, which at this peak rate left fewer ReLU code
#: units dead and the worst seed's loss nearer the best's.
FAST_RECIPE = {"epochs": 14, "batch_size": 128, "learning_rate": 6e-3, "beta_2": 0.99}
#: what a reconstruction-loss parameter (``loss``, ``reconstruction``) may be: ``auto`` follows the data
LOSSES = ("auto", "binary_crossentropy", "mse")
LOSS_HELP = ("reconstruction loss; auto: cross-entropy and a sigmoid output for data in [0, 1] (images), mean squared "
             "error and a linear output otherwise (tables, scaled by --scale)")


class Autoencoder(BaseEstimator):
    """Base class of every family: fit, encode, decode, reconstruct, interpolate, save."""

    family: str | None = None
    summary: str = ""
    params = {p.name: p for p in TRAINING_PARAMS}
    #: what a fitted model of the family can do (every family encodes, decodes, reconstructs, interpolates)
    uses = frozenset({"encode", "decode", "reconstruct", "interpolate"})
    #: figures drawn into a run folder (names known to :mod:`aekit.figures`)
    figures = ("loss", "reconstructions", "latent_space")
    #: ``"images"`` when the family needs (H, W, C) samples, ``"any"`` otherwise
    input_kind = "any"
    #: per-sample error that ``reconstruction_error`` reports by default
    reconstruction_metric = "mse"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("params", ())
        if isinstance(own, dict):
            raise TypeError(f"{cls.__name__}.params must list Param entries")
        inherited = [_as_dict(getattr(base, "params", ())) for base in cls.__bases__]
        cls.params = merge(inherited, list(own), cls.__dict__.get("defaults", {}))
        if "__init__" not in cls.__dict__:
            cls.__init__ = make_init(cls.params, cls.__name__)
        mro = cls.__mro__[::-1]
        cls.uses = frozenset().union(*(base.__dict__.get("uses", ()) for base in mro))
        cls.figures = tuple(dict.fromkeys(f for base in mro for f in base.__dict__.get("figures", ())))

    # ------------------------------------------------------------------ what a family provides

    def _build(self, input_shape):
        """Return ``(encoder, decoder, autoencoder)`` for samples of ``input_shape``, compiled."""
        raise NotImplementedError

    def _check_params(self, params: dict) -> None:
        """Refuse combinations of valid values that cannot work together (nothing by default)."""

    def _initialise(self, X, verbose):
        """Set the freshly built model's starting weights from the training data (default: keep the random ones)."""

    def _after_load(self):
        """Restore derived state after the models were set by :func:`aekit.load` (nothing by default)."""

    def _split_models(self, model):
        """``(encoder, decoder)`` of a loaded autoencoder ``model`` (by default its two nested models)."""
        return model.get_layer("encoder"), model.get_layer("decoder")

    def _saved_attributes(self) -> dict:
        """Learned attributes, beyond the Keras model, that a model file stores as JSON (none by default)."""
        return {}

    def figure_names(self) -> tuple[str, ...]:
        """The run folder's figures for this model (the family's ``figures``; a family may add by settings)."""
        return self.figures

    def needs_unit_range(self) -> bool:
        """Whether training targets must lie in [0, 1]: a cross-entropy loss asked for by name, or ``"auto"``
        in a family whose output is a sigmoid whatever the data (one without ``scale``: images)."""
        loss = self._loss_param()
        return "crossentropy" in str(loss) or (loss == "auto" and "scale" not in self.params)

    def _loss_param(self):
        """The family's reconstruction-loss parameter (``loss`` or ``reconstruction``), as set."""
        return getattr(self, "loss", None) or getattr(self, "reconstruction", None)

    def resolved_loss(self) -> str | None:
        """The reconstruction loss the model trains with: the one asked for, or for ``"auto"`` cross-entropy
        when the data the network sees lies in [0, 1] and mean squared error otherwise."""
        loss = self._loss_param()
        if loss != "auto":
            return loss
        return "binary_crossentropy" if self.bounded_output() else "mse"

    def bounded_output(self) -> bool:
        """Whether the network reproduces data in [0, 1] (a sigmoid output): true for data in [0, 1] as the
        network sees it (after scaling), false for standardised or unscaled unbounded data; true before fitting."""
        fitted = getattr(self, "scaling_", None)
        return True if fitted is None else bool(fitted["bounded"])

    def _default_metric(self) -> str:
        """``reconstruction_metric``, unless that is cross-entropy and the model's data is not in [0, 1]."""
        metric = self.reconstruction_metric
        return "mse" if metric == "bce" and not self.bounded_output() else metric

    # ------------------------------------------------------------------ the training recipe

    def training_plan(self) -> dict:
        """Epochs, batch size and (peak) learning rate as the recipe makes them, and its schedule."""
        plan = {name: getattr(self, name) for name in ("epochs", "batch_size", "learning_rate")}
        if self.recipe == "fast":
            for name, value in FAST_RECIPE.items():
                if name in plan and plan[name] == self.params[name].default:
                    plan[name] = value
        return {**plan, "schedule": "warmup_cosine" if self.recipe == "fast" else self.learning_rate_schedule}

    def _apply_schedule(self, plan: dict, n_samples: int) -> None:
        """Give the freshly built optimizer its weight decay and the plan's learning rate: for ``cosine``, a
        decay to 1 % of it over the epochs; for recipe ``fast``, a warm-up over an epoch, then a decay to 0, and
        the recipe's Adam ``beta_2``.

        The schedule counts optimizer steps, which a model file keeps: a resumed run goes on along it."""
        import keras

        if self.weight_decay:
            self.model_.optimizer.weight_decay = self.weight_decay
        steps = -(-n_samples // plan["batch_size"])
        if plan["schedule"] == "cosine":
            self.model_.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
                initial_learning_rate=plan["learning_rate"], decay_steps=max(1, plan["epochs"] * steps), alpha=0.01,
            )
        elif plan["schedule"] == "warmup_cosine":
            self.model_.optimizer.beta_2 = FAST_RECIPE["beta_2"]  # read when the train step is traced, kept in the model file
            self.model_.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
                initial_learning_rate=plan["learning_rate"] / steps, decay_steps=max(1, (plan["epochs"] - 1) * steps),
                warmup_target=plan["learning_rate"], warmup_steps=steps,
            )

    # ------------------------------------------------------------------ validation

    def validate_params(self) -> dict:
        """Every hyper-parameter checked against its declaration; raises :class:`ParameterError`."""
        values = {}
        for name, param in self.params.items():
            try:
                values[name] = param.check(getattr(self, name))
            except ParameterError as exc:
                raise ParameterError(f"{type(self).__name__}: {exc.template}", **exc.params) from None
        self._check_params(values)
        loss_name = "loss" if "loss" in values else "reconstruction"
        if values.get("scale") == "standard" and "crossentropy" in str(values.get(loss_name)):
            raise ParameterError("{p} standard makes values unbounded, which a cross-entropy loss cannot reconstruct; "
                                 "use {p} minmax, or {l} auto", p="scale", l=loss_name)
        return values

    def check_data(self, X) -> None:
        """Refuse training data this model cannot learn, with one line saying why (before any training)."""
        if self.input_kind == "images" and np.ndim(X) != 4:
            raise DataError(f"a {self.family} autoencoder needs images shaped (n, height, width, channels), got samples shaped {np.shape(X)[1:]}; use a dense family for vectors")
        if self.needs_unit_range():
            kind = scaling.resolve(getattr(self, "scale", None), X, cross_entropy=True)
            low, high = scaling.value_range(X)
            if kind == "none" and (low < 0.0 or high > 1.0):
                if "scale" in self.params:
                    advice = ("pass --scale minmax (scale='minmax': each column mapped to [0, 1] inside the model and "
                              "back on every output), or --loss auto (mean squared error with a linear output)")
                else:
                    advice = ("rescale the data to [0, 1] first (e.g. subtract each column's minimum and divide by its "
                              "range), or use a dense family, which scales tables itself")
                raise DataError(f"values range {low:.3g}..{high:.3g}, but the cross-entropy loss needs values in [0, 1]; {advice}")

    # ------------------------------------------------------------------ training

    def fit(self, X, y=None, *, validation_data=None, callbacks=(), verbose=0, checkpoint=None, resume=False,
            on_epoch_end=None, columns=None, distribution=None):
        """Build the models for ``X``'s sample shape and train them to reconstruct ``X``; return ``self``.

        ``y`` is ignored (scikit-learn's signature); ``validation_data`` is ``X_val`` or
        ``(X_val, target_val)``. The samples' order in epoch ``e`` depends only on ``seed`` and ``e``.
        The family's ``scale`` is fitted on the training samples (``scaling_``) and applied on every
        later call. ``columns`` names a table's columns (a pandas DataFrame's are taken when not
        given); they are kept in ``columns_`` and in the model file.
        ``checkpoint`` names a ``.keras`` file rewritten atomically after every epoch;
        ``resume=True`` continues a model loaded from such a file from its last completed epoch
        up to ``epochs``, ending where an unbroken run ends. ``on_epoch_end(epochs_done, history)``
        runs after each epoch (and after its checkpoint).

        ``X`` (and the validation data) may be a streamed source (:func:`aekit.datasets.open_source`,
        or ``load_dataset(..., stream=True)``): its batches are read while the model trains, in the
        same order as from an array. ``distribution`` trains data-parallel (jax): a number of
        devices, ``"all"``, or a ``keras.distribution.DataParallel``; the models are built (or, to
        resume, reloaded) under it, and only the first process of a multi-host run writes ``checkpoint``.
        """
        distribution = training.data_parallel(distribution)
        with training.distributed(distribution):
            return self._fit(X, validation_data, callbacks, verbose, checkpoint, resume, on_epoch_end, distribution, columns)

    def _fit(self, X, validation_data, callbacks, verbose, checkpoint, resume, on_epoch_end, distribution, columns):
        import keras

        self.validate_params()
        plan = self.training_plan()
        columns = _column_names(X) if columns is None else columns
        if distribution is not None:
            training.data_shards(plan["batch_size"])  # a batch that cannot be split is refused before any work
        X = self._check_input(X, fitting=not resume)
        if resume and distribution is not None:
            self._place_on(distribution)
        if validation_data is None and self.validation_split:
            X, validation_data = _hold_out(X, self.validation_split, self.seed)
        if resume:
            history = {k: list(v) for k, v in getattr(self, "history_", {}).items()}
            if getattr(self, "early_stopping_", {}).get("stopped"):
                return self  # it stopped early: the run is complete
            X = self._to_model(X)
        else:
            self.check_data(X)
            self.columns_ = _checked_columns(columns, X.shape[1:])
            self.scaling_ = scaling.fit(X, getattr(self, "scale", None), cross_entropy="crossentropy" in str(self._loss_param()))
            X = self._to_model(X)  # the network sees (and is initialised and trained on) the scaled values
            with training.no_tensorflow_import():
                keras.utils.set_random_seed(self.seed)
            self.input_shape_ = tuple(X.shape[1:])
            self.n_features_in_ = int(np.prod(self.input_shape_))
            self.encoder_, self.decoder_, self.model_ = self._build(self.input_shape_)
            self._apply_schedule(plan, len(X))
            self._initialise(X, verbose)
            history = {}
            self.early_stopping_ = {}
        if validation_data is not None:
            if not isinstance(validation_data, tuple):
                validation_data = (validation_data, validation_data)
            validation_data = tuple(self._to_model(self._check_input(v)) for v in validation_data)
        if self.early_stopping and validation_data is None:
            raise ParameterError("{p} watches val_loss: give validation data or a validation_split", p="early_stopping")

        def epoch_done(epochs_done, history_so_far):
            self.history_ = history_so_far
            if self.early_stopping:
                training.track_best(self.model_, self.early_stopping_, history_so_far, self.early_stopping)
            if checkpoint is not None and training.is_main_process():
                self.save(checkpoint)
            if on_epoch_end is not None:
                on_epoch_end(epochs_done, history_so_far)

        self.history_ = training.train(
            self.model_,
            X,
            epochs=plan["epochs"],
            batch_size=plan["batch_size"],
            seed=self.seed,
            validation_data=validation_data,
            initial_epoch=len(history.get("loss", [])),
            history=history,
            callbacks=callbacks,
            verbose=verbose,
            on_epoch_end=epoch_done,
        )
        if self.early_stopping and self.early_stopping_.get("weights") is not None:
            self.model_.set_weights(self.early_stopping_["weights"])  # the best epoch's weights, as promised
            self.early_stopping_["stopped"] = True
            if checkpoint is not None and training.is_main_process():
                self.save(checkpoint)
        return self

    def _place_on(self, distribution) -> None:
        """Lay out a loaded model's variables (weights, optimizer, random state) for ``distribution``:
        through its own model file, loaded again under the distribution, as a checkpoint is."""
        variables = self.model_.trainable_variables[:1]
        if variables and _laid_out(variables[0], distribution):
            return
        import keras

        with tempfile.TemporaryDirectory() as folder:
            path = self.save(Path(folder) / "model.keras")
            with training.no_tensorflow_import():  # every process builds the same initial values before the file's
                keras.utils.set_random_seed(self.seed)
            loaded = persistence.load(path)
        self.__dict__.update({k: v for k, v in loaded.__dict__.items() if k.endswith("_")})

    # ------------------------------------------------------------------ using a trained model

    def encode(self, X, batch_size: int = 4096) -> np.ndarray:
        """The code (latent representation) of each sample of ``X``."""
        return training.predict(self.encoder_, self._model_input(X), batch_size)

    def decode(self, Z, batch_size: int = 4096) -> np.ndarray:
        """Samples decoded from codes ``Z``, in the training data's units."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float32)
        code_shape = tuple(self.decoder_.input_shape[1:])
        if Z.shape[1:] != code_shape:
            raise ValueError(f"codes must have shape (n, {', '.join(map(str, code_shape))}), got {Z.shape}")
        return self._from_model(training.predict(self.decoder_, Z, batch_size))

    def reconstruct(self, X, batch_size: int = 4096) -> np.ndarray:
        """``decode(encode(X))``: each sample as the model reproduces it, in ``X``'s units."""
        return self._from_model(self._reconstruct_model(self._model_input(X), batch_size))

    def reconstruction_error(self, X, metric: str | None = None, batch_size: int = 4096, *, scaled: bool = False,
                             per_column: bool = False) -> np.ndarray:
        """Per-sample reconstruction error of ``X``: ``"mse"`` (mean squared), ``"sse"`` (summed) or ``"bce"``.

        In ``X``'s units by default; ``scaled=True`` measures it in the model's units (after its
        ``scale``: standardised columns all count alike, which is what anomaly scores use). ``"bce"``
        is always measured where it is defined, on the model's [0, 1] values. ``per_column=True``
        returns ``(n, features)``: each feature's share (squared error, or cross-entropy), so its
        mean over the features is the ``"mse"`` (or ``"bce"``) error.
        """
        from aekit.evaluation import column_errors, reconstruction_error

        metric = metric or self._default_metric()
        if metric == "bce" and not self.bounded_output():
            raise ValueError("the 'bce' error needs a model of data in [0, 1]; this one reproduces unbounded values: use 'mse'")
        X = self._check_input(X)
        if training.is_streamed(X):  # chunk by chunk: neither the samples nor their reconstructions held at once
            return np.concatenate([self.reconstruction_error(x, metric, batch_size, scaled=scaled, per_column=per_column)
                                   for x in X.chunks(batch_size)])
        model_x = self._to_model(X)
        model_out = self._reconstruct_model(model_x, batch_size)
        if scaled or metric == "bce":
            x, x_hat = model_x, model_out
        else:
            x, x_hat = X, self._from_model(model_out)
        if per_column:
            return column_errors(x, x_hat, metric)
        return reconstruction_error(x, x_hat, metric)

    def _reconstruct_model(self, model_x, batch_size: int = 4096) -> np.ndarray:
        """The network's reconstruction of samples already in its units (scaled), in its units."""
        return training.predict(self.model_, model_x, batch_size)

    def _to_model(self, X) -> np.ndarray:
        """Samples in the data's units -> the network's units (the fitted ``scaling_``; identity without one)."""
        return scaling.transform(X, getattr(self, "scaling_", None))

    def _from_model(self, Y) -> np.ndarray:
        """The network's outputs -> the data's units."""
        return scaling.inverse(Y, getattr(self, "scaling_", None))

    def _model_input(self, X) -> np.ndarray:
        """``X`` checked against the fitted model and scaled for its network."""
        return self._to_model(self._check_input(X))

    def column_names(self) -> tuple[str, ...]:
        """The names of the features: the training table's header (``columns_``), else ``column 1``, ``column 2``, ..."""
        self._check_fitted()
        names = getattr(self, "columns_", None)
        return tuple(names) if names else tuple(f"column {i + 1}" for i in range(self.n_features_in_))

    def interpolate(self, a, b, steps: int = 7) -> np.ndarray:
        """Semantic interpolation: decode ``steps`` codes evenly spaced on the line from ``a``'s code to ``b``'s."""
        codes = self.encode(np.stack([np.asarray(a), np.asarray(b)]))
        weights = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * (codes.ndim - 1)))
        return self.decode((1 - weights) * codes[0] + weights * codes[1])

    def score(self, X, y=None) -> float:
        """Negative mean squared reconstruction error (higher is better, as scikit-learn expects)."""
        return -float(np.mean(self.reconstruction_error(X, "mse")))

    # ------------------------------------------------------------------ persistence

    def save(self, path, *, overwrite: bool | None = None) -> Path:
        """Write the model, its settings, history and random state to one ``.keras`` file, atomically.

        An existing aekit model file is replaced; any other file only with ``overwrite=True``."""
        return persistence.save(self, path, overwrite=overwrite)

    def _state(self) -> dict:
        early = getattr(self, "early_stopping_", {})
        attributes = dict(self._saved_attributes())
        if early:
            attributes["early_stopping_"] = {k: v for k, v in early.items() if k != "weights"}
        if getattr(self, "scaling_", None) is not None:
            attributes["scaling_"] = self.scaling_
        if getattr(self, "columns_", None) is not None:
            attributes["columns_"] = list(self.columns_)
        return {
            "history": getattr(self, "history_", {}),
            "attributes": attributes,
            "rng_variables": training.rng_variables(self.model_),
            "best_weights": early.get("weights"),
        }

    def _restore(self, model, input_shape, history, attributes, rng_state, best_weights=None) -> None:
        self.model_ = model
        self.encoder_, self.decoder_ = self._split_models(model)
        self.input_shape_ = tuple(input_shape)
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.history_ = history
        for name, value in attributes.items():
            setattr(self, name, value)
        if "scaling_" in attributes:
            self.scaling_ = scaling.check(attributes["scaling_"], self.n_features_in_)
        self.columns_ = _checked_columns(attributes.get("columns_"), self.input_shape_, ValueError)
        if best_weights is not None:
            self.early_stopping_ = {**getattr(self, "early_stopping_", {}), "weights": best_weights}
        self._after_load()
        variables = training.rng_variables(model)
        if rng_state is not None and len(variables) == len(rng_state):
            for variable, value in zip(variables, rng_state):
                variable.assign(np.asarray(value, dtype=variable.dtype))

    def __getstate__(self):
        """Pickling (joblib, multiprocessing) goes through the model file, not Keras objects."""
        state = {k: v for k, v in self.__dict__.items() if not _is_keras(v)}
        if self.__sklearn_is_fitted__():
            with tempfile.TemporaryDirectory() as folder:
                state["_model_file"] = self.save(Path(folder) / "model.keras").read_bytes()
        return state

    def __setstate__(self, state):
        model_file = state.pop("_model_file", None)
        self.__dict__.update(state)
        if model_file is not None:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model.keras"
                path.write_bytes(model_file)
                loaded = persistence.load(path)
            self.__dict__.update({k: v for k, v in loaded.__dict__.items() if k not in state})

    # ------------------------------------------------------------------ checks

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def _check_fitted(self):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")

    def _check_input(self, X, fitting=False) -> np.ndarray:
        if not fitting:
            self._check_fitted()
        if training.is_streamed(X):  # read batch by batch: only its shape is checked here, its values as read
            if not len(X):
                raise DataError(f"X: {X.name} holds no samples")
            if not fitting and tuple(X.shape[1:]) != self.input_shape_:
                if int(np.prod(X.shape[1:])) == self.n_features_in_:
                    return X.reshape((len(X), *self.input_shape_))
                raise DataError(f"{X.name}: samples have shape {tuple(X.shape[1:])}, but the model was fitted on {self.input_shape_}")
            return X
        if not (isinstance(X, np.ndarray) and X.dtype == np.float32 and X.ndim >= 2 and X.size and np.isfinite(X).all()):
            from sklearn.utils.validation import check_array  # every other input, with scikit-learn's messages

            try:
                X = check_array(X, dtype=np.float32, allow_nd=True, ensure_all_finite=True, ensure_min_features=1,
                                input_name="X")
            except ValueError as exc:
                raise DataError(f"X: {' '.join(str(exc).split())}") from None
        if not fitting and tuple(X.shape[1:]) != self.input_shape_:
            if X.ndim == 2 and len(self.input_shape_) == 1:  # scikit-learn's wording for tables
                raise DataError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.input_shape_[0]} features as input")
            raise DataError(f"samples have shape {tuple(X.shape[1:])}, but the model was fitted on {self.input_shape_}")
        return X


class ScaledInput:
    """What the dense families share for tables in any units: the ``scale`` parameter (see :mod:`aekit.scaling`).

    The scaler is fitted on the training data at ``fit`` (``scaling_``), stored in the model file,
    applied to every input and inverted on every output, so a model takes and returns the user's
    units while its network sees standardised (or [0, 1]) values. The network's output layer and
    an ``"auto"`` loss follow what it sees: sigmoid and cross-entropy for [0, 1], linear and mean
    squared error otherwise (see ``bounded_output`` and ``resolved_loss``).
    """

    params = (
        Param("scale", "auto", Optional(Choice(*scaling.KINDS), "the data as given", word="none"),
              "per-column scaling fitted on the training data and kept in the model (inputs scaled, outputs "
              "scaled back): auto leaves data in [0, 1] alone and standardises anything else (with a cross-entropy "
              "loss, maps it to [0, 1]); standard: mean 0, standard deviation 1; minmax: [0, 1]; none: as given"),
    )


def _column_names(X) -> tuple[str, ...] | None:
    """A pandas DataFrame's column names when they are all text (scikit-learn's rule), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or getattr(X, "ndim", 0) != 2:
        return None
    names = list(columns)
    return tuple(names) if names and all(isinstance(name, str) for name in names) else None


def _checked_columns(columns, sample_shape, error=DataError) -> tuple[str, ...] | None:
    """Column names for samples of ``sample_shape``: one text per feature of a table, or None."""
    if columns is None:
        return None
    columns = tuple(columns)
    if len(sample_shape) != 1 or len(columns) != sample_shape[0] or not all(isinstance(c, str) for c in columns):
        raise error(f"columns: {len(columns)} names for samples shaped {tuple(sample_shape)}; give one name (text) per column of a table")
    return columns


def _hold_out(X, fraction: float, seed: int):
    """``(X_train, X_val)``: a seeded ``fraction`` of the samples held out for validation."""
    order = np.random.default_rng([int(seed), 7]).permutation(len(X))
    n_val = max(1, int(round(len(X) * fraction)))
    if len(X) - n_val < 1:
        raise DataError(f"validation_split={fraction} leaves no sample to train on ({len(X)} samples)")
    take = X.take if training.is_streamed(X) else X.__getitem__  # a source: views, nothing read yet
    return take(np.sort(order[n_val:])), take(np.sort(order[:n_val]))


def _laid_out(variable, distribution) -> bool:
    """Whether ``variable`` already lives on ``distribution``'s devices (built or loaded under it)."""
    sharding = getattr(getattr(variable, "value", None), "sharding", None)
    devices = getattr(sharding, "device_set", None)
    return devices is not None and set(devices) == set(distribution.device_mesh.devices.flat)


def _as_dict(params) -> dict:
    """A base's parameters: a family's merged dict, or a mixin's own list of Param entries."""
    return params if isinstance(params, dict) else {p.name: p for p in params}


def _is_keras(value) -> bool:
    return type(value).__module__.startswith("keras") or hasattr(value, "get_weights")
