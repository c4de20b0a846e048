"""Hints: what a training run shows, with the numbers that show it, and the experiment that tests it.

`RULES` is the one table of hints (add one there): each `Rule` has a name, its thresholds (`limits`), a check that
reads a `Case` (settings, history, data, how the run ended, hidden activations on the training points) and returns
the evidence numbers or None, the message written from them, and the variant to train: setting changes such as
{"lr": lr / 10}. `hints(Case.of(trainer))` applies the table after a run; `live=True` rules need only the history,
so a running run may be checked too. numpy and the engine only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .datasets import Dataset
from .setting_types import format_value
from .settings import MAX_WIDTH, SPECS, Settings
from .training import History, Trainer

SATURATED_OUTPUT = {"tanh": (-0.99, 0.99), "sigmoid": (0.01, 0.99)}  # outside these the slope is under ~0.02
CHUNK = 8192  # training points per forward pass when reading the hidden units
MAX_POINTS = 2 * CHUNK  # the units are read on at most this many training points, evenly spread (bench/hints.py)


@dataclass(frozen=True)
class Units:
    """What one hidden layer's units do on the training points: each unit's largest output and the share of the
    points on which it sits in its activation's flat tails (0 for activations without)."""

    largest: np.ndarray  # (width,)
    tails: np.ndarray  # (width,)


@dataclass
class Case:
    """What the rules read about one model: its settings (the last run's), history, data, how its last run ended
    ("finished", "stopped", "diverged", "running", ...) and, if known, the hidden layers' outputs at given points
    (`Trainer.hidden_activations`: points -> arrays (n, width) per layer)."""

    settings: Settings
    history: History
    dataset: Dataset
    ended: str = "finished"
    activations: Callable[[np.ndarray], list[np.ndarray]] | None = None

    @classmethod
    def of(cls, trainer: Trainer, history: History | None = None, ended: str | None = None) -> Case:
        """The case of a trainer between runs (its own history and last run unless given)."""
        ended = ended or (trainer.runs[-1].ended if trainer.runs else "finished")
        return cls(trainer.settings, trainer.history if history is None else history, trainer.dataset, ended,
                   trainer.hidden_activations)

    @functools.cached_property
    def units(self) -> list[Units] | None:
        """Per hidden layer, its units on the training points (None when unknown), computed once, in chunks:
        on all of them up to MAX_POINTS, else on MAX_POINTS evenly spread (a run's end stays well under a second)."""
        if self.activations is None or not self.settings.hidden:
            return None
        low, high = SATURATED_OUTPUT.get(self.settings.activation, (-np.inf, np.inf))
        points = self.read_points
        largest, tails = None, None
        for start in range(0, len(points), CHUNK):
            layers = self.activations(points[start:start + CHUNK])
            chunk_largest = [layer.max(axis=0) for layer in layers]
            chunk_tails = [((layer < low) | (layer > high)).sum(axis=0) for layer in layers]
            if largest is None:
                largest, tails = chunk_largest, chunk_tails
            else:
                largest = [np.maximum(a, b) for a, b in zip(largest, chunk_largest)]
                tails = [a + b for a, b in zip(tails, chunk_tails)]
        return [Units(a, b / len(points)) for a, b in zip(largest, tails)]

    @property
    def read_points(self) -> np.ndarray:
        """The training points the units are read on."""
        points = self.dataset.x_train
        if len(points) <= MAX_POINTS:
            return points
        return points[np.linspace(0, len(points) - 1, MAX_POINTS).astype(int)]

    @property
    def epochs(self) -> int:
        return len(self.history)


