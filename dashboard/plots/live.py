"""The live figures, in plain Bokeh: decision map, exact target and the loss and accuracy curves.

These change up to ~15 times a second while training, so they are Bokeh figures whose data sources are updated
in place (new arrays for the image, `source.stream` for the curves), not HoloViews DynamicMaps. Measured with
`python bench/live_plots.py --updates 40 --seconds 8` (2026-11-30, this 2-core machine shared with other work,
load 2-3; panel 1.9.4, holoviews 1.23.2, bokeh 3.9.2): one 3x64 tanh run on toy_xor, each update replayed into
a Bokeh Document as a served session gets it, server ms per update (model changes + the PATCH-DOC message):

    plot (per update)                 in-place Bokeh            hv.DynamicMap + stream
    decision map 100x100 (Pipe)       0.9 ms  (~1100/s), 43 kB  115 ms  (8.7/s), 43 kB
    decision map 200x200 (Pipe)       1.7 ms   (~580/s), 164 kB 122 ms  (8.2/s), 164 kB
    curves, 10 new epochs (Buffer)    0.6 ms  (~1600/s), 1 kB    98 ms (10.2/s), 2 kB
    network diagram 3x16 (Pipe)       4.2 ms   (~240/s), 75 kB  1540 ms (0.6/s), 316 kB

With the app's schedule in one process (a worker thread training while the map is drawn up to 15/s and the
curves 4/s; training alone: 113 epochs/s):

    map Bokeh, curves Bokeh           15.1 maps/s, 4.0 curves/s, 108 epochs/s
    map HoloViews, curves HoloViews    1.7 maps/s, 1.7 curves/s,  12 epochs/s
    map Bokeh, curves HoloViews       14.4 maps/s, 4.0 curves/s,  31 epochs/s

A second run 20 minutes later, with the machine busier (load 3-4.5), gave the same order, further apart: map
100x100 1.8 ms against 256 ms (3.9/s), curves 0.6 ms against 162 ms, diagram 8 ms against 2.9 s; served
(training alone 36 epochs/s): all Bokeh 15.1 maps/s and 36 epochs/s, all HoloViews 0.8 maps/s and 7 epochs/s,
Bokeh map with HoloViews curves 2.2 maps/s and 11 epochs/s.

By the rule (HoloViews where it keeps >= 10 map updates/s) the map stays Bokeh: a DynamicMap re-runs HoloViews'
element and plot pipeline per frame (20-27 ms for the Image alone in a separate try, more for the contour and the
point layers of the overlay): under 10/s here even with nothing else in the process, and 1-2/s beside the training
thread, with which it shares the GIL. The curves on a Buffer kept the Bokeh map at 14/s on the quieter machine
but not on the busier one (2.2/s), and their ~100 ms of Python per update slowed the training 3.5 times (31
against 108 epochs/s): they stay Bokeh too. So does the live network diagram (1.5-2.9 s per update as a
DynamicMap). Everything drawn once per run or less is HoloViews (`views.py`, `data.py`, `compare.py`,
`network.network_view`, the report).
Each object belongs to one Bokeh document: build them per session, never at import time.
"""

from __future__ import annotations

import numpy as np
from bokeh.core.properties import value
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    HoverTool,
    Label,
    Legend,
    LegendItem,
    LinearColorMapper,
    Range1d,
    Span,
)
from bokeh.plotting import figure
from bokeh.transform import linear_cmap

from engine import Dataset, History
from engine.evaluation import GridMap, grid_points

from .geometry import (  # noqa: F401
    EMPTY_MARKS,
    MAX_MAP_POINTS,
    contour_lines,
    mark_size,
    padded_box,
    point_marks,
)
from .style import (
    CLASS_COLORS,
    CONTOUR_COLOR,
    CURVE_HEIGHT,
    MAP_SIZE,
    REGION_COLORS,
    probability_palette,
    run_color,
)

TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
MAX_CURVE_POINTS = 1000  # per run and curve; beyond it the curve is thinned to every 2nd, 4th, ... epoch


GROW_WIDTH, GROW_HEIGHT = MAP_SIZE + 110, MAP_SIZE + 62  # a growing map's shape: a square frame with axes around


