"""HoloViews views of the data and of the evaluation: they change when the data change or a run ends.

Points are coloured by class (blue class 0, red class 1), axes carry the feature names and units. In the
evaluation, correct points are circles and wrong ones crosses, over the model's predicted regions and its 0.5
contour, with the accuracy in the title, as in the teaching notebook.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the bokeh backend, for .opts)
import numpy as np

from engine import Dataset
from engine.evaluation import Evaluation, GridMap

from .geometry import padded_box
from .style import CLASS_COLORS, MAP_SIZE, REGION_COLORS
from .views import contour

hv.Store.set_current_backend("bokeh")
MAX_DRAWN = 20_000  # points per plot; bigger sets are drawn as a fixed random sample


def _sample(count: int) -> np.ndarray:
    if count <= MAX_DRAWN:
        return np.arange(count)
    return np.sort(np.random.default_rng(0).choice(count, MAX_DRAWN, replace=False))


def _frame(element, dataset: Dataset, title: str):
    (x0, x1), (y0, y1) = padded_box(dataset)
    return element.opts(
        title=title, frame_width=MAP_SIZE, frame_height=MAP_SIZE, xlim=(x0, x1), ylim=(y0, y1),
        xlabel=dataset.axis_labels[0], ylabel=dataset.axis_labels[1], toolbar="right", show_grid=False,
        default_tools=["pan", "wheel_zoom", "box_zoom", "reset", "save"], legend_position="bottom",
        legend_cols=2, fontsize={"title": "10pt"},
        legend_opts={"label_text_font_size": "10px", "padding": 2, "spacing": 0, "margin": 2},
        backend_opts={"plot.toolbar.autohide": True, "plot.toolbar.logo": None},
    )


def _with_legend_row(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points' columns; with no points, one point at NaN (not drawn): Bokeh draws a legend item's marker from
    the first row of its data, so a layer with no rows would be listed with no marker beside its name."""
    if not len(points):
        points = np.full((1, 2), np.nan)
    return points[:, 0], points[:, 1]


def class_points(dataset: Dataset, points: np.ndarray, labels: np.ndarray, title: str, size: float = 4):
    """Points of both classes in their colours, with a legend naming the classes."""
    rows = _sample(len(points))
    points, labels = points[rows], labels[rows]
    x, y = dataset.axis_labels
    layers = [
        hv.Points(_with_legend_row(points[labels == value]), kdims=[x, y],
                  label=dataset.class_names[value]).opts(color=CLASS_COLORS[value], size=size, alpha=0.85,
                                                         tools=["hover"], line_alpha=0)
        for value in (0, 1)
    ]
    if len(rows) < len(labels) or len(rows) == MAX_DRAWN:
        title += f" ({MAX_DRAWN} drawn)"
    return _frame(hv.Overlay(layers), dataset, title)


def dataset_view(dataset: Dataset):
    """All the points: what the dataset looks like."""
    return class_points(dataset, dataset.points, dataset.labels, f"{dataset.title} ({len(dataset.points)} points)")


def split_views(dataset: Dataset):
    """Training and test sets, side by side."""
    train = class_points(dataset, dataset.x_train, dataset.y_train,
                         f"Training set: {len(dataset.train_index)} points", size=5)
    test = class_points(dataset, dataset.x_test, dataset.y_test, f"Test set: {len(dataset.test_index)} points", size=5)
    return train, test


def _regions(grid: GridMap):
    """The predicted class as pale regions, and the 0.5 contour."""
    regions = hv.Image((grid.xs, grid.ys, grid.prediction), vdims=["predicted class"]).opts(
        cmap=list(REGION_COLORS), clim=(0, 1), alpha=1.0, tools=[])
    return regions * contour(grid)


def evaluation_view(dataset: Dataset, grid: GridMap | None, evaluation: Evaluation | None, which: str):
    """Train or test points over the predicted regions: correct ones as circles, wrong ones as crosses."""
    points = dataset.x_train if which == "train" else dataset.x_test
    labels = (dataset.y_train if which == "train" else dataset.y_test).astype(int)
    name = "Training set" if which == "train" else "Test set (unseen data)"
    if grid is None or evaluation is None:
        return class_points(dataset, points, labels, f"{name} (no model yet)", size=5)
    correct = evaluation.train_correct if which == "train" else evaluation.test_correct
    rows = _sample(len(points))
    points, labels, correct = points[rows], labels[rows], correct[rows]
    x, y = dataset.axis_labels
    layers = [_regions(grid)]
    for value in (0, 1):
        for right in (True, False):
            chosen = (labels == value) & (correct == right)
            style = (dict(marker="circle", size=5, line_color="black", line_width=0.5) if right
                     else dict(marker="x", size=9, line_width=2))
            layers.append(hv.Points(_with_legend_row(points[chosen]), kdims=[x, y],
                                    label=f"{dataset.class_names[value]}: {'correct' if right else 'wrong'}")
                          .opts(color=CLASS_COLORS[value], tools=["hover"], **style))
    share = float(np.mean(evaluation.train_correct if which == "train" else evaluation.test_correct))
    return _frame(hv.Overlay(layers), dataset, f"{name}: {100 * share:.1f}% correct")
