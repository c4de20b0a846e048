"""How long one epoch will take, estimated before training, so that a shared server can refuse settings whose
epochs would take minutes (one user's batch size 1 on 200,000 points with a wide network).

The estimate is a two-term cost model fitted on the 2-core development machine (torch CPU, one thread):

    seconds = steps * (STEP_SECONDS + parameters * STEP_SECONDS_PER_PARAMETER)
              + parameters * (train + test points) * SECONDS_PER_PARAMETER_POINT

`steps` is the number of optimizer steps of one epoch (1 for the full batch). The first term is the fixed cost
of a mini-batch step and of the optimizer's update of every weight; the second the arithmetic of the forward
and backward passes over the training points and of the per-epoch evaluation. Measured: a 2-4-1 net with batch
size 1 on 4,000 points 1.2 s per epoch (estimate 1.2 s); 8 layers of 256 on 20,000 points, full batch 2.0 s
(1.9 s), batch size 1 193 s (180 s). It is an order of magnitude, not a promise: other machines differ.

App sessions refuse to train when the estimate exceeds `MAX_EPOCH_SECONDS` (`Experiment`); the command line
trains anyway (Ctrl-C still stops it within a mini-batch).
"""

from __future__ import annotations

import math

from .settings import Settings

MAX_EPOCH_SECONDS = 5.0  # what an app session allows for one epoch
STEP_SECONDS = 4e-4  # fixed cost of one optimizer step
STEP_SECONDS_PER_PARAMETER = 2.5e-8  # the optimizer's update, per weight and step
SECONDS_PER_PARAMETER_POINT = 2e-10  # forward, backward and evaluation, per weight and point


def parameter_count(settings: Settings) -> int:
    """Weights and biases of the network the settings describe."""
    widths = [len(settings.features), *settings.hidden, 1]
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(widths, widths[1:]))


def epoch_seconds(settings: Settings, train_points: int, test_points: int) -> float:
    """Estimated seconds of one epoch (see the module's docstring)."""
    parameters = parameter_count(settings)
    batch = settings.batch_size
    steps = 1 if batch == 0 or batch >= train_points else math.ceil(train_points / batch)
    return (steps * (STEP_SECONDS + parameters * STEP_SECONDS_PER_PARAMETER)
            + parameters * (train_points + test_points) * SECONDS_PER_PARAMETER_POINT)


def over_budget(settings: Settings, train_points: int, test_points: int,
                limit: float = MAX_EPOCH_SECONDS) -> str | None:
    """None if one epoch fits in `limit` seconds; else a message that says why not and what to change."""
    seconds = epoch_seconds(settings, train_points, test_points)
    if seconds <= limit:
        return None
    advice = []
    if settings.batch_size and settings.batch_size < train_points:
        fitting = [size for size in (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 0)
                   if epoch_seconds(settings.replace(batch_size=size), train_points, test_points) <= limit]
        if fitting:
            size = fitting[0]
            advice.append(f"a batch size of {size} or more" if size else "the full batch (batch size 0)")
    advice += ["fewer points", "a smaller network"]
    return (f"One epoch of {parameter_count(settings):,} weights on {train_points:,} training points "
            f"with batch size {settings.batch_size or 'full'} would take about {seconds:.0f} s here, more than the "
            f"{limit:g} s an epoch may take in this app. Try {', '.join(advice[:-1])} or {advice[-1]}.")
