"""The Baselines tab, headless: the classifiers fitted when it opens, the network's map first once trained, a refit
when the inputs or the data change, and a fit overtaken by a change of data never shown."""

from __future__ import annotations

import asyncio
import time

import holoviews as hv
import panel as pn

from dashboard.session.experiment import Experiment
from dashboard.ui.baselines_tab import BaselinesTab

LABELS = ["Logistic regression", "Nearest neighbours", "RBF SVM", "Decision tree", "Random forest"]


def titles(tab: BaselinesTab) -> list[str]:
    return [hv.render(pane.object).title.text for pane in tab.panes]


def test_the_classifiers_beside_the_network_and_refitted_when_the_inputs_change():
    experiment = Experiment(dataset="toy_xor", samples=400, hidden="4", epochs=20)
    tab = BaselinesTab(experiment)  # headless, the fit is awaited at once
    pn.panel(tab)
    assert tab.fitted is not None and tab.fitted.dataset == "toy_xor"
    shown = titles(tab)
    assert shown[0] == "Network: not trained yet"
    for title, label, result in zip(shown[1:], LABELS, tab.fitted.results):
        assert title == f"{label}: test {100 * result.test_accuracy:.1f}%"
    assert "Fitted on 300 training points; tested on 100 test points." in tab.note.content
    assert tab.table.content.count("<tr>") == 1 + 5 and "Network" not in tab.table.content

    experiment.train()
    experiment.wait(timeout=120)
    accuracy = experiment.evaluation.test_accuracy
    assert titles(tab)[0] == f"Network 4 relu: test {100 * accuracy:.1f}%"
    assert "<td><b>Network 4 relu</b></td>" in tab.table.content and "adam lr 0.005, 20 epochs" in tab.table.content

    logistic = tab.fitted.results[0].test_accuracy
    experiment.features = ("x", "y", "xy")  # logistic regression takes the network's inputs: XOR becomes linear
    assert tab.fitted.results[0].inputs == ("x", "y", "xy")
    assert logistic < 0.7 < 0.95 < tab.fitted.results[0].test_accuracy
    assert "<td>x, y, xy</td>" in tab.table.content

    experiment.dataset = "toy_ring"
    assert tab.fitted.dataset == "toy_ring" and titles(tab)[0] == "Network: not trained yet"


def test_a_fit_overtaken_by_new_data_is_dropped_and_the_new_data_fitted():
    async def scenario():
        experiment = Experiment(dataset="toy_xor", samples=1000)
        tab = BaselinesTab(experiment)  # on a running loop: the fit is scheduled, then runs in a thread
        await asyncio.sleep(0.05)
        assert tab._fitting and tab.fitted is None and "Fitting five classifiers" in tab.note.content
        assert titles(tab)[1] == "Logistic regression: fitting…"
        experiment.dataset = "toy_ring"  # while the thread fits the XOR data
        deadline = time.monotonic() + 120
        while (tab._fitting or tab.fitted is None) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return experiment, tab

    experiment, tab = asyncio.run(scenario())
    assert tab.fitted.dataset == "toy_ring" and tab._fitted_for[0] is experiment.data
    assert titles(tab)[1].startswith("Logistic regression: test ")
