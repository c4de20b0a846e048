"""Issue 11, headless: nothing waits for training on the caller's thread (the server's loop), epochs that would
take too long are refused per session, and a hostile or malformed file changes nothing."""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pytest

import dashboard.session.runner as runner_module
import dashboard.session.worker as worker_module
from dashboard.session.experiment import SETTINGS, Experiment
from engine import Settings, Trainer
from engine.storage import MAX_FILE_BYTES, experiment_archive
from tests.support.zips import zipped

XOR = dict(dataset="toy_xor", hidden="8,8", lr=0.01)
# One epoch of this takes tens of seconds here (batch size 1 on 30,000 training points).
HUGE = dict(dataset="toy_xor", samples=40_000, hidden="32,32", batch_size=1, epochs=5)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def wait_for(condition, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def no_budget(monkeypatch):
    """Let a session train the huge epochs (the budget is tested on its own)."""
    monkeypatch.setattr(runner_module, "over_budget", lambda *args, **kwargs: None)


@pytest.fixture
def slow_maps(monkeypatch):
    """Make the worker's live map take 1.5 s: a worker that cannot stop within HALT_WAIT."""
    real = worker_module.evaluate_grid

    def slow(trainer, size=200):
        time.sleep(1.5)
        return real(trainer, size)

    monkeypatch.setattr(worker_module, "evaluate_grid", slow)


def started(experiment: Experiment) -> worker_module.Worker:
    worker = experiment._runner.worker
    wait_for(lambda: worker._trainer is not None)
    time.sleep(0.3)  # well into its first (long) epoch
    return worker


@pytest.mark.parametrize("action", ["train", "reset", "hidden", "dataset", "stop", "close"])
def test_actions_during_a_huge_epoch_return_at_once(no_budget, action):
    experiment = Experiment(**HUGE)
    experiment.train()
    worker = started(experiment)
    do = {"train": experiment.train, "reset": experiment.reset, "stop": experiment.stop, "close": experiment.close,
          "hidden": lambda: setattr(experiment, "hidden", "4"),
          "dataset": lambda: setattr(experiment, "dataset", "toy_ring")}[action]
    assert timed(do) < 2.0
    assert worker.join(5), "the stopped training did not end within 5 s"
    if action == "train":
        assert experiment.busy and experiment.state == "training"
    experiment.close()


def test_a_worker_that_cannot_stop_at_once_is_detached_and_its_results_dropped(no_budget, slow_maps):
    experiment = Experiment(**{**HUGE, "epochs": 1, "samples": 2000, "batch_size": 0})
    experiment.train()
    old = experiment._runner.worker
    wait_for(lambda: old._trainer is not None)
    time.sleep(0.2)  # inside a slow map evaluation
    assert timed(experiment.reset) < 1.0
    assert experiment._runner.worker is None and experiment.state == "idle" and not experiment.has_model
    assert old.join(5)
    experiment.poll()
    assert len(experiment.history) == 0 and experiment.runs == []


def test_continue_waits_for_the_stopping_worker_without_blocking(no_budget, slow_maps):
    experiment = Experiment(**{**XOR, "epochs": 50})
    experiment.train()
    experiment.wait(60)
    experiment.epochs = 1_000_000
    experiment.continue_training()
    worker = experiment._runner.worker
    time.sleep(0.3)
    experiment.epochs = 10
    assert timed(experiment.continue_training) < 1.0  # the map of the running one takes 1.5 s to finish
    assert experiment.state in ("stopping", "training")
    experiment.wait(60)
    assert worker.join(5)
    assert [row["ended"] for row in experiment.runs] == ["finished", "stopped", "finished"]
    assert experiment.history.epoch == list(range(1, len(experiment.history) + 1))  # one continuing axis


def test_settings_whose_epochs_take_too_long_are_refused_with_advice():
    experiment = Experiment(dataset="toy_xor", samples=100_000, hidden="64,64", batch_size=1, epochs=3)
    experiment.train()
    assert not experiment.busy and experiment.runs == []
    assert experiment.message_kind == "warning"
    assert "would take about" in experiment.message and "batch size of" in experiment.message
    experiment.batch_size = 512
    experiment.epochs = 1
    experiment.train()
    assert experiment.busy
    experiment.wait(120)
    assert experiment.runs[-1]["ended"] == "finished"


def test_budget_estimate_is_the_documented_formula():
    from engine.budget import (
        MAX_EPOCH_SECONDS,
        epoch_seconds,
        over_budget,
        parameter_count,
    )

    tiny = Settings(hidden=(4,))
    assert parameter_count(tiny) == 17 and parameter_count(Settings(hidden=(8, 8))) == 105
    assert epoch_seconds(tiny, 3000, 1000) < 0.01  # the notebook's full batch
    assert over_budget(tiny, 3000, 1000) is None
    assert epoch_seconds(tiny.replace(batch_size=1), 150_000, 50_000) > MAX_EPOCH_SECONDS
    assert "full batch" not in over_budget(tiny.replace(batch_size=1), 150_000, 50_000)


# ----- hostile archives change nothing -----
def state_of(experiment: Experiment):
    return ({name: getattr(experiment, name) for name in SETTINGS}, list(experiment.runs), experiment.grid,
            experiment.history.to_dict(), experiment.trainer, dict(experiment.results), experiment.data,
            experiment.csv_path, experiment.has_model, experiment.state)


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def changed(members, change) -> bytes:
    record = json.loads(members["settings.json"])
    change(record)
    return zipped({**members, "settings.json": json.dumps(record).encode()})


@pytest.fixture(scope="module")
def csv_archive(tmp_path_factory) -> dict[str, bytes]:
    source = tmp_path_factory.mktemp("csv") / "mine.csv"
    points = np.random.default_rng(3).random((60, 2))
    source.write_text("".join(f"{x},{y},{int(x > y)}\n" for x, y in points))
    trainer = Trainer(Settings(dataset="csv", csv_path=str(source), hidden=(3,), epochs=4))
    trainer.train()
    return members_of(experiment_archive(trainer))


HOSTILE = {
    "absolute-csv-path": lambda m: changed(m, lambda r: r["settings"].update(csv_path="/etc/passwd")),
    "parent-csv-path": lambda m: changed(m, lambda r: r["settings"].update(csv_path="../../../etc/passwd")),
    "zip-bomb": lambda m: zipped({**m, "settings.json": b" " * (MAX_FILE_BYTES["settings.json"] + 10)}),
    "oversize-member": lambda m: zipped({**m, "data.csv": b"0,0,0\n" * (MAX_FILE_BYTES["data.csv"] // 6 + 1)}),
    "unequal-history": lambda m: changed(m, lambda r: r["history"]["lr"].append(0.1)),
    "run-with-bad-settings": lambda m: changed(m, lambda r: r["runs"][0]["settings"].update(hidden=[0])),
    "bad-device": lambda m: changed(m, lambda r: r["settings"].update(device="cuda:abc")),
    "parent-member-name": lambda m: zipped({**m, "../../escape.txt": b"x"}),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_archives_change_nothing(csv_archive, case):
    experiment = Experiment(epochs=20, **XOR)
    experiment.train()
    experiment.wait(60)
    before = state_of(experiment)
    assert experiment.load_archive(HOSTILE[case](csv_archive)) is False
    assert experiment.message_kind == "danger" and "Nothing was changed" in experiment.message
    assert "/tmp" not in experiment.message and "root:" not in experiment.message
    assert state_of(experiment) == before
    if experiment._files.path is not None:  # no stray data file of the refused archive
        assert not list(experiment._files.path.rglob("*.csv"))
    experiment.close()


def test_a_loaded_csv_experiment_gets_its_own_data_file(csv_archive):
    experiment = Experiment()
    assert experiment.load_archive(zipped(csv_archive)), experiment.message
    assert experiment.dataset == "csv" and experiment.csv_path.endswith("data.csv")
    with open(experiment.csv_path, "rb") as handle:
        assert handle.read() == csv_archive["data.csv"]
    path = experiment.csv_path
    experiment.close()
    import os

    assert not os.path.exists(path)  # removed with the session


def test_a_detached_run_keeps_what_it_sent_for_comparison(slow_maps):
    experiment = Experiment(epochs=1_000_000, **XOR)
    experiment.train()
    wait_for(lambda: experiment.poll() and len(experiment.history) >= 20 and experiment.grid is not None)
    assert timed(lambda: setattr(experiment, "dataset", "toy_ring")) < 1.0  # its final map would take 1.5 s
    (result,) = experiment.results.values()
    assert result.ended == "stopped" and result.last_epoch >= 20 and result.data_title == "Toy dataset: XOR"
    assert experiment.runs[-1]["ended"] == "stopped" and experiment.runs[-1]["seconds"] > 0
    experiment.close()
