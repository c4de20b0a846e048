"""Serve the dashboard: `serve()` blocks (the `nn-playground serve` command); `start()` runs it in a thread.

Ctrl-C stops the server: every session's training is asked to stop (it ends within a mini-batch) and `serve`
returns normally. SIGTERM (`kill`, a service manager's stop) does the same, in every server process. A message
from a browser may be up to `WEBSOCKET_MAX_MESSAGE_BYTES`, comfortably above the largest the page sends (a chunk
of an uploaded file, `parts.UPLOAD_CHUNK_BYTES`), and small enough that no client makes the server read more;
what a message may hold beyond that (its buffers, bytes it inflates, an upload's chunks) is bounded by
`message_bounds.bound_messages`.

A class opening the app at once: `serve` answers a page request with the page of a cached session (Panel's
`reuse_sessions`) and builds the visitor's own session when its websocket connects, so a request costs
milliseconds instead of a page build; a spinner shows until the page is live. The cached session is made by
the server's own requests at start (`warm`), never a student's: a cached session outlives its tab. The
visitor's own session then opens on a page built ahead while the server was idle (`ready_pages` per
process, dashboard/ui/ready_pages.py), so it costs only the sending of its page.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import panel as pn
import tornado.process
from panel.io.resources import LOCAL_DIST

from ..session.experiment import stop_all_training
from .factory import EXPERIMENTS, create_app
from .message_bounds import bound_messages
from .parts import UPLOAD_CHUNK_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES
from .ready_pages import install
from .request_limits import HTTP_SERVER_OPTIONS, guard_requests

# A closed tab's session (and its training) is dropped a few seconds after its websocket closes.
SESSION_OPTIONS = dict(check_unused_sessions_milliseconds=2000, unused_session_lifetime_milliseconds=5000,
                       websocket_max_message_size=WEBSOCKET_MAX_MESSAGE_BYTES, http_server_kwargs=HTTP_SERVER_OPTIONS)
ROUTE = "app"
WARM_REQUESTS = 3  # per server process: the requests that make the cached sessions land on every process
SHUTDOWN_SECONDS = 3.0  # how long the end of `serve` waits for training threads to end
assert UPLOAD_CHUNK_BYTES * 4 / 3 + 2**20 < WEBSOCKET_MAX_MESSAGE_BYTES  # a chunk fits, even base64-encoded


def session_page() -> None:
    """Build a new session's page into its document in one batch. Returns None: Panel then serves the document
    as built. Unfrozen, Bokeh re-indexes every model of the page after each root is added (9 times a page).
    Its stylesheets are this server's: Panel points them here only in a page it renders for a GET, and a
    session opened over the websocket (a cached page's, or one built ahead) has none, so they would come from
    Panel's CDN; with `dist_url` set first, every model of the page, now or when a tab is built, points here."""
    doc = pn.state.curdoc
    doc.template_variables["dist_url"] = f"{pn.state.rel_path}/{LOCAL_DIST}" if pn.state.rel_path else LOCAL_DIST
    app = create_app()
    with doc.models.freeze():
        app.server_doc(doc)


def serve(port: int = 5006, show: bool = False, ready_pages: int = 0, **options) -> None:
    """Serve at http://localhost:PORT/app until interrupted (Ctrl-C), then stop every session's training.
    `ready_pages`: how many pages each server process builds ahead while idle (dashboard/ui/ready_pages.py)."""
    pn.config.reuse_sessions = True
    pn.config.global_loading_spinner = True
    bound_messages()
    global _PROCESSES
    processes = _PROCESSES = options.get("num_procs", 1)
    first = os.getpid()
    for number in STOP_SIGNALS:  # inherited by the processes forked for --num-procs (Panel's replaces SIGINT's)
        signal.signal(number, _stop_on_signal)
    threading.Thread(
        target=warm, args=(port, WARM_REQUESTS * processes), name="nn-playground-warm", daemon=True
    ).start()
    try:  # with several processes, each one (forked in Server()) goes on from here with its own sessions
        server = pn.serve({ROUTE: session_page}, port=port, show=show, title="nn-playground", threaded=False,
                          start=False, **{**SESSION_OPTIONS, **options})
        if tornado.process.task_id() is not None:
            _end_with_parent(first)
        guard_requests(server._tornado)
        install(server, ROUTE, ready_pages)
        server.start()
        server.io_loop.start()
    except KeyboardInterrupt:  # a Ctrl-C before Panel's own handler was installed, or a second one
        pass
    finally:
        close_all()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PROCESSES = 1


def _stop_on_signal(signum, frame) -> None:
    """Stop as on Ctrl-C. With several processes, the first one only waits for the serving processes it forked
    (Tornado's), which would go on serving without it: it passes the stop on to them and ends after them."""
    if _PROCESSES > 1 and tornado.process.task_id() is None:
        for pid in _forked_processes():
            os.kill(pid, signal.SIGINT)
        return
    if signal.getsignal(signal.SIGINT) is _stop_on_signal:  # before Panel's Ctrl-C handler is installed
        raise KeyboardInterrupt
    signal.raise_signal(signal.SIGINT)  # a serving process: Panel's Ctrl-C handler stops its loop


def _end_with_parent(parent: int) -> None:
    """In a forked serving process: get SIGTERM when the first process ends, however it ends (even killed with
    SIGKILL, which it cannot pass on), so that no serving process is left behind (Linux; elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before this was set
        signal.raise_signal(signal.SIGTERM)


def _forked_processes() -> list[int]:
    """The processes this one forked (Linux's /proc; elsewhere none are found)."""
    pid = os.getpid()
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def warm(port: int, requests: int, timeout: float = 120) -> None:
    """Request the page until the server answers, then `requests` times in all: the sessions cached for
    `reuse_sessions` are these (one per process), not a visitor's."""
    deadline = time.monotonic() + timeout
    while requests > 0 and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/{ROUTE}", timeout=timeout) as response:
                response.read()
            requests -= 1
        except OSError:
            time.sleep(0.2)


def close_all(timeout: float = SHUTDOWN_SECONDS) -> bool:
    """Stop the training of every open session and wait up to `timeout` s for the threads to end (before the
    process ends: no thread dies inside torch). True if they all ended."""
    for experiment in list(EXPERIMENTS):
        experiment.close()
    return stop_all_training(timeout)


def start(port: int = 0, ready_pages: int = 0, **options):
    """Serve in a background thread (tests, measurements); returns the server thread (`.stop()` ends it).
    `ready_pages`: pages built ahead, as `serve` does (none by default: tests open few pages)."""
    bound_messages()
    server_id = uuid.uuid4().hex
    thread = pn.serve({ROUTE: session_page}, port=port, show=False, title="nn-playground", threaded=True,
                      server_id=server_id, **{**SESSION_OPTIONS, **options})
    while server_id not in pn.state._servers:  # the thread makes its server
        time.sleep(0.01)
    server = pn.state._servers[server_id][0]
    guard_requests(server._tornado)
    if ready_pages:
        thread.ready_pages = None  # the ReadyPages, once installed on the server's loop
        server.io_loop.add_callback(lambda: setattr(thread, "ready_pages", install(server, ROUTE, ready_pages)))
    return thread
