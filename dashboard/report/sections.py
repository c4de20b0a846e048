"""Report sections that draw on the app's figures: the network diagram and the comparison of two runs."""

from __future__ import annotations

import panel as pn

from engine import Trainer

from ..plots.compare import COMPARE_CSS, CompareFigures, comparison_note, comparison_table
from ..plots.network import NetworkDiagram
from ..session.comparison import Comparison, chosen_pair, compare
from ..session.frames import neuron_view, weight_view


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
def report_comparison(experiment) -> Comparison | None:
    """The comparison the report shows: the runs chosen in the Compare tab, or the last two (None with fewer)."""
    results = experiment.results
    pair = chosen_pair(results, experiment.compared)
    return compare(results[pair[0]], results[pair[1]]) if pair else None


def comparison_section(comparison: Comparison) -> list:
    """The report's section comparing two runs (static Bokeh figures, drawn once)."""
    figures = CompareFigures()
    figures.show(comparison)
    first, second = comparison.first.number, comparison.second.number
    text = (f"## Comparison of runs {first} and {second}\n\nTheir final decision maps, where they predict different "
            "classes, their curves over each run's own epochs, and their settings and results (those that differ "
            "in bold).")
    maps = [pn.pane.Bokeh(fig, margin=5) for fig in (figures.maps[0].figure, figures.maps[1].figure,
                                                     figures.disagreement.figure)]
    figures.curves.loss.sizing_mode = figures.curves.accuracy.sizing_mode = "fixed"
    figures.curves.loss.width = figures.curves.accuracy.width = 560
    return [
        pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(4, 10)),
        pn.pane.HTML(comparison_note(comparison), sizing_mode="stretch_width", margin=(0, 10)),
        pn.FlexBox(*maps, flex_wrap="wrap", gap="4px", sizing_mode="stretch_width", margin=0),
        pn.Row(pn.pane.Bokeh(figures.curves.loss, margin=5), pn.pane.Bokeh(figures.curves.accuracy, margin=5)),
        pn.pane.HTML(comparison_table(comparison), stylesheets=[COMPARE_CSS], margin=(0, 10),
                     css_classes=["nnp-comparison"]),
    ]
