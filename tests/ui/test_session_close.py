"""Issue 11: a session closed while it trains (a closed tab) stops its training within seconds and logs no
errors; the served app's websocket limit is the one the uploads are sized for."""

from __future__ import annotations

import logging
import time
import urllib.request

import panel as pn

import dashboard.session.runner as runner_module
from dashboard.ui import factory as app_factory


def test_a_session_closed_during_training_stops_it_and_logs_no_errors(server, monkeypatch, caplog):
    monkeypatch.setattr(runner_module, "over_budget", lambda *args, **kwargs: None)
    before = {id(experiment) for experiment in app_factory.EXPERIMENTS}
    documents = set(pn.state._locations)
    query = "dataset=toy_xor&samples=40000&hidden=32,32&batch_size=1&epochs=5"  # epochs of tens of seconds
    with urllib.request.urlopen(f"{server}/app?{query}", timeout=60) as response:
        assert response.status == 200
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    (document,) = set(pn.state._locations) - documents
    caplog.set_level(logging.WARNING)
    # No browser ever connects: the session is dropped a few seconds later, as a closed tab's is. Train is
    # pressed on the session's own loop, holding its document's lock, as a click would.
    document.add_next_tick_callback(experiment.train)
    deadline = time.monotonic() + 30
    while experiment._runner.worker is None and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = experiment._runner.worker
    assert worker is not None and experiment.settings().batch_size == 1
    deadline = time.monotonic() + 60
    while experiment._runner.worker is not None and time.monotonic() < deadline:  # until the session is destroyed
        time.sleep(0.1)
    assert experiment._runner.worker is None, "the session was not closed"
    assert worker.join(5), "its training did not end within 5 s of the session closing"
    time.sleep(0.5)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]
