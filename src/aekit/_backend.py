"""Which Keras backend aekit runs on, where that choice came from, and one note when it is not jax.

Keras picks its backend once, at its first import: ``KERAS_BACKEND`` if set, else ``keras.json``
(``$KERAS_HOME`` or ``~/.keras``), else tensorflow. aekit's choices, in order:

* a ``KERAS_BACKEND`` the user set (or ``keras.config.set_backend``) always wins;
* ``import aekit`` before Keras sets ``KERAS_BACKEND=jax`` for the process when nothing is set;
* ``import keras`` first, where TensorFlow is not installed: the start-up hook installed with
  aekit (``aekit-backend-hook.pth`` and ``_aekit_backend_hook``) sets jax, so Keras works;
* ``import keras`` first, where Keras' choice works (TensorFlow installed, or ``keras.json``
  naming another backend): aekit keeps it and says once on stderr which backend it runs on and
  how to choose another.

No configuration file is ever written, and Keras is not imported by ``import aekit``.
"""

import os
import platform
import sys

# Shipped beside the package as a top-level module, so that the start-up hook never imports aekit.
import _aekit_backend_hook as _hook

DEFAULT_BACKEND = "jax"
BACKEND_MODULES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}

_state = {
    "set_by_aekit": False,  # use_default_backend() set KERAS_BACKEND=jax itself
    "keras_first": None,  # what Keras saw, reconstructed at `import aekit` when Keras came first without the hook
}


def use_default_backend():
    """Called by ``import aekit``: set ``KERAS_BACKEND`` to jax if nothing chose a backend yet and
    Keras is not imported; if Keras is, say once when it runs on another backend by default.
    Returns the backend name in force (or that Keras will use)."""
    # Quiet TensorFlow's C++ start-up chatter when it is the backend or imported by a user.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" in sys.modules:
        if not _hook.keras_imports:  # Keras came first, with no start-up hook watching
            _state["keras_first"] = _what_keras_sees()
        info = backend_origin()
        if info["backend"] != DEFAULT_BACKEND and not info["explicit"]:
            _note_once(info)
        return info["backend"]
    if not os.environ.get("KERAS_BACKEND"):
        os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
        _state["set_by_aekit"] = True
    _hook.install()  # records what Keras sees at its import, for backend_origin()
    return os.environ["KERAS_BACKEND"]


def _what_keras_sees():
    path = _hook.keras_config_path()
    return {
        "env": os.environ.get("KERAS_BACKEND") or None,
        "config_path": path,
        "config_backend": _hook.keras_config_backend(path),
        "applied": False,
    }


def _short(path):
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if home not in ("", "/") and path.startswith(home + os.sep) else path


def _first_keras_import():
    """What Keras saw at its first import in this process (None if it was never imported)."""
    return _hook.keras_imports[0] if _hook.keras_imports else _state["keras_first"]


def backend_origin():
    """The backend in force and where it came from, as precisely as Keras lets one tell.

    Returns ``{"backend", "origin", "explicit"}``; ``explicit`` is True when the user chose it
    (``KERAS_BACKEND`` or ``keras.config.set_backend``). Imports Keras if it is not imported yet.
    """
    import keras

    backend = keras.config.backend()
    seen = _first_keras_import() or _what_keras_sees()
    path = seen["config_path"]
    first = seen["env"] or seen["config_backend"] or "tensorflow"
    if seen["applied"] and backend == DEFAULT_BACKEND:
        where = f"keras.json at {_short(path)} names tensorflow" if seen["config_backend"] else "no keras.json"
        return {
            "backend": backend,
            "explicit": False,
            "origin": f"aekit start-up hook (TensorFlow not installed; {where})",
        }
    if backend != first:
        return {"backend": backend, "origin": "keras.config.set_backend", "explicit": True}
    if seen["env"]:
        if _state["set_by_aekit"] and seen["env"] == DEFAULT_BACKEND:
            return {"backend": backend, "origin": f"aekit default ({DEFAULT_BACKEND})", "explicit": False}
        if _hook.from_startup and _hook.env_at_startup != seen["env"]:
            origin = "KERAS_BACKEND set in this process (os.environ or aekit --backend)"
        else:
            origin = "KERAS_BACKEND environment variable"
        return {"backend": backend, "origin": origin, "explicit": True}
    if seen["config_backend"]:
        return {"backend": backend, "origin": f"keras.json at {_short(path)}", "explicit": False}
    return {
        "backend": backend,
        "explicit": False,
        "origin": f"Keras' default, as there was no keras.json at {_short(path)}",
    }


def _note_once(info):
    # Remembered on the hook module, which outlives a re-import of aekit: once per process.
    if getattr(_hook, "aekit_noted", False):
        return
    _hook.aekit_noted = True
    backend = info["backend"]
    print(
        f"aekit: Keras runs on {backend} (from {info['origin']}); aekit is fastest on {DEFAULT_BACKEND}.\n"
        f"aekit: set KERAS_BACKEND={DEFAULT_BACKEND} before Python starts to use it, "
        f"or KERAS_BACKEND={backend} to keep {backend} and silence this note.",
        file=sys.stderr,
    )


def _version(distribution, module=None):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return getattr(sys.modules.get(module or distribution), "__version__", None)


def _devices(backend):
    """The devices as the backend library reports them."""
    try:
        if backend == "jax":
            import jax

            return [
                f"{d.platform}:{d.id}" + (f" ({d.device_kind})" if d.device_kind != d.platform else "")
                for d in jax.devices()
            ]
        if backend == "tensorflow":
            import tensorflow as tf

            return [d.name for d in tf.config.list_logical_devices()]
        if backend == "torch":
            import torch

            gpus = [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())]
            return ["cpu"] + gpus
    except Exception as exc:  # a broken driver should not break `aekit info`
        return [f"unknown ({exc.__class__.__name__}: {exc})"]
    return []


def describe_backend() -> dict:
    """Everything about the backend in force, for ``aekit info``: its name, where the choice came
    from, whether the user made it, the configuration Keras reads, the start-up hook, versions and
    devices. Imports Keras and the backend. Values are strings, booleans, lists or flat dicts."""
    from aekit._version import version

    info = backend_origin()
    import keras

    backend = info["backend"]
    path = _hook.keras_config_path()
    hook = "not installed"
    if _hook.from_startup:
        applied = any(seen["applied"] for seen in _hook.keras_imports)
        hook = "installed, set jax (TensorFlow not installed)" if applied else "installed, not needed"
    versions = {
        "aekit": version(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "numpy": _version("numpy"),
    }
    if backend == "jax":
        versions["jax"] = _version("jax")
        versions["jaxlib"] = _version("jaxlib")
    elif backend in BACKEND_MODULES:
        versions[backend] = getattr(sys.modules.get(BACKEND_MODULES[backend]), "__version__", None) or _version(backend)
    try:
        keras_devices = list(keras.distribution.list_devices())
    except Exception:
        keras_devices = []
    return {
        "backend": backend,
        "origin": info["origin"],
        "chosen_by_user": info["explicit"],
        "KERAS_BACKEND": os.environ.get("KERAS_BACKEND") or None,
        "keras_json": f"{path} ({_hook.keras_config_backend(path)})" if os.path.exists(path) else f"{path} (absent)",
        "startup_hook": hook,
        "installed_backends": [name for name, module in BACKEND_MODULES.items() if _hook.is_installed(module)],
        "versions": versions,
        "devices": keras_devices or _devices(backend),
        "backend_devices": _devices(backend),
        "platform": platform.platform(),
    }
