"""The page: settings and actions in the sidebar, status and plots in the main area, in tabs.

BootstrapTemplate loads nothing from the internet (FastList, Material and Vanilla fetch Google Fonts).
"""

from __future__ import annotations

import panel as pn

from ..session.experiment import Experiment
from .baselines_tab import BaselinesTab
from .busy import BusyBadge
from .compare_tab import CompareTab
from .data_tab import DataTab
from .downloads import load_input, report_download, save_download
from .evaluation_tab import EvaluationTab
from .lazy_tabs import LazyTabs
from .network_tab import NetworkTab
from .sidebar import RunBar, Sidebar
from .sweep_tab import SweepTab
from .training_tab import Header, TrainingTab

TITLE = "nn-playground"
SIDEBAR_WIDTH = 330
SHARE_NOTE = ("The address bar holds the settings that differ from the defaults: copy it to share a preset, "
              "e.g. `?dataset=toy_xor&hidden=8,8&lr=0.01`.")


def build(experiment: Experiment, template: bool = True, extra: list | None = None):
    """The app for one experiment: a BootstrapTemplate, or (template=False, for notebooks) a plain Row. Its
    `tabs` are the page's LazyTabs (`page.tabs.get("Sweep")` opens one), its `status_area` the status, message and
    hints above them."""
    sidebar = Sidebar(experiment)
    bar = RunBar(sidebar)
    header = Header(experiment, open_compare=lambda pair: compare_runs(tabs, pair))
    tabs = LazyTabs({
        "Training": lambda: TrainingTab(experiment), "Evaluation": lambda: EvaluationTab(experiment),
        "Data": lambda: DataTab(experiment), "Compare": lambda: CompareTab(experiment),
        "Network": lambda: NetworkTab(experiment), "Baselines": lambda: BaselinesTab(experiment),
        "Sweep": lambda: SweepTab(experiment),
    }, sizing_mode="stretch_width", margin=(0, 0))
    main = pn.Column(bar, BusyBadge(), header, tabs.tabs, *(extra or []), sizing_mode="stretch_width", margin=0)
    files = pn.Column(  # at the top of the sidebar: reachable without scrolling on a 1366x768 screen
        pn.Row(save_download(experiment, sizing_mode="stretch_width", margin=(4, 4)),
               report_download(experiment, lambda: compared(tabs), sizing_mode="stretch_width", margin=(4, 4)),
               sizing_mode="stretch_width", margin=0),
        load_input(experiment, sizing_mode="stretch_width", margin=(0, 4)),
        sizing_mode="stretch_width", margin=(0, 0, 6, 0), css_classes=["nnp-files"])
    side = pn.Column(files, sidebar.panel(),
                     pn.pane.Markdown(SHARE_NOTE, styles={"font-size": "12px", "color": "#555"}),
                     sizing_mode="stretch_width", margin=0)
    if template:
        # No busy_indicator: Panel's follows `pn.state.busy`, one flag for the whole process, and sets every
        # template's spinner at each change of it: every page (pages built ahead too) was updated ~90 times a
        # second for each session that trained. Each page has its own Working badge (busy.py).
        page = pn.template.BootstrapTemplate(
            title=TITLE, sidebar=[side], main=[main], sidebar_width=SIDEBAR_WIDTH, header_background="#2c4a6e",
            busy_indicator=None,
        )
    else:
        page = pn.Row(pn.Column(side, width=SIDEBAR_WIDTH), main, sizing_mode="stretch_width")
    page.tabs, page.status_area = tabs, header
    return page


def compare_runs(tabs: LazyTabs, pair: tuple[int, int]) -> None:
    """Open the Compare tab on these two runs."""
    tabs.get("Compare").compared = list(pair)
    tabs.open("Compare")


def compared(tabs: LazyTabs) -> list:
    """The runs the Compare tab compares ([]: the last two, also when the tab was never opened)."""
    compare = tabs.built("Compare")
    return compare.compared if compare is not None else []
