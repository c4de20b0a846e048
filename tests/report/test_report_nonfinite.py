"""Issue 18: a model whose weights hold NaN or inf (a diverged run, a saved experiment) is reported, its maps drawn
with the non-finite cells grey, on the command line and in the app's Download report."""

from __future__ import annotations

import asyncio
import json
import shutil
import zipfile

import numpy as np
import pytest
import torch

from dashboard.cli import main
from dashboard.plots.network import NOT_FINITE, _rgba, output_bytes, scaled_bytes
from engine import Settings, Trainer
from engine.storage import save_experiment


def broken(value: float) -> Trainer:
    trainer = Trainer(Settings(samples=100, epochs=2, hidden=(4,)))
    trainer.train()
    with torch.no_grad():
        for parameter in trainer.model.parameters():
            parameter.fill_(value)
    return trainer


def test_maps_with_nan_or_inf_draw_grey():
    values = np.array([[np.nan, np.inf], [-np.inf, 0.5]], np.float32)
    rgba = _rgba(values)  # before: IndexError: index -9223372036854775808 is out of bounds
    assert [tuple(rgba[0, 0, :3]), tuple(rgba[0, 1, :3]), tuple(rgba[1, 0, :3])] == [NOT_FINITE] * 3
    assert tuple(rgba[1, 1, :3]) != NOT_FINITE
    assert scaled_bytes(values).tolist() == [[128, 255], [0, 255]]  # NaN: 0; inf: the largest
    assert output_bytes(np.full((200, 200), np.nan, np.float32)).max() == 128


@pytest.mark.parametrize("value, packed", [(float("nan"), False), (float("inf"), True)])
def test_report_load_of_nan_or_inf_weights_writes_the_report(capsys, tmp_path, value, packed):
    folder = save_experiment(broken(value), tmp_path / "saved")
    source = folder
    if packed:  # the app's Save experiment .zip
        source = tmp_path / "saved.zip"
        with zipfile.ZipFile(source, "w") as archive:
            for path in folder.iterdir():
                archive.write(path, path.name)
        shutil.rmtree(folder)
    output = tmp_path / "r.html"
    assert main(["report", "--load", str(source), "-o", str(output)]) == 0, capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err and output.stat().st_size > 100_000


def test_report_of_a_csv_whose_scaling_overflows(capsys, tmp_path):
    # Values near float32's largest: train says "diverged"; the report drew an IndexError before.
    rng = np.random.default_rng(0)
    rows = "".join(f"{(rng.random() * 2 - 1) * 3e38!r},{(rng.random() * 2 - 1) * 3e38!r},{i % 2}\n" for i in range(60))
    source = tmp_path / "wide.csv"
    source.write_text("a,b,label\n" + rows)
    output = tmp_path / "r.html"
    code = main(["report", "--csv", str(source), "--epochs", "5", "-o", str(output)])
    err = capsys.readouterr().err
    assert code == 3 and "diverged" in err and "Traceback" not in err and output.exists()


def test_the_apps_download_report_after_nan_weights_gives_the_report_or_one_message():
    from dashboard.session.experiment import Experiment
    from dashboard.ui.downloads import report_download

    experiment = Experiment(dataset="toy_xor", samples=200, hidden="4", epochs=3)
    experiment.train()
    experiment.wait(timeout=120)
    with torch.no_grad():
        for parameter in experiment.trainer.model.parameters():
            parameter.fill_(float("nan"))
    button = report_download(experiment)
    page = asyncio.run(button.callback())
    assert page is not None and "nnp-report" in page.getvalue()  # before: an IndexError logged, nothing else
    numbers = page.getvalue().split('id="nnp-report">', 1)[1].split("</script>", 1)[0]
    assert json.loads(numbers)


def test_the_apps_save_experiment_on_a_full_disk_is_one_message(monkeypatch, caplog):
    import engine.storage
    from dashboard.session.experiment import Experiment
    from dashboard.ui.downloads import save_download

    experiment = Experiment(dataset="toy_xor", samples=200, hidden="4", epochs=3)
    experiment.train()
    experiment.wait(timeout=120)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.storage.torch, "save", full)
    button = save_download(experiment)
    assert button.callback() is None
    button._sync_data(None)  # what Panel does with the callback's answer: nothing, no traceback
    assert experiment.message_kind == "danger"
    assert experiment.message.startswith("Save experiment failed: ") and "No space left on device" in experiment.message
    assert not any(record.exc_info for record in caplog.records)


def test_classic_classifiers_on_overflowing_data_are_one_line_in_the_report(tmp_path):
    """The report's section says why no classifier was fitted (the report drew a sklearn traceback's text)."""
    from dashboard.report.sections import baselines_section
    from engine import load_dataset
    from engine.baselines import fit_baselines
    from engine.evaluation import evaluate_grid, evaluate_points

    rng = np.random.default_rng(0)
    rows = "".join(f"{(rng.random() * 2 - 1) * 3e38!r},{(rng.random() * 2 - 1) * 3e38!r},{i % 2}\n" for i in range(60))
    source = tmp_path / "wide.csv"
    source.write_text("a,b,label\n" + rows)
    settings = Settings(dataset="csv", csv_path=str(source), epochs=1)
    data = load_dataset(settings)
    with pytest.raises(ValueError, match="finite inputs"):
        fit_baselines(data)
    trainer = Trainer(settings, dataset=data)
    section, numbers = baselines_section(trainer, evaluate_grid(trainer, 20), evaluate_points(trainer))
    assert numbers is None and "Not fitted: the classic classifiers need finite inputs" in section[0].object
