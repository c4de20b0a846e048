"""A class on one server: `python bench/load.py [--sessions 30] [--num-procs 1] [--json FILE]`.

The app is served in its own process (`nn-playground serve`, as a teacher would start it). Then, all at once:
1. N browser pages (one Chromium, a context each) open the app: time from the request to the first rendered
   page (time to interactive), median and max;
2. every page presses Train on a small XOR run, and meanwhile plain HTTP GETs of /app (a new student arriving)
   are timed: median and max;
3. Train-to-finished per page (the click to "finished" in the state line): median and max;
4. the server's resident memory (all its processes) before the pages open and after they have trained;
5. where the machine's CPU went in each phase (opening, training): the server's processes against everything
   (the Chromium pages run on the same machine here; a real class brings its own computers), so that the
   server's own cost per page open and per trained run can be read apart from the browsers'.
"""

from __future__ import annotations

import argparse
import json
import os
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
    child_pids,
    free_port,
    rss_mib,
)

QUERY = "?dataset=toy_xor&hidden=8,8&activation=tanh&lr=0.01&epochs=300"


def timed_get(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
    return time.perf_counter() - start


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time used by the whole machine so far (all cores, not idle), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


class CpuMeter:
    """The server's and the machine's CPU seconds over a phase."""

    def __init__(self, server_pid: int) -> None:
        self.pids = [server_pid, *child_pids(server_pid)]
        self.server, self.machine = cpu_seconds(self.pids), machine_cpu_seconds()

    def phase(self) -> dict:
        server, machine = cpu_seconds(self.pids), machine_cpu_seconds()
        used = {"server_cpu_s": round(server - self.server, 1), "machine_cpu_s": round(machine - self.machine, 1)}
        self.server, self.machine = server, machine
        return used


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
        cpu = CpuMeter(server.pid)
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
            opening_cpu = cpu.phase()
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
            training_cpu = cpu.phase()
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
        "cpu_opening": {**opening_cpu, "server_cpu_s_per_page": round(opening_cpu["server_cpu_s"] / args.sessions, 2)},
        "cpu_training": {**training_cpu, "server_cpu_s_per_run": round(training_cpu["server_cpu_s"] / args.sessions, 2)},
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
