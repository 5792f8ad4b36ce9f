"""``gaudi-vl serve``: the dry-run script really runs, and the supervisor forwards signals and codes.

The engine is replaced by a stand-in interpreter (``--python``) that prints what it was given or
behaves like a dying engine; the code under test (script rendering, env, argv, supervision, the
engine and port checks) is real. The stand-in answers the engine probe (``python -c PROBE JSON``,
``gaudi_vl.engine_probe``) the way an interpreter with a given engine installed answers it (built from
that engine profile's fingerprint), or like one with no engine at all.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standin import probe_answer

from gaudi_vl.cli.plan import add_plan_arguments, plan_from_args
from gaudi_vl.command import server_argv
from gaudi_vl.engines import DEFAULT_PROFILE, get_profile
from gaudi_vl.envvars import plan_env
from gaudi_vl.launch import SECRET_NAME, managed_unset, printable_env, render_script
from gaudi_vl.plan import Plan

SERVE = [sys.executable, "-m", "gaudi_vl", "serve"]
PLAN_ARGS = ["qwen2.5-vl-7b", "--min-pixels", "401408", "--max-pixels", "1003520", "--host", "127.0.0.1"]


HAS_ENGINE = probe_answer(DEFAULT_PROFILE)


def standin(tmp_path: Path, body: str, probe: str = HAS_ENGINE) -> Path:
    exe = tmp_path / "fake-python"
    exe.write_text(f"#!{sys.executable}\nimport json, os, signal, sys, time\n{probe}{body}\n")
    exe.chmod(0o755)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected_plan(port: int, *extra: str) -> Plan:
    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    args = parser.parse_args([*PLAN_ARGS[1:], "--model", PLAN_ARGS[0], "--port", str(port), *extra])
    return plan_from_args(args)[0]


def dry_run(exe: Path, port: int, *extra: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        [*SERVE, *PLAN_ARGS, "--port", str(port), *extra, "--dry-run", "--python", str(exe),
         "--", "--enforce-eager", "--served-model-name", "a b'c"],
        capture_output=True, text=True, check=True, env=env,
    ).stdout


@pytest.mark.parametrize("target", ["vllm-fork", "vllm-gaudi", "vllm"])
def test_dry_run_script_runs_and_passes_env_and_argv(tmp_path: Path, target: str) -> None:
    port = free_port()
    exe = standin(tmp_path, "print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}))")
    script = dry_run(exe, port, "--target", target)
    assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script
    plan = expected_plan(port, "--target", target)
    stale = {name: "stale" for name in managed_unset(plan)}  # set in the caller's shell, not in the plan
    ran = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True,
        env={"PATH": os.environ["PATH"], **stale},
    )
    seen = json.loads(ran.stdout)
    env = plan_env(plan)
    assert {k: seen["env"].get(k) for k in env} == env
    assert not set(stale) & set(seen["env"]), "plan-managed variables the plan leaves unset must be unset"
    assert seen["argv"] == [*server_argv(plan)[1:], "--enforce-eager", "--served-model-name", "a b'c"]


def test_script_is_the_same_file_bash_runs(tmp_path: Path) -> None:
    """Saved to a file and executed (the documented use: --dry-run > serve.sh)."""
    exe = standin(tmp_path, "print(' '.join(sys.argv[1:3]))")
    path = tmp_path / "serve.sh"
    path.write_text(dry_run(exe, free_port()))
    path.chmod(0o755)
    ran = subprocess.run([str(path)], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "-m vllm.entrypoints.openai.api_server"


def test_secrets_never_printed(tmp_path: Path) -> None:
    exe = standin(tmp_path, "print('x')")
    env = {**os.environ, "HF_TOKEN": "hf_supersecret", "AWS_SECRET_ACCESS_KEY": "topsecret"}
    script = dry_run(exe, free_port(), env=env)
    assert "supersecret" not in script and "topsecret" not in script
    shown = printable_env({"HF_TOKEN": "a", "MY_API_KEY": "b", "db_password": "c", "VLLM_FP32_SOFTMAX": "1"})
    assert shown == {"HF_TOKEN": None, "MY_API_KEY": None, "db_password": None, "VLLM_FP32_SOFTMAX": "1"}
    plan = expected_plan(free_port())
    assert not [k for k in plan_env(plan) if SECRET_NAME.search(k)]
    assert render_script(plan).count("export ") == len(plan_env(plan))


def start_serve(exe: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SERVE, *PLAN_ARGS, "--port", str(free_port()), "--python", str(exe), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def read_until(proc: subprocess.Popen[str], text: str, timeout: float = 30.0) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"serve ended before {text!r}")
        if line.strip() == text:
            return
    pytest.fail(f"no {text!r} within {timeout} s")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_is_forwarded_and_exit_code_returned(tmp_path: Path, sig: signal.Signals) -> None:
    exe = standin(
        tmp_path,
        "def stop(n, _f):\n"
        "    print(f'engine got {signal.Signals(n).name}', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('engine ready', flush=True)\n"
        "time.sleep(60)\n",
    )
    proc = start_serve(exe)
    read_until(proc, "engine ready")
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert f"engine got {sig.name}" in out
    assert out.count("engine got") == 1, "forwarded exactly once"
    assert proc.returncode == 0


def test_engine_killed_by_a_signal_is_reported_like_a_shell(tmp_path: Path) -> None:
    exe = standin(tmp_path, "print('Application startup complete.', flush=True)\nos.kill(os.getpid(), 9)")
    proc = start_serve(exe)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + 9
    assert "engine exited while serving with code 137" in out


def test_failing_engine_gets_its_tail_and_the_doctor(tmp_path: Path) -> None:
    oom = (
        "RuntimeError: [Rank:0] FATAL ERROR :: MODULE:PT_DEVMEM Allocation failed for size::939524096 (896)MB"
    )
    exe = standin(tmp_path, f"print('loading weights', flush=True)\nprint({oom!r}, flush=True)\nsys.exit(3)")
    result = subprocess.run(
        [*SERVE, *PLAN_ARGS, "--port", str(free_port()), "--python", str(exe)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 3
    assert "engine exited during start-up with code 3" in result.stdout
    assert result.stdout.count(oom) == 2  # streamed once, then shown again in the tail
    advice = [line for line in result.stdout.splitlines() if line.startswith("[gaudi-vl doctor]")]
    assert advice and len(advice) == len(set(advice)), "each piece of advice once"


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    exe = standin(tmp_path, "print('should not start')")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*SERVE, *PLAN_ARGS, "--port", str(port), "--python", str(exe)],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is not free" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "should not start" not in result.stdout


@pytest.mark.parametrize(
    ("target", "hint"),
    [("vllm", "pip install vllm"), ("vllm-gaudi", "vllm-gaudi"), ("vllm-fork", "requirements-hpu.txt")],
)
def test_missing_engine_says_how_to_install(tmp_path: Path, target: str, hint: str) -> None:
    exe = standin(tmp_path, "print('should not start')", probe=probe_answer(None))
    result = subprocess.run(
        [*SERVE, *PLAN_ARGS, "--target", target, "--port", str(free_port()), "--python", str(exe)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "no vLLM engine importable" in result.stderr and hint in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("installed", ["vllm-gaudi", "vllm-fork", "vllm"])
def test_serve_picks_the_installed_engine_or_refuses_a_mismatch(tmp_path: Path, installed: str) -> None:
    engine = get_profile(installed)
    exe = standin(tmp_path, "print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}), flush=True)",
                  probe=probe_answer(engine))
    port = free_port()
    picked = subprocess.run([*SERVE, *PLAN_ARGS, "--port", str(port), "--python", str(exe)],
                            capture_output=True, text=True, timeout=60)
    assert picked.returncode == 0, picked.stderr
    seen = json.loads(next(line for line in picked.stdout.splitlines() if line.startswith("{")))
    plan = expected_plan(port, "--target", installed)
    assert {k: seen["env"].get(k) for k in plan_env(plan)} == plan_env(plan)
    assert seen["argv"] == server_argv(plan)[1:]
    clash = subprocess.run([*SERVE, *PLAN_ARGS, "--target", "vllm-fork-1.21", "--port", str(port),
                            "--python", str(exe)], capture_output=True, text=True, timeout=60)
    assert clash.returncode == 2 and len(clash.stderr.strip().splitlines()) == 1
    assert f"pass --target {installed}" in clash.stderr


def test_unknown_model_folder(tmp_path: Path) -> None:
    result = subprocess.run([*SERVE, str(tmp_path / "nope"), "--dry-run"], capture_output=True, text=True)
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_plan_file_round_trip_and_conflicts(tmp_path: Path) -> None:
    port = free_port()
    saved = tmp_path / "plan.json"
    subprocess.run(
        [sys.executable, "-m", "gaudi_vl", "plan", *PLAN_ARGS[1:], "--model", PLAN_ARGS[0],
         "--port", str(port), "--json", "-o", str(saved)],
        check=True,
    )
    exe = standin(tmp_path, "print('x')")
    from_file = subprocess.run(
        [*SERVE, "--plan", str(saved), "--dry-run", "--python", str(exe), "--", "--enforce-eager",
         "--served-model-name", "a b'c"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert from_file == dry_run(exe, port)  # byte for byte
    clash = subprocess.run(
        [*SERVE, "--plan", str(saved), "--port", str(port + 1), "--tp", "2", "--dry-run"],
        capture_output=True, text=True,
    )
    assert clash.returncode == 2 and len(clash.stderr.strip().splitlines()) == 1
    assert "--port" in clash.stderr and "--tensor-parallel-size" in clash.stderr
    for extra in (["--strategy", "exp"], ["--device", "gaudi3"], ["--port", str(port)]):
        shaped = subprocess.run([*SERVE, "--plan", str(saved), *extra, "--dry-run"], capture_output=True,
                                text=True)
        assert shaped.returncode == 2 and "served as written" in shaped.stderr
    model = subprocess.run([*SERVE, "qwen2.5-vl-3b", "--model", "qwen2.5-vl-7b", "--dry-run"],
                           capture_output=True, text=True)
    assert model.returncode == 2 and "give the model once" in model.stderr


def test_engine_stopped_when_our_stdout_closes(tmp_path: Path) -> None:
    """``gaudi-vl serve | head -1``: the engine (in its own session) must not outlive serve."""
    pid_file = tmp_path / "engine.pid"
    exe = standin(
        tmp_path,
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "for _ in range(1200):\n"
        "    try:\n"
        "        print('tick', flush=True)\n"
        "    except OSError:\n"
        "        pass  # an engine that survives a broken log pipe\n"
        "    time.sleep(0.05)\n",
    )
    proc = start_serve(exe)
    assert proc.stdout is not None
    read_until(proc, "tick")  # the engine runs (serve's own notes come first)
    proc.stdout.close()  # the reader goes away; serve's next write fails
    proc.wait(timeout=60)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail("the engine outlived gaudi-vl serve")
