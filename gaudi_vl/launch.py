"""Edge: turn a plan into a running engine — a copy-pasteable script, or a supervised child process.

The environment comes from ``gaudi_vl.envvars.plan_env`` and the argv from
``gaudi_vl.command.server_argv``; nothing here re-derives them. Variables the plan manages but leaves
unset for this engine (``gaudi_vl.envvars.managed_names``) are removed from the inherited environment, so
the engine sees exactly the plan, in the script and in the child alike. Secrets already in the
caller's environment (tokens, keys, passwords) are inherited by the child but never printed.

Supervision (:func:`run_engine`): the child runs in its own session, so a terminal's Ctrl-C reaches
it once, through the forwarding handler (SIGINT/SIGTERM), not twice; its log is streamed line by
line; out-of-memory, recompilation and "image above the largest bucket" lines get the doctor's advice
(``gaudi_vl.doctor``, imported lazily: skipped when missing) once; a failure shows the last log
lines; the child's exit code is returned (``128 + N`` when it died of signal N, as a shell reports).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from gaudi_vl import engine_probe
from gaudi_vl.command import server_argv
from gaudi_vl.engines import EngineProfile, InstalledEngine, identify, probe_plan
from gaudi_vl.envvars import managed_names, plan_env
from gaudi_vl.errors import GaudiVLError
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


def managed_unset(plan: Plan) -> list[str]:
    """Names the plan's engine reads that the plan leaves at the engine's default: removed from the
    inherited environment so the engine sees exactly the plan."""
    env = plan_env(plan)
    return [name for name in managed_names(plan) if name not in env]


def printable_env(env: Mapping[str, str]) -> dict[str, str | None]:
    """``env`` for printing: secret-looking names map to None (their value is never shown)."""
    return {k: (None if SECRET_NAME.search(k) else v) for k, v in env.items()}


def engine_argv(plan: Plan, extra_args: Sequence[str] = (), python: str = "python") -> list[str]:
    """The plan's server command plus the user's extra engine flags (after ``--``)."""
    return [*server_argv(plan, python=python), *extra_args]


def render_script(plan: Plan, extra_args: Sequence[str] = (), python: str = "python") -> str:
    """A bash script that sets the plan's environment and ``exec``s the server command.

    Values are quoted with ``shlex``; a secret-looking variable is never printed: the script then
    requires it from the caller's environment (``${NAME:?...}``) instead.
    """
    lines = [
        "#!/usr/bin/env bash",
        f"# gaudi-vl serve: {plan.model_ref} for {plan.engine.name} (generated: re-plan, do not edit)",
        *("# note: " + " ".join(w.split()) for w in plan.all_warnings),
        "set -euo pipefail",
    ]
    unset = managed_unset(plan)
    if unset:
        lines.append("unset " + " ".join(unset))
    for name, value in printable_env(plan_env(plan)).items():
        if value is None:
            lines.append(f'export {name}="${{{name}:?set {name} (a secret: not printed)}}"')
        else:
            lines.append(f"export {name}={shlex.quote(value)}")
    lines.append("exec " + shlex.join(engine_argv(plan, extra_args, python)))
    return "\n".join(lines) + "\n"


def child_env(plan: Plan, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The engine's environment: ``base`` (default: ours) minus plan-managed unset names, plus the plan's."""
    env = dict(os.environ if base is None else base)
    for name in managed_unset(plan):
        env.pop(name, None)
    env.update(plan_env(plan))
    return env


def check_port_free(host: str, port: int) -> None:
    """Fail before launch, with a clear message, when the port is taken (the engine would die late)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise GaudiVLError(
                f"port {port} on {host or '0.0.0.0'} is not free ({exc.strerror or exc})",
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
        if report.failure and report.failure_phase:
            lines = [f"failed during {report.failure_phase.value}: {report.failure}"]
        elif report.ended_during:
            lines = [f"the log ends during {report.ended_during}"]
        else:
            lines = []
        return lines + self.new_advice()


def _write(out: TextIO, lines: Iterable[str], prefix: str) -> None:
    for line in lines:
        out.write(f"{prefix} {line}\n")
    out.flush()


def stop_child(child: subprocess.Popen[str], grace_s: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s`` seconds if the engine is still there."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run_engine(
    plan: Plan,
    extra_args: Sequence[str] = (),
    *,
    python: str = sys.executable,
    out: TextIO | None = None,
    tail_lines: int = 40,
) -> int:
    """Run the engine as a child: stream its log, forward SIGINT/SIGTERM, return its exit code."""
    out = out or sys.stdout
    check_engine_installed(plan, probe_engine(python))
    check_port_free(plan.serve.host, plan.serve.port)
    watcher = LogWatcher(plan, tail_lines)
    _write(out, plan.all_warnings, "[gaudi-vl] note:")
    child = subprocess.Popen(
        engine_argv(plan, extra_args, python), env=child_env(plan), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, bufsize=1, errors="replace",
        start_new_session=True,
    )

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert child.stdout is not None
        for line in child.stdout:
            out.write(line)
            _write(out, watcher.feed(line), "[gaudi-vl doctor]")
        code = child.wait()
    except BaseException:
        # Our side broke (closed stdout pipe, a bug): the engine lives in its own session and would
        # outlive us, so stop it the way Ctrl-C would, then for good.
        stop_child(child)
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    code = code if code >= 0 else 128 - code
    if code not in NORMAL_STOP:
        when = "while serving" if watcher.ready else "during start-up"
        out.write(f"[gaudi-vl] engine exited {when} with code {code}; last {len(watcher.tail)} log lines:\n")
        out.writelines(watcher.tail)
        _write(out, watcher.reading(), "[gaudi-vl doctor]")
    out.flush()
    return code
