"""Training: parity with the notebook and plain PyTorch, determinism, options, continuing, stopping, divergence."""

import tempfile
import threading

import numpy as np
import pytest
import torch

from engine import Settings, Trainer, build_model
from engine.evaluation import evaluate_grid, evaluate_points, grid_points
from engine.snapshots import replay_training
from engine.storage import load_experiment, save_experiment
from tests.support.reference import plain_pytorch_history

KEYS = ("loss", "train_accuracy", "test_accuracy", "test_loss")


def engine_history(trainer):
    return {key: np.array(getattr(trainer.history, key)) for key in KEYS}


def assert_same(engine, reference, exact=True):
    for key in KEYS:
        if exact:
            assert np.array_equal(engine[key], reference[key]), key
        else:
            assert np.allclose(engine[key], reference[key], rtol=1e-4, atol=1e-5), key


def test_parity_with_the_teaching_notebook():
    """The notebook: seed 10, a throw-away Linear(2, 8), then 2-4-1 ReLU, Adam 5e-3, 200 full-batch epochs."""
    settings = Settings()
    torch.manual_seed(10)
    torch.nn.Linear(2, 8, bias=True)
    model = build_model(2, (4,), "relu")

    trainer = Trainer(settings, model=model)
    run = trainer.train()

    final = trainer.last_progress()
    assert run.ended == "finished" and trainer.history.epoch == list(range(1, 201))
    assert final.status == "Epoch 200/200 | loss = 0.5669 | train acc =  73.3% | test acc =  73.3%"
    # ... which is what always answering "class 0" scores: the default network never finds the discs.
    assert round(final.test_accuracy, 3) == round(trainer.dataset.majority_share("test"), 3)


def test_the_notebook_draw_setting_reproduces_the_notebook_run():
    """`notebook_draw` builds the notebook's throw-away Linear(2, 8) after seeding: the notebook's numbers, exactly;
    without it (the default) the same seed gives the model other weights."""
    trainer = Trainer(Settings(notebook_draw=True))
    trainer.train()
    assert trainer.last_progress().status == "Epoch 200/200 | loss = 0.5669 | train acc =  73.3% | test acc =  73.3%"
    plain = Trainer(Settings())
    plain.train()
    assert plain.last_progress().status.startswith("Epoch 200/200 | loss = 0.5830")


def test_a_yes_or_no_setting_reads_and_writes_its_text():
    from engine.setting_types import SettingsError, format_value
    from engine.settings import SPECS

    spec = SPECS["notebook_draw"]
    assert [spec.parse(text) for text in ("yes", "1", "True", "on", "no", "0", "false")] == [True] * 4 + [False] * 3
    assert format_value(True) == "yes" and spec.text(False) == "no"
    with pytest.raises(ValueError):
        spec.parse("maybe")
    with pytest.raises(SettingsError):
        Settings(notebook_draw=1)


@pytest.mark.parametrize(
    "activation", ["relu", "tanh", "sigmoid", "elu", "leaky_relu", "gelu", "silu", "softplus", "linear"]
)
def test_every_activation_matches_autograd_bit_for_bit(activation):
    settings = Settings(dataset="toy_ring", samples=800, hidden=(6, 5), activation=activation, epochs=15, seed=3)
    trainer = Trainer(settings)
    trainer.train()
    assert_same(engine_history(trainer), plain_pytorch_history(settings, trainer.dataset))


@pytest.mark.parametrize("optimizer, momentum", [("adam", 0), ("adamw", 0), ("sgd", 0), ("sgd", 0.9), ("rmsprop", 0)])
def test_every_optimizer_matches_plain_pytorch(optimizer, momentum):
    settings = Settings(dataset="toy_xor", samples=600, hidden=(8, 8), activation="tanh", optimizer=optimizer,
                        momentum=momentum, lr=0.05, epochs=20, seed=4)
    trainer = Trainer(settings)
    trainer.train()
    assert_same(engine_history(trainer), plain_pytorch_history(settings, trainer.dataset))


def test_mini_batches_with_shuffling_match_plain_pytorch():
    settings = Settings(dataset="moons", samples=500, hidden=(8,), batch_size=32, epochs=8, seed=5, lr=0.02)
    trainer = Trainer(settings)
    trainer.train()
    assert_same(engine_history(trainer), plain_pytorch_history(settings, trainer.dataset))


