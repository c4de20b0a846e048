"""The figures comparing two runs, for the Compare tab and the report.

The figures are plain Bokeh, updated in place when a run ends or the choice changes (as in figures.py): the two
final decision maps, a map of where their predicted classes differ (with both 0.5 contours), their loss and
accuracy curves over each run's own epochs (counted from the run's first), and a table of settings, results,
time per epoch and parameter count, the rows that differ in bold.
"""

from __future__ import annotations

import html

import numpy as np
from bokeh.core.properties import value
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    HoverTool,
    Legend,
    LegendItem,
    LinearColorMapper,
    Range1d,
)
from bokeh.plotting import figure

from ..session.comparison import Comparison, MapArea, RunResult
from .live import TOOLS, contour_lines, padded_box
from .style import CONTOUR_COLOR, CURVE_HEIGHT, MAP_SIZE, RUN_COLORS, TABLE_CSS, probability_palette, run_color

DIFF_COLORS = ("#ffffff", "#6a3d9a")  # agree, differ
COMPARE_MAP_SIZE = MAP_SIZE - 40  # three maps side by side on a 1366 px wide screen
UNIT = MapArea(((0.0, 1.0), (0.0, 1.0)), ("x", "y"))
COMPARE_CSS = TABLE_CSS + """
tr:last-child td { font-weight: normal; }
td:first-child { text-align: left; color: #555; }
"""
NOTE_CSS = ".live-html { font-size: 13px; color: #333; padding: 2px 0; }"
EMPTY_NOTE = "Train at least two runs (Train, Continue or Step): each one that ends or pauses can be compared here."


def _square(title: str) -> figure:
    fig = figure(title=title, frame_width=COMPARE_MAP_SIZE, frame_height=COMPARE_MAP_SIZE, tools=TOOLS,
                 toolbar_location="right",
                 x_range=Range1d(0, 1), y_range=Range1d(0, 1))
    fig.toolbar.logo = None
    fig.toolbar.autohide = True
    fig.grid.visible = False
    return fig


def _image(values: np.ndarray | None, frame: MapArea) -> dict[str, list]:
    (x0, x1), (y0, y1) = frame.box
    if values is None:
        values = np.full((2, 2), np.nan, dtype=np.float32)
    return {"image": [np.asarray(values, dtype=np.float32)], "x": [x0], "y": [y0], "dw": [x1 - x0], "dh": [y1 - y0]}


def _set_frame(fig: figure, frame: MapArea) -> None:
    (x0, x1), (y0, y1) = padded_box(frame)
    fig.x_range.update(start=x0, end=x1)
    fig.y_range.update(start=y0, end=y1)
    fig.xaxis.axis_label, fig.yaxis.axis_label = frame.axis_labels


def _colors(comparison: Comparison) -> tuple[str, str]:
    first, second = run_color(comparison.first.number), run_color(comparison.second.number)
    if first == second:
        second = RUN_COLORS[(RUN_COLORS.index(first) + 1) % len(RUN_COLORS)]
    return first, second


class RunMap:
    """One run's final map: probability shaded blue-white-red and its 0.5 contour."""

    def __init__(self, name: str) -> None:
        self.image = ColumnDataSource(_image(None, UNIT), name=f"nnp-compare-{name}-image")
        self.contour = ColumnDataSource({"xs": [], "ys": []})
        self.figure = fig = _square("")
        fig.name = f"nnp-compare-{name}"
        mapper = LinearColorMapper(palette=probability_palette(), low=0.0, high=1.0, nan_color="#ffffff")
        image = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=mapper)
        fig.multi_line(xs="xs", ys="ys", source=self.contour, line_color=CONTOUR_COLOR, line_width=2)
        fig.add_tools(HoverTool(renderers=[image], tooltips=[("x", "$x{0.000}"), ("y", "$y{0.000}"),
                                                             ("P(class 1)", "@image{0.000}")]))
        fig.add_layout(ColorBar(color_mapper=mapper, width=8, padding=4, ticker=BasicTicker(desired_num_ticks=3),
                                major_label_text_font_size="9px"), "right")

    def show(self, result: RunResult | None, color: str = CONTOUR_COLOR) -> None:
        if result is None:
            self.image.data = _image(None, UNIT)
            self.contour.data = {"xs": [], "ys": []}
            self.figure.title.text = "No run chosen"
            return
        _set_frame(self.figure, result.area)
        self.image.data = _image(result.grid.probability, result.area)
        self.contour.data = contour_lines(result.grid)
        self.figure.title.text = f"Run {result.number}: test accuracy {100 * result.test_accuracy:.1f}%"
        self.figure.title.text_color = color


class DisagreementMap:
    """Where two runs predict different classes (purple), with both runs' 0.5 contours."""

    def __init__(self) -> None:
        self.image = ColumnDataSource(_image(None, UNIT), name="nnp-compare-diff-image")
        self.contours = [ColumnDataSource({"xs": [], "ys": []}) for _ in range(2)]
        self.figure = fig = _square("")
        fig.name = "nnp-compare-diff"
        mapper = LinearColorMapper(palette=list(DIFF_COLORS), low=0.0, high=1.0, nan_color="#f4f4f4")
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=mapper)
        self.lines = [fig.multi_line(xs="xs", ys="ys", source=source, line_width=2, line_dash=dash)
                      for source, dash in zip(self.contours, ("solid", "dashed"))]
        self.items = [LegendItem(label=value(""), renderers=[line]) for line in self.lines]
        fig.add_layout(Legend(items=self.items, location="top_right", background_fill_alpha=0.7,
                              label_text_font_size="10px", spacing=0, padding=4))

    def show(self, comparison: Comparison | None) -> None:
        if comparison is None or comparison.differs is None:
            self.image.data = _image(None, UNIT)
            for source in self.contours:
                source.data = {"xs": [], "ys": []}
            for item in self.items:
                item.label = value("")
            self.figure.title.text = "Disagreement: no map" if comparison is not None else "Disagreement"
            return
        _set_frame(self.figure, comparison.first.area)
        self.image.data = _image(comparison.differs, comparison.first.area)
        for source, line, item, result, color in zip(self.contours, self.lines, self.items,
                                                     (comparison.first, comparison.second), _colors(comparison)):
            source.data = contour_lines(result.grid)
            line.glyph.line_color = color
            item.label = value(f"run {result.number}")
        self.figure.title.text = f"Disagreement: {100 * comparison.share:.1f}% of the grid"


