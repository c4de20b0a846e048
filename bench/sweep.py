"""Sweep speed: the per-model cost of a batched sweep against the same models trained one after another.

    python bench/sweep.py [--ks 8 64 512] [--epochs 200] [--sample 16] [--workers 2]

K models 2-8-8-1 tanh on toy_xor; ratios < 1 mean the sweep is cheaper per model; it also checks that the batched
results agree with single runs. With CUDA, microseconds per model-epoch for K = 16,384. Method: docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch

from engine import Settings, load_dataset
from engine.stacked_training import train_alone
from engine.sweep import Sweep, run_sweep, warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ks", type=int, nargs="+", default=[8, 64, 512])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--sample", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cuda-k", type=int, default=16_384)
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = Settings(dataset="toy_xor", hidden=(8, 8), activation="tanh", epochs=args.epochs)
    dataset = load_dataset(base)

    started = time.perf_counter()
    warm_up(args.workers)
    print(f"{args.workers} worker processes started in {time.perf_counter() - started:.1f} s (not counted below)")

    sample = [base.replace(seed=seed) for seed in range(args.sample)]
    train_alone(0, sample[0], dataset)  # first-use costs off the clock
    started = time.perf_counter()
    alone = [train_alone(i, s, dataset) for i, s in enumerate(sample)]
    one_by_one = (time.perf_counter() - started) / len(sample)
    print(f"2-8-8-1 tanh, toy_xor, {args.epochs} epochs. One after another (engine, {len(sample)} models): "
          f"{one_by_one * 1e3:.1f} ms per model")
    print(f"{'K':>6} {'batched, ' + str(args.workers) + ' processes':>24} {'ratio':>6} {'batched, 1 process':>20} "
          f"{'ratio':>6}  {'max |d loss|':>12} {'max |d test acc|':>16}")
    for k in args.ks:
        sweep = Sweep(base, {}, seeds=list(range(k)))
        started = time.perf_counter()
        results = run_sweep(sweep, workers=args.workers)
        parallel = (time.perf_counter() - started) / k
        started = time.perf_counter()
        single = run_sweep(sweep, workers=1)
        serial = (time.perf_counter() - started) / k
        if [r.final for r in results] != [r.final for r in single]:
            raise SystemExit("the results differ between processes and one process")
        pairs = list(zip(results, alone))
        d_loss = max(abs(r.final["loss"] - a.final["loss"]) for r, a in pairs)
        d_acc = max(abs(r.final["test_accuracy"] - a.final["test_accuracy"]) for r, a in pairs)
        print(f"{k:>6} {parallel * 1e3:>20.1f} ms {parallel / one_by_one:>6.2f} {serial * 1e3:>17.1f} ms "
              f"{serial / one_by_one:>6.2f}  {d_loss:>12.1e} {d_acc:>16.1e}")

    if torch.cuda.is_available():
        cuda = Settings(dataset="toy_xor", hidden=(4,), activation="relu", epochs=args.epochs, device="cuda")
        run_sweep(Sweep(cuda.replace(epochs=5), {}, seeds=list(range(args.cuda_k))), device="cuda")
        torch.cuda.synchronize()
        started = time.perf_counter()
        run_sweep(Sweep(cuda, {}, seeds=list(range(args.cuda_k))), device="cuda")
        torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        print(f"CUDA ({torch.cuda.get_device_name()}): K = {args.cuda_k:,} 2-4-1 relu, {args.epochs} epochs: "
              f"{seconds / (args.cuda_k * args.epochs) * 1e6:.2f} us per model-epoch ({seconds:.1f} s in all, with "
              f"building each seeded model and the grid evaluation)")
    else:
        print("CUDA: not available, skipped")


if __name__ == "__main__":
    main()
