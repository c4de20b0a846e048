"""The results of one experiment as parameters that views watch, and the bookkeeping of its runs: the status
line, the runs table, what a run means against the majority baseline, and the results kept for comparison.

`Results` holds no training: the Experiment (experiment.py) runs the worker and calls these as epochs arrive.
"""

from __future__ import annotations

import param

from engine import Dataset, History
from engine.evaluation import Evaluation, GridMap

from .comparison import kept, run_result
from .frames import MAX_FRAMES, MAX_NEURONS
from .runs import RunRecord
from .settable import Settable
from .worker import FINAL_MAP_SIZE, ROW_KEYS

STATES = ("idle", "training", "paused", "stopping")
BASELINE_MARGIN = 0.01  # a run this close to the majority-class baseline has learnt nothing useful


class Results(Settable):
    """The settings (`Settable`) and the results of an experiment."""

    # ----- Results (set by the experiment; views watch them) -----
    data = param.ClassSelector(class_=Dataset, allow_None=True, precedence=-1,
                               doc="The dataset the data settings describe.")
    history = param.ClassSelector(class_=History, precedence=-1, doc=(
        "Per-epoch metrics of every run of the current model; `run` holds the run numbers of `runs`."))
    runs = param.List(default=[], precedence=-1, doc="One dict per run of this session: settings and final metrics.")
    grid = param.ClassSelector(class_=GridMap, allow_None=True, precedence=-1,
                               doc="The model's decision map (probability on a grid), or None without a model.")
    evaluation = param.ClassSelector(class_=Evaluation, allow_None=True, precedence=-1,
                                     doc="Which train and test points the model gets right.")
    status = param.String(default="", precedence=-1, doc="The notebook's status line of the last epoch.")
    progress = param.Number(default=0.0, bounds=(0.0, 1.0), precedence=-1, doc="Share of the run's epochs done.")
    planned_epoch = param.Integer(default=0, precedence=-1, doc=(
        "Where the epoch axis should end: the last epoch of the current run if it finishes, else the last trained."))
    state = param.Selector(default="idle", objects=list(STATES), precedence=-1, doc="What the experiment is doing.")
    has_model = param.Boolean(default=False, precedence=-1, doc="Whether there is a model to continue.")
    neurons = param.List(default=[], precedence=-1, doc=(
        f"Per hidden layer, the activations of its first {MAX_NEURONS} neurons on a 32x32 grid over the box "
        "((k, 32, 32) arrays), taken with the decision map while training; [] without a model."))
    weights = param.List(default=[], precedence=-1, doc=(
        f"Per layer, its (out, in) weights among the drawn neurons (the first {MAX_NEURONS} of each layer), as "
        "numpy copies taken with `neurons`; [] without a model."))
    snapshots = param.List(default=[], precedence=-1, doc=(
        "`inside.Frame`s (epoch, decision map, neuron maps, weights) recorded at round epochs through every run "
        f"of the current model, for replay; at most {MAX_FRAMES}, thinned evenly; [] without a model."))
    results = param.Dict(default={}, precedence=-1, doc=(
        "Run number -> `comparison.RunResult` (final map, curves, speed) of the runs kept for comparison."))

    def _end_record(self, ended: str, message: str) -> None:
        self.planned_epoch = self.history.epoch[-1] if self.history.epoch else 0
        if self._record is not None:
            self._record.ended, self._record.message = ended, message
            self._keep_result(self._record)
            self._record = None
        self._update_runs()

    def _add_rows(self, rows: dict[str, list]) -> None:
        record = self._record
        history = self.history
        for key in ROW_KEYS:
            getattr(history, key).extend(rows[key])
        history.run.extend([record.number] * len(rows["epoch"]))
        self.param.trigger("history")
        epoch = history.epoch[-1] - record.first_epoch + 1
        self.status = (
            f"Epoch {epoch:02d}/{record.requested:02d} | loss = {history.loss[-1]:.4f} | "
            f"train acc = {100 * history.train_accuracy[-1]:5.1f}% | test acc = {100 * history.test_accuracy[-1]:5.1f}%"
        )
        if record.settings.schedule != "constant":  # as the engine's status line: the rate when it changes
            self.status += f" | lr = {history.lr[-1]:.2e}"
        self.progress = min(1.0, epoch / record.requested)
        record.last_epoch, record.loss = history.epoch[-1], history.loss[-1]
        record.train_accuracy, record.test_accuracy = history.train_accuracy[-1], history.test_accuracy[-1]
        record.majority = self.data.majority_share("test")
        self._update_runs()

    def _update_runs(self) -> None:
        self.runs = [record.row() for record in self._records]

    def _keep_result(self, record: RunRecord) -> None:
        """Keep what the run did (final map, curves, speed) for comparison: it outlives the model."""
        if self._trainer is None or record.ended == "failed" or self.grid is None \
                or self.grid.probability.shape != (FINAL_MAP_SIZE, FINAL_MAP_SIZE):  # a stuck run's live map
            return
        result = run_result(record, self.history, self.grid, self._trainer.parameter_count, self.data)
        if result is not None:
            self.results = kept(self.results, result)

    def baseline_advice(self, record: RunRecord) -> str:
        """What a run means when it ends within a point of the majority-class baseline ("" otherwise)."""
        if record.test_accuracy is None or record.majority is None \
                or abs(record.test_accuracy - record.majority) > BASELINE_MARGIN:
            return ""
        labels = self.data.y_test
        common = self.data.class_names[int(labels.mean() > 0.5)]
        return (f"Test accuracy {100 * record.test_accuracy:.1f} % is the majority baseline "
                f"({100 * record.majority:.1f} %): the model answers the most common class ({common}) almost everywhere, "
                "so its decision map is flat, and so are the neuron maps in the Network tab. "
                "Try Continue (more training), more epochs, a higher learning rate (e.g. 0.02) or more neurons (e.g. 8,8).")
