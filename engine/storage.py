"""Save an experiment to a folder (or a .zip of that folder) and load it back, to look at it again or to continue
training it.

The folder holds `settings.json` (the settings, the history of every epoch and the list of runs), `weights.pt`
(the model's and the optimizer's state, and the state of the trainer's random generator), for the csv dataset
`data.csv`: a copy of the data, so the folder can be moved or shared on its own, and, when they were recorded,
`snapshots.npz`: the decision map at epochs through training (`engine.snapshots`), which a report shows under a
slider. The app's Save experiment button downloads the same files as one .zip (`experiment_archive`).

A saved experiment is data, never paths. Loading (`load_saved`, `load_experiment`, `load_experiment_archive`)
reads only the four files above, by their fixed names: a csv experiment's data is always its own `data.csv`
(a `csv_path` other than "data.csv" is refused, so an absolute or ../ path in a crafted file is never followed),
and a member or file that is a symbolic link, or a .zip member named with an absolute path, `..`, a backslash
or a drive, is refused. Archives are read from memory and never unpacked. Before anything is read, sizes are
checked against these limits (also on what is actually decompressed, whatever a .zip's directory claims):

    settings.json   64 MiB  (about 400,000 epochs of history)
    weights.pt      32 MiB  (the largest network, 8 layers of 256, with Adam's state, is ~6 MB)
    data.csv        16 MiB  (and engine.csv_points' limits: 200,000 rows)
    snapshots.npz   64 MiB
    all of them    128 MiB; a .zip has at most 64 members.

Everything is validated (history lists of one length, every run's settings, the device, the weights, the
optimizer and generator states, the data) before a `Trainer` is returned; any problem is one `StorageError`
naming the file at fault. Saving writes every file under a temporary name beside its target and renames them
into place only once all are written, so a failed save (a full disk) leaves an earlier experiment there intact.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from .csv_points import CsvError, PointsTable, parse_points_csv
from .datasets import load_dataset
from .network import build_model
from .saved_files import (
    DATA_FILE,
    DEVICE,
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    SETTINGS_FILE,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    MiB,
    StorageError,
    _archive_files,
    _check_size,
    _folder_files,
    _one_line,
)
from .settings import Settings
from .snapshots import Snapshots
from .training import History, Run, Trainer

FORMAT_VERSION = 1
def save_experiment(trainer: Trainer, directory: str | Path, snapshots: Snapshots | None = None) -> Path:
    """Write the trainer's settings, history, runs and weights into `directory` (created if needed).

    With `snapshots` (recorded while the trainer trained), they go into `snapshots.npz`; without, a
    `snapshots.npz` left there by an earlier save is removed, since it would describe another training.
    Every file is written under a temporary name first and renamed into place once all are written: a save
    that fails (a full disk, no permission) leaves what the folder held before as it was. Other files in the
    folder are left alone. Call it between runs, not while `train` is running in another thread.
    """
    directory = Path(directory)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}  # final name -> temporary file
    try:
        settings = trainer.settings.to_dict()
        if trainer.settings.dataset == "csv":
            source, target = Path(trainer.settings.csv_path), directory / DATA_FILE
            if not source.is_file():
                raise StorageError(f"{DATA_FILE}: the experiment's data file is gone, so it cannot be saved")
            if not target.exists() or not target.samefile(source):
                written[DATA_FILE] = _temporary(directory, DATA_FILE)
                shutil.copyfile(source, written[DATA_FILE])
            settings["csv_path"] = DATA_FILE  # inside the folder
        record = {
            "format_version": FORMAT_VERSION,
            "settings": settings,
            "history": trainer.history.to_dict(),
            "runs": [dataclasses.asdict(run) for run in trainer.runs],
        }
        written[SETTINGS_FILE] = _temporary(directory, SETTINGS_FILE)
        written[SETTINGS_FILE].write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        weights = {
            "model": trainer.model.state_dict(),
            "optimizer": trainer.optimizer_state(),
            "generator": trainer.generator.get_state(),
        }
        written[WEIGHTS_FILE] = _temporary(directory, WEIGHTS_FILE)
        torch.save(weights, written[WEIGHTS_FILE])
        if snapshots is not None:
            written[SNAPSHOTS_FILE] = _temporary(directory, SNAPSHOTS_FILE)
            with open(written[SNAPSHOTS_FILE], "wb") as handle:
                np.savez_compressed(handle, epochs=np.asarray(snapshots.epochs, dtype=np.int64), xs=snapshots.xs,
                                    ys=snapshots.ys, maps=snapshots.stacked())
        for path in written.values():  # on the disk before any rename, so a crash cannot leave a mix
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
    except BaseException:
        for path in written.values():
            path.unlink(missing_ok=True)
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    for name, path in written.items():
        os.replace(path, directory / name)
    if snapshots is None:
        (directory / SNAPSHOTS_FILE).unlink(missing_ok=True)
    return directory


def load_experiment(source: str | Path, csv_file: str | Path | None = None, device: str | None = None,
                    threads: int | None = None) -> Trainer:
    """Rebuild a saved experiment (a folder from `save_experiment`, or a .zip of one, as the app's Save experiment
    downloads): same settings, data, weights, history, runs and optimizer state.

    Training it further gives exactly what training the saved trainer further would have given: the trainer's
    random generator, which mini-batch shuffling and dropout draw from, is restored too. See `load_saved` for the
    other arguments.
    """
    return load_saved(source, csv_file, device, threads)[0]


def load_saved(source: str | Path, csv_file: str | Path | None = None, device: str | None = None,
               threads: int | None = None) -> tuple[Trainer, Snapshots | None]:
    """The trainer and the snapshots (None if none were saved) of a saved folder or .zip.

    A csv experiment's settings name its data file: the folder's own data.csv; for a .zip, `csv_file` if given
    (the data is written there once everything has been checked), else just "data.csv" (its data is in memory,
    in the trainer's dataset). `device` and `threads` replace the saved ones (a server trains on its own terms).
    """
    path = Path(source)
    if path.is_dir():
        files = _folder_files(path)
        return _build(files, lambda name: str(path / name), path / DATA_FILE, None, device, threads)
    if path.is_file():
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_TOTAL_BYTES + 1)
        except OSError as error:
            raise StorageError(f"{path}: cannot be read ({error.strerror or error})") from None
        if len(data) > MAX_TOTAL_BYTES:
            raise StorageError(f"{path}: larger than the {MAX_TOTAL_BYTES // MiB} MiB a saved experiment may be")
        files = _archive_files(data, str(path))
        return _build(files, lambda name: f"{path}: {name}", None, csv_file, device, threads)
    raise StorageError(f"{path}: no such directory or .zip file")


def load_snapshots(directory: str | Path, trainer: Trainer | None = None) -> Snapshots | None:
    """The snapshots saved with an experiment (a folder), or None if it has none.

    With the loaded `trainer`, they are checked against it too: epochs within its history, grid over its data.
    """
    directory = Path(directory)
    files = _folder_files(directory, only=(SNAPSHOTS_FILE,))
    if SNAPSHOTS_FILE not in files:
        return None
    return _snapshots(files[SNAPSHOTS_FILE], str(directory / SNAPSHOTS_FILE), trainer)


def experiment_archive(trainer: Trainer, snapshots: Snapshots | None = None) -> bytes:
    """The saved experiment as one .zip file's bytes (the folder's files), for a download button."""
    with tempfile.TemporaryDirectory() as folder:
        save_experiment(trainer, folder, snapshots)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).iterdir()):
                archive.write(path, path.name)
    return buffer.getvalue()


def load_experiment_archive(data: bytes, csv_file: str | Path | None = None, device: str | None = None,
                            threads: int | None = None) -> Trainer:
    """Load an experiment from the bytes of `experiment_archive` (an uploaded file), in memory: nothing is
    unpacked. `csv_file`, `device`, `threads`: as for `load_saved`."""
    if len(data) > MAX_TOTAL_BYTES:
        raise StorageError(f"the file is larger than the {MAX_TOTAL_BYTES // MiB} MiB a saved experiment may be")
    return _build(_archive_files(data), lambda name: name, None, csv_file, device, threads)[0]


# ----- building: validate everything, then one Trainer -----
def _build(files: dict[str, bytes], where, folder_csv: Path | None, csv_file, device,
           threads) -> tuple[Trainer, Snapshots | None]:
    for name in (SETTINGS_FILE, WEIGHTS_FILE):
        if name not in files:
            raise StorageError(f"{where(name)}: no such file")
    if folder_csv is not None:
        csv_path = str(folder_csv)
    else:
        csv_path = str(csv_file) if csv_file is not None else DATA_FILE
    settings, history, runs = _parse_settings(files[SETTINGS_FILE], where(SETTINGS_FILE), csv_path, device, threads)
    saved = _parse_weights(files[WEIGHTS_FILE], where(WEIGHTS_FILE))
    table: PointsTable | None = None
    if settings.dataset == "csv":
        if DATA_FILE not in files:
            raise StorageError(f"{where(DATA_FILE)}: no such file (the experiment's data)")
        try:
            table = parse_points_csv(files[DATA_FILE].decode("utf-8-sig"), where(DATA_FILE))
        except UnicodeDecodeError:
            raise StorageError(f"{where(DATA_FILE)}: not a text (UTF-8) file") from None
        except CsvError as error:
            raise StorageError(str(error)) from None
    try:
        dataset = load_dataset(settings, table)
    except ValueError as error:
        raise StorageError(f"{where(SETTINGS_FILE)}: the data cannot be rebuilt ({_one_line(error)})") from None

    model = build_model(len(settings.features), settings.hidden, settings.activation, settings.dropout)
    try:
        model.load_state_dict(saved["model"])
    except Exception as error:  # wrong keys, shapes or types
        raise StorageError(f"{where(WEIGHTS_FILE)}: the weights do not fit the network in {SETTINGS_FILE} "
                           f"({_one_line(error)})") from None
    try:
        trainer = Trainer(settings, dataset=dataset, model=model)
    except ValueError as error:
        raise StorageError(f"{where(SETTINGS_FILE)}: cannot rebuild the experiment: {_one_line(error)}") from None
    trainer.history, trainer.runs = history, runs
    if saved.get("optimizer") is not None:
        _load_optimizer_state(trainer, saved["optimizer"], where(WEIGHTS_FILE))
    try:
        trainer.generator.set_state(saved["generator"])
    except Exception as error:
        raise StorageError(f"{where(WEIGHTS_FILE)}: the random generator's state cannot be restored "
                           f"({_one_line(error)})") from None
    snapshots = None
    if SNAPSHOTS_FILE in files:
        snapshots = _snapshots(files[SNAPSHOTS_FILE], where(SNAPSHOTS_FILE), trainer)
    if table is not None and folder_csv is None and csv_file is not None:
        try:  # last: nothing is written for a file that fails
            Path(csv_file).write_bytes(files[DATA_FILE])
        except OSError as error:
            raise StorageError(f"{DATA_FILE}: cannot be written ({error.strerror or error})") from None
    return trainer, snapshots


def _parse_settings(content: bytes, where: str, csv_path: str, device, threads) -> tuple[Settings, History, list[Run]]:
    try:
        record = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise StorageError(f"{where}: cannot be read ({_one_line(error)})") from None
    if not isinstance(record, dict):
        raise StorageError(f"{where}: expected a JSON object")
    version = record.get("format_version")
    if version != FORMAT_VERSION:
        raise StorageError(f"{where}: unknown format version {version!r} (this nn-playground reads {FORMAT_VERSION})")
    try:
        values = record["settings"]
        if not isinstance(values, dict):
            raise ValueError("settings: expected a JSON object")
        values = dict(values)
        _check_device(values.get("device", "cpu"))
        if values.get("dataset") == "csv":
            if values.get("csv_path") != DATA_FILE:
                raise ValueError(f"csv_path: a saved experiment's data is its own {DATA_FILE}, not "
                                 f"{str(values.get('csv_path'))[:80]!r}")
            values["csv_path"] = csv_path
        if device is not None:
            values["device"] = device
        if threads is not None:
            values["threads"] = threads
        settings = Settings.from_dict(values)
        history = _history(record["history"])
        runs = [_run(run) for run in _list(record["runs"], "runs")]
        numbers = {run.number for run in runs}
        if len(numbers) != len(runs):
            raise ValueError("runs: two runs have the same number")
        if not set(history.run) <= numbers:
            raise ValueError("history: an epoch belongs to no saved run")
        return settings, history, runs
    except KeyError as error:
        raise StorageError(f"{where}: missing {error}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise StorageError(f"{where}: {_one_line(error)}") from None


def _check_device(device) -> None:
    if not isinstance(device, str) or not DEVICE.fullmatch(device):
        raise ValueError(f"device: 'cpu', 'cuda' or 'cuda:N', got {str(device)[:40]!r}")


def _list(value, name: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"{name}: expected a list")
    return value


def _history(values) -> History:
    if not isinstance(values, dict):
        raise ValueError("history: expected a JSON object")
    history = History.from_dict({key: _list(values[key], f"history {key}") for key in History().to_dict()})
    columns = history.to_dict()
    lengths = {len(column) for column in columns.values()}
    if len(lengths) > 1:
        raise ValueError("history: its lists (" + ", ".join(f"{key} {len(column)}" for key, column in columns.items())
                         + ") are not all of one length")
    for key in ("epoch", "run"):
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in columns[key]):
            raise ValueError(f"history {key}: expected whole numbers")
    if any(b <= a for a, b in zip(history.epoch, history.epoch[1:])) or (history.epoch and history.epoch[0] < 1):
        raise ValueError("history epoch: expected increasing epoch numbers from 1")
    for key in ("loss", "train_accuracy", "test_accuracy", "test_loss", "lr"):
        if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in columns[key]):
            raise ValueError(f"history {key}: expected numbers")
    return history


def _run(values) -> Run:
    if not isinstance(values, dict):
        raise ValueError("runs: each run must be a JSON object")
    schedule = values.get("schedule")  # JSON has no tuples; files written before it existed have none
    run = Run(**{**values, "schedule": None if schedule is None else tuple(schedule)})
    for name in ("number", "first_epoch", "last_epoch", "requested_epochs"):
        value = getattr(run, name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"run {run.number!r}: {name} must be a whole number")
    if not isinstance(run.settings, dict):
        raise ValueError(f"run {run.number}: its settings must be a JSON object")
    try:
        _check_device(run.settings.get("device", "cpu"))
        Settings.from_dict(run.settings)
    except ValueError as error:
        raise ValueError(f"run {run.number}: {_one_line(error)}") from None
    if not isinstance(run.seconds, (int, float)) or not isinstance(run.ended, str) or not isinstance(run.message, str):
        raise ValueError(f"run {run.number}: bad seconds, ended or message")
    return run


def _parse_weights(content: bytes, where: str) -> dict:
    limit = MAX_FILE_BYTES[WEIGHTS_FILE]
    try:  # torch's file is itself a .zip: what its records would unpack to is bounded too
        with zipfile.ZipFile(io.BytesIO(content)) as inner:
            unpacked = sum(info.file_size for info in inner.infolist())
    except Exception:
        unpacked = 0  # not a zip: torch.load says what is wrong with it
    _check_size(f"{where}: its tensors", unpacked, limit)
    try:
        saved = torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file fails in many ways (pickle, zip, EOF, runtime errors)
        raise StorageError(f"{where}: cannot be read ({_one_line(error)})") from None
    if not isinstance(saved, dict) or "model" not in saved:
        raise StorageError(f"{where}: not the weights of an nn-playground experiment")
    return saved


def _load_optimizer_state(trainer: Trainer, state: dict, where: str) -> None:
    flat = trainer.net.flat
    try:
        tensors = [value for entry in state["state"].values() for value in entry.values() if isinstance(value, torch.Tensor)]
        if any(tensor.dim() and tensor.shape != flat.shape for tensor in tensors):
            raise ValueError(f"its tensors do not have the {flat.numel()} weights of the network")
        trainer.load_optimizer_state(state)
    except Exception as error:
        raise StorageError(f"{where}: the optimizer state does not fit the settings ({_one_line(error)})") from None


def _snapshots(content: bytes, where: str, trainer: Trainer | None) -> Snapshots:
    arrays = {}
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            limit = MAX_FILE_BYTES[SNAPSHOTS_FILE]
            infos = {info.filename: info for info in archive.infolist()}
            for key in ("epochs", "xs", "ys", "maps"):
                info = infos.get(f"{key}.npy")
                if info is None:
                    raise StorageError(f"{where}: missing '{key}'")
                _check_size(f"{where}: {key}", info.file_size, limit)
                with archive.open(info) as member:
                    arrays[key] = _npy(member.read(limit + 1), f"{where}: {key}")
    except StorageError:
        raise
    except Exception as error:  # a damaged file fails in many ways (zip, EOF, value errors)
        raise StorageError(f"{where}: cannot be read ({_one_line(error)})") from None
    epochs, xs, ys, maps = (arrays[key] for key in ("epochs", "xs", "ys", "maps"))
    if epochs.ndim != 1 or xs.ndim != 1 or ys.ndim != 1 or maps.shape != (len(epochs), len(ys), len(xs)):
        raise StorageError(f"{where}: the maps do not fit their epochs and grid")
    if len(epochs) and (np.any(np.diff(epochs) <= 0) or epochs[0] < 0):
        raise StorageError(f"{where}: the epochs are not increasing")
    if trainer is not None:
        if len(epochs) and epochs[-1] > trainer.epochs_done:
            raise StorageError(f"{where}: a snapshot at epoch {epochs[-1]}, after the last trained epoch "
                               f"{trainer.epochs_done}")
        (x0, x1), (y0, y1) = trainer.dataset.box
        if len(xs) < 2 or not np.allclose([xs[0], xs[-1], ys[0], ys[-1]], [x0, x1, y0, y1]):
            raise StorageError(f"{where}: the maps do not cover the data's box")
    return Snapshots(xs.astype(float), ys.astype(float), [int(e) for e in epochs],
                     [np.asarray(m, dtype=np.float32) for m in maps])


def _npy(content: bytes, where: str) -> np.ndarray:
    """One .npy array, refused before any allocation if its header claims more data than the bytes hold."""
    handle = io.BytesIO(content)
    version = np.lib.format.read_magic(handle)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(handle)
    if dtype.hasobject or math.prod(shape) * dtype.itemsize > len(content):
        raise StorageError(f"{where}: the array's header does not fit its data")
    handle.seek(0)
    return np.lib.format.read_array(handle, allow_pickle=False)


def _temporary(directory: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    os.chmod(path, 0o666 & ~_UMASK)  # as an ordinary new file (mkstemp makes it private)
    return Path(path)


_UMASK = os.umask(0o022)
os.umask(_UMASK)
