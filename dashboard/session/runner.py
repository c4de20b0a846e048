"""Training one experiment's model in a `Worker` thread: starting runs, pausing, resuming, stopping, and moving what
the worker produced into the experiment's result parameters (`poll`).

Nothing here waits for training on the caller's thread for more than `HALT_WAIT`: a stop is requested (the engine
honours it between mini-batches), and a worker still busy after that is either left to end on its own with its
results dropped (Train, Reset, a changed data or network setting, a loaded file, `close`), or, for Continue and
Step, which need its model, followed by the action once `poll()` sees it end. A run whose epochs would take more
than `engine.budget.MAX_EPOCH_SECONDS` each is refused with a message saying what to change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import param

from engine import History, SettingsError, Trainer
from engine.budget import over_budget

from .frames import add_frames
from .run_log import RunLog
from .runs import baseline_advice
from .worker import SPEEDS, Job, Worker

if TYPE_CHECKING:
    from .experiment import Experiment

HALT_WAIT = 0.1  # seconds the caller (the event loop) may wait for a stopping worker before going on without it


class Runner:
    """The run lifecycle of one experiment: its model (`trainer`), the worker training it (`worker`, None when none
    runs), and the experiment's `state`. `tell(text, kind)` gives the user a notice."""

    def __init__(self, experiment: Experiment, log: RunLog, tell: Callable[[str, str], None]) -> None:
        self.experiment = experiment
        self.log = log
        self.tell = tell
        self.trainer: Trainer | None = None
        self.worker: Worker | None = None
        self._intent: str | None = None  # why the running worker was asked to stop: pause, stop or discard
        self._then: Callable[[], None] | None = None  # what to do once the stopping worker has ended
        self._launched_at = 0.0

    # ----- actions -----
    def train(self) -> None:
        if self._refused_by_budget():
            return
        self.halt("stop")
        self.drop_model()
        self.log.new_model()
        self._start(self.experiment.epochs, new_model=True)

    def continue_training(self) -> None:
        if self._refused_by_budget():
            return
        self.halt("stop", then=self._continue_now)

    def _continue_now(self) -> None:
        if self.trainer is None:
            self.train()
            return
        self._start(self.experiment.epochs, new_model=False)

    def step(self) -> None:
        if self._refused_by_budget():
            return
        if self.worker is not None:
            self.halt("pause", then=self._step_now)
            return
        self._step_now()

    def _step_now(self) -> None:
        if self.experiment.state == "paused" and self.log.current is not None:
            self._launch(1)
            return
        if self.trainer is None:
            self.drop_model()
            self.log.new_model()
        self._start(1, new_model=self.trainer is None, requested=self.experiment.epochs)

    def pause(self) -> None:
        if self.experiment.state == "training" and self.worker is not None:
            self._then = None
            self._intent = "pause"
            self.worker.request_stop()

    def resume(self) -> None:
        record = self.log.current
        if self.experiment.state == "paused" and record is not None:
            self._launch(record.requested - record.done)

    def stop(self) -> None:
        if self.worker is not None:
            self._then = None  # a Continue or Step waiting for the last run to end is cancelled too
            self._intent = "stop"
            self.worker.request_stop()
            self.experiment.state = "stopping"
        elif self.experiment.state == "paused":
            self.log.end("stopped", "")
            self.experiment.state = "idle"

    def set_speed(self, speed: str) -> None:
        """The experiment's `speed` changed: it applies to a running worker at once."""
        worker = self.worker
        if worker is not None:
            worker.job.epoch_seconds = SPEEDS[speed]

    def adopt(self, trainer: Trainer) -> None:
        """Make a loaded model (with its dataset) the current one, as a new model; no worker runs."""
        self.log.new_model()
        self.trainer = trainer
        self.experiment.data = trainer.dataset

    def drop_model(self) -> None:
        """Forget the model and its results (its run ends as stopped; runs and kept results stay)."""
        self.log.end_current()
        self.trainer = None
        self.experiment.param.update(history=History(), grid=None, evaluation=None, status="", progress=0.0,
                                     has_model=False, state="idle", planned_epoch=0, neurons=[], weights=[],
                                     snapshots=[])

    # ----- waiting and polling -----
    def poll(self) -> bool:
        """Move the worker's new results into the parameters. True while a worker is still running."""
        worker, experiment = self.worker, self.experiment
        if worker is None:
            return False
        update = worker.take()
        discard = self._intent == "discard"
        with param.parameterized.batch_call_watchers(experiment):
            if update.trainer is not None and not discard:
                self.trainer = update.trainer
                experiment.has_model = True
            if update.rows["epoch"] and not discard:
                self.log.add_rows(update.rows)
            if update.grid is not None and not discard:
                experiment.grid = update.grid
                if self.log.current is not None:
                    self.log.current.agreement = update.grid.agreement
            if update.evaluation is not None and not discard:
                experiment.evaluation = update.evaluation
            if update.neurons is not None and not discard:
                experiment.param.update(neurons=update.neurons, weights=update.weights)
            if update.frames and not discard:
                experiment.snapshots = add_frames(experiment.snapshots, update.frames)
            if update.done:
                self.worker = None
                self._finish(update)
        if self.worker is None and self._then is not None:
            then, self._then = self._then, None
            then()  # the action (Continue, Step) that waited for this worker to end
        return self.worker is not None

    def has_news(self) -> bool:
        return self.worker is not None and self.worker.has_news()

    def wait(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.worker is not None:
            self.worker.join(0.05)
            self.poll()
            if deadline is not None and time.monotonic() > deadline and self.worker is not None:
                raise TimeoutError(f"training still running after {timeout} s")

    def close(self) -> None:
        """Stop any training for good, without waiting for it and without changing a parameter."""
        self._then = None
        worker, self.worker = self.worker, None
        if worker is not None:
            self._intent = "discard"
            worker.job.final_map = False
            worker.request_stop()

    def halt(self, intent: str, then: Callable[[], None] | None = None) -> None:
        """Ask the running worker to stop, and take in what it did if it ends within HALT_WAIT.

        If it is still busy then (the last mini-batch of a big epoch, a map being evaluated), this never waits
        longer: with `then` (an action that needs its model) the worker is left to end and `then()` runs when
        `poll()` sees it end (state "stopping" meanwhile); without, the worker is detached: it ends on its own,
        its results are dropped, and the caller drops the model it was training.
        """
        self._then = None
        worker, experiment = self.worker, self.experiment
        if worker is None:
            if intent != "pause" and experiment.state == "paused":
                self.log.end("stopped", "")
                experiment.state = "idle"
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
            experiment.state = "stopping"
            return
        self.poll()  # what it has sent so far: the run keeps its epochs and latest map for comparison
        if self.worker is not worker:
            return  # it ended just now
        worker.job.final_map = False  # nobody will look at it
        self.worker = None
        record = self.log.current
        if record is not None:
            record.done = sum(1 for number in experiment.history.run if number == record.number)
            record.seconds += time.perf_counter() - self._launched_at
        self._finish(None)

    # ----- internals -----
    def _start(self, epochs: int, new_model: bool, requested: int | None = None) -> None:
        experiment = self.experiment
        try:
            settings = experiment.settings()
        except SettingsError as error:
            self.tell(str(error), "warning")
            return
        history = experiment.history
        first = history.epoch[-1] + 1 if history.epoch else 1
        record = self.log.open(first, requested or epochs, settings)
        experiment.planned_epoch = first + record.requested - 1
        experiment.message = ""
        self._launch(epochs, new_model=new_model)

    def _launch(self, epochs: int, new_model: bool = False) -> None:
        record, experiment = self.log.current, self.experiment
        # The stretches of a paused run go on with one learning-rate schedule over the run's requested epochs.
        job = Job(record.settings, experiment.data, epochs, trainer=None if new_model else self.trainer,
                  schedule=(record.done, record.requested), epoch_seconds=SPEEDS[experiment.speed])
        self._intent = None
        self.worker = Worker(job)
        self._launched_at = time.perf_counter()
        record.ended = "running"
        experiment.state = "training"
        self.log.publish()
        self.worker.start()  # last: the views take in the new run before training competes for the CPU

    def _refused_by_budget(self) -> bool:
        """Refuse (with a message) settings whose epochs would take too long for a shared server."""
        try:
            settings = self.experiment.settings()
        except SettingsError:
            return False  # said by _start
        data = self.experiment.data
        problem = over_budget(settings, len(data.train_index), len(data.test_index))
        if problem:
            self.tell(problem, "warning")
        return problem is not None

    def _finish(self, update) -> None:
        """The worker has ended: say how, and set the state."""
        record, intent, experiment = self.log.current, self._intent, self.experiment
        self._intent = None
        run = update.run if update is not None else None
        if record is not None and run is not None:
            record.done += run.epochs
            record.seconds += run.seconds
        if intent == "discard" or record is None:
            experiment.state = "idle"
            return
        if update is not None and update.error:
            self.log.end("failed", "Training failed: " + update.error.strip().splitlines()[-1])
            self.tell(record.message, "danger")
        elif run is None or run.ended == "stopped":
            if intent == "pause":
                self._paused(record)
                return
            self.log.end("stopped", f"Stopped after {record.done} of {record.requested} epochs.")
            self.tell(record.message, "info")
        elif run.ended == "diverged":
            self.log.end("diverged", run.message)
            self.tell(run.message, "danger")
        elif record.done < record.requested:  # a step inside a longer run
            self._paused(record)
            return
        else:
            self.log.end("finished", f"Finished {record.done} epochs in {record.seconds:.2f} s.")
            advice = baseline_advice(record, experiment.data)
            if advice:
                self.tell(advice, "warning")
        experiment.state = "idle"

    def _paused(self, record) -> None:
        record.ended = "paused"
        self.log.keep(record)
        self.experiment.state = "paused"
        self.log.publish()
