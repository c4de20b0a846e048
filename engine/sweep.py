"""Sweeps: base settings, axes of values for any settings, and seeds; every combination trained and summarised.

    sweep = Sweep(Settings(dataset="toy_xor", hidden=(8, 8)), {"lr": [0.001, 0.01], "activation": ["relu", "tanh"]},
                  seeds=[0, 1, 2])
    results = run_sweep(sweep)                      # local: one process per core
    results = run_sweep(sweep, scheduler="tcp://10.0.0.5:8786")   # a Dask distributed cluster

Models that share data, network shape and training settings (all but seed, lr and reg_rate; see
`engine.stacked.stack_key`) train together as stacks (`engine.stacked_training.train_stack`), cut into tasks of a few
models (`chunk_size`: 16 on CPU, where small stacks stay in cache, measured best of 4-32; whole groups on CUDA).
What cannot stack (dropout, mini-batches) trains with the single-model `Trainer`, one model per task
(`engine.stacked_training.train_alone`).
Tasks run in this process (one worker, or CUDA), in a pool of worker processes (one per core: two torch threads
on a busy machine collapse, processes do not), or on a Dask cluster given its scheduler address; the numbers are
the same wherever a task runs, since tasks are cut the same way.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

from .setting_types import SettingsError, format_value
from .settings import SPECS, Settings

MAX_MODELS = 100_000  # the most models one sweep may have
CPU_CHUNK = 16
CUDA_CHUNK = 65_536
# Big batched tensors make glibc give memory back to the OS every epoch; these keep it (DESIGN.md: 3x on K=256).
MALLOC_THRESHOLD = 1 << 30


@dataclass(frozen=True)
class Sweep:
    """Base settings, axes (setting name -> values) and seeds. `models()` is every combination, in order:
    the first axis varies slowest, the seeds fastest."""

    base: Settings
    axes: dict = field(default_factory=dict)
    seeds: Sequence[int] = (10,)

    def models(self) -> list[Settings]:
        known = set(SPECS)
        names = list(self.axes)
        for name in names:
            if name not in known:
                raise SettingsError(f"sweep axis {name!r}: not a setting (settings: {', '.join(sorted(known))})")
            if name == "seed":
                raise SettingsError("sweep axis 'seed': give the seeds as the sweep's seeds, not as an axis")
            values = self.axes[name]
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not len(values):
                raise SettingsError(f"sweep axis {name!r}: give a non-empty list of values")
        seeds = list(self.seeds)
        if not seeds:
            raise SettingsError("seeds: give at least one seed")
        count = math.prod(len(self.axes[name]) for name in names) * len(seeds)
        if count > MAX_MODELS:
            raise SettingsError(f"the sweep has {count:,} models, more than the limit of {MAX_MODELS:,}")
        models = []
        for combination in itertools.product(*(self.axes[name] for name in names)):
            changes = {name: _value(name, value) for name, value in zip(names, combination)}
            for seed in seeds:
                try:
                    models.append(self.base.replace(**changes, seed=seed))
                except SettingsError as error:
                    raise SettingsError(f"sweep {_describe(changes)}: {error}") from None
                except (TypeError, ValueError) as error:
                    raise SettingsError(f"sweep {_describe(changes)}: {error}") from None
        return models

    def validate(self) -> list[Settings]:
        """`models()`, refused (SettingsError) if an axis matters in no cell: see `idle_axis`."""
        models = self.models()
        idle = self.idle_axis()
        if idle:
            raise SettingsError(idle[1])
        return models

    def idle_axis(self, named: Callable[[str], str] = str) -> tuple[str, str] | None:
        """The first axis whose setting matters in no cell of the grid (momentum while no cell uses sgd: its
        declared `shown_when`), with a line saying what it needs, each setting written by `named` (the command line
        gives its options); None if every axis matters somewhere."""
        for name in self.axes:
            spec = SPECS.get(name)
            needs = spec.shown_when if spec is not None else {}
            if needs and not any(spec.shown(cell) for cell in self._cells(list(needs))):
                wanted = " and ".join(f"{named(other)} {_either(values)}" for other, values in needs.items())
                return name, f"{named(name).lstrip('-')} matters only with {wanted}; no cell of this sweep uses it"
        return None

    def _cells(self, names: list[str]):
        """The grid's different cells as far as these settings go: each an object with their values as attributes."""
        choices = []
        for name in names:
            values = [_value(name, v) for v in self.axes[name]] if name in self.axes else [getattr(self.base, name)]
            choices.append([value for index, value in enumerate(values) if value not in values[:index]])
        return (SimpleNamespace(**dict(zip(names, cell))) for cell in itertools.product(*choices))

    def csv_problems(self) -> list[str]:
        """Every CSV file a cell of the grid trains on, read now (engine.csv_points): one line per bad one."""
        from .csv_points import CsvError, read_points_csv

        spec = SPECS["csv_path"]
        if not any(spec.shown(cell) for cell in self._cells(list(spec.shown_when))):
            return []
        problems = []
        for path in dict.fromkeys(self.axes.get("csv_path", [self.base.csv_path])):
            try:
                read_points_csv(path)
            except CsvError as error:
                problems.append(str(error))
        return problems


