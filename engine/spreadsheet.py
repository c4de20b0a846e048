"""Text cells of the CSV files the product writes, made safe to open in a spreadsheet (CSV injection).

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel, LibreOffice and
Google Sheets (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`, `@SUM(...)`). Column names come from users' files (an
uploaded CSV's header), so they are written with a `'` in front, as OWASP's advice on CSV injection says: the
spreadsheet shows the text, and runs nothing. Numbers (-0.5) are left as they are.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """`text` with a `'` in front if a spreadsheet would read it as a formula (numbers left alone)."""
    if not text.startswith(FORMULA_STARTS):
        return text
    try:
        float(text)
        return text
    except ValueError:
        return "'" + text
