"""The engine on a CUDA device. These need a GPU, so they are skipped where torch sees none (CI's machines);
they are run on a lent GPU machine (see the engine issue's note for the last results)."""

import numpy as np
import pytest
import torch

from engine import Settings, Trainer
from engine.evaluation import evaluate_grid

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"dataset": "toy_xor", "hidden": (8, 8), "activation": "tanh", "lr": 0.01},
        {"dataset": "moons", "hidden": (16,), "optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 64},
        {
            "dataset": "toy_ring",
            "hidden": (32, 32),
            "optimizer": "rmsprop",
            "dropout": 0.2,
            "reg": "l2",
            "reg_rate": 1e-4,
        },
    ],
)
def test_cuda_training_follows_the_cpu_run(changes):
    settings = Settings(epochs=60, **changes)
    cpu, gpu = Trainer(settings), Trainer(settings.replace(device="cuda"))
    cpu.train()
    gpu.train()
    assert gpu.net.flat.is_cuda and next(gpu.model.parameters()).is_cuda
    assert len(gpu.history) == 60 and np.all(np.isfinite(gpu.history.loss))
    if not changes.get("dropout") and not changes.get("batch_size"):  # same random numbers only on the CPU
        assert np.allclose(gpu.history.loss, cpu.history.loss, rtol=1e-3, atol=1e-4)
        assert abs(gpu.history.test_accuracy[-1] - cpu.history.test_accuracy[-1]) <= 0.01
    grid = evaluate_grid(gpu, size=100)
    assert grid.probability.shape == (100, 100)


def test_cuda_continue_stop_and_divergence():
    trainer = Trainer(Settings(dataset="toy_xor", hidden=(8, 8), lr=10, epochs=300, seed=1, device="cuda"))
    run = trainer.train()
    assert run.ended == "diverged" and torch.isfinite(trainer.net.flat).all()
    trainer = Trainer(Settings(dataset="toy_xor", hidden=(8, 8), lr=0.01, epochs=50, device="cuda"))
    trainer.train()
    trainer.train(callback=lambda p: trainer.request_stop() if p.run_epoch == 10 else None, every=5)
    assert trainer.runs[-1].ended == "stopped" and trainer.runs[-1].epochs == 10
    assert trainer.history.epoch[-1] == 60
