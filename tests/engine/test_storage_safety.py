"""Hostile and malformed saved experiments (issue 11): archives are data, never paths; sizes are checked before
reading; every bad file is one StorageError; saving never destroys an earlier experiment."""

import io
import json
import os
import stat
import zipfile

import numpy as np
import pytest
import torch

from engine import Settings, Trainer
from engine.storage import (
    MAX_FILE_BYTES,
    StorageError,
    experiment_archive,
    load_experiment,
    load_experiment_archive,
    load_saved,
    save_experiment,
)

SMALL = Settings(dataset="toy_xor", samples=200, hidden=(4,), epochs=5)


@pytest.fixture(scope="module")
def csv_trainer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(1)
    points = rng.random((80, 2))
    source = folder / "mine.csv"
    source.write_text("a,b,label\n" + "".join(f"{x},{y},{int(x > y)}\n" for x, y in points))
    trainer = Trainer(Settings(dataset="csv", csv_path=str(source), hidden=(3,), epochs=3))
    trainer.train()
    return trainer


@pytest.fixture(scope="module")
def archive(csv_trainer) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(experiment_archive(csv_trainer))) as saved:
        return {name: saved.read(name) for name in saved.namelist()}


def zipped(members: dict[str, bytes], links=()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def with_settings(members, change) -> dict[str, bytes]:
    record = json.loads(members["settings.json"])
    change(record)
    return {**members, "settings.json": json.dumps(record).encode()}


def refused(data: bytes, *words: str) -> str:
    with pytest.raises(StorageError) as caught:
        load_experiment_archive(data)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


def test_the_apps_archive_loads_from_memory_and_names_no_path(archive, csv_trainer):
    loaded = load_experiment_archive(zipped(archive))
    assert loaded.history == csv_trainer.history
    assert loaded.settings.csv_path == "data.csv"  # the data lives in memory; no temporary folder is made
    np.testing.assert_array_equal(loaded.dataset.points, csv_trainer.dataset.points)


def test_csv_file_is_written_only_on_success(archive, tmp_path):
    target = tmp_path / "data.csv"
    loaded = load_experiment_archive(zipped(archive), csv_file=target)
    assert loaded.settings.csv_path == str(target) and target.read_bytes() == archive["data.csv"]
    other = tmp_path / "other.csv"
    with pytest.raises(StorageError):
        load_experiment_archive(zipped(with_settings(archive, lambda r: r["history"]["loss"].pop())), csv_file=other)
    assert not other.exists()


@pytest.mark.parametrize("path", ["/etc/passwd", "../../etc/passwd", "/dev/zero", "sub/data.csv"])
def test_csv_path_other_than_its_own_data_is_refused(archive, path):
    data = zipped(with_settings(archive, lambda r: r["settings"].update(csv_path=path)))
    message = refused(data, "csv_path", "data.csv")
    assert "root:" not in message


@pytest.mark.parametrize("name", ["/settings.json", "../settings.json", "a/../../x", "C:/x", "a\\..\\x"])
def test_member_names_outside_the_archive_are_refused(archive, name):
    refused(zipped({**archive, name: b"x"}), "member named")


def test_symbolic_link_members_are_refused(archive):
    refused(zipped({**archive, "data.csv": b"/etc/passwd"}, links={"data.csv"}), "symbolic link")


def test_zip_bomb_is_refused_before_it_is_decompressed(archive):
    bomb = zipped({**archive, "settings.json": b"0" * (MAX_FILE_BYTES["settings.json"] + 1)})
    assert len(bomb) < 1_000_000
    refused(bomb, "settings.json", "larger than")


def test_a_member_that_lies_about_its_size_is_cut_at_the_limit(archive, monkeypatch):
    monkeypatch.setitem(MAX_FILE_BYTES, "data.csv", 100)
    refused(zipped(archive), "data.csv", "larger than")  # the declared size is checked first
    import engine.storage as storage

    real = zipfile.ZipFile.infolist

    def lying(self):  # a central directory that understates the size
        infos = real(self)
        for info in infos:
            info.file_size = min(info.file_size, 10)
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    with pytest.raises(StorageError):
        storage.archive_files(zipped(archive))


def test_too_many_members_are_refused(archive):
    refused(zipped({**archive, **{f"junk{i}": b"" for i in range(80)}}), "members")


@pytest.mark.parametrize("change, words", [
    (lambda r: r["history"]["loss"].pop(), ("history", "one length")),
    (lambda r: r["runs"][0]["settings"].update(lr=-1), ("run 1", "lr")),
    (lambda r: r["runs"][0]["settings"].update(colour="red"), ("run 1", "colour")),
    (lambda r: r["runs"][0].update(settings="nope"), ("run 1",)),
    (lambda r: r["runs"].clear(), ("history", "no saved run")),
    (lambda r: r["settings"].update(device="cuda:abc"), ("device", "cuda:abc")),
    (lambda r: r["runs"][0]["settings"].update(device="mps"), ("device",)),
    (lambda r: r["history"].update(epoch=[1, 1, 2]), ("history",)),
    (lambda r: r.update(runs={}), ("runs",)),
], ids=["unequal-history", "run-bad-setting", "run-unknown-setting", "run-settings-not-object", "orphan-epochs",
        "bad-device", "run-bad-device", "epochs-not-increasing", "runs-not-list"])
def test_malformed_settings_are_one_clear_error(archive, change, words):
    refused(zipped(with_settings(archive, change)), "settings.json", *words)


def test_damaged_members_are_storage_errors(archive):
    refused(zipped({**archive, "weights.pt": b"garbage"}), "weights.pt")
    refused(zipped({**archive, "data.csv": b"x,y,label\n1,2,3\n"}), "data.csv", "label")
    refused(zipped({**archive, "data.csv": b"\xff\xfe"}), "data.csv")
    refused(zipped({**archive, "snapshots.npz": b"not a zip"}), "snapshots.npz")
    data = zipped(archive)
    refused(data[: len(data) // 2], "not a .zip")


def test_folder_with_a_symlinked_or_outside_csv_is_refused(csv_trainer, tmp_path):
    folder = save_experiment(csv_trainer, tmp_path / "saved")
    (folder / "data.csv").unlink()
    (folder / "data.csv").symlink_to("/etc/passwd")
    with pytest.raises(StorageError, match="symbolic link"):
        load_experiment(folder)
    (folder / "data.csv").unlink()
    record = json.loads((folder / "settings.json").read_text())
    record["settings"]["csv_path"] = "/etc/passwd"
    (folder / "settings.json").write_text(json.dumps(record))
    with pytest.raises(StorageError, match="csv_path"):
        load_experiment(folder)


def test_zip_and_folder_load_alike(csv_trainer, tmp_path):
    folder = save_experiment(csv_trainer, tmp_path / "saved")
    archive_path = tmp_path / "saved.zip"
    archive_path.write_bytes(experiment_archive(csv_trainer))
    from_folder, _ = load_saved(folder)
    from_zip, snapshots = load_saved(archive_path)
    assert from_folder.history == from_zip.history and snapshots is None
    assert torch.equal(from_folder.net.flat, from_zip.net.flat)
    with pytest.raises(StorageError, match="no such"):
        load_saved(tmp_path / "nowhere.zip")


def test_device_can_be_replaced_on_load(archive):
    data = zipped(with_settings(archive, lambda r: r["settings"].update(device="cuda:7", threads=4)))
    loaded = load_experiment_archive(data, device="cpu", threads=1)
    assert loaded.settings.device == "cpu" and loaded.settings.threads == 1


def test_failed_save_leaves_the_earlier_experiment_intact(csv_trainer, tmp_path, monkeypatch):
    folder = save_experiment(csv_trainer, tmp_path / "saved")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    other = Trainer(SMALL)
    other.train()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError):
        save_experiment(other, folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before  # no temporary files either
    assert load_experiment(folder).history == csv_trainer.history


def test_failed_save_into_a_new_folder_leaves_nothing(tmp_path, monkeypatch):
    trainer = Trainer(SMALL)
    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError):
        save_experiment(trainer, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_save_keeps_other_files_and_ordinary_permissions(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    save_experiment(Trainer(SMALL), folder)
    assert (folder / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "settings.json", "weights.pt"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((folder / "weights.pt").stat().st_mode) == 0o666 & ~umask


def test_a_weights_file_that_would_unpack_to_too_much_is_refused(archive):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as inner:  # torch's format is a .zip of records
        inner.writestr("archive/data/0", b"\0" * (MAX_FILE_BYTES["weights.pt"] + 1))
    assert len(buffer.getvalue()) < 1_000_000
    refused(zipped({**archive, "weights.pt": buffer.getvalue()}), "weights.pt", "larger than")
