"""HoloViews views of an experiment's results: the decision map, the exact target, the loss and accuracy curves.

Built from engine results only (a `GridMap`, a `Dataset`, an `Evaluation`, a `History`; no panel, no session), so a
notebook (`Experiment.plot`), the Compare tab and the report share them; each call returns a new object, which can be
restyled or overlaid like any HoloViews object: `decision_map(grid, dataset).opts("Path", color="orange")`.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the bokeh backend, for .opts)
import numpy as np

from engine import Dataset, History
from engine.evaluation import Evaluation, GridMap, grid_points
from engine.snapshots import nice_spacing

from .geometry import contour_lines, mark_size, padded_box, point_marks
from .style import (
    CLASS_COLORS,
    CONTOUR_COLOR,
    CURVE_HEIGHT,
    MAP_SIZE,
    REGION_COLORS,
    probability_palette,
    run_color,
)

hv.Store.set_current_backend("bokeh")
TOOLS = ["pan", "wheel_zoom", "box_zoom", "reset", "save"]
PROBABILITY = hv.Dimension("probability", label="P(class 1)", range=(0.0, 1.0))
MAX_CURVE_POINTS = 2000  # per run and curve: longer runs are drawn at every 2nd, 5th, ... epoch
CURVE_WIDTH = 560
BASELINE_COLOR = "#777777"


def frame(element, area, title: str, size: int = MAP_SIZE):
    """A square plot over `area`'s box (a Dataset, or anything with `box` and `axis_labels`), as the app draws."""
    (x0, x1), (y0, y1) = padded_box(area)
    return element.opts(
        title=title, frame_width=size, frame_height=size, xlim=(x0, x1), ylim=(y0, y1),
        xlabel=area.axis_labels[0], ylabel=area.axis_labels[1], toolbar="right", show_grid=False,
        default_tools=TOOLS, fontsize={"title": "10pt"}, show_legend=False,
        backend_opts={"plot.toolbar.autohide": True, "plot.toolbar.logo": None},
    )


def probability_image(grid: GridMap, area=None, discretize: bool = False) -> hv.Image:
    """The class-1 probability over the grid, blue (0) through white (0.5) to red (1), with a colour bar;
    `discretize`: the predicted class regions instead."""
    names = area.axis_labels if area is not None else ("x", "y")
    values = (grid.prediction if discretize else grid.probability).astype(np.float32)
    image = hv.Image((grid.xs, grid.ys, values), kdims=list(names), vdims=[PROBABILITY])
    if discretize:
        return image.opts(cmap=list(REGION_COLORS), clim=(0, 1), colorbar=False, tools=["hover"])
    return image.opts(cmap=probability_palette(), clim=(0, 1), colorbar=True, tools=["hover"], clabel="",
                      colorbar_opts={"width": 8, "padding": 4, "major_label_text_font_size": "9px"})


def contour(grid: GridMap, area=None, level: float = 0.5, color: str = CONTOUR_COLOR, dash: str = "solid",
            label: str = "") -> hv.Path:
    """The `level` contour of the probability (the decision boundary at 0.5): one Path whose pieces are separated
    by NaN rows (a list of pieces costs HoloViews ~3 ms per piece to draw)."""
    names = area.axis_labels if area is not None else ("x", "y")
    lines = contour_lines(grid, level)
    parts = []
    for xs, ys in zip(lines["xs"], lines["ys"]):
        parts += [np.column_stack([xs, ys]), np.full((1, 2), np.nan)]
    paths = [np.concatenate(parts[:-1])] if parts else []  # no contour: no path (an empty one breaks the page)
    return hv.Path(paths, kdims=list(names), label=label).opts(color=color, line_width=2, line_dash=dash,
                                                               line_join="round")


def points_layers(dataset: Dataset, evaluation: Evaluation | None = None, show_test: bool = True,
                  mark_wrong: bool = True) -> list:
    """Training points (circles) and test points (triangles) coloured by class, those the model gets wrong as
    crosses (with an `evaluation`); at most MAX_MAP_POINTS of each kind, the same sample as the live map."""
    x, y = dataset.axis_labels
    layers = []
    size = mark_size(dataset)
    for which in ("train", "test") if show_test else ("train",):
        correct = None if evaluation is None or not mark_wrong else getattr(evaluation, f"{which}_correct")
        right, wrong = point_marks(dataset, which, correct)
        name = "training" if which == "train" else "test"
        for kind, part in (("right", right), ("wrong", wrong)):
            style = (dict(marker="x", size=9, line_width=2) if kind == "wrong" else
                     dict(marker="circle" if which == "train" else "triangle", size=size, line_color="#222222",
                          line_width=0.5 if size > 4 else 0.2))
            color = dict(fill_color=hv.dim("class").categorize(dict(enumerate(CLASS_COLORS)), default="#888888"))
            if kind == "wrong":
                color = dict(line_color=hv.dim("class").categorize(dict(enumerate(CLASS_COLORS)), default="#888888"))
            labels = np.asarray(part["label"]).astype(int)
            layers.append(hv.Points((part["x"], part["y"], labels), kdims=[x, y], vdims=["class"],
                                    group="Wrong" if kind == "wrong" else "Marks", label=name)
                          .opts(tools=["hover"], **style, **color))
    return layers


def decision_map(grid: GridMap | None, dataset: Dataset, evaluation: Evaluation | None = None, *,
                 points: bool = True, show_test: bool = True, mark_wrong: bool = True,
                 discretize: bool = False) -> hv.Overlay:
    """The model's class-1 probability over the data's box with its 0.5 contour and the points on it (as the
    Training tab draws it): an Overlay of an Image, a Path and Points (only the points while `grid` is None)."""
    layers = [] if grid is None else [probability_image(grid, dataset, discretize), contour(grid, dataset)]
    if points:
        layers += points_layers(dataset, evaluation, show_test, mark_wrong)
    title = "Model: P(class 1), 0.5 contour"
    if grid is None:
        title = "Model: none yet (train it first)"
    elif discretize:
        title = "Model: predicted class regions"
    if evaluation is not None:
        title += f"; test accuracy {100 * evaluation.test_accuracy:.1f}%"
    return frame(hv.Overlay(layers), dataset, title)


