"""One sweep started from the app: the grid read from text (`build_sweep`), the limits a shared server sets
(`check_limits`), and the sweep trained in a thread whose results `SweepRun.poll()` collects on the caller's
thread (the server's event loop). Param-free engine code only (no panel), so it runs headless too.

    run = SweepRun(build_sweep(experiment.settings(), {"lr": "0.001 0.01 0.1"}, seeds=2, epochs=100))
    run.start(); ... run.poll() ...; run.stop()      # new ModelResults per poll; what finished is kept
"""

from __future__ import annotations

import math
import queue
import threading
import time

from engine.budget import epoch_seconds, over_budget
from engine.catalog import SAMPLED
from engine.setting_types import SettingsError, format_value
from engine.settings import SPECS, Settings
from engine.sweep import Sweep, forget_datasets, run_sweep

# Limits, so that one student cannot take a class's server (each model's epoch is also within engine.budget's).
MAX_MODELS = 64  # models per app sweep (settings x seeds)
MAX_EPOCHS = 2000  # epochs per model of an app sweep
MAX_SECONDS = 240.0  # estimated training time of a whole app sweep (engine.budget's per-epoch estimate)
MAX_SEEDS = 10
CHUNK = 8  # models per task: results arrive every CHUNK models (a stack of 8 keeps most of stacking's speed)
FIRST_AXES = ("lr", "hidden", "activation", "dataset", "optimizer", "batch_size", "reg", "reg_rate", "features",
              "iris_features", "noise", "epochs", "samples", "momentum", "dropout", "test_share")
# Every setting the app groups as Data, Network or Training can be varied (seeds are the sweep's own): the most
# asked-for first, then any other in declared order, so that a newly declared setting is an axis too.
AXES = FIRST_AXES + tuple(name for name, spec in SPECS.items()
                          if spec.group in ("Data", "Network", "Training") and name not in FIRST_AXES)
# what a newly chosen axis starts with: its declared examples, else its default for the user to add values to
EXAMPLES = {name: SPECS[name].examples or format_value(SPECS[name].default) for name in AXES}


def parse_values(name: str, text: str) -> list:
    """An axis's values from text: separated by spaces (or ';'), each read as the setting reads its text, so
    lists keep their commas: `4 8 8,8` is three hidden-layer choices. Commas separate values too for settings
    that are not lists (`0.01, 0.1`)."""
    spec = SPECS[name]
    separators = text.replace(";", " ") if spec.many else text.replace(";", " ").replace(",", " ")
    values = []
    for part in separators.split():
        try:
            value = spec.parse(part)
        except ValueError:
            raise SettingsError(f"{spec.label}: {part!r} is not allowed; {spec.allowed()}") from None
        try:
            value = spec.check(value)
        except SettingsError as error:
            raise SettingsError(f"{spec.label}: {error}".replace(f"{name}: ", "")) from None
        if value not in values:
            values.append(value)
    if not values:
        raise SettingsError(f"{spec.label}: give one or more values, separated by spaces")
    return values


def values_text(name: str, values) -> str:
    """An axis's values as the text `parse_values` reads back: '4 8,8 0' (0: no hidden layer)."""
    return " ".join("0" if value == () else format_value(value) for value in values)


def build_sweep(base: Settings, axes: dict[str, str], seeds: int, epochs: int) -> Sweep:
    """The sweep of `base` (e.g. the experiment's settings) with `epochs` epochs, the axes' values read from their
    text and seeds 0..seeds-1. SettingsError (with a message for the user) if something is not allowed."""
    if not 1 <= seeds <= MAX_SEEDS:
        raise SettingsError(f"Seeds: give 1 to {MAX_SEEDS}, got {seeds}")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise SettingsError(f"Epochs: an app sweep trains 1 to {MAX_EPOCHS:,} epochs per model, got {epochs:,}")
    if len(axes) != len(set(axes)) or not axes:
        raise SettingsError("choose one or two different settings to vary")
    parsed = {name: parse_values(name, text) for name, text in axes.items()}
    sweep = Sweep(base.replace(epochs=epochs, device="cpu", threads=1), parsed, list(range(seeds)))
    count = math.prod(len(values) for values in parsed.values()) * seeds
    if count > MAX_MODELS:
        raise SettingsError(f"The sweep has {count} models (settings x seeds); the app trains at most {MAX_MODELS}. "
                            "Give fewer values or seeds, or run it with `nn-playground sweep` on your own machine.")
    sweep.validate()  # every combination valid, and every axis mattering in some cell, before anything trains
    return sweep


