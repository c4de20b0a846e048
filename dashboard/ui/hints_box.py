"""The hints about the last run (engine.hints' table), under the message: each says what it sees, with its numbers,
and has a button "Try it: <variant>" that trains the variant from the same seed, then opens Compare on the pair.

Hints are worked out when a run ends (the hidden units are read then, once). While a run trains, the rules that
need only the history (a loss that rose and stayed up) are checked at most every LIVE_INTERVAL seconds.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import panel as pn
import param

from engine.hints import Case, Hint, hints
from engine.settings import GROUPED, SPECS

from ..session.experiment import Experiment
from .parts import Throttle, on_loop

LIVE_INTERVAL = 1.0  # seconds between two live checks of the history
HINT_CSS = """
:host { font-size: 13px; }
.nnp-hint { background: #fff4e0; border: 1px solid #f5cf8a; border-radius: 4px; padding: 3px 10px; color: #6b4400; }
"""


class HintsBox(pn.viewable.Viewer):
    """The hints of one experiment's last run, each with its Try-it button; `open_compare((a, b))` shows runs a and b
    in the Compare tab once the variant's run has ended."""

    hints = param.List(default=[], doc="The hints shown (engine.hints.Hint), in the table's order.")

    def __init__(self, experiment: Experiment, open_compare: Callable[[tuple[int, int]], None] | None = None,
                 **params) -> None:
        super().__init__(**params)
        self.experiment = e = experiment
        self.open_compare = open_compare
        self.column = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["nnp-hints"])
        self._about = None  # the settings of the run the hints are about
        self._run: int | None = None  # its number
        self._waiting: tuple[int, int] | None = None  # (the run, its variant's run) to compare when that ends
        self._live = Throttle(LIVE_INTERVAL, self._check_live)
        e.param.watch(self._on_state, ["state", "has_model"])
        e.param.watch(self._on_history, ["history"])
        self.param.watch(self._show, ["hints"])
        self._on_state()

    @on_loop
    def _on_state(self, *events) -> None:
        e = self.experiment
        if e.state == "training" and self._run is not None:
            self._about, self._run, self.hints = None, None, []  # a new run: the last one's hints are done with
        if e.state != "idle":
            return
        trainer, waiting, self._waiting = e.trainer, self._waiting, None
        if trainer is None or not e.has_model or not e.runs:
            self._about, self._run, self.hints = None, None, []
            return
        run = e.runs[-1]
        self._about, self._run = trainer.settings, run["run"]
        self.hints = hints(Case.of(trainer, e.history, run["ended"]))
        if waiting is not None and waiting[1] in e.results and waiting[0] in e.results and self.open_compare:
            self.open_compare(waiting)

    def _on_history(self, *events) -> None:
        if self.experiment.state == "training":
            self._live()

    @on_loop
    def _check_live(self) -> None:
        e = self.experiment
        if e.state != "training" or e.trainer is None or not e.history.epoch:
            return
        found = hints(Case(e.trainer.settings, e.history, e.data, "running"), live=True)
        if [hint.name for hint in found] != [hint.name for hint in self.hints]:
            self.hints = found

    def try_variant(self, hint: Hint) -> None:
        """Train the hint's variant: the settings of the run it is about (same seed) with the variant's changes."""
        e, about, previous = self.experiment, self._about, self._run
        if about is None or e.state != "idle":
            return
        values = {name: getattr(about, name) for name in GROUPED
                  if SPECS[name].part == "training" and getattr(e, name) != getattr(about, name)}
        if e.set_values({**values, **hint.variant}):
            return  # refused: the message says why
        e.train()
        if e.runs and e.runs[-1]["run"] != previous:
            self._waiting = (previous, e.runs[-1]["run"])

    @on_loop
    def _show(self, *events) -> None:
        rows = []
        for hint in self.hints:
            button = pn.widgets.Button(label=f"Try it: {hint.variant_text()}", button_type="primary",
                                       button_style="outline", margin=(2, 0, 2, 8), css_classes=["nnp-try"],
                                       disabled=self._about is None)  # a live hint: after the run
            button.on_click(lambda event, hint=hint: self.try_variant(hint))
            text = pn.pane.HTML(f'<div class="nnp-hint">{html.escape(hint.message)}</div>', stylesheets=[HINT_CSS],
                                sizing_mode="stretch_width", margin=0)
            rows.append(pn.Row(text, button, sizing_mode="stretch_width", margin=(1, 5), css_classes=["nnp-hint-row"]))
        self.column.objects = rows

    def messages(self) -> set[str]:
        return {hint.message for hint in self.hints}

    def __panel__(self) -> pn.Column:
        return self.column
