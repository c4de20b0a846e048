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

from engine.setting_types import format_value
from engine.settings import SPECS, Settings

# metric -> (label, unit, higher is better); "%" metrics are shares, shown as percents
METRICS = {
    "test_accuracy": ("Test accuracy", "%", True),
    "train_accuracy": ("Train accuracy", "%", True),
    "gap": ("Train-test gap", "%", False),
    "loss": ("Loss", "", False),
    "epochs_to_halfway": ("Epochs to halfway", "", False),
}
ACCURACIES = ("test_accuracy", "train_accuracy")  # coloured against each cell's own majority baseline
ONE_ROW = "all"  # the y value of a one-setting heatmap's single row
TEXT_COLUMNS = ["mean", "std", "range", "seeds", "majority", "above", "text"]
NEAR_BASELINE = 1.0  # points: a cell this close to its baseline learned nothing, and is drawn grey
BELOW, GREY, ABOVE = (178, 24, 43), (224, 224, 224), (33, 102, 172)  # red-grey-blue: safe for colour-blind eyes
SHORT_WORDS = {"sepal": "sepal", "petal": "petal", "length": "L", "width": "W"}  # Iris pairs as axis labels
SWEEP_TABLE_CSS = """
table.nnp-sweep { border-collapse: collapse; font-size: 12px; }
table.nnp-sweep th, table.nnp-sweep td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #ddd;
  white-space: nowrap; }
table.nnp-sweep th { background: #f4f6f8; position: sticky; top: 0; }
table.nnp-sweep tr.stopped td { color: #888; }
"""


def metric_value(result, metric: str) -> float | None:
    """One model's value of a metric (None if it has none: stopped, no epoch, never got halfway)."""
    if result.ended == "stopped" or result.final is None:
        return None
    final = result.final
    if metric == "gap":
        train, test = final.get("train_accuracy"), final.get("test_accuracy")
        value = None if train is None or test is None else train - test
    elif metric == "epochs_to_halfway":
        value = result.epochs_to_halfway
    else:
        value = final.get(metric)
    return None if value is None or not math.isfinite(value) else float(value)


def axis_label(name: str, value) -> str:
    """A setting's value as an axis shows it: '8,8' (0 for no hidden layer), '0.01', 'relu'."""
    if isinstance(value, tuple) and not value:  # no hidden layer
        return "0"
    if name == "iris_features":  # "petal L, sepal W": six pairs fit side by side
        return ", ".join(" ".join(SHORT_WORDS.get(w, w) for w in feature.split("_")) for feature in value)
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
    ended: int = 0  # models that ended (stopped ones do not count): a cell with none of its values "never" got there
    majorities: list[float] = field(default_factory=list)  # each ended model's own majority baseline

    @property
    def majority(self) -> float | None:
        return float(np.mean(self.majorities)) if self.majorities else None

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

    @property
    def against_baseline(self) -> bool:
        return self.metric in ACCURACIES

    def frame(self) -> pd.DataFrame:
        """One row per cell: x, y (ONE_ROW for one setting), value (the mean over seeds in the metric's unit; NaN
        before any finished), shade (its colour: for accuracies the points above the cell's own majority baseline,
        0 within NEAR_BASELINE), and as text for hover and labels: mean, std, range (min - max), seeds finished,
        majority, above (the baseline's points), text."""
        rows = []
        scale = 100 if METRICS[self.metric][1] == "%" else 1
        for labels, cell in self.cells.items():
            x, y = (labels[0], labels[1]) if len(labels) > 1 else (labels[0], ONE_ROW)
            mean, majority = cell.stat("mean"), cell.majority
            above = float("nan") if majority is None else 100 * (mean - majority)

            def shown(v: float) -> str:
                return "" if math.isnan(v) else _format(v, self.metric)

            never = not cell.values and cell.ended > 0  # every model ended, none got there
            shade = scale * mean
            if self.against_baseline:
                shade = 0.0 if abs(above) < NEAR_BASELINE else above
            rows.append({"x": x, "y": y, "value": scale * mean, "shade": shade, "mean": shown(mean),
                         "std": shown(cell.stat("std")),
                         "range": f"{shown(cell.stat('min'))} - {shown(cell.stat('max'))}" if cell.values else "",
                         "seeds": f"{len(cell.values)} of {cell.models}",
                         "majority": "" if majority is None else f"{100 * majority:.1f}%",
                         "above": "" if math.isnan(above) or not self.against_baseline else f"{above:+.1f} points",
                         "text": "never" if never else "" if math.isnan(mean) else _format(mean, self.metric, True)})
        return pd.DataFrame(rows, columns=["x", "y", "value", "shade", *TEXT_COLUMNS])

    def finished(self) -> int:
        """Cells with at least one value."""
        return sum(bool(cell.values) for cell in self.cells.values())


