"""The network diagram and a neuron's map: what the network computes inside (Bokeh, updated in place).

The diagram draws the inputs, every hidden neuron and the output as small maps over the box (the output as the
decision map's P(class 1)), joined by edges coloured by the weight's sign (orange +, purple -) and as thick as its
magnitude; a clicked neuron is shown large. Wide layers show their first MAX_NEURONS neurons. Like live.py's maps,
these are plain Bokeh figures built per session whose sources change in place (docs/performance.md).
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
    TapTool,
)
from bokeh.palettes import PuOr, interp_palette
from bokeh.plotting import figure

from engine import Dataset
from engine.evaluation import grid_points
from engine.features import LABELS, feature_columns
from engine.snapshots import MAX_NEURONS, NEURON_MAP_SIZE

from .live import padded_box
from .style import MAP_SIZE, probability_palette

ACTIVATION_PALETTE = interp_palette(PuOr[11][1:-1], 256)  # purple (negative), white (0), orange (positive)
POSITIVE, NEGATIVE = "#e08214", "#542788"
NODE_COLOR = "#e9ecef"
DIAGRAM_WIDTH, DIAGRAM_HEIGHT = 520, 400  # frame, in pixels
MAX_CELL = 56  # largest neuron map in the diagram, in pixels
EMPTY_MAPS = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
BLANK = np.full((2, 2), np.nan, np.float32)
NOT_FINITE = (
    153,
    153,
    153,
)  # a map's NaN or inf cells (a diverged model), drawn grey  # a map not drawn yet (no model): the node's plain colour


def _names(features, hidden) -> list[list[str]]:
    """The drawn nodes' names, column by column: inputs, hidden layers (their first MAX_NEURONS), output."""
    columns = [[LABELS.get(name, name) for name in features]]
    columns += [[f"layer {layer} neuron {i + 1}" for i in range(min(width, MAX_NEURONS))]
                for layer, width in enumerate(hidden, 1)]
    return columns + [["output"]]


def input_maps(features, size: int = NEURON_MAP_SIZE) -> list[np.ndarray]:
    """What each input feature feeds the network over the box (the box scaled to the unit square): (size, size)."""
    _, _, points = grid_points(((0.0, 1.0), (0.0, 1.0)), size)
    columns = feature_columns(points, tuple(features))
    return [columns[:, i].reshape(size, size) for i in range(columns.shape[1])]


def _peak(values: np.ndarray) -> float:
    """The largest finite |value| of a map (0 if none is finite)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def scaled_bytes(values: np.ndarray) -> np.ndarray:
    """A neuron map scaled by its largest finite |value| to -1..1, as bytes 0..255 (127.5 is 0; NaN, inf: 127.5)."""
    peak = _peak(values)
    scaled = values / peak if peak > 0 else values
    return np.round((np.nan_to_num(np.clip(scaled, -1, 1), nan=0.0) + 1) * 127.5).astype(np.uint8)


def output_bytes(probability: np.ndarray, size: int = NEURON_MAP_SIZE) -> np.ndarray:
    """The model's P(class 1) map (any NxN grid) picked down to (size, size) as bytes 0..255 (p = 0.5 is 127.5):
    the output node is drawn as small as a neuron, so the full 200x200 map would only cost bytes."""
    picked = np.nan_to_num(_picked(probability, size), nan=0.5)  # NaN (a diverged model): p = 0.5
    return np.round(np.clip(picked, 0.0, 1.0) * 255).astype(np.uint8)


def _picked(probability: np.ndarray, size: int = NEURON_MAP_SIZE) -> np.ndarray:
    rows = np.round(np.linspace(0, probability.shape[0] - 1, size)).astype(int)
    columns = np.round(np.linspace(0, probability.shape[1] - 1, size)).astype(int)
    return np.asarray(probability, dtype=np.float32)[np.ix_(rows, columns)]


def edge_style(weights: np.ndarray) -> dict:
    """Edge colour (orange +, purple -), width and opacity by the weight's size against the largest."""
    scale = float(np.abs(weights).max()) if weights.size else 0.0
    strength = np.abs(weights) / scale if scale > 0 else np.zeros_like(weights)
    return {"weight": weights, "color": np.where(weights >= 0, POSITIVE, NEGATIVE),
            "width": 0.4 + 4.6 * strength, "alpha": 0.25 + 0.75 * strength}


