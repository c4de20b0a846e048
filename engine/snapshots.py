"""Snapshots of the model through training, taken at round epochs (1, 2, 5, 10, 20, 50... apart): what the live
app's Network tab and the report's slider replay. `SnapshotRecorder` is the one recorder, a training callback:

    recorder = SnapshotRecorder(trainer)
    trainer.train(callback=recorder, every=recorder.every)
    snapshots = recorder.finish()

`replay` rebuilds the snapshots of a trainer that did not record them, by training a fresh copy again.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import numpy as np

from .datasets import Dataset
from .evaluation import evaluate_grid, grid_points, neuron_maps
from .settings import Settings
from .training import HISTORY_KEYS, History, Progress, Run, Trainer

SNAPSHOT_COUNT = 25  # about this many snapshots per run (at least 2/5 of it), plus the start
SNAPSHOT_SIZE = 100  # a 100x100 map: a quarter of the final map's cells, enough to watch the map form
MAX_NEURONS = 16  # neurons per layer drawn (and kept): the first ones; drawn smaller, a map shows nothing
NEURON_MAP_SIZE = 32  # the grid of a neuron map


def neuron_view(trainer: Trainer, size: int = NEURON_MAP_SIZE) -> list[np.ndarray]:
    """Per hidden layer, the activations of its first MAX_NEURONS neurons over the grid: (k, size, size) float32."""
    return [layer[:MAX_NEURONS].copy() for layer in neuron_maps(trainer, size)]


def weight_view(trainer: Trainer) -> list[np.ndarray]:
    """Per layer, the (out, in) weights between the drawn neurons (all inputs, the output), as numpy copies."""
    return [weight[:MAX_NEURONS, :MAX_NEURONS].detach().cpu().numpy().copy() for weight in trainer.net.weights]


@dataclass(eq=False)
class Frame:
    """The model at one epoch: its decision map, neuron maps and drawn weights (at most ~0.3 MB: float16 maps)."""

    epoch: int
    probability: np.ndarray  # (SNAPSHOT_SIZE, SNAPSHOT_SIZE) float16, rows follow y
    neurons: list[np.ndarray]  # as neuron_view, float16
    weights: list[np.ndarray]  # as weight_view

    @classmethod
    def of(cls, trainer: Trainer, size: int = SNAPSHOT_SIZE) -> Frame:
        probability = evaluate_grid(trainer, size).probability.astype(np.float16)
        neurons = [layer.astype(np.float16) for layer in neuron_view(trainer)]
        return cls(trainer.epochs_done, probability, neurons, weight_view(trainer))

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in (self.probability, *self.neurons, *self.weights))


@dataclass
class Snapshots:
    """Maps of the model's class-1 probability (rows follow y) at increasing epochs; epoch 0 is before training."""

    xs: np.ndarray  # (N,) grid coordinates, the axes' units
    ys: np.ndarray  # (N,)
    epochs: list[int] = field(default_factory=list)
    maps: list[np.ndarray] = field(default_factory=list)  # (N, N) float32 each

    @classmethod
    def for_box(cls, box, size: int = SNAPSHOT_SIZE) -> Snapshots:
        xs, ys, _ = grid_points(box, size)
        return cls(xs, ys)

    @classmethod
    def of_frames(cls, box, frames: list[Frame]) -> Snapshots:
        """The decision maps of recorded frames (all of one size)."""
        snapshots = cls.for_box(box, len(frames[0].probability) if frames else SNAPSHOT_SIZE)
        for frame in frames:
            snapshots.add(frame.epoch, frame.probability)
        return snapshots

    def __len__(self) -> int:
        return len(self.epochs)

    def add(self, epoch: int, probability: np.ndarray) -> None:
        if self.epochs and epoch <= self.epochs[-1]:
            if epoch == self.epochs[-1]:
                return  # already there
            raise ValueError(f"snapshots: epoch {epoch} comes after epoch {self.epochs[-1]}")
        probability = np.asarray(probability, dtype=np.float32)
        if probability.shape != (len(self.ys), len(self.xs)):
            raise ValueError(f"snapshots: a map of shape {probability.shape} on a {len(self.xs)}-point grid")
        self.epochs.append(int(epoch))
        self.maps.append(probability)

    def stacked(self) -> np.ndarray:
        """All maps as one (count, N, N) float32 array."""
        if not self.maps:
            return np.zeros((0, len(self.ys), len(self.xs)), dtype=np.float32)
        return np.stack(self.maps).astype(np.float32, copy=False)

    def thinned(self, count: int) -> Snapshots:
        """At most `count` (>= 2) snapshots, evenly spread, the first and the last kept."""
        if len(self) <= count:
            return self
        keep = sorted(set(np.round(np.linspace(0, len(self) - 1, count)).astype(int).tolist()))
        return Snapshots(self.xs, self.ys, [self.epochs[i] for i in keep], [self.maps[i] for i in keep])


