"""Shapes shared by the Bokeh and the HoloViews plots, in numpy only: the 0.5 contour, the padded box, the sample
of points drawn over a map."""

from __future__ import annotations

import contourpy
import numpy as np

from engine import Dataset
from engine.evaluation import GridMap

MAX_MAP_POINTS = 750  # per split drawn over a map (wrong ones always): more would hide it and slow it
EMPTY_MARKS = {"x": np.zeros(0, np.float32), "y": np.zeros(0, np.float32), "label": np.zeros(0, np.float32)}


def contour_lines(grid: GridMap, level: float = 0.5) -> dict[str, list]:
    """The `level` contour of the probability as multi_line data."""
    lines = contourpy.contour_generator(grid.xs, grid.ys, grid.probability, line_type="Separate").lines(level)
    return {"xs": [line[:, 0] for line in lines], "ys": [line[:, 1] for line in lines]}


def padded_box(dataset, share: float = 0.02):
    """The data's box (anything with a `box`) with a small margin, so that points on its edge are drawn whole."""
    return tuple((low - share * (high - low), high + share * (high - low)) for low, high in dataset.box)


def point_marks(dataset: Dataset, which: str, correct: np.ndarray | None) -> tuple[dict, dict]:
    """Train or test points, split into those the model gets right (or all, `correct` None) and wrong, each at
    most MAX_MAP_POINTS: a sample in a fixed order, so the same points stay drawn through training. Numeric
    columns only: they go to the browser as binary."""
    index = dataset.train_index if which == "train" else dataset.test_index
    wrong = ~correct if correct is not None else np.zeros(len(index), dtype=bool)
    order = np.random.default_rng(0).permutation(len(index))  # order[i]: point i's place in the sample
    parts = []
    for rows in (np.flatnonzero(~wrong), np.flatnonzero(wrong)):
        rows = np.sort(rows[np.argsort(order[rows], kind="stable")[:MAX_MAP_POINTS]])
        points = dataset.points[index[rows]]
        parts.append({"x": points[:, 0], "y": points[:, 1], "label": dataset.labels[index[rows]]})
    return tuple(parts)


def mark_size(dataset: Dataset) -> float:
    """Smaller marks the more points there are, so that the map stays visible under them."""
    return float(np.clip(6.0 * np.sqrt(400 / max(len(dataset.points), 1)), 3.0, 6.0))