class DiagramLayout:
    """Where the diagram of a network with these inputs and hidden widths puts everything (numbers only)."""

    def __init__(self, features, hidden) -> None:
        self.names = names = _names(features, hidden)
        tallest = max(map(len, names))
        self.x_span, self.y_span = (-0.9, len(names) - 0.4), (-tallest / 2 - 0.2, tallest / 2 + 0.7)
        px_x = DIAGRAM_WIDTH / (self.x_span[1] - self.x_span[0])
        px_y = DIAGRAM_HEIGHT / (self.y_span[1] - self.y_span[0])
        cell = min(MAX_CELL, 0.82 * px_y, 0.45 * px_x)
        self.w, self.h = cell / px_x, cell / px_y
        w = self.w
        centers = [[(column, (len(nodes) - 1) / 2 - row) for row in range(len(nodes))]
                   for column, nodes in enumerate(names)]
        self.ends = centers[0] + centers[-1]  # inputs and output: plain boxes under their maps
        self.output = centers[-1][0]
        self.hidden_nodes = [
            (layer, index, x, y) for layer, nodes in enumerate(centers[1:-1]) for index, (x, y) in enumerate(nodes)
        ]
        self.mapped = list(centers[0]) + [(n[2], n[3]) for n in self.hidden_nodes]  # inputs', then neurons' maps
        top = tallest / 2 + 0.35
        headings = [
            "inputs",
            *(
                f"layer {i}: {width}" if width <= MAX_NEURONS else f"layer {i}: {MAX_NEURONS} of {width}"
                for i, width in enumerate(hidden, 1)
            ),
            "output",
        ]
        self.labels = {
            "x": [-w / 2 - 0.06] * len(names[0]) + list(range(len(names))),
            "y": [y for _, y in centers[0]] + [top] * len(names),
            "text": names[0] + headings,
            "align": ["right"] * len(names[0]) + ["center"] * len(names),
        }
        links = [(column, i, j) for column in range(len(names) - 1)
                 for j in range(len(names[column + 1])) for i in range(len(names[column]))]  # (out, in) order
        self.edges = {
            "x0": [column + w / 2 for column, _, _ in links], "y0": [centers[c][i][1] for c, i, _ in links],
            "x1": [column + 1 - w / 2 for column, _, _ in links],
            "y1": [centers[c + 1][j][1] for c, _, j in links],
            "link": [f"{names[c][i]} → {names[c + 1][j]}" for c, i, j in links],
        }
        wide = any(width > MAX_NEURONS for width in hidden)
        self.title = "Weights and activations: orange +, purple −" + (
            f"; the first {MAX_NEURONS} neurons of wide layers" if wide else "")


def _rgba(values: np.ndarray) -> np.ndarray:
    """A map scaled to -1..1 as RGBA bytes in the activation palette (row 0 at the bottom, as the grid's)."""
    palette = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in ACTIVATION_PALETTE], dtype=np.uint8)
    finite = np.isfinite(values)
    index = np.clip(np.round((np.where(finite, values, 0.0) + 1) * 127.5), 0, 255).astype(int)
    rgb = np.where(finite[..., None], palette[index], np.uint8(NOT_FINITE))  # NaN or inf (a diverged model): grey
    return np.dstack([rgb, np.full(values.shape, 255, np.uint8)])


