"""Fixtures: the dashboard served in-process on a free port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

import pytest

from tools.chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    AppPage,
    block_outside,
    free_port,
)

# Waits in browser tests are for liveness, not speed: a busy machine (the suite beside two CPU hogs) may take long.
BROWSER_WAIT_MS = 90_000
SCREENSHOTS = Path(os.environ.get("NNP_SCREENSHOTS", Path(__file__).resolve().parents[1] / "out" / "screenshots"))


def wait_for_http(url: str, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def server():
    """The app served by `dashboard.ui.server.start` (pn.serve, threaded) on a free port; its base URL."""
    import panel as pn

    from dashboard.ui.server import close_all, start

    port = free_port()
    thread = start(port=port)
    url = f"http://localhost:{port}"
    wait_for_http(f"{url}/app")
    yield url
    close_all()
    thread.stop()
    thread.join(timeout=20)
    pn.state.reset()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, for one test module: Playwright's sync API keeps an asyncio loop
    running on the main thread while it is open, which would take Panel's async callbacks in later headless tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_playwright = sync_api.sync_playwright
    sync_api.expect.set_options(timeout=BROWSER_WAIT_MS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Session:
    """A browser context (its own cookies: its own server session) with one page on the app."""

    def __init__(self, browser, server: str, width: int = 1366, height: int = 768) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.set_default_timeout(BROWSER_WAIT_MS)
        block_outside(self.context, self.outside)
        page = self.context.new_page()
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.app = AppPage(page, server)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def new_session(browser, server):
    """Open browser sessions on the app: `new_session(width=..., height=...)`; closed after the test."""
    sessions = []

    def make(**size) -> Session:
        session = Session(browser, server, **size)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
