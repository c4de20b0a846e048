"""One model's experiment (`Trainer`): its data, model, runs and per-epoch history, stoppable and resumable.

Each run is the one training loop (`engine.loop.Loop`) over the model as a stack of one (`FlatMLP`): the numbers
are the notebook's and plain PyTorch's, bit for bit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .datasets import Dataset, load_dataset
from .features import feature_columns
from .loop import COLUMNS, Data, Loop, Penalty, new_optimizer, rate_schedule
from .network import FlatMLP, build_model
from .optim import StackedOptimizer
from .settings import SPECS, Settings

HISTORY_KEYS = ("epoch", "loss", "train_accuracy", "test_accuracy", "test_loss")
# Settings that, when changed, need a new optimizer (a change of lr alone keeps the optimizer's state).
OPTIMIZER_KEYS = ("optimizer", "momentum")


@dataclass(frozen=True)
class Progress:
    """Where a run stands: what a callback receives and the status line shows."""

    run: int
    epoch: int  # counted over all runs, from 1
    run_epoch: int  # counted within this run, from 1
    run_epochs: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    test_loss: float
    lr: float  # the learning rate of the last epoch
    scheduled: bool = False  # the rate follows a schedule, so the status shows it

    @property
    def status(self) -> str:
        """The teaching notebook's status line (with the learning rate when a schedule changes it)."""
        line = (
            f"Epoch {self.run_epoch:02d}/{self.run_epochs:02d} | loss = {self.loss:.4f} | "
            f"train acc = {100 * self.train_accuracy:5.1f}% | test acc = {100 * self.test_accuracy:5.1f}%"
        )
        return f"{line} | lr = {self.lr:.2e}" if self.scheduled else line


@dataclass
class Run:
    """One call to `Trainer.train`: its epochs, its settings and how it ended."""

    number: int
    first_epoch: int
    last_epoch: int
    requested_epochs: int
    settings: dict
    seconds: float = 0.0
    ended: str = "running"  # "finished", "stopped" or "diverged"
    message: str = ""
    schedule: tuple[int, int] | None = None  # `Trainer.train`'s schedule argument, when it continued one

    @property
    def epochs(self) -> int:
        return self.last_epoch - self.first_epoch + 1 if self.last_epoch >= self.first_epoch else 0


@dataclass
class History:
    """Per-epoch metrics of all runs, in order; accuracies are fractions from 0 to 1."""

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # the learning rate each epoch trained with
    run: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, list]:
        return {key: list(getattr(self, key)) for key in HISTORY_KEYS + ("lr", "run")}

    @classmethod
    def from_dict(cls, values: dict[str, list]) -> History:
        return cls(**{key: list(values[key]) for key in HISTORY_KEYS + ("lr", "run")})

    def __len__(self) -> int:
        return len(self.epoch)