def network_view(features, hidden, neurons: list[np.ndarray], weights: list[np.ndarray],
                 probability: np.ndarray | None = None):
    """The diagram as a HoloViews Overlay (for the report): every input and hidden neuron as a small map (an RGB
    tile, each scaled by its own largest |value|), the output as the model's P(class 1) map (`probability`, any
    NxN grid over the box; None: a plain box), edges as Segments coloured and sized by weight (hover shows the
    weight and the link), headings and input names as Labels."""
    import holoviews as hv

    g = DiagramLayout(features, hidden)
    maps = [m for m in input_maps(features)]
    if neurons and len(neurons) == len(g.names) - 2:
        maps += [m for layer in neurons for m in np.asarray(layer, dtype=np.float32)]
    tiles = []
    for (x, y), values in zip(g.mapped, maps):
        peak = _peak(values)
        scaled = values / peak if peak > 0 else values
        tile = np.flipud(_rgba(scaled))  # an RGB array's first row is its top
        tiles.append(hv.RGB(tile, bounds=(x - g.w / 2, y - g.h / 2, x + g.w / 2, y + g.h / 2), kdims=["x", "y"],
                            group="Neuron").opts(tools=[]))
    if probability is not None:
        x, y = g.output
        palette = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in probability_palette()], np.uint8)
        rgb = np.where(np.isfinite(_picked(probability))[..., None], palette[output_bytes(probability)],
                       np.uint8(NOT_FINITE))
        tile = np.flipud(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
        tiles.append(hv.RGB(tile, bounds=(x - g.w / 2, y - g.h / 2, x + g.w / 2, y + g.h / 2), kdims=["x", "y"],
                            group="Output").opts(tools=[]))
    flat = np.concatenate([np.ravel(w) for w in weights]).astype(np.float64) if weights else np.zeros(0)
    if flat.size != len(g.edges["x0"]):
        flat = np.zeros(len(g.edges["x0"]))
    edges = {**g.edges, **edge_style(flat)}
    segments = hv.Segments(edges, kdims=["x0", "y0", "x1", "y1"], vdims=["weight", "color", "width", "alpha", "link"],
                           group="Edges").opts(color="color", line_width="width", alpha="alpha", tools=["hover"],
                                               hover_tooltips=[("weight", "@weight{0.0000}"), ("", "@link")])
    boxes = hv.Rectangles([(x - g.w / 2, y - g.h / 2, x + g.w / 2, y + g.h / 2) for x, y in g.ends],
                          kdims=["x", "y", "x2", "y2"]).opts(color=NODE_COLOR, line_color="#888888")
    frames = hv.Rectangles([(x - g.w / 2, y - g.h / 2, x + g.w / 2, y + g.h / 2) for x, y in g.mapped],
                           kdims=["x", "y", "x2", "y2"]).opts(fill_alpha=0, line_color="#bbbbbb", line_width=0.5)
    text = [hv.Labels({"x": [x for x, a in zip(g.labels["x"], g.labels["align"]) if a == align],
                       "y": [y for y, a in zip(g.labels["y"], g.labels["align"]) if a == align],
                       "text": [t for t, a in zip(g.labels["text"], g.labels["align"]) if a == align]},
                      ["x", "y"], "text").opts(text_align=align, text_baseline="middle", text_font_size="11px",
                                               text_color="#333333")
            for align in ("right", "center")]
    return hv.Overlay([segments, boxes, *tiles, frames, *text]).opts(
        title=g.title, frame_width=DIAGRAM_WIDTH, frame_height=DIAGRAM_HEIGHT, xlim=g.x_span, ylim=g.y_span,
        xaxis=None, yaxis=None, show_grid=False, toolbar=None, default_tools=[], show_legend=False,
        backend_opts={"plot.outline_line_color": None})


class NetworkDiagram:
    """The network as a diagram whose hidden neurons are their activation maps; hovering an edge shows its weight."""

    def __init__(self) -> None:
        self.maps = ColumnDataSource(dict(EMPTY_MAPS), name="nnp-neuron-maps")
        self.output = ColumnDataSource(dict(EMPTY_MAPS), name="nnp-output-map")
        self.edges = ColumnDataSource({key: [] for key in ("x0", "y0", "x1", "y1", "weight", "color", "width",
                                                           "alpha", "link")}, name="nnp-edges")
        self.nodes = ColumnDataSource({"x": [], "y": [], "w": [], "h": []})
        self.neurons = ColumnDataSource({"x": [], "y": [], "w": [], "h": [], "layer": [], "index": [], "name": []},
                                        name="nnp-neurons")
        self.labels = ColumnDataSource({"x": [], "y": [], "text": [], "align": []})
        self.shape: tuple | None = None
        self.fig = fig = figure(
            title="", frame_width=DIAGRAM_WIDTH, frame_height=DIAGRAM_HEIGHT, x_range=Range1d(0, 1),
            y_range=Range1d(0, 1), tools="", toolbar_location=None, name="nnp-diagram")
        fig.axis.visible = False
        fig.grid.visible = False
        fig.outline_line_color = None
        edges = fig.segment("x0", "y0", "x1", "y1", source=self.edges, line_color="color", line_width="width",
                            line_alpha="alpha")
        fig.rect("x", "y", "w", "h", source=self.nodes, fill_color=NODE_COLOR, line_color="#888888")
        # Small maps go as bytes (a quarter of float32): 0 is -peak, 255 is +peak; NaN (no model) draws blank.
        mapper = LinearColorMapper(palette=ACTIVATION_PALETTE, low=0, high=255, nan_color=NODE_COLOR)
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.maps, color_mapper=mapper)
        # The output as the decision map's colours (bytes: 0 is p = 0, 255 is p = 1).
        output = LinearColorMapper(palette=probability_palette(), low=0, high=255, nan_color=NODE_COLOR)
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.output, color_mapper=output)
        picks = fig.rect("x", "y", "w", "h", source=self.neurons, fill_alpha=0, line_alpha=0,
                         selection_line_color="#111111", selection_line_alpha=1, selection_line_width=3,
                         nonselection_fill_alpha=0, nonselection_line_alpha=0)
        fig.text("x", "y", "text", source=self.labels, text_align="align", text_baseline="middle",
                 text_font_size="11px", text_color="#333333")
        fig.add_tools(
            HoverTool(renderers=[edges], tooltips=[("weight", "@weight{0.0000}"), ("", "@link")]),
            HoverTool(renderers=[picks], tooltips=[("", "@name")]),
            TapTool(renderers=[picks]),
        )

    def layout(self, features, hidden) -> None:
        """Place the nodes of a network with these inputs and hidden widths (only when they change)."""
        shape = (tuple(features), tuple(hidden))
        if shape == self.shape:
            return
        self.shape = shape
        g = DiagramLayout(features, hidden)
        self.names = g.names
        self.fig.x_range.update(start=g.x_span[0], end=g.x_span[1])
        self.fig.y_range.update(start=g.y_span[0], end=g.y_span[1])
        w, h = g.w, g.h
        self.nodes.data = {"x": [x for x, _ in g.ends], "y": [y for _, y in g.ends],
                           "w": [w] * len(g.ends), "h": [h] * len(g.ends)}
        hidden_nodes = g.hidden_nodes
        self.neurons.data = {"x": [n[2] for n in hidden_nodes], "y": [n[3] for n in hidden_nodes],
                             "w": [w] * len(hidden_nodes), "h": [h] * len(hidden_nodes),
                             "layer": [n[0] for n in hidden_nodes], "index": [n[1] for n in hidden_nodes],
                             "name": [g.names[n[0] + 1][n[1]] for n in hidden_nodes]}
        # The inputs' maps first (fixed), then one per hidden neuron.
        self.inputs = [scaled_bytes(values) for values in input_maps(features)]
        x, y = g.output
        self.output.data = {"image": [BLANK], "x": [x - w / 2], "y": [y - h / 2], "dw": [w], "dh": [h]}
        self.maps.data = {"image": self.inputs + [BLANK] * len(hidden_nodes),
                          "x": [x - w / 2 for x, _ in g.mapped], "y": [y - h / 2 for _, y in g.mapped],
                          "dw": [w] * len(g.mapped), "dh": [h] * len(g.mapped)}
        self.labels.data = dict(g.labels)
        self.edges.data = {**g.edges, **self._edge_style(np.zeros(len(g.edges["x0"])))}
        self.fig.title.text = g.title

    @staticmethod
    def _edge_style(weights: np.ndarray) -> dict:
        return edge_style(weights)

    def show(self, neurons: list[np.ndarray], weights: list[np.ndarray], probability: np.ndarray | None = None) -> None:
        """Draw these neuron maps (each scaled by its largest |activation|), weights and output map (the model's
        P(class 1) on any NxN grid over the box), all of one epoch; [] and None draw blank nodes."""
        if neurons and len(neurons) == len(self.names) - 2:
            images = [scaled_bytes(m) for layer in neurons for m in layer.astype(np.float32)]
        else:
            images = [BLANK] * len(self.neurons.data["x"])
        self.maps.data.update(image=self.inputs + images)
        self.output.data.update(image=[BLANK if probability is None else output_bytes(probability)])
        flat = np.concatenate([w.ravel() for w in weights]) if weights else np.zeros(0)
        if flat.size != len(self.edges.data["x0"]):
            flat = np.zeros(len(self.edges.data["x0"]))
        self.edges.data.update(**self._edge_style(flat.astype(np.float64)))


