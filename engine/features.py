"""Input features computed from the two (unit-scaled) coordinates: x, y, x^2, y^2, xy, sin x, sin y."""

from __future__ import annotations

import numpy as np

from .settings import INPUT_FEATURES, SPECS

LABELS = {name: SPECS["features"].label_of(name) for name in INPUT_FEATURES}  # x2 -> x², as shown


def feature_columns(unit_points: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The network's input matrix: one float32 column per named feature.

    `sinx`/`siny` take one full period over the box (sin 2 pi x): sin of a [0, 1] input is nearly straight.
    With only ("x", "y") the points are returned as they are, so the data match the notebook bit for bit.
    """
    unit_points = np.asarray(unit_points, dtype=np.float32)
    if tuple(names) == ("x", "y"):
        return unit_points
    x, y = unit_points[:, 0], unit_points[:, 1]
    columns = {
        "x": lambda: x,
        "y": lambda: y,
        "x2": lambda: x * x,
        "y2": lambda: y * y,
        "xy": lambda: x * y,
        "sinx": lambda: np.sin(2 * np.pi * x),
        "siny": lambda: np.sin(2 * np.pi * y),
    }
    return np.column_stack([columns[name]() for name in names]).astype(np.float32)
