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


def real_main(argv, monkeypatch, train=True):
    """The real command line, in this process; with `train=False` any training fails the test."""
    import engine.sweep
    from dashboard.cli import main as cli_main

    if not train:
        monkeypatch.setattr(engine.sweep, "run_task", lambda *args: pytest.fail("a model trained"))
    return cli_main(argv)


@pytest.mark.parametrize("options, words", [
    (["--vary", "csv", "/etc/hostname", "/etc/os-release"], "--vary csv: csv matters only with --dataset csv;"),
    (["--vary", "momentum", "0", "0.9"], "--vary momentum: momentum matters only with --optimizer sgd;"),
    (["--vary", "lr", "0.01", "0.1", "--vary", "decay-every", "10", "20"],
     "--vary decay-every: decay-every matters only with --schedule step;"),
    (["--vary", "iris_features", "sepal_length,sepal_width"], "--vary iris-features: iris-features matters only "
                                                              "with --dataset iris;"),
    (["--dataset", "iris", "--vary", "samples", "100", "200"], "--vary samples: samples matters only with --dataset "
                                                               "toy_easy, toy_hard,"),
    (["--vary", "dataset", "iris", "csv", "--vary", "jitter", "0", "0.1", "--csv", "/etc/hostname"],
     "--vary jitter: jitter matters only with --dataset toy_easy,"),
    (["--vary", "reg-rate", "0.01", "0.1"], "--vary reg-rate: reg-rate matters only with --reg l1 or l2;"),
])
def test_an_axis_that_matters_in_no_cell_is_refused_in_one_line(options, words, monkeypatch, capsys):
    assert real_main(["sweep", "--epochs", "3", "--samples", "100", *options], monkeypatch, train=False) == 2
    err = capsys.readouterr().err
    assert words in err and err.strip().endswith("no cell of this sweep uses it") and len(err.splitlines()) == 1, err


def test_the_readmes_optimizer_and_momentum_sweep_stays_valid(monkeypatch, capsys):
    argv = ["sweep", "--vary", "optimizer", "adam", "sgd", "--vary", "momentum", "0", "0.9", "--epochs", "2",
            "--samples", "100", "--workers", "1", "--json"]
    assert real_main(argv, monkeypatch) == 0, capsys.readouterr().err
    results = json.loads(capsys.readouterr().out)["results"]
    assert [(r["settings"]["optimizer"], r["settings"]["momentum"]) for r in results] == [
        ("adam", 0.0), ("adam", 0.9), ("sgd", 0.0), ("sgd", 0.9)]


def points_csv(path, shift=0):
    path.write_text("x,y,label\n" + "".join(f"{i / 20},{((i * 7 + shift) % 20) / 20},{i % 2}\n" for i in range(20)))
    return str(path)


def test_csv_files_of_an_axis_are_read_before_any_training_one_line_each(tmp_path, monkeypatch, capsys):
    good = points_csv(tmp_path / "good.csv")
    (tmp_path / "bad.csv").write_text("x,y,label\n0.1,0.2,3\n")
    files = [good, str(tmp_path / "bad.csv"), str(tmp_path / "missing.csv"), str(tmp_path)]
    argv = ["sweep", "--dataset", "csv", "--vary", "csv", *files, "--epochs", "3"]
    assert real_main(argv, monkeypatch, train=False) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"nn-playground: error: {tmp_path / 'bad.csv'}, line 2, column 3: the label must be 0 or 1, got '3'",
        f"nn-playground: error: {tmp_path / 'missing.csv'}: no such file",
        f"nn-playground: error: {tmp_path}: cannot be read (Is a directory)"]


def test_a_sweep_over_csv_files_trains_each_file(tmp_path, monkeypatch, capsys):
    files = [points_csv(tmp_path / "a.csv"), points_csv(tmp_path / "b.csv", shift=3)]
    argv = ["sweep", "--dataset", "csv", "--vary", "csv", *files, "--epochs", "2", "--workers", "1", "--json"]
    assert real_main(argv, monkeypatch) == 0, capsys.readouterr().err
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["settings"]["csv_path"] for r in results] == files and all(r["ended"] == "finished" for r in results)


def test_data_too_small_to_split_in_a_worker_is_one_line(tmp_path, monkeypatch, capsys):
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("x,y,label\n0.1,0.2,0\n0.3,0.4,0\n0.5,0.5,1\n")  # reads well, but one point of class 1
    argv = ["sweep", "--dataset", "csv", "--vary", "csv", str(tiny), points_csv(tmp_path / "good.csv"),
            "--epochs", "2", "--workers", "2"]  # worker processes: the error crosses a pipe
    assert real_main(argv, monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("nn-playground: error: the data needs at least 2 points of each class")
    assert "Traceback" not in err and "RuntimeError" not in err
