"""The served dashboard in Debian's Chromium, driven by Playwright.

Every wait is a condition polled with a generous timeout (the machine may be slow and busy); nothing asserts a
duration. Screenshots at 1366x768 and 1920x1080 go to out/screenshots/ (or $NNP_SCREENSHOTS).
"""

from __future__ import annotations

import re
import time

import pytest

from dashboard.ui import factory as app_factory
from tools.chromium import epoch_of

pytestmark = pytest.mark.timeout(240)

XOR_PRESET = "?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=1500"
LONG = 1_000_000


def experiment_of(before: set[int]):
    (experiment,) = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    return experiment


def test_page_loads_with_no_outside_requests_and_no_console_errors(new_session):
    session = new_session()
    app = session.app.open()
    assert app.status().startswith("No epoch trained yet")
    app.page.get_by_role("button", name="Train", exact=True).wait_for()
    app.tab("Evaluation")
    app.tab("Data")
    app.page.wait_for_timeout(500)  # let the tabs render before looking at the log
    assert session.outside == [], f"requests beyond localhost: {session.outside}"
    assert session.errors == [], session.errors


def test_train_xor_shows_live_updates_and_learns_it(new_session):
    session = new_session()
    app = session.app.open("?lr=0.01&epochs=1500")
    app.select("Dataset", "toy_xor")
    app.fill("Hidden layers", "8,8")
    app.page.wait_for_url(re.compile(r"dataset=toy_xor.*hidden=8,8"))  # the settings reached the server
    status_before, maps_before = len(app.status_changes()), len(app.map_changes())
    app.click("Train")
    app.wait_for_run_end(1)
    shown = [(t, text) for t, text in app.status_changes()[status_before:] if epoch_of(text)]
    final_time, final = shown[-1]
    epoch, of = epoch_of(final)
    assert (epoch, of) == (1500, 1500)
    during = [text for _, text in shown if epoch_of(text)[0] < of]
    assert len(set(during)) >= 3, f"the status line changed only {len(set(during))} times while training"
    maps = [t for t in app.map_changes()[maps_before:] if t < final_time]
    assert len(maps) >= 3, f"the map changed only {len(maps)} times while training"
    test_accuracy = float(re.search(r"test acc = +([\d.]+)%", app.status())[1])
    assert test_accuracy >= 90.0, app.status()
    assert "finished" in app.state_text() and "toy_xor" in app.state_text()
    assert re.search(r"\b1 1 toy_xor 8, 8 relu 0.01 1-1500 finished", app.runs_text())
    assert session.errors == [] and session.outside == []


def test_continue_adds_run_2_to_the_curves_and_the_table(new_session):
    app = new_session().app.open(XOR_PRESET.replace("1500", "300"))
    app.click("Train")
    app.wait_for_run_end(1)
    assert app.legend() == ["run 1", "run 1"]  # loss and accuracy plots
    app.fill("Epochs", 200)
    app.click("Continue")
    app.wait_for_run_end(2)
    assert sorted(app.legend()) == ["run 1", "run 1", "run 2", "run 2"]
    table = app.runs_text()
    assert " 1-300 finished" in table and " 301-500 finished" in table
    assert app.status().startswith("Epoch 200/200")


def test_stop_ends_a_long_run_early(new_session):
    app = new_session().app.open(f"?dataset=toy_xor&hidden=8,8&epochs={LONG}")
    app.click("Train")
    app.wait_for_epoch(50)
    app.click("Stop")
    state = app.wait_for_run_end(1)
    assert "stopped" in state
    epoch, of = epoch_of(app.status())
    assert of == LONG and 50 <= epoch < LONG
    assert "Stopped after" in app.message()
    # Stopped means stopped: no more epochs arrive.
    app.page.wait_for_timeout(1000)
    assert epoch_of(app.status())[0] == epoch


def test_step_pause_and_resume(new_session):
    app = new_session().app.open("?dataset=toy_xor&hidden=8,8&epochs=3000&lr=0.01")
    app.click("Step")
    app.wait_for_state("paused")
    assert app.status().startswith("Epoch 01/3000")
    app.click("Step")
    app.wait_for_epoch(2)
    app.click("Resume")
    app.wait_for_epoch(100)
    app.click("Pause")
    app.wait_for_state("paused")
    paused_at = epoch_of(app.status())[0]
    app.click("Resume")
    app.wait_for_epoch(paused_at + 50)
    app.click("Stop")
    assert "stopped" in app.wait_for_run_end(1)  # one run throughout: steps, pauses and all
    assert app.runs_text().count(" toy_xor ") == 1


