"""The one training loop: a stack of models (one model is a stack of one) trained epoch by epoch.

`Loop` runs the notebook's epoch over any net with the protocol below (`engine.network.FlatMLP` for one model,
`engine.stacked.StackedMLP` for many): forward, loss, divergence guard, backward + penalty + optimizer step,
evaluation on the test set, and records per-epoch numbers on the device until `flush` moves them to the host.

Net protocol: `flat` (all weights; models along the first axis of a stack), `weights` and `weight_grads`,
`models`, `forward(x, train, into) -> (logits, saved)` (`into`: a name for reused buffers), `backward(logit_grad,
saved)`, `release()` (of those buffers), `losses(logits, targets)` and
`correct(probability, truth)` (per model), and, for a stack that models may leave, `select(index)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from .optim import RateSchedule, StackedOptimizer, one_or_each

# A mean cross-entropy this high means confidently wrong by odds of e^69 or more: the weights have blown up.
EXPLODED_LOSS = 100 * math.log(2)
COLUMNS = ("loss", "train_accuracy", "test_accuracy", "test_loss")  # what `flush` writes per model and epoch


def diverged_message(loss: float, epoch: int, lr: float) -> str:
    return f"The loss reached {loss:.4g} at epoch {epoch}: training diverged. Try a smaller learning rate (now {lr:g})."


class Data(NamedTuple):
    """Training and test inputs and targets, laid out as the net takes them."""

    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def new_optimizer(flat: torch.Tensor, settings: Sequence) -> StackedOptimizer:
    """The settings' optimizer over `flat`, one learning rate per model (one float when they are all equal)."""
    first = settings[0]
    optimizer = StackedOptimizer([flat], first.optimizer, one_or_each(s.lr for s in settings), first.momentum)
    optimizer.param_groups[0]["initial_lr"] = optimizer.param_groups[0]["lr"]
    return optimizer


def rate_schedule(optimizer: StackedOptimizer, settings, length: int, done: int = 0) -> RateSchedule | None:
    """The settings' learning-rate schedule over `length` epochs, `done` of them already trained (None: constant)."""
    if settings.schedule == "constant":
        return None
    return RateSchedule(optimizer, settings.schedule, length, settings.decay_every, settings.decay_factor, done)


class Penalty:
    """L1 or L2 penalty on the weights (not the biases), rate * sum|w| or rate * sum w^2: one rate or one per model."""

    def __init__(self, kind: str, rates) -> None:
        self.kind, self.rates, self._scales = kind, rates, {}

    @classmethod
    def of(cls, settings: Sequence) -> Penalty | None:
        kind = settings[0].reg
        rates = [float(s.reg_rate) if kind != "none" else 0.0 for s in settings]
        return cls(kind, one_or_each(rates)) if any(rates) else None

    def add_gradient(self, net) -> None:
        factor = 1 if self.kind == "l1" else 2
        for weight, grad in zip(net.weights, net.weight_grads):
            source = torch.sign(weight) if self.kind == "l1" else weight
            if isinstance(self.rates, float):
                grad.add_(source, alpha=factor * self.rates)
            else:
                grad.addcmul_(source, self._scale(factor, weight))

    def _scale(self, factor: int, weight: torch.Tensor) -> torch.Tensor:
        if factor not in self._scales:
            scale = torch.tensor([factor * r for r in self.rates], dtype=torch.float64)
            self._scales[factor] = scale.to(device=weight.device, dtype=weight.dtype).view(-1, 1, 1)
        return self._scales[factor]

    def select(self, keep: list[int]) -> Penalty:
        return self if isinstance(self.rates, float) else Penalty(self.kind, one_or_each(self.rates[p] for p in keep))


