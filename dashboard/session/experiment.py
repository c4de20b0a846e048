"""One experiment as a `param.Parameterized`: its settings, its actions and its results.

Settings are the engine's declared settings, one bounded and documented parameter each (parameters.py, with the
refusal rules in settable.py). Actions are methods: `train` (new model), `continue_training` (same model,
`epochs` more, a new run), `step` (one epoch), `pause` / `resume`, `stop` and `reset`; loading points or a saved
experiment is in loading.py. Results are parameters too (results.py: `data`, `history`, `runs`, `grid`,
`evaluation`, `neurons`, `weights`, `snapshots`, `status`, `progress`, `state`), so views can watch them.

Training runs in a `Worker` thread; `poll()` moves what it produced into the result parameters. A server calls
`poll()` from its event loop (see ui/live_link.py); headless code calls `wait()`. This module imports param and the
engine only, never panel.

A *run* here is what the user started with Train, Continue or Step; pausing and resuming (or stepping) stay in
the same run, although the engine trains each stretch separately. Changing a data or network setting stops any
run first and drops the model, whose results no longer match the settings.

Nothing here waits for training on the caller's thread (a server's event loop) for more than `HALT_WAIT`: a
stop is requested (the engine honours it between mini-batches), and a worker still busy after that is either
left to end on its own with its results dropped (Train, Reset, a changed data or network setting, a loaded
file, `close`), or, for Continue and Step, which need its model, followed by the action once `poll()` sees it
end. A run whose epochs would take more than `engine.budget.MAX_EPOCH_SECONDS` each (estimated from the
network's size, the points and the batch size) is refused with a message saying what to change. Loading a file
or points has two halves: `prepare_archive` / `prepare_points` (slow, no parameter changes, safe in a thread)
and `apply_prepared` (on the loop); a file that fails anywhere changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import param

from engine import Dataset, History, Settings, SettingsError, load_dataset
from engine.budget import over_budget

from .frames import add_frames
from .loading import Loading
from .own_files import SessionFolder
from .parameters import (
    PARTS,
    SETTINGS,
)
from .results import Results
from .runs import RunRecord
from .worker import SPEEDS, Job, Worker, stop_all

HALT_WAIT = 0.1  # seconds the caller (the event loop) may wait for a stopping worker before going on without it


def stop_all_training(timeout: float = 2.0) -> bool:
    """Ask every training thread of this process to stop and wait up to `timeout` seconds in all for them to end
    (a server shutting down; never on a running event loop). True if all have ended."""
    return stop_all(timeout)


class Experiment(Loading, Results):
    """Settings, actions and results of one experiment (one session, one model at a time).

    The settings are the parameters of `SettingParameters`, one per setting the engine declares for the app. A
    value that is not allowed is refused: the setting keeps its last valid value and `message` says why.
    """

    # ----- How this session watches training (not a setting of the experiment: no URL, report or CLI) -----
    speed = param.Selector(default="fastest", objects=list(SPEEDS), precedence=-1, doc=(
        "How fast training goes on screen: slow and normal give each epoch at least "
        f"{SPEEDS['slow']:g} s and {SPEEDS['normal']:g} s, so that a short run can be watched, and wait for a slow "
        "viewer to take a map every few epochs; fastest trains "
        "flat out (the default headless; the app starts at normal). It applies at once, also to a running run."))

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
            advice = self.baseline_advice(record)
            if advice:
                self._tell(advice, "warning")
        self.state = "idle"

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
