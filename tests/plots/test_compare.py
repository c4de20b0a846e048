"""The Compare plots as HoloViews, headless: built from two runs' results, rendered into a Bokeh document with the
names the browser tests find them by, and the disagreement without a common grid."""

from __future__ import annotations

import dataclasses

import holoviews as hv
import numpy as np
import panel as pn
import pytest
from bokeh.document import Document

from dashboard.plots.compare import compare_views
from dashboard.session.comparison import compare
from dashboard.session.experiment import Experiment


@pytest.fixture(scope="module")
def results():
    experiment = Experiment(dataset="toy_xor", samples=500, hidden="8", activation="tanh", lr=0.02, epochs=30)
    experiment.train()
    experiment.wait(timeout=120)
    experiment.epochs = 12
    experiment.continue_training()
    experiment.wait(timeout=120)
    return experiment.results


def rendered(views) -> Document:
    doc = Document()
    for view in views.values():
        doc.add_root(pn.pane.HoloViews(view).get_root(doc))
    return doc


def test_compare_views_are_holoviews_named_for_the_page(results):
    comparison = compare(results[1], results[2])
    views = compare_views(comparison)
    assert set(views) == {"a", "b", "diff", "loss", "accuracy"}
    assert all(isinstance(view, hv.Overlay) for view in views.values())
    (image,) = [e for e in views["a"] if isinstance(e, hv.Image)]
    assert np.allclose(image.dimension_values(2, flat=False), results[1].grid.probability)
    doc = rendered(views)
    a, b, diff = (doc.get_model_by_name(f"nnp-compare-{name}") for name in ("a", "b", "diff"))
    assert a.title.text == f"Run 1: test accuracy {100 * results[1].test_accuracy:.1f}%"
    assert b.title.text.startswith("Run 2: ") and a.title.text_color != b.title.text_color  # the runs' colours
    assert diff.title.text == f"Disagreement: {100 * comparison.share:.1f}% of the grid"
    assert [item.label.value for item in diff.legend[0].items] == ["run 1", "run 2"]
    for item in diff.legend[0].items:  # each marker has a row to be drawn from, styled as its run's contour
        (line,) = item.renderers
        assert len(line.data_source.data["x"]) == 1 and line.glyph.line_width == 2
    assert [item.renderers[0].glyph.line_dash for item in diff.legend[0].items] == [[], [6]]
    for side, result, epochs in (("a", results[1], 30), ("b", results[2], 12)):
        data = doc.get_model_by_name(f"nnp-compare-curves-{side}").data
        assert list(data["epoch"]) == list(range(1, epochs + 1))  # each run over its own epochs
        assert set(data["run"]) == {f"run {result.number}"}
        assert list(data["model_epoch"]) == list(result.curves["epoch"])
    image = doc.get_model_by_name("nnp-compare-diff-image").data["image"][0]
    assert np.array_equal(image, comparison.differs.astype(np.float32))
    assert doc.get_model_by_name("nnp-compare-accuracy").y_range.end == 105


def test_maps_on_different_grids_have_no_disagreement_map(results):
    other = dataclasses.replace(results[2], area=dataclasses.replace(results[2].area, axis_labels=("a", "b")))
    comparison = compare(results[1], other)
    assert comparison.differs is None
    doc = rendered(compare_views(comparison))
    assert doc.get_model_by_name("nnp-compare-diff").title.text == "Disagreement: no map"
    assert doc.get_model_by_name("nnp-compare-diff-image") is None


def test_a_run_without_a_contour_keeps_its_legend_marker(results):
    flat = dataclasses.replace(results[2], grid=dataclasses.replace(
        results[2].grid, probability=np.zeros_like(results[2].grid.probability)))
    doc = rendered(compare_views(compare(results[1], flat)))
    (legend,) = doc.get_model_by_name("nnp-compare-diff").legend
    assert [item.label.value for item in legend.items] == ["run 1", "run 2"]
    assert all(len(item.renderers[0].data_source.data["x"]) == 1 for item in legend.items)
