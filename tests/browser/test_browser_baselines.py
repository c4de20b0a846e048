"""The Baselines tab in the served dashboard, in Debian's Chromium at 1366x768 (Playwright): the network's map
first and the five classifiers' with their test accuracies and table; the fit runs off the event loop (the page's
changes are handled meanwhile) and large data are fitted on a sample, said in the view. Every wait is a polled
condition; nothing asserts a duration. The screenshot goes to
out/screenshots/ (docs/baselines.png is a copy made by hand)."""

from __future__ import annotations

import time

import pytest

from dashboard.ui import factory as app_factory
from dashboard.ui.baselines_tab import BaselinesTab

pytestmark = pytest.mark.timeout(400)

XOR = "?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=300"
LABELS = ["Logistic regression", "Nearest neighbours", "RBF SVM", "Decision tree", "Random forest"]
TITLES_JS = """() => Object.fromEntries([...Bokeh.documents[0].all_models]
  .filter(m => m.type === 'Figure' && (m.name || '').startsWith('nnp-baseline-'))
  .map(m => [m.name.slice('nnp-baseline-'.length), m.title.text]))"""


def the_tab(experiment) -> BaselinesTab:
    """The session's Baselines tab, found among the views that watch its experiment."""
    watchers = experiment.param.watchers["data"]["value"]
    (tab,) = {id(w.fn.__self__): w.fn.__self__ for w in watchers
              if isinstance(getattr(w.fn, "__self__", None), BaselinesTab)}.values()
    return tab


def wait_until(condition, app, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition never held")
        app.page.wait_for_timeout(100)


def test_baselines_beside_the_network_fitted_off_the_loop(new_session, screenshots):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    session = new_session(width=1366, height=768)
    app = session.app.open(XOR)
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    app.click("Train")
    app.wait_for_run_end(1)
    app.tab("Baselines")
    app.wait_for_title("^Random forest: test ")
    app.wait_for_title("^Network 8,8 relu: test ")
    tab = the_tab(experiment)
    titles = app.page.evaluate(TITLES_JS)
    assert titles["network"] == f"Network 8,8 relu: test {100 * experiment.evaluation.test_accuracy:.1f}%"
    for result, label in zip(tab.fitted.results, LABELS):
        assert titles[result.name] == f"{label}: test {100 * result.test_accuracy:.1f}%"
    table = app.text_of("nnp-baselines-table")
    assert table.startswith("classifier inputs train test target seconds settings Network 8,8 relu x, y")
    assert all(label in table for label in LABELS)
    assert app.text_of("nnp-baselines-note").startswith("Fitted on 3,000 training points; tested on 1,000")
    app.page.locator(".nnp-busy").wait_for(state="hidden", timeout=120_000)
    app.page.mouse.move(1360, 760)
    app.page.wait_for_timeout(1000)  # drawn: for the picture only
    app.page.screenshot(path=str(screenshots / "baselines_1366x768.png"))

    # Many points: fitted on a sample, in a thread; a change made meanwhile is handled before the fit ends.
    seen = []
    experiment.param.watch(lambda event: seen.append(tab._fitting), "epochs")
    app.fill("Points", 40000)
    app.page.get_by_text("Fitting five classifiers on 30,000 training points").wait_for(timeout=60_000)
    app.fill("Epochs", 123)
    wait_until(lambda: experiment.epochs == 123, app)
    assert seen == [True]  # the server handled the change while the classifiers were being fitted
    app.page.get_by_text("Fitted on 5,000 training points of 30,000 (a random sample").wait_for(timeout=180_000)
    assert app.page.evaluate(TITLES_JS)["network"] == "Network: not trained yet"  # new data: no model
    assert session.errors == [] and session.outside == []
