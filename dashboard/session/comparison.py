"""Comparing two runs of a session: what is kept of each run (`RunResult`), and where two runs' decision maps disagree.

A result keeps the run's final 200x200 probability map, its curves (at most MAX_CURVE_POINTS epochs), numbers and
settings; results outlive the model, at most MAX_RESULTS a session (~10 MB at worst, docs/performance.md). Two maps
are compared cell by cell only over the same grid and axes; otherwise `note` says why. Numpy and the engine only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engine import Dataset, History, Settings
from engine.evaluation import GridMap
from engine.settings import SPECS

from .runs import DRAWN, is_drawn

MAX_RESULTS = 50
MAX_CURVE_POINTS = 2000
CURVE_KEYS = ("loss", "test_loss", "train_accuracy", "test_accuracy")


@dataclass(frozen=True)
class MapArea:
    """Where a map lies: its box and axis labels (what `figures.DecisionMap` reads of a dataset)."""

    box: tuple[tuple[float, float], tuple[float, float]]
    axis_labels: tuple[str, str]


@dataclass(frozen=True)
class RunResult:
    """What is kept of one run for comparison (immutable: safe to share with a report thread)."""

    number: int
    model: int
    settings: Settings
    ended: str
    first_epoch: int
    last_epoch: int
    curves: dict[str, np.ndarray]  # "epoch" (the model's epochs) and CURVE_KEYS, thinned
    loss: float
    train_accuracy: float
    test_accuracy: float
    majority: float  # test accuracy of always answering the most common class
    grid: GridMap  # the final map, without the exact target (its agreement is kept)
    seconds_per_epoch: float
    parameters: int
    area: MapArea
    data_title: str

    @property
    def epochs(self) -> int:
        return self.last_epoch - self.first_epoch + 1

    def label(self) -> str:
        """How a run is named in a list: number and what sets it apart."""
        s = self.settings
        return (f"run {self.number}: {dataset_name(s)}, hidden {','.join(map(str, s.hidden)) or 'none'}, "
                f"{s.activation}, {s.optimizer} lr {s.lr:g}, {self.epochs} epochs")

    def facts(self) -> dict[str, str]:
        """The run's settings (as declared; "" where one does not matter for this run) and results, as the
        comparison table shows them."""
        s = self.settings
        results = {
            "epochs": f"{self.first_epoch}-{self.last_epoch} ({self.ended})",
            "final loss": f"{self.loss:.4f}",
            "train accuracy": f"{100 * self.train_accuracy:.1f}%",
            "test accuracy": f"{100 * self.test_accuracy:.1f}%",
            "majority class": f"{100 * self.majority:.1f}%",
            "agrees with target": "" if self.grid.agreement is None else f"{100 * self.grid.agreement:.1f}%",
            "parameters": str(self.parameters),
            "time per epoch": f"{1000 * self.seconds_per_epoch:.3g} ms",
        }
        settings = {spec.label.lower(): spec.text(getattr(s, name)) if spec.shown(s) else ""
                    for name, spec in SPECS.items() if spec.group and name not in results}
        if is_drawn(s):
            settings[SPECS["dataset"].label.lower()] = DRAWN
        return {"run": str(self.number), "model": str(self.model), **settings, **results}


def dataset_name(settings: Settings) -> str:
    if is_drawn(settings):
        return DRAWN
    return settings.dataset if settings.dataset != "iris" else "iris " + "/".join(settings.iris_features)


def run_result(record, history: History, grid: GridMap, parameters: int, data: Dataset) -> RunResult | None:
    """The result of a run (a `RunRecord`) of the current model, whose map `grid` is; None if it trained no epoch."""
    rows = np.flatnonzero(np.asarray(history.run) == record.number)
    if not len(rows) or record.done == 0:
        return None
    if len(rows) > MAX_CURVE_POINTS:
        stride = -(-len(rows) // MAX_CURVE_POINTS)
        rows = np.unique(np.append(rows[::stride], rows[-1]))
    curves = {"epoch": np.asarray(history.epoch, dtype=np.int64)[rows]}
    curves.update({key: np.asarray(getattr(history, key), dtype=np.float32)[rows] for key in CURVE_KEYS})
    last = rows[-1]
    return RunResult(
        number=record.number, model=record.model, settings=record.settings, ended=record.ended,
        first_epoch=history.epoch[rows[0]], last_epoch=history.epoch[last], curves=curves,
        loss=history.loss[last], train_accuracy=history.train_accuracy[last],
        test_accuracy=history.test_accuracy[last], majority=data.majority_share("test"),
        grid=dataclasses.replace(grid, exact=None), seconds_per_epoch=record.seconds / record.done,
        parameters=parameters, area=MapArea(data.box, data.axis_labels), data_title=data.title,
    )


def kept(results: dict[int, RunResult], result: RunResult, limit: int = MAX_RESULTS) -> dict[int, RunResult]:
    """`results` with `result` added (or replacing an earlier one of its run), the oldest dropped past `limit`."""
    results = {**results, result.number: result}
    return {number: results[number] for number in sorted(results)[-limit:]}


def chosen_pair(results: dict[int, RunResult], compared: list[int]) -> tuple[int, int] | None:
    """The two runs to compare: those chosen if both are still kept, else the last two; None with fewer."""
    if len(compared) == 2 and all(number in results for number in compared):
        return compared[0], compared[1]
    numbers = sorted(results)
    return (numbers[-2], numbers[-1]) if len(numbers) >= 2 else None


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side, and where their predictions (p >= 0.5) differ."""

    first: RunResult
    second: RunResult
    differs: np.ndarray | None  # (N, N) bool; None where the maps cannot be compared cell by cell
    share: float | None  # share of the grid where they differ
    note: str  # why there is no disagreement map, or what to keep in mind reading it ('' for nothing)

    def numbers(self) -> dict:
        """The comparison as plain JSON values (for the report's numbers)."""
        runs = [{"run": r.number, "model": r.model, "settings": r.settings.to_dict(), "epochs": r.epochs,
                 "loss": r.loss, "train_accuracy": r.train_accuracy, "test_accuracy": r.test_accuracy,
                 "parameters": r.parameters, "seconds_per_epoch": r.seconds_per_epoch}
                for r in (self.first, self.second)]
        return {"runs": runs, "disagreement": self.share, "note": self.note}


def compare(first: RunResult, second: RunResult) -> Comparison:
    a, b = first.grid, second.grid
    if first.area.axis_labels != second.area.axis_labels:
        note = (f"Run {first.number} maps {' / '.join(first.area.axis_labels)}, run {second.number} "
                f"{' / '.join(second.area.axis_labels)}: different axes, so no map of where they disagree.")
        return Comparison(first, second, None, None, note)
    if a.probability.shape != b.probability.shape or not (np.allclose(a.xs, b.xs) and np.allclose(a.ys, b.ys)):
        note = (f"Runs {first.number} and {second.number} cover different regions ({_box(first.area)} and "
                f"{_box(second.area)}), so no map of where they disagree.")
        return Comparison(first, second, None, None, note)
    differs = (a.probability >= 0.5) != (b.probability >= 0.5)
    note = ""
    if first.data_title != second.data_title:
        note = (f"Different data ({first.data_title}; {second.data_title}) over the same square: the map shows "
                "where the two models answer differently, not which is right.")
    return Comparison(first, second, differs, float(differs.mean()), note)


def _box(area: MapArea) -> str:
    (x0, x1), (y0, y1) = area.box
    return f"x {x0:.3g} to {x1:.3g}, y {y0:.3g} to {y1:.3g}"
