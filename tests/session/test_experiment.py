"""The Experiment headless: settings, actions, results, without a server or panel."""

from __future__ import annotations

import re
import sys
import threading
import time

import param
import pytest

from dashboard.session.experiment import SETTINGS, Experiment
from dashboard.session.setting_rules import PARTS
from engine import Settings, Trainer
from engine.settings import GROUPS, MAX_EPOCHS, SPECS

STATUS = re.compile(
    r"^Epoch \d{2,}/\d{2,} \| loss = \d+\.\d{4} \| train acc = [ \d]{3}\.\d% \| test acc = [ \d]{3}\.\d%$"
)
XOR = dict(dataset="toy_xor", hidden="8,8", lr=0.01)


def trained(**settings) -> Experiment:
    experiment = Experiment(**settings)
    experiment.train()
    experiment.wait(120)
    return experiment


def test_does_not_import_panel():
    code = "import sys, dashboard.session.experiment; print('panel' in sys.modules, 'holoviews' in sys.modules)"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_settings_are_documented_bounded_and_grouped():
    experiment = Experiment()
    assert {SPECS[name].group for name in SETTINGS} == set(GROUPS)
    assert set(SETTINGS) == {name for names in PARTS.values() for name in names} and len(SETTINGS) == len(set(SETTINGS))
    for name in SETTINGS:
        parameter = experiment.param[name]
        assert parameter.doc and parameter.label, name
        if isinstance(parameter, (param.Number, param.Integer)):
            assert parameter.bounds is not None and None not in parameter.bounds, name
    # Every engine setting a user chooses is there (csv_path needs a file, device and threads are fixed).
    covered = set(SETTINGS)
    assert set(Settings().to_dict()) - covered == {"csv_path", "device", "threads"}
    # The defaults are the engine's (the teaching notebook's).
    assert experiment.settings() == Settings(threads=1)


def test_train_fills_the_results_and_matches_the_engine():
    experiment = trained(epochs=150, **XOR)
    assert experiment.state == "idle" and experiment.has_model
    assert STATUS.match(experiment.status), experiment.status
    assert experiment.status.startswith("Epoch 150/150")
    assert experiment.progress == 1.0
    assert len(experiment.history) == 150 and set(experiment.history.run) == {1}
    assert experiment.grid is not None and experiment.grid.probability.shape == (200, 200)
    assert 0.0 <= experiment.grid.agreement <= 1.0
    assert len(experiment.evaluation.test_correct) == 1000
    (run,) = experiment.runs
    assert run["run"] == 1 and run["ended"] == "finished" and run["epochs"] == "1-150"
    assert run["test acc %"] == round(100 * experiment.history.test_accuracy[-1], 1)
    assert run["majority %"] == round(100 * experiment.data.majority_share("test"), 1)
    # Training in the worker, with callbacks and maps in between, gives the engine's history bit for bit.
    reference = Trainer(experiment.settings())
    reference.train()
    assert experiment.history.loss == reference.history.loss
    assert experiment.history.test_accuracy == reference.history.test_accuracy


def test_continue_adds_a_run_on_a_continuing_epoch_axis():
    experiment = trained(epochs=100, **XOR)
    experiment.lr = 0.005  # a training setting: the model is kept
    assert experiment.has_model
    experiment.continue_training()
    experiment.wait(120)
    assert [run["epochs"] for run in experiment.runs] == ["1-100", "101-200"]
    assert experiment.history.epoch == list(range(1, 201))
    assert experiment.history.run == [1] * 100 + [2] * 100
    assert experiment.runs[1]["lr"] == 0.005
    assert experiment.status.startswith("Epoch 100/100")


def test_stop_ends_a_long_run_within_an_epoch_and_keeps_its_history():
    experiment = Experiment(epochs=MAX_EPOCHS, **XOR)
    experiment.train()
    deadline = time.monotonic() + 60
    while not experiment.history.epoch and time.monotonic() < deadline:
        experiment.poll()
        time.sleep(0.02)
    assert experiment.history.epoch, "no epoch came back"
    experiment.stop()
    experiment.wait(120)  # liveness: the stop is taken within an epoch (bench/shutdown.py times such stops)
    run = experiment.runs[-1]
    assert run["ended"] == "stopped" and experiment.state == "idle"
    assert 0 < len(experiment.history) < MAX_EPOCHS
    assert experiment.message.startswith("Stopped after")
    assert experiment.grid is not None  # the map of the model as it stopped


