"""Your own data, in the Data tab: upload a CSV, draw points by clicking on a plot, download the data as CSV.

Upload and drawing both end in `Experiment.use_points` (a bad file or too few points change nothing and say why in
the message). The drawing starts from the current dataset's points (Clear: from nothing), and a downloaded file
uploads back to the same dataset. It is HoloViews, like the other plots: a click costs the server 30-100 ms, under
the ~150 ms at which a click would feel slow (docs/performance.md).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import holoviews as hv
import numpy as np
import panel as pn
from bokeh.models import RadioButtonGroup

from engine import Dataset, write_dataset_csv
from engine.csv_points import CsvError, parse_points_csv

from ..plots.data import dataset_view, split_views
from ..plots.live import padded_box
from ..plots.style import CLASS_COLORS
from ..session.experiment import Experiment
from ..session.own_files import Prepared
from ..session.runs import DRAWN
from .parts import MAX_UPLOAD_BYTES, file_dropper, in_thread, on_loop, take_upload, upload_too_large

DRAW_SIZE = 340  # frame of the drawing plot, in pixels
ERASE_RADIUS = 0.03  # share of the plot's width and height within which Erase finds a point
MODES = ("Class 0 (blue)", "Class 1 (red)", "Erase")  # what a click on the drawing does: add class 0, 1, or erase
HELP = ("**Your own data.** Upload a CSV of `x, y, label` rows (label 0 or 1, a header row optional; at most "
        f"{MAX_UPLOAD_BYTES // 2**20} MB and 200,000 rows), or click on "
        "the plot to add points of the chosen class (Erase removes the nearest one), then press *Use these points*. "
        "They are split into train and test with the current test share and split seed.")
# How browsers name a .csv file's type (Windows, with Excel: application/vnd.ms-excel).
CSV_TYPES = [".csv", "text/csv", "application/vnd.ms-excel", "application/csv", "text/x-csv", "text/plain"]
UPLOAD_LABEL = f"Upload a CSV (up to {MAX_UPLOAD_BYTES // 2**20} MB, 200,000 rows)"


class DataEditor:
    """The upload, the drawing (plot, class or erase choice, buttons) and the download of one experiment."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.points = np.empty((0, 2))
        self.labels = np.empty(0, dtype=int)
        self.names: tuple[str, str] = ("x", "y")
        self.box: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 1.0), (0.0, 1.0))
        self.edited = False  # whether the drawing differs from the data (else it follows the data)
        self.title = ""
        self.source = hv.streams.Pipe(data=_columns(self.points, self.labels))  # the drawn points, as drawn
        self.plot = hv.DynamicMap(self._element, streams=[self.source])
        # One stream for single and double clicks: a 2nd click within 0.3 s is Bokeh's DoubleTap, drawing fast.
        self.clicks = hv.streams.Tap(source=self.plot, transient=True)
        self.clicks.add_subscriber(self._tap)
        # A Bokeh widget, not a Panel one: Panel applies a widget's change up to 50 ms later, and a click on the
        # plot handled that soon after would still see the old choice.
        # Bokeh's own widget: its `active` is set as the click on it arrives, before the next click on the plot is
        # handled. Panel's RadioButtonGroup updates its value a tick later, so a quick click after changing the mode
        # was drawn in the old mode (tests/browser/test_browser_own_data.py failed so).
        self.mode = RadioButtonGroup(labels=list(MODES), active=1, button_type="primary", margin=(4, 4))
        self.upload = file_dropper(CSV_TYPES, margin=(4, 4), sizing_mode="stretch_width", css_classes=["nnp-upload"])
        self.upload.param.watch(self._uploaded, "value")
        button = {"sizing_mode": "stretch_width", "margin": (4, 4)}
        self.buttons = {
            "use": pn.widgets.Button(label="Use these points", color="primary", **button,
                                     description="Make the drawn points the dataset, split into train and test"),
            "data": pn.widgets.Button(label="Start from the data", **button,
                                      description="Replace the drawing by the current dataset's points"),
            "clear": pn.widgets.Button(label="Clear", color="warning", variant="outline", **button,
                                       description="Remove every drawn point"),
        }
        self.buttons["use"].on_click(lambda event: self.use())
        self.buttons["data"].on_click(lambda event: self.from_data())
        self.buttons["clear"].on_click(lambda event: self.clear())
        self.download = pn.widgets.FileDownload(callback=self._csv, filename="data.csv", color="default",
                                                label="Download the data as CSV", **button)
        experiment.param.watch(self._on_data, "data")
        self._on_data()

    # ----- drawing -----
    def add(self, x: float, y: float, label: int) -> None:
        self.points = np.vstack([self.points, [x, y]])
        self.labels = np.append(self.labels, label)
        self._edited()

    def erase(self, x: float, y: float) -> None:
        """Remove the point nearest (x, y) if it is within ERASE_RADIUS (in shares of the plot's box)."""
        if not len(self.points):
            return
        (x0, x1), (y0, y1) = self.box
        distance = np.hypot(*((self.points - [x, y]) / [x1 - x0, y1 - y0]).T)
        nearest = int(np.argmin(distance))
        if distance[nearest] <= ERASE_RADIUS:
            self.points = np.delete(self.points, nearest, axis=0)
            self.labels = np.delete(self.labels, nearest)
            self._edited()

    @on_loop
    def clear(self) -> None:
        self.points, self.labels = np.empty((0, 2)), np.empty(0, dtype=int)
        self._edited()

    @on_loop
    def from_data(self) -> None:
        """Start the drawing again from the current dataset's points (and follow the data from now on)."""
        data = self.experiment.data
        self.points, self.labels = data.points.astype(float), data.labels.astype(int)
        self.names, self.edited = data.feature_names, False
        self.box = padded_box(data)
        self._show()

    def use(self) -> bool:
        """Make the drawn points the dataset; False (and a message) if they cannot be."""
        if not len(self.points):
            self._warn("Your drawing is empty: click on the plot to add points of each class first.")
            return False
        if not self.experiment.use_points(self.points, self.labels, self.names, source=DRAWN):
            return False
        self.from_data()  # the drawing is the data now, and follows it again
        return True

    def _tap(self, x: float | None, y: float | None) -> None:
        if x is None or y is None:  # a click outside the plot's frame
            return
        if MODES[self.mode.active] == "Erase":
            self.erase(x, y)
        else:
            self.add(x, y, self.mode.active)

    def _edited(self) -> None:
        self.edited = True
        self._show()

    def _show(self) -> None:
        counts = np.bincount(self.labels, minlength=2)
        state = "not used yet" if self.edited else "the data"
        self.title = f"Drawing: {counts[0]} blue + {counts[1]} red ({state})"
        self.source.send(_columns(self.points, self.labels))

    def _element(self, data: dict) -> hv.Points:
        (x0, x1), (y0, y1) = self.box
        dims = [hv.Dimension("x", label=self.names[0]), hv.Dimension("y", label=self.names[1])]
        return hv.Points(data, kdims=dims, vdims=["label"]).opts(
            color="label", cmap=list(CLASS_COLORS), clim=(0, 1), size=6, line_color="#222222", line_width=0.5,
            xlim=(x0, x1), ylim=(y0, y1), framewise=True, title=self.title, frame_width=DRAW_SIZE,
            frame_height=DRAW_SIZE, default_tools=[], tools=["save"], toolbar="right", show_grid=False,
            fontsize={"title": "10pt"}, hooks=[_named], axiswise=True)

    def _on_data(self, *events) -> None:
        data = self.experiment.data
        self.download.filename = f"{data.name}.csv"
        if not self.edited:
            self.from_data()

    # ----- files -----
    async def _uploaded(self, event) -> None:
        """A file came (one over the limit is refused in the browser, parts.file_dropper): checked for size at
        once, read and made a dataset in a thread (a big file takes seconds), then installed on the loop."""
        arrived = take_upload(self.upload)
        if arrived is None:
            return
        name, data = arrived
        too_large = upload_too_large(name, len(data))
        if too_large:
            self._warn(too_large)
            return
        self.experiment.apply_prepared(await in_thread(self.prepare_upload, data, name))

    def prepare_upload(self, data: bytes, name: str) -> Prepared:
        """Read an uploaded file's bytes into points ready to use (thread-safe: no parameter changes)."""
        try:
            table = parse_points_csv(data.decode("utf-8-sig"), name)
        except UnicodeDecodeError:
            return Prepared(error=f"{name}: not a text (UTF-8) file. Nothing was changed.")
        except CsvError as error:
            return Prepared(error=f"{error}. Nothing was changed.")
        return self.experiment.prepare_points(table.points, table.labels, table.feature_names, source=name)

    def _csv(self) -> io.BytesIO:
        """The current dataset as CSV: features, label and split (`engine.datasets.write_dataset_csv`)."""
        return io.BytesIO(dataset_csv(self.experiment.data))

    def _warn(self, text: str) -> None:
        self.experiment.param.update(message=text, message_kind="warning")

    def panel(self) -> pn.Column:
        controls = pn.Column(
            pn.pane.Markdown(UPLOAD_LABEL, margin=(4, 4, 0, 4)), self.upload,
            pn.pane.Markdown("Click on the plot to", margin=(8, 4, 0, 4)), pn.pane.Bokeh(self.mode),
            pn.Row(self.buttons["data"], self.buttons["clear"], sizing_mode="stretch_width", margin=0),
            self.buttons["use"], self.download, width=320, margin=(30, 10),
        )
        return pn.Column(pn.pane.Markdown(HELP, sizing_mode="stretch_width", margin=(4, 10)),
                         pn.Row(pn.pane.HoloViews(self.plot, margin=5), controls),
                         css_classes=["nnp-data-editor"], sizing_mode="stretch_width", margin=0)


