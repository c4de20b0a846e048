"""Position noise (`jitter`): points move, labels and the exact target stay; no jitter leaves every dataset exactly
as it was before the setting existed."""

import hashlib

import numpy as np
import pytest

from engine import Settings, SettingsError, load_dataset
from engine.catalog import DATASETS
from engine.settings import SPECS

# sha256 (first 16 hex digits) of points, labels, train and test rows, computed before `jitter` was added
BEFORE_JITTER = {
    (("dataset", "toy_easy"),): "7738560db40f8b18",
    (("dataset", "toy_ring"), ("noise", 0.2), ("data_seed", 5)): "5c73f2f1e1ecb76f",
    (("dataset", "toy_hard"), ("samples", 500)): "8b73bda9ab3b14d4",
    (("dataset", "spiral"), ("noise", 0.1)): "e5a2d065006d5b46",
    (("dataset", "gaussians"),): "e2c0d58f8df206c3",
    (("dataset", "moons"), ("samples", 1000)): "a76c625258247608",
    (("dataset", "iris"), ("noise", 0.1)): "35a4d1ed947fe899",
}


def digest(dataset) -> str:
    parts = (dataset.points, dataset.labels, dataset.train_index, dataset.test_index)
    return hashlib.sha256(b"".join(part.tobytes() for part in parts)).hexdigest()[:16]


@pytest.mark.parametrize("case", list(BEFORE_JITTER), ids=lambda case: "-".join(str(v) for _, v in case))
def test_no_jitter_gives_exactly_the_data_of_before(case):
    assert digest(load_dataset(Settings(**dict(case), jitter=0.0))) == BEFORE_JITTER[case]


@pytest.mark.parametrize("name", sorted(name for name, spec in DATASETS.items() if spec.exact))
def test_jitter_moves_the_points_and_keeps_their_labels(name):
    still = load_dataset(Settings(dataset=name, noise=0.1))
    moved = load_dataset(Settings(dataset=name, noise=0.1, jitter=0.05))
    np.testing.assert_array_equal(moved.labels, still.labels)  # labelled (and flipped) before they move
    np.testing.assert_array_equal(moved.train_index, still.train_index)
    shift = moved.points - still.points
    assert np.abs(shift).max() > 0.05 and 0.04 < shift.std() < 0.06  # Gaussian, sd 0.05 (a few clipped)
    assert moved.points.dtype == np.float32 and moved.points.min() >= 0 and moved.points.max() <= 1
    # the truth does not move: the exact function is the same, and now disagrees with some labels near the boundary
    assert moved.exact is still.exact
    wrong = np.mean(moved.exact(moved.points) != moved.labels)
    assert wrong > np.mean(still.exact(still.points) != still.labels)


def test_jitter_follows_the_data_seed():
    one = load_dataset(Settings(dataset="toy_xor", jitter=0.1))
    again = load_dataset(Settings(dataset="toy_xor", jitter=0.1))
    other = load_dataset(Settings(dataset="toy_xor", jitter=0.1, data_seed=3))
    np.testing.assert_array_equal(one.points, again.points)
    assert not np.array_equal(one.points, other.points)


@pytest.mark.parametrize("name", ["spiral", "gaussians", "moons"])
def test_jitter_moves_generated_shapes_too(name):
    still, moved = (load_dataset(Settings(dataset=name, jitter=jitter)) for jitter in (0.0, 0.03))
    np.testing.assert_array_equal(moved.labels, still.labels)
    assert not np.array_equal(moved.points, still.points)


def test_iris_is_measured_data_and_is_not_jittered():
    still, moved = (load_dataset(Settings(dataset="iris", jitter=jitter)) for jitter in (0.0, 0.2))
    np.testing.assert_array_equal(moved.points, still.points)
    spec = SPECS["jitter"]
    assert not spec.shown(Settings(dataset="iris")) and spec.shown(Settings(dataset="moons"))


@pytest.mark.parametrize("value", [-0.01, 0.26, float("nan")])
def test_jitter_out_of_bounds_is_refused_with_the_usual_message(value):
    with pytest.raises(SettingsError, match=r"jitter: .* is not allowed; a number >= 0 and <= 0.25"):
        Settings(jitter=value)


def test_a_sweep_over_jitter_trains_each_model_on_its_own_data():
    from engine import Trainer
    from engine.sweep import Sweep, run_sweep

    base = Settings(dataset="toy_xor", samples=300, hidden=(4,), epochs=5)
    results = run_sweep(Sweep(base, {"jitter": [0.0, 0.1]}, seeds=[0, 1]), workers=1)
    assert [r.settings.jitter for r in results] == [0.0, 0.0, 0.1, 0.1]
    for result in results:  # stacked models match the single-model engine on the same (jittered) data
        alone = Trainer(result.settings)
        alone.train()
        assert abs(alone.history.loss[-1] - result.final["loss"]) < 1e-4