def nice_spacing(epochs: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... epochs that is at least `epochs`: snapshots at round epochs."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= epochs:
                return step * factor
        step *= 10


class SnapshotRecorder:
    """A training callback taking a `Frame` at each multiple of a round spacing: about `count` up to epoch `until`
    (default: the end of the next run, `trainer.settings.epochs` more epochs), and, if `first`, one now.

    It must be called at each multiple of the spacing: pass `every` to `Trainer.train`, or `every_near(wanted)`.
    `then` is called with every progress too (a progress bar, say), so the recorder can ride along.
    """

    def __init__(self, trainer: Trainer, until: int | None = None, count: int = SNAPSHOT_COUNT,
                 size: int = SNAPSHOT_SIZE, then: Callable[[Progress], None] | None = None, first: bool = True) -> None:
        self.trainer, self.size, self.then = trainer, size, then
        start = trainer.epochs_done
        until = start + trainer.settings.epochs if until is None else until
        self.spacing = nice_spacing((until - start) / max(1, count))
        self._next = (start // self.spacing + 1) * self.spacing
        self.frames: list[Frame] = []
        self._taken = 0
        if first:
            self.record()  # where the model starts from

    @property
    def every(self) -> int:
        return self.spacing

    def every_near(self, wanted: int) -> int:
        """The callback interval nearest below `wanted` that still meets every multiple of the spacing."""
        return max(d for d in range(1, min(wanted, self.spacing) + 1) if self.spacing % d == 0)

    def due(self, epoch: int) -> bool:
        if epoch < self._next:
            return False
        self._next = (epoch // self.spacing + 1) * self.spacing
        return True

    def __call__(self, progress: Progress) -> None:
        if self.due(progress.epoch):
            self.record()
        if self.then is not None:
            self.then(progress)

    def record(self) -> None:
        """Take the model as it is now (once per epoch)."""
        if not self.frames or self.frames[-1].epoch != self.trainer.epochs_done:
            self.frames.append(Frame.of(self.trainer, self.size))

    def take(self) -> list[Frame]:
        """The frames taken since the last `take`."""
        frames, self._taken = self.frames[self._taken:], len(self.frames)
        return frames

    def finish(self) -> Snapshots:
        """Take the last epoch (a run may end between two snapshots) and return the decision maps."""
        self.record()
        return Snapshots.of_frames(self.trainer.dataset.box, self.frames)


def replay(trainer: Trainer, count: int = SNAPSHOT_COUNT, size: int = SNAPSHOT_SIZE,
           build_lock: AbstractContextManager | None = None) -> Snapshots | None:
    """Snapshots of `trainer`'s training, rebuilt by training a fresh model with the same settings run by run.

    Each run is trained again with its own settings and requested epochs, a stopped run stopped at the same
    epoch, so the numbers come out bit for bit the same. Returns None (nothing to show rather than something
    wrong) if the trainer has no epoch, or the replayed history differs from the trainer's.
    """
    replayed = replay_training(trainer.dataset, trainer.runs, trainer.history, count, size, build_lock)
    return None if replayed is None else replayed[1]


def replay_training(dataset: Dataset, runs: list[Run], history: History, count: int = SNAPSHOT_COUNT,
                    size: int = SNAPSHOT_SIZE, build_lock: AbstractContextManager | None = None
                    ) -> tuple[Trainer, Snapshots] | None:
    """Train a fresh model through `runs` again (see `replay`): the new trainer and its snapshots, or None
    unless its history equals `history`. Give copies of a trainer's runs and history to replay it in another
    thread while it may go on training. Building the model calls `torch.manual_seed`: `build_lock` (held only
    then) keeps other threads from building models meanwhile.
    """
    last = history.epoch[-1] if history.epoch else 0
    if not runs or last == 0 or history.epoch[0] != 1:
        return None
    with build_lock if build_lock is not None else nullcontext():
        fresh = Trainer(Settings.from_dict(runs[0].settings), dataset=dataset)
    recorder = SnapshotRecorder(fresh, until=last, count=count, size=size)
    for run in runs:
        stop_at = run.epochs if run.ended == "stopped" else None
        if stop_at == 0:
            continue  # a run stopped before its first epoch trained nothing

        def callback(step: Progress, stop_at=stop_at) -> None:
            recorder(step)
            if stop_at is not None and step.run_epoch >= stop_at:
                fresh.request_stop()

        fresh.train(run.requested_epochs, callback=callback, every=1, settings=Settings.from_dict(run.settings),
                    schedule=run.schedule)
        if fresh.epochs_done > last:
            return None
    snapshots = recorder.finish()
    if any(getattr(fresh.history, key) != getattr(history, key) for key in HISTORY_KEYS):
        return None
    return fresh, snapshots
