"""Sweeps: the grid of settings, grouping into tasks, worker processes, CUDA, stopping (stacked training itself:
test_stacked_training.py)."""

import threading
import time

import pytest
import torch

from engine import Settings, SettingsError, Trainer
from engine.stacked_training import train_alone, train_models
from engine.sweep import MAX_MODELS, Sweep, plan, run_sweep

SMALL = Settings(dataset="toy_xor", samples=400, hidden=(6, 5), epochs=30, lr=0.02)
METRICS = ("loss", "test_loss", "train_accuracy", "test_accuracy")


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
