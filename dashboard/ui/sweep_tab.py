"""The Sweep tab: vary one or two settings of the current experiment over a few values, with a few seeds, and read a
heatmap of the chosen metric that fills in as models finish; click a cell to train that model.

The sweep trains in a thread (`session.sweep_run.SweepRun`, whose limits apply); a periodic callback collects its
results every `POLL_MS` into the plots, the progress bar and the table, so nothing on the loop waits for training.
One sweep at a time per session; Stop keeps the models that finished, and closing the session stops it (`close`).
"""

from __future__ import annotations

import io

import holoviews as hv
import panel as pn
import param

from engine.lessons import QUESTIONS, LessonQuestion
from engine.setting_types import SettingsError
from engine.settings import SPECS

from ..plots.sweep import (
    METRICS,
    SWEEP_TABLE_CSS,
    answer,
    sweep_grid,
    sweep_heatmap,
    sweep_spread,
    sweep_table_html,
)
from ..session.experiment import SETTINGS, Experiment
from ..session.sweep_run import (
    AXES,
    EXAMPLES,
    MAX_MODELS,
    MAX_SEEDS,
    SweepRun,
    build_sweep,
    check_limits,
    values_text,
)
from .parts import MessageBox, in_thread

POLL_MS = 300
NONE = "(none)"
INTRO = (f"Vary one or two settings of the current experiment (the sidebar's settings are the base), train every "
         f"combination with a few seeds (weight seeds 0, 1, ...), and read the heatmap; click a cell to train that "
         f"model in the Training tab (with its best seed). Values are separated by spaces; a list keeps its commas: "
         f"`4 8 8,8` is three hidden-layer choices. At most {MAX_MODELS} models per sweep, one sweep at a time. "
         f"Or ask one of the lesson's questions: one click sets the sidebar, the axes and the seeds, and runs it.")


