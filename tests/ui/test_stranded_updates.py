"""Issue 18: a run's last update reaches a page whose websocket was slow, however Panel's write queue went.

Panel 1.9's `_dispatch_msgs` (panel/io/document.py): an update made while Bokeh's write lock of the connection is
held (Bokeh's own reply to a page's message, stuck behind a slow reader) is queued and retried every 10 ms; when
an earlier dispatch that was still writing ends meanwhile, it clears the write block and the retry drops out,
leaving the queue unsent until something else is sent. After a run's last update nothing else is: the page
would show the run going forever. A light client (bench/ws_client.py) on a socket with small buffers makes that
order happen step by step, as a slow page's network does by chance; the served app is real, nothing is mocked.
"""

from __future__ import annotations

import asyncio
import socket
import time

import panel as pn
import pytest
from panel.io import document as panel_document

from bench.ws_client import Client
from dashboard.ui import factory as app_factory

QUERY = "?dataset=toy_xor&hidden=8&samples=400&epochs=5000"  # a run of a minute or more: it is stopped
SMALL_BUFFER = 4096  # bytes, the sockets' own buffers
UPDATE = 100_000  # bytes, about, an update of the maps and curves
WAIT = 120  # seconds, liveness only


class SlowPage(Client):
    """A page whose reading the test drives: it reads only while `reading` is set and, if `pause_at_ok`, stops
    again after the next OK (Bokeh's reply to one of its own messages); it acknowledges updates only when
    `acking`."""

    def __init__(self, base: str, query: str) -> None:
        super().__init__(base, query)
        self.reading = asyncio.Event()
        self.reading.set()
        self.pause_at_ok = False
        self.acking = True

    async def _read_message(self):
        await self.reading.wait()
        message = await super()._read_message()
        if message[0]["msgtype"] == "OK" and self.pause_at_ok:
            self.reading.clear()
        return message

    def _ack(self, model: str) -> None:
        if self.acking:
            super()._ack(model)

    def no_op(self) -> None:
        """A message that changes nothing (the acknowledgement it already sent): Bokeh still answers it."""
        model, value = next(iter(self._acked.items()))
        self._patch([{"kind": "ModelChanged", "model": {"id": model}, "attr": "acked", "new": value}])


async def until(condition, what: str, state=lambda: "") -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"never: {what} ({state()})")
        await asyncio.sleep(0.01)


@pytest.mark.timeout(600)
def test_the_last_update_of_a_run_reaches_a_slow_page(server):
    async def student() -> None:
        documents, experiments = set(pn.state._locations), set(app_factory.EXPERIMENTS)
        page = await SlowPage(server, QUERY).open()
        try:
            (doc,) = [d for d in pn.state._locations if d not in documents and d.session_context is not None]
            (connection,) = doc.session_context._session._subscribed_connections  # the server's end
            (experiment,) = set(app_factory.EXPERIMENTS) - experiments
            handler = connection._socket
            stream = handler.ws_connection.stream  # what Tornado has yet to write is in its buffer
            stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
            page._ws.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)

            def lock_held() -> bool:  # Bokeh's lock of the connection, as Panel reads it
                return handler.write_lock._block._value == 0

            def queued() -> bool:  # updates Panel holds for this page, to write when the lock is free
                return doc in panel_document._WRITE_MSGS

            def state() -> str:
                return (f"lock held {lock_held()}, queued {queued()}, "
                        f"to write {len(stream._write_buffer)} bytes, training {experiment.busy}, page: {page.state}")

            await page.click("Train")
            await until(lambda: experiment.busy and page.acks, "the run started on the page", state)
            page.acking = False  # a page busy elsewhere: it neither reads nor acknowledges
            page.reading.clear()
            await until(lambda: len(stream._write_buffer) > 2 * UPDATE, "updates wait for the page to read them", state)
            page.no_op()  # Bokeh's answer waits behind it, holding the lock: the next updates are queued
            await until(lambda: lock_held() and queued(), "an update queued behind the lock", state)
            page.pause_at_ok = True  # the page reads up to that answer, and stops again: the lock is free
            page.reading.set()
            await until(lambda: not page.reading.is_set(), "the page read Bokeh's answer", state)
            await until(lambda: not queued(), "Panel writes the queue, the page not reading", state)
            await page.click("Stop")  # answered behind that write: the lock is held again while it lasts
            await until(lambda: not experiment.busy and lock_held() and queued(),
                        "the run's last update queued behind the lock", state)
            page.pause_at_ok = False
            page.acking = True
            page.reading.set()  # the page reads on: Panel's write ends, and with it the write block
            ended = await page.wait_for_run_end(1, timeout=WAIT)
            assert "stopped" in ended
            assert not page.errors
        finally:
            await page.close()

    asyncio.run(asyncio.wait_for(student(), 540))
