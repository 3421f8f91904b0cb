"""Which backend aekit runs on, in every order of imports (issue 19).

Each scenario runs a fresh interpreter as a new user would: no ``KERAS_BACKEND`` (unless the
scenario sets one), ``HOME`` and ``KERAS_HOME`` in an empty temporary folder, aekit's start-up
hook loaded exactly as ``site`` loads the installed ``aekit-backend-hook.pth``. "TensorFlow not
installed" is simulated in this (TensorFlow-equipped) environment by a finder that makes
``import tensorflow`` fail as it does where the package is missing.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import _aekit_backend_hook as hook
from aekit import _backend

HOOK_DIR = Path(hook.__file__).parent  # src/ (editable) or site-packages: the .pth lies beside the module
PTH = HOOK_DIR / "aekit-backend-hook.pth"
NOTE = "aekit: Keras runs on"
needs_tensorflow = pytest.mark.skipif(
    not hook.is_installed("tensorflow"), reason="TensorFlow is not installed (pip install -e '.[test]')"
)
KERAS_JSON_TF = json.dumps(
    {"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow", "image_data_format": "channels_last"}, indent=4
)

PRELUDE = f"""
import sys
if {{no_tensorflow}}:
    class NoTensorFlow:  # `import tensorflow` fails as in an environment without it
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                raise ModuleNotFoundError(f"No module named {{{{name!r}}}}", name=name)
    sys.meta_path.insert(0, NoTensorFlow)
if {{hook}}:  # what site does with the installed .pth at start-up (a no-op where it already did)
    for line in open({str(PTH)!r}):
        if line.startswith(("import ", "import\\t")):
            exec(line)
else:  # as if aekit's .pth were not installed
    sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "__name__", None) != "KerasImportWatcher"]
"""

REPORT = """
import json, os, numpy as np
from aekit._backend import backend_origin
for _ in range({fit}):  # tiny models, trained
    aekit.DenseAutoencoder(hidden_layers=(8,), latent_dim=2, epochs=1).fit(np.random.rand(32, 16).astype("float32"))
print(json.dumps({{**backend_origin(), "tensorflow_imported": "tensorflow" in sys.modules}}))
"""


def run(tmp_path, body, *, env=None, config=None, no_tensorflow=False, hook=True, fit=0, expect_ok=True):
    """Run ``body`` in a fresh interpreter with an empty home; return (report dict or None, stderr)."""
    home = tmp_path / "home"
    (home / ".keras").mkdir(parents=True)
    if config is not None:
        (home / ".keras" / "keras.json").write_text(config)
    environ = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    environ.update(
        HOME=str(home),
        KERAS_HOME=str(home / ".keras"),
        PYTHONPATH=os.pathsep.join(dict.fromkeys([str(HOOK_DIR), str(Path(_backend.__file__).parents[1])])),
        **(env or {}),
    )
    code = PRELUDE.format(no_tensorflow=no_tensorflow, hook=hook) + body + (REPORT.format(fit=fit) if expect_ok else "")
    result = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=240)
    if not expect_ok:
        return None, result
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


# ---------------------------------------------------------------- fresh install: Keras and jax, no TensorFlow


@pytest.mark.slow  # a fresh interpreter
def test_without_the_hook_keras_first_fails_as_in_the_issue(tmp_path):
    """The simulation is faithful: without aekit's hook, Keras alone fails on a fresh install."""
    _, result = run(tmp_path, "import keras\n", no_tensorflow=True, hook=False, expect_ok=False)
    assert result.returncode != 0
    assert "No module named 'tensorflow'" in result.stderr


@pytest.mark.slow  # a fresh interpreter
def test_keras_first_without_tensorflow_runs_on_jax_and_trains(tmp_path):
    report, stderr = run(tmp_path, "from keras import layers\nimport keras\nimport aekit\n", no_tensorflow=True, fit=1)
    assert report == {
        "backend": "jax",
        "origin": "aekit start-up hook (TensorFlow not installed; no keras.json)",
        "explicit": False,
        "tensorflow_imported": False,
    }
    assert NOTE not in stderr
    # Keras wrote its own default file (naming tensorflow, as always); aekit wrote nothing
    assert json.loads((tmp_path / "home" / ".keras" / "keras.json").read_text())["backend"] == "tensorflow"


