"""Sweeps on a Dask distributed cluster: each task (a chunk of models) is one Dask task.

The workers need this project importable (installed, or on their PYTHONPATH) and run the same
`engine.sweep.run_task` as local worker processes, so a task gives the same numbers wherever it runs. Dask's
scheduler runs the tasks of a worker that dies on another worker (up to its `allowed-failures`), so a lost
worker costs time, not results. A stop request cancels the tasks not yet finished; finished ones are kept.
Set one torch thread per task: start workers with `--nthreads 1` per core (or `threads_per_worker=1`).
"""

from __future__ import annotations

import time


def _run(indices, settings) -> list[dict]:
    from engine.sweep import run_task

    return run_task(indices, settings)


def run_on_cluster(scheduler: str, payloads, total: int, progress=None, stop=None, timeout: float = 30) -> list:
    from distributed import Client, as_completed

    from .sweep import _collect

    done: list = []
    with Client(scheduler, timeout=timeout, set_as_default=False) as client:
        futures = [
            client.submit(_run, indices, settings, pure=False, key=f"nn-sweep-{time.time_ns()}-{number}")
            for number, (indices, settings) in enumerate(payloads)
        ]
        pending = set(futures)
        try:
            for future in as_completed(futures, loop=client.loop):
                pending.discard(future)
                _collect(future.result(), total, done, progress)
                if stop is not None and stop.is_set():
                    break
        finally:
            if pending:
                client.cancel(list(pending))
    return done
