"""engine.fast_math: the faster tanh and sigmoid a stack uses agree with torch's to float rounding."""

import numpy as np
import torch

from engine import fast_math
from engine.stacked import StackedMLP


def test_every_candidate_agrees_with_torch_to_rounding():
    x = torch.linspace(-12, 12, 200_001)
    for name, candidates in fast_math.CANDIDATES.items():
        expected = getattr(torch, name)(x)
        for candidate, function in candidates.items():
            result = function(x.clone())
            assert result.dtype == torch.float32
            # within 4 float32 ulps of torch's value (numpy's are within 1-2)
            assert torch.all((result - expected).abs() <= 4 * torch.finfo(torch.float32).eps * expected.abs().clamp(
                min=torch.finfo(torch.float32).tiny)), (name, candidate)


def test_a_stack_takes_the_measured_choice_and_a_model_alone_torchs_own():
    choice = fast_math.fastest("tanh")
    assert choice in fast_math.CANDIDATES["tanh"]
    net = StackedMLP(torch.zeros(2, 2 * 3 + 3 + 3 + 1), 2, (3,), "tanh")
    assert net._act_ is fast_math.CANDIDATES["tanh"][choice]
    from engine.network import FlatMLP, build_model

    single = FlatMLP(build_model(2, (3,), "tanh"), "tanh")
    assert single._act_ is torch.tanh_ and single._act is torch.tanh


def test_numpy_tanh_in_place_writes_the_tensors_memory():
    x = torch.linspace(-3, 3, 1001).reshape(7, 11, 13)[:, :, :13]
    y = fast_math.CANDIDATES["tanh"]["numpy"](x.clone())
    assert np.array_equal(y.numpy(), np.tanh(x.numpy()))
