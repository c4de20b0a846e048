"""The Compare tab and Save / Load experiment in the served dashboard, in Debian's Chromium (Playwright).

Every wait is a condition polled with a generous timeout; nothing asserts a duration. The Compare tab's
screenshot goes to out/screenshots/ (or $NNP_SCREENSHOTS).
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from dashboard.session.comparison import compare
from dashboard.ui import factory as app_factory
from engine.storage import load_experiment_archive

pytestmark = pytest.mark.timeout(300)

XOR = "?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=300"

# What the Compare tab's Bokeh models hold (found by the names plots/compare.py's hooks give the HoloViews plots'
# figures and sources): titles, legend labels and curve lengths.
COMPARE_JS = """() => {
  const doc = Bokeh.documents[0];
  const named = (name) => { const found = [...doc.all_models].filter(m => m.name === name);
                            return found.length === 1 ? found[0] : null; };
  const title = (name) => { const m = named(name); return m ? m.title.text : null; };
  const curves = (side) => { const s = named('nnp-compare-curves-' + side); return s ? s.data : null; };
  const a = curves('a'), b = curves('b');
  return {a: title('nnp-compare-a'), b: title('nnp-compare-b'), diff: title('nnp-compare-diff'),
          curves: [a ? [...a.run].length : 0, b ? [...b.run].length : 0],
          runs: [a && a.run.length ? a.run[0] : null, b && b.run.length ? b.run[0] : null],
          first: [a && a.epoch.length ? a.epoch[0] : null, b && b.epoch.length ? b.epoch[0] : null],
          count: [...doc.all_models].filter(m => m.name === 'nnp-compare-a').length};
}"""


def experiment_of(before: set[int]):
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    return experiment


def new_experiment_page(new_session, query: str = ""):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    session = new_session()
    app = session.app.open(query)
    return session, app, experiment_of(before)


def pick(app, label: str, run: int) -> None:
    """Choose `run` in the Select labelled `label` (its options read 'run N: ...')."""
    select = app.page.get_by_label(label, exact=True)
    option = select.locator("option", has_text=re.compile(rf"^run {run}:")).text_content()
    select.select_option(label=option)


def wait_for_compare(app, a: int, b: int) -> dict:
    """What the tab shows once both maps, the disagreement and both runs' curves are those of runs a and b (each
    plot arrives in its own message: wait for all of them, and for the replaced plots to be gone)."""
    app.page.wait_for_function(
        "([a, b]) => { const d = Bokeh.documents[0];"
        " const one = (n) => { const m = [...d.all_models].filter(m => m.name === n);"
        "   return m.length === 1 ? m[0] : null; };"
        " const t = (n) => { const m = one(n); return m ? m.title.text : ''; };"
        " const run = (side) => { const s = one('nnp-compare-curves-' + side);"
        "   return s && s.data.run.length ? s.data.run[0] : ''; };"
        " return t('nnp-compare-a').startsWith('Run ' + a + ':') && t('nnp-compare-b').startsWith('Run ' + b + ':')"
        "   && t('nnp-compare-diff').startsWith('Disagreement')"
        "   && run('a') === 'run ' + a && run('b') === 'run ' + b; }",
        arg=[a, b],
        timeout=60_000,
        polling=100,
    )
    return app.page.evaluate(COMPARE_JS)


def test_compare_tab_without_two_runs_shows_a_note_and_no_axes(new_session, screenshots):
    session, app, experiment = new_experiment_page(new_session, XOR)
    app.tab("Compare")
    app.page.get_by_text("Train at least two runs").wait_for(timeout=60_000)
    count = app.page.evaluate("() => [...Bokeh.documents[0].all_models].filter(m => m.type === 'Figure'"
                              " && (m.name || '').startsWith('nnp-compare')).length")
    assert count == 0
    app.page.wait_for_timeout(500)  # drawn: for the picture only
    app.page.screenshot(path=str(screenshots / "compare_empty_1366x768.png"))
    assert session.errors == [] and session.outside == []


def test_compare_two_runs_of_different_settings(new_session, screenshots):
    session, app, experiment = new_experiment_page(new_session, XOR)
    app.click("Train")
    app.wait_for_run_end(1)
    app.fill("Hidden layers", "4")  # another network: a new model
    app.click("Train")
    app.wait_for_run_end(2)
    app.fill("Epochs", 100)
    app.click("Continue")
    app.wait_for_run_end(3)
    app.tab("Compare")

    # By default the last two runs.
    default = "run 2: toy_xor, hidden 4, relu, adam lr 0.01, 300 epochs"
    assert app.page.get_by_label("Run A", exact=True).input_value() == default
    shown = wait_for_compare(app, 2, 3)
    assert shown["curves"] == [300, 100] and shown["first"] == [1, 1]  # each run over its own epochs
    assert shown["count"] == 1  # the plots of the first comparison were replaced, not added

    pick(app, "Run A", 1)
    pick(app, "Run B", 2)
    shown = wait_for_compare(app, 1, 2)
    results = experiment.results
    share = compare(results[1], results[2]).share
    assert 0 < share < 1
    assert shown["diff"] == f"Disagreement: {100 * share:.1f}% of the grid"
    runs = {row["run"]: row for row in experiment.runs}
    for title, number in ((shown["a"], 1), (shown["b"], 2)):
        assert title == f"Run {number}: test accuracy {runs[number]['test acc %']:.1f}%"
    assert shown["runs"] == ["run 1", "run 2"] and shown["curves"] == [300, 300]
    table = app.text_of("nnp-compare-table")
    assert "hidden layers 8, 8 4" in table and "parameters 105 17" in table and "ms" in table
    assert f"They predict different classes on {100 * share:.1f}% of the grid" in app.text_of("nnp-compare-note")

    app.page.set_viewport_size({"width": 1366, "height": 1300})  # tall: the whole tab in the picture
    app.page.mouse.move(1360, 1290)
    app.page.wait_for_timeout(1000)  # drawn: for the picture only, nothing is asserted on it
    app.page.screenshot(path=str(screenshots / "compare_1366x1300.png"))
    assert session.errors == [] and session.outside == []


def test_save_then_load_in_a_new_session_and_continue_identically(new_session, tmp_path):
    first, app, original = new_experiment_page(new_session, XOR.replace("300", "200"))
    save = app.page.get_by_role("button", name="Save experiment")
    assert save.is_disabled()  # no model yet
    app.click("Train")
    app.wait_for_run_end(1)
    with app.page.expect_download() as download:
        save.click()
    path = tmp_path / "saved.zip"
    download.value.save_as(path)
    data = path.read_bytes()
    assert {"settings.json", "weights.pt"} <= set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    saved = load_experiment_archive(data)
    assert saved.history.loss == original.history.loss and saved.epochs_done == 200

    second, loaded_app, loaded = new_experiment_page(new_session)  # a new browser context: a new session
    loaded_app.page.locator(".nnp-load input[type=file]").set_input_files(path)
    loaded_app.wait_for_run_end(1)
    assert loaded_app.status() == app.status()
    assert loaded_app.value("Hidden layers") == "8,8" and float(loaded_app.value("Learning rate")) == 0.01
    assert loaded_app.page.get_by_label("Dataset", exact=True).input_value() == "toy_xor"
    row = re.compile(r"\b1 1 toy_xor 8, 8 relu 0.01 1-200 finished")
    assert row.search(loaded_app.runs_text()) and row.search(app.runs_text())
    loaded_app.page.get_by_text("Loaded Toy dataset: XOR: 1 run(s), 200 epochs").wait_for()
    assert loaded_app.legend()[:2] == ["run 1", "run 1"]

    for page in (app, loaded_app):  # both go on 100 epochs: the same numbers
        page.fill("Epochs", 100)
        page.click("Continue")
        page.wait_for_run_end(2)
    assert loaded_app.status().startswith("Epoch 100/100") and loaded_app.status() == app.status()
    assert "201-300 finished" in loaded_app.runs_text()
    assert loaded.history.loss == original.history.loss and len(loaded.history) == 300
    # The same file again: the saved model once more, as a new run after those of this session.
    loaded_app.page.locator(".nnp-load input[type=file]").set_input_files(path)
    loaded_app.wait_for_run_end(3)
    assert "3 2 toy_xor 8, 8 relu 0.01 1-200 finished" in loaded_app.runs_text()
    assert len(loaded.history) == 200 and loaded.history.loss == saved.history.loss
    assert first.errors == [] and second.errors == []


def test_loading_a_bad_file_says_so_and_changes_nothing(new_session, tmp_path):
    session, app, experiment = new_experiment_page(new_session, XOR.replace("300", "50"))
    app.click("Train")
    app.wait_for_run_end(1)
    status, runs = app.status(), app.runs_text()
    bad = tmp_path / "not-an-experiment.zip"
    bad.write_bytes(b"this is not a zip file")
    app.page.locator(".nnp-load input[type=file]").set_input_files(bad)
    app.page.get_by_text("Cannot load this file").wait_for()
    assert "Nothing was changed" in app.message()
    assert app.status() == status and app.runs_text() == runs and experiment.has_model
    assert app.value("Hidden layers") == "8,8"
