"""Runs as the user sees them, and the one formatter of a run's row (the app's runs table and the report's).

A row holds the run's number, every setting the app offers (plain values; lists as text such as '8,8') and its
final or latest metrics. Tables show the settings that differ between runs (`shown_columns`).
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from engine import Dataset, History, Settings
from engine.hints import Case, rule_hint
from engine.setting_types import format_value
from engine.settings import SPECS

ALWAYS_SHOWN = (
    "dataset",
    "hidden",
    "activation",
    "lr",
)  # setting columns a runs table always shows; others only where runs differ
# Points drawn in the Data tab are named as drawn wherever the dataset is named; their file is DRAWN_FILE (an
# upload's file is named after the uploaded file, with no space: `own_files.SessionFolder.new_file`).
DRAWN = "drawn points"
DRAWN_FILE = f"{DRAWN}.csv"
RESULTS = ("epochs", "ended", "loss", "train acc %", "test acc %", "majority %", "agreement %", "seconds")


def percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def is_drawn(settings: Settings | dict) -> bool:
    """Whether the settings' data are points drawn in the Data tab."""
    values = settings.to_dict() if isinstance(settings, Settings) else settings
    return values.get("dataset") == "csv" and Path(values.get("csv_path") or "").name == DRAWN_FILE


def dataset_text(settings: Settings | dict) -> str:
    """The dataset as tables and status lines name it: 'drawn points', else by its declaration."""
    values = settings.to_dict() if isinstance(settings, Settings) else settings
    return DRAWN if is_drawn(values) else SPECS["dataset"].text(values["dataset"])


def run_row(number: int, settings: Settings | dict, *, model: int | None = None, first_epoch: int = 0,
            last_epoch: int | None = None, ended: str = "", loss: float | None = None,
            train_accuracy: float | None = None, test_accuracy: float | None = None, majority: float | None = None,
            agreement: float | None = None, seconds: float = 0.0) -> dict:
    """One run's row: its number (and model), its settings, its metrics."""
    values = settings.to_dict() if isinstance(settings, Settings) else settings
    row = {"run": number, **({} if model is None else {"model": model})}
    for name, spec in SPECS.items():
        if spec.group and name not in RESULTS:  # the run's "epochs" are the ones it trained
            value = values[name]
            row[name] = format_value(value) if isinstance(value, (list, tuple)) else value
    if is_drawn(values):
        row["dataset"] = DRAWN
    row.update({
        "epochs": "" if last_epoch is None else f"{first_epoch}-{last_epoch}",
        "ended": ended,
        "loss": None if loss is None else round(loss, 4),
        "train acc %": percent(train_accuracy),
        "test acc %": percent(test_accuracy),
        "majority %": percent(majority),
        "agreement %": percent(agreement),
        "seconds": round(seconds, 2),
    })
    return row


def shown_columns(rows: list[dict]) -> list[str]:
    """The columns a runs table shows: run (and model), the settings that differ between the runs (and
    ALWAYS_SHOWN), the results; the agreement only where some run has one."""
    first = rows[0]
    settings = [name for name in first if name in SPECS and name not in RESULTS]
    varying = [name for name in settings if name in ALWAYS_SHOWN or len({str(row[name]) for row in rows}) > 1]
    results = [name for name in RESULTS if name != "agreement %" or any(row[name] is not None for row in rows)]
    return [name for name in ("run", "model") if name in first] + varying + results


def cell_text(name: str, value) -> str:
    """A cell as a table shows it: a setting by its declaration ('full batch'), a metric as it is."""
    if value is None:
        return ""
    spec = None if name in RESULTS else SPECS.get(name)
    if spec is not None:
        return spec.text(spec.parse(value) if isinstance(value, str) else value)
    return format(value)


def column_title(name: str) -> str:
    return SPECS[name].label.lower() if name in SPECS and name not in RESULTS else name


def runs_table(runs: list[dict]) -> str:
    """The runs as an HTML table: the settings that differ between them, and their results (pandas' to_html costs
    ~20-100 ms a call; this, well under 1 ms)."""
    if not runs:
        return "<p>No runs yet. Each Train, Continue or Step adds one here, with its settings and final metrics.</p>"
    columns = shown_columns(runs)
    head = "".join(f"<th>{html.escape(column_title(name))}</th>" for name in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell_text(name, run[name]))}</td>" for name in columns) + "</tr>"
        for run in runs
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclasses.dataclass
class RunRecord:
    """One run as the user sees it (one Train, Continue or Step, with its pauses)."""

    number: int
    model: int
    first_epoch: int
    requested: int
    settings: Settings
    done: int = 0
    seconds: float = 0.0
    ended: str = "running"  # running, paused, finished, stopped, diverged, failed
    message: str = ""
    last_epoch: int | None = None
    loss: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    majority: float | None = None  # test accuracy of always answering the most common class
    agreement: float | None = None  # share of the grid where the map agrees with the exact target (toy data)

    def row(self) -> dict:
        """The run's line in the runs table: its settings and its final (or latest) metrics."""
        return run_row(self.number, self.settings, model=self.model, first_epoch=self.first_epoch,
                       last_epoch=self.last_epoch, ended=self.ended, loss=self.loss,
                       train_accuracy=self.train_accuracy, test_accuracy=self.test_accuracy, majority=self.majority,
                       agreement=self.agreement, seconds=self.seconds)


def status_line(record: RunRecord, history: History) -> str:
    """The notebook's status line of the run's last epoch (and the rate, when a schedule changes it)."""
    epoch = history.epoch[-1] - record.first_epoch + 1
    line = (
        f"Epoch {epoch:02d}/{record.requested:02d} | loss = {history.loss[-1]:.4f} | "
        f"train acc = {100 * history.train_accuracy[-1]:5.1f}% | test acc = {100 * history.test_accuracy[-1]:5.1f}%"
    )
    return line + (f" | lr = {history.lr[-1]:.2e}" if record.settings.schedule != "constant" else "")


def baseline_advice(record: RunRecord, data: Dataset) -> str:
    """The message of the majority-baseline hint (its rule is in engine.hints' table) for a run, "" if it does not
    fire: the run's message says it too."""
    if record.test_accuracy is None or record.last_epoch is None:
        return ""
    last = History(epoch=[record.last_epoch], test_accuracy=[record.test_accuracy])
    hint = rule_hint("majority", Case(record.settings, last, data))
    return "" if hint is None else hint.message
