"""Sweeps: the grid of settings, stacked training against the single-model engine, grouping, divergence, stopping."""

import threading
import time

import numpy as np
import pytest
import torch

from engine import Settings, SettingsError, Trainer
from engine.stacked import StackedMLP, train_alone, train_models, train_stack
from engine.sweep import MAX_MODELS, Sweep, plan, run_sweep

SMALL = Settings(dataset="toy_xor", samples=400, hidden=(6, 5), epochs=30, lr=0.02)
METRICS = ("loss", "test_loss", "train_accuracy", "test_accuracy")


def assert_close(stacked, alone, loss_tolerance=1e-5):
    """Stacked and single runs differ by float rounding only (matmuls summed in another order)."""
    assert stacked.ended == alone.ended and stacked.final["epoch"] == alone.final["epoch"]
    for key in ("loss", "test_loss"):
        assert abs(stacked.final[key] - alone.final[key]) <= loss_tolerance * max(1, abs(alone.final[key])), key
        assert np.allclose(stacked.history[key], alone.history[key], rtol=loss_tolerance, atol=loss_tolerance), key
    for key in ("train_accuracy", "test_accuracy"):  # at most one point of the set changes side
        assert abs(stacked.final[key] - alone.final[key]) <= 1 / 100 + 1e-6, key
    assert abs(stacked.agreement - alone.agreement) <= 1e-3


def test_models_are_every_combination_with_the_seeds_fastest():
    sweep = Sweep(SMALL, {"lr": [0.01, 0.1], "hidden": [4, (8, 8), "3,3"]}, seeds=[0, 7])
    models = sweep.models()
    assert len(models) == 12
    assert [(m.lr, m.hidden, m.seed) for m in models[:4]] == [(0.01, (4,), 0), (0.01, (4,), 7), (0.01, (8, 8), 0), (0.01, (8, 8), 7)]
    assert models[-1].lr == 0.1 and models[-1].hidden == (3, 3)


