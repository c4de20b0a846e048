"""A served session closed while its Sweep tab sweeps (a closed browser tab) stops the sweep within seconds and
logs no errors."""

from __future__ import annotations

import gc
import logging
import time
import urllib.request

import panel as pn

from dashboard.ui import factory as app_factory
from dashboard.ui.sweep_tab import SweepTab


def test_a_session_closed_during_a_sweep_stops_it(server, caplog):
    before = {id(experiment) for experiment in app_factory.EXPERIMENTS}
    documents = set(pn.state._locations)
    with urllib.request.urlopen(f"{server}/app?dataset=toy_xor&samples=4000", timeout=60) as response:
        assert response.status == 200
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    (document,) = set(pn.state._locations) - documents
    (page,) = [o for o in gc.get_objects()
               if type(o) is pn.template.BootstrapTemplate and o.experiment is experiment]
    document.add_next_tick_callback(lambda: page.tabs.get("Sweep"))  # the student opens the Sweep tab
    deadline = time.monotonic() + 30
    while page.tabs.built("Sweep") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    tab = page.tabs.built("Sweep")
    assert type(tab) is SweepTab and tab.experiment is experiment
    caplog.set_level(logging.WARNING)
    tab.values1.value, tab.values2.value = "0.01 0.02 0.03 0.04", "2 3 4 5"
    tab.seeds.value, tab.epochs.value = 1, 2000  # 16 models, one task each: tens of seconds on a busy machine
    document.add_next_tick_callback(tab.start)  # on the session's loop, as a click would
    deadline = time.monotonic() + 30
    while tab.run is None and time.monotonic() < deadline:
        time.sleep(0.05)
    run = tab.run
    assert run is not None and run.running
    deadline = time.monotonic() + 60
    while not run.stopping and time.monotonic() < deadline:  # until the session is destroyed
        time.sleep(0.1)
    assert run.stopping, "the session was not closed"
    run._thread.join(10)
    assert not run._thread.is_alive(), "the sweep did not end within 10 s of the session closing"
    assert tab._callback is None and sum(r.ended == "finished" for r in run.results) < run.total
    time.sleep(0.5)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]