@dataclass(frozen=True)
class Hint:
    """One hint about a run: the rule's name, its message, the numbers behind it and the variant to try."""

    name: str
    message: str
    evidence: dict
    variant: dict

    def variant_text(self) -> str:
        """The variant as the app names it: 'learning rate 0.0005'."""
        return ", ".join(f"{SPECS[name].label.lower()} {SPECS[name].text(value)}"
                         for name, value in self.variant.items())

    def variant_options(self) -> str:
        """The variant as command-line options: '--lr 0.0005'."""
        return " ".join(f"{SPECS[name].option} {format_value(value)}" for name, value in self.variant.items())

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    """One hint of the table: `check(case, limits)` gives the evidence (a dict, formatted into `message` with the
    limits) or None; `variant(settings, evidence)` the settings to change. A rule whose `unless` names a rule that
    fires says nothing (that one explains it); `live` rules read only the history."""

    name: str
    trigger: str  # the condition in words (README, report)
    limits: dict
    check: Callable[[Case, dict], dict | None]
    message: str
    variant: Callable[[Settings, dict], dict]
    live: bool = False
    unless: tuple[str, ...] = field(default=())


# ----- the checks -----
def _diverged(case: Case, limits: dict) -> dict | None:
    if case.ended != "diverged":
        return None
    return {"epoch": (case.history.epoch[-1] if case.epochs else 0) + 1, "lr": case.settings.lr}


def _rising_loss(case: Case, limits: dict) -> dict | None:
    """The training loss has stayed well above its best for the last `epochs` epochs."""
    window = limits["epochs"]
    loss = np.asarray(case.history.loss, dtype=float)
    if len(loss) <= window:
        return None
    best = int(np.argmin(loss[:-window]))
    if not np.all(loss[-window:] > limits["factor"] * loss[best]):
        return None
    return {"best_loss": float(loss[best]), "best_epoch": case.history.epoch[best], "loss": float(loss[-1]),
            "epochs": window, "lr": case.settings.lr}


def _at_majority(case: Case, limits: dict) -> dict | None:
    if not case.epochs:
        return None
    accuracy, majority = case.history.test_accuracy[-1], case.dataset.majority_share("test")
    if abs(accuracy - majority) > limits["margin"]:
        return None
    common = case.dataset.class_names[int(case.dataset.y_test.mean() > 0.5)]
    lr = case.settings.lr
    rate = "a higher learning rate, " if lr < 0.02 else "a smaller learning rate, " if lr > 0.05 else ""
    return {"test_accuracy": accuracy, "majority": majority, "common": common, "rate": rate}


def _dead_relus(case: Case, limits: dict) -> dict | None:
    if case.settings.activation != "relu" or case.units is None:
        return None
    dead = sum(int(np.sum(layer.largest <= 0)) for layer in case.units)
    units = sum(len(layer.largest) for layer in case.units)
    if dead / units <= limits["share"]:
        return None
    return {"dead": dead, "units": units, "share": dead / units, "read": len(case.read_points)}


def _plateau(case: Case, limits: dict) -> dict | None:
    """Stalled at a learning rate under `lr`."""
    if case.settings.lr >= limits["lr"]:
        return None
    stalled = _stalled(case, limits)
    return None if stalled is None else {**stalled, "lr": case.settings.lr}


def _stalled(case: Case, limits: dict) -> dict | None:
    """The training loss changed by less than `change` (relative) over the last `tail` of the epochs (at least
    `epochs` of them) while the training accuracy is under `accuracy`."""
    window = max(limits["epochs"], int(limits["tail"] * case.epochs))
    if case.epochs <= window or case.history.train_accuracy[-1] >= limits["accuracy"]:
        return None
    before, now = case.history.loss[-window - 1], case.history.loss[-1]
    change = (before - now) / before if before > 0 else 0.0
    if not np.isfinite(change) or abs(change) >= limits["change"]:
        return None
    return {"loss": now, "change": change, "epochs": window, "train_accuracy": case.history.train_accuracy[-1]}


def _saturated(case: Case, limits: dict) -> dict | None:
    if case.settings.activation not in SATURATED_OUTPUT or case.units is None:
        return None
    plateau = _stalled(case, limits)
    if plateau is None:
        return None
    saturated = sum(int(np.sum(layer.tails > limits["points"])) for layer in case.units)
    units = sum(len(layer.tails) for layer in case.units)
    if saturated / units <= limits["share"]:
        return None
    return {"saturated": saturated, "units": units, "share": saturated / units, "read": len(case.read_points),
            **plateau, "lr": case.settings.lr}


