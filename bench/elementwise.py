"""What the element-wise steps of an epoch cost on this machine, one thread: tanh and sigmoid by torch and numpy
(and 2*sigmoid(2x)-1), ReLU into new memory against in place, and what `engine.fast_math` chooses.

    python bench/elementwise.py [--repeats 9]

Best of --repeats, candidates interleaved, on float32 tensors the size of a 16-wide and a 64-wide layer over 3000
points. Method: docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np
import torch

from engine import fast_math


def best_time(function, make, repeats: int, calls: int = 20) -> float:
    """Seconds per call: the best of `repeats` rounds of `calls` calls, each on its own fresh input."""
    best = float("inf")
    for _ in range(repeats):
        inputs = [make() for _ in range(calls)]
        started = time.perf_counter()
        for x in inputs:
            function(x)
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"one thread, best of {args.repeats}; load {os.getloadavg()[0]:.1f}")
    sample = torch.randn(3000, 16) * 2
    candidates = {
        "torch tanh": torch.tanh_,
        "numpy tanh": fast_math.CANDIDATES["tanh"]["numpy"],
        "2*sigmoid(2x)-1 (torch)": lambda x: torch.sigmoid_(x.mul_(2)).mul_(2).sub_(1),
        "torch sigmoid": torch.sigmoid_,
        "numpy sigmoid, 1/(1+exp(-x))": fast_math.CANDIDATES["sigmoid"]["numpy"],
    }
    for function in candidates.values():  # first-use costs off the clock
        function(sample.clone())
    times = {name: float("inf") for name in candidates}
    for _ in range(args.repeats):  # interleaved
        for name, function in candidates.items():
            times[name] = min(times[name], best_time(function, sample.clone, 1))
    for name, seconds in times.items():
        print(f"{name:<30} {seconds / sample.numel() * 1e9:6.2f} ns an element (3000 x 16)")
    wide = torch.randn(3000, 64)
    fresh = best_time(torch.relu, wide.clone, args.repeats)
    in_place = best_time(torch.relu_, wide.clone, args.repeats)
    print(f"ReLU 3000 x 64: into new memory {fresh * 1e6:.0f} us, in place {in_place * 1e6:.0f} us")
    print(f"engine.fast_math chooses: tanh {fast_math.fastest('tanh')}, sigmoid {fast_math.fastest('sigmoid')} "
          f"(numpy {np.__version__}, torch {torch.__version__}, CPU {torch.backends.cpu.get_cpu_capability()})")


if __name__ == "__main__":
    main()
