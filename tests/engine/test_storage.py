"""Saving an experiment and loading it back: same model, same history, same continuation, clear errors."""

import dataclasses
import io
import json
import zipfile

import numpy as np
import pytest
import torch

from engine import Settings, Trainer
from engine.evaluation import grid_points
from engine.storage import StorageError, load_experiment, save_experiment

SMALL = Settings(dataset="toy_xor", samples=400, hidden=(8, 8), activation="tanh", lr=0.02, epochs=20)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained experiment saved to a folder, and the trainer it came from."""
    trainer = Trainer(SMALL)
    trainer.train()
    directory = tmp_path_factory.mktemp("saved")
    save_experiment(trainer, directory)
    return trainer, directory


def test_round_trip_keeps_settings_history_runs_and_predictions(saved):
    trainer, directory = saved
    loaded = load_experiment(directory)
    assert loaded.settings == trainer.settings
    assert loaded.history == trainer.history
    assert [dataclasses.asdict(run) for run in loaded.runs] == [dataclasses.asdict(run) for run in trainer.runs]
    _, _, points = grid_points(trainer.dataset.box, 50)
    np.testing.assert_array_equal(loaded.predict_proba(points), trainer.predict_proba(points))
    np.testing.assert_array_equal(loaded.dataset.points, trainer.dataset.points)
    assert len(loaded.history) == 20 and loaded.parameter_count == trainer.parameter_count


@pytest.mark.parametrize(
    "changes",
    [{}, {"batch_size": 64, "dropout": 0.2}, {"optimizer": "sgd", "momentum": 0.9}],
    ids=["full-batch-adam", "minibatch-dropout", "sgd-momentum"],
)
def test_continuing_after_load_equals_continuing_without_saving(tmp_path, changes):
    trainer = Trainer(SMALL.replace(**changes))
    trainer.train()
    save_experiment(trainer, tmp_path)
    trainer.train(epochs=15)  # draws from its generator with mini-batches or dropout

    loaded = load_experiment(tmp_path)  # its generator restarts where the saved one stood
    loaded.train(epochs=15)

    assert loaded.history == trainer.history  # bit for bit, including the optimizer's momentum
    assert len(loaded.history) == 35 and loaded.history.run[-1] == 2
    assert torch.equal(loaded.net.flat, trainer.net.flat)


def test_never_trained_experiment_round_trips(tmp_path):
    trainer = Trainer(SMALL)
    save_experiment(trainer, tmp_path)
    loaded = load_experiment(tmp_path)
    assert len(loaded.history) == 0 and loaded.runs == []
    loaded.train(epochs=5)
    trainer.train(epochs=5)
    assert loaded.history == trainer.history


def test_csv_experiment_is_self_contained(tmp_path):
    rng = np.random.default_rng(0)
    points = rng.random((120, 2)) * [10, 3]
    source = tmp_path / "mine.csv"
    rows = [f"{x},{y},{int(x / 10 + y / 3 > 1)}" for x, y in points]
    source.write_text("width,height,label\n" + "\n".join(rows) + "\n")
    trainer = Trainer(Settings(dataset="csv", csv_path=str(source), hidden=(4,), epochs=10))
    trainer.train()
    folder = tmp_path / "experiment"
    save_experiment(trainer, folder)
    source.unlink()  # the folder must not need the original file

    assert json.loads((folder / "settings.json").read_text())["settings"]["csv_path"] == "data.csv"
    loaded = load_experiment(folder)
    np.testing.assert_array_equal(loaded.dataset.points, trainer.dataset.points)
    assert loaded.dataset.feature_names == ("width", "height")
    assert loaded.history == trainer.history

    moved = folder.rename(tmp_path / "moved")
    again = load_experiment(moved)
    save_experiment(again, moved)  # saving back in place keeps its own data.csv
    assert load_experiment(moved).history == trainer.history


def _rewrite_settings(directory, change):
    path = directory / "settings.json"
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


def _rewrite_weights(directory, change):
    path = directory / "weights.pt"
    weights = torch.load(path, weights_only=True)
    change(weights)
    torch.save(weights, path)


@pytest.mark.parametrize(
    "damage, culprit, words",
    [
        (lambda d: (d / "settings.json").unlink(), "settings.json", "no such file"),
        (lambda d: (d / "weights.pt").unlink(), "weights.pt", "no such file"),
        (
            lambda d: (d / "settings.json").write_text('{"format_version": 1, "settings": '),
            "settings.json",
            "cannot be read",
        ),
        (lambda d: (d / "settings.json").write_text("[1, 2]"), "settings.json", "JSON object"),
        (lambda d: _rewrite_settings(d, lambda r: r.update(format_version=99)), "settings.json", "format version 99"),
        (lambda d: _rewrite_settings(d, lambda r: r.pop("history")), "settings.json", "missing 'history'"),
        (lambda d: _rewrite_settings(d, lambda r: r["settings"].update(noise=3)), "settings.json", "noise"),
        (lambda d: _rewrite_settings(d, lambda r: r["settings"].update(colour="red")), "settings.json", "colour"),
        (lambda d: _rewrite_settings(d, lambda r: r["settings"].update(hidden=[5])), "weights.pt", "do not fit"),
        (
            lambda d: _rewrite_settings(d, lambda r: r["settings"].update(features=["x", "y", "xy"])),
            "weights.pt",
            "do not fit",
        ),
        (lambda d: (d / "weights.pt").write_bytes(b"not a torch file"), "weights.pt", "cannot be read"),
        (lambda d: torch.save({"weights": 1}, d / "weights.pt"), "weights.pt", "not the weights"),
        (lambda d: _rewrite_weights(d, lambda w: w.pop("generator")), "weights.pt", "generator"),
    ],
    ids=[
        "no-settings",
        "no-weights",
        "truncated-json",
        "json-not-object",
        "unknown-version",
        "missing-key",
        "bad-setting",
        "unknown-setting",
        "wrong-width",
        "wrong-inputs",
        "corrupt-weights",
        "foreign-weights",
        "no-generator",
    ],
)
def test_bad_folders_raise_storage_error_naming_the_file(saved, tmp_path, damage, culprit, words):
    _, directory = saved
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("settings.json", "weights.pt"):
        (copy / name).write_bytes((directory / name).read_bytes())
    damage(copy)
    with pytest.raises(StorageError) as caught:
        load_experiment(copy)
    assert str(copy / culprit) in str(caught.value)
    assert words in str(caught.value)


def test_optimizer_state_of_another_network_is_refused(saved, tmp_path):
    _, directory = saved
    other = Trainer(SMALL.replace(hidden=(3,)))
    other.train(epochs=2)
    save_experiment(other, tmp_path)
    model = torch.load(directory / "weights.pt", weights_only=True)["model"]
    _rewrite_weights(tmp_path, lambda weights: weights.update(model=model))
    _rewrite_settings(tmp_path, lambda r: r["settings"].update(hidden=[8, 8]))
    with pytest.raises(StorageError, match="optimizer state does not fit"):
        load_experiment(tmp_path)


def test_missing_folder_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no such directory") as caught:
        load_experiment(tmp_path / "nowhere")
    assert isinstance(caught.value, StorageError) and str(tmp_path / "nowhere") in str(caught.value)


def test_archive_round_trip_and_bad_archives(tmp_path):
    from engine.storage import experiment_archive, load_experiment_archive

    trainer = Trainer(Settings(dataset="toy_ring", samples=400, hidden=(8,), epochs=10))
    trainer.train()
    loaded = load_experiment_archive(experiment_archive(trainer))
    assert loaded.history == trainer.history and loaded.settings == trainer.settings
    points = trainer.dataset.x_test
    assert np.array_equal(loaded.predict_proba(points), trainer.predict_proba(points))
    with pytest.raises(StorageError, match="not a .zip"):
        load_experiment_archive(b"not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(StorageError, match="no saved experiment"):
        load_experiment_archive(buffer.getvalue())
