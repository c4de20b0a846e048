"""The HTML report: self-contained and offline, the same numbers from a live and a saved experiment, a working
snapshot slider in a real browser, snapshots saved and loaded with an experiment, the dashboard's download, and
clean failures of `nn-playground report` on bad input."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from dashboard.cli import main
from dashboard.report import remote_references
from engine import Settings, Trainer
from engine.snapshots import SnapshotRecorder, replay
from engine.storage import (
    SNAPSHOTS_FILE,
    StorageError,
    load_experiment,
    load_snapshots,
    save_experiment,
)

MAX_BYTES = 8_000_000
URL = re.compile(r"https?://")
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
DEFAULT_SNAPSHOTS = list(range(0, 201, 10))  # 200 epochs: a map every 10 epochs, and before training


def numbers_of(page: str) -> dict:
    """The numbers a report page carries (its JSON block)."""
    match = re.search(r'<script type="application/json" id="nnp-report">(.*?)</script>', page, re.S)
    assert match, "the page has no nnp-report block"
    return json.loads(match[1].replace("<\\/", "</"))


def outside_the_libraries(page: str) -> str:
    """The page without the JavaScript libraries' code: markup, styles, the Bokeh document and the numbers."""
    documents = [body for attributes, body in SCRIPT.findall(page) if "json" in attributes.lower()]
    return SCRIPT.sub("", page) + "".join(documents)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The default experiment trained and reported by the command line (and saved), then reported from the folder."""
    folder = tmp_path_factory.mktemp("reports")
    live, loaded, saved = folder / "live.html", folder / "loaded.html", folder / "saved"
    assert main(["report", "--save", str(saved), "-o", str(live)]) == 0
    assert main(["report", "--load", str(saved), "-o", str(loaded)]) == 0
    return {"live": live, "loaded": loaded, "saved": saved, "folder": folder}


def test_default_report_is_one_offline_file_under_8_mb(reports):
    page = reports["live"].read_text(encoding="utf-8")
    assert reports["live"].stat().st_size < MAX_BYTES
    # Outside the libraries' code (which mentions URLs it never loads here) there is no URL at all: the
    # stylesheets and icons Panel links to on its CDN are inlined.
    assert not URL.findall(outside_the_libraries(page))
    assert not re.search(r"""(?:src|href)\s*=\s*["']?//""", outside_the_libraries(page), re.I)
    assert "cdn.holoviz.org" not in page and "cdn.bokeh.org" not in page
    assert remote_references(page) == []
    for words in ("nn-playground report: Toy dataset: easy", "Written 20", "Settings", "train/test split",
                  "Loss and accuracy", "Decision map", "Through training", "Evaluation", "Confusion matrices",
                  "Runs", "majority class", "Hints", "3 of 4 hidden units (75%) are never active",
                  "Try it: the same settings with", "--activation leaky_relu"):
        assert words in page, words


def test_report_numbers_are_the_experiments(reports):
    numbers = numbers_of(reports["live"].read_text(encoding="utf-8"))
    trainer = load_experiment(reports["saved"])
    history = trainer.history
    assert numbers["settings"] == Settings().to_dict()
    assert numbers["final"] == {"epoch": 200, "loss": history.loss[-1], "test_loss": history.test_loss[-1],
                                "train_accuracy": history.train_accuracy[-1],
                                "test_accuracy": history.test_accuracy[-1]}
    assert numbers["majority"]["test"] == pytest.approx(0.733) and numbers["final"]["test_accuracy"] == pytest.approx(
        0.733
    )
    assert 0.5 < numbers["agreement"] < 1
    confusion = np.array(numbers["confusion"]["test"])
    assert confusion.sum() == 1000 and (confusion[0, 0] + confusion[1, 1]) / 1000 == pytest.approx(
        numbers["final"]["test_accuracy"], abs=1e-6)
    assert [run["epochs"] for run in numbers["runs"]] == ["1-200"] and numbers["runs"][0]["ended"] == "finished"
    assert numbers["snapshot_epochs"] == DEFAULT_SNAPSHOTS
    assert [hint["name"] for hint in numbers["hints"]] == ["majority", "dead_relu"]  # as `train` prints them
    assert numbers["hints"][1]["evidence"] == {"dead": 3, "units": 4, "share": 0.75, "read": 3000}


def test_report_from_the_saved_experiment_has_the_live_numbers(reports):
    live = numbers_of(reports["live"].read_text(encoding="utf-8"))
    loaded = numbers_of(reports["loaded"].read_text(encoding="utf-8"))
    assert loaded == live
    assert (reports["saved"] / SNAPSHOTS_FILE).is_file()


