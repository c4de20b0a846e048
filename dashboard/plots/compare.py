"""The plots comparing two runs, for the Compare tab and the report, as HoloViews elements (`compare_views`).

The two final decision maps, a map of where their predicted classes differ, their curves over each run's own epochs,
and a table whose differing rows are bold. Built anew when a run ends or the choice changes (no in-place updates).
The Bokeh models are named `nnp-compare-*` by a plot hook (`named`), for the browser tests and probes.
"""

from __future__ import annotations

import html

import holoviews as hv
import numpy as np

from ..session.comparison import Comparison, RunResult
from .style import (
    CONTOUR_COLOR,
    CURVE_HEIGHT,
    MAP_SIZE,
    RUN_COLORS,
    TABLE_CSS,
    run_color,
)
from .views import contour, frame, probability_image

DIFF_COLORS = ("#ffffff", "#6a3d9a")  # agree, differ
COMPARE_MAP_SIZE = MAP_SIZE - 60  # three maps side by side on a 1366 px wide screen (toolbars above)
COMPARE_CSS = TABLE_CSS + """
tr:last-child td { font-weight: normal; }
td:first-child { text-align: left; color: #555; }
"""
NOTE_CSS = ".live-html { font-size: 13px; color: #333; padding: 2px 0; }"
EMPTY_NOTE = "Train at least two runs (Train, Continue or Step): each one that ends or pauses can be compared here."


def named(figure: str | None = None, source: str | None = None, title_color: str | None = None):
    """A plot hook naming the Bokeh figure and/or the element's data source (and colouring the title)."""
    def hook(plot, element):
        if figure is not None:
            plot.state.name = figure
        if source is not None:
            plot.handles["source"].name = source
        if title_color is not None:
            plot.state.title.text_color = title_color
    return hook


def contour_legend(lines: list[tuple[str, str, str]]):
    """A plot hook adding a legend for the contours (HoloViews draws none for Paths): (label, colour, dash) each.

    Each item is drawn from a line of its own at NaN (not drawn on the map): Bokeh draws a legend marker from the
    first row of its renderer's data, and a run whose map has no 0.5 contour has a Path with no rows."""
    def hook(plot, element):
        from bokeh.models import Legend, LegendItem

        figure = plot.state
        if any(isinstance(item, Legend) for item in figure.center):
            return
        items = [LegendItem(label=label, renderers=[figure.line([np.nan], [np.nan], line_color=color, line_dash=dash,
                                                                line_width=2)])
                 for label, color, dash in lines]
        figure.add_layout(Legend(items=items, location="top_right", background_fill_alpha=0.7,
                                 label_text_font_size="10px", spacing=0, padding=4))
    return hook


def _colors(comparison: Comparison) -> tuple[str, str]:
    first, second = run_color(comparison.first.number), run_color(comparison.second.number)
    if first == second:
        second = RUN_COLORS[(RUN_COLORS.index(first) + 1) % len(RUN_COLORS)]
    return first, second


def run_map(result: RunResult, name: str = "a", color: str = CONTOUR_COLOR) -> hv.Overlay:
    """One run's final map: probability shaded blue-white-red and its 0.5 contour; the title in the run's colour."""
    image = probability_image(result.grid, result.area).opts(hooks=[named(source=f"nnp-compare-{name}-image")])
    overlay = hv.Overlay([image, contour(result.grid, result.area)])
    title = f"Run {result.number}: test accuracy {100 * result.test_accuracy:.1f}%"
    return frame(overlay, result.area, title, COMPARE_MAP_SIZE).opts(
        toolbar="above", hooks=[named(figure=f"nnp-compare-{name}", title_color=color)])


