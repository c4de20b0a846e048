"""Each setting is declared once (engine/settings.py): a new one declared there, and nowhere else, appears in the
command line's help, the Experiment, the sidebar, the URL and the report's settings table."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DECLARATION = '''    wobble = Number(0.25, bounds=(0.0, 1.0), step=0.05, label="Wobble factor",
        doc="How much the points wobble, 0 to 1.", metadata=dict(group="Training", metavar="W"))
'''
ANCHOR = "    device = Device("
PROBE = r'''
import panel as pn
from dashboard.cli import build_parser
from dashboard.session.experiment import Experiment
from dashboard.ui.sidebar import Sidebar
from dashboard.ui.urlsync import query_text
from dashboard.report.page import settings_tables
from engine import Trainer

train = build_parser()._subparsers._group_actions[0].choices["train"]
print("CLI", "--wobble W" in train.format_help(), "How much the points wobble" in train.format_help())
args = build_parser().parse_args(["train", "--wobble", "0.5", "--epochs", "1"])
print("PARSED", args.wobble)
experiment = Experiment()
print("PARAM", experiment.param["wobble"].label, experiment.param["wobble"].bounds, experiment.wobble)
try:
    experiment.wobble = 2.0
except ValueError as error:
    print("RAISED", experiment.wobble, "wobble" in str(error), "<= 1" in str(error))
print("REFUSED", experiment.set_text("wobble", "2"), experiment.wobble, "Wobble factor" in experiment.message)
experiment.wobble = 0.75
print("SETTINGS", experiment.settings().wobble, query_text(experiment))
sidebar = Sidebar(experiment)
widget = sidebar.widgets["wobble"]
print("WIDGET", type(widget).__name__, widget.name, widget.value)
widget.value = 0.5
print("BOUND", experiment.wobble)
widget.value = 3.0
print("WIDGET_REFUSED", experiment.wobble, widget.value, "Wobble factor: 3.0 refused" in experiment.message)
trainer = Trainer(experiment.settings().replace(epochs=1))
print("REPORT", "Wobble factor" in settings_tables(trainer))
'''


def test_a_setting_declared_once_appears_everywhere(tmp_path):
    for folder in ("engine", "dashboard"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    declaration = tmp_path / "engine" / "settings.py"
    text = declaration.read_text()
    assert text.count(ANCHOR) == 1
    declaration.write_text(text.replace(ANCHOR, DECLARATION + ANCHOR))
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True,
                            timeout=240, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["CLI"] == "True True"
    assert lines["PARSED"] == "0.5"
    assert lines["PARAM"] == "Wobble factor (0.0, 1.0) 0.25"
    assert lines["RAISED"] == "0.25 True True"  # the Python API fails fast, naming the setting and its bounds
    assert lines["REFUSED"] == "False 0.25 True"  # the URL's path: the last valid value kept, and said why
    assert lines["SETTINGS"] == "0.75 ?wobble=0.75"
    assert lines["WIDGET"] == "FloatInput Wobble factor 0.75"
    assert lines["BOUND"] == "0.5"
    assert lines["WIDGET_REFUSED"] == "0.5 0.5 True"  # the sidebar's path: refused, said why, the value kept
    assert lines["REPORT"] == "True"
