"""What working out the hints (engine/hints.py) costs when a run ends: the hidden units read on all the training
points in chunks, then every rule of the table. The app does it once a run, on the server's loop.

    python bench/hints.py [--repeat 5]

Median ms per `trainer_hints` for a small and the largest network the settings allow. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import Settings, Trainer  # noqa: E402
from engine.hints import trainer_hints  # noqa: E402

CASES = {
    "defaults (2-4-1, 3000 training points, 200 epochs)": dict(),
    "8 layers of 256, 150,000 training points, 2 epochs": dict(samples=200_000, hidden=(256,) * 8, epochs=2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, values in CASES.items():
        trainer = Trainer(Settings(**values))
        trainer.train()
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            found = trainer_hints(trainer)
            times.append(1000 * (time.perf_counter() - start))
        print(f"{name}: {statistics.median(times):.1f} ms (hints: {', '.join(h.name for h in found) or 'none'})")


if __name__ == "__main__":
    main()
