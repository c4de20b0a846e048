"""The Compare tab: two Selects of the session's runs (default: the last two) and their comparison.

The plots are HoloViews (plots/compare.py), built anew when a run ends or the choice changes: that happens a few
times a session, so replacing each pane's object (~0.1 s of server time for the five) costs less than keeping
them in place would complicate. With fewer than two runs the plots are gone and the note says what to do.
"""

from __future__ import annotations

import panel as pn
import param

from ..plots.compare import (
    COMPARE_CSS,
    NOTE_CSS,
    compare_views,
    comparison_note,
    comparison_table,
)
from ..plots.style import CURVE_CSS
from ..session.comparison import chosen_pair, compare
from ..session.experiment import Experiment
from .parts import LiveHTML, on_loop


class CompareTab(pn.viewable.Viewer):
    """The Compare tab of one experiment: two Selects of runs (default: the last two) and the comparison. The
    choice is the tab's own (`compared`): the experiment's runs flow in, nothing flows back."""

    compared = param.List(default=[], doc="The two runs chosen to compare ([]: the last two).")

    def __init__(self, experiment: Experiment, **params) -> None:
        super().__init__(**params)
        self.experiment = experiment
        self.panes = {key: pn.pane.HoloViews(None, margin=5) for key in ("a", "b", "diff")}
        self.panes.update({key: pn.pane.HoloViews(None, sizing_mode="stretch_width", margin=5)
                           for key in ("loss", "accuracy")})
        select = dict(options={}, width=380, margin=(5, 10))
        self.selects = (pn.widgets.Select(label="Run A", **select), pn.widgets.Select(label="Run B", **select))
        self.note = LiveHTML("", NOTE_CSS, css_classes=["nnp-compare-note"], margin=(2, 10))
        self.table = LiveHTML("", COMPARE_CSS, css_classes=["nnp-compare-table"], margin=(10, 10))
        self._busy = False
        for widget in self.selects:
            widget.param.watch(self._chosen, "value")
        experiment.param.watch(self._refresh, ["results"])
        self.param.watch(self._refresh, ["compared"])
        self._refresh()
        self._layout = self._arrange()

    def _chosen(self, event) -> None:
        first, second = (widget.value for widget in self.selects)
        if not self._busy and first is not None and second is not None:
            self.compared = [first, second]

    @on_loop
    def _refresh(self, *events) -> None:
        results = self.experiment.results
        pair = chosen_pair(results, self.compared)
        options = {results[number].label(): number for number in sorted(results, reverse=True)}
        self._busy = True
        try:
            for widget, number in zip(self.selects, pair or (None, None)):
                widget.param.update(options=options, value=number, disabled=pair is None)
        finally:
            self._busy = False
        comparison = compare(results[pair[0]], results[pair[1]]) if pair else None
        views = compare_views(comparison) if comparison is not None else {}
        for key, pane in self.panes.items():
            pane.object = views.get(key)
        self.note.content = comparison_note(comparison)
        self.table.content = "" if comparison is None else comparison_table(comparison)

    def __panel__(self) -> pn.Column:
        return self._layout

    def _arrange(self) -> pn.Column:
        """The tab. The curves sit in flex boxes as in the Training tab (a Row of two stretching plots inside the
        template lays out nothing at all: every plot of the tab stays blank)."""
        p = self.panes

        def curve(pane):
            return pn.Column(pane, css_classes=["nnp-curve"], sizing_mode="stretch_width", margin=0)

        figures = pn.FlexBox(p["a"], p["b"], p["diff"], curve(p["loss"]), curve(p["accuracy"]), flex_wrap="wrap",
                             gap="0px", sizing_mode="stretch_width", margin=0, stylesheets=[CURVE_CSS])
        return pn.Column(pn.Row(*self.selects, margin=0), self.note, figures, self.table,
                         sizing_mode="stretch_width", margin=0, name="Compare")
