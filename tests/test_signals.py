"""Signals with real processes: ``gaudi-vl serve`` stops the engine's whole process group, kills one
that ignores SIGTERM, leaves no orphan after ``kill -9``; ``gaudi-vl align`` interrupted by SIGTERM
leaves no temporary file, writes the sidecar for what was done, and the rerun continues.

The engine is a stand-in interpreter (``--python``) that starts a worker process of its own, as vLLM
does; the code under test (``gaudi_vl.launch``, ``gaudi_vl.cli.align``) is real and so are the
signals. Tests that need a short grace period drive ``run_engine(grace_s=1)`` from a small script,
as ``serve`` does with its 30 s default.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standin import probe_answer

from gaudi_vl.engines import DEFAULT_PROFILE

PLAN = ["qwen2.5-vl-7b", "--host", "127.0.0.1"]
WORKER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine(tmp_path: Path, *, ignore_term: bool = False, exit_code: int | None = None) -> Path:
    """A stand-in engine: starts a worker that shares its log pipe, records both pids, says ready.

    ``ignore_term``: ignores SIGTERM and SIGINT. ``exit_code``: exits by itself once ready, leaving
    the worker running. Otherwise it stops (without stopping its worker) on SIGTERM/SIGINT.
    """
    body = probe_answer(DEFAULT_PROFILE) + f"""
