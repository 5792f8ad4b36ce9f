"""``gaudi-vl serve``: the dry-run script really runs, and the supervisor forwards signals and codes.

The engine is replaced by a stand-in interpreter (``--python``) that prints what it was given or
behaves like a dying engine; the code under test (script rendering, env, argv, supervision) is real.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gaudi_vl.cli.plan import add_plan_arguments, plan_from_args
from gaudi_vl.command import server_argv
from gaudi_vl.envvars import plan_env

SERVE = [sys.executable, "-m", "gaudi_vl", "serve"]
PLAN_ARGS = ["qwen2.5-vl-7b", "--min-pixels", "401408", "--max-pixels", "1003520", "--host", "127.0.0.1"]


def standin(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "fake-python"
    exe.write_text(f"#!{sys.executable}\nimport json, os, signal, sys, time\n{body}\n")
    exe.chmod(0o755)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected_plan(port: int):  # noqa: ANN201
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("model_pos", nargs="?")
    add_plan_arguments(parser)
    args = parser.parse_args([*PLAN_ARGS[1:], "--model", PLAN_ARGS[0], "--port", str(port)])
    return plan_from_args(args)


def test_dry_run_script_runs_and_passes_env_and_argv(tmp_path: Path) -> None:
    port = free_port()
    exe = standin(tmp_path, "print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}))")
    script = subprocess.run(
        [*SERVE, *PLAN_ARGS, "--port", str(port), "--dry-run", "--python", str(exe), "--", "--enforce-eager"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ran = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, env={"PATH": os.environ["PATH"]}
    )
    seen = json.loads(ran.stdout)
    plan = expected_plan(port)
    env = plan_env(plan)
    assert {k: seen["env"].get(k) for k in env} == env
    assert seen["argv"] == [*server_argv(plan)[1:], "--enforce-eager"]


def test_sigterm_is_forwarded_and_exit_code_returned(tmp_path: Path) -> None:
    exe = standin(
        tmp_path,
        (
            "signal.signal(signal.SIGTERM, lambda *a: (print('engine got TERM', flush=True), sys.exit(0)))\n"
            "print('engine ready', flush=True)\n"
            "time.sleep(60)\n"
        ),
    )
    proc = subprocess.Popen(
        [*SERVE, *PLAN_ARGS, "--port", str(free_port()), "--python", str(exe)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "engine ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert "engine got TERM" in out
    assert proc.returncode == 0


def test_failing_engine_gets_its_tail_and_the_doctor(tmp_path: Path) -> None:
    oom = (
        "RuntimeError: [Rank:0] FATAL ERROR :: MODULE:PT_DEVMEM Allocation failed for size::939524096 (896)MB"
    )
    exe = standin(tmp_path, f"print('loading weights', flush=True)\nprint({oom!r}, flush=True)\nsys.exit(3)")
    result = subprocess.run(
        [*SERVE, *PLAN_ARGS, "--port", str(free_port()), "--python", str(exe)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "[gaudi-vl doctor]" in result.stdout
    assert "engine exited with code 3" in result.stdout
    assert result.stdout.count(oom) == 2  # streamed once, then shown again in the tail


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    exe = standin(tmp_path, "print('should not start')")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*SERVE, *PLAN_ARGS, "--port", str(port), "--python", str(exe)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert "already in use" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "should not start" not in result.stdout


def test_missing_engine_says_how_to_install() -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    result = subprocess.run(
        [*SERVE, *PLAN_ARGS, "--target", "vllm"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "pip install vllm" in result.stderr
