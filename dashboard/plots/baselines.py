"""The classic classifiers beside the network, as scikit-learn's classifier comparison shows them: small decision
maps (the network's first) titled with their test accuracy, and a table of settings and results. For the Baselines
tab and the report. The Bokeh figures are named `nnp-baseline-<name>` (network, logistic, knn, ...)."""

from __future__ import annotations

import html

import holoviews as hv

from engine import Dataset
from engine.baselines import CLASSIFIERS, MAX_FIT_POINTS, MAX_TEST_POINTS, Baselines
from engine.evaluation import GridMap

from .compare import named
from .style import MAP_SIZE, TABLE_CSS
from .views import contour, frame, points_layers, probability_image

BASELINE_MAP_SIZE = MAP_SIZE - 90  # four maps in a row on a 1366 px wide screen, two rows in its height
BASELINES_CSS = TABLE_CSS + """
tr:last-child td { font-weight: normal; }
td:first-child, td:nth-child(2), td:last-child { text-align: left; }
"""
NOTE_CSS = ".live-html { font-size: 13px; color: #333; padding: 2px 0; }"
INTRO = ("The network beside classic classifiers (scikit-learn, default settings, standardised inputs) fitted on "
         "the same training set and tested on the same test set, as scikit-learn's classifier comparison shows "
         "them. Logistic regression takes the network's input features; the others take x and y. Each map is "
         "P(class 1) (for the SVM the sigmoid of its decision function) with its 0.5 contour, the training points "
         "as circles and the test points as triangles. Bounded for large data: each is fitted on at most "
         f"{MAX_FIT_POINTS:,} training points and tested on at most {MAX_TEST_POINTS:,} test points.")


def small_map(grid: GridMap | None, dataset: Dataset, title: str, name: str) -> hv.Overlay:
    """One classifier's map, small: probability, 0.5 contour and the points (only the points without a grid)."""
    layers = [] if grid is None else [probability_image(grid, dataset).opts(colorbar=False), contour(grid, dataset)]
    layers += points_layers(dataset)
    return frame(hv.Overlay(layers), dataset, title, BASELINE_MAP_SIZE).opts(
        toolbar=None, fontsize={"title": "9pt", "labels": "8pt", "ticks": "7pt"},
        hooks=[named(figure=f"nnp-baseline-{name}")])


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def network_title(entry: dict | None) -> str:
    if entry is None or entry["test_accuracy"] is None:
        return "Network: not trained yet"
    return f"{entry['label']}: test {_percent(entry['test_accuracy'])}"


def network_map(dataset: Dataset, grid: GridMap | None, network: dict | None) -> hv.Overlay:
    """The network's small map (its `network_entry`; the points alone without a model)."""
    return small_map(grid, dataset, network_title(network), "network")


def classifier_maps(dataset: Dataset, baselines: Baselines | None) -> list[hv.Overlay]:
    """Each classifier's small map (the points alone, titled 'fitting…', while `baselines` is None)."""
    if baselines is None:
        return [small_map(None, dataset, f"{c.label}: fitting…", c.name) for c in CLASSIFIERS]
    return [small_map(r.grid, dataset, f"{r.label}: test {_percent(r.test_accuracy)}", r.name)
            for r in baselines.results]


def baselines_table(baselines: Baselines, network: dict | None = None) -> str:
    """The network (if given, in bold) and the classifiers: inputs, train and test accuracy, agreement with the
    exact target, seconds, settings; an HTML table."""
    rows = ([network] if network else []) + [result.to_dict() for result in baselines.results]
    head = "".join(f"<th>{name}</th>" for name in ("classifier", "inputs", "train", "test", "target", "seconds",
                                                   "settings"))
    body = []
    for row in rows:
        seconds = "" if row["seconds"] is None else f"{row['seconds']:.2f}"
        cells = (row["label"], ", ".join(row["inputs"]), _percent(row["train_accuracy"]),
                 _percent(row["test_accuracy"]), _percent(row["agreement"]), seconds, row["settings"])
        bold = ("<b>", "</b>") if row["name"] == "network" else ("", "")  # not a class: Panel strips attributes
        body.append("<tr>" + "".join(f"<td>{bold[0]}{html.escape(cell)}{bold[1]}</td>" for cell in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def baselines_note(baselines: Baselines) -> str:
    """What the classifiers saw, and the majority baseline (HTML)."""
    return html.escape(f"{baselines.note} Always answering the most common class gets "
                       f"{_percent(baselines.majority)} of the test set; 'target': agreement with the exact pattern.")
