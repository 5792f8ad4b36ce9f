"""Edge: file writes that never leave half a file behind (temp file beside the target, then rename)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_writer(target: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``target``; on success fsync and ``os.replace`` it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_output(output: str, text: str) -> None:
    """``-o FILE``: write ``text`` atomically; the folder must exist (a one-line error otherwise)."""
    from gaudi_vl.errors import GaudiVLError

    path = Path(output)
    if not path.parent.is_dir():
        raise GaudiVLError(f"folder {path.parent} does not exist", "create it or choose another --output")
    with atomic_writer(path, "w") as handle:
        handle.write(text)
