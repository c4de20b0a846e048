"""Small Panel parts the tabs share: an update that runs on the server's loop, slow work off it, the upload
limits, a throttle, and HTML that changes in place (a live HTML box, the message box, the status line with its
progress bar)."""

from __future__ import annotations

import asyncio
import functools
import time
import weakref

import panel as pn
import param
from panel.reactive import ReactiveHTML

from engine.csv_points import MAX_CSV_BYTES

# The uploads are Panel's FileDropper (FilePond in the browser). The browser refuses a file over the limit itself,
# with FilePond's message in the widget ("File is too large / Maximum file size is 10 MB"): nothing is sent, the
# server is not told, and the session goes on as it was. A file within it is sent in chunks of
# UPLOAD_CHUNK_BYTES, each its own websocket message, so no message comes near WEBSOCKET_MAX_MESSAGE_BYTES (set
# in server.py): before, a file input sent the whole file base64-encoded in one message, and a file over ~30 MB
# silently dropped the session. FilePond counts a MB as 10**6 bytes, so the browser's limit (10,000,000 bytes) is
# a little under MAX_UPLOAD_BYTES (10 MiB): the server's check (`upload_too_large`) stays as a second line of
# defence, for clients other than the page. The labels of the upload inputs say the limit before a file is chosen.
MAX_UPLOAD_BYTES = MAX_CSV_BYTES  # 10 MiB, CSV files and saved experiments alike
WEBSOCKET_MAX_MESSAGE_BYTES = 8 * 2**20  # what the server reads of one message at most
UPLOAD_CHUNK_BYTES = 2**20  # per websocket message (binary, not base64); also FilePond's progress steps
BROWSER_MAX_FILE_SIZE = f"{MAX_UPLOAD_BYTES // 2**20}MB"  # FilePond's own check: 10 * 10**6 bytes


def upload_too_large(name: str, size: int) -> str | None:
    """The message for a file over MAX_UPLOAD_BYTES (None if it is within)."""
    if size <= MAX_UPLOAD_BYTES:
        return None
    return (f"{name}: {size / 2**20:.1f} MB is more than the {MAX_UPLOAD_BYTES // 2**20} MB a file may be here. "
            "Nothing was changed.")


def file_dropper(accepted: list[str], **options) -> pn.widgets.FileDropper:
    """An upload of one file of the `accepted` types (extensions and MIME types: browsers name a type
    differently, a .csv is text/csv on Linux and often application/vnd.ms-excel on Windows), refused in the
    browser over the size limit and sent in chunks, which the server keeps within bounds (message_bounds.py).
    Its file arrives as `value` {name: bytes, or str for text/* types}; `take_upload` takes it out. Served pages
    need `pn.extension("filedropper")` (factory.py): FilePond's scripts are then in the page from the start,
    served by this server (panel/dist/bundled/filedropper)."""
    from .message_bounds import BoundedFileDropper  # (it takes its limits from here)

    return BoundedFileDropper(
        accepted_filetypes=accepted, multiple=False, max_file_size=BROWSER_MAX_FILE_SIZE,
        chunk_size=UPLOAD_CHUNK_BYTES, previews=[], layout="compact", **options)


def take_upload(upload: pn.widgets.FileDropper) -> tuple[str, bytes] | None:
    """The file that arrived in `upload` as (name, bytes), emptying its value, so that the same file sent again
    is a new upload; None if there is none (the value changes too when a file is removed in the widget)."""
    files = dict(upload.value)
    if not files:
        return None
    upload.param.update(value={}, mime_type={})  # (calls the value's watchers again, with nothing)
    name, data = next(iter(files.items()))  # one file: multiple=False
    return name, data.encode("utf-8") if isinstance(data, str) else data


_WORKING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a session's document -> its in_thread futures


async def in_thread(function, *args):
    """Run a slow function (parse a file, rebuild a model) in a worker thread and await its result, so that the
    server's loop keeps serving every session meanwhile; what comes after the `await` runs on the loop again.
    `settled()` waits for a session's ones (the busy badge stays up meanwhile)."""
    future = asyncio.get_running_loop().run_in_executor(None, function, *args)
    doc = pn.state.curdoc
    working = _WORKING.setdefault(doc, set()) if doc is not None else set()
    working.add(future)
    try:
        return await future
    finally:
        working.discard(future)


