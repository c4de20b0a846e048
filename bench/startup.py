"""Start-up of the command line, and whole-process time of a training run against the notebook's loop as a script.

    python bench/startup.py [--repeats 3] [--against OTHER_CHECKOUT] [--startup-only]

Each a fresh Python process, timed from outside, interleaved; medians, with the machine's load. First the start-up
commands (`--help`, a 1-epoch `train`, `import engine.training`; target: `--help` under 0.3 s on an idle machine),
beside the same in another checkout with --against; then the ratio command/notebook (targets: <= 0.5 for 2-16-16-1
tanh 1500 epochs, <= 0.6 for 2-64-64-64-1 relu 400 epochs). Method: docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOK = """
import numpy as np
import torch
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
rng = np.random.default_rng(2)
points = rng.random((4000, 2), dtype=np.float32)
x, y = points.T
labels = (((x - 0.3) ** 2 + (y - 0.6) ** 2 <= 0.25**2)
          | ((x - 0.55) ** 2 + (y - 0.15) ** 2 <= 0.15**2)).astype(np.float32)
x_train, x_test, t_train, t_test = train_test_split(points, labels, test_size=0.25, random_state=2, stratify=labels)
hidden, activation, epochs = {hidden!r}, torch.nn.{activation}, {epochs}
torch.manual_seed(10)
layers, width = [], 2
for size in hidden:
    layers += [torch.nn.Linear(width, size), activation()]
    width = size
model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
x = torch.tensor(x_train)
t = torch.tensor(t_train[:, None])
x_test = torch.tensor(x_test)
t_test = torch.tensor(t_test[:, None])
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
loss_fn = torch.nn.BCEWithLogitsLoss()
for e in range(epochs):
    logits = model(x)
    loss = loss_fn(logits, t)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        train_pred = (torch.sigmoid(model(x)) >= 0.5).float()
        test_pred = (torch.sigmoid(model(x_test)) >= 0.5).float()
    train_accuracy = (train_pred == t).float().mean().item()
    test_accuracy = (test_pred == t_test).float().mean().item()
    error = loss.item()
print(f"loss = {{error:.4f}} | train acc = {{100 * train_accuracy:5.1f}}% | test acc = {{100 * test_accuracy:5.1f}}%")
"""

CASES = [((16, 16), "tanh", "Tanh", 1500, 0.5), ((64, 64, 64), "relu", "ReLU", 400, 0.6)]
# Start-up alone: what a command costs before and after its work (the console script's own exit: dashboard.cli.run).
RUN = "import sys; from dashboard.cli import run; sys.argv = ['nn-playground'] + sys.argv[1:]; run()"
STARTUP = [("nn-playground --help", ["-c", RUN, "--help"]),
           ("nn-playground train --epochs 1", ["-c", RUN, "train", "--epochs", "1"]),
           ("import engine.training", ["-c", "import engine.training"])]


def timed(command: list[str], cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def environment(tree: Path) -> dict:
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree)] + paths))


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def start_up(repeats: int, against: Path | None) -> None:
    """Each start-up command, interleaved with the same in the tree `against` (ABAB...) when given."""
    trees = [ROOT] + ([against] if against else [])
    print(f"start-up, median of {repeats} fresh processes, interleaved; load {load()}")
    print(f"{'command':<32} {'this tree s':>12}" + (f" {'--against s':>12} {'ratio':>6}" if against else ""))
    for name, arguments in STARTUP:
        times = {tree: [] for tree in trees}
        for _ in range(repeats):
            for tree in trees:
                times[tree].append(timed([sys.executable, *arguments], tree, environment(tree)))
        ours = statistics.median(times[ROOT])
        line = f"{name:<32} {ours:>12.2f}"
        if against:
            theirs = statistics.median(times[against])
            line += f" {theirs:>12.2f} {ours / theirs:>6.2f}"
        print(line)
    print(f"load after: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout (say the commit before a change): its start-up "
                        "commands timed interleaved with this tree's")
    parser.add_argument("--startup-only", action="store_true", help="skip the training runs against the notebook")
    args = parser.parse_args()
    start_up(args.repeats, args.against.resolve() if args.against else None)
    if args.startup_only:
        return
    env = environment(ROOT)
    print(f"whole process, median of {args.repeats}: `nn-playground train` (python -m dashboard.cli)"
          f" vs the notebook loop as a script; load {load()}")
    print(f"{'network':<24} {'notebook s':>11} {'train s':>9} {'ratio':>7} {'target':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for hidden, activation, module, epochs, target in CASES:
            script = Path(folder) / "notebook.py"
            script.write_text(NOTEBOOK.format(hidden=hidden, activation=module, epochs=epochs))
            notebook_command = [sys.executable, str(script)]
            train_command = [sys.executable, "-c", RUN, "train", "--hidden", ",".join(map(str, hidden)),
                             "--activation", activation, "--epochs", str(epochs)]
            notebook, train = [], []
            for _ in range(args.repeats):  # interleaved, so load changes hit both alike
                notebook.append(timed(notebook_command, ROOT, env))
                train.append(timed(train_command, ROOT, env))
            a, b = statistics.median(notebook), statistics.median(train)
            name = "2-" + "-".join(map(str, hidden)) + f"-1 {activation} {epochs} ep"
            print(f"{name:<24} {a:>11.2f} {b:>9.2f} {b / a:>7.2f} {target:>7.2f}")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