def test_dropout_matches_plain_pytorch():
    settings = Settings(dataset="toy_cross", samples=600, hidden=(16, 16), dropout=0.3, epochs=10, seed=6)
    trainer = Trainer(settings)
    trainer.train()
    assert_same(engine_history(trainer), plain_pytorch_history(settings, trainer.dataset))


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_weight_penalty_matches_plain_pytorch_and_shrinks_weights(reg):
    settings = Settings(
        dataset="gaussians", samples=600, hidden=(8,), reg=reg, reg_rate=0.01, epochs=40, lr=0.05, seed=7
    )
    trainer = Trainer(settings)
    trainer.train()
    # the penalty's gradient is added in another order than autograd's, so equal to rounding only
    assert_same(engine_history(trainer), plain_pytorch_history(settings, trainer.dataset), exact=False)
    free = Trainer(settings.replace(reg="none"))
    free.train()

    def size(t: Trainer) -> float:
        return sum(w.abs().sum().item() for w in t.net.weights)

    assert size(trainer) < size(free)


def test_extra_input_features_widen_the_input_layer():
    settings = Settings(
        dataset="toy_ring", samples=500, features=("x", "y", "x2", "y2", "xy", "sinx", "siny"), epochs=3
    )
    trainer = Trainer(settings)
    trainer.train()
    assert trainer.model[0].in_features == 7 and trainer.x_train.shape[1] == 7
    assert trainer.parameter_count == 7 * 4 + 4 + 4 + 1


def test_no_hidden_layer_is_logistic_regression():
    trainer = Trainer(Settings(dataset="gaussians", samples=400, hidden=(), epochs=50, lr=0.05))
    trainer.train()
    assert len(trainer.model) == 1 and trainer.history.test_accuracy[-1] > 0.8


def test_same_settings_same_history_bit_for_bit():
    settings = Settings(
        dataset="spiral", samples=600, hidden=(16, 16), activation="tanh", batch_size=64, epochs=5, seed=11
    )
    first, second = Trainer(settings), Trainer(settings)
    first.train()
    second.train()
    assert first.history == second.history
    other = Trainer(settings.replace(seed=12))
    other.train()
    assert other.history.loss != first.history.loss


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu"])
def test_the_reused_buffers_change_no_number(activation):
    """The training loop passes into buffers it keeps (activations in place where their backward allows): with
    train and test sets of one size, a second run and a prediction after it, every number is plain PyTorch's."""
    settings = Settings(dataset="toy_ring", samples=400, test_share=0.5, hidden=(6, 5), activation=activation,
                        epochs=12, seed=2)
    trainer = Trainer(settings)
    trainer.train(7)
    trainer.train(5)
    torch.manual_seed(settings.seed)
    reference = build_model(2, settings.hidden, activation)
    plain = plain_pytorch_history(settings, trainer.dataset, model=reference)
    assert_same(engine_history(trainer), plain)
    points = trainer.dataset.x_test
    with torch.no_grad():
        expected = torch.sigmoid(reference(torch.tensor(trainer.dataset.normalise(points)))).reshape(-1).numpy()
    assert np.array_equal(trainer.predict_proba(points), expected)


def test_continuing_appends_a_run_and_equals_one_long_run():
    settings = Settings(dataset="toy_xor", samples=600, hidden=(8, 8), epochs=30, lr=0.01)
    split = Trainer(settings)
    split.train(20)
    second = split.train(10)
    whole = Trainer(settings)
    whole.train(30)
    assert second.number == 2 and (second.first_epoch, second.last_epoch) == (21, 30)
    assert split.history.run == [1] * 20 + [2] * 10 and split.history.epoch == list(range(1, 31))
    assert split.history.loss == whole.history.loss
    assert split.history.test_accuracy == whole.history.test_accuracy


def test_continuing_with_a_new_learning_rate_and_refusing_a_new_network():
    settings = Settings(dataset="toy_xor", samples=600, hidden=(8,), epochs=5)
    trainer = Trainer(settings)
    trainer.train()
    run = trainer.train(5, settings=settings.replace(lr=0.05))
    assert run.settings["lr"] == 0.05 and trainer._optimizer.param_groups[0]["lr"] == 0.05
    with pytest.raises(ValueError, match="hidden"):
        trainer.train(5, settings=settings.replace(hidden=(4,)))


def test_callback_every_k_epochs_sees_the_history_so_far():
    trainer = Trainer(Settings(dataset="toy_ring", samples=600, epochs=25))
    seen = []
    trainer.train(callback=lambda p: seen.append((p.epoch, p.run_epoch, len(trainer.history), p.status)), every=10)
    assert [s[:3] for s in seen] == [(10, 10, 10), (20, 20, 20), (25, 25, 25)]
    assert seen[-1][3].startswith("Epoch 25/25 | loss = ")


