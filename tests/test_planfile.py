"""The plan file: loads back as itself, refuses what it does not know, and is served as written.

Also: every planned setting reaches the engine (argv or environment), and the settings' one
declaration drives the command line and the file alike.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.assembly import PlanRequest, assemble
from gaudi_vl.buckets.planner import Strategy
from gaudi_vl.command import server_argv
from gaudi_vl.engines import NAMES, Setting, get_profile
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.exporters import format_json
from gaudi_vl.models import builtin_model
from gaudi_vl.planfile import plan_from_dict, plan_to_dict
from gaudi_vl.settings import SERVE_FIELDS, ServeSettings, spec_of

M7 = builtin_model("qwen2.5-vl-7b")


def make(**serve: object):  # noqa: ANN201 - a Plan
    plan, _ = assemble(
        PlanRequest(M7, ServeSettings(**serve), min_pixels=401408, max_pixels=2458624, max_aspect=20.0)
    )
    return plan


@settings(max_examples=30, deadline=None)
@given(
    target=st.sampled_from(NAMES),
    device=st.sampled_from(["gaudi2", "gaudi3"]),
    tp=st.sampled_from([1, 2, 4]),
    fp32=st.sampled_from([None, False, True]),
    kv=st.sampled_from(["auto", "fp8"]),
    eager=st.booleans(),
    strategy=st.sampled_from([Strategy.DEFAULT, Strategy.EXP]),
    max_len=st.sampled_from([4096, 32768]),
)
def test_a_plan_file_loads_back_as_itself(
    target: str,
    device: str,
    tp: int,
    fp32: bool | None,
    kv: str,
    eager: bool,
    strategy: Strategy,
    max_len: int,
) -> None:
    serve = ServeSettings(
        target=target,
        device=device,
        tensor_parallel_size=tp,
        fp32_softmax_vision=fp32,
        kv_dtype=kv,
        enforce_eager=eager,
        max_model_len=max_len,
    )
    plan, _ = assemble(PlanRequest(M7, serve, min_pixels=401408, strategy=strategy))
    text = format_json(plan)
    again = plan_from_dict(json.loads(text))
    assert again == plan
    assert format_json(again) == text  # byte for byte


def test_every_planned_setting_reaches_the_engine() -> None:
    plan = make(
        target="vllm-fork-1.21",
        kv_dtype="fp8",
        enforce_eager=True,
        images_per_prompt=3,
        port=8123,
        host="127.0.0.1",
        tensor_parallel_size=2,
        max_model_len=8192,
        max_num_batched_tokens=16384,  # the fork (V0) refuses fewer than max_model_len
        fp32_softmax=True,
        fp32_softmax_vision=False,
        skip_warmup=True,
    )
    argv, env = server_argv(plan), plan_env(plan)
    flag = {argv[i]: argv[i + 1] for i in range(3, len(argv) - 1) if argv[i].startswith("--")}
    assert plan.memory is not None
    assert flag["--gpu-memory-utilization"] == f"{plan.memory.gpu_memory_utilization:.4g}"
    assert flag["--max-num-seqs"] == str(plan.memory.max_num_seqs)
    assert flag["--kv-cache-dtype"] == "fp8_inc"
    assert "--enforce-eager" in argv
    assert flag["--tensor-parallel-size"] == "2" and flag["--max-model-len"] == "8192"
    assert flag["--max-num-batched-tokens"] == "16384"
    assert flag["--port"] == "8123" and flag["--host"] == "127.0.0.1"
    assert json.loads(flag["--limit-mm-per-prompt"]) == {"image": 3}
    assert json.loads(flag["--mm-processor-kwargs"]) == {"min_pixels": 401408, "max_pixels": 2458624}
    assert flag["--block-size"] == str(get_profile("vllm-fork-1.21").block_size)
    assert env["VLLM_MULTIMODAL_BUCKETS"] == plan.buckets.env_value
    assert env["VLLM_GRAPH_RESERVED_MEM"] == "0"  # enforce_eager: no graph memory
    assert env["VLLM_FP32_SOFTMAX"] == "true" and env["VLLM_FP32_SOFTMAX_VISION"] == "false"
    assert env["VLLM_SKIP_WARMUP"] == "true" and env["GAUDI_VL_ALIGN"] == "1"


def test_multimodal_ratio_is_the_vision_share_of_prompt_graph_memory() -> None:
    """vllm-fork aice/v1.21.0 gives ``ratio * prompt share`` to the vision graphs
    (hpu_model_runner.py:2638-2650@277a33cd): the planned shares must hold the planned vision graphs."""
    plan = make(target="vllm-fork-1.21")
    m = plan.memory
    assert m is not None and m.vision_graph_bytes > 0
    graph_memory = m.graph_reserve_bytes
    vision_share = graph_memory * m.graph_prompt_ratio * m.graph_multimodal_ratio
    text_prompt_share = graph_memory * m.graph_prompt_ratio * (1 - m.graph_multimodal_ratio)
    assert vision_share >= m.vision_graph_bytes
    assert text_prompt_share > 0


# ---------------------------------------------------------------- strict reading

BASE = plan_to_dict(make())


def _broken(path: tuple[str, ...], value: object) -> dict:
    data = copy.deepcopy(BASE)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("serve", "tensor_parallel_size"), "2", "--tp: expected an integer"),
        (("serve", "port"), "8000", "--port: expected an integer"),
        (("serve", "host"), 7, "--host: expected text"),
        (("serve", "fp32_softmax"), "false", "--fp32-softmax: expected true or false"),
        (("serve", "max_model_len"), 1.5, "--max-model-len: expected an integer"),
        (("serve", "max_model_len"), True, "--max-model-len: expected an integer"),
        (("serve", "target"), "vllm-fork-9", "--target: expected one of"),
        (("serve", "gpu_memory_utilization"), float("nan"), "--gpu-memory-utilization"),
        (("serve", "surprise"), 1, "unknown key(s) 'surprise'"),
        (("surprise",), 1, "unknown key(s) 'surprise'"),
        (("memory", "gpu_memory_utilization"), "0.9", "memory.gpu_memory_utilization must be a number"),
        (("memory", "kv_tokens"), 1, "memory.kv_tokens is 1"),
        (("model", "spec", "text", "tie_word_embeddings"), "false", "must be true or false"),
        (("buckets",), [2048, 3000], "not a positive multiple of 64"),
        (("buckets",), [9223372036854775808], "above"),
        (("env", "VLLM_GRAPH_RESERVED_MEM"), "0.5", "env.VLLM_GRAPH_RESERVED_MEM is '0.5'"),
        (("command",), ["python"], "command is"),
        (("version",), 2, "version 2 is not 1"),
        (("format",), "something", "not a gaudi-vl plan"),
        (("resolutions",), ["12x"], "resolution '12x'"),
    ],
)
def test_wrong_files_are_refused_with_one_line_naming_the_key(
    path: tuple[str, ...], value: object, message: str
) -> None:
    with pytest.raises(GaudiVLError) as err:
        plan_from_dict(_broken(path, value))
    line = err.value.one_line()
    assert message in line and "\n" not in line


def test_serve_refuses_a_broken_file_in_one_line(tmp_path: Path) -> None:
    cases = {
        "edited.json": json.dumps(_broken(("env", "VLLM_GRAPH_RESERVED_MEM"), "0.5")),
        "string_tp.json": json.dumps(_broken(("serve", "tensor_parallel_size"), "2")),
        "not_json.json": "{",
        "deep.json": "[" * 100000 + "]" * 100000,
        "list.json": "[]",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        r = subprocess.run(
            [sys.executable, "-m", "gaudi_vl", "serve", "--plan", str(path), "--dry-run"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2, (name, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, (name, r.stderr)
        assert r.stdout == ""


def test_serve_dry_run_shows_the_memory_variables() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "gaudi_vl", "serve", "qwen2.5-vl-7b", "--min-pixels", "401408", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    engine = get_profile("vllm-fork-1.21")
    for setting in (Setting.GRAPH_RESERVED_MEM, Setting.GRAPH_PROMPT_RATIO, Setting.GRAPH_MULTIMODAL_RATIO):
        var = engine.variable(setting)
        assert var is not None and f"export {var.name}=" in r.stdout
    assert "--gpu-memory-utilization" in r.stdout and "--max-num-seqs" in r.stdout


# ---------------------------------------------------------------- the one declaration


def test_every_setting_has_one_flag_and_a_help_and_appears_in_the_cli_help() -> None:
    text = subprocess.run(
        [sys.executable, "-m", "gaudi_vl", "plan", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    flags = [spec_of(f).flag for f in SERVE_FIELDS]
    assert len(flags) == len(set(flags)) == len(fields(ServeSettings))
    for f in SERVE_FIELDS:
        spec = spec_of(f)
        assert spec.help
        assert (spec.negative_flag if f.default is True and spec.negative_flag else spec.flag) in text


@pytest.mark.parametrize("field", SERVE_FIELDS, ids=lambda f: f.name)
def test_bounds_from_the_declaration_hold_on_the_cli_and_in_the_file(field) -> None:  # noqa: ANN001
    spec = spec_of(field)
    bad: object
    if spec.choices:
        bad = "no-such-choice"
    elif spec.kind is int:
        bad = int(spec.maximum) + 1 if spec.maximum is not None else -1
    elif spec.kind is float:
        bad = 1.5
    elif spec.kind is bool:
        bad = "yes"
    else:
        bad = "bad host\n"
    with pytest.raises(GaudiVLError, match=spec.flag):
        ServeSettings.from_dict({field.name: bad})
    if spec.kind is not bool:
        r = subprocess.run(
            [sys.executable, "-m", "gaudi_vl", "plan", spec.flag, str(bad)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