def test_saved_experiment_without_snapshots_shows_the_final_map_and_says_so(reports, tmp_path):
    from dashboard.report import build_report

    copy = tmp_path / "old"
    shutil.copytree(reports["saved"], copy)
    (copy / SNAPSHOTS_FILE).unlink()
    trainer = load_experiment(copy)
    page = build_report(trainer, load_snapshots(copy, trainer))
    assert page.report_numbers["snapshot_epochs"] == [200]
    assert "No snapshots were recorded" in page[0].object
    live = numbers_of(reports["live"].read_text(encoding="utf-8"))
    assert {key: value for key, value in page.report_numbers.items() if key != "snapshot_epochs"} == \
        {key: value for key, value in live.items() if key != "snapshot_epochs"}


@pytest.mark.parametrize("settings, trained", [
    (Settings(), False),  # no epoch yet: empty curves, the untrained map
    (Settings(dataset="iris", iris_features=("sepal_width", "petal_length"), epochs=30), True),  # no exact target
], ids=["untrained", "iris"])
def test_report_of_an_untrained_model_and_of_data_without_target(settings, trained):
    from dashboard.report import build_report

    trainer = Trainer(settings)
    if trained:
        trainer.train()
    numbers = build_report(trainer).report_numbers
    assert numbers["snapshot_epochs"] == [trainer.epochs_done]
    if trained:
        assert numbers["agreement"] is None and numbers["final"]["epoch"] == 30
        assert numbers["evaluation"]["test_accuracy"] == pytest.approx(numbers["final"]["test_accuracy"], abs=1e-6)
    else:
        assert numbers["final"] is None and numbers["runs"] == [] and 0 <= numbers["agreement"] <= 1


SNAPSHOT_STATE_JS = """() => {
  const doc = Bokeh.documents[0];
  const image = doc.get_model_by_name('nnp-snapshot-image').data.image[0];
  let sum = 0;
  for (let i = 0; i < image.length; i++) sum += image[i];
  return {slider: doc.get_model_by_name('nnp-snapshot-slider').value, sum: sum,
          caption: doc.get_model_by_name('nnp-snapshot-caption').text,
          title: doc.get_model_by_name('nnp-snapshot-map').title.text,
          tools: [...doc.all_models].map(m => m.type).filter(t => t === 'HoverTool' || t === 'WheelZoomTool')};
}"""


def test_report_opens_offline_in_chromium_and_its_slider_moves_the_map(reports, browser):
    requests, errors = [], []
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(reports["live"].as_uri(), timeout=120_000)
        page.wait_for_function("() => window.Bokeh !== undefined && Bokeh.documents.length > 0 && "
                               "Bokeh.documents[0].get_model_by_name('nnp-snapshot-image') !== null",
                               timeout=120_000, polling=200)
        # Every plot drew: 3 data, 2 curves, map and target, the snapshot map, 2 evaluations, 2 confusions.
        canvases = page.locator("canvas")
        page.wait_for_function(
            """() => { let n = 0; const walk = (root) => { for (const el of root.querySelectorAll('*')) {
                 if (el.tagName === 'CANVAS') n++; if (el.shadowRoot) walk(el.shadowRoot); } }; walk(document);
                 return n >= 12; }""", timeout=60_000, polling=200)
        assert canvases.count() >= 12
        before = page.evaluate(SNAPSHOT_STATE_JS)
        assert before["slider"] == len(DEFAULT_SNAPSHOTS) - 1 and "Epoch 200" in before["caption"]
        assert before["tools"].count("HoverTool") >= 10 and before["tools"].count("WheelZoomTool") >= 10
        shot_before = page.locator(".noUi-target").first  # the slider's track
        handle = page.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = shot_before.bounding_box()
        region = {"x": max(0, box["x"] - 150), "y": box["y"] + 20, "width": 440, "height": 360}
        image_before = page.screenshot(clip=region)
        handle.focus()
        for _ in range(len(DEFAULT_SNAPSHOTS) - 1):
            handle.press("ArrowLeft")  # back to epoch 0, the untrained network
        page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('nnp-snapshot-slider').value === 0",
                               timeout=30_000, polling=100)
        page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('nnp-snapshot-caption').text"
                               ".includes('Epoch 0')", timeout=30_000, polling=100)
        after = page.evaluate(SNAPSHOT_STATE_JS)
        assert after["sum"] != pytest.approx(before["sum"], rel=1e-3)
        assert after["title"] == "Model at epoch 0: P(class 1)" and "before training" in after["caption"]
        deadline = 50
        while page.screenshot(clip=region) == image_before and deadline:  # the canvas redraws on its own time
            page.wait_for_timeout(100)
            deadline -= 1
        assert page.screenshot(clip=region) != image_before
        assert requests == []
        assert errors == []
    finally:
        context.close()


