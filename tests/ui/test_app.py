"""The app without a browser: built in-process, served on a free port, presets from the URL, entry points."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import panel as pn
import pytest

from dashboard.session.experiment import Experiment
from dashboard.ui import factory as app_factory
from dashboard.ui.urlsync import apply_query, query_text
from tools.chromium import free_port

ROOT = Path(__file__).resolve().parents[2]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.read().decode("utf-8", "replace")


def new_experiments(before: set[int]) -> list[Experiment]:
    return [experiment for experiment in list(app_factory.EXPERIMENTS) if id(experiment) not in before]


def test_create_app_builds_a_template_and_a_notebook_layout():
    app = app_factory.create_app()
    assert isinstance(app, pn.template.BootstrapTemplate)
    assert isinstance(app.experiment, Experiment)
    notebook = app_factory.playground(dataset="toy_xor", hidden="8,8")
    assert isinstance(notebook, pn.Row) and notebook.experiment.dataset == "toy_xor"
    for layout in (app, notebook):
        layout.experiment.close()


def test_served_page_answers_200_with_local_resources_only(server):
    status, page = get(f"{server}/app")
    assert status == 200
    assert "nn-playground" in page
    # Every script and stylesheet comes from this server (BootstrapTemplate fetches no fonts or CDN files).
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(not re.match(r"(https?:)?//", source) for source in sources), sources


def test_root_redirects_to_the_app(server):
    status, page = get(f"{server}/")
    assert status == 200


def test_url_preset_is_applied_to_the_new_session(server):
    before = set(map(id, app_factory.EXPERIMENTS))
    status, _ = get(f"{server}/app?dataset=toy_xor&hidden=8,8&lr=0.01")
    assert status == 200
    (experiment,) = new_experiments(before)
    assert (experiment.dataset, experiment.hidden, experiment.lr) == ("toy_xor", (8, 8), 0.01)
    assert experiment.message == ""


def test_out_of_range_url_value_is_refused_with_a_message(server):
    before = set(map(id, app_factory.EXPERIMENTS))
    get(f"{server}/app?lr=100&epochs=50&hidden=999")
    (experiment,) = new_experiments(before)
    assert experiment.lr == 0.005 and experiment.hidden == (4,)  # the defaults stay
    assert experiment.epochs == 50  # the valid one is applied
    assert "Learning rate" in experiment.message and "Hidden layers" in experiment.message
    assert experiment.message_kind == "warning"


def test_query_round_trip():
    experiment = Experiment()
    assert query_text(experiment) == ""
    apply_query(experiment, "?dataset=toy_xor&hidden=8,8&lr=0.01")
    assert query_text(experiment) == "?dataset=toy_xor&hidden=8,8&lr=0.01"
    copy = Experiment()
    apply_query(copy, query_text(experiment))
    assert copy.settings() == experiment.settings()


def test_serve_function_has_the_cli_signature():
    import inspect

    from dashboard.ui.server import serve

    parameters = inspect.signature(serve).parameters
    assert parameters["port"].default == 5006 and parameters["show"].default is False


def test_panel_serve_runs_the_thin_script():
    script = ROOT / "dashboard" / "app.py"
    assert "import" in script.read_text() and "from ." not in script.read_text()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", str(script), "--port", str(port), "--address", "127.0.0.1",
         "--allow-websocket-origin", f"127.0.0.1:{port}"],
        cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, page = get(f"http://127.0.0.1:{port}/app?dataset=toy_ring")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"panel serve did not answer: {process.stdout.read().decode()[-2000:]}")
                time.sleep(0.3)
        assert status == 200 and "nn-playground" in page
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_reset_asks_for_confirmation_when_there_is_something_to_lose():
    from dashboard.session.experiment import Experiment
    from dashboard.ui.sidebar import Sidebar

    experiment = Experiment(epochs=5, samples=200)
    sidebar = Sidebar(experiment)
    reset = sidebar.buttons["reset"]
    reset.clicks += 1  # nothing trained yet: resets at once
    assert reset.name == "Reset" and not sidebar.reset_armed
    experiment.train()
    experiment.wait(60)
    reset.clicks += 1
    assert reset.name == "Confirm reset" and experiment.runs and "Confirm reset" in experiment.message
    sidebar.buttons["step"].clicks += 1  # another button keeps them
    assert reset.name == "Reset" and not sidebar.reset_armed
    experiment.wait(60)
    reset.clicks += 1
    reset.clicks += 1
    assert experiment.runs == [] and not experiment.has_model and reset.name == "Reset"


def test_tabs_are_built_when_first_opened():
    app = app_factory.create_app()
    tabs = app.tabs
    try:
        assert [tabs.built(title) is not None for title in ("Training", "Evaluation", "Network", "Compare")] == [
            True, False, False, False]
        tabs.tabs.active = 4  # Network: built on opening, drawing while it is open
        network = tabs.built("Network")
        assert network is not None and network.shown
        assert tabs.tabs.objects[4] is network._panel
        tabs.tabs.active = 0
        assert not network.shown and tabs.built("Network") is network  # built once
        assert tabs.get("Evaluation") is tabs.built("Evaluation") is not None  # built when asked for
    finally:
        app.experiment.close()


def test_a_served_page_that_trains_does_not_import_torch_dynamo():
    # torch.optim's first optimizer imports torch._dynamo (~1 s, ~70 MiB a server process); the engine needs none.
    code = ("import sys\nfrom bokeh.document import Document\nfrom dashboard.ui.factory import create_app\n"
            "app = create_app(); app.server_doc(Document()); e = app.experiment\n"
            "e.param.update(dataset='toy_xor', epochs=5); e.train(); e.wait(60)\n"
            "print('EPOCHS', len(e.history), 'DYNAMO', 'torch._dynamo' in sys.modules); e.close()\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240).stdout
    assert "EPOCHS 5 DYNAMO False" in out, out
