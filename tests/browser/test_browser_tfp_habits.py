"""TensorFlow Playground's habits in Debian's Chromium at 1366x768 and 1920x1080: + / - buttons beside the typed
hidden widths, and dataset thumbnails that choose the dataset. Screenshots go to out/screenshots/."""

from __future__ import annotations

import re
import time

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.timeout(300)

SIZES = [(1366, 768), (1920, 1080)]
SIDEBAR_JS = "() => document.querySelector('#sidebar').getBoundingClientRect().toJSON()"


def inside(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["width"] > 0 and inner["height"] > 0)


def wait_for_value(app, label: str, value: str) -> None:
    for _ in range(100):
        if app.value(label) == value:
            return
        app.page.wait_for_timeout(100)
    raise AssertionError(f"{label} shows {app.value(label)!r}, not {value!r}")


@pytest.mark.parametrize("width, height", SIZES)
def test_plus_and_minus_buttons_edit_the_hidden_layers(new_session, screenshots, width, height):
    app = new_session(width=width, height=height).app.open("?hidden=8,8")
    page = app.page
    add, remove = (page.get_by_role("button", name=name, exact=True) for name in ("+ layer", "− layer"))
    neurons_minus, neurons_plus = page.locator(".nnp-neuron-minus button"), page.locator(".nnp-neuron-plus button")
    assert neurons_minus.count() == 2
    sidebar = page.evaluate(SIDEBAR_JS)
    add.scroll_into_view_if_needed()
    for button in (add, remove, neurons_minus.nth(1), neurons_plus.nth(1)):
        assert inside(button.bounding_box(), sidebar)  # fits in the sidebar at this size

    add.click()
    wait_for_value(app, "Hidden layers", "8,8,8")
    expect(neurons_plus).to_have_count(3)
    neurons_plus.nth(2).click()
    wait_for_value(app, "Hidden layers", "8,8,9")
    neurons_minus.nth(0).click()
    wait_for_value(app, "Hidden layers", "7,8,9")
    page.wait_for_function("() => location.search.includes('hidden=7,8,9')")  # the address follows
    page.get_by_role("button", name="+ layer").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"tfp-widths-{width}.png"))

    app.fill("Hidden layers", "1")  # typed: the buttons follow, − on a 1-neuron layer is disabled
    expect(neurons_minus).to_have_count(1)
    expect(neurons_minus.nth(0)).to_be_disabled()
    assert neurons_plus.nth(0).is_enabled()
    remove.click()
    wait_for_value(app, "Hidden layers", "")
    expect(neurons_minus).to_have_count(0)
    expect(remove).to_be_disabled()
    assert add.is_enabled()
    expect(page.get_by_text("no hidden layer", exact=True)).to_be_visible()
    app.fill("Hidden layers", "8,8,8,8,8,8,8,8")  # the most layers: + layer disabled
    expect(neurons_minus).to_have_count(8)
    expect(add).to_be_disabled()
    assert remove.is_enabled()


@pytest.mark.parametrize("width, height", SIZES)
def test_dataset_thumbnails_choose_the_dataset(new_session, screenshots, width, height):
    session = new_session(width=width, height=height)
    app = session.app.open()
    page = app.page
    tiles = page.locator(".nnp-dataset-tiles .bk-btn")
    assert tiles.count() == 10
    names = [tiles.nth(index).inner_text().strip() for index in range(10)]
    assert names == ["easy", "hard", "XOR", "cross", "ring", "spiral", "Gaussians", "moons", "Iris", "own data"]
    images = tiles.evaluate_all("tiles => tiles.map(t => getComputedStyle(t).backgroundImage.slice(0, 26))")
    assert images == ["url(\"data:image/png;base64"] * 10  # every tile shows its picture
    sidebar = page.evaluate(SIDEBAR_JS)
    for index in (4, 9):  # the last of each row fits in the sidebar, and the tiles are above the fold
        tile = tiles.nth(index).bounding_box()
        assert inside(tile, sidebar) and tile["y"] + tile["height"] <= height
    assert "bk-active" in tiles.nth(0).get_attribute("class")
    assert page.evaluate(  # no tooltip to stay over the tiles after a click (the Select above has the help)
        "() => [...Bokeh.documents[0].all_models].find(m => m.css_classes && "
        "m.css_classes.includes('nnp-dataset-tiles')).description") is None
    overflow = tiles.evaluate_all("tiles => tiles.filter(t => t.scrollWidth > t.clientWidth).length")
    assert overflow == 0  # every name fits its tile

    page.get_by_role("button", name="XOR", exact=True).click()
    app.page.wait_for_function("() => location.search.includes('dataset=toy_xor')")
    assert app.value("Dataset") == "toy_xor"
    assert "bk-active" in tiles.nth(2).get_attribute("class") and "bk-active" not in tiles.nth(0).get_attribute("class")
    app.select("Dataset", "moons")  # the Select and the tiles are one value
    page.wait_for_function("() => location.search.includes('dataset=moons')")
    expect(tiles.nth(7)).to_have_class(re.compile("bk-active"))
    page.get_by_role("button", name="own data", exact=True).click()  # no points of your own yet: refused, said why
    for _ in range(100):
        if "no points of your own yet" in app.message():
            break
        page.wait_for_timeout(100)
    assert "no points of your own yet" in app.message() and app.value("Dataset") == "moons"
    page.screenshot(path=str(screenshots / f"tfp-thumbnails-{width}.png"))
    assert not session.outside


@pytest.mark.parametrize("width, height", SIZES)
def test_position_noise_is_a_data_setting_in_the_sidebar_and_the_address(new_session, width, height):
    app = new_session(width=width, height=height).app.open("?dataset=toy_xor&samples=400")
    page = app.page
    app.fill("Position noise", "0.05")
    page.wait_for_function("() => location.search.includes('jitter=0.05')")
    app.fill("Position noise", "0.9")  # beyond its bounds: refused, the last valid value kept
    deadline = time.monotonic() + 90  # liveness: a busy machine may take long
    while "Position noise" not in app.message() and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert "Position noise" in app.message() and "0.25" in app.message()
    wait_for_value(app, "Position noise", "0.05")
    app.select("Dataset", "iris")  # measured data is not moved: the setting is not shown
    expect(page.get_by_label("Position noise", exact=True)).to_be_hidden()
