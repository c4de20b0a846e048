"""The Network tab: what the network computes inside, live while training and replayed after it.

One diagram shows the inputs (named by their features, each drawn as a small map of what it feeds in), every
hidden neuron drawn as a small map of its activation over the box, and the output, joined by edges coloured by the weight's sign (orange +, purple -) and
as thick as its magnitude; hovering an edge shows its weight. Clicking a neuron shows it large beside the model's
decision map. Wide layers are drawn by their first MAX_NEURONS neurons (the diagram says so).

The maps and weights come from the experiment's `neurons` and `weights` (taken by the worker with each live map)
and, after training, from its `snapshots` under a slider. Like figures.py, these are plain Bokeh figures built per
session whose sources change in place: only the changed columns go to the browser.
"""

from __future__ import annotations

import numpy as np
import panel as pn
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

from engine import Dataset, Trainer
from engine.evaluation import GridMap, grid_points
from engine.features import LABELS, feature_columns

from .experiment import Experiment, parse_hidden
from .figures import DecisionMap, padded_box
from .inside import FRAME_MAP_SIZE, MAX_NEURONS, NEURON_MAP_SIZE, Frame, neuron_view, weight_view
from .style import MAP_SIZE
from .views import LiveHTML, on_loop

ACTIVATION_PALETTE = interp_palette(PuOr[11][1:-1], 256)  # purple (negative), white (0), orange (positive)
POSITIVE, NEGATIVE = "#e08214", "#542788"
NODE_COLOR = "#e9ecef"
DIAGRAM_WIDTH, DIAGRAM_HEIGHT = 520, 400  # frame, in pixels
MAX_CELL = 56  # largest neuron map in the diagram, in pixels
CAPTION_CSS = ".live-html { font-size: 13px; padding: 4px 0; }"
EMPTY_MAPS = {"image": [], "x": [], "y": [], "dw": [], "dh": []}


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


def scaled_bytes(values: np.ndarray) -> np.ndarray:
    """A neuron map scaled by its largest |value| to -1..1, as bytes 0..255 (127.5 is 0)."""
    peak = float(np.abs(values).max())
    scaled = values / peak if peak > 0 else values
    return np.round((scaled + 1) * 127.5).astype(np.uint8)


class NetworkDiagram:
    """The network as a diagram whose hidden neurons are their activation maps (see the module's docstring)."""

    def __init__(self) -> None:
        self.maps = ColumnDataSource(dict(EMPTY_MAPS), name="nnp-neuron-maps")
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
        names = _names(features, hidden)
        tallest = max(map(len, names))
        x_span, y_span = (-0.9, len(names) - 0.4), (-tallest / 2 - 0.2, tallest / 2 + 0.7)
        self.fig.x_range.update(start=x_span[0], end=x_span[1])
        self.fig.y_range.update(start=y_span[0], end=y_span[1])
        px_x = DIAGRAM_WIDTH / (x_span[1] - x_span[0])
        px_y = DIAGRAM_HEIGHT / (y_span[1] - y_span[0])
        cell = min(MAX_CELL, 0.82 * px_y, 0.45 * px_x)
        w, h = cell / px_x, cell / px_y
        centers = [[(column, (len(nodes) - 1) / 2 - row) for row in range(len(nodes))]
                        for column, nodes in enumerate(names)]
        self.names = names
        ends = [centers[0], centers[-1]]
        self.nodes.data = {"x": [x for nodes in ends for x, _ in nodes], "y": [y for nodes in ends for _, y in nodes],
                           "w": [w] * (len(names[0]) + 1), "h": [h] * (len(names[0]) + 1)}
        hidden_nodes = [(layer, index, x, y) for layer, nodes in enumerate(centers[1:-1])
                        for index, (x, y) in enumerate(nodes)]
        self.neurons.data = {"x": [n[2] for n in hidden_nodes], "y": [n[3] for n in hidden_nodes],
                             "w": [w] * len(hidden_nodes), "h": [h] * len(hidden_nodes),
                             "layer": [n[0] for n in hidden_nodes], "index": [n[1] for n in hidden_nodes],
                             "name": [names[n[0] + 1][n[1]] for n in hidden_nodes]}
        # The inputs' maps first (fixed), then one per hidden neuron.
        self.inputs = [scaled_bytes(values) for values in input_maps(features)]
        mapped = [(x, y) for x, y in centers[0]] + [(n[2], n[3]) for n in hidden_nodes]
        self.maps.data = {"image": self.inputs + [np.full((2, 2), np.nan, np.float32)] * len(hidden_nodes),
                          "x": [x - w / 2 for x, _ in mapped], "y": [y - h / 2 for _, y in mapped],
                          "dw": [w] * len(mapped), "dh": [h] * len(mapped)}
        top = tallest / 2 + 0.35
        headings = ["inputs", *(f"layer {i}: {width}" if width <= MAX_NEURONS else f"layer {i}: {MAX_NEURONS} of {width}"
                                for i, width in enumerate(hidden, 1)), "output"]
        self.labels.data = {
            "x": [-w / 2 - 0.06] * len(names[0]) + list(range(len(names))),
            "y": [y for _, y in centers[0]] + [top] * len(names),
            "text": names[0] + headings,
            "align": ["right"] * len(names[0]) + ["center"] * len(names),
        }
        links = [(column, i, j) for column in range(len(names) - 1)
                 for j in range(len(names[column + 1])) for i in range(len(names[column]))]  # (out, in) order
        self.edges.data = {
            "x0": [column + w / 2 for column, _, _ in links], "y0": [centers[c][i][1] for c, i, _ in links],
            "x1": [column + 1 - w / 2 for column, _, _ in links],
            "y1": [centers[c + 1][j][1] for c, _, j in links],
            "link": [f"{names[c][i]} → {names[c + 1][j]}" for c, i, j in links],
            **self._edge_style(np.zeros(len(links))),
        }
        wide = any(width > MAX_NEURONS for width in hidden)
        self.fig.title.text = "Weights and activations: orange +, purple −" + (
            f"; the first {MAX_NEURONS} neurons of wide layers" if wide else "")

    @staticmethod
    def _edge_style(weights: np.ndarray) -> dict:
        scale = float(np.abs(weights).max()) if weights.size else 0.0
        strength = np.abs(weights) / scale if scale > 0 else np.zeros_like(weights)
        return {"weight": weights, "color": np.where(weights >= 0, POSITIVE, NEGATIVE),
                "width": 0.4 + 4.6 * strength, "alpha": 0.25 + 0.75 * strength}

    def show(self, neurons: list[np.ndarray], weights: list[np.ndarray]) -> None:
        """Draw these neuron maps (each scaled by its largest |activation|) and weights; [] draws blank nodes."""
        if neurons and len(neurons) == len(self.names) - 2:
            images = [scaled_bytes(m) for layer in neurons for m in layer.astype(np.float32)]
        else:
            images = [np.full((2, 2), np.nan, np.float32)] * len(self.neurons.data["x"])
        self.maps.data.update(image=self.inputs + images)
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


