"""Training in a background thread: one engine run at a time, its results handed over through a mailbox.

The worker makes no param or Panel calls. Its thread trains and, at a throttled rate, puts one consistent bundle in
a mailbox: the history's new epochs up to epoch e together with the decision map, the per-point correctness and the
neuron maps and weights at that same epoch e (so that every view shown together belongs to one epoch), and no next
one before the owner has taken it; at round epochs its `SnapshotRecorder` takes frames for replay. At a watchable speed
(`Job.epoch_seconds` > 0, see SPEEDS) it also waits so that no epoch takes less than that, and so that no more than
SHOWN_SECONDS of that schedule pass between two maps the owner has taken (a slow or busy browser, which takes
fewer, slows the run rather than skipping what it was meant to show). The owner (the experiment, on the server's
event loop) empties the mailbox with `take()` as often as it likes: epochs accumulate until the next map, so
nothing backs up however slowly the owner reads.
"""

from __future__ import annotations

import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field

import torch

from engine import Dataset, History, Run, Settings, Trainer
from engine.evaluation import Evaluation, GridMap, evaluate_grid, evaluate_points
from engine.snapshots import Frame, SnapshotRecorder, neuron_view, weight_view

# torch.manual_seed and the model's construction use torch's one global generator: two sessions building
# models at once would interleave their random numbers. This lock keeps every build reproducible.
BUILD_LOCK = threading.Lock()

CALLBACK_SECONDS = 0.01  # aim for a callback every ~10 ms of training: fresh enough, ~5 % overhead on tiny nets
MAP_INTERVAL = 1 / 15  # never evaluate the live map more often than this
MAP_COST_SHARE = 0.2  # ... nor let it take more than this share of the training thread's time
SPEEDS = {"slow": 0.08, "normal": 0.02, "fastest": 0.0}  # the least seconds per epoch at each training speed
# At a watchable speed the owner takes a map at least every SHOWN_SECONDS of the schedule (30 epochs at normal): the
# run waits for it, up to TAKE_TIMEOUT (a hidden tab takes one a second).
SHOWN_SECONDS = 0.6
TAKE_TIMEOUT = 1.0
FINAL_MAP_SIZE = 200  # the notebook's grid
SMALL_MAP_SIZE = 100  # the live grid of nets too big to evaluate 200x200 cheaply
BIG_MAP_SECONDS = 0.012  # a 200x200 map costing more than this is drawn at 100x100 while training
ROW_KEYS = tuple(name for name in History.__dataclass_fields__ if name != "run")  # per-epoch columns
_STARTED: weakref.WeakSet = weakref.WeakSet()  # every started worker (for stop_all)


def stop_all(timeout: float = 2.0) -> bool:
    """Ask every worker of this process to stop (dropping its final map) and wait up to `timeout` seconds in all
    for their threads to end. True if they all have. For a process that is shutting down."""
    workers = [worker for worker in list(_STARTED) if worker.alive]
    for worker in workers:
        worker.job.final_map = False
        worker.request_stop()
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    return not any(worker.alive for worker in workers)


def build_trainer(settings: Settings, dataset: Dataset) -> Trainer:
    with BUILD_LOCK:
        return Trainer(settings, dataset=dataset)


def callback_every(trainer: Trainer) -> int:
    """How many epochs between callbacks so that one comes about every CALLBACK_SECONDS of training."""
    runs = [run for run in trainer.runs if run.epochs > 0 and run.seconds > 0]
    if runs:
        seconds = sum(run.seconds for run in runs) / sum(run.epochs for run in runs)
    else:  # no run yet: a rough cost model (fixed overhead + multiply-adds of forward, backward and evaluation)
        seconds = 4e-4 + 8 * trainer.parameter_count * len(trainer.dataset.points) / 4e10
    return max(1, min(1000, int(CALLBACK_SECONDS / seconds)))


