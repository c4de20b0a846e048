"""A class on one server: `nn-playground serve` answers page requests from a cached session and opens each
visitor's own session when it connects, on a page built ahead when there is one (a few here, to keep the tests'
CPU for the tests); `--num-procs 2` forks two server processes sharing the port, and pages from either train."""

from __future__ import annotations

from tests.support.serving import served
from tools.chromium import AppPage, block_outside, child_pids


def test_two_server_processes_serve_pages_that_train(browser):
    with served("--num-procs", "2", "--ready-pages", "2") as (port, server):
        assert len(child_pids(server.pid)) == 2  # Tornado's forked server processes
        pages = []
        for _ in range(3):
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            app = AppPage(context.new_page(), f"http://localhost:{port}")
            app.open("?dataset=toy_xor&hidden=8&epochs=60&samples=400")
            app.click("Train")
            pages.append((context, app))
        for context, app in pages:
            assert "finished" in app.wait_for_run_end(1)
            assert app.status().startswith("Epoch 60/60")
            context.close()


def test_visitors_of_a_served_app_each_get_their_own_session_and_preset(browser):
    with served("--ready-pages", "1") as (port, _):  # one visitor on a page built ahead (if ready), one built
        pages, outside = {}, []
        for dataset, hidden in (("toy_ring", "6"), ("toy_xor", "8,8")):
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            block_outside(context, outside)
            app = AppPage(context.new_page(), f"http://localhost:{port}")
            app.open(f"?dataset={dataset}&hidden={hidden}&epochs=30&samples=400")
            pages[dataset] = (context, app)
        ring, xor = pages["toy_ring"][1], pages["toy_xor"][1]
        assert ring.value("Hidden layers") == "6" and xor.value("Hidden layers") == "8,8"
        ring.click("Train")
        assert "toy_ring, hidden 6" in ring.wait_for_run_end(1)
        xor.page.wait_for_timeout(500)
        assert "Run 1" not in xor.state_text() and "No epoch" in xor.status()  # the other session did not train
        xor.click("Train")
        assert "toy_xor, hidden 8, 8" in xor.wait_for_run_end(1)
        xor.tab("Data")  # a tab built later points at this server too
        xor.page.wait_for_timeout(1000)
        assert outside == []  # not even Panel's stylesheets from its CDN (a page opened over the websocket)
        for context, _ in pages.values():
            context.close()
