"""Your own points and saved experiments brought into an Experiment, in two halves: `prepare_points` /
`prepare_archive` (slow, off the event loop, changing nothing) and `apply_prepared` (on the loop). A file that
fails anywhere changes nothing.

`Loading` is a part of `Experiment` (experiment.py), which stops and drops the current model (`_halt`,
`_drop_model`) before a loaded one is installed.
"""

from __future__ import annotations

from engine import Dataset, Settings, load_dataset

from .own_files import Prepared, prepare_archive, prepare_points, titled
from .runs import DRAWN, RunRecord
from .worker import ROW_KEYS


class Loading:
    """Loading points and saved experiments into the Experiment."""

    # ----- your own data -----
    @property
    def csv_path(self) -> str | None:
        """The file of the "csv" dataset (your own points); None before `use_points`."""
        return self._csv_path

    def use_points(self, points, labels, feature_names: tuple[str, str] = ("x", "y"),
                   source: str = "your points") -> bool:
        """Make these labelled points the dataset ("csv", your own data), split into train and test with the current
        test share and split seed; any model is dropped, as with any change of the data.

        The points are written as a CSV file in this experiment's temporary folder (removed by `close`), so the
        settings name a file as for any CSV and a saved experiment carries a copy. If they cannot be used (a bad
        value, one class, too few for the split) nothing changes, `message` says why, and it returns False.
        `prepare_points` then `apply_prepared` do the same in two halves (the first off the event loop).
        """
        return self.apply_prepared(self.prepare_points(points, labels, feature_names, source))

    def prepare_points(self, points, labels, feature_names: tuple[str, str] = ("x", "y"),
                       source: str = "your points") -> Prepared:
        """The slow half of `use_points` (write the file, build the dataset): changes no parameter, so it may run
        in a thread. Returns what `apply_prepared` installs, or the message of why it cannot be used."""
        return prepare_points(self.settings(), self._files, points, labels, feature_names, source)

    def prepare_archive(self, data: bytes) -> Prepared:
        """The slow half of `load_archive`: read and check the whole file, rebuild its model and evaluate it.
        Changes no parameter (a thread may run it); a bad file gives a `Prepared` with only its message."""
        return prepare_archive(data, self._files, self.param)

    def apply_prepared(self, prepared: Prepared) -> bool:
        """Install what `prepare_points` or `prepare_archive` made (on the event loop); if it holds an error, say
        it in `message` and return False, changing nothing else."""
        if prepared.error:
            self._tell(prepared.error, prepared.kind)
            return False
        if prepared.trainer is not None:
            self._install(prepared)
            return True
        self._dataset_cache = (prepared.settings, prepared.dataset)
        self._csv_path = prepared.settings.csv_path
        if self.dataset == "csv":
            self.param.trigger("dataset")  # same setting, new file: reloaded like any change of the data
        else:
            self.dataset = "csv"
        self._dataset_cache = None
        dataset = self.data
        what = DRAWN.capitalize() if prepared.source == DRAWN else f"Your data from {prepared.source}"
        self._tell(f"{what}: {len(dataset.points)} points, {len(dataset.train_index)} to "
                   f"train on and {len(dataset.test_index)} to test. Press Train to train a model on them.", "info")
        return True

    def _load_dataset(self, settings: Settings) -> Dataset:
        cached = self._dataset_cache
        if cached is not None and cached[0] == settings:
            return cached[1]
        return titled(load_dataset(settings), settings)

    def load_archive(self, data: bytes) -> bool:
        """Install a saved experiment (bytes of `engine.storage.experiment_archive`): its settings, model, history
        and runs, as new runs of this session, so the plots show it and Continue goes on exactly where it stopped.
        A bad file changes nothing: `message` says why and it returns False. (`prepare_archive`, then
        `apply_prepared`, do the same in two halves, the first off the event loop.)"""
        return self.apply_prepared(self.prepare_archive(data))

    def _install(self, prepared: Prepared) -> None:
        """Install a checked, loaded experiment: nothing in here can fail on the file's account."""
        trainer, values = prepared.trainer, prepared.values
        self._halt("stop")
        self._drop_model()
        if trainer.settings.dataset == "csv":
            self._csv_path = trainer.settings.csv_path  # the data.csv written into this session's folder
        self._reverting = True  # the settings watcher would drop the model installed here
        try:
            self.param.update(values)
        finally:
            self._reverting = False
        self._model += 1
        self._trainer = trainer
        self.data = trainer.dataset
        history = trainer.history
        for run, settings in prepared.runs:  # one run here per engine run (a paused run was saved as several)
            self._record = RunRecord(len(self._records) + 1, self._model, run.first_epoch, run.requested_epochs,
                                     settings, done=run.epochs, seconds=run.seconds,
                                     ended=run.ended, message=run.message)
            self._records.append(self._record)
            rows = [i for i, number in enumerate(history.run) if number == run.number]
            if rows:
                self._add_rows({key: [getattr(history, key)[i] for i in rows] for key in ROW_KEYS})
        self.param.update(**prepared.views, has_model=True, planned_epoch=trainer.epochs_done)
        if self._record is not None:
            self._record.agreement = self.grid.agreement  # the archive holds the last run's model only
            self._keep_result(self._record)
        self._record = None
        self._update_runs()
        self._tell(f"Loaded {trainer.dataset.title}: "
                   f"{len(trainer.runs)} run(s), {trainer.epochs_done} epochs. Continue trains it further.", "info")