def test_diverging_run_stops_with_advice_and_keeps_its_history():
    experiment = trained(dataset="toy_xor", hidden="64,64,64", optimizer="sgd", lr=10.0, epochs=200)
    assert experiment.runs[-1]["ended"] == "diverged"
    assert experiment.message_kind == "danger"
    assert "smaller learning rate" in experiment.message
    assert 0 < len(experiment.history) < 200  # what was trained before it blew up stays on screen
    assert experiment.state == "idle" and experiment.has_model


def test_pause_step_resume_stay_in_one_run():
    experiment = Experiment(epochs=40, **XOR)
    experiment.step()
    experiment.wait(60)
    assert experiment.state == "paused" and len(experiment.history) == 1
    assert experiment.status.startswith("Epoch 01/40")
    experiment.step()
    experiment.wait(60)
    assert len(experiment.history) == 2
    experiment.resume()
    experiment.wait(60)
    assert experiment.state == "idle" and len(experiment.history) == 40
    assert len(experiment.runs) == 1 and experiment.runs[0]["ended"] == "finished"
    # Pausing a long run, then resuming it, keeps it one run too.
    experiment.epochs = 100_000
    experiment.train()
    while len(experiment.history) < 5:
        experiment.poll()
        time.sleep(0.01)
    experiment.pause()
    experiment.wait(30)
    assert experiment.state == "paused"
    paused_at = len(experiment.history)
    experiment.resume()
    while len(experiment.history) < paused_at + 5:
        experiment.poll()
        time.sleep(0.01)
    experiment.stop()
    experiment.wait(30)
    assert [run["ended"] for run in experiment.runs] == ["finished", "stopped"]
    assert set(experiment.history.run) == {2}


def test_a_paused_run_keeps_its_learning_rate_schedule():
    settings = dict(dataset="toy_xor", samples=300, hidden="8", lr=0.05, epochs=40, schedule="cosine")
    unbroken = trained(**settings)
    stepped = Experiment(**settings)
    for _ in range(3):
        stepped.step()
        stepped.wait(60)
    stepped.resume()
    stepped.wait(120)
    assert stepped.runs[-1]["run"] == 1 and stepped.runs[-1]["ended"] == "finished"
    assert stepped.history.lr == unbroken.history.lr and stepped.history.lr[-1] < 0.001
    assert stepped.history.loss == unbroken.history.loss
    assert stepped.status.endswith(f"| lr = {unbroken.history.lr[-1]:.2e}")


def test_changing_data_or_network_while_training_stops_cleanly():
    experiment = Experiment(epochs=MAX_EPOCHS, **XOR)
    experiment.train()
    while not experiment.history.epoch:
        experiment.poll()
        time.sleep(0.01)
    experiment.dataset = "toy_ring"
    # Stopped and dropped at once: no worker, no model, no results of the old data.
    assert experiment._runner.worker is None and experiment.state == "idle"
    assert not experiment.has_model and len(experiment.history) == 0 and experiment.grid is None
    assert experiment.data.name == "toy_ring"
    assert experiment.runs[-1]["ended"] == "stopped"
    experiment.epochs = 20
    experiment.hidden = "4"
    experiment.train()
    experiment.wait(60)
    assert experiment.runs[-1]["dataset"] == "toy_ring" and experiment.runs[-1]["hidden"] == "4"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("lr", 100, "allowed: a number > 0 and <= 10"),
        ("lr", 0.0, "allowed"),
        ("epochs", 0, "whole number >= 1"),
        ("noise", 0.8, "<= 0.5"),
        ("hidden", "300", "layers of 1 to 256"),
        ("hidden", "8,x", "not a list of layer widths"),
        ("hidden", ",".join(["4"] * 9), "up to 8 layers"),
        ("dataset", "mnist", "one of"),
        ("features", [], "one or more different"),
    ],
)
def test_out_of_range_values_are_refused_and_the_last_valid_kept(name, value, words):
    experiment = Experiment()
    before = getattr(experiment, name)
    assert experiment.set_value(name, value) is False
    assert getattr(experiment, name) == before
    assert words in experiment.message and experiment.message_kind == "warning"


