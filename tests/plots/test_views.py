"""The HoloViews views of an experiment's results, headless: what they hold, that they render to Bokeh, that a
notebook user can restyle and overlay them, and the Experiment's accessor."""

from __future__ import annotations

import subprocess
import sys

import holoviews as hv
import numpy as np
import pytest
from bokeh.models import HoverTool, LinearColorMapper

from dashboard.plots.geometry import MAX_MAP_POINTS
from dashboard.plots.views import VIEWS, curves, decision_map, target_map, view
from dashboard.session.experiment import Experiment
from engine import Settings, Trainer, load_dataset
from engine.evaluation import evaluate_grid, evaluate_points


@pytest.fixture(scope="module")
def trained():
    trainer = Trainer(Settings(dataset="toy_xor", samples=600, hidden=(8,), activation="tanh", lr=0.02, epochs=40))
    trainer.train()
    return trainer, evaluate_grid(trainer, 60), evaluate_points(trainer)


def layers(overlay, kind):
    return [element for element in overlay if isinstance(element, kind)]


def test_decision_map_holds_the_grid_its_contour_and_the_points(trained):
    trainer, grid, evaluation = trained
    data = trainer.dataset
    shown = decision_map(grid, data, evaluation)
    (image,) = layers(shown, hv.Image)
    assert np.allclose(image.dimension_values(2, flat=False), grid.probability)
    assert image.kdims[0].name == data.axis_labels[0] and image.vdims[0].label == "P(class 1)"
    (path,) = layers(shown, hv.Path)
    assert len(path.dimension_values(0)) > 10  # the 0.5 contour, pieces separated by NaN rows
    points = layers(shown, hv.Points)
    wrong = sum(len(p) for p in points if p.group == "Wrong")
    assert wrong == min(MAX_MAP_POINTS, int((~evaluation.train_correct).sum())) + min(
        MAX_MAP_POINTS, int((~evaluation.test_correct).sum()))
    assert sum(len(p) for p in points) == len(data.points)  # under the cap: every point, right or wrong
    assert f"test accuracy {100 * evaluation.test_accuracy:.1f}%" in hv.Store.lookup_options(
        "bokeh", shown, "plot").kwargs["title"]
    figure = hv.render(shown)
    assert figure.title.text.startswith("Model: P(class 1)")
    assert any(isinstance(tool, HoverTool) for tool in figure.tools)
    # Views options: regions instead of probability, no test points, no crosses.
    plain = decision_map(grid, data, evaluation, discretize=True, show_test=False, mark_wrong=False)
    assert set(layers(plain, hv.Image)[0].dimension_values(2)) <= {0.0, 1.0}
    assert not [p for p in layers(plain, hv.Points) if p.group == "Wrong" and len(p)]
    assert sum(len(p) for p in layers(plain, hv.Points)) == len(data.train_index)


def test_a_map_without_boundary_has_no_contour(trained):
    """The default network scores the majority class everywhere: no 0.5 contour, and the plot still renders (an
    empty path would break the page's JavaScript)."""
    import dataclasses

    trainer, grid, _ = trained
    flat = dataclasses.replace(grid, probability=np.full_like(grid.probability, 0.2))
    (path,) = layers(decision_map(flat, trainer.dataset), hv.Path)
    assert path.data == []
    hv.render(decision_map(flat, trainer.dataset))


def test_a_notebook_user_can_restyle_and_overlay_a_view(trained):
    trainer, grid, evaluation = trained
    data = trainer.dataset
    restyled = decision_map(grid, data).opts(hv.opts.Image(cmap="viridis")).opts("Path", color="orange")
    mine = hv.Points(data.x_test[:5], kdims=list(data.axis_labels)).opts(color="green", size=12)
    figure = hv.render(restyled * mine)
    (image,) = [r.glyph for r in figure.renderers if type(r.glyph).__name__ == "Image"]
    assert isinstance(image.color_mapper, LinearColorMapper)
    assert image.color_mapper.palette[0].lower().startswith("#440154")  # viridis' first colour
    drawn = [r.glyph for r in figure.renderers]
    assert any(getattr(g, "line_color", None) == "orange" for g in drawn)
    assert any(getattr(g, "fill_color", None) == "green" for g in drawn)


def test_target_map_is_the_exact_target_or_all_the_points(trained):
    trainer, grid, _ = trained
    toy = target_map(trainer.dataset, grid)
    (image,) = layers(toy, hv.Image)
    assert set(np.unique(image.dimension_values(2))) == {0.0, 1.0}
    assert hv.render(toy).title.text == f"Exact target: {100 * grid.agreement:.1f}% agreement"
    iris = load_dataset(Settings(dataset="iris"))
    untrained = target_map(iris)
    assert not layers(untrained, hv.Image) and len(layers(untrained, hv.Points)[0]) == len(iris.points)
    assert hv.render(untrained).title.text == "All points; model's contour dashed"


def test_curves_have_every_run_and_the_baseline(trained):
    trainer, _, _ = trained
    trainer.train(10)
    loss, accuracy = curves(trainer.history, 0.5)
    assert len(layers(loss, hv.Curve)) == 4 and len(layers(accuracy, hv.Curve)) == 4  # 2 runs x train, test
    assert layers(accuracy, hv.HLine)[0].data == 50.0
    empty_loss, _ = curves(type(trainer.history)(), 0.5)
    assert "no epoch trained" in hv.render(empty_loss).title.text


def test_experiment_offers_its_views():
    experiment = Experiment(dataset="toy_xor", samples=400, hidden="4", epochs=20)
    untrained = experiment.plot()
    assert not layers(untrained, hv.Image) and "none yet" in hv.render(untrained).title.text
    experiment.train()
    experiment.wait(timeout=120)
    shown = experiment.plot("map", discretize=True)
    assert np.array_equal(layers(shown, hv.Image)[0].dimension_values(2, flat=False), experiment.grid.prediction)
    both = experiment.plot("curves")
    assert isinstance(both, hv.Layout) and len(both) == 2
    assert len(layers(experiment.plot("loss"), hv.Curve)) == 2
    assert isinstance(experiment.plot("target"), hv.Overlay)
    with pytest.raises(ValueError, match="one of map"):
        experiment.plot("maps")
    assert VIEWS == ("map", "target", "loss", "accuracy", "curves")
    assert view("accuracy", experiment.data) is not None  # no history: empty curves


def test_views_import_neither_panel_nor_the_session():
    """Only numpy, holoviews, the engine and the plots' own geometry and style (holoviews itself loads panel)."""
    import ast

    import dashboard.plots.views as views

    tree = ast.parse(open(views.__file__, encoding="utf-8").read())
    imported = {node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert {name.split(".")[0] for name in imported if name} == {"__future__", "holoviews", "numpy", "engine",
                                                                "geometry", "style"}
    code = "import sys, dashboard.plots.views; print(sorted(m for m in sys.modules if m.startswith('dashboard.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['dashboard.plots', 'dashboard.plots.geometry', 'dashboard.plots.style', " \
                          "'dashboard.plots.views']"


def test_the_readme_example_runs():
    """The README's notebook example, with fewer epochs: every expression it shows renders."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## HoloViews views in a notebook"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)[1].replace("epochs=400", "epochs=30")
    shown = []
    lines = [f"shown.append({line.split('  #')[0].strip()})" if line.startswith("experiment.plot(") else line
             for line in code.splitlines()]
    exec("\n".join(lines), {"shown": shown})
    assert [type(shown_view).__name__ for shown_view in shown] == ["Overlay", "Layout"]
    for shown_view in shown:
        hv.render(shown_view)
