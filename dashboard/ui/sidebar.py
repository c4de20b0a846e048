"""The sidebar: one widget per setting, grouped as the engine declares them (Data, Network, Training, Seeds), and
the action buttons.

The widgets are Panel's own, chosen by the setting's Parameter class and labelled as declared. They carry no
bounds of their own: whatever is typed goes to the Experiment's `set_value`, and a value it refuses keeps the last
valid one (the Experiment says why in its message); the widget then shows that value again. Changes
made elsewhere (the URL, code) flow back into the widgets. A setting that only matters for some values of
others (its declared `shown_when`) is shown only then.
"""

from __future__ import annotations

import panel as pn
import param

from engine.setting_types import Choice, Choices, FeaturePair, Integer, Number, Setting, Widths, YesNo, format_value
from engine.settings import GROUPS, SPECS

from ..session.experiment import SETTINGS, Experiment
from .dataset_picker import dataset_tiles
from .parts import LiveHTML
from .widths import WidthsEditor

INPUT_WIDTH = 128  # two inputs side by side in the sidebar
WIDE_LABEL = 14  # a choice with a longer option label takes the sidebar's full width


class PairSelect(pn.widgets.CompositeWidget):
    """Two Selects for a pair of different choices (the Iris features on x and on y)."""

    value = param.List(default=[])
    options = param.ClassSelector(class_=(list, dict), default=[])
    description = param.String(default=None, allow_None=True, doc="The tooltip of both Selects.")

    _composite_type = pn.Row

    def __init__(self, **params):
        super().__init__(**params)
        self._selects = [pn.widgets.Select(label=f"{self.label} on {axis}", options=self.options,
                                           description=self.description, sizing_mode="stretch_width", margin=(0, 4))
                         for axis in ("x", "y")]
        self._composite[:] = self._selects
        self._composite.sizing_mode = "stretch_width"
        self._show()
        for select in self._selects:
            select.param.watch(self._chosen, "value")
        self.param.watch(self._show, "value")

    def _chosen(self, event) -> None:
        self.value = [select.value for select in self._selects]

    def _show(self, *events) -> None:
        for select, chosen in zip(self._selects, self.value):
            select.value = chosen


def _widget_type(spec: Setting) -> tuple[type, dict]:
    """Panel's widget for a setting's Parameter class (by its type, most specific first), with its options."""
    if isinstance(spec, FeaturePair):
        return PairSelect, dict(options=dict(spec.names) or list(spec.objects))
    if isinstance(spec, Choices):
        return pn.widgets.CheckButtonGroup, dict(options=dict(spec.names) or list(spec.objects), color="primary",
                                                 variant="outline")
    if isinstance(spec, Choice):
        return pn.widgets.Select, dict(options=dict(spec.names) or list(spec.objects))
    if isinstance(spec, Integer):
        return pn.widgets.IntInput, dict(step=1)
    if isinstance(spec, Number):
        return pn.widgets.FloatInput, dict(step=spec.step or 0.01)
    if isinstance(spec, YesNo):
        return pn.widgets.Checkbox, {}
    return pn.widgets.TextInput, dict(placeholder="e.g. 8,8 (empty: no hidden layer)")  # hidden layer widths


def widget_value(spec: Setting, value):
    """A setting's value as its widget holds it: lists for several choices, text for layer widths."""
    if isinstance(spec, Widths):
        return format_value(value)
    return list(value) if isinstance(value, tuple) else value


def _wide(name: str) -> bool:
    spec = SPECS[name]
    return spec.many or isinstance(spec, YesNo) or (isinstance(spec, Choice) and any(
        len(label) > WIDE_LABEL for label in dict(spec.names) or spec.objects))


