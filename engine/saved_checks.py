"""Reading and validating each file of a saved experiment (`engine.storage` describes the format and builds the
`Trainer` from them): the settings, history and runs of settings.json, the weights and optimizer and generator
states of weights.pt, the maps of snapshots.npz.

Every problem is one `StorageError` (a ValueError) naming the file at fault; a file is given as bytes already
read within the size limits (`engine.saved_files`), and nothing here touches the disk. Arrays are refused before
any allocation when their header claims more data than the file holds.
"""

from __future__ import annotations

import io
import json
import math
import sys
import zipfile

import numpy as np
import torch

from .bounded_zip import ZipBoundError, open_archive, read_member
from .saved_files import (
    DATA_FILE,
    DEVICE,
    FORMAT_VERSION,
    MAX_FILE_BYTES,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    MiB,
    StorageError,
    check_size,
    one_line,
)
from .settings import Settings
from .snapshots import Snapshots
from .training import History, Run, Trainer

# What one saved experiment may hold: a session that loads one must stay cheap for the server (docs/performance.md)
MAX_HISTORY_EPOCHS = 100_000
MAX_RUNS = 100
MAX_SNAPSHOTS = 1_000
MAX_JSON_VALUES = 1_000_000  # of settings.json, counted before parsing (100,000 epochs are 700,000 numbers)
MAX_WEIGHT_RECORDS = 4_096  # records of torch's .zip (a network's are about a dozen)

def parse_settings(content: bytes, where: str, csv_path: str, device, threads) -> tuple[Settings, History, list[Run]]:
    values = sum(content.count(mark) for mark in (b",", b"[", b"{"))  # at least as many as the values it holds
    if values > MAX_JSON_VALUES:
        raise StorageError(f"{where}: about {values:,} JSON values, more than the {MAX_JSON_VALUES:,} a saved "
                           f"experiment may hold ({MAX_HISTORY_EPOCHS:,} epochs of history)")
    try:
        record = json.loads(content.decode("utf-8"))
    except RecursionError:
        raise StorageError(f"{where}: nested deeper than the {sys.getrecursionlimit():,} levels JSON may be read "
                           "to (a saved experiment's are 5)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StorageError(f"{where}: cannot be read ({one_line(error)})") from None
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
        check_device(values.get("device", "cpu"))
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
        runs = _list(record["runs"], "runs")
        if len(runs) > MAX_RUNS:
            raise ValueError(f"runs: {len(runs):,} runs, more than the {MAX_RUNS} a saved experiment may hold")
        runs = [_run(run) for run in runs]
        numbers = {run.number for run in runs}
        if len(numbers) != len(runs):
            raise ValueError("runs: two runs have the same number")
        if not set(history.run) <= numbers:
            raise ValueError("history: an epoch belongs to no saved run")
        return settings, history, runs
    except KeyError as error:
        raise StorageError(f"{where}: missing {error}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise StorageError(f"{where}: {one_line(error)}") from None


def check_device(device) -> None:
    if not isinstance(device, str) or not DEVICE.fullmatch(device):
        raise ValueError(f"device: 'cpu', 'cuda' or 'cuda:N', got {str(device)[:40]!r}")


def _list(value, name: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"{name}: expected a list")
    return value


def _history(values) -> History:
    if not isinstance(values, dict):
        raise ValueError("history: expected a JSON object")
    columns = {key: _list(values[key], f"history {key}") for key in History().to_dict()}
    longest = max(map(len, columns.values()), default=0)
    if longest > MAX_HISTORY_EPOCHS:
        raise ValueError(f"history: {longest:,} epochs, more than the {MAX_HISTORY_EPOCHS:,} a saved experiment "
                         "may hold")
    history = History.from_dict(columns)
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
        check_device(run.settings.get("device", "cpu"))
        Settings.from_dict(run.settings)
    except ValueError as error:
        raise ValueError(f"run {run.number}: {one_line(error)}") from None
    if not isinstance(run.seconds, (int, float)) or not isinstance(run.ended, str) or not isinstance(run.message, str):
        raise ValueError(f"run {run.number}: bad seconds, ended or message")
    return run


def parse_weights(content: bytes, where: str) -> dict:
    """torch's file is itself a .zip: its records are inflated within the limit (`engine.bounded_zip`) and
    handed to torch as a plain .zip of exactly those bytes, so torch's own reader never inflates anything."""
    limit = MAX_FILE_BYTES[WEIGHTS_FILE]
    records = {}
    try:
        with open_archive(content, MAX_WEIGHT_RECORDS) as inner:
            for info in inner.infolist():
                try:
                    records[info.filename] = read_member(content, info, limit - sum(map(len, records.values())))
                except ZipBoundError as error:
                    raise StorageError(f"{where}: its record {info.filename[:80]}: {error} (its tensors may unpack "
                                       f"to {limit // MiB} MiB in all)") from None
    except StorageError:
        raise
    except ZipBoundError as error:
        raise StorageError(f"{where}: {error}") from None
    except Exception as error:  # torch has written a .zip since 1.6; older files are not read
        raise StorageError(f"{where}: cannot be read (not torch's .zip format: {one_line(error)})") from None
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_STORED) as rewritten:
        for name, record in records.items():
            rewritten.writestr(name, record)
    records.clear()
    try:
        saved = torch.load(io.BytesIO(plain.getvalue()), map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file fails in many ways (pickle, zip, EOF, runtime errors)
        raise StorageError(f"{where}: cannot be read ({one_line(error)})") from None
    if not isinstance(saved, dict) or "model" not in saved:
        raise StorageError(f"{where}: not the weights of an nn-playground experiment")
    return saved


def load_optimizer_state(trainer: Trainer, state: dict, where: str) -> None:
    flat = trainer.net.flat
    try:
        tensors = [
            value for entry in state["state"].values() for value in entry.values() if isinstance(value, torch.Tensor)
        ]
        if any(tensor.dim() and tensor.shape != flat.shape for tensor in tensors):
            raise ValueError(f"its tensors do not have the {flat.numel()} weights of the network")
        trainer.load_optimizer_state(state)
    except Exception as error:
        raise StorageError(f"{where}: the optimizer state does not fit the settings ({one_line(error)})") from None


def parse_snapshots(content: bytes, where: str, trainer: Trainer | None) -> Snapshots:
    arrays = {}
    try:
        with open_archive(content, 64) as archive:
            limit = MAX_FILE_BYTES[SNAPSHOTS_FILE]
            infos = {info.filename: info for info in archive.infolist()}
            for key in ("epochs", "xs", "ys", "maps"):
                info = infos.get(f"{key}.npy")
                if info is None:
                    raise StorageError(f"{where}: missing '{key}'")
                check_size(f"{where}: {key}", info.file_size, limit)
                try:
                    arrays[key] = _npy(read_member(content, info, limit), f"{where}: {key}")
                except ZipBoundError as error:
                    raise StorageError(f"{where}: {key}: {error}") from None
                if key == "epochs" and arrays[key].size > MAX_SNAPSHOTS:
                    raise StorageError(f"{where}: {arrays[key].size:,} maps, more than the {MAX_SNAPSHOTS:,} a "
                                       "saved experiment may hold")
    except StorageError:
        raise
    except Exception as error:  # a damaged file fails in many ways (zip, EOF, value errors)
        raise StorageError(f"{where}: cannot be read ({one_line(error)})") from None
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
