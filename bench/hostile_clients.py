"""What one hostile client costs a shared server (issue 18): `python bench/hostile_clients.py [--root DIR] [--gib N]`.

`nn-playground serve` (from DIR, default this checkout: point it at an older checkout for "before" figures) in
its own process; each attack comes from a raw websocket client (bench/ws_client.py) on its own session: the
server's peak memory over what it was, the time until it has handled the attack, and GET /app just after. Then
`nn-playground report --load` on the lying .zip: its peak memory and time. The attacks are also
tests/ui/test_message_bounds.py's. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bz2
import contextlib
import functools
import io
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ws_client import Client, open_session  # noqa: E402
from tools.chromium import free_port  # noqa: E402

MiB = 2**20


# ----- the messages -----
async def raw_session(port: int) -> Client:
    """A session whose incoming messages the caller reads itself (`settled`, `wait_for_text`)."""
    client = await open_session(f"http://localhost:{port}")
    client._reader.cancel()
    await asyncio.gather(client._reader, return_exceptions=True)
    client._reader = None
    return client


def send(client: Client, content: dict, buffers=(), declared: int | None = None) -> None:
    """One PATCH-DOC with binary buffers (each a frame naming it, then its bytes), as a page sends them;
    `declared`: the number of buffers its header announces, if not len(buffers)."""
    ws = client._ws
    count = len(buffers) if declared is None else declared
    ws.write_message(json.dumps({"msgid": uuid.uuid4().hex, "msgtype": "PATCH-DOC", "num_buffers": count}))
    ws.write_message("{}")
    ws.write_message(json.dumps(content))
    for index, buffer in enumerate(buffers):
        ws.write_message(json.dumps({"id": f"b{index}"}))
        ws.write_message(buffer, binary=True)


def event(name: str, model: str, **values) -> dict:
    entries = [["model", {"id": model}], *([key, value] for key, value in values.items())]
    return {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event",
                        "msg_data": {"type": "event", "name": name, "values": {"type": "map", "entries": entries}}}]}


def upload(model: str, chunk: int, total: int, data, name: str = "x.zip") -> dict:
    """A FileDropper's upload_event (panel/models/file_dropper.ts)."""
    return event("upload_event", model, data={"type": "map", "entries": [
        ["chunk", chunk], ["data", data], ["name", name], ["total_chunks", total], ["type", "application/zip"]]})


def dropper(client: Client, css_class: str = "nnp-load") -> str:
    return next(key for key, model in client.models.items() if model.get("name", "").endswith("FileDropper")
                and css_class in (model.get("attributes", {}).get("css_classes") or []))


async def settled(client: Client, timeout: float = 120) -> bool:
    """Once the server has handled every message sent before: True if the connection is still open."""
    try:
        client._send("PULL-DOC-REQ", {})
        while True:
            header, _, _ = await asyncio.wait_for(client._read_message(), timeout)
            if header["msgtype"] == "PULL-DOC-REPLY":
                return True
    except ConnectionError:
        return False


async def wait_for_text(client: Client, texts: tuple[str, ...], timeout: float = 600) -> str:
    """The first of `texts` that a message from the server holds."""
    deadline = time.monotonic() + timeout
    while True:
        _, content, _ = await asyncio.wait_for(client._read_message(), deadline - time.monotonic())
        for text in texts:
            if text in content:
                return text


@functools.lru_cache
def gzip_zeros(mib: int) -> str:
    """base64 of gzip(`mib` MiB of zeros): Bokeh's own form of bytes in a JSON message."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MiB)
    return base64.b64encode(b"".join([compressor.compress(chunk) for _ in range(mib)] + [compressor.flush()])).decode()


def lying_zip(saved: bytes, mib: int) -> bytes:
    """A saved experiment whose settings.json is bzip2 of `mib` MiB of zeros, declared (in both headers) as
    1,000 bytes."""
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        members = {name: archive.read(name) for name in archive.namelist() if name != "settings.json"}
    compressor = bz2.BZ2Compressor(9)
    chunk = bytes(MiB)
    bomb = b"".join([compressor.compress(chunk) for _ in range(mib)] + [compressor.flush()])
    entries = [(name, 0, content, len(content), zlib.crc32(content)) for name, content in members.items()]
    entries.append(("settings.json", zipfile.ZIP_BZIP2, bomb, 1000, 0))
    local, central, offset = [], [], 0
    for name, method, data, size, crc in entries:
        encoded = name.encode()
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 46, 0, method, 0, 0x21, crc, len(data), size,
                             len(encoded), 0) + encoded
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 46, 46, 0, method, 0, 0x21, crc, len(data),
                                   size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        local.append(header + data)
        offset += len(header) + len(data)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    return b"".join(local) + directory + end


# ----- the attacks: each sends its messages on one session -----
def base64_bomb(client: Client, mib: int = 1024) -> None:
    """An upload chunk whose bytes are base64 of gzip(zeros)."""
    send(client, upload(dropper(client), 1, 2, {"type": "bytes", "data": gzip_zeros(mib)}))


def stray_field_bomb(client: Client, mib: int = 1024) -> None:
    """The same bytes as a field of a button click."""
    send(client, event("button_click", client.button("Train"), junk={"type": "bytes", "data": gzip_zeros(mib)}))


def endless_upload(client: Client, chunks: int = 300) -> None:
    """Chunk after chunk of an upload announced as 10**6 chunks."""
    model = dropper(client)
    for number in range(1, chunks + 1):
        send(client, upload(model, number, 10**6, {"type": "bytes", "data": {"id": "b0"}}), [bytes(MiB)])


def endless_buffers(client: Client, count: int = 40, declared: int = 1000) -> None:
    """One message announcing many buffers, each a frame within Tornado's 8 MiB."""
    send(client, {"events": []}, [bytes(8 * MiB - 64)] * count, declared=declared)


