"""The decision map's view toggles and the learning-rate schedule, in the served app in Debian's Chromium."""

from __future__ import annotations

import re

import pytest

from dashboard.ui import factory as app_factory
from tools.chromium import epoch_of

pytestmark = pytest.mark.timeout(240)

# What the page's Bokeh models hold, read in the browser: what it draws.
MARKS_JS = """(which) => {
  const doc = Bokeh.documents[0];
  const count = (kind) => doc.get_model_by_name(`decision-map-${which}-${kind}`).data.x.length;
  const marks = doc.get_model_by_name(`decision-map-${which}-right-marks`);
  return {right: count('right'), wrong: count('wrong'), visible: marks.visible};
}"""
IMAGE_JS = """() => [...new Set(Bokeh.documents[0].get_model_by_name('decision-map-image').data.image[0])]"""
FIGURES_JS = """() => Object.fromEntries([...Bokeh.documents[0].all_models]
  .filter(m => m.type === 'Figure' && m.title).map(m => [m.title.text, m.visible]))"""


LABELS = {"discretize": "Discretize output", "show_test": "Show test points", "mark_wrong": "Mark wrong points",
          "show_target": "Show exact target"}


def toggle(app, option: str) -> None:
    app.page.get_by_text(LABELS[option], exact=True).click()  # the label, as a user clicks it


def test_view_toggles_change_what_the_decision_map_shows(new_session):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    app = new_session().app.open("?dataset=toy_ring&samples=400&hidden=&lr=0.05&epochs=100")
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    test_count = len(experiment.data.test_index)
    app.click("Train")
    app.wait_for_run_end(1)  # no hidden layer: a straight line cannot cut out a ring, so some points are wrong
    wrong = int((~experiment.evaluation.test_correct).sum())
    assert wrong > 0
    page = app.page
    page.wait_for_function(f"() => ({MARKS_JS})('test').wrong === {wrong}", polling=200, timeout=30_000)
    marks = page.evaluate(MARKS_JS, "test")
    assert marks["right"] + marks["wrong"] == test_count and marks["visible"]
    assert len(page.evaluate(IMAGE_JS)) > 2  # probabilities: many shades

    toggle(app, "discretize")
    page.wait_for_function(f"() => ({IMAGE_JS})().every(v => v === 0 || v === 1)", polling=200, timeout=30_000)
    app.wait_for_title("^Model at epoch \\d+: predicted class regions$")

    toggle(app, "show_test")
    page.wait_for_function(f"() => !({MARKS_JS})('test').visible", polling=200, timeout=30_000)
    assert page.evaluate(MARKS_JS, "train")["visible"]

    toggle(app, "mark_wrong")
    page.wait_for_function(f"() => ({MARKS_JS})('train').wrong === 0", polling=200, timeout=30_000)
    assert page.evaluate(MARKS_JS, "train")["right"] == len(experiment.data.train_index)

    assert page.evaluate(FIGURES_JS)["Exact target: " + f"{100 * experiment.grid.agreement:.1f}% agreement"]
    toggle(app, "show_target")
    page.wait_for_function(
        f"() => Object.entries(({FIGURES_JS})()).some(([t, v]) => t.startsWith('Exact target') && !v)",
        polling=200,
        timeout=30_000,
    )

    toggle(app, "mark_wrong")  # back on: the crosses return where the model is wrong
    train_wrong = int((~experiment.evaluation.train_correct).sum())
    page.wait_for_function(f"() => ({MARKS_JS})('train').wrong === {train_wrong}", polling=200, timeout=30_000)
    assert experiment.history.epoch[-1] == 100  # the toggles changed the view, not the experiment


def test_cosine_schedule_shows_the_rate_and_keeps_it_through_a_pause(new_session):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    app = new_session().app.open("?dataset=toy_xor&hidden=8,8&lr=0.05&epochs=3000")
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    app.select("Rate schedule", "cosine")
    app.page.wait_for_url(re.compile(r"schedule=cosine"))
    app.click("Train")
    status = app.wait_for_epoch(200)
    assert re.search(r"\| lr = \d\.\d\de-0\d$", status), status
    app.click("Pause")
    app.wait_for_state("paused")
    paused_at = epoch_of(app.status())[0]
    app.click("Resume")
    app.wait_for_epoch(paused_at + 20)
    assert "run 1" in app.state_text().lower()
    app.click("Fastest")  # the rest of the schedule flat out: a speed change keeps the run and its schedule
    assert "finished" in app.wait_for_run_end(1, timeout=200)
    rates = experiment.history.lr
    assert len(rates) == 3000 and rates[0] == 0.05
    assert all(a >= b for a, b in zip(rates, rates[1:])), "the schedule restarted after the pause"
    shown = float(re.search(r"lr = (\S+)$", app.status())[1])
    assert shown == pytest.approx(rates[-1], rel=0.01) and shown < 1e-6
