"""How an estimator's learned state travels: into and out of its model file, through pickling, onto devices.

The model file itself is :mod:`aekit.persistence`'s; this mixin says what of an estimator goes into it
beyond the Keras model (history, learned attributes, the random generators' states, early stopping's
best weights) and how a loaded file becomes a fitted estimator again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from aekit import persistence, scaling, training
from aekit.models._common import checked_columns


class ModelState:
    """The parts of :class:`~aekit.models.base.Autoencoder` that save, restore, pickle and re-place its state."""

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
        self.columns_ = checked_columns(attributes.get("columns_"), self.input_shape_, ValueError)
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


def _laid_out(variable, distribution) -> bool:
    """Whether ``variable`` already lives on ``distribution``'s devices (built or loaded under it)."""
    sharding = getattr(getattr(variable, "value", None), "sharding", None)
    devices = getattr(sharding, "device_set", None)
    return devices is not None and set(devices) == set(distribution.device_mesh.devices.flat)


def _is_keras(value) -> bool:
    return type(value).__module__.startswith("keras") or hasattr(value, "get_weights")
