"""Issue 11: uploads are bounded (size told before and checked at upload, parsed off the loop, CSV limits while
reading, every CSV problem a clear message) and the server's websocket limit is set consistently with them."""

from __future__ import annotations

import time

import panel as pn
import pytest

from dashboard.session.experiment import Experiment
from dashboard.ui import server
from dashboard.ui.data_tab import HELP, UPLOAD_LABEL, DataEditor
from dashboard.ui.downloads import load_input
from dashboard.ui.parts import (
    BROWSER_MAX_FILE_SIZE,
    MAX_UPLOAD_BYTES,
    UPLOAD_CHUNK_BYTES,
    WEBSOCKET_MAX_MESSAGE_BYTES,
)
from engine import Settings, Trainer
from engine.csv_points import MAX_ROWS, CsvError, parse_points_csv, read_points_csv
from engine.storage import experiment_archive
from tests.support.uploads import remove, send


def trained() -> Experiment:
    experiment = Experiment(dataset="toy_xor", samples=200, hidden="2", epochs=5)
    experiment.train()
    experiment.wait(60)
    return experiment


def state_of(experiment: Experiment) -> tuple:
    return experiment.settings(), experiment.data, experiment.trainer, len(experiment.history), experiment.csv_path


def upload(editor: DataEditor, name: str, content: bytes) -> None:
    send(editor.upload, name, content)


def test_the_limit_is_told_before_and_fits_the_websocket():
    assert "10 MB" in UPLOAD_LABEL and "10 MB" in HELP
    assert server.SESSION_OPTIONS["websocket_max_message_size"] == WEBSOCKET_MAX_MESSAGE_BYTES
    assert WEBSOCKET_MAX_MESSAGE_BYTES < MAX_UPLOAD_BYTES  # files come in chunks: no client makes it read a whole file


def test_both_uploads_refuse_a_large_file_in_the_browser_and_send_the_rest_in_small_messages():
    """Item 3: FilePond checks the size before sending anything (its MB is 10**6 bytes: a limit within ours); a
    file within it comes in chunks, each one websocket message far below the limit."""
    assert BROWSER_MAX_FILE_SIZE == "10MB" and 10 * 10**6 <= MAX_UPLOAD_BYTES
    assert UPLOAD_CHUNK_BYTES * 4 / 3 + 2**20 < WEBSOCKET_MAX_MESSAGE_BYTES  # even if a chunk were base64-encoded
    csv_upload = DataEditor(Experiment()).upload
    zip_upload = load_input(Experiment())[1]
    for widget, kind in ((csv_upload, ".csv"), (zip_upload, ".zip")):
        assert isinstance(widget, pn.widgets.FileDropper)
        assert widget.max_file_size == BROWSER_MAX_FILE_SIZE and widget.chunk_size == UPLOAD_CHUNK_BYTES
        assert widget.multiple is False and kind in widget.accepted_filetypes
    assert "application/vnd.ms-excel" in csv_upload.accepted_filetypes  # a .csv's type on Windows with Excel
    assert "application/x-zip-compressed" in zip_upload.accepted_filetypes  # a .zip's type on Windows


def test_the_same_file_twice_is_two_uploads_and_removing_it_in_the_widget_changes_nothing():
    experiment = trained()
    editor = DataEditor(experiment)
    rows = "\ufeffx,y,label\n" + "".join(f"{x / 50},{(x * 7 % 50) / 50},{int(x > 25)}\n" for x in range(50))
    upload(editor, "mine.csv", rows.encode())  # with a byte order mark (Excel's "CSV UTF-8")
    assert experiment.dataset == "csv" and len(experiment.data.points) == 50, experiment.message
    assert experiment.data.feature_names == ("x", "y") and editor.upload.value == {}
    experiment.param.update(dataset="toy_xor")
    before = state_of(experiment)
    remove(editor.upload, "mine.csv")  # the widget's remove button: nothing happens
    assert state_of(experiment) == before
    upload(editor, "mine.csv", rows.encode())
    assert experiment.dataset == "csv" and len(experiment.data.points) == 50, experiment.message


