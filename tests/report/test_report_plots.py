"""What the report's plots are built from: HoloViews for every plot but the snapshot player (Bokeh with a CustomJS
slider, which saves 13 times faster than a HoloMap embed: see plots/results.py)."""

from __future__ import annotations

import holoviews as hv
import panel as pn

from dashboard.report import build_report
from dashboard.report.sections import report_comparison
from dashboard.session.experiment import Experiment


def panes(layout):
    for item in layout.objects:
        if isinstance(item, pn.layout.ListLike):
            yield from panes(item)
        else:
            yield item


def test_every_report_plot_but_the_snapshot_player_is_holoviews():
    experiment = Experiment(dataset="toy_xor", samples=500, hidden="4", activation="tanh", lr=0.02, epochs=20)
    experiment.train()
    experiment.wait(timeout=120)
    experiment.continue_training()
    experiment.wait(timeout=120)
    comparison = report_comparison(experiment)
    assert comparison is not None
    page = build_report(experiment.trainer, comparison=comparison)
    shown = list(panes(page))
    bokeh = [pane for pane in shown if isinstance(pane, pn.pane.Bokeh)]
    assert [pane.css_classes for pane in bokeh] == [["nnp-snapshots"]]
    plots = [pane for pane in shown if isinstance(pane, pn.pane.HoloViews)]
    # 3 data, 2 curves, map and target, the network, 2 evaluations, 2 confusions, 6 baseline maps (the network's
    # and five classifiers'), 3 compare maps, 2 compare curves
    assert len(plots) == 23 and all(isinstance(pane.object, hv.core.Dimensioned) for pane in plots)


def test_the_report_sets_the_network_beside_classic_classifiers():
    experiment = Experiment(dataset="toy_xor", samples=400, hidden="4", features=("x", "y", "xy"), epochs=20)
    experiment.train()
    experiment.wait(timeout=120)
    page = build_report(experiment.trainer)
    numbers = page.report_numbers["baselines"]
    assert [row["name"] for row in numbers["classifiers"]] == ["logistic", "knn", "svm", "tree", "forest"]
    assert numbers["classifiers"][0]["inputs"] == ["x", "y", "xy"] and numbers["fit_points"] == 300
    assert all("seconds" not in row for row in numbers["classifiers"])  # the numbers are the same every time
    tables = [pane.object for pane in panes(page) if "nnp-baselines" in (pane.css_classes or [])]
    assert len(tables) == 1 and "<td><b>Network 4 relu</b></td>" in tables[0]
    titles = [hv.render(pane.object).title.text for pane in panes(page) if isinstance(pane, pn.pane.HoloViews)]
    accuracy = experiment.evaluation.test_accuracy
    assert f"Network 4 relu: test {100 * accuracy:.1f}%" in titles
    assert f"Random forest: test {100 * numbers['classifiers'][4]['test_accuracy']:.1f}%" in titles
    assert "## Against classic classifiers" in "".join(str(pane.object) for pane in panes(page))
    assert build_report(experiment.trainer, baselines=False).report_numbers["baselines"] is None
