"""A saved experiment's files read into memory, within limits, from a folder or a .zip (storage.py describes the
format and the limits). Only the known files are read, by their names: no path a file names is ever followed."""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from .bounded_zip import ZipBoundError, open_archive, read_member

FORMAT_VERSION = 1  # of settings.json
SETTINGS_FILE = "settings.json"
WEIGHTS_FILE = "weights.pt"
DATA_FILE = "data.csv"
SNAPSHOTS_FILE = "snapshots.npz"
MiB = 2**20
MAX_FILE_BYTES = {SETTINGS_FILE: 32 * MiB, WEIGHTS_FILE: 32 * MiB, DATA_FILE: 16 * MiB, SNAPSHOTS_FILE: 64 * MiB}
MAX_TOTAL_BYTES = 128 * MiB
MAX_MEMBERS = 64
DEVICE = re.compile(r"cpu|cuda(:\d{1,3})?")


class StorageError(ValueError):
    """A saved experiment cannot be loaded (or saved); the message names the file at fault."""


def archive_files(data: bytes, where: str = "") -> dict[str, bytes]:
    """The known members of a .zip, read into memory after checking every member's name and the sizes (each
    member inflated within its limit, whatever its headers declare: `engine.bounded_zip`)."""
    prefix = f"{where}: " if where else ""
    try:
        with open_archive(data, MAX_MEMBERS) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise StorageError(f"{prefix}the archive has {len(infos)} members, more than the {MAX_MEMBERS} allowed")
            wanted: dict[str, zipfile.ZipInfo] = {}
            for info in infos:
                name = info.filename
                if not _safe_member_name(name):
                    raise StorageError(f"{prefix}the archive holds a member named {name[:80]!r}: absolute or parent "
                                       "paths are refused (a saved experiment holds four plain files)")
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise StorageError(
                        f"{prefix}{name[:80]}: a symbolic link; a saved experiment holds plain files only"
                    )
                if name in MAX_FILE_BYTES:
                    if name in wanted:
                        raise StorageError(f"{prefix}the archive holds {name} twice")
                    wanted[name] = info
            if not {SETTINGS_FILE, WEIGHTS_FILE} <= wanted.keys():
                raise StorageError(
                    f"{prefix}the archive holds no saved experiment ({SETTINGS_FILE} and {WEIGHTS_FILE})"
                )
            for name, info in wanted.items():
                check_size(f"{prefix}{name}", info.file_size, MAX_FILE_BYTES[name])
            _check_total(prefix, sum(info.file_size for info in wanted.values()))
            files = {}
            for name, info in wanted.items():  # the limits again on what really comes out, whatever was declared
                try:
                    files[name] = read_member(data, info, MAX_FILE_BYTES[name])
                except ZipBoundError as error:
                    raise StorageError(f"{prefix}{name}: {error}") from None
            return files
    except StorageError:
        raise
    except ZipBoundError as error:
        raise StorageError(f"{prefix}{error}") from None
    except Exception as error:  # BadZipFile, a bad directory, zlib, bz2 or lzma errors...
        raise StorageError(f"{prefix}the file is not a .zip of a saved experiment ({one_line(error)})") from None


def folder_files(directory: Path, only=tuple(MAX_FILE_BYTES)) -> dict[str, bytes]:
    files = {}
    for name in only:
        path = directory / name
        if path.is_symlink():
            raise StorageError(f"{path}: a symbolic link; a saved experiment holds plain files only")
        if not path.exists():
            continue
        if not path.is_file():
            raise StorageError(f"{path}: not a file")
        limit = MAX_FILE_BYTES[name]
        try:
            size = path.stat().st_size
            check_size(str(path), size, limit)
            with open(path, "rb") as handle:  # read(n) allocates n bytes at once
                files[name] = handle.read(min(size, limit) + 1)
        except OSError as error:
            raise StorageError(f"{path}: cannot be read ({error.strerror or error})") from None
        check_size(str(path), len(files[name]), limit)
    _check_total(f"{directory}: ", sum(map(len, files.values())))
    return files


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and "\\" not in name and not name.startswith("/") and ".." not in path.parts \
        and not re.match(r"[A-Za-z]:", name) and "\0" not in name


def check_size(where: str, size: int, limit: int) -> None:
    if size > limit:
        raise StorageError(f"{where}: larger than the {limit // MiB} MiB allowed")


def _check_total(prefix: str, total: int) -> None:
    if total > MAX_TOTAL_BYTES:
        raise StorageError(f"{prefix}the files add up to more than the {MAX_TOTAL_BYTES // MiB} MiB allowed")


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300]
