"""A sweep's results as HoloViews plots: a heatmap of one metric over one or two varied settings (`sweep_grid`,
`sweep_heatmap`), its spread over seeds (`sweep_spread`), and the results as an HTML table. Built from engine results
only, so the Sweep tab, the report and a notebook draw the same plots. A cell holds one combination's models, one
per seed; stopped models do not count, diverged ones do. The Bokeh models are named `nnp-sweep-*` for browser tests.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import holoviews as hv
import numpy as np
import pandas as pd
from bokeh.models import HoverTool

from engine.settings import SPECS, Settings, format_value

# metric -> (label, Bokeh number format for hover, higher is better)
METRICS = {
    "test_accuracy": ("Test accuracy", "0.0%", True),
    "train_accuracy": ("Train accuracy", "0.0%", True),
    "gap": ("Train-test gap", "0.0%", False),
    "loss": ("Loss", "0.0000", False),
    "epochs_to_95": ("Epochs to converge", "0", False),
}
ONE_ROW = "all"
TEXT_COLUMNS = [
    "mean",
    "std",
    "range",
    "seeds",
    "majority",
    "text",
]  # the y value of a one-setting heatmap's single row
SWEEP_TABLE_CSS = """
table.nnp-sweep { border-collapse: collapse; font-size: 12px; }
table.nnp-sweep th, table.nnp-sweep td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #ddd;
  white-space: nowrap; }
