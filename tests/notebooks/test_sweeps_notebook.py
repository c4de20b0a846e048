"""The sweeps notebook runs top to bottom in a fresh kernel (nbclient), answers each of the lesson's five questions
and the seeds question with one sweep, and is stored without outputs."""

from __future__ import annotations

import re

import nbformat
import pytest

from engine.lessons import QUESTIONS

from tests.notebooks.test_lesson_notebooks import (  # noqa: F401 (fixture)
    NOTEBOOKS,
    execute,
    kernel_specs,
    text_of,
)

pytestmark = pytest.mark.timeout(600)


def test_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOKS / "sweeps.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_each_question_has_a_sweep_and_a_reading(kernel_specs, tmp_path):  # noqa: F811
    notebook = execute("sweeps", kernel_specs, tmp_path)
    cells = notebook.cells
    headings = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.startswith("### ")]
    assert [cells[i].source.split()[1] for i in headings] == ["1.", "2.", "3.", "4.", "5.", "Seeds:"]
    for i in headings:  # the question, one sweep, its output, then one reading in markdown
        assert cells[i + 1].cell_type == "code" and "weep" in cells[i + 1].source and cells[i + 1].outputs
        assert cells[i + 2].cell_type == "markdown" and cells[i + 2].source.startswith("*Reading it:*")
    printed = text_of(notebook)
    assert len(re.findall(r"^Best: .* points from its baseline.*\.$", printed, re.MULTILINE)) == 5
    for question in QUESTIONS.values():  # the app's lesson questions, the same sweeps
        assert question.question in printed