@dataclass
class Job:
    """One engine run: `epochs` more epochs of `trainer` (None: build a new model from `settings` first)."""

    settings: Settings
    dataset: Dataset
    epochs: int
    trainer: Trainer | None = None
    schedule: tuple[int, int] | None = None  # (epochs done, length) of a run's schedule: see Trainer.train
    final_map: bool = True  # evaluate map and points at the end (skipped when the results are thrown away)
    epoch_seconds: float = 0.0  # the least time an epoch takes (a watchable speed); may change while it runs


@dataclass
class Update:
    """What happened since the last `take()`; every field may be empty."""

    rows: dict[str, list] = field(default_factory=lambda: {key: [] for key in ROW_KEYS})
    grid: GridMap | None = None
    evaluation: Evaluation | None = None
    neurons: list | None = None  # neuron maps and weights, taken with the map (engine/snapshots.py)
    weights: list | None = None
    frames: list[Frame] = field(default_factory=list)  # recorded at round epochs, for replay
    trainer: Trainer | None = None  # set once, when a new model has been built
    run: Run | None = None  # set once, when the engine run has ended
    error: str | None = None
    done: bool = False  # the thread has finished: nothing more will come


class Worker:
    """Runs one `Job` in its own thread; `take()` hands over what it produced so far."""

    def __init__(self, job: Job, name: str = "nn-playground-training") -> None:
        self.job = job
        self._lock = threading.Lock()
        self._taken = threading.Condition(self._lock)  # notified when the owner takes a map, or a stop is requested
        self._map_epoch = 0  # the epoch of the map in the mailbox
        self._taken_epoch = 0  # the epoch of the last map the owner took
        self._waited_epoch = 0  # the epoch of the last wait for the owner (taken or not)
        self._pending = Update()
        self._stop = threading.Event()
        self._trainer: Trainer | None = job.trainer
        self._sent = 0
        self._next_map = 0.0
        self._pace: tuple[float, int, float] | None = None  # (since when, from which epoch, seconds per epoch)
        self._map_size = FINAL_MAP_SIZE
        self._recorder: SnapshotRecorder | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    # ----- owner side -----
    def start(self) -> Worker:
        _STARTED.add(self)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """End the run after the current mini-batch or epoch (no-op once finished)."""
        self._stop.set()
        trainer = self._trainer
        if trainer is not None:
            trainer.request_stop()
        with self._taken:
            self._taken.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def has_news(self) -> bool:
        pending = self._pending  # read without the lock: a stale answer only delays the next take()
        return bool(pending.done or pending.rows["epoch"] or pending.grid is not None or pending.error)

    def take(self) -> Update:
        with self._lock:
            update, self._pending = self._pending, Update()
            if update.grid is not None:
                self._taken_epoch = self._map_epoch
                self._taken.notify_all()
        return update

    # ----- worker thread -----
    def _main(self) -> None:
        try:
            torch.set_num_threads(1)
            job = self.job
            trainer = self._trainer
            if trainer is None:
                trainer = build_trainer(job.settings, job.dataset)
                self._trainer = trainer
                with self._lock:
                    self._pending.trainer = trainer
            self._sent = len(trainer.history)
            self._taken_epoch = self._waited_epoch = trainer.epochs_done
            # frames through the run, and where the model starts from (a new model)
            self._recorder = SnapshotRecorder(trainer, trainer.epochs_done + job.epochs, first=trainer.epochs_done == 0)
            self._send_frames()
            run = None
            if not self._stop.is_set():
                every = self._recorder.every_near(1 if job.epoch_seconds > 0 else callback_every(trainer))
                run = trainer.train(job.epochs, self._callback, every, job.settings,
                                    schedule=job.schedule)
            grid = evaluation = neurons = weights = None
            if job.final_map and trainer.history.epoch:
                grid, evaluation = evaluate_grid(trainer, FINAL_MAP_SIZE), evaluate_points(trainer)
                neurons, weights = neuron_view(trainer), weight_view(trainer)
                self._recorder.record()  # a run may end between two round epochs
                self._send_frames()
            with self._lock:  # the last epochs and the final map in one bundle
                self._send_rows(trainer)
                self._pending.run = run
                if grid is not None:
                    self._pending.grid, self._pending.evaluation = grid, evaluation
                    self._pending.neurons, self._pending.weights = neurons, weights
        except Exception:  # reported to the owner, who shows it; the thread must never die silently
            with self._lock:
                self._pending.error = traceback.format_exc(limit=8)
        finally:
            with self._lock:
                self._pending.done = True

    def _callback(self, progress) -> None:
        trainer = self._trainer
        if self._stop.is_set():
            trainer.request_stop()  # a stop that came before train() began, which clears the flag
        self._recorder(progress)
        self._send_frames()
        behind = self._unshown_epochs(progress.epoch)
        taken = self._taken_epoch >= self._map_epoch  # no map is made while the last one waits: it would go unseen
        if (taken and time.perf_counter() >= self._next_map) or behind:
            self._send_bundle(trainer, progress.epoch)
        if behind:
            self._wait_until_taken(progress.epoch)
        self._wait_for_pace(progress.epoch)

    def _send_bundle(self, trainer: Trainer, epoch: int) -> None:
        """The epochs so far, with the map, points and neurons of the last one, in the mailbox."""
        start = time.perf_counter()
        grid = evaluate_grid(trainer, self._map_size)
        cost = time.perf_counter() - start
        if self._map_size == FINAL_MAP_SIZE and cost > BIG_MAP_SECONDS:
            self._map_size = SMALL_MAP_SIZE  # this one is drawn; the next ones are cheaper
        evaluation = evaluate_points(trainer)
        neurons, weights = neuron_view(trainer), weight_view(trainer)
        self._next_map = time.perf_counter() + max(MAP_INTERVAL, (time.perf_counter() - start) / MAP_COST_SHARE)
        with self._lock:
            self._send_rows(trainer)
            self._pending.grid, self._pending.evaluation = grid, evaluation
            self._pending.neurons, self._pending.weights = neurons, weights
            self._map_epoch = epoch

    def _unshown_epochs(self, epoch: int) -> bool:
        """At a watchable speed: whether SHOWN_SECONDS of the schedule have passed since the last map taken, or
        since the last wait for one (an owner that takes nothing slows a run down to that pace, not to a halt)."""
        seconds = self.job.epoch_seconds
        since = max(self._taken_epoch, self._waited_epoch)
        return seconds > 0 and epoch - since >= max(1, round(SHOWN_SECONDS / seconds))

    def _wait_until_taken(self, epoch: int) -> None:
        """Wait (up to TAKE_TIMEOUT, or a stop request) for the owner to take this epoch's map, then count the
        schedule from here: a slow owner slows the run instead of the run catching up afterwards unseen."""
        with self._taken:
            self._taken.wait_for(lambda: self._taken_epoch >= epoch or self._stop.is_set(), TAKE_TIMEOUT)
        self._waited_epoch = epoch
        self._pace = None

    def _wait_for_pace(self, epoch: int) -> None:
        """At a watchable speed, wait until this epoch's time has come (a stop request ends the wait)."""
        seconds = self.job.epoch_seconds
        now = time.perf_counter()
        if seconds <= 0:
            self._pace = None
            return
        if self._pace is None or self._pace[2] != seconds:
            self._pace = (now, epoch, seconds)  # (re)started, or the speed changed: count from here
            return
        since, first, _ = self._pace
        delay = since + (epoch - first) * seconds - now
        if delay > 0:
            self._stop.wait(delay)

    def _send_frames(self) -> None:
        frames = self._recorder.take()
        if frames:
            with self._lock:
                self._pending.frames.extend(frames)

    def _send_rows(self, trainer: Trainer) -> None:
        """Put the history's new epochs in the mailbox (the caller holds the lock)."""
        history = trainer.history
        end = len(history)
        if end <= self._sent:
            return
        start, self._sent = self._sent, end
        for key in ROW_KEYS:
            self._pending.rows[key].extend(getattr(history, key)[start:end])
