"""The package's layering holds: no import cycles, each module importable on its own, the CLI light.

The import graph counts every ``import`` statement, at module level and inside functions alike:
a cycle hidden in a function-level import is still two modules that each need the other. The
layer table of ARCHITECTURE.md is checked against the same graph: every module sits in exactly one
layer, and imports only from its own layer and the layers it knows about (and theirs, up the table).
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import aekit

PACKAGE = Path(aekit.__file__).parent


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def module_file(name: str) -> Path:
    base = PACKAGE.parent.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def imports_of(name: str, known: set[str]) -> set[str]:
    """The aekit modules ``name`` imports anywhere in its source."""
    path = module_file(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {m for m in found if m in known and m != name}


def find_cycle(graph: dict[str, set[str]]):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycles():
    names = module_names()
    graph = {name: imports_of(name, set(names)) for name in names}
    assert graph["aekit.models.base"] >= {"aekit.persistence", "aekit.training"}  # the parser sees imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "jax") != "jax", reason="backend-independent: checked in the jax run"
)
def test_every_module_imports_alone_in_a_fresh_interpreter():
    from concurrent.futures import ThreadPoolExecutor

    def import_alone(name):  # one fresh interpreter per module; as many at once as there are cores
        result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=120)
        last_line = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        return None if result.returncode == 0 else f"{name}: {last_line}"

    names = [name for name in module_names() if not name.endswith("__main__")]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        failures = [failure for failure in pool.map(import_alone, names) if failure]
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- the layer table of ARCHITECTURE.md

ARCHITECTURE = PACKAGE.parents[1] / "ARCHITECTURE.md"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _outside_parentheses(text: str) -> str:
    """``text`` without its parenthesised remarks, which mention names that are not entries."""
    while True:
        shorter = re.sub(r"\([^()]*\)", "", text)
        if shorter == text:
            return text
        text = shorter


def layer_table() -> list[tuple[str, list[str], list[str]]]:
    """``(layer, module entries, layers it knows about)`` for each row of the table under "## The layers"."""
    text = ARCHITECTURE.read_text()
    assert "\n## The layers\n" in text, f"{ARCHITECTURE} has no '## The layers' section"
    section = text.split("\n## The layers\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines and _cells(lines[0]) == ["layer", "modules", "knows about"], "the layer table's header changed"
    rows = []
    for line in lines[2:]:
        layer, modules, knows = _cells(line)
        entries = re.findall(r"`([^`]+)`", _outside_parentheses(modules))
        known = [] if knows.startswith("nothing") else [name.strip() for name in knows.split(",")]
        rows.append((layer, entries, known))
    return rows


def entry_module(entry: str) -> tuple[str, bool]:
    """The module a table entry names, and whether it covers the modules inside it (a package).

    ``datasets`` or ``models/`` is a package with all its modules; ``cli/parser`` one module;
    ``cli/__init__`` the package ``aekit.cli`` alone; ``__init__`` the package ``aekit`` alone.
    """
    name = entry.removesuffix(".py").rstrip("/")
    if name == "__init__" or name.endswith("/__init__"):
        return ".".join(["aekit", *name.split("/")[:-1]]), False
    return ".".join(["aekit", *name.split("/")]), PACKAGE.joinpath(*name.split("/")).is_dir()


def layers_of_modules(names: list[str], table) -> dict[str, set[str]]:
    """Each module -> the layers whose entries cover it (a module the table misses: an empty set)."""
    covering = {name: set() for name in names}
    for layer, entries, _ in table:
        for entry in entries:
            module, whole_package = entry_module(entry)
            for name in names:
                if name == module or (whole_package and name.startswith(module + ".")):
                    covering[name].add(layer)
    return covering


def allowed_layers(table) -> dict[str, set[str]]:
    """Each layer -> the layers it may import: its own, those it knows about and what they know about."""
    knows = {layer: set(known) for layer, _, known in table}
    allowed = {}
    for layer, known in knows.items():
        reach, todo = {layer}, list(known)
        while todo:
            other = todo.pop()
            if other not in reach:
                reach.add(other)
                todo.extend(knows.get(other, ()))
        allowed[layer] = reach
    return allowed


def layer_violations(graph: dict[str, set[str]], table) -> list[str]:
    """One line per problem: the table itself, a module in no layer or two, an import of a layer below."""
    order = [layer for layer, _, _ in table]
    problems = []
    for position, (layer, entries, known) in enumerate(table):
        for other in known:
            if other not in order[:position]:
                problems.append(f"the {layer} layer knows about {other!r}, which is not a layer above it in the table")
        for entry in entries:
            module, _ = entry_module(entry)
            if not module_file(module).exists():
                problems.append(
                    f"the {layer} layer lists `{entry}`, but there is no module {module}: rename or remove it"
                )
    covering = layers_of_modules(sorted(graph), table)
    for name, layers in covering.items():
        if not layers:
            problems.append(f"{name} is in no layer: add it to the row of its layer in ARCHITECTURE.md's table")
        elif len(layers) > 1:
            problems.append(f"{name} is listed in {len(layers)} layers ({', '.join(sorted(layers))}): keep it in one")
    allowed = allowed_layers(table)
    for name in sorted(graph):
        if len(covering[name]) != 1:
            continue
        (layer,) = covering[name]
        for target in sorted(graph[name]):
            if len(covering.get(target, ())) != 1:
                continue
            (target_layer,) = covering[target]
            if target_layer not in allowed[layer]:
                where = (
                    "a layer below it"
                    if order.index(target_layer) > order.index(layer)
                    else "a layer it does not know about"
                )
                may = ", ".join(other for other in order if other in allowed[layer])
                problems.append(
                    f"{name} ({layer}) imports {target} ({target_layer}), {where}: "
                    f"the {layer} layer imports only from {may}"
                )
    return problems


def test_every_module_sits_in_one_layer_and_imports_only_from_the_layers_above():
    """ARCHITECTURE.md's layer table, checked: every import (module- or function-level) goes up the table."""
    names = module_names()
    graph = {name: imports_of(name, set(names)) for name in names}
    table = layer_table()
    assert [layer for layer, _, _ in table][:2] == ["foundations", "data"] and len(table) >= 6  # the parser read it
    problems = layer_violations(graph, table)
    assert not problems, f"{ARCHITECTURE.name}'s layer table does not hold:\n" + "\n".join(problems)


def test_the_layer_check_catches_a_bad_import_and_a_module_left_out():
    """The check itself, on the real table: an import down the table and a new module are both named."""
    names = module_names()
    graph = {name: set() for name in names}
    table = layer_table()
    graph["aekit.errors"] = {"aekit.runs"}  # foundations reaching up into the uses layer
    graph["aekit.brand_new"] = set()
    problems = layer_violations(graph, table)
    assert any(
        p.startswith("aekit.errors (foundations) imports aekit.runs (uses), a layer below it") for p in problems
    ), problems
    assert "aekit.brand_new is in no layer: add it to the row of its layer in ARCHITECTURE.md's table" in problems
