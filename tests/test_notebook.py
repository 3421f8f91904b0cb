"""examples/lesson.ipynb runs top to bottom, in a fresh kernel, and draws its figures inline."""

import os
import sys
import time
from pathlib import Path

import pytest

import aekit

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "lesson.ipynb"
pytestmark = pytest.mark.slow  # a kernel runs the whole lesson (a minute)


def test_the_lesson_notebook_runs_without_error(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[test]')")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[test]')")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell("import sys, keras; print(sys.executable, keras.backend.backend(), aekit.__file__)")
    )
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    # the kernel is this interpreter, importing this aekit, on this test run's Keras backend
    source = str(Path(aekit.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    env.pop("MPLBACKEND", None)  # the notebook draws inline
    start = time.perf_counter()
    client.execute(env=env)  # raises CellExecutionError, naming the cell, on any error
    seconds = time.perf_counter() - start

    kernel = notebook.cells.pop().outputs[0]["text"].split()
    backend = os.environ.get("KERAS_BACKEND", "jax")
    assert kernel == [sys.executable, backend, aekit.__file__], (
        "the kernel must run this interpreter, backend and aekit"
    )
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(figures) >= 12, f"expected the lesson's figures inline, got {len(figures)}"
    assert not [output for output in outputs if output.output_type == "error"]
    print(f"lesson.ipynb ran in {seconds:.0f} s on {backend}")  # a figure to read, not a timed assertion
