"""The report: one self-contained HTML page about one experiment, which opens offline and runs no Python.

`build_report(trainer, snapshots)` gives the page as a Panel layout (render.py writes it as HTML): the settings, the
data and split, the curves of every run, the final map beside the exact target, the points right or wrong, the
confusion matrices, the runs table, and a slider over decision-map snapshots whose frames are all in the page.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

import panel as pn

from engine import History, Trainer
from engine.evaluation import Evaluation, GridMap, evaluate_grid, evaluate_points
from engine.hints import Case, hints
from engine.settings import PARTS
from engine.snapshots import SNAPSHOT_COUNT, SNAPSHOT_SIZE, SnapshotRecorder, Snapshots

from ..plots.data import dataset_view, evaluation_view, split_views
from ..plots.results import confusion_view, curves, map_views, snapshot_player
from ..plots.style import TABLE_CSS
from ..session.runs import DRAWN, is_drawn, run_row, runs_table
from .sections import baselines_section, comparison_section, hints_section, network_section

TITLE = "nn-playground report"
REPORT_ID = "nnp-report"  # the id of the JSON block with the report's numbers
FINAL_MAP_SIZE = 200  # the notebook's grid
MAX_SNAPSHOTS = 31  # frames under the slider (each ~55 kB in the page at 100x100)
REPLAY_SECONDS = 30.0  # the dashboard rebuilds snapshots by training again only if that takes about this at most
PAGE_WIDTH = 1180
PAGE_CSS = """
:host { font-size: 15px; }
table.nnp-settings { border-collapse: collapse; margin: 0 18px 8px 0; font-size: 13px; }
table.nnp-settings caption { caption-side: top; text-align: left; font-weight: 600; padding: 2px 0; }
table.nnp-settings td { border-bottom: 1px solid #e3e6ea; padding: 3px 10px 3px 0; vertical-align: top; }
table.nnp-settings td:first-child { color: #555; }
"""
SUMMARY_CSS = """
:host { background: #f4f6f8; border-radius: 6px; padding: 4px 14px; }
"""

class ReportError(ValueError):
    """A report cannot be made (no model, a run still going, a page that would need the network)."""


# ----- snapshots -----
def collect_snapshots(trainer: Trainer, until: int | None = None, count: int = SNAPSHOT_COUNT,
                      size: int = SNAPSHOT_SIZE, then: Callable | None = None) -> SnapshotRecorder:
    """A training callback recording the decision map (size x size) at about `count` evenly spaced epochs.

        recorder = collect_snapshots(trainer)
        trainer.train(callback=recorder, every=recorder.every)
        write_report(trainer, "report.html", recorder.finish())
    """
    return SnapshotRecorder(trainer, until=until, count=count, size=size, then=then)


# ----- the numbers -----
def engine_runs(trainer: Trainer, history: History | None = None) -> list[dict]:
    """The runs table of a trainer: one row per engine run, its settings and its last epoch's metrics."""
    history = trainer.history if history is None else history
    majority = trainer.dataset.majority_share("test")
    rows = []
    for run in trainer.runs:
        metrics = {}
        if run.epochs and run.last_epoch in history.epoch:
            i = history.epoch.index(run.last_epoch)
            metrics = dict(loss=history.loss[i], train_accuracy=history.train_accuracy[i],
                           test_accuracy=history.test_accuracy[i])
        rows.append(run_row(run.number, run.settings, first_epoch=run.first_epoch,
                            last_epoch=run.last_epoch if run.epochs else None, ended=run.ended, majority=majority,
                            seconds=run.seconds, **metrics))
    return rows


def report_numbers(trainer: Trainer, history: History, grid: GridMap, evaluation: Evaluation, runs: list[dict],
                   snapshots: Snapshots | None) -> dict:
    """What the page shows, as plain JSON values (embedded in the page; the same for a live and a saved run)."""
    data = trainer.dataset
    last = len(history) - 1
    final = None
    if last >= 0:
        final = {"epoch": history.epoch[last], "loss": history.loss[last], "test_loss": history.test_loss[last],
                 "train_accuracy": history.train_accuracy[last], "test_accuracy": history.test_accuracy[last]}
    return {
        "dataset": data.name,
        "dataset_title": data.title,
        "settings": trainer.settings.to_dict(),
        "parameters": trainer.parameter_count,
        "points": {"train": len(data.train_index), "test": len(data.test_index)},
        "final": final,
        "majority": {"train": data.majority_share("train"), "test": data.majority_share("test")},
        "agreement": grid.agreement,
        "evaluation": {"train_accuracy": evaluation.train_accuracy, "test_accuracy": evaluation.test_accuracy},
        "confusion": {"train": evaluation.train_confusion.tolist(), "test": evaluation.test_confusion.tolist()},
        "runs": runs,
        "snapshot_epochs": list(snapshots.epochs) if snapshots is not None else [],
    }


# ----- the page -----
def settings_tables(trainer: Trainer) -> str:
    """The settings that matter for this experiment, as the engine declares them, one table per part."""
    tables = []
    for part in PARTS:
        rows = [f"<tr><td>{html.escape(spec.label)}</td><td>{html.escape(text)}</td></tr>"
                for spec, text in described(trainer.settings) if spec.part == part]
        if part == "network":
            rows.append(f"<tr><td>Parameters</td><td>{trainer.parameter_count}</td></tr>")
        tables.append(f'<table class="nnp-settings"><caption>{part.title()}</caption>{"".join(rows)}</table>')
    return f'<div style="display: flex; flex-wrap: wrap; align-items: flex-start;">{"".join(tables)}</div>'


def described(settings) -> list:
    """The settings as declared, drawn points named as drawn."""
    drawn = is_drawn(settings)
    return [(spec, DRAWN if drawn and spec.name == "dataset" else text) for spec, text in settings.described()]


def _summary(numbers: dict) -> str:
    final, majority = numbers["final"], numbers["majority"]
    if final is None:
        return "No epoch was trained: the maps show the untrained network."
    lines = [
        f"**After {final['epoch']} epochs:** loss {final['loss']:.4f}, "
        f"training accuracy **{100 * final['train_accuracy']:.1f}%** "
        f"(majority class {100 * majority['train']:.1f}%), "
        f"test accuracy **{100 * final['test_accuracy']:.1f}%** (majority class {100 * majority['test']:.1f}%).",
    ]
    if numbers["agreement"] is not None:
        lines.append(f"The decision map agrees with the exact target on **{100 * numbers['agreement']:.1f}%** "
                     "of the square.")
    gap = final["test_accuracy"] - majority["test"]
    if gap <= 0.005:
        lines.append("The test accuracy is no better than always answering the most common class: the network "
                     "has not found the pattern.")
    return " ".join(lines)


def _markdown(text: str, **kwargs) -> pn.pane.Markdown:
    return pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(4, 10), **kwargs)


def _row(*objects) -> pn.FlexBox:
    return pn.FlexBox(*objects, flex_wrap="wrap", gap="4px", sizing_mode="stretch_width", margin=(0, 0))


def build_report(trainer: Trainer, snapshots: Snapshots | None = None, *, history: History | None = None,
                 runs: list[dict] | None = None, notes: list[str] | tuple = (), created: dt.datetime | None = None,
                 comparison=None, baselines: bool = True):
    """The report of `trainer` as a Panel layout (a Column); its numbers are in `layout.report_numbers`.

    `history` and `runs` default to the trainer's own (the dashboard passes what it showed: its run numbers).
    Without `snapshots`, the slider has the final map only, and the page says so. `notes` go under the title.
    A `comparison` (session.comparison.Comparison) of two runs of the session adds a section at the end.
    `baselines`: a section on classic classifiers fitted on the same split (a few seconds more).
    """
    history = trainer.history if history is None else history
    runs = engine_runs(trainer, history) if runs is None else runs
    created = created or dt.datetime.now()
    data = trainer.dataset
    grid = evaluate_grid(trainer, FINAL_MAP_SIZE)
    evaluation = evaluate_points(trainer)
    notes = list(notes)
    if snapshots is None or len(snapshots) == 0:
        notes.append("No snapshots were recorded during this training: the slider shows the final map only.")
        snapshots = Snapshots.for_box(data.box, SNAPSHOT_SIZE)
        snapshots.add(trainer.epochs_done, evaluate_grid(trainer, SNAPSHOT_SIZE).probability)
    else:
        snapshots = snapshots.thinned(MAX_SNAPSHOTS)
    numbers = report_numbers(trainer, history, grid, evaluation, runs, snapshots)
    numbers["comparison"] = None if comparison is None else comparison.numbers()
    against, numbers["baselines"] = baselines_section(trainer, grid, evaluation) if baselines else ([], None)
    found = hints(Case.of(trainer, history, runs[-1]["ended"] if runs else None)) if history.epoch else []
    numbers["hints"] = [hint.to_dict() for hint in found]
    majority = numbers["majority"]
    epochs = history.epoch[-1] if history.epoch else 0

    header = _markdown(
        f"# {TITLE}: {data.title}\n\n"
        f"Written {created:%Y-%m-%d %H:%M} by nn-playground: {epochs} epochs in {len({*history.run})} run(s), "
        f"{len(data.train_index)} training and {len(data.test_index)} test points. "
        "Every plot can be zoomed and panned (toolbar at its right) and shows values on hover."
        + "".join(f"\n\n*{html.escape(note)}*" for note in notes))
    summary = pn.pane.Markdown(_summary(numbers), sizing_mode="stretch_width", margin=(4, 10),
                               stylesheets=[SUMMARY_CSS], css_classes=["nnp-summary"])

    loss, accuracy = curves(history, majority["test"])
    train_eval, test_eval = (
        evaluation_view(data, grid, evaluation, "train"),
        evaluation_view(data, grid, evaluation, "test"),
    )
    train_split, test_split = split_views(data)
    final_map, target = map_views(data, grid)

    sections = [
        header, summary,
        *hints_section(found),
        _markdown("## Settings"),
        pn.pane.HTML(settings_tables(trainer), sizing_mode="stretch_width", margin=(0, 10), stylesheets=[PAGE_CSS]),
        _markdown("## Data and the train/test split\n\nThe network learns from the training set only; the test "
                  "set is kept aside to check that what it learned holds for points it has never seen."),
        _row(pn.pane.HoloViews(dataset_view(data)), pn.pane.HoloViews(train_split), pn.pane.HoloViews(test_split)),
        _markdown("## Loss and accuracy\n\nEvery run of this model on one epoch axis: a continued training is a new "
                  f"run. The dotted line is the test accuracy of always answering the most common class "
                  f"({100 * majority['test']:.1f}%): the baseline a model must beat."),
        _row(pn.pane.HoloViews(loss), pn.pane.HoloViews(accuracy)),
        _markdown("## Decision map\n\nThe model's probability of class 1 over the whole square (blue: class 0, "
                  "red: class 1), its 0.5 contour, and " +
                  ("the exact target the data were labelled with." if grid.exact is not None else
                   "all the points (these data have no exact target).")),
        _row(pn.pane.HoloViews(final_map, margin=5), pn.pane.HoloViews(target, margin=5)),
        *network_section(trainer),
        _markdown("## Through training\n\nMove the slider (or press Play) to see the decision map at epochs saved "
                  f"while training ({len(snapshots)} snapshot{'s' if len(snapshots) != 1 else ''} on a "
                  f"{len(snapshots.xs)}x{len(snapshots.ys)} grid)."),
        pn.pane.Bokeh(snapshot_player(data, history, snapshots), css_classes=["nnp-snapshots"], margin=5),
        _markdown("## Evaluation\n\nCircles are points the model gets right, crosses the ones it gets wrong. "
                  f"Always answering the most common class would get {100 * majority['train']:.1f}% of the "
                  f"training set and {100 * majority['test']:.1f}% of the test set right."),
        _row(pn.pane.HoloViews(train_eval), pn.pane.HoloViews(test_eval)),
        _markdown("## Confusion matrices\n\nHow many points of each true class the model put in each class."),
        _row(pn.pane.HoloViews(confusion_view(data, evaluation, "train")),
             pn.pane.HoloViews(confusion_view(data, evaluation, "test"))),
        *against,
        _markdown("## Runs"),
        pn.pane.HTML(runs_table(runs), sizing_mode="stretch_width", margin=(0, 10), css_classes=["nnp-runs"],
                     stylesheets=[TABLE_CSS], styles={"overflow-x": "auto"}),
        *([] if comparison is None else comparison_section(comparison)),
    ]
    page = pn.Column(*sections, width=PAGE_WIDTH, styles={"margin": "0 auto"})
    page.report_numbers = numbers
    return page


