"""Issue 18 on `nn-playground serve`: what one client's websocket messages make the server hold is bounded. Each
case is sent by a raw client (bench/ws_client.py) to a real server; the server's peak memory must stay within
`GROWTH_MIB` of what it was, and it must still serve the page."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import uuid
import zlib
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.ws_client import Client, open_session
from dashboard.ui import message_bounds
from dashboard.ui.message_bounds import MAX_FRAGMENTS, MAX_UPLOAD_CHUNKS
from dashboard.ui.parts import UPLOAD_CHUNK_BYTES, file_dropper
from tests.conftest import wait_for_http
from tests.support.serving import ROOT
from tools.chromium import free_port

MiB = 2**20
GROWTH_MIB = 200
BOMB_MIB = 512  # of zeros, gzip-compressed to ~0.5 MB (before: the server kept all of it)


@contextmanager
def server(log: Path):
    """`nn-playground serve` with its log in a file (a pipe nobody reads would block it once full)."""
    port = free_port()
    with open(log, "wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port),
                                    "--ready-pages", "0"], cwd=ROOT, stdout=sink, stderr=sink,
                                   start_new_session=True)
    try:
        wait_for_http(f"http://localhost:{port}/app", timeout=120)
        yield port, process.pid
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def memory(pid: int) -> tuple[int, int]:
    """(resident, peak resident) bytes of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def gzip_zeros(mib: int) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MiB)
    return base64.b64encode(b"".join([compressor.compress(chunk) for _ in range(mib)] + [compressor.flush()])).decode()


async def raw_session(port: int) -> Client:
    """A session whose messages this test reads itself."""
    client = await open_session(f"http://localhost:{port}")
    client._reader.cancel()
    await asyncio.gather(client._reader, return_exceptions=True)
    client._reader = None
    return client


def send(client: Client, content: dict, buffers: list[bytes] = (), declared: int | None = None) -> None:
    """One PATCH-DOC with binary buffers (each a frame naming it, then its bytes), as a page sends them."""
    ws = client._ws
    header = {"msgid": uuid.uuid4().hex, "msgtype": "PATCH-DOC", "num_buffers": len(buffers) if declared is None
              else declared}
    ws.write_message(json.dumps(header))
    ws.write_message("{}")
    ws.write_message(json.dumps(content))
    for index, buffer in enumerate(buffers):
        ws.write_message(json.dumps({"id": f"b{index}"}))
        ws.write_message(buffer, binary=True)


def event(name: str, model: str, **values) -> dict:
    entries = [["model", {"id": model}], *([key, value] for key, value in values.items())]
    return {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event",
                        "msg_data": {"type": "event", "name": name, "values": {"type": "map", "entries": entries}}}]}


def upload(model: str, chunk: int, total: int, data) -> dict:
    return event("upload_event", model, data={"type": "map", "entries": [
        ["chunk", chunk], ["data", data], ["name", "x.zip"], ["total_chunks", total], ["type", "application/zip"]]})


def dropper(client: Client) -> str:
    return next(key for key, model in client.models.items() if model.get("name", "").endswith("FileDropper"))


async def settled(client: Client) -> bool:
    """Once the server has handled everything sent before: True if the connection is still open."""
    try:
        client._send("PULL-DOC-REQ", {})
        while True:
            header, _, _ = await asyncio.wait_for(client._read_message(), 120)
            if header["msgtype"] == "PULL-DOC-REPLY":
                return True
    except ConnectionError:
        return False


def base64_bomb(client):
    send(client, upload(dropper(client), 1, 2, {"type": "bytes", "data": gzip_zeros(BOMB_MIB)}))


def stray_field_bomb(client):
    send(client, event("button_click", client.button("Train"), junk={"type": "bytes", "data": gzip_zeros(BOMB_MIB)}))


def endless_upload(client):  # chunk after chunk of an upload that never ends
    model = dropper(client)
    for chunk in range(1, 301):
        send(client, upload(model, chunk, 10**6, {"type": "bytes", "data": {"id": "b0"}}), [bytes(MiB)])


def endless_buffers(client):  # one message announcing many buffers, each a frame within Tornado's limit
    send(client, {"events": []}, [bytes(8 * MiB - 64)] * 40, declared=MAX_FRAGMENTS)


@pytest.mark.parametrize("attack", [base64_bomb, stray_field_bomb, endless_upload, endless_buffers])
def test_one_client_cannot_make_the_server_hold_much(tmp_path, attack):
    async def main(port: int, pid: int) -> tuple[int, bool]:
        client = await raw_session(port)
        try:
            assert await settled(client)
            before = memory(pid)[0]
            attack(client)
            open_after = await settled(client)
            return before, open_after
        finally:
            await client.close()

    with server(tmp_path / "serve.log") as (port, pid):
        before, still_open = asyncio.run(main(port, pid))
        resident, peak = memory(pid)
        assert peak - before < GROWTH_MIB * MiB, f"{(peak - before) / MiB:.0f} MiB more at the peak"
        assert resident - before < GROWTH_MIB * MiB
        assert wait_for_http(f"http://localhost:{port}/app", timeout=60) == 200
        if attack is endless_buffers:
            assert not still_open  # refused as a malformed message: its connection is closed
        else:
            assert still_open  # the message is refused (Bokeh answers ERROR), the session goes on


def test_an_upload_is_kept_one_at_a_time_in_order_and_dropped_when_idle(monkeypatch):
    widget = file_dropper([".zip"])

    def chunk(number: int, total: int, data: bytes = b"x", name: str = "a.zip") -> None:
        widget._process_event(SimpleNamespace(event_name="upload_event", data={
            "chunk": number, "data": data, "name": name, "total_chunks": total, "type": "application/zip"}))

    chunk(1, 3)
    chunk(3, 3)  # out of order: the upload is dropped
    assert widget._file_buffer == {} and widget.value == {}
    chunk(1, 3)
    chunk(1, 2, name="b.zip")  # a new upload replaces the unfinished one
    assert list(widget._file_buffer) == ["b.zip"]
    chunk(1, MAX_UPLOAD_CHUNKS + 1)
    chunk(1, 2, bytes(UPLOAD_CHUNK_BYTES + 1))
    assert widget._file_buffer == {}
    chunk(1, 2, b"ab")
    chunk(2, 2, b"c")
    assert widget.value == {"a.zip": b"abc"}

    monkeypatch.setattr(message_bounds, "UPLOAD_IDLE_SECONDS", 0.2)

    async def idle() -> None:
        chunk(1, 2)
        await asyncio.sleep(1)

    asyncio.run(idle())
    assert widget._file_buffer == {}