# ----- snapshots in the engine and in storage -----
SMALL = Settings(dataset="toy_xor", samples=400, hidden=(8,), activation="tanh", lr=0.02, epochs=60)


def test_recorder_takes_round_epochs_and_replay_rebuilds_them_bit_for_bit():
    trainer = Trainer(SMALL.replace(schedule="cosine"))
    recorder = SnapshotRecorder(trainer, count=10)
    assert recorder.every == 10
    trainer.train(callback=recorder, every=5)
    stop = lambda progress: trainer.request_stop() if progress.run_epoch >= 7 else None  # noqa: E731
    trainer.train(30, callback=stop, every=1)  # stopped after 7 of 30 epochs: its schedule was for 30
    trainer.train(20, settings=trainer.settings.replace(optimizer="sgd", momentum=0.9, lr=0.1, batch_size=50))
    assert [run.ended for run in trainer.runs] == ["finished", "stopped", "finished"]
    recorded = recorder.finish()
    assert recorded.epochs == [0, 10, 20, 30, 40, 50, 60, 87]

    rebuilt = replay(trainer, count=10)
    assert rebuilt is not None and rebuilt.epochs[:7] == recorded.epochs[:7] and rebuilt.epochs[-1] == 87
    for epoch, probability in zip(recorded.epochs[:7], recorded.maps):
        assert np.array_equal(rebuilt.maps[rebuilt.epochs.index(epoch)], probability), epoch
    assert np.array_equal(rebuilt.maps[-1], recorded.maps[-1])


def test_replay_refuses_a_history_it_cannot_reproduce():
    trainer = Trainer(SMALL)
    trainer.train(10)
    trainer.history.loss[3] += 0.1  # not what these settings give
    assert replay(trainer) is None


def test_snapshots_are_saved_loaded_checked_and_dropped_when_stale(tmp_path):
    trainer = Trainer(SMALL)
    recorder = SnapshotRecorder(trainer)
    trainer.train(callback=recorder, every=recorder.every)
    snapshots = recorder.finish()
    save_experiment(trainer, tmp_path, snapshots)
    loaded = load_snapshots(tmp_path, load_experiment(tmp_path))
    assert loaded.epochs == snapshots.epochs and all(np.array_equal(a, b) for a, b in zip(loaded.maps, snapshots.maps))
    assert np.array_equal(loaded.xs, snapshots.xs)

    data = dict(np.load(tmp_path / SNAPSHOTS_FILE))
    np.savez(tmp_path / SNAPSHOTS_FILE, **{**data, "epochs": data["epochs"] + 1000})
    with pytest.raises(StorageError, match="after the last trained epoch"):
        load_snapshots(tmp_path, trainer)
    (tmp_path / SNAPSHOTS_FILE).write_bytes(b"not a zip")
    with pytest.raises(StorageError, match=f"{SNAPSHOTS_FILE}: cannot be read"):
        load_snapshots(tmp_path)

    save_experiment(trainer, tmp_path)  # saved again without snapshots: the old file would describe another run
    assert not (tmp_path / SNAPSHOTS_FILE).exists() and load_snapshots(tmp_path) is None


def test_train_save_records_snapshots(tmp_path, capsys):
    assert main(["train", "--dataset", "toy_ring", "--samples", "300", "--epochs", "40", "--save", str(tmp_path)]) == 0
    snapshots = load_snapshots(tmp_path, load_experiment(tmp_path))
    assert snapshots.epochs == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40]
    assert snapshots.maps[0].shape == (100, 100)


# ----- the command line -----
def _damage(name: str, content: bytes):
    return lambda folder: (folder / name).write_bytes(content)


@pytest.mark.parametrize("args, damage, words", [
    (["--load", "{tmp}/nowhere"], None, "nowhere: no such directory"),
    (["--load", "{copy}"], lambda folder: (folder / "settings.json").unlink(), "settings.json: no such file"),
    (["--load", "{copy}"], _damage("settings.json", b'{"format_version": 1, "sett'), "settings.json: cannot be read"),
    (["--load", "{copy}"], _damage("weights.pt", b"garbage"), "weights.pt: cannot be read"),
    (["--load", "{copy}"], _damage(SNAPSHOTS_FILE, b"garbage"), f"{SNAPSHOTS_FILE}: cannot be read"),
    (["--load", "{copy}", "--epochs", "5"], None, "leave out --epochs"),
    (["--load", "{copy}", "--save", "{tmp}/again"], None, "leave out --save"),
    (["-o", "{tmp}/no/such/folder/report.html"], None, "does not exist"),
    (["-o", "{tmp}"], None, "is a folder"),
    (["--dataset", "nope"], None, "'nope' is not allowed; one of"),
    (["--hidden", "8,x"], None, "--hidden"),
], ids=["missing-folder", "no-settings", "truncated-settings", "corrupt-weights", "corrupt-snapshots",
        "load-and-train", "load-and-save", "no-output-folder", "output-is-folder", "bad-dataset", "bad-hidden"])
