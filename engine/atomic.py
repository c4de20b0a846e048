"""Writing a file so that a failure never leaves half of it: every file the command line or the app writes.

    with atomic_write("results.csv", "w", newline="") as handle:
        handle.write(text)

The content goes into a temporary file beside the target (same folder, so the same disk), is flushed to the disk,
and only then renamed over the target. A write that fails (a full disk, a file-size limit, an exception in the
`with` block, Ctrl-C) removes the temporary file and leaves what the target held before as it was. A target that
exists and is not a regular file (a folder, a device such as /dev/null, a FIFO, a socket) is refused before
anything is written: renaming over it would replace the device or pipe with a plain file.
A replaced file keeps its permission bits; a new one gets an ordinary new file's (0666 less the umask).

Failures are `WriteError`s (OSErrors) whose message names the file and the reason in one line.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class WriteError(OSError):
    """A file cannot be written; the message names it and why (one line). What it held before is unchanged."""


def check_target(path: str | Path) -> Path:
    """`path` as a Path, if a file may be written there: its folder exists, and it is a regular file or absent.

    A symbolic link is judged by what it points to (a link to /dev/null is refused)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise WriteError(f"{path}: cannot be written ({error.strerror or error})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise WriteError(f"{path}: is a folder, not a file")
    if mode is not None and not stat.S_ISREG(mode):
        raise WriteError(f"{path}: exists and is not a regular file (a device, pipe or socket): it is not replaced")
    if not path.parent.is_dir():
        raise WriteError(f"{path}: the folder {path.parent} does not exist")
    return path


def check_output(path: str | Path) -> Path:
    """`check_target`, and a file can be created in its folder and the file itself (if any) written: for checking
    an output place before any long work. Raises `WriteError`."""
    path = check_target(path)
    if path.exists() and not os.access(path, os.W_OK):
        raise WriteError(f"{path}: cannot be written (permission denied)")
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as error:
        raise WriteError(f"{path.parent}: cannot write there ({error.strerror or error})") from None
    return path


def temporary_beside(path: str | Path) -> Path:
    """A new empty file in `path`'s folder, named after it (.NAME.XXXX.tmp), with an ordinary new file's
    permissions (or those of `path` if it exists). The caller renames it over `path` or removes it."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        permissions = stat.S_IMODE(os.stat(path).st_mode) if path.is_file() else 0o666 & ~_UMASK
        os.chmod(temporary, permissions)  # mkstemp makes it private
    except BaseException:
        os.unlink(temporary)
        raise
    return Path(temporary)


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", **options) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing (`mode` "w" or "wb"; `options` as `open`'s); when the
    `with` block ends without an error, the file is flushed to the disk and renamed over `path`.

    Raises `WriteError` for a target that is not a regular file and for any failure to write (the target is then
    unchanged, and no temporary file is left); other exceptions from the block pass through, the target unchanged.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', not {mode!r}")
    path = check_target(path)
    try:
        temporary = temporary_beside(path)
    except OSError as error:
        raise WriteError(f"{path}: cannot be written ({error.strerror or error})") from None
    try:
        with open(temporary, mode, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, WriteError):
            raise WriteError(f"{path}: cannot be written ({error.strerror or error}); "
                             f"{'it was left as it was' if path.exists() else 'nothing was written'}") from None
        raise


def write_text(path: str | Path, text: str, encoding: str = "utf-8", newline: str | None = None) -> Path:
    """Write `text` to `path` atomically (see `atomic_write`); returns the path."""
    with atomic_write(path, "w", encoding=encoding, newline=newline) as handle:
        handle.write(text)
    return Path(path)


_UMASK = os.umask(0o022)
os.umask(_UMASK)
