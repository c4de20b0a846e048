"""The lesson and quickstart notebooks run top to bottom in a fresh kernel (this Python, through nbclient) and
show what their text says they show."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL = "nn-playground-tests"
LESSONS = ("classification_demo", "quickstart")


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernel spec that runs this very Python (the project's venv), whatever kernels the machine has."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / KERNEL).mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "nn-playground tests", "language": "python"}
    (folder / KERNEL / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(folder)])


def execute(name: str, specs: KernelSpecManager, folder: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
    client = NotebookClient(notebook, km=manager, timeout=300, allow_errors=False,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    return notebook


def text_of(notebook) -> str:
    """Everything the code cells printed, and the plain-text form of what they displayed."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif "text/plain" in output.get("data", {}):
                parts.append(output.data["text/plain"])
    return "\n".join(parts)


def tables_of(notebook) -> list[str]:
    """The HTML tables the cells displayed (pandas DataFrames)."""
    return [output.data["text/html"] for cell in notebook.cells for output in cell.get("outputs", [])
            if "<table" in output.get("data", {}).get("text/html", "")]


def test_notebooks_are_stored_without_outputs():
    for name in LESSONS:
        path = NOTEBOOKS / f"{name}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), path.name


def test_quickstart_trains_maps_serves_and_reports(kernel_specs, tmp_path):
    notebook = execute("quickstart", kernel_specs, tmp_path)
    printed = text_of(notebook)
    assert "Epoch 300/300 | loss = " in printed
    assert "always answering the most common class: 50.8%" in printed
    agreement = float(re.search(r"agrees with the exact target on ([\d.]+)%", printed)[1])
    assert agreement > 90  # the XOR network solves it
    report = tmp_path / "quickstart_report.html"
    assert report.is_file() and "nn-playground report: Toy dataset: XOR" in report.read_text(encoding="utf-8")


def test_lesson_runs_and_ends_with_the_five_exercises(kernel_specs, tmp_path):
    notebook = execute("classification_demo", kernel_specs, tmp_path)
    printed = text_of(notebook)
    # The teaching notebook's run: 200 epochs of the 2-4-1 ReLU network, no better than answering class 0.
    assert "Epoch 200/200 | loss = 0.5830 | train acc =  73.3% | test acc =  73.3%" in printed
    assert "always answering the most common class: 73.3% of the test set" in printed
    assert "training set: 3000 points" in printed and "test set:     1000 points" in printed

    headings = [cell.source.splitlines()[0] for cell in notebook.cells if cell.cell_type == "markdown"]
    exercises = [heading for heading in headings if re.match(r"### \d\. ", heading)]
    assert [heading[:6] for heading in exercises] == [f"### {n}." for n in range(1, 6)]
    for heading in exercises:  # each exercise is followed by the cell that sets up its comparison
        index = next(i for i, cell in enumerate(notebook.cells) if cell.source.startswith(heading))
        assert notebook.cells[index + 1].cell_type == "code" and "compare(" in notebook.cells[index + 1].source

    tables = tables_of(notebook)
    assert len(tables) == 5
    for table, words in zip(tables, [
        ("as_provided", "big_network_few_noisy_points"),
        ("wider", "deeper", "deeper_faster_longer"),
        ("relu", "tanh", "sigmoid", "elu", "linear"),
        ("toy_easy", "toy_hard", "toy_xor", "toy_cross", "toy_ring", "iris"),
        ("sepal_length / sepal_width", "petal_length / petal_width"),
    ]):
        assert all(word in table for word in words), words
        assert "majority %" in table and "test acc %" in table
