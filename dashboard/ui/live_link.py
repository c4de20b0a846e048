"""Live updates on a Panel server or in Jupyter: poll the experiment's worker from the event loop.

While a run is going, a periodic callback (every PERIOD_MS) moves the worker's results into the experiment; the
browser paces it: no update is sent before the page acknowledged the last one at its next animation frame
(`FrameAck`, or ACK_TIMEOUT for a hidden tab). When the session closes, the experiment's training is stopped.

A run's last update is re-sent until the page acknowledges it (at most NUDGES times, 1, 2, 4... s apart): Panel 1.9
can leave updates queued and unsent when its writes to a slow page overlap (`_dispatch_msgs` in
panel/io/document.py drops a retry once another write has ended) until the next update sends them along; after
the last one there is no next, and the page would show the run going on for good.
"""

from __future__ import annotations

import time

import panel as pn
import param
from panel.reactive import ReactiveHTML

from ..session.experiment import Experiment

PERIOD_MS = 66  # about 15 updates per second at most
ACK_TIMEOUT = 1.0  # seconds to wait for a browser's acknowledgement before updating anyway
NUDGES = 6  # re-sends of a run's last update without an acknowledgement (a hidden tab never sends one): ~2 min


class FrameAck(ReactiveHTML):
    """An invisible element: when `sent` changes, the page sets `acked` to it once it has drawn a frame."""

    sent = param.Integer(default=0)
    acked = param.Integer(default=0)

    _template = '<div id="ack" style="display: none"></div>'
    _scripts = {"sent": "requestAnimationFrame(() => { data.acked = data.sent })"}

    def __init__(self, **params):
        super().__init__(width=0, height=0, margin=0, **params)


class LiveLink:
    """Polls one experiment while it trains, paced by the browser."""

    def __init__(self, experiment: Experiment, period_ms: int = PERIOD_MS) -> None:
        self.experiment = experiment
        self.period_ms = period_ms
        self.ack = FrameAck()
        self._callback = None
        self._sent_at = 0.0
        self._nudges: int | None = None  # once the run's last update is out: how often it was re-sent
        experiment.param.watch(self._on_state, "state")
        self.ack.param.watch(self._on_ack, "acked")

    def _on_state(self, event) -> None:
        if event.new not in ("training", "stopping"):
            return
        self._nudges = None
        if self._callback is None:
            self.ack.acked = self.ack.sent  # start unblocked
            self._callback = pn.state.add_periodic_callback(self._tick, period=self.period_ms)

    def _on_ack(self, event) -> None:
        """The page has drawn the last update: send the next one now if it is due, not at the next tick."""
        if self._callback is not None and time.monotonic() - self._sent_at >= self.period_ms / 1000:
            self._tick()

    def _tick(self) -> None:
        now = time.monotonic()
        if self._nudges is not None:
            self._confirm(now)
            return
        if not self.experiment.busy:  # its run was ended and taken in elsewhere (a Train during training)
            self.stop()
            return
        if not self.experiment.has_news():
            return
        if self.ack.acked < self.ack.sent and now - self._sent_at < ACK_TIMEOUT:
            return
        with pn.io.unlocked():  # one message to the browser per poll, with or without the document lock
            active = self.experiment.poll()
            self.ack.sent += 1
        self._sent_at = now
        if not active:
            self._nudges = 0

    def _confirm(self, now: float) -> None:
        """The run's last update is out: stop once the page has it, else send a new message after a while, which
        makes Panel send what it still holds before it."""
        due = now - self._sent_at >= ACK_TIMEOUT * 2**self._nudges
        if self.ack.acked >= self.ack.sent or (due and self._nudges == NUDGES):  # the last re-send had its time
            self._nudges = None
            self.stop()
        elif due:
            with pn.io.unlocked():
                self.ack.sent += 1
            self._sent_at = now
            self._nudges += 1

    def stop(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def close(self, *args) -> None:
        """The session is over: stop training and polling. Nothing of the closed session's views is touched, and
        nothing here may raise (Bokeh logs what a session-destroyed callback raises)."""
        self.experiment.close()  # first: it only asks the thread to stop and removes the session's files
        callback, self._callback = self._callback, None
        if callback is not None:
            try:
                callback.stop()
            except (ValueError, KeyError, RuntimeError):  # its document has already dropped it
                pass
