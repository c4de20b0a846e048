"""Issue 18: a valid but huge saved experiment stalled every session of the server (1.5 M epochs of history:
17.7 s and 1.4 GB to load; 100,000 runs: 55 s and a session that could not train). What one saved experiment
may hold is bounded; each bound refuses with one line saying it, before the file is parsed where possible."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from engine import Settings, Trainer
from engine.saved_checks import MAX_HISTORY_EPOCHS, MAX_JSON_VALUES, MAX_RUNS, MAX_SNAPSHOTS
from engine.snapshots import Snapshots
from engine.storage import StorageError, experiment_archive, load_experiment_archive
from tests.support.zips import zipped

MiB = 2**20


@pytest.fixture(scope="module")
def saved() -> tuple[Trainer, dict[str, bytes]]:
    trainer = Trainer(Settings(dataset="toy_xor", samples=100, hidden=(3,), epochs=2))
    trainer.train()
    with zipfile.ZipFile(io.BytesIO(experiment_archive(trainer))) as archive:
        return trainer, {name: archive.read(name) for name in archive.namelist()}


def changed(members: dict[str, bytes], change) -> bytes:
    record = json.loads(members["settings.json"])
    change(record)
    return zipped({**members, "settings.json": json.dumps(record, separators=(",", ":")).encode()})


def one_line(data: bytes, *words: str) -> str:
    with pytest.raises(StorageError) as caught:
        load_experiment_archive(data)
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message
    return message


def longer_history(epochs: int):
    def change(record):
        history = record["history"]
        history.update(epoch=list(range(1, epochs + 1)), run=[1] * epochs)
        for key in ("loss", "train_accuracy", "test_accuracy", "test_loss", "lr"):
            history[key] = [0.5] * epochs
        record["runs"][0]["last_epoch"] = epochs
    return change


def test_history_over_the_limit_is_refused(saved):
    _, members = saved
    assert load_experiment_archive(changed(members, longer_history(MAX_HISTORY_EPOCHS))).epochs_done \
        == MAX_HISTORY_EPOCHS
    one_line(changed(members, longer_history(MAX_HISTORY_EPOCHS + 1)),
             "settings.json", f"{MAX_HISTORY_EPOCHS + 1:,} epochs", f"more than the {MAX_HISTORY_EPOCHS:,}")


def test_runs_over_the_limit_are_refused(saved):
    _, members = saved

    def runs(count):
        def change(record):
            run = record["runs"][0]
            record["runs"] = [run] + [{**run, "number": number, "first_epoch": 3, "last_epoch": 2}
                                      for number in range(2, count + 1)]
        return change

    assert len(load_experiment_archive(changed(members, runs(MAX_RUNS))).runs) == MAX_RUNS
    one_line(changed(members, runs(MAX_RUNS + 1)), "settings.json", f"{MAX_RUNS + 1} runs",
             f"more than the {MAX_RUNS}")


def test_json_values_are_counted_before_parsing(saved):
    _, members = saved
    crowded = b'{"format_version": 1, "x": [' + b"[]," * 8_000_000 + b"[]]}"  # 24 MB; 450 MB once parsed
    data = zipped({**members, "settings.json": crowded})
    tracemalloc.start()
    try:
        one_line(data, "settings.json", f"more than the {MAX_JSON_VALUES:,} a saved experiment may hold")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * MiB, f"{peak / MiB:.0f} MiB to refuse it"


def test_deep_nesting_is_one_line(saved):
    _, members = saved
    one_line(zipped({**members, "settings.json": b"[" * 100_000 + b"]" * 100_000}), "settings.json", "nested deeper")


def test_snapshots_over_the_limit_are_refused(saved):
    trainer, members = saved
    (x0, x1), (y0, y1) = trainer.dataset.box
    count = MAX_SNAPSHOTS + 1
    snapshots = Snapshots(np.linspace(x0, x1, 2), np.linspace(y0, y1, 2), list(range(1, count + 1)),
                          [np.zeros((2, 2), np.float32)] * count)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, epochs=np.asarray(snapshots.epochs), xs=snapshots.xs, ys=snapshots.ys,
                        maps=snapshots.stacked())
    with zipfile.ZipFile(io.BytesIO(changed(members, longer_history(count)))) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}  # epochs for every map
    one_line(zipped({**members, "snapshots.npz": buffer.getvalue()}), "snapshots.npz", f"{count:,} maps",
             f"more than the {MAX_SNAPSHOTS:,}")
