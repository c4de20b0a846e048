"""The lesson's questions as sweeps (engine/lessons.py): each is valid and its answer is clear."""

from __future__ import annotations

import numpy as np
import pytest

from engine.lessons import QUESTIONS
from engine.sweep import run_sweep


@pytest.mark.parametrize("key", list(QUESTIONS))
def test_each_question_gives_a_clear_answer(key):
    """The best cell is far above its own majority baseline and clearly above the worst cell."""
    sweep = QUESTIONS[key].sweep()
    sweep.validate()
    results = run_sweep(sweep, workers=1)
    assert all(r.ended == "finished" for r in results)
    cells: dict[tuple, list[float]] = {}
    for r in results:
        cells.setdefault(tuple(str(getattr(r.settings, name)) for name in sweep.axes), []).append(
            r.final["test_accuracy"] - r.majority)
    above = sorted(float(np.mean(values)) for values in cells.values())
    assert above[-1] > 0.2, above  # the best learned: 20 points above its baseline
    assert above[-1] - above[0] > 0.1, above  # and the picture separates it from the worst
