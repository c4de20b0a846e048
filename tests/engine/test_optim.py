"""engine.optim: torch's update rules and schedules over stacked weights, the same numbers as torch.optim."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.optim import RateSchedule, StackedOptimizer

ROOT = Path(__file__).resolve().parents[2]
KINDS = [("adam", 0.0), ("adamw", 0.0), ("sgd", 0.0), ("sgd", 0.9), ("rmsprop", 0.0)]


def torch_optimizer(kind, params, lr, momentum):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    return {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}[kind](params, lr=lr)


@pytest.mark.parametrize("kind, momentum", KINDS)
def test_one_flat_tensor_matches_torch_bit_for_bit_with_its_state_layout(kind, momentum):
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(60, generator=generator)
    reference = start.clone().requires_grad_()
    ours = start.clone()
    ours.grad = torch.zeros_like(ours)
    theirs = torch_optimizer(kind, [reference], 0.01, momentum)
    mine = StackedOptimizer([ours], kind, 0.01, momentum)
    for _ in range(25):
        grad = torch.randn(60, generator=generator)
        reference.grad = grad.clone()
        ours.grad.copy_(grad)
        theirs.step()
        mine.step()
    assert torch.equal(reference.detach(), ours)
    state, expected = mine.state_dict(), theirs.state_dict()
    assert state["param_groups"] == expected["param_groups"]
    assert state["state"].keys() == expected["state"].keys()
    for key, value in expected["state"].get(0, {}).items():
        assert torch.equal(state["state"][0][key], value), key
    # torch's state loads here and goes on with the same numbers
    again = StackedOptimizer([ours.clone()], kind, 0.01, momentum)
    again.load_state_dict(expected)
    grad = torch.randn(60, generator=generator)
    again.params[0].grad = grad.clone()
    reference.grad = grad.clone()
    theirs.step()
    again.step()
    assert torch.equal(reference.detach(), again.params[0])


@pytest.mark.parametrize("kind, momentum", KINDS)
def test_stacked_models_with_their_own_rates_match_one_torch_optimizer_each(kind, momentum):
    generator = torch.Generator().manual_seed(1)
    rates = (0.01, 0.003, 0.05, 0.2)
    start = torch.randn(len(rates), 5, 7, generator=generator)
    references = [start[k].clone().requires_grad_() for k in range(len(rates))]
    optimizers = [torch_optimizer(kind, [p], lr, momentum) for p, lr in zip(references, rates)]
    stack = start.clone()
    stack.grad = torch.zeros_like(stack)
    mine = StackedOptimizer([stack], kind, rates, momentum)
    for _ in range(25):
        grads = torch.randn(stack.shape, generator=generator)
        stack.grad.copy_(grads)
        for k, (param, optimizer) in enumerate(zip(references, optimizers)):
            param.grad = grads[k].clone()
            optimizer.step()
        mine.step()
    assert torch.equal(torch.stack([p.detach() for p in references]), stack)


@pytest.mark.parametrize("kind, length", [("step", 40), ("cosine", 40), ("cosine", 7)])
def test_rate_schedules_give_torchs_rates(kind, length):
    param = torch.zeros(3, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.1)
    if kind == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 6, 0.5)
    else:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=length)
    mine = StackedOptimizer([torch.zeros(3)], "sgd", 0.1)
    schedule = RateSchedule(mine, kind, length, decay_every=6, decay_factor=0.5)
    theirs, ours = [], []
    for _ in range(2 * length + 3):  # past the end of a cosine schedule too
        theirs.append(optimizer.param_groups[0]["lr"])
        ours.append(mine.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        schedule.step()
    assert ours == theirs


def test_a_command_line_training_run_does_not_import_torch_dynamo():
    code = (
        "import sys\n"
        "from dashboard.cli import main\n"  # the console script's work (its exit skips the interpreter's teardown)
        "code = main(['train', '--epochs', '5', '--optimizer', 'adamw', '--schedule', 'cosine', '--json'])\n"
        "assert not code, code\n"
        "print('DYNAMO', 'torch._dynamo' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "DYNAMO False" in done.stderr, done.stderr
