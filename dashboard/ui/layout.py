"""The page: settings and actions in the sidebar, status and plots in the main area, in tabs.

BootstrapTemplate loads nothing from the internet (FastList, Material and Vanilla fetch Google Fonts).
"""

from __future__ import annotations

import panel as pn

from ..session.experiment import Experiment
from .compare_tab import CompareTab
from .data_tab import data_tab
from .downloads import load_input, report_download, save_download
from .network_tab import NetworkTab
from .sidebar import Sidebar
from .sweep_tab import SweepTab
from .training_tab import MainViews

TITLE = "nn-playground"
SIDEBAR_WIDTH = 330
SHARE_NOTE = ("The address bar holds the settings that differ from the defaults: copy it to share a preset, "
              "e.g. `?dataset=toy_xor&hidden=8,8&lr=0.01`.")


def build(experiment: Experiment, template: bool = True, extra: list | None = None):
    """The app for one experiment: a BootstrapTemplate, or (template=False, for notebooks) a plain Row."""
    sidebar = Sidebar(experiment)
    views = MainViews(experiment)
    network = NetworkTab(experiment)
    compare = CompareTab(experiment)
    tabs = pn.Tabs(views.training_tab(), views.evaluation_tab(), data_tab(views, experiment), compare, network,
                   SweepTab(experiment),
                   dynamic=True, sizing_mode="stretch_width", margin=(0, 0))
    network.follow(tabs)
    main = pn.Column(views.header(), tabs, *(extra or []), sizing_mode="stretch_width", margin=0)
    side = pn.Column(sidebar.panel(), report_download(experiment, lambda: compare.compared,
                                                     sizing_mode="stretch_width", margin=(4, 4)),
                     save_download(experiment, sizing_mode="stretch_width", margin=(4, 4)),
                     load_input(experiment, sizing_mode="stretch_width", margin=(0, 4)),
                     pn.pane.Markdown(SHARE_NOTE, styles={"font-size": "12px", "color": "#555"}),
                     sizing_mode="stretch_width", margin=0)
    if template:
        page = pn.template.BootstrapTemplate(
            title=TITLE, sidebar=[side], main=[main], sidebar_width=SIDEBAR_WIDTH, header_background="#2c4a6e",
        )
    else:
        page = pn.Row(pn.Column(side, width=SIDEBAR_WIDTH), main, sizing_mode="stretch_width")
    page.sidebar_controls, page.main_views = sidebar, views  # handles for tests and measurements
    return page
