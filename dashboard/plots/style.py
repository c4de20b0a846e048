"""Colours and sizes shared by every view: class 0 blue and class 1 red, as in the teaching notebook."""

from __future__ import annotations

CLASS_COLORS = ("#4169e1", "#b22222")  # royalblue, firebrick
REGION_COLORS = ("#d4ddf7", "#f0cfcf")  # the same, pale: predicted or true regions under the points
CONTOUR_COLOR = "#111111"
RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
              "#17becf")  # Category10: one colour per run
MAP_SIZE = 260  # frame of the square plots, in pixels
CURVE_HEIGHT = 240
CURVE_CSS = ".nnp-curve { flex: 1 1 380px !important; width: auto !important; min-width: 380px; }"
TABLE_CSS = """
.live-html { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12px; }
th, td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #ddd; white-space: nowrap; }
th { background: #f4f6f8; position: sticky; top: 0; }
tr:last-child td { font-weight: bold; }
"""


def run_color(number: int) -> str:
    return RUN_COLORS[(number - 1) % len(RUN_COLORS)]


def _mix(color: str, other: str, share: float) -> str:
    a = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b))


def probability_palette(steps: int = 256, depth: float = 0.75) -> list[str]:
    """Blue (p = 0) through white (p = 0.5) to red (p = 1); `depth` < 1 keeps the ends light enough for lines."""
    half = steps // 2
    low = [_mix(CLASS_COLORS[0], "#ffffff", 1 - depth * (1 - i / half)) for i in range(half)]
    high = [_mix("#ffffff", CLASS_COLORS[1], depth * (i + 1) / (steps - half)) for i in range(steps - half)]
    return low + high
