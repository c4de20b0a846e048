"""What one browser's messages may make the server hold (issue 18): a student's client must not take it down.

Tornado reads no websocket frame over `WEBSOCKET_MAX_MESSAGE_BYTES` (server.py), but on top of the frames:
- a Bokeh message is a header, metadata, content and as many binary buffers as its header says, each its own
  frame, all kept until the last arrives: `bound_messages` caps a message at `MAX_MESSAGE_BYTES` and
  `MAX_FRAGMENTS` frames in all (Bokeh's `Receiver` has no limit);
- Bokeh decodes `{"type": "bytes", "data": "<base64>"}` anywhere in a message (an upload chunk, a stray field
  of a button click) with `gzip.decompress`: 1.4 MB of base64 became 1 GiB. A page never sends that form (its
  bytes travel as binary buffers), so those bytes are inflated in steps, at most `MAX_INFLATED_BYTES` for a
  whole message, and the message is refused beyond (its connection is closed, as for any malformed message);
- an upload comes in chunks that Panel's FileDropper keeps until the last: `BoundedFileDropper` keeps one
  upload at a time, in order, in chunks of at most `UPLOAD_CHUNK_BYTES`, at most `MAX_UPLOAD_CHUNKS` of them
  (a file a little over the upload limit still arrives, to be refused with its message), and drops one that
  made no progress for `UPLOAD_IDLE_SECONDS`.
Both Bokeh bounds are patches of one method each, applied once by `bound_messages` (server.py calls it): the
narrowest place this project can reach, since Bokeh builds its Receiver and Deserializer inside its handler.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
import zlib

import panel as pn
from bokeh.core.serialization import DeserializationError, Deserializer
from bokeh.protocol.exceptions import ValidationError
from bokeh.protocol.receiver import Receiver

from .parts import MAX_UPLOAD_BYTES, UPLOAD_CHUNK_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES

MAX_MESSAGE_BYTES = WEBSOCKET_MAX_MESSAGE_BYTES  # all the frames of one Bokeh message together
MAX_FRAGMENTS = 1_000  # frames of one Bokeh message (an upload chunk's is 5)
MAX_INFLATED_BYTES = 2 * UPLOAD_CHUNK_BYTES  # what base64-gzip bytes may inflate to, per message
MAX_UPLOAD_CHUNKS = MAX_UPLOAD_BYTES // UPLOAD_CHUNK_BYTES + 1  # FilePond sends ceil((size + 1) / chunk) chunks
UPLOAD_IDLE_SECONDS = 120.0
_STEP = 256 * 1024

log = logging.getLogger(__name__)


def bound_messages() -> None:
    """Patch Bokeh's Receiver and Deserializer once (idempotent)."""
    if getattr(Receiver.consume, "bounded", False):
        return
    consume, decode_bytes = Receiver.consume, Deserializer._decode_bytes

    async def bounded_consume(self, fragment):
        if self._current_consumer == self._HEADER:  # a new message begins
            self._nnp_taken = self._nnp_frames = 0
        self._nnp_taken = getattr(self, "_nnp_taken", 0) + len(fragment)
        self._nnp_frames = getattr(self, "_nnp_frames", 0) + 1
        if self._nnp_taken > MAX_MESSAGE_BYTES or self._nnp_frames > MAX_FRAGMENTS:
            raise ValidationError(f"a message over {MAX_MESSAGE_BYTES:,} bytes or {MAX_FRAGMENTS:,} frames")
        return await consume(self, fragment)

    def bounded_decode_bytes(self, obj):
        data = obj["data"]
        if not isinstance(data, str):
            return decode_bytes(self, obj)
        room = MAX_INFLATED_BYTES - getattr(self, "_nnp_inflated", 0)
        content = gunzip(data, room)
        self._nnp_inflated = MAX_INFLATED_BYTES - room + len(content)
        return content

    bounded_consume.bounded = True
    Receiver.consume = bounded_consume
    Deserializer._decode_bytes = bounded_decode_bytes


def gunzip(text: str, room: int) -> bytes:
    """base64 text of gzip data, inflated in steps; DeserializationError past `room` bytes."""
    try:
        compressed = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise DeserializationError("bytes: not base64") from None
    decompressor = zlib.decompressobj(wbits=31)  # gzip's header and trailer
    out = bytearray()
    pending = compressed
    try:
        while not decompressor.eof and len(out) <= room:
            piece = decompressor.decompress(pending, min(_STEP, room + 1 - len(out)))
            pending = decompressor.unconsumed_tail
            out += piece
            if not piece and not pending:
                break
    except zlib.error as error:
        raise DeserializationError(f"bytes: not gzip data ({error})") from None
    if len(out) > room:
        raise DeserializationError(f"bytes: inflate to more than the {room:,} bytes a message may hold")
    if not decompressor.eof:
        raise DeserializationError("bytes: truncated gzip data")
    return bytes(out)


class BoundedFileDropper(pn.widgets.FileDropper):
    """Panel's FileDropper, holding at most one incomplete upload, in order and within the limits (see above)."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._upload: tuple[str, int, int, float] | None = None  # name, total chunks, chunks received, when

    def _process_event(self, event) -> None:
        if event.event_name != "upload_event":
            return super()._process_event(event)
        data = event.data if isinstance(event.data, dict) else {}
        problem = self._problem(data)
        if problem:
            log.warning("upload refused: %s", problem)
            self._drop()
            return None
        name, total, chunk = data["name"], data["total_chunks"], data["chunk"]
        self._upload = (name, total, chunk, time.monotonic())
        if chunk == total:
            self._upload = None
        else:
            self._expire_later()
        if chunk == 1:
            self._file_buffer.clear()  # one upload at a time
        return super()._process_event(event)

    def _problem(self, data: dict) -> str:
        """Why this chunk is refused ('' if it is not)."""
        name, total, chunk, content = (data.get(key) for key in ("name", "total_chunks", "chunk", "data"))
        if not isinstance(name, str) or len(name) > 1000 or not isinstance(data.get("type"), str):
            return "no name or type"
        if not all(isinstance(number, int) and not isinstance(number, bool) for number in (total, chunk)):
            return "chunk numbers are not whole numbers"
        if not 1 <= chunk <= total <= MAX_UPLOAD_CHUNKS:
            return f"chunk {chunk} of {total} (at most {MAX_UPLOAD_CHUNKS} chunks)"
        if not isinstance(content, (bytes, bytearray, memoryview)) or len(content) > UPLOAD_CHUNK_BYTES:
            return f"a chunk that is not bytes or over {UPLOAD_CHUNK_BYTES:,} bytes"
        if chunk > 1:
            current = self._upload
            if current is None or current[:3] != (name, total, chunk - 1) or name not in self._file_buffer:
                return f"chunk {chunk} of {name[:80]!r} out of order"
        return ""

    def _drop(self) -> None:
        self._upload = None
        self._file_buffer.clear()

    def _expire_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # events given by hand, outside a server
            return
        loop.call_later(UPLOAD_IDLE_SECONDS, self._expire)

    def _expire(self) -> None:
        if self._upload is not None and time.monotonic() - self._upload[3] >= UPLOAD_IDLE_SECONDS:
            log.warning("upload of %r dropped: no progress for %.0f s", self._upload[0][:80], UPLOAD_IDLE_SECONDS)
            self._drop()
