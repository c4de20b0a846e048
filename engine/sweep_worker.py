"""Local worker processes for sweeps: `python -m engine.sweep_worker`, one per core, fed tasks over a pipe.

Plain subprocesses rather than multiprocessing: a spawned multiprocessing worker imports the caller's `__main__`
again (a script without an `if __name__ == "__main__"` guard would start sweeps recursively), and forking a process
that runs torch's threads or a web server's threads is unsafe. Each worker imports torch and scikit-learn once,
sets one torch thread and glibc's memory thresholds (`engine.sweep.keep_memory`), then runs tasks until its input
closes. SIGUSR1 asks the task running in a worker to stop: its models end as "stopped".
"""

from __future__ import annotations

import atexit
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]


class _Flag:
    """Set by SIGUSR1 (in the worker's main thread, between two epochs' Python bytecodes)."""

    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value


def _send(stream, value) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _receive(stream):
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    (size,) = struct.unpack("<Q", header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def main() -> None:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the result stream
    source = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    flag = _Flag()

    def stop(signum, frame) -> None:
        flag.value = True

    signal.signal(signal.SIGUSR1, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it stops the tasks)
    from .sweep import keep_memory, run_task

    keep_memory()
    import torch

    torch.set_num_threads(1)
    import engine.stacked_training  # noqa: F401
    _send(out, ("ready", os.getpid()))
    while True:
        try:
            indices, settings = _receive(source)
        except EOFError:
            return
        flag.value = False
        try:
            _send(out, ("done", run_task(indices, settings, flag)))
        except ValueError as error:  # bad input (data too small to split, ...): the parent raises it as one line
            _send(out, ("error", (True, str(error))))
        except Exception as error:  # noqa: BLE001 - any other failure goes back to the parent, which raises it
            _send(out, ("error", (False, f"{type(error).__name__}: {error}")))


class WorkerPool:
    """`count` worker processes; `run(payloads, stop)` yields each task's results as they come."""

    _shared: ClassVar[dict[int, WorkerPool]] = {}

    @classmethod
    def shared(cls, count: int) -> WorkerPool:
        pool = cls._shared.get(count)
        if pool is None or not pool.alive():
            pool = cls._shared[count] = cls(count)
        return pool

    def __init__(self, count: int) -> None:
        self.count = count
        self.processes: list[subprocess.Popen] = []
        atexit.register(self.close)

    def start(self) -> None:
        if self.processes:
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        env.setdefault("MALLOC_TRIM_THRESHOLD_", str(1 << 30))
        env.setdefault("MALLOC_MMAP_THRESHOLD_", str(32 << 20))
        env["OMP_NUM_THREADS"] = "1"
        for _ in range(self.count):
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "engine.sweep_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                env=env, cwd=str(ROOT), start_new_session=True))
        for process in self.processes:
            message = _receive(process.stdout)
            if message[0] != "ready":
                raise RuntimeError(f"a sweep worker did not start: {message!r}")

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def run(self, payloads, stop=None):
        self.start()
        tasks: queue.Queue = queue.Queue()
        for payload in payloads:
            tasks.put(payload)
        results: queue.Queue = queue.Queue()

        def feed(process: subprocess.Popen) -> None:
            while True:
                try:
                    payload = tasks.get_nowait()
                except queue.Empty:
                    results.put(("idle", None))
                    return
                try:
                    _send(process.stdin, payload)
                    results.put(_receive(process.stdout))
                except (EOFError, OSError, BrokenPipeError) as error:
                    results.put(("error", f"a sweep worker ended: {error!r}"))
                    return

        threads = [threading.Thread(target=feed, args=(p,), daemon=True) for p in self.processes]
        for thread in threads:
            thread.start()
        idle, stopping = 0, False
        try:
            while idle < len(threads):
                try:
                    kind, value = results.get(timeout=0.1)
                except queue.Empty:
                    kind = None
                if kind == "done":
                    yield value
                elif kind == "idle":
                    idle += 1
                elif kind == "error":
                    bad_input, text = value
                    raise (ValueError if bad_input else RuntimeError)(text)
                if stop is not None and stop.is_set() and not stopping:
                    stopping = True
                    self._stop(tasks)
        except BaseException:
            self._stop(tasks)
            for thread in threads:
                thread.join(timeout=30)
            raise

    def _stop(self, tasks: queue.Queue) -> None:
        """Drop the tasks not started and ask the running ones to end now."""
        while True:
            try:
                tasks.get_nowait()
            except queue.Empty:
                break
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGUSR1)

    def close(self) -> None:
        for process in self.processes:
            try:
                process.stdin.close()
            except OSError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []


if __name__ == "__main__":
    main()
