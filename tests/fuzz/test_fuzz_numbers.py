"""Issue 19, class "numbers": tiny, huge, 1e308, inf, nan, -0.0 and friends wherever a number enters
(flags, plan files, ``transforms.json`` sidecars), and the numbers an engine refuses at start-up.

Each property has an oracle written here, independently of the code under test: a value is accepted
exactly when it is a number of the declared kind inside the declared bounds (``gaudi_vl.settings``),
and every plan gaudi-vl prints is one its engine starts with (the engines' own scheduler rules,
quoted below). In-process tests run the default hypothesis profile (dev 60, ci 200 examples); the
CLI ones ``hostile.fuzz``'s (one process each).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hostile import assert_contract, dumps, fuzz, run_cli, sandbox
from hypothesis import example, given
from hypothesis import strategies as st

from gaudi_vl.cli import build_parser
from gaudi_vl.cli.plan import plan_from_args
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.planfile import plan_from_dict
from gaudi_vl.settings import MEMORY_SPECS, SERVE_FIELDS, spec_of

HOSTILE_FLOATS = [
    0.0, -0.0, 5e-324, 1e-308, 1e-30, 1e308, -1e308, math.inf, -math.inf, math.nan, 0.5, 1.0, 1.5,
]
HOSTILE_INTS = [0, -1, 1, 2**31, 2**53 + 1, 2**63, 10**30, -(10**30), 10**400]


def hostile_json_numbers() -> st.SearchStrategy[Any]:
    """What a careless tool writes where a number belongs (JSON, NaN and Infinity as bare words)."""
    return st.one_of(
        st.sampled_from(HOSTILE_FLOATS + HOSTILE_INTS + [True, False, None, "1", "1e308", ""]),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def hostile_number_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["1e308", "-1e308", "1e-308", "5e-324", "inf", "-inf", "nan", "-0.0", "-0", "0",
                         "1e999", "0x10", "1_000", " 7 ", "9" * 30, "0.0000001", "1.0", "2.5"]),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**25), 10**25).map(str),
    )


def accepted(kind: type, low: float | None, high: float | None, open_low: bool, value: Any) -> bool:
    """The oracle: a JSON value of the declared kind (bool is not a number, 1.0 is not an integer),
    finite, inside the bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind is int and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if kind is float and isinstance(value, int) and abs(value) > 2**1023:
        return False  # not a float at all
    if low is not None and (value <= low if open_low else value < low):
        return False
    return high is None or value <= high


@functools.cache
def saved_plan(target: str = "vllm-fork-1.21") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        r = run_cli(["plan", "--min-pixels", "401408", "--target", target, "--json"], Path(folder))
        assert r.rc == 0, r.stderr
        return json.loads(r.stdout)


# --- the plan file's memory section and version (in-process: the reader is pure) --------------------


@given(name=st.sampled_from(sorted(MEMORY_SPECS)), value=hostile_json_numbers())
@example(name="max_num_seqs", value=-5)
@example(name="gpu_memory_utilization", value=1e-308)
@example(name="graph_prompt_ratio", value=1e308)
@example(name="max_model_len", value=math.inf)
@example(name="hbm_bytes", value=10**400)
def test_memory_section_values_outside_their_declaration_are_refused(name: str, value: Any) -> None:
    spec = MEMORY_SPECS[name]
    if spec.kind is str:
        return
    doc = copy.deepcopy(saved_plan())
    doc["memory"][name] = value
    try:
        plan_from_dict(json.loads(dumps(doc)))
    except GaudiVLError as exc:
        assert "\n" not in exc.one_line()
        if not accepted(spec.kind, spec.minimum, spec.maximum, spec.open_minimum, value):
            assert f"memory.{name}" in exc.message, exc.message
        return
    assert accepted(spec.kind, spec.minimum, spec.maximum, spec.open_minimum, value), (name, value)


@pytest.mark.parametrize("version", [1.0, True, "1", 2, 0, None, 1e308, math.nan])
def test_plan_version_is_the_integer_one(version: Any) -> None:
    doc = copy.deepcopy(saved_plan())
    doc["version"] = version
    with pytest.raises(GaudiVLError, match="version"):
        plan_from_dict(json.loads(dumps(doc)))


# --- serving flags (CLI) ---------------------------------------------------------------------------

NUMERIC_SETTINGS = [
    spec_of(f) for f in SERVE_FIELDS if spec_of(f).kind in (int, float) and spec_of(f).parse is None
]


def flag_accepts(kind: type, low: float, high: float, open_low: bool, text: str) -> bool:
    """The oracle for command-line text: a whole number (digits only) or a finite float."""
    if kind is int:
        if not re.fullmatch(r"\s*[+-]?\d{1,19}\s*", text):
            return False
        value: float = int(text)
    else:
        try:
            value = float(text)
        except ValueError:
            return False
    return accepted(kind, low, high, open_low, value)