class NeuronMap:
    """One neuron's activation over the box, large, on a colour scale symmetric about 0."""

    def __init__(self, dataset: Dataset) -> None:
        self.image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []}, name="nnp-neuron-large")
        self.mapper = LinearColorMapper(palette=ACTIVATION_PALETTE, low=-1, high=1, nan_color="#ffffff")
        self.fig = fig = figure(title="", frame_width=MAP_SIZE, frame_height=MAP_SIZE, x_range=Range1d(0, 1),
                                y_range=Range1d(0, 1), tools="pan,wheel_zoom,reset,save", toolbar_location="right")
        fig.toolbar.logo = None
        fig.toolbar.autohide = True
        fig.grid.visible = False
        image = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=self.mapper)
        fig.add_tools(HoverTool(renderers=[image], tooltips=[("x", "$x{0.000}"), ("y", "$y{0.000}"),
                                                             ("activation", "@image{0.000}")]))
        fig.add_layout(ColorBar(color_mapper=self.mapper, width=8, padding=4, ticker=BasicTicker(desired_num_ticks=3),
                                major_label_text_font_size="9px"), "right")
        self.set_dataset(dataset)

    def set_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        (x0, x1), (y0, y1) = padded_box(dataset)
        self.fig.x_range.update(start=x0, end=x1)
        self.fig.y_range.update(start=y0, end=y1)
        self.fig.xaxis.axis_label, self.fig.yaxis.axis_label = dataset.axis_labels
        self.show(None, "Neuron: none yet (press Train)")

    def show(self, values: np.ndarray | None, title: str) -> None:
        (x0, x1), (y0, y1) = self.dataset.box
        values = np.full((2, 2), np.nan, np.float32) if values is None else values.astype(np.float32)
        peak = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
        self.mapper.update(low=-(peak or 1.0), high=peak or 1.0)
        self.image.data = {"image": [values], "x": [x0], "y": [y0], "dw": [x1 - x0], "dh": [y1 - y0]}
        self.fig.title.text = title