import subprocess
worker_file = {str(tmp_path / "worker.pid")!r}
subprocess.Popen([sys.executable, "-c", {WORKER!r}, worker_file])
open({str(tmp_path / "engine.pid")!r}, "w").write(str(os.getpid()))
if {ignore_term!r}:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
else:
    def stop(n, _f):
        print(f"engine got {{signal.Signals(n).name}}", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
while not os.path.exists(worker_file):
    time.sleep(0.01)
print("engine ready", flush=True)
if {exit_code!r} is not None:
    sys.exit({exit_code!r})
time.sleep(600)
"""
    exe = tmp_path / "fake-python"
    exe.write_text(f"#!{sys.executable}\nimport os, signal, sys, time\n{body}")
    exe.chmod(0o755)
    return exe


def driver(tmp_path: Path, exe: Path, grace_s: float) -> list[str]:
    """``run_engine`` with a short grace period, as a process of its own."""
    script = tmp_path / "drive.py"
    script.write_text(
        "import argparse, sys\n"
        "from gaudi_vl.cli.plan import add_plan_arguments, plan_from_args\n"
        "from gaudi_vl.launch import run_engine\n"
        "p = argparse.ArgumentParser()\n"
        "add_plan_arguments(p)\n"
        f"plan = plan_from_args(p.parse_args(['--model', {PLAN[0]!r}, '--host', '127.0.0.1', "
        f"'--port', '{free_port()}']))[0]\n"
        f"sys.exit(run_engine(plan, python={str(exe)!r}, grace_s={grace_s!r}))\n"
    )
    return [sys.executable, str(script)]


def serve(exe: Path) -> list[str]:
    port = str(free_port())
    return [sys.executable, "-m", "gaudi_vl", "serve", *PLAN, "--port", port, "--python", str(exe)]


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for a parent that is not us."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return state == "Z"


def wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(gone(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; whatever of them and of their engines survives is killed at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for name in ("engine.pid", "worker.pid"):
        path = tmp_path / name
        if path.exists() and not gone(pid := int(path.read_text())):
            os.kill(pid, signal.SIGKILL)


def start(procs: list[subprocess.Popen[str]], argv: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(proc)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"ended before the engine was ready: {proc.stderr.read() if proc.stderr else ''}")
        if line.strip() == "engine ready":
            return proc
    pytest.fail("the engine never became ready")


def pids(tmp_path: Path) -> list[int]:
    return [int((tmp_path / name).read_text()) for name in ("engine.pid", "worker.pid")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_reaches_the_whole_engine_group(tmp_path: Path, procs: list, sig: signal.Signals) -> None:
    """The worker holds the log pipe: if only the engine got the signal, serve would wait for it."""
    proc = start(procs, serve(engine(tmp_path)))
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=20)
    assert f"engine got {sig.name}" in out
    assert proc.returncode == 0
    assert wait_gone(pids(tmp_path), 10), "the engine's worker outlived serve"


def test_second_ctrl_c_kills_an_engine_that_ignores_it(tmp_path: Path, procs: list) -> None:
    proc = start(procs, serve(engine(tmp_path, ignore_term=True)))
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None, "the first Ctrl-C waits for the engine (grace period)"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 128 + signal.SIGKILL
    assert "killed with SIGKILL" in out
    assert wait_gone(pids(tmp_path), 10)


def test_engine_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path, procs: list) -> None:
    proc = start(procs, driver(tmp_path, engine(tmp_path, ignore_term=True), grace_s=1.0))
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGKILL
    assert "still running 1 s after SIGTERM: killed with SIGKILL" in out
    assert time.monotonic() - began >= 1.0, "SIGKILL only after the grace period"
    assert wait_gone(pids(tmp_path), 10)


def test_workers_left_by_an_exiting_engine_are_stopped(tmp_path: Path, procs: list) -> None:
    """An engine that dies leaves its worker holding the log pipe: serve must not wait on it."""
    proc = start(procs, driver(tmp_path, engine(tmp_path, exit_code=3), grace_s=1.0))
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "with code 3; last" in out
    assert wait_gone(pids(tmp_path), 10)


def test_kill_9_of_serve_leaves_no_engine(tmp_path: Path, procs: list) -> None:
    proc = start(procs, serve(engine(tmp_path)))
    proc.kill()
    proc.wait()
    assert wait_gone(pids(tmp_path), 20), "the engine or its worker was orphaned by kill -9 of serve"


def test_kill_9_of_serve_kills_an_engine_that_ignores_sigterm(tmp_path: Path, procs: list) -> None:
    proc = start(procs, driver(tmp_path, engine(tmp_path, ignore_term=True), grace_s=1.0))
    proc.kill()
    proc.wait()
    assert wait_gone(pids(tmp_path), 20), "the engine's group was not killed after the grace period"


# --- align ---------------------------------------------------------------------------------------


def _batch(folder: Path, n: int) -> None:
    from PIL import Image

    folder.mkdir()
    for i in range(n):
        Image.new("RGB", (900 + i, 700), (i % 256, 80, 160)).save(folder / f"img{i:03d}.png")


def _align(src: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gaudi_vl",
        "align",
        str(src),
        "--out",
        str(out),
        "--min-pixels",
        "1000000",
        "--max-pixels",
        "4000000",
    ]


@pytest.mark.parametrize("times", [1, 2])
def test_align_interrupted_by_sigterm_writes_the_sidecar_and_continues(tmp_path: Path, times: int) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _batch(src, 40)
    proc = subprocess.Popen(
        _align(src, out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert " -> " in first, first
    for _ in range(times):
        proc.send_signal(signal.SIGTERM)
    out_text, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    names = {p.name for p in out.iterdir()}
    assert not [n for n in names if n.startswith(".")], f"hidden temporary files left: {names}"
    sidecar = json.loads((out / "transforms.json").read_text())["images"]
    assert set(sidecar) == names - {"transforms.json"}, "the sidecar lists exactly the images written"
    assert 1 <= len(sidecar) < 40
    rerun = subprocess.run(_align(src, out), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert len(json.loads((out / "transforms.json").read_text())["images"]) == 40


def test_serve_stops_reading_a_pipe_held_by_one_that_left_the_group(tmp_path: Path, procs: list) -> None:
    """Issue 19: a descendant in a session of its own (``setsid``) is not stopped with the engine's
    group and keeps the log pipe open; serve stops reading shortly after the engine exits."""
    exe = engine(tmp_path, exit_code=5)
    body = exe.read_text().replace(
        f"subprocess.Popen([sys.executable, \"-c\", {WORKER!r}, worker_file])",
        f"subprocess.Popen([sys.executable, \"-c\", {WORKER!r}, worker_file], start_new_session=True)",
    )
    assert "start_new_session=True" in body
    exe.write_text(body)
    proc = start(procs, driver(tmp_path, exe, grace_s=1.0))
    out, _ = proc.communicate(timeout=30)  # was: forever
    assert proc.returncode == 5
    assert "a process outside its process group still holds the pipe" in out
    worker = int((tmp_path / "worker.pid").read_text())
    os.kill(worker, signal.SIGKILL)


def test_serve_passes_a_huge_log_line_through_in_bounded_memory(tmp_path: Path, procs: list) -> None:
    """A 128 MiB line with no newline until its end reaches stdout whole; serve's own memory stays
    far below it (the doctor sees the first 64 KiB). Before issue 19 serve held the whole line."""
    size = 128 << 20
    exe = engine(tmp_path, exit_code=0)
    exe.write_text(exe.read_text().replace(
        'print("engine ready", flush=True)',
        f'print("engine ready", flush=True)\nsys.stdout.write("x" * {size} + "\\n"); sys.stdout.flush()',
    ))
    argv = driver(tmp_path, exe, grace_s=1.0)
    script = Path(argv[1])
    script.write_text(script.read_text().replace(
        "sys.exit(run_engine(", "import resource\ncode = (run_engine(",
    ) + "print('peak KiB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
    proc = start(procs, argv)
    assert proc.stdout is not None and proc.stderr is not None
    total = 0
    while chunk := proc.stdout.readline(1 << 20):
        if chunk.startswith("x") or (total and not chunk.startswith("[")):
            total += len(chunk)
    proc.wait(timeout=60)
    assert total == size + 1
    peak_kib = int(proc.stderr.read().split("peak KiB")[1].split()[0])
    assert peak_kib < 200 * 1024, peak_kib / 1024