def _square(title: str, dataset: Dataset, grow: bool = False) -> figure:
    """A map's figure: a frame of MAP_SIZE pixels, or (grow) one that scales with the width it is given."""
    (x0, x1), (y0, y1) = padded_box(dataset)
    size = (dict(width=GROW_WIDTH, height=GROW_HEIGHT, sizing_mode="scale_width") if grow
            else dict(frame_width=MAP_SIZE, frame_height=MAP_SIZE))
    fig = figure(
        title=title, **size, tools=TOOLS, toolbar_location="right",
        x_range=Range1d(x0, x1), y_range=Range1d(y0, y1), x_axis_label=dataset.axis_labels[0],
        y_axis_label=dataset.axis_labels[1],
    )
    fig.toolbar.logo = None
    fig.toolbar.autohide = True
    fig.grid.visible = False
    return fig


def _set_box(fig: figure, dataset: Dataset) -> None:
    (x0, x1), (y0, y1) = padded_box(dataset)
    fig.x_range.update(start=x0, end=x1)
    fig.y_range.update(start=y0, end=y1)
    fig.xaxis.axis_label, fig.yaxis.axis_label = dataset.axis_labels


def _image_data(values: np.ndarray | None, dataset: Dataset) -> dict[str, list]:
    (x0, x1), (y0, y1) = dataset.box
    if values is None:
        values = np.full((2, 2), np.nan, dtype=np.float32)
    return {"image": [np.asarray(values, dtype=np.float32)], "x": [x0], "y": [y0], "dw": [x1 - x0], "dh": [y1 - y0]}


class DecisionMap:
    """The model's class-1 probability over the data's box, shaded blue-white-red, with its 0.5 contour, and
    the training points (circles) and test points (triangles) on it, the ones the model gets wrong as crosses.

    View options: `discretize` shows the predicted class regions instead of the probability, `show_test` and
    `mark_wrong` show the test points and the crosses."""

    EMPTY_TITLE = "Model: none yet (press Train)"

    def __init__(self, dataset: Dataset, name: str = "decision-map", grow: bool = False) -> None:
        """`name` prefixes the names of its data sources (unique per page: tests and probes find them by it);
        `grow`: the figure scales with the width it is given (else its frame is MAP_SIZE pixels)."""
        self.dataset = dataset
        self.grid: GridMap | None = None
        self.evaluation = None
        self.discretize, self.mark_wrong = False, True
        self.image = ColumnDataSource(_image_data(None, dataset), name=f"{name}-image")
        self.contour = ColumnDataSource({"xs": [], "ys": []})
        self.marks = {(which, kind): ColumnDataSource(dict(EMPTY_MARKS), name=f"{name}-{which}-{kind}")
                      for which in ("train", "test") for kind in ("right", "wrong")}
        self.figure = fig = _square(self.EMPTY_TITLE, dataset, grow)
        self.mapper = mapper = LinearColorMapper(palette=probability_palette(), low=0.0, high=1.0, nan_color="#ffffff")
        image = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=mapper)
        fig.multi_line(xs="xs", ys="ys", source=self.contour, line_color=CONTOUR_COLOR, line_width=2)
        classes = linear_cmap("label", list(CLASS_COLORS), 0, 1)
        self.renderers = {}
        for (which, kind), source in self.marks.items():
            style = (dict(marker="x", size=9, line_color=classes, line_width=2) if kind == "wrong" else
                     dict(marker="circle" if which == "train" else "triangle", fill_color=classes,
                          line_color="#222222", line_width=0.5))
            self.renderers[which, kind] = renderer = fig.scatter("x", "y", source=source, name=f"{name}-{which}-{kind}-marks",
                                                                 **style)
            fig.add_tools(HoverTool(renderers=[renderer], tooltips=f"{which} point of class @label{{0}}"
                                                                   + (": wrong" if kind == "wrong" else "")))
        fig.add_tools(HoverTool(renderers=[image], tooltips=[("x", "$x{0.000}"), ("y", "$y{0.000}"),
                                                             ("model", "@image{0.000}")]))
        bar = ColorBar(color_mapper=mapper, width=8, padding=4, ticker=BasicTicker(desired_num_ticks=3),
                       major_label_text_font_size="9px")
        fig.add_layout(bar, "right")
        self.set_dataset(dataset)

    def set_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        _set_box(self.figure, dataset)
        size = mark_size(dataset)
        for (_, kind), renderer in self.renderers.items():
            if kind == "right":
                renderer.glyph.size = size
                renderer.glyph.line_width = 0.5 if size > 4 else 0.2
        self.show(None)
        self.show_points(None)

    def set_view(self, discretize: bool, show_test: bool, mark_wrong: bool) -> None:
        """Apply the view options (only what changed is sent to the browser)."""
        for kind in ("right", "wrong"):
            self.renderers["test", kind].visible = show_test
        if mark_wrong != self.mark_wrong:
            self.mark_wrong = mark_wrong
            self.show_points(self.evaluation)
        if discretize != self.discretize:
            self.discretize = discretize
            self.mapper.palette = list(REGION_COLORS) if discretize else probability_palette()
            self.show(self.grid)

    def show(self, grid: GridMap | None) -> None:
        self.grid = grid
        if grid is None:
            self.image.data = _image_data(None, self.dataset)
            self.contour.data = {"xs": [], "ys": []}
            self.figure.title.text = self.EMPTY_TITLE
            return
        self.image.data = _image_data(grid.prediction if self.discretize else grid.probability, self.dataset)
        self.contour.data = contour_lines(grid)
        when = "Model" if grid.epoch is None else f"Model at epoch {grid.epoch}"  # the epoch the map belongs to
        self.figure.title.text = when + (": predicted class regions" if self.discretize else ": P(class 1), 0.5 contour")

    def show_points(self, evaluation) -> None:
        """Mark the points the model gets right or wrong (`evaluation`, None: no model yet)."""
        self.evaluation = evaluation
        for which in ("train", "test"):
            correct = None if evaluation is None or not self.mark_wrong else getattr(evaluation, f"{which}_correct")
            self.marks[which, "right"].data, self.marks[which, "wrong"].data = point_marks(self.dataset, which, correct)


