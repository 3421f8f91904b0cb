"""The package's layering holds: no import cycles, each module importable on its own, the CLI light.

The import graph counts every ``import`` statement, at module level and inside functions alike:
a cycle hidden in a function-level import is still two modules that each need the other.
"""

import ast
import os
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
                return stack[stack.index(target):] + [target]
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


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "jax") != "jax", reason="backend-independent: checked in the jax run")
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
