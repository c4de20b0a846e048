"""One experiment as a `param.Parameterized`: its settings, its actions and its results.

Settings are the engine's, one bounded and documented parameter each, grouped Data / Network / Training
(`GROUPS`). Actions are methods: `train` (new model), `continue_training` (same model, `epochs` more, a new
run), `step` (one epoch), `pause` / `resume`, `stop` and `reset`. Results are parameters too (`dataset`,
`history`, `runs`, `grid`, `evaluation`, `neurons`, `weights`, `snapshots`, `status`, `progress`, `state`,
`message`), so views can watch them.

Training runs in a `Worker` thread; `poll()` moves what it produced into the result parameters. A server calls
`poll()` from its event loop (see `live.py`); headless code calls `wait()`. This module imports param and the
engine only, never panel.

A *run* here is what the user started with Train, Continue or Step; pausing and resuming (or stepping) stay in
the same run, although the engine trains each stretch separately. Changing a data or network setting stops any
run first and drops the model, whose results no longer match the settings.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import tempfile
import time
import weakref
from pathlib import Path

import numpy as np
import param

from engine import Dataset, History, Settings, SettingsError, load_dataset
from engine.csv_points import CsvError, parse_points_csv
from engine.evaluation import Evaluation, GridMap, evaluate_grid, evaluate_points
from engine.settings import (
    ACTIVATIONS,
    DATASETS,
    INPUT_FEATURES,
    IRIS_FEATURES,
    MAX_EPOCHS,
    MAX_HIDDEN_LAYERS,
    MAX_SAMPLES,
    MAX_WIDTH,
    OPTIMIZERS,
    REGULARIZATIONS,
    SCHEDULES,
)
from engine.storage import StorageError, load_experiment_archive

from .comparison import kept, run_result
from .frames import MAX_FRAMES, MAX_NEURONS, add_frames, neuron_view, weight_view
from .worker import FINAL_MAP_SIZE, ROW_KEYS, Job, Worker

DEFAULTS = Settings()
SEED_MAX = 2**32 - 1
OPTION_LABELS = {"csv": "your own data (csv)"}  # what a widget shows for some option values
NO_POINTS = "no points of your own yet: upload a CSV or draw points in the Data tab"

DATA = ("dataset", "iris_x", "iris_y", "samples", "noise", "test_share", "data_seed", "split_seed")
NETWORK = ("features", "hidden", "activation", "dropout", "seed")
TRAINING = ("optimizer", "lr", "momentum", "batch_size", "reg", "reg_rate", "schedule", "decay_every", "decay_factor",
            "epochs")
GROUPS = {"Data": DATA, "Network": NETWORK, "Training": TRAINING}
SETTINGS = DATA + NETWORK + TRAINING
STATES = ("idle", "training", "paused", "stopping")


def parse_hidden(text: str) -> tuple[int, ...]:
    """'8, 8' -> (8, 8); '' or '0' -> () (no hidden layer). ValueError with a readable message otherwise."""
    text = text.strip()
    if text in ("", "0"):
        return ()
    if not re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
        raise ValueError(f"{text!r} is not a list of layer widths such as 8,8")
    widths = tuple(int(part) for part in text.split(","))
    if len(widths) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(widths)}")
    if not all(1 <= width <= MAX_WIDTH for width in widths):
        raise ValueError(f"each width must be from 1 to {MAX_WIDTH}")
    return widths


def settings_values(settings: Settings) -> dict:
    """The experiment's setting values for engine settings (the inverse of `Experiment.settings`)."""
    values = {name: getattr(settings, name) for name in SETTINGS
              if name not in ("iris_x", "iris_y", "features", "hidden")}
    return {**values, "iris_x": settings.iris_features[0], "iris_y": settings.iris_features[1],
            "features": list(settings.features), "hidden": ",".join(map(str, settings.hidden))}


class HiddenLayers(param.String):
    """Hidden layer widths written as text, '8,8' (what a widget and a URL carry); '' for none."""

    def _validate_value(self, value, allow_None):
        super()._validate_value(value, allow_None)
        if value is not None:
            try:
                parse_hidden(value)
            except ValueError as error:
                raise ValueError(f"hidden: {error}") from None


