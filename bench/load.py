"""A class on one server: `python bench/load.py [--sessions 30] [--num-procs 1] [--clients ws|chromium] [--rounds 1]
[--slow KBPS] [--json F]`.

`nn-playground serve` in its own process; once it has settled, N students open the app at once and each trains a
small XOR run: time to interactive, GET /app while they train, Train-to-finished, memory, and where the CPU went.
Students are light clients (ws, bench/ws_client.py) or real Chromium pages; `--slow` makes the light clients read
at most KBPS kB/s. A session whose page shows its run going on but gets nothing for STALL_S seconds is counted as
stuck (issue 18: a run's last update left unsent); one whose page never showed its run start, as never started.
With `--rounds`, that many classes one after the other on the same server. Method and results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository: tools.chromium and the packages

from tools.chromium import (  # noqa: E402
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
RUN_TIMEOUT = 300  # seconds a run may take before the bench says which runs never ended
STALL_S = 30  # seconds without anything new on a page whose run has not ended: that session is stuck
ENDED = re.compile(r"Run 1\b.*(finished|stopped|diverged|failed)")


class RunWatch:
    """Which pages have shown their run's end (and when), and which are stuck: nothing new for STALL_S seconds."""

    def __init__(self, count: int, clicked: float) -> None:
        self.clicked = clicked
        self.seen: list = [None] * count
        self.since = [clicked] * count
        self.finished: dict[int, float] = {}
        self.stuck: dict[int, dict] = {}

    def see(self, index: int, shown: tuple, state: str, now: float, about: dict) -> None:
        if index in self.finished or index in self.stuck:
            return
        if ENDED.search(state):
            self.finished[index] = now - self.clicked
        elif shown != self.seen[index]:
            self.seen[index], self.since[index] = shown, now
        elif now - self.since[index] > STALL_S or now - self.clicked > RUN_TIMEOUT:
            self.stuck[index] = {"session": index, "started": "Run 1" in state, "state": state, **about}

    def done(self) -> bool:
        return len(self.finished) + len(self.stuck) == len(self.seen)


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
    """The server's (each of its processes') and the machine's CPU seconds over a phase."""

    def __init__(self, server_pid: int) -> None:
        self.pids = [server_pid, *child_pids(server_pid)]
        self.each, self.machine = self._each(), machine_cpu_seconds()

    def _each(self) -> list[float]:
        return [cpu_seconds([pid]) for pid in self.pids]

    def phase(self) -> dict:
        each, machine = self._each(), machine_cpu_seconds()
        spent = [now - before for now, before in zip(each, self.each)]
        used = {"server_cpu_s": round(sum(spent), 1), "machine_cpu_s": round(machine - self.machine, 1)}
        if len(spent) > 1:  # the serving processes (forked children; the first process only waits for them)
            used["server_cpu_s_by_process"] = [round(value, 1) for value in spent]
        self.each, self.machine = each, machine
        return used


def settle(server_pid: int, quiet_share: float = 0.05, quiet_for: float = 8.0, timeout: float = 300) -> float:
    """Wait until the server's processes have used under `quiet_share` of a core for `quiet_for` seconds in a row
    (its start-up work is done, pages built ahead included: it waits a few idle seconds before building them);
    returns the seconds waited."""
    start = quiet_since = time.perf_counter()
    pids = [server_pid, *child_pids(server_pid)]
    used = cpu_seconds(pids)
    while time.perf_counter() - quiet_since < quiet_for and time.perf_counter() - start < timeout:
        time.sleep(1.0)
        now = cpu_seconds(pids)
        if now - used >= quiet_share:
            quiet_since = time.perf_counter()
        used = now
    return round(time.perf_counter() - start, 1)


def summary(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"median": round(statistics.median(values), 2), "max": round(max(values), 2), "count": len(values)}


