"""Edge: file writes that never leave half a file behind and never replace what is not a plain file.

Every file gaudi-vl writes (``plan -o``, ``--plot``, ``align``'s images and sidecar) goes through
:func:`atomic_writer`: a temporary file beside the target, fsync, then ``os.replace``. A crash or a
signal leaves the old file or the new one, never half of one, and the temporary file is removed.

The target rule: **the target must not exist, or be a regular file** (checked with ``lstat``, so a
symbolic link is not followed). Anything else is refused with a one-line ``GaudiVLError`` before a
byte is written, because ``os.replace`` would swap the name for a plain file and so:

* a symbolic link would become a file (its target untouched: the user's "write through the link"
  silently fails, and the link is lost);
* a FIFO, a socket or a device node (``-o /dev/null``, ``-o /dev/stdout`` as root) would be
  replaced by a file, breaking the system for everyone else;
* a directory cannot be replaced at all (``-o DIR`` was a traceback).

Shell redirection is the tool for special files (``gaudi-vl plan > /dev/stdout``); the hint says so.
An existing regular file keeps its permission bits; a new one gets ``0o644``. The check and the
rename are not one atomic step: the rule guards against mistakes, not against another user racing
us in a directory they can write to.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gaudi_vl.errors import GaudiVLError

NEW_FILE_MODE = 0o644


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def check_writable_target(target: Path) -> int | None:
    """Refuse a target that exists and is not a regular file; return the existing file's mode bits.

    Returns None when the target does not exist yet. Raises ``GaudiVLError`` (message names the
    path and what it is; the hint gives the fix).
    """
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise GaudiVLError(
            f"cannot write {target}: {exc.strerror or exc}", "check the path and its folders"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise GaudiVLError(
            f"{target} is {_kind(st.st_mode)}; gaudi-vl only creates or replaces regular files",
            "write to a new or regular file (for stdout or a pipe: drop the option or use > redirection)",
        )
    return stat.S_IMODE(st.st_mode)


@contextlib.contextmanager
def atomic_writer(target: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``target``; on success fsync and ``os.replace`` it into place.

    ``target`` must not exist or be a regular file (module docstring). Any ``OSError`` on the way
    (missing or read-only folder, disk full, permission) becomes a one-line ``GaudiVLError`` naming
    ``target``; the temporary file is removed on every failure, ``KeyboardInterrupt`` included.
    """
    target = Path(target)
    keep_mode = check_writable_target(target)
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        tmp = Path(tmp_name)
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, NEW_FILE_MODE if keep_mode is None else keep_mode)
        check_writable_target(target)  # it may have changed while we wrote
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise GaudiVLError(
            f"cannot write {target}: {exc.strerror or exc}",
            "check that the folder exists, is writable and has free space",
        ) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


MAX_JSON_BYTES = 16 << 20
"""16 MiB: the largest JSON file gaudi-vl reads (config.json, preprocessor_config.json, an align
sidecar). A Qwen2.5-VL config is about 2 KB; a sidecar entry about 600 bytes (26,000 images)."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_regular_file(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; a one-line ``GaudiVLError`` otherwise.

    FIFOs, devices and folders are refused before they are opened (reading ``/dev/zero`` or a
    FIFO nobody writes to would never end).
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise GaudiVLError(f"{what} {path} is {_kind(st.st_mode)}", "pass a regular file")
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise GaudiVLError(f"cannot read {what} {path}: {exc.strerror or exc}", "check the path") from None
    if len(data) > max_bytes:
        raise GaudiVLError(f"{what} {path} is over {max_bytes:,} bytes", f"is it really a {what}?")
    return data


def read_json_file(path: Path, what: str, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file strictly: UTF-8, no NaN/Infinity, bounded size and nesting; errors in one line."""
    data = read_regular_file(path, max_bytes, what)
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise GaudiVLError(
            f"{what} {path} is not UTF-8 text (byte {exc.start})", "restore the file"
        ) from None
    except json.JSONDecodeError as exc:
        raise GaudiVLError(
            f"{what} {path} is not valid JSON (line {exc.lineno}: {exc.msg})", "restore the file"
        ) from None
    except RecursionError:
        raise GaudiVLError(f"{what} {path} is nested too deeply", "restore the file") from None
    except ValueError as exc:  # NaN/Infinity, an integer of thousands of digits
        raise GaudiVLError(f"{what} {path} is not valid JSON ({exc})", "restore the file") from None


def write_text_output(output: str, text: str) -> None:
    """``-o FILE``: write ``text`` atomically through ``atomic_writer`` (its rules on what it replaces);
    the folder must exist (a one-line error otherwise)."""
    path = Path(output)
    if not path.parent.is_dir():
        raise GaudiVLError(f"folder {path.parent} does not exist", "create it or choose another --output")
    with atomic_writer(path, "w") as handle:
        handle.write(text)
