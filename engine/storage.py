"""Save an experiment to a folder and load it back, to look at it again or to continue training it.

The folder holds `settings.json` (the settings, the history of every epoch and the list of runs), `weights.pt`
(the model's and the optimizer's state, and the state of the trainer's random generator) and, for the csv dataset,
`data.csv`: a copy of the data, so the folder can be moved or shared on its own.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import torch

from .network import build_model
from .settings import Settings
from .training import History, Run, Trainer

FORMAT_VERSION = 1
SETTINGS_FILE = "settings.json"
WEIGHTS_FILE = "weights.pt"
DATA_FILE = "data.csv"


class StorageError(ValueError):
    """A saved experiment cannot be loaded; the message names the file at fault."""


def save_experiment(trainer: Trainer, directory: str | Path) -> Path:
    """Write the trainer's settings, history, runs and weights into `directory` (created if needed).

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
        return Settings.from_dict(values), History.from_dict(record["history"]), [Run(**run) for run in record["runs"]]
    except KeyError as error:
        raise StorageError(f"{path}: missing {error}") from None
    except (TypeError, ValueError) as error:
        raise StorageError(f"{path}: {_one_line(error)}") from None


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
