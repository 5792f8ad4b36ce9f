"""Edge: turn a plan into a running engine — a copy-pasteable script, or a supervised child process.

The environment comes from ``gaudi_vl.envvars.plan_env`` and the argv from
``gaudi_vl.command.server_argv``; nothing here re-derives them. Variables the plan manages but leaves
unset for this engine (``gaudi_vl.envvars.managed_names``) are removed from the inherited environment, so
the engine sees exactly the plan, in the script and in the child alike. Secrets already in the
caller's environment (tokens, keys, passwords) are inherited by the child but never printed.

Script safety (:func:`render_script`): every value is quoted (``gaudi_vl.errors.shell_quote``:
``$'...'`` with ``\\xNN`` escapes for control characters) and every comment line is made of
printable characters only (``gaudi_vl.errors.printable``), so a model path holding a
newline cannot smuggle a command into ``gaudi-vl serve MODEL --dry-run | bash``.

Extra engine flags after ``--`` (:func:`check_passthrough`) may not repeat a flag the plan sets
(``--port``, ``--tensor-parallel-size``/``-tp``, ``--mm-processor-kwargs``, ...): the engine's
argparse keeps the last value, so ``serve -- --port 9999`` used to override the port that the
free-port check had just cleared, and the plan's memory math with it. The engine also accepts
``--flag=value``, ``--flag_name`` (underscores, vllm/utils.py:1564@95af70093fc0), ``--flag.key``
(nested JSON) and unique prefixes (argparse's ``allow_abbrev``): all are refused.

Supervision (:func:`run_engine`):

* The child runs in its own session and process group, so a terminal's Ctrl-C reaches it once,
  through the forwarding handler, not twice. SIGINT, SIGTERM and SIGHUP (as SIGTERM) are forwarded
  to the engine's whole process group (``killpg``: its workers too, which otherwise kept the log
  pipe open after the engine left). A group still there ``grace_s`` seconds later (an engine that
  ignores SIGTERM) is killed with SIGKILL; a second Ctrl-C kills at once.
* When the engine exits by itself, what is left of its group gets the same SIGTERM-then-SIGKILL, so
  serve never waits on a pipe held by orphaned workers.
* ``kill -9`` of gaudi-vl runs no handler, yet the engine must not be orphaned holding the cards.
  A guardian process (:data:`GUARDIAN`, a few lines of Python in a session of its own, so no
  terminal signal reaches it) holds the read end of a pipe from gaudi-vl; when gaudi-vl dies the
  kernel closes the write end, and the guardian gives the engine's group SIGTERM, the grace period
  and SIGKILL. On Linux the engine also asks the kernel for SIGTERM when gaudi-vl dies
  (``prctl(PR_SET_PDEATHSIG)`` in ``preexec_fn``), in case the guardian was killed too.
* Its log is streamed line by line; out-of-memory, recompilation and "image above the largest
  bucket" lines get the doctor's advice (``gaudi_vl.doctor``, imported lazily: skipped when missing)
  once; a failure shows the last log lines; the child's exit code is returned (``128 + N`` when it
  died of signal N, as a shell reports).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from gaudi_vl import engine_probe
from gaudi_vl.command import engine_flags, server_argv
from gaudi_vl.engines import EngineProfile, InstalledEngine, identify, probe_plan
from gaudi_vl.envvars import managed_names, plan_env
from gaudi_vl.errors import GaudiVLError, printable, shell_join, shell_quote
from gaudi_vl.plan import Plan

SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|CREDENTIAL", re.IGNORECASE)
"""Environment names whose values never appear in printed scripts."""

ALERT_KINDS = frozenset({"oom", "recompile", "mask_cpu"})
"""Doctor finding kinds that make the launcher print advice while the engine runs."""

ABOVE_LARGEST_BUCKET = re.compile(r"largest bucket \d+ < \d+ patches")
"""The gaudi-vl plugin's start-up line for images above the largest bucket (gaudi_vl/vllm_plugin.py)."""

READY = re.compile(r"Application startup complete")
"""uvicorn's line once the OpenAI server listens (vllm/entrypoints/openai/api_server.py runs uvicorn)."""

NORMAL_STOP = frozenset({0, 128 + signal.SIGINT, 128 + signal.SIGTERM})

STOP_GRACE_S = 30.0
"""Seconds the engine's process group gets to exit after SIGTERM before SIGKILL."""
READ_CHUNK_BYTES = 64 << 10
"""The engine's output is read in pieces of at most this many bytes (``os.read`` on the pipe)."""
DOCTOR_LINE_BYTES = 64 << 10
"""The doctor reads at most this much of one log line; the rest of a longer line is passed through
to the terminal, never held: an engine printing a 1 GB line costs 64 KiB here."""
DRAIN_AFTER_EXIT_S = 2.0
"""After the engine exits, its output is read for at most this long: a descendant that left its
process group (and so is not stopped with it) may hold the pipe open forever."""

