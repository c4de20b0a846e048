"""The sweep's plots (plots/sweep.py), built from engine results: the cells, the heatmap, the spread, the table."""

from __future__ import annotations

import math

import holoviews as hv
import pytest

from dashboard.plots.sweep import (
    METRICS,
    axis_label,
    metric_value,
    sweep_grid,
    sweep_heatmap,
    sweep_spread,
    sweep_table_html,
)
from engine import Settings
from engine.sweep import Sweep, run_sweep

hv.extension("bokeh")


@pytest.fixture(scope="module")
def swept():
    sweep = Sweep(
        Settings(dataset="toy_xor", samples=200, epochs=12),
        {"lr": [0.01, 0.1], "hidden": [(4,), (8, 8), ()]},
        seeds=[0, 1],
    )
    return sweep, run_sweep(sweep, workers=1)


def test_cells_follow_the_sweeps_order_and_fill_in_with_results(swept):
    sweep, results = swept
    empty = sweep_grid(sweep, [])
    assert empty.names == ["lr", "hidden"]
    assert empty.levels == [["0.01", "0.1"], ["4", "8,8", "0"]]
    assert empty.finished() == 0 and empty.total == 12
    frame = empty.frame()
    assert len(frame) == 6 and frame["value"].isna().all() and (frame["seeds"] == "0 of 2").all()
    partial = sweep_grid(sweep, results[:3])
    assert partial.finished() == 2 and partial.done == 3
    full = sweep_grid(sweep, results)
    cell = full.cells[("0.1", "8,8")]
    values = [r.final["test_accuracy"] for r in results if r.settings.lr == 0.1 and r.settings.hidden == (8, 8)]
    assert cell.values == pytest.approx(values)
    assert cell.stat("mean") == pytest.approx(sum(values) / 2)
    assert cell.stat("min") == min(values) and cell.stat("max") == max(values)
    best = cell.best(True)
    assert best.seed == cell.seeds[values.index(max(values))] and best.hidden == (8, 8) and best.lr == 0.1


def test_metrics_and_labels(swept):
    sweep, results = swept
    r = results[0]
    assert metric_value(r, "gap") == pytest.approx(r.final["train_accuracy"] - r.final["test_accuracy"])
    assert metric_value(r, "loss") == pytest.approx(r.final["loss"])
    assert metric_value(r, "epochs_to_halfway") == r.epochs_to_halfway
    stopped = type(r)(**{**r.__dict__, "ended": "stopped"})
    assert metric_value(stopped, "test_accuracy") is None  # a shorter training does not count
    assert axis_label("hidden", ()) == "0" and axis_label("hidden", (8, 8)) == "8,8"
    assert axis_label("lr", 0.001) == "0.001" and axis_label("features", ("x", "y", "xy")) == "x,y,xy"
    assert axis_label("iris_features", ("sepal_length", "petal_width")) == "sepal L, petal W"
    for metric in METRICS:
        sweep_grid(sweep, results, metric)
    with pytest.raises(ValueError):
        sweep_grid(sweep, results, "speed")


def test_heatmap_hover_shows_mean_spread_and_majority(swept):
    sweep, results = swept
    plot = sweep_heatmap(sweep_grid(sweep, results[:5]))
    figure = hv.render(plot)
    assert figure.name == "nnp-sweep-heatmap"
    heat = plot.HeatMap.I
    assert set(heat.data["x"]) == {"0.01", "0.1"}
    tips = [tool.tooltips for tool in figure.tools if type(tool).__name__ == "HoverTool" and tool.tooltips]
    text = str(tips)
    for word in ("mean", "std", "min - max", "majority baseline", "seeds", "above the baseline"):
        assert word in text
    source = next(r.data_source for r in figure.renderers if r.data_source.name == "nnp-sweep-heatmap-source")
    own = f"{100 * results[0].majority:.1f}%"  # XOR's own test set
    assert [m for m in source.data["majority"] if m] == [own] * 3
    means = list(source.data["zvalues"])
    assert len(means) == 6 and sum(not math.isnan(v) for v in means) == 3  # 5 models: 2 cells full, 1 half


def test_one_setting_is_a_single_row(swept):
    sweep = Sweep(Settings(dataset="toy_xor", samples=200, epochs=5), {"activation": ["relu", "tanh"]}, seeds=[0])
    results = run_sweep(sweep, workers=1)
    grid = sweep_grid(sweep, results, "loss")
    frame = grid.frame()
    assert list(frame["x"]) == ["relu", "tanh"] and frame["y"].nunique() == 1
    hv.render(sweep_heatmap(grid))


def test_spread_shows_every_seed_and_the_table_every_model(swept):
    sweep, results = swept
    spread = sweep_spread(sweep_grid(sweep, results))
    assert hv.render(spread).name == "nnp-sweep-spread"
    assert len(spread.Scatter.I.data) == 12
    table = sweep_table_html(sweep, results)
    own = f"<td>{100 * results[0].majority:.1f}%</td>"  # every row beside its own baseline
    assert table.count("<tr class=") == 12 and table.count(own) >= 12 and "Learning rate" in table


def test_accuracy_colours_are_centred_on_each_cells_own_baseline():
    """A dataset sweep: each cell is coloured by its accuracy minus its own dataset's majority baseline, grey
    (0) within a point of it, on a symmetric scale whose middle colour is grey; the labels stay accuracies."""
    sweep = Sweep(Settings(samples=300, epochs=3, hidden=()), {"dataset": ["toy_easy", "toy_xor"]}, seeds=[0])
    results = run_sweep(sweep, workers=1)
    grid = sweep_grid(sweep, results)
    frame = grid.frame().set_index("x")
    for r in results:
        cell = frame.loc[r.settings.dataset]
        above = 100 * (r.final["test_accuracy"] - r.majority)
        assert cell["shade"] == pytest.approx(0 if abs(above) < 1 else above)
        assert cell["value"] == pytest.approx(100 * r.final["test_accuracy"])
        assert cell["majority"] == f"{100 * r.majority:.1f}%"
    assert {r.majority for r in results} != {results[0].majority}  # two datasets, two baselines
    figure = hv.render(sweep_heatmap(grid))
    mapper = next(r.glyph.fill_color["transform"] for r in figure.renderers
                  if r.data_source.name == "nnp-sweep-heatmap-source")
    assert mapper.low == -mapper.high and mapper.high >= 10
    palette = list(mapper.palette)
    assert palette[len(palette) // 2] == "#e0e0e0" and len(palette) % 2 == 1
    assert "baseline" in figure.select_one({"type": __import__("bokeh").models.ColorBar}).title


def test_a_model_at_its_baseline_is_grey_not_green():
    """The default network on toy_easy learns only the majority class: its cell's colour is the middle grey."""
    sweep = Sweep(Settings(samples=300), {"hidden": [(4,)]}, seeds=[0])
    results = run_sweep(sweep, workers=1)
    assert abs(results[0].final["test_accuracy"] - results[0].majority) < 0.01
    assert sweep_grid(sweep, results).frame()["shade"].tolist() == [0.0]
