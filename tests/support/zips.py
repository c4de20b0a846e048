""".zip files written by hand for the tests of issue 18: members whose headers lie about their sizes."""

from __future__ import annotations

import bz2
import io
import struct
import zipfile
import zlib

MiB = 2**20


def zeros(method: int, mib: int) -> bytes:
    """`mib` MiB of zeros compressed as a zip member's data (made 1 MiB at a time)."""
    compressor = {zipfile.ZIP_BZIP2: lambda: bz2.BZ2Compressor(9),
                  zipfile.ZIP_DEFLATED: lambda: zlib.compressobj(9, zlib.DEFLATED, -15),
                  zipfile.ZIP_LZMA: zipfile.LZMACompressor}[method]()
    chunk = bytes(MiB)
    return b"".join([compressor.compress(chunk) for _ in range(mib)] + [compressor.flush()])


def lying_zip(entries: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A .zip written by hand: (name, method, compressed data, declared size, declared CRC) per member; both
    the local and the central header declare that size."""
    local, central = [], []
    offset = 0
    for name, method, data, size, crc in entries:
        encoded = name.encode()
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 63, 0, method, 0, 0x21, crc, len(data), size,
                             len(encoded), 0) + encoded
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 63, 63, 0, method, 0, 0x21, crc, len(data), size,
                                   len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        local.append(header + data)
        offset += len(header) + len(data)
    directory = b"".join(central)
    count = min(len(entries), 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0)
    return b"".join(local) + directory + end


def honest(members: dict[str, bytes], skip: str = "") -> list[tuple[str, int, bytes, int, int]]:
    return [(name, zipfile.ZIP_STORED, content, len(content), zlib.crc32(content))
            for name, content in members.items() if name != skip]


def zipped(members: dict[str, bytes]) -> bytes:
    """An honest .zip of these members (deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()
