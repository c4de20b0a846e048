"""Training: the notebook's loop (BCE with logits, per-epoch train/test accuracy), fast, stoppable, resumable."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .datasets import Dataset, load_dataset
from .features import feature_columns
from .network import FlatMLP, build_model
from .optim import RateSchedule, StackedOptimizer
from .settings import SPECS, Settings

# A mean cross-entropy this high means confidently wrong by odds of e^69 or more: the weights have blown up.
EXPLODED_LOSS = 100 * math.log(2)
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
            self._optimizer = StackedOptimizer([self.net.flat], settings.optimizer, settings.lr, settings.momentum)
            self._optimizer_settings = key
        for group in self._optimizer.param_groups:
            group["initial_lr"] = settings.lr
            if restart_rate:
                group["lr"] = settings.lr  # a schedule starts each run from settings.lr
        return self._optimizer

    def _scheduler_for(self, optimizer: StackedOptimizer, done: int, length: int) -> RateSchedule | None:
        """The learning-rate schedule (stepped once per epoch), `done` epochs into its `length`, or None. The rate
        itself is left where the previous run's schedule set it: continuing torch's own (recursive) formulas from
        there gives the rates of one unbroken run bit for bit."""
        settings = self.settings
        if settings.schedule == "constant":
            return None
        return RateSchedule(optimizer, settings.schedule, length, settings.decay_every, settings.decay_factor, done)

    def _add_penalty_gradient(self) -> None:
        """L1 or L2 penalty on the weights (not the biases): rate * sum|w| or rate * sum w^2."""
        rate, kind = self.settings.reg_rate, self.settings.reg
        if kind == "none" or rate == 0:
            return
        for weight, grad in zip(self.net.weights, self.net.weight_grads):
            grad.add_(torch.sign(weight) if kind == "l1" else weight, alpha=rate if kind == "l1" else 2 * rate)

    def _step(self, optimizer: StackedOptimizer, logits: torch.Tensor, saved: list, targets: torch.Tensor) -> None:
        """Backward pass from the logits of a training forward pass, then one optimizer step."""
        # d(mean BCE)/d(logits), computed as autograd's BCE-with-logits backward does.
        self.net.backward((torch.sigmoid(logits) - targets) / targets.numel(), saved)
        self._add_penalty_gradient()
        optimizer.step()

    def _loop(self, run: Run, epochs: int, callback, every: int, schedule_done: int, schedule_length: int) -> None:
        settings = self.settings
        optimizer = self._optimizer_for(settings, restart_rate=schedule_done == 0)
        scheduler = self._scheduler_for(optimizer, schedule_done, schedule_length)
        rates: list[float] = []
        net, x, y = self.net, self.x_train, self.y_train
        n = x.shape[0]
        full_batch = settings.batch_size == 0 or settings.batch_size >= n
        # With full batches and no dropout, epoch e+1's forward pass is exactly the post-step evaluation of
        # epoch e, so it gives epoch e's train accuracy for free.
        reuse_forward = full_batch and not settings.dropout
        # Per-epoch results stay on the device until a flush: no host sync per epoch for them.
        train_correct: list[torch.Tensor] = []
        test_results: list[torch.Tensor] = []  # (test correct, test loss) per epoch
        y_true, y_test_true = y >= 0.5, self.y_test >= 0.5
        losses: list[float] = []
        train_pending = False  # epoch whose train accuracy waits for the next forward pass
        backup = net.flat.detach().clone()
        flushed = 0

        def correct(logits, truth):
            return ((torch.sigmoid(logits) >= 0.5) == truth).sum()

        def flush(upto: int) -> None:
            """Move epochs [flushed, upto) into the history (one device-to-host copy)."""
            nonlocal flushed, train_pending
            if train_pending:
                with torch.no_grad():
                    train_correct.append(correct(net.forward(x)[0], y_true))
                train_pending = False
            train = torch.stack(train_correct[flushed:upto]).float().cpu()
            test = torch.stack(test_results[flushed:upto]).cpu()
            history = self.history
            history.epoch += range(run.first_epoch + flushed, run.first_epoch + upto)
            history.loss += losses[flushed:upto]
            # float32 division, as the notebook's (pred == t).float().mean()
            history.train_accuracy += (train / n).tolist()
            history.test_accuracy += (test[:, 0] / self.y_test.shape[0]).tolist()
            history.test_loss += test[:, 1].tolist()
            history.lr += rates[flushed:upto]
            history.run += [run.number] * (upto - flushed)
            run.last_epoch = run.first_epoch + upto - 1
            flushed = upto

        run.ended = "finished"
        for index in range(epochs):
            if self._stop_requested:
                run.ended, run.message = "stopped", f"Stopped after {index} of {epochs} epochs."
                break
            if full_batch:
                logits, saved = net.forward(x, train=True)
                loss = F.binary_cross_entropy_with_logits(logits, y)
                if train_pending:
                    train_correct.append(correct(logits, y_true))
                    train_pending = False
            else:
                backup.copy_(net.flat)
                epoch_start = (self.generator.get_state(), _optimizer_state_copy(optimizer))
                loss = self._minibatch_epoch(optimizer, settings.batch_size)
                if loss is None:  # stopped between two mini-batches: undo the unfinished epoch exactly
                    net.flat.copy_(backup)
                    self.generator.set_state(epoch_start[0])
                    _restore_optimizer_state(optimizer, epoch_start[1])
                    run.ended = "stopped"
                    run.message = (f"Stopped after {index} of {epochs} epochs (during epoch {index + 1}, "
                                   "which was undone).")
                    break
            loss_value = float(loss)
            if not loss_value <= EXPLODED_LOSS:  # also true for nan
                net.flat.copy_(backup)  # the last weights whose loss was finite
                run.ended = "diverged"
                run.message = (
                    f"The loss reached {loss_value:.4g} at epoch {run.first_epoch + index}: training diverged. "
                    f"Try a smaller learning rate (now {settings.lr:g})."
                )
                break
            rates.append(optimizer.param_groups[0]["lr"])
            if full_batch:
                backup.copy_(net.flat)
                self._step(optimizer, logits, saved, y)
            if scheduler is not None:
                scheduler.step()
            losses.append(loss_value)
            with torch.no_grad():
                test_logits = net.forward(self.x_test)[0]
                test_loss = F.binary_cross_entropy_with_logits(test_logits, self.y_test)
                test_results.append(torch.stack([correct(test_logits, y_test_true).float(), test_loss]))
                if reuse_forward:
                    train_pending = True
                else:
                    train_correct.append(correct(net.forward(x)[0], y_true))
            if callback is not None and ((index + 1) % every == 0 or index + 1 == epochs):
                flush(index + 1)
                callback(self.last_progress())
        if flushed < len(losses) or train_pending:
            flush(len(losses))

    def _minibatch_epoch(self, optimizer: torch.optim.Optimizer, batch_size: int) -> torch.Tensor | None:
        """One pass over the shuffled training set in batches; returns the epoch's mean batch loss, or None when a
        stop was requested before the last batch (checked between batches: a long epoch ends at once)."""
        n = self.x_train.shape[0]
        order = torch.randperm(n, device=self.device, generator=self.generator)
        total = torch.zeros((), device=self.device)
        for start in range(0, n, batch_size):
            if self._stop_requested:
                return None
            rows = order[start : start + batch_size]
            targets = self.y_train[rows]
            logits, saved = self.net.forward(self.x_train[rows], train=True)
            loss = F.binary_cross_entropy_with_logits(logits, targets)
            self._step(optimizer, logits, saved, targets)
            total += loss * rows.numel()
        return total / n


def _optimizer_state_copy(optimizer) -> dict:
    """A copy of the optimizer's state (its moments, step counts), cheap enough for every epoch."""
    saved = optimizer.state_dict()
    saved["state"] = {index: {key: value.clone() if isinstance(value, torch.Tensor) else value
                              for key, value in state.items()} for index, state in saved["state"].items()}
    return saved


def _restore_optimizer_state(optimizer, saved: dict) -> None:
    """Put back a state taken by `_optimizer_state_copy`."""
    optimizer.load_state_dict(saved)