class TargetMap:
    """What the model should find: the exact target region (toy data) or all the points, with the model's contour."""

    def __init__(self, dataset: Dataset, grow: bool = False) -> None:
        self.image = ColumnDataSource(_image_data(None, dataset))
        self.points = ColumnDataSource({"x": [], "y": [], "color": []})
        self.contour = ColumnDataSource({"xs": [], "ys": []})
        self.figure = fig = _square("", dataset, grow)
        mapper = LinearColorMapper(palette=list(REGION_COLORS), low=0.0, high=1.0, nan_color="#ffffff")
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=mapper)
        fig.scatter(x="x", y="y", color="color", source=self.points, size=4, alpha=0.8)
        fig.multi_line(xs="xs", ys="ys", source=self.contour, line_color=CONTOUR_COLOR, line_width=2, line_dash="dashed")
        self.set_dataset(dataset)

    def set_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        _set_box(self.figure, dataset)
        if dataset.exact is not None:
            xs, ys, points = grid_points(dataset.box, 200)
            self.image.data = _image_data(dataset.exact(points).reshape(len(ys), len(xs)), dataset)
            self.points.data = {"x": [], "y": [], "color": []}
        else:
            self.image.data = _image_data(None, dataset)
            colors = np.where(dataset.labels >= 0.5, CLASS_COLORS[1], CLASS_COLORS[0])
            self.points.data = {"x": dataset.points[:, 0], "y": dataset.points[:, 1], "color": colors}
        self.show(None)

    def show(self, grid: GridMap | None) -> None:
        self.contour.data = contour_lines(grid) if grid is not None else {"xs": [], "ys": []}
        if self.dataset.exact is None:
            self.figure.title.text = "All points; model's contour dashed"
        elif grid is None or grid.agreement is None:
            self.figure.title.text = "Exact target (red: class 1)"
        else:
            self.figure.title.text = f"Exact target: {100 * grid.agreement:.1f}% agreement"


EMPTY_CURVES = {key: [] for key in ("epoch", "loss", "test_loss", "train", "test", "run")}
SLOTS = 10  # runs drawable without adding models to the page (adding them re-indexes the whole document)


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
            "loss": HoverTool(renderers=[], tooltips=[("", "@run"), ("epoch", "@epoch"), ("training loss", "@loss{0.0000}"),
                                                      ("test loss", "@test_loss{0.0000}")], line_policy="nearest"),
            "accuracy": HoverTool(renderers=[], tooltips=[("", "@run"), ("epoch", "@epoch"), ("training", "@train{0.0}%"),
                                                          ("test", "@test{0.0}%")], line_policy="nearest"),
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
        self.hover["loss"].renderers = [*self.hover["loss"].renderers, *(r for slot in slots for r in slot.renderers[:2])]
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
