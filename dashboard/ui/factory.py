"""Build the dashboard for one session: an Experiment, its views, live updates, URL sync and cleanup.

Served: `panel serve dashboard/app.py` or `nn-playground serve`. In Jupyter, one line:

    from dashboard.ui import playground; playground()
"""

from __future__ import annotations

import weakref

import panel as pn
import torch

from ..session.experiment import Experiment
from .layout import build
from .live_link import LiveLink
from .urlsync import UrlSync, apply_query

EXPERIMENTS: weakref.WeakSet = weakref.WeakSet()  # the open sessions' experiments: `server.close_all` stops them


def _server_session() -> bool:
    doc = pn.state.curdoc
    return bool(doc is not None and doc.session_context is not None)


def create_app(experiment: Experiment | None = None, template: bool = True):
    """The dashboard of one experiment (a new one unless given). Call it once per session."""
    torch.set_num_threads(1)  # tiny nets train 100x faster on one thread than on a busy machine's many
    pn.extension("filedropper", notifications=False)  # the uploads' FilePond, served from here
    experiment = experiment if experiment is not None else Experiment(speed="normal")  # watchable training
    location = pn.state.location if _server_session() else None
    if location is not None:
        apply_query(experiment, location.search or "")  # before the views exist: they start with the preset
    live = LiveLink(experiment)
    app = build(experiment, template=template, extra=[live.ack])
    if location is not None:
        UrlSync(experiment, location)
    if _server_session():
        pn.state.on_session_destroyed(live.close)
    app.experiment, app.live = experiment, live
    EXPERIMENTS.add(experiment)
    return app


def playground(**settings):
    """The dashboard in a Jupyter notebook, with live training: `playground(dataset="toy_xor", hidden="8,8")`."""
    return create_app(Experiment(**{"speed": "normal", **settings}), template=False)
