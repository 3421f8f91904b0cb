"""Model files: save, load, checkpoint — one ``.keras`` file holds everything a model is.

A model file is the Keras archive of the whole autoencoder (weights, optimizer state; loaded in
Keras' safe mode, so nothing is unpickled) plus one entry, ``aekit.json``: the format version,
the family and its parameters, the sample shape, the training history, learned attributes and
the random-generator state. With the optimizer and random state inside, every saved model is also
a checkpoint that training resumes from exactly; :func:`save` writes it once, atomically, through
:func:`aekit.files.replacing`. :func:`load` validates ``aekit.json`` field by field, so a damaged,
foreign or newer file gets one line naming the file and the field.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from aekit import registry
from aekit._schema import check_format, field, numbers_list, parse_json
from aekit._version import version
from aekit.errors import AekitError, ModelFileError
from aekit.files import jsonable, replacing

#: the archive entry aekit adds to Keras' own
METADATA_NAME = "aekit.json"
#: early stopping's best weights so far, when the model file holds them
BEST_WEIGHTS_NAME = "aekit_best_weights.npz"
#: version of ``aekit.json``'s layout; a file with a higher one is refused with "upgrade aekit"
FORMAT_VERSION = 1
_LEGACY_RNG_NAME = "aekit_rng.json"  # the random state's own entry in files from before format 1


def save(estimator, path, *, overwrite: bool | None = None) -> Path:
    """Write fitted ``estimator`` to ``path`` (``.keras``) atomically; return the path.

    An existing aekit model file is replaced; any other file only with ``overwrite=True``
    (``overwrite=False`` refuses every existing file).
    """
    import keras

    estimator._check_fitted()
    path = Path(path).expanduser()
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: model files must end in .keras")
    state = estimator._state()
    document = {
        "format_version": FORMAT_VERSION,
        "aekit_version": version(),
        "family": estimator.family,
        "class": type(estimator).__name__,
        "params": {name: getattr(estimator, name) for name in estimator.params},
        "input_shape": list(estimator.input_shape_),
        "history": state.get("history", {}),
        "attributes": state.get("attributes", {}),
        "rng_state": [np.asarray(v).tolist() for v in state["rng_variables"]],
    }
    from aekit.training import no_tensorflow_import, undistributed

    with replacing(path, force=overwrite, ours=is_aekit_model) as tmp:
        with no_tensorflow_import(), undistributed():
            keras.saving.save_model(estimator.model_, tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(METADATA_NAME, json.dumps(document, default=jsonable))
            if state.get("best_weights") is not None:  # early stopping's best epoch, to keep after a resume
                buffer = io.BytesIO()
                np.savez(buffer, *state["best_weights"])
                archive.writestr(BEST_WEIGHTS_NAME, buffer.getvalue())
    return path


def load(path):
    """The estimator saved in ``path``, ready to use or to resume training (``fit(..., resume=True)``)."""
    import keras

    path = Path(path).expanduser()
    document, legacy_rng = read_metadata(path)
    cls = _family_class(document, path)
    params = {}
    declared = cls.params
    for name, value in field(document, "params", dict, str(path), ModelFileError).items():
        if name not in declared:
            raise ModelFileError(
                f"{path}: parameter {name!r} is unknown to the {cls.family} family of aekit {version()}; "
                "upgrade aekit to load this file"
            )
        try:
            params[name] = declared[name].check(value)
        except AekitError as exc:
            raise ModelFileError(f"{path}: field 'params.{name}': {exc}") from None
    estimator = cls(**params)
    import aekit.layers  # noqa: F401  (registers aekit's layers for Keras' safe-mode loading)
    from aekit.training import no_tensorflow_import

    try:
        with no_tensorflow_import():
            model = keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # Keras reports damage in many ways; they all mean the same to a user
        first_line = (str(exc).splitlines() or [""])[0][:200]
        raise ModelFileError(
            f"{path}: Keras could not load the model ({exc.__class__.__name__}: {first_line}); the file may be damaged"
        ) from None
    where = f"{path} ({METADATA_NAME})"
    shape = field(document, "input_shape", list, where, ModelFileError)
    if not shape or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
        raise ModelFileError(f"{where}: field 'input_shape' must be a list of positive whole numbers")
    history = {
        key: numbers_list(values, f"history.{key}", where, ModelFileError)
        for key, values in field(document, "history", dict, where, ModelFileError, optional=True, default={}).items()
    }
    attributes = field(document, "attributes", dict, where, ModelFileError, optional=True, default={})
    rng_state = field(document, "rng_state", list, where, ModelFileError, optional=True, default=legacy_rng)
    _check_matches(estimator, model, tuple(shape), where)
    _check_rng_state(rng_state, model, where)
    best = _best_weights(path, model)
    try:
        estimator._restore(model, tuple(shape), history, attributes, rng_state, best)
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(
            f"{path}: the model does not match its {cls.family} settings ({exc.__class__.__name__}: {exc}); "
            "the file is damaged"
        ) from None
    return estimator


def is_aekit_model(path) -> bool:
    """Whether ``path`` is a model file aekit wrote (a Keras archive holding ``aekit.json``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return METADATA_NAME in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def read_metadata(path) -> tuple[dict, list | None]:
    """``(aekit.json as a dict, legacy random state or None)`` of a model file, checked to be aekit's."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ModelFileError(f"{path}: a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if METADATA_NAME not in names:
                raise ModelFileError(
                    f"{path}: a Keras file not written by aekit (no {METADATA_NAME}); "
                    "load it with keras.saving.load_model"
                )
            raw = archive.read(METADATA_NAME)
            legacy = archive.read(_LEGACY_RNG_NAME) if _LEGACY_RNG_NAME in names else None
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ModelFileError(
            f"{path}: not a readable .keras model file ({exc.__class__.__name__}); it may be truncated or corrupt"
        ) from None
    where = f"{path} ({METADATA_NAME})"
    document = parse_json(raw, where, ModelFileError)
    check_format(document, where, ModelFileError, FORMAT_VERSION)
    legacy_rng = parse_json(b'{"s": ' + legacy + b"}", where, ModelFileError)["s"] if legacy else None
    return document, legacy_rng


def _check_matches(estimator, model, input_shape, where) -> None:
    """The parameters in ``aekit.json`` must build the model the archive holds: same weights, same shapes."""
    from aekit.training import no_tensorflow_import

    try:
        with no_tensorflow_import():
            reference = estimator._build(input_shape)[2]
    except NotImplementedError:  # a family that builds in stages (the stacked classifier)
        return
    except Exception as exc:
        raise ModelFileError(
            f"{where}: its parameters and input_shape do not build a model ({exc.__class__.__name__}); "
            "the file was edited or damaged"
        ) from None
    expected = [tuple(w.shape) for w in reference.weights]
    found = [tuple(w.shape) for w in model.weights]
    if expected != found or tuple(model.input_shape[1:]) != input_shape:
        raise ModelFileError(
            f"{where}: its parameters and input_shape do not match the model's weights; the file was edited or damaged"
        )


def _best_weights(path: Path, model):
    """Early stopping's best weights stored beside the model, checked to fit it (None when there are none)."""
    with zipfile.ZipFile(path) as archive:
        if BEST_WEIGHTS_NAME not in archive.namelist():
            return None
        data = archive.read(BEST_WEIGHTS_NAME)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            weights = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    except Exception:
        raise ModelFileError(f"{path} ({BEST_WEIGHTS_NAME}): unreadable; the file is damaged") from None
    if [w.shape for w in weights] != [tuple(w.shape) for w in model.weights]:
        raise ModelFileError(f"{path} ({BEST_WEIGHTS_NAME}): does not fit the model; the file is damaged")
    return weights


def _check_rng_state(rng_state, model, where) -> None:
    if rng_state is None:
        return
    from aekit.training import rng_variables

    variables = rng_variables(model)
    shapes_ok = len(rng_state) == len(variables) and all(
        np.asarray(value).shape == tuple(v.shape) and np.issubdtype(np.asarray(value).dtype, np.integer)
        for value, v in zip(rng_state, variables)
    )
    if not shapes_ok:
        raise ModelFileError(
            f"{where}: field 'rng_state' does not fit the model's random generators; the file was edited or damaged"
        )


def _family_class(document: dict, path: Path):
    family = field(document, "family", str, f"{path} ({METADATA_NAME})", ModelFileError)
    try:
        return registry.get(family)
    except AekitError as exc:
        raise ModelFileError(
            f"{path}: {exc}; is the file from a newer aekit or a plug-in that is not installed?"
        ) from None
