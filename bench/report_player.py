"""The report's snapshot player two ways: the Bokeh map with a CustomJS slider (plots/results.py) against a
HoloViews HoloMap over the epochs embedded with its widget (`save(embed=True)`).

    python bench/report_player.py [--json FILE]

21 snapshots of a toy_xor run, each route saved as the report is: seconds and bytes (docs/performance.md).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's packages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/report_player.py", description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    import holoviews as hv
    import panel as pn
    from bokeh.resources import INLINE

    from dashboard.plots.results import snapshot_grid, snapshot_player
    from dashboard.plots.views import contour, frame, probability_image
    from dashboard.report.page import collect_snapshots
    from engine import Settings, Trainer

    trainer = Trainer(Settings(dataset="toy_xor", hidden=(8, 8), activation="tanh", lr=0.02, epochs=200))
    recorder = collect_snapshots(trainer)
    trainer.train(callback=recorder, every=recorder.every)
    snapshots = recorder.finish()
    data = trainer.dataset
    results = {"snapshots": len(snapshots), "grid": len(snapshots.xs)}

    def saved(layout, **options) -> tuple[float, int]:
        start = time.perf_counter()
        buffer = io.StringIO()
        layout.save(buffer, resources=INLINE, **options)
        return time.perf_counter() - start, len(buffer.getvalue().encode("utf-8"))

    start = time.perf_counter()
    player = pn.pane.Bokeh(snapshot_player(data, trainer.history, snapshots))
    built = time.perf_counter() - start
    seconds, size = saved(pn.Column(player))
    results["bokeh_customjs"] = {"build_s": round(built, 2), "save_s": round(seconds, 2), "mb": round(size / 2**20, 2)}

    start = time.perf_counter()
    maps = hv.HoloMap({epoch: frame(probability_image(grid, data) * contour(grid, data), data, "Model")
                       for epoch, grid in ((epoch, snapshot_grid(data, snapshots, index))
                                           for index, epoch in enumerate(snapshots.epochs))}, kdims=["Epoch"])
    holomap = pn.panel(maps, widget_location="top")
    built = time.perf_counter() - start
    seconds, size = saved(holomap, embed=True)
    results["holomap_embed"] = {"build_s": round(built, 2), "save_s": round(seconds, 2), "mb": round(size / 2**20, 2)}
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
