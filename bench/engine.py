"""Engine speed against the teaching notebook's own training loop and the leanest eager loop, in one process on
one thread.

    python bench/engine.py [--repeats 7] [--epochs 200] [--against OTHER_CHECKOUT]

Checks that the engine and the notebook give the same history, then times notebook, engine and the lean loops of
bench/lean.py interleaved (ABC ABC ...; with --against, another checkout's engine too, say the commit before a
change, in the same process), and prints the median time per epoch and each ratio to the notebook
(targets: 2-4-1 relu <= 0.36, 2-16-16-1 tanh <= 0.40, 2-64x3-1 relu <= 0.62), with the machine's load; then grid
evaluation of 40,000 points. Method: docs/performance.md.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

# This script is itself named engine.py: keep its folder off the import path so `import engine` is the package.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

import numpy as np
import torch

from engine import Settings, Trainer, build_model, load_dataset
from engine.evaluation import evaluate_grid

sys.path.insert(0, str(HERE.parent))
from bench.against import load_engine  # noqa: E402
from bench.lean import lean_single  # noqa: E402

NETWORKS = [((4,), "relu", 0.36), ((16, 16), "tanh", 0.40), ((64, 64, 64), "relu", 0.62)]


def notebook_loop(model, x_np, t_np, x_test_np, t_test_np, epochs):
    """The notebook's training cell, as written there (status printing left out)."""
    x = torch.tensor(x_np, dtype=torch.float32)
    t = torch.tensor(t_np[:, None], dtype=torch.float32)
    x_test = torch.tensor(x_test_np, dtype=torch.float32)
    t_test = torch.tensor(t_test_np[:, None], dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    error, train_accuracy, test_accuracy = np.zeros(epochs), np.zeros(epochs), np.zeros(epochs)
    for e in range(epochs):
        logits = model(x)
        loss = loss_fn(logits, t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            train_proba = torch.sigmoid(model(x))
            test_proba = torch.sigmoid(model(x_test))
            train_pred = (train_proba >= 0.5).float()
            test_pred = (test_proba >= 0.5).float()
        error[e] = loss.item()
        train_accuracy[e] = (train_pred == t).float().mean().item()
        test_accuracy[e] = (test_pred == t_test).float().mean().item()
    return error, train_accuracy, test_accuracy


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--against", type=Path, help="another checkout: its engine timed beside this one")
    args = parser.parse_args()
    other = load_engine(args.against) if args.against else None
    torch.set_num_threads(1)
    data = load_dataset(Settings())
    arrays = (data.x_train, data.y_train, data.x_test, data.y_test)
    tensors = [torch.tensor(a if a.ndim == 2 else a[:, None]) for a in arrays]
    notebook_loop(build_model(2, (4,), "relu"), *arrays, 2)  # first-use costs (torch._dynamo import) off the clock

    print(f"toy_easy (3000 train points), {args.epochs} full-batch epochs, Adam 5e-3, median of {args.repeats} "
          f"interleaved, 1 thread; load {os.getloadavg()[0]:.1f}")
    print(f"{'network':<22} {'notebook us/ep':>14} {'engine':>7} {'lean torch':>10} {'lean numpy tanh':>15} "
          f"{'target':>6}" + (f" {'--against':>9}" if other else "") + "  engine history")
    for hidden, activation, target in NETWORKS:
        settings = Settings(hidden=hidden, activation=activation, epochs=args.epochs)
        torch.manual_seed(0)
        initial = build_model(2, hidden, activation)
        linears = [layer for layer in initial if isinstance(layer, torch.nn.Linear)]
        runs = {
            "notebook": lambda initial=initial: notebook_loop(copy.deepcopy(initial), *arrays, args.epochs),
            "engine": lambda settings=settings, initial=initial: Trainer(
                settings, dataset=data, model=copy.deepcopy(initial)).train(),
            "lean torch": lambda linears=linears, activation=activation: lean_single(
                linears, activation, *tensors, args.epochs),
        }
        if other is not None:
            runs["against"] = lambda settings=settings, initial=initial: other.Trainer(
                other.Settings.from_dict(settings.to_dict()), dataset=data, model=copy.deepcopy(initial)).train()
        if activation == "tanh":
            runs["lean numpy tanh"] = lambda linears=linears: lean_single(linears, "tanh", *tensors, args.epochs,
                                                                          tanh="numpy")
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                times[name].append(timed(run)[0])
        reference = notebook_loop(copy.deepcopy(initial), *arrays, args.epochs)
        trainer = Trainer(settings, dataset=data, model=copy.deepcopy(initial))
        trainer.train()
        ours = (trainer.history.loss, trainer.history.train_accuracy, trainer.history.test_accuracy)
        identical = all(np.array_equal(np.asarray(a), b) for a, b in zip(ours, reference))
        if not identical:
            raise SystemExit(f"{hidden} {activation}: the engine's history differs from the notebook loop's")
        median = {name: statistics.median(values) for name, values in times.items()}
        notebook = median["notebook"]
        ratios = [f"{median[name] / notebook:>{width}.2f}" if name in median else " " * width
                  for name, width in (("engine", 7), ("lean torch", 10), ("lean numpy tanh", 15))]
        name = "2-" + "-".join(map(str, hidden)) + f"-1 {activation}"
        against = f" {median['against'] / notebook:>9.2f}" if other else ""
        print(f"{name:<22} {notebook / args.epochs * 1e6:>14.0f} {' '.join(ratios)} {target:>6.2f}{against}  identical")

    trainer = Trainer(Settings(hidden=(64, 64, 64)), dataset=data)
    grid_times = [timed(lambda: evaluate_grid(trainer, size=200))[0] for _ in range(args.repeats)]
    print(f"grid evaluation, 200x200 = 40,000 points, 2-64-64-64-1: {statistics.median(grid_times) * 1e3:.1f} ms")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
