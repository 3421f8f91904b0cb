"""Where families come from (aekit.registry): aekit's own by name, plug-ins through the ``aekit.families``
entry point group, imported only when asked for, and a broken or foreign plug-in named in one line.

In-process: a folder holding a ``.dist-info`` is put on ``sys.path``, which is what an installed package
looks like to ``importlib.metadata`` (test_plugins.py drives the same plug-in through the real executable)."""

import sys
from pathlib import Path

import pytest

from aekit import registry
from aekit.errors import FamilyError

PLUGIN = Path(__file__).parent / "plugin"  # the "shallow" family of test_plugins.py
BUILTIN_ORDER = ["dense", "sparse", "denoising", "conv", "conv_denoising", "vae", "conv_vae", "stacked"]


def install(folder: Path, name: str, entry_points: str, module: str | None = None, source: str = "") -> None:
    """A package ``name`` with ``entry_points`` (and a module of ``source``) in ``folder``, as pip leaves one."""
    info = folder / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n{entry_points}\n")
    if module:
        (folder / f"{module}.py").write_text(source)


@pytest.fixture
def on_path(monkeypatch):
    """``on_path(folder)``: ``folder`` on sys.path for this test; modules imported from it are forgotten after."""
    before = set(sys.modules)

    def add(folder):
        monkeypatch.syspath_prepend(str(folder))

    yield add
    for name in set(sys.modules) - before:
        if name in ("shallow_family", "foreign_family"):
            del sys.modules[name]


def test_aekits_own_families_come_first_in_their_order_and_load_by_name():
    assert registry.names()[: len(BUILTIN_ORDER)] == BUILTIN_ORDER
    from aekit.models import ConvAutoencoder, VariationalAutoencoder

    assert registry.get("conv") is ConvAutoencoder and registry.get("vae") is VariationalAutoencoder
    for name, cls in registry.families().items():
        assert cls.family == name and cls.params  # a declared family, with its parameters


def test_an_unknown_name_lists_the_choices_in_one_line():
    with pytest.raises(FamilyError) as info:
        registry.get("transformer")
    assert isinstance(info.value, ValueError)
    assert str(info.value) == f"unknown model family 'transformer'; choose one of: {', '.join(registry.names())}"


def test_a_plugin_is_listed_without_being_imported_and_loads_when_asked_for(on_path):
    on_path(PLUGIN)
    assert registry.names()[-1] == "shallow" and registry.names()[: len(BUILTIN_ORDER)] == BUILTIN_ORDER
    assert "shallow_family" not in sys.modules  # listing names stays cheap
    cls = registry.get("shallow")
    assert cls.__name__ == "ShallowAutoencoder" and cls.family == "shallow"
    assert list(cls.params)[0] == "latent_dim" and "epochs" in cls.params  # its own, then aekit's training ones
    assert cls().get_params()["epochs"] == 3  # the plug-in's own default


def test_a_plugin_cannot_replace_an_aekit_family(tmp_path, on_path):
    install(tmp_path, "impostor", "dense = shallow_family:ShallowAutoencoder")
    on_path(tmp_path)
    on_path(PLUGIN)
    assert registry.names().count("dense") == 1
    assert registry.get("dense").__module__ == "aekit.models.dense"


def test_a_broken_or_foreign_plugin_is_named_and_blamed_in_one_line(tmp_path, on_path):
    install(tmp_path, "broken", "broken = no_such_module:Model")
    install(
        tmp_path,
        "foreign",
        "foreign = foreign_family:NotAFamily",
        module="foreign_family",
        source="class NotAFamily:\n    family = 'something else'\n",
    )
    on_path(tmp_path)
    with pytest.raises(FamilyError) as info:
        registry.get("broken")
    assert str(info.value) == (
        "the aekit.families entry point 'broken' (no_such_module:Model) failed to load "
        "(ModuleNotFoundError: No module named 'no_such_module'); fix or uninstall that package"
    )
    with pytest.raises(
        FamilyError,
        match=r"'foreign' \(foreign_family:NotAFamily\) is not an aekit family class "
        r"with family = 'foreign'; fix that package",
    ):
        registry.get("foreign")
    assert {"broken", "foreign"} <= set(registry.names())  # listed still: the error comes when one is used