FORWARDED: dict[int, int] = {
    signal.SIGINT: signal.SIGINT,
    signal.SIGTERM: signal.SIGTERM,
    signal.SIGHUP: signal.SIGTERM,  # the terminal went away: stop the engine cleanly
}
"""Signals gaudi-vl serve catches -> the signal its engine's process group gets."""

ENGINE_FLAG_ALIASES: dict[str, str] = {"-tp": "--tensor-parallel-size"}
"""Short engine flags (vllm/engine/arg_utils.py:651@95af70093fc0 ``"--tensor-parallel-size", "-tp"``)."""

def managed_unset(plan: Plan) -> list[str]:
    """Names the plan's engine reads that the plan leaves at the engine's default: removed from the
    inherited environment so the engine sees exactly the plan."""
    env = plan_env(plan)
    return [name for name in managed_names(plan) if name not in env]


def printable_env(env: Mapping[str, str]) -> dict[str, str | None]:
    """``env`` for printing: secret-looking names map to None (their value is never shown)."""
    return {k: (None if SECRET_NAME.search(k) else v) for k, v in env.items()}


def _flag_name(token: str) -> str | None:
    """The engine flag a token names, as the engine's parser normalises it; None for a value."""
    if not token.startswith("-") or token == "-" or token == "--":
        return None
    try:
        float(token)
        return None  # a negative number is a value
    except ValueError:
        pass
    name = token.split("=", 1)[0]
    if name.startswith("--"):
        name = "--" + name[2:].split(".", 1)[0].replace("_", "-")
    return ENGINE_FLAG_ALIASES.get(name, name)


def check_passthrough(plan: Plan, extra_args: Sequence[str]) -> None:
    """Refuse extra engine flags that would override a flag of the plan (module docstring)."""
    flags = {f.flag: f for f in engine_flags(plan)}
    owned = {name: f.value or "" for name, f in flags.items()}
    for token in extra_args:
        name = _flag_name(token)
        if name is None:
            continue
        hit = name if name in owned else next(
            (flag for flag in owned if len(name) > 3 and flag.startswith(name)), None
        )
        if hit is None:
            continue
        option = flags[hit].option
        fix = (f"pass gaudi-vl's {option} instead (before --)" if option
               else "the plan's memory math depends on it: re-plan instead of overriding it")
        raise GaudiVLError(
            f"engine flag {token!r} after -- would override the plan's {hit} {owned[hit]}", fix
        )


def engine_argv(plan: Plan, extra_args: Sequence[str] = (), python: str = "python") -> list[str]:
    """The plan's server command plus the user's extra engine flags (after ``--``), checked."""
    check_passthrough(plan, extra_args)
    argv = [*server_argv(plan, python=python), *extra_args]
    bad = next((a for a in argv if "\0" in a), None)
    if bad is not None:
        raise GaudiVLError(f"argument {bad!r} holds a NUL byte", "no process can be given one; fix the value")
    return argv


def render_script(plan: Plan, extra_args: Sequence[str] = (), python: str = "python") -> str:
    """A bash script that sets the plan's environment and ``exec``s the server command.

    Values are quoted with ``shell_quote`` and comments hold printable characters only
    (``gaudi_vl.errors.printable``); a secret-looking variable is never printed: the script then
    requires it from the caller's environment (``${NAME:?...}``) instead.
    """
    argv = engine_argv(plan, extra_args, python)
    lines = [
        "#!/usr/bin/env bash",
        printable(f"# gaudi-vl serve: {plan.model_ref} for {plan.engine.name}")
        + " (generated: re-plan, do not edit)",
        *(printable("# note: " + " ".join(w.split())) for w in plan.all_warnings),
        "set -euo pipefail",
    ]
    unset = managed_unset(plan)
    if unset:
        lines.append("unset " + " ".join(unset))
    for name, value in printable_env(plan_env(plan)).items():
        if value is None:
            lines.append(f'export {name}="${{{name}:?set {name} (a secret: not printed)}}"')
        else:
            lines.append(f"export {name}={shell_quote(value)}")
    lines.append("exec " + shell_join(argv))
    return "\n".join(lines) + "\n"