@pytest.mark.parametrize("axes, seeds, words", [
    ({"learning_rate": [0.1]}, [0], "not a setting"),
    ({"lr": [0.1, 50.0]}, [0], "lr=50.0: lr: "),
    ({"hidden": []}, [0], "non-empty list"),
    ({"activation": ["relu", "cube"]}, [0], "activation='cube': activation: "),
    ({"seed": [1, 2]}, [0], "as the sweep's seeds"),
    ({}, [], "at least one seed"),
    ({"lr": [0.01] * 1000}, list(range(MAX_MODELS // 1000 + 1)), "more than the limit"),
])
def test_bad_axes_are_settings_errors_that_say_what_is_wrong(axes, seeds, words):
    with pytest.raises(SettingsError, match=words):
        Sweep(SMALL, axes, seeds).models()


def test_each_stacked_model_starts_from_the_single_engines_weights_for_its_seed():
    models = [SMALL.replace(seed=seed) for seed in (3, 4, 5)]
    net = StackedMLP.from_seeds(models, torch.device("cpu"))
    for row, settings in zip(net.flat, models):
        assert torch.equal(row, Trainer(settings).net.flat)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu", "leaky_relu", "gelu", "silu", "softplus", "linear"])
def test_stacked_models_match_each_model_trained_alone_for_every_activation(activation):
    models = [SMALL.replace(activation=activation, seed=seed, lr=lr) for seed, lr in ((1, 0.02), (2, 0.05))]
    for stacked, settings in zip(train_stack([0, 1], models), models):
        assert_close(stacked, train_alone(0, settings))


@pytest.mark.parametrize("optimizer, momentum", [("adam", 0), ("adamw", 0), ("sgd", 0), ("sgd", 0.9), ("rmsprop", 0)])
def test_stacked_models_match_each_model_trained_alone_for_every_optimizer(optimizer, momentum):
    models = [SMALL.replace(optimizer=optimizer, momentum=momentum, activation="tanh", seed=seed, lr=lr)
              for seed, lr in ((1, 0.01), (2, 0.03), (3, 0.01))]
    # RMSprop divides by the root of a running mean of squared gradients that starts at zero: its first steps
    # scale rounding differences of near-zero gradients up to whole steps, so it drifts more than the others.
    tolerance = 2e-4 if optimizer == "rmsprop" else 1e-5
    for stacked, settings in zip(train_stack([0, 1, 2], models), models):
        assert_close(stacked, train_alone(0, settings), tolerance)


def test_schedules_and_per_model_penalty_rates_match_too():
    models = [SMALL.replace(schedule="cosine", reg="l2", reg_rate=rate, seed=seed) for seed, rate in ((1, 0.0), (2, 0.01))]
    models += [SMALL.replace(schedule="step", decay_every=7, reg="l1", reg_rate=0.003, seed=3)]
    results = train_stack([0, 1], models[:2]) + train_stack([2], models[2:])
    for stacked, settings in zip(results, models):
        assert_close(stacked, train_alone(0, settings))


def test_a_diverging_model_stops_alone_and_the_others_go_on():
    models = [SMALL.replace(optimizer="sgd", lr=lr, seed=1, activation="linear", hidden=(8, 8)) for lr in (0.05, 10.0, 0.1)]
    results = train_stack([0, 1, 2], models)
    alone = [train_alone(i, s) for i, s in enumerate(models)]
    assert [r.ended for r in results] == ["finished", "diverged", "finished"]
    assert results[1].final["epoch"] < SMALL.epochs and "diverged" in results[1].message
    for stacked, single in zip(results, alone):
        assert_close(stacked, single)


def test_a_stop_request_ends_every_model_as_stopped():
    stop = threading.Event()
    stop.set()
    results = train_stack([0, 1], [SMALL.replace(seed=1), SMALL.replace(seed=2)], stop=stop)
    assert [r.ended for r in results] == ["stopped", "stopped"] and results[0].final is None


def test_history_is_thinned_and_keeps_the_last_epoch_and_epochs_to_95():
    (result,) = train_stack([0], [SMALL.replace(epochs=250, lr=0.05)])
    assert len(result.history["epoch"]) <= 101 and result.history["epoch"][-1] == 250
    assert result.final["epoch"] == 250 and 1 <= result.epochs_to_95 <= 250
    assert result.seconds > 0


def test_models_that_cannot_share_a_stack_are_grouped_apart_and_dropout_trains_alone():
    models = Sweep(SMALL, {"hidden": [4, 8], "dataset": ["toy_xor", "moons"], "dropout": [0.0, 0.2]}, [1, 2]).models()
    tasks = plan(models)
    for task in tasks:
        keys = {(models[i].hidden, models[i].dataset, models[i].dropout) for i in task}
        assert len(keys) == 1
        assert models[task[0]].dropout == 0 or len(task) == 1
    assert sorted(i for task in tasks for i in task) == list(range(len(models)))
    dropout = [i for i, m in enumerate(models) if m.dropout][:1] + [i for i, m in enumerate(models) if m.batch_size][:0]
    (result,) = train_models(dropout, [models[dropout[0]]])
    assert result.stacked is False and result.final["epoch"] == SMALL.epochs


def test_mini_batches_fall_back_to_the_single_model_trainer_with_its_numbers():
    settings = SMALL.replace(batch_size=32, epochs=5)
    (result,) = train_models([0], [settings])
    trainer = Trainer(settings)
    trainer.train()
    assert result.stacked is False and result.history["loss"] == trainer.history.loss


def test_run_sweep_in_worker_processes_gives_the_results_of_one_process_in_sweep_order():
    sweep = Sweep(SMALL.replace(epochs=10), {"lr": [0.01, 0.05], "hidden": [(4,), (3, 3)]}, seeds=[0, 1])
    seen = []
    local = run_sweep(sweep, workers=1, chunk_size=2, progress=lambda done, total, r: seen.append((done, total)))
    spread = run_sweep(sweep, workers=2, chunk_size=2)
    assert [r.index for r in spread] == list(range(8)) and seen[-1] == (8, 8)
    assert [r.to_dict() | {"seconds": 0} for r in local] == [r.to_dict() | {"seconds": 0} for r in spread]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_sweep_on_cuda_follows_the_cpu_run():
    sweep = Sweep(SMALL.replace(epochs=40), {"lr": [0.01, 0.05], "activation": ["relu", "tanh"]}, seeds=[0, 1])
    gpu = run_sweep(sweep, device="cuda")
    cpu = run_sweep(sweep, workers=1)
    assert [r.settings.device for r in gpu] == ["cuda"] * 8
    for a, b in zip(gpu, cpu):
        assert a.ended == b.ended == "finished"
        assert abs(a.final["loss"] - b.final["loss"]) < 1e-3
        assert abs(a.final["test_accuracy"] - b.final["test_accuracy"]) <= 0.03


def test_a_stop_request_reaches_the_worker_processes_and_keeps_what_finished():
    sweep = Sweep(SMALL.replace(epochs=100_000), {"hidden": [(3,), (4,), (5,), (6,), (7,)]}, seeds=[0])
    stop = threading.Event()
    timer = threading.Timer(3.0, stop.set)
    timer.start()
    started = time.perf_counter()
    results = run_sweep(sweep, workers=2, stop=stop)
    timer.cancel()
    assert time.perf_counter() - started < 60
    # the two running tasks end their models as stopped, after some epochs; the three not started are dropped
    assert 1 <= len(results) <= 2 and all(r.ended == "stopped" for r in results)
    assert all(0 < r.final["epoch"] < 100_000 and "Stopped after" in r.message for r in results)


def test_axes_over_data_and_input_features_form_their_own_stacks():
    sweep = Sweep(SMALL.replace(epochs=5), {"dataset": ["toy_ring", "iris"], "features": ["x,y", ("x", "y", "xy")],
                                            "noise": [0.0, 0.1]}, seeds=[0, 1])
    results = run_sweep(sweep, workers=1)
    assert len(results) == 16 and all(r.ended == "finished" and r.stacked for r in results)
    for result in results:
        assert (result.agreement is None) == (result.settings.dataset == "iris")
    single = train_alone(0, sweep.models()[-1])  # iris, x,y,xy, 10 % noise, seed 1
    assert results[-1].final["epoch"] == single.final["epoch"] == 5
    assert abs(results[-1].final["loss"] - single.final["loss"]) < 1e-5
