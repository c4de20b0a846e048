"""The offline HTML report: `build_report` lays out the page (page.py), `write_report` writes it as one
self-contained file (render.py); `experiment_report_html` reports a dashboard experiment (from_experiment.py)."""

from .page import ReportError, build_report, collect_snapshots
from .render import remote_references, report_html, write_report

__all__ = ["ReportError", "build_report", "collect_snapshots", "remote_references", "report_html", "write_report"]