def _columns(points: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    return {"x": points[:, 0], "y": points[:, 1], "label": labels}


def _named(plot, element) -> None:
    """Names for the drawing's Bokeh models, by which the page's tests find them; a toolbar without a logo."""
    plot.state.name = "draw-figure"
    plot.handles["source"].name = "drawn-points"
    plot.state.toolbar.logo, plot.state.toolbar.autohide = None, True


def dataset_csv(dataset: Dataset) -> bytes:
    """The dataset's CSV file as bytes (write_dataset_csv writes to a path)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        write_dataset_csv(dataset, str(path))
        return path.read_bytes()


class DataTab(pn.viewable.Viewer):
    """The Data tab: the editor of your own data, then the whole dataset and its train/test split."""

    def __init__(self, experiment: Experiment, **params) -> None:
        super().__init__(**params)
        self.experiment = experiment
        self.editor = DataEditor(experiment)
        self.data_view = pn.pane.HoloViews(None, margin=5)
        self.train_view = pn.pane.HoloViews(None, margin=5)
        self.test_view = pn.pane.HoloViews(None, margin=5)
        experiment.param.watch(self._on_data, ["data"])
        self._on_data()

    @on_loop
    def _on_data(self, *events) -> None:
        data = self.experiment.data
        self.data_view.object = dataset_view(data)
        self.train_view.object, self.test_view.object = split_views(data)

    def __panel__(self) -> pn.FlexBox:
        return pn.FlexBox(self.editor.panel(), self.data_view, self.train_view, self.test_view, flex_wrap="wrap",
                          name="Data")