def points(settings: Settings, csv_points: int | None = None) -> tuple[int, int]:
    """Training and test points the settings' data has (estimated without loading it)."""
    if settings.dataset in SAMPLED:
        total = settings.samples
    elif settings.dataset == "iris":
        total = 100
    else:
        total = csv_points or 1000
    test = max(1, round(total * settings.test_share))
    return total - test, test


def estimated_seconds(sweep: Sweep, csv_points: int | None = None) -> float:
    return sum(s.epochs * epoch_seconds(s, *points(s, csv_points)) for s in sweep.models())


def check_limits(sweep: Sweep, csv_points: int | None = None) -> str | None:
    """None if the app may train this sweep; else why not, and what to change."""
    models = sweep.models()
    if len(models) > MAX_MODELS:
        return f"The sweep has {len(models)} models; the app trains at most {MAX_MODELS}."
    for settings in models:
        if settings.epochs > MAX_EPOCHS:
            return f"{settings.epochs:,} epochs per model: an app sweep trains at most {MAX_EPOCHS:,}."
        problem = over_budget(settings, *points(settings, csv_points))
        if problem:
            return problem
    seconds = estimated_seconds(sweep, csv_points)
    if seconds > MAX_SECONDS:
        return (f"The sweep would take about {seconds:.0f} s of training here, more than the {MAX_SECONDS:.0f} s an "
                "app sweep may take. Give fewer epochs, values, seeds or points, or run it with "
                "`nn-playground sweep` on your own machine.")
    return None


_DONE = object()


class SweepRun:
    """A sweep training in a daemon thread (`run_sweep`, one local worker); `poll()` collects its results."""

    def __init__(self, sweep: Sweep, chunk_size: int = CHUNK) -> None:
        self.sweep = sweep
        self.total = len(sweep.models())
        self.results: list = []
        self.error: str = ""
        self.done = False
        self.started: float | None = None
        self.ended: float | None = None
        self._chunk = chunk_size
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._train, name="nnp-sweep", daemon=True)
        self._thread.start()

    def _train(self) -> None:
        try:
            # One worker: this thread, on the server's one torch thread, so that a sweep costs what one more student
            # training costs. Worker processes (one per core, ~300 MB and seconds each to start) would let every
            # session's sweep take every core of the machine a class shares. Models still train stacked.
            run_sweep(self.sweep, progress=lambda done, total, result: self._queue.put(result), stop=self._stop,
                      workers=1, chunk_size=self._chunk)
        except Exception as error:  # noqa: BLE001 - shown to the user; the models that finished are kept
            self._queue.put(error)
        finally:
            # In this process `run_task` keeps every dataset it loaded (meant for worker processes that end): in a
            # server shared by every session that would only grow. Another session's sweep still running keeps the
            # dataset it holds and loads its next one again (milliseconds).
            forget_datasets()
            self._queue.put(_DONE)

    def stop(self) -> None:
        """Stop at the running models' next epoch: they end "stopped"; tasks not started are dropped."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self.done

    def poll(self) -> list:
        """The results that arrived since the last poll (in arrival order); sets `done` when the thread ended."""
        new = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _DONE:
                self.done, self.ended = True, time.monotonic()
            elif isinstance(item, Exception):
                self.error = f"The sweep failed: {item}"
            else:
                new.append(item)
        self.results.extend(new)
        return new

    def wait(self, timeout: float | None = None) -> None:
        """Block until the thread has ended, then poll (headless use; never on a server's loop)."""
        if self._thread is not None:
            self._thread.join(timeout)
        self.poll()

    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def eta(self) -> float | None:
        """Seconds left, from the time per model so far (None before the first result)."""
        done = len(self.results)
        if not done or self.done:
            return None
        return self.elapsed() / done * (self.total - done)