def _either(values) -> str:
    """'sgd', 'l1 or l2', 'a, b or c'."""
    words = [format_value(value) for value in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _value(name: str, value):
    """Values as the settings hold them: a width alone is one hidden layer; 'a,b' strings split for tuples."""
    if name == "hidden" and isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if name in ("hidden", "features", "iris_features") and isinstance(value, str):
        parts = [part for part in value.split(",") if part.strip()]
        return tuple(int(p) for p in parts) if name == "hidden" else tuple(p.strip() for p in parts)
    return value


def _describe(changes: dict) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in changes.items()) or "(no axes)"


# ----- tasks -----
def plan(models: Sequence[Settings], chunk_size: int | None = None) -> list[list[int]]:
    """Model indices grouped into tasks: stackable models with one stack key in chunks, the others one per task."""
    from .stacked import can_stack, stack_key

    groups: dict[tuple, list[int]] = {}
    tasks: list[list[int]] = []
    for index, settings in enumerate(models):
        if can_stack(settings):
            groups.setdefault(stack_key(settings), []).append(index)
        else:
            tasks.append([index])
    for indices in groups.values():
        size = chunk_size or _chunk(len(indices), str(models[indices[0]].device).startswith("cuda"))
        tasks += [indices[start:start + size] for start in range(0, len(indices), size)]
    tasks.sort(key=lambda task: task[0])
    return tasks


def _chunk(models: int, cuda: bool) -> int:
    """Models per task: whole groups on CUDA; on CPU up to CPU_CHUNK, and a group of 8 or more in at least two
    tasks so that two cores share it. It depends on the group alone (not on the workers), so the tasks, and with
    them the numbers, are the same for any number of workers, local or on a cluster."""
    if cuda:
        return CUDA_CHUNK
    tasks = max(2 if models >= 8 else 1, math.ceil(models / CPU_CHUNK))
    return math.ceil(models / tasks)


_DATASETS: dict = {}  # per process: the datasets its tasks loaded


def run_task(indices: Sequence[int], settings: Sequence[dict], stop=None) -> list[dict]:
    """One task (in any process or Dask worker): the models' results as dicts (ModelResult.to_dict)."""
    from .stacked_training import train_models

    models = [Settings.from_dict(s) for s in settings]
    return [result.to_dict() for result in train_models(list(indices), models, stop, _DATASETS)]


def forget_datasets() -> None:
    """Drop the datasets this process's tasks loaded (a server's process outlives its sweeps)."""
    _DATASETS.clear()


def result_from_dict(values: dict):
    from .stacked_training import ModelResult

    values = dict(values)
    values["settings"] = Settings.from_dict(values["settings"])
    return ModelResult(**values)


# ----- running -----
Progress = Callable[[int, int, object], None]


def run_sweep(sweep: Sweep, scheduler: str | None = None, device: str = "cpu", progress: Progress | None = None,
              stop=None, workers: int | None = None, chunk_size: int | None = None) -> list:
    """Train every model of the sweep; returns their `ModelResult`s in the sweep's order.

    `scheduler`: a Dask distributed scheduler address ("tcp://HOST:PORT"): the tasks go to its workers
    (Dask runs a lost worker's tasks again elsewhere). Without it, locally: `workers` processes (default: one
    per core), or this process alone when there is one worker, one task or a CUDA device.
    `progress(done, total, result)` is called as each model's result arrives. `stop` (a threading.Event) ends
    the sweep early: running tasks end their models as "stopped", tasks not started are dropped; what finished
    is returned. A sweep that `Sweep.validate` refuses raises its SettingsError.
    """
    models = [s.replace(device=device) if s.device != device else s for s in sweep.validate()]
    tasks = plan(models, chunk_size)
    payloads = [(task, [models[i].to_dict() for i in task]) for task in tasks]
    if scheduler:
        from .sweep_dask import run_on_cluster

        gathered = run_on_cluster(scheduler, payloads, len(models), progress, stop)
    else:
        gathered = _run_local(payloads, len(models), device, progress, stop, workers)
    return sorted(gathered, key=lambda result: result.index)


def collect_results(results: list[dict], total: int, done: list, progress: Progress | None) -> None:
    """Add a task's results (dicts, as `run_task` returns them) to `done` as `ModelResult`s, telling `progress`."""
    for values in results:
        result = result_from_dict(values)
        done.append(result)
        if progress is not None:
            progress(len(done), total, result)


def _run_local(payloads, total: int, device: str, progress, stop, workers: int | None) -> list:
    workers = workers or os.cpu_count() or 1
    done: list = []
    if workers == 1 or len(payloads) == 1 or device.startswith("cuda"):
        for indices, settings in payloads:
            if stop is not None and stop.is_set():
                break
            collect_results(run_task(indices, settings, stop), total, done, progress)
        return done
    from .sweep_worker import WorkerPool

    pool = WorkerPool.shared(min(workers, len(payloads)))
    for results in pool.run(payloads, stop):
        collect_results(results, total, done, progress)
    return done


def warm_up(workers: int | None = None) -> None:
    """Start the local worker processes now (each imports torch and scikit-learn: ~2-3 s), e.g. before timing."""
    workers = workers or os.cpu_count() or 1
    if workers > 1:
        from .sweep_worker import WorkerPool

        WorkerPool.shared(workers).start()


def keep_memory() -> None:
    """Raise glibc's trim and mmap thresholds in this process (as MALLOC_TRIM_THRESHOLD_/MALLOC_MMAP_THRESHOLD_)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, MALLOC_THRESHOLD)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (at most 32 MiB on 64-bit glibc)
    except (OSError, AttributeError):
        pass
