"""The live curves, headless: one legend item per run drawn, each with rows to draw its marker from."""

from __future__ import annotations

from dashboard.plots.live_curves import SLOTS, Curves
from engine import Settings, Trainer


def shown_items(curves: Curves, name: str) -> dict[str, int]:
    """Visible legend items: label and the fewest rows among its renderers (Bokeh draws the marker from row 0)."""
    return {item.label.value: min(len(r.data_source.data["epoch"]) for r in item.renderers)
            for item in curves.legends[name].items if item.visible}


def test_each_run_has_one_legend_item_with_its_lines_and_rows():
    trainer = Trainer(Settings(dataset="toy_xor", samples=200, hidden=(3,), epochs=6))
    curves = Curves()
    assert shown_items(curves, "loss") == {} and len(curves.legends["loss"].items) == SLOTS
    trainer.train()
    curves.update(trainer.history)
    trainer.train(epochs=4)
    curves.update(trainer.history)
    for name in ("loss", "accuracy"):
        assert shown_items(curves, name) == {"run 1": 6, "run 2": 4}
        for item in curves.legends[name].items[:2]:  # training solid, test dashed, in the run's colour
            solid, dashed = (r.glyph for r in item.renderers)
            assert solid.line_dash == [] and dashed.line_dash == [6] and solid.line_color == dashed.line_color
    curves.clear()
    assert shown_items(curves, "accuracy") == {}


def test_more_runs_than_slots_get_lines_added():
    trainer = Trainer(Settings(dataset="toy_xor", samples=200, hidden=(3,), epochs=2))
    curves = Curves()
    for _ in range(SLOTS + 2):
        trainer.train()
        curves.update(trainer.history)
    assert shown_items(curves, "loss") == {f"run {number}": 2 for number in range(1, SLOTS + 3)}
    assert len(curves.legends["accuracy"].items) == 2 * SLOTS  # one more batch of slots
