"""Sweep speed: the per-model CPU cost of a batched sweep against the same models trained one after another, and
against the leanest eager loop (bench/lean.py) in the same run.

    python bench/sweep.py [--ks 64] [--epochs 200] [--sample 8] [--repeats 5] [--workers 2] [--against CHECKOUT]

K models 2-8-8-1 tanh on toy_xor. Interleaved per repeat (one after another, sweep in this process, lean loops with
torch's and numpy's tanh), medians of CPU time per model, with the machine's load; ratios < 1 mean cheaper per model
than one after another (target: <= 0.30 in one process). --against: another checkout's engine (say the commit
before a change), its sweep and one-after-another timed in the same process, interleaved. Then the sweep on
--workers processes (wall time), and a check that the batched results agree with single runs. With CUDA,
microseconds per model-epoch for K = 16,384. Method: docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch

from bench.against import load_engine, module
from bench.lean import lean_stack
from engine import Settings, load_dataset
from engine.stacked import StackedMLP
from engine.stacked_training import train_alone
from engine.sweep import Sweep, run_sweep, warm_up


def against_runs(other, base, dataset, sample_size: int, k: int) -> dict:
    """The other checkout's one-after-another and sweep, as `runs` entries."""
    sweeps, alone = module(other, "sweep"), module(other, "stacked_training").train_alone
    other_base = other.Settings.from_dict(base.to_dict())
    sample = [other_base.replace(seed=seed) for seed in range(sample_size)]
    alone(0, sample[0], dataset)  # first-use costs off the clock
    sweep = sweeps.Sweep(other_base, {}, seeds=list(range(k)))
    return {"against alone": (lambda: [alone(i, s, dataset) for i, s in enumerate(sample)], len(sample)),
            "against sweep": (lambda: sweeps.run_sweep(sweep, workers=1), k)}


def cpu_per_model(function, models: int) -> tuple[float, object]:
    started = time.process_time()
    result = function()
    return (time.process_time() - started) / models, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ks", type=int, nargs="+", default=[64])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--sample", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cuda-k", type=int, default=16_384)
    parser.add_argument("--against", type=Path, help="another checkout: its engine timed beside this one")
    args = parser.parse_args()
    other = load_engine(args.against) if args.against else None
    torch.set_num_threads(1)
    base = Settings(dataset="toy_xor", hidden=(8, 8), activation="tanh", epochs=args.epochs)
    dataset = load_dataset(base)
    tensors = [torch.tensor(a if a.ndim == 2 else a[:, None]) for a in
               (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)]

    sample = [base.replace(seed=seed) for seed in range(args.sample)]
    train_alone(0, sample[0], dataset)  # first-use costs off the clock
    print(f"2-8-8-1 tanh, toy_xor, {args.epochs} epochs; CPU ms per model, median of {args.repeats} interleaved; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'K':>5} {'one after another':>18} {'sweep, 1 process':>17} {'ratio':>6} {'lean, torch tanh':>17} "
          f"{'ratio':>6} {'lean, numpy tanh':>17} {'ratio':>6}")
    for k in args.ks:
        sweep = Sweep(base, {}, seeds=list(range(k)))
        flat = StackedMLP.from_seeds(sweep.validate(), torch.device("cpu")).flat
        runs = {
            "alone": (lambda: [train_alone(i, s, dataset) for i, s in enumerate(sample)], len(sample)),
            "sweep": (lambda sweep=sweep: run_sweep(sweep, workers=1), k),
            "lean torch": (lambda flat=flat: lean_stack(flat, (8, 8), "tanh", *tensors, args.epochs), k),
            "lean numpy": (lambda flat=flat: lean_stack(flat, (8, 8), "tanh", *tensors, args.epochs, tanh="numpy"), k),
        }
        if other is not None:
            runs.update(against_runs(other, base, dataset, args.sample, k))
        times = {name: [] for name in runs}
        outputs = {}
        for _ in range(args.repeats):
            for name, (function, models) in runs.items():
                seconds, outputs[name] = cpu_per_model(function, models)
                times[name].append(seconds)
        median = {name: statistics.median(values) * 1e3 for name, values in times.items()}
        alone = median["alone"]
        print(f"{k:>5} {alone:>15.1f} ms {median['sweep']:>14.1f} ms {median['sweep'] / alone:>6.2f} "
              f"{median['lean torch']:>14.1f} ms {median['lean torch'] / alone:>6.2f} "
              f"{median['lean numpy']:>14.1f} ms {median['lean numpy'] / alone:>6.2f}")
        if other is not None:
            print(f"      --against: one after another {median['against alone']:.1f} ms, sweep "
                  f"{median['against sweep']:.1f} ms, ratio {median['against sweep'] / median['against alone']:.2f}")
        single = outputs["sweep"]
        pairs = list(zip(single, outputs["alone"]))
        d_loss = max(abs(r.final["loss"] - a.final["loss"]) for r, a in pairs)
        d_acc = max(abs(r.final["test_accuracy"] - a.final["test_accuracy"]) for r, a in pairs)
        if args.workers > 1:
            warm_up(args.workers)
            started = time.perf_counter()
            results = run_sweep(sweep, workers=args.workers)
            parallel = (time.perf_counter() - started) / k
            if [r.final for r in results] != [r.final for r in single]:
                raise SystemExit("the results differ between processes and one process")
            print(f"      on {args.workers} processes: {parallel * 1e3:.1f} ms wall per model (the same results as one "
                  f"process); sweep against alone: max |d loss| {d_loss:.1e}, max |d test acc| {d_acc:.1e}")
    print(f"load after: {os.getloadavg()[0]:.1f}")

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
