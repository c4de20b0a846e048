"""Drive the served dashboard in Debian's Chromium with Playwright, and watch what the page shows.

Shared by the tests, the benchmarks (bench/live.py, bench/load.py) and tools/screenshots.py. `AppPage` records
every change of the status line and of the decision map with the time of the next animation frame. Playwright
is needed only here; the app never imports this module.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own browser download is not used
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}

READY_JS = """() => window.Bokeh !== undefined && Bokeh.documents.length > 0 &&
  [...Bokeh.documents[0].all_models].some(m => m.css_classes && m.css_classes.includes('nnp-status')) &&
  Bokeh.documents[0].get_model_by_name('decision-map-image') !== null"""

PROBE_JS = """() => {
  const doc = Bokeh.documents[0];
  const models = [...doc.all_models];
  const status = models.find(m => m.css_classes && m.css_classes.includes('nnp-status'));
  const image = doc.get_model_by_name('decision-map-image');
  const probe = window.__nnp = {status: [], map: [], click: null};
  const decode = (html) => { const d = document.createElement('div'); d.innerHTML = html; return d.textContent; };
  probe.text = () => decode(status.data.text).trim();
  status.data.properties.text.change.connect(() => {
    const text = probe.text();
    requestAnimationFrame(() => probe.status.push([performance.now(), text]));
  });
  image.properties.data.change.connect(() => requestAnimationFrame(() => probe.map.push(performance.now())));
  document.addEventListener('click', () => { probe.click = performance.now(); }, true);
  return true;
}"""

# The text a LiveHTML pane (found by its css class) shows, tags removed.
TEXT_JS = """(css) => {
  const model = [...Bokeh.documents[0].all_models].find(m => m.css_classes && m.css_classes.includes(css));
  if (!model) return null;
  const d = document.createElement('div');
  d.innerHTML = model.data.content;
  d.querySelectorAll('td, th').forEach(cell => cell.append(' '));
  return d.textContent.replace(/\\s+/g, ' ').trim();
}"""

LEGEND_JS = """() => [...Bokeh.documents[0].all_models]
  .filter(m => m.type === 'LegendItem' && m.visible && m.label && m.label.value)
  .map(m => m.label.value)"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS


def block_outside(context, outside: list[str]) -> None:
    """Abort (and record in `outside`) every request a browser context makes beyond this machine."""

    def handle(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", handle)


def epoch_of(status: str) -> tuple[int, int] | None:
    """(epoch, of) from 'Epoch 120/200 | ...'."""
    match = re.match(r"Epoch (\d+)/(\d+)", status)
    return (int(match[1]), int(match[2])) if match else None


class AppPage:
    """One browser page showing the dashboard."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")

    def open(self, query: str = "", timeout: float = 90) -> AppPage:
        self.page.goto(f"{self.base_url}/app{query}", timeout=timeout * 1000)
        self.page.wait_for_function(READY_JS, timeout=timeout * 1000, polling=100)
        self.page.evaluate(PROBE_JS)
        return self

    # ----- acting -----
    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def fill(self, label: str, value) -> None:
        box = self.page.get_by_label(label, exact=True)
        box.fill(str(value))
        box.press("Enter")

    def select(self, label: str, option: str) -> None:
        self.page.get_by_label(label, exact=True).select_option(option)

    def tab(self, name: str) -> None:
        self.page.locator(".bk-tab", has_text=name).click()

    # ----- looking -----
    def value(self, label: str) -> str:
        return self.page.get_by_label(label, exact=True).input_value()

    def status(self) -> str:
        return self.page.evaluate("() => window.__nnp.text()")

    def status_changes(self) -> list[tuple[float, str]]:
        return [tuple(item) for item in self.page.evaluate("() => window.__nnp.status")]

    def map_changes(self) -> list[float]:
        return self.page.evaluate("() => window.__nnp.map")

    def click_time(self) -> float | None:
        return self.page.evaluate("() => window.__nnp.click")

    def legend(self) -> list[str]:
        return self.page.evaluate(LEGEND_JS)

    def text_of(self, css_class: str) -> str:
        """The text of the pane with this css class (what it shows, without markup)."""
        return self.page.evaluate(TEXT_JS, css_class) or ""

    def state_text(self) -> str:
        return self.text_of("nnp-state")

    def runs_text(self) -> str:
        return self.text_of("nnp-runs")

    def message(self) -> str:
        return self.page.evaluate(
            "() => { const d = document.createElement('div'); d.innerHTML = [...Bokeh.documents[0].all_models]"
            ".find(m => m.css_classes && m.css_classes.includes('nnp-message')).data.text; return d.textContent; }")

    def wait_for_state(self, *words: str, timeout: float = 120) -> str:
        """Wait until the line under the status says one of `words` (finished, stopped, diverged, paused...)."""
        pattern = re.compile("|".join(re.escape(word) for word in words))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.state_text()
            if pattern.search(text):
                return text
            self.page.wait_for_timeout(100)
        raise TimeoutError(f"state never showed {words}: {self.state_text()!r}")

    def run_count(self) -> int:
        """The number of the run the line under the status is about (0 before the first)."""
        match = re.search(r"Run (\d+)", self.state_text())
        return int(match[1]) if match else 0

    def wait_for_run_end(self, number: int, timeout: float = 120) -> str:
        """Wait until run `number` has ended (finished, stopped or diverged); returns the line saying so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.state_text()  # one reading for both checks
            shown = re.search(r"Run (\d+)", text)
            if shown and int(shown[1]) == number and re.search(r"finished|stopped|diverged|failed", text):
                return text
            self.page.wait_for_timeout(100)
        raise TimeoutError(f"run {number} did not end: {self.state_text()!r}")

    def wait_for_title(self, pattern: str, timeout: float = 120) -> None:
        """Wait until a plot with a title matching `pattern` (a JS regex) is in the page."""
        self.page.wait_for_function(
            "(pattern) => [...Bokeh.documents[0].all_models].some(m => m.type === 'Title' && "
            "new RegExp(pattern).test(m.text))", arg=pattern, timeout=timeout * 1000, polling=200)

    def wait_for_epoch(self, at_least: int, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            epoch = epoch_of(self.status())
            if epoch and epoch[0] >= at_least:
                return self.status()
            self.page.wait_for_timeout(50)
        raise TimeoutError(f"the status never reached epoch {at_least}: {self.status()!r}")


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: no procps needed)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def rss_mib(pid: int, children: bool = False) -> float:
    """Resident memory of a process (and its children), in MiB, from /proc."""
    total = 0
    for one in [pid, *(child_pids(pid) if children else [])]:
        try:
            lines = Path(f"/proc/{one}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return total / 1024
