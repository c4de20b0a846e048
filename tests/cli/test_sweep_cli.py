"""`sweep` on the command line, through a small parser of the tests' own (the real one wires the same hook)."""

import argparse
import csv
import json

import pytest

from dashboard.sweep_cli import add_sweep_command
from engine import Settings


def add_setting_options(parser):
    parser.add_argument("--dataset")
    parser.add_argument("--samples", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--hidden", type=lambda text: tuple(int(p) for p in text.split(",")))
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int)


def settings_from_args(args):
    names = ("dataset", "samples", "epochs", "hidden", "lr", "seed")
    return Settings(**{name: getattr(args, name) for name in names if getattr(args, name) is not None})


def main(argv):
    parser = argparse.ArgumentParser(prog="nn-playground")
    commands = parser.add_subparsers(dest="command", required=True)
    add_sweep_command(commands, add_setting_options, settings_from_args)
    args = parser.parse_args(argv)
    return args.handler(args)


BASE = ["sweep", "--dataset", "toy_xor", "--samples", "300", "--epochs", "6", "--workers", "1"]


def test_json_has_every_model_with_its_settings_and_final_metrics(capsys):
    code = main(BASE + ["--vary", "lr", "0.01", "0.1", "--vary", "hidden", "4", "3,3", "--seeds", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 8
    assert [(r["settings"]["lr"], r["settings"]["hidden"], r["settings"]["seed"]) for r in results[:4]] == [
        (0.01, [4], 0), (0.01, [4], 1), (0.01, [3, 3], 0), (0.01, [3, 3], 1)]
    for r in results:
        assert set(r["final"]) == {"epoch", "loss", "test_loss", "train_accuracy", "test_accuracy"}
        assert r["final"]["epoch"] == 6 and r["ended"] == "finished"
        assert Settings.from_dict(r["settings"]).epochs == 6


def test_csv_output_and_seed_list(tmp_path, capsys):
    path = tmp_path / "results.csv"
    code = main(BASE + ["--vary", "activation", "relu", "tanh", "--seed-list", "0,3,7", "-o", str(path)])
    assert code == 0, capsys.readouterr().err
    rows = list(csv.DictReader(path.open()))
    assert [(row["activation"], row["seed"]) for row in rows] == [
        ("relu", "0"), ("relu", "3"), ("relu", "7"), ("tanh", "0"), ("tanh", "3"), ("tanh", "7")]
    assert all(float(row["test_accuracy"]) > 0 and row["ended"] == "finished" for row in rows)


def test_a_table_by_default(capsys):
    assert main(BASE + ["--vary", "lr", "0.01", "0.1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["lr", "seed", "loss"] and "best test accuracy" in out


@pytest.mark.parametrize("axes, words", [
    (["--vary", "learning_rate", "0.1"], "--vary learning_rate: not a setting"),
    (["--vary", "lr", "0.1", "99"], "lr=99.0: lr: "),
    (["--vary", "lr", "fast"], "--vary lr: 'fast' is not allowed; a number > 0"),
    (["--vary", "lr"], "--vary lr: give one or more values"),
    (["--vary", "hidden", "4", "--vary", "hidden", "8"], "given twice"),
    (["--vary", "seed", "1", "2"], "--seeds"),
    (["--seeds", "0"], "--seeds: give at least 1"),
    (["--vary", "lr"] + ["0.01"] * 400 + ["--seeds", "300"], "more than the limit of 100,000"),
])
def test_bad_axes_get_one_clear_line_and_exit_2(axes, words, capsys):
    assert main(BASE + axes) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_ctrl_c_stops_the_sweep_and_still_writes_what_finished(monkeypatch, tmp_path, capsys):
    import os
    import signal

    import engine.sweep

    real = engine.sweep.run_task
    calls = []

    def run_task_then_ctrl_c(indices, settings, stop=None):
        calls.append(indices)
        results = real(indices, settings, stop)
        os.kill(os.getpid(), signal.SIGINT)  # as the user pressing Ctrl-C after the first task
        return results

    monkeypatch.setattr(engine.sweep, "run_task", run_task_then_ctrl_c)
    path = tmp_path / "results.csv"
    code = main(BASE + ["--vary", "hidden", "3", "4", "5", "6", "--json", "-o", str(path)])
    out, err = capsys.readouterr()
    assert code == 130 and "interrupted: 1 of 4 models finished" in err
    assert len(calls) == 1
    (result,) = json.loads(out)["results"]
    assert result["settings"]["hidden"] == [3] and result["ended"] == "finished"
    assert len(list(csv.DictReader(path.open()))) == 1
