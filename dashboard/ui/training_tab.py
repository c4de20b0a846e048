"""The main area's header (status, state, message, hints) and the Training tab, each a `pn.viewable.Viewer`
following the result parameters of one experiment.

One epoch per frame: `Experiment.poll` sets one worker bundle's map, points' correctness and history in one batch,
and the tab redraws them in one watcher call, so what is on screen belongs to one epoch (the map's title names it).
The runs table is redrawn at most TABLE_INTERVAL apart; everything is brought up to date when a run ends or pauses.
"""

from __future__ import annotations

import html

import panel as pn

from ..plots.live import GROW_HEIGHT, GROW_WIDTH, DecisionMap, TargetMap
from ..plots.live_curves import Curves
from ..plots.style import CURVE_CSS, TABLE_CSS
from ..session.experiment import Experiment
from ..session.runs import cell_text, runs_table
from .hints_box import HintsBox
from .parts import LiveHTML, MessageBox, StatusLine, Throttle, on_loop
from .view_options import OPTIONS, ViewOptions

TABLE_INTERVAL = 0.5
STATE_CSS = ".live-html { font-size: 13px; }"
# The maps grow with the window: two side by side share the main area's width (the curves wrap below them), each
# at least MAP_MIN and at most MAP_MAX pixels wide, and no taller than the window leaves under the bars above them
# (MAP_TOP pixels).
MAP_MIN, MAP_MAX, MAP_TOP = 300, 760, 350  # MAP_TOP: with a two-line message shown
MAP_CSS = (f".nnp-map {{ flex: 1 1 max({MAP_MIN}px, 45%) !important; width: auto !important; min-width: {MAP_MIN}px; "
           f"max-width: min({MAP_MAX}px, calc((100vh - {MAP_TOP}px) * {GROW_WIDTH / GROW_HEIGHT:.3f})); }}")


class Header(pn.viewable.Viewer):
    """The notebook's status line over a progress bar, the line saying what the run is doing, the message and the
    hints about the last run (`open_compare`: what their Try-it buttons call once the variant has trained)."""

    def __init__(self, experiment: Experiment, open_compare=None, **params) -> None:
        super().__init__(**params)
        self.experiment = e = experiment
        self.status = StatusLine(text=html.escape(self._status_text()))
        self.state = LiveHTML(self._state_html(), STATE_CSS, css_classes=["nnp-state"], margin=(2, 5))
        self.message = MessageBox()
        self.hints = HintsBox(e, open_compare)
        e.param.watch(self._on_status, ["status", "progress"])
        e.param.watch(self._on_state, ["state", "runs"])
        e.param.watch(self._on_message, ["message", "message_kind"])
        self.hints.param.watch(self._on_message, ["hints"])
        self._on_message()

    @on_loop
    def _on_status(self, *events) -> None:
        self.status.param.update(text=html.escape(self._status_text()), progress=self.experiment.progress)

    @on_loop
    def _on_state(self, *events) -> None:
        self.state.content = self._state_html()

    @on_loop
    def _on_message(self, *events) -> None:
        e = self.experiment
        shown = "" if e.message in self.hints.messages() else e.message  # said once, by the hint (the baseline's)
        self.message.param.update(text=html.escape(shown, quote=False), kind=e.message_kind)

    def _status_text(self) -> str:
        return self.experiment.status or "No epoch trained yet: choose the settings and press Train."

    def _state_html(self) -> str:
        e = self.experiment
        if not e.runs:
            return "Blue: class 0, red: class 1. The dotted line in the accuracy plot is the majority-class baseline."
        run = e.runs[-1]
        state = {"training": "training…", "stopping": "stopping…", "paused": "paused: Resume or Step"}.get(e.state)
        ended = state or {"finished": f"finished in {run['seconds']:.2f} s"}.get(run["ended"], run["ended"])
        return html.escape(f"Run {run['run']}", quote=False).join(("<b>", "</b>")) + html.escape(
            f" (model {run['model']}, {run['dataset']}, hidden {cell_text('hidden', run['hidden'])}, "
            f"{run['activation']}, "
            f"{run['optimizer']} lr {run['lr']:g}): {ended}",
            quote=False,
        )

    def __panel__(self) -> pn.Column:
        return pn.Column(self.status, self.state, self.message, self.hints, sizing_mode="stretch_width", margin=0)


class TrainingTab(pn.viewable.Viewer):
    """The decision map with the points, the exact target, the loss and accuracy curves, and the runs table."""

    def __init__(self, experiment: Experiment, **params) -> None:
        super().__init__(**params)
        self.experiment = e = experiment
        self.options = ViewOptions()
        self.map = DecisionMap(e.data, grow=True)
        self.target = TargetMap(e.data, grow=True)
        self.curves = Curves()
        self.curves.set_baseline(e.data.majority_share("test"))
        self.table = LiveHTML("", TABLE_CSS, css_classes=["nnp-runs"], margin=(10, 5))
        self._table = Throttle(TABLE_INTERVAL, self._show_runs)
        e.param.watch(self._on_data, ["data"])
        e.param.watch(self._on_epoch, ["grid", "evaluation", "history"])
        e.param.watch(self._on_runs, ["runs"])
        e.param.watch(self._on_state, ["state"])
        e.param.watch(self._on_span, ["planned_epoch"])
        self.options.param.watch(self._on_options, list(OPTIONS))
        self._on_data()
        self._show_runs()

    @on_loop
    def _on_data(self, *events) -> None:
        data = self.experiment.data
        self.map.set_dataset(data)
        self.target.set_dataset(data)
        self.curves.set_baseline(data.majority_share("test"))
        self._on_epoch()

    @on_loop
    def _on_epoch(self, *events) -> None:
        """The map, its crosses, the agreement and the curves of one epoch, redrawn in one go (one poll)."""
        e = self.experiment
        self.map.show(e.grid)
        self.map.show_points(e.evaluation)
        self.target.show(e.grid)
        self.curves.update(e.history)

    @on_loop
    def _on_options(self, *events) -> None:
        o = self.options
        self.map.set_view(discretize=o.discretize, show_test=o.show_test, mark_wrong=o.mark_wrong)
        self.target.figure.visible = o.show_target  # the pane's own `visible` fails here (a Panel stylesheet error)

    @on_loop
    def _on_span(self, *events) -> None:
        self.curves.set_span(self.experiment.planned_epoch)

    @on_loop
    def _on_runs(self, *events) -> None:
        self._table(force=self.experiment.state != "training")

    @on_loop
    def _on_state(self, *events) -> None:
        if self.experiment.state != "training":
            self._table.flush()

    def _show_runs(self) -> None:
        self.table.content = runs_table(self.experiment.runs)

    def __panel__(self) -> pn.FlexBox:
        """Maps and curves; the curves wrap below the maps on a narrow screen and sit beside them on a wide one."""
        def curve(fig):
            return pn.Column(pn.pane.Bokeh(fig, sizing_mode="stretch_width", margin=5), css_classes=["nnp-curve"],
                             sizing_mode="stretch_width", margin=0)

        def square(fig):
            return pn.Column(pn.pane.Bokeh(fig, sizing_mode="scale_width", margin=5), css_classes=["nnp-map"],
                             sizing_mode="stretch_width", margin=0)

        return pn.FlexBox(
            self.options.panel(), square(self.map.figure), square(self.target.figure),
            curve(self.curves.loss), curve(self.curves.accuracy),
            self.table, flex_wrap="wrap", gap="0px", sizing_mode="stretch_width", name="Training",
            stylesheets=[CURVE_CSS, MAP_CSS],
        )
