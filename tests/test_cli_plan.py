"""``gaudi-vl plan`` end to end: the installed console script, its formats and its errors."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.buckets import Strategy, plan_buckets
from gaudi_vl.engines import NAMES, PROFILES, Setting
from gaudi_vl.envvars import plan_env
from gaudi_vl.exporters import format_dotenv, format_env
from gaudi_vl.geometry import PixelRange
from gaudi_vl.models import builtin_model
from gaudi_vl.plan import build_plan
from gaudi_vl.settings import ServeSettings

GAUDI_VL = [sys.executable, "-m", "gaudi_vl"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAUDI_VL, *args], capture_output=True, text=True, timeout=120)


def test_seed_example_json() -> None:
    result = run("plan", "--min-pixels", "401408", "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    buckets = plan["buckets"]
    assert buckets[0] == 2048
    assert all(b % 64 == 0 for b in buckets)
    assert all(a < b for a, b in zip(buckets, buckets[1:], strict=False))
    assert plan["env"]["VLLM_MULTIMODAL_BUCKETS"] == ",".join(map(str, buckets))
    assert plan["command"][:3] == ["python", "-m", "vllm.entrypoints.openai.api_server"]
    kwargs = json.loads(plan["command"][plan["command"].index("--mm-processor-kwargs") + 1])
    assert kwargs["min_pixels"] == 401408


def test_console_script_is_installed() -> None:
    exe = shutil.which("gaudi-vl", path=str(Path(sys.executable).parent))
    assert exe, "gaudi-vl console script missing: install the package (pip install -e .)"
    result = subprocess.run(
        [exe, "plan", "--min-pixels", "401408"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "VLLM_MULTIMODAL_BUCKETS=2048," in result.stdout


def _shell_env(script: str, names: list[str]) -> dict[str, str]:
    probe = script + "".join(f'printf "%s\\0%s\\0" {n} "${{{n}}}"\n' for n in names)
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    parts = out.split("\0")[:-1]
    return dict(zip(parts[::2], parts[1::2], strict=False))


@settings(max_examples=25, deadline=None)
@given(
    lo=st.integers(1, 2_000_000),
    span=st.integers(12544, 14_000_000),
    strategy=st.sampled_from([Strategy.DEFAULT, Strategy.EXP]),
    target=st.sampled_from(NAMES),
    fp32=st.sampled_from([None, False, True]),
)
def test_env_round_trips_through_a_shell(
    lo: int, span: int, strategy: Strategy, target: str, fp32: bool | None
) -> None:
    pr = PixelRange(lo, lo + span)
    plan = build_plan(
        builtin_model("qwen2.5-vl-7b"),
        plan_buckets(pr, strategy),
        serve=ServeSettings(target=target, fp32_softmax_vision=fp32),
    )
    env = plan_env(plan)
    assert _shell_env(format_env(plan), list(env)) == env
    assert _shell_env("set -a\n. /dev/stdin <<'EOF'\n" + format_dotenv(plan) + "EOF\n", list(env)) == env


def test_eval_form_from_the_cli() -> None:
    script = (
        'eval "$(' + shlex.join([*GAUDI_VL, "plan", "--min-pixels", "401408", "--format", "env"]) + ')"\n'
    )
    got = _shell_env(script, ["VLLM_MULTIMODAL_BUCKETS", "GAUDI_VL_ALIGN"])
    plan = json.loads(run("plan", "--min-pixels", "401408", "--json").stdout)
    assert got == {k: plan["env"][k] for k in got}


def test_docker_and_k8s_formats_carry_the_same_env() -> None:
    env = json.loads(run("plan", "--min-pixels", "401408", "--json").stdout)["env"]
    docker = shlex.split(
        run("plan", "--min-pixels", "401408", "--format", "docker").stdout.replace("\\\n", " ")
    )
    assert docker[::2] == ["-e"] * len(env)
    assert dict(item.split("=", 1) for item in docker[1::2]) == env
    yaml = pytest.importorskip("yaml")
    docs = yaml.safe_load_all(run("plan", "--min-pixels", "401408", "--format", "k8s").stdout)
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    k8s_env = {e["name"]: e["value"] for e in container["env"]}
    assert {k: k8s_env[k] for k in env} == env  # the plan's, then the Habana runtime's (tests/test_k8s.py)


def test_user_buckets_and_strategies_from_the_cli() -> None:
    result = run(
        "plan",
        "--min-pixels",
        "401408",
        "--max-pixels",
        "1003520",
        "--max-aspect",
        "4",
        "--buckets",
        " 2048, 3136,5120",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["buckets"] == [2048, 3136, 5120]
    result = run("plan", "--min-pixels", "401408", "--strategy", "linear", "--step", "1024", "--json")
    buckets = json.loads(result.stdout)["buckets"]
    assert buckets[:3] == [2048, 3072, 4096]


def test_output_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    assert run("plan", "--min-pixels", "401408", "--json", "-o", str(target)).returncode == 0
    assert json.loads(target.read_text())["buckets"][0] == 2048
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


@pytest.mark.parametrize(
    "args",
    [
        ["--min-pixels", "-5"],
        ["--min-pixels", "abc"],
        ["--min-pixels", "2000000", "--max-pixels", "1000000"],
        ["--max-pixels", "10000"],
        ["--model", "qwen-unknown"],
        ["--model", "./no/such/folder"],
        ["--buckets", "2048,3000"],
        ["--buckets", "2048,2048,65536"],
        ["--buckets", "2048,x"],
        ["--buckets", "2048,4096", "--min-pixels", "401408"],
        ["--strategy", "linear", "--step", "100"],
        ["--gpu-memory-utilization", "1.5"],
        ["--max-aspect", "500"],
        ["--buckets", ""],
        ["--buckets", "2048,,4096"],
        ["--buckets", "9223372036854775808"],
        ["--count", "4"],
        ["--step", "1024", "--strategy", "exp"],
        ["--target", "vllm-fork-9"],
        ["--tp", "1.5"],
        ["--port", "0"],
        ["--host", "a b"],
        ["--kv-dtype", "int4"],
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "never.json"
    result = run("plan", *args, "-o", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_model_folder_without_config(tmp_path: Path) -> None:
    result = run("plan", "--model", str(tmp_path))
    assert result.returncode == 2
    assert "config.json" in result.stderr


def test_help_teaches_the_units() -> None:
    text = run("plan", "--help").stdout
    assert "patches" in text and "401408" in text


# --- what a plan exports, per engine profile -----------------------------------------------------------

@pytest.mark.parametrize("engine", PROFILES, ids=lambda e: e.name)
@pytest.mark.parametrize("fp32", [None, False, True])
def test_exports_only_what_the_engine_reads_and_fp32_only_when_asked(engine, fp32: bool | None) -> None:  # noqa: ANN001
    plan = build_plan(
        builtin_model("qwen2.5-vl-7b"),
        plan_buckets(PixelRange(401408, 1003520), Strategy.DEFAULT, engine=engine),
        serve=ServeSettings(target=engine.name, fp32_softmax=fp32, fp32_softmax_vision=fp32),
    )
    env = plan_env(plan)
    assert set(env) - {"GAUDI_VL_ALIGN"} <= set(engine.variable_names)
    for setting in (Setting.FP32_SOFTMAX, Setting.FP32_SOFTMAX_VISION):
        var = engine.variable(setting)
        if var is None:
            continue
        if fp32 is None:
            assert var.name not in env  # the engine's own default stays in force
        else:
            assert env[var.name] == ("true" if fp32 else "false")


def test_default_plan_never_turns_off_vllm_gaudis_fp32_softmax() -> None:
    env = json.loads(run("plan", "--min-pixels", "401408", "--target", "vllm-gaudi", "--json").stdout)["env"]
    assert "VLLM_FP32_SOFTMAX" not in env and "VLLM_FP32_SOFTMAX_VISION" not in env
    table = run("plan", "--min-pixels", "401408", "--target", "vllm-gaudi").stdout
    assert "VLLM_FP32_SOFTMAX=true" in table  # said as a default left in force


def test_graph_ratios_only_for_the_engine_that_reads_them() -> None:
    for target, expected in (("vllm-fork-1.21", True), ("vllm-fork", False), ("vllm-gaudi", False)):
        env = json.loads(run("plan", "--min-pixels", "401408", "--target", target, "--json").stdout)["env"]
        assert ("VLLM_GRAPH_PROMPT_RATIO" in env) is expected
        assert ("VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO" in env) is expected


def test_help_names_every_engine_profile() -> None:
    text = run("plan", "--help").stdout
    assert all(name in text for name in NAMES)
