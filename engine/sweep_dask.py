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


def check_scheduler(address: str, timeout: float = 5) -> None:
    """Fail in seconds, with a one-line message, on an address where no Dask scheduler can answer: a malformed
    address or unknown scheme, a host:port address without its port (ValueError); nothing listening, or nothing
    answering within `timeout` seconds (OSError). Without it, `Client` retries for its whole timeout and then
    leaves a traceback behind at exit. A scheduler that answers and dies later is `run_on_cluster`'s business."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address, strict=True)
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
    except ValueError as error:
        raise ValueError(f"{address!r} is not a Dask scheduler address ({str(error).split(' (known')[0]}); "
                         "give tcp://HOST:PORT") from None
    if scheme not in ("tcp", "tls", "ws", "wss"):
        return
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as connection:
            # Over plain tcp a Dask server speaks first: its handshake, a message whose first 8 bytes are its
            # length (a few hundred bytes). Anything else (a web server, ssh) is not a scheduler.
            header = b""
            while scheme == "tcp" and len(header) < 8:
                part = connection.recv(8 - len(header))
                if not part:
                    break
                header += part
    except TimeoutError:
        raise OSError(f"cannot reach the Dask scheduler {address}: no answer within {timeout:g} s") from None
    except OSError as error:
        raise OSError(f"cannot reach the Dask scheduler {address}: {error.strerror or error}") from None
    if scheme == "tcp" and not (len(header) == 8 and 0 < int.from_bytes(header, "little") < 2**20):
        raise OSError(f"cannot use {address}: something answers there, but not a Dask scheduler")


def run_on_cluster(scheduler: str, payloads, total: int, progress=None, stop=None, timeout: float = 30) -> list:
    from distributed import Client, as_completed

    from .sweep import collect_results

    check_scheduler(scheduler)
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
                collect_results(future.result(), total, done, progress)
                if stop is not None and stop.is_set():
                    break
        finally:
            if pending:
                client.cancel(list(pending))
    return done