# ---------------------------------------------------------------- TensorFlow installed


@needs_tensorflow
@pytest.mark.slow  # a fresh interpreter
def test_keras_first_on_tensorflow_by_keras_json_says_so_exactly_once(tmp_path):
    body = (
        "import keras\nimport aekit\nimport aekit\nimport importlib; importlib.reload(aekit)\n"
        "for name in [m for m in sys.modules if m.split('.')[0] == 'aekit']: del sys.modules[name]\n"
        "import aekit\n"
    )
    report, stderr = run(tmp_path, body, config=KERAS_JSON_TF, fit=2)  # the note is not per model either
    assert report["backend"] == "tensorflow"
    assert report["origin"] == "keras.json at ~/.keras/keras.json"
    assert not report["explicit"]
    notes = [line for line in stderr.splitlines() if line.startswith("aekit:")]
    assert len(notes) == 2 and notes[0].startswith(NOTE) and "KERAS_BACKEND=jax" in notes[1], stderr
    assert stderr.count(NOTE) == 1


@needs_tensorflow
@pytest.mark.slow  # a fresh interpreter
def test_no_note_when_the_user_set_keras_backend(tmp_path):
    report, stderr = run(
        tmp_path,
        "import keras\nimport aekit\n",
        env={"KERAS_BACKEND": "tensorflow"},
        config=KERAS_JSON_TF,
        no_tensorflow=False,
    )
    assert report == {
        "backend": "tensorflow",
        "origin": "KERAS_BACKEND environment variable",
        "explicit": True,
        "tensorflow_imported": True,
    }
    assert "aekit:" not in stderr


@pytest.mark.slow  # a fresh interpreter
def test_aekit_first_runs_on_jax_without_a_note(tmp_path):
    report, stderr = run(tmp_path, "import aekit\nimport keras\n", config=KERAS_JSON_TF)
    assert report == {
        "backend": "jax",
        "origin": "aekit default (jax)",
        "explicit": False,
        "tensorflow_imported": False,
    }
    assert "aekit:" not in stderr


# ---------------------------------------------------------------- the hook's decision, in-process


@pytest.fixture
def fresh_hook(monkeypatch, tmp_path):
    monkeypatch.setattr(hook, "keras_imports", [])
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(hook, "is_installed", lambda module: module == "jax")
    yield tmp_path
    # monkeypatch restores KERAS_BACKEND afterwards, whatever the hook set


@pytest.mark.parametrize(
    ("config", "env", "tensorflow", "applied"),
    [
        (None, None, False, True),  # fresh install: Keras would fail
        ('{"backend": "tensorflow"}', None, False, True),  # Keras' own default file
        ("not json", None, False, True),  # Keras ignores an unreadable file: tensorflow
        ('{"floatx": "float32"}', None, False, True),  # no backend key: tensorflow
        (None, None, True, False),  # TensorFlow installed: Keras works, left alone
        ('{"backend": "torch"}', None, False, False),  # the user's keras.json chose another backend
        (None, "tensorflow", False, False),  # the user's KERAS_BACKEND always wins
    ],
)
def test_hook_sets_jax_only_where_keras_would_fail(fresh_hook, monkeypatch, config, env, tensorflow, applied):
    if config is not None:
        (fresh_hook / "keras.json").write_text(config)
    if env:
        monkeypatch.setenv("KERAS_BACKEND", env)
    if tensorflow:
        monkeypatch.setattr(hook, "is_installed", lambda module: True)
    hook.KerasImportWatcher.find_spec("keras")
    assert hook.keras_imports[-1]["applied"] is applied
    assert os.environ.get("KERAS_BACKEND") == ("jax" if applied else env)
    if config is not None:
        assert (fresh_hook / "keras.json").read_text() == config  # never rewritten


