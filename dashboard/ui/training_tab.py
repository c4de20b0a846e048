"""The main area's views of one experiment, each following the result parameters it shows.

While training, the status line, progress bar and decision map follow every poll (paced by the browser, see
live_link.py); the curves at most CURVE_INTERVAL apart, the runs table TABLE_INTERVAL, the exact-target comparison
and the evaluation (which re-renders thousands of points) once a second. Repainting a Bokeh figure costs the
browser far more than the data it shows, so views that change less often than the map leave it more frames.
Everything is brought up to date when a run ends or pauses.
"""

from __future__ import annotations

import html

import holoviews as hv
import panel as pn

from ..plots.data import dataset_view, evaluation_view, split_views
from ..plots.live import Curves, DecisionMap, TargetMap
from ..plots.style import CURVE_CSS, TABLE_CSS
from ..session.experiment import Experiment
from ..session.runs import cell_text, runs_table
from .parts import LiveHTML, MessageBox, StatusLine, Throttle, on_loop
from .view_options import OPTIONS, ViewOptions

CURVE_INTERVAL = 0.25
TABLE_INTERVAL = 0.5
TARGET_INTERVAL = 1.0
EVALUATION_INTERVAL = 1.0
STATE_CSS = ".live-html { font-size: 13px; }"


class MainViews:
    """Status, plots and the runs table of one experiment."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = e = experiment
        self.status = StatusLine(text=html.escape(self._status_text()))
        self.state = LiveHTML(self._state_html(), STATE_CSS, css_classes=["nnp-state"], margin=(2, 5))
        self.message = MessageBox()
        self.options = ViewOptions()
        self.map = DecisionMap(e.data)
        self.target = TargetMap(e.data)
        self.curves = Curves()
        self.curves.set_baseline(e.data.majority_share("test"))
        self.data_view = pn.pane.HoloViews(None, margin=5)
        self.train_view = pn.pane.HoloViews(None, margin=5)
        self.test_view = pn.pane.HoloViews(None, margin=5)
        self.train_eval = pn.pane.HoloViews(None, margin=5)
        self.test_eval = pn.pane.HoloViews(None, margin=5)
        self.table = LiveHTML("", TABLE_CSS, css_classes=["nnp-runs"], margin=(10, 5))
        self._throttles = {
            "curves": Throttle(CURVE_INTERVAL, lambda: self.curves.update(self.experiment.history)),
            "table": Throttle(TABLE_INTERVAL, self._show_runs),
            "target": Throttle(TARGET_INTERVAL, lambda: self.target.show(self.experiment.grid)),
            "evaluation": Throttle(EVALUATION_INTERVAL, self._show_evaluation),
        }
        self._eval_pipe: hv.streams.Pipe | None = None
        e.param.watch(self._on_status, ["status", "progress"])
        e.param.watch(self._on_state, ["state"])
        e.param.watch(self._on_message, ["message", "message_kind"])
        e.param.watch(self._on_data, ["data"])
        e.param.watch(self._on_grid, ["grid"])
        e.param.watch(self._on_evaluation, ["evaluation"])
        e.param.watch(self._on_history, ["history"])
        e.param.watch(self._on_runs, ["runs"])
        e.param.watch(self._on_span, ["planned_epoch"])
        self.options.param.watch(self._on_options, list(OPTIONS))
        self._on_data()
        self._on_message()
        self._show_runs()

    # ----- reactions -----
    @on_loop
    def _on_status(self, *events) -> None:
        self.status.param.update(text=html.escape(self._status_text()), progress=self.experiment.progress)

    @on_loop
    def _on_state(self, *events) -> None:
        self.state.content = self._state_html()
        if self.experiment.state != "training":
            for throttle in self._throttles.values():
                throttle.flush()

    def _later(self, name: str) -> None:
        """Update a throttled view now if it is due (or nothing is training), else at its next turn."""
        self._throttles[name](force=self.experiment.state != "training")

    @on_loop
    def _on_message(self, *events) -> None:
        e = self.experiment
        self.message.param.update(text=html.escape(e.message, quote=False), kind=e.message_kind)

    @on_loop
    def _on_data(self, *events) -> None:
        data = self.experiment.data
        self.map.set_dataset(data)
        self.target.set_dataset(data)
        self.curves.set_baseline(data.majority_share("test"))
        self.data_view.object = dataset_view(data)
        self.train_view.object, self.test_view.object = split_views(data)
        self._eval_pipe = None
        self._show_evaluation()

    @on_loop
    def _on_options(self, *events) -> None:
        o = self.options
        self.map.set_view(discretize=o.discretize, show_test=o.show_test, mark_wrong=o.mark_wrong)
        self.target.figure.visible = o.show_target  # the pane's own `visible` fails here (a Panel stylesheet error)

    @on_loop
    def _on_span(self, *events) -> None:
        self.curves.set_span(self.experiment.planned_epoch)

    @on_loop
    def _on_grid(self, *events) -> None:
        self.map.show(self.experiment.grid)
        self._later("target")

    @on_loop
    def _on_evaluation(self, *events) -> None:
        self._later("evaluation")

    @on_loop
    def _on_history(self, *events) -> None:
        self._later("curves")

    @on_loop
    def _on_runs(self, *events) -> None:
        self._later("table")
        self.state.content = self._state_html()

    # ----- rendering -----
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
            f" (model {run['model']}, {run['dataset']}, hidden {cell_text('hidden', run['hidden'])}, {run['activation']}, "
            f"{run['optimizer']} lr {run['lr']:g}): {ended}", quote=False)

    def _show_runs(self) -> None:
        self.table.content = runs_table(self.experiment.runs)

    def _show_evaluation(self) -> None:
        e = self.experiment
        self.map.show_points(e.evaluation)
        if e.grid is None or e.evaluation is None:
            self._eval_pipe = None
            self.train_eval.object = evaluation_view(e.data, None, None, "train")
            self.test_eval.object = evaluation_view(e.data, None, None, "test")
            return
        data = (e.data, e.grid, e.evaluation)
        if self._eval_pipe is None:
            self._eval_pipe = pipe = hv.streams.Pipe(data=data)
            self.train_eval.object = hv.DynamicMap(lambda data: evaluation_view(*data, "train"), streams=[pipe])
            self.test_eval.object = hv.DynamicMap(lambda data: evaluation_view(*data, "test"), streams=[pipe])
        else:
            self._eval_pipe.send(data)

    # ----- arrangement -----
    def header(self) -> pn.Column:
        return pn.Column(self.status, self.state, self.message, sizing_mode="stretch_width", margin=0)

    def training_tab(self) -> pn.FlexBox:
        """Maps and curves; the curves wrap below the maps on a narrow screen and sit beside them on a wide one."""
        def curve(fig):
            return pn.Column(pn.pane.Bokeh(fig, sizing_mode="stretch_width", margin=5), css_classes=["nnp-curve"],
                             sizing_mode="stretch_width", margin=0)

        return pn.FlexBox(
            self.options.panel(), pn.pane.Bokeh(self.map.figure, margin=5), pn.pane.Bokeh(self.target.figure, margin=5),
            curve(self.curves.loss), curve(self.curves.accuracy),
            self.table, flex_wrap="wrap", gap="0px", sizing_mode="stretch_width", name="Training",
            stylesheets=[CURVE_CSS],
        )

    def evaluation_tab(self) -> pn.FlexBox:
        return pn.FlexBox(self.train_eval, self.test_eval, flex_wrap="wrap", name="Evaluation")

    def data_tab(self) -> pn.FlexBox:
        return pn.FlexBox(self.data_view, self.train_view, self.test_view, flex_wrap="wrap", name="Data")
