"""A sweep as a report section, and as a standalone offline HTML page (`nn-playground sweep ... --report FILE`, the
Sweep tab's "Download sweep report"): `sweep_report_html(sweep, results)`, `write_sweep_report(..., "sweep.html")`.

The page holds what was varied, the base settings, the heatmaps, the spread over seeds and every model's row; its
numbers are also in the page as JSON (`<script id="nnp-report">`). Rendered by render.py's `render_page`.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import panel as pn

from engine.atomic import write_text
from engine.settings import SPECS

from ..plots.sweep import (
    METRICS,
    SWEEP_TABLE_CSS,
    axis_label,
    sweep_grid,
    sweep_heatmap,
    sweep_spread,
    sweep_table_html,
)

SWEEP_TITLE = "sweep"


def _described(sweep) -> str:
    axes = "; ".join(f"{SPECS[name].label} ({name}): {', '.join(axis_label(name, v) for v in _normal(sweep, name))}"
                     for name in sweep.axes) or "nothing (one combination)"
    base = ", ".join(f"{spec.label} {text}" for spec, text in sweep.base.described()
                     if spec.name not in sweep.axes and spec.name != "seed" and spec.group)
    seeds = ", ".join(map(str, sweep.seeds))
    return (f"**Varied:** {html.escape(axes)}.  \n**Seeds:** {seeds}.  \n"
            f"**Base settings:** {html.escape(base)}.")


def _normal(sweep, name: str) -> list:
    seen = []
    for settings in sweep.models():
        value = getattr(settings, name)
        if value not in seen:
            seen.append(value)
    return seen


def sweep_section(sweep, results, metric: str = "test_accuracy") -> list:
    """The report's section on a sweep: what was varied, the heatmap(s), the spread over seeds, the table."""
    finished = sum(r.ended == "finished" for r in results)
    total = len(sweep.models())
    text = (f"## Sweep: {total} models\n\n{_described(sweep)}\n\n{finished} of {total} models finished. Each "
            "accuracy is coloured against its own cell's majority baseline (always answering the most common class "
            "of that cell's test set): grey within a point of it, blue above, red below.")
    parts = [pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(4, 10))]
    if sweep.axes:
        metrics = [metric] + (["test_accuracy"] if metric != "test_accuracy" else [])
        heatmaps = [pn.pane.HoloViews(sweep_heatmap(sweep_grid(sweep, results, m)), margin=5)
                    for m in metrics]
        parts.append(pn.FlexBox(*heatmaps, flex_wrap="wrap", gap="4px", sizing_mode="stretch_width", margin=0))
        if len(sweep.seeds) > 1:
            parts.append(pn.pane.HoloViews(sweep_spread(sweep_grid(sweep, results, metric), width=760), margin=5))
    parts.append(pn.pane.HTML(sweep_table_html(sweep, results), stylesheets=[SWEEP_TABLE_CSS],
                              margin=(0, 10), css_classes=["nnp-sweep-table"]))
    return parts


def sweep_numbers(sweep, results, metric: str) -> dict:
    from engine.sweep_table import csv_rows

    rows = csv_rows(results)
    return {"dataset_title": SWEEP_TITLE, "metric": metric, "axes": list(sweep.axes),
            "seeds": list(sweep.seeds), "models": len(sweep.models()), "columns": rows[0], "rows": rows[1:]}


def sweep_page(sweep, results, metric: str = "test_accuracy") -> pn.Column:
    """The sweep's report as a Panel layout (render.py's `render_page` writes it)."""
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r}: one of {', '.join(METRICS)}")
    date = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    title = pn.pane.Markdown(f"# nn-playground sweep report\n\n{date}", sizing_mode="stretch_width",
                             margin=(4, 10))
    page = pn.Column(title, *sweep_section(sweep, results, metric), width=1180)
    page.report_numbers = sweep_numbers(sweep, results, metric)
    return page


def sweep_report_html(sweep, results, metric: str = "test_accuracy") -> str:
    """The sweep's report as one self-contained HTML page that opens offline."""
    from .render import render_page

    return render_page(sweep_page(sweep, results, metric))


def write_sweep_report(sweep, results, path: str | Path, metric: str = "test_accuracy") -> Path:
    """Write the sweep's report to `path` (written beside it, then renamed: a failure leaves no half file)."""
    path = Path(path)
    write_text(path, sweep_report_html(sweep, results, metric))
    return path
