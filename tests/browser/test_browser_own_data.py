"""Your own data in the served app, in Chromium: upload a CSV, draw points, download the data.

Every wait is a condition polled with a generous timeout; nothing asserts a duration.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from dashboard.ui import factory as app_factory

pytestmark = pytest.mark.timeout(240)

EDITOR = ".nnp-data-editor"
# Page coordinates of points given in data units, from the drawing's frame and ranges.
TO_PAGE_JS = """(points) => {
  const fig = Bokeh.documents[0].get_model_by_name('draw-figure');
  const view = Bokeh.index.find_one(fig);
  const canvas = view.canvas_view.el.getBoundingClientRect();
  const frame = view.frame.bbox;
  const [x, y] = [fig.x_range, fig.y_range];
  return points.map(([px, py]) => [
    canvas.left + frame.left + (px - x.start) / (x.end - x.start) * frame.width,
    canvas.top + frame.top + (y.end - py) / (y.end - y.start) * frame.height]);
}"""
DRAWN_JS = "() => Bokeh.documents[0].get_model_by_name('drawn-points').data.x.length"


def experiment_of(before: set[int]):
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    return experiment


def open_data_tab(session, query: str = ""):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    app = session.app.open(query)
    app.tab("Data")
    app.page.locator(EDITOR).get_by_role("button", name="Use these points").wait_for()
    return app, experiment_of(before)


def upload(app, name: str, text: str) -> None:
    app.page.locator(f"{EDITOR} input[type=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode()})


def wait_for_message(app, pattern: str, timeout: float = 60) -> str:
    app.page.wait_for_function(
        "(pattern) => { const m = [...Bokeh.documents[0].all_models].find(m => m.css_classes && "
        "m.css_classes.includes('nnp-message')); return m && new RegExp(pattern).test(m.data.text); }",
        arg=pattern, timeout=timeout * 1000, polling=100)
    return app.message()


def separable_csv(count: int = 60, header: str = "width,height,label\n") -> str:
    rng = np.random.default_rng(1)
    points = rng.random((count, 2)) * [4.0, 1.0] + [10.0, 0.0]
    labels = (points[:, 0] > 12.0).astype(int)
    points[:, 0] += np.where(labels == 1, 0.5, -0.5)  # a clear margin between the classes
    return header + "".join(f"{x:.4f},{y:.4f},{label}\n" for (x, y), label in zip(points.tolist(), labels))


def test_upload_a_csv_and_train_on_it(new_session):
    session = new_session()
    app, experiment = open_data_tab(session, "?lr=0.05&epochs=300")
    upload(app, "mine.csv", separable_csv())
    assert "Your data from mine.csv: 60 points, 45 to train on and 15 to test" in wait_for_message(app, "mine.csv")
    assert app.page.get_by_label("Dataset", exact=True).input_value() == "your own data (uploaded or drawn)"
    app.page.wait_for_url(re.compile(r"dataset=csv"))
    assert "tmp" not in app.page.url and "csv_path" not in app.page.url
    app.wait_for_title("Your data \\(60 points\\)")
    assert experiment.dataset == "csv" and experiment.data.feature_names == ("width", "height")
    app.click("Train")
    assert "csv" in app.wait_for_run_end(1)
    test_accuracy = float(re.search(r"test acc = +([\d.]+)%", app.status())[1])
    assert test_accuracy >= 90.0, app.status()
    # The same file again, after another dataset was chosen, is your data again.
    app.select("Dataset", "toy_xor")
    app.page.wait_for_url(re.compile(r"dataset=toy_xor"))
    upload(app, "mine.csv", separable_csv())
    app.page.wait_for_url(re.compile(r"dataset=csv"))
    assert experiment.dataset == "csv" and not experiment.has_model
    assert session.errors == [] and session.outside == []


def test_a_bad_csv_says_which_line_and_changes_nothing(new_session):
    app, experiment = open_data_tab(new_session(), "?dataset=toy_xor&samples=200&epochs=20")
    app.click("Train")
    run = app.wait_for_run_end(1)
    status, url, settings = app.status(), app.page.url, experiment.settings()
    upload(app, "bad.csv", "x,y,label\n0.1,0.2,1\n0.3,oops,0\n")
    message = wait_for_message(app, "bad.csv")
    assert message == "bad.csv, line 3, column 2: 'oops' is not a finite number. Nothing was changed."
    assert app.page.get_by_label("Dataset", exact=True).input_value() == "toy_xor"
    assert (app.status(), app.state_text(), app.page.url) == (status, run, url)
    assert experiment.settings() == settings and experiment.has_model and len(experiment.history) == 20
    # Choosing your own data before there is any is refused too.
    app.select("Dataset", "your own data (uploaded or drawn)")
    assert "no points of your own yet" in wait_for_message(app, "no points of your own")
    assert app.page.get_by_label("Dataset", exact=True).input_value() == "toy_xor" and experiment.has_model


def test_draw_points_erase_one_use_them_and_train(new_session, screenshots):
    session = new_session()
    app, experiment = open_data_tab(session, "?epochs=100&lr=0.05")
    editor = app.page.locator(EDITOR)
    editor.get_by_role("button", name="Clear").click()
    app.page.wait_for_function(f"() => ({DRAWN_JS})() === 0")
    app.page.locator(EDITOR).scroll_into_view_if_needed()  # the clicks go to page coordinates

    def click(points, mode: str) -> None:
        editor.get_by_role("button", name=mode).click()
        for x, y in app.page.evaluate(TO_PAGE_JS, points):
            drawn = app.page.evaluate(DRAWN_JS)
            app.page.mouse.click(x, y)
            app.page.wait_for_function(f"(n) => ({DRAWN_JS})() !== n", arg=drawn)

    blue = [[0.1 + 0.07 * i, 0.2 + 0.1 * (i % 2)] for i in range(5)]
    red = [[0.6 + 0.07 * i, 0.7 + 0.1 * (i % 2)] for i in range(5)]
    click(blue[:1] + red[:1], "Class 0 (blue)")  # two blue points: one to erase
    editor.get_by_role("button", name="Use these points").click()
    assert "at least 2 points of each class" in wait_for_message(app, "Cannot use drawn points")
    assert experiment.dataset == "toy_easy"
    click(red[:1], "Erase")
    click(blue[1:], "Class 0 (blue)")
    click(red, "Class 1 (red)")
    assert app.page.evaluate(DRAWN_JS) == 10
    app.page.screenshot(path=str(screenshots / "data_editor_drawn_1366x768.png"))  # for the eye; not asserted
    editor.get_by_role("button", name="Use these points").click()
    assert "Drawn points: 10 points" in wait_for_message(app, "Drawn points: 10")
    app.wait_for_title("Drawn points \\(10 points\\)")
    data = experiment.data
    assert experiment.dataset == "csv" and list(data.labels).count(1) == 5
    np.testing.assert_allclose(np.sort(data.points[data.labels == 1, 0]), [r[0] for r in red], atol=0.01)
    np.testing.assert_allclose(np.sort(data.points[data.labels == 0, 1]), sorted(b[1] for b in blue), atol=0.01)
    app.click("Train")
    assert "drawn points" in app.wait_for_run_end(1)
    app.tab("Training")
    for _ in range(300):  # the runs table is redrawn at most every so often: wait for the run's row
        if "drawn points" in app.runs_text():
            break
        app.page.wait_for_timeout(200)
    assert "drawn points" in app.runs_text() and "csv" not in app.runs_text()
    assert experiment.trainer.dataset.points.shape == (10, 2)
    assert session.errors == []


def test_download_the_data_and_upload_it_back(new_session, tmp_path):
    app, experiment = open_data_tab(new_session(), "?dataset=moons&samples=80&test_share=0.5")
    with app.page.expect_download() as info:
        app.page.locator(EDITOR).get_by_role("button", name="Download the data as CSV").click()
    download = info.value
    assert download.suggested_filename == "moons.csv"
    path = tmp_path / "moons.csv"
    download.save_as(path)
    text = path.read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 80 and list(rows[0]) == ["x", "y", "label", "split"]
    assert sum(row["split"] == "train" for row in rows) == 40
    np.testing.assert_array_equal([[float(r["x"]), float(r["y"])] for r in rows], experiment.data.points)
    moons = experiment.data
    upload(app, "moons.csv", text)
    wait_for_message(app, "Your data from moons.csv: 80 points")
    assert experiment.dataset == "csv"
    for name in ("points", "labels", "train_index", "test_index"):
        np.testing.assert_array_equal(getattr(experiment.data, name), getattr(moons, name))


def test_screenshot_of_the_data_editor(new_session, screenshots):
    app, _ = open_data_tab(new_session(width=1366, height=900), "?dataset=toy_ring&samples=600")
    app.page.locator(EDITOR).scroll_into_view_if_needed()
    app.page.wait_for_timeout(1000)  # drawn: for the picture only, nothing is asserted on it
    app.page.screenshot(path=str(screenshots / "data_editor_1366x900.png"))
