"""The busy badge's server side, headless: its echo waits for the session's work in threads (`parts.in_thread`),
and only its own session's (the page side is in tests/browser/test_browser_states.py)."""

from __future__ import annotations

import asyncio
import threading

from bokeh.document import Document
from panel.io.state import set_curdoc

from dashboard.ui.parts import in_thread, settled


def test_settled_waits_for_this_sessions_work_in_threads_and_what_follows_it():
    async def scenario() -> list[str]:
        release = threading.Event()
        order: list[str] = []
        mine, other = Document(), Document()

        async def upload() -> None:  # as the Data tab's: parse in a thread, then apply on the loop
            await in_thread(release.wait, 30)
            order.append("applied")

        async def echo(name: str) -> None:
            await settled()
            order.append(name)

        with set_curdoc(mine):
            work = asyncio.ensure_future(upload())
            await asyncio.sleep(0)  # the upload has handed its work to a thread
            mine_echo = asyncio.ensure_future(echo("echo"))
        with set_curdoc(other):
            await echo("other session's echo")  # not held up by this session's work
        for _ in range(5):
            await asyncio.sleep(0.01)
        assert order == ["other session's echo"]  # the work is still running: no echo yet
        release.set()
        await asyncio.gather(work, mine_echo)
        return order

    assert asyncio.run(scenario()) == ["other session's echo", "applied", "echo"]


def test_settled_without_a_session_returns_at_once():
    asyncio.run(asyncio.wait_for(settled(), 30))
