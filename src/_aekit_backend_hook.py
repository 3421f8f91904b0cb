"""aekit's start-up hook: let ``import keras`` work where TensorFlow is not installed.

Keras picks its backend once, when it is first imported: ``KERAS_BACKEND`` if set, else the
``backend`` of ``keras.json`` (in ``$KERAS_HOME``, else ``~/.keras``), else tensorflow, and it
writes a ``keras.json`` naming tensorflow when there is none. ``pip install aekit`` brings Keras
and jax but not TensorFlow, so a plain ``import keras`` would end in ``ModuleNotFoundError``.

``aekit-backend-hook.pth``, installed beside this module, imports it at interpreter start-up
and calls :func:`startup` (Python 3.15+ reads ``aekit-backend-hook.start`` instead, PEP 829),
which only puts a finder at the front of ``sys.meta_path``. The finder
never finds anything; it looks at the first import of ``keras`` (before Keras reads its
configuration) and records what Keras is about to see. If Keras would choose tensorflow from
its own default or from ``keras.json`` while no ``KERAS_BACKEND`` is set, and TensorFlow is not
installed but jax is, it sets ``KERAS_BACKEND=jax`` for this process (and so its children),
exactly as a user would. It never overrides a ``KERAS_BACKEND`` the user set, never chooses
anything where Keras would work on its own, and never writes a file.

Standard library only, and nothing is imported or read at start-up beyond this module:
the checks run when Keras is imported.
"""

import os
import sys

DEFAULT_BACKEND = "jax"
KERAS_DEFAULT_BACKEND = "tensorflow"

#: True when the ``.pth`` file installed this hook at interpreter start-up.
from_startup = False
#: ``KERAS_BACKEND`` as it was at interpreter start-up (None if unset or not started by the ``.pth``).
env_at_startup = None
#: What Keras saw at each import of ``keras`` in this process (more than one after
#: ``keras.config.set_backend``, which re-imports Keras): dicts with ``env`` (``KERAS_BACKEND``
#: or None), ``config_path``, ``config_backend`` (``keras.json``'s backend, or None when the
#: file is absent), ``applied`` (True when this hook set ``KERAS_BACKEND=jax``).
keras_imports = []


def keras_config_path():
    """The ``keras.json`` Keras reads, located as Keras 3 does (``keras/src/backend/config.py``)."""
    if "KERAS_HOME" in os.environ:
        folder = os.environ.get("KERAS_HOME")
    else:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        folder = os.path.join(base, ".keras")
    return os.path.expanduser(os.path.join(folder, "keras.json"))


def keras_config_backend(path=None):
    """The backend named by ``keras.json``: its ``backend`` value, Keras' default when the file
    is unreadable or names none (as Keras does), None when there is no file."""
    path = path or keras_config_path()
    if not os.path.exists(path):
        return None
    import json

    try:
        with open(path) as f:
            config = json.load(f)
    except (OSError, ValueError):
        config = {}
    backend = config.get("backend", KERAS_DEFAULT_BACKEND) if isinstance(config, dict) else None
    return backend if isinstance(backend, str) and backend else KERAS_DEFAULT_BACKEND


def is_installed(module):
    """Whether ``module`` can be imported as a regular package (a leftover namespace folder,
    as ``pip uninstall`` sometimes leaves, does not count)."""
    from importlib.util import find_spec

    try:
        spec = find_spec(module)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.origin not in (None, "namespace")


def _on_keras_import():
    env = os.environ.get("KERAS_BACKEND") or None
    path = keras_config_path()
    seen = {"env": env, "config_path": path, "config_backend": keras_config_backend(path), "applied": False}
    keras_imports.append(seen)
    if env is not None or len(keras_imports) > 1:
        return  # the user's choice (or a re-import by keras.config.set_backend, which sets it)
    if (seen["config_backend"] or KERAS_DEFAULT_BACKEND) != KERAS_DEFAULT_BACKEND:
        return
    if is_installed("tensorflow") or not is_installed(DEFAULT_BACKEND):
        return  # Keras works as configured, or would fail whatever this hook did
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
    seen["applied"] = True


class KerasImportWatcher:
    """A ``sys.meta_path`` finder that finds nothing and calls :func:`_on_keras_import` when
    ``keras`` itself is imported (``import keras``, ``from keras import layers``, ...)."""

    _busy = False

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "keras" and not cls._busy:
            cls._busy = True
            try:
                _on_keras_import()
            except Exception:  # never break an import because of this hook
                pass
            finally:
                cls._busy = False
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


def startup():
    """The start-up entry point (``aekit-backend-hook.pth``, ``aekit-backend-hook.start``)."""
    install(startup=True)


def install(startup=False):
    """Put the watcher first on ``sys.meta_path`` (once); ``startup`` marks the ``.pth`` call."""
    global from_startup, env_at_startup
    if startup and not from_startup:
        from_startup = True
        env_at_startup = os.environ.get("KERAS_BACKEND") or None
    if KerasImportWatcher not in sys.meta_path:
        sys.meta_path.insert(0, KerasImportWatcher)