table.nnp-sweep th { background: #f4f6f8; position: sticky; top: 0; }
table.nnp-sweep tr.stopped td { color: #888; }
"""


def metric_value(result, metric: str) -> float | None:
    """One model's value of a metric (None if it has none: stopped, no epoch, never reached 95 %)."""
    if result.ended == "stopped" or result.final is None:
        return None
    final = result.final
    if metric == "gap":
        train, test = final.get("train_accuracy"), final.get("test_accuracy")
        value = None if train is None or test is None else train - test
    elif metric == "epochs_to_95":
        value = result.epochs_to_95
    else:
        value = final.get(metric)
    return None if value is None or not math.isfinite(value) else float(value)


def axis_label(name: str, value) -> str:
    """A setting's value as an axis shows it: '8,8' (0 for no hidden layer), '0.01', 'relu'."""
    if isinstance(value, tuple) and not value:  # no hidden layer
        return "0"
    if isinstance(value, float):
        return f"{value:g}"
    return format_value(value)


@dataclass
class Cell:
    """One combination of the varied settings: its models' values and settings, seed by seed."""

    labels: tuple[str, ...]
    models: int = 0  # how many models the sweep has for it (its seeds)
    values: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    settings: list[Settings] = field(default_factory=list)

    def stat(self, what: str) -> float:
        if not self.values:
            return float("nan")
        return float({"mean": np.mean, "std": np.std, "min": np.min, "max": np.max}[what](self.values))

    def best(self, higher: bool = True) -> Settings | None:
        """The settings of the seed with the best value (None before any has finished)."""
        if not self.values:
            return None
        pick = int(np.argmax(self.values) if higher else np.argmin(self.values))
        return self.settings[pick]


@dataclass
class SweepGrid:
    """The cells of a sweep for one metric: `names` the varied settings (one or two), `levels` each one's labels
    in the sweep's order, `cells` by their labels."""

    names: list[str]
    levels: list[list[str]]
    cells: dict[tuple[str, ...], Cell]
    metric: str
    done: int = 0  # models with a result (any ending)
    total: int = 0

    @property
    def label(self) -> str:
        return METRICS[self.metric][0]

    @property
    def higher(self) -> bool:
        return METRICS[self.metric][2]

    def frame(self, majority: float | None = None) -> pd.DataFrame:
        """One row per cell: x, y (ONE_ROW for one setting), value (the mean over seeds; NaN before any finished),
        and as text for hover and labels: mean, std, range (min - max), seeds finished, majority, text."""
        rows = []
        for labels, cell in self.cells.items():
            x, y = (labels[0], labels[1]) if len(labels) > 1 else (labels[0], ONE_ROW)
            mean = cell.stat("mean")

            def shown(v: float) -> str:
                return "" if math.isnan(v) else _format(v, self.metric)

            rows.append({"x": x, "y": y, "value": mean, "mean": shown(mean), "std": shown(cell.stat("std")),
                             "range": f"{shown(cell.stat('min'))} - {shown(cell.stat('max'))}" if cell.values else "",
                             "seeds": f"{len(cell.values)} of {cell.models}",
                             "majority": "" if majority is None else f"{100 * majority:.1f}%",
                             "text": "" if math.isnan(mean) else _format(mean, self.metric, short=True)})
        return pd.DataFrame(rows, columns=["x", "y", "value", *TEXT_COLUMNS])

    def finished(self) -> int:
        """Cells with at least one value."""
        return sum(bool(cell.values) for cell in self.cells.values())


def _format(value: float, metric: str, short: bool = False) -> str:
    """A metric as the hover (long) or the cell's label (short) shows it."""
    if METRICS[metric][1].endswith("%"):
        return f"{100 * value:.1f}" + ("" if short else "%")
    if metric == "epochs_to_95":
        return f"{value:.{0 if short else 1}f}"
    return f"{value:.{3 if short else 4}f}"


def sweep_grid(sweep, results, metric: str = "test_accuracy") -> SweepGrid:
    """The cells of `sweep` (its axes: the first one or two are drawn), filled with the `results` so far."""
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r}: one of {', '.join(METRICS)}")
    names = list(sweep.axes)[:2]
    models = sweep.models()
    levels: list[list[str]] = [[] for _ in names]
    cells: dict[tuple[str, ...], Cell] = {}
    for settings in models:
        labels = tuple(axis_label(name, getattr(settings, name)) for name in names)
        for level, label in zip(levels, labels):
            if label not in level:
                level.append(label)
        cells.setdefault(labels, Cell(labels)).models += 1
    for result in results:
        labels = tuple(axis_label(name, getattr(result.settings, name)) for name in names)
        value = metric_value(result, metric)
        cell = cells.get(labels)
        if cell is not None and value is not None:
            cell.values.append(value)
            cell.seeds.append(result.settings.seed)
            cell.settings.append(result.settings)
    return SweepGrid(names, levels, cells, metric, done=len(results), total=len(models))


def _named(figure: str, source: str | None = None):
    def hook(plot, element):
        plot.state.name = figure
        if source is not None and "source" in plot.handles:
            plot.handles["source"].name = source

    return hook


def _hover(grid: SweepGrid, x: str, y: str | None) -> HoverTool:
    tips = [(x, "@x")] + ([(y, "@y")] if y else [])
    tips += [(f"{grid.label} (mean)", "@mean"), ("spread (std)", "@std"), ("min - max", "@range"),
             ("seeds", "@seeds"), ("majority baseline", "@majority")]
    return HoverTool(tooltips=tips)


def sweep_heatmap(grid: SweepGrid, majority: float | None = None, width: int = 560, height: int | None = None,
                  title: str | None = None) -> hv.Overlay:
    """The metric's mean over seeds, one cell per combination (one axis per varied setting; one setting: one
    row), with its value written in; hover shows the mean, the spread over seeds and the majority baseline.
    Cells not finished yet are blank."""
    frame = grid.frame(majority)
    one = len(grid.names) == 1
    x = SPECS[grid.names[0]].label if grid.names else ""
    y = None if one or not grid.names else SPECS[grid.names[1]].label
    accuracy = grid.metric in ("test_accuracy", "train_accuracy")
    clim = (0.0, 1.0) if accuracy else (None, None)
    cmap = "RdYlGn" if grid.higher else "RdYlGn_r"  # red bad, green good; black text reads on every colour
    heat = hv.HeatMap(frame, kdims=["x", "y"], vdims=["value", *TEXT_COLUMNS])
    labels = hv.Labels(frame, kdims=["x", "y"], vdims=["text"])
    rows = 1 if one else max(1, len(grid.levels[1]))
    xlevels = grid.levels[0] if grid.levels else []
    ylevels = [ONE_ROW] if one else (grid.levels[1] if len(grid.levels) > 1 else [ONE_ROW])
    done = f" ({grid.done} of {grid.total} models)" if grid.done < grid.total else ""
    heat = heat.redim.values(x=xlevels, y=ylevels).opts(
        cmap=cmap,
        clim=clim,
        colorbar=True,
        clabel=grid.label,
        clipping_colors={"NaN": "#f0f0f0"},
        tools=[_hover(grid, x, y), "tap"],
        xlabel=x,
        ylabel="" if one else y,
        yaxis=None if one else "left",
        width=width,
        height=height or (140 if one else 90 + 60 * rows),
        title=title or f"{grid.label}{done}",
        toolbar="above",
        default_tools=[],
        line_color="white",
        line_width=1,
        nonselection_alpha=1.0,
        hooks=[_named("nnp-sweep-heatmap", "nnp-sweep-heatmap-source")],
    )
    labels = labels.opts(text_font_size="10pt", text_color="black")
    return (heat * labels).opts(toolbar="above")


def sweep_spread(grid: SweepGrid, width: int = 560, height: int = 260) -> hv.Overlay:
    """Every seed's value per cell (points), with the mean and one standard deviation either side (error bars)."""
    names = grid.names
    points, bars = [], []
    for labels, cell in grid.cells.items():
        name = " | ".join(labels)
        for value, seed in zip(cell.values, cell.seeds):
            points.append((name, value, seed))
        if cell.values:
            bars.append((name, cell.stat("mean"), cell.stat("std")))
    order = [" | ".join(labels) for labels in grid.cells]
    described = " | ".join(SPECS[name].label for name in names) or "cell"
    scatter = hv.Scatter(pd.DataFrame(points, columns=["cell", "value", "seed"]), kdims=["cell"],
                         vdims=["value", "seed"]).redim.values(cell=order).opts(
        size=7, color="#1f77b4", alpha=0.7, tools=["hover"], xlabel=described, ylabel=grid.label, xrotation=45)
    errors = hv.ErrorBars(pd.DataFrame(bars, columns=["cell", "mean", "std"]), kdims=["cell"],
                          vdims=["mean", "std"]).opts(color="#d62728", line_width=2)
    means = hv.Scatter(pd.DataFrame(bars, columns=["cell", "mean", "std"]), kdims=["cell"], vdims=["mean"]).opts(
        marker="dash", size=18, color="#d62728")
    return (scatter * errors * means).opts(
        width=width, height=height, title=f"{grid.label}: each seed (dots), mean and std (red)", toolbar="above",
        hooks=[_named("nnp-sweep-spread")])


def sweep_table_html(sweep, results, majority: float | None = None) -> str:
    """Every model's result as an HTML table: the varied settings, the seed, the final metrics, how it ended."""
    names = list(sweep.axes)
    head = [SPECS[name].label for name in names] + ["Seed", "Loss", "Train acc.", "Test acc.", "Gap",
                                                     "Epochs to 95%", "Seconds", "Ended"]
    rows = []

    def percent(value):
        return "" if value is None else f"{100 * value:.1f}%"

    for r in sorted(results, key=lambda r: r.index):
        final = r.final or {}
        gap = metric_value(r, "gap") if r.ended != "stopped" else None
        loss = final.get("loss")
        cells = [axis_label(name, getattr(r.settings, name)) for name in names] + [
            str(r.settings.seed), "" if loss is None else f"{loss:.4f}", percent(final.get("train_accuracy")),
            percent(final.get("test_accuracy")), percent(gap), "" if r.epochs_to_95 is None else str(r.epochs_to_95),
            f"{r.seconds:.2f}", r.ended]
        rows.append(f'<tr class="{html.escape(r.ended)}">' + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                    + "</tr>")
    caption = "" if majority is None else (f"<caption>Majority baseline (always the most common class): "
                                           f"{100 * majority:.1f}% of the test set</caption>")
    return (f'<table class="nnp-sweep">{caption}<thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
