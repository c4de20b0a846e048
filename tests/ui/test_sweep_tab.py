"""The Sweep tab, headless: it sweeps the experiment's settings, refuses too much and a second sweep, offers the
results as CSV and a report, trains a clicked cell in the experiment, and stops its sweep when closed."""

from __future__ import annotations

import asyncio
import csv
import io

import holoviews as hv
import panel as pn

from dashboard.report import remote_references
from dashboard.session.experiment import Experiment
from dashboard.ui.sweep_tab import SweepTab


def new_tab(**settings) -> tuple[Experiment, SweepTab]:
    experiment = Experiment(**{"dataset": "toy_xor", "samples": 200, **settings})
    tab = SweepTab(experiment)
    tab.epochs.value = 15
    tab.seeds.value = 2
    return experiment, tab


def test_a_sweep_of_the_experiments_settings_fills_heatmap_table_and_downloads():
    _, tab = new_tab(activation="tanh")
    assert isinstance(tab.__panel__(), pn.Column) and tab.name == "Sweep"
    assert tab.csv_download.disabled and tab.report_download.disabled
    assert tab.start()
    assert tab.run_button.disabled and not tab.stop_button.disabled
    assert isinstance(tab.heatmap.object, hv.DynamicMap)
    tab.run.wait(120)
    tab.poll()
    assert tab.progress.value == tab.progress.max == 18 and "18 of 18 models finished" in tab.progress_text.object
    assert not tab.run_button.disabled and tab.stop_button.disabled and not tab.csv_download.disabled
    assert all(r.settings.activation == "tanh" and r.settings.samples == 200 and r.settings.epochs == 15
               for r in tab.run.results)  # the base is the experiment's settings
    frame = tab.heatmap.object[()].HeatMap.I.data
    assert frame["value"].notna().sum() == 9
    assert isinstance(tab.spread.object, hv.DynamicMap)  # two seeds: the spread view
    assert tab.table.object.count("<tr class=") == 18
    rows = list(csv.DictReader(io.StringIO(tab._csv().getvalue())))
    assert len(rows) == 18 and {row["lr"] for row in rows} == {"0.001", "0.01", "0.1"}
    assert {row["hidden"] for row in rows} == {"4", "8", "8,8"} and {row["ended"] for row in rows} == {"finished"}
    tab.metric = "loss"  # another metric: new plots of the same results
    heat = tab.heatmap.object[()]
    assert heat.HeatMap.I.data["value"].notna().sum() == 9 and heat.HeatMap.I.data["value"].max() < 1.5
    assert "Loss" in hv.render(tab.heatmap.object).title.text
    page = asyncio.run(tab._report()).getvalue()
    assert remote_references(page) == [] and "nnp-sweep-heatmap" in page


def test_a_clicked_cell_trains_its_best_seed_in_the_experiment():
    experiment, tab = new_tab()
    tab.axis2.value = "activation"
    assert tab.values2.value == "relu tanh sigmoid"  # a newly chosen setting starts with example values
    tab.values1.value = "0.01 0.1"
    tab.values2.value = "relu tanh"
    tab.start()
    tab.run.wait(120)
    tab.poll()
    cell = tab.cell_at("0.1", "tanh")
    assert cell.labels == ("0.1", "tanh")
    assert tab.cell_at(1.5, 1.5) is cell  # numeric positions on categorical axes also find it
    best = cell.best()
    assert tab.train_cell(cell)
    assert experiment.settings().replace(seed=best.seed) == best and experiment.seed == best.seed
    experiment.wait(60)
    assert experiment.runs and experiment.runs[-1]["test acc %"] == round(100 * max(cell.values), 1)


def test_limits_one_sweep_at_a_time_and_close_stops_it():
    experiment, tab = new_tab()
    tab.values1.value = " ".join(f"0.0{i}" for i in range(1, 10))
    tab.values2.value = "1 2 3 4"
    assert not tab.start() and "at most 64" in tab.note.text  # 9 x 4 x 2 = 72 models
    tab.epochs.value = 2000
    tab.values1.value, tab.values2.value = "0.01", "256,256,256 128"
    experiment.samples = 200_000
    assert not tab.start() and "more than" in tab.note.text
    experiment.samples = 200
    tab.values1.value, tab.values2.value = "0.01 0.02 0.03", "2 3 4 5"
    tab.seeds.value = 1
    tab.epochs.value = 2000
    assert tab.start()
    assert not tab.start() and "already running" in tab.note.text
    tab.close()
    tab.run.wait(60)
    assert tab.run.done and tab.run.stopping and len(tab.run.results) <= tab.run.total
    tab.poll()
    assert "stopped" in tab.progress_text.object


def test_an_axis_that_matters_in_no_cell_is_the_tabs_message_and_nothing_starts():
    experiment, tab = new_tab()
    tab.axis1.value, tab.values1.value = "momentum", "0 0.9"
    tab.axis2.value = "(none)"
    assert not tab.start() and tab.run is None and not tab.run_button.disabled
    assert tab.note.text == ("Sweep refused: momentum matters only with optimizer sgd; no cell of this sweep uses it")
    assert tab.note.kind == "warning"
    experiment.optimizer = "sgd"  # the sidebar's optimizer: every cell uses momentum now
    assert tab.start()
    tab.close()
    tab.run.wait(60)


def test_a_lesson_question_is_one_click_that_sets_everything_and_says_the_answer():
    """Each lesson question puts its base settings into the experiment (the sidebar), its axes, values, seeds
    and epochs into the tab, runs, and ends with the question and a one-sentence answer."""
    from engine.lessons import QUESTIONS

    for key, question in QUESTIONS.items():
        experiment, tab = new_tab()
        assert tab.ask(key)
        base = question.settings()
        assert experiment.settings() == base.replace(epochs=base.epochs)
        assert tab.axis1.value == list(question.axes)[0] and tab.seeds.value == question.seeds
        assert tab.epochs.value == base.epochs
        assert tab.axis2.value == (list(question.axes)[1] if len(question.axes) > 1 else "(none)")
        tab.run.wait(300)
        tab.poll()
        assert {r.settings.replace(seed=base.seed, **{n: getattr(base, n) for n in question.axes}) for r in
                tab.run.results} == {base}  # trained on the question's base, varied only along its axes
        assert len(tab.run.results) == len(question.sweep().models())
        assert question.question in tab.note.text and "Best: " in tab.note.text, tab.note.text
        tab.close()


def test_any_finished_sweep_says_its_best_cell():
    _, tab = new_tab()
    tab.values1.value, tab.values2.value = "0.01 0.1", "4"
    assert tab.start()
    tab.run.wait(120)
    tab.poll()
    assert tab.note.text.startswith("Best: ") and "points from its baseline" in tab.note.text
