"""States of the served app (issue 10, items 4 and 5), in Debian's Chromium at 1366x768 and 1920x1080: the network
diagram's output node shows the decision map of the same epoch as the neuron maps; disabled buttons look
disabled; no tooltip stays over the run bar; Reset asks first; a "Working..." badge shows while the server handles
a settings change or an upload; no tab overflows its column. Every wait is a polled condition; nothing asserts a
duration. Screenshots go to out/screenshots/.
"""

from __future__ import annotations

import io
import re
import threading
import time

import numpy as np
import pytest
from PIL import Image

from dashboard.plots.network import output_bytes
from dashboard.ui import factory as app_factory
from tools.chromium import epoch_of

pytestmark = pytest.mark.timeout(300)

SIZES = [(1366, 768), (1920, 1080)]
XOR = "?dataset=toy_xor&hidden=8,8&activation=tanh&lr=0.01&epochs=300"
# Each tab, and a title or control that says it is drawn (tabs are drawn when first opened).
TABS = {"Training": "^Model at epoch 300", "Evaluation": "^Training set: ", "Data": "^Drawing: ", "Compare": None,
        "Network": "^Layer 1, neuron 1", "Baselines": "^Random forest: test ", "Sweep": "Values"}

# Page coordinates of the data point (x, y) of the Bokeh figure named `name`.
POSITION_JS = """([name, x, y]) => {
  const view = Bokeh.index.query_one(v => v.model.name === name);
  const box = view.el.getBoundingClientRect();
  return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)];
}"""
# At the animation frame after each change of the diagram's output map: the large decision map's title, the status
# line, and checksums of the output map and of the last neuron map.
OUTPUT_JS = """() => {
  const doc = Bokeh.documents[0];
  const output = doc.get_model_by_name('nnp-output-map');
  const neurons = doc.get_model_by_name('nnp-neuron-maps');
  const image = doc.get_model_by_name('nnp-network-output-image');
  const figure = [...doc.all_models].find(m => m.type === 'Figure' && m.renderers &&
      m.renderers.some(r => r.data_source === image));
  const sum = (a) => Array.from(a).reduce((s, v) => s + (isNaN(v) ? 0 : v), 0);
  window.__output = [];
  output.properties.data.change.connect(() => requestAnimationFrame(() => {
    const maps = neurons.data.image;
    window.__output.push([figure.title.text, window.__nnp.text(), sum(output.data.image[0]),
                          sum(maps[maps.length - 1])]);
  }));
  return figure !== undefined;
}"""
# Every control or plot canvas that reaches past the main column's right edge (the run bar's, which spans it) or
# the window's (through the shadow roots); a table in a box that scrolls sideways is not one of them.
OVERFLOW_JS = """() => {
  const all = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) {
    all.push(el); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  const bar = all.find(el => el.classList.contains('nnp-run-bar'));
  const right = Math.min(document.documentElement.clientWidth, bar.getBoundingClientRect().right);
  return all.filter(el => el.matches('input, select, textarea, button, canvas')).filter(el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > right + 1;
  }).map(el => `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') || el.value || ''}`.trim() +
               ` right ${Math.round(el.getBoundingClientRect().right)} > ${Math.round(right)}`);
}"""
# The computed look of the run bar's button labelled `name` (the <button> inside Bokeh's shadow DOM).
LOOK_JS = """(button) => { const style = getComputedStyle(button);
  return {opacity: parseFloat(style.opacity), cursor: style.cursor, disabled: button.disabled}; }"""


def new_app(new_session, width: int, height: int, query: str = XOR):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    session = new_session(width=width, height=height)
    app = session.app.open(query)
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    return session, app, experiment


