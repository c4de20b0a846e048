"""Server time per click on the Data tab's drawing: the HoloViews editor (hv.Points in a DynamicMap fed by a Pipe,
clicks from an hv.streams.Tap) against the raw Bokeh one it replaced (a ColumnDataSource streamed one point).

    python bench/draw.py [--clicks N] [--points 0 600 4000]

Median ms per click for the update and the PATCH-DOC message, and its size. Method and results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_plots import Timer as UpdateTimer  # noqa: E402  (bench/ is this script's folder)


class Timer(UpdateTimer):
    """bench/live_plots.py's timer, summed up per click: every click counts (each one may add models)."""

    def summary(self) -> dict:
        update, message = statistics.median(self.update_ms), statistics.median(self.message_ms)
        return {"update_ms": round(update, 1), "message_ms": round(message, 1), "total_ms": round(update + message, 1),
                "message_kb": round(statistics.median(self.message_kb), 1)}


def experiment(points: int):
    from dashboard.session.experiment import Experiment

    return Experiment(dataset="toy_ring", samples=max(points, 40))


def holoviews_clicks(points: int, clicks: int) -> dict:
    import panel as pn

    from dashboard.ui.data_tab import DataEditor

    editor = DataEditor(experiment(points))
    if not points:
        editor.clear()
    timer = Timer()
    timer.doc.add_root(pn.pane.HoloViews(editor.plot).get_root(timer.doc))
    tap = editor.clicks
    for i in range(clicks):  # what HoloViews' server callback does with a tap: update the stream, trigger it
        timer.time(lambda i=i: (tap.update(x=0.2 + 0.6 * i / clicks, y=0.5), tap.trigger([tap])))
    assert len(editor.points) == points + clicks
    return timer.summary()


def bokeh_clicks(points: int, clicks: int) -> dict:
    """The replaced editor's drawing, as it was: a figure, a source, one streamed point and a new title per click."""
    import numpy as np
    from bokeh.events import Tap
    from bokeh.models import ColumnDataSource, Range1d
    from bokeh.plotting import figure
    from bokeh.transform import linear_cmap

    from dashboard.plots.style import CLASS_COLORS

    data = experiment(points).data
    labels = data.labels.astype(int)[:points]
    source = ColumnDataSource({"x": data.points[:points, 0], "y": data.points[:points, 1], "label": labels})
    fig = figure(frame_width=340, frame_height=340, tools="save", x_range=Range1d(0, 1), y_range=Range1d(0, 1))
    fig.scatter("x", "y", color=linear_cmap("label", CLASS_COLORS, 0, 1), size=6, line_color="#222222",
                line_width=0.5, source=source)
    drawn = {"labels": labels}

    def tap(event) -> None:
        drawn["labels"] = np.append(drawn["labels"], 1)
        source.stream({"x": [event.x], "y": [event.y], "label": [1]})
        counts = np.bincount(drawn["labels"], minlength=2)
        fig.title.text = f"Drawing: {counts[0]} blue + {counts[1]} red (not used yet)"

    fig.on_event(Tap, tap)
    timer = Timer()
    timer.doc.add_root(fig)
    for i in range(clicks):
        event = Tap(fig, x=0.2 + 0.6 * i / clicks, y=0.5, sx=0, sy=0)
        timer.time(lambda event=event: fig._trigger_event(event))
    return timer.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--points", type=int, nargs="+", default=[0, 600, 4000])
    args = parser.parse_args()
    print(f"{'points':>7}  {'route':<10} {'update ms':>9} {'message ms':>10} {'total ms':>8} {'kB':>6}")
    for points in args.points:
        for route, run in (("bokeh", bokeh_clicks), ("holoviews", holoviews_clicks)):
            run(points, 3)  # warm up: imports and first renders
            result = run(points, args.clicks)
            print(f"{points:>7}  {route:<10} {result['update_ms']:>9} {result['message_ms']:>10} "
                  f"{result['total_ms']:>8} {result['message_kb']:>6}")


if __name__ == "__main__":
    main()
