"""The Compare tab, headless: a note instead of empty plots with fewer than two runs, the plots once there are two,
and new plots when the choice changes."""

from __future__ import annotations

import holoviews as hv
import panel as pn

from dashboard.plots.compare import EMPTY_NOTE
from dashboard.session.experiment import Experiment
from dashboard.ui.compare_tab import CompareTab


def test_compare_tab_says_what_to_do_then_shows_the_chosen_runs():
    experiment = Experiment(dataset="toy_xor", samples=400, hidden="4", epochs=15)
    view = CompareTab(experiment)
    pn.panel(view)
    assert all(pane.object is None for pane in view.panes.values())  # no axes at all, only the note
    assert view.note.content == EMPTY_NOTE
    experiment.train()
    experiment.wait(timeout=120)
    assert all(pane.object is None for pane in view.panes.values())  # one run: still nothing to compare
    for _ in range(2):
        experiment.continue_training()
        experiment.wait(timeout=120)
    assert all(isinstance(pane.object, hv.Overlay) for pane in view.panes.values())
    assert hv.render(view.panes["a"].object).title.text.startswith("Run 2:")  # the last two by default
    assert "They predict different classes" in view.note.content or "grid" in view.note.content
    view.selects[0].value = 1
    assert view.compared == [1, 3]  # the tab's own choice
    assert hv.render(view.panes["a"].object).title.text.startswith("Run 1:")
    assert hv.render(view.panes["b"].object).title.text.startswith("Run 3:")
