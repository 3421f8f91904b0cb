"""Shared fixtures (seeded small data, MNIST when a data directory provides it, a headless plot backend),
and how the suite is split into lanes, backends and workers.

Lanes. ``make check`` runs ``pytest -m "not slow"`` on jax, in under a minute; ``make test`` runs every
test. A test is ``slow`` when it starts a process (the real ``aekit``, a fresh Python, a benchmark
script), drives the browser, needs MNIST, or trains for more than a second or so; it says so with
``@pytest.mark.slow`` (or its module's ``pytestmark``), except that tests marked ``mnist`` or asking for
the ``mnist`` or ``browser`` fixture are marked here. A new test is in the fast lane unless marked, and
there a test that starts a process from the tests' code (tests/held_run.py included) without the mark
fails, saying to mark it; ``make check`` lists its five slowest tests.

Backends. ``make test`` runs the suite on jax, then on tensorflow. Only tests marked ``backend`` (what
they check depends on Keras' backend: models, layers, training, resuming, model files) run again on
tensorflow; the others skip there, in one line, as they ran on jax already.

Workers. With ``-n N --dist loadgroup`` (``make test``), tests that share a module-scoped fixture run
on one worker, so that fixture trains once; every other test is scheduled on its own, slow ones first,
so that no worker is left with a long file at the end (see ``AekitScheduling``).
"""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
# jax's persistent compilation cache, shared by the workers and the processes the tests start: the same
# small models are compiled again and again (a fresh process, a refit, a clone), and a compiled program is
# the same whoever compiled it. The file lock that comes with a size limit keeps concurrent readers from
# half-written entries. Set JAX_COMPILATION_CACHE_DIR to use another folder.
if importlib.util.find_spec("filelock") is not None:
    _cache = Path(tempfile.gettempdir()) / f"aekit-tests-jax-cache-{os.getuid()}"
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_cache))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(4 * 1024**3))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import aekit  # noqa: E402, F401  (before any test imports keras, so aekit's default backend applies)

# Ctrl-C as a terminal delivers it. A job started in the background (`make test &`) has SIGINT ignored,
# and then neither this process nor the aekit processes the tests start and interrupt would stop on it.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: the backend of this run as the suite's tests read it (aekit's default, jax, when none is set)
BACKEND = os.environ.get("KERAS_BACKEND") or "jax"
#: fixtures that make a test slow wherever it is
SLOW_FIXTURES = {"mnist", "browser"}
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits as an aekit Dataset (image-shaped, float32 in [0, 1])."""
    from aekit.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist():
    """MNIST from AEKIT_DATA_DIR or Keras' cache; skipped (never downloaded) when absent."""
    from aekit.datasets import find_mnist, load_dataset

    if find_mnist() is None:
        pytest.skip("MNIST not found: set AEKIT_DATA_DIR to a folder holding mnist.npz")
    return load_dataset("mnist", download=False)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------------- lanes and backends


def fast_lane(config) -> bool:
    """Whether this run leaves the slow tests out (``make check``)."""
    return "not slow" in (config.getoption("markexpr", "") or "")


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    for item in items:  # before ``-m`` selects
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("mnist"):
            item.add_marker(pytest.mark.slow)
    yield
    folder = getattr(config, "workerinput", {}).get("aekit_groups")
    if folder is not None:  # a worker of --dist loadgroup, once the tests are selected
        _group_and_order(items, Path(folder) / f"{config.workerinput['workerid']}.json")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if BACKEND != "jax" and item.get_closest_marker("backend") is None:
        pytest.skip(f"backend-independent: it ran in the jax run ({BACKEND} runs the tests marked backend)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """In the fast lane, a test not marked slow may not start a process itself (aekit's own worker processes,
    started by the library, are its business)."""
    if not fast_lane(item.config) or item.get_closest_marker("slow") is not None:
        return (yield)
    original = subprocess.Popen.__init__

    def guarded(self, args, *rest, **kwargs):
        caller = sys._getframe(1)
        while caller is not None and caller.f_code.co_filename == subprocess.__file__:
            caller = caller.f_back
        if caller is not None and Path(caller.f_code.co_filename).resolve().is_relative_to(TESTS):
            program = args if isinstance(args, (str, bytes, os.PathLike)) else args[0]
            name = os.path.basename(os.fsdecode(program))
            pytest.fail(
                f"{item.nodeid} starts a process ({name}) but is not marked slow: add @pytest.mark.slow "
                "(make test runs it; make check stays under a minute)",
                pytrace=False,
            )
        return original(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = guarded
    try:
        return (yield)
    finally:
        subprocess.Popen.__init__ = original


# ---------------------------------------------------------------------------- workers (pytest-xdist)

_GROUPS = pytest.StashKey[Path]()


def _xdist_controller(config) -> bool:
    return (
        config.pluginmanager.hasplugin("xdist")
        and not hasattr(config, "workerinput")
        and config.getoption("dist", "no") == "loadgroup"
        and bool(config.getoption("numprocesses", None))
    )


def pytest_configure(config):
    if _xdist_controller(config):
        config.stash[_GROUPS] = Path(tempfile.mkdtemp(prefix="aekit-test-groups-"))


def pytest_unconfigure(config):
    if _GROUPS in config.stash:
        shutil.rmtree(config.stash[_GROUPS], ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    if _GROUPS in node.config.stash:
        node.workerinput["aekit_groups"] = str(node.config.stash[_GROUPS])


def _shares_a_module_fixture(item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    return any(defs and defs[-1].scope in ("module", "class", "package") for defs in definitions)


def _group_and_order(items, target: Path) -> None:
    """Tell the controller each test's group (its ``xdist_group`` mark's, else its file when it shares a
    module-scoped fixture, else the test itself), and order the tests heaviest group first: the controller
    hands groups out in this order, and a long test handed out last would keep one worker busy while the
    others have nothing left to do."""
    groups, weights = {}, {}
    for item in items:
        marked = item.get_closest_marker("xdist_group")
        if marked is not None:  # an explicit group, as plain --dist loadgroup has it
            group = "@" + str(marked.args[0] if marked.args else marked.kwargs.get("name", "default"))
        else:
            group = item.nodeid.split("::")[0] if _shares_a_module_fixture(item) else item.nodeid
        groups[item.nodeid] = group
        weights[group] = weights.get(group, 0) + (10 if item.get_closest_marker("slow") else 1)
    rank = {group: n for n, group in enumerate(sorted(weights, key=lambda group: -weights[group]))}
    items.sort(key=lambda item: rank[groups[item.nodeid]])  # stable: a group keeps its tests' order
    target.with_suffix(".tmp").write_text(json.dumps(groups))
    target.with_suffix(".tmp").replace(target)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if _GROUPS not in config.stash:
        return None
    from xdist.scheduler import LoadScopeScheduling

    class AekitScheduling(LoadScopeScheduling):
        """``--dist loadscope`` with the workers' groups as scopes, in the workers' order (heaviest first)."""

        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False  # keep the order the workers give
            self._groups = None

        def _split_scope(self, nodeid):
            if self._groups is None:
                self._groups = {}
                for path in sorted(config.stash[_GROUPS].glob("*.json")):
                    self._groups = json.loads(path.read_text())
                    break
            return self._groups.get(nodeid) or nodeid.split("::")[0]  # unknown: its file, as --dist loadfile

    return AekitScheduling(config, log)
