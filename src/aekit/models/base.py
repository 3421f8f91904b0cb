"""The estimator every autoencoder family shares: fit, encode, decode, reconstruct, save, load.

Follows scikit-learn's conventions: ``__init__`` only stores hyper-parameters, ``fit`` builds and
trains the Keras models and returns ``self``, learned state ends in ``_`` (``encoder_``,
``decoder_``, ``model_``, ``history_``, ``input_shape_``). A family subclass only says how to
build its three models (``_build``) and may add its own uses (``denoise``, ``sample``, ...).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator

from aekit import training
from aekit._files import regular_file_mode

METADATA_NAME = "aekit.json"
_FAMILIES: dict[str, type] = {}


class ModelFileError(ValueError):
    """A model file is missing, corrupt or not made by aekit; the message says what to do."""


def register_family(name: str):
    """Class decorator: make an estimator class loadable and selectable by its family ``name``."""

    def decorate(cls):
        cls.family = name
        _FAMILIES[name] = cls
        return cls

    return decorate


def families() -> dict[str, type]:
    """Family name -> estimator class, for every family imported so far."""
    return dict(_FAMILIES)


class Autoencoder(BaseEstimator):
    """Base class: subclasses define ``__init__`` (storing parameters) and ``_build(input_shape)``."""

    family = "base"
    #: loss used for ``reconstruction_error``'s default metric
    reconstruction_metric = "mse"

    # ------------------------------------------------------------------ to override

    def _build(self, input_shape):
        """Return ``(encoder, decoder, autoencoder)`` for samples of ``input_shape``, compiled."""
        raise NotImplementedError

    def _initialise(self, X, verbose):
        """Set the freshly built model's starting weights from the training data (default: keep the random ones)."""

    def _after_load(self):
        """Restore derived state after :func:`load` set the models (nothing by default)."""

    def _encoder_output(self, outputs):
        """The code from the encoder's raw outputs (a VAE returns ``[z, mean, log_var]``)."""
        return outputs

    def _split_models(self, model):
        """``(encoder, decoder)`` of a loaded autoencoder ``model`` (by default its two nested models)."""
        return model.get_layer("encoder"), model.get_layer("decoder")

    def _saved_attributes(self) -> dict:
        """Learned attributes, beyond the Keras model, that :meth:`save` stores as JSON (none by default)."""
        return {}

    # ------------------------------------------------------------------ training

    def fit(self, X, y=None, *, validation_data=None, callbacks=(), verbose=0, checkpoint=None, resume=False):
        """Build the models for ``X``'s sample shape and train them to reconstruct ``X``.

        ``y`` is ignored (scikit-learn's signature); ``validation_data`` is ``X_val`` or
        ``(X_val, target_val)``. Returns ``self``.

        ``checkpoint`` names a ``.keras`` file rewritten atomically after every epoch (model,
        optimizer and random state, history); ``resume=True`` continues an estimator loaded with
        :func:`aekit.training.load_checkpoint` from its last completed epoch up to ``epochs``.
        Either makes the shuffling a function of ``seed`` and the epoch, so a resumed run ends
        where an uninterrupted one does.
        """
        import keras

        if resume:
            X = self._check_input(X)
            history = {k: list(v) for k, v in getattr(self, "history_", {}).items()}
            initial_epoch = len(history.get("loss", []))
        else:
            X = self._check_input(X, fitting=True)
            keras.utils.set_random_seed(self.seed)
            self.input_shape_ = tuple(X.shape[1:])
            self.encoder_, self.decoder_, self.model_ = self._build(self.input_shape_)
            self._initialise(X, verbose)
            history, initial_epoch = {}, 0
        if validation_data is not None:
            if not isinstance(validation_data, tuple):
                validation_data = (validation_data, validation_data)
            validation_data = tuple(self._check_input(v) for v in validation_data)

        on_epoch_end = None
        if checkpoint is not None:

            def on_epoch_end(epochs_done, history_so_far):
                self.history_ = history_so_far
                training.save_checkpoint(self, checkpoint)

        reproducible = checkpoint is not None or resume
        self.history_ = training.train(
            self.model_,
            X,
            epochs=self.epochs,
            batch_size=self.batch_size,
            validation_data=validation_data,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=verbose,
            seed=self.seed if reproducible else None,
            history=history if reproducible else None,
            on_epoch_end=on_epoch_end,
        )
        return self

    # ------------------------------------------------------------------ using a trained model

    def encode(self, X, batch_size: int = 4096) -> np.ndarray:
        """The code (latent representation) of each sample of ``X``."""
        X = self._check_input(X)
        return self._encoder_output(training.predict(self.encoder_, X, batch_size))

    def decode(self, Z, batch_size: int = 4096) -> np.ndarray:
        """Samples decoded from codes ``Z``."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float32)
        code_shape = tuple(self.decoder_.input_shape[1:])
        if Z.shape[1:] != code_shape:
            raise ValueError(f"codes must have shape (n, {', '.join(map(str, code_shape))}), got {Z.shape}")
        return training.predict(self.decoder_, Z, batch_size)

    def reconstruct(self, X, batch_size: int = 4096) -> np.ndarray:
        """``decode(encode(X))``: each sample as the model reproduces it."""
        X = self._check_input(X)
        return training.predict(self.model_, X, batch_size)

    def reconstruction_error(self, X, metric: str | None = None, batch_size: int = 4096) -> np.ndarray:
        """Per-sample reconstruction error of ``X``: ``"mse"`` (mean squared), ``"sse"`` (summed) or ``"bce"``."""
        from aekit.evaluation import reconstruction_error

        X = self._check_input(X)
        return reconstruction_error(X, self.reconstruct(X, batch_size), metric or self.reconstruction_metric)

    def score(self, X, y=None) -> float:
        """Negative mean squared reconstruction error (higher is better, as scikit-learn expects)."""
        return -float(np.mean(self.reconstruction_error(X, "mse")))

    # ------------------------------------------------------------------ persistence

    def save(self, path) -> Path:
        """Write the model and its settings to one ``.keras`` file, atomically; return its path."""
        self._check_fitted()
        path = Path(path)
        if path.suffix != ".keras":
            raise ModelFileError(f"{path}: model files must end in .keras")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
        os.close(fd)
        try:
            self.model_.save(tmp)
            meta = {
                "family": self.family,
                "class": type(self).__name__,
                "params": self.get_params(),
                "input_shape": list(self.input_shape_),
                "history": getattr(self, "history_", {}),
                "attributes": self._saved_attributes(),
            }
            with zipfile.ZipFile(tmp, "a") as archive:
                archive.writestr(METADATA_NAME, json.dumps(meta, default=_jsonable))
            os.chmod(tmp, regular_file_mode())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @staticmethod
    def load(path) -> "Autoencoder":
        """Load an estimator saved by :meth:`save` (Keras' safe mode: nothing is unpickled)."""
        return load(path)

    # ------------------------------------------------------------------ checks

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")

    def _check_input(self, X, fitting=False) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim < 2 or len(X) == 0:
            raise ValueError(f"expected a non-empty array of samples (n, ...), got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("input holds NaN or infinite values; clean the data first")
        if not fitting:
            self._check_fitted()
            if tuple(X.shape[1:]) != self.input_shape_:
                raise ValueError(f"samples have shape {tuple(X.shape[1:])}, but the model was fitted on {self.input_shape_}")
        return X


def load(path) -> Autoencoder:
    """Load any aekit model file (``.keras``) into its estimator class."""
    import keras

    import aekit.models  # noqa: F401  (registers every family)

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read(METADATA_NAME))
    except KeyError as exc:
        raise ModelFileError(f"{path}: a Keras file not written by aekit (no {METADATA_NAME}); load it with keras.saving.load_model") from exc
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a readable .keras model file ({exc.__class__.__name__}); it may be truncated or corrupt") from exc
    cls = _FAMILIES.get(meta.get("family"))
    if cls is None:
        raise ModelFileError(f"{path}: unknown model family {meta.get('family')!r}; is it from a newer aekit?")
    # JSON stores tuples as lists; give hyper-parameters back the tuples they were given as
    estimator = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["params"].items()})
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:
        raise ModelFileError(f"{path}: Keras could not load the model ({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})") from exc
    estimator.model_ = model
    estimator.encoder_, estimator.decoder_ = estimator._split_models(model)
    estimator.input_shape_ = tuple(meta["input_shape"])
    estimator.history_ = meta.get("history", {})
    for name, value in meta.get("attributes", {}).items():
        setattr(estimator, name, value)
    estimator._after_load()
    return estimator


def _jsonable(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"cannot store {value!r} in a model file's settings")

