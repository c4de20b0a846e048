"""What the network computes inside, for the Network tab: neuron maps and weights, live and through training.

The worker thread takes `neuron_view` and `weight_view` with each live decision map (cheap: a 32x32 grid) and
records a `Frame` at round epochs with a `FrameRecorder`; the experiment keeps a model's frames with
`add_frames`, so that a slider can replay its training afterwards. Only the first MAX_NEURONS neurons of a layer
are kept: drawn smaller than that, a map shows nothing. Frames hold float16 maps, at most ~0.3 MB each (8 hidden
layers), and there are at most MAX_FRAMES of them. No panel here: the worker thread uses this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import Trainer
from engine.evaluation import evaluate_grid, neuron_maps
from engine.snapshots import nice_spacing

MAX_NEURONS = 16  # neurons per layer drawn (and kept): the first ones
NEURON_MAP_SIZE = 32  # the grid of a neuron map
FRAME_MAP_SIZE = 100  # the grid of a recorded decision map
FRAMES_PER_RUN = 25  # about this many frames over each run, at round epochs
MAX_FRAMES = 40  # per model; beyond it the frames are thinned evenly to about half


def neuron_view(trainer: Trainer, size: int = NEURON_MAP_SIZE) -> list[np.ndarray]:
    """Per hidden layer, the activations of its first MAX_NEURONS neurons over the grid: (k, size, size) float32."""
    return [layer[:MAX_NEURONS].copy() for layer in neuron_maps(trainer, size)]


def weight_view(trainer: Trainer) -> list[np.ndarray]:
    """Per layer, the (out, in) weights between the drawn neurons (all inputs, the output), as numpy copies."""
    return [weight[:MAX_NEURONS, :MAX_NEURONS].detach().cpu().numpy().copy() for weight in trainer.net.weights]


@dataclass(eq=False)
class Frame:
    """The model at one epoch: its decision map, neuron maps and (drawn) weights."""

    epoch: int
    probability: np.ndarray  # (FRAME_MAP_SIZE, FRAME_MAP_SIZE) float16, rows follow y
    neurons: list[np.ndarray]  # as neuron_view, float16
    weights: list[np.ndarray]  # as weight_view

    @classmethod
    def of(cls, trainer: Trainer) -> Frame:
        probability = evaluate_grid(trainer, FRAME_MAP_SIZE).probability.astype(np.float16)
        neurons = [layer.astype(np.float16) for layer in neuron_view(trainer)]
        return cls(trainer.epochs_done, probability, neurons, weight_view(trainer))

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in (self.probability, *self.neurons, *self.weights))


class FrameRecorder:
    """Records a frame at each multiple of a round spacing (1, 2, 5, 10, 20... epochs), about FRAMES_PER_RUN
    over a run of `epochs` from epoch `start`; call it after every epoch that is a multiple of `every(...)`."""

    def __init__(self, epochs: int, start: int = 0) -> None:
        self.spacing = nice_spacing(epochs / FRAMES_PER_RUN)
        self._next = (start // self.spacing + 1) * self.spacing

    def every(self, wanted: int) -> int:
        """The callback interval nearest below `wanted` that still meets every multiple of the spacing."""
        return max(d for d in range(1, min(wanted, self.spacing) + 1) if self.spacing % d == 0)

    def due(self, epoch: int) -> bool:
        if epoch < self._next:
            return False
        self._next = (epoch // self.spacing + 1) * self.spacing
        return True


def add_frames(frames: list[Frame], new: list[Frame]) -> list[Frame]:
    """`frames` followed by the `new` ones of later epochs; more than MAX_FRAMES are thinned evenly to about half
    (the first and the last kept)."""
    frames = list(frames)
    for frame in new:
        if not frames or frame.epoch > frames[-1].epoch:
            frames.append(frame)
    if len(frames) > MAX_FRAMES:
        keep = np.unique(np.round(np.linspace(0, len(frames) - 1, MAX_FRAMES // 2 + 1)).astype(int))
        frames = [frames[i] for i in keep]
    return frames
