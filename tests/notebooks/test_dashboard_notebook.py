"""The notebook that shows the dashboard runs under nbclient, and its live training reaches the last epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "dashboard.ipynb"


@pytest.mark.timeout(300)
def test_dashboard_notebook_executes_and_trains_live():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert "from dashboard.ui import playground; playground()" in notebook.cells[0].source
    client = nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    # The dashboard itself is displayed (Panel's mimebundle), not a repr string.
    display = notebook.cells[1].outputs
    assert any("application/vnd.holoviews_load.v0+json" in output.get("data", {})
               or "application/vnd.holoviews_exec.v0+json" in output.get("data", {}) for output in display)
    printed = "".join(output.get("text", "") for output in notebook.cells[3].outputs)
    assert "Epoch 400/400 |" in printed
    live_updates = int(printed.split("\n")[1].split()[0])
    assert live_updates >= 1  # the run reached the parameters through the periodic callback, not a wait()
