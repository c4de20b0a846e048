"""The Network tab of the served dashboard in Chromium: live neuron maps, a picked neuron, the weighted diagram
and the replay slider. What the page draws is read from its Bokeh sources and compared with the server's
experiment (dashboard.ui.factory.EXPERIMENTS). Every wait is a polled condition; nothing asserts a duration.
"""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.plots.network import NEGATIVE, POSITIVE
from dashboard.ui import factory as app_factory
from tools.chromium import epoch_of

pytestmark = pytest.mark.timeout(240)

# Page coordinates of the data point (x, y) of the Bokeh figure named `name`.
POSITION_JS = """([name, x, y]) => {
  const view = Bokeh.index.query_one(v => v.model.name === name);
  const box = view.el.getBoundingClientRect();
  return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)];
}"""
SOURCE_JS = """([name, columns]) => {
  const data = Bokeh.documents[0].get_model_by_name(name).data;
  return Object.fromEntries(columns.map(c => [c, Array.from(data[c], v => ArrayBuffer.isView(v) ? Array.from(v) : v)]));
}"""
# The replay slider (inside the DiscreteSlider's layout, found by its css class).
SLIDER_JS = """() => {
  const find = (m) => m.type === 'Slider' ? m : (m.children || []).map(find).find(Boolean);
  return find([...Bokeh.documents[0].all_models].find(m => m.css_classes && m.css_classes.includes('nnp-replay')));
}"""
# Record each change of the neuron maps (a checksum of the last one) and of the status line (the slider's state).
PROBE_JS = """(slider_js) => {
  const doc = Bokeh.documents[0];
  const slider = eval(slider_js)();
  const probe = window.__network = {maps: [], states: []};
  const maps = doc.get_model_by_name('nnp-neuron-maps');
  maps.properties.data.change.connect(() => {
    const images = maps.data.image;
    const last = images.length ? images[images.length - 1] : [];
    probe.maps.push([window.__nnp.text(), Array.from(last).reduce((a, b) => a + (isNaN(b) ? 0 : b), 0)]);
  });
  const status = [...doc.all_models].find(m => m.css_classes && m.css_classes.includes('nnp-status'));
  status.data.properties.text.change.connect(() => probe.states.push([window.__nnp.text(), slider.disabled]));
  return true;
}"""


def open_network(new_session, query: str):
    """A page on the app's Network tab, probed, and the server-side experiment behind it."""
    before = {id(e) for e in app_factory.EXPERIMENTS}
    app = new_session().app.open(query)
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    app.tab("Network")
    app.page.wait_for_function("() => Bokeh.index.query_one(v => v.model.name === 'nnp-diagram') !== null",
                               timeout=60_000, polling=100)
    app.page.evaluate(PROBE_JS, SLIDER_JS)
    return app, experiment


def source(app, name: str, *columns: str) -> dict:
    return app.page.evaluate(SOURCE_JS, [name, list(columns)])


def test_neuron_maps_change_while_training_and_a_click_shows_one_large(new_session):
    app, experiment = open_network(new_session, "?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=600")
    app.click("Train")
    app.wait_for_run_end(1)
    during = {checksum for text, checksum in app.page.evaluate("() => window.__network.maps")
              if epoch_of(text) and epoch_of(text)[0] < 600}
    assert len(during) >= 3, f"the neuron maps changed only {len(during)} times while training"

    neurons = source(app, "nnp-neurons", "x", "y", "layer", "index")
    (k,) = [i for i, (layer, index) in enumerate(zip(neurons["layer"], neurons["index"])) if (layer, index) == (1, 3)]
    app.page.mouse.click(*app.page.evaluate(POSITION_JS, ["nnp-diagram", neurons["x"][k], neurons["y"][k]]))
    app.wait_for_title("^Layer 2, neuron 4: activation$")
    shown = np.array(source(app, "nnp-neuron-large", "image")["image"][0], dtype=np.float32)
    assert np.allclose(shown.ravel(), experiment.neurons[1][3].ravel(), atol=1e-6)


def test_diagram_draws_the_weights_and_hovering_an_edge_shows_it(new_session, screenshots):
    app, experiment = open_network(new_session, "?dataset=toy_xor&hidden=3&lr=0.01&epochs=300")
    app.click("Train")
    app.wait_for_run_end(1)
    app.page.wait_for_timeout(300)  # the last update reaches the page after the state line
    edges = source(app, "nnp-edges", "x0", "y0", "x1", "y1", "weight", "color", "width", "link")
    weights = np.concatenate([w.ravel() for w in experiment.weights])
    assert len(weights) == 2 * 3 + 3 * 1
    assert np.allclose(edges["weight"], weights, atol=1e-6)
    assert edges["color"] == [POSITIVE if w >= 0 else NEGATIVE for w in weights]
    order = np.argsort(np.abs(weights))
    assert np.all(np.diff(np.array(edges["width"])[order]) >= 0), "thicker edges for bigger weights"
    labels = source(app, "nnp-neurons", "name")["name"]
    assert labels == ["layer 1 neuron 1", "layer 1 neuron 2", "layer 1 neuron 3"]

    k = int(order[-1])  # the thickest edge: easy to point at
    middle = [(edges["x0"][k] + edges["x1"][k]) / 2, (edges["y0"][k] + edges["y1"][k]) / 2]
    app.page.mouse.move(*app.page.evaluate(POSITION_JS, ["nnp-diagram", *middle]))
    tooltip = app.page.locator(".bk-tooltip-content").filter(has_text="weight").first
    tooltip.wait_for()
    assert f"{weights[k]:.4f}" in tooltip.inner_text() and edges["link"][k] in tooltip.inner_text()
    app.page.screenshot(path=str(screenshots / "network_1366x768.png"))


def test_replay_slider_is_off_while_training_and_then_moves_the_maps(new_session):
    app, experiment = open_network(new_session, "?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=1000")
    assert app.page.evaluate(f"() => ({SLIDER_JS})().disabled")
    app.click("Train")
    app.wait_for_run_end(1)
    states = app.page.evaluate("() => window.__network.states")
    during = [disabled for text, disabled in states if epoch_of(text) and epoch_of(text)[0] < 1000]
    assert during and all(during), "the slider is off while training"
    app.page.wait_for_function(f"() => !({SLIDER_JS})().disabled", timeout=30_000, polling=100)

    frames = experiment.snapshots
    epochs = [frame.epoch for frame in frames]
    assert epochs[0] == 0 and epochs[-1] == 1000 and len(epochs) >= 10
    assert all(epoch % 50 == 0 for epoch in epochs), f"snapshots at round epochs: {epochs}"
    handle = app.page.locator(".noUi-handle").first
    handle.focus()
    handle.press("Home")
    app.wait_for_title("^Model at epoch 0: P\\(class 1\\), 0.5 contour$")
    app.wait_for_title("^Layer 1, neuron 1 at epoch 0: activation$")
    shown = np.array(source(app, "nnp-network-output-image", "image")["image"][0], dtype=np.float32)
    assert np.allclose(shown.ravel(), frames[0].probability.astype(np.float32).ravel())
    assert not np.allclose(shown.ravel(), frames[-1].probability.astype(np.float32).ravel())
    handle.press("End")  # the last snapshot: the model as it is now, on the full grid
    app.page.wait_for_function(
        "(size) => Bokeh.documents[0].get_model_by_name('nnp-network-output-image').data.image[0].length === size",
        arg=experiment.grid.probability.size, timeout=30_000, polling=100)