def answer(grid: SweepGrid) -> str:
    """What the heatmap shows, in one sentence: the best and the worst cell (accuracies ranked by how far they
    are above their own baseline), cells tied with the best within a point, and each one's spread over seeds."""
    cells = [cell for cell in grid.cells.values() if cell.values]
    if not cells:
        return ""

    def score(cell: Cell) -> float:
        mean = cell.stat("mean")
        return mean - (cell.majority or 0.0) if grid.against_baseline else mean

    def said(cell: Cell) -> str:
        text = f"{' | '.join(cell.labels)} at {_format(cell.stat('mean'), grid.metric)}"
        if len(cell.values) > 1:
            text += f" (seeds {_format(cell.stat('min'), grid.metric)} to {_format(cell.stat('max'), grid.metric)})"
        if grid.against_baseline and cell.majority is not None:
            text += f", {100 * score(cell):+.1f} points from its baseline"
        return text

    ranked = sorted(cells, key=score, reverse=grid.higher)
    best, worst = ranked[0], ranked[-1]
    tied = [cell for cell in ranked[1:] if abs(score(cell) - score(best)) * (100 if grid.against_baseline else 1)
            < NEAR_BASELINE]
    sentence = f"Best: {said(best)}"
    if tied:
        sentence += "; within a point of it: " + ", ".join(" | ".join(cell.labels) for cell in tied)
    if worst is not best:
        sentence += f"; worst: {said(worst)}"
    return sentence + "."


def _format(value: float, metric: str, short: bool = False) -> str:
    """A metric as the hover (long) or the cell's label (short) shows it."""
    if METRICS[metric][1] == "%":
        return f"{100 * value:.1f}" + ("" if short else "%")
    if metric == "epochs_to_halfway":
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
        if cell is not None and result.ended != "stopped":
            cell.ended += 1
            if result.majority is not None:
                cell.majorities.append(result.majority)
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
    if grid.against_baseline:
        tips.append(("above the baseline", "@above"))
    return HoverTool(tooltips=tips)


def _diverging(steps: int = 10) -> list[str]:
    """BELOW to GREY to ABOVE in 2 * steps + 1 colours: the middle one, grey, is the baseline's."""
    def mix(a, b, t):
        return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))
    return ([mix(BELOW, GREY, i / steps) for i in range(steps)] + [mix(GREY, GREY, 0)]
            + [mix(GREY, ABOVE, (i + 1) / steps) for i in range(steps)])


def _colours(grid: SweepGrid, frame: pd.DataFrame) -> dict:
    """Colour map, limits and colour bar label: accuracies on a scale centred on each cell's own baseline
    (red below, grey at it, blue above; symmetric, at least +-10 points), other metrics red (bad) to green."""
    unit = METRICS[grid.metric][1]
    if grid.against_baseline:
        reach = max(10.0, float(np.abs(frame["shade"]).max(skipna=True)) if frame["shade"].notna().any() else 0.0)
        return dict(cmap=_diverging(), clim=(-reach, reach),
                    clabel="points above baseline")
    return dict(cmap="RdYlGn" if grid.higher else "RdYlGn_r", clim=(None, None),
                clabel=grid.label + (f" [{unit}]" if unit else ""))