def _overfitting(case: Case, limits: dict) -> dict | None:
    """Test loss rising for `epochs` epochs (and by `rise`) while the training loss fell, or a train-test gap."""
    if case.epochs < 2:
        return None
    h = case.history
    test_loss = np.asarray(h.test_loss, dtype=float)
    if np.isnan(test_loss).all():
        return None
    best = int(np.nanargmin(test_loss))
    rising = case.epochs - 1 - best
    gap = h.train_accuracy[-1] - h.test_accuracy[-1]
    diverging = (rising >= limits["epochs"] and test_loss[-1] > (1 + limits["rise"]) * test_loss[best]
                 and h.loss[-1] < h.loss[best])
    if not diverging and gap <= limits["gap"]:
        return None
    return {"best_epoch": h.epoch[best], "best_test_loss": float(test_loss[best]), "test_loss": float(test_loss[-1]),
            "rising": rising, "train_accuracy": h.train_accuracy[-1], "test_accuracy": h.test_accuracy[-1],
            "gap": gap}


def _linear(case: Case, limits: dict) -> dict | None:
    if case.settings.hidden or not case.epochs or case.history.train_accuracy[-1] >= limits["accuracy"]:
        return None
    return {"train_accuracy": case.history.train_accuracy[-1], "test_accuracy": case.history.test_accuracy[-1]}


# ----- the variants -----
def _lr_times(factor: float) -> Callable[[Settings, dict], dict]:
    high = SPECS["lr"].bounds[1]
    return lambda settings, evidence: {"lr": float(f"{min(high, settings.lr * factor):.3g}")}


def _wider(settings: Settings, evidence: dict) -> dict:
    """Twice the neurons (at least 8 a layer); a learning rate under 0.02 raised to it, one over 0.05 cut tenfold."""
    hidden = [min(MAX_WIDTH, max(8, 2 * width)) for width in settings.hidden] or [8]
    lr = 0.02 if settings.lr < 0.02 else settings.lr / 10 if settings.lr > 0.05 else settings.lr
    return {"hidden": hidden, "lr": float(f"{lr:.3g}")}


def _l2(settings: Settings, evidence: dict) -> dict:
    rate = 0.01 if settings.reg != "l2" or not settings.reg_rate else min(10.0, settings.reg_rate * 10)
    return {"reg": "l2", "reg_rate": float(f"{rate:.3g}")}


