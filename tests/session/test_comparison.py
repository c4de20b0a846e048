"""Comparing runs, and saving / loading an experiment, headless: results kept per run, the disagreement map,
`Experiment.load_archive`, and the comparison in the report."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest

from dashboard.report import remote_references
from dashboard.report.from_experiment import experiment_report_html
from dashboard.report.sections import report_comparison
from dashboard.session.comparison import (
    MAX_CURVE_POINTS,
    MapArea,
    RunResult,
    chosen_pair,
    compare,
    kept,
    run_result,
)
from dashboard.session.experiment import SETTINGS, Experiment
from engine import History, Settings
from engine.evaluation import GridMap, grid_points
from engine.settings import MAX_EPOCHS
from engine.storage import SETTINGS_FILE, experiment_archive

XOR = dict(dataset="toy_xor", hidden="8,8", lr=0.01)
UNIT = ((0.0, 1.0), (0.0, 1.0))


def trained(epochs: int = 60, **settings) -> Experiment:
    experiment = Experiment(epochs=epochs, **{**XOR, **settings})
    experiment.train()
    experiment.wait(120)
    return experiment


def run(experiment: Experiment, action: str = "train", **settings) -> None:
    experiment.param.update(settings)
    getattr(experiment, action)()
    experiment.wait(120)


def test_run_results_outlive_their_model_and_settings_changes():
    experiment = trained(60)
    experiment.hidden = "4"  # drops the model: the result of run 1 stays
    assert not experiment.has_model and sorted(experiment.results) == [1]
    run(experiment)
    run(experiment, "continue_training", epochs=30, lr=0.05)
    results = experiment.results
    assert sorted(results) == [1, 2, 3]
    rows = {row["run"]: row for row in experiment.runs}
    expected = ((1, (8, 8), 105, (1, 60)), (2, (4,), 17, (1, 60)), (3, (4,), 17, (61, 90)))
    for number, hidden, parameters, epochs in expected:
        result = results[number]
        assert result.settings.hidden == hidden and result.parameters == parameters
        assert (result.first_epoch, result.last_epoch) == epochs and result.ended == "finished"
        assert result.grid.probability.shape == (200, 200) and result.grid.exact is None
        assert list(result.curves["epoch"]) == list(range(epochs[0], epochs[1] + 1))
        assert round(100 * result.test_accuracy, 1) == rows[number]["test acc %"]
        assert result.seconds_per_epoch > 0
    assert results[3].settings.lr == 0.05 and results[2].settings.lr == 0.01
    # Run 3's map is the current model's; its curves are its slice of the history.
    assert np.array_equal(results[3].grid.probability, experiment.grid.probability)
    assert np.array_equal(results[3].curves["loss"], np.float32(experiment.history.loss[60:]))
    assert not np.array_equal(results[2].grid.probability, results[3].grid.probability)
    assert chosen_pair(results, []) == (2, 3)  # by default the last two
    experiment.reset()
    assert experiment.results == {}


def test_a_run_stopped_by_a_settings_change_keeps_its_result():
    experiment = Experiment(epochs=MAX_EPOCHS, **XOR)
    experiment.train()
    while len(experiment.history) < 20:
        experiment.poll()
        time.sleep(0.01)
    experiment.dataset = "toy_ring"
    (result,) = experiment.results.values()
    assert result.ended == "stopped" and result.last_epoch >= 20 and result.data_title == "Toy dataset: XOR"
    assert experiment.runs[-1]["ended"] == "stopped" and not experiment.has_model


def test_paused_runs_are_kept_and_replaced_when_they_go_on():
    experiment = Experiment(epochs=50, **XOR)
    experiment.step()
    experiment.wait(60)
    assert experiment.state == "paused" and experiment.results[1].last_epoch == 1
    experiment.resume()
    experiment.wait(60)
    assert sorted(experiment.results) == [1] and experiment.results[1].last_epoch == 50


def grid(probability: np.ndarray, box=UNIT) -> GridMap:
    xs, ys, _ = grid_points(box, probability.shape[0])
    return GridMap(xs, ys, probability.astype(np.float32), None, None)


def fake_result(number: int, probability: np.ndarray, box=UNIT, labels=("x", "y"), title="Toy dataset: XOR"):
    curves = {"epoch": np.arange(1, 3), **{k: np.zeros(2, np.float32) for k in
                                           ("loss", "test_loss", "train_accuracy", "test_accuracy")}}
    return RunResult(number, number, Settings(), "finished", 1, 2, curves, 0.5, 0.5, 0.5, 0.5, grid(probability, box),
                     0.001, 17, MapArea(box, labels), title)


def test_disagreement_on_a_known_case():
    xs, ys, _ = grid_points(UNIT, 200)
    x, y = np.meshgrid(xs, ys)
    right, top = fake_result(1, (x >= 0.5) * 0.9), fake_result(2, (y >= 0.5) * 0.8 + 0.1)
    comparison = compare(right, top)
    assert np.array_equal(comparison.differs, (x >= 0.5) != (y >= 0.5))
    assert comparison.share == 0.5 and comparison.note == ""  # 100 of 200 columns and rows are >= 0.5
    assert compare(right, right).share == 0.0
    # Other data over the same square: compared, with a word of caution.
    ring = fake_result(3, (y >= 0.5) * 1.0, title="Toy dataset: ring")
    assert compare(right, ring).share == 0.5 and "Different data" in compare(right, ring).note
    # Other axes, or another box: no disagreement map, and a note saying why.
    iris_axes = ("sepal length (cm, scaled to 0-1)", "sepal width (cm, scaled to 0-1)")
    iris = fake_result(4, (x >= 0.5) * 1.0, labels=iris_axes)
    other = compare(right, iris)
    assert other.differs is None and other.share is None and "different axes" in other.note
    csv = fake_result(5, (x >= 0.5) * 1.0, box=((-2.0, 3.0), (0.0, 1.0)))
    other = compare(right, csv)
    assert other.differs is None and "different regions" in other.note and "x -2 to 3" in other.note


def test_results_are_bounded():
    results = {}
    for number in range(1, 8):
        results = kept(results, fake_result(number, np.zeros((4, 4))), limit=5)
    assert sorted(results) == [3, 4, 5, 6, 7]
    assert chosen_pair(results, [1, 7]) == (6, 7)  # a run no longer kept: back to the last two
    assert chosen_pair(results, [7, 3]) == (7, 3)
    assert chosen_pair(kept({}, fake_result(1, np.zeros((4, 4)))), []) is None
    # A long run keeps at most MAX_CURVE_POINTS epochs of curves, its last one included.
    n = 5 * MAX_CURVE_POINTS + 3
    history = History(epoch=list(range(1, n + 1)), loss=[float(i) for i in range(n)], train_accuracy=[0.5] * n,
                      test_accuracy=[0.5] * n, test_loss=[1.0] * n, lr=[0.01] * n, run=[1] * n)
    record = SimpleNamespace(number=1, model=1, settings=Settings(), ended="finished", seconds=2.0, done=n)
    data = Experiment().data
    result = run_result(record, history, grid(np.zeros((200, 200))), 17, data)
    assert len(result.curves["epoch"]) <= MAX_CURVE_POINTS and result.curves["epoch"][-1] == n
    assert result.loss == n - 1 and result.seconds_per_epoch == pytest.approx(2.0 / n)


def test_load_archive_restores_the_plots_and_continues_identically():
    original = trained(80)
    run(original, "continue_training", epochs=40, lr=0.02)
    data = experiment_archive(original.trainer)
    loaded = Experiment()  # the defaults: another dataset and network
    assert loaded.load_archive(data) is True
    assert loaded.settings() == original.settings() and loaded.hidden == (8, 8) and loaded.lr == 0.02
    assert loaded.has_model and loaded.state == "idle" and loaded.data.name == "toy_xor"
    # The same runs table; the archive has only the last model, so only the last run has its map's agreement.
    assert [{**row, "agreement %": None} for row in loaded.runs[:-1]] == \
        [{**row, "agreement %": None} for row in original.runs[:-1]]
    assert loaded.runs[-1] == original.runs[-1] and loaded.runs[-1]["agreement %"] is not None
    assert loaded.status == original.status and loaded.progress == 1.0
    assert loaded.history.to_dict() == original.history.to_dict()
    assert np.array_equal(loaded.grid.probability, original.grid.probability)
    assert np.array_equal(loaded.evaluation.test_correct, original.evaluation.test_correct)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.neurons, original.neurons, strict=True))  # Network tab
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, original.weights, strict=True))
    assert sorted(loaded.results) == [2] and loaded.results[2].last_epoch == 120
    assert "Loaded Toy dataset: XOR: 2 run(s), 120 epochs" in loaded.message
    # Continuing the loaded model is continuing the original one.
    for experiment in (original, loaded):
        run(experiment, "continue_training", epochs=50)
    assert len(loaded.history) == 170 and loaded.history.to_dict() == original.history.to_dict()
    assert loaded.runs[-1]["epochs"] == "121-170"
    # Loaded into a session with runs of its own: new runs after them; earlier results stay.
    session = trained(30, dataset="toy_ring")
    assert session.load_archive(data) and [row["run"] for row in session.runs] == [1, 2, 3]
    assert sorted(session.results) == [1, 3] and session.history.run[0] == 2


def archive_with_settings(archive: bytes, **changes) -> bytes:
    """The archive with some of its saved settings changed (as a crafted file would have them)."""
    source, out = zipfile.ZipFile(io.BytesIO(archive)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith(SETTINGS_FILE):
                values = json.loads(data)
                values["settings"].update(changes)
                data = json.dumps(values).encode()
            target.writestr(item, data)
    return out.getvalue()


def test_a_bad_archive_changes_nothing():
    experiment = trained(40)
    before = ({name: getattr(experiment, name) for name in SETTINGS}, list(experiment.runs), experiment.grid,
              experiment.history, experiment.trainer, dict(experiment.results))
    wrong_seed = archive_with_settings(experiment_archive(experiment.trainer), seed=2**40)
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").writestr("readme.txt", "hello")
    for data, words in ((b"not a zip", "not a .zip"), (empty.getvalue(), "holds no saved experiment"),
                        (wrong_seed, "seed")):
        assert experiment.load_archive(data) is False
        assert experiment.message_kind == "danger" and words in experiment.message, experiment.message
        assert "Nothing was changed" in experiment.message
        after = ({name: getattr(experiment, name) for name in SETTINGS}, list(experiment.runs), experiment.grid,
                 experiment.history, experiment.trainer, dict(experiment.results))
        assert after == before


def numbers_of(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="nnp-report">(.*?)</script>', page, re.S)
    return json.loads(match[1].replace("<\\/", "</"))


def test_the_report_shows_the_chosen_comparison():
    experiment = trained(40)
    assert report_comparison(experiment) is None  # one run: nothing to compare
    run(experiment, hidden="4")
    run(experiment, "continue_training", epochs=20)
    page = experiment_report_html(experiment, [3, 1])  # as the Compare tab's Selects chose them
    numbers = numbers_of(page)["comparison"]
    share = compare(experiment.results[3], experiment.results[1]).share
    assert [r["run"] for r in numbers["runs"]] == [3, 1] and numbers["disagreement"] == share > 0
    assert [r["parameters"] for r in numbers["runs"]] == [17, 105]
    assert "Comparison of runs 3 and 1" in page and f"{100 * share:.1f}% of the grid" in page
    assert remote_references(page) == []
    comparison = report_comparison(experiment, [])  # none chosen: the last two
    assert (comparison.first.number, comparison.second.number) == (2, 3)


def test_the_app_report_uses_the_frames_the_session_recorded():
    experiment = trained(60)
    kept = experiment.snapshots[::3]  # a subset no replay would give
    experiment.snapshots = kept
    numbers = numbers_of(experiment_report_html(experiment))
    assert numbers["snapshot_epochs"] == [frame.epoch for frame in kept]
