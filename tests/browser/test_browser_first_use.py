"""The first five minutes (issue 10), in Debian's Chromium at 1366x768 and 1920x1080: the run bar stays in view,
the files are reachable without scrolling, the maps grow with the window, training is watchable at the normal
speed, every shown frame belongs to one epoch, a run at the majority baseline says what it means, the Evaluation
tab shows the confusion matrices, and the notebook's run is reproduced exactly. Screenshots go to out/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from dashboard.plots.geometry import MAX_MAP_POINTS
from tools.chromium import epoch_of

pytestmark = pytest.mark.timeout(300)

SIZES = [(1366, 768), (1920, 1080)]
XOR_300 = "?dataset=toy_xor&hidden=8,8&activation=tanh&lr=0.01&epochs=300"

# On every change of the decision map's image: at the next animation frame, the map's title, the status line and
# the number of wrong train points marked on the map, all as the browser shows them together.
FRAMES_JS = """() => {
  const doc = Bokeh.documents[0];
  const image = doc.get_model_by_name('decision-map-image');
  const wrong = doc.get_model_by_name('decision-map-train-wrong');
  const figure = [...doc.all_models].find(m => m.type === 'Figure' && m.renderers &&
      m.renderers.some(r => r.data_source === image));
  window.__frames = [];
  image.properties.data.change.connect(() => requestAnimationFrame(() => window.__frames.push(
      [figure.title.text, window.__nnp.text(), wrong.data.x.length])));
  return figure !== undefined;
}"""


def box(app, selector: str) -> dict:
    return app.page.locator(selector).first.bounding_box()


def in_view(app, name: str, height: int) -> bool:
    shown = app.page.get_by_role("button", name=name, exact=True).bounding_box()
    return shown is not None and 0 <= shown["y"] and shown["y"] + shown["height"] <= height


@pytest.mark.parametrize("width, height", SIZES)
def test_notebook_run_at_the_baseline_says_what_it_means_with_one_epoch_per_frame(new_session, screenshots, width,
                                                                                  height):
    app = new_session(width=width, height=height).app.open("?notebook_draw=yes")
    # Layout: the run controls and the files are on screen without scrolling; the maps fit and grow.
    for name in ("Train", "Continue", "Step", "Pause", "Stop", "Reset", "Slow", "Normal", "Fastest",
                 "Save experiment", "Download report"):
        assert in_view(app, name, height), name
    load = box(app, ".nnp-load")
    assert load["y"] + load["height"] <= height
    assert app.page.get_by_role("button", name="Normal", exact=True).get_attribute("class")  # the speed control
    assert app.page.evaluate(FRAMES_JS)
    app.click("Train")
    app.wait_for_run_end(1)
    # Item 8: the notebook's numbers exactly.
    assert app.status() == "Epoch 200/200 | loss = 0.5669 | train acc =  73.3% | test acc =  73.3%"
    # Item 1: what the result means, and what to try.
    message = " ".join(app.page.locator(".nnp-hint").all_inner_texts())  # said by its hint (engine.hints)
    for words in ("majority baseline", "most common class", "flat", "neuron maps", "Continue", "learning rate",
                  "more neurons"):
        assert words in message, message
    # Item 3: each shown map came with the status and the crosses of its own epoch.
    frames = app.page.evaluate("() => window.__frames")
    trained = [(title, status, wrong) for title, status, wrong in frames if title != "Model: none yet (press Train)"]
    assert len(trained) >= 5 and all(
        not epoch_of(status) for title, status, _ in frames if (title, status, _) not in trained
    )
    for title, status, wrong in trained:
        shown = re.match(r"Model at epoch (\d+)", title)
        assert shown and epoch_of(status) and int(shown[1]) == epoch_of(status)[0], (title, status)
        accuracy = float(re.search(r"train acc = +([\d.]+)%", status)[1])
        expected = round(3000 * (1 - accuracy / 100))  # wrong ones, drawn up to MAX_MAP_POINTS
        assert abs(wrong - min(MAX_MAP_POINTS, expected)) <= 2, (title, status, wrong)
    # Item 4: the maps grow with the window and fit in it.
    shown_map = box(app, ".nnp-map")
    assert shown_map["y"] + shown_map["height"] <= height + 2, shown_map
    if width >= 1920:
        assert shown_map["width"] >= 640, shown_map  # a frame of ~520 px and more, with its axes and colour bar
    app.page.screenshot(path=str(screenshots / f"first-use-baseline-{width}.png"))
    # The run bar stays at the top when the page scrolls.
    app.page.mouse.move(width * 0.6, height * 0.7)
    app.page.mouse.wheel(0, 2000)
    app.page.wait_for_timeout(500)
    assert in_view(app, "Train", height) and in_view(app, "Reset", height)
    # Item 6: the train and test confusion matrices in the Evaluation tab.
    app.tab("Evaluation")
    app.wait_for_title("^Training set: 3000 points$")
    app.wait_for_title("^Test set: 1000 points$")
    app.page.screenshot(path=str(screenshots / f"first-use-evaluation-{width}.png"))


@pytest.mark.parametrize("width, height", SIZES)
def test_normal_speed_shows_many_epochs_of_a_short_run(new_session, screenshots, width, height):
    app = new_session(width=width, height=height).app.open(XOR_300)
    before = len(app.status_changes()), len(app.map_changes())
    app.click("Train")
    app.wait_for_run_end(1)
    shown = {epoch_of(text)[0] for _, text in app.status_changes()[before[0]:] if epoch_of(text)}
    maps = app.map_changes()[before[1]:]
    seconds = re.search(r"finished in ([\d.]+) s", app.state_text())[1]
    print(f"{width}x{height} normal: {len(shown)} distinct epochs in the status, {len(maps)} maps, {seconds} s")
    assert len(shown) >= 10 and len(maps) >= 10, (sorted(shown), len(maps))
    assert "epoch 300 / 300" in app.text_of("nnp-epoch")
    app.page.screenshot(path=str(screenshots / f"first-use-xor-{width}.png"))
    # Fastest: as fast as the engine trains (no pacing): well under the 6 s that normal takes at least.
    app.click("Fastest")
    app.click("Train")
    app.wait_for_run_end(2)
    seconds = float(re.search(r"finished in ([\d.]+) s", app.state_text())[1])
    print(f"{width}x{height} fastest: {seconds:.2f} s")
    assert seconds < 6.0, app.state_text()