RULES: tuple[Rule, ...] = (
    Rule("diverged", "the run diverged: the loss blew up and the weights were set back to the last finite ones",
         {}, _diverged,
         "The loss blew up at epoch {epoch} and training stopped, the weights set back to the last finite ones: "
         "the learning rate {lr:g} is too high.", _lr_times(0.1), live=True),
    Rule("unstable", "the training loss stayed above {factor:g}x its best for the last {epochs} epochs",
         {"factor": 1.5, "epochs": 10}, _rising_loss,
         "The training loss rose from its best, {best_loss:.4f} at epoch {best_epoch}, to {loss:.4f}, and has "
         "stayed above {factor:g} times the best for {epochs} epochs: the learning rate {lr:g} is too high.",
         _lr_times(0.1), live=True, unless=("diverged",)),
    Rule("majority", "the test accuracy ends within {margin:.0%} of always answering the most common class",
         {"margin": 0.01}, _at_majority,
         "Test accuracy {test_accuracy:.1%} is the majority baseline ({majority:.1%}): the model answers the most "
         "common class ({common}) almost everywhere, so its decision map is flat, and so are the neuron maps. Try "
         "training longer (Continue, or more epochs), {rate}or more neurons.",
         _wider, unless=("diverged", "unstable", "saturated")),
    Rule("dead_relu", "more than {share:.0%} of the ReLU units are never active on the training data",
         {"share": 0.5}, _dead_relus,
         "{dead} of {units} hidden units ({share:.0%}) are never active on the training data (on any of {read} "
         "points: dead ReLUs): they output 0 everywhere and get no gradient, so they never recover. Try leaky_relu, "
         "or a smaller learning rate.", lambda settings, evidence: {"activation": "leaky_relu"}, unless=("diverged",)),
    Rule("saturated", "more than {share:.0%} of the tanh/sigmoid units sit in their flat tails on more than "
         "{points:.0%} of the training points, and the loss changed by less than {change:.0%} over the last "
         "{tail:.0%} of the epochs",
         {"share": 0.5, "points": 0.9, "change": 0.01, "tail": 0.25, "epochs": 20, "accuracy": 0.95},
         _saturated,
         "{saturated} of {units} hidden units ({share:.0%}) are saturated (their output is flat on most training "
         "points, so they pass almost no gradient), and the loss moved by {change:.1%} over the last {epochs} "
         "epochs. Try a smaller learning rate (now {lr:g}), or relu.", _lr_times(0.1)),
    Rule("plateau", "the loss changed by less than {change:.0%} over the last {tail:.0%} of the epochs (at least "
         "{epochs}) while the training accuracy is under {accuracy:.0%}, at a learning rate under {lr:g}",
         {"change": 0.01, "tail": 0.25, "epochs": 20, "accuracy": 0.95, "lr": 0.1}, _plateau,
         "The training loss moved by {change:.1%} over the last {epochs} epochs ({loss:.4f}, training accuracy "
         "{train_accuracy:.1%}): training has stalled at a learning rate of {lr:g}. Try a higher one.", _lr_times(10),
         unless=("diverged", "unstable", "majority", "dead_relu", "saturated", "overfitting", "linear")),
    Rule("overfitting", "the test loss rose for {epochs}+ epochs (by more than {rise:.0%}) while the training loss "
         "fell, or the training accuracy is more than {gap:.0%} above the test accuracy",
         {"epochs": 20, "rise": 0.1, "gap": 0.1}, _overfitting,
         "Overfitting: the test loss was lowest at epoch {best_epoch} ({best_test_loss:.4f}) and is {test_loss:.4f} "
         "now, {rising} epochs later; training accuracy {train_accuracy:.1%}, test {test_accuracy:.1%} (a gap of "
         "{gap:.1%}). Stop earlier (at epoch {best_epoch}), add L2 regularisation, or use more data.", _l2,
         unless=("diverged", "unstable")),
    Rule("linear", "no hidden layer and a training accuracy under {accuracy:.0%}", {"accuracy": 0.9}, _linear,
         "With no hidden layer the boundary is a straight line in the inputs, and the training accuracy is "
         "{train_accuracy:.1%}: these data need a curved boundary (XOR cannot be split by one line). Add a hidden "
         "layer.", lambda settings, evidence: {"hidden": [8]}, unless=("diverged", "unstable")),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}


def trigger_text(rule: Rule) -> str:
    """The rule's trigger in words, with its thresholds."""
    return rule.trigger.format(**rule.limits)


def hints(case: Case, live: bool = False) -> list[Hint]:
    """The hints of the table that fire for `case`, in the table's order (`live`: only the history-only rules)."""
    found: dict[str, tuple[Rule, dict]] = {}
    for rule in RULES:
        if live and not rule.live:
            continue
        evidence = rule.check(case, rule.limits)
        if evidence is not None:
            found[rule.name] = (rule, evidence)
    return [_hint(rule, evidence, case) for rule, evidence in found.values()
            if not any(other in found for other in rule.unless)]


def rule_hint(name: str, case: Case) -> Hint | None:
    """The hint of one rule of the table for `case`, whatever the others say (None when it does not fire)."""
    rule = RULES_BY_NAME[name]
    evidence = rule.check(case, rule.limits)
    return None if evidence is None else _hint(rule, evidence, case)


def _hint(rule: Rule, evidence: dict, case: Case) -> Hint:
    return Hint(rule.name, rule.message.format(**{**rule.limits, **evidence}), evidence,
                rule.variant(case.settings, evidence))


def trainer_hints(trainer: Trainer) -> list[Hint]:
    """The hints about a trainer between runs."""
    return hints(Case.of(trainer))