def wait_until(condition, app, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        app.page.wait_for_timeout(100)


def pixel(png: bytes, x: float, y: float) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((round(x), round(y)))


def look(app, name: str) -> dict:
    return app.page.get_by_role("button", name=name, exact=True).evaluate(LOOK_JS)


@pytest.mark.parametrize("width, height", SIZES)
def test_output_node_shows_the_decision_map_of_the_neurons_epoch(new_session, screenshots, width, height):
    session, app, experiment = new_app(new_session, width, height)
    app.tab("Network")
    app.page.wait_for_function("() => Bokeh.index.query_one(v => v.model.name === 'nnp-diagram') !== null",
                               timeout=60_000, polling=100)
    assert app.page.evaluate(OUTPUT_JS)
    app.click("Train")
    app.wait_for_run_end(1)
    # The last output map drawn is the model's final decision map, picked down to the node's size.
    final = output_bytes(experiment.grid.probability).astype(float)
    app.page.wait_for_function(
        "(sum) => Array.from(Bokeh.documents[0].get_model_by_name('nnp-output-map').data.image[0])"
        ".reduce((s, v) => s + v, 0) === sum", arg=float(final.sum()), timeout=30_000, polling=100)
    # While training, each output map came with the large map and the status of its own epoch, and new neuron maps.
    frames = app.page.evaluate("() => window.__output")
    during = [(title, status, out, last) for title, status, out, last in frames
              if epoch_of(status) and epoch_of(status)[0] < 300]
    assert len({out for _, _, out, _ in during}) >= 3, f"the output node changed {len(during)} times while training"
    for title, status, _, _ in during:
        shown = re.match(r"Model at epoch (\d+)", title)
        assert shown and int(shown[1]) == epoch_of(status)[0], (title, status)
    assert len({last for *_, last in during}) >= 3  # the neuron maps moved with it
    # On screen: XOR's quadrants in the node, red (class 1) top-left, blue (class 0) bottom-left.
    node = app.page.evaluate("() => { const d = Bokeh.documents[0].get_model_by_name('nnp-output-map').data;"
                             " return [d.x[0], d.y[0], d.dw[0], d.dh[0]]; }")
    x, y, w, h = node
    app.page.mouse.move(width - 5, height - 5)
    png = app.page.screenshot()
    top_left = pixel(png, *app.page.evaluate(POSITION_JS, ["nnp-diagram", x + w / 4, y + 3 * h / 4]))
    bottom_left = pixel(png, *app.page.evaluate(POSITION_JS, ["nnp-diagram", x + w / 4, y + h / 4]))
    assert top_left[0] > top_left[2] + 40, f"top-left of the output node is not red: {top_left}"
    assert bottom_left[2] > bottom_left[0] + 40, f"bottom-left of the output node is not blue: {bottom_left}"
    app.page.screenshot(path=str(screenshots / f"states-network-{width}.png"))
    assert not session.errors, session.errors


@pytest.mark.parametrize("width, height", SIZES)
def test_disabled_buttons_look_disabled_no_tooltip_stays_and_reset_asks(new_session, screenshots, width, height):
    session, app, experiment = new_app(new_session, width, height, XOR.replace("epochs=300", "epochs=100000"))
    for name in ("Continue", "Pause", "Stop"):  # nothing to continue, pause or stop yet
        shown = look(app, name)
        assert shown["disabled"] and shown["opacity"] <= 0.5 and shown["cursor"] == "not-allowed", (name, shown)
    assert look(app, "Train") == {"opacity": 1.0, "cursor": "pointer", "disabled": False}
    app.click("Train")
    app.wait_for_epoch(1)
    stop = look(app, "Stop")
    assert not stop["disabled"] and stop["opacity"] == 1.0
    # No tooltip over the run bar, after hovering and clicking its buttons.
    for name in ("Pause", "Resume", "Stop"):
        button = app.page.get_by_role("button", name=name, exact=True)
        button.hover()
        app.page.wait_for_timeout(400)  # a tooltip would have appeared by now
        button.click()
        if name == "Resume":
            app.wait_for_state("training")
    app.wait_for_run_end(1)
    app.page.wait_for_timeout(400)
    assert app.page.locator(".bk-tooltip").filter(has_text=re.compile(r"\S")).evaluate_all(
        "els => els.filter(e => e.getBoundingClientRect().width > 0).length") == 0
    # Reset asks first; another button keeps the runs; Confirm reset forgets them.
    app.click("Reset")
    app.page.get_by_role("button", name="Confirm reset", exact=True).wait_for()
    assert "Press Confirm reset" in app.message() and len(experiment.runs) == 1
    label = app.page.get_by_role("button", name="Confirm reset", exact=True).evaluate(  # the button grows to its label
        "b => [b.getBoundingClientRect().width, b.getRootNode().host.getBoundingClientRect().width]")
    assert label[0] <= label[1] + 1, f"'Confirm reset' is wider than its button's place: {label}"
    app.page.screenshot(path=str(screenshots / f"states-reset-{width}.png"))
    app.click("Step")  # one epoch more, as run 2 (then paused)
    app.page.get_by_role("button", name="Reset", exact=True).wait_for()
    app.wait_for_state("paused")
    assert app.run_count() == 2 and experiment.has_model
    app.click("Reset")
    app.click("Confirm reset")
    app.page.get_by_role("button", name="Reset", exact=True).wait_for()
    app.page.wait_for_function("() => window.__nnp.text().startsWith('No epoch trained yet')", timeout=60_000,
                               polling=100)
    # The page may show the status before the server's reset has returned (it sends changes as they are made).
    wait_until(lambda: experiment.runs == [] and not experiment.has_model, app)
    assert look(app, "Continue")["disabled"]
    assert not session.errors, session.errors


@pytest.mark.parametrize("width, height", SIZES)
def test_working_badge_while_the_server_handles_a_change_or_an_upload(new_session, screenshots, width, height):
    session, app, experiment = new_app(new_session, width, height, "?dataset=toy_xor")
    badge = app.page.locator(".nnp-busy")
    badge.wait_for(state="attached", timeout=60_000)  # its script is a module, loaded after the page
    assert badge.count() == 1 and not badge.is_visible()
    # A server that takes a while over a change (here: a watcher that waits until the page has shown the badge).
    seen, handled = threading.Event(), threading.Event()

    def slow(event) -> None:
        seen.wait(60)
        handled.set()

    watcher = experiment.param.watch(slow, ["dataset"])
    app.select("Dataset", "toy_ring")
    badge.wait_for(state="visible", timeout=30_000)
    assert not handled.is_set()  # shown while the server is still at it
    app.page.screenshot(path=str(screenshots / f"states-working-{width}.png"))
    seen.set()
    badge.wait_for(state="hidden", timeout=60_000)
    experiment.param.unwatch(watcher)
    assert experiment.dataset == "toy_ring" and handled.is_set()
    app.wait_for_title("^Exact target")  # the page shows the new data by the time the badge goes
    # An upload: parsed in a thread while the loop serves on; the badge stays until the data is in.
    app.tab("Data")
    editor = app.page.locator(".nnp-data-editor")
    editor.get_by_role("button", name="Use these points").wait_for(timeout=60_000)
    rng = np.random.default_rng(3)
    points = rng.random((150_000, 2))
    text = "x,y,label\n" + "".join(f"{a:.5f},{b:.5f},{int(a > b)}\n" for a, b in points.tolist())
    editor.locator("input[type=file]").set_input_files(
        {"name": "many.csv", "mimeType": "text/csv", "buffer": text.encode()})
    badge.wait_for(state="visible", timeout=30_000)
    badge.wait_for(state="hidden", timeout=120_000)
    assert experiment.dataset == "csv" and len(experiment.data.y_train) + len(experiment.data.y_test) == 150_000
    assert "many.csv" in app.message()
    assert not session.errors, session.errors


@pytest.mark.parametrize("width, height", SIZES)
def test_no_tab_overflows_its_column(new_session, screenshots, width, height):
    session, app, _ = new_app(new_session, width, height)
    app.click("Train")
    app.wait_for_run_end(1)
    for tab, drawn in TABS.items():
        app.tab(tab)
        if tab == "Sweep":
            app.page.get_by_label(drawn, exact=True).wait_for(timeout=60_000)
        elif drawn:
            app.wait_for_title(drawn)
        app.page.locator(".nnp-busy").wait_for(state="hidden", timeout=120_000)
        app.page.wait_for_timeout(1000)  # laid out
        wide = app.page.evaluate(OVERFLOW_JS)
        assert not wide, f"{tab} at {width}x{height}: {wide[:5]}"
        width_now = app.page.evaluate("() => document.documentElement.scrollWidth")
        assert width_now <= width, f"{tab}: the page scrolls sideways ({width_now} px)"
    app.page.screenshot(path=str(screenshots / f"states-sweep-{width}.png"))
    assert not session.errors, session.errors