def child_env(plan: Plan, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The engine's environment: ``base`` (default: ours) minus plan-managed unset names, plus the plan's."""
    env = dict(os.environ if base is None else base)
    for name in managed_unset(plan):
        env.pop(name, None)
    env.update(plan_env(plan))
    return env


def check_port_free(host: str, port: int) -> None:
    """Fail before launch, with a clear message, when the port is taken (the engine would die late)
    or the host is not an address of this machine."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except (OSError, UnicodeError) as exc:
            detail = getattr(exc, "strerror", None) or str(exc)
            if isinstance(exc, (socket.gaierror, UnicodeError)) or exc.errno == errno.EADDRNOTAVAIL:
                raise GaudiVLError(
                    f"--host {host!r} is not an address of this machine ({detail})",
                    "pass --host 0.0.0.0 (every interface), 127.0.0.1 or one of this machine's addresses",
                ) from None
            raise GaudiVLError(
                f"port {port} on {host or '0.0.0.0'} is not free ({detail})",
                "stop what uses it or pass --port with a free port",
            ) from None


def probe_engine(python: str) -> InstalledEngine:
    """What ``python`` has installed, for ``engines.identify``; a one-line error if it cannot run."""
    modules, files = probe_plan()
    fix = "pass --python with a working interpreter"
    try:
        source = Path(engine_probe.__file__).read_text(encoding="utf-8")
        done = subprocess.run([python, "-c", source, json.dumps([modules, files])], capture_output=True,
                              text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GaudiVLError(f"cannot run the engine interpreter {python} ({exc})", fix) from None
    if done.returncode != 0:
        raise GaudiVLError(f"the engine interpreter {python} failed to start", fix)
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise GaudiVLError(f"the engine interpreter {python} printed no probe result", fix) from None
    return InstalledEngine(frozenset(found["modules"]), dict(found["files"]), dict(found["versions"]))


def check_engine_installed(plan: Plan, installed: InstalledEngine) -> None:
    """The plan's engine must be the one installed; say how to install it or which --target to pass."""
    found = identify(installed)
    want = plan.engine
    if found is None:
        raise GaudiVLError(f"no vLLM engine importable (target {want.name})", want.install_hint)
    if found.name != want.name:
        version = ", ".join(f"{k} {v}" for k, v in installed.versions.items())
        raise GaudiVLError(
            f"the installed engine is {found.name} ({version or 'version unknown'}), "
            f"the plan is for {want.name}",
            f"pass --target {found.name} (or install {want.name}: {want.install_hint})",
        )


def detect_engine(python: str) -> EngineProfile | None:
    """The profile of the engine ``python`` has installed (None: none installed)."""
    return identify(probe_engine(python))


class LogWatcher:
    """Reads the engine log: knows whether the server came up, and when to print the doctor's advice.

    The doctor never raises (``Doctor.feed`` turns its own errors into "unreadable line" findings);
    should it all the same, the watcher stops reading with it and says so once: the engine is never
    stopped because of how its log was read.
    """

    def __init__(self, plan: Plan, tail_lines: int = 40) -> None:
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self.ready = False
        self.shown: set[str] = set()
        self.doctor: Any = None
        try:
            from gaudi_vl.doctor import Doctor
        except ImportError:
            Doctor = None  # noqa: N806 (the class, when the doctor module exists)
        if Doctor is not None:
            self.doctor = Doctor(
                plan.model, tp=plan.serve.tensor_parallel_size,
                fp32_softmax_vision=bool(plan.serve.fp32_softmax_vision), grammar=plan.engine.name,
            )

    def _degrade(self, exc: Exception) -> list[str]:
        self.doctor = None
        return [f"stopped reading the log ({type(exc).__name__}: {exc}); the engine keeps running"]

    def feed(self, line: str) -> list[str]:
        """Take one log line; return advice lines to print now (each piece of advice only once)."""
        self.tail.append(line)
        if READY.search(line):
            self.ready = True
        alert = bool(ABOVE_LARGEST_BUCKET.search(line))
        if self.doctor is not None:
            try:
                findings = self.doctor.feed(line)
            except Exception as exc:  # noqa: BLE001 -- never let log reading stop the engine
                return self._degrade(exc)
            alert = alert or any(f.kind in ALERT_KINDS for f in findings)
        return self.new_advice() if alert else []

    def new_advice(self) -> list[str]:
        if self.doctor is None:
            return []
        try:
            advice = self.doctor.advice()
        except Exception as exc:  # noqa: BLE001
            return self._degrade(exc)
        fresh = [a for a in advice if a not in self.shown]
        self.shown.update(fresh)
        return fresh

    def reading(self) -> list[str]:
        """The doctor's reading after a failure: what failed (if recognised) and advice not yet shown."""
        if self.doctor is None:
            return []
        try:
            report = self.doctor.report()
        except Exception as exc:  # noqa: BLE001
            return self._degrade(exc)
        if report.failure:
            where = report.failure_phase.value if report.failure_phase else "an unknown phase"
            lines = [f"failed during {where}: {report.failure}"]
        elif report.ended_during:
            lines = [f"the log ends during {report.ended_during}"]
        else:
            lines = []
        return lines + self.new_advice()


def stream_log(
    fd: int,
    out: TextIO,
    on_line: Callable[[str], None],
    exited: threading.Event,
    *,
    drain_s: float = DRAIN_AFTER_EXIT_S,
    line_bytes: int = DOCTOR_LINE_BYTES,
) -> bool:
    """Copy the engine's output from ``fd`` to ``out`` and hand each line to ``on_line``, in bounded
    memory: reads of at most ``READ_CHUNK_BYTES``, at most ``line_bytes`` of one line kept (for
    ``on_line``, the doctor); the output itself is passed through whole, as it arrives.

    Returns True at end of file, False when it stopped ``drain_s`` seconds after ``exited`` was
    set with the pipe still open (a process outside the engine's group holds it).
    """
    import codecs
    import select

    decode = codecs.getincrementaldecoder("utf-8")("replace").decode
    line = bytearray()
    deadline: float | None = None
    eof = False
    while True:
        if deadline is None and exited.is_set():
            deadline = time.monotonic() + drain_s
        wait = 0.2 if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            ready, _, _ = select.select([fd], [], [], wait)
        except InterruptedError:  # a forwarded signal; PEP 475 retries, but not with a new timeout
            continue
        if not ready:
            if deadline is not None and time.monotonic() >= deadline:
                break
            continue
        chunk = os.read(fd, READ_CHUNK_BYTES)
        if not chunk:
            eof = True
            break
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            stop = len(chunk) if end < 0 else end + 1
            piece = chunk[start:stop]
            out.write(decode(piece))
            room = line_bytes - len(line)
            if room > 0:
                line += piece[:room]
            if end >= 0:
                out.flush()
                on_line(line.decode("utf-8", "replace"))
                line.clear()
            start = stop
    out.write(decode(b"", final=True))
    if line:
        on_line(line.decode("utf-8", "replace"))
    out.flush()
    return eof


def _write(out: TextIO, lines: Iterable[str], prefix: str) -> None:
    for line in lines:
        out.write(printable(f"{prefix} {line}") + "\n")  # advice quotes the log: untrusted text
    out.flush()


GUARDIAN = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
pgid, grace = int(sys.argv[1]), float(sys.argv[2])
sys.stdin.buffer.read()
def alive():
    try:
        os.killpg(pgid, 0)
    except OSError:
        return False
    return True
def send(sig):
    try:
        os.killpg(pgid, sig)
    except OSError:
        pass
if alive():
    send(signal.SIGTERM)
    end = time.monotonic() + grace
    while alive() and time.monotonic() < end:
        time.sleep(0.1)
    if alive():
        send(signal.SIGKILL)
"""
"""Run as ``python -c GUARDIAN PGID GRACE`` with a pipe from gaudi-vl on stdin: when the pipe closes
(gaudi-vl finished, or died), stop whatever is left of the engine's group (module docstring)."""


def start_guardian(pgid: int, grace_s: float) -> subprocess.Popen[bytes] | None:
    """The guardian for the engine group ``pgid``; None if it cannot start (the engine still runs)."""
    try:
        return subprocess.Popen(
            [sys.executable, "-c", GUARDIAN, str(pgid), str(grace_s)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError:
        return None


def release_guardian(guardian: subprocess.Popen[bytes] | None) -> None:
    """Close the guardian's pipe once the engine's group is gone; it then exits by itself."""
    if guardian is None:
        return
    with contextlib.suppress(OSError):
        assert guardian.stdin is not None
        guardian.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        guardian.wait(timeout=5)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel SIGTERM the child when gaudi-vl dies (Linux only).

    ``prctl(PR_SET_PDEATHSIG)`` (prctl(2)) fires when the thread that forked the child exits; we
    fork from the main thread, which lives as long as gaudi-vl. If gaudi-vl died before the call
    took effect, the child is already orphaned (its parent pid changed) and exits at once.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1  # <linux/prctl.h>

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(128 + signal.SIGTERM)

    return preexec


class EngineGroup:
    """The engine's process group (the child leads it: ``start_new_session``): signalled as a whole,
    killed ``grace_s`` seconds after a stop if anything of it is still there."""

    def __init__(self, child: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
        self.child = child
        self.pgid = child.pid
        self.grace_s = grace_s
        self.stop_started: float | None = None
        self.killed = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.exited = threading.Event()
        """Set once the engine itself has exited (``watch``)."""

    def send(self, signum: int) -> None:
        # ProcessLookupError: nothing is left of the group; PermissionError: it is not ours any more.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)

    def alive(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def kill(self) -> None:
        with self._lock:
            self.killed = True
        self.send(signal.SIGKILL)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Send ``signum`` to the group and SIGKILL it after the grace period; a second stop kills now."""
        with self._lock:
            again = self.stop_started is not None
            if not again:
                self.stop_started = time.monotonic()
                self._timer = threading.Timer(self.grace_s, self.kill)
                self._timer.daemon = True
                self._timer.start()
        if again:
            self.kill()
        else:
            self.send(signum)

    def watch(self) -> None:
        """In a thread: once the engine itself exits, stop what is left of its group.

        ``waitid(WNOWAIT)`` waits without reaping, so the engine's pid (= the group id) cannot be
        reused by another process while we signal the group. ``exited`` is set either way, so the
        log reader stops waiting on the pipe (``DRAIN_AFTER_EXIT_S``).
        """
        try:
            os.waitid(os.P_PID, self.child.pid, os.WEXITED | os.WNOWAIT)
        except (ChildProcessError, OSError):
            self.exited.set()
            return
        self.exited.set()
        self.stop(signal.SIGTERM)

    def finish(self) -> None:
        """After the engine is reaped: stop stragglers of its group (SIGTERM, the rest of the grace
        period, SIGKILL) and cancel the pending kill."""
        if self.stop_started is None and self.alive():
            self.stop(signal.SIGTERM)
        if self.stop_started is not None:
            deadline = self.stop_started + self.grace_s
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.alive():
                self.kill()
        if self._timer is not None:
            self._timer.cancel()


def stop_child(child: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the engine's process group, then SIGKILL after ``grace_s`` seconds if it is still there."""
    group = EngineGroup(child, grace_s)
    group.stop(signal.SIGTERM)
    try:
        child.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        group.kill()
        child.wait()
    group.finish()


def run_engine(
    plan: Plan,
    extra_args: Sequence[str] = (),
    *,
    python: str = sys.executable,
    out: TextIO | None = None,
    tail_lines: int = 40,
    grace_s: float = STOP_GRACE_S,
) -> int:
    """Run the engine as a child: stream its log, forward signals to its group, return its exit code."""
    out = out or sys.stdout
    argv = engine_argv(plan, extra_args, python)
    check_engine_installed(plan, probe_engine(python))
    check_port_free(plan.serve.host, plan.serve.port)
    watcher = LogWatcher(plan, tail_lines)
    _write(out, plan.all_warnings, "[gaudi-vl] note:")
    child = subprocess.Popen(
        argv, env=child_env(plan), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, bufsize=0,
        start_new_session=True, preexec_fn=_die_with_parent(),  # before any thread of ours starts
    )
    group = EngineGroup(child, grace_s)
    guardian = start_guardian(group.pgid, grace_s)

    def forward(signum: int, _frame: FrameType | None) -> None:
        group.stop(FORWARDED[signum])

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    threading.Thread(target=group.watch, name="gaudi-vl-engine-watch", daemon=True).start()
    try:
        assert child.stdout is not None
        eof = stream_log(child.stdout.fileno(), out, lambda line: _write(out, watcher.feed(line),
                                                                          "[gaudi-vl doctor]"), group.exited)
        child.stdout.close()
        if not eof:
            out.write(f"[gaudi-vl] stopped reading the engine's output {DRAIN_AFTER_EXIT_S:g} s after it "
                      "exited: a process outside its process group still holds the pipe\n")
        code = child.wait()
        group.finish()
    except BaseException:
        # Our side broke (closed stdout pipe, a bug): the engine lives in its own session and would
        # outlive us, so stop it the way Ctrl-C would, then for good.
        stop_child(child, grace_s)
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        release_guardian(guardian)
    code = code if code >= 0 else 128 - code
    if group.killed:
        out.write(f"[gaudi-vl] the engine's process group was still running {grace_s:g} s after SIGTERM: "
                  "killed with SIGKILL\n")
    if code not in NORMAL_STOP and not (group.killed and code == 128 + signal.SIGKILL):
        when = "while serving" if watcher.ready else "during start-up"
        out.write(f"[gaudi-vl] engine exited {when} with code {code}; last {len(watcher.tail)} log lines:\n")
        out.writelines(watcher.tail)
        _write(out, watcher.reading(), "[gaudi-vl doctor]")
    out.flush()
    return code
