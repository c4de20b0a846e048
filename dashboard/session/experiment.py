"""One experiment as a `param.Parameterized`: its settings, its actions and its results.

`Experiment` is built on the engine's `Settings`: its setting parameters are the engine's declarations (bounds, doc,
label), and setting one out of range raises as param does. The app's paths (sidebar, URL) use `set_value`,
`set_values` and `set_texts`, which refuse a value with a `message` and keep the last valid one. Actions are
methods: `train` (new model), `continue_training` (same model, `epochs` more, a new run), `step` (one epoch),
`pause` / `resume`, `stop` and `reset`; `use_points` and `load_archive` bring in your own data or a saved
experiment. Results are parameters too (`data`, `history`, `runs`, `grid`, `evaluation`, `neurons`, `weights`,
`snapshots`, `status`, `progress`, `state`), so views can watch them. This module imports param and the engine,
never panel.

Training runs in a `Worker` thread; `poll()` moves what it produced into the result parameters. A server calls
`poll()` from its event loop (see ui/live_link.py); headless code calls `wait()`. A *run* is what the user started
with Train, Continue or Step; pausing and resuming (or stepping) stay in the same run. Changing a data or network
setting stops any run first and drops the model, whose results no longer match the settings.

Nothing here waits for training on the caller's thread for more than `HALT_WAIT`: a stop is requested (the engine
honours it between mini-batches), and a worker still busy after that is either left to end on its own with its
results dropped (Train, Reset, a changed data or network setting, a loaded file, `close`), or, for Continue and
Step, which need its model, followed by the action once `poll()` sees it end. A run whose epochs would take more
than `engine.budget.MAX_EPOCH_SECONDS` each is refused with a message saying what to change. Loading a file or
points has two halves: `prepare_archive` / `prepare_points` (slow, no parameter changes, safe in a thread) and
`apply_prepared` (on the loop); a file that fails anywhere changes nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import param

from engine import Dataset, History, Settings, SettingsError, load_dataset
from engine.budget import over_budget
from engine.evaluation import Evaluation, GridMap
from engine.settings import GROUPED, SPECS, format_value
from engine.snapshots import MAX_NEURONS

from .comparison import kept, run_result
from .frames import MAX_FRAMES, add_frames
from .own_files import Prepared, SessionFolder, prepare_archive, prepare_points, titled
from .runs import DRAWN, RunRecord, baseline_advice, status_line
from .worker import FINAL_MAP_SIZE, ROW_KEYS, SPEEDS, Job, Worker, stop_all

HALT_WAIT = 0.1  # seconds the caller (the event loop) may wait for a stopping worker before going on without it
SETTINGS = GROUPED  # the settings the app offers (sidebar, URL), in declared order
PARTS = {part: tuple(name for name in SETTINGS if SPECS[name].part == part) for part in ("data", "network", "training")}
STATES = ("idle", "training", "paused", "stopping")
NO_POINTS = "no points of your own yet: upload a CSV or draw points in the Data tab"


def stop_all_training(timeout: float = 2.0) -> bool:
    """Ask every training thread of this process to stop and wait up to `timeout` seconds in all for them to end
    (a server shutting down; never on a running event loop). True if all have ended."""
    return stop_all(timeout)


class Experiment(Settings):
    """Settings, actions and results of one experiment (one session, one model at a time)."""

    _mutable = True  # unlike engine Settings, the user changes these
    __eq__ = object.__eq__  # an experiment is itself, not the value of its settings
    __hash__ = object.__hash__

    message = param.String(default="", precedence=-1, doc="The last notice for the user ('' for none).")
    message_kind = param.Selector(default="info", objects=["info", "warning", "danger"], precedence=-1)
    # ----- How this session watches training (not a setting of the experiment: no URL, report or CLI) -----
    speed = param.Selector(default="fastest", objects=list(SPEEDS), precedence=-1, doc=(
        "How fast training goes on screen: slow and normal give each epoch at least "
        f"{SPEEDS['slow']:g} s and {SPEEDS['normal']:g} s, so that a short run can be watched, and wait for a slow "
        "viewer to take a map every few epochs; fastest trains "
        "flat out (the default headless; the app starts at normal). It applies at once, also to a running run."))

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


    def __init__(self, **params):
        super().__init__(**params)
        self._files = SessionFolder()  # this experiment's temporary folder for them
        self.data = load_dataset(self.settings())
        self.history = History()
        self._trainer = None
        self._worker: Worker | None = None
        self._intent: str | None = None  # why the running worker was asked to stop: pause, stop or discard
        self._record: RunRecord | None = None  # the current (running or paused) run
        self._records: list[RunRecord] = []
        self._model = 0
        self._reverting = False
        self._then: Callable[[], None] | None = None  # what to do once the stopping worker has ended
        self._dataset_cache: tuple[Settings, Dataset] | None = None  # prepared off the loop by prepare_points
        self.param.watch(self._settings_changed, list(SETTINGS), precedence=0)
        self.param.watch(self._speed_changed, "speed")

    # ----- settings -----
    def settings(self) -> Settings:
        """The engine's settings for the current values (SettingsError if they do not fit together)."""
        if self.dataset == "csv" and self.csv_path is None:
            raise SettingsError(NO_POINTS)
        return Settings(**{name: getattr(self, name) for name in SETTINGS}, device="cpu", threads=1,
                        csv_path=self.csv_path if self.dataset == "csv" else None)

    def set_value(self, name: str, value) -> bool:
        """Set one setting; if it is refused, keep the last valid value, say why in `message`, return False."""
        return not self.set_values({name: value})

    def set_text(self, name: str, text: str) -> bool:
        """`set_value` from text, as a URL query or a command line gives it ('8,8', '0.01', 'x,y,xy')."""
        return not self.set_texts({name: text})

    def set_texts(self, texts: dict[str, str]) -> list[str]:
        """Apply several settings given as text (a URL query) together; each refused one keeps its last valid
        value. Returns the messages of the refusals (also shown in `message`)."""
        problems, values = [], {}
        for name, text in texts.items():
            try:
                values[name] = SPECS[name].parse(text) if name in SETTINGS else text
            except ValueError as error:
                problems.append(self._refused(name, text, error))
        return self.set_values(values, problems)

    def set_values(self, values: dict, problems: list[str] | None = None) -> list[str]:
        """Apply several settings together (one reload of the data); each refused one keeps its last valid value.
        Returns the messages of the refusals (also shown in `message`)."""
        problems, checked = list(problems or []), {}
        self.message = ""
        for name, value in values.items():
            if name not in SETTINGS:
                problems.append(f"Unknown setting {name!r} ignored.")
                continue
            try:
                checked[name] = SPECS[name].check(value)
            except (ValueError, TypeError) as error:
                problems.append(self._refused(name, value, error))
        if checked:
            self.param.update(checked)
            if any(getattr(self, name) != value for name, value in checked.items()):  # they do not fit together
                problems += [self.message for name, value in checked.items()
                             if getattr(self, name) != value and not self._set_alone(name, value)]
        if problems:
            self._tell(" ".join(problems), "warning")
        return problems

    def _set_alone(self, name: str, value) -> bool:
        setattr(self, name, value)
        return getattr(self, name) == value

    def changed_settings(self) -> dict[str, str]:
        """The settings that differ from their defaults, as text (what a shareable URL needs)."""
        return {name: format_value(getattr(self, name)) for name in SETTINGS
                if getattr(self, name) != SPECS[name].default}

    def _refused(self, name: str, value, error: Exception) -> str:
        """Say why a value is refused (the last valid value is kept); returns the message."""
        spec = SPECS[name]
        reason = re.sub(r"^\w+: ", "", str(error)).rstrip(".")
        if "not allowed" in reason:
            reason = "allowed: " + spec.allowed()
        shown = format_value(value) if isinstance(value, (list, tuple)) else value  # numbers as typed, text quoted
        kept = format_value(getattr(self, name)) or "none"
        self._tell(f"{spec.label}: {shown!r} refused; {reason}. Kept {kept}.", "warning")
        return self.message

    def _tell(self, text: str, kind: str = "info") -> None:
        self.param.update(message=text, message_kind=kind)

    def _speed_changed(self, event) -> None:
        worker = self._worker
        if worker is not None:
            worker.job.epoch_seconds = SPEEDS[event.new]

    def _settings_changed(self, *events) -> None:
        if self._reverting:
            return
        names = [event.name for event in events]
        data_changed = any(name in PARTS["data"] for name in names)
        try:
            settings = self.settings()
            dataset = self._load_dataset(settings) if data_changed else None
        except (SettingsError, ValueError) as error:
            self._reverting = True
            try:
                self.param.update({event.name: event.old for event in events})
            finally:
                self._reverting = False
            labels = ", ".join(self.param[name].label or name for name in names)
            self._tell(f"{labels}: refused ({error}). Kept the last valid value.", "warning")
            return
        if data_changed or any(name in PARTS["network"] for name in names):
            had_model = self._trainer is not None or self._worker is not None
            self._halt("stop")  # not discard: the run's result is kept for comparison
            self._drop_model()
            if dataset is not None:
                self.data = dataset
            if had_model:
                self._tell("The data or the network changed: press Train to train a new model.", "info")
        elif self.state != "idle":
            self._tell("Training settings apply from the next Train or Continue.", "info")

    # ----- your own data and saved experiments -----
    def use_points(self, points, labels, feature_names: tuple[str, str] = ("x", "y"),
                   source: str = "your points") -> bool:
        """Make these labelled points the dataset ("csv", your own data), split with the current test share and
        split seed; any model is dropped, as with any change of the data. The points are written as a CSV file in
        this experiment's temporary folder (removed by `close`), so the settings name a file as for any CSV and a
        saved experiment carries a copy. If they cannot be used (a bad value, one class, too few for the split)
        nothing changes, `message` says why, and it returns False."""
        return self.apply_prepared(self.prepare_points(points, labels, feature_names, source))

    def prepare_points(self, points, labels, feature_names: tuple[str, str] = ("x", "y"),
                       source: str = "your points") -> Prepared:
        """The slow half of `use_points` (write the file, build the dataset): changes no parameter, so it may run
        in a thread. Returns what `apply_prepared` installs, or the message of why it cannot be used."""
        return prepare_points(self.settings(), self._files, points, labels, feature_names, source)

    def load_archive(self, data: bytes) -> bool:
        """Install a saved experiment (bytes of `engine.storage.experiment_archive`): its settings, model, history
        and runs, as new runs of this session, so Continue goes on exactly where it stopped. A bad file changes
        nothing: `message` says why and it returns False."""
        return self.apply_prepared(self.prepare_archive(data))

    def prepare_archive(self, data: bytes) -> Prepared:
        """The slow half of `load_archive`: read and check the whole file, rebuild its model and evaluate it.
        Changes no parameter (a thread may run it); a bad file gives a `Prepared` with only its message."""
        return prepare_archive(data, self._files)

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
        self.csv_path = prepared.settings.csv_path
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

    def _install(self, prepared: Prepared) -> None:
        """Install a checked, loaded experiment: nothing in here can fail on the file's account."""
        trainer = prepared.trainer
        self._halt("stop")
        self._drop_model()
        if trainer.settings.dataset == "csv":
            self.csv_path = trainer.settings.csv_path  # the data.csv written into this session's folder
        self._reverting = True  # the settings watcher would drop the model installed here
        try:
            self.param.update(prepared.values)
        finally:
            self._reverting = False
        self._model += 1
        self._trainer = trainer
        self.data = trainer.dataset
        history = trainer.history
        rows_of: dict[int, list[int]] = {}  # each run's epochs, in one pass (a pass per run: 0.4 s for 100 runs)
        for i, number in enumerate(history.run):
            rows_of.setdefault(number, []).append(i)
        for run, settings in prepared.runs:  # one run here per engine run (a paused run was saved as several)
            self._record = RunRecord(len(self._records) + 1, self._model, run.first_epoch, run.requested_epochs,
                                     settings, done=run.epochs, seconds=run.seconds,
                                     ended=run.ended, message=run.message)
            self._records.append(self._record)
            rows = rows_of.get(run.number, [])
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

    # ----- actions -----
    def train(self) -> None:
        """Train a new model (from `seed`) for `epochs` epochs, as a new run."""
        if self._refused_by_budget():
            return
        self._halt("stop")
        self._drop_model()
        self._model += 1
        self._start(self.epochs, new_model=True)

    def continue_training(self) -> None:
        """Train the current model `epochs` more epochs, with the current training settings, as a new run."""
        if self._refused_by_budget():
            return
        self._halt("stop", then=self._continue_now)

    def _continue_now(self) -> None:
        if self._trainer is None:
            self.train()
            return
        self._start(self.epochs, new_model=False)

    def step(self) -> None:
        """Train one epoch. Within a paused run, its next epoch; otherwise a new run, paused after one epoch."""
        if self._refused_by_budget():
            return
        if self._worker is not None:
            self._halt("pause", then=self._step_now)
            return
        self._step_now()

    def _step_now(self) -> None:
        if self.state == "paused" and self._record is not None:
            self._launch(1)
            return
        if self._trainer is None:
            self._drop_model()
            self._model += 1
        self._start(1, new_model=self._trainer is None, requested=self.epochs)

    def pause(self) -> None:
        """Pause the running run at its next mini-batch or epoch (an unfinished epoch is undone); `resume` or
        `step` go on with it."""
        if self.state == "training" and self._worker is not None:
            self._then = None
            self._intent = "pause"
            self._worker.request_stop()

    def resume(self) -> None:
        """Go on with a paused run to its requested number of epochs."""
        if self.state == "paused" and self._record is not None:
            self._launch(self._record.requested - self._record.done)

    def stop(self) -> None:
        """End the run at its next mini-batch or epoch (an unfinished epoch is undone; its history stays)."""
        if self._worker is not None:
            self._then = None  # a Continue or Step waiting for the last run to end is cancelled too
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
        self.results = {}
        self.message = ""

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
                if self._record is not None:
                    self._record.agreement = update.grid.agreement
            if update.evaluation is not None and not discard:
                self.evaluation = update.evaluation
            if update.neurons is not None and not discard:
                self.param.update(neurons=update.neurons, weights=update.weights)
            if update.frames and not discard:
                self.snapshots = add_frames(self.snapshots, update.frames)
            if update.done:
                self._worker = None
                self._finish(update)
        if self._worker is None and self._then is not None:
            then, self._then = self._then, None
            then()  # the action (Continue, Step) that waited for this worker to end
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
        """Stop any training for good (the session is going away) and remove the files of your own data. It neither
        waits for the training thread (it ends on its own at its next mini-batch or epoch) nor changes a parameter
        (the views of a closed session must not be touched)."""
        self._then = None
        worker, self._worker = self._worker, None
        if worker is not None:
            self._intent = "discard"
            worker.job.final_map = False
            worker.request_stop()
        self._files.remove()

    # ----- internals -----
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
                  schedule=(record.done, record.requested), epoch_seconds=SPEEDS[self.speed])
        self._intent = None
        self._worker = Worker(job)
        self._launched_at = time.perf_counter()
        record.ended = "running"
        self.state = "training"
        self._update_runs()
        self._worker.start()  # last: the views take in the new run before training competes for the CPU

    def _halt(self, intent: str, then: Callable[[], None] | None = None) -> None:
        """Ask the running worker to stop, and take in what it did if it ends within HALT_WAIT.

        If it is still busy then (the last mini-batch of a big epoch, a map being evaluated), this never waits
        longer: with `then` (an action that needs its model) the worker is left to end and `then()` runs when
        `poll()` sees it end (state "stopping" meanwhile); without, the worker is detached: it ends on its own,
        its results are dropped, and the caller drops the model it was training.
        """
        self._then = None
        worker = self._worker
        if worker is None:
            if intent != "pause" and self.state == "paused":
                self._end_record("stopped", "")
                self.state = "idle"
            if then is not None:
                then()
            return
        self._intent = intent
        if intent == "discard":
            worker.job.final_map = False
        worker.request_stop()
        if worker.join(HALT_WAIT):
            self.poll()
            if then is not None:
                then()
            return
        if then is not None:
            self._then = then
            self.state = "stopping"
            return
        self.poll()  # what it has sent so far: the run keeps its epochs and latest map for comparison
        if self._worker is not worker:
            return  # it ended just now
        worker.job.final_map = False  # nobody will look at it
        self._worker = None
        record = self._record
        if record is not None:
            record.done = sum(1 for number in self.history.run if number == record.number)
            record.seconds += time.perf_counter() - self._launched_at
        self._finish(None)

    def _refused_by_budget(self) -> bool:
        """Refuse (with a message) settings whose epochs would take too long for a shared server."""
        try:
            settings = self.settings()
        except SettingsError:
            return False  # said by _start
        data = self.data
        problem = over_budget(settings, len(data.train_index), len(data.test_index))
        if problem:
            self._tell(problem, "warning")
        return problem is not None

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
            advice = baseline_advice(record, self.data)
            if advice:
                self._tell(advice, "warning")
        self.state = "idle"

    # ----- the runs' bookkeeping -----
    def _end_record(self, ended: str, message: str) -> None:
        self.planned_epoch = self.history.epoch[-1] if self.history.epoch else 0
        if self._record is not None:
            self._record.ended, self._record.message = ended, message
            self._keep_result(self._record)
            self._record = None
        self._update_runs()

    def _add_rows(self, rows: dict[str, list]) -> None:
        record, history = self._record, self.history
        for key in ROW_KEYS:
            getattr(history, key).extend(rows[key])
        history.run.extend([record.number] * len(rows["epoch"]))
        self.param.trigger("history")
        self.status = status_line(record, history)
        self.progress = min(1.0, (history.epoch[-1] - record.first_epoch + 1) / record.requested)
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

    def _drop_model(self) -> None:
        if self._record is not None and self._record.ended in ("running", "paused"):
            self._end_record("stopped", "")
        self._trainer = None
        self._record = None
        self.param.update(history=History(), grid=None, evaluation=None, status="", progress=0.0,
                          has_model=False, state="idle", planned_epoch=0, neurons=[], weights=[], snapshots=[])

    def plot(self, what: str = "map", **options):
        """The results as a HoloViews object, to show, restyle (`.opts`) or overlay in a notebook: "map" (the
        decision map with the points; options such as discretize=True), "target", "loss", "accuracy", "curves"."""
        from ..plots.views import (
            view,  # holoviews only when asked: the experiment itself needs no plotting
        )

        return view(what, self.data, self.grid, self.evaluation, self.history, **options)
