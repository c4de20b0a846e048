"""The sweep's report section and page (report/sweep_section.py), and `nn-playground sweep --report FILE`."""

from __future__ import annotations

import json
import re

import pytest

from dashboard.report import remote_references
from dashboard.report.sweep_section import sweep_report_html, sweep_section
from engine import Settings
from engine.sweep import Sweep, run_sweep


@pytest.fixture(scope="module")
def swept():
    sweep = Sweep(
        Settings(dataset="toy_xor", samples=200, epochs=10),
        {"lr": [0.01, 0.1], "activation": ["relu", "tanh"]},
        seeds=[0, 1],
    )
    return sweep, run_sweep(sweep, workers=1)


def numbers(page: str) -> dict:
    block = re.search(r'<script type="application/json" id="nnp-report">(.*?)</script>', page, re.DOTALL)
    return json.loads(block[1])


def test_the_page_opens_offline_and_holds_heatmap_spread_and_table(swept):
    sweep, results = swept
    page = sweep_report_html(sweep, results, metric="loss")
    assert remote_references(page) == []
    assert "cdn.holoviz.org" not in page and "cdn.bokeh.org" not in page
    assert page.count("nnp-sweep-heatmap") >= 2  # the loss and the test accuracy heatmaps
    assert "nnp-sweep-spread" in page and "nnp-sweep-table" in page
    data = numbers(page)
    assert data["metric"] == "loss" and data["axes"] == ["lr", "activation"] and data["models"] == 8
    assert len(data["rows"]) == 8 and data["columns"][0] == "model"
    column = data["columns"].index("majority")
    assert all(float(row[column]) == pytest.approx(0.5, abs=0.2) for row in data["rows"])  # XOR: about half


def test_one_seed_has_no_spread_and_stopped_models_are_listed(swept):
    sweep, _ = swept
    one = Sweep(sweep.base, {"lr": [0.01, 0.1]}, seeds=[0])
    part = run_sweep(one, workers=1)
    part[1] = type(part[1])(**{**part[1].__dict__, "ended": "stopped"})
    parts = sweep_section(one, part)
    kinds = [type(p).__name__ for p in parts]
    assert kinds.count("HoloViews") == 0 and "FlexBox" in kinds  # heatmaps in the box, no spread view
    table = parts[-1].object
    assert "stopped" in table and "1 of 2 models finished" in parts[0].object


def test_command_line_writes_the_report(tmp_path, capsys):
    from tests.cli.test_sweep_cli import BASE, main

    path = tmp_path / "sweep.html"
    code = main(BASE + ["--vary", "lr", "0.01", "0.1", "--vary", "hidden", "4", "3,3", "--seeds", "2", "--report",
                        str(path), "--json"])
    assert code == 0
    page = path.read_text()
    assert remote_references(page) == [] and numbers(page)["models"] == 8
    assert len(json.loads(capsys.readouterr().out)["results"]) == 8
