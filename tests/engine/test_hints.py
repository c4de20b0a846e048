"""Issue 22 item 1: each hint of engine.hints' table, from a run that shows its condition, with its evidence and
its variant; a healthy run gets none."""

import numpy as np
import pytest

from engine import History, Settings, Trainer
from engine.hints import CHUNK, MAX_POINTS, RULES, Case, hints, rule_hint, trainer_hints, trigger_text

XOR = dict(dataset="toy_xor", hidden=(8, 8))


def trained(**values) -> Trainer:
    trainer = Trainer(Settings(**values))
    trainer.train()
    return trainer


def named(found) -> dict:
    return {hint.name: hint for hint in found}


def test_a_healthy_run_gets_no_hint():
    trainer = trained(**XOR, activation="tanh", lr=0.05)  # 99 % on XOR
    assert trainer.history.test_accuracy[-1] > 0.98
    assert trainer_hints(trainer) == []


def test_divergence_names_the_epoch_and_offers_a_tenth_of_the_rate():
    trainer = trained(**XOR, lr=10, seed=1)
    assert trainer.runs[-1].ended == "diverged"
    (hint,) = trainer_hints(trainer)  # what the blown-up weights would show is left unsaid
    assert hint.name == "diverged" and hint.variant == {"lr": 1.0}
    assert hint.evidence == {"epoch": trainer.epochs_done + 1, "lr": 10.0}
    assert f"at epoch {trainer.epochs_done + 1}" in hint.message and "learning rate 10 is too high" in hint.message
    assert hint.variant_options() == "--lr 1" and hint.variant_text() == "learning rate 1"


def test_a_loss_that_rose_and_stayed_up_is_seen_live_from_the_history_alone():
    trainer = trained(**XOR, activation="tanh", optimizer="sgd", lr=5)
    loss = np.array(trainer.history.loss)
    (hint,) = trainer_hints(trainer)
    e = hint.evidence
    assert hint.name == "unstable" and hint.variant == {"lr": 0.5}
    assert e["best_loss"] == loss.min() and trainer.history.epoch[int(loss.argmin())] == e["best_epoch"]
    assert np.all(loss[-10:] > 1.5 * e["best_loss"]) and e["loss"] == loss[-1]
    live = hints(Case(trainer.settings, trainer.history, trainer.dataset, "running"), live=True)
    assert [h.name for h in live] == ["unstable"]  # no activations needed


def test_the_majority_baseline_with_the_app_s_words_and_one_click_fix():
    trainer = trained()  # the lesson's defaults: 73.3 %, "always class 0"
    found = named(trainer_hints(trainer))
    hint = found["majority"]
    assert hint.evidence["majority"] == trainer.dataset.majority_share("test") == pytest.approx(0.733)
    assert hint.evidence["test_accuracy"] == trainer.history.test_accuracy[-1] == pytest.approx(0.733)
    assert hint.evidence["common"] == "class 0"
    for words in ("majority baseline", "73.3%", "most common class (class 0)", "flat", "neuron maps", "Continue",
                  "more epochs", "higher learning rate", "more neurons"):
        assert words in hint.message, words
    assert hint.variant == {"hidden": [8], "lr": 0.02}
    fixed = trained(**hint.variant)  # the fix works here
    assert fixed.history.test_accuracy[-1] > trainer.history.test_accuracy[-1] + 0.05


def test_dead_relus_are_counted_on_all_the_training_points():
    trainer = trained()
    hint = named(trainer_hints(trainer))["dead_relu"]
    (layer,) = trainer.hidden_activations(trainer.dataset.x_train)
    dead = int(np.sum(layer.max(axis=0) <= 0))
    assert hint.evidence == {"dead": dead, "units": 4, "share": dead / 4, "read": 3000} and dead / 4 > 0.5
    assert hint.variant == {"activation": "leaky_relu"} and f"{dead} of 4 hidden units" in hint.message


def test_units_are_read_in_chunks_on_at_most_max_points_evenly_spread():
    trainer = Trainer(Settings(samples=30_000, hidden=(6, 5), activation="tanh", epochs=3))  # 22,500 to train on
    trainer.train()
    case = Case.of(trainer)
    points = case.read_points
    x_train = trainer.dataset.x_train
    assert len(points) == MAX_POINTS == 2 * CHUNK
    assert (points[0] == x_train[0]).all() and (points[-1] == x_train[-1]).all()
    layers = trainer.hidden_activations(points)
    for unit, layer in zip(case.units, layers):
        assert np.array_equal(unit.largest, layer.max(axis=0))
        assert np.allclose(unit.tails, ((layer < -0.99) | (layer > 0.99)).mean(axis=0))


def test_saturated_tanh_units_on_a_plateau():
    trainer = trained(**XOR, activation="tanh", lr=0.5)
    (hint,) = trainer_hints(trainer)  # also at the majority baseline: saturation says why
    e = hint.evidence
    assert hint.name == "saturated" and e["saturated"] == e["units"] == 16 and abs(e["change"]) < 0.01
    assert hint.variant == {"lr": 0.05}
    assert rule_hint("majority", Case.of(trainer)) is not None


def test_a_plateau_at_a_small_rate():
    trainer = trained(dataset="toy_hard")
    (hint,) = trainer_hints(trainer)
    loss = trainer.history.loss
    e = hint.evidence
    assert hint.name == "plateau" and e["epochs"] == 50 and e["loss"] == loss[-1]
    assert e["change"] == pytest.approx((loss[-51] - loss[-1]) / loss[-51]) and abs(e["change"]) < 0.01
    assert hint.variant == {"lr": 0.05}


def test_overfitting_names_the_epoch_of_the_lowest_test_loss():
    trainer = trained(dataset="gaussians", samples=80, noise=0.3, hidden=(64, 64), epochs=1000, lr=0.01)
    (hint,) = trainer_hints(trainer)
    test_loss = np.array(trainer.history.test_loss)
    e = hint.evidence
    assert hint.name == "overfitting" and e["best_epoch"] == int(test_loss.argmin()) + 1
    assert e["rising"] == 1000 - e["best_epoch"] and e["test_loss"] > 1.1 * e["best_test_loss"]
    assert f"at epoch {e['best_epoch']}" in hint.message and hint.variant == {"reg": "l2", "reg_rate": 0.01}


def test_overfitting_by_the_gap_alone():
    history = History(epoch=[1, 2], loss=[0.5, 0.4], train_accuracy=[0.9, 0.95], test_accuracy=[0.8, 0.8],
                      test_loss=[0.6, 0.5])
    trainer = Trainer(Settings(dataset="moons", samples=100))
    hint = rule_hint("overfitting", Case(trainer.settings, history, trainer.dataset))
    assert hint is not None and hint.evidence["gap"] == pytest.approx(0.15) and hint.evidence["rising"] == 0
    history.train_accuracy[-1] = 0.89
    assert rule_hint("overfitting", Case(trainer.settings, history, trainer.dataset)) is None


def test_no_hidden_layer_on_xor_offers_one():
    trainer = trained(dataset="toy_xor", hidden=())
    (hint,) = trainer_hints(trainer)
    assert hint.name == "linear" and hint.evidence["train_accuracy"] == trainer.history.train_accuracy[-1] < 0.9
    assert hint.variant == {"hidden": [8]}
    assert trained(dataset="toy_xor", hidden=(8,)).history.train_accuracy[-1] > 0.75


def test_every_rule_is_declared_once_with_its_trigger_in_words():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    for rule in RULES:
        assert "{" not in trigger_text(rule) and set(rule.unless) <= set(names)
