"""Issue 18 on the command line: one line instead of a traceback (a huge seed count, a bad Dask scheduler, a full
disk), writes that never leave half a file (engine.atomic), targets that are not regular files refused, headers
that are not spreadsheet formulas, a NUL in a CSV header refused, and bad options refused before torch loads.

A full disk is a file-size limit (RLIMIT_FSIZE) in a child process: a write past it fails with EFBIG, as one on a
full disk fails with ENOSPC, and no root or real disk is needed."""

from __future__ import annotations

import csv
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard.cli import main
from engine.csv_points import CsvError, parse_points_csv
from tools.chromium import free_port

ROOT = Path(__file__).resolve().parents[2]
ROWS = "".join(f"{i / 12},{(i * 7 % 12) / 12},{i % 2}\n" for i in range(12))


def cli(*args: str, file_limit: int | None = None, memory_limit: int | None = None, timeout: float = 240):
    """`nn-playground ARGS` in a child process, with a file-size or address-space limit; (code, stdout, stderr)."""
    def limits() -> None:
        if file_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
        if memory_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "dashboard.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=limits)
    return done.returncode, done.stdout, done.stderr


def assert_one_line(code: int, err: str) -> None:
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("nn-playground: error: ") and "Traceback" not in err and "Exception" not in err, err


def one_line(capsys, *args: str) -> tuple[str, float]:
    started = time.perf_counter()
    code = main(list(args))
    seconds = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert_one_line(code, err)
    assert err.count("\n") == 1, err
    return err, seconds


# ----- one line instead of a traceback -----
def test_a_billion_seeds_is_refused_before_the_seed_list_is_built():
    # Before: list(range(10**9)) first: a MemoryError traceback (here under a 3 GB address-space limit).
    code, out, err = cli("sweep", "--seeds", "1000000000", "--epochs", "3", "--samples", "100",
                         memory_limit=3 * 2**30, timeout=60)
    assert_one_line(code, err)
    assert "1,000,000,000 models, more than the limit of 100,000" in err


