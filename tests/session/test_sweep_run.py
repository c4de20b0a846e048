"""An app sweep (session/sweep_run.py): values read from text, the limits, and the thread with stop and poll."""

from __future__ import annotations

import time

import pytest

from dashboard.session.sweep_run import (
    MAX_MODELS,
    SweepRun,
    build_sweep,
    check_limits,
    parse_values,
)
from engine import Settings, SettingsError

BASE = Settings(dataset="toy_xor", samples=200)


def test_values_from_text():
    assert parse_values("hidden", "4 8 8,8") == [(4,), (8,), (8, 8)]
    assert parse_values("hidden", "0 4") == [(), (4,)]
    assert parse_values("lr", "0.001, 0.01  0.1") == [0.001, 0.01, 0.1]
    assert parse_values("activation", "relu tanh relu") == ["relu", "tanh"]
    assert parse_values("iris_features", "petal_length,petal_width sepal_length,sepal_width") == [
        ("petal_length", "petal_width"), ("sepal_length", "sepal_width")]
    for name, text in (("lr", "fast"), ("lr", "-1"), ("activation", "magic"), ("hidden", "8,x"), ("lr", ""),
                       ("lr", "nan")):
        with pytest.raises(SettingsError):
            parse_values(name, text)


def test_sweep_from_the_base_with_epochs_and_seeds():
    sweep = build_sweep(BASE, {"lr": "0.01 0.1", "hidden": "4 8,8"}, seeds=3, epochs=20)
    models = sweep.models()
    assert len(models) == 12 and {m.seed for m in models} == {0, 1, 2} and {m.epochs for m in models} == {20}
    assert all(m.dataset == "toy_xor" and m.samples == 200 for m in models)


@pytest.mark.parametrize("axes, seeds, epochs, words", [
    ({"lr": " ".join(str(0.01 * (i + 1)) for i in range(33))}, 2, 10, f"at most {MAX_MODELS}"),
    ({"lr": "0.1"}, 1, 5000, "epochs per model"),
    ({"lr": "0.1"}, 11, 10, "Seeds"),
    ({}, 1, 10, "choose one or two"),
    ({"dataset": "iris csv"}, 1, 10, "csv"),
])
def test_too_much_is_refused_with_a_message(axes, seeds, epochs, words):
    with pytest.raises(SettingsError, match=words):
        build_sweep(BASE, axes, seeds, epochs)


@pytest.mark.parametrize("base, axes, words", [
    (BASE, {"momentum": "0 0.9"}, "momentum matters only with optimizer sgd; no cell of this sweep uses it"),
    (BASE, {"lr": "0.01 0.1", "reg_rate": "0.001 0.01"}, "reg_rate matters only with reg l1 or l2;"),
    (BASE, {"decay_factor": "0.25 0.5", "schedule": "constant cosine"}, "decay_factor matters only with schedule"),
    (BASE, {"iris_features": "sepal_length,sepal_width"}, "iris_features matters only with dataset iris;"),
    (BASE.replace(dataset="iris"), {"samples": "100 200"}, "samples matters only with dataset toy_easy,"),
])
def test_an_axis_that_matters_in_no_cell_is_refused(base, axes, words):
    with pytest.raises(SettingsError, match=words):
        build_sweep(base, axes, 1, 5)


def test_an_axis_that_matters_in_some_cell_is_kept():
    assert len(build_sweep(BASE, {"optimizer": "adam sgd", "momentum": "0 0.9"}, 1, 5).models()) == 4


def test_time_and_epoch_budgets():
    assert check_limits(build_sweep(BASE, {"lr": "0.01 0.1"}, 2, 50)) is None
    big = build_sweep(BASE.replace(samples=200_000, hidden=(256, 256, 256)), {"lr": "0.01 0.1"}, 2, 2000)
    assert "more than" in check_limits(big)
    slow_epoch = build_sweep(BASE.replace(samples=200_000, hidden=(256,) * 8), {"batch_size": "1"}, 1, 1)
    assert "One epoch" in check_limits(slow_epoch)


def test_results_arrive_by_poll_and_stop_keeps_what_finished():
    from engine.sweep import Sweep

    sweep = Sweep(BASE.replace(epochs=4000), {"hidden": [(2,), (3,), (4,), (5,), (6,), (7,)]}, [0])
    run = SweepRun(sweep, chunk_size=1)
    # hidden differs per model: one task each, so the first models finish before the stop
    run.start()
    deadline = time.monotonic() + 60
    while not run.results and time.monotonic() < deadline:
        run.poll()
        time.sleep(0.02)
    assert run.results and run.running and run.eta() is not None
    run.stop()
    run.wait(60)
    assert run.done and not run.running
    finished = [r for r in run.results if r.ended == "finished"]
    assert finished and len(run.results) < run.total
    assert all(r.final["epoch"] == 4000 for r in finished)
    from engine.sweep import _DATASETS

    assert not _DATASETS  # the server process keeps no dataset of a sweep that ended


def test_a_failure_is_reported_not_raised(monkeypatch):
    import dashboard.session.sweep_run as module

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(module, "run_sweep", broken)
    run = SweepRun(build_sweep(BASE, {"lr": "0.1"}, 1, 5))
    run.start()
    run.wait(10)
    assert run.done and "out of memory" in run.error
