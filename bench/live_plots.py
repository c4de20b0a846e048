"""Server-side cost of the live plots: today's in-place Bokeh updates against HoloViews DynamicMaps fed by streams.

    python bench/live_plots.py [--updates N] [--seconds S] [--json FILE]

One recorded 3x64 run replayed into a Bokeh Document per route: ms per update and PATCH-DOC message, then the app's
schedule beside a training thread ("served"). The method and the results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's packages

EPOCHS_PER_UPDATE = 10  # epochs trained between two live updates
CURVE_ROWS = EPOCHS_PER_UPDATE  # new epochs per curve update: one curve update per map update


def record(updates: int, epochs_per_update: int = EPOCHS_PER_UPDATE):
    """Train the 3x64 net, keeping per update: grid 100, grid 200, neurons, weights, history length."""
    import torch

    from engine import Settings, Trainer
    from engine.evaluation import evaluate_grid
    from engine.snapshots import neuron_view, weight_view

    torch.set_num_threads(1)
    trainer = Trainer(Settings(dataset="toy_xor", hidden=(64, 64, 64), activation="tanh", lr=0.01,
                               epochs=updates * epochs_per_update))
    frames = []

    def keep(progress):
        frames.append(
            {
                "grid100": evaluate_grid(trainer, 100),
                "grid200": evaluate_grid(trainer, 200),
                "neurons": neuron_view(trainer),
                "weights": weight_view(trainer),
                "epochs": len(trainer.history),
            }
        )

    started = time.perf_counter()
    trainer.train(callback=keep, every=epochs_per_update)
    return trainer, frames, time.perf_counter() - started


class Timer:
    """A Document whose change events are collected, so that each update's PATCH-DOC message can be built."""

    def __init__(self) -> None:
        from bokeh.document import Document

        self.doc = Document()
        self.events: list = []
        self.doc.on_change(self.events.append)
        self.update_ms: list[float] = []
        self.message_ms: list[float] = []
        self.message_kb: list[float] = []

    def add(self, model) -> None:
        self.doc.add_root(model)
        self.events.clear()

    def time(self, update) -> None:
        from bokeh.protocol import Protocol

        self.events.clear()
        start = time.perf_counter()
        update()
        middle = time.perf_counter()
        size = 0
        if self.events:
            message = Protocol().create("PATCH-DOC", list(self.events))
            size = len(message.header_json) + len(message.content_json) + sum(
                len(buffer.to_bytes()) for buffer in message.buffers)
        end = time.perf_counter()
        self.update_ms.append(1000 * (middle - start))
        self.message_ms.append(1000 * (end - middle))
        self.message_kb.append(size / 1024)

    def summary(self) -> dict:
        update, message = statistics.median(self.update_ms[1:]), statistics.median(self.message_ms[1:])
        return {"update_ms": round(update, 2), "message_ms": round(message, 2),
                "message_kb": round(statistics.median(self.message_kb[1:]), 1),
                "updates_per_s": round(1000 / (update + message), 1), "updates": len(self.update_ms) - 1}


def growing(history, total: int):
    """Copies of the first 0, CURVE_ROWS, 2 CURVE_ROWS, ... epochs of `history`, into one History that grows."""
    from engine import History

    live = History()
    keys = ("epoch", "loss", "train_accuracy", "test_accuracy", "test_loss", "lr", "run")
    for end in range(CURVE_ROWS, total + 1, CURVE_ROWS):
        start = len(live)
        for key in keys:
            getattr(live, key).extend(getattr(history, key)[start:end])
        yield live, start, end


# ----- the routes -----
def bokeh_map(dataset, grids) -> dict:
    from dashboard.plots.live import DecisionMap

    timer = Timer()
    figure = DecisionMap(dataset)
    timer.add(figure.figure)
    for grid in grids:
        timer.time(lambda grid=grid: figure.show(grid))
    return timer.summary()


def holoviews_map(dataset, grids) -> dict:
    import holoviews as hv
    import panel as pn

    from dashboard.plots.views import contour, frame, points_layers, probability_image

    timer = Timer()
    pipe = hv.streams.Pipe(data=grids[0])
    dynamic = hv.DynamicMap(lambda data: probability_image(data, dataset) * contour(data, dataset), streams=[pipe])
    overlay = frame(dynamic * hv.Overlay(points_layers(dataset)), dataset, "Model: P(class 1), 0.5 contour")
    timer.time(lambda: timer.add(pn.pane.HoloViews(overlay).get_root(timer.doc)))
    for grid in grids[1:]:
        timer.time(lambda grid=grid: pipe.send(grid))
    image = [model for model in timer.doc.models if type(model).__name__ == "GlyphRenderer"
             and type(model.glyph).__name__ == "Image"][0].data_source
    assert (image.data["image"][0] == grids[-1].probability.astype("float32")).all(), "the map was not updated"
    return timer.summary()