def _options() -> dict:
    return {f"{SPECS[name].label} ({name})": name for name in AXES}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "..."
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class SweepTab(pn.viewable.Viewer):
    """The Sweep tab of one experiment (one per session)."""

    metric = param.Selector(default="test_accuracy", objects={label: key for key, (label, *_) in METRICS.items()})

    def __init__(self, experiment: Experiment, **params) -> None:
        params.setdefault("name", "Sweep")  # the tab's title
        super().__init__(**params)
        self.experiment = experiment
        self.run: SweepRun | None = None
        self._callback = None
        self._grid = None
        self.question: LessonQuestion | None = None  # the lesson question the running or last sweep answers
        self.lesson_buttons = {key: pn.widgets.Button(label=q.title, description=q.question, color="primary",
                                                      variant="outline", width=140, margin=(2, 4))
                               for key, q in QUESTIONS.items()}
        options = _options()
        axis2 = {NONE: NONE, **options}
        self.axis1 = pn.widgets.Select(label="Vary", options=options, value="lr", width=220)
        self.values1 = pn.widgets.TextInput(label="Values", value=EXAMPLES["lr"], width=260)
        self.axis2 = pn.widgets.Select(label="and vary", options=axis2, value="hidden", width=220)
        self.values2 = pn.widgets.TextInput(label="and values", value=EXAMPLES["hidden"], width=260)
        self.seeds = pn.widgets.IntInput(label="Seeds", value=3, start=1, end=MAX_SEEDS, width=90)
        self.epochs = pn.widgets.IntInput(label="Epochs per model", value=experiment.epochs, start=1, width=130)
        self.metric_select = pn.widgets.Select.from_param(self.param.metric, label="Metric", width=180)
        self.run_button = pn.widgets.Button(label="Run sweep", color="primary", width=110, margin=(24, 5, 5, 5))
        self.stop_button = pn.widgets.Button(label="Stop sweep", color="light", width=110, disabled=True,
                                             margin=(24, 5, 5, 5))
        self.progress = pn.indicators.Progress(label="Sweep progress", value=0, max=1, width=320, bar_color="primary",
                                               margin=(12, 5, 5, 5))
        self.progress_text = pn.pane.Str("No sweep yet.", css_classes=["nnp-sweep-progress"], margin=(8, 5))
        self.note = MessageBox()
        self.heatmap = pn.pane.HoloViews(None, margin=5, css_classes=["nnp-sweep-heatmap"])
        self.spread = pn.pane.HoloViews(None, margin=5)
        self.table = pn.pane.HTML("", stylesheets=[SWEEP_TABLE_CSS], css_classes=["nnp-sweep-table"],
                                  sizing_mode="stretch_width", styles={"max-height": "420px", "overflow-y": "auto"})
        self.csv_download = pn.widgets.FileDownload(
            callback=self._csv, filename="nn-playground-sweep.csv", label="Download results (CSV)", embed=False,
            disabled=True, width=220, variant="outline")
        self.report_download = pn.widgets.FileDownload(
            callback=self._report, filename="nn-playground-sweep.html", label="Download sweep report", embed=False,
            disabled=True, width=220, variant="outline", color="primary")
        self._pipe = self._tap = None
        self.axis1.param.watch(lambda event: self._example(self.values1, event.new), "value")
        self.axis2.param.watch(lambda event: self._example(self.values2, event.new), "value")
        self.run_button.on_click(lambda event: self.start())
        for key, button in self.lesson_buttons.items():
            button.on_click(lambda event, key=key: self.ask(key))
        self.stop_button.on_click(lambda event: self.stop())
        self.param.watch(lambda event: self._redraw(new_plots=True), "metric")
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda context: self.close())

    @staticmethod
    def _example(box, name: str) -> None:
        box.value = EXAMPLES.get(name, "")
        box.disabled = name == NONE

    # ----- running -----
    def axes(self) -> dict[str, str]:
        axes = {self.axis1.value: self.values1.value}
        if self.axis2.value != NONE:
            if self.axis2.value == self.axis1.value:
                raise SettingsError("choose two different settings to vary (or (none) for the second)")
            axes[self.axis2.value] = self.values2.value
        return axes

    def ask(self, key: str) -> bool:
        """Answer a lesson question: its base settings into the sidebar, its axes, seeds and epochs into the
        tab's inputs, and its sweep started (False, with a message, if refused)."""
        question = QUESTIONS[key]
        base = question.settings()
        if self.run is not None and self.run.running:
            self._say("A sweep is already running in this session: wait for it, or stop it first.", "warning")
            return False
        if self.experiment.set_values({name: getattr(base, name) for name in SETTINGS}):
            self._say("The question's settings could not all be used: " + self.experiment.message, "warning")
            return False
        names = list(question.axes)
        self.axis1.value, self.values1.value = names[0], values_text(names[0], question.axes[names[0]])
        self.axis2.value = names[1] if len(names) > 1 else NONE
        if len(names) > 1:
            self.values2.value = values_text(names[1], question.axes[names[1]])
        self.seeds.value, self.epochs.value = question.seeds, base.epochs
        started = self.start()
        self.question = question if started else None
        if started:
            self._say(f"{question.question} {question.reading}", "info")
        return started

    def start(self) -> bool:
        """Check the sweep and start it (False, with a message, if refused)."""
        if self.run is not None and self.run.running:
            self._say("A sweep is already running in this session: wait for it, or stop it first.", "warning")
            return False
        try:
            sweep = build_sweep(self.experiment.settings(), self.axes(), int(self.seeds.value or 1),
                                int(self.epochs.value or 1))
        except (SettingsError, ValueError) as error:
            self._say(f"Sweep refused: {error}", "warning")
            return False
        data = self.experiment.data
        problem = check_limits(sweep, None if data is None else len(data.y_train) + len(data.y_test))
        if problem:
            self._say(f"Sweep refused: {problem}", "warning")
            return False
        self.run = SweepRun(sweep)
        self.question = None
        self._say("", "info")
        self.run.start()
        self._redraw(new_plots=True)
        self._set_buttons()
        if self._callback is None:  # served, or in a notebook (where Panel runs it on the kernel's loop)
            self._callback = pn.state.add_periodic_callback(self.poll, period=POLL_MS)
        return True

    def stop(self) -> None:
        """Stop the sweep: the models that finished stay; running ones end "stopped"."""
        if self.run is not None and self.run.running:
            self.run.stop()
            self._set_buttons()

    def close(self) -> None:
        """The session is closing: stop the sweep and the polling."""
        if self.run is not None:
            self.run.stop()
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def poll(self) -> None:
        """Collect new results and show them (on the server's loop, from the periodic callback)."""
        run = self.run
        if run is None:
            return
        new = run.poll()
        if new or run.done:
            self._redraw()
        self._show_progress()
        if run.done:
            self._set_buttons()
            if run.error:
                self._say(run.error, "danger")
            elif self._grid is not None and answer(self._grid):
                asked = f"{self.question.question} " if self.question is not None else ""
                self._say(f"{asked}{answer(self._grid)}", "info")
            if self._callback is not None:
                self._callback.stop()
                self._callback = None

    # ----- showing -----
    def _redraw(self, new_plots: bool = False) -> None:
        run = self.run
        if run is None:
            return
        grid = sweep_grid(run.sweep, run.results, self.metric)
        self._grid = grid
        if new_plots or self._pipe is None:
            self._pipe = hv.streams.Pipe(data=grid)
            # The Tap is one of the DynamicMap's streams (given as a `source` only, the served plot never
            # subscribed to the tap events); the heatmap ignores it, its subscriber trains the cell.
            self._tap = hv.streams.Tap(x=None, y=None)
            heat = hv.DynamicMap(lambda data, x, y: sweep_heatmap(data), streams=[self._pipe, self._tap])
            self._tap.add_subscriber(self._tapped)
            self.heatmap.object = heat
            self._spread_pipe = hv.streams.Pipe(data=grid)
            self.spread.object = (hv.DynamicMap(lambda data: sweep_spread(data), streams=[self._spread_pipe])
                                  if len(run.sweep.seeds) > 1 else None)
        else:
            self._pipe.send(grid)
            if self.spread.object is not None:
                self._spread_pipe.send(grid)
        self.table.object = sweep_table_html(run.sweep, run.results)
        self._show_progress()

    def _show_progress(self) -> None:
        run = self.run
        if run is None:
            return
        done = len(run.results)
        self.progress.param.update(max=max(run.total, 1), value=done)
        if run.done:
            finished = sum(r.ended == "finished" for r in run.results)
            how = "stopped" if run.stopping else "done"
            self.progress_text.object = (f"Sweep {how}: {finished} of {run.total} models finished in "
                                         f"{_duration(run.elapsed())}. Click a cell to train it.")
        else:
            state = "stopping..." if run.stopping else f"about {_duration(run.eta())} left"
            self.progress_text.object = f"{done} of {run.total} models done, {state}"

    def _set_buttons(self) -> None:
        running = self.run is not None and self.run.running
        self.run_button.disabled = running
        self.stop_button.disabled = not running or self.run.stopping
        self.stop_button.color = "light" if self.stop_button.disabled else "warning"  # disabled looks disabled
        has = self.run is not None and bool(self.run.results)
        self.csv_download.disabled = self.report_download.disabled = not (has and not running)

    def _say(self, text: str, kind: str = "info") -> None:
        import html

        self.note.param.update(text=html.escape(text), kind=kind)

    # ----- a cell clicked -----
    def cell_at(self, x, y):
        """The cell at tap coordinates (categories, or numbers on a categorical axis's positions)."""
        grid = self._grid
        if grid is None or x is None:
            return None
        labels = [self._level(grid.levels[0], x)]
        if len(grid.names) > 1:
            labels.append(self._level(grid.levels[1], y))
        return grid.cells.get(tuple(labels))

    @staticmethod
    def _level(levels: list[str], value):
        if isinstance(value, str):
            return value
        if value is None:
            return None
        index = int(value)  # Bokeh's categorical positions: the first factor spans 0..1
        return levels[index] if 0 <= index < len(levels) else None

    def _tapped(self, x=None, y=None, **kwargs) -> None:
        self.train_cell(self.cell_at(x, y))

    def train_cell(self, cell) -> bool:
        """Put the cell's settings (with its best seed) into the experiment and train it."""
        if cell is None:
            return False
        best = cell.best(self._grid.higher)
        if best is None:
            self._say(f"{' | '.join(cell.labels)}: no model of this cell has finished yet.", "info")
            return False
        if self.experiment.set_values({name: getattr(best, name) for name in SETTINGS}):
            self._say("That cell's settings could not all be used: " + self.experiment.message, "warning")
            return False
        self.experiment.train()
        self._say(f"Training {' | '.join(cell.labels)} with seed {best.seed} (its best): see the Training tab.",
                  "info")
        return True

    # ----- downloads -----
    def _csv(self):
        from engine.sweep_table import csv_text

        return io.StringIO(csv_text(self.run.results if self.run else []))

    async def _report(self):
        from ..report.sweep_section import sweep_report_html

        run = self.run
        if run is None:
            return io.StringIO("")
        text = await in_thread(sweep_report_html, run.sweep, list(run.results), self.metric)
        return io.StringIO(text)

    def __panel__(self):
        # Rows that wrap: the four inputs of the axes (~1000 px) are wider than the main area at 1366x768.
        wrap = {"flex_wrap": "wrap", "align_items": "flex-end", "sizing_mode": "stretch_width", "margin": 0}
        controls = pn.FlexBox(pn.Row(self.axis1, self.values1, margin=0), pn.Row(self.axis2, self.values2, margin=0),
                              **wrap)
        more = pn.FlexBox(self.seeds, self.epochs, self.metric_select, self.run_button, self.stop_button, **wrap)
        progress = pn.FlexBox(self.progress, self.progress_text, **wrap)
        downloads = pn.FlexBox(self.csv_download, self.report_download, **wrap)
        lessons = pn.FlexBox(pn.pane.Markdown("**Lesson questions:**", margin=(8, 5)), *self.lesson_buttons.values(),
                             **wrap)
        return pn.Column(pn.pane.Markdown(INTRO, sizing_mode="stretch_width", margin=(0, 10)), lessons, controls, more,
                         progress, self.note, pn.FlexBox(self.heatmap, self.spread, flex_wrap="wrap",
                                                         sizing_mode="stretch_width", margin=0),
                         downloads, self.table, name="Sweep", sizing_mode="stretch_width", margin=0)
