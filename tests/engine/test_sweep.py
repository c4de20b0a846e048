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
    assert [(m.lr, m.hidden, m.seed) for m in models[:4]] == [
        (0.01, (4,), 0),
        (0.01, (4,), 7),
        (0.01, (8, 8), 0),
        (0.01, (8, 8), 7),
    ]
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


@pytest.mark.parametrize("base, axes, words", [
    (SMALL, {"csv_path": ["a.csv", "b.csv"]}, "csv_path matters only with dataset csv;"),
    (SMALL, {"momentum": [0.0, 0.9]}, "momentum matters only with optimizer sgd;"),
    (SMALL, {"lr": [0.01, 0.1], "decay_every": [10, 20]}, "decay_every matters only with schedule step;"),
    (SMALL.replace(schedule="cosine"), {"decay_factor": [0.1, 0.5]}, "decay_factor matters only with schedule step;"),
    (SMALL, {"dataset": ["toy_xor", "moons"], "iris_features": ["sepal_length,sepal_width"]}, "with dataset iris;"),
    (SMALL.replace(dataset="iris"), {"samples": [100, 200]}, "samples matters only with dataset toy_easy, "),
    (SMALL, {"dataset": ["iris"], "jitter": [0.0, 0.1]}, "jitter matters only with dataset toy_easy, "),
    (SMALL.replace(dataset="iris"), {"data_seed": [1, 2]}, "data_seed matters only with dataset"),
    (SMALL, {"reg": ["none"], "reg_rate": [0.001, 0.01]}, "reg_rate matters only with reg l1 or l2;"),
])
def test_an_axis_that_matters_in_no_cell_is_refused_with_what_it_needs(base, axes, words):
    sweep = Sweep(base, axes, seeds=[0])
    with pytest.raises(SettingsError, match=words) as refused:
        sweep.validate()
    assert str(refused.value).endswith("no cell of this sweep uses it")
    with pytest.raises(SettingsError, match=words):
        run_sweep(sweep, workers=1)  # refused before anything trains


@pytest.mark.parametrize("axes", [
    {"optimizer": ["adam", "sgd"], "momentum": [0.0, 0.9]},  # the README's sweep: the sgd cells use momentum
    {"dataset": ["toy_xor", "iris"], "iris_features": ["sepal_length,sepal_width", "petal_length,petal_width"]},
    {"reg": ["none", "l2"], "reg_rate": [0.001, 0.01]},
    {"schedule": ["constant", "step"], "decay_every": [5, 10]},
    {"samples": [100, 200], "jitter": [0.0, 0.1]},
])
def test_an_axis_that_matters_in_some_cell_is_kept(axes):
    sweep = Sweep(SMALL, axes, seeds=[0])
    assert sweep.idle_axis() is None and len(sweep.validate()) == 4


def test_idle_axes_are_named_as_the_caller_names_settings():
    name, line = Sweep(SMALL, {"momentum": [0.0, 0.9]}).idle_axis(lambda name: f"--{name}")
    assert name == "momentum" and line == "momentum matters only with --optimizer sgd; no cell of this sweep uses it"


def test_every_csv_file_of_the_grid_is_read_up_front_one_line_per_bad_file(tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("x,y,label\n" + "".join(f"{i / 10},{(i * 7 % 10) / 10},{i % 2}\n" for i in range(10)))
    bad.write_text("x,y,label\n0.1,0.2,3\n")
    missing = tmp_path / "missing.csv"
    paths = [str(good), str(bad), str(missing), str(tmp_path), str(good)]
    base = SMALL.replace(dataset="csv", csv_path=str(good))
    assert Sweep(base, {"csv_path": paths[:1]}).csv_problems() == []
    problems = Sweep(base, {"csv_path": paths}).csv_problems()
    assert problems == [f"{bad}, line 2, column 3: the label must be 0 or 1, got '3'", f"{missing}: no such file",
                        f"{tmp_path}: cannot be read (Is a directory)"]
    assert Sweep(base.replace(csv_path=str(missing)), {"lr": [0.1]}).csv_problems() == [f"{missing}: no such file"]
    assert Sweep(SMALL, {"dataset": ["toy_xor", "csv"], "csv_path": [str(missing)]}).csv_problems() == [
        f"{missing}: no such file"]
    assert Sweep(SMALL.replace(csv_path=str(missing)), {"lr": [0.1]}).csv_problems() == []  # no cell uses csv
