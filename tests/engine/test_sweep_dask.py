"""Sweeps on a Dask distributed cluster on loopback: same results as the local run, and a lost worker's tasks
run again elsewhere."""

import os
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from engine import Settings  # noqa: E402 (after the skip when distributed is missing)
from engine.sweep import Sweep, run_sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SMALL = Settings(dataset="toy_xor", samples=300, hidden=(4,), epochs=8, lr=0.02)


@pytest.fixture(scope="module")
def cluster():
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=":0", silence_logs=40) as local:
        yield local


def comparable(results):
    return [r.to_dict() | {"seconds": 0} for r in results]


def test_a_sweep_on_the_cluster_gives_the_local_results(cluster):
    sweep = Sweep(SMALL, {"lr": [0.01, 0.05], "hidden": [(4,), (3, 3)], "dropout": [0.0, 0.1]}, seeds=[0])
    seen = []
    remote = run_sweep(sweep, scheduler=cluster.scheduler_address, chunk_size=2,
                       progress=lambda done, total, result: seen.append(done))
    local = run_sweep(sweep, workers=1, chunk_size=2)
    assert comparable(remote) == comparable(local)
    assert sorted(seen) == list(range(1, 9))


def test_a_worker_killed_mid_sweep_loses_no_result(cluster):
    sweep = Sweep(SMALL.replace(epochs=100, samples=2000), {"lr": [0.01, 0.02, 0.03]}, seeds=[0, 1])
    client = distributed.Client(cluster.scheduler_address)
    try:
        killed = threading.Event()

        def kill_a_worker():
            deadline = time.time() + 60
            while time.time() < deadline:  # wait until some worker is busy, then kill its process
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, 9)
                    killed.set()
                    return
                time.sleep(0.02)

        killer = threading.Thread(target=kill_a_worker)
        killer.start()
        results = run_sweep(sweep, scheduler=cluster.scheduler_address, chunk_size=1)
        killer.join()
    finally:
        client.close()
    assert killed.is_set()
    assert [r.index for r in results] == list(range(6)) and all(r.ended == "finished" for r in results)
    assert comparable(results) == comparable(run_sweep(sweep, workers=1, chunk_size=1))
