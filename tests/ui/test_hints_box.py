"""Issue 22 item 1 in the app, without a browser: the hints under the message when a run ends, the Try-it button
training the variant from the same seed and opening Compare on the pair, and a live hint while training."""

from __future__ import annotations

import time

from dashboard.ui import factory as app_factory
from engine import Settings, Trainer


def buttons(box) -> dict:
    return {row[1].label: row[1] for row in box.column.objects}


def test_a_run_s_hints_and_try_it_trains_the_variant_and_compares_the_pair():
    app = app_factory.create_app()
    e, header, tabs = app.experiment, app.status_area, app.tabs
    try:
        e.train()  # the lesson's defaults: the majority baseline, 3 of 4 ReLUs dead
        e.wait(60)
        box = header.hints
        assert [hint.name for hint in box.hints] == ["majority", "dead_relu"]
        assert e.message == box.hints[0].message and header.message.text == ""  # said once, by the hint
        assert list(buttons(box)) == ["Try it: hidden layers 8, learning rate 0.02", "Try it: activation leaky_relu"]
        e.set_values({"lr": 0.03})  # a change after the run: the variant is of the run's settings
        buttons(box)["Try it: activation leaky_relu"].clicks += 1
        e.wait(60)
        assert [run["run"] for run in e.runs] == [1, 2] and e.runs[1]["activation"] == "leaky_relu"
        reference = Trainer(Settings(activation="leaky_relu"))  # same seed, the run's lr
        reference.train()
        assert e.history.loss == reference.history.loss
        assert tabs.built("Compare").compared == [1, 2] and tabs.tabs.active == 3
        assert [hint.name for hint in box.hints] == ["majority"]  # the variant's own hints
    finally:
        e.close()


def test_a_loss_that_rose_and_stayed_up_is_named_while_training():
    app = app_factory.create_app()
    e, box = app.experiment, app.status_area.hints
    try:
        e.set_values(dict(dataset="toy_xor", hidden=(8, 8), activation="tanh", optimizer="sgd", lr=5.0, epochs=400))
        e.speed = "normal"  # 0.02 s an epoch at least: the run lasts a few live checks
        e.train()
        seen, deadline = [], time.monotonic() + 120  # liveness only
        while e.state == "training" and time.monotonic() < deadline and not seen:
            e.poll()
            seen = [hint for hint in box.hints if e.state == "training"]
            time.sleep(0.05)
        assert [hint.name for hint in seen] == ["unstable"] and buttons(box)["Try it: learning rate 0.5"].disabled
        e.stop()
        e.wait(60)
        assert "unstable" in [hint.name for hint in box.hints]
        assert not buttons(box)["Try it: learning rate 0.5"].disabled  # tried after the run
    finally:
        e.close()
