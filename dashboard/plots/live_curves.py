"""The live loss and accuracy curves, in plain Bokeh: every run of the current model on one continuing epoch axis.

They grow up to 4 times a second while training, so new epochs are streamed into each run's data source: a
HoloViews `Buffer` costs ~100 ms of server Python per update and slowed training 3.5 times (docs/performance.md).
Build them per session, never at import time.
"""

from __future__ import annotations

from bokeh.core.properties import value
from bokeh.models import (
    ColumnDataSource,
    HoverTool,
    Label,
    Legend,
    LegendItem,
    Range1d,
    Span,
)
from bokeh.plotting import figure

from engine import History

from .live import TOOLS
from .style import CURVE_HEIGHT, run_color

MAX_CURVE_POINTS = 1000  # per run and curve; beyond it the curve is thinned to every 2nd, 4th, ... epoch


EMPTY_CURVES = {key: [] for key in ("epoch", "loss", "test_loss", "train", "test", "run")}
SLOTS = 3  # runs drawn before more lines are added to the page (a re-index of its models, once per 3 runs);
# more at first would cost every new page ~0.1 s of server CPU (bench/page_build.py)


class _RunLines:
    """One run's data source and its lines (a slot, reused by the next model), and how densely it is drawn."""

    def __init__(self, curves: Curves) -> None:
        self.source = ColumnDataSource(dict(EMPTY_CURVES))
        self.number = 0
        self.stride = 1
        self.fresh = True  # the next data replace the source's (streaming into a just reset source duplicates)
        self.renderers = []
        self.items = []
        for name, fig, train, test in (("loss", curves.loss, "loss", "test_loss"),
                                       ("accuracy", curves.accuracy, "train", "test")):
            solid = fig.line("epoch", train, source=self.source, line_width=2)
            dashed = fig.line("epoch", test, source=self.source, line_width=2, line_dash="dashed")
            item = LegendItem(label=value(""), renderers=[solid, dashed], visible=False)
            self.renderers += [solid, dashed]
            self.items.append((name, item))

    def assign(self, number: int) -> None:
        self.number, self.stride, self.fresh = number, 1, True
        color = run_color(number)
        for renderer in self.renderers:
            renderer.glyph.line_color = color
        for _, item in self.items:
            item.update(label=value(f"run {number}"), visible=True)

    def release(self) -> None:
        self.number = 0
        self.fresh = True
        self.source.data = dict(EMPTY_CURVES)
        for _, item in self.items:
            item.visible = False

    def add(self, rows: dict[str, list]) -> None:
        epochs = rows["epoch"]
        keep = [i for i, epoch in enumerate(epochs) if epoch % self.stride == 0]
        if not keep or keep[-1] != len(epochs) - 1:
            keep.append(len(epochs) - 1)  # always reach the newest epoch
        new = {
            "epoch": [epochs[i] for i in keep],
            "loss": [rows["loss"][i] for i in keep],
            "test_loss": [rows["test_loss"][i] for i in keep],
            "train": [100 * rows["train_accuracy"][i] for i in keep],
            "test": [100 * rows["test_accuracy"][i] for i in keep],
            "run": [f"run {self.number}"] * len(keep),
        }
        if self.fresh:
            self.source.data = new
            self.fresh = False
        else:
            self.source.stream(new)
        if len(self.source.data["epoch"]) > MAX_CURVE_POINTS:
            self.stride *= 2
            data = self.source.data
            last = len(data["epoch"]) - 1
            keep = [i for i, epoch in enumerate(data["epoch"]) if epoch % self.stride == 0 or i == last]
            self.source.data = {key: [values[i] for i in keep] for key, values in data.items()}


