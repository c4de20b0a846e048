"""Measure the served dashboard in Chromium: `python bench/live.py [--sessions N] [--json FILE]`.

Click-to-first-epoch latency (cold and warm), visible status and map updates per second while a 3x64 network trains
(against the same run headless), and the server's memory per open session; the server in its own process, the
browser Debian's Chromium (tools/chromium.py). The method: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.chromium and the packages

from tools.chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    AppPage,
    epoch_of,
    free_port,
    rss_mib,
)

XOR = "?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=2000"
BIG = "?dataset=toy_xor&hidden=64,64,64&lr=0.01&epochs=600"


def start_server(port: int) -> subprocess.Popen:
    code = f"from dashboard.ui.server import serve; serve(port={port})"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://localhost:{port}/app", timeout=10).close()
            return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.3)


def first_update_ms(app: AppPage, button: str = "Train") -> float:
    """Click, wait for the run to end, return ms from the click to the first status line with an epoch."""
    before, run = len(app.status_changes()), app.run_count()
    app.click(button)
    app.wait_for_run_end(run + 1)
    clicked = app.click_time()
    shown = [t for t, text in app.status_changes()[before:] if t > clicked and epoch_of(text)]
    return shown[0] - clicked


def run_rates(app: AppPage) -> dict:
    """Train the page's preset and count the visible updates while it trains."""
    app.page.bring_to_front()  # a page behind another gets no animation frames, so no acks: 1 update/s by design
    status_before, map_before, run = len(app.status_changes()), len(app.map_changes()), app.run_count()
    app.click("Train")
    app.wait_for_run_end(run + 1, timeout=600)
    status = [change for change in app.status_changes()[status_before:] if epoch_of(change[1])]
    maps = app.map_changes()[map_before:]
    start, end = status[0][0], status[-1][0]
    seconds = (end - start) / 1000
    epochs = epoch_of(status[-1][1])[0] - epoch_of(status[0][1])[0]
    return {
        "seconds": round(seconds, 2),
        "status_updates": len(status) - 1,
        "map_updates": len([t for t in maps if start < t <= end]),
        "status_per_second": round((len(status) - 1) / seconds, 1),
        "map_per_second": round(len([t for t in maps if start < t <= end]) / seconds, 1),
        "epochs_per_second": round(epochs / seconds, 1),
    }


def headless_epochs_per_second(query: str) -> float:
    from urllib.parse import parse_qsl

    from dashboard.session.experiment import Experiment

    experiment = Experiment()
    experiment.set_texts(dict(parse_qsl(query.lstrip("?"))))
    experiment.train()
    experiment.wait()
    return round(len(experiment.history) / experiment.runs[-1]["seconds"], 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/live.py", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=6, help="extra sessions opened for the memory figure")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_server(port)
    base = f"http://localhost:{port}"
    results: dict = {"machine": {}}
    try:
        import os

        import torch

        results["machine"] = {"cpus": os.cpu_count(), "torch": torch.__version__}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            app = AppPage(context.new_page(), base).open(XOR)
            results["rss_one_session_mib"] = round(rss_mib(server.pid), 1)
            # 1. latency
            cold = first_update_ms(app)
            warm = [first_update_ms(app) for _ in range(3)]
            results["click_to_first_update_ms"] = {"cold": round(cold), "warm_median": round(statistics.median(warm)),
                                                   "warm": [round(value) for value in warm]}
            # 2. updates per second, 3x64
            big = AppPage(context.new_page(), base).open(BIG)
            results["training_3x64"] = run_rates(big)
            results["training_3x64"]["headless_epochs_per_second"] = headless_epochs_per_second(BIG)
            results["training_8x8"] = run_rates(app)
            big.page.close()
            # 3. memory per session
            time.sleep(2)
            base_rss = rss_mib(server.pid)
            pages = []
            for _ in range(args.sessions):
                extra = browser.new_context(viewport={"width": 1366, "height": 768})
                pages.append((extra, AppPage(extra.new_page(), base).open(XOR.replace("2000", "200"))))
            time.sleep(2)
            idle_rss = rss_mib(server.pid)
            for _, page in pages:
                page.click("Train")
            for _, page in pages:
                page.wait_for_run_end(1, timeout=300)
            time.sleep(2)
            trained_rss = rss_mib(server.pid)
            results["memory_per_session_mib"] = {
                "sessions": args.sessions,
                "server_rss_before_mib": round(base_rss, 1),
                "idle": round((idle_rss - base_rss) / args.sessions, 1),
                "after_training": round((trained_rss - base_rss) / args.sessions, 1),
            }
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
