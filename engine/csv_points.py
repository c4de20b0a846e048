"""Read a user's CSV of labelled points: two numeric columns and a 0/1 label column, header optional.

The file is read as a stream, with its limits applied while reading, so a huge or hostile file is refused after
at most a few megabytes: at most `MAX_ROWS` data rows, `MAX_LINE_CHARS` characters a line (a row of points is
some 30 to 80), and csv's own field limit; every problem is a `CsvError` naming the source and line.
`MAX_CSV_BYTES` is the size the app accepts for an upload (200,000 rows of shortest float text fit in ~6 MB).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

MAX_ROWS = 200_000
MAX_LINE_CHARS = 1_000
MAX_CSV_BYTES = 10 * 2**20  # uploads in the app (the websocket carries them base64-encoded, 4/3 larger)


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
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return read_points(handle, str(path))
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CsvError(f"{path}: not a text (UTF-8) file") from None
    except OSError as error:
        raise CsvError(f"{path}: cannot be read ({error.strerror or error})") from None


def parse_points_csv(text: str, source: str = "CSV") -> PointsTable:
    """`read_points_csv` for text already in memory (an upload); `source` names it in messages."""
    return read_points(io.StringIO(text.removeprefix("\ufeff"), newline=""), source)


def read_points(handle: TextIO, source: str = "CSV") -> PointsTable:
    """Read points from an open text stream, row by row, within the module's limits."""
    reader = csv.reader(_lines(handle, source))
    names = ("x", "y")
    width = 3
    first = True
    xs: list[float] = []
    ys: list[float] = []
    labels: list[float] = []
    try:
        for row in reader:
            line = reader.line_num
            if line > 2 * MAX_ROWS + 1:
                raise CsvError(f"{source}: more than {2 * MAX_ROWS + 1} lines")
            if not any(cell.strip() for cell in row):
                continue
            if any("\0" in cell for cell in row):  # csv reads a NUL; a name with one breaks plots later
                raise CsvError(f"{source}, line {line}: a NUL character (not a text CSV file)")
            if first:
                first = False
                if len(row) in (3, 4) and not _is_number(row[0].strip()):
                    names = (row[0].strip() or "x", row[1].strip() or "y")
                    # A file written by `nn-playground data` has a 4th `split` column; it is read but not used:
                    # the split is made anew from the settings.
                    width = 4 if len(row) == 4 and row[3].strip() == "split" else 3
                    continue
            if len(labels) == MAX_ROWS:
                raise CsvError(f"{source}: more than the {MAX_ROWS} rows allowed")
            if len(row) != width:
                expected = "4 columns (x, y, label, split)" if width == 4 else "3 columns (x, y, label)"
                raise CsvError(f"{source}, line {line}: expected {expected}, found {len(row)}")
            for column, values in ((0, xs), (1, ys)):
                cell = row[column].strip()
                value = float(cell) if _is_number(cell) else math.nan
                if not math.isfinite(value):
                    raise CsvError(f"{source}, line {line}, column {column + 1}: {_short(cell)} is not a finite number")
                values.append(value)
            label = row[2].strip()
            if label not in ("0", "1", "0.0", "1.0"):
                raise CsvError(f"{source}, line {line}, column 3: the label must be 0 or 1, got {_short(label)}")
            labels.append(float(label))
    except csv.Error as error:  # a NUL byte, a runaway quoted field...
        raise CsvError(f"{source}, line {reader.line_num}: not readable as CSV ({error})") from None
    if first:
        raise CsvError(f"{source}: the file is empty")
    if not labels:
        raise CsvError(f"{source}: no data rows after the header")
    with np.errstate(over="ignore"):  # checked just below
        points = np.column_stack([np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)])
    for column in (0, 1):
        if not np.all(np.isfinite(points[:, column])):
            raise CsvError(f"{source}, column {column + 1}: a value is too large for 32-bit floats")
        if points[:, column].min() == points[:, column].max():
            raise CsvError(f"{source}, column {column + 1}: every value is the same, so it cannot be scaled")
    return PointsTable(points=points, labels=np.asarray(labels, dtype=np.float32), feature_names=names)


def _lines(handle: TextIO, source: str) -> Iterator[str]:
    """The stream's lines, refusing one longer than MAX_LINE_CHARS before reading the rest of it."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            raise CsvError(f"{source}, line {number}: longer than {MAX_LINE_CHARS} characters (not a row of points)")
        yield line


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
