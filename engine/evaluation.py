"""What the trained model does: probabilities on a grid over the data's box, the exact target and confusion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .training import Trainer


@dataclass(frozen=True)
class GridMap:
    """The model's class-1 probability on an NxN grid (rows follow y, columns follow x)."""

    xs: np.ndarray  # (N,) grid coordinates along x, in the axes' units
    ys: np.ndarray  # (N,)
    probability: np.ndarray  # (N, N) float32
    exact: np.ndarray | None  # (N, N) 0/1 target, toy data only
    agreement: float | None  # share of the grid where model (p >= 0.5) and target agree
    epoch: int | None = None  # the last epoch the model had trained when the map was taken (None: unknown)

    @property
    def prediction(self) -> np.ndarray:
        return (self.probability >= 0.5).astype(np.float32)


def grid_points(box, size: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs, ys and the (size*size, 2) float32 points of the grid, x varying fastest (as the notebook's meshgrid)."""
    (x0, x1), (y0, y1) = box
    xs = np.linspace(x0, x1, size)
    ys = np.linspace(y0, y1, size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return xs, ys, np.array([grid_x.ravel(), grid_y.ravel()]).T.astype(np.float32)


def evaluate_grid(trainer: Trainer, size: int = 200) -> GridMap:
    if not 2 <= size <= 2000:
        raise ValueError(f"grid size: must be from 2 to 2000, got {size}")
    dataset = trainer.dataset
    xs, ys, points = grid_points(dataset.box, size)
    probability = trainer.predict_proba(points).reshape(size, size)
    exact, agreement = None, None
    if dataset.exact is not None:
        exact = dataset.exact(points).reshape(size, size)
        agreement = float(np.mean((probability >= 0.5) == (exact >= 0.5)))
    return GridMap(xs, ys, probability, exact, agreement, _last_epoch(trainer))


def _last_epoch(trainer: Trainer) -> int:
    return trainer.history.epoch[-1] if trainer.history.epoch else 0


def neuron_maps(trainer: Trainer, size: int = 40) -> list[np.ndarray]:
    """What every hidden neuron computes over the box: per layer an array (width, size, size) of activations."""
    _, _, points = grid_points(trainer.dataset.box, size)
    return [layer.T.reshape(-1, size, size) for layer in trainer.hidden_activations(points)]


@dataclass(frozen=True)
class Evaluation:
    """Per-point correctness and confusion matrices ([[tn, fp], [fn, tp]]) on the train and test sets."""

    train_correct: np.ndarray  # (n_train,) bool, in the order of dataset.x_train
    test_correct: np.ndarray
    train_confusion: np.ndarray  # (2, 2) int
    test_confusion: np.ndarray
    epoch: int | None = None  # the last epoch the model had trained when the points were judged

    @property
    def train_accuracy(self) -> float:
        return float(self.train_correct.mean())

    @property
    def test_accuracy(self) -> float:
        return float(self.test_correct.mean())


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """[[tn, fp], [fn, tp]] of 0/1 labels, as scikit-learn's confusion_matrix(..., labels=[0, 1]) (not imported:
    ~1 s of start-up)."""
    return np.bincount(2 * truth + predicted, minlength=4).reshape(2, 2)


def evaluate_points(trainer: Trainer) -> Evaluation:
    dataset = trainer.dataset
    results = []
    for points, labels in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        predicted = (trainer.predict_proba(points) >= 0.5).astype(int)
        truth = labels.astype(int)
        results.append((predicted == truth, confusion(truth, predicted)))
    (train_correct, train_confusion), (test_correct, test_confusion) = results
    return Evaluation(train_correct, test_correct, train_confusion, test_confusion, _last_epoch(trainer))
