"""Your own data, in the Data tab: upload a CSV, draw points by clicking on a plot, download the data as CSV.

Upload and drawing both end in `Experiment.use_points`, which makes the points the dataset ("your own data"); a
bad file or too few points change nothing and say why in the experiment's message. The drawing starts from the
current dataset's points and follows the data until it is edited, so any dataset can be added to or thinned out;
Clear starts from nothing. A downloaded file uploads back to the same dataset.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import panel as pn
from bokeh.events import DoubleTap, Tap
from bokeh.models import ColumnDataSource, RadioButtonGroup, Range1d
from bokeh.plotting import figure
from bokeh.transform import linear_cmap

from engine import Dataset, write_dataset_csv
from engine.csv_points import CsvError, parse_points_csv

from ..plots.data import dataset_view, split_views
from ..plots.live import padded_box
from ..plots.style import CLASS_COLORS
from ..session.experiment import Experiment
from ..session.own_files import Prepared
from .parts import MAX_UPLOAD_BYTES, in_thread, on_loop, upload_too_large

DRAW_SIZE = 340  # frame of the drawing plot, in pixels
ERASE_RADIUS = 0.03  # share of the plot's width and height within which Erase finds a point
MODES = ("Class 0 (blue)", "Class 1 (red)", "Erase")  # what a click on the drawing does: add class 0, 1, or erase
HELP = ("**Your own data.** Upload a CSV of `x, y, label` rows (label 0 or 1, a header row optional; at most "
        f"{MAX_UPLOAD_BYTES // 2**20} MB and 200,000 rows), or click on "
        "the plot to add points of the chosen class (Erase removes the nearest one), then press *Use these points*. "
        "They are split into train and test with the current test share and split seed.")
UPLOAD_LABEL = f"Upload a CSV (up to {MAX_UPLOAD_BYTES // 2**20} MB, 200,000 rows)"


class DataEditor:
    """The upload, the drawing (plot, class or erase choice, buttons) and the download of one experiment."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.points = np.empty((0, 2))
        self.labels = np.empty(0, dtype=int)
        self.names: tuple[str, str] = ("x", "y")
        self.edited = False  # whether the drawing differs from the data (else it follows the data)
        self.source = ColumnDataSource({"x": [], "y": [], "label": []}, name="drawn-points")
        self.figure = fig = figure(
            name="draw-figure", frame_width=DRAW_SIZE, frame_height=DRAW_SIZE, tools="save",
            toolbar_location="right", x_range=Range1d(0, 1), y_range=Range1d(0, 1),
        )
        fig.toolbar.logo, fig.toolbar.autohide, fig.grid.visible = None, True, False
        fig.title.text_font_size = "10pt"
        fig.scatter("x", "y", color=linear_cmap("label", CLASS_COLORS, 0, 1), size=6, line_color="#222222", line_width=0.5, source=self.source)
        fig.on_event(Tap, self._tap)
        fig.on_event(DoubleTap, self._tap)  # Bokeh's name for a 2nd click within 0.3 s, anywhere: drawing fast
        # A Bokeh widget, not a Panel one: Panel applies a widget's change up to 50 ms later, and a click on the
        # plot (a Bokeh event, handled at once) that soon after would still see the old choice.
        self.mode = RadioButtonGroup(labels=list(MODES), active=1, button_type="primary", margin=(4, 4))
        self.upload = pn.widgets.FileInput(accept=".csv", multiple=False, margin=(4, 4), sizing_mode="stretch_width")
        self.upload.param.watch(self._uploaded, "value")
        button = dict(sizing_mode="stretch_width", margin=(4, 4))
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
        self.edited = True
        self.source.stream({"x": [x], "y": [y], "label": [label]})  # only the new point goes to the browser
        self._title()

    def erase(self, x: float, y: float) -> None:
        """Remove the point nearest (x, y) if it is within ERASE_RADIUS (in shares of the plot's box)."""
        if not len(self.points):
            return
        fig = self.figure
        span = np.array([fig.x_range.end - fig.x_range.start, fig.y_range.end - fig.y_range.start])
        distance = np.hypot(*((self.points - [x, y]) / span).T)
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
        (x0, x1), (y0, y1) = padded_box(data)
        self.figure.x_range.update(start=x0, end=x1)
        self.figure.y_range.update(start=y0, end=y1)
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = data.feature_names
        self._show()

    def use(self) -> bool:
        """Make the drawn points the dataset; False (and a message) if they cannot be."""
        if not len(self.points):
            self._warn("Your drawing is empty: click on the plot to add points of each class first.")
            return False
        if not self.experiment.use_points(self.points, self.labels, self.names, source="your drawing"):
            return False
        self.from_data()  # the drawing is the data now, and follows it again
        return True

    def _tap(self, event) -> None:
        if MODES[self.mode.active] == "Erase":
            self.erase(event.x, event.y)
        else:
            self.add(event.x, event.y, self.mode.active)

    def _edited(self) -> None:
        self.edited = True
        self._show()

    def _show(self) -> None:
        self.source.data = {"x": self.points[:, 0], "y": self.points[:, 1], "label": self.labels}
        self._title()

    def _title(self) -> None:
        counts = np.bincount(self.labels, minlength=2)
        state = "not used yet" if self.edited else "the data"
        self.figure.title.text = f"Drawing: {counts[0]} blue + {counts[1]} red ({state})"

    def _on_data(self, *events) -> None:
        data = self.experiment.data
        self.download.filename = f"{data.name}.csv"
        if not self.edited:
            self.from_data()

    # ----- files -----
    async def _uploaded(self, event) -> None:
        """A file came: checked for size at once, read and made a dataset in a thread (a big file takes seconds),
        then installed on the loop."""
        if event.new is None:
            return
        data, name = event.new, self.upload.filename or "the file"
        try:
            too_large = upload_too_large(name, len(data))
            if too_large:
                self._warn(too_large)
                return
            self.experiment.apply_prepared(await in_thread(self.prepare_upload, data, name))
        finally:
            self.upload.clear()  # so that choosing the same file again uploads it again

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
                         pn.Row(pn.pane.Bokeh(self.figure, margin=5), controls),
                         css_classes=["nnp-data-editor"], sizing_mode="stretch_width", margin=0)


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
