"""The nn-playground command: train (JSON and text), data export, errors, saving, help and version."""

import csv
import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import torch

from dashboard.cli import main
from engine import Settings, load_dataset
from engine.evaluation import evaluate_points
from engine.storage import load_experiment

ROOT = Path(__file__).resolve().parents[2]
HISTORY_KEYS = ["epoch", "loss", "train_accuracy", "test_accuracy", "test_loss"]


def run_json(capsys, *args):
    code = main(["train", "--json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def plain_pytorch(dataset, layers, seed, lr, epochs):
    """The notebook's loop: per epoch the loss, one Adam step, then train and test accuracy and test loss."""
    torch.set_num_threads(1)
    x, y = torch.tensor(dataset.x_train), torch.tensor(dataset.y_train[:, None])
    x_test, y_test = torch.tensor(dataset.x_test), torch.tensor(dataset.y_test[:, None])
    torch.manual_seed(seed)
    model = torch.nn.Sequential(*layers())
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    history = {key: [] for key in HISTORY_KEYS}
    for epoch in range(1, epochs + 1):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            train_pred = (torch.sigmoid(model(x)) >= 0.5).float()
            test_logits = model(x_test)
            test_pred = (torch.sigmoid(test_logits) >= 0.5).float()
        history["epoch"].append(epoch)
        history["loss"].append(loss.item())
        history["train_accuracy"].append((train_pred == y).float().mean().item())
        history["test_accuracy"].append((test_pred == y_test).float().mean().item())
        history["test_loss"].append(loss_fn(test_logits, y_test).item())
    return history


@pytest.mark.parametrize(
    "dataset, hidden, activation, layers, epochs",
    [
        (
            "toy_xor",
            "8,8",
            "tanh",
            lambda: [
                torch.nn.Linear(2, 8),
                torch.nn.Tanh(),
                torch.nn.Linear(8, 8),
                torch.nn.Tanh(),
                torch.nn.Linear(8, 1),
            ],
            40,
        ),
        ("toy_ring", "16", "relu", lambda: [torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)], 30),
    ],
)
def test_json_history_equals_plain_pytorch(capsys, dataset, hidden, activation, layers, epochs):
    args = ["--dataset", dataset, "--hidden", hidden, "--activation", activation, "--epochs", str(epochs),
            "--lr", "0.01", "--seed", "3"]
    code, report, err = run_json(capsys, *args)
    assert code == 0 and err == ""
    expected = plain_pytorch(load_dataset(Settings(dataset=dataset)), layers, seed=3, lr=0.01, epochs=epochs)
    assert report["history"] == expected  # bit for bit
    assert report["final"] == {key: values[-1] for key, values in expected.items()}
    assert (
        report["settings"]
        == Settings(
            dataset=dataset,
            hidden=tuple(map(int, hidden.split(","))),
            activation=activation,
            epochs=epochs,
            lr=0.01,
            seed=3,
        ).to_dict()
    )
    assert report["run"]["ended"] == "finished" and report["run"]["message"] == ""


def test_json_is_the_only_output_and_fractions(capsys):
    code, report, err = run_json(capsys, "--dataset", "iris", "--hidden", "0", "--epochs", "5")
    assert code == 0 and err == ""
    assert set(report) >= {"settings", "final", "history", "run"}
    assert report["settings"]["hidden"] == [] and report["run"]["parameters"] == 3
    assert report["history"]["epoch"] == [1, 2, 3, 4, 5]
    assert all(0 <= value <= 1 for key in ("train_accuracy", "test_accuracy") for value in report["history"][key])


def test_diverged_run_exits_3_and_still_reports(capsys):
    code, report, err = run_json(capsys, "--optimizer", "sgd", "--lr", "10", "--activation", "linear",
                                 "--hidden", "8,8", "--epochs", "50")
    assert code == 3
    assert report["run"]["ended"] == "diverged"
    assert err.strip() == f"nn-playground: {report['run']['message']}" and "diverged" in err
    assert 0 < len(report["history"]["epoch"]) < 50
    assert report["final"]["epoch"] == report["history"]["epoch"][-1]


def test_text_summary(capsys, tmp_path):
    code = main(
        [
            "train",
            "--dataset",
            "toy_xor",
            "--hidden",
            "8",
            "--epochs",
            "20",
            "--every",
            "5",
            "--save",
            str(tmp_path / "run"),
        ]
    )
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("Epoch 20/20 | loss = ") and "test acc =" in lines[0]
    assert "50.8% for always predicting the most common class" in out  # toy_xor's majority-class baseline
    assert "agrees with the exact toy_xor pattern on" in out
    assert "20 epochs in" in out and "33 parameters" in out
    assert lines[-1] == f"Saved to {tmp_path / 'run'}"
    assert "Epoch 20/20 | loss = " in err and "|████" in err  # the progress bar, left at its end


def test_train_names_what_it_sees_and_the_experiment_to_try(capsys):
    code = main(["train", "--every", "100"])  # the lesson's defaults: the majority baseline, 3 of 4 ReLUs dead
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Hint (majority): Test accuracy 73.3% is the majority baseline (73.3%)" in out
    assert "Hint (dead_relu): 3 of 4 hidden units (75%) are never active" in out
    assert "  Try it: the same options and --activation leaky_relu" in out.splitlines()
    code, report, _ = run_json(capsys, "--dataset", "toy_xor", "--hidden", "8,8", "--lr", "10", "--seed", "1")
    assert code == 3 and report["hints"] == [{
        "name": "diverged", "message": report["hints"][0]["message"],
        "evidence": {"epoch": report["final"]["epoch"] + 1, "lr": 10.0}, "variant": {"lr": 1.0}}]
    code, report, _ = run_json(capsys, "--dataset", "toy_xor", "--hidden", "8,8", "--activation", "tanh",
                               "--lr", "0.05")
    assert code == 0 and report["hints"] == []  # a healthy run


def test_save_then_load_gives_the_final_metrics(capsys, tmp_path):
    code, report, _ = run_json(capsys, "--dataset", "moons", "--samples", "300", "--hidden", "6", "--epochs", "25",
                               "--save", str(tmp_path / "moons"))
    assert code == 0 and report["saved"] == str(tmp_path / "moons")
    loaded = load_experiment(tmp_path / "moons")
    assert loaded.history.to_dict()["loss"] == report["history"]["loss"]
    evaluation = evaluate_points(loaded)  # the saved weights, evaluated afresh
    assert evaluation.train_accuracy == pytest.approx(report["final"]["train_accuracy"], abs=1e-6)
    assert evaluation.test_accuracy == pytest.approx(report["final"]["test_accuracy"], abs=1e-6)


def test_own_csv_trains(capsys, tmp_path):
    rng = np.random.default_rng(1)
    points = rng.normal(size=(200, 2)) * [5, 50] + [100, 0]
    path = tmp_path / "mine.csv"
    path.write_text("mass,speed,label\n" + "".join(f"{x},{y},{int(x / 5 + y / 50 > 20)}\n" for x, y in points))
    code, report, _ = run_json(capsys, "--csv", str(path), "--hidden", "0", "--lr", "0.1", "--epochs", "60")
    assert code == 0
    assert report["settings"]["dataset"] == "csv" and report["settings"]["csv_path"] == str(path)
    assert len(report["history"]["epoch"]) == 60
    assert report["final"]["test_accuracy"] >= 0.9  # a linear rule, learnt by logistic regression


def test_data_writes_features_label_and_split(capsys, tmp_path):
    target = tmp_path / "ring.csv"
    assert main(["data", "--dataset", "toy_ring", "--samples", "400", "--test-share", "0.3", "-o", str(target)]) == 0
    assert "Wrote 400 points (280 train, 120 test)" in capsys.readouterr().out
    rows = list(csv.DictReader(target.open()))
    assert list(rows[0]) == ["x", "y", "label", "split"]
    assert len(rows) == 400
    assert sum(row["split"] == "train" for row in rows) == 280 and sum(row["split"] == "test" for row in rows) == 120
    assert {row["label"] for row in rows} == {"0", "1"}

    assert main(["data", "--dataset", "toy_ring", "--samples", "400", "--test-share", "0.3"]) == 0
    assert capsys.readouterr().out.splitlines() == target.read_text().splitlines()  # the same CSV on stdout


def test_data_names_iris_columns(capsys):
    assert main(["data", "--dataset", "iris", "--iris-features", "sepal_width,petal_length"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["sepal_width", "petal_length", "label", "split"] and len(rows) == 101


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--dataset", "nope"], "dataset: 'nope' is not allowed; one of"),
        (["train", "--hidden", "8,x"], "--hidden"),
        (["train", "--lr", "0"], "lr: '0' is not allowed; a number > 0"),
        (["train", "--lr", "-1"], "lr: '-1' is not allowed; a number > 0"),
        (["train", "--noise", "0.9"], "noise"),
        (["train", "--epochs", "0"], "epochs"),
        (["train", "--samples", "many"], "--samples"),
        (["train", "--every", "0"], "--every"),
        (["train", "--colour", "red"], "--colour"),
        (["train", "--csv", "{tmp}/missing.csv"], "missing.csv: no such file"),
        (["train", "--csv", "{bad}"], "bad.csv, line 3"),
        (["train", "--dataset", "toy_xor", "--csv", "{bad}"], "--csv goes with --dataset csv"),
        (["train", "--save", "{bad}"], "bad.csv"),  # a file where the folder should go: refused before training
        (["data", "--dataset", "spiral", "-o", "{tmp}/no/such/dir.csv"], "dir.csv"),
        (["data", "--iris-features", "petal_length"], "iris_features"),
        (["serve", "--port", "http"], "--port"),
        (["serve", "--ready-pages", "-1"], "--ready-pages"),
        (["teach"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, args, words):
    bad = write(tmp_path, "bad.csv", "x,y,label\n0.1,0.2,1\n0.3,oops,0\n")
    code = main([arg.format(tmp=tmp_path, bad=bad) for arg in args])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("nn-playground: error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert words in err
    assert out == ""


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"nn-playground {version('nn-playground')}\n"


@pytest.mark.parametrize("command", [[], ["train"], ["data"], ["serve"]])
def test_help_describes_and_gives_examples(capsys, command):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"nn-playground {command[0] if command else 'train'} --" in out
    if command == ["train"]:
        assert "--hidden WIDTHS" in out and "(default: 4)" in out and "(default: adam)" in out


DASHBOARD_LIBRARIES = {"panel", "holoviews", "bokeh"}  # param is the engine's: it declares the settings


def command(*args):
    """The command as a user runs it, in a fresh Python that lists every import on stderr."""
    return [sys.executable, "-X", "importtime", "-m", "dashboard.cli", *args]


def split_imports(stderr: str) -> tuple[set, str]:
    """The top-level packages a `python -X importtime` run imported, and the rest of its stderr."""
    lines = stderr.splitlines(keepends=True)
    imports = [line for line in lines if line.startswith("import time:")]
    packages = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in imports[1:]}  # [1:]: the header
    return packages, "".join(line for line in lines if not line.startswith("import time:"))


def test_train_stops_on_first_ctrl_c_and_imports_no_dashboard_library():
    process = subprocess.Popen(command("train", "--epochs", "1000000", "--every", "1"), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, deadline = "", time.monotonic() + 60
    while "loss =" not in seen and time.monotonic() < deadline:  # training has started
        if select.select([process.stderr], [], [], 1)[0]:
            seen += os.read(process.stderr.fileno(), 1 << 16).decode()
    process.send_signal(signal.SIGINT)
    out, rest = process.communicate(timeout=60)
    packages, err = split_imports(seen + rest)
    assert process.returncode == 130, err
    assert "nn-playground: Stopped after" in err and "Traceback" not in err
    assert out.startswith("Epoch ") and "/1000000 | loss = " in out.splitlines()[0]
    assert {"engine", "torch", "tqdm"} <= packages and not packages & DASHBOARD_LIBRARIES


def test_data_to_a_closed_pipe_ends_quietly_and_imports_no_dashboard_library():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone, as `head` goes in `nn-playground data | head -n 1`
    try:
        result = subprocess.run(
            command("data", "--samples", "100"), cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write_end)
    packages, err = split_imports(result.stderr)
    assert result.returncode == 1
    assert err == ""  # neither a traceback nor Python's complaint about stdout at exit
    assert "engine" in packages and not packages & DASHBOARD_LIBRARIES


def test_train_imports_only_what_it_uses_and_ends_once_its_output_is_out(tmp_path):
    # The console script as installed (dashboard.cli:run), with an exit handler that an ordinary exit would run.
    program = ("import atexit, sys; atexit.register(print, 'torn down', file=sys.stderr); "
               "sys.argv = ['nn-playground', 'train', '--epochs', '3', '--json']; "
               "from dashboard.cli import run; run()")
    with open(tmp_path / "out.json", "w") as out:  # a file: stdout is block-buffered, so only a flush writes it
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", program], cwd=ROOT, stdout=out,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    modules = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out.json").read_text())["final"]["epoch"] == 3
    assert "torn down" not in result.stderr  # os._exit after the flush: no teardown
    assert "torch" in modules and not {"sklearn", "engine.storage", "engine.snapshots"} & modules


def test_schedule_options_show_the_rate_in_the_status(capsys):
    code = main(
        [
            "train",
            "--samples",
            "200",
            "--epochs",
            "4",
            "--schedule",
            "step",
            "--decay-every",
            "2",
            "--decay-factor",
            "0.5",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].startswith("Epoch 04/04 | loss = ") and out.splitlines()[0].endswith("| lr = 2.50e-03")


@pytest.mark.parametrize("flag", [["--notebook-draw"], ["--notebook-draw", "yes"]])
def test_notebook_draw_gives_the_notebooks_numbers(capsys, flag):
    assert main(["train", *flag]) == 0
    assert "Epoch 200/200 | loss = 0.5669 | train acc =  73.3% | test acc =  73.3%" in capsys.readouterr().out
