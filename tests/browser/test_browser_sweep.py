"""The Sweep tab in the served dashboard, in Debian's Chromium (Playwright): a 3 x 3 x 2 sweep fills the heatmap
while it runs, and a click on a cell trains that cell's model in the experiment. Every wait is a condition polled
with a generous timeout; nothing asserts a duration. The tab's screenshot goes to out/screenshots/."""

from __future__ import annotations

import pytest

from dashboard.ui import factory as app_factory

pytestmark = pytest.mark.timeout(300)
PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError

QUERY = "?dataset=toy_xor&samples=200"
# Page coordinates of the heatmap cell (x, y factors).
CELL_JS = """([x, y]) => {
  const view = Bokeh.index.query_one(v => v.model.name === 'nnp-sweep-heatmap');
  const box = view.el.getBoundingClientRect();
  return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)];
}"""
# Every 30 ms, how many cells of the heatmap have a value (finite zvalues).
RECORD_JS = """() => {
  window.__sweep = [];
  setInterval(() => {
    const source = Bokeh.documents[0].get_model_by_name('nnp-sweep-heatmap-source');
    if (source) {
      const z = Array.from(source.data.zvalues || []);
      window.__sweep.push(z.filter(v => Number.isFinite(v)).length);
    }
  }, 30);
}"""


def test_a_sweep_fills_the_heatmap_live_and_a_click_trains_that_cell(new_session, screenshots):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    session = new_session(width=1500, height=1000)
    app = session.app.open(QUERY)
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    app.tab("Sweep")
    page = app.page
    page.get_by_label("Values", exact=True).wait_for(timeout=60_000)
    app.fill("Values", "0.003 0.03 0.3")  # learning rates
    app.fill("and values", "4 8 8,8")  # hidden layers
    app.fill("Seeds", 2)
    app.fill("Epochs per model", 1500)
    page.evaluate(RECORD_JS)
    app.click("Run sweep")
    try:  # a picture of the heatmap part-filled, if the sweep is not done by the time it is taken
        page.wait_for_function("() => { const c = window.__sweep; return c.length && c[c.length - 1] > 0"
                               " && c[c.length - 1] < 9; }", timeout=60_000, polling=50)
        page.screenshot(path=str(screenshots / "sweep-running.png"), full_page=True)
    except PlaywrightTimeout:
        pass
    page.get_by_text("18 of 18 models finished").wait_for(timeout=180_000)
    page.wait_for_function(
        "() => { const s = Bokeh.documents[0].get_model_by_name('nnp-sweep-heatmap-source');"
        " return s && Array.from(s.data.zvalues).filter(Number.isFinite).length === 9; }", timeout=30_000)
    counts = page.evaluate("() => window.__sweep")
    assert counts[-1] == 9
    partial = sorted({c for c in counts if 0 < c < 9})
    assert partial, f"the heatmap never showed part of the sweep: {sorted(set(counts))}"
    assert counts.index(partial[0]) < counts.index(9)  # part before all
    page.wait_for_timeout(800)  # drawn: for the picture
    page.screenshot(path=str(screenshots / "sweep-tab.png"), full_page=True)

    runs = len(experiment.runs)
    x, y = page.evaluate(CELL_JS, ["0.03", "8,8"])
    page.mouse.click(x, y)
    page.wait_for_function(
        "() => [...Bokeh.documents[0].all_models].some(m => m.css_classes && "
        "m.css_classes.includes('nnp-message') && (m.data.text || '').includes('Training 0.03 | 8,8'))",
        timeout=30_000,
    )
    assert experiment.lr == 0.03 and experiment.hidden == (8, 8) and experiment.epochs == 1500
    assert experiment.dataset == "toy_xor" and experiment.samples == 200 and experiment.seed in (0, 1)
    app.tab("Training")
    app.wait_for_run_end(runs + 1, timeout=120)
    assert len(experiment.runs) == runs + 1 and experiment.runs[-1]["hidden"] == "8,8"
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshots / "sweep-cell-trained.png"), full_page=True)
    assert not session.outside


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_a_lesson_question_is_one_click_and_its_heatmap_fits_the_screen(new_session, screenshots, width, height):
    """"Hardest dataset": one click sets the sidebar and the sweep, runs it, and says the answer; the whole
    heatmap (five datasets, each against its own baseline) fits in the window once scrolled to."""
    session = new_session(width=width, height=height)
    app = session.app.open()
    app.tab("Sweep")
    page = app.page
    page.get_by_role("button", name="Hardest dataset", exact=True).click()
    page.get_by_text("15 of 15 models finished").wait_for(timeout=240_000)
    message = page.wait_for_function(
        "() => [...Bokeh.documents[0].all_models].map(m => m.css_classes && m.css_classes.includes('nnp-message')"
        " && m.data && m.data.text || '').find(t => t.includes('Best: '))", timeout=60_000).json_value()
    assert "Which toy pattern is hardest" in message and "worst: toy_" in message
    page.wait_for_function(
        "() => { const s = Bokeh.documents[0].get_model_by_name('nnp-sweep-heatmap-source');"
        " return s && Array.from(s.data.zvalues).filter(Number.isFinite).length === 5; }", timeout=30_000)
    heatmap = page.locator(".nnp-sweep-heatmap")
    heatmap.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = heatmap.bounding_box()
    assert box["height"] <= height and 0 <= box["x"] and box["x"] + box["width"] <= width, box
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, box  # all of it on screen at once
    page.screenshot(path=str(screenshots / f"sweep-lesson-dataset-{width}x{height}.png"))