def bokeh_curves(history, total: int) -> dict:
    from dashboard.plots.live_curves import Curves

    timer = Timer()
    curves = Curves()
    curves.set_span(total)
    timer.add(curves.loss)
    timer.add(curves.accuracy)
    for live, _, _ in growing(history, total):
        timer.time(lambda live=live: curves.update(live))
    return timer.summary()


def holoviews_curves(history, total: int) -> dict:
    import holoviews as hv
    import pandas as pd
    import panel as pn

    timer = Timer()
    columns = ["epoch", "loss", "test_loss", "train", "test"]
    buffer = hv.streams.Buffer(pd.DataFrame({key: [] for key in columns}, dtype=float), length=1_000_000,
                               index=False)
    loss = hv.DynamicMap(lambda data: hv.Curve(data, "epoch", "loss") * hv.Curve(data, "epoch", "test_loss")
                         .opts(line_dash="dashed"), streams=[buffer]).opts(height=240, responsive=True,
                                                                           xlim=(0, total))
    accuracy = hv.DynamicMap(lambda data: hv.Curve(data, "epoch", "train") * hv.Curve(data, "epoch", "test")
                             .opts(line_dash="dashed"), streams=[buffer]).opts(height=240, responsive=True,
                                                                               xlim=(0, total), ylim=(0, 105))
    timer.add(pn.pane.HoloViews(loss).get_root(timer.doc))
    timer.add(pn.pane.HoloViews(accuracy).get_root(timer.doc))
    for live, start, end in growing(history, total):
        rows = pd.DataFrame({"epoch": live.epoch[start:end], "loss": live.loss[start:end],
                             "test_loss": live.test_loss[start:end],
                             "train": [100 * v for v in live.train_accuracy[start:end]],
                             "test": [100 * v for v in live.test_accuracy[start:end]]}, dtype=float)
        timer.time(lambda rows=rows: buffer.send(rows))
    return timer.summary()


def bokeh_network(settings, frames) -> dict:
    from dashboard.plots.network import NetworkDiagram

    timer = Timer()
    diagram = NetworkDiagram()
    diagram.layout(settings.features, settings.hidden)
    timer.add(diagram.fig)
    for frame in frames:
        timer.time(lambda frame=frame: diagram.show(frame["neurons"], frame["weights"]))
    return timer.summary()


def holoviews_network(settings, frames) -> dict:
    import holoviews as hv
    import panel as pn

    from dashboard.plots.network import network_view

    timer = Timer()
    pipe = hv.streams.Pipe(data=frames[0])
    dynamic = hv.DynamicMap(lambda data: network_view(settings.features, settings.hidden, data["neurons"],
                                                      data["weights"]), streams=[pipe])
    timer.time(lambda: timer.add(pn.pane.HoloViews(dynamic).get_root(timer.doc)))
    for frame in frames[1:]:
        timer.time(lambda frame=frame: pipe.send(frame))
    return timer.summary()


class Route:
    """One plot of one route in a Timer's document, updated by `update(item)`."""

    def __init__(self, timer: Timer, kind: str, route: str, dataset, total: int) -> None:
        import holoviews as hv
        import pandas as pd
        import panel as pn

        from dashboard.plots.live import DecisionMap
        from dashboard.plots.live_curves import Curves
        from dashboard.plots.views import (
            contour,
            frame,
            points_layers,
            probability_image,
        )

        self.kind, self.route = kind, route
        if (kind, route) == ("map", "bokeh"):
            figure = DecisionMap(dataset)
            timer.add(figure.figure)
            self.update = figure.show
        elif (kind, route) == ("map", "holoviews"):
            pipe = hv.streams.Pipe(data=None)
            dynamic = hv.DynamicMap(lambda data: (probability_image(data, dataset) * contour(data, dataset))
                                    if data is not None else hv.Image([]) * hv.Path([]), streams=[pipe])
            timer.add(pn.pane.HoloViews(frame(dynamic * hv.Overlay(points_layers(dataset)), dataset, "map"))
                      .get_root(timer.doc))
            self.update = pipe.send
        elif (kind, route) == ("curves", "bokeh"):
            curves = Curves()
            curves.set_span(total)
            timer.add(curves.loss)
            timer.add(curves.accuracy)
            self.update = lambda rows: curves.update(rows[0])
        else:
            columns = ["epoch", "loss", "test_loss", "train", "test"]
            buffer = hv.streams.Buffer(pd.DataFrame({key: [] for key in columns}, dtype=float), length=1_000_000,
                                       index=False)
            for y, dashed in (("loss", "test_loss"), ("train", "test")):
                dynamic = hv.DynamicMap(lambda data, y=y, dashed=dashed: hv.Curve(data, "epoch", y)
                                        * hv.Curve(data, "epoch", dashed).opts(line_dash="dashed"), streams=[buffer])
                timer.add(pn.pane.HoloViews(dynamic.opts(height=240, responsive=True, xlim=(0, total)))
                          .get_root(timer.doc))
            self.update = lambda rows: buffer.send(rows[1])


