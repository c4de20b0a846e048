"""Small pictures of the datasets for the dataset picker: each toy pattern's exact function drawn as a tiny map,
the generated shapes and Iris as their points, your own data as a plain tile.

They are PNG images (as data: URLs) made once per process with numpy and shared read-only by every session: a
HoloViews or Bokeh plot per tile would add ten figures to every page, where these cost a session nothing but
the ~15 kB of text that carries them.
"""

from __future__ import annotations

import base64
import functools
import struct
import zlib

import numpy as np

from engine import Settings, load_dataset
from engine.catalog import DATASETS

from .style import CLASS_COLORS, REGION_COLORS

SIZE = 48  # pixels of a thumbnail's side (shown at ~40 px: sharp on screens of up to 1.2 device pixels a pixel)
BACKGROUND = "#f4f6f8"
POINTS = 500  # points drawn of a generated shape


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)


def _png(pixels: np.ndarray) -> bytes:
    """An (h, w, 3) uint8 image as PNG bytes (zlib and the PNG chunk format: no imaging library needed)."""
    height, width, _ = pixels.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter 0 (none) before every row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def _cell_centres() -> np.ndarray:
    """The pixel centres in the unit square, row by row from the top (y = 1) down."""
    steps = (np.arange(SIZE) + 0.5) / SIZE
    x, y = np.meshgrid(steps, steps[::-1])
    return np.column_stack([x.ravel(), y.ravel()])


def _exact_map(name: str) -> np.ndarray:
    labels = DATASETS[name].exact(_cell_centres()).reshape(SIZE, SIZE).astype(int)
    return np.stack([_rgb(REGION_COLORS[0]), _rgb(CLASS_COLORS[1])])[labels]


def _points(name: str) -> np.ndarray:
    """The dataset's points as 2x2 dots, in their class colours, over a light background."""
    settings = Settings(dataset=name) if name == "iris" else Settings(dataset=name, samples=POINTS)
    data = load_dataset(settings)
    pixels = np.tile(_rgb(BACKGROUND), (SIZE, SIZE, 1))
    spots = np.clip((data.normalise(data.points) * (SIZE - 2)).astype(int), 0, SIZE - 2)
    colors = np.stack([_rgb(c) for c in CLASS_COLORS])[data.labels.astype(int)]
    for dx in (0, 1):
        for dy in (0, 1):
            pixels[SIZE - 2 - spots[:, 1] + dy, spots[:, 0] + dx] = colors
    return pixels


def _blank() -> np.ndarray:
    """Your own data: a light tile with a dashed frame (what you upload or draw goes there)."""
    pixels = np.tile(_rgb(BACKGROUND), (SIZE, SIZE, 1))
    dash = (np.arange(SIZE) // 4) % 2 == 0
    for edge in (3, SIZE - 4):
        pixels[edge, dash] = pixels[dash, edge] = _rgb("#8a96a3")
    return pixels


@functools.cache
def thumbnails() -> dict[str, str]:
    """{dataset name: its picture as a data: URL}, for every dataset; made once per process (~0.1 s, plus
    scikit-learn's dataset module on first use)."""
    pictures = {}
    for name, spec in DATASETS.items():
        pixels = _exact_map(name) if spec.exact else _blank() if spec.kind == "own" else _points(name)
        pictures[name] = "data:image/png;base64," + base64.b64encode(_png(pixels)).decode("ascii")
    return pictures
