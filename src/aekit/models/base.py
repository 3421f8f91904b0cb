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

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from aekit import persistence, scaling, training
from aekit.errors import DataError, ParameterError
from aekit.models._common import checked_columns
from aekit.models._loss import LossPolicy
from aekit.models._recipes import TRAINING_PARAMS, resolve_plan
from aekit.models._state import ModelState
from aekit.params import Choice, Optional, Param, make_init, merge
from aekit.training import TrainingPlan


class Autoencoder(LossPolicy, ModelState, BaseEstimator):
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

    def _initialise(self, X, plan: TrainingPlan, verbose):
        """Set the freshly built model's starting weights from the training data (default: keep the random ones);
        any training it does (greedy pretraining) follows ``plan``."""

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

    # ------------------------------------------------------------------ the training plan

    def training_plan(self, values: dict | None = None) -> TrainingPlan:
        """The :class:`~aekit.training.TrainingPlan` this estimator trains by: its parameters (``values``, or
        validated now) as its recipe makes them. Everything that trains reads this one plan."""
        return resolve_plan(self.validate_params() if values is None else values, self.params)

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
        self._check_loss(values)
        return values

    def check_data(self, X) -> None:
        """Refuse training data this model cannot learn, with one line saying why (before any training)."""
        if self.input_kind == "images" and np.ndim(X) != 4:
            raise DataError(
                f"a {self.family} autoencoder needs images shaped (n, height, width, channels), "
                f"got samples shaped {np.shape(X)[1:]}; use a dense family for vectors"
            )
        if self.needs_unit_range():
            kind = scaling.resolve(getattr(self, "scale", None), X, cross_entropy=True)
            low, high = scaling.value_range(X)
            if kind == "none" and (low < 0.0 or high > 1.0):
                if "scale" in self.params:
                    advice = (
                        "pass --scale minmax (scale='minmax': each column mapped to [0, 1] inside the model and "
                        "back on every output), or --loss auto (mean squared error with a linear output)"
                    )
                else:
                    advice = (
                        "rescale the data to [0, 1] first (e.g. subtract each column's minimum and divide by its "
                        "range), or use a dense family, which scales tables itself"
                    )
                raise DataError(
                    f"values range {low:.3g}..{high:.3g}, but the cross-entropy loss needs values in [0, 1]; {advice}"
                )

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X,
        y=None,
        *,
        validation_data=None,
        callbacks=(),
        verbose=0,
        checkpoint=None,
        resume=False,
        on_epoch_end=None,
        columns=None,
        distribution=None,
    ):
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
            return self._fit(
                X,
                y,
                validation_data=validation_data,
                callbacks=callbacks,
                verbose=verbose,
                checkpoint=checkpoint,
                resume=resume,
                on_epoch_end=on_epoch_end,
                distribution=distribution,
                columns=columns,
            )

    def _fit(
        self,
        X,
        y=None,
        *,
        validation_data=None,
        callbacks=(),
        verbose=0,
        checkpoint=None,
        resume=False,
        on_epoch_end=None,
        distribution=None,
        columns=None,
    ):
        """The one fit every family goes through: validate, scale, build (or reload) and train along one plan.

        A family changes a step through its hooks: :meth:`_check_targets` (labels), :meth:`_check_validation`,
        :meth:`_build_model` (build and initialise) and :meth:`_train` (the training stages)."""
        import keras

        plan = self.training_plan()
        columns = _column_names(X) if columns is None else columns
        if distribution is not None:
            plan.shards()  # a batch that cannot be split is refused before any work
        X = self._check_input(X, fitting=not resume)
        y = self._check_targets(X, y)
        if resume and distribution is not None:
            self._place_on(distribution)
        if validation_data is None and self.validation_split:
            X, y, validation_data = _hold_out(X, y, self.validation_split, self.seed)
        if resume:
            history = {k: list(v) for k, v in getattr(self, "history_", {}).items()}
            if getattr(self, "early_stopping_", {}).get("stopped"):
                return self  # it stopped early: the run is complete
            X = self._to_model(X)
        else:
            self.check_data(X)
            self.columns_ = checked_columns(columns, X.shape[1:])
            self.scaling_ = scaling.fit(
                X, getattr(self, "scale", None), cross_entropy="crossentropy" in str(self._loss_param())
            )
            X = self._to_model(X)  # the network sees (and is initialised and trained on) the scaled values
            with training.no_tensorflow_import():
                keras.utils.set_random_seed(self.seed)
            self.input_shape_ = tuple(X.shape[1:])
            self.n_features_in_ = int(np.prod(self.input_shape_))
            self._build_model(X, y, plan, verbose)
            history = {}
            self.early_stopping_ = {}
        validation_data = self._check_validation(validation_data)
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

        self.history_ = self._train(
            X,
            y,
            plan,
            validation_data=validation_data,
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

    # ------------------------------------------------------------------ the steps of fit a family may change

    def _check_targets(self, X, y):
        """What the model learns besides ``X`` (nothing: an autoencoder's target is its input; ``y`` is ignored)."""
        return None

    def _check_validation(self, validation_data):
        """``validation_data`` (``X_val`` or ``(X_val, target_val)``) checked and scaled as the network sees it."""
        if validation_data is None:
            return None
        if not isinstance(validation_data, tuple):
            validation_data = (validation_data, validation_data)
        return tuple(self._to_model(self._check_input(v)) for v in validation_data)

    def _build_model(self, X, y, plan: TrainingPlan, verbose) -> None:
        """Build the Keras models for the (scaled) training data ``X``, their optimizer following ``plan``, then
        set their starting weights (:meth:`_initialise`)."""
        self.encoder_, self.decoder_, self.model_ = self._build(self.input_shape_)
        plan.configure(self.model_.optimizer, len(X))
        self._initialise(X, plan, verbose)

    def _train(self, X, y, plan: TrainingPlan, *, validation_data, history, callbacks, verbose, on_epoch_end) -> dict:
        """Train the built model along ``plan`` from where ``history`` ends; return the whole history."""
        return training.train(
            self.model_,
            X,
            plan=plan,
            validation_data=validation_data,
            initial_epoch=len(history.get("loss", [])),
            history=history,
            callbacks=callbacks,
            verbose=verbose,
            on_epoch_end=on_epoch_end,
        )

    # ------------------------------------------------------------------ using a trained model

    def encode(self, X, chunk_size: int = 4096) -> np.ndarray:
        """The code (latent representation) of each sample of ``X``."""
        return training.predict(self.encoder_, self._model_input(X), chunk_size)

    def decode(self, Z, chunk_size: int = 4096) -> np.ndarray:
        """Samples decoded from codes ``Z``, in the training data's units."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float32)
        code_shape = tuple(self.decoder_.input_shape[1:])
        if Z.shape[1:] != code_shape:
            raise ValueError(f"codes must have shape (n, {', '.join(map(str, code_shape))}), got {Z.shape}")
        return self._from_model(training.predict(self.decoder_, Z, chunk_size))

    def reconstruct(self, X, chunk_size: int = 4096) -> np.ndarray:
        """``decode(encode(X))``: each sample as the model reproduces it, in ``X``'s units."""
        return self._from_model(self._reconstruct_model(self._model_input(X), chunk_size))

    def reconstruction_error(
        self, X, metric: str | None = None, chunk_size: int = 4096, *, scaled: bool = False, per_column: bool = False
    ) -> np.ndarray:
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
            raise ValueError(
                "the 'bce' error needs a model of data in [0, 1]; this one reproduces unbounded values: use 'mse'"
            )
        X = self._check_input(X)
        if training.is_streamed(X):  # chunk by chunk: neither the samples nor their reconstructions held at once
            return np.concatenate(
                [
                    self.reconstruction_error(x, metric, chunk_size, scaled=scaled, per_column=per_column)
                    for x in X.chunks(chunk_size)
                ]
            )
        model_x = self._to_model(X)
        model_out = self._reconstruct_model(model_x, chunk_size)
        if scaled or metric == "bce":
            x, x_hat = model_x, model_out
        else:
            x, x_hat = X, self._from_model(model_out)
        if per_column:
            return column_errors(x, x_hat, metric)
        return reconstruction_error(x, x_hat, metric)

    def _reconstruct_model(self, model_x, chunk_size: int = 4096) -> np.ndarray:
        """The network's reconstruction of samples already in its units (scaled), in its units."""
        return training.predict(self.model_, model_x, chunk_size)

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
        """The names of the features: the training table's header (``columns_``), else ``column 1``,
        ``column 2``, ..."""
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
                raise DataError(
                    f"{X.name}: samples have shape {tuple(X.shape[1:])}, "
                    f"but the model was fitted on {self.input_shape_}"
                )
            return X
        if not (
            isinstance(X, np.ndarray) and X.dtype == np.float32 and X.ndim >= 2 and X.size and np.isfinite(X).all()
        ):
            from sklearn.utils.validation import check_array  # every other input, with scikit-learn's messages

            try:
                X = check_array(
                    X, dtype=np.float32, allow_nd=True, ensure_all_finite=True, ensure_min_features=1, input_name="X"
                )
            except ValueError as exc:
                raise DataError(f"X: {' '.join(str(exc).split())}") from None
        if not fitting and tuple(X.shape[1:]) != self.input_shape_:
            if X.ndim == 2 and len(self.input_shape_) == 1:  # scikit-learn's wording for tables
                raise DataError(
                    f"X has {X.shape[1]} features, "
                    f"but {type(self).__name__} is expecting {self.input_shape_[0]} features as input"
                )
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
        Param(
            "scale",
            "auto",
            Optional(Choice(*scaling.KINDS), "the data as given", word="none"),
            "per-column scaling fitted on the training data and kept in the model (inputs scaled, outputs "
            "scaled back): auto leaves data in [0, 1] alone and standardises anything else (with a cross-entropy "
            "loss, maps it to [0, 1]); standard: mean 0, standard deviation 1; minmax: [0, 1]; none: as given",
        ),
    )


def _column_names(X) -> tuple[str, ...] | None:
    """A pandas DataFrame's column names when they are all text (scikit-learn's rule), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or getattr(X, "ndim", 0) != 2:
        return None
    names = list(columns)
    return tuple(names) if names and all(isinstance(name, str) for name in names) else None


def _hold_out(X, y, fraction: float, seed: int):
    """``(X_train, y_train, validation_data)``: a seeded ``fraction`` of the samples (and their targets ``y``,
    when there are any) held out for validation."""
    order = np.random.default_rng([int(seed), 7]).permutation(len(X))
    n_val = max(1, int(round(len(X) * fraction)))
    if len(X) - n_val < 1:
        raise DataError(f"validation_split={fraction} leaves no sample to train on ({len(X)} samples)")
    kept, held = np.sort(order[n_val:]), np.sort(order[:n_val])
    take = X.take if training.is_streamed(X) else X.__getitem__  # a source: views, nothing read yet
    if y is None:
        return take(kept), None, take(held)
    return take(kept), y[kept], (take(held), y[held])


def _as_dict(params) -> dict:
    """A base's parameters: a family's merged dict, or a mixin's own list of Param entries."""
    return params if isinstance(params, dict) else {p.name: p for p in params}