@dataclasses.dataclass
class RunRecord:
    """One run as the user sees it (one Train, Continue or Step, with its pauses)."""

    number: int
    model: int
    first_epoch: int
    requested: int
    settings: Settings
    done: int = 0
    seconds: float = 0.0
    ended: str = "running"  # running, paused, finished, stopped, diverged, failed
    message: str = ""
    last_epoch: int | None = None
    loss: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    majority: float | None = None  # test accuracy of always answering the most common class

    def row(self) -> dict:
        """The run's line in the runs table: its settings and its final (or latest) metrics."""
        s = self.settings
        return {
            "run": self.number,
            "model": self.model,
            "dataset": s.dataset if s.dataset != "iris" else "iris " + "/".join(s.iris_features),
            "inputs": ",".join(s.features),
            "hidden": ",".join(map(str, s.hidden)) or "none",
            "activation": s.activation,
            "optimizer": s.optimizer,
            "lr": s.lr,
            "batch": s.batch_size or "full",
            "reg": "none" if s.reg == "none" else f"{s.reg} {s.reg_rate:g}",
            "epochs": "" if self.last_epoch is None else f"{self.first_epoch}-{self.last_epoch}",
            "ended": self.ended,
            "loss": None if self.loss is None else round(self.loss, 4),
            "train acc %": _percent(self.train_accuracy),
            "test acc %": _percent(self.test_accuracy),
            "majority %": _percent(self.majority),
            "seconds": round(self.seconds, 2),
        }