@pytest.mark.parametrize("name, content, words", [
    ("big.csv", b"0.1,0.2,1\n" * (MAX_UPLOAD_BYTES // 10 + 1), "more than the 10 MB"),
    ("long.csv", b"x,y,label\n" + b"1" * 5000 + b",0,1\n", "line 2: longer than 1000 characters"),
    ("quote.csv", b'x,y,label\n"' + b"a\n" * 70_000 + b'",0,1\n', "not readable as CSV"),
    ("nul.csv", b"0.1,0.2,1\n0.3,\x00,0\n", "line 2"),
    ("latin1.csv", b"x,y,label\n0.1,0.2,1\n\xe9,0.4,0\n", "not a text (UTF-8) file"),
    ("huge.csv", b"1e300,0.2,1\n0.3,0.4,0\n", "too large for 32-bit floats"),
], ids=["over-the-size-limit", "long-cell", "runaway-quote", "nul", "not-utf8", "float-overflow"])
def test_bad_uploads_are_one_message_and_change_nothing(name, content, words):
    experiment = trained()
    editor = DataEditor(experiment)
    before = state_of(experiment)
    upload(editor, name, content)
    assert words in experiment.message and experiment.message.endswith("Nothing was changed."), experiment.message
    assert state_of(experiment) == before


def test_rows_are_counted_while_reading(tmp_path):
    path = tmp_path / "many.csv"
    with open(path, "w") as handle:  # ~40 MB: refused after reading MAX_ROWS + 1 of its rows
        row = "0.5,0.25,1\n0.25,0.5,0\n" * 1000
        for _ in range(2_000):
            handle.write(row)
    started = time.perf_counter()
    with pytest.raises(CsvError, match=f"more than the {MAX_ROWS} rows"):
        read_points_csv(path)
    assert time.perf_counter() - started < 30
    with pytest.raises(CsvError, match="longer than"):
        read_points_csv("/dev/zero")


def test_a_good_upload_is_parsed_in_a_thread_and_installed(monkeypatch):
    import threading

    experiment = trained()
    editor = DataEditor(experiment)
    threads = []
    real = editor.prepare_upload

    def spy(data, name):
        threads.append(threading.current_thread())
        return real(data, name)

    monkeypatch.setattr(editor, "prepare_upload", spy)
    rows = "".join(f"{x / 50},{(x * 7 % 50) / 50},{int(x > 25)}\n" for x in range(50))
    upload(editor, "mine.csv", rows.encode())
    assert threads and threads[0] is not threading.main_thread()
    assert experiment.dataset == "csv" and len(experiment.data.points) == 50 and not experiment.has_model


def test_load_experiment_input_reads_in_a_thread_and_refuses_oversize():
    trainer = Trainer(Settings(dataset="toy_ring", samples=200, hidden=(3,), epochs=4))
    trainer.train()
    experiment = Experiment()
    column = load_input(experiment)
    widget = column[1]
    send(widget, "big.zip", b"0" * (MAX_UPLOAD_BYTES + 1), "application/zip")
    assert "more than the 10 MB" in experiment.message and not experiment.has_model
    send(widget, "saved.zip", experiment_archive(trainer), "application/zip")
    assert experiment.has_model and experiment.dataset == "toy_ring", experiment.message


def test_parse_points_csv_refuses_what_the_csv_module_cannot_read():
    with pytest.raises(CsvError):
        parse_points_csv('"' + "x" * 200_000 + '",1,0\n')


def test_refused_points_leave_no_file_behind():
    experiment = trained()
    editor = DataEditor(experiment)
    upload(editor, "one-class.csv", "".join(f"{x / 40},{x % 7 / 7},1\n" for x in range(40)).encode())
    assert "Nothing was changed" in experiment.message and experiment.dataset == "toy_xor"
    assert experiment._files.path is None or not list(experiment._files.path.rglob("*.csv"))
