"""Send a file to a FileDropper as the browser does (headless tests): its chunks, each an upload event."""

from __future__ import annotations

from types import SimpleNamespace

from dashboard.ui.parts import UPLOAD_CHUNK_BYTES


def send(widget, name: str, content: bytes, mime: str = "text/csv") -> None:
    """The upload events FilePond's `process` sends for one file (panel/models/file_dropper.ts): chunk i of n,
    1-based, n = ceil((size + 1) / chunk_size). Panel joins them and, for a text/* type, decodes them as UTF-8."""
    chunks = (len(content) + 1 + UPLOAD_CHUNK_BYTES - 1) // UPLOAD_CHUNK_BYTES
    for index in range(chunks):
        data = content[index * UPLOAD_CHUNK_BYTES:(index + 1) * UPLOAD_CHUNK_BYTES]
        widget._process_event(SimpleNamespace(event_name="upload_event", data={
            "chunk": index + 1, "data": data, "name": name, "total_chunks": chunks, "type": mime}))


def remove(widget, name: str) -> None:
    """What the widget's remove button sends for a file (FilePond's `revert`)."""
    widget._process_event(SimpleNamespace(event_name="delete_event", data={"name": name}))
