"""bench/ws_client.py against the real server: two light clients get their own sessions, and one trains."""

from __future__ import annotations

import asyncio

from bench.ws_client import open_session
from tests.support.serving import served

QUERY = "?dataset=toy_xor&hidden=8&epochs=60&samples=400"


def test_two_light_clients_open_sessions_and_one_trains():
    async def students(base: str) -> None:
        first, second = await asyncio.gather(open_session(base, QUERY), open_session(base, QUERY))
        try:
            for client in (first, second):
                assert 0 < client.interactive_s < 120
                assert client.assets > 5 and client.page_bytes > 1_000_000  # the page's scripts and stylesheets
                assert "No epoch" in client.status and "Run" not in client.state
            quiet = second.updates
            await first.click("Train")
            ended = await first.wait_for_run_end(1, timeout=120)
            assert "finished" in ended and "toy_xor, hidden 8" in ended
            assert first.status.startswith("Epoch 60/60")
            assert first.acks > 0  # it acknowledged the updates, as a page does
            await asyncio.sleep(0.5)
            assert "Run" not in second.state and "No epoch" in second.status  # the other session did not train
            # ... and was sent nothing meanwhile (Panel's template spinner followed one busy flag for all sessions)
            assert second.updates == quiet, (quiet, second.updates)
            assert not first.errors and not second.errors
        finally:
            await first.close()
            await second.close()

    with served("--ready-pages", "1") as (port, _):  # one student on a page built ahead (if ready), one built
        asyncio.run(asyncio.wait_for(students(f"http://localhost:{port}"), 240))