class NetworkViews:
    """The Network tab of one experiment: diagram, picked neuron, decision map and the replay slider."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = e = experiment
        self.diagram = NetworkDiagram()
        self.neuron = NeuronMap(e.data)
        self.output = DecisionMap(e.data, name="nnp-network-output")
        self.picked = (0, 0)  # (hidden layer, neuron) shown large
        self.frame: Frame | None = None  # the snapshot shown, None: the model as it is now
        self.shown = True  # whether the tab is open (see `follow`); a closed one is redrawn when it opens
        self._stale = False
        self.slider = pn.widgets.DiscreteSlider(label="Replay the training (epoch)", options=[0], value=0,
                                                disabled=True, width=420, margin=(4, 10), css_classes=["nnp-replay"])
        self.caption = LiveHTML("", CAPTION_CSS, css_classes=["nnp-replay-caption"], margin=(4, 10))
        self.diagram.neurons.selected.on_change("indices", self._on_pick)
        e.param.watch(self._on_inside, ["neurons", "weights"])
        e.param.watch(self._on_grid, ["grid"])
        e.param.watch(self._on_frames, ["snapshots", "state"])
        e.param.watch(self._on_data, ["data"])
        e.param.watch(self._on_shape, ["features", "hidden"])
        self.slider.param.watch(self._on_slider, ["value"])
        self._on_shape()
        self._on_frames()

    # ----- reactions -----
    @on_loop
    def _on_shape(self, *events) -> None:
        e = self.experiment
        self.diagram.layout(e.features, parse_hidden(e.hidden))
        self.picked = (0, 0)
        self.diagram.neurons.selected.indices = [0] if self.diagram.neurons.data["x"] else []
        self._show()

    @on_loop
    def _on_inside(self, *events) -> None:
        if self.frame is None and self._due():
            self._show()

    @on_loop
    def _on_grid(self, *events) -> None:
        if self.frame is None and self._due():
            self.output.show(self.experiment.grid)

    def _due(self) -> bool:
        """Whether live changes should be drawn now: not while the tab is closed (they would cost the server
        a few ms per update for nothing); it is brought up to date when opened."""
        self._stale = self._stale or not self.shown
        return self.shown

    def follow(self, tabs: pn.Tabs) -> None:
        """Draw live changes only while this view's tab is the active one of `tabs`."""
        index = next(i for i, tab in enumerate(tabs.objects) if tab is self._panel)

        @on_loop
        def active(*events) -> None:
            self.shown = tabs.active == index
            if self.shown and self._stale:
                self._stale = False
                self._to_frame(self.frame)

        tabs.param.watch(active, "active")
        active()

    @on_loop
    def _on_data(self, *events) -> None:
        self.output.set_dataset(self.experiment.data)
        self.neuron.set_dataset(self.experiment.data)
        self._show()

    @on_loop
    def _on_frames(self, *events) -> None:
        e = self.experiment
        epochs = [frame.epoch for frame in e.snapshots]
        usable = e.state not in ("training", "stopping") and len(epochs) >= 2
        if usable:
            self.slider.param.update(options=epochs, value=epochs[-1], disabled=False)
        else:
            self.slider.param.update(disabled=True)
        self._to_frame(None)

    @on_loop
    def _on_slider(self, event) -> None:
        frames = self.experiment.snapshots
        index = next((i for i, frame in enumerate(frames) if frame.epoch == event.new), None)
        self._to_frame(None if index is None or index == len(frames) - 1 else frames[index])

    @on_loop
    def _on_pick(self, attr, old, new) -> None:
        if new:
            data = self.diagram.neurons.data
            self.picked = (data["layer"][new[0]], data["index"][new[0]])
            self._show_neuron()

    # ----- drawing -----
    def _to_frame(self, frame: Frame | None) -> None:
        """Show a snapshot (None: the model as it is now)."""
        self.frame = frame
        if not self._due():
            return
        e = self.experiment
        if frame is None:
            self.output.show(e.grid)
        else:
            xs, ys, _ = grid_points(e.data.box, FRAME_MAP_SIZE)
            self.output.show(GridMap(xs, ys, frame.probability.astype(np.float32), None, None))
            self.output.figure.title.text = f"Model at epoch {frame.epoch}: P(class 1), 0.5 contour"
        self._show()
        self.caption.content = self._caption()

    def _show(self) -> None:
        source = self.frame if self.frame is not None else self.experiment
        self.diagram.show(source.neurons, source.weights)
        self._show_neuron()

    def _show_neuron(self) -> None:
        neurons = self.frame.neurons if self.frame is not None else self.experiment.neurons
        layer, index = self.picked
        if layer < len(neurons) and index < len(neurons[layer]):
            when = f" at epoch {self.frame.epoch}" if self.frame is not None else ""
            self.neuron.show(neurons[layer][index], f"Layer {layer + 1}, neuron {index + 1}{when}: activation")
        elif not parse_hidden(self.experiment.hidden):
            self.neuron.show(None, "No hidden layer: the inputs go straight to the output")
        else:
            self.neuron.show(None, "Neuron: none yet (press Train)")

    def _caption(self) -> str:
        e = self.experiment
        if e.state in ("training", "stopping"):
            return "Training: the maps follow it live. When it stops, the slider replays it."
        if len(e.snapshots) < 2:
            return "Train a model: its neurons and weights are drawn live, and the slider then replays its training."
        frame = self.frame or e.snapshots[-1]
        shown = "now" if self.frame is None else f"at epoch {frame.epoch}"
        text = f"<b>The model {shown}</b> ({len(e.snapshots)} snapshots from epoch 0 to {e.snapshots[-1].epoch})"
        if frame.epoch in e.history.epoch:
            at = e.history.epoch.index(frame.epoch)
            text += (f": training accuracy {100 * e.history.train_accuracy[at]:.1f}%, "
                     f"test accuracy {100 * e.history.test_accuracy[at]:.1f}%")
        return text + ". Click a neuron to see it large."

    # ----- arrangement -----
    def panel(self) -> pn.Column:
        picked = pn.Row(pn.pane.Bokeh(self.neuron.fig, margin=5), pn.pane.Bokeh(self.output.figure, margin=5))
        maps = pn.FlexBox(pn.pane.Bokeh(self.diagram.fig, margin=5), picked, flex_wrap="wrap", gap="0px",
                          sizing_mode="stretch_width")
        self._panel = pn.Column(pn.Row(self.slider, self.caption, sizing_mode="stretch_width"), maps,
                                name="Network", sizing_mode="stretch_width")
        return self._panel


def network_section(trainer: Trainer) -> list:
    """The report's section on the trained network: the diagram with every hidden neuron's map ([] without
    hidden layers)."""
    settings = trainer.settings
    if not settings.hidden:
        return []
    diagram = NetworkDiagram()
    diagram.layout(settings.features, settings.hidden)
    diagram.show(neuron_view(trainer), weight_view(trainer))
    text = ("## Inside the network\n\nEach hidden neuron drawn as a map of its activation over the square (scaled "
            "to its own largest value), between the inputs and the output; each edge is a weight, as thick as "
            "its size (hover it for the value).")
    return [pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(4, 10)),
            pn.pane.Bokeh(diagram.fig, css_classes=["nnp-network"], margin=5)]
