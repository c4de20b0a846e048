"""The Baselines tab: the network's decision map beside those of classic classifiers fitted on the same split
(`engine.baselines`), with their test accuracies and a table, as scikit-learn's classifier comparison shows them.

The classifiers are fitted in a worker thread (`parts.in_thread`: the page and every other session go on meanwhile)
when the tab is first opened and again whenever the data, the input features or the seed change; meanwhile the
maps say "fitting…" and the note shows a spinner. A fit whose data changed before it ended is not shown: the
classifiers are fitted again on the new data. The network's map follows the end of each run.
"""

from __future__ import annotations

import panel as pn

from engine.baselines import Baselines, fit_baselines, network_entry

from ..plots.baselines import (
    BASELINES_CSS,
    INTRO,
    NOTE_CSS,
    baselines_note,
    baselines_table,
    classifier_maps,
    network_map,
)
from ..session.experiment import Experiment
from .parts import LiveHTML, in_thread, on_loop

SPINNER = ('<span style="display:inline-block;width:10px;height:10px;margin-right:6px;border:2px solid #e0b84c;'
           'border-top-color:transparent;border-radius:50%;animation:nnp-spin 0.8s linear infinite"></span>')
SPIN_CSS = NOTE_CSS + "@keyframes nnp-spin { to { transform: rotate(360deg); } }"


class BaselinesTab(pn.viewable.Viewer):
    """Small maps (the network's first) titled with their test accuracy, a note on what was fitted, a table."""

    def __init__(self, experiment: Experiment, **params) -> None:
        super().__init__(**params)
        self.experiment = experiment
        self.panes = [pn.pane.HoloViews(None, margin=2) for _ in range(6)]
        self.note = LiveHTML("", SPIN_CSS, css_classes=["nnp-baselines-note"], margin=(2, 10))
        self.table = LiveHTML("", BASELINES_CSS, css_classes=["nnp-baselines-table"], margin=(6, 10))
        self.fitted: Baselines | None = None  # the classifiers shown (None while fitting)
        self._fitted_for = None  # the inputs (data, features, seed) of `fitted`
        self._fitting = False
        experiment.param.watch(self._inputs_changed, ["data", "features", "seed"])
        experiment.param.watch(self._network_changed, ["evaluation", "state"])
        self._show()
        pn.state.execute(self.refit)

    def _inputs(self) -> tuple:
        e = self.experiment
        return e.data, tuple(e.features), e.seed

    async def _inputs_changed(self, *events) -> None:
        await self.refit()

    async def refit(self) -> None:
        """Fit the classifiers on the current data in a thread, unless they already are; a fit already running
        fits again when it ends if the data changed meanwhile."""
        if self._fitting:
            return
        self._fitting = True
        try:
            while (inputs := self._inputs()) != self._fitted_for:
                self.fitted = None
                self._show()
                data, features, seed = inputs
                try:
                    fitted = await in_thread(fit_baselines, data, features, seed)
                except Exception as error:  # say it, and leave these inputs be until they change
                    self._fitted_for = inputs
                    self._show(f"The classifiers could not be fitted: {error}")
                    continue
                if self._inputs() == inputs:
                    self.fitted, self._fitted_for = fitted, inputs
                    self._show()
        finally:
            self._fitting = False

    def _network_changed(self, *events) -> None:
        if self.experiment.state != "training":  # the map follows each run's end, not every epoch
            self._show_network()

    def network(self) -> dict | None:
        """The network's row (None without a trained model), with the settings it was trained with."""
        e = self.experiment
        trainer = e.trainer
        if e.evaluation is None or e.grid is None or trainer is None:
            return None
        return network_entry(trainer.settings, e.evaluation.train_accuracy, e.evaluation.test_accuracy,
                             e.grid.agreement, trainer.epochs_done)

    @on_loop
    def _show_network(self) -> None:
        network = self.network()
        self.panes[0].object = network_map(self.experiment.data, self.experiment.grid if network else None, network)
        if self.fitted is not None:
            self.table.content = baselines_table(self.fitted, network)

    @on_loop
    def _show(self, problem: str = "") -> None:
        e, fitted = self.experiment, self.fitted
        network = self.network()
        self.panes[0].object = network_map(e.data, e.grid if network else None, network)
        for pane, view in zip(self.panes[1:], classifier_maps(e.data, fitted)):
            pane.object = view
        if problem:
            self.note.content = problem
        elif fitted is None:
            self.note.content = f"{SPINNER}Fitting five classifiers on {len(e.data.train_index):,} training points…"
        else:
            self.note.content = baselines_note(fitted)
        self.table.content = "" if fitted is None else baselines_table(fitted, network)

    def __panel__(self) -> pn.Column:
        intro = pn.pane.Markdown(INTRO,
                                 sizing_mode="stretch_width", margin=(0, 10), styles={"font-size": "13px"})
        maps = pn.FlexBox(*self.panes, flex_wrap="wrap", gap="0px", sizing_mode="stretch_width", margin=0)
        return pn.Column(intro, self.note, maps, self.table, name="Baselines", sizing_mode="stretch_width",
                         margin=0)