class Experiment(param.Parameterized):
    """Settings, actions and results of one experiment (one session, one model at a time)."""

    # ----- Data -----
    dataset = param.Selector(default=DEFAULTS.dataset, objects=list(DATASETS), label="Dataset", doc=(
        "Toy patterns (points in the unit square labelled by an exact rule), generated shapes, Iris "
        "(versicolor against virginica), or your own data (csv: upload or draw points in the Data tab first)."))
    iris_x = param.Selector(default=DEFAULTS.iris_features[0], objects=list(IRIS_FEATURES), label="Iris feature on x",
                            doc="Iris only: the feature on the horizontal axis.")
    iris_y = param.Selector(default=DEFAULTS.iris_features[1], objects=list(IRIS_FEATURES), label="Iris feature on y",
                            doc="Iris only: the feature on the vertical axis (not the same as on x).")
    samples = param.Integer(default=DEFAULTS.samples, bounds=(10, MAX_SAMPLES), label="Points",
                            doc="Number of points of toy and generated data (Iris always has 100).")
    noise = param.Number(default=DEFAULTS.noise, bounds=(0.0, 0.5), step=0.05, label="Label noise",
                         doc="Share of labels flipped at random, 0 to 0.5.")
    test_share = param.Number(default=DEFAULTS.test_share, bounds=(0.05, 0.95), step=0.05, label="Test share",
                              doc="Share of the points held out as the test set, 0.05 to 0.95.")
    data_seed = param.Integer(default=DEFAULTS.data_seed, bounds=(0, SEED_MAX), label="Data seed",
                              doc="Seed of the random points and of the label noise.")
    split_seed = param.Integer(default=DEFAULTS.split_seed, bounds=(0, SEED_MAX), label="Split seed",
                               doc="Seed of the train/test split.")
    # ----- Network -----
    features = param.ListSelector(default=list(DEFAULTS.features), objects=list(INPUT_FEATURES), label="Inputs",
                                  doc="What the network sees: x, y and products or sines of them (one or more).")
    hidden = HiddenLayers(default=",".join(map(str, DEFAULTS.hidden)), label="Hidden layers", doc=(
        f"Widths of the hidden layers, e.g. 8,8 for two layers of 8; empty or 0 for none. At most "
        f"{MAX_HIDDEN_LAYERS} layers of 1 to {MAX_WIDTH}."))
    activation = param.Selector(default=DEFAULTS.activation, objects=list(ACTIVATIONS), label="Activation",
                                doc="The non-linearity after each hidden layer.")
    dropout = param.Number(default=DEFAULTS.dropout, bounds=(0.0, 0.9), step=0.05, label="Dropout",
                           doc="Dropout probability after each hidden layer while training, 0 to 0.9.")
    seed = param.Integer(default=DEFAULTS.seed, bounds=(0, SEED_MAX), label="Weight seed",
                         doc="torch.manual_seed(seed) right before the network is built: the initial weights.")
    # ----- Training -----
    optimizer = param.Selector(default=DEFAULTS.optimizer, objects=list(OPTIMIZERS), label="Optimizer",
                               doc="How the gradients update the weights.")
    lr = param.Number(default=DEFAULTS.lr, bounds=(0.0, 10.0), inclusive_bounds=(False, True), softbounds=(1e-5, 10.0),
                      step=0.001, label="Learning rate", doc="Step size of the optimizer, > 0 and <= 10.")
    momentum = param.Number(default=DEFAULTS.momentum, bounds=(0.0, 0.999), step=0.1, label="Momentum",
                            doc="SGD only: momentum, 0 (plain SGD) to 0.999.")
    batch_size = param.Integer(default=DEFAULTS.batch_size, bounds=(0, MAX_SAMPLES), label="Batch size",
                               doc="Points per step; 0 uses the whole training set (full batch).")
    reg = param.Selector(default=DEFAULTS.reg, objects=list(REGULARIZATIONS), label="Regularisation",
                         doc="Penalty on the weights: none, L1 (sum |w|) or L2 (sum w²).")
    reg_rate = param.Number(default=DEFAULTS.reg_rate, bounds=(0.0, 10.0), step=0.001, label="Regularisation rate",
                            doc="Weight of the penalty, 0 to 10.")
    schedule = param.Selector(default=DEFAULTS.schedule, objects=list(SCHEDULES), label="Rate schedule", doc=(
        "The learning rate over a run: constant, step decay, or cosine down to 0 at the run's last epoch. Each "
        "Train or Continue starts the schedule again from the learning rate; pausing and resuming keep it going."))
    decay_every = param.Integer(default=DEFAULTS.decay_every, bounds=(1, MAX_EPOCHS), label="Decay every",
                                doc="Step decay: epochs between two decays of the rate.")
    decay_factor = param.Number(default=DEFAULTS.decay_factor, bounds=(0.01, 1.0), step=0.05, label="Decay factor",
                                doc="Step decay: what the rate is multiplied by at each decay, 0.01 to 1.")
    epochs = param.Integer(default=DEFAULTS.epochs, bounds=(1, MAX_EPOCHS), label="Epochs",
                           doc=f"Epochs of each Train or Continue, 1 to {MAX_EPOCHS}.")

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
    message = param.String(default="", precedence=-1, doc="The last notice for the user ('' for none).")
    message_kind = param.Selector(default="info", objects=["info", "warning", "danger"], precedence=-1)
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
    compared = param.List(default=[], precedence=-1, doc="The two runs chosen to compare ([]: the last two).")

    def __init__(self, **params):
        super().__init__(**params)
        self._csv_path: str | None = None  # the file of the "csv" dataset, written by `use_points`
        self._folder: Path | None = None  # this experiment's temporary folder for it
        self._cleanup = None
        self.data = load_dataset(self.settings())
        self.history = History()
        self._trainer = None
        self._worker: Worker | None = None
        self._intent: str | None = None  # why the running worker was asked to stop: pause, stop or discard
        self._record: RunRecord | None = None  # the current (running or paused) run
        self._records: list[RunRecord] = []
        self._model = 0
        self._reverting = False
        self.param.watch(self._settings_changed, list(SETTINGS), precedence=0)

    # ----- settings -----
    def settings(self) -> Settings:
        """The engine's settings for the current parameter values (SettingsError if they do not fit together)."""
        if self.dataset == "csv" and self._csv_path is None:
            raise SettingsError(NO_POINTS)
        return Settings(
            dataset=self.dataset, csv_path=self._csv_path if self.dataset == "csv" else None,
            samples=self.samples, data_seed=self.data_seed, noise=self.noise,
            test_share=self.test_share, split_seed=self.split_seed, iris_features=(self.iris_x, self.iris_y),
            features=tuple(self.features), hidden=parse_hidden(self.hidden), activation=self.activation,
            dropout=self.dropout, optimizer=self.optimizer, lr=self.lr, momentum=self.momentum,
            batch_size=self.batch_size, reg=self.reg, reg_rate=self.reg_rate, schedule=self.schedule,
            decay_every=self.decay_every, decay_factor=self.decay_factor, epochs=self.epochs, seed=self.seed,
            device="cpu", threads=1,
        )

    def set_value(self, name: str, value) -> bool:
        """Set one setting; if it is refused, keep the last valid value, say why in `message`, return False."""
        if name not in SETTINGS:
            self._tell(f"Unknown setting {name!r}.", "warning")
            return False
        old = getattr(self, name)
        try:
            setattr(self, name, value)
        except (ValueError, TypeError) as error:
            self._refused(name, value, old, error)
            return False
        return getattr(self, name) == value

    def set_text(self, name: str, text: str) -> bool:
        """`set_value` from text, as a URL query or a command line gives it ('8,8', '0.01', 'x,y,xy')."""
        if name not in SETTINGS:
            self._tell(f"Unknown setting {name!r} ignored.", "warning")
            return False
        try:
            value = from_text(self.param[name], text)
        except ValueError:
            self._refused(name, text, getattr(self, name), ValueError(describe_bounds(self.param[name])))
            return False
        return self.set_value(name, value)

    def set_texts(self, texts: dict[str, str]) -> list[str]:
        """Apply several settings given as text (a URL query) together; each refused one keeps its last valid
        value. Returns the messages of the refusals (also shown in `message`)."""
        problems, values = [], {}
        for name, text in texts.items():
            if name not in SETTINGS:
                problems.append(f"Unknown setting {name!r} ignored.")
                continue
            parameter = self.param[name]
            try:
                value = from_text(parameter, text)
                parameter._validate(value)
            except (ValueError, TypeError) as error:
                self._refused(name, text, getattr(self, name), error)
                problems.append(self.message)
                continue
            values[name] = value
        if values:
            self.param.update(values)  # together, so that settings which only fit together (iris_x, iris_y) pass
            for name, value in values.items():
                if getattr(self, name) != value and not self.set_value(name, value):
                    problems.append(self.message)
        if problems:
            self._tell(" ".join(problems), "warning")
        return problems

    def changed_settings(self) -> dict[str, str]:
        """The settings that differ from their defaults, as text (what a shareable URL needs)."""
        return {name: to_text(getattr(self, name)) for name in SETTINGS
                if getattr(self, name) != self.param[name].default}

    def _refused(self, name: str, value, old, error: Exception) -> None:
        parameter = self.param[name]
        if isinstance(parameter, (param.Number, param.Selector)) and not isinstance(parameter, param.ListSelector):
            reason = "allowed: " + describe_bounds(parameter)
        else:
            reason = re.sub(r"^(\w+ parameter '[\w.]+' |hidden: )", "", str(error)).rstrip(".")
        shown = to_text(value) if isinstance(value, (list, tuple)) else value
        self._tell(f"{parameter.label or name}: {shown!r} refused; {reason}. Kept {to_text(old) or 'none'}.", "warning")

    def _settings_changed(self, *events) -> None:
        if self._reverting:
            return
        names = [event.name for event in events]
        data_changed = any(name in DATA for name in names)
        try:
            settings = self.settings()
            dataset = load_dataset(settings) if data_changed else None
        except (SettingsError, ValueError) as error:
            self._reverting = True
            try:
                self.param.update({event.name: event.old for event in events})
            finally:
                self._reverting = False
            labels = ", ".join(self.param[name].label or name for name in names)
            self._tell(f"{labels}: refused ({error}). Kept the last valid value.", "warning")
            return
        if data_changed or any(name in NETWORK for name in names):
            had_model = self._trainer is not None or self._worker is not None
            self._halt("stop")  # not discard: the run's result is kept for comparison
            self._drop_model()
            if dataset is not None:
                self.data = dataset
            if had_model:
                self._tell("The data or the network changed: press Train to train a new model.", "info")
        elif self.state != "idle":
            self._tell("Training settings apply from the next Train or Continue.", "info")

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
        """
        text = points_csv(points, labels, feature_names)
        try:
            parse_points_csv(text, source)  # its messages name the source, not the temporary file
            path = self._new_file(source)
            path.write_text(text, encoding="utf-8")
            dataset = load_dataset(self.settings().replace(dataset="csv", csv_path=str(path)))
        except (CsvError, SettingsError, ValueError) as error:
            self._tell(f"{source}: {error}. Nothing was changed." if isinstance(error, CsvError) else
                       f"Cannot use {source}: {error}. Nothing was changed.", "warning")
            return False
        self._csv_path = str(path)
        if self.dataset == "csv":
            self.param.trigger("dataset")  # same setting, new file: reloaded like any change of the data
        else:
            self.dataset = "csv"
        self._tell(f"Your data from {source}: {len(dataset.points)} points, {len(dataset.train_index)} to train on "
                   f"and {len(dataset.test_index)} to test. Press Train to train a model on them.", "info")
        return True

    def _new_file(self, source: str) -> Path:
        """A new file named after `source`, in a new subfolder: earlier runs' settings keep naming their own."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="nn-playground-points-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        name = re.sub(r"[^\w.-]+", "_", Path(source).stem).strip("._") or "points"
        return Path(tempfile.mkdtemp(dir=self._folder)) / f"{name}.csv"

    # ----- actions -----
    def train(self) -> None:
        """Train a new model (from `seed`) for `epochs` epochs, as a new run."""
        self._halt("stop")
        self._drop_model()
        self._model += 1
        self._start(self.epochs, new_model=True)

    def continue_training(self) -> None:
        """Train the current model `epochs` more epochs, with the current training settings, as a new run."""
        self._halt("stop")
        if self._trainer is None:
            self.train()
            return
        self._start(self.epochs, new_model=False)

    def step(self) -> None:
        """Train one epoch. Within a paused run, its next epoch; otherwise a new run, paused after one epoch."""
        if self.state in ("training", "stopping"):
            self._halt("pause")
        if self.state == "paused" and self._record is not None:
            self._launch(1)
            return
        if self._trainer is None:
            self._drop_model()
            self._model += 1
        self._start(1, new_model=self._trainer is None, requested=self.epochs)

    def pause(self) -> None:
        """Pause the running run after the current epoch; `resume` or `step` go on with it."""
        if self.state == "training" and self._worker is not None:
            self._intent = "pause"
            self._worker.request_stop()

    def resume(self) -> None:
        """Go on with a paused run to its requested number of epochs."""
        if self.state == "paused" and self._record is not None:
            self._launch(self._record.requested - self._record.done)

    def stop(self) -> None:
        """End the run after the current epoch (its history stays)."""
        if self._worker is not None:
            self._intent = "stop"
            self._worker.request_stop()
            self.state = "stopping"
        elif self.state == "paused":
            self._end_record("stopped", "")
            self.state = "idle"

    def reset(self) -> None:
        """Stop, forget the model and every run: back to a fresh start (the settings stay)."""
        self._halt("discard")
        self._drop_model()
        self._records = []
        self._model = 0
        self.runs = []
        self.param.update(results={}, compared=[])
        self.message = ""

    def load_archive(self, data: bytes) -> bool:
        """Install a saved experiment (bytes of `engine.storage.experiment_archive`): its settings, model, history
        and runs, as new runs of this session, so the plots show it and Continue goes on exactly where it stopped.
        A bad file changes nothing: `message` says why and it returns False."""
        try:
            trainer = load_experiment_archive(data)
            values = settings_values(trainer.settings)
            for name, value in values.items():
                self.param[name]._validate(value)
        except (StorageError, ValueError, TypeError) as error:
            self._tell(f"Cannot load this file: {error}. Nothing was changed.", "danger")
            return False
        self._halt("stop")
        self._drop_model()
        if trainer.settings.dataset == "csv":
            self._csv_path = trainer.settings.csv_path  # the data.csv unpacked with the archive
        self._reverting = True  # the settings watcher would drop the model installed here
        try:
            self.param.update(values)
        finally:
            self._reverting = False
        self._model += 1
        self._trainer = trainer
        self.data = trainer.dataset
        history = trainer.history
        for run in trainer.runs:  # one run here per engine run (a paused run was saved as several)
            self._record = RunRecord(len(self._records) + 1, self._model, run.first_epoch, run.requested_epochs,
                                     Settings.from_dict(run.settings), done=run.epochs, seconds=run.seconds,
                                     ended=run.ended, message=run.message)
            self._records.append(self._record)
            rows = [i for i, number in enumerate(history.run) if number == run.number]
            if rows:
                self._add_rows({key: [getattr(history, key)[i] for i in rows] for key in ROW_KEYS})
        self.param.update(grid=evaluate_grid(trainer, FINAL_MAP_SIZE), evaluation=evaluate_points(trainer),
                          neurons=neuron_view(trainer), weights=weight_view(trainer), has_model=True,
                          planned_epoch=trainer.epochs_done)
        if self._record is not None:
            self._keep_result(self._record)
        self._record = None
        self._update_runs()
        self._tell(f"Loaded {trainer.dataset.title}: "
                   f"{len(trainer.runs)} run(s), {trainer.epochs_done} epochs. Continue trains it further.", "info")
        return True

    # ----- waiting and polling -----
    def poll(self) -> bool:
        """Move the worker's new results into the parameters. True while a worker is still running."""
        worker = self._worker
        if worker is None:
            return False
        update = worker.take()
        discard = self._intent == "discard"
        with param.parameterized.batch_call_watchers(self):
            if update.trainer is not None and not discard:
                self._trainer = update.trainer
                self.has_model = True
            if update.rows["epoch"] and not discard:
                self._add_rows(update.rows)
            if update.grid is not None and not discard:
                self.grid = update.grid
            if update.evaluation is not None and not discard:
                self.evaluation = update.evaluation
            if update.neurons is not None and not discard:
                self.param.update(neurons=update.neurons, weights=update.weights)
            if update.frames and not discard:
                self.snapshots = add_frames(self.snapshots, update.frames)
            if update.done:
                self._worker = None
                self._finish(update)
        return self._worker is not None

    @property
    def trainer(self):
        """The current model's engine `Trainer` (None without a model). Read it between runs, on the loop."""
        return self._trainer

    @property
    def busy(self) -> bool:
        """Whether a worker is training (or finishing) for this experiment."""
        return self._worker is not None

    def has_news(self) -> bool:
        """Whether `poll()` would change anything now."""
        return self._worker is not None and self._worker.has_news()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running worker is done (headless use), polling as a server would."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._worker is not None:
            self._worker.join(0.05)
            self.poll()
            if deadline is not None and time.monotonic() > deadline and self._worker is not None:
                raise TimeoutError(f"training still running after {timeout} s")

    def close(self) -> None:
        """Stop any training for good (the session is going away) and remove the files of your own data."""
        self._halt("discard", timeout=10.0)
        if self._cleanup is not None:
            self._cleanup()

    # ----- internals -----
    def _tell(self, text: str, kind: str = "info") -> None:
        self.param.update(message=text, message_kind=kind)

    def _start(self, epochs: int, new_model: bool, requested: int | None = None) -> None:
        try:
            settings = self.settings()
        except SettingsError as error:
            self._tell(str(error), "warning")
            return
        first = self.history.epoch[-1] + 1 if self.history.epoch else 1
        number = len(self._records) + 1
        self._record = RunRecord(number, self._model, first, requested or epochs, settings)
        self._records.append(self._record)
        self.planned_epoch = first + self._record.requested - 1
        self.message = ""
        self._launch(epochs, new_model=new_model)

    def _launch(self, epochs: int, new_model: bool = False) -> None:
        record = self._record
        # The stretches of a paused run go on with one learning-rate schedule over the run's requested epochs.
        job = Job(record.settings, self.data, epochs, trainer=None if new_model else self._trainer,
                  schedule=(record.done, record.requested))
        self._intent = None
        self._worker = Worker(job)
        record.ended = "running"
        self.state = "training"
        self._update_runs()
        self._worker.start()  # last: the views take in the new run before training competes for the CPU

    def _halt(self, intent: str, timeout: float | None = None) -> None:
        """Stop the running worker now (wait for its epoch to end) and take in what it did."""
        worker = self._worker
        if worker is None:
            if intent != "pause" and self.state == "paused":
                self._end_record("stopped", "")
                self.state = "idle"
            return
        self._intent = intent
        if intent == "discard":
            worker.job.final_map = False
        worker.request_stop()
        if not worker.join(timeout):
            self._worker = None  # a stuck epoch: let that thread end on its own; its results are dropped
            self._finish(None)
            return
        self.poll()

    def _finish(self, update) -> None:
        """The worker has ended: say how, and set the state."""
        record, intent = self._record, self._intent
        self._intent = None
        run = update.run if update is not None else None
        if record is not None and run is not None:
            record.done += run.epochs
            record.seconds += run.seconds
        if intent == "discard" or record is None:
            self.state = "idle"
            return
        if update is not None and update.error:
            self._end_record("failed", "Training failed: " + update.error.strip().splitlines()[-1])
            self._tell(record.message, "danger")
        elif run is None or run.ended == "stopped":
            if intent == "pause":
                record.ended = "paused"
                self._keep_result(record)
                self.state = "paused"
                self._update_runs()
                return
            self._end_record("stopped", f"Stopped after {record.done} of {record.requested} epochs.")
            self._tell(record.message, "info")
        elif run.ended == "diverged":
            self._end_record("diverged", run.message)
            self._tell(run.message, "danger")
        elif record.done < record.requested:  # a step inside a longer run
            record.ended = "paused"
            self._keep_result(record)
            self.state = "paused"
            self._update_runs()
            return
        else:
            self._end_record("finished", f"Finished {record.done} epochs in {record.seconds:.2f} s.")
        self.state = "idle"

    def _end_record(self, ended: str, message: str) -> None:
        self.planned_epoch = self.history.epoch[-1] if self.history.epoch else 0
        if self._record is not None:
            self._record.ended, self._record.message = ended, message
            self._keep_result(self._record)
            self._record = None
        self._update_runs()

    def _drop_model(self) -> None:
        if self._record is not None and self._record.ended in ("running", "paused"):
            self._end_record("stopped", "")
        self._trainer = None
        self._record = None
        self.param.update(history=History(), grid=None, evaluation=None, status="", progress=0.0,
                          has_model=False, state="idle", planned_epoch=0, neurons=[], weights=[], snapshots=[])

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

    def plot(self, what: str = "map", **options):
        """The results as a HoloViews object, to show, restyle (`.opts`) or overlay in a notebook: "map" (the
        decision map with the points; options such as discretize=True), "target", "loss", "accuracy", "curves"."""
        from ..plots.views import view  # holoviews only when asked: the experiment itself needs no plotting

        return view(what, self.data, self.grid, self.evaluation, self.history, **options)


