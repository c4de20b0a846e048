"""Issue 11, item 5: a new session opens on a page the server built ahead while idle (dashboard/ui/ready_pages.py),
with the settings of its own address, as its own session: closing it ends its training; once the pages built
ahead are used up, sessions are built as before, and the server builds new ones when it is idle again, not
while a session trains."""

from __future__ import annotations

import time

import panel as pn
import pytest
from bokeh.client import pull_session

import dashboard.session.runner as runner_module
from dashboard.ui import factory as app_factory
from dashboard.ui import ready_pages
from dashboard.ui.server import close_all, start
from tests.conftest import wait_for_http
from tools.chromium import free_port


def wait_until(condition, timeout: float = 60, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


@pytest.fixture
def served():
    """The app served in-process with two pages built ahead. Yields the base URL, the ReadyPages, and a function
    listing this server's experiments (not those other tests in this process left behind)."""
    earlier = list(app_factory.EXPERIMENTS)  # held, so that no id of theirs is reused

    def this_servers() -> list:
        return [e for e in list(app_factory.EXPERIMENTS) if not any(e is old for old in earlier)]

    port = free_port()
    thread = start(port=port, ready_pages=2)
    url = f"http://localhost:{port}"
    wait_for_http(f"{url}/app")
    wait_until(lambda: thread.ready_pages is not None and len(thread.ready_pages.ready) == 2,
               message="the server did not build two pages ahead")
    yield url, thread.ready_pages, this_servers
    close_all()
    thread.stop()
    thread.join(timeout=20)
    pn.state.reset()


def open_session(url: str, pages, **query):
    """A Bokeh client session on the app, its address carrying `query`. Returns it, the experiments built for it
    (none when it opened on a page built ahead) and the server's document of the session."""
    before = {id(experiment) for experiment in app_factory.EXPERIMENTS}
    sessions = set(pages.context._sessions)
    session = pull_session(url=f"{url}/app", arguments=query)
    built = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    (new,) = set(pages.context._sessions) - sessions
    return session, built, pages.context._sessions[new].document


def test_sessions_open_on_pages_built_ahead_each_with_its_own_address(served):
    url, pages, this_servers = served
    ahead = [context._document for context in pages.ready]
    pages.size = 0  # none built meanwhile, however slow this machine is (restored below)
    first, built, document = open_session(url, pages, dataset="toy_xor", hidden="8,8", lr="0.02")
    assert built == [] and document is ahead[0] and len(pages.ready) == 1  # it took the first page built ahead
    sheets = [m.url for m in document.models if type(m).__name__ == "ImportedStyleSheet"]
    assert sheets and not [url for url in sheets if "//" in url]  # this server's, also of the second layer's parts
    second, built, document = open_session(url, pages, dataset="toy_ring", activation="tanh")
    assert built == [] and pages.ready == [] and document is ahead[1]
    experiments = {e.dataset: e for e in this_servers() if e.dataset in ("toy_xor", "toy_ring")}
    xor, ring = experiments["toy_xor"], experiments["toy_ring"]
    assert (xor.hidden, xor.lr, xor.activation) == ((8, 8), 0.02, "relu")
    assert (ring.hidden, ring.lr, ring.activation) == ((4,), 0.005, "tanh")  # the rest is the defaults
    assert len(first.document.roots) == len(ahead[0].roots) > 0  # their pages reached the clients
    third, built, _ = open_session(url, pages, dataset="toy_cross")  # none left: built on arrival, as before
    assert len(built) == 1 and built[0].dataset == "toy_cross"
    for session in (first, second, third):
        session.close()
    pages.size = 2
    wait_until(lambda: len(pages.ready) == 2, message="no pages were built ahead again once the server was idle")


def test_a_closed_session_on_a_page_built_ahead_stops_its_training(served, monkeypatch):
    url, pages, this_servers = served
    monkeypatch.setattr(runner_module, "over_budget", lambda *args, **kwargs: None)
    query = dict(dataset="toy_xor", samples="40000", hidden="32,32", batch_size="1", epochs="5")  # long epochs
    ahead = [context._document for context in pages.ready]
    session, built, document = open_session(url, pages, **query)
    assert built == [] and document in ahead  # it opened on a page built ahead
    (experiment,) = [e for e in this_servers() if e.samples == 40000]
    document.add_next_tick_callback(experiment.train)  # on the session's loop, holding its lock, as a click
    wait_until(lambda: experiment._runner.worker is not None, message="training did not start")
    worker = experiment._runner.worker
    time.sleep(2.5 * ready_pages.IDLE_SECONDS)
    assert len(pages.ready) == 1, "a page was built ahead while a session trained"  # a core busy training
    session.close()
    wait_until(lambda: experiment._runner.worker is None, timeout=60, message="the session was not closed")
    assert worker.join(5), "its training did not end within 5 s of the session closing"