def measure_chromium(base: str, sessions: int, cpu: CpuMeter, gets: list[float], server_pid: int,
                     read_kbps: float | None = None) -> dict:
    """N Chromium pages (one browser, a context each), on this machine."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages, opened = [], []
        start = time.perf_counter()
        for _ in range(sessions):  # all requested at once; each page renders when the server gets to it
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            page = context.new_page()
            page.goto(f"{base}/app{QUERY}", wait_until="commit", timeout=600_000)
            pages.append(AppPage(page, base))
        for app in pages:
            app.page.wait_for_function(READY_JS, timeout=600_000, polling=100)
            opened.append(time.perf_counter() - start)
            app.page.evaluate(PROBE_JS)  # the hooks AppPage reads the page with
        opening_cpu = cpu.phase()
        clicked = time.perf_counter()
        for app in pages:
            app.click("Train")
        with arriving_students(base, gets):
            watch = RunWatch(len(pages), clicked)
            while not watch.done():
                for index, app in enumerate(pages):
                    status, state = app.status(), app.state_text()
                    watch.see(index, (status, state), state, time.perf_counter(), {"status": status})
                time.sleep(0.5)
            training_cpu = cpu.phase()
        memory_after = rss_mib(server_pid, children=True)
        browser.close()
    browsers = {phase: used["machine_cpu_s"] - used["server_cpu_s"]  # the browsers, and whatever else ran
                for phase, used in (("opened", opening_cpu), ("in_all", training_cpu))}
    browsers["in_all"] += browsers["opened"]
    return {"opened": opened, "finished": list(watch.finished.values()), "stuck": list(watch.stuck.values()),
            "cpu_opening": opening_cpu, "cpu_training": training_cpu, "memory_after": memory_after,
            "client": {f"cpu_s_per_page_{phase}": round(used / sessions, 2) for phase, used in browsers.items()}
            | {"measured_as": "machine less server"}}


def measure_ws(base: str, sessions: int, cpu: CpuMeter, gets: list[float], server_pid: int,
               read_kbps: float | None = None) -> dict:
    """N light clients (bench/ws_client.py) in one asyncio event loop, in this process."""
    import asyncio

    from bench.ws_client import open_session

    async def run() -> dict:
        process = time.process_time()
        clients = await asyncio.gather(*(open_session(base, QUERY, read_kbps) for _ in range(sessions)))
        opened = [client.interactive_s for client in clients]
        opening_cpu, client_opening = cpu.phase(), time.process_time() - process
        clicked = time.perf_counter()
        for client in clients:
            await client.click("Train")
        with arriving_students(base, gets):
            watch = RunWatch(len(clients), clicked)
            while not watch.done():
                for index, client in enumerate(clients):
                    shown = (client.updates, client.status, client.state, client._reader.done())
                    watch.see(index, shown, client.state, time.perf_counter(), {
                        "status": client.status, "updates": client.updates, "acks": client.acks,
                        "errors": client.errors})
                await asyncio.sleep(0.2)
            training_cpu = cpu.phase()
        client_all = time.process_time() - process
        memory_after = rss_mib(server_pid, children=True)
        for client in clients:
            await client.close()
        client = {  # this process: the clients and the arriving students' GETs
            "measured_as": "this process", "cpu_s_per_page_opened": round(client_opening / sessions, 3),
            "cpu_s_per_page_in_all": round(client_all / sessions, 3),
            "page_mib": round(clients[0].page_bytes / 2**20, 1), "assets": clients[0].assets,
            "page_loaded_s": summary([client.page_s for client in clients]),  # the HTML and its assets
            "session_acked_s": summary([client.session_s for client in clients]),  # the session built, ACK
            "updates_per_run": round(statistics.mean(client.updates for client in clients)),
            "acks_per_run": round(statistics.mean(client.acks for client in clients))}
        return {"opened": opened, "finished": list(watch.finished.values()), "stuck": list(watch.stuck.values()),
                "cpu_opening": opening_cpu, "cpu_training": training_cpu, "memory_after": memory_after,
                "client": client}

    return asyncio.run(run())


class arriving_students:
    """While in this block, a new student's plain GET of /app every half second, timed (in a thread)."""

    def __init__(self, base: str, gets: list[float]) -> None:
        self.base, self.gets, self.running = base, gets, threading.Event()
        self.thread = threading.Thread(target=self._arrive, daemon=True)

    def _arrive(self) -> None:
        while self.running.is_set():
            self.gets.append(timed_get(f"{self.base}/app"))
            time.sleep(0.5)

    def __enter__(self):
        self.running.set()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.running.clear()
        self.thread.join(timeout=130)


def round_figures(measured: dict, gets: list[float], sessions: int, memory_before: float) -> dict:
    opening, training = measured["cpu_opening"], measured["cpu_training"]
    return {
        "time_to_interactive_s": summary(measured["opened"]), "get_app_while_training_s": summary(gets),
        "train_to_finished_s": summary(measured["finished"]), "stuck": measured["stuck"],
        "server_memory_mib": {"before": round(memory_before), "after": round(measured["memory_after"])},
        "cpu_opening": {**opening, "server_cpu_s_per_page": round(opening["server_cpu_s"] / sessions, 2)},
        "cpu_training": {**training, "server_cpu_s_per_run": round(training["server_cpu_s"] / sessions, 2)},
        "client": measured["client"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--num-procs", type=int, default=1)
    parser.add_argument("--ready-pages", type=int, default=None,
                        help="pages built ahead per server process (default: the server's own default)")
    parser.add_argument("--clients", choices=["ws", "chromium"], default="ws",
                        help="ws: light protocol clients (the default); chromium: real browser pages")
    parser.add_argument("--rounds", type=int, default=1, help="classes one after the other on the same server")
    parser.add_argument("--slow", type=float, default=None, metavar="KBPS",
                        help="light clients that read at most KBPS kB/s (a slow network, a busy page)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.slow and args.clients != "ws":
        parser.error("--slow is for the light clients (--clients ws)")

    port = free_port()
    ready = [] if args.ready_pages is None else ["--ready-pages", str(args.ready_pages)]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "serve",
            "--port",
            str(port),
            "--num-procs",
            str(args.num_procs),
            *ready,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://localhost:{port}"
    rounds = []
    try:
        for _ in range(600):
            try:
                timed_get(f"{base}/app")
                break
            except OSError:
                time.sleep(0.2)
        settled = settle(server.pid)  # the class arrives after the server has started (and built pages ahead)
        memory_before = rss_mib(server.pid, children=True)
        cpu = CpuMeter(server.pid)
        measure = measure_ws if args.clients == "ws" else measure_chromium
        for _ in range(args.rounds):
            gets: list[float] = []
            measured = measure(base, args.sessions, cpu, gets, server.pid, args.slow)
            rounds.append(round_figures(measured, gets, args.sessions, memory_before))
            started = sum(one["started"] for one in measured["stuck"])
            print(f"round {len(rounds)}: {started} stuck of {args.sessions}, "
                  f"{len(measured['stuck']) - started} never started", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=60)
    figures = {
        "sessions": args.sessions, "num_procs": args.num_procs, "clients": args.clients,
        "ready_pages": args.ready_pages if args.ready_pages is not None else "default", "server_settled_s": settled,
        "slow_client_kbps": args.slow,
        "stuck_per_round": [sum(stuck["started"] for stuck in one["stuck"]) for one in rounds],
        "never_started_per_round": [sum(not stuck["started"] for stuck in one["stuck"]) for one in rounds],
    }
    figures |= rounds[0] if len(rounds) == 1 else {"rounds": rounds}
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