class RunCurves:
    """Loss and accuracy of the two runs over each run's own epochs (training solid, test dashed)."""

    def __init__(self) -> None:
        common = dict(height=CURVE_HEIGHT, sizing_mode="stretch_width", tools=TOOLS, toolbar_location="above",
                      x_axis_label="Epoch of the run")
        self.loss = figure(title="Loss: training (solid) and test (dashed)", y_axis_label="Binary cross-entropy",
                           name="nnp-compare-loss", **common)
        self.accuracy = figure(title="Accuracy: training (solid) and test (dashed)", y_axis_label="Accuracy [%]",
                               name="nnp-compare-accuracy", y_range=Range1d(0, 105), **common)
        self.sources = [ColumnDataSource(self._data(None), name=f"nnp-compare-curves-{side}") for side in "ab"]
        self.items, self.lines = [], []
        for fig, (train, test), where in ((self.loss, ("loss", "test_loss"), "top_right"),
                                          (self.accuracy, ("train", "test"), "bottom_right")):
            fig.toolbar.logo = None
            fig.toolbar.autohide = True
            items = []
            for source in self.sources:
                lines = [fig.line("epoch", key, source=source, line_width=2, line_dash=dash)
                         for key, dash in ((train, "solid"), (test, "dashed"))]
                self.lines.append(lines)
                items.append(LegendItem(label=value(""), renderers=lines))
            self.items.append(items)
            fig.add_layout(Legend(items=items, location=where, click_policy="hide", background_fill_alpha=0.7,
                                  label_text_font_size="10px", spacing=0, padding=4))
            fig.add_tools(HoverTool(renderers=[line for pair in self.lines[-2:] for line in pair], tooltips=[
                ("", "@run"), ("epoch of the run", "@epoch"), ("model's epoch", "@model_epoch"),
                ("training", f"@{train}{{0.000}}"), ("test", f"@{test}{{0.000}}")], line_policy="nearest"))

    @staticmethod
    def _data(result: RunResult | None) -> dict[str, list]:
        if result is None:
            return {key: [] for key in ("epoch", "model_epoch", "loss", "test_loss", "train", "test", "run")}
        c = result.curves
        return {"epoch": c["epoch"] - result.first_epoch + 1, "model_epoch": c["epoch"], "loss": c["loss"],
                "test_loss": c["test_loss"], "train": 100 * c["train_accuracy"], "test": 100 * c["test_accuracy"],
                "run": [f"run {result.number}"] * len(c["epoch"])}

    def show(self, comparison: Comparison | None) -> None:
        results = (None, None) if comparison is None else (comparison.first, comparison.second)
        colors = (CONTOUR_COLOR,) * 2 if comparison is None else _colors(comparison)
        for side, (source, result, color) in enumerate(zip(self.sources, results, colors)):
            source.data = self._data(result)
            for lines in (self.lines[side], self.lines[2 + side]):
                for line in lines:
                    line.glyph.line_color = color
            for items in self.items:
                items[side].label = value("" if result is None else f"run {result.number}")


class CompareFigures:
    """All the figures of one comparison."""

    def __init__(self) -> None:
        self.maps = (RunMap("a"), RunMap("b"))
        self.disagreement = DisagreementMap()
        self.curves = RunCurves()

    def show(self, comparison: Comparison | None) -> None:
        colors = (CONTOUR_COLOR,) * 2 if comparison is None else _colors(comparison)
        results = (None, None) if comparison is None else (comparison.first, comparison.second)
        for run_map, result, color in zip(self.maps, results, colors):
            run_map.show(result, color)
        self.disagreement.show(comparison)
        self.curves.show(comparison)


def comparison_table(comparison: Comparison) -> str:
    """The two runs' settings and results as an HTML table, one column per run, the rows that differ in bold."""
    first, second = comparison.first.facts(), comparison.second.facts()

    def cell(key: str, text: str) -> str:  # <b>, not a class: Panel strips attributes from a pane's HTML
        text = html.escape(text)
        return f"<td><b>{text}</b></td>" if first[key] != second[key] and key != "run" else f"<td>{text}</td>"

    head = f"<th></th><th>run {first['run']}</th><th>run {second['run']}</th>"
    body = "".join(f"<tr><td>{html.escape(key)}</td>{cell(key, first[key])}{cell(key, second[key])}</tr>"
                   for key in first if first[key] or second[key])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def comparison_note(comparison: Comparison | None) -> str:
    if comparison is None:
        return html.escape(EMPTY_NOTE)
    share = "" if comparison.share is None else (
        f"<b>They predict different classes on {100 * comparison.share:.1f}% of the grid.</b> ")
    return share + html.escape(comparison.note)


