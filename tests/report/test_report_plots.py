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
    # 3 data, 2 curves, map and target, the network, 2 evaluations, 2 confusions, 3 compare maps, 2 compare curves
    assert len(plots) == 17 and all(isinstance(pane.object, hv.core.Dimensioned) for pane in plots)
