"""The hidden layers' editor: the typed widths ('8,8') with TensorFlow Playground's + / - buttons beside them.

`− layer` / `+ layer` remove the last layer or add one, each layer's `−` / `+` a neuron. The buttons only set the
Experiment's `hidden`, which the text box shows too (one source of truth), and are disabled at the declared limits
(`engine.settings`: MAX_HIDDEN_LAYERS layers of 1 to MAX_WIDTH).
"""

from __future__ import annotations

import panel as pn

from engine.settings import MAX_HIDDEN_LAYERS, MAX_WIDTH

from ..session.experiment import Experiment

NEW_WIDTH = 4  # the first layer added to a network without hidden layers (the lesson's 2-4-1)
CSS = """
.bk-btn { padding: 0 4px; font-weight: 600; }
.bk-btn:disabled, .bk-btn[disabled] { opacity: 0.35; cursor: not-allowed; }
"""
CHIP_CSS = """
:host { border: 1px solid #dde3e8; border-radius: 6px; background: #f8fafb; }
"""


class WidthsEditor(pn.viewable.Viewer):
    """The hidden-layers text box (the sidebar's widget for `hidden`) with + / - buttons for layers and neurons."""

    def __init__(self, experiment: Experiment, text: pn.widgets.Widget, **params) -> None:
        super().__init__(**params)
        self.experiment, self.text = experiment, text
        button = dict(height=28, margin=(2, 2), stylesheets=[CSS], color="default")
        self.remove_layer = pn.widgets.Button(label="− layer", width=70, css_classes=["nnp-layer-minus"], **button)
        self.add_layer = pn.widgets.Button(label="+ layer", width=70, css_classes=["nnp-layer-plus"], **button)
        self.remove_layer.on_click(lambda event: self._set(self.widths[:-1]))
        self.add_layer.on_click(lambda event: self._set(self.widths + (self.widths[-1] if self.widths else NEW_WIDTH,)))
        self.count = pn.pane.HTML("", margin=(8, 6), css_classes=["nnp-layer-count"])
        self.chips = pn.FlexBox(flex_wrap="wrap", sizing_mode="stretch_width", margin=(0, 0, 4, 0),
                                css_classes=["nnp-layer-chips"])
        self._layers: list[pn.Row] = []  # per hidden layer: −, its width, +
        experiment.param.watch(self._show, "hidden")
        self._show()

    @property
    def widths(self) -> tuple[int, ...]:
        return self.experiment.hidden

    def _set(self, widths: tuple[int, ...]) -> None:
        self.experiment.set_value("hidden", widths)

    def _resize(self, layer: int, change: int) -> None:
        widths = list(self.widths)
        widths[layer] = min(MAX_WIDTH, max(1, widths[layer] + change))
        self._set(tuple(widths))

    def _chip(self, layer: int) -> pn.Row:
        small = dict(width=26, height=26, margin=(2, 1), stylesheets=[CSS], color="light")
        minus = pn.widgets.Button(label="−", css_classes=["nnp-neuron-minus"], **small)
        plus = pn.widgets.Button(label="+", css_classes=["nnp-neuron-plus"], **small)
        minus.on_click(lambda event: self._resize(layer, -1))
        plus.on_click(lambda event: self._resize(layer, +1))
        width = pn.pane.HTML("", width=34, margin=(6, 1), styles={"text-align": "center", "font-size": "13px"},
                             css_classes=["nnp-neuron-count"])
        return pn.Row(minus, width, plus, margin=(2, 3), stylesheets=[CHIP_CSS])

    def _show(self, *events) -> None:
        """Buttons and counts for the current widths: chips made or dropped only when the layer count changes."""
        widths = self.widths
        if len(self._layers) != len(widths):
            while len(self._layers) < len(widths):
                self._layers.append(self._chip(len(self._layers)))
            del self._layers[len(widths):]
            self.chips.objects = list(self._layers)
        for (minus, count, plus), width in zip(self._layers, widths):
            count.object = f"<span title='neurons'>{width}</span>"
            minus.disabled, plus.disabled = width <= 1, width >= MAX_WIDTH
        self.remove_layer.disabled = not widths
        self.add_layer.disabled = len(widths) >= MAX_HIDDEN_LAYERS
        layers = len(widths)
        self.count.object = f"{layers} hidden layer{'s' if layers != 1 else ''}" if layers else "no hidden layer"

    def __panel__(self) -> pn.Column:
        return pn.Column(self.text, pn.Row(self.remove_layer, self.add_layer, self.count, margin=0), self.chips,
                         sizing_mode="stretch_width", margin=0, css_classes=["nnp-widths"])
