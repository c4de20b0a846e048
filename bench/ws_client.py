"""A light student: asks the served app for what a fresh browser asks for, speaking Bokeh's server protocol.

Many clients share one asyncio event loop in one thread (bench/load.py's default students); no Bokeh models are
built. The protocol, as copied from a Chromium page's websocket frames, is described above `Client`.

    client = await open_session("http://localhost:5006", "?dataset=toy_xor&epochs=60")
    await client.click("Train"); await client.wait_for_run_end(1, timeout=120); await client.close()
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import time
import uuid
from urllib.parse import urljoin, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

FRAME_S = 0.016  # one animation frame: when a browser acknowledges an update
CONNECTIONS = 6  # a browser's parallel connections to one host (HTTP/1.1)
MAX_MESSAGE = 20 * 1024 * 1024  # Bokeh's own client allows this much per websocket message
WAITS = {"request_timeout": 600, "connect_timeout": 600}  # also how long a request may wait in the client's queue
SLOW_BUFFER = 16384  # bytes: a slow client's socket receive buffer (so the server's writes back up, not ours)
BROWSER = {"dark_mode": False, "device_pixel_ratio": 1, "language": "en-US", "webdriver": False,
           "timezone": "UTC", "timezone_offset": 0, "webgl": True}  # what a page reports of itself (BrowserInfo)
ASSET_RE = re.compile(r"""<script\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)\"""")
TOKEN_RE = re.compile(r'"token"\s*:\s*"([^"]+)"')
TAG_RE = re.compile(r"<[^>]*>")


def text_of(markup: str) -> str:
    """What an HTML snippet shows: tags removed, entities decoded."""
    return html.unescape(TAG_RE.sub("", markup or "")).strip()


def parse_models(text: str, found: dict[str, dict]):
    """Parse JSON, keeping every model object in it ({"type": "object", "id": ...}) by id in `found`."""

    def keep(item: dict) -> dict:
        if item.get("type") == "object" and "id" in item:
            found[item["id"]] = item
        return item

    return json.loads(text, object_hook=keep)


class BokehError(RuntimeError):
    """The server answered a message with ERROR."""


# What a Chromium page does, copied from its websocket frames (captured with Playwright on the served app):
# 1. GET /app?QUERY, then every script and stylesheet the page references from this server (no cache);
# 2. open ws://host/app/ws?QUERY with subprotocols ["bokeh", token] (the token is in the page's render items),
#    receive ACK, send PULL-DOC-REQ, receive PULL-DOC-REPLY (the whole document: the page renders it now);
# 3. report the page's location and browser settings (one PATCH-DOC per change) and the `document_ready` event;
# 4. a click on a button is one PATCH-DOC: a MessageSent `bokeh_event` named `button_click` on the Button model;
# 5. when the server sets `sent` on a FrameAck (dashboard/ui/live_link.py), the page sets `acked` to it at its
#    next animation frame (FRAME_S later here): without that the server would send one update a second.
# The document stays JSON, from which the ids of a few models are taken (the buttons, the status line, the line
# under it, the FrameAcks); incoming PATCH-DOCs are read only for those models' changes, and binary buffers are
# received and dropped. `interactive_s` is the time from the GET to the document received.
class Client:
    """One student's session, after `open_session`. With `read_kbps`, a slow one: once open, it reads at most that
    many kB a second, on a small socket buffer (a page on a slow network, or too busy to read)."""

    def __init__(self, base: str, query: str, read_kbps: float | None = None) -> None:
        self.base = base.rstrip("/")
        self.query = query
        self.read_kbps = read_kbps
        self._throttled = False
        self.http = AsyncHTTPClient(force_instance=True, max_clients=CONNECTIONS)
        self.page_bytes = 0  # the HTML and its scripts and stylesheets
        self.assets = 0
        self.interactive_s: float | None = None
        self.page_s = self.session_s = None  # the GET to: the page and its assets loaded; the websocket's ACK
        self.status = ""  # the status line (css class nnp-status), text only
        self.state = ""  # the line under it (css class nnp-state): "Run 1 (...): finished in 1.3 s"
        self.updates = 0  # PATCH-DOCs received
        self.acks = 0  # acknowledgements sent
        self.errors: list[str] = []
        self.models: dict[str, dict] = {}
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._changed = asyncio.Event()
        self._status_id = self._state_id = None
        self._ack_ids: set[str] = set()
        self._acked: dict[str, int] = {}
        self._sent: dict[str, int] = {}

    # ----- opening -----
    async def open(self) -> Client:
        start = time.perf_counter()
        url = f"{self.base}/app{self.query}"
        response = await self.http.fetch(url, **WAITS)
        page = response.body.decode()
        self.page_bytes = len(response.body)
        await self._load_assets(url, page)
        self.page_s = time.perf_counter() - start
        token = TOKEN_RE.search(page)[1]
        ws_url = "ws" + self.base[4:] + "/app/ws" + self.query  # the page's own query travels with it
        self._ws = await websocket_connect(HTTPRequest(ws_url, **WAITS), subprotocols=["bokeh", token],
                                           max_message_size=MAX_MESSAGE)
        header, _, _ = await self._read_message()
        if header["msgtype"] != "ACK":
            raise BokehError(f"expected ACK, got {header}")
        self.session_s = time.perf_counter() - start
        self._send("PULL-DOC-REQ", {})
        while True:
            header, content, _ = await self._read_message()
            if header["msgtype"] == "PULL-DOC-REPLY":
                break
        self.interactive_s = time.perf_counter() - start
        self._take_document(content)
        if self.read_kbps:
            self._ws.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_BUFFER)
            self._throttled = True
        self._reader = asyncio.create_task(self._read_forever())
        self._report_page()
        return self

    async def _load_assets(self, url: str, page: str) -> None:
        """The scripts and stylesheets of the page from this server, as a browser without a cache fetches them."""
        host = urlsplit(url).netloc
        wanted = [urljoin(url, html.unescape(script or sheet)) for script, sheet in ASSET_RE.findall(page)]
        wanted = [one for one in dict.fromkeys(wanted) if urlsplit(one).netloc == host]
        responses = await asyncio.gather(*(self.http.fetch(one, **WAITS) for one in wanted))
        self.assets = len(responses)
        self.page_bytes += sum(len(response.body) for response in responses)

    def _take_document(self, content: str) -> None:
        parse_models(content, self.models)
        for model in list(self.models.values()):
            attributes = model.get("attributes", {})
            classes = attributes.get("css_classes") or []
            data = attributes.get("data")
            data = self.models.get(data["id"]) if isinstance(data, dict) and "id" in data else None
            if "nnp-status" in classes and data:
                self._status_id = data["id"]
                self.status = text_of(data.get("attributes", {}).get("text", ""))
            elif "nnp-state" in classes and data:
                self._state_id = data["id"]
                self.state = text_of(data.get("attributes", {}).get("content", ""))
            if model.get("name", "").startswith("FrameAck"):
                self._ack_ids.add(model["id"])
        if self._status_id is None or self._state_id is None:
            raise BokehError("no status line (nnp-status) or state line (nnp-state) in the document")

    def _report_page(self) -> None:
        """What the page tells the server once it has rendered: where it is, what browser, document ready."""
        location = next((m["id"] for m in self.models.values() if m.get("name", "").endswith(".Location")), None)
        info = next((m["id"] for m in self.models.values() if m.get("name", "").endswith(".BrowserInfo")), None)
        if location:
            self._patch([{"kind": "ModelChanged", "model": {"id": location}, "attr": "pathname", "new": "/app"}])
            self._patch([{"kind": "ModelChanged", "model": {"id": location}, "attr": "href",
                          "new": f"{self.base}/app{self.query}"}])
        if info:
            for attr, value in BROWSER.items():
                self._patch([{"kind": "ModelChanged", "model": {"id": info}, "attr": attr, "new": value}])
        self._event("document_ready", {"type": "map"})

    # ----- the protocol -----
    def _send(self, msgtype: str, content: dict) -> str:
        """One message: header, metadata, content (three text frames; no buffers from a page here)."""
        msgid = uuid.uuid4().hex.upper()
        self._ws.write_message(json.dumps({"msgid": msgid, "msgtype": msgtype}, separators=(",", ":")))
        self._ws.write_message("{}")
        self._ws.write_message(json.dumps(content, separators=(",", ":")))
        return msgid

    def _patch(self, events: list[dict]) -> str:
        return self._send("PATCH-DOC", {"events": events})

    def _event(self, name: str, values: dict) -> str:
        return self._patch([{"kind": "MessageSent", "msg_type": "bokeh_event",
                             "msg_data": {"type": "event", "name": name, "values": values}}])

    async def _frame(self):
        frame = await self._ws.read_message()
        if frame is None:
            raise ConnectionError("the server closed the websocket")
        if self._throttled:
            await asyncio.sleep(len(frame) / (self.read_kbps * 1000))
        return frame

    async def _read_message(self) -> tuple[dict, str, int]:
        """Header (parsed), content (as text: parsed only where needed) and the number of buffers dropped."""
        header = json.loads(await self._frame())
        await self._frame()  # metadata
        content = await self._frame()
        buffers = header.get("num_buffers", 0)
        for _ in range(2 * buffers):  # each buffer: a text frame naming it, then the bytes
            await self._frame()
        return header, content, buffers

    async def _read_forever(self) -> None:
        try:
            while True:
                header, content, _ = await self._read_message()
                kind = header["msgtype"]
                if kind == "PATCH-DOC":
                    self.updates += 1
                    self._apply(json.loads(content)["events"])
                elif kind == "ERROR":
                    self.errors.append(content)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as error:  # noqa: BLE001 - kept for the caller, the loop must not die unseen
            self.errors.append(repr(error))
        finally:
            self._changed.set()

    def _apply(self, events: list[dict]) -> None:
        """Follow the status line, the state line and the FrameAcks; nothing else is kept."""
        changed = False
        for event in events:
            if event.get("kind") != "ModelChanged":
                continue
            model, attr = event["model"]["id"], event["attr"]
            if model == self._status_id and attr == "text":
                self.status, changed = text_of(event["new"]), True
            elif model == self._state_id and attr == "content":
                self.state, changed = text_of(event["new"]), True
            elif model in self._ack_ids and attr == "sent":
                self._sent[model] = event["new"]
                asyncio.get_running_loop().call_later(FRAME_S, self._ack, model)
        if changed:
            self._changed.set()

    def _ack(self, model: str) -> None:
        """The frame after an update: `acked` set to `sent`, as the page's requestAnimationFrame script does."""
        sent = self._sent[model]
        if self._ws is None or self._acked.get(model) == sent:
            return
        self._acked[model] = sent
        self.acks += 1
        self._patch([{"kind": "ModelChanged", "model": {"id": model}, "attr": "acked", "new": sent}])

    # ----- a student's actions -----
    def button(self, label: str) -> str:
        for model in self.models.values():
            if "Button" in model.get("name", "") and model.get("attributes", {}).get("label") == label:
                return model["id"]
        raise KeyError(f"no button labelled {label!r}")

    async def click(self, label: str) -> None:
        """A click on the Panel button with this label."""
        self._event("button_click", {"type": "map", "entries": [["model", {"id": self.button(label)}]]})

    async def wait_for_run_end(self, number: int, timeout: float = 120) -> str:
        """Wait until the state line says run `number` has ended (finished, stopped, diverged or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            shown = re.search(r"Run (\d+)", self.state)
            if shown and int(shown[1]) == number and re.search(r"finished|stopped|diverged|failed", self.state):
                return self.state
            if self._reader is None or self._reader.done():
                raise ConnectionError(f"the session ended before run {number} did: {self.errors}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
            except (asyncio.TimeoutError, ValueError):
                raise TimeoutError(f"run {number} did not end: {self.state!r}") from None

    async def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        self.http.close()


async def open_session(base: str, query: str = "", read_kbps: float | None = None) -> Client:
    """A fresh student's page at base/app?query, once the server has sent it its session (interactive)."""
    return await Client(base, query, read_kbps).open()