class Trainer:
    """One experiment: its data, its model and the history of every run it trained.

    Unless a model is given, `torch.manual_seed(settings.seed)` is called right before `build_model`, so the
    same settings give the same history bit for bit, and plain PyTorch seeded the same way gives it too.
    """

    def __init__(self, settings: Settings, dataset: Dataset | None = None, model: torch.nn.Sequential | None = None):
        self.settings = settings
        self.dataset = dataset if dataset is not None else load_dataset(settings)
        try:
            self.device = torch.device(settings.device)
        except (RuntimeError, ValueError):
            raise ValueError(f"device: 'cpu', 'cuda' or 'cuda:N', got {settings.device!r}") from None
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device: CUDA was asked for but torch sees no CUDA device")
        data = self.dataset
        self.x_train = self._inputs(data.x_train)
        self.x_test = self._inputs(data.x_test)
        self.y_train = torch.tensor(data.y_train[:, None], device=self.device)
        self.y_test = torch.tensor(data.y_test[:, None], device=self.device)
        if model is None:
            torch.manual_seed(settings.seed)
            if settings.notebook_draw:  # the notebook's example layer, thrown away: it only consumes random numbers
                torch.nn.Linear(2, 8)
            model = build_model(len(settings.features), settings.hidden, settings.activation, settings.dropout)
        self.model = model
        self.net = FlatMLP(model.to(self.device), settings.activation, settings.dropout)
        # Shuffling and dropout draw from the trainer's own generator, started where torch's global one stands
        # now: a plain PyTorch script that builds the model and trains draws the same numbers, yet trainers
        # in other threads or sessions cannot disturb each other.
        self.generator = torch.Generator(device=self.device)
        if self.device.type == "cpu":
            self.generator.set_state(torch.get_rng_state())
        else:
            self.generator.manual_seed(settings.seed)
        self.net.generator = self.generator
        self.history = History()
        self.runs: list[Run] = []
        self._optimizer: StackedOptimizer | None = None
        self._optimizer_settings: tuple | None = None
        self._stop_requested = False

    # ----- public API -----
    @property
    def epochs_done(self) -> int:
        return self.history.epoch[-1] if self.history.epoch else 0

    @property
    def parameter_count(self) -> int:
        return self.net.flat.numel()

    def request_stop(self) -> None:
        """Ask a running `train` (in another thread) to end: after the current epoch, or with mini-batches after
        the current one. An unfinished epoch is undone (weights, optimizer state and random generator back to where
        it began) and not recorded, so training on later gives exactly what an unstopped run would have."""
        self._stop_requested = True

    def train(
        self,
        epochs: int | None = None,
        callback: Callable[[Progress], None] | None = None,
        every: int = 1,
        settings: Settings | None = None,
        schedule: tuple[int, int] | None = None,
    ) -> Run:
        """Train the current model for `epochs` more epochs (default: the settings'), as a new run.

        `settings` may change the training settings (optimizer, lr, batch size, regularisation) between runs;
        the data and the network must stay those the trainer was built with. `callback` gets a `Progress`
        every `every` epochs and after the last one. A stop request ends the run after the current epoch;
        a non-finite loss ends it with the model set back to the last weights that gave a finite loss.

        The learning-rate schedule starts again with each run, over its `epochs`. `schedule=(done, length)`
        instead goes on with a schedule of `length` epochs of which `done` were trained by the previous runs
        (a paused run resumed in stretches): the rate goes on from where the previous run left it.
        """
        if settings is not None:
            self._change_training_settings(settings)
        settings = self.settings
        epochs = settings.epochs if epochs is None else epochs
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs: must be a whole number >= 1, got {epochs!r}")
        if self.device.type == "cpu":
            torch.set_num_threads(settings.threads)
        done, length = schedule if schedule is not None else (0, epochs)
        if not 0 <= done < length or (done > 0 and self._optimizer is None):
            raise ValueError(f"schedule: {done} of {length} epochs done does not continue a previous run")
        self._stop_requested = False
        run = Run(len(self.runs) + 1, self.epochs_done + 1, self.epochs_done, epochs, settings.to_dict(),
                  schedule=None if schedule is None else tuple(schedule))
        self.runs.append(run)
        started = time.perf_counter()
        try:
            self._loop(run, epochs, callback, max(1, every), done, length)
        finally:
            run.seconds = time.perf_counter() - started
            self.net.copy_to(self.model)
        return run

    def optimizer_state(self) -> dict | None:
        """The optimizer's state_dict (None before the first run), to save an experiment."""
        return self._optimizer.state_dict() if self._optimizer is not None else None

    def load_optimizer_state(self, state: dict) -> None:
        """Give the optimizer of the current training settings a saved state, to continue where it stopped."""
        self._optimizer_for(self.settings).load_state_dict(state)

    def last_progress(self) -> Progress | None:
        if not self.history.epoch:
            return None
        run = self.runs[-1]
        h = self.history
        return Progress(
            run.number, h.epoch[-1], run.epochs, run.requested_epochs,
            h.loss[-1], h.train_accuracy[-1], h.test_accuracy[-1], h.test_loss[-1],
            h.lr[-1], run.settings["schedule"] != "constant",
        )

    @torch.no_grad()
    def predict_proba(self, points: np.ndarray) -> np.ndarray:
        """Class-1 probability at points given in the dataset's coordinates (the axes' units)."""
        logits, _ = self.net.forward(self._inputs(points))
        return torch.sigmoid(logits).reshape(-1).cpu().numpy()

    @torch.no_grad()
    def hidden_activations(self, points: np.ndarray) -> list[np.ndarray]:
        """Each hidden layer's output (after its activation) at the points: arrays (n, width)."""
        _, saved = self.net.forward(self._inputs(points))
        return [post.cpu().numpy() for _, _, post, _ in saved[:-1]]

    # ----- internals -----
    def _inputs(self, points: np.ndarray) -> torch.Tensor:
        columns = feature_columns(self.dataset.normalise(points), self.settings.features)
        return torch.tensor(columns, device=self.device)

    def _change_training_settings(self, settings: Settings) -> None:
        # The data and the network stay with the model (the seed only mattered when it was built).
        fixed = [name for name, spec in SPECS.items() if spec.part != "training" and name != "seed"]
        changed = [name for name in fixed if getattr(settings, name) != getattr(self.settings, name)]
        if changed:
            raise ValueError(f"cannot continue training after changing {', '.join(changed)}: train a new model")
        self.settings = settings

    def _optimizer_for(self, settings: Settings, restart_rate: bool = True) -> StackedOptimizer:
        """torch's update rule for the settings' optimizer over the flat weights (engine.optim: the same numbers
        as torch.optim, without importing torch._dynamo)."""
        key = tuple(getattr(settings, name) for name in OPTIMIZER_KEYS)
        if self._optimizer is None or key != self._optimizer_settings:
            self._optimizer = new_optimizer(self.net.flat, [settings])
            self._optimizer_settings = key
        for group in self._optimizer.param_groups:
            group["initial_lr"] = settings.lr
            if restart_rate:
                group["lr"] = settings.lr  # a schedule starts each run from settings.lr
        return self._optimizer

    def _loop(self, run: Run, epochs: int, callback, every: int, schedule_done: int, schedule_length: int) -> None:
        """One run of `engine.loop.Loop` over this model (a stack of one), its epochs copied into the history."""
        settings = self.settings
        optimizer = self._optimizer_for(settings, restart_rate=schedule_done == 0)
        # The rate itself is left where the previous run's schedule set it: continuing torch's own (recursive)
        # formulas from there gives the rates of one unbroken run bit for bit.
        schedule = rate_schedule(optimizer, settings, schedule_length, schedule_done)
        loop = Loop(self.net, Data(self.x_train, self.y_train, self.x_test, self.y_test), optimizer, schedule,
                    Penalty.of([settings]), [settings.lr], lambda: self._stop_requested, settings.batch_size,
                    self.generator, run.first_epoch)

        def record() -> None:
            history, columns, sent = self.history, loop.columns, run.epochs
            count = len(columns["loss"][0]) - sent
            history.epoch += range(run.last_epoch + 1, run.last_epoch + 1 + count)
            for key in COLUMNS:
                getattr(history, key).extend(columns[key][0][sent:])
            history.lr += loop.rates[sent:]
            history.run += [run.number] * count
            run.last_epoch += count

        def report() -> None:
            record()
            callback(self.last_progress())

        loop.run(epochs, every, report if callback is not None else None)
        record()
        run.ended, run.message = loop.ended[0], loop.message[0]
