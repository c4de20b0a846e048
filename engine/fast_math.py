"""tanh and sigmoid in place, by whichever routine is faster on this machine, measured once per process.

torch's float32 tanh costs ~2-3.5 ns an element on some CPUs (AVX-512 builds of torch 2.13), numpy's ~0.15-0.45:
half the time of a tanh sweep. They round differently (numpy's is within an ulp or two of torch's), so only the
stacked path, which agrees with single runs to float rounding anyway, uses the faster one; a single model keeps
torch's own kernels, bit for bit those of a plain PyTorch loop. docs/performance.md has the figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

SAMPLE = 1 << 16  # elements timed per candidate: ~0.2 ms for the slowest


def _numpy_tanh_(x: torch.Tensor) -> torch.Tensor:
    array = x.numpy()
    np.tanh(array, out=array)
    return x


def _numpy_sigmoid_(x: torch.Tensor) -> torch.Tensor:
    array = x.numpy()  # 1 / (1 + exp(-x)): within 2 ulps (the tanh form loses the small values' precision)
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf below x = -88: 1 / inf is the right 0
        np.negative(array, out=array)
        np.exp(array, out=array)
        np.add(array, 1, out=array)
        np.reciprocal(array, out=array)
    return x


CANDIDATES: dict[str, dict[str, Callable[[torch.Tensor], torch.Tensor]]] = {
    "tanh": {"torch": torch.tanh_, "numpy": _numpy_tanh_},
    "sigmoid": {"torch": torch.sigmoid_, "numpy": _numpy_sigmoid_},
}
_chosen: dict[str, str] = {}


def fastest(name: str) -> str:
    """The name of the faster candidate for `name` ("tanh" or "sigmoid") on this machine's CPU, measured at the
    first call in a process: each run once (first-use costs), then the best of 7 interleaved timings on one sample
    (the best: other work on the machine only ever adds time)."""
    if name not in _chosen:
        sample = torch.linspace(-4, 4, SAMPLE)
        candidates = CANDIDATES[name]
        best = {}
        for function in candidates.values():
            function(sample.clone())
        for _ in range(7):
            for candidate, function in candidates.items():
                x = sample.clone()
                started = time.perf_counter()
                function(x)
                seconds = time.perf_counter() - started
                best[candidate] = min(best.get(candidate, seconds), seconds)
        _chosen[name] = min(best, key=best.get)
    return _chosen[name]


def in_place(name: str, tensor: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The in-place `name` to use on tensors like `tensor`: the measured fastest on CPU (contiguous float32
    tensors only: numpy works on their memory), torch's own on any other device or dtype."""
    if tensor.device.type != "cpu" or tensor.dtype != torch.float32:
        return CANDIDATES[name]["torch"]
    return CANDIDATES[name][fastest(name)]
