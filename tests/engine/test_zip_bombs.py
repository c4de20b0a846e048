"""Issue 18: a saved experiment's .zip whose headers lie about its members' sizes (a few kB that inflate to
hundreds of MB) is refused with one line after reading at most what its headers declare; so is an absurd
central directory, and the same holds for torch's .zip inside (weights.pt) and snapshots.npz."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib

import pytest

from engine import Settings, Trainer
from engine.bounded_zip import MAX_DIRECTORY_BYTES
from engine.storage import StorageError, experiment_archive, load_experiment_archive
from tests.support.zips import MiB, honest, lying_zip, zeros

PEAK_MIB = 24  # what loading a bomb may allocate at most (settings.json alone may be 32 MiB)
STREAM_MIB = {zipfile.ZIP_BZIP2: 256, zipfile.ZIP_DEFLATED: 256, zipfile.ZIP_LZMA: 128}  # all over every limit


@pytest.fixture(scope="module")
def members() -> dict[str, bytes]:
    trainer = Trainer(Settings(dataset="toy_xor", samples=100, hidden=(3,), epochs=2))
    trainer.train()
    with zipfile.ZipFile(io.BytesIO(experiment_archive(trainer))) as saved:
        return {name: saved.read(name) for name in saved.namelist()}


def refused_within_bounds(data: bytes, *words: str) -> str:
    tracemalloc.start()
    try:
        with pytest.raises(StorageError) as caught:
            load_experiment_archive(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert peak < PEAK_MIB * MiB, f"{peak / MiB:.0f} MiB allocated to refuse it: {message}"
    assert "\n" not in message and all(word in message for word in words), message
    return message


@pytest.mark.parametrize("method", list(STREAM_MIB), ids=["bzip2", "deflate", "lzma"])
def test_a_member_that_inflates_past_its_declared_size_is_refused_after_reading_that_much(members, method):
    # Before: bzip2 and lzma inflated all of it (the app went to 11.5 GB on 5 GiB), deflate up to 64 MiB.
    bomb = lying_zip(honest(members, "settings.json") + [
        ("settings.json", method, zeros(method, STREAM_MIB[method]), 1000, 0)])
    assert len(bomb) < 300_000
    refused_within_bounds(bomb, "settings.json", "more than the 1,000 bytes its header declares")


def test_a_member_declared_within_the_limit_is_refused_at_the_limit(members):
    bomb = lying_zip(honest(members, "settings.json") + [
        ("settings.json", zipfile.ZIP_BZIP2, zeros(zipfile.ZIP_BZIP2, 64), 64 * MiB, 0)])
    with pytest.raises(StorageError, match="settings.json: larger than the 32 MiB allowed"):
        load_experiment_archive(bomb)  # refused by its declared size already
    bomb = lying_zip(honest(members, "settings.json") + [
        ("settings.json", zipfile.ZIP_BZIP2, zeros(zipfile.ZIP_BZIP2, 64), 10 * MiB, 0)])
    with pytest.raises(StorageError, match="more than the 10,485,760 bytes its header declares"):
        load_experiment_archive(bomb)


def test_an_absurd_central_directory_is_refused_before_it_is_parsed(members):
    # Before: zipfile parsed all of it (one object per entry) and only then were the members counted.
    filler = [(f"f{index}", zipfile.ZIP_STORED, b"", 0, 0) for index in range(150_000)]
    data = lying_zip(honest(members) + filler)
    assert len(data) > 10 * MiB
    refused_within_bounds(data, f"more than the {MAX_DIRECTORY_BYTES:,} allowed")


def test_a_bomb_inside_the_weights_is_refused_before_torch_reads_it(members):
    with zipfile.ZipFile(io.BytesIO(members["weights.pt"])) as inner:
        records = {info.filename: inner.read(info) for info in inner.infolist()}
    name = next(name for name in records if "/data/" in name)
    entries = [(key, zipfile.ZIP_STORED, value, len(value), zlib.crc32(value)) for key, value in records.items()
               if key != name] + [(name, zipfile.ZIP_DEFLATED, zeros(zipfile.ZIP_DEFLATED, 256), 1000, 0)]
    bomb = lying_zip(honest(members, "weights.pt") + [
        ("weights.pt", zipfile.ZIP_STORED, (weights := lying_zip(entries)), len(weights), zlib.crc32(weights))])
    refused_within_bounds(bomb, "weights.pt", name, "more than the 1,000 bytes its header declares")


def test_a_bomb_inside_the_snapshots_is_refused(members):
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, epochs=np.arange(3), xs=np.linspace(0, 1, 4), ys=np.linspace(0, 1, 4))
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as saved:
        arrays = {info.filename: saved.read(info) for info in saved.infolist()}
    entries = [(key, zipfile.ZIP_STORED, value, len(value), zlib.crc32(value)) for key, value in arrays.items()]
    snapshots = lying_zip(entries + [("maps.npy", zipfile.ZIP_LZMA, zeros(zipfile.ZIP_LZMA, 128), 2000, 0)])
    bomb = lying_zip(honest(members) + [("snapshots.npz", zipfile.ZIP_STORED, snapshots, len(snapshots),
                                         zlib.crc32(snapshots))])
    refused_within_bounds(bomb, "snapshots.npz", "maps", "more than the 2,000 bytes its header declares")


def test_honest_archives_of_every_method_still_load(members):
    for method in STREAM_MIB:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for name, content in members.items():
                archive.writestr(name, content)
        assert load_experiment_archive(buffer.getvalue()).epochs_done == 2
