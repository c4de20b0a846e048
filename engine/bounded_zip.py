""".zip members read from memory with a bound on what comes out, whatever the archive's headers declare.

`zipfile` trusts a member's declared size while it inflates: its bzip2 and lzma paths decompress a whole chunk
of input at once, so a 13 kB member declared as 1,000 bytes inflates to gigabytes before its CRC is checked.
Here a member is inflated in steps of at most `STEP` bytes and refused as soon as it passes
min(limit, declared size); the central directory is refused over `MAX_DIRECTORY_BYTES` before `zipfile`
parses it. Every problem is a `ZipBoundError` (a ValueError) whose one-line message names no file: the caller
prefixes its own.
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import zipfile
import zlib

MiB = 2**20
STEP = MiB  # bytes of output per decompression call
PIECE = 64 * 1024  # bytes of input fed per call
MAX_DIRECTORY_BYTES = MiB  # a saved experiment's directory is a few hundred bytes
MAX_LZMA_DICTIONARY = 128 * MiB
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # the fixed part of a member's local header (30 bytes)
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
            zipfile.ZIP_LZMA: "lzma"}


class ZipBoundError(ValueError):
    """A .zip or one of its members is refused: over a bound, or not what its headers declare."""


def open_archive(data: bytes, max_members: int) -> zipfile.ZipFile:
    """A ZipFile over `data`, after checking its end record: a central directory of at most
    MAX_DIRECTORY_BYTES and at most `max_members` members (zipfile would parse any directory it is given)."""
    end = zipfile._EndRecData(io.BytesIO(data))  # zipfile's own search, so both read the same record
    if not end:
        raise zipfile.BadZipFile("File is not a zip file")
    if end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES:
        raise ZipBoundError(f"its directory is {end[zipfile._ECD_SIZE]:,} bytes, more than the "
                            f"{MAX_DIRECTORY_BYTES:,} allowed")
    if end[zipfile._ECD_ENTRIES_TOTAL] > max_members:
        raise ZipBoundError(f"the archive has {end[zipfile._ECD_ENTRIES_TOTAL]:,} members, more than the "
                            f"{max_members} allowed")
    return zipfile.ZipFile(io.BytesIO(data))


def read_member(data: bytes, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, inflated in steps and refused once past `limit` or its declared size; then checked
    against its declared size and CRC-32."""
    if info.flag_bits & 0x1:
        raise ZipBoundError("encrypted; a saved experiment is not")
    method = _METHODS.get(info.compress_type)
    if method is None:
        raise ZipBoundError(f"compression method {info.compress_type} is not supported (deflate is)")
    view = memoryview(data)
    header = bytes(view[info.header_offset:info.header_offset + _LOCAL_HEADER.size])
    if len(header) != _LOCAL_HEADER.size or header[:4] != zipfile.stringFileHeader:
        raise ZipBoundError("bad local header")
    fields = _LOCAL_HEADER.unpack(header)
    start = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
    raw = view[start:start + info.compress_size]
    bound = min(limit, info.file_size)
    content = _inflated(method, raw, bound)
    if len(content) > limit:
        raise ZipBoundError(f"larger than the {limit // MiB} MiB allowed" if limit >= MiB else
                            f"larger than the {limit:,} bytes allowed")
    if len(content) > info.file_size:
        raise ZipBoundError(f"unpacks to more than the {info.file_size:,} bytes its header declares")
    if len(content) < info.file_size:
        raise ZipBoundError(f"unpacks to {len(content):,} bytes, not the {info.file_size:,} its header declares")
    if zlib.crc32(content) != info.CRC:
        raise ZipBoundError("Bad CRC-32")
    return content


def _inflated(method: str, raw: memoryview, bound: int) -> bytes:
    """At most bound + 1 bytes of the member's content (one more than allowed shows it is too large)."""
    if method == "stored":
        return bytes(raw[:bound + 1])
    if method == "deflate":
        decompressor = zlib.decompressobj(-15)
    elif method == "bzip2":
        decompressor = bz2.BZ2Decompressor()
    else:
        decompressor, raw = _lzma(raw)
    out = bytearray()
    position, tail = 0, b""
    while not decompressor.eof and len(out) <= bound:
        room = min(STEP, bound + 1 - len(out))
        if method == "deflate":  # zlib keeps the input it did not use in unconsumed_tail
            if not tail:
                tail, position = raw[position:position + PIECE], position + PIECE
            piece = decompressor.decompress(tail, room)
            tail = decompressor.unconsumed_tail
            starved = not piece and not tail and position >= len(raw)
        else:  # bz2 and lzma keep it inside, and say when they need more
            given = b""
            if decompressor.needs_input:
                given, position = raw[position:position + PIECE], position + PIECE
            piece = decompressor.decompress(given, room)
            starved = not piece and decompressor.needs_input and position >= len(raw)
        out += piece
        if starved:  # a truncated stream: its size or CRC is then wrong
            break
    return bytes(out)


def _lzma(raw: memoryview):
    """zip's lzma member: a 4-byte header, the 5 bytes of LZMA1 properties, then the raw stream."""
    if len(raw) < 9 or int.from_bytes(raw[2:4], "little") != 5:
        raise ZipBoundError("bad lzma header")
    properties, dictionary = raw[4], int.from_bytes(raw[5:9], "little")
    if properties >= 9 * 5 * 5:
        raise ZipBoundError("bad lzma header")
    if dictionary > MAX_LZMA_DICTIONARY:  # the decoder would allocate it
        raise ZipBoundError(f"an lzma dictionary of {dictionary:,} bytes, more than the "
                            f"{MAX_LZMA_DICTIONARY // MiB} MiB allowed")
    lc, lp, pb = properties % 9, properties // 9 % 5, properties // 45
    filters = [{"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb, "dict_size": dictionary}]
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters), raw[9:]