def test_callback_does_not_change_the_numbers():
    settings = Settings(dataset="toy_ring", samples=600, hidden=(8,), epochs=12)
    quiet, watched = Trainer(settings), Trainer(settings)
    quiet.train()
    watched.train(callback=lambda p: None, every=1)
    assert quiet.history == watched.history


def test_stop_request_from_another_thread_ends_the_run_between_epochs():
    trainer = Trainer(Settings(dataset="toy_hard", hidden=(64, 64), epochs=100_000))
    started = threading.Event()

    def callback(progress):
        started.set()

    worker = threading.Thread(target=lambda: trainer.train(callback=callback, every=1))
    worker.start()
    assert started.wait(60)
    trainer.request_stop()
    worker.join(60)
    run = trainer.runs[-1]
    assert not worker.is_alive() and run.ended == "stopped" and 1 <= run.epochs < 100_000
    assert len(trainer.history) == run.epochs and trainer.history.epoch[-1] == run.last_epoch


def test_divergence_stops_with_a_reason_and_keeps_finite_weights():
    settings = Settings(dataset="toy_xor", hidden=(8, 8), optimizer="adam", lr=10, epochs=500, seed=1)
    trainer = Trainer(settings)
    run = trainer.train()
    assert run.ended == "diverged" and "smaller learning rate" in run.message
    assert 1 <= len(trainer.history) < 500 and np.all(np.isfinite(trainer.history.loss))
    assert torch.isfinite(trainer.net.flat).all()
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_grid_map_exact_target_and_agreement():
    trainer = Trainer(Settings(dataset="toy_xor", hidden=(8, 8), lr=0.01, epochs=300))
    trainer.train()
    grid = evaluate_grid(trainer, size=200)
    assert grid.probability.shape == (200, 200) and grid.exact.shape == (200, 200)
    assert 0 <= grid.probability.min() and grid.probability.max() <= 1
    assert grid.agreement == pytest.approx(np.mean(grid.prediction == grid.exact))
    assert grid.agreement > 0.95
    # the grid runs x fastest, as the notebook's meshgrid: row 0 is y = 0 from x = 0 to 1
    xs, ys, points = grid_points(trainer.dataset.box, 200)
    assert np.array_equal(points[:200, 1], np.zeros(200, dtype=np.float32)) and points[199, 0] == 1.0


def test_grid_without_exact_function_and_points_evaluation():
    trainer = Trainer(Settings(dataset="iris", hidden=(8,), epochs=100, lr=0.02))
    trainer.train()
    grid = evaluate_grid(trainer, size=50)
    assert grid.exact is None and grid.agreement is None
    result = evaluate_points(trainer)
    assert result.train_confusion.sum() == 75 and result.test_confusion.sum() == 25
    assert result.test_accuracy == pytest.approx(trainer.history.test_accuracy[-1])
    assert result.train_accuracy == pytest.approx(trainer.history.train_accuracy[-1])
    tn, fp, fn, tp = result.test_confusion.ravel()
    assert tp + tn == result.test_correct.sum()


def test_model_stays_usable_in_plain_pytorch():
    trainer = Trainer(Settings(dataset="toy_ring", samples=600, hidden=(8,), epochs=20))
    trainer.train()
    points = trainer.dataset.x_test
    with torch.no_grad():
        plain = torch.sigmoid(trainer.model(torch.tensor(points))).numpy().ravel()
    assert np.array_equal(plain, trainer.predict_proba(points))


@pytest.mark.parametrize("schedule", ["step", "cosine"])
def test_learning_rate_schedules_match_torch_schedulers(schedule):
    settings = Settings(
        dataset="toy_xor",
        samples=600,
        hidden=(8,),
        lr=0.02,
        epochs=30,
        schedule=schedule,
        decay_every=10,
        decay_factor=0.5,
    )
    trainer = Trainer(settings)
    statuses = []
    trainer.train(callback=lambda p: statuses.append(p.status), every=10)
    assert_same(engine_history(trainer), plain_pytorch_history(settings, trainer.dataset))
    rates = trainer.history.lr
    if schedule == "step":
        assert rates[:10] == [0.02] * 10 and rates[10:20] == [0.01] * 10 and rates[20:] == [0.005] * 10
        assert statuses[-1].endswith("| lr = 5.00e-03")
    else:
        assert rates[0] == 0.02 and all(a > b for a, b in zip(rates, rates[1:])) and rates[-1] < 0.0002
    # a new run starts the schedule again from the settings' rate
    trainer.train(5)
    assert trainer.history.lr[30] == 0.02


