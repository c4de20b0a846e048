"""How long one epoch will take, estimated before training, so that a shared server can refuse settings whose
epochs would take minutes (say batch size 1 on 200,000 points with a wide network).

    seconds = steps * (STEP_SECONDS + parameters * STEP_SECONDS_PER_PARAMETER)
              + parameters * (train + test points) * SECONDS_PER_PARAMETER_POINT

fitted on the 2-core development machine (its fit in docs/performance.md): an order of magnitude, not a promise.
The app refuses to train beyond `MAX_EPOCH_SECONDS`; the command line trains anyway.
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
