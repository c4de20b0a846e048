"""Issue 11 on the command line: one-line errors, output places checked before training, the app's .zip read by
`report --load`, Ctrl-C within a long epoch, and Ctrl-C on `serve` during training."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.cli import main
from engine import Settings, Trainer
from engine.storage import experiment_archive, save_experiment
from tools.chromium import child_pids, free_port

ROOT = Path(__file__).resolve().parents[2]


def one_line_error(capsys, *args) -> str:
    started = time.perf_counter()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("nn-playground: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert "Epoch" not in out  # refused before any training
    assert time.perf_counter() - started < 30
    return err


def test_bad_device_string_is_one_line(capsys):
    assert "cuda:abc" in one_line_error(capsys, "train", "--device", "cuda:abc", "--epochs", "1")


def test_output_places_are_checked_before_training(capsys, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("")
    one_line_error(capsys, "train", "--epochs", "100000", "--save", str(a_file))
    one_line_error(capsys, "train", "--epochs", "100000", "--save", str(a_file / "sub"))
    one_line_error(capsys, "train", "--epochs", "100000", "--save", "/proc/nn-playground-saved")
    one_line_error(capsys, "report", "--epochs", "100000", "-o", "/proc/nn-playground-report.html")
    one_line_error(capsys, "report", "--epochs", "100000", "-o", str(tmp_path / "nowhere" / "r.html"))


@pytest.mark.parametrize("damage", ["settings-folder", "truncated-weights", "csv-outside"])
def test_malformed_saved_folders_are_one_line(capsys, tmp_path, damage):
    folder = save_experiment(Trainer(Settings(samples=100, epochs=2)), tmp_path / "saved")
    if damage == "settings-folder":
        (folder / "settings.json").unlink()
        (folder / "settings.json").mkdir()
    elif damage == "truncated-weights":
        (folder / "weights.pt").write_bytes((folder / "weights.pt").read_bytes()[:100])
    else:
        record = json.loads((folder / "settings.json").read_text())
        record["settings"].update(dataset="csv", csv_path="/etc/passwd")
        (folder / "settings.json").write_text(json.dumps(record))
    err = one_line_error(capsys, "report", "--load", str(folder), "-o", str(tmp_path / "r.html"))
    assert "root:" not in err
    assert not (tmp_path / "r.html").exists()


def test_report_load_reads_the_apps_zip(capsys, tmp_path):
    trainer = Trainer(Settings(dataset="toy_ring", samples=200, hidden=(3,), epochs=5))
    trainer.train()
    archive = tmp_path / "nn-playground-experiment.zip"
    archive.write_bytes(experiment_archive(trainer))
    output = tmp_path / "ring.html"
    output.write_text("an older report")
    assert main(["report", "--load", str(archive), "-o", str(output)]) == 0
    assert "Wrote" in capsys.readouterr().out
    page = output.read_text()
    assert "nn-playground" in page and len(page) > 10_000
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def read_until(stream, text: str, timeout: float = 120) -> str:
    seen, deadline = "", time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, f"{text!r} not seen in {seen[-2000:]!r}"
        if select.select([stream], [], [], 1)[0]:
            chunk = os.read(stream.fileno(), 1 << 16).decode()
            if not chunk:
                raise AssertionError(f"{text!r} not seen before the end: {seen[-2000:]!r}")
            seen += chunk
    return seen


def test_first_ctrl_c_ends_a_long_epoch_at_once():
    # batch size 1 on 30,000 training points: one epoch takes tens of seconds here
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "train", "--samples", "40000", "--hidden", "32,32", "--batch-size", "1",
         "--epochs", "3"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    read_until(process.stderr, "training")
    time.sleep(3)  # inside the first epoch (or, on a slow start, before it)
    asked = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    took = time.monotonic() - asked
    assert process.returncode == 130, err
    assert "nn-playground: Stopped" in err and "Traceback" not in err
    print(f"Ctrl-C to exit: {took:.2f} s; {err.splitlines()[-1]}")
    assert "No epoch finished." in out


SERVE_DURING_TRAINING = """
import sys
import dashboard.session.runner as runner_module
from dashboard.ui import server
runner_module.over_budget = lambda *args, **kwargs: None  # let the session train a huge epoch
real = server.create_app
def create_app(*args, **kwargs):
    app = real(*args, **kwargs)
    app.experiment.param.update(samples=40000, hidden="32,32", batch_size=1, epochs=5)
    app.experiment.train()
    print("TRAINING", flush=True)
    return app
server.create_app = create_app
sys.argv = ["nn-playground", "serve", "--port", sys.argv[1], "--ready-pages", "1"]
from dashboard.cli import main
code = main()
print("EXIT", code, "STOPPED", server.close_all(0.1), flush=True)
sys.exit(code)
"""


def wait_until_served(process: subprocess.Popen, port: int, timeout: float = 120) -> None:
    """Until the app answers at `port` (the server process must not have ended meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://localhost:{port}/app", timeout=60).read()
            return
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
            time.sleep(0.3)


def test_ctrl_c_on_serve_during_training_stops_it_and_exits_0():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVE_DURING_TRAINING, str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_served(process, port)
        read_until(process.stdout, "TRAINING")
        time.sleep(1.0)
        asked = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        took = time.monotonic() - asked
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "EXIT 0 STOPPED True" in out  # every training thread had ended
    assert "Traceback" not in err and "ERROR" not in err, err
    print(f"serve: Ctrl-C to exit {took:.2f} s")


@pytest.mark.parametrize("processes", ["1", "2"])
def test_sigterm_on_serve_stops_every_server_process_and_exits_0(processes):
    """A service manager stops with SIGTERM, to the first process only: with --num-procs 2 its forked serving
    processes must stop too, not go on serving as orphans."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port), "--num-procs",
                                processes, "--ready-pages", "0"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_until_served(process, port)
        serving = child_pids(process.pid)
        assert len(serving) == (2 if processes == "2" else 0)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    time.sleep(0.5)
    assert [pid for pid in serving if Path(f"/proc/{pid}").exists()] == [], "a serving process outlived the server"
