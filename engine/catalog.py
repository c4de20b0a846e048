"""Every dataset, declared once: its name, title, short name (the picker's tile), kind (toy, generated, real or
own), and how its points are made (the exact labelling function of a toy pattern, the generator of a shape).

The settings' dataset choices, the picker's tiles and thumbnails, the command line's choices, titles and sweep
axes all derive from `DATASETS`. numpy only (no settings, no scikit-learn at import): `engine.settings` imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

KINDS = ("toy", "generated", "real", "own")


# Exact classification functions of the toy patterns: (n, 2) points in the unit square -> 0/1 float32 labels.
def toy_easy(points: np.ndarray) -> np.ndarray:
    """Class 1 inside a disc at (0.3, 0.6) of radius 0.25 or a disc at (0.55, 0.15) of radius 0.15."""
    x, y = np.asarray(points).T
    in_first = (x - 0.3) ** 2 + (y - 0.6) ** 2 <= 0.25**2
    in_second = (x - 0.55) ** 2 + (y - 0.15) ** 2 <= 0.15**2
    return (in_first | in_second).astype(np.float32)


def toy_hard(points: np.ndarray) -> np.ndarray:
    """Spiral-like: around the centre, class 1 where cos(3 theta + 10 r) >= 0, and inside r <= 0.1."""
    x, y = np.asarray(points).T - 0.5
    r = np.sqrt(x**2 + y**2)
    theta = np.arctan2(y, x)
    return ((np.cos(3 * theta + 10 * r) >= 0.0) | (r <= 0.1)).astype(np.float32)


def toy_xor(points: np.ndarray) -> np.ndarray:
    """Class 1 in the top-left and bottom-right quadrants."""
    x, y = np.asarray(points).T
    return np.logical_xor(x >= 0.5, y >= 0.5).astype(np.float32)


def toy_cross(points: np.ndarray) -> np.ndarray:
    """Class 1 in a vertical or horizontal band of half-width 0.12 through the centre."""
    x, y = np.asarray(points).T
    return ((np.abs(x - 0.5) <= 0.12) | (np.abs(y - 0.5) <= 0.12)).astype(np.float32)


def toy_ring(points: np.ndarray) -> np.ndarray:
    """Class 1 in the ring 0.18 <= r <= 0.32 around the centre."""
    x, y = np.asarray(points).T - 0.5
    r = np.sqrt(x**2 + y**2)
    return ((r >= 0.18) & (r <= 0.32)).astype(np.float32)


def _spiral(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms, one per class, with a little jitter."""
    labels = (np.arange(n) % 2).astype(np.float32)
    t = np.sqrt(rng.random(n)) * 2.5 * np.pi
    angle = t + np.pi * labels
    radius = t / (2.5 * np.pi) * 0.45
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) + 0.5
    points += rng.normal(scale=0.015, size=points.shape)
    return np.clip(points, 0, 1).astype(np.float32), labels


def _gaussians(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping round clouds centred at (0.35, 0.35) and (0.65, 0.65)."""
    labels = (np.arange(n) % 2).astype(np.float32)
    centres = np.where(labels[:, None] == 1, 0.65, 0.35)
    points = centres + rng.normal(scale=0.1, size=(n, 2))
    return np.clip(points, 0, 1).astype(np.float32), labels


def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's two moons, moved into the unit square."""
    from sklearn.datasets import make_moons

    points, labels = make_moons(n, noise=0.08, random_state=int(rng.integers(2**31)))
    points = (points - [-1.0, -0.5]) / [3.0, 1.5] * 0.8 + 0.1
    return np.clip(points, 0, 1).astype(np.float32), labels.astype(np.float32)



@dataclass(frozen=True)
class DatasetSpec:
    """One dataset. `exact`: (n, 2) points in the unit square -> 0/1 float32 labels (toy patterns); `generate`:
    (n, rng) -> points and labels (generated shapes); `listed_as`: how the settings' choices name it."""

    name: str
    title: str
    short: str
    kind: str
    exact: Callable[[np.ndarray], np.ndarray] | None = None
    generate: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]] | None = None
    listed_as: str = ""


_DECLARED = [
    DatasetSpec("toy_easy", "Toy dataset: easy (two discs)", "easy", "toy", exact=toy_easy),
    DatasetSpec("toy_hard", "Toy dataset: hard (spiral-like)", "hard", "toy", exact=toy_hard),
    DatasetSpec("toy_xor", "Toy dataset: XOR", "XOR", "toy", exact=toy_xor),
    DatasetSpec("toy_cross", "Toy dataset: cross", "cross", "toy", exact=toy_cross),
    DatasetSpec("toy_ring", "Toy dataset: ring", "ring", "toy", exact=toy_ring),
    DatasetSpec("spiral", "Two spirals", "spiral", "generated", generate=_spiral),
    DatasetSpec("gaussians", "Two Gaussians", "Gaussians", "generated", generate=_gaussians),
    DatasetSpec("moons", "Two moons", "moons", "generated", generate=_moons),
    DatasetSpec("iris", "Iris: versicolor vs virginica", "Iris", "real"),
    DatasetSpec("csv", "Your data", "own data", "own", listed_as="your own data (uploaded or drawn)"),
]
DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _DECLARED}


def names_of(*kinds: str) -> tuple[str, ...]:
    """The datasets of these kinds, in declared order."""
    return tuple(name for name, spec in DATASETS.items() if spec.kind in kinds)


SAMPLED = names_of("toy", "generated")  # the datasets drawn at random: a number of points, a data seed, jitter


def dataset_names() -> dict[str, str]:
    """{how the settings' choices name a dataset: its name}."""
    return {spec.listed_as or name: name for name, spec in DATASETS.items()}
