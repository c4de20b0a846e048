"""The Network tab: the network diagram (plots/network.py) live while training, a clicked neuron shown large beside
the decision map, and a slider that replays the frames recorded through training.

The maps and weights come from the experiment's `grid`, `neurons` and `weights` (one worker bundle, one epoch; the
diagram's output node is that decision map) and, after training, its `snapshots`. It draws only while open.
"""

from __future__ import annotations

import numpy as np
import panel as pn

from engine.evaluation import GridMap, grid_points
from engine.snapshots import SNAPSHOT_SIZE, Frame

from ..plots.live import DecisionMap
from ..plots.network import NetworkDiagram, NeuronMap
from ..session.experiment import Experiment
from .parts import LiveHTML, on_loop

CAPTION_CSS = ".live-html { font-size: 13px; padding: 4px 0; }"


class NetworkTab(pn.viewable.Viewer):
    """The Network tab of one experiment: diagram, picked neuron, decision map and the replay slider."""

    def __init__(self, experiment: Experiment, **params) -> None:
        super().__init__(**params)
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
        e.param.watch(self._on_live, ["grid", "neurons", "weights"])  # one bundle: one call (batched watchers)
        e.param.watch(self._on_frames, ["snapshots", "state"])
        e.param.watch(self._on_data, ["data"])
        e.param.watch(self._on_shape, ["features", "hidden"])
        self.slider.param.watch(self._on_slider, ["value"])
        self._on_shape()
        self._on_frames()
        self._panel = self._arrange()

    # ----- reactions -----
    @on_loop
    def _on_shape(self, *events) -> None:
        e = self.experiment
        self.diagram.layout(e.features, e.hidden)
        self.picked = (0, 0)
        self.diagram.neurons.selected.indices = [0] if self.diagram.neurons.data["x"] else []
        self._show()

    @on_loop
    def _on_live(self, *events) -> None:
        if self.frame is None and self._due():
            self.output.show(self.experiment.grid)
            self._show()

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
            xs, ys, _ = grid_points(e.data.box, SNAPSHOT_SIZE)
            self.output.show(GridMap(xs, ys, frame.probability.astype(np.float32), None, None))
            self.output.figure.title.text = f"Model at epoch {frame.epoch}: P(class 1), 0.5 contour"
        self._show()
        self.caption.content = self._caption()

    def _show(self) -> None:
        if self.frame is not None:
            self.diagram.show(self.frame.neurons, self.frame.weights, self.frame.probability)
        else:
            e = self.experiment
            self.diagram.show(e.neurons, e.weights, None if e.grid is None else e.grid.probability)
        self._show_neuron()

    def _show_neuron(self) -> None:
        neurons = self.frame.neurons if self.frame is not None else self.experiment.neurons
        layer, index = self.picked
        if layer < len(neurons) and index < len(neurons[layer]):
            when = f" at epoch {self.frame.epoch}" if self.frame is not None else ""
            self.neuron.show(neurons[layer][index], f"Layer {layer + 1}, neuron {index + 1}{when}: activation")
        elif not self.experiment.hidden:
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
    def __panel__(self) -> pn.Column:
        return self._panel

    def _arrange(self) -> pn.Column:
        picked = pn.Row(pn.pane.Bokeh(self.neuron.fig, margin=5), pn.pane.Bokeh(self.output.figure, margin=5))
        maps = pn.FlexBox(pn.pane.Bokeh(self.diagram.fig, margin=5), picked, flex_wrap="wrap", gap="0px",
                          sizing_mode="stretch_width")
        return pn.Column(pn.Row(self.slider, self.caption, sizing_mode="stretch_width"), maps,
                         name="Network", sizing_mode="stretch_width")

