"""The training worker's pacing at a watchable speed, with an owner that takes its mailbox slowly (a busy browser)."""

from __future__ import annotations

import threading
import time

import dashboard.session.worker as worker_module
from dashboard.session.worker import SHOWN_SECONDS, SPEEDS, TAKE_TIMEOUT, Job, Worker
from engine import Settings, load_dataset

XOR = Settings(dataset="toy_xor", hidden=(8, 8), lr=0.01, threads=1)


def run_with_owner(speed: str, epochs: int, take_every: float):
    """Train `epochs` epochs, taking the mailbox every `take_every` seconds; the epochs of the maps taken."""
    worker = Worker(Job(XOR, load_dataset(XOR), epochs, epoch_seconds=SPEEDS[speed])).start()
    shown, started = [], time.monotonic()
    while True:
        time.sleep(take_every)
        update = worker.take()
        if update.grid is not None and update.rows["epoch"]:
            shown.append(update.rows["epoch"][-1])
        if update.done:
            return shown, time.monotonic() - started


def test_a_slow_owner_slows_a_watchable_run_instead_of_missing_its_epochs():
    # Taking every 0.8 s, an unpaced 60-epoch run at normal (1.2 s) would show 2 maps, 40 epochs apart.
    shown, _ = run_with_owner("normal", 60, take_every=0.8)
    most = round(SHOWN_SECONDS / SPEEDS["normal"])
    gaps = [later - earlier for earlier, later in zip([0, *shown], shown)]
    assert shown[-1] == 60 and len(shown) >= 60 // most, shown
    assert max(gaps[:-1]) <= most, shown  # the last map is the final one, whenever it comes


def test_an_owner_that_takes_nothing_slows_a_watchable_run_to_one_window_per_wait(monkeypatch):
    made = count_maps(monkeypatch)
    most = round(SHOWN_SECONDS / SPEEDS["normal"])
    worker = Worker(Job(XOR, load_dataset(XOR), 3 * most, epoch_seconds=SPEEDS["normal"])).start()
    assert worker.join(3 * (TAKE_TIMEOUT + SHOWN_SECONDS) + 30)
    # A map and a wait at the start and after each window, and the final map: not one an epoch once behind.
    assert worker.take().rows["epoch"][-1] == 3 * most and len(made) <= 5, len(made)


def test_fastest_never_waits_for_the_owner():
    worker = Worker(Job(XOR, load_dataset(XOR), 200, epoch_seconds=SPEEDS["fastest"])).start()
    assert worker.join(30)  # nobody takes anything: it still runs to the end
    assert worker.take().rows["epoch"][-1] == 200


def test_a_stop_request_ends_the_wait_for_the_owner():
    waiting = Worker(Job(XOR, load_dataset(XOR), 10_000, epoch_seconds=SPEEDS["normal"])).start()
    time.sleep(1.0)  # it has made a map nobody took, and waits
    stopped = threading.Event()
    threading.Thread(target=lambda: (waiting.join(), stopped.set()), daemon=True).start()
    waiting.request_stop()
    assert stopped.wait(5)
    assert waiting.take().rows["epoch"][-1] < 100


def count_maps(monkeypatch) -> list:
    made = []
    real = worker_module.evaluate_grid
    monkeypatch.setattr(worker_module, "evaluate_grid", lambda *args: made.append(1) or real(*args))
    return made


def test_no_map_is_made_while_the_last_one_waits_to_be_taken(monkeypatch):
    made = count_maps(monkeypatch)
    shown, seconds = run_with_owner("fastest", 3000, take_every=0.5)
    # One map per take (each made after the last was taken), and the final one; ~15 a second were made before.
    assert shown[-1] == 3000 and len(made) <= len(shown) + 1, (len(made), shown, seconds)