async def settled() -> None:
    """Wait until this session's work in threads (`in_thread`), and what follows it, has ended."""
    doc = pn.state.curdoc
    while doc is not None and (working := _WORKING.get(doc)):
        await asyncio.gather(*working, return_exceptions=True)
        await asyncio.sleep(0)  # the awaiting callbacks finish their part on the loop first


def on_loop(method):
    """Run a view update inside `pn.io.unlocked()`: it changes Bokeh models directly, and Panel runs button and
    widget callbacks without the document lock, which Bokeh needs for such changes (else: RuntimeError
    '_pending_writes should be non-None'). Inside a periodic callback (which holds the lock) it changes nothing."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        with pn.io.unlocked():
            return method(*args, **kwargs)

    return run


class Throttle:
    """Runs `action` at most once per `interval` seconds; a call in between is kept and run by `flush`."""

    def __init__(self, interval: float, action) -> None:
        self.interval, self.action = interval, action
        self.last = float("-inf")
        self.pending = False

    def __call__(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last, self.pending = now, False
            self.action()
        else:
            self.pending = True

    def flush(self) -> None:
        if self.pending:
            self(force=True)


class LiveHTML(ReactiveHTML):
    """HTML whose changes touch only its own element. A Panel HTML pane or a Bokeh Div re-runs the layout of the
    whole page on every change (and a Panel pane sends its stylesheets again, re-indexing the document): at ~10
    changes a second that alone kept a busy browser from keeping up."""

    content = param.String(default="", doc="The HTML shown.")

    _template = '<div id="box" class="live-html"></div>'
    _scripts = {"render": "box.innerHTML = data.content", "content": "box.innerHTML = data.content"}

    def __init__(self, content: str = "", css: str = "", **params):
        super().__init__(content=content, stylesheets=[css] if css else [], sizing_mode="stretch_width", **params)


class MessageBox(ReactiveHTML):
    """A notice (info, warning or danger), hidden when empty."""

    text = param.String(default="")
    kind = param.Selector(default="info", objects=["info", "warning", "danger"])

    _template = '<div id="box" class="alert"></div>'
    # Panel sanitises the HTML of string parameters; the text is escaped in Python, so innerHTML shows it as is.
    _show = ("box.innerHTML = data.text; box.className = 'alert ' + data.kind; "
             "box.style.display = data.text ? 'block' : 'none'")
    _scripts = {"render": _show, "text": _show, "kind": _show}
    _stylesheets = ["""
        .alert { font-size: 13px; padding: 6px 10px; border-radius: 4px; border: 1px solid; }
        .info { background: #e7f1fb; border-color: #b6d4f0; color: #0b3d66; }
        .warning { background: #fff4e0; border-color: #f5cf8a; color: #6b4400; }
        .danger { background: #fbe7e9; border-color: #f1b0b7; color: #721c24; }
    """]

    def __init__(self, **params):
        super().__init__(sizing_mode="stretch_width", css_classes=["nnp-message"], margin=(2, 5), **params)


class StatusLine(ReactiveHTML):
    """The notebook's status line over a progress bar, updated in place."""

    text = param.String(default="", doc="The status line.")
    progress = param.Number(default=0.0, bounds=(0, 1), doc="Share of the run done.")

    _template = (
        '<div class="status"><pre id="line"></pre><div class="bar"><div id="fill" class="fill"></div></div></div>'
    )
    _scripts = {
        "render": "line.innerHTML = data.text; fill.style.width = (100 * data.progress) + '%'",
        "text": "line.innerHTML = data.text",
        "progress": "fill.style.width = (100 * data.progress) + '%'",
    }
    _stylesheets = ["""
        pre { font-size: 15px; margin: 0; padding: 6px 10px; background: #f4f6f8; border-radius: 4px 4px 0 0;
              white-space: pre; overflow: hidden; text-overflow: ellipsis; }
        .bar { height: 6px; background: #e3e7eb; border-radius: 0 0 4px 4px; overflow: hidden; }
        .fill { height: 100%; width: 0; background: #0d6efd; }
    """]

    def __init__(self, **params):
        super().__init__(sizing_mode="stretch_width", css_classes=["nnp-status"], margin=(4, 5), **params)
