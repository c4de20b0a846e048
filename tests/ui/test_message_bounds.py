"""Issue 18 on `nn-playground serve`: what one client's websocket messages make the server hold is bounded. Each
case is sent by a raw client (bench/hostile_clients.py) to a real server; the server's peak memory must stay within
`GROWTH_MIB` of what it was, and it must still serve the page."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.hostile_clients import (
    base64_bomb,
    endless_buffers,
    endless_upload,
    memory,
    raw_session,
    settled,
    stray_field_bomb,
)
from dashboard.ui import message_bounds
from dashboard.ui.message_bounds import MAX_UPLOAD_CHUNKS
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


@pytest.mark.parametrize("attack, args", [(base64_bomb, (BOMB_MIB,)), (stray_field_bomb, (BOMB_MIB,)),
                                          (endless_upload, ()), (endless_buffers, ())],
                         ids=["base64-bomb", "stray-field-bomb", "endless-upload", "endless-buffers"])
def test_one_client_cannot_make_the_server_hold_much(tmp_path, attack, args):
    async def main(port: int, pid: int) -> tuple[int, bool]:
        client = await raw_session(port)
        try:
            assert await settled(client)
            before = memory(pid)[0]
            attack(client, *args)
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
