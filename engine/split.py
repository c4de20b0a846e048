"""The stratified train/test split of scikit-learn's `train_test_split(..., stratify=labels)`, in numpy.

Same indices for the same inputs (scikit-learn 1.4-1.9's `StratifiedShuffleSplit`, drawn from the same
`np.random.RandomState` in the same order), without importing scikit-learn: ~1 s of a command's start-up
(docs/performance.md). tests/engine/test_sklearn_free.py compares it with scikit-learn's over many sizes and seeds.
"""

from __future__ import annotations

from math import ceil

import numpy as np


def stratified_split(labels: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test rows of `labels` (each class in proportion), as
    `train_test_split(np.arange(n), test_size=test_size, random_state=seed, stratify=labels)`."""
    n = len(labels)
    n_test = ceil(test_size * n)
    n_train = n - n_test
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError("every class needs at least 2 members to split")
    if min(n_train, n_test) < len(classes):
        raise ValueError(f"{n} points are too few for a test share of {test_size}")
    by_class = np.split(np.argsort(inverse.reshape(-1), kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    train_counts = _approximate_mode(counts, n_train, rng)
    test_counts = _approximate_mode(counts - train_counts, n_test, rng)
    train, test = [], []
    for rows, count, n_i, t_i in zip(by_class, counts, train_counts, test_counts):
        shuffled = rows.take(rng.permutation(count), mode="clip")
        train.extend(shuffled[:n_i])
        test.extend(shuffled[n_i : n_i + t_i])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """How many of `n_draws` each class gets: its share rounded down, the rest to the largest remainders (ties
    broken at random), as scikit-learn's `_approximate_mode`."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            add_now = min(len(tied), need_to_add)
            floored[rng.choice(tied, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)
