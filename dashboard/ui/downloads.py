"""Save experiment (a .zip download) and Load experiment (a .zip upload) for the dashboard's sidebar.

The archive is `engine.storage.experiment_archive`: settings, history, runs, weights, optimizer and random
generator state, so a loaded experiment continues training exactly as the saved one would have.
"""

from __future__ import annotations

import contextlib
import io
import logging

import panel as pn

from engine.storage import experiment_archive

from ..report.from_experiment import experiment_trainer, report_page_async
from ..session.experiment import Experiment
from .parts import MAX_UPLOAD_BYTES, file_dropper, in_thread, take_upload, upload_too_large

FILENAME = "nn-playground-experiment.zip"
# How browsers name a .zip file's type (Windows: application/x-zip-compressed).
ZIP_TYPES = [".zip", "application/zip", "application/x-zip-compressed", "application/x-zip", "multipart/x-zip"]
LOG = logging.getLogger(__name__)


class Download(pn.widgets.FileDownload):
    """A FileDownload whose callback may return None: then nothing is downloaded (the callback has said why in
    the experiment's message), instead of Panel's "Cannot transfer ... NoneType" traceback in the server's log."""

    def _sync_data(self, fileobj):
        if fileobj is not None:
            super()._sync_data(fileobj)


def _failed(experiment, what: str, error: Exception) -> None:
    """One message in the app for a download that cannot be made (a full disk, a model that cannot be drawn)."""
    text = " ".join(str(error).split()) or type(error).__name__
    experiment.param.update(message=f"{what} failed: {text}", message_kind="danger")
    if isinstance(error, (OSError, ValueError)):
        LOG.warning("%s failed: %s", what, text)
    else:  # not foreseen: the server's log keeps the traceback
        LOG.error("%s failed", what, exc_info=error)


def save_download(experiment: Experiment, **options) -> pn.widgets.FileDownload:
    """A Save experiment button: enabled while there is a model and no run is going."""
    def archive():
        try:
            return io.BytesIO(experiment_archive(experiment_trainer(experiment)))
        except Exception as error:  # a full temporary disk (StorageError), a run that started meanwhile
            _failed(experiment, "Save experiment", error)
            return None

    button = Download(
        callback=archive, filename=FILENAME,
        label="Save experiment", embed=False, variant="outline", css_classes=["nnp-save"],
        description="The model, its settings, history and runs as a .zip: load it later to look at it or train on.",
        **options)
    return enabled_between_runs(button, experiment)


def load_input(experiment: Experiment, **options) -> pn.Column:
    """A Load experiment upload (.zip from Save experiment); a bad file leaves everything as it was.

    A file over the limit is refused in the browser (parts.file_dropper), and again here if one came anyway.
    The file is read and checked, and its model rebuilt and evaluated, in a thread; it is installed on the loop."""
    upload = file_dropper(ZIP_TYPES, css_classes=["nnp-load"], **options)

    async def load(event) -> None:
        arrived = take_upload(upload)
        if arrived is None:
            return
        name, data = arrived
        too_large = upload_too_large(name, len(data))
        if too_large:
            experiment.param.update(message=too_large, message_kind="danger")
            return
        prepared = await in_thread(experiment.prepare_archive, data)
        doc = pn.state.curdoc
        # Frozen, Bokeh indexes the page's models once, not after each of the many it adds (a run's lines in
        # the live curves: 100 runs took 80 s on the loop, for every session)
        with doc.models.freeze() if doc is not None else contextlib.nullcontext():
            experiment.apply_prepared(prepared)

    upload.param.watch(load, "value")
    label = pn.pane.Markdown(f"Load experiment (.zip from Save experiment, up to {MAX_UPLOAD_BYTES // 2**20} MB):",
                             margin=(4, 4, 0, 4), styles={"font-size": "13px"})
    return pn.Column(label, upload, sizing_mode="stretch_width", margin=0)


def report_download(experiment, compared=lambda: [], **options) -> pn.widgets.FileDownload:
    """A Download report button for the dashboard: enabled while there is a model and no run is going;
    `compared()` gives the runs the report compares (the Compare tab's choice; [] for the last two).

    The report is built in a worker thread from copies, so the server keeps serving every session meanwhile.
    """
    async def callback():
        try:
            return io.StringIO(await report_page_async(experiment, compared()))
        except Exception as error:
            _failed(experiment, "Download report", error)
            return None

    button = Download(
        callback=callback, filename="nn-playground-report.html", label="Download report", embed=False,
        color="primary", variant="outline",
        description="A self-contained HTML page: settings, data, curves, maps, evaluation and runs. It opens offline.",
        **options)
    return enabled_between_runs(button, experiment)


def enabled_between_runs(button, experiment):
    """Keep `button` enabled only while the experiment has a model and no run is going (what a download of the
    model needs: the trainer is read on the server's loop, between runs). Returns the button."""
    def refresh(*events) -> None:
        button.disabled = not experiment.has_model or experiment.state in ("training", "stopping")

    experiment.param.watch(refresh, ["has_model", "state"])
    refresh()
    return button
