"""The classic classifiers' test accuracies on the five toy patterns beside an 8,8 tanh network's, as a Markdown
table (what docs/performance.md quotes), from `nn-playground baselines --network --json` with the defaults otherwise
(4,000 points, 1,000 of them to test).

    python bench/baselines.py [--epochs 300] [--lr 0.01]

Each cell is a test accuracy; the last row gives the seconds each took (fit and all predictions; the network's:
training), summed over the five datasets.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard.cli import main  # noqa: E402

TOYS = ("toy_easy", "toy_hard", "toy_xor", "toy_cross", "toy_ring")


def measure(dataset: str, epochs: int, lr: float) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["baselines", "--dataset", dataset, "--hidden", "8,8", "--activation", "tanh", "--lr", str(lr),
                     "--epochs", str(epochs), "--network", "--json"])
    assert code == 0
    return json.loads(out.getvalue())


def main_table(epochs: int, lr: float) -> str:
    results = {name: measure(name, epochs, lr) for name in TOYS}
    first = results[TOYS[0]]
    rows = [first["network"]] + first["classifiers"]
    lines = ["| classifier | " + " | ".join(TOYS) + " | seconds (all five) |", "|---" * (len(TOYS) + 2) + "|"]
    for i, row in enumerate(rows):
        cells = []
        seconds = 0.0
        for name in TOYS:
            entry = ([results[name]["network"]] + results[name]["classifiers"])[i]
            cells.append(f"{100 * entry['test_accuracy']:.1f}%")
            seconds += entry["seconds"]
        lines.append(f"| {row['label']} | " + " | ".join(cells) + f" | {seconds:.1f} |")
    majority = [f"{100 * results[name]['majority']:.1f}%" for name in TOYS]
    lines.append("| majority class | " + " | ".join(majority) + " | |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.01)
    options = parser.parse_args()
    print(main_table(options.epochs, options.lr))