def target_map(dataset: Dataset, grid: GridMap | None = None) -> hv.Overlay:
    """What the model should find: the exact target regions (toy data) or all the points, with the model's 0.5
    contour dashed (with a `grid`)."""
    x, y = dataset.axis_labels
    if dataset.exact is not None:
        xs, ys, points = grid_points(dataset.box, 200)
        target = dataset.exact(points).reshape(len(ys), len(xs)).astype(np.float32)
        layers = [hv.Image((xs, ys, target), kdims=[x, y], vdims=[hv.Dimension("target", label="true class")])
                  .opts(cmap=list(REGION_COLORS), clim=(0, 1), tools=["hover"])]
        if grid is None or grid.agreement is None:
            title = "Exact target (red: class 1)"
        else:
            title = f"Exact target: {100 * grid.agreement:.1f}% agreement"
    else:
        labels = dataset.labels.astype(int)
        layers = [hv.Points((dataset.points[:, 0], dataset.points[:, 1], labels), kdims=[x, y], vdims=["class"])
                  .opts(color=hv.dim("class").categorize(dict(enumerate(CLASS_COLORS))), size=4, alpha=0.8,
                        line_alpha=0, tools=["hover"])]
        title = "All points; model's contour dashed"
    if grid is not None:
        layers.append(contour(grid, dataset, dash="dashed"))
    else:
        layers.append(hv.Path([], kdims=[x, y]))
    return frame(hv.Overlay(layers), dataset, title)


def _thin(values: list, stride: int) -> list:
    kept = values[::stride]
    if (len(values) - 1) % stride:
        kept.append(values[-1])  # always reach the run's last epoch
    return kept


def curves(history: History, majority: float):
    """Loss and accuracy of every run on one epoch axis (training solid, test dashed), with the majority-class
    baseline: two Overlays of Curves (loss, accuracy)."""
    loss_layers, accuracy_layers = [], []
    runs = sorted(set(history.run), key=history.run.index)
    for number in runs:
        rows = [i for i, run in enumerate(history.run) if run == number]
        rows = _thin(rows, nice_spacing(len(rows) / MAX_CURVE_POINTS))
        epochs = [history.epoch[i] for i in rows]
        color = run_color(number)
        for layers, (train, test), scale, unit in (
            (loss_layers, ("loss", "test_loss"), 1, "loss"),
            (accuracy_layers, ("train_accuracy", "test_accuracy"), 100, "accuracy [%]"),
        ):
            for key, part, dash in ((train, "training", "solid"), (test, "test", "dashed")):
                values = [scale * getattr(history, key)[i] for i in rows]
                layers.append(hv.Curve((epochs, values), "Epoch", hv.Dimension(f"{part} {unit}", label=unit),
                                       label=f"run {number}: {part}")
                              .opts(color=color, line_dash=dash, line_width=2, tools=["hover"]))
    common = dict(width=CURVE_WIDTH, height=CURVE_HEIGHT + 40, show_grid=True, legend_position="right",
                  fontsize={"title": "10pt"}, toolbar="right",
                  legend_opts={"label_text_font_size": "10px", "spacing": 0, "padding": 4, "click_policy": "hide"},
                  backend_opts={"plot.toolbar.autohide": True, "plot.toolbar.logo": None})
    baseline = hv.HLine(100 * majority).opts(color=BASELINE_COLOR, line_dash="dotted", line_width=2)
    if not loss_layers:  # no epoch trained: empty axes
        empty = dict(title="Loss (no epoch trained)", ylabel="Binary cross-entropy", **common)
        return (hv.Overlay([hv.Curve([], "Epoch", "loss")]).opts(**empty),
                hv.Overlay([hv.Curve([], "Epoch", "accuracy"), baseline]).opts(
                    title="Accuracy (no epoch trained)", ylabel="Accuracy [%]", ylim=(0, 105), **common))
    note = hv.Text(history.epoch[-1], 100 * majority - 2, f"majority class: {100 * majority:.1f}%",
                   halign="right", valign="top").opts(text_font_size="9pt", text_color="#555555")
    loss = hv.Overlay(loss_layers).opts(title="Loss: training (solid) and test (dashed)",
                                        ylabel="Binary cross-entropy", **common)
    accuracy = hv.Overlay([*accuracy_layers, baseline, note]).opts(
        title="Accuracy: training (solid) and test (dashed); dotted: majority class", ylabel="Accuracy [%]",
        ylim=(0, 105), **common)
    return loss, accuracy


VIEWS = ("map", "target", "loss", "accuracy", "curves")


def view(what: str, dataset: Dataset, grid: GridMap | None = None, evaluation: Evaluation | None = None,
         history: History | None = None, **options):
    """One of VIEWS of these results: "map" (`decision_map`, `options` go to it), "target" (`target_map`),
    "loss" or "accuracy" (`curves`), "curves" (both, side by side: a Layout)."""
    if what == "map":
        return decision_map(grid, dataset, evaluation, **options)
    if what == "target":
        return target_map(dataset, grid)
    if what in ("loss", "accuracy", "curves"):
        loss, accuracy = curves(history if history is not None else History(), dataset.majority_share("test"))
        return {"loss": loss, "accuracy": accuracy}.get(what, loss + accuracy)
    raise ValueError(f"what: one of {', '.join(VIEWS)}, not {what!r}")
