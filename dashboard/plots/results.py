"""Plots of the static report that the app does not have: curves of every run, snapshots under a slider, confusion.

The curves and the confusion matrices are HoloViews, drawn once. The snapshot player is the app's own Bokeh
`DecisionMap` with a CustomJS slider over frames all in the page: a HoloViews HoloMap with `embed=True` saved 13
times slower, with less in it (docs/performance.md). Colours come from `style.py`, so the report looks like the app.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np

from engine import Dataset, History
from engine.evaluation import Evaluation, GridMap
from engine.snapshots import Snapshots

from .geometry import contour_lines
from .live import DecisionMap
from .views import curves, decision_map, target_map  # noqa: F401  (curves: the report's, from views)


def map_views(dataset: Dataset, grid: GridMap):
    """The decision map (probability, 0.5 contour, the points) and the exact target (or all points), as two
    HoloViews overlays drawn like the app's live figures."""
    return decision_map(grid, dataset), target_map(dataset, grid)


def _history_at(history: History, epoch: int) -> int | None:
    """The index of `epoch` in the history, or None."""
    try:
        return history.epoch.index(epoch)
    except ValueError:
        return None


def snapshot_caption(dataset: Dataset, history: History, epoch: int, grid: GridMap) -> str:
    """What the map at `epoch` scores (HTML): accuracies beside the majority-class baseline, and the agreement."""
    if epoch == 0:
        parts = ["<b>Epoch 0</b>: the network before training"]
    else:
        parts = [f"<b>Epoch {epoch}</b>"]
        index = _history_at(history, epoch)
        if index is not None:
            parts.append(f"training accuracy {100 * history.train_accuracy[index]:.1f}%, "
                         f"test accuracy {100 * history.test_accuracy[index]:.1f}% "
                         f"(majority class {100 * dataset.majority_share('test'):.1f}%)")
    if grid.agreement is not None:
        parts.append(f"agrees with the exact target on {100 * grid.agreement:.1f}% of the square")
    return ": ".join(parts[:2]) + "".join(f"; {part}" for part in parts[2:]) + "."


def snapshot_grid(dataset: Dataset, snapshots: Snapshots, index: int) -> GridMap:
    """Snapshot `index` as a GridMap (with the exact target and the agreement on toy data)."""
    probability = snapshots.maps[index]
    exact = agreement = None
    if dataset.exact is not None:
        grid_x, grid_y = np.meshgrid(snapshots.xs, snapshots.ys)
        exact = dataset.exact(np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(np.float32))
        exact = exact.reshape(probability.shape)
        agreement = float(np.mean((probability >= 0.5) == (exact >= 0.5)))
    return GridMap(snapshots.xs, snapshots.ys, probability, exact, agreement)


SNAPSHOT_JS = """
const i = Math.round(slider.value);
image.data = {...image.data, image: [frames.data.image[i]]};
contour.data = {xs: frames.data.xs[i], ys: frames.data.ys[i]};
figure.title.text = "Model at epoch " + frames.data.epoch[i] + ": P(class 1)";
caption.text = frames.data.caption[i];
"""
PLAY_JS = """
if (button.tags.length) {  // playing: stop
  clearInterval(button.tags[0]); button.tags = []; button.label = "\u25b6 Play"; return;
}
if (slider.value >= slider.end) { slider.value = slider.start; }
button.label = "\u275a\u275a Pause";
button.tags = [setInterval(() => {
  if (slider.value >= slider.end) {
    clearInterval(button.tags[0]); button.tags = []; button.label = "\u25b6 Play"; return;
  }
  slider.value = slider.value + 1;
}, 400)];
"""


def snapshot_player(dataset: Dataset, history: History, snapshots: Snapshots):
    """The decision map at each snapshot under a slider (and a Play button), all frames in the page: the slider
    copies one into the app's own `DecisionMap` in the browser (CustomJS), no Python, no server. Not a HoloViews
    HoloMap embed: that saved 13 times slower (docs/performance.md), without the caption, the points and Play."""
    from bokeh.layouts import column, row
    from bokeh.models import (
        Button,
        ColumnDataSource,
        CustomJS,
        CustomJSTickFormatter,
        Div,
        Slider,
    )

    grids = [snapshot_grid(dataset, snapshots, index) for index in range(len(snapshots))]
    lines = [contour_lines(grid) for grid in grids]
    frames = ColumnDataSource({
        "epoch": list(snapshots.epochs),
        "image": [grid.probability for grid in grids],
        "xs": [[list(map(float, xs)) for xs in line["xs"]] for line in lines],
        "ys": [[list(map(float, ys)) for ys in line["ys"]] for line in lines],
        "caption": [snapshot_caption(dataset, history, epoch, grid) for epoch, grid in zip(snapshots.epochs, grids)],
    }, name="nnp-snapshot-frames")
    shown = len(grids) - 1  # the page opens on the last snapshot: the trained model
    live = DecisionMap(dataset)
    live.show(grids[shown])
    live.image.name = "nnp-snapshot-image"
    live.figure.title.text = f"Model at epoch {snapshots.epochs[shown]}: P(class 1)"
    live.figure.name = "nnp-snapshot-map"
    caption = Div(text=frames.data["caption"][shown], width=560, name="nnp-snapshot-caption",
                  styles={"font-size": "13px"})
    slider = Slider(start=0, end=max(1, len(grids) - 1), value=shown, step=1, title="Epoch", width=380,
                    disabled=len(grids) < 2, name="nnp-snapshot-slider",
                    format=CustomJSTickFormatter(args={"epochs": list(snapshots.epochs)},
                                                 code="return String(epochs[Math.round(tick)] ?? '')"))
    slider.js_on_change("value", CustomJS(args={"slider": slider, "frames": frames, "image": live.image,
                                                "contour": live.contour, "figure": live.figure, "caption": caption},
                                          code=SNAPSHOT_JS))
    play = Button(label="\u25B6 Play", width=90, disabled=len(grids) < 2, name="nnp-snapshot-play")
    play.js_on_event("button_click", CustomJS(args={"button": play, "slider": slider}, code=PLAY_JS))
    return column(row(play, slider), caption, live.figure)


def confusion_view(dataset: Dataset, evaluation: Evaluation, which: str):
    """The confusion matrix as a small heat map: true class down, predicted class across, counts written in."""
    matrix = evaluation.train_confusion if which == "train" else evaluation.test_confusion
    names = dataset.class_names
    cells = [(f"predicted {names[p]}", f"true {names[t]}", int(matrix[t, p])) for t in (1, 0) for p in (0, 1)]
    total = int(matrix.sum())
    heat = hv.HeatMap(cells, ["predicted", "true"], "points").opts(
        cmap="Blues",
        clim=(0, 1.6 * max(1, int(matrix.max()))),
        tools=["hover"],
        width=300,
        height=230,
        xlabel="",
        ylabel="",
        colorbar=False,
        title=f"{'Training' if which == 'train' else 'Test'} set: {total} points",
        toolbar=None,
        xaxis="top",
        fontsize={"title": "10pt", "ticks": "9pt"},
    )
    labels = hv.Labels([(x, y, f"{count}\n{100 * count / max(total, 1):.1f}%") for x, y, count in cells],
                       ["predicted", "true"], "text").opts(text_font_size="11pt", text_color="#111111")
    return heat * labels
