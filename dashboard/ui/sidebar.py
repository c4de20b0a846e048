"""The sidebar: one widget per setting, grouped Data / Network / Training, and the action buttons.

Widgets carry no bounds of their own: whatever is typed goes to `Experiment.set_value`, which refuses an
out-of-range value with a message; the widget then shows the last valid value again. Changes made elsewhere (the
URL, code) flow back into the widgets.
"""

from __future__ import annotations

import panel as pn
import param

from engine.features import LABELS as FEATURE_LABELS

from ..session.experiment import GROUPS, OPTION_LABELS, Experiment, HiddenLayers, describe_bounds

INPUT_WIDTH = 128  # two inputs side by side in the sidebar
# Settings that only matter for some values of others: (setting, shown when)
DEPENDS = {
    "iris_x": lambda e: e.dataset == "iris",
    "iris_y": lambda e: e.dataset == "iris",
    "samples": lambda e: e.dataset not in ("iris", "csv"),
    "momentum": lambda e: e.optimizer == "sgd",
    "reg_rate": lambda e: e.reg != "none",
    "decay_every": lambda e: e.schedule == "step",
    "decay_factor": lambda e: e.schedule == "step",
}
WIDE = {"dataset", "features", "hidden"}  # settings whose widget takes the sidebar's full width
SEEDS = ("data_seed", "split_seed", "seed")  # in a card of their own, closed at first


def _widget(experiment: Experiment, name: str) -> pn.widgets.Widget:
    parameter = experiment.param[name]
    value = getattr(experiment, name)
    common = dict(label=parameter.label, description=f"{parameter.doc} Allowed: {describe_bounds(parameter)}.")
    if name in WIDE:
        common["sizing_mode"] = "stretch_width"
    else:
        common["width"] = INPUT_WIDTH
    if isinstance(parameter, param.ListSelector):
        options = {FEATURE_LABELS.get(option, option): option for option in parameter.objects}
        return pn.widgets.CheckButtonGroup(options=options, value=list(value), color="primary",
                                           variant="outline", **common)
    if isinstance(parameter, param.Selector):
        options = {OPTION_LABELS.get(option, option): option for option in parameter.objects}
        return pn.widgets.Select(options=options, value=value, **common)
    if isinstance(parameter, param.Integer):
        return pn.widgets.IntInput(value=value, step=1, **common)
    if isinstance(parameter, param.Number):
        return pn.widgets.FloatInput(value=value, step=parameter.step or 0.01, **common)
    if isinstance(parameter, HiddenLayers):
        return pn.widgets.TextInput(value=value, placeholder="e.g. 8,8 (empty: no hidden layer)", **common)
    raise TypeError(f"no widget for {name}")


class Binding:
    """Keeps one widget and one setting in step; a refused value is put back to the last valid one."""

    def __init__(self, experiment: Experiment, name: str, widget: pn.widgets.Widget) -> None:
        self.experiment, self.name, self.widget = experiment, name, widget
        self._busy = False
        widget.param.watch(self._from_widget, "value")
        experiment.param.watch(self._from_experiment, name)

    def _from_widget(self, event) -> None:
        if self._busy:
            return
        value = event.new
        if value is None:  # an emptied number input
            self.experiment.set_text(self.name, "")
        else:
            self.experiment.set_value(self.name, list(value) if isinstance(value, (list, tuple)) else value)
        current = getattr(self.experiment, self.name)
        if current != value:
            self._show(current)

    def _from_experiment(self, event) -> None:
        if not self._busy:
            self._show(event.new)

    def _show(self, value) -> None:
        self._busy = True
        try:
            self.widget.value = list(value) if isinstance(value, (list, tuple)) else value
        finally:
            self._busy = False


class Sidebar:
    """Action buttons and the settings, grouped in cards."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.widgets = {name: _widget(experiment, name) for names in GROUPS.values() for name in names}
        self.bindings = [Binding(experiment, name, widget) for name, widget in self.widgets.items()]
        button = dict(sizing_mode="stretch_width", margin=(4, 4))
        self.buttons = {
            "train": pn.widgets.Button(label="Train", color="primary", description="Train a new model", **button),
            "continue": pn.widgets.Button(label="Continue", color="primary", variant="outline",
                                          description="Train the same model for more epochs, as a new run", **button),
            "step": pn.widgets.Button(label="Step", color="default", description="Train one epoch", **button),
            "pause": pn.widgets.Button(label="Pause", color="default", description="Pause or resume the run",
                                       **button),
            "stop": pn.widgets.Button(label="Stop", color="warning", description="End the run now", **button),
            "reset": pn.widgets.Button(label="Reset", color="danger", variant="outline",
                                       description="Forget the model and all runs", **button),
        }
        actions = {
            "train": experiment.train, "continue": experiment.continue_training, "step": experiment.step,
            "pause": self._pause_or_resume, "stop": experiment.stop, "reset": experiment.reset,
        }
        for key, action in actions.items():
            self.buttons[key].on_click(lambda event, action=action: action())
        experiment.param.watch(self._state_changed, ["state", "has_model"])
        experiment.param.watch(self._visibility, ["dataset", "optimizer", "reg", "schedule"])
        self._grids: list = []
        self._state_changed()
        self._visibility()

    def _pause_or_resume(self) -> None:
        if self.experiment.state == "paused":
            self.experiment.resume()
        else:
            self.experiment.pause()

    def _state_changed(self, *events) -> None:
        state = self.experiment.state
        buttons = self.buttons
        buttons["pause"].label = "Resume" if state == "paused" else "Pause"
        buttons["pause"].disabled = state not in ("training", "paused")
        buttons["stop"].disabled = state not in ("training", "paused")
        buttons["continue"].disabled = not self.experiment.has_model and state == "idle"

    def _shown(self, name: str) -> bool:
        return DEPENDS[name](self.experiment) if name in DEPENDS else True

    def _visibility(self, *events) -> None:
        for name, grid in self._grids:  # a grid has no holes: it holds only the widgets shown
            objects = [self.widgets[n] for n in name if self._shown(n)]
            if grid.objects != objects:
                grid.objects = objects
        for name in DEPENDS:
            self.widgets[name].visible = self._shown(name)

    def panel(self) -> pn.Column:
        self._grids = []

        def grid(names):
            wide = [self.widgets[name] for name in names if name in WIDE]
            narrow = tuple(name for name in names if name not in WIDE)
            box = pn.GridBox(*[self.widgets[n] for n in narrow if self._shown(n)], ncols=2,
                             sizing_mode="stretch_width", margin=0)
            self._grids.append((narrow, box))
            return pn.Column(*wide, box, sizing_mode="stretch_width", margin=0)

        b = self.buttons
        actions = pn.Column(
            pn.Row(b["train"], b["continue"], b["step"], sizing_mode="stretch_width", margin=0),
            pn.Row(b["pause"], b["stop"], b["reset"], sizing_mode="stretch_width", margin=0),
            sizing_mode="stretch_width", margin=(0, 0, 8, 0),
        )
        card = dict(sizing_mode="stretch_width", margin=(4, 0), header_background="#f4f6f8")
        cards = [pn.Card(grid([name for name in names if name not in SEEDS]), title=title, **card)
                 for title, names in GROUPS.items()]
        cards.append(pn.Card(grid(SEEDS), title="Seeds", collapsed=True, **card))
        return pn.Column(actions, *cards, sizing_mode="stretch_width", margin=0)
