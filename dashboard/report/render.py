"""A report page (from `build_report`) written as one self-contained HTML file that opens offline:
`write_report(trainer, "report.html", snapshots)`, from the Python API or `nn-playground report`.

Saved with `resources=INLINE` and without `embed=True` (nothing needs widget states re-run); Panel's stylesheets and
icons, which that leaves as links to cdn.holoviz.org (panel #6759, #3590), are inlined as data: URIs
(`inline_resources`). The page's numbers are also in it as JSON (`<script id="nnp-report">`), for reading back.
"""

from __future__ import annotations

import base64
import io
import json
import mimetypes
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import panel as pn
from bokeh.resources import INLINE

from engine import Trainer
from engine.atomic import write_text
from engine.snapshots import Snapshots

from .page import REPORT_ID, TITLE, ReportError, build_report

PANEL_DIST = Path(pn.__file__).parent / "dist"
CDN_DIST = re.compile(r"https?://cdn\.holoviz\.org/panel/[^/\"'\s]+/dist/([^\"'\s\\)?#]+)(?:\?[^\"'\s\\)#]*)?")


@cache
def _data_uri(path: Path) -> str:
    """A file of Panel's dist folder as a data: URI; a stylesheet's own url(...) references inlined too."""
    if not path.resolve().is_relative_to(PANEL_DIST.resolve()) or not path.is_file():
        raise ReportError(f"the page needs {path}, which this Panel does not ship: it would load it from the internet")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    content = path.read_bytes()
    if kind == "text/css":
        def local(match: re.Match) -> str:
            target = match[2]
            if target.startswith(("data:", "#")):
                return match[0]
            if re.match(r"[a-z]+:", target):
                raise ReportError(f"{path.name} refers to {target}")
            return f"url({match[1]}{_data_uri(path.parent / target)}{match[1]})"

        text = re.sub(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)", local, content.decode("utf-8"))
        content = text.encode("utf-8")
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


def inline_resources(page: str) -> str:
    """Replace every link to Panel's CDN (stylesheets, icons) with the file Panel ships, as a data: URI."""
    return CDN_DIST.sub(lambda match: _data_uri(PANEL_DIST / match[1]), page)


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
FETCHED = [  # where a URL makes the browser fetch it
    re.compile(r"""\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I),
    re.compile(r"""url\(\s*["']?((?:https?:)?//[^"')\s]+)""", re.I),
    re.compile(r"""@import\s+["']((?:https?:)?//[^"']+)""", re.I),
    re.compile(r"""\\*"(?:url|src|href)\\*"\s*:\s*\\*"((?:https?:)?//[^"\\]+)""", re.I),
]


def remote_references(page: str) -> list[str]:
    """URLs in the page that a browser would fetch: in the markup, its styles and the Bokeh document (the
    JavaScript libraries' own code is left out: it mentions URLs it only uses for models the page has not)."""
    parts = []
    for match in SCRIPT.finditer(page):
        if "json" in match[1].lower():
            parts.append(match[2])  # the Bokeh document
    parts.append(SCRIPT.sub("", page))  # the markup and its styles
    return sorted({url for part in parts for pattern in FETCHED for url in pattern.findall(part)})


def _add_numbers(page: str, numbers: dict) -> str:
    block = json.dumps(numbers, allow_nan=False, default=_plain).replace("</", "<\\/")
    tag = f'<script type="application/json" id="{REPORT_ID}">{block}</script>\n'
    head = re.search(r"<head\b[^>]*>", page, re.I)  # the first: scripts further on may mention "</head>"
    if head is None:
        raise ReportError("the rendered page has no <head>")
    return page[:head.end()] + "\n" + tag + page[head.end():]


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def render_page(page) -> str:
    """A report layout (from `build_report`) as one self-contained HTML page."""
    buffer = io.StringIO()
    title = f"{TITLE}: {page.report_numbers['dataset_title']}"
    with _quiet():
        page.save(buffer, resources=INLINE, title=title)  # no embed=True: nothing in the page calls Python
    text = _add_numbers(inline_resources(buffer.getvalue()), page.report_numbers)
    remote = remote_references(text)
    if remote:
        raise ReportError(f"the page would load {', '.join(remote)} from the network")
    return text


class _quiet:
    """Silence HoloViews' and Panel's warnings while the page is rendered (the CLI's output stays readable)."""

    def __enter__(self):
        import logging

        self._loggers = [logging.getLogger(name) for name in ("panel", "holoviews", "bokeh")]
        self._levels = [logger.level for logger in self._loggers]
        for logger in self._loggers:
            logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        for logger, level in zip(self._loggers, self._levels):
            logger.setLevel(level)
        return False


def report_html(trainer: Trainer, snapshots: Snapshots | None = None, **options) -> str:
    """The report of `trainer` as one self-contained HTML page (see `build_report` for the options)."""
    return render_page(build_report(trainer, snapshots, **options))


def write_report(trainer: Trainer, path: str | Path, snapshots: Snapshots | None = None,
                 progress: Callable[[int, int, str], None] | None = None, **options) -> Path:
    """Write the report of `trainer` to `path` (HTML): it opens offline and needs no Python.

    `progress(done, total, stage)` is told of each stage (for a progress bar); `options` go to `build_report`.
    """
    path = Path(path)
    stages = ("evaluating the model and building the plots", "rendering the page", "writing the file")
    tell = progress or (lambda done, total, stage: None)
    tell(0, len(stages), stages[0])
    page = build_report(trainer, snapshots, **options)
    tell(1, len(stages), stages[1])
    text = render_page(page)
    tell(2, len(stages), stages[2])
    write_text(path, text)  # beside `path`, then renamed: a failed write leaves an earlier file as it was
    tell(3, len(stages), "written")
    return path

