"""Serve the dashboard: `serve()` blocks (the `nn-playground serve` command); `start()` runs it in a thread."""

from __future__ import annotations

import panel as pn

from .factory import EXPERIMENTS, create_app

# A closed tab's session (and its training) is dropped a few seconds after its websocket closes.
SESSION_OPTIONS = dict(check_unused_sessions_milliseconds=2000, unused_session_lifetime_milliseconds=5000)
ROUTE = "app"


def serve(port: int = 5006, show: bool = False, **options) -> None:
    """Serve at http://localhost:PORT/app until interrupted (Ctrl-C)."""
    try:
        pn.serve({ROUTE: create_app}, port=port, show=show, title="nn-playground", threaded=False,
                 **{**SESSION_OPTIONS, **options})
    finally:
        close_all()


def close_all() -> None:
    """Stop the training of every open session (before the process ends: no thread dies inside torch)."""
    for experiment in list(EXPERIMENTS):
        experiment.close()


def start(port: int = 0, **options):
    """Serve in a background thread (tests, measurements); returns the server thread (`.stop()` ends it)."""
    return pn.serve({ROUTE: create_app}, port=port, show=False, title="nn-playground", threaded=True,
                    **{**SESSION_OPTIONS, **options})