class Curves:
    """Loss and accuracy of every run of the current model on one continuing epoch axis (test dashed)."""

    def __init__(self) -> None:
        common = dict(height=CURVE_HEIGHT, sizing_mode="stretch_width", tools=TOOLS, toolbar_location="above",
                      x_axis_label="Epoch")
        # Fixed ranges, moved only when a run starts or the loss exceeds the top: an auto-ranged axis would be
        # laid out again at every update, which costs the browser more than drawing the lines.
        self.loss = figure(title="Loss: training (solid) and test (dashed)", y_axis_label="Binary cross-entropy",
                           x_range=Range1d(0, 10), y_range=Range1d(0, 1), **common)
        self.accuracy = figure(title="Accuracy: training (solid) and test (dashed)", y_axis_label="Accuracy [%]",
                               x_range=self.loss.x_range, y_range=Range1d(0, 105), **common)
        self.legends = {}
        for name, fig, where in (("loss", self.loss, "top_right"), ("accuracy", self.accuracy, "bottom_right")):
            fig.toolbar.logo = None
            fig.toolbar.autohide = True
            legend = Legend(items=[], location=where, click_policy="hide", background_fill_alpha=0.7,
                            label_text_font_size="10px", spacing=0, padding=4)
            fig.add_layout(legend)
            self.legends[name] = legend
        self.hover = {
            "loss": HoverTool(
                renderers=[],
                tooltips=[
                    ("", "@run"),
                    ("epoch", "@epoch"),
                    ("training loss", "@loss{0.0000}"),
                    ("test loss", "@test_loss{0.0000}"),
                ],
                line_policy="nearest",
            ),
            "accuracy": HoverTool(
                renderers=[],
                tooltips=[("", "@run"), ("epoch", "@epoch"), ("training", "@train{0.0}%"), ("test", "@test{0.0}%")],
                line_policy="nearest",
            ),
        }
        self.loss.add_tools(self.hover["loss"])
        self.accuracy.add_tools(self.hover["accuracy"])
        self.baseline = Span(location=50, dimension="width", line_color="#777777", line_dash="dotted", line_width=2,
                             visible=False)
        # At the right end, under the line: where a learning model's curves have risen above it.
        self.baseline_label = Label(x=10, y=50, x_offset=-4, y_offset=-3, text_align="right", text_baseline="top",
                                    text="", text_font_size="10px",
                                    text_color="#555555", visible=False)
        self.accuracy.add_layout(self.baseline)
        self.accuracy.add_layout(self.baseline_label)
        self._slots: list[_RunLines] = []
        self._runs: dict[int, _RunLines] = {}
        self._consumed = 0
        self._last_drawn = 0
        self._history: History | None = None
        self._add_slots(SLOTS)

    def _add_slots(self, count: int) -> None:
        slots = [_RunLines(self) for _ in range(count)]
        self._slots += slots
        for name in ("loss", "accuracy"):
            self.legends[name].items = [*self.legends[name].items,
                                        *(item for slot in slots for key, item in slot.items if key == name)]
        self.hover["loss"].renderers = [
            *self.hover["loss"].renderers,
            *(r for slot in slots for r in slot.renderers[:2]),
        ]
        self.hover["accuracy"].renderers = [*self.hover["accuracy"].renderers,
                                            *(r for slot in slots for r in slot.renderers[2:])]

    def set_baseline(self, share: float | None) -> None:
        """The accuracy of always answering the most common class: what any model must beat."""
        visible = share is not None
        self.baseline.visible = self.baseline_label.visible = visible
        if visible:
            self.baseline.location = self.baseline_label.y = 100 * share
            self.baseline_label.text = f"majority class: {100 * share:.1f}%"

    def set_span(self, last_epoch: int) -> None:
        """Let the epoch axis reach `last_epoch` (the planned end of the current run)."""
        end = max(10, last_epoch, self._last_drawn)
        if end != self.loss.x_range.end:
            self.loss.x_range.update(start=0, end=end)
            self.baseline_label.x = end

    def clear(self) -> None:
        self.loss.y_range.update(start=0, end=1)
        for slot in self._runs.values():
            slot.release()
        self._runs = {}
        self._consumed = 0
        self._last_drawn = 0

    def update(self, history: History) -> None:
        """Draw the epochs of `history` not drawn yet; another (or a shorter) history starts over."""
        total = len(history)
        if history is not self._history or total < self._consumed:
            self.clear()
            self._history = history
        if total == self._consumed:
            return
        start, self._consumed = self._consumed, total
        runs = history.run
        index = start
        while index < total:
            number = runs[index]
            end = index
            while end < total and runs[end] == number:
                end += 1
            rows = {key: getattr(history, key)[index:end]
                    for key in ("epoch", "loss", "test_loss", "train_accuracy", "test_accuracy")}
            self._lines(number).add(rows)
            index = end
        self._last_drawn = history.epoch[-1]
        top = max(max(history.loss[start:]), max(history.test_loss[start:]))
        if top > self.loss.y_range.end:
            self.loss.y_range.end = float(f"{1.15 * top:.2g}")
        if self._last_drawn > self.loss.x_range.end:
            self.set_span(self._last_drawn)

    def _lines(self, number: int) -> _RunLines:
        if number not in self._runs:
            free = [slot for slot in self._slots if slot.number == 0]
            if not free:
                self._add_slots(SLOTS)
                free = [slot for slot in self._slots if slot.number == 0]
            free[0].assign(number)
            self._runs[number] = free[0]
        return self._runs[number]
