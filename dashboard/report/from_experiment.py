"""The report of a dashboard experiment: its current model, with its curves and runs as the app showed them.

The slider's snapshots are the frames the session recorded while training; only a loaded experiment, whose archive
holds none, is trained again from its seed for them (within REPLAY_SECONDS; the same numbers bit for bit). The page
is built from copies taken at the click, in a worker thread when served.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass

from engine import History, Trainer
from engine.snapshots import Snapshots, replay_training

from ..session.worker import BUILD_LOCK
from .page import REPLAY_SECONDS, ReportError
from .render import report_html
from .sections import report_comparison


def experiment_trainer(experiment) -> Trainer:
    """The trainer behind a dashboard experiment, between runs (ReportError while a run is going)."""
    if experiment.state in ("training", "stopping"):
        raise ReportError("a run is going: pause or wait for it to end, then download the report")
    trainer = experiment.trainer
    if trainer is None or not experiment.history.epoch:
        raise ReportError("no model yet: train one, then download the report")
    return trainer


def recorded_snapshots(experiment) -> Snapshots | None:
    """The decision maps the session recorded through training (None if it has none, e.g. after a load)."""
    return Snapshots.of_frames(experiment.data.box, experiment.snapshots) if experiment.snapshots else None


@dataclass
class _Request:
    """What a report of a dashboard experiment needs, copied on the server's loop at the click."""

    trainer: Trainer  # a copy: the session may train on while the page is built
    shown_history: History  # what the dashboard showed: its run numbers
    shown_runs: list[dict]
    snapshots: Snapshots | None  # recorded by the session
    comparison: object = None  # the Compare tab's two runs (immutable results: safe in a thread)


def _request(experiment, compared: list[int]) -> _Request:
    trainer = experiment_trainer(experiment)
    return _Request(copy.deepcopy(trainer), History.from_dict(experiment.history.to_dict()),
                    copy.deepcopy(list(experiment.runs)), recorded_snapshots(experiment),
                    report_comparison(experiment, compared))


def _replayed_snapshots(request: _Request) -> tuple[Snapshots | None, str | None]:
    """Snapshots for a model the session did not record (a loaded one): trained again, or a note why not."""
    trainer = request.trainer
    cost = sum(run.seconds for run in trainer.runs)
    if cost > REPLAY_SECONDS:
        return None, (f"The snapshots through training were not rebuilt (that would mean training "
                      f"{trainer.history.epoch[-1]} epochs again, about {cost:.0f} s).")
    # BUILD_LOCK: torch.manual_seed is global, so no other session may build a model meanwhile.
    replayed = replay_training(trainer.dataset, trainer.runs, trainer.history, build_lock=BUILD_LOCK)
    if replayed is None:
        return None, "Training again did not give the same history, so no snapshots through training are shown."
    return replayed[1], None


def _page(request: _Request) -> str:
    snapshots, note = request.snapshots, None
    if snapshots is None:
        snapshots, note = _replayed_snapshots(request)
    return report_html(request.trainer, snapshots, history=request.shown_history, runs=request.shown_runs,
                       comparison=request.comparison, notes=[note] if note else [])


def experiment_report_html(experiment, compared: list[int] = ()) -> str:
    """The report of a dashboard experiment's current model, its curves and runs as the dashboard showed them, and
    the runs `compared` in the Compare tab (by default the last two)."""
    return _page(_request(experiment, compared))


async def report_page_async(experiment, compared: list[int] = ()) -> str:
    """`experiment_report_html`, built in a worker thread from copies taken now, so that the server keeps serving
    every session meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(None, _page, _request(experiment, compared))