@fuzz
@given(spec=st.sampled_from(NUMERIC_SETTINGS), text=hostile_number_text())
@example(spec=next(s for s in NUMERIC_SETTINGS if s.flag == "--gpu-memory-utilization"), text="1e-308")
def test_numeric_flags_take_finite_numbers_in_their_bounds(spec: Any, text: str) -> None:
    with sandbox() as box:
        r = run_cli(["plan", f"{spec.flag}={text}", "--format", "env"], box)
    assert_contract(r)
    if not flag_accepts(spec.kind, spec.minimum, spec.maximum, spec.open_minimum, text):
        assert r.rc == 2 and spec.flag in r.stderr, (text, r.rc, r.stderr)
    assert "Warning" not in r.stderr and "overflow" not in r.stderr.lower()


# --- what the engine refuses at start-up (in-process planning) ---------------------------------------


def engine_starts(target: str, argv: list[str]) -> bool:
    """The engines' scheduler rules, restated from their source (not from gaudi-vl's profiles):
    vLLM V0 (vllm-fork, both branches) runs multimodal models without chunked prefill
    (vllm/engine/arg_utils.py:1427-1430@277a33cd) and refuses max_num_batched_tokens < max_model_len
    or < max_num_seqs (vllm/config.py:2100-2115@277a33cd); vLLM V1 (vllm-gaudi, upstream) chunks
    prefills and refuses max_num_batched_tokens < max_num_seqs (vllm/config/scheduler.py:328)."""
    flag = {argv[i]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}
    batched, seqs, length = (int(flag[k]) for k in ("--max-num-batched-tokens", "--max-num-seqs",
                                                     "--max-model-len"))
    if target.startswith("vllm-fork") and batched < length:
        return False
    return batched >= seqs


@given(
    target=st.sampled_from(["vllm-fork-1.21", "vllm-fork", "vllm-gaudi", "vllm"]),
    length=st.one_of(st.integers(1, 300), st.sampled_from([2048, 8192, 32768, 128000])),
    seqs=st.one_of(st.none(), st.integers(1, 600)),
    batched=st.one_of(st.none(), st.integers(1, 70000)),
)
@example(target="vllm-fork-1.21", length=32768, seqs=None, batched=100)
@example(target="vllm-fork-1.21", length=16, seqs=100, batched=None)
@example(target="vllm-gaudi", length=64, seqs=None, batched=None)
def test_every_printed_plan_is_one_the_engine_starts_with(
    target: str, length: int, seqs: int | None, batched: int | None
) -> None:
    argv = ["plan", "--target", target, "--max-model-len", str(length), "--min-pixels", "401408",
            "--max-pixels", "1003520"]
    if seqs is not None:
        argv += ["--max-num-seqs", str(seqs)]
    if batched is not None:
        argv += ["--max-num-batched-tokens", str(batched)]
    args = build_parser().parse_args(argv)
    try:
        plan, _ = plan_from_args(args)
    except GaudiVLError as exc:
        if "refuses to start" in exc.message:
            assert "--max-num" in exc.hint or "--max-model-len" in exc.hint  # the fix is named
        return
    from gaudi_vl.command import server_argv

    assert engine_starts(target, server_argv(plan)), server_argv(plan)


# --- transforms.json sidecars (CLI: gaudi-vl boxes) --------------------------------------------------

RECORD = {
    "mode": "pad", "factor": 112, "min_pixels": 3136, "max_pixels": 12845056,
    "original_width": 640, "original_height": 480, "aligned_width": 672, "aligned_height": 560,
    "content_width": 672, "content_height": 504, "offset_x": 0, "offset_y": 28,
}


@fuzz
@given(name=st.sampled_from(sorted(k for k in RECORD if k != "mode")), value=hostile_json_numbers())
@example(name="original_width", value=1e308)
@example(name="content_width", value=5e-324)
@example(name="offset_x", value=-0.0)
def test_sidecar_numbers_are_whole_and_bounded(name: str, value: Any) -> None:
    record = {**RECORD, name: value}
    with sandbox() as box:
        (box / "transforms.json").write_text(dumps({"images": {"a.png": record}}))
        r = run_cli(["boxes", "--transforms", "transforms.json", "--image", "a.png", "--to-original",
                     "--format", "json", "--", "10,10,100,100"], box)
    assert_contract(r)
    whole = isinstance(value, int) and not isinstance(value, bool)
    low = 0 if name.startswith("offset") else 1
    if isinstance(value, float) and not math.isfinite(value):  # NaN/Infinity: not JSON at all
        assert r.rc == 2 and "not valid JSON" in r.stderr, (value, r.stderr)
    elif not whole or not low <= value <= 178956970:
        assert r.rc == 2 and name in r.stderr, (value, r.stderr)
    if r.rc == 0:
        boxes = json.loads(r.stdout)["boxes"]
        assert all(math.isfinite(v) for box in boxes for v in box)
