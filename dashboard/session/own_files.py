"""Files a session reads: your own points and saved experiments, made ready off the event loop.

`prepare_points` and `prepare_archive` do the slow half (write or read the files, build the dataset or the model,
check everything) without touching the Experiment, so a thread may run them; `Experiment.apply_prepared` installs
the result on the loop. A session's files live in its own temporary folder (`SessionFolder`), removed when the
session closes.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import tempfile
import weakref
from pathlib import Path

import numpy as np

from engine import Dataset, Settings, SettingsError, Trainer, load_dataset
from engine.csv_points import CsvError, parse_points_csv
from engine.evaluation import evaluate_grid, evaluate_points
from engine.settings import GROUPED
from engine.snapshots import neuron_view, weight_view
from engine.storage import StorageError, load_experiment_archive

from .runs import DRAWN, DRAWN_FILE, is_drawn
from .worker import FINAL_MAP_SIZE


@dataclasses.dataclass
class Prepared:
    """Points or a saved experiment made ready off the event loop (`prepare_points`, `prepare_archive`), to be
    installed by `apply_prepared`; or only the message of why they cannot be used."""

    error: str = ""
    kind: str = "warning"  # of the error's message
    settings: Settings | None = None
    dataset: Dataset | None = None
    source: str = ""
    trainer: Trainer | None = None
    values: dict = dataclasses.field(default_factory=dict)
    runs: list = dataclasses.field(default_factory=list)
    views: dict = dataclasses.field(default_factory=dict)


class SessionFolder:
    """A session's temporary folder, made on first use and removed by `remove` (or when garbage-collected)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self._cleanup = None

    def new_file(self, source: str) -> Path:
        """A new file named after `source`, in a new subfolder: earlier runs' settings keep naming their own."""
        if self.path is None:
            self.path = Path(tempfile.mkdtemp(prefix="nn-playground-points-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)
        if source == DRAWN:
            return Path(tempfile.mkdtemp(dir=self.path)) / DRAWN_FILE
        name = re.sub(r"[^\w.-]+", "_", Path(source).stem).strip("._") or "points"  # never DRAWN_FILE: no space
        return Path(tempfile.mkdtemp(dir=self.path)) / f"{name}.csv"

    def remove(self) -> None:
        if self._cleanup is not None:
            self._cleanup()


def prepare_points(settings: Settings, files: SessionFolder, points, labels,
                   feature_names: tuple[str, str] = ("x", "y"), source: str = "your points") -> Prepared:
    """The slow half of `use_points` (write the file, build the dataset): changes no parameter, so it may run
    in a thread. Returns what `apply_prepared` installs, or the message of why it cannot be used."""
    path = None
    try:
        text = points_csv(points, labels, feature_names)
        parse_points_csv(text, source)  # its messages name the source, not the temporary file
        path = files.new_file(source)
        path.write_text(text, encoding="utf-8")
        settings = settings.replace(dataset="csv", csv_path=str(path))
        dataset = titled(load_dataset(settings), settings)
    except (CsvError, SettingsError, ValueError, OSError) as error:
        if path is not None:
            shutil.rmtree(path.parent, ignore_errors=True)  # no file of points that were refused
        return Prepared(error=f"{source}: {error}. Nothing was changed." if isinstance(error, CsvError) else
                        f"Cannot use {source}: {error}. Nothing was changed.")
    return Prepared(settings=settings, dataset=dataset, source=source)


def titled(dataset: Dataset, settings: Settings) -> Dataset:
    """The dataset, titled "Drawn points" if its points were drawn in the Data tab (plots and the report show it)."""
    return dataclasses.replace(dataset, title=DRAWN.capitalize()) if is_drawn(settings) else dataset


def prepare_archive(data: bytes, files: SessionFolder) -> Prepared:
    """The slow half of `load_archive`: read and check the whole file, rebuild its model and evaluate it.
    Changes no parameter (a thread may run it); a bad file gives a `Prepared` with only its message."""
    folder = None
    try:
        csv_file = None
        if b"data.csv" in data:  # perhaps a csv experiment: its data needs a file of this session's own
            csv_file = files.new_file("data")
            folder = csv_file.parent
        trainer = load_experiment_archive(data, csv_file=csv_file, device="cpu", threads=1)
        values = {name: getattr(trainer.settings, name) for name in GROUPED}  # checked by Settings already
        runs = [(run, Settings.from_dict(run.settings)) for run in trainer.runs]
        views = dict(grid=evaluate_grid(trainer, FINAL_MAP_SIZE), evaluation=evaluate_points(trainer),
                     neurons=neuron_view(trainer), weights=weight_view(trainer))
    except (StorageError, ValueError, TypeError, RuntimeError, OSError) as error:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return Prepared(error=f"Cannot load this file: {error}. Nothing was changed.", kind="danger")
    if trainer.settings.dataset != "csv" and folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return Prepared(settings=trainer.settings, dataset=trainer.dataset, trainer=trainer, values=values,
                    runs=runs, views=views)


def points_csv(points, labels, feature_names: tuple[str, str] = ("x", "y")) -> str:
    """Labelled points as CSV text: a header (the feature names and `label`) and one `x,y,label` row per point."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*feature_names, "label"])
    for (x, y), label in zip(np.asarray(points, dtype=np.float32), np.asarray(labels, dtype=float).tolist()):
        writer.writerow([str(x), str(y), f"{label:g}"])  # float32's shortest text reads back exactly
    return buffer.getvalue()


