"""The datasets declared in `engine.catalog` loaded: toy patterns labelled by an exact function, generated shapes,
Iris and CSV files.

Every dataset is binary, in two inputs, and comes split into train and test sets exactly as the teaching
notebook split it (`train_test_split(test_size=0.25, random_state=2, stratify=labels)` by default; the same indices
from `engine.split`, without scikit-learn).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .catalog import DATASETS
from .csv_points import PointsTable, read_points_csv
from .settings import IRIS_FEATURES, Settings
from .split import stratified_split

UNIT_BOX = ((0.0, 1.0), (0.0, 1.0))


IRIS_NAMES = {name: name.replace("_", " ") for name in IRIS_FEATURES}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Points, labels and the train/test split of one binary dataset, with what is needed to plot it."""

    name: str
    title: str
    points: np.ndarray  # (n, 2) float32, in the units of the axes
    labels: np.ndarray  # (n,) float32, 0 or 1
    train_index: np.ndarray  # rows of the training set, in training order
    test_index: np.ndarray
    feature_names: tuple[str, str]
    units: tuple[str, str]  # "" where there is none
    class_names: tuple[str, str]
    box: tuple[tuple[float, float], tuple[float, float]]  # the plotted and evaluated region
    exact: Callable[[np.ndarray], np.ndarray] | None  # the true labelling function, toy patterns only

    @property
    def x_train(self) -> np.ndarray:
        return self.points[self.train_index]

    @property
    def y_train(self) -> np.ndarray:
        return self.labels[self.train_index]

    @property
    def x_test(self) -> np.ndarray:
        return self.points[self.test_index]

    @property
    def y_test(self) -> np.ndarray:
        return self.labels[self.test_index]

    @property
    def is_train(self) -> np.ndarray:
        mask = np.zeros(len(self.points), dtype=bool)
        mask[self.train_index] = True
        return mask

    @property
    def axis_labels(self) -> tuple[str, str]:
        return tuple(f"{name} ({unit})" if unit else name for name, unit in zip(self.feature_names, self.units))

    def majority_share(self, which: str = "test") -> float:
        """Accuracy of always predicting the most common class: the baseline any model must beat."""
        labels = self.y_test if which == "test" else self.y_train
        share = float(labels.mean(dtype=np.float64))
        return max(share, 1.0 - share)

    def normalise(self, points: np.ndarray) -> np.ndarray:
        """Map points from the box to the unit square: what the network sees (identity for toy data)."""
        (x0, x1), (y0, y1) = self.box
        if self.box == UNIT_BOX:
            return np.asarray(points, dtype=np.float32)
        low = np.array([x0, y0], dtype=np.float32)
        span = np.array([x1 - x0, y1 - y0], dtype=np.float32)
        return ((np.asarray(points, dtype=np.float32) - low) / span).astype(np.float32)


def load_dataset(settings: Settings, table: PointsTable | None = None) -> Dataset:
    """Build the dataset the settings describe, with label noise (and position noise, toy and generated data)
    applied, and split into train and test.

    For the csv dataset, `table` (already read, e.g. from an archive in memory) is used instead of reading
    `settings.csv_path`."""
    name = settings.dataset
    spec = DATASETS[name]
    rng = np.random.default_rng(settings.data_seed)
    names, units, classes, box, exact = ("x", "y"), ("", ""), ("class 0", "class 1"), UNIT_BOX, spec.exact
    if exact is not None:
        points = rng.random((settings.samples, 2), dtype=np.float32)
        labels = exact(points)
    elif spec.generate is not None:
        points, labels = spec.generate(settings.samples, rng)
    elif name == "iris":
        points, labels, names = _iris(settings.iris_features)
        units, classes = ("cm, scaled to 0-1", "cm, scaled to 0-1"), ("versicolor", "virginica")
    else:  # csv: your own points
        if table is None:
            table = read_points_csv(settings.csv_path)
        points, labels, names = table.points, table.labels, table.feature_names
        box = _padded_box(points)
    labels = _flip_labels(labels, settings.noise, rng)
    if spec.kind in ("toy", "generated"):
        points = _jitter(points, settings.jitter, rng)
    _check_two_classes(labels, settings.test_share)
    train_index, test_index = stratified_split(labels, settings.test_share, settings.split_seed)
    return Dataset(
        name=name,
        title=spec.title,
        points=points,
        labels=labels,
        train_index=train_index,
        test_index=test_index,
        feature_names=tuple(names),
        units=units,
        class_names=classes,
        box=box,
        exact=exact,
    )


def _iris(features: tuple[str, str]) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """Versicolor (0) against virginica (1) in two of the four features, each min-max scaled to [0, 1]."""
    # sklearn.datasets costs ~0.5 s of start-up: imported only when needed
    from sklearn.datasets import load_iris

    iris = load_iris()
    columns = [IRIS_FEATURES.index(name) for name in features]
    keep = iris.target >= 1
    points = iris.data[keep][:, columns].astype(np.float32)
    labels = (iris.target[keep] == 2).astype(np.float32)
    low, high = points.min(axis=0), points.max(axis=0)
    return (points - low) / (high - low), labels, tuple(IRIS_NAMES[name] for name in features)


def _flip_labels(labels: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Flip a given share of the labels, chosen at random: label noise."""
    count = int(round(share * len(labels)))
    if count == 0:
        return labels
    flipped = labels.copy()
    rows = rng.choice(len(labels), size=count, replace=False)
    flipped[rows] = 1.0 - flipped[rows]
    return flipped


def _jitter(points: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Move every point by Gaussian noise of standard deviation `scale` (position noise), kept in the unit square.
    Drawn after every other draw of the data seed, so that no noise leaves the data exactly as without it."""
    if scale == 0:
        return points
    moved = points + rng.normal(scale=scale, size=points.shape)
    return np.clip(moved, 0.0, 1.0).astype(np.float32)


def _check_two_classes(labels: np.ndarray, test_share: float) -> None:
    counts = np.bincount(labels.astype(int), minlength=2)
    if counts.min() < 2:
        raise ValueError(f"the data needs at least 2 points of each class to split, has {counts[0]} and {counts[1]}")
    if min(test_share * len(labels), (1 - test_share) * len(labels)) < 2:
        raise ValueError(f"{len(labels)} points are too few for a test share of {test_share}")


def _padded_box(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """The data's bounding box with 5 % margin on each side (never zero-width)."""
    low, high = points.min(axis=0).astype(float), points.max(axis=0).astype(float)
    margin = np.maximum((high - low) * 0.05, 1e-3)
    return tuple((float(a), float(b)) for a, b in zip(low - margin, high + margin))


def write_dataset_csv(dataset: Dataset, path: str) -> None:
    """Write points, labels and split as CSV: the two features (named), `label` and `split`."""
    from .atomic import atomic_write
    from .spreadsheet import safe_cell

    # Written beside the target, then renamed (a failed write leaves the old file); names from an uploaded
    # header are never spreadsheet formulas.
    split = np.where(dataset.is_train, "train", "test")
    header = [safe_cell(name.replace(" ", "_")) for name in dataset.feature_names] + ["label", "split"]
    with atomic_write(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for (x, y), label, part in zip(dataset.points.tolist(), dataset.labels.tolist(), split):
            writer.writerow([repr(x), repr(y), int(label), part])