def setting_widget(experiment: Experiment, name: str) -> pn.widgets.Widget:
    """The widget of one setting, showing the Experiment's value; what is typed goes to `set_value`, so a refused
    value keeps the last valid one and says why (the widget shows the kept value again)."""
    spec = SPECS[name]
    kind, options = _widget_type(spec)
    size = dict(sizing_mode="stretch_width") if _wide(name) else dict(width=INPUT_WIDTH)
    # A Checkbox has no tooltip (`description`) in Panel 1.9: its label says enough, the CLI's help the rest.
    tip = dict(description=f"{spec.doc} Allowed: {spec.allowed()}.") if "description" in kind.param else {}
    widget = kind(name=spec.label, value=widget_value(spec, getattr(experiment, name)), **tip, **options, **size)

    def typed(event) -> None:
        if event.new == widget_value(spec, getattr(experiment, name)):
            return  # the Experiment's value shown again (after a refusal, or a change made elsewhere)
        if not experiment.set_value(name, event.new):
            shown = widget_value(spec, getattr(experiment, name))
            if widget.value != shown:
                widget.value = shown

    widget.param.watch(typed, "value")
    return widget


class Sidebar:
    """The settings, grouped in cards, and the action buttons (which the run bar shows, see `RunBar`)."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.widgets = {name: setting_widget(experiment, name) for name in SETTINGS}
        self._views = {name: [widget] for name, widget in self.widgets.items()}  # every widget showing a setting
        experiment.param.watch(self._resync, list(SETTINGS), precedence=1)
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
            "pause": self._pause_or_resume, "stop": experiment.stop, "reset": self._reset,
        }
        self.reset_armed = False  # Reset asks first: a first click arms it, a second one (Confirm reset) resets
        for key, action in actions.items():
            self.buttons[key].on_click(lambda event, action=action: action())
            if key != "reset":
                self.buttons[key].on_click(self._disarm)
        experiment.param.watch(self._state_changed, ["state", "has_model"])
        self._conditional = [name for name in SETTINGS if SPECS[name].shown_when]
        experiment.param.watch(self._visibility, sorted({other for name in self._conditional
                                                          for other in SPECS[name].shown_when}))
        self._grids: list = []
        self._state_changed()
        self._visibility()

    def _resync(self, *events) -> None:
        """Show each changed setting's value in all its widgets (a change from the URL, code, or another widget
        of the same setting; the Experiment puts a value that does not fit back inside its own watcher, and Panel's
        link to the tiles takes the event's value, not the parameter's, so they would show a refused dataset)."""
        for event in events:
            current = widget_value(SPECS[event.name], getattr(self.experiment, event.name))
            for widget in self._views[event.name]:
                if widget.value != current:
                    widget.value = current

    def _pause_or_resume(self) -> None:
        if self.experiment.state == "paused":
            self.experiment.resume()
        else:
            self.experiment.pause()

    def _reset(self) -> None:
        if not self.experiment.runs and not self.experiment.has_model:
            self.experiment.reset()  # nothing to lose
            return
        if self.reset_armed:
            self._disarm()
            self.experiment.reset()
            return
        self.reset_armed = True
        self.buttons["reset"].param.update(label="Confirm reset", variant="solid")
        self.experiment.param.update(message="Reset forgets the model and every run of this session (the settings "
                                             "stay). Press Confirm reset to go on, or any other button to keep them.",
                                     message_kind="warning")

    def _disarm(self, *events) -> None:
        if self.reset_armed:
            self.reset_armed = False
            self.buttons["reset"].param.update(label="Reset", variant="outline")

    def _state_changed(self, *events) -> None:
        state = self.experiment.state
        buttons = self.buttons
        buttons["pause"].label = "Resume" if state == "paused" else "Pause"
        buttons["pause"].disabled = state not in ("training", "paused")
        buttons["stop"].disabled = state not in ("training", "paused")
        buttons["continue"].disabled = not self.experiment.has_model and state == "idle"

    def _shown(self, name: str) -> bool:
        return SPECS[name].shown(self.experiment)

    def _visibility(self, *events) -> None:
        for name, grid in self._grids:  # a grid has no holes: it holds only the widgets shown
            objects = [self.widgets[n] for n in name if self._shown(n)]
            if grid.objects != objects:
                grid.objects = objects
        for name in self._conditional:
            self.widgets[name].visible = self._shown(name)

    def _wide_widget(self, name: str):
        """A wide setting's widget as the sidebar shows it: the dataset's Select with thumbnails of the datasets
        under it, the hidden widths with + / - buttons beside the text."""
        if name == "dataset":
            tiles = dataset_tiles(self.experiment)
            self._views[name].append(tiles)
            return pn.Column(self.widgets[name], tiles, sizing_mode="stretch_width", margin=0)
        if isinstance(SPECS[name], Widths):
            return WidthsEditor(self.experiment, self.widgets[name])
        return self.widgets[name]

    def panel(self) -> pn.Column:
        self._grids = []

        def grid(names):
            wide = [self._wide_widget(name) for name in names if _wide(name)]
            narrow = tuple(name for name in names if not _wide(name))
            box = pn.GridBox(*[self.widgets[n] for n in narrow if self._shown(n)], ncols=2,
                             sizing_mode="stretch_width", margin=0)
            self._grids.append((narrow, box))
            return pn.Column(*wide, box, sizing_mode="stretch_width", margin=0)

        card = dict(sizing_mode="stretch_width", margin=(4, 0), header_background="#f4f6f8")
        cards = [pn.Card(grid([name for name in SETTINGS if SPECS[name].group == group]), title=group,
                         collapsed=group == "Seeds", **card) for group in GROUPS]
        return pn.Column(*cards, sizing_mode="stretch_width", margin=0)


SPEED_LABELS = {"slow": "Slow", "normal": "Normal", "fastest": "Fastest"}
BAR_CSS = """
:host(.nnp-run-bar) { position: sticky; top: 0; z-index: 20; background: #ffffff;
                      border-bottom: 1px solid #dde3e8; padding: 4px 0; }
"""
BUTTON_CSS = """
.bk-btn:disabled, .bk-btn[disabled] { opacity: 0.4; cursor: not-allowed; filter: grayscale(0.6); }
"""


class RunBar(pn.viewable.Viewer):
    """The run controls in a bar that stays at the top of the main area: Train, Continue, Step, Pause/Resume,
    Stop, Reset, the training speed and the epoch counter."""

    def __init__(self, sidebar: Sidebar, **params) -> None:
        super().__init__(**params)
        self.experiment = e = sidebar.experiment
        self.buttons = sidebar.buttons
        for key, button in self.buttons.items():
            # No tooltips side by side: Bokeh shows a button's tooltip beside it, over its neighbour, and keeps it
            # there after a click (it took the next click). The labels say what they do; the help says the rest.
            # Reset is wide enough for its "Confirm reset".
            button.param.update(sizing_mode="fixed", width=116 if key == "reset" else 86, height=34, margin=(4, 3),
                                stylesheets=[BUTTON_CSS], description=None)
        self.speed = pn.widgets.RadioButtonGroup.from_param(
            e.param.speed, options={label: key for key, label in SPEED_LABELS.items()}, name="",
            color="default", variant="outline", margin=(4, 8), css_classes=["nnp-speed"],
            description="Training speed: slow and normal give each epoch a least time so that it can be watched; "
                        "fastest trains flat out.")
        self.counter = LiveHTML(self._count(), ".live-html { font: 13px monospace; padding-top: 10px; }",
                                css_classes=["nnp-epoch"], margin=(0, 8))
        self.counter.param.update(sizing_mode="fixed", width=130, height=34)  # as tall as the buttons beside it
        e.param.watch(self._on_epoch, ["history", "planned_epoch"])

    def _count(self) -> str:
        e = self.experiment
        done = e.history.epoch[-1] if e.history.epoch else 0
        return f"epoch {done} / {max(done, e.planned_epoch)}"

    def _on_epoch(self, *events) -> None:
        with pn.io.unlocked():
            self.counter.content = self._count()

    def __panel__(self) -> pn.FlexBox:
        b = self.buttons
        return pn.FlexBox(b["train"], b["continue"], b["step"], b["pause"], b["stop"], b["reset"], self.speed,
                          self.counter, flex_wrap="wrap", align_items="center", css_classes=["nnp-run-bar"],
                          stylesheets=[BAR_CSS], sizing_mode="stretch_width", margin=0)
