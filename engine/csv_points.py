"""Read a user's CSV of labelled points: two numeric columns and a 0/1 label column, header optional."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_ROWS = 200_000


class CsvError(ValueError):
    """The CSV cannot be used; the message names the file, line and column at fault."""


@dataclass(frozen=True)
class PointsTable:
    points: np.ndarray  # (n, 2) float32
    labels: np.ndarray  # (n,) float32, 0 or 1
    feature_names: tuple[str, str]


def read_points_csv(path: str | Path) -> PointsTable:
    """Read `x, y, label` rows. A first row that is not numeric is taken as the header naming the columns."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CsvError(f"{path}: cannot be read ({error})") from None
    return parse_points_csv(text, str(path))


def parse_points_csv(text: str, source: str = "CSV") -> PointsTable:
    rows = [(number, row) for number, row in enumerate(csv.reader(text.splitlines()), start=1) if any(c.strip() for c in row)]
    if not rows:
        raise CsvError(f"{source}: the file is empty")
    names = ("x", "y")
    width = 3
    first = rows[0][1]
    if len(first) in (3, 4) and not _is_number(first[0].strip()):
        names = (first[0].strip() or "x", first[1].strip() or "y")
        # A file written by `nn-playground data` has a 4th `split` column; it is read but not used: the
        # split is made anew from the settings.
        width = 4 if len(first) == 4 and first[3].strip() == "split" else 3
        rows = rows[1:]
    if len(rows) > MAX_ROWS:
        raise CsvError(f"{source}: {len(rows)} rows is more than the {MAX_ROWS} allowed")
    points = np.empty((len(rows), 2), dtype=np.float32)
    labels = np.empty(len(rows), dtype=np.float32)
    for index, (line, row) in enumerate(rows):
        if len(row) != width:
            expected = "4 columns (x, y, label, split)" if width == 4 else "3 columns (x, y, label)"
            raise CsvError(f"{source}, line {line}: expected {expected}, found {len(row)}")
        for column in (0, 1):
            cell = row[column].strip()
            value = float(cell) if _is_number(cell) else math.nan
            if not math.isfinite(value):
                raise CsvError(f"{source}, line {line}, column {column + 1}: {cell!r} is not a finite number")
            points[index, column] = value
        label = row[2].strip()
        if label not in ("0", "1", "0.0", "1.0"):
            raise CsvError(f"{source}, line {line}, column 3: the label must be 0 or 1, got {label!r}")
        labels[index] = float(label)
    if len(rows) == 0:
        raise CsvError(f"{source}: no data rows after the header")
    for column in (0, 1):
        if points[:, column].min() == points[:, column].max():
            raise CsvError(f"{source}, column {column + 1}: every value is the same, so it cannot be scaled")
    return PointsTable(points=points, labels=labels, feature_names=names)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