def sweep_heatmap(grid: SweepGrid, width: int = 560, height: int | None = None,
                  title: str | None = None) -> hv.Overlay:
    """The metric's mean over seeds, one cell per combination (one axis per varied setting; one setting: one
    row), with its value written in; hover shows the mean, the spread over seeds and the cell's own majority
    baseline. Accuracies are coloured by how far each cell is above its baseline. Cells not finished are blank."""
    frame = grid.frame()
    one = len(grid.names) == 1
    x = SPECS[grid.names[0]].label if grid.names else ""
    y = None if one or not grid.names else SPECS[grid.names[1]].label
    heat = hv.HeatMap(frame, kdims=["x", "y"], vdims=["shade", "value", *TEXT_COLUMNS])
    labels = hv.Labels(frame, kdims=["x", "y"], vdims=["text"])
    rows = 1 if one else max(1, len(grid.levels[1]))
    xlevels = grid.levels[0] if grid.levels else []
    ylevels = [ONE_ROW] if one else (grid.levels[1] if len(grid.levels) > 1 else [ONE_ROW])
    done = f" ({grid.done} of {grid.total} models)" if grid.done < grid.total else ""
    heat = heat.redim.values(x=xlevels, y=ylevels).opts(
        **_colours(grid, frame),
        colorbar=True,
        colorbar_opts={"title_text_font_size": "9pt"},
        clipping_colors={"NaN": "#f0f0f0"},
        xrotation=30 if max(map(len, xlevels), default=0) > 10 else 0,
        tools=[_hover(grid, x, y), "tap"],
        xlabel=x,
        ylabel="" if one else y,
        yaxis=None if one else "left",
        width=width,
        height=height or (190 if one else 110 + 60 * rows),
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
    scale = 100 if METRICS[grid.metric][1] == "%" else 1  # in the metric's unit, as the heatmap's colour bar
    points, bars = [], []
    for labels, cell in grid.cells.items():
        name = " | ".join(labels)
        for value, seed in zip(cell.values, cell.seeds):
            points.append((name, scale * value, seed))
        if cell.values:
            bars.append((name, scale * cell.stat("mean"), scale * cell.stat("std")))
    order = [" | ".join(labels) for labels in grid.cells]
    described = " | ".join(SPECS[name].label for name in names) or "cell"
    scatter = hv.Scatter(pd.DataFrame(points, columns=["cell", "value", "seed"]), kdims=["cell"],
                         vdims=["value", "seed"]).redim.values(cell=order).opts(
        size=7, color="#1f77b4", alpha=0.7, tools=["hover"], xlabel=described,
        ylabel=grid.label + (f" [{METRICS[grid.metric][1]}]" if METRICS[grid.metric][1] else ""), xrotation=45)
    errors = hv.ErrorBars(pd.DataFrame(bars, columns=["cell", "mean", "std"]), kdims=["cell"],
                          vdims=["mean", "std"]).opts(color="#d62728", line_width=2)
    means = hv.Scatter(pd.DataFrame(bars, columns=["cell", "mean", "std"]), kdims=["cell"], vdims=["mean"]).opts(
        marker="dash", size=18, color="#d62728")
    return (scatter * errors * means).opts(
        width=width, height=height, title=f"{grid.label}: each seed (dots), mean and std (red)", toolbar="above",
        hooks=[_named("nnp-sweep-spread")])


def sweep_table_html(sweep, results) -> str:
    """Every model's result as an HTML table: the varied settings, the seed, the final metrics beside its own
    majority baseline, how it ended."""
    names = list(sweep.axes)
    head = [SPECS[name].label for name in names] + ["Seed", "Loss", "Train acc.", "Test acc.", "Baseline", "Gap",
                                                     "Epochs to halfway", "Seconds", "Ended"]
    rows = []

    def percent(value):
        return "" if value is None else f"{100 * value:.1f}%"

    for r in sorted(results, key=lambda r: r.index):
        final = r.final or {}
        gap = metric_value(r, "gap") if r.ended != "stopped" else None
        loss = final.get("loss")
        cells = [axis_label(name, getattr(r.settings, name)) for name in names] + [
            str(r.settings.seed), "" if loss is None else f"{loss:.4f}", percent(final.get("train_accuracy")),
            percent(final.get("test_accuracy")), percent(r.majority), percent(gap),
            "" if r.epochs_to_halfway is None else str(r.epochs_to_halfway),
            f"{r.seconds:.2f}", r.ended]
        rows.append(f'<tr class="{html.escape(r.ended)}">' + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                    + "</tr>")
    caption = ("<caption>Baseline: always answering the most common class of the model's own test set. Epochs to "
               "halfway: the first epoch whose test accuracy is halfway from the baseline to 100%.</caption>")
    return (f'<table class="nnp-sweep">{caption}<thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
