"""The Evaluation tab: the train and test points on the model's class regions, right or wrong, and the train and
test confusion matrices (the report's `confusion_view`).

The point views re-render thousands of points, so while training they follow at most EVALUATION_INTERVAL apart,
always from one worker bundle (one epoch); everything is brought up to date when a run ends or pauses.
"""

from __future__ import annotations

import holoviews as hv
import panel as pn

from ..plots.data import evaluation_view
from ..plots.results import confusion_view
from ..session.experiment import Experiment
from .parts import Throttle, on_loop

EVALUATION_INTERVAL = 1.0
NO_MODEL = "**Confusion matrices** (true class down, predicted class across) appear here once a model is trained."


class EvaluationTab(pn.viewable.Viewer):
    """Right and wrong points on the class regions, and the confusion matrices, on the train and test sets."""

    def __init__(self, experiment: Experiment, **params) -> None:
        super().__init__(**params)
        self.experiment = e = experiment
        self.train_eval = pn.pane.HoloViews(None, margin=5)
        self.test_eval = pn.pane.HoloViews(None, margin=5)
        self.train_confusion = pn.pane.HoloViews(None, margin=5, css_classes=["nnp-confusion-train"])
        self.test_confusion = pn.pane.HoloViews(None, margin=5, css_classes=["nnp-confusion-test"])
        self.note = pn.pane.Markdown(NO_MODEL, margin=(4, 10), sizing_mode="stretch_width")
        # Shown and hidden as one box: `visible` set on a drawn HoloViews pane raised in Panel 1.9 (its Bokeh
        # pane took the model's ImportedStyleSheet for its `stylesheets`), which broke the settings change after it.
        self.confusions = pn.FlexBox(self.train_confusion, self.test_confusion, flex_wrap="wrap", visible=False)
        self._pipe: hv.streams.Pipe | None = None
        self._throttle = Throttle(EVALUATION_INTERVAL, self._show)
        e.param.watch(self._on_data, ["data"])
        e.param.watch(self._on_evaluation, ["evaluation", "grid"])
        e.param.watch(self._on_state, ["state"])
        self._on_data()

    @on_loop
    def _on_data(self, *events) -> None:
        self._pipe = None
        self._show()

    @on_loop
    def _on_evaluation(self, *events) -> None:
        self._throttle(force=self.experiment.state != "training")

    @on_loop
    def _on_state(self, *events) -> None:
        if self.experiment.state != "training":
            self._throttle.flush()

    def _show(self) -> None:
        e = self.experiment
        if e.grid is None or e.evaluation is None:
            self._pipe = None
            self.train_eval.object = evaluation_view(e.data, None, None, "train")
            self.test_eval.object = evaluation_view(e.data, None, None, "test")
            self.train_confusion.object = self.test_confusion.object = None
            self.confusions.visible = False
            self.note.visible = True
            return
        data = (e.data, e.grid, e.evaluation)
        if self._pipe is None:
            self._pipe = pipe = hv.streams.Pipe(data=data)
            self.train_eval.object = hv.DynamicMap(lambda data: evaluation_view(*data, "train"), streams=[pipe])
            self.test_eval.object = hv.DynamicMap(lambda data: evaluation_view(*data, "test"), streams=[pipe])
            self.train_confusion.object = hv.DynamicMap(lambda data: confusion_view(data[0], data[2], "train"),
                                                        streams=[pipe])
            self.test_confusion.object = hv.DynamicMap(lambda data: confusion_view(data[0], data[2], "test"),
                                                       streams=[pipe])
        else:
            self._pipe.send(data)
        self.confusions.visible = True
        self.note.visible = False

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.FlexBox(self.train_eval, self.test_eval, flex_wrap="wrap"),
            self.note,
            self.confusions,
            name="Evaluation", sizing_mode="stretch_width", margin=0)
