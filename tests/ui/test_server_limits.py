"""Issue 18 on `nn-playground serve`: a request over the limits gets its status and a line of text saying why
(not an empty reply), and any stop signal to the first process of `--num-procs 2` stops the serving processes."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from dashboard.ui.request_limits import MAX_QUERY_FIELDS, MAX_URI_BYTES
from tests.conftest import wait_for_http
from tests.support.serving import ROOT, served
from tools.chromium import child_pids, free_port


@contextmanager
def two_processes():
    """`serve --num-procs 2` in its own process group; yields the first process and its two serving processes."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port), "--num-procs",
                               "2", "--ready-pages", "0"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    children: list[int] = []
    try:
        wait_for_http(f"http://localhost:{port}/app", timeout=120)
        deadline = time.monotonic() + 60
        while len(child_pids(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        children = child_pids(server.pid)
        assert len(children) == 2
        yield server, children
    finally:
        for pid in [server.pid, *children]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        server.wait(timeout=30)


def ended(children: list[int], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not any(_alive(pid) for pid in children)


def get(port: int, path: str) -> tuple[int, str, str]:
    connection = http.client.HTTPConnection("localhost", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_requests_over_the_limits_are_told_why():
    with served("--ready-pages", "0") as (port, _):
        # Before: 100 kB closed the connection without a reply; 5,000 parameters got a 400 with no text.
        status, kind, text = get(port, "/app?q=" + "a" * 100_000)
        assert status == 414 and kind.startswith("text/plain") and f"up to {MAX_URI_BYTES:,}" in text
        status, kind, text = get(port, "/app?" + "&".join(f"p{i}=1" for i in range(5000)))
        assert status == 400 and kind.startswith("text/plain") and "5,000 query parameters" in text
        assert f"up to {MAX_QUERY_FIELDS:,}" in text
        status, _, text = get(port, "/app?" + "&".join(f"p{i}=1" for i in range(500)))  # within them: the page
        assert status == 200 and "<html" in text


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_the_first_of_two_processes_stops_both(number):
    with two_processes() as (server, children):
        os.kill(server.pid, number)  # the first process only, as `kill -INT PID` does
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the first process still runs a minute after {signal.Signals(number).name}")
        assert ended(children), "serving processes left behind"  # before: both went on serving


def test_a_killed_first_process_takes_the_serving_processes_with_it():
    with two_processes() as (server, children):
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        assert ended(children)


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