@pytest.mark.parametrize("schedule", ["step", "cosine"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_schedule_resumed_in_stretches_equals_one_unbroken_run(schedule, optimizer):
    settings = Settings(dataset="toy_xor", samples=400, hidden=(8,), lr=0.05, epochs=30, schedule=schedule,
                        decay_every=7, decay_factor=0.5, optimizer=optimizer, momentum=0.5)
    whole = Trainer(settings)
    whole.train()
    pieces = Trainer(settings)
    for done, epochs in ((0, 4), (4, 13), (17, 1), (18, 12)):  # a paused run, resumed and stepped
        pieces.train(epochs, schedule=(done, 30))
    assert pieces.history.lr == whole.history.lr and len(set(whole.history.lr)) > 3
    assert_same(engine_history(pieces), engine_history(whole))
    replayed = replay_training(pieces.dataset, pieces.runs, pieces.history)  # as a report rebuilds snapshots
    assert replayed is not None and replayed[0].history.lr == whole.history.lr
    with tempfile.TemporaryDirectory() as folder:
        save_experiment(pieces, folder)
        assert load_experiment(folder).runs == pieces.runs
    with pytest.raises(ValueError, match="schedule"):
        Trainer(settings).train(5, schedule=(3, 30))  # nothing trained yet to continue


def test_constant_rate_keeps_the_notebooks_status_line():
    trainer = Trainer(Settings(samples=400, epochs=3))
    trainer.train()
    assert trainer.history.lr == [0.005] * 3 and "lr =" not in trainer.last_progress().status


def test_neuron_maps_show_each_hidden_neuron_over_the_box():
    from engine.evaluation import neuron_maps

    trainer = Trainer(Settings(dataset="toy_xor", samples=600, hidden=(6, 3), activation="relu", epochs=5))
    trainer.train()
    maps = neuron_maps(trainer, size=30)
    assert [m.shape for m in maps] == [(6, 30, 30), (3, 30, 30)]
    assert maps[0].min() >= 0  # ReLU outputs
    # neuron 2 of layer 1 at grid cell (row 4 = y index, column 7 = x index) is that neuron's output there
    xs, ys, _ = grid_points(trainer.dataset.box, 30)
    weight, bias = trainer.model[0].weight.detach().numpy(), trainer.model[0].bias.detach().numpy()
    expected = max(0.0, weight[2] @ np.array([xs[7], ys[4]], dtype=np.float32) + bias[2])
    assert maps[0][2, 4, 7] == pytest.approx(expected, abs=1e-6)


def test_stop_ends_a_long_minibatch_epoch_between_batches():
    """Issue 11: a stop request is honoured between mini-batches, so even a minutes-long epoch ends at once; the
    unfinished epoch is dropped and the weights go back to where it began."""
    import threading
    import time

    trainer = Trainer(Settings(dataset="toy_xor", samples=20000, hidden=(32, 32), batch_size=1, epochs=3))
    start = trainer.net.flat.detach().clone()
    runs = []
    thread = threading.Thread(target=lambda: runs.append(trainer.train()))
    thread.start()
    time.sleep(0.5)
    asked = time.perf_counter()
    trainer.request_stop()
    thread.join(5)
    took = time.perf_counter() - asked
    assert not thread.is_alive(), "training did not stop within 5 s"
    (run,) = runs
    assert run.ended == "stopped" and "during epoch 1, which was undone" in run.message
    assert len(trainer.history) == 0 and run.epochs == 0
    assert torch.equal(trainer.net.flat, start)
    print(f"stop took {took:.3f} s")


def test_bad_device_string_is_a_value_error():
    with pytest.raises(ValueError, match="cuda:abc"):
        Trainer(Settings(device="cuda:abc"))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_stop_within_an_epoch_is_undone_exactly(optimizer):
    """Stopped in the middle of epoch 3, then trained on: the same numbers as five epochs in one go."""
    settings = Settings(dataset="toy_xor", samples=400, hidden=(8,), batch_size=16, dropout=0.1, epochs=5,
                        optimizer=optimizer, momentum=0.9 if optimizer == "sgd" else 0.0)
    whole = Trainer(settings)
    whole.train()
    pieces = Trainer(settings)
    steps = []
    real_backward = pieces.net.backward  # one backward pass per mini-batch

    def backward(*args):
        steps.append(1)
        if len(steps) == 2 * 19 + 7:  # 19 batches an epoch (300 points): the 7th batch of epoch 3
            pieces.request_stop()
        return real_backward(*args)

    pieces.net.backward = backward
    first = pieces.train()
    assert first.ended == "stopped" and len(pieces.history) == 2
    pieces.net.backward = real_backward
    pieces.train(epochs=3)
    assert pieces.history.loss == whole.history.loss
    assert pieces.history.test_accuracy == whole.history.test_accuracy
    assert torch.equal(pieces.net.flat, whole.net.flat)
