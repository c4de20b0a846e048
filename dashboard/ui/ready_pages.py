"""Pages built ahead: a new session takes a page the server built while it was idle.

A page costs the server ~1.2 CPU-s to build, so a class opening the app at once queues behind builds
(docs/performance.md). `ReadyPages` builds up to `size` pages as a visitor's would be built, one per tick, only while
the server is idle; a visitor's session takes one, and only the settings in its address remain to apply. Bokeh has no
hook for this: `install` replaces `ApplicationContext.create_session_if_needed` on the app's route.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections import deque

import bokeh.server.contexts as contexts
from bokeh.document import Document
from bokeh.server.session import ServerSession
from bokeh.util.token import get_token_payload
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.ioloop import PeriodicCallback

IDLE_SECONDS = 3.0  # build ahead only after this long without a new session,
QUIET_SHARE = 0.1  # and with the process (its sessions' training included) under this share of a core then
TICK_MS = 250


class ReadyPages:
    """Up to `size` pages built ahead for the sessions of one application context (one route, one process). A
    ready page holds no session, thread or file until it is taken, and is used once: nothing is shared."""

    def __init__(self, context: contexts.ApplicationContext, size: int, route: str) -> None:
        self.context, self.size, self.route = context, size, route
        self.ready: list[contexts.BokehSessionContext] = []
        self.last_opened = time.monotonic() - IDLE_SECONDS
        self._building = False
        self._samples: deque[tuple[float, float]] = deque()  # (time, CPU seconds of the sessions) at each tick
        self._build_cpu = 0.0  # CPU seconds spent building pages ahead (not counted as the sessions' use)
        self._create_session = context.create_session_if_needed  # Bokeh's own
        context.create_session_if_needed = self.create_session_if_needed
        self._timer = PeriodicCallback(self.top_up, TICK_MS)
        self._timer.start()

    async def top_up(self) -> None:
        """Build one page ahead if there is room and the server is idle."""
        if not self._idle() or self._building or len(self.ready) >= self.size or self.context._pending_sessions:
            return
        self._building, started = True, time.process_time()
        try:
            self.ready.append(await self._build())
        finally:
            self._building = False
            self._build_cpu += time.process_time() - started

    def _idle(self) -> bool:
        """No session opened in the last IDLE_SECONDS, and over those seconds this process used under QUIET_SHARE
        of a core, pages built ahead not counted: the students' training comes first."""
        now = time.monotonic()
        self._samples.append((now, time.process_time() - self._build_cpu))
        while now - self._samples[0][0] > IDLE_SECONDS:
            self._samples.popleft()
        (first, used_then), (_, used_now) = self._samples[0], self._samples[-1]
        measured = now - first >= IDLE_SECONDS - 2 * TICK_MS / 1000
        quiet = measured and used_now - used_then < QUIET_SHARE * (now - first)
        return quiet and now - self.last_opened >= IDLE_SECONDS

    async def _build(self) -> contexts.BokehSessionContext:
        doc = Document()
        session_context = contexts.BokehSessionContext(f"ready-{uuid.uuid4().hex}", self.context.server_context,
                                                       doc, logout_url=self.context._logout_url)
        plain = HTTPServerRequest(start_line=RequestStartLine("GET", f"/{self.route}", "HTTP/1.1"),
                                  headers=HTTPHeaders({"Host": "localhost"}))
        session_context._request = contexts._RequestProxy(plain, arguments={}, cookies={}, headers={})
        doc._session_context = weakref.ref(session_context)  # kept alive by self.ready
        await self.context._application.on_session_created(session_context)
        self.context._application.initialize_document(doc)
        return session_context

    async def create_session_if_needed(self, session_id, request=None, token=None) -> ServerSession:
        """Bokeh's, but a new session takes a ready page when there is one."""
        self.last_opened = time.monotonic()
        known = session_id in self.context._sessions or session_id in self.context._pending_sessions
        if known or not self.ready or request is None or not session_id:
            return await self._create_session(session_id, request, token)
        session_context = self.ready.pop(0)
        _hand_over(session_context, session_id, request, token)
        doc = session_context._document
        self.context._application._set_session_prefix(doc)  # Panel's: for the visitor's address
        _preset_from_address(doc, session_context.request)
        session = ServerSession(session_id, doc, io_loop=self.context._loop, token=token)
        self.context._sessions[session_id] = session
        session_context._set_session(session)
        self.context._session_contexts[session_id] = session_context
        return session


def _hand_over(session_context, session_id, request, token) -> None:
    """Give a ready page's context the visitor's session id, request and token, as Bokeh sets them."""
    payload = get_token_payload(token) if token else {}
    if "cookies" in payload and "headers" in payload and "Cookie" not in payload["headers"]:
        payload["headers"]["Cookie"] = "; ".join(f"{k}={v}" for k, v in payload["cookies"].items())
    session_context._id = session_id
    session_context._request = contexts._RequestProxy(request, arguments=payload.get("arguments"),
                                                      cookies=payload.get("cookies"), headers=payload.get("headers"))
    session_context._token = token


def _preset_from_address(doc: Document, request) -> None:
    """The settings in the visitor's address (`?dataset=toy_xor&...`), applied through the page's Location as a
    change of address is (dashboard/ui/urlsync.py reads it); Panel reads the address from the request so. Not in
    one Bokeh batch (doc.models.freeze, ~70 ms less): models made meanwhile (a second layer's buttons) are not
    yet in the document, and Panel then gives them its CDN's stylesheets."""
    import panel as pn
    from panel.io.location import Location
    from panel.io.state import set_curdoc

    with set_curdoc(doc):
        search = Location.from_request(request).search
        location = pn.state.location
        if location is not None and search:
            location.search = search


def install(server, route: str, size: int) -> ReadyPages | None:
    """Build pages ahead for `route` of a Bokeh `server` (in this process); None when `size` is 0."""
    if size <= 0:
        return None
    context = server._tornado._applications[f"/{route}"]
    return ReadyPages(context, size, route)