def test_report_fails_cleanly_on_bad_input(reports, tmp_path, capsys, args, damage, words):
    copy = tmp_path / "copy"
    shutil.copytree(reports["saved"], copy)
    if damage is not None:
        damage(copy)
    output = tmp_path / "out.html"
    argv = ["report", *[arg.format(tmp=tmp_path, copy=copy) for arg in args]]
    if "-o" not in argv:
        argv += ["-o", str(output)]
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("nn-playground: error: ") and err.count("\n") == 1 and words in err, err
    assert "Traceback" not in err and out == ""
    assert not output.exists()


def test_report_help_gives_examples(capsys):
    assert main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "nn-playground report --load" in out and "-o FILE" in out and "--dataset NAME" in out
    assert main(["--help"]) == 0
    assert "report" in capsys.readouterr().out


# ----- the dashboard's download -----
def test_dashboard_download_button_gives_the_report_of_what_the_dashboard_showed(browser, tmp_path):
    import panel as pn

    from dashboard.report import build_report
    from dashboard.session.experiment import Experiment
    from dashboard.ui.downloads import report_download
    from tools.chromium import free_port

    experiment = Experiment(dataset="toy_xor", samples=600, hidden="8", activation="tanh", lr=0.02, epochs=40)
    assert report_download(experiment).disabled  # no model yet
    experiment.train()
    experiment.wait(timeout=120)
    experiment.lr = 0.01
    experiment.continue_training()
    experiment.wait(timeout=120)
    assert not report_download(experiment).disabled and experiment.state == "idle"

    port = free_port()
    server = pn.serve({"report": lambda: pn.Column(report_download(experiment))}, port=port, show=False,
                      threaded=True)
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        for _ in range(300):  # the server thread starts listening on its own time
            try:
                page.goto(f"http://localhost:{port}/report", timeout=60_000)
                break
            except Exception:
                page.wait_for_timeout(200)
        button = page.get_by_role("button", name="Download report")
        button.wait_for(timeout=60_000)
        with page.expect_download(timeout=120_000) as download:
            button.click()
        assert download.value.suggested_filename == "nn-playground-report.html"
        content = Path(download.value.path()).read_text(encoding="utf-8")
    finally:
        context.close()
        server.stop()
        server.join(timeout=20)
        pn.state.reset()

    numbers = numbers_of(content)
    history = experiment.history
    assert numbers["final"]["epoch"] == 80 and numbers["final"]["test_accuracy"] == history.test_accuracy[-1]
    assert numbers["runs"] == json.loads(json.dumps(experiment.runs))  # the dashboard's own runs table
    assert numbers["snapshot_epochs"][0] == 0 and numbers["snapshot_epochs"][-1] == 80  # rebuilt by replaying
    assert len(numbers["snapshot_epochs"]) > 10
    assert not URL.findall(outside_the_libraries(content))

    # The same model saved and loaded gives the same numbers (its engine-level runs table aside).
    save_experiment(experiment.trainer, tmp_path)
    loaded = build_report(load_experiment(tmp_path)).report_numbers
    for key in ("final", "majority", "agreement", "confusion", "evaluation", "settings", "parameters"):
        assert loaded[key] == numbers[key], key


def test_report_of_drawn_points_names_them_as_drawn():
    from dashboard.report.from_experiment import experiment_report_html
    from dashboard.session.experiment import Experiment
    from dashboard.session.runs import DRAWN

    experiment = Experiment(hidden="2", epochs=5)
    points = np.array([[0.1 * i, 0.2] for i in range(1, 5)] + [[0.1 * i, 0.8] for i in range(5, 9)])
    assert experiment.use_points(points, [0] * 4 + [1] * 4, source=DRAWN)
    experiment.train()
    experiment.wait(timeout=120)
    content = experiment_report_html(experiment)
    numbers = numbers_of(content)
    assert numbers["dataset_title"] == "Drawn points" and [run["dataset"] for run in numbers["runs"]] == [DRAWN]
    shown = html.unescape(html.unescape(content))  # the settings table's HTML is escaped twice inside the page
    settings_table = re.search(r"<td>Dataset</td>\s*<td>([^<]*)</td>", shown)
    assert settings_table and settings_table[1] == "drawn points"
    assert "Your data" not in content and "your own data" not in content
