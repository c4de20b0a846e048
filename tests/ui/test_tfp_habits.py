"""TensorFlow Playground's habits, headless: position noise reaches every place a setting is derived into, the
+ / - buttons of the hidden layers and the text stay one value, the dataset thumbnails choose the dataset."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import pytest

from dashboard.cli import build_parser
from dashboard.plots.thumbnails import thumbnails
from dashboard.report.page import settings_tables
from dashboard.session.experiment import Experiment
from dashboard.session.runs import run_row, runs_table
from dashboard.session.sweep_run import AXES, EXAMPLES, build_sweep
from dashboard.ui.dataset_picker import dataset_tiles
from dashboard.ui.sidebar import Sidebar
from dashboard.ui.urlsync import apply_query, query_text
from dashboard.ui.widths import WidthsEditor
from engine import Settings, Trainer
from engine.catalog import DATASETS
from engine.settings import MAX_HIDDEN_LAYERS, MAX_WIDTH
from engine.stacked import stack_key


# ----- position noise -----
def test_position_noise_is_everywhere_a_setting_goes():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    assert "--jitter SD" in train.format_help() and "Position noise" not in train.format_help()  # the help's words
    assert build_parser().parse_args(["train", "--jitter", "0.05"]).jitter == 0.05

    experiment = Experiment(dataset="toy_xor")
    still = experiment.data.points.copy()
    with pytest.raises(ValueError, match=r"jitter: .*<= 0.25"):
        experiment.jitter = 0.3  # from Python, as param does: at once
    assert experiment.set_value("jitter", 0.3) is False  # the app's path: refused with a message
    assert experiment.jitter == 0 and "Position noise" in experiment.message and "<= 0.25" in experiment.message
    experiment.jitter = 0.05
    assert not np.array_equal(experiment.data.points, still)  # the data is made again
    assert query_text(experiment) == "?dataset=toy_xor&jitter=0.05"
    other = Experiment()
    assert apply_query(other, "?jitter=0.1") == []
    assert other.jitter == 0.1

    sidebar = Sidebar(experiment)
    widget = sidebar.widgets["jitter"]
    assert (type(widget).__name__, widget.name, widget.value, widget.visible) == ("FloatInput", "Position noise", 0.05,
                                                                                  True)
    experiment.dataset = "iris"  # measured data: not jittered, the setting not shown
    assert not widget.visible

    trainer = Trainer(Settings(dataset="toy_xor", jitter=0.05, epochs=1))
    assert "Position noise" in settings_tables(trainer)
    rows = [run_row(1, Settings()), run_row(2, Settings(jitter=0.05))]
    assert "<th>position noise</th>" in runs_table(rows) and "<td>0.05</td>" in runs_table(rows)

    assert "jitter" in AXES and EXAMPLES["jitter"] == "0 0.03 0.06"
    sweep = build_sweep(Settings(dataset="toy_xor"), {"jitter": EXAMPLES["jitter"]}, seeds=1, epochs=5)
    models = sweep.models()
    assert [m.jitter for m in models] == [0, 0.03, 0.06]
    assert len({stack_key(m) for m in models}) == 3  # different data: never stacked together


# ----- + / - beside the hidden widths -----
def buttons(editor: WidthsEditor) -> dict:
    state = {"layer -": not editor.remove_layer.disabled, "layer +": not editor.add_layer.disabled}
    for number, (minus, _, plus) in enumerate(editor._layers, start=1):
        state[f"{number} -"], state[f"{number} +"] = not minus.disabled, not plus.disabled
    return state


def test_plus_and_minus_change_the_widths_and_the_text_shows_them():
    experiment = Experiment(hidden="8,8")
    sidebar = Sidebar(experiment)
    text = sidebar.widgets["hidden"]
    editor = WidthsEditor(experiment, text)
    editor.add_layer.clicks += 1
    assert experiment.hidden == (8, 8, 8) and text.value == "8,8,8" and len(editor._layers) == 3
    editor._layers[1][2].clicks += 1  # + on the second layer
    editor._layers[0][0].clicks += 1  # - on the first
    assert experiment.hidden == (7, 9, 8) and text.value == "7,9,8"
    editor.remove_layer.clicks += 1
    assert experiment.hidden == (7, 9) and len(editor._layers) == 2
    text.value = "3"  # typed: the buttons follow
    assert len(editor._layers) == 1 and editor._layers[0][1].object.endswith(">3</span>")
    assert editor.count.object == "1 hidden layer"
    editor.remove_layer.clicks += 1
    assert experiment.hidden == () and editor.count.object == "no hidden layer" and not editor._layers
    editor.add_layer.clicks += 1  # a first layer: the lesson's 4
    assert experiment.hidden == (4,)


def test_the_buttons_stop_at_the_declared_limits():
    experiment = Experiment(hidden="")
    editor = WidthsEditor(experiment, Sidebar(experiment).widgets["hidden"])
    assert buttons(editor) == {"layer -": False, "layer +": True}
    last = MAX_HIDDEN_LAYERS - 1
    experiment.hidden = ",".join(["1"] * (last - 1) + [str(MAX_WIDTH)])  # one layer short of the most
    state = buttons(editor)
    assert state["layer +"] and state["layer -"] and state["1 -"] is False and state["1 +"]
    assert state[f"{last} +"] is False and state[f"{last} -"]
    editor.add_layer.clicks += 1  # the new layer as wide as the last: MAX_WIDTH
    assert len(experiment.hidden) == MAX_HIDDEN_LAYERS and buttons(editor)["layer +"] is False
    before = experiment.hidden
    editor._resize(MAX_HIDDEN_LAYERS - 1, +1)  # past the limit: nothing changes
    editor._resize(0, -1)
    assert experiment.hidden == before


# ----- dataset thumbnails -----
def png_size(url: str) -> tuple[int, int]:
    data = base64.b64decode(url.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    zlib.decompress(data[data.index(b"IDAT") + 4:])  # the pixels decompress
    return width, height


def test_every_dataset_has_a_thumbnail_made_once():
    pictures = thumbnails()
    assert list(pictures) == list(DATASETS) and thumbnails() is pictures  # made once, shared
    assert {png_size(url) for url in pictures.values()} == {(48, 48)}
    assert len(set(pictures.values())) == len(DATASETS)  # all different


@pytest.mark.parametrize("name", ["toy_ring", "moons", "iris"])
def test_a_thumbnail_chooses_its_dataset_and_follows_the_select(name):
    experiment = Experiment()
    sidebar = Sidebar(experiment)
    tiles = dataset_tiles(experiment)
    assert tiles.value == "toy_easy" and list(tiles.options.values()) == list(DATASETS)
    tiles.value = name
    assert experiment.dataset == name and sidebar.widgets["dataset"].value == name
    sidebar.widgets["dataset"].value = "toy_xor"
    assert tiles.value == "toy_xor"


@pytest.mark.parametrize("used", ["tiles", "select"])
def test_own_data_without_points_is_refused_and_both_pickers_say_so(used):
    experiment = Experiment(dataset="moons")
    sidebar = Sidebar(experiment)
    sidebar.panel()
    select, tiles = sidebar._views["dataset"]
    assert tiles.value == "moons"
    (tiles if used == "tiles" else select).value = "csv"
    assert experiment.dataset == "moons" and "no points of your own yet" in experiment.message
    assert select.value == "moons" and tiles.value == "moons"  # the other one too, not only the one used