def disagreement_map(comparison: Comparison) -> hv.Overlay:
    """Where two runs predict different classes (purple), with both runs' 0.5 contours (solid, dashed)."""
    first, second = comparison.first, comparison.second
    area = first.area
    x, y = area.axis_labels
    if comparison.differs is None:
        (x0, x1), (y0, y1) = area.box
        layers = [hv.Text((x0 + x1) / 2, (y0 + y1) / 2, "different grids:\nno map", kdims=[x, y])
                  .opts(text_font_size="11pt", text_color="#555555")]
        title = "Disagreement: no map"
        lines = []
    else:
        image = hv.Image((first.grid.xs, first.grid.ys, comparison.differs.astype(np.float32)), kdims=[x, y],
                         vdims=[hv.Dimension("differs", range=(0.0, 1.0))]).opts(
            cmap=list(DIFF_COLORS), clim=(0, 1), tools=["hover"], hooks=[named(source="nnp-compare-diff-image")])
        lines = [(f"run {result.number}", color, dash)
                 for result, color, dash in zip((first, second), _colors(comparison), ("solid", "dashed"))]
        layers = [image] + [contour(result.grid, area, color=color, dash=dash, label=label)
                            for result, (label, color, dash) in zip((first, second), lines)]
        title = f"Disagreement: {100 * comparison.share:.1f}% of the grid"
    return frame(hv.Overlay(layers), area, title, COMPARE_MAP_SIZE).opts(
        toolbar="above", hooks=[named(figure="nnp-compare-diff"), contour_legend(lines)])


def _curve_data(result: RunResult) -> dict[str, np.ndarray | list]:
    c = result.curves
    return {"epoch": c["epoch"] - result.first_epoch + 1, "model_epoch": c["epoch"], "loss": c["loss"],
            "test_loss": c["test_loss"], "train": 100 * c["train_accuracy"], "test": 100 * c["test_accuracy"],
            "run": [f"run {result.number}"] * len(c["epoch"])}


def run_curves(comparison: Comparison) -> tuple[hv.Overlay, hv.Overlay]:
    """Loss and accuracy of the two runs over each run's own epochs (training solid, test dashed)."""
    plots = []
    for title, ylabel, (train, test), where, name in (
        ("Loss: training (solid) and test (dashed)", "Binary cross-entropy", ("loss", "test_loss"), "top_right",
         "nnp-compare-loss"),
        ("Accuracy: training (solid) and test (dashed)", "Accuracy [%]", ("train", "test"), "bottom_right",
         "nnp-compare-accuracy"),
    ):
        layers = []
        for side, result, color in zip("ab", (comparison.first, comparison.second), _colors(comparison)):
            data = _curve_data(result)
            for key, dash, part in ((train, "solid", "training"), (test, "dashed", "test")):
                hooks = [named(source=f"nnp-compare-curves-{side}")] if key == "loss" else []
                layers.append(hv.Curve(data, hv.Dimension("epoch", label="Epoch of the run"),
                                       [hv.Dimension(key, label=ylabel), "model_epoch", "run"],
                                       label=f"run {result.number}").opts(
                    color=color, line_dash=dash, line_width=2, tools=["hover"], hooks=hooks,
                    hover_tooltips=[("", "@run"), ("epoch of the run", "@epoch"), ("model's epoch", "@model_epoch"),
                                    (part, f"@{key}{{0.000}}")]))
        overlay = hv.Overlay(layers).opts(
            title=title, ylabel=ylabel, height=CURVE_HEIGHT, responsive=True, show_grid=True, toolbar="above",
            legend_position=where, fontsize={"title": "10pt"}, hooks=[named(figure=name)],
            legend_opts={"label_text_font_size": "10px", "spacing": 0, "padding": 4, "click_policy": "hide",
                         "background_fill_alpha": 0.7},
            backend_opts={"plot.toolbar.autohide": True, "plot.toolbar.logo": None})
        if train == "train":
            overlay = overlay.opts(ylim=(0, 105))
        plots.append(overlay)
    return plots[0], plots[1]


def compare_views(comparison: Comparison) -> dict[str, hv.Overlay]:
    """All the plots of one comparison: the two maps ("a", "b"), the disagreement ("diff"), "loss", "accuracy"."""
    colors = _colors(comparison)
    loss, accuracy = run_curves(comparison)
    return {"a": run_map(comparison.first, "a", colors[0]), "b": run_map(comparison.second, "b", colors[1]),
            "diff": disagreement_map(comparison), "loss": loss, "accuracy": accuracy}


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


