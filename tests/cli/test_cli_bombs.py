"""Issue 18 on the command line: `report --load` refuses a .zip whose settings.json inflates
far past what its headers declare, in one line, without inflating it (before: 5.4 GB for 5 GiB of zeros)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

from dashboard.cli import main
from engine import Settings, Trainer
from engine.storage import experiment_archive
from tests.support.zips import MiB, honest, lying_zip, zeros


def test_report_load_refuses_a_lying_zip_without_inflating_it(capsys, tmp_path):
    trainer = Trainer(Settings(dataset="toy_xor", samples=100, hidden=(3,), epochs=2))
    trainer.train()
    with zipfile.ZipFile(io.BytesIO(experiment_archive(trainer))) as saved:
        members = {name: saved.read(name) for name in saved.namelist()}
    bomb = tmp_path / "x.zip"
    bomb.write_bytes(lying_zip(honest(members, "settings.json") + [
        ("settings.json", zipfile.ZIP_BZIP2, zeros(zipfile.ZIP_BZIP2, 256), 1000, 0)]))
    tracemalloc.start()
    try:
        code = main(["report", "--load", str(bomb), "-o", str(tmp_path / "r.html")])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    out, err = capsys.readouterr()
    assert peak < 24 * MiB, f"{peak / MiB:.0f} MiB allocated to refuse it"
    assert code == 2 and err.count("\n") == 1 and "more than the 1,000 bytes its header declares" in err, err
