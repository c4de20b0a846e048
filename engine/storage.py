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
checked against these limits (also on what is actually decompressed, in steps, whatever a .zip's headers
claim: `engine.bounded_zip`):

    settings.json   32 MiB  (100,000 epochs of history are ~15 MB; engine.saved_checks bounds epochs, runs, maps)
    weights.pt      32 MiB  (the largest network, 8 layers of 256, with Adam's state, is ~6 MB)
    data.csv        16 MiB  (and engine.csv_points' limits: 200,000 rows)
    snapshots.npz   64 MiB
    all of them    128 MiB; a .zip has at most 64 members.

Everything is validated (history lists of one length, every run's settings, the device, the weights, the
optimizer and generator states, the data; each file by `engine.saved_checks`) before a `Trainer` is returned;
any problem is one `StorageError` naming the file at fault. Saving writes every file under a temporary name
beside its target and renames them into place only once all are written, so a failed save (a full disk) leaves
an earlier experiment there intact.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from .atomic import WriteError, atomic_write, temporary_beside
from .csv_points import CsvError, PointsTable, parse_points_csv
from .datasets import load_dataset
from .network import build_model
from .saved_checks import (
    load_optimizer_state,
    parse_settings,
    parse_snapshots,
    parse_weights,
)
from .saved_files import (
    DATA_FILE,
    FORMAT_VERSION,
    MAX_FILE_BYTES,  # noqa: F401 - the limits, public here with the rest of the format
    MAX_TOTAL_BYTES,
    SETTINGS_FILE,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    MiB,
    StorageError,
    archive_files,
    folder_files,
    one_line,
)
from .snapshots import Snapshots
from .training import Trainer


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
        with open(written[WEIGHTS_FILE], "wb") as handle:  # a full disk: an OSError, not torch's RuntimeError
            try:
                torch.save(weights, handle)
            except RuntimeError as error:  # torch's writer, closing after a failed write, adds its own error
                if isinstance(error.__context__, OSError):
                    raise error.__context__ from None
                raise
        if snapshots is not None:
            written[SNAPSHOTS_FILE] = _temporary(directory, SNAPSHOTS_FILE)
            with open(written[SNAPSHOTS_FILE], "wb") as handle:
                np.savez_compressed(handle, epochs=np.asarray(snapshots.epochs, dtype=np.int64), xs=snapshots.xs,
                                    ys=snapshots.ys, maps=snapshots.stacked())
        for path in written.values():  # on the disk before any rename, so a crash cannot leave a mix
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
    except BaseException as error:
        for path in written.values():
            path.unlink(missing_ok=True)
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        if isinstance(error, OSError):  # a full disk, a file-size limit: one line
            raise WriteError(f"{directory}: the experiment cannot be saved ({error.strerror or error}); "
                               f"{'nothing was written' if created else 'what the folder held is unchanged'}") from None
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
        files = folder_files(path)
        return _build(files, lambda name: str(path / name), path / DATA_FILE, None, device, threads)
    if path.is_file():
        try:
            with open(path, "rb") as handle:  # read(n) allocates n bytes at once: no more than the file holds
                data = handle.read(min(os.fstat(handle.fileno()).st_size, MAX_TOTAL_BYTES) + 1)
        except OSError as error:
            raise StorageError(f"{path}: cannot be read ({error.strerror or error})") from None
        if len(data) > MAX_TOTAL_BYTES:
            raise StorageError(f"{path}: larger than the {MAX_TOTAL_BYTES // MiB} MiB a saved experiment may be")
        files = archive_files(data, str(path))
        return _build(files, lambda name: f"{path}: {name}", None, csv_file, device, threads)
    raise StorageError(f"{path}: no such directory or .zip file")


def load_snapshots(directory: str | Path, trainer: Trainer | None = None) -> Snapshots | None:
    """The snapshots saved with an experiment (a folder), or None if it has none.

    With the loaded `trainer`, they are checked against it too: epochs within its history, grid over its data.
    """
    directory = Path(directory)
    files = folder_files(directory, only=(SNAPSHOTS_FILE,))
    if SNAPSHOTS_FILE not in files:
        return None
    return parse_snapshots(files[SNAPSHOTS_FILE], str(directory / SNAPSHOTS_FILE), trainer)


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
    return _build(archive_files(data), lambda name: name, None, csv_file, device, threads)[0]


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
    settings, history, runs = parse_settings(files[SETTINGS_FILE], where(SETTINGS_FILE), csv_path, device, threads)
    saved = parse_weights(files[WEIGHTS_FILE], where(WEIGHTS_FILE))
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
        raise StorageError(f"{where(SETTINGS_FILE)}: the data cannot be rebuilt ({one_line(error)})") from None

    model = build_model(len(settings.features), settings.hidden, settings.activation, settings.dropout)
    try:
        model.load_state_dict(saved["model"])
    except Exception as error:  # wrong keys, shapes or types
        raise StorageError(f"{where(WEIGHTS_FILE)}: the weights do not fit the network in {SETTINGS_FILE} "
                           f"({one_line(error)})") from None
    try:
        trainer = Trainer(settings, dataset=dataset, model=model)
    except ValueError as error:
        raise StorageError(f"{where(SETTINGS_FILE)}: cannot rebuild the experiment: {one_line(error)}") from None
    trainer.history, trainer.runs = history, runs
    if saved.get("optimizer") is not None:
        load_optimizer_state(trainer, saved["optimizer"], where(WEIGHTS_FILE))
    try:
        trainer.generator.set_state(saved["generator"])
    except Exception as error:
        raise StorageError(f"{where(WEIGHTS_FILE)}: the random generator's state cannot be restored "
                           f"({one_line(error)})") from None
    snapshots = None
    if SNAPSHOTS_FILE in files:
        snapshots = parse_snapshots(files[SNAPSHOTS_FILE], where(SNAPSHOTS_FILE), trainer)
    if table is not None and folder_csv is None and csv_file is not None:
        try:  # last: nothing is written for a file that fails
            with atomic_write(csv_file, "wb") as handle:
                handle.write(files[DATA_FILE])
        except OSError as error:
            raise StorageError(f"{DATA_FILE}: cannot be written ({error.strerror or error})") from None
    return trainer, snapshots


def _temporary(directory: Path, name: str) -> Path:
    return temporary_beside(directory / name)