def test_url_preset_is_applied_and_a_bad_value_refused(new_session):
    app = new_session().app.open("?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=0")
    assert app.page.get_by_label("Dataset", exact=True).input_value() == "toy_xor"
    assert app.value("Hidden layers") == "8,8"
    assert float(app.value("Learning rate")) == 0.01
    assert app.value("Epochs") == "200"  # epochs=0 is refused, the default kept
    assert "Epochs" in app.message() and "refused" in app.message()
    # The address now holds what was applied, and follows later changes.
    app.page.wait_for_url(re.compile(r"\?dataset=toy_xor&hidden=8,8&lr=0.01$"))
    app.fill("Learning rate", 0.02)
    app.page.wait_for_url(re.compile(r"lr=0.02"))


def test_out_of_range_typed_value_is_refused_and_the_last_valid_kept(new_session):
    app = new_session().app.open()
    app.fill("Learning rate", 20)
    app.page.get_by_text("Learning rate: 20 refused").wait_for()
    assert float(app.value("Learning rate")) == 0.005
    app.fill("Hidden layers", "8,300")
    app.page.get_by_text("'8,300' refused").wait_for()
    assert app.value("Hidden layers") == "4"


def test_diverging_run_says_so_and_keeps_its_curves(new_session):
    app = new_session().app.open("?dataset=toy_xor&hidden=64,64,64&optimizer=sgd&lr=10")
    app.click("Train")
    assert "diverged" in app.wait_for_run_end(1)
    assert "smaller learning rate" in app.message()
    assert app.legend() == ["run 1", "run 1"]  # the epochs before the blow-up stay drawn
    assert epoch_of(app.status())[0] > 0


def test_two_sessions_train_different_data_at_once_without_cross_talk(new_session):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    first = new_session().app.open("?dataset=toy_xor&hidden=8,8&lr=0.01&epochs=1500")
    second = new_session().app.open("?dataset=toy_ring&hidden=16,16&lr=0.01&epochs=1200")
    experiments = [e for e in list(app_factory.EXPERIMENTS) if id(e) not in before]
    assert sorted(e.dataset for e in experiments) == ["toy_ring", "toy_xor"]
    first.click("Train")
    second.click("Train")
    first.wait_for_epoch(100)
    second.wait_for_epoch(100)
    assert any(e.state == "training" for e in experiments), "the two runs did not overlap"
    first.wait_for_run_end(1)
    second.wait_for_run_end(1)
    assert "toy_xor" in first.state_text() and "toy_ring" not in first.runs_text()
    assert "toy_ring" in second.state_text() and "toy_xor" not in second.runs_text()
    assert first.status().startswith("Epoch 1500/1500") and second.status().startswith("Epoch 1200/1200")
    for experiment in experiments:
        assert len(experiment.history) == experiment.epochs


def test_closing_the_page_stops_its_training(new_session):
    before = {id(e) for e in app_factory.EXPERIMENTS}
    session = new_session()
    app = session.app.open(f"?epochs={LONG}")
    experiment = experiment_of(before)
    app.click("Train")
    app.wait_for_epoch(20)
    assert experiment.state == "training"
    worker = experiment._runner.worker
    session.close()
    deadline = time.monotonic() + 60  # the server drops a closed session a few seconds after its socket closes
    while worker.alive and time.monotonic() < deadline:
        time.sleep(0.2)
    # The training thread has ended, and the closed session let go of it (its views are not touched any more).
    assert not worker.alive and experiment._runner.worker is None


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_screenshots(new_session, screenshots, size):
    width, height = size
    app = new_session(width=width, height=height).app.open(XOR_PRESET.replace("1500", "400"))
    app.click("Train")
    app.wait_for_run_end(1)
    app.page.mouse.move(width - 5, height - 5)
    app.page.wait_for_timeout(500)
    app.page.screenshot(path=str(screenshots / f"training_{width}x{height}.png"))
    for tab, title in (("Evaluation", r"Test set \(unseen data\): [\d.]+% correct"), ("Data", "Test set: 1000 points")):
        app.tab(tab)
        app.wait_for_title(title)
        app.page.wait_for_timeout(1000)  # drawn: for the picture only, nothing is asserted on it
        app.page.screenshot(path=str(screenshots / f"{tab.lower()}_{width}x{height}.png"))
    # Everything important is inside the window: the status line, the Train button, the map.
    for locator in (app.page.get_by_role("button", name="Train", exact=True), app.page.locator(".nnp-status")):
        box = locator.bounding_box()
        assert box and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