@pytest.fixture
def silent_port():
    """A port that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.parametrize("address, says", [
    ("garbage://x", "unknown address scheme 'garbage'"),
    ("tcp://127.0.0.1", "missing port number"),
    ("127.0.0.1:8786", "not a Dask scheduler address"),
    ("tcp://127.0.0.1:{closed}", "Connection refused"),
    ("tcp://127.0.0.1:{silent}", "no answer within 5 s"),
])
def test_a_bad_or_silent_scheduler_is_one_line_within_seconds(capsys, silent_port, address, says):
    # Before: 36 s (a closed port) to 72-81 s (a bad address: a 60-s hang, then Client.__del__'s traceback).
    address = address.format(closed=free_port(), silent=silent_port)
    err, seconds = one_line(capsys, "sweep", "--vary", "lr", "0.01", "0.1", "--epochs", "3", "--samples", "100",
                            "--scheduler", address)
    assert says in err and seconds < 15, (err, seconds)


def test_something_that_is_not_a_scheduler_is_one_line(capsys):
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:  # a web server, say: it answers in its own tongue
        connection, _ = listener.accept()
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        time.sleep(1)
        connection.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        err, seconds = one_line(capsys, "sweep", "--vary", "lr", "0.01", "0.1", "--epochs", "3", "--samples", "100",
                                "--scheduler", f"tcp://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        thread.join()
        listener.close()
    assert "not a Dask scheduler" in err and seconds < 15


def test_train_save_on_a_full_disk_is_one_line_and_keeps_the_old_experiment(tmp_path):
    saved = tmp_path / "saved"
    code, _, err = cli("train", "--epochs", "2", "--samples", "100", "--save", str(saved))
    assert code == 0, err
    before = {path.name: path.read_bytes() for path in saved.iterdir()}
    # Before: torch's "RuntimeError: [enforce fail at inline_container.cc:672]" traceback.
    code, _, err = cli("train", "--epochs", "2", "--samples", "100", "--hidden", "256,256", "--save", str(saved),
                       file_limit=200_000)
    assert_one_line(code, err)
    assert "the experiment cannot be saved" in err and "File too large" in err
    assert {path.name: path.read_bytes() for path in saved.iterdir()} == before  # nothing half-written, none left


# ----- atomic writes: a failed write leaves the old file -----
def test_data_output_on_a_full_disk_keeps_the_old_file(tmp_path):
    output = tmp_path / "d.csv"
    code, _, err = cli("data", "--samples", "100", "-o", str(output))
    assert code == 0, err
    old = output.read_bytes()
    # Before: the file was truncated and then cut at the limit (8 kB of a new file left, the old one lost).
    code, _, err = cli("data", "--samples", "20000", "-o", str(output), file_limit=8192)
    assert_one_line(code, err)
    assert "d.csv: cannot be written (File too large); it was left as it was" in err
    assert output.read_bytes() == old and sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


@pytest.mark.parametrize("option", ["-o", "--report"])
def test_sweep_outputs_on_a_full_disk_keep_the_old_file(tmp_path, option):
    output = tmp_path / ("s.csv" if option == "-o" else "s.html")
    output.write_text("the old file\n")
    # Before: a 0-byte file and a traceback.
    code, _, err = cli("sweep", "--vary", "lr", "0.01", "0.1", "--epochs", "3", "--samples", "100", "--workers", "1",
                       option, str(output), file_limit=200)
    assert_one_line(code, err)
    assert "cannot be written (File too large)" in err
    assert output.read_text() == "the old file\n" and len(list(tmp_path.iterdir())) == 1


# ----- targets that are not regular files -----
@pytest.mark.parametrize("args", [
    ("report", "--epochs", "100000", "-o", "{target}"),
    ("sweep", "--vary", "lr", "0.01", "0.1", "--epochs", "100000", "--report", "{target}"),
    ("sweep", "--vary", "lr", "0.01", "0.1", "--epochs", "100000", "-o", "{target}"),
    ("data", "-o", "{target}"),
])
def test_a_target_that_is_not_a_regular_file_is_refused(tmp_path, args):
    target = tmp_path / "pipe"
    os.mkfifo(target)
    # Before: report and sweep --report trained, then renamed a regular file over the FIFO (or device); data -o
    # opened the FIFO and waited for a reader for ever.
    code, out, err = cli(*(arg.format(target=target) for arg in args), timeout=60)
    assert_one_line(code, err)
    assert "exists and is not a regular file" in err and "Epoch" not in out
    assert target.is_fifo()


# ----- data -o: headers that are not spreadsheet formulas -----
def test_data_csv_headers_are_never_spreadsheet_formulas(tmp_path):
    source = tmp_path / "points.csv"
    source.write_text("=cmd|' /C calc'!A0,@SUM(1+1),label\n" + ROWS)
    output = tmp_path / "out.csv"
    code, _, err = cli("data", "--csv", str(source), "-o", str(output))
    assert code == 0, err
    header = next(csv.reader(output.open()))
    assert header == ["'=cmd|'_/C_calc'!A0", "'@SUM(1+1)", "label", "split"]


def test_the_apps_data_download_has_no_formula_headers():
    from dashboard.ui.data_tab import dataset_csv
    from engine import Settings, load_dataset
    from engine.csv_points import PointsTable

    table = parse_points_csv("x,y,label\n" + ROWS)
    table = PointsTable(table.points, table.labels, feature_names=("=HYPERLINK(\"x\")", "-y"))
    dataset = load_dataset(Settings(dataset="csv", csv_path="points.csv"), table)
    header = dataset_csv(dataset).decode().splitlines()[0]
    assert header.startswith("\"'=HYPERLINK(\"\"x\"\")\",'-y,label,split"), header


def test_safe_cell_leaves_numbers_and_plain_names():
    from engine.spreadsheet import safe_cell

    assert [safe_cell(t) for t in ("x", "-0.5", "+3", "petal_width", "-y", "\tz", "=1+1")] == [
        "x", "-0.5", "+3", "petal_width", "'-y", "'\tz", "'=1+1"]


# ----- a NUL in a CSV -----
def test_a_nul_in_a_csv_header_is_refused_at_reading(capsys, tmp_path):
    with pytest.raises(CsvError, match="line 1: a NUL character"):
        parse_points_csv("a\0b,y,label\n0.1,0.2,0\n0.5,0.9,1\n")
    source = tmp_path / "nul.csv"
    source.write_text("a\0b,y,label\n0.1,0.2,0\n0.5,0.9,1\n0.3,0.1,0\n")
    err, _ = one_line(capsys, "train", "--csv", str(source), "--epochs", "2")
    assert "NUL" in err


# ----- bad options before the heavy imports -----
@pytest.mark.parametrize("args", [("train", "--epochs", "-5"), ("data", "--samples", "-5"),
                                  ("report", "--epochs", "-5"), ("sweep", "--epochs", "-5")])
def test_bad_settings_are_refused_before_torch_and_sklearn_load(args):
    # Before: train and report loaded torch and scikit-learn first (8-9 s on a busy machine), data scikit-learn.
    program = (f"import sys; from dashboard.cli import main; code = main({list(args)!r}); "
               "print(code, sorted(m for m in ('torch', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "2 []", (done.stdout, done.stderr)
    assert "is not allowed" in done.stderr
