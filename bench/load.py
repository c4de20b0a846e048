"""A class on one server: `python bench/load.py [--sessions 30] [--num-procs 1] [--json FILE]`.

The app is served in its own process (`nn-playground serve`, as a teacher would start it). Then, all at once:
1. N browser pages (one Chromium, a context each) open the app: time from the request to the first rendered
   page (time to interactive), median and max;
2. every page presses Train on a small XOR run, and meanwhile plain HTTP GETs of /app (a new student arriving)
   are timed: median and max;
3. Train-to-finished per page (the click to "finished" in the state line): median and max;
4. the server's resident memory (all its processes) before the pages open and after they have trained.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository: tests.support and the packages

from tests.support.probe import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PROBE_JS,
    READY_JS,
    AppPage,
    free_port,
    rss_mib,
)

QUERY = "?dataset=toy_xor&hidden=8,8&activation=tanh&lr=0.01&epochs=300"


def timed_get(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
    return time.perf_counter() - start


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "max": round(max(values), 2), "count": len(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--num-procs", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port), "--num-procs",
                               str(args.num_procs)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://localhost:{port}"
    try:
        for _ in range(600):
            try:
                timed_get(f"{base}/app")
                break
            except OSError:
                time.sleep(0.2)
        memory_before = rss_mib(server.pid, children=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages, opened = [], []
            start = time.perf_counter()
            for _ in range(args.sessions):  # all requested at once; each page renders when the server gets to it
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                page = context.new_page()
                page.goto(f"{base}/app{QUERY}", wait_until="commit", timeout=600_000)
                pages.append(AppPage(page, base))
            for app in pages:
                app.page.wait_for_function(READY_JS, timeout=600_000, polling=100)
                opened.append(time.perf_counter() - start)
                app.page.evaluate(PROBE_JS)  # the hooks AppPage reads the page with
            gets, running = [], threading.Event()
            running.set()

            def arrivals() -> None:
                while running.is_set():
                    gets.append(timed_get(f"{base}/app"))
                    time.sleep(0.5)

            visitor = threading.Thread(target=arrivals, daemon=True)
            clicked = time.perf_counter()
            for app in pages:
                app.click("Train")
            visitor.start()
            finished = []
            for app in pages:
                app.wait_for_run_end(1, timeout=900)
                finished.append(time.perf_counter() - clicked)
            running.clear()
            visitor.join(timeout=130)
            memory_after = rss_mib(server.pid, children=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    figures = {
        "sessions": args.sessions, "num_procs": args.num_procs,
        "time_to_interactive_s": summary(opened), "get_app_while_training_s": summary(gets),
        "train_to_finished_s": summary(finished),
        "server_memory_mib": {"before": round(memory_before), "after": round(memory_after)},
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
