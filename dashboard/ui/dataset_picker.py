"""The dataset picker's thumbnails: one small picture per dataset (`plots.thumbnails`), named under it, that
chooses the dataset when clicked; the current one is highlighted.

It is a RadioButtonGroup bound to the Experiment's `dataset` parameter, like the Select above it: both show and
set the same value, and a refused choice (your own data before there are points) is refused as from the Select.
The pictures are background images of its buttons, set by a stylesheet made once per process; each button keeps
its name as text, so the tiles read (and are reached by keyboard) as buttons named by their datasets. No tooltip:
the Select above has the help, and a tooltip over the tiles stayed there after a click.
"""

from __future__ import annotations

import functools

import panel as pn

from engine.catalog import DATASETS

from ..plots.thumbnails import thumbnails
from ..session.experiment import Experiment

TILE_CSS = """
.bk-btn-group { display: flex; flex-wrap: wrap; gap: 4px; }
.bk-btn-group > .bk-btn { flex: 0 0 54px; width: 54px; height: 60px; margin: 0 !important; padding: 43px 0 0 0;
  border-radius: 5px !important; border: 1px solid #cfd6dd; font-size: 10px; line-height: 14px;
  white-space: nowrap; overflow: hidden; background-color: #ffffff;
  background-repeat: no-repeat; background-position: center 4px; background-size: 38px 38px; }
.bk-btn-group > .bk-btn:hover { border-color: #2c4a6e; }
.bk-btn-group > .bk-btn.bk-active { border: 2px solid #2c4a6e; background-color: #e3ebf4; font-weight: 600;
  box-shadow: none; }
"""


@functools.cache
def tiles_css() -> str:
    """The tiles' stylesheet, the pictures included (one string for every session)."""
    pictures = thumbnails()
    backgrounds = "".join(f".bk-btn-group > .bk-btn:nth-child({index}) {{ background-image: url({pictures[name]}) "
                          "!important; }\n" for index, name in enumerate(DATASETS, start=1))
    return TILE_CSS + backgrounds


def dataset_tiles(experiment: Experiment) -> pn.widgets.RadioButtonGroup:
    """The thumbnails of every dataset, bound to the experiment's dataset."""
    return pn.widgets.RadioButtonGroup.from_param(
        experiment.param.dataset,
        options={spec.short: name for name, spec in DATASETS.items()},
        name="",
        description=None,
        color="light",
        stylesheets=[tiles_css()],
        sizing_mode="stretch_width",
        margin=(2, 4, 6, 4),
        css_classes=["nnp-dataset-tiles"],
    )