def test_the_iris_pair_is_checked_as_one_setting():
    experiment = Experiment(dataset="iris")
    assert experiment.set_value("iris_features", ["petal_width", "petal_width"]) is False  # the same one twice
    assert "two different features" in experiment.message
    assert experiment.iris_features == ("petal_length", "petal_width")
    # Swapping both at once (as a URL does) is fine.
    assert experiment.set_texts({"iris_features": "petal_width,petal_length"}) == []
    assert experiment.iris_features == ("petal_width", "petal_length")
    assert experiment.data.feature_names == ("petal width", "petal length")


def test_text_settings_as_a_url_gives_them():
    experiment = Experiment()
    problems = experiment.set_texts({"dataset": "toy_xor", "hidden": "8,8", "lr": "0.01", "features": "x,y,xy",
                                     "epochs": "lots", "bogus": "1"})
    assert (experiment.dataset, experiment.hidden, experiment.lr) == ("toy_xor", (8, 8), 0.01)
    assert experiment.features == ("x", "y", "xy")
    assert len(problems) == 2 and experiment.epochs == 200
    assert experiment.changed_settings() == {"dataset": "toy_xor", "features": "x,y,xy", "hidden": "8,8",
                                             "lr": "0.01"}


def test_hidden_layers_read_from_text():
    spec = SPECS["hidden"]
    assert spec.parse("8, 8") == (8, 8)
    assert spec.parse("") == () and spec.parse("0") == ()
    with pytest.raises(ValueError):
        spec.parse("8;8")


def test_reset_forgets_everything_but_the_settings():
    experiment = trained(epochs=20, **XOR)
    experiment.reset()
    assert experiment.runs == [] and len(experiment.history) == 0 and not experiment.has_model
    assert experiment.dataset == "toy_xor" and experiment.status == ""


def test_close_stops_the_worker_thread():
    experiment = Experiment(epochs=MAX_EPOCHS, **XOR)
    experiment.train()
    worker = experiment._runner.worker
    experiment.close()  # does not wait for the thread (the event loop must not); the thread ends on its own
    assert experiment._runner.worker is None
    assert worker.join(5), "the closed experiment's training did not end within 5 s"


def test_two_experiments_train_at_once_without_cross_talk():
    first, second = Experiment(epochs=300, **XOR), Experiment(epochs=300, dataset="toy_ring", hidden="16", lr=0.01)
    first.train()
    second.train()
    deadline = time.monotonic() + 120
    while (first.poll() | second.poll()) and time.monotonic() < deadline:
        time.sleep(0.02)
    for experiment in (first, second):
        reference = Trainer(experiment.settings())
        reference.train()
        assert experiment.history.loss == reference.history.loss
        assert experiment.runs[-1]["dataset"] == experiment.dataset
    assert threading.active_count() < 10


def test_a_run_at_the_majority_baseline_says_what_it_means_and_what_to_try():
    experiment = trained()  # the lesson's defaults: 73.3 %, exactly "always class 0"
    assert experiment.message_kind == "warning"
    for words in ("majority baseline", "73.3%", "most common class (class 0)", "flat", "neuron maps",
                  "Continue", "more epochs", "higher learning rate", "more neurons"):
        assert words in experiment.message, words
    assert "dataset" not in experiment.runs[-1] or experiment.runs[-1]["dataset"] == "toy_easy"
    solved = trained(epochs=150, **XOR)  # well above its baseline: no such message
    assert "majority baseline" not in solved.message


def test_agreement_with_the_exact_target_only_where_there_is_one():
    toy = trained(epochs=5)
    assert toy.runs[-1]["agreement %"] is not None
    iris = trained(dataset="iris", epochs=5)
    assert iris.runs[-1]["agreement %"] is None
    from dashboard.session.runs import runs_table
    assert "agreement" not in runs_table(iris.runs) and "agreement" in runs_table(toy.runs)
