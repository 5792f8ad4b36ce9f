"""``gaudi_vl.fileio``: the writer never replaces what is not a regular file, never leaves half a file
or a temporary file, and the strict JSON reader turns every bad file into one ``GaudiVLError``."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.fileio import MAX_JSON_BYTES, atomic_writer, read_json_file


def _entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _special(kind: str, path: Path) -> None:
    if kind == "symlink":
        victim = path.parent / "victim.txt"
        victim.write_text("precious\n")
        path.symlink_to(victim)
    elif kind == "dangling symlink":
        path.symlink_to(path.parent / "nowhere")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root")
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null twin
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "fifo", "directory", "socket", "device"])
def test_never_replaces_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out.json"
    _special(kind, target)
    before = os.lstat(target)
    with pytest.raises(GaudiVLError) as info, atomic_writer(target, "w") as handle:
        handle.write("new")
    assert str(target) in info.value.one_line() and "\n" not in info.value.one_line()
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino), "the target itself is untouched"
    if kind == "symlink":
        assert (tmp_path / "victim.txt").read_text() == "precious\n"
    assert not [n for n in _entries(tmp_path) if n.endswith(".tmp")], "no temporary file left"


def test_replaces_a_regular_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    target.chmod(0o600)
    with atomic_writer(target, "w") as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.json"
    with atomic_writer(fresh, "w") as handle:
        handle.write("x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    assert _entries(tmp_path) == {"plan.json", "fresh.json"}


def test_os_errors_are_one_line_and_leave_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / "sub" / "out.txt"
    with pytest.raises(GaudiVLError, match="cannot write"), atomic_writer(target) as handle:
        handle.write(b"never")
    assert _entries(tmp_path) == {"file"}


def test_interrupt_while_writing_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_writer(target, "w") as handle:
        handle.write("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert _entries(tmp_path) == {"plan.json"}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"a": 1', "not valid JSON"),
        ('{"name": "caf\u00e9"}'.encode("latin-1"), "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b'{"a": -Infinity}', "Infinity is not valid JSON"),
        (b'{"a": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_strict_json_reader(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    with pytest.raises(GaudiVLError, match=words):
        read_json_file(path, "model file")


def test_json_reader_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def read() -> None:
        try:
            read_json_file(fifo, "model file")
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            done.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():
        with open(fifo, "w"):  # unblock the reader before failing
            pass
        pytest.fail("reading a FIFO blocked")
    assert isinstance(done[0], GaudiVLError) and "FIFO" in str(done[0])


def test_json_reader_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps("x" * MAX_JSON_BYTES))
    with pytest.raises(GaudiVLError, match="over 16,777,216 bytes"):
        read_json_file(path, "sidecar")
