"""Your own data, headless: `Experiment.use_points`, the upload, the drawing and the download of the data editor."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import holoviews as hv
import numpy as np
import pytest

from dashboard.plots.data import dataset_view
from dashboard.session.experiment import Experiment
from dashboard.session.runs import runs_table
from dashboard.ui.data_tab import DataEditor
from dashboard.ui.sidebar import Sidebar
from dashboard.ui.urlsync import apply_query, query_text
from engine import load_dataset
from engine.storage import load_experiment, save_experiment
from tests.support.uploads import send

RNG = np.random.default_rng(5)
POINTS = RNG.random((40, 2)) * [10.0, 2.0] + [100.0, -1.0]  # any range: the csv dataset's box follows the data
LABELS = (POINTS[:, 0] > 105.0).astype(int)


def trained(**settings) -> Experiment:
    experiment = Experiment(hidden="2", epochs=5, **settings)
    experiment.train()
    experiment.wait(120)
    return experiment


def upload(editor: DataEditor, name: str, content: bytes) -> None:
    """What the browser's upload does: the file's chunks, as text/csv (Panel decodes them)."""
    send(editor.upload, name, content)


def snapshot(experiment: Experiment) -> tuple:
    return experiment.settings(), experiment.data, experiment.trainer, len(experiment.history), experiment.csv_path


def test_use_points_makes_them_the_dataset_split_by_the_settings():
    experiment = trained(test_share=0.3, split_seed=7)
    assert experiment.has_model
    assert experiment.use_points(POINTS, LABELS, ("width", "height"), source="mine.csv")
    data = experiment.data
    assert experiment.dataset == "csv" and data.title == "Your data" and data.feature_names == ("width", "height")
    np.testing.assert_array_equal(data.points, POINTS.astype(np.float32))
    np.testing.assert_array_equal(data.labels, LABELS)
    assert (len(data.train_index), len(data.test_index)) == (28, 12)
    # The engine, given the experiment's settings, builds the same data and split.
    settings = experiment.settings()
    assert settings.dataset == "csv" and Path(settings.csv_path).is_file()
    np.testing.assert_array_equal(load_dataset(settings).test_index, data.test_index)
    # The model is dropped, as with any change of the data; the message says what happened.
    assert not experiment.has_model and experiment.trainer is None and len(experiment.history) == 0
    assert "mine.csv: 40 points, 28 to train on and 12 to test" in experiment.message
    # The URL names the dataset but never the temporary file.
    assert query_text(experiment).startswith("?dataset=csv") and "tmp" not in query_text(experiment)
    # Changing the split applies to your data as to any dataset.
    assert experiment.set_value("test_share", 0.5) and len(experiment.data.test_index) == 20


def test_csv_without_points_is_refused_with_a_message():
    experiment = Experiment()
    assert not experiment.set_value("dataset", "csv")
    assert experiment.dataset == "toy_easy" and "no points of your own yet" in experiment.message
    linked = Experiment()
    assert apply_query(linked, "?dataset=csv&hidden=8")
    assert linked.dataset == "toy_easy" and linked.hidden == (8,) and "no points of your own" in linked.message
    # The sidebar offers it, named as your own data; choosing it there is refused the same way.
    sidebar = Sidebar(experiment)
    select = sidebar.widgets["dataset"]
    assert select.options["your own data (uploaded or drawn)"] == "csv"
    select.value = "csv"
    assert select.value == "toy_easy" and experiment.dataset == "toy_easy"


def test_points_that_cannot_be_split_change_nothing():
    experiment = trained()
    before = snapshot(experiment)
    assert not experiment.use_points(POINTS, np.zeros(40), source="one class")
    assert "Cannot use one class: the data needs at least 2 points of each class" in experiment.message
    assert not experiment.use_points(POINTS[:6], [0, 1, 0, 1, 0, 1], source="six points")
    assert "6 points are too few for a test share of 0.25" in experiment.message
    assert snapshot(experiment) == before and experiment.has_model and experiment.dataset == "toy_easy"


def test_a_bad_csv_upload_names_line_and_column_and_changes_nothing():
    experiment = trained()
    editor = DataEditor(experiment)
    drawn = editor.points.copy()
    before = snapshot(experiment)
    upload(editor, "bad.csv", b"x,y,label\n0.1,0.2,1\n0.3,oops,0\n0.5,0.5,0\n")
    assert experiment.message == "bad.csv, line 3, column 2: 'oops' is not a finite number. Nothing was changed."
    assert experiment.message_kind == "warning"
    upload(editor, "labels.csv", b"0.1,0.2,1\n0.3,0.4,2\n")
    assert experiment.message.startswith("labels.csv, line 2, column 3: the label must be 0 or 1")
    upload(editor, "binary.csv", b"\xff\xfe\x00\x01")
    assert experiment.message == "binary.csv: not a text (UTF-8) file. Nothing was changed."
    assert snapshot(experiment) == before and experiment.has_model
    np.testing.assert_array_equal(editor.points, drawn)


def test_a_good_csv_upload_becomes_the_dataset():
    experiment = trained()
    editor = DataEditor(experiment)
    rows = "".join(f"{x},{y},{label}\n" for (x, y), label in zip(POINTS.tolist(), LABELS))
    upload(editor, "plain.csv", rows.encode())  # no header: the columns are x and y
    assert experiment.dataset == "csv" and not experiment.has_model
    assert experiment.data.feature_names == ("x", "y") and len(experiment.data.points) == 40
    assert Path(experiment.csv_path).name == "plain.csv"  # what a report names
    assert len(editor.points) == 40 and not editor.edited  # the drawing shows the new data


def test_saved_csv_experiment_loads_without_the_session_files(tmp_path):
    experiment = Experiment(hidden="3", epochs=4)
    assert experiment.use_points(POINTS, LABELS, source="mine.csv")
    experiment.train()
    experiment.wait(120)
    save_experiment(experiment.trainer, tmp_path / "saved")
    temporary = Path(experiment.csv_path)
    experiment.close()
    assert not temporary.exists()  # the session's folder is removed when it closes
    trainer = load_experiment(tmp_path / "saved")
    assert trainer.settings.dataset == "csv" and Path(trainer.settings.csv_path).name == "data.csv"
    np.testing.assert_array_equal(trainer.dataset.points, experiment.data.points)
    assert trainer.history.loss == experiment.history.loss


def test_download_uploads_back_to_the_same_dataset():
    source = Experiment(dataset="toy_xor", samples=120, test_share=0.4, split_seed=3)
    text = DataEditor(source)._csv().getvalue().decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["x", "y", "label", "split"] and len(rows) == 120
    assert sum(row["split"] == "test" for row in rows) == 48
    target = Experiment(test_share=0.4, split_seed=3)
    upload(DataEditor(target), "toy_xor.csv", text.encode())
    assert target.dataset == "csv"
    for name in ("points", "labels", "train_index", "test_index"):
        np.testing.assert_array_equal(getattr(target.data, name), getattr(source.data, name))


def test_drawing_adds_erases_and_uses_points():
    experiment = Experiment(dataset="toy_xor", samples=50)
    editor = DataEditor(experiment)
    assert len(editor.points) == 50 and not editor.edited  # it starts from the data
    editor.clear()
    assert len(editor.source.data["x"]) == 0 and editor.edited
    assert not editor.use() and "Your drawing is empty" in experiment.message
    for i in range(5):
        editor.add(0.1 + 0.05 * i, 0.2, 0)
        editor.add(0.6 + 0.05 * i, 0.8, 1)
    editor.erase(0.9, 0.1)  # nothing near: nothing erased
    assert len(editor.points) == 10
    editor.add(0.5, 0.5, 1)
    editor.erase(0.505, 0.49)
    assert len(editor.points) == 10 and list(editor.source.data["label"]).count(1) == 5
    assert "5 blue + 5 red (not used yet)" in editor.title
    assert editor.use()
    assert experiment.dataset == "csv" and len(experiment.data.points) == 10 and not editor.edited
    assert experiment.message.startswith("Drawn points: 10 points, ")
    np.testing.assert_allclose(experiment.data.points[experiment.data.labels == 1, 1], 0.8)
    # An unused drawing stays when the data change; one in use follows them.
    experiment.dataset = "toy_ring"
    assert len(editor.points) == 50
    editor.add(0.5, 0.5, 0)
    experiment.dataset = "moons"
    assert len(editor.points) == 51 and editor.edited
    editor.from_data()
    assert len(editor.points) == 50 and not editor.edited


@pytest.mark.parametrize("count, words", [(3, "too few for a test share"), (1, "at least 2 points of each class")])
def test_too_few_drawn_points_are_refused(count, words):
    experiment = Experiment()
    editor = DataEditor(experiment)
    editor.clear()
    for i in range(count):
        editor.add(0.1 * i, 0.1 * i, 0)
        editor.add(0.5 + 0.1 * i, 0.2 + 0.1 * i, 1)
    assert not editor.use()
    assert words in experiment.message and experiment.dataset == "toy_easy" and editor.edited


def test_drawn_points_are_named_as_drawn_and_an_upload_by_its_csv():
    experiment = Experiment(hidden="2", epochs=3)
    editor = DataEditor(experiment)
    editor.clear()
    for i in range(6):
        editor.add(0.1 + 0.05 * i, 0.2, 0)
        editor.add(0.6 + 0.05 * i, 0.8, 1)
    assert editor.use()
    assert experiment.data.title == "Drawn points" and Path(experiment.csv_path).name == "drawn points.csv"
    experiment.train()
    experiment.wait(120)
    assert experiment.runs[-1]["dataset"] == "drawn points"
    assert "<td>drawn points</td>" in runs_table(experiment.runs)
    assert hv.render(dataset_view(experiment.data)).title.text == "Drawn points (12 points)"
    experiment.test_share = 0.5  # the data are reloaded, and still drawn
    assert len(experiment.data.test_index) == 6 and experiment.data.title == "Drawn points"
    # An upload keeps its csv naming, even of a file called "drawn points.csv".
    upload(
        editor,
        "drawn points.csv",
        "".join(f"{x},{y},{label}\n" for (x, y), label in zip(POINTS.tolist(), LABELS)).encode(),
    )
    assert experiment.dataset == "csv" and experiment.data.title == "Your data"
    assert Path(experiment.csv_path).name == "drawn_points.csv"
    assert "Your data from drawn points.csv: 40 points" in experiment.message


def test_a_click_on_the_plot_adds_or_erases_by_the_chosen_mode():
    experiment = Experiment()
    editor = DataEditor(experiment)
    editor.clear()
    editor.mode.active = 0  # Class 0 (blue)
    editor.clicks.event(x=0.3, y=0.4)  # what HoloViews' Tap stream gets from a click (or a double click)
    editor.mode.active = 1
    editor.clicks.event(x=0.7, y=0.6)
    assert editor.points.tolist() == [[0.3, 0.4], [0.7, 0.6]] and editor.labels.tolist() == [0, 1]
    assert list(editor.source.data["label"]) == [0, 1] and editor.title == "Drawing: 1 blue + 1 red (not used yet)"
    editor.clicks.event(x=None, y=None)  # a click outside the frame
    editor.mode.active = 2  # Erase
    editor.clicks.event(x=0.71, y=0.6)
    assert editor.points.tolist() == [[0.3, 0.4]] and list(editor.source.data["x"]) == [0.3]