def test_hook_ignores_other_imports_and_keras_json_location(fresh_hook):
    assert hook.KerasImportWatcher.find_spec("kerastuner") is None
    assert hook.KerasImportWatcher.find_spec("keras.src") is None
    assert hook.keras_imports == []
    assert hook.keras_config_path() == str(fresh_hook / "keras.json")


def test_hook_does_not_take_a_namespace_leftover_for_a_package(tmp_path, monkeypatch):
    (tmp_path / "aekit_leftover").mkdir()  # what `pip uninstall tensorflow` can leave behind
    (tmp_path / "aekit_real").mkdir()
    (tmp_path / "aekit_real" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not hook.is_installed("aekit_leftover")
    assert hook.is_installed("aekit_real")
    assert not hook.is_installed("aekit_absent")


# ---------------------------------------------------------------- where the choice came from, in-process


def seen(env=None, config="tensorflow", applied=False):
    return {"env": env, "config_path": "/home/u/.keras/keras.json", "config_backend": config, "applied": applied}


@pytest.mark.parametrize(
    ("record", "backend", "set_by_aekit", "startup_env", "origin", "explicit"),
    [
        (
            seen(applied=True),
            "jax",
            False,
            None,
            "aekit start-up hook (TensorFlow not installed; keras.json at /home/u/.keras/keras.json names tensorflow)",
            False,
        ),
        (
            seen(config=None, applied=True),
            "jax",
            False,
            None,
            "aekit start-up hook (TensorFlow not installed; no keras.json)",
            False,
        ),
        (seen(), "tensorflow", False, None, "keras.json at /home/u/.keras/keras.json", False),
        (seen(config="torch"), "torch", False, None, "keras.json at /home/u/.keras/keras.json", False),
        (
            seen(config=None),
            "tensorflow",
            False,
            None,
            "Keras' default, as there was no keras.json at /home/u/.keras/keras.json",
            False,
        ),
        (seen(env="jax"), "jax", True, None, "aekit default (jax)", False),
        (seen(env="tensorflow"), "tensorflow", False, "tensorflow", "KERAS_BACKEND environment variable", True),
        (seen(env="jax"), "jax", False, "jax", "KERAS_BACKEND environment variable", True),
        (
            seen(env="tensorflow"),
            "tensorflow",
            False,
            None,
            "KERAS_BACKEND set in this process (os.environ or aekit --backend)",
            True,
        ),
        (seen(env="jax"), "tensorflow", True, None, "keras.config.set_backend", True),
        (seen(), "jax", False, None, "keras.config.set_backend", True),
    ],
)
def test_backend_origin(monkeypatch, record, backend, set_by_aekit, startup_env, origin, explicit):
    import keras

    monkeypatch.setattr(keras.config, "backend", lambda: backend)
    monkeypatch.setattr(_backend, "_first_keras_import", lambda: record)
    monkeypatch.setitem(_backend._state, "set_by_aekit", set_by_aekit)
    monkeypatch.setattr(hook, "from_startup", True)
    monkeypatch.setattr(hook, "env_at_startup", startup_env)
    monkeypatch.setenv("HOME", "/elsewhere")
    assert _backend.backend_origin() == {"backend": backend, "origin": origin, "explicit": explicit}


# ---------------------------------------------------------------- describe_backend (for `aekit info`)


@pytest.mark.backend
def test_describe_backend_reports_the_backend_in_force():
    import keras

    info = _backend.describe_backend()
    assert info["backend"] == keras.config.backend()
    assert info["origin"] and isinstance(info["chosen_by_user"], bool)
    assert set(info["versions"]) >= {"aekit", "python", "keras", "numpy"}
    assert info["backend"] in info["installed_backends"]
    assert info["devices"] and info["backend_devices"]
    json.dumps(info)  # --json
    if os.environ.get("KERAS_BACKEND"):
        assert info["origin"] in ("KERAS_BACKEND environment variable", "aekit default (jax)")
