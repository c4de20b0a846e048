"""The runs of one experiment as it keeps them: a `runs.RunRecord` per run, the rows each adds to the experiment's
`history` and `runs`, and what is kept of each for comparison (`results`).

A `RunLog` belongs to one Experiment and writes only its public result parameters. The Runner opens and ends runs
here; a loaded archive's runs are restored here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import History, Settings

from .comparison import kept, run_result
from .runs import RunRecord, status_line
from .worker import FINAL_MAP_SIZE, ROW_KEYS

if TYPE_CHECKING:
    from .experiment import Experiment


class RunLog:
    """The records of one experiment's runs, the current (running or paused) one, and the current model's number."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.records: list[RunRecord] = []
        self.current: RunRecord | None = None
        self.model = 0  # the number of the current model (a run's `model`); 0 before the first

    def new_model(self) -> None:
        self.model += 1

    def open(self, first_epoch: int, requested: int, settings: Settings, **so_far) -> RunRecord:
        """A new run of the current model, made the current one (`so_far`: a loaded run's done, seconds, ended...)."""
        self.current = RunRecord(len(self.records) + 1, self.model, first_epoch, requested, settings, **so_far)
        self.records.append(self.current)
        return self.current

    def add_rows(self, rows: dict[str, list]) -> None:
        """Append the current run's new epochs (`worker.ROW_KEYS` columns) to `history`, and its latest metrics."""
        experiment, record = self.experiment, self.current
        history = experiment.history
        for key in ROW_KEYS:
            getattr(history, key).extend(rows[key])
        history.run.extend([record.number] * len(rows["epoch"]))
        experiment.param.trigger("history")
        experiment.status = status_line(record, history)
        experiment.progress = min(1.0, (history.epoch[-1] - record.first_epoch + 1) / record.requested)
        record.last_epoch, record.loss = history.epoch[-1], history.loss[-1]
        record.train_accuracy, record.test_accuracy = history.train_accuracy[-1], history.test_accuracy[-1]
        record.majority = experiment.data.majority_share("test")
        self.publish()

    def end(self, ended: str, message: str) -> None:
        """End the current run (if any) as `ended`, keeping its result; the epoch axis ends at the last epoch."""
        history = self.experiment.history
        self.experiment.planned_epoch = history.epoch[-1] if history.epoch else 0
        if self.current is not None:
            self.current.ended, self.current.message = ended, message
            self.keep(self.current)
            self.current = None
        self.publish()

    def end_current(self) -> None:
        """The model is dropped: a run still going (running or paused) ends as stopped; none is current after."""
        if self.current is not None and self.current.ended in ("running", "paused"):
            self.end("stopped", "")
        self.current = None

    def keep(self, record: RunRecord) -> None:
        """Keep what the run did (final map, curves, speed) for comparison: it outlives the model."""
        experiment = self.experiment
        trainer, grid = experiment.trainer, experiment.grid
        if trainer is None or record.ended == "failed" or grid is None \
                or grid.probability.shape != (FINAL_MAP_SIZE, FINAL_MAP_SIZE):  # a stuck run's live map
            return
        result = run_result(record, experiment.history, grid, trainer.parameter_count, experiment.data)
        if result is not None:
            experiment.results = kept(experiment.results, result)

    def publish(self) -> None:
        """Show the records in `runs`."""
        self.experiment.runs = [record.row() for record in self.records]

    def restore(self, runs: list, history: History) -> None:
        """Add a loaded archive's runs (engine `Run`s with their settings) and their epochs of `history`; the last
        stays current until `end_restored`."""
        rows_of: dict[int, list[int]] = {}  # each run's epochs, in one pass (a pass per run: 0.4 s for 100 runs)
        for i, number in enumerate(history.run):
            rows_of.setdefault(number, []).append(i)
        for run, settings in runs:  # one run here per engine run (a paused run was saved as several)
            self.open(run.first_epoch, run.requested_epochs, settings, done=run.epochs, seconds=run.seconds,
                      ended=run.ended, message=run.message)
            rows = rows_of.get(run.number, [])
            if rows:
                self.add_rows({key: [getattr(history, key)[i] for i in rows] for key in ROW_KEYS})

    def end_restored(self) -> None:
        """Once the loaded model's map is shown: keep the last loaded run's result (the archive holds its model
        only, so only its map is known)."""
        if self.current is not None:
            self.current.agreement = self.experiment.grid.agreement
            self.keep(self.current)
        self.current = None
        self.publish()

    def clear(self) -> None:
        """Forget every run and result (a reset)."""
        self.records = []
        self.model = 0
        self.experiment.runs = []
        self.experiment.results = {}