def points_csv(points, labels, feature_names: tuple[str, str] = ("x", "y")) -> str:
    """Labelled points as CSV text: a header (the feature names and `label`) and one `x,y,label` row per point."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*feature_names, "label"])
    for (x, y), label in zip(np.asarray(points, dtype=np.float32), np.asarray(labels, dtype=float).tolist()):
        writer.writerow([str(x), str(y), f"{label:g}"])  # float32's shortest text reads back exactly
    return buffer.getvalue()


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def from_text(parameter: param.Parameter, text: str):
    """A setting's value from its text form (URL query): ValueError if it cannot be read."""
    text = text.strip()
    if isinstance(parameter, param.Integer):
        return int(text)
    if isinstance(parameter, param.Number):
        return float(text)
    if isinstance(parameter, param.ListSelector):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def to_text(value) -> str:
    """The text form of a setting's value (inverse of `from_text`)."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:.10g}"  # exact enough, without a widget's 0.006000000000000001
    return str(value)


def describe_bounds(parameter: param.Parameter) -> str:
    """What a setting allows, in words."""
    if isinstance(parameter, (param.Number, param.Integer)) and parameter.bounds:
        low, high = parameter.bounds
        low_open, high_open = [not inclusive for inclusive in (parameter.inclusive_bounds or (True, True))]
        kind = "a whole number" if isinstance(parameter, param.Integer) else "a number"
        return f"{kind} {'>' if low_open else '>='} {low:g} and {'<' if high_open else '<='} {high:g}"
    if isinstance(parameter, param.ListSelector):
        return "one or more of " + ", ".join(map(str, parameter.objects))
    if isinstance(parameter, param.Selector):
        return "one of " + ", ".join(map(str, parameter.objects))
    if isinstance(parameter, HiddenLayers):
        return f"widths such as 8,8: up to {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_WIDTH}, empty for none"
    return "a valid value"
