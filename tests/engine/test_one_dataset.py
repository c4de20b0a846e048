"""Each dataset is declared once (engine/catalog.py): a new one declared there, and nowhere else, appears in the
command line's choices, the sidebar's Select and tiles, the URL, the report, and loads with its title."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DECLARATION = """    DatasetSpec("toy_stripes", "Toy dataset: stripes", "stripes", "toy",
                exact=lambda p: (p[:, 0] * 4 % 2 >= 1).astype(np.float32)),
"""
ANCHOR = '    DatasetSpec("spiral",'
PROBE = r'''
import panel as pn
from dashboard.cli import build_parser
from dashboard.session.experiment import Experiment
from dashboard.ui.sidebar import Sidebar
from dashboard.ui.dataset_picker import dataset_tiles
from dashboard.ui.urlsync import apply_query, query_text
from dashboard.report.page import settings_tables
from engine import Trainer

train = build_parser()._subparsers._group_actions[0].choices["train"]
print("CLI", "toy_stripes" in train.format_help())
args = build_parser().parse_args(["train", "--dataset", "toy_stripes"])
print("PARSED", args.dataset)
experiment = Experiment()
print("URL", apply_query(experiment, "?dataset=toy_stripes&samples=400"), query_text(experiment))
print("DATA", experiment.data.title, len(experiment.data.points))
sidebar = Sidebar(experiment)
print("SELECT", "toy_stripes" in sidebar.widgets["dataset"].options)
tiles = dataset_tiles(experiment)
print("TILES", tiles.options.get("stripes"), tiles.value)
trainer = Trainer(experiment.settings().replace(epochs=1))
print("REPORT", "toy_stripes" in settings_tables(trainer))
'''


def test_a_dataset_declared_once_appears_everywhere(tmp_path):
    for folder in ("engine", "dashboard"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    declaration = tmp_path / "engine" / "catalog.py"
    text = declaration.read_text()
    assert text.count(ANCHOR) == 1
    declaration.write_text(text.replace(ANCHOR, DECLARATION + ANCHOR))
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True,
                            timeout=240, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["CLI"] == "True"
    assert lines["PARSED"] == "toy_stripes"
    assert lines["URL"] == "[] ?dataset=toy_stripes&samples=400"
    assert lines["DATA"] == "Toy dataset: stripes 400"
    assert lines["SELECT"] == "True"
    assert lines["TILES"] == "toy_stripes toy_stripes"
    assert lines["REPORT"] == "True"
