"""The live decision map's point marks, headless: right and wrong split, capped, the same points kept."""

from __future__ import annotations

import numpy as np

from dashboard.plots.live import MAX_MAP_POINTS, DecisionMap
from engine import Settings, load_dataset
from engine.evaluation import Evaluation


def evaluation(train_correct: np.ndarray, test_correct: np.ndarray) -> Evaluation:
    return Evaluation(train_correct, test_correct, np.zeros((2, 2), int), np.zeros((2, 2), int))


def drawn(source) -> set[tuple[float, float]]:
    return set(zip(source.data["x"].tolist(), source.data["y"].tolist()))


def test_marks_split_right_and_wrong_and_stay_within_the_cap():
    data = load_dataset(Settings(dataset="toy_xor", samples=8000))
    figure = DecisionMap(data)
    assert len(figure.marks["train", "right"].data["x"]) == MAX_MAP_POINTS == len(drawn(figure.marks["train", "right"]))
    rng = np.random.default_rng(1)
    train_correct = rng.random(len(data.train_index)) > 0.4  # thousands wrong: capped too
    test_correct = np.ones(len(data.test_index), dtype=bool)
    test_correct[:7] = False
    figure.show_points(evaluation(train_correct, test_correct))
    assert len(figure.marks["train", "wrong"].data["x"]) == MAX_MAP_POINTS
    assert len(figure.marks["test", "wrong"].data["x"]) == 7
    wrong_points = {tuple(p) for p in data.x_test[:7].tolist()}
    assert drawn(figure.marks["test", "wrong"]) == wrong_points
    assert not drawn(figure.marks["test", "right"]) & wrong_points
    # One more point wrong: the other drawn points stay the same (no flicker while training).
    before = drawn(figure.marks["test", "right"])
    test_correct[10] = False
    figure.show_points(evaluation(train_correct, test_correct))
    after = drawn(figure.marks["test", "right"])
    assert len(before - after) <= 1 and len(after - before) <= 1 and len(after) == len(before)
    # Without wrong-point marks every drawn point is a plain mark.
    figure.set_view(discretize=False, show_test=True, mark_wrong=False)
    assert len(figure.marks["test", "wrong"].data["x"]) == 0
    assert len(figure.marks["test", "right"].data["x"]) == min(MAX_MAP_POINTS, len(data.test_index))