class Loop:
    """Trains `net` epoch by epoch; the models are `models` (their ids, one per row of the stack).

    Per model it ends with `ended` ("finished", "stopped", "diverged"), `message`, `columns` (COLUMNS -> values per
    epoch, after `flush`) and, for a model that left the stack, its last finite weights in `left`.
    """

    def __init__(self, net, data: Data, optimizer: StackedOptimizer, schedule: RateSchedule | None,
                 penalty: Penalty | None, lrs: Sequence[float], should_stop: Callable[[], bool],
                 batch_size: int = 0, generator: torch.Generator | None = None, first_epoch: int = 1) -> None:
        self.net, self.data, self.optimizer, self.schedule, self.penalty = net, data, optimizer, schedule, penalty
        self.lrs, self.should_stop, self.generator, self.first_epoch = lrs, should_stop, generator, first_epoch
        n = data.y.numel()
        self.batch_size = batch_size if 0 < batch_size < n else 0  # 0: full batch
        # With full batches and no dropout, epoch e+1's forward pass is exactly the post-step evaluation of
        # epoch e, so it gives epoch e's train accuracy for free.
        self.reuse_forward = not self.batch_size and not net.dropout
        self.models = list(range(len(lrs)))  # the model of each row of the stack
        self.ended, self.message = ["finished"] * len(lrs), [""] * len(lrs)
        self.columns = {key: [[] for _ in lrs] for key in COLUMNS}
        self.rates: list = []  # the learning rate each epoch trained with
        self.left: dict[int, torch.Tensor] = {}
        self.backup = net.flat.detach().clone()
        self._truth = (data.y >= 0.5, data.y_test >= 0.5)
        self._pending: dict[str, list[torch.Tensor]] = {key: [] for key in COLUMNS}
        self._train_pending = False  # an epoch whose train accuracy waits for the next forward pass
        self._counts: dict[int, torch.Tensor] = {}

    # ----- the epoch -----
    def run(self, epochs: int, every: int = 0, report: Callable[[], None] | None = None) -> None:
        """Train up to `epochs` epochs; `report()` is called after every `every` of them and after the last."""
        with torch.no_grad():
            for index in range(epochs):
                if self.should_stop():
                    self._end("stopped", f"Stopped after {index} of {epochs} epochs.")
                    break
                lr = self.optimizer.param_groups[0]["lr"]
                if not (self.minibatch_epoch(index, epochs) if self.batch_size else self.full_batch_epoch(index)):
                    break
                self.rates.append(lr)
                if self.schedule is not None:
                    self.schedule.step()
                self.evaluate()
                if report is not None and ((index + 1) % every == 0 or index + 1 == epochs):
                    self.flush()
                    report()
            self.flush()
        self.net.release()

    def full_batch_epoch(self, index: int) -> bool:
        """Forward, loss, guard, step; False when no model is left to train."""
        saved, probability, losses = self.forward()
        if not self.guard(losses, index):
            if self.ended[self.models[0]] == "diverged":
                return False  # all of them
            saved, probability, losses = self.forward()  # the models that are left
        self._pending["loss"].append(losses)
        self.backup.copy_(self.net.flat)
        self.step(probability, self.data.y, saved)
        return True

    def forward(self) -> tuple:
        """The training forward pass: saved tensors, probabilities and per-model losses."""
        logits, saved = self.net.forward(self.data.x, train=True, into="train")
        probability = torch.sigmoid(logits)
        if self._train_pending:
            self._pending["train_accuracy"].append(self.net.correct(probability, self._truth[0]))
            self._train_pending = False
        return saved, probability, self.net.losses(logits, self.data.y)

    def step(self, probability: torch.Tensor, targets: torch.Tensor, saved: list) -> None:
        """Backward pass (d(mean BCE)/d(logits) as autograd computes it), penalty gradient, one optimizer step."""
        count = self._counts.get(targets.numel())
        if count is None:  # n as a tensor, made once (a Python number becomes one at every call: ~5 us)
            count = self._counts[targets.numel()] = torch.tensor(float(targets.numel()), dtype=targets.dtype)
        self.net.backward(torch.sub(probability, targets, out=probability).div_(count), saved)
        if self.penalty is not None:
            self.penalty.add_gradient(self.net)
        self.optimizer.step()

    def guard(self, losses: torch.Tensor, index: int) -> bool:
        """True when every loss is finite and below EXPLODED_LOSS. Else the models that blew up end "diverged" with
        their last finite weights: they leave the stack, or, when none would be left, the whole stack ends."""
        if float(losses if self.net.models == 1 else losses.max()) <= EXPLODED_LOSS:  # nan compares False
            return True
        values = losses.reshape(-1).tolist()
        bad = [p for p, value in enumerate(values) if not value <= EXPLODED_LOSS]
        for p in bad:
            model = self.models[p]
            self.ended[model] = "diverged"
            self.message[model] = diverged_message(values[p], self.first_epoch + index, self.lrs[model])
        if len(bad) == len(values):
            self.net.flat.copy_(self.backup)  # the whole stack ends
        else:
            self._leave(bad)
        return False

    def minibatch_epoch(self, index: int, epochs: int) -> bool:
        """One pass over the shuffled training set in batches. A stop request is honoured between batches: the
        unfinished epoch is undone (weights, optimizer state, random generator) and False returned."""
        net, data = self.net, self.data
        self.backup.copy_(net.flat)
        start_state = (self.generator.get_state(), _optimizer_state_copy(self.optimizer))
        n = data.y.numel()
        order = torch.randperm(n, device=data.y.device, generator=self.generator)
        total = torch.zeros((), device=data.y.device)
        for start in range(0, n, self.batch_size):
            if self.should_stop():
                net.flat.copy_(self.backup)
                self.generator.set_state(start_state[0])
                self.optimizer.load_state_dict(start_state[1])
                self._end("stopped", f"Stopped after {index} of {epochs} epochs (during epoch {index + 1}, "
                                     "which was undone).")
                return False
            rows = order[start : start + self.batch_size]
            targets = data.y[rows]
            logits, saved = net.forward(data.x[rows], train=True, into="batch")
            self.step(torch.sigmoid(logits), targets, saved)
            total += net.losses(logits, targets) * rows.numel()
        losses = total / n
        if not self.guard(losses, index):
            return False
        self._pending["loss"].append(losses)
        return True

    def evaluate(self) -> None:
        """Test accuracy and loss after the step, and train accuracy (now, or from the next forward pass)."""
        net, data = self.net, self.data
        logits = net.forward(data.x_test, into="test")[0]
        self._pending["test_accuracy"].append(net.correct(torch.sigmoid(logits), self._truth[1]))
        self._pending["test_loss"].append(net.losses(logits, data.y_test))
        if self.reuse_forward:
            self._train_pending = True
        else:
            self._pending["train_accuracy"].append(net.correct(torch.sigmoid(net.forward(data.x, into="train")[0]),
                                                                       self._truth[0]))

    # ----- the record -----
    def flush(self) -> None:
        """Move the epochs kept on the device into `columns` (one device-to-host copy)."""
        pending = self._pending
        if self._train_pending:
            with torch.no_grad():
                logits = self.net.forward(self.data.x, into="train")[0]
            pending["train_accuracy"].append(self.net.correct(torch.sigmoid(logits), self._truth[0]))
            self._train_pending = False
        count = len(pending["test_loss"])
        if not count:
            return
        sizes = {"train_accuracy": self.data.y.numel(), "test_accuracy": self.data.y_test.numel()}
        # float32 division, as the notebook's (pred == t).float().mean()
        table = torch.stack([torch.stack(pending[key]).reshape(count, -1).float() / sizes.get(key, 1)
                             for key in COLUMNS]).cpu().tolist()
        for key, values in zip(COLUMNS, table):
            for position, model in enumerate(self.models):
                self.columns[key][model].extend(row[position] for row in values)
            pending[key].clear()

    def _leave(self, positions: list[int]) -> None:
        """The models at these rows leave the stack with their last finite weights; the others go on."""
        self.flush()
        for p in positions:
            self.left[self.models[p]] = self.backup[p].clone()
        keep = [p for p in range(len(self.models)) if p not in set(positions)]
        index = torch.tensor(keep, device=self.backup.device)
        self.net = self.net.select(index)
        self.optimizer = self.optimizer.select(keep, self.net.flat)
        if self.schedule is not None:
            self.schedule.select(keep, self.optimizer)
        if self.penalty is not None:
            self.penalty = self.penalty.select(keep)
        self.models = [self.models[p] for p in keep]
        self.backup = self.backup.index_select(0, index)

    def _end(self, ended: str, message: str) -> None:
        for model in self.models:
            self.ended[model], self.message[model] = ended, message


def _optimizer_state_copy(optimizer: StackedOptimizer) -> dict:
    """A copy of the optimizer's state (its moments, step counts), cheap enough for every epoch."""
    saved = optimizer.state_dict()
    saved["state"] = {index: {key: value.clone() if isinstance(value, torch.Tensor) else value
                              for key, value in state.items()} for index, state in saved["state"].items()}
    return saved
