"""Legends and names in the served app, in Chromium, at two window sizes: every legend item has its marker, and
points drawn in the Data tab are named as drawn wherever the dataset is named.

Every wait is a condition polled with a generous timeout; nothing asserts a duration.
"""

from __future__ import annotations

import pytest

from tests.browser.test_browser_own_data import (
    DRAWN_JS,
    EDITOR,
    TO_PAGE_JS,
    open_data_tab,
    wait_for_message,
)

pytestmark = pytest.mark.timeout(300)

# Per legend item shown: its label and the rows of its renderers' data. Bokeh draws an item's marker from the
# first row of its renderer's data: an item whose renderers have no rows is listed without a marker.
LEGEND_ROWS_JS = """() => [...Bokeh.documents[0].all_models]
  .filter(m => m.type === 'LegendItem' && m.visible && m.label && m.label.value)
  .map(m => [m.label.value, Math.min(...m.renderers.map(r => r.data_source.get_length() ?? 0))])"""


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_legends_show_their_markers_and_drawn_points_are_named_as_drawn(new_session, screenshots, width, height):
    session = new_session(width=width, height=height)
    app, _ = open_data_tab(session, "?hidden=2&epochs=3&lr=0.001")
    editor = app.page.locator(EDITOR)
    editor.get_by_role("button", name="Clear").click()
    app.page.wait_for_function(f"() => ({DRAWN_JS})() === 0")
    editor.scroll_into_view_if_needed()
    points = {"Class 0 (blue)": [[0.1 + 0.1 * i, 0.2] for i in range(4)],
              "Class 1 (red)": [[0.5 + 0.1 * i, 0.8] for i in range(4)]}
    for mode, where in points.items():
        editor.get_by_role("button", name=mode).click()
        for x, y in app.page.evaluate(TO_PAGE_JS, where):
            drawn = app.page.evaluate(DRAWN_JS)
            app.page.mouse.click(x, y)
            app.page.wait_for_function(f"(n) => ({DRAWN_JS})() !== n", arg=drawn)
    editor.get_by_role("button", name="Use these points").click()
    assert wait_for_message(app, "Drawn points: 8").startswith("Drawn points: 8 points, 6 to train on and 2 to test")
    app.wait_for_title("^Drawn points \\(8 points\\)$")  # the Data tab's view of the whole dataset
    app.page.screenshot(path=str(screenshots / f"legends_data_{width}x{height}.png"))
    app.click("Train")
    state = app.wait_for_run_end(1)
    assert "drawn points" in state and "csv" not in state
    app.tab("Training")
    for _ in range(300):  # the runs table is redrawn at most every so often
        if "drawn points" in app.runs_text():
            break
        app.page.wait_for_timeout(200)
    assert "drawn points" in app.runs_text() and "csv" not in app.runs_text()
    app.page.screenshot(path=str(screenshots / f"legends_training_{width}x{height}.png"))
    app.tab("Evaluation")
    app.wait_for_title("^Training set: [\\d.]+% correct$")
    app.page.wait_for_timeout(500)  # drawn: for the picture only, nothing is asserted on it
    app.page.screenshot(path=str(screenshots / f"legends_evaluation_{width}x{height}.png"))

    items = app.page.evaluate(LEGEND_ROWS_JS)
    labels = {label for label, _ in items}
    # The Evaluation tab's four kinds of points (some may have no point: their marker still shows), the Data
    # tab's classes and the run's curves.
    assert {"class 0: correct", "class 0: wrong", "class 1: correct", "class 1: wrong", "class 0", "class 1",
            "run 1"} <= labels
    assert [label for label, rows in items if rows < 1] == []
    assert session.errors == []
