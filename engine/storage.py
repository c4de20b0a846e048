"""Save an experiment to a folder and load it back, to look at it again or to continue training it.

The folder holds `settings.json` (the settings, the history of every epoch and the list of runs), `weights.pt`
(the model's and the optimizer's state, and the state of the trainer's random generator), for the csv dataset
`data.csv`: a copy of the data, so the folder can be moved or shared on its own, and, when they were recorded,
`snapshots.npz`: the decision map at epochs through training (`engine.snapshots`), which a report shows under a
slider.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from .network import build_model
from .settings import Settings
from .snapshots import Snapshots
from .training import History, Run, Trainer

FORMAT_VERSION = 1
SETTINGS_FILE = "settings.json"
WEIGHTS_FILE = "weights.pt"
DATA_FILE = "data.csv"
SNAPSHOTS_FILE = "snapshots.npz"


class StorageError(ValueError):
    """A saved experiment cannot be loaded; the message names the file at fault."""


def save_experiment(trainer: Trainer, directory: str | Path, snapshots: Snapshots | None = None) -> Path:
    """Write the trainer's settings, history, runs and weights into `directory` (created if needed).

    With `snapshots` (recorded while the trainer trained), they go into `snapshots.npz`; without, a
    `snapshots.npz` left there by an earlier save is removed, since it would describe another training.
    Call it between runs, not while `train` is running in another thread.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    settings = trainer.settings.to_dict()
    if trainer.settings.dataset == "csv":
        source, target = Path(trainer.settings.csv_path), directory / DATA_FILE
        if not target.exists() or not target.samefile(source):
            shutil.copyfile(source, target)
        settings["csv_path"] = DATA_FILE  # relative to the folder
    record = {
        "format_version": FORMAT_VERSION,
        "settings": settings,
        "history": trainer.history.to_dict(),
        "runs": [dataclasses.asdict(run) for run in trainer.runs],
    }
    (directory / SETTINGS_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    weights = {
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer_state(),
        "generator": trainer.generator.get_state(),
    }
    torch.save(weights, directory / WEIGHTS_FILE)
    snapshots_path = directory / SNAPSHOTS_FILE
    if snapshots is not None:
        with open(snapshots_path, "wb") as handle:
            np.savez_compressed(handle, epochs=np.asarray(snapshots.epochs, dtype=np.int64), xs=snapshots.xs,
                                ys=snapshots.ys, maps=snapshots.stacked())
    elif snapshots_path.exists():
        snapshots_path.unlink()
    return directory


def load_experiment(directory: str | Path) -> Trainer:
    """Rebuild a saved experiment: same settings, data, weights, history, runs and optimizer state.

    Training it further gives exactly what training the saved trainer further would have given: the trainer's
    random generator, which mini-batch shuffling and dropout draw from, is restored too.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise StorageError(f"{directory}: no such directory")
    settings_path, weights_path = directory / SETTINGS_FILE, directory / WEIGHTS_FILE
    settings, history, runs = _read_settings(settings_path)
    saved = _read_weights(weights_path)

    model = build_model(len(settings.features), settings.hidden, settings.activation, settings.dropout)
    try:
        model.load_state_dict(saved["model"])
    except (KeyError, TypeError, RuntimeError) as error:
        raise StorageError(f"{weights_path}: the weights do not fit the network in {SETTINGS_FILE} ({_one_line(error)})") from None
    try:
        trainer = Trainer(settings, model=model)
    except ValueError as error:
        raise StorageError(f"{directory}: cannot rebuild the experiment: {_one_line(error)}") from None
    trainer.history, trainer.runs = history, runs
    if saved.get("optimizer") is not None:
        _load_optimizer_state(trainer, saved["optimizer"], weights_path)
    try:
        trainer.generator.set_state(saved["generator"])
    except (KeyError, TypeError, RuntimeError) as error:
        raise StorageError(f"{weights_path}: the random generator's state cannot be restored ({_one_line(error)})") from None
    return trainer


def load_snapshots(directory: str | Path, trainer: Trainer | None = None) -> Snapshots | None:
    """The snapshots saved with an experiment, or None if it has none.

    With the loaded `trainer`, they are checked against it too: epochs within its history, grid over its data.
    """
    path = Path(directory) / SNAPSHOTS_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            epochs, xs, ys, maps = (saved[key] for key in ("epochs", "xs", "ys", "maps"))
    except KeyError as error:
        raise StorageError(f"{path}: missing {error}") from None
    except Exception as error:  # a damaged file fails in many ways (zip, pickle, EOF, value errors)
        raise StorageError(f"{path}: cannot be read ({_one_line(error)})") from None
    if epochs.ndim != 1 or xs.ndim != 1 or ys.ndim != 1 or maps.shape != (len(epochs), len(ys), len(xs)):
        raise StorageError(f"{path}: the maps do not fit their epochs and grid")
    if len(epochs) and (np.any(np.diff(epochs) <= 0) or epochs[0] < 0):
        raise StorageError(f"{path}: the epochs are not increasing")
    if trainer is not None:
        if len(epochs) and epochs[-1] > trainer.epochs_done:
            raise StorageError(f"{path}: a snapshot at epoch {epochs[-1]}, after the last trained epoch "
                               f"{trainer.epochs_done}")
        (x0, x1), (y0, y1) = trainer.dataset.box
        if len(xs) < 2 or not np.allclose([xs[0], xs[-1], ys[0], ys[-1]], [x0, x1, y0, y1]):
            raise StorageError(f"{path}: the maps do not cover the data's box")
    return Snapshots(xs.astype(float), ys.astype(float), [int(e) for e in epochs],
                     [np.asarray(m, dtype=np.float32) for m in maps])


def experiment_archive(trainer: Trainer) -> bytes:
    """The saved experiment as one .zip file's bytes (the folder's files), for a download button."""
    with tempfile.TemporaryDirectory() as folder:
        save_experiment(trainer, folder)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).iterdir()):
                archive.write(path, path.name)
    return buffer.getvalue()


def load_experiment_archive(data: bytes) -> Trainer:
    """Load an experiment from the bytes of `experiment_archive` (an uploaded file)."""
    # Kept after loading: a csv experiment's settings point at the data.csv inside it.
    folder = Path(tempfile.mkdtemp(prefix="nn-playground-"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if not {SETTINGS_FILE, WEIGHTS_FILE} <= names:
                raise StorageError(f"the archive holds no saved experiment ({SETTINGS_FILE} and {WEIGHTS_FILE})")
            for name in names & {SETTINGS_FILE, WEIGHTS_FILE, DATA_FILE}:
                archive.extract(name, folder)
    except zipfile.BadZipFile:
        raise StorageError("the file is not a .zip of a saved experiment") from None
    return load_experiment(folder)


def _read_settings(path: Path) -> tuple[Settings, History, list[Run]]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StorageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StorageError(f"{path}: cannot be read ({error})") from None
    if not isinstance(record, dict):
        raise StorageError(f"{path}: expected a JSON object")
    version = record.get("format_version")
    if version != FORMAT_VERSION:
        raise StorageError(f"{path}: unknown format version {version!r} (this nn-playground reads {FORMAT_VERSION})")
    try:
        values = dict(record["settings"])
        if values.get("dataset") == "csv":
            values["csv_path"] = str(path.parent / values["csv_path"])
        return Settings.from_dict(values), History.from_dict(record["history"]), [_run(run) for run in record["runs"]]
    except KeyError as error:
        raise StorageError(f"{path}: missing {error}") from None
    except (TypeError, ValueError) as error:
        raise StorageError(f"{path}: {_one_line(error)}") from None


def _run(values: dict) -> Run:
    schedule = values.get("schedule")  # JSON has no tuples; files written before it existed have none
    return Run(**{**values, "schedule": None if schedule is None else tuple(schedule)})


def _read_weights(path: Path) -> dict:
    if not path.is_file():
        raise StorageError(f"{path}: no such file")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file fails in many ways (pickle, zip, EOF, runtime errors)
        raise StorageError(f"{path}: cannot be read ({_one_line(error)})") from None
    if not isinstance(saved, dict) or "model" not in saved:
        raise StorageError(f"{path}: not the weights of an nn-playground experiment")
    return saved


def _load_optimizer_state(trainer: Trainer, state: dict, path: Path) -> None:
    flat = trainer.net.flat
    try:
        tensors = [value for entry in state["state"].values() for value in entry.values() if isinstance(value, torch.Tensor)]
        if any(tensor.dim() and tensor.shape != flat.shape for tensor in tensors):
            raise ValueError(f"its tensors do not have the {flat.numel()} weights of the network")
        trainer.load_optimizer_state(state)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise StorageError(f"{path}: the optimizer state does not fit the settings ({_one_line(error)})") from None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
