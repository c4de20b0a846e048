"""Training many models at once: a stack (`engine.stacked.StackedMLP`) run by the one training loop
(`engine.loop.Loop`), and what a sweep keeps of each model (`ModelResult`).

A model that cannot stack (dropout, mini-batches: `engine.stacked.can_stack`) is a task of its own
(`engine.sweep.plan`) trained with the single-model `Trainer` (`train_alone`). Stacked results agree with single
runs to float rounding, not bit for bit (the matmuls sum in another order): docs/performance.md has the numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .datasets import Dataset, load_dataset
from .features import feature_columns
from .loop import COLUMNS, Data, Loop, Penalty, new_optimizer, rate_schedule
from .settings import Settings
from .stacked import StackedMLP, can_stack, data_key, stack_key

HISTORY_KEYS = ("epoch", "loss", "train_accuracy", "test_accuracy", "test_loss")
HISTORY_POINTS = 100  # a result keeps about this many epochs of its history (and always the last)
GRID_SIZE = 200  # the agreement with the exact target is measured on this grid, as the dashboard's map
HALFWAY = 0.5  # a model has learned its data once its test accuracy is this share of the way from baseline to 100 %


@dataclass
class ModelResult:
    """What a sweep keeps of one model."""

    index: int  # position in the sweep's model list
    settings: Settings
    final: dict | None  # epoch, loss, test_loss, train_accuracy, test_accuracy of the last epoch (None: no epoch)
    agreement: float | None  # share of a 200x200 grid where the model and the exact target agree (toy data)
    epochs_to_halfway: int | None  # first epoch whose test accuracy is HALFWAY from `majority` to 100 % (or None)
    seconds: float  # training time (for a stack: its time divided by its models)
    history: dict = field(default_factory=dict)  # HISTORY_KEYS -> lists, thinned to about HISTORY_POINTS epochs
    ended: str = "finished"  # "finished", "diverged" or "stopped"
    message: str = ""
    stacked: bool = True  # trained in a stack (False: alone, with the single-model Trainer)
    majority: float | None = None  # the majority-class baseline of its own test set

    def to_dict(self) -> dict:
        return {
            "index": self.index, "settings": self.settings.to_dict(), "final": self.final,
            "agreement": self.agreement, "epochs_to_halfway": self.epochs_to_halfway, "seconds": self.seconds,
            "history": self.history, "ended": self.ended, "message": self.message, "stacked": self.stacked,
            "majority": self.majority,
        }


# ----- the results of one model, from its per-epoch numbers -----
def thinned(history: dict[str, list], points: int = HISTORY_POINTS) -> dict[str, list]:
    count = len(history["epoch"])
    if count <= points:
        return history
    stride = math.ceil(count / points)
    keep = list(range(0, count, stride))
    if keep[-1] != count - 1:
        keep.append(count - 1)
    return {key: [values[i] for i in keep] for key, values in history.items()}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def epochs_to_halfway(history: dict[str, list], majority: float) -> int | None:
    """The first epoch whose test accuracy is at least HALFWAY from the majority baseline to 100 % (None if
    none is): a fixed goal per dataset, so a model stuck at its baseline never counts as fast."""
    goal = majority + HALFWAY * (1 - majority)
    return next((e for e, a in zip(history["epoch"], history["test_accuracy"]) if a is not None and a >= goal), None)


def summarise(index: int, settings: Settings, history: dict[str, list], agreement, seconds: float, ended: str,
              message: str, stacked: bool, majority: float) -> ModelResult:
    history = {key: [(_finite(v) if isinstance(v, float) else v) for v in values] for key, values in history.items()}
    final = {key: values[-1] for key, values in history.items()} if history["epoch"] else None
    return ModelResult(index, settings, final, agreement, epochs_to_halfway(history, majority), seconds,
                       thinned(history), ended, message, stacked, majority)


# ----- training a stack -----
def _inputs(dataset: Dataset, settings: Settings, points: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.tensor(feature_columns(dataset.normalise(points), settings.features), device=device)


def _grid_agreement(dataset: Dataset, settings: Settings, logits_of) -> np.ndarray | None:
    """Per model, the share of the GRID_SIZE^2 grid where prediction and exact target agree (None: no target)."""
    if dataset.exact is None:
        return None
    from .evaluation import grid_points

    _, _, points = grid_points(dataset.box, GRID_SIZE)
    exact = dataset.exact(points) >= 0.5
    probability = torch.sigmoid(logits_of(points)).cpu().numpy()  # (K, n)
    return np.mean((probability >= 0.5) == exact[None, :], axis=1)


def train_stack(indices: Sequence[int], settings: Sequence[Settings], dataset: Dataset | None = None,
                stop=None) -> list[ModelResult]:
    """Train models that share a `stack_key` as one stack; `stop` (anything with is_set()) ends them all early."""
    first = settings[0]
    if any(stack_key(s) != stack_key(first) for s in settings):
        raise ValueError("train_stack: the models differ in more than seed, lr and reg_rate")
    dataset = dataset if dataset is not None else load_dataset(first)
    device = torch.device(first.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: CUDA was asked for but torch sees no CUDA device")
    if device.type == "cpu":
        torch.set_num_threads(1)
    if not can_stack(first, len(dataset.y_train)):
        raise ValueError("train_stack: dropout and mini-batches train with the single-model Trainer (train_alone)")
    started = time.perf_counter()
    net = StackedMLP.from_seeds(settings, device)
    data = Data(_inputs(dataset, first, dataset.x_train, device).t().contiguous(),
                torch.tensor(dataset.y_train, device=device)[None, None, :],
                _inputs(dataset, first, dataset.x_test, device).t().contiguous(),
                torch.tensor(dataset.y_test, device=device)[None, None, :])
    optimizer = new_optimizer(net.flat, settings)
    loop = Loop(net, data, optimizer, rate_schedule(optimizer, first, first.epochs), Penalty.of(settings),
                [s.lr for s in settings], stop.is_set if stop is not None else lambda: False)
    loop.run(first.epochs)
    seconds = (time.perf_counter() - started) / len(settings)

    final = net.flat.detach().clone()  # each model's weights at its end
    for position, model in enumerate(loop.models):
        final[model] = loop.net.flat[position]
    for model, weights in loop.left.items():
        final[model] = weights
    final_net = StackedMLP(final, net.inputs, net.hidden, net.activation)
    agreement = _grid_agreement(
        dataset, first, lambda points: final_net.logits(_inputs(dataset, first, points, device))
    )
    results = []
    for model, model_settings in enumerate(settings):
        history = {key: loop.columns[key][model] for key in COLUMNS}
        history["epoch"] = list(range(1, len(history["loss"]) + 1))
        results.append(summarise(indices[model], model_settings, history,
                                 None if agreement is None else float(agreement[model]), seconds, loop.ended[model],
                                 loop.message[model], True, dataset.majority_share("test")))
    return results


def train_alone(index: int, settings: Settings, dataset: Dataset | None = None, stop=None) -> ModelResult:
    """One model with the single-model Trainer (what the stacked path does not cover: dropout, mini-batches)."""
    from .evaluation import evaluate_grid
    from .training import Trainer

    trainer = Trainer(settings.replace(threads=1), dataset=dataset)

    def check(progress) -> None:
        if stop is not None and stop.is_set():
            trainer.request_stop()

    run = trainer.train(callback=check if stop is not None else None, every=10)
    grid = evaluate_grid(trainer, GRID_SIZE) if trainer.dataset.exact is not None else None
    history = {key: list(getattr(trainer.history, key)) for key in HISTORY_KEYS}
    return summarise(index, settings, history, None if grid is None else grid.agreement, run.seconds, run.ended,
                     run.message, False, trainer.dataset.majority_share("test"))


def train_models(indices: Sequence[int], settings: Sequence[Settings], stop=None,
                 datasets: dict | None = None) -> list[ModelResult]:
    """Train models of one task: as one stack when they share a stack key and can stack, else one by one."""
    datasets = datasets if datasets is not None else {}
    key = data_key(settings[0])
    if key not in datasets:
        datasets[key] = load_dataset(settings[0])
    dataset = datasets[key]
    same = all(stack_key(s) == stack_key(settings[0]) for s in settings)
    if same and can_stack(settings[0], len(dataset.y_train)):
        return train_stack(indices, settings, dataset, stop)
    results = []
    for index, s in zip(indices, settings):
        k = data_key(s)
        if k not in datasets:
            datasets[k] = load_dataset(s)
        results.append(train_alone(index, s, datasets[k], stop))
    return results
