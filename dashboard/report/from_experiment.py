"""The report of a dashboard experiment: its current model, with its curves and runs as the app showed them."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass

from engine import History, Trainer
from engine.snapshots import replay_training

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


@dataclass
class _Request:
    """What a report of a dashboard experiment needs, copied on the server's loop at the click."""

    trainer: Trainer  # live: read only on the loop
    dataset: object
    runs: list  # copies of the engine's runs and history: a thread may replay them while the trainer goes on
    history: History
    shown_history: History  # what the dashboard showed: its run numbers
    shown_runs: list[dict]
    cost: float  # seconds the training took: about what replaying it takes
    comparison: object = None  # the Compare tab's two runs (immutable results: safe in a thread)


def _request(experiment) -> _Request:
    trainer = experiment_trainer(experiment)
    copy_history = lambda history: History.from_dict(history.to_dict())  # noqa: E731
    return _Request(trainer, trainer.dataset, copy.deepcopy(trainer.runs), copy_history(trainer.history),
                    copy_history(experiment.history), copy.deepcopy(list(experiment.runs)),
                    sum(run.seconds for run in trainer.runs), report_comparison(experiment))


def _replayed_page(request: _Request) -> str | None:
    """The report with snapshots, from a fresh trainer trained again from copies (safe in another thread);
    None if training again does not give the same history."""
    # BUILD_LOCK: torch.manual_seed is global, so no other session may build a model meanwhile.
    replayed = replay_training(request.dataset, request.runs, request.history, build_lock=BUILD_LOCK)
    if replayed is None:
        return None
    trainer, snapshots = replayed  # bit for bit the model the dashboard trained (its history is checked)
    return report_html(trainer, snapshots, history=request.shown_history, runs=request.shown_runs,
                       comparison=request.comparison)


def _plain_page(request: _Request, note: str) -> str:
    """The report without snapshots, from the live trainer (on the loop, between runs)."""
    return report_html(request.trainer, None, history=request.shown_history, runs=request.shown_runs, notes=[note],
                       comparison=request.comparison)


def _skip_note(request: _Request) -> str | None:
    if request.cost > REPLAY_SECONDS:
        return (f"The snapshots through training were not rebuilt (that would mean training "
                f"{request.history.epoch[-1]} epochs again, about {request.cost:.0f} s).")
    return None


MISMATCH_NOTE = "Training again did not give the same history, so no snapshots through training are shown."


def experiment_report_html(experiment) -> str:
    """The report of a dashboard experiment's current model, its curves and runs as the dashboard showed them.

    The dashboard does not keep snapshots of the map: they are rebuilt by training the model again from its
    seed (if that takes at most REPLAY_SECONDS), which gives the same numbers bit for bit (checked).
    """
    request = _request(experiment)
    note = _skip_note(request)
    page = None if note else _replayed_page(request)
    return page if page is not None else _plain_page(request, note or MISMATCH_NOTE)


async def report_page_async(experiment) -> str:
    """`experiment_report_html`, with the training replayed in a worker thread from copies, so that the server
    keeps serving every session meanwhile."""
    request = _request(experiment)
    note = _skip_note(request)
    page = None
    if note is None:
        page = await asyncio.get_running_loop().run_in_executor(None, _replayed_page, request)
    if page is None:
        request = _request(experiment)  # the model as it is now, between runs
        page = _plain_page(request, note or MISMATCH_NOTE)
    return page
