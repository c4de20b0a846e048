"""The live maps, in plain Bokeh: the decision map and the exact target (the live curves: `live_curves.py`).

They change up to ~15 times a second while training, so their data sources are updated in place: a HoloViews
DynamicMap update costs the server ~100x more (under 10 maps/s, 1-2/s beside training; docs/performance.md).
Each object belongs to one Bokeh document: build them per session, never at import time.
"""

from __future__ import annotations

import numpy as np
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
    Range1d,
)
from bokeh.plotting import figure
from bokeh.transform import linear_cmap

from engine import Dataset
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
    MAP_SIZE,
    REGION_COLORS,
    probability_palette,
)

TOOLS = "pan,wheel_zoom,box_zoom,reset,save"


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
            self.renderers[which, kind] = renderer = fig.scatter(
                "x", "y", source=source, name=f"{name}-{which}-{kind}-marks", **style
            )
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
        self.figure.title.text = when + (
            ": predicted class regions" if self.discretize else ": P(class 1), 0.5 contour"
        )

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
        fig.multi_line(
            xs="xs", ys="ys", source=self.contour, line_color=CONTOUR_COLOR, line_width=2, line_dash="dashed"
        )
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