ATTACKS = (base64_bomb, stray_field_bomb, endless_upload, endless_buffers)


# ----- measuring -----
def memory(pid: int) -> tuple[int, int]:
    """(resident, peak resident) bytes of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def get_seconds(port: int) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://localhost:{port}/app", timeout=600) as response:
        response.read()
    return time.perf_counter() - started


async def measure(port: int, pid: int, attack, *args) -> str:
    """One attack on a fresh session; `attack` "load" followed by a name and the bytes of a .zip: Load experiment
    of that file, until the app says it loaded it or why not. GET /app is timed every 0.2 s meanwhile."""
    client = await raw_session(port)
    slowest, done = [0.0], threading.Event()

    def probe() -> None:
        while not done.is_set():
            slowest[0] = max(slowest[0], get_seconds(port))
            time.sleep(0.2)

    try:
        await settled(client)
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from now
        before = memory(pid)[0]
        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        started = time.perf_counter()
        if attack == "load":
            name, data = args
            model = dropper(client)
            pieces = [data[start:start + MiB] for start in range(0, len(data) + 1, MiB)]  # as FilePond cuts it
            for number, piece in enumerate(pieces, 1):
                send(client, upload(model, number, len(pieces), {"type": "bytes", "data": {"id": "b0"}}), [piece])
            said = await wait_for_text(client, ("Cannot load this file", "Loaded "))
            still_open = True
        else:
            name = attack.__name__
            attack(client, *args)
            still_open = await settled(client, timeout=600)
            said = ""
        seconds = time.perf_counter() - started
        done.set()
        prober.join()
        resident, peak = memory(pid)
        return (f"{name:18} peak +{(peak - before) / MiB:6.0f} MiB, kept +{(resident - before) / MiB:6.0f} MiB, "
                f"{seconds:5.1f} s, slowest GET /app {slowest[0]:.2f} s, connection "
                f"{'open' if still_open else 'closed'} {said}")
    finally:
        done.set()
        await client.close()


def huge(saved: bytes, epochs: int, runs: int) -> bytes:
    """A valid saved experiment with `epochs` epochs of history in `runs` runs (compact JSON)."""
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    record = json.loads(members["settings.json"])
    per = max(1, epochs // runs)
    record["history"] = {"epoch": list(range(1, epochs + 1)), "run": [min(i // per + 1, runs) for i in range(epochs)],
                         **{key: [0.5] * epochs for key in ("loss", "train_accuracy", "test_accuracy", "test_loss",
                                                            "lr")}}
    run = record["runs"][0]
    record["runs"] = [{**run, "number": n + 1, "first_epoch": n * per + 1,
                       "last_epoch": epochs if n == runs - 1 else (n + 1) * per} for n in range(runs)]
    members["settings.json"] = json.dumps(record, separators=(",", ":")).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@contextlib.contextmanager
def serving(root: Path, env: dict, log: Path):
    """`nn-playground serve` from `root` in its own process group; yields its port and process id."""
    port = free_port()
    with open(log, "ab") as sink:
        server = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port),
                                   "--ready-pages", "0"], cwd=root, stdout=sink, stderr=sink, env=env,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get_seconds(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield port, server.pid
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose server and CLI are measured")
    parser.add_argument("--gib", type=int, default=1, help="GiB of zeros in the lying .zip (the issue used 5)")
    parser.add_argument("--huge", type=lambda text: tuple(map(int, text.split("x"))), nargs="*",
                        default=[(1_500_000, 1), (100_000, 100_000), (100_000, 100)],
                        help="valid saved experiments to load, as EPOCHSxRUNS")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    from engine import Settings, Trainer
    from engine.storage import experiment_archive

    trainer = Trainer(Settings(dataset="toy_xor", samples=200, hidden=(4,), epochs=2))
    trainer.train()
    saved = experiment_archive(trainer)
    bomb = lying_zip(saved, args.gib * 1024)
    print(f"lying .zip: {len(bomb):,} bytes, settings.json {args.gib} GiB of zeros declared as 1,000 bytes")

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    gzip_zeros(1024)  # made before any clock starts
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.zip"
        path.write_bytes(bomb)
        loads = [("lying.zip", bomb)] + [
            (f"{epochs:,}x{runs:,}.zip", huge(saved, epochs, runs)) for epochs, runs in args.huge]
        for attack in (*loads, *ATTACKS):  # each on a fresh server: what one attack leaves does not hide the next
            with serving(args.root, env, Path(folder) / "serve.log") as (port, pid):
                load = isinstance(attack, tuple)
                print(asyncio.run(measure(port, pid, *(("load", *attack) if load else (attack,)))), flush=True)
        (Path(folder) / "honest.zip").write_bytes(saved)
        for name in ("honest.zip", "x.zip"):  # the first: what the command costs anyway
            started = time.perf_counter()
            cli = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "report", "--load", str(Path(folder) / name),
                                    "-o", str(Path(folder) / "r.html")], cwd=args.root, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, _, usage = os.wait4(cli.pid, 0)
            error = cli.stderr.read().decode().strip().splitlines()
            print(f"report --load {name:10} peak {usage.ru_maxrss / 1024:6.0f} MiB (whole process), "
                  f"{time.perf_counter() - started:5.1f} s {error[-1][-90:] if error else ''}")


if __name__ == "__main__":
    main()
