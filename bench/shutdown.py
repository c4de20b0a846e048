"""How long `nn-playground serve` and `train` take to exit after a stop signal (issue 18: serve ~3 s, train ~2 s).

    python bench/shutdown.py [--rounds 3]

Each round starts an idle server (waits for its page, then a few seconds so that pages are being built ahead) and
sends SIGINT, then SIGTERM to a `--num-procs 2` server, then interrupts a long `train` once its progress shows.
Prints each time and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.chromium import free_port  # noqa: E402

COMMAND = [sys.executable, "-m", "dashboard.cli"]


def _timed_stop(process: subprocess.Popen, sig: int) -> float:
    started = time.monotonic()
    process.send_signal(sig)
    process.wait(timeout=120)
    return time.monotonic() - started


def serve_exit(sig: int, idle: float, procs: int = 1) -> float:
    port = free_port()
    process = subprocess.Popen([*COMMAND, "serve", "--port", str(port), "--num-procs", str(procs)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=60) as response:
                response.read()
            break
        except OSError:
            time.sleep(0.3)
    time.sleep(idle)
    return _timed_stop(process, sig)


def train_exit() -> float:
    process = subprocess.Popen([*COMMAND, "train", "--epochs", "1000000", "--hidden", "64,64"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "Epoch" not in seen:  # the progress bar's status line: training has begun
        seen += process.stderr.read(1)
    time.sleep(1)
    return _timed_stop(process, signal.SIGINT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for round_ in range(1, args.rounds + 1):
        times = {
            "serve SIGINT": serve_exit(signal.SIGINT, idle=4 + round_),
            "serve --num-procs 2 SIGTERM": serve_exit(signal.SIGTERM, idle=4 + round_, procs=2),
            "train Ctrl-C": train_exit(),
        }
        load = os.getloadavg()[0]
        print(
            f"round {round_} (load {load:.1f}): "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items()),
            flush=True,
        )


if __name__ == "__main__":
    main()
