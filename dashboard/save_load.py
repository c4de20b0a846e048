"""Save experiment (a .zip download) and Load experiment (a .zip upload) for the dashboard's sidebar.

The archive is `engine.storage.experiment_archive`: settings, history, runs, weights, optimizer and random
generator state, so a loaded experiment continues training exactly as the saved one would have.
"""

from __future__ import annotations

import io

import panel as pn

from engine.storage import experiment_archive

from .experiment import Experiment
from .report import enabled_between_runs, experiment_trainer

FILENAME = "nn-playground-experiment.zip"


def save_download(experiment: Experiment, **options) -> pn.widgets.FileDownload:
    """A Save experiment button: enabled while there is a model and no run is going."""
    button = pn.widgets.FileDownload(
        callback=lambda: io.BytesIO(experiment_archive(experiment_trainer(experiment))), filename=FILENAME,
        label="Save experiment", embed=False, variant="outline", css_classes=["nnp-save"],
        description="The model, its settings, history and runs as a .zip: load it later to look at it or train on.",
        **options)
    return enabled_between_runs(button, experiment)


def load_input(experiment: Experiment, **options) -> pn.Column:
    """A Load experiment file input (.zip from Save experiment); a bad file leaves everything as it was."""
    upload = pn.widgets.FileInput(accept=".zip", multiple=False, css_classes=["nnp-load"], **options)

    def load(event) -> None:
        if event.new:
            experiment.load_archive(event.new)
            upload.clear()  # so that loading the same file again (to start over from it) is a new upload

    upload.param.watch(load, "value")
    label = pn.pane.Markdown("Load experiment (.zip from Save experiment):", margin=(4, 4, 0, 4),
                             styles={"font-size": "13px"})
    return pn.Column(label, upload, sizing_mode="stretch_width", margin=0)
