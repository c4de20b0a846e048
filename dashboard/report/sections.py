"""Report sections: the hints about the run, and, drawn with the app's HoloViews builders, the network diagram,
the classic classifiers beside the network and the comparison of two runs."""

from __future__ import annotations

import html

import panel as pn

from engine import Trainer
from engine.baselines import fit_baselines, network_entry
from engine.evaluation import Evaluation, GridMap, evaluate_grid
from engine.hints import Hint
from engine.snapshots import NEURON_MAP_SIZE, neuron_view, weight_view

from ..plots.baselines import (
    BASELINES_CSS,
    INTRO,
    baselines_note,
    baselines_table,
    classifier_maps,
    network_map,
)
from ..plots.compare import (
    COMPARE_CSS,
    compare_views,
    comparison_note,
    comparison_table,
)
from ..plots.network import network_view
from ..session.comparison import Comparison, chosen_pair, compare

REPORT_CURVE_WIDTH = 560


def hints_section(hints: list[Hint]) -> list:
    """The report's section naming what the run shows (engine.hints), each with the experiment that tests it
    ([] when there is none)."""
    if not hints:
        return []
    items = "".join(
        f"<li><b>{html.escape(hint.name)}</b>: {html.escape(hint.message)}<br>Try it: the same settings with "
        f"<code>{html.escape(hint.variant_options())}</code> ({html.escape(hint.variant_text())}).</li>"
        for hint in hints)
    return [pn.pane.Markdown("## Hints\n\nWhat this training shows, with the numbers that show it, and the "
                             "experiment that tests it.", sizing_mode="stretch_width", margin=(4, 10)),
            pn.pane.HTML(f"<ul>{items}</ul>", sizing_mode="stretch_width", margin=(0, 10), css_classes=["nnp-hints"])]


def network_section(trainer: Trainer) -> list:
    """The report's section on the trained network: the diagram with every hidden neuron's map and the output's
    ([] without hidden layers)."""
    settings = trainer.settings
    if not settings.hidden:
        return []
    output = evaluate_grid(trainer, NEURON_MAP_SIZE).probability  # as small as the neuron maps it is drawn beside
    diagram = network_view(settings.features, settings.hidden, neuron_view(trainer), weight_view(trainer), output)
    text = ("## Inside the network\n\nEach hidden neuron drawn as a map of its activation over the square (scaled "
            "to its own largest value), between the inputs and the output, drawn as the model's probability of "
            "class 1 (blue 0, red 1, as the decision map); each edge is a weight, as thick as its size (hover it "
            "for the value).")
    return [pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(4, 10)),
            pn.pane.HoloViews(diagram, css_classes=["nnp-network"], margin=5)]


def baselines_section(trainer: Trainer, grid: GridMap, evaluation: Evaluation) -> tuple[list, dict]:
    """The report's section on classic classifiers fitted on the same split, beside the network (the Baselines
    tab's maps and table), and its numbers (without the fitting times, which differ from run to run)."""
    data, settings = trainer.dataset, trainer.settings
    try:
        fitted = fit_baselines(data, settings.features, settings.seed)
    except ValueError as error:  # data no classifier can take: said in the section
        return [pn.pane.Markdown(f"## Against classic classifiers\n\nNot fitted: {error}.",
                                 sizing_mode="stretch_width", margin=(4, 10))], None
    network = network_entry(settings, evaluation.train_accuracy, evaluation.test_accuracy, grid.agreement,
                            trainer.epochs_done)
    maps = [network_map(data, grid, network), *classifier_maps(data, fitted)]
    section = [
        pn.pane.Markdown("## Against classic classifiers\n\n" + INTRO, sizing_mode="stretch_width", margin=(4, 10)),
        pn.pane.HTML(baselines_note(fitted), sizing_mode="stretch_width", margin=(0, 10)),
        pn.FlexBox(*(pn.pane.HoloViews(view, margin=2) for view in maps), flex_wrap="wrap", gap="0px",
                   sizing_mode="stretch_width", margin=0),
        pn.pane.HTML(baselines_table(fitted, network), stylesheets=[BASELINES_CSS], margin=(0, 10),
                     css_classes=["nnp-baselines"], styles={"overflow-x": "auto"}),
    ]
    numbers = fitted.to_dict()
    numbers["classifiers"] = [{key: value for key, value in row.items() if key != "seconds"}
                              for row in numbers["classifiers"]]
    return section, numbers


def report_comparison(experiment, compared: list[int] = ()) -> Comparison | None:
    """The comparison the report shows: the runs chosen in the Compare tab, or the last two (None with fewer)."""
    results = experiment.results
    pair = chosen_pair(results, list(compared))
    return compare(results[pair[0]], results[pair[1]]) if pair else None


def comparison_section(comparison: Comparison) -> list:
    """The report's section comparing two runs (the Compare tab's HoloViews plots, drawn once)."""
    views = compare_views(comparison)
    first, second = comparison.first.number, comparison.second.number
    text = (f"## Comparison of runs {first} and {second}\n\nTheir final decision maps, where they predict different "
            "classes, their curves over each run's own epochs, and their settings and results (those that differ "
            "in bold).")
    curves = [pn.pane.HoloViews(views[key].opts(responsive=False, width=REPORT_CURVE_WIDTH), margin=5)
              for key in ("loss", "accuracy")]
    return [
        pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(4, 10)),
        pn.pane.HTML(comparison_note(comparison), sizing_mode="stretch_width", margin=(0, 10)),
        pn.FlexBox(*(pn.pane.HoloViews(views[key], margin=5) for key in ("a", "b", "diff")), flex_wrap="wrap",
                   gap="4px", sizing_mode="stretch_width", margin=0),
        pn.Row(*curves),
        pn.pane.HTML(comparison_table(comparison), stylesheets=[COMPARE_CSS], margin=(0, 10),
                     css_classes=["nnp-comparison"]),
    ]
