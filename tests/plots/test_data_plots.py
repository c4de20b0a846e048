"""The data plots' legends, headless: every item has a row to draw its marker from, even a kind with no point."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest
from bokeh.models import Legend

from dashboard.plots.data import dataset_view, evaluation_view, split_views
from engine import Settings, Trainer
from engine.evaluation import Evaluation, evaluate_grid

hv.extension("bokeh")


def legend_rows(view) -> dict[str, int]:
    """Each legend item's label and the fewest rows among its renderers (Bokeh draws the marker from row 0)."""
    figure = hv.render(view)
    (legend,) = figure.select(type=Legend)
    return {item.label.value: min(len(r.data_source.data["x"]) if "x" in r.data_source.data else
                                  len(next(iter(r.data_source.data.values()))) for r in item.renderers)
            for item in legend.items}


@pytest.fixture(scope="module")
def trained():
    trainer = Trainer(Settings(dataset="toy_xor", samples=80, hidden=(2,), epochs=2))
    trainer.train()
    return trainer


@pytest.mark.parametrize("which", ["train", "test"])
def test_evaluation_legend_lists_every_kind_with_its_marker_even_with_no_such_point(trained, which):
    data = trained.dataset
    # A model that gets every class-1 point wrong and every class-0 point right: no "class 1: correct" point.
    evaluation = Evaluation(data.y_train < 0.5, data.y_test < 0.5, np.zeros((2, 2), int), np.zeros((2, 2), int))
    view = evaluation_view(data, evaluate_grid(trained, 20), evaluation, which)
    rows = legend_rows(view)
    assert set(rows) == {"class 0: correct", "class 0: wrong", "class 1: correct", "class 1: wrong"}
    assert all(count >= 1 for count in rows.values()), rows
    # The stand-in row of an empty kind is not a point: nothing is drawn, and no count changes.
    empty = [layer for layer in view if layer.label in ("class 1: correct", "class 0: wrong")]
    assert all(np.isnan(layer.dimension_values(0)).all() for layer in empty)


def test_dataset_and_split_legends_have_their_markers(trained):
    for view in (dataset_view(trained.dataset), *split_views(trained.dataset)):
        rows = legend_rows(view)
        assert set(rows) == {"class 0", "class 1"} and min(rows.values()) >= 1
