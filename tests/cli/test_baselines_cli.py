"""`nn-playground baselines`: the table, the JSON object, the network beside the classifiers, bad options, and no
dashboard library imported."""

import json
import subprocess

from dashboard.cli import main
from engine import Settings, load_dataset
from engine.baselines import fit_baselines
from tests.cli.test_cli import DASHBOARD_LIBRARIES, ROOT, command, split_imports

NAMES = ["logistic", "knn", "svm", "tree", "forest"]


def test_json_gives_every_classifier_with_the_numbers_of_the_engine(capsys):
    code = main(["baselines", "--dataset", "toy_xor", "--samples", "400", "--features", "x,y,xy", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    numbers = json.loads(out)
    assert [c["name"] for c in numbers["classifiers"]] == NAMES and numbers["network"] is None
    assert numbers["settings"]["features"] == ["x", "y", "xy"] and numbers["train_points"] == 300
    engine = fit_baselines(load_dataset(Settings(dataset="toy_xor", samples=400)), ("x", "y", "xy"), seed=10)
    for shown, result in zip(numbers["classifiers"], engine.results):
        assert shown["test_accuracy"] == result.test_accuracy and shown["inputs"] == list(result.inputs)
    assert numbers["classifiers"][0]["test_accuracy"] > 0.95  # logistic regression on x, y, xy solves XOR


def test_the_table_puts_the_network_first(capsys):
    code = main(["baselines", "--dataset", "toy_ring", "--samples", "300", "--hidden", "8,8", "--activation", "tanh",
                 "--epochs", "20", "--network"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("toy_ring: always answering the most common class gets ")
    assert lines[1].split()[:4] == ["classifier", "inputs", "train", "test"]
    assert lines[2].startswith("Network 8,8 tanh") and "adam lr 0.005, 20 epochs (finished)" in lines[2]
    assert [line.split("  ")[0] for line in lines[3:8]] == [
        "Logistic regression", "Nearest neighbours", "RBF SVM", "Decision tree", "Random forest"]
    assert lines[8].startswith("Fitted on 225 training points; tested on 75 test points.")


def test_bad_options_fail_in_one_line(capsys):
    assert main(["baselines", "--features", "z"]) == 2
    assert "nn-playground: error: features: 'z' is not allowed" in capsys.readouterr().err


def test_help_and_no_dashboard_library():
    result = subprocess.run(command("baselines", "--dataset", "iris"), cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    packages, err = split_imports(result.stderr)
    assert result.returncode == 0 and err == "" and "Random forest" in result.stdout
    assert "sklearn" in packages and not packages & DASHBOARD_LIBRARIES
    help_text = subprocess.run(command("baselines", "--help"), cwd=ROOT, capture_output=True, text=True).stdout
    assert "nn-playground baselines --dataset toy_xor" in help_text and "--network" in help_text
