"""Stacked training against the single-model engine: starting weights, every activation and optimizer, schedules
and penalties, divergence, stopping, thinned history."""

import threading

import numpy as np
import pytest
import torch

from engine import Settings, Trainer, load_dataset
from engine.stacked import StackedMLP
from engine.stacked_training import HALFWAY, epochs_to_halfway, train_alone, train_stack

SMALL = Settings(dataset="toy_xor", samples=400, hidden=(6, 5), epochs=30, lr=0.02)


def assert_close(stacked, alone, loss_tolerance=1e-5):
    """Stacked and single runs differ by float rounding only (matmuls summed in another order)."""
    assert stacked.ended == alone.ended and stacked.final["epoch"] == alone.final["epoch"]
    for key in ("loss", "test_loss"):
        assert abs(stacked.final[key] - alone.final[key]) <= loss_tolerance * max(1, abs(alone.final[key])), key
        assert np.allclose(stacked.history[key], alone.history[key], rtol=loss_tolerance, atol=loss_tolerance), key
    for key in ("train_accuracy", "test_accuracy"):  # at most one point of the set changes side
        assert abs(stacked.final[key] - alone.final[key]) <= 1 / 100 + 1e-6, key
    assert abs(stacked.agreement - alone.agreement) <= 1e-3

def test_each_stacked_model_starts_from_the_single_engines_weights_for_its_seed():
    models = [SMALL.replace(seed=seed) for seed in (3, 4, 5)]
    net = StackedMLP.from_seeds(models, torch.device("cpu"))
    for row, settings in zip(net.flat, models):
        assert torch.equal(row, Trainer(settings).net.flat)


@pytest.mark.parametrize(
    "activation", ["relu", "tanh", "sigmoid", "elu", "leaky_relu", "gelu", "silu", "softplus", "linear"]
)
def test_stacked_models_match_each_model_trained_alone_for_every_activation(activation):
    models = [SMALL.replace(activation=activation, seed=seed, lr=lr) for seed, lr in ((1, 0.02), (2, 0.05))]
    for stacked, settings in zip(train_stack([0, 1], models), models):
        assert_close(stacked, train_alone(0, settings))


@pytest.mark.parametrize("optimizer, momentum", [("adam", 0), ("adamw", 0), ("sgd", 0), ("sgd", 0.9), ("rmsprop", 0)])
def test_stacked_models_match_each_model_trained_alone_for_every_optimizer(optimizer, momentum):
    models = [SMALL.replace(optimizer=optimizer, momentum=momentum, activation="tanh", seed=seed, lr=lr)
              for seed, lr in ((1, 0.01), (2, 0.03), (3, 0.01))]
    # RMSprop divides by the root of a running mean of squared gradients that starts at zero: its first steps
    # scale rounding differences of near-zero gradients up to whole steps, so it drifts more than the others
    # (more still where stacks take numpy's tanh, engine.fast_math: up to 3.7e-4 here, 8e-5 with torch's).
    tolerance = 1e-3 if optimizer == "rmsprop" else 1e-5
    for stacked, settings in zip(train_stack([0, 1, 2], models), models):
        assert_close(stacked, train_alone(0, settings), tolerance)


def test_schedules_and_per_model_penalty_rates_match_too():
    models = [
        SMALL.replace(schedule="cosine", reg="l2", reg_rate=rate, seed=seed) for seed, rate in ((1, 0.0), (2, 0.01))
    ]
    models += [SMALL.replace(schedule="step", decay_every=7, reg="l1", reg_rate=0.003, seed=3)]
    results = train_stack([0, 1], models[:2]) + train_stack([2], models[2:])
    for stacked, settings in zip(results, models):
        assert_close(stacked, train_alone(0, settings))


def test_a_diverging_model_stops_alone_and_the_others_go_on():
    models = [
        SMALL.replace(optimizer="sgd", lr=lr, seed=1, activation="linear", hidden=(8, 8)) for lr in (0.05, 10.0, 0.1)
    ]
    results = train_stack([0, 1, 2], models)
    alone = [train_alone(i, s) for i, s in enumerate(models)]
    assert [r.ended for r in results] == ["finished", "diverged", "finished"]
    assert results[1].final["epoch"] < SMALL.epochs and "diverged" in results[1].message
    for stacked, single in zip(results, alone):
        assert_close(stacked, single)


def test_when_every_model_diverges_each_ends_as_it_would_alone():
    """Models leave one by one, and the last ones end the stack: each with its last finite weights, its message
    the single-model engine's."""
    models = [SMALL.replace(optimizer="sgd", lr=lr, seed=seed, activation="linear", hidden=(8, 8))
              for seed, lr in ((1, 10.0), (2, 5.0), (3, 10.0))]
    results = train_stack([0, 1, 2], models)
    alone = [train_alone(i, s) for i, s in enumerate(models)]
    assert [r.ended for r in results] == ["diverged"] * 3
    assert len({r.final["epoch"] for r in results}) > 1  # not all in the same epoch: some left the stack first
    for stacked, single in zip(results, alone):
        assert stacked.message == single.message
        assert_close(stacked, single)


def test_a_stop_request_ends_every_model_as_stopped():
    stop = threading.Event()
    stop.set()
    results = train_stack([0, 1], [SMALL.replace(seed=1), SMALL.replace(seed=2)], stop=stop)
    assert [r.ended for r in results] == ["stopped", "stopped"] and results[0].final is None


def test_history_is_thinned_and_keeps_the_last_epoch_and_epochs_to_halfway():
    (result,) = train_stack([0], [SMALL.replace(epochs=250, lr=0.05)])
    assert len(result.history["epoch"]) <= 101 and result.history["epoch"][-1] == 250
    assert result.majority == pytest.approx(load_dataset(SMALL).majority_share("test"))
    goal = result.majority + HALFWAY * (1 - result.majority)
    accuracy = dict(zip(result.history["epoch"], result.history["test_accuracy"]))
    assert 1 <= result.epochs_to_halfway <= 250
    assert accuracy.get(result.epochs_to_halfway, goal) >= goal  # where thinning kept that epoch
    assert result.seconds > 0


def test_a_model_stuck_at_its_baseline_never_gets_halfway():
    """A model that answers the majority class from the first epoch is not 'fastest': it never gets halfway."""
    history = {"epoch": [1, 2, 3], "test_accuracy": [0.733, 0.733, 0.74]}
    assert epochs_to_halfway(history, 0.733) is None
    assert epochs_to_halfway({"epoch": [1, 2, 3], "test_accuracy": [0.5, 0.8, 0.9]}, 0.5) == 2