def served(dataset, settings, grids, map_route: str, curve_route: str, seconds: float) -> dict:
    """The app's schedule with these two routes while a worker thread trains (see the module's docstring)."""
    import threading

    import pandas as pd

    from engine import History, Trainer

    timer = Timer()
    trainer = Trainer(settings.replace(epochs=1_000_000))
    maps = Route(timer, "map", map_route, dataset, 4000)
    curves = Route(timer, "curves", curve_route, dataset, 4000)
    live = History()
    stop = threading.Event()
    worker = threading.Thread(target=lambda: trainer.train(
        callback=lambda progress: trainer.request_stop() if stop.is_set() else None, every=1))
    worker.start()
    counts = {"map": 0, "curves": 0}
    start = time.perf_counter()
    next_curves = start
    while (now := time.perf_counter()) < start + seconds:
        if now >= next_curves:
            history, begin = trainer.history, len(live)
            keys = ("epoch", "loss", "train_accuracy", "test_accuracy", "test_loss", "lr", "run")
            end = min(len(getattr(history, key)) for key in keys)  # the worker appends to one list at a time
            for key in keys:
                getattr(live, key).extend(getattr(history, key)[begin:end])
            rows = pd.DataFrame({"epoch": live.epoch[begin:end], "loss": live.loss[begin:end],
                                 "test_loss": live.test_loss[begin:end],
                                 "train": [100 * v for v in live.train_accuracy[begin:end]],
                                 "test": [100 * v for v in live.test_accuracy[begin:end]]}, dtype=float)
            timer.time(lambda rows=rows: curves.update((live, rows)))
            counts["curves"] += 1
            next_curves += 0.25
        timer.time(lambda: maps.update(grids[counts["map"] % len(grids)]))
        counts["map"] += 1
        pause = start + counts["map"] * 0.066 - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    elapsed = time.perf_counter() - start
    stop.set()
    worker.join()
    return {"map_per_s": round(counts["map"] / elapsed, 1), "curves_per_s": round(counts["curves"] / elapsed, 1),
            "epochs_per_s": round(len(live) / elapsed, 1)}


def training_alone(settings, seconds: float) -> float:
    """Epochs per second of the same training with no plots drawn."""
    import threading

    from engine import Trainer

    trainer = Trainer(settings.replace(epochs=1_000_000))
    stop = threading.Event()
    worker = threading.Thread(target=lambda: trainer.train(
        callback=lambda progress: trainer.request_stop() if stop.is_set() else None, every=1))
    worker.start()
    time.sleep(seconds)
    count = len(trainer.history.epoch)
    stop.set()
    worker.join()
    return round(count / seconds, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/live_plots.py", description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=40, help="live updates replayed per plot")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of each served schedule")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    import os

    import bokeh
    import holoviews
    import panel

    trainer, frames, seconds = record(args.updates)
    data, history = trainer.dataset, trainer.history
    total = len(history) - len(history) % CURVE_ROWS
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "panel": panel.__version__,
            "holoviews": holoviews.__version__,
            "bokeh": bokeh.__version__,
        },
        "run": {
            "network": "3x64 tanh, toy_xor",
            "epochs": len(history),
            "train_and_record_s": round(seconds, 1),
            "curve_rows_per_update": CURVE_ROWS,
        },
    }
    for size in (100, 200):
        grids = [frame[f"grid{size}"] for frame in frames]
        results[f"map_{size}"] = {"bokeh": bokeh_map(data, grids), "holoviews": holoviews_map(data, grids)}
    results["curves"] = {"bokeh": bokeh_curves(history, total), "holoviews": holoviews_curves(history, total)}
    results["network"] = {"bokeh": bokeh_network(trainer.settings, frames),
                          "holoviews": holoviews_network(trainer.settings, frames)}
    grids = [frame["grid100"] for frame in frames]
    results["machine"]["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    results["served"] = {"training_alone_epochs_per_s": training_alone(trainer.settings, args.seconds)}
    for map_route, curve_route in (("bokeh", "bokeh"), ("holoviews", "holoviews"), ("bokeh", "holoviews")):
        results["served"][f"map {map_route}, curves {curve_route}"] = served(
            data, trainer.settings, grids, map_route, curve_route, args.seconds)
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
