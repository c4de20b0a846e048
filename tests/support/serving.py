"""`nn-playground serve` in its own process for a test: the command as a teacher runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import wait_for_http
from tools.chromium import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def served(*options: str):
    """`nn-playground serve` in its own process group on a free port; yields the port and the process, and ends
    it with Ctrl-C."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port), *options],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for_http(f"http://localhost:{port}/app", timeout=120)
        yield port, server
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
