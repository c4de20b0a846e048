"""A sweep's results as rows and as CSV text: one row per model, every setting and the final metrics.

Shared by the command line (`nn-playground sweep -o results.csv`), the app's Sweep tab (its CSV download) and
anyone reading results back with pandas (`pd.read_csv`).
"""

from __future__ import annotations

import csv
import io
import math

from .settings import SPECS

METRICS = ("epoch", "loss", "test_loss", "train_accuracy", "test_accuracy")
COLUMNS = ["model", *SPECS, *METRICS, "majority", "agreement", "epochs_to_halfway", "seconds", "ended"]


def shown(value) -> str:
    """A value as a CSV cell: lists with commas ('8,8', '0' for no hidden layer), '' for None or not finite."""
    if isinstance(value, tuple):
        return ",".join(map(str, value)) if value else "0"
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return "" if value is None else str(value)


def csv_rows(results) -> list[list[str]]:
    """The header and one row per `ModelResult`."""
    rows = [list(COLUMNS)]
    for r in results:
        final = r.final or {}
        rows.append([str(r.index)] + [shown(getattr(r.settings, name)) for name in SPECS]
                    + [shown(final.get(key)) for key in METRICS]
                    + [shown(r.majority), shown(r.agreement), shown(r.epochs_to_halfway), f"{r.seconds:.4f}", r.ended])
    return rows


def csv_text(results) -> str:
    """The results as CSV text (what `nn-playground sweep -o FILE` writes)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(csv_rows(results))
    return buffer.getvalue()
