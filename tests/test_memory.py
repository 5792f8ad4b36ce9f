"""The memory model: exact weights and KV arithmetic, calibration against the GPU measurement,
budget identities, monotonicity, and infeasible plans that say what to change."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hf_configs import hf_config
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.assembly import PlanRequest, assemble
from gaudi_vl.devices import device_spec
from gaudi_vl.engines import FORK_121, FORK_MAIN, PROFILES, VLLM_GAUDI, EngineProfile
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.memory import (
    InfeasiblePlan,
    MemoryPlan,
    VisionMemory,
    check_tp,
    kv_bytes_per_token,
    plan_memory,
    vision_peak_bytes,
    weights_bytes,
)
from gaudi_vl.models import builtin_model
from gaudi_vl.settings import ServeSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "tools" / "results"
M7 = builtin_model("qwen2.5-vl-7b")
DEFAULT_BUCKETS = (2048, 3136, 4096, 6400, 7744, 9216, 12544)
HPU = [p for p in PROFILES if p.memory is not None]
DESIGNS = {"gaudi": VLLM_GAUDI, "fork": FORK_MAIN, "fork121": FORK_121}
"""tools/measure_vision_memory.py --design NAME rebuilds this profile's vision attention."""


def memory(
    engine: EngineProfile = FORK_121,
    buckets: tuple[int, ...] = DEFAULT_BUCKETS,
    device: str = "gaudi2",
    tp: int = 1,
    memory_size: str | None = None,
    **serve: object,
) -> MemoryPlan:
    """``plan_memory`` for a bucket list, with one graph per bucket (the fork's warm-up)."""
    settings = ServeSettings(target=engine.name, tensor_parallel_size=tp, device=device, **serve)
    return plan_memory(M7, device_spec(device, memory=memory_size, tp=tp), settings, max(buckets), buckets)


# ---------------------------------------------------------------- exact arithmetic


def _meta_model(name: str):  # noqa: ANN202 - transformers type
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    spec = builtin_model(name)
    cfg = hf_config(spec)
    with torch.device("meta"):
        return cfg, transformers.Qwen2_5_VLForConditionalGeneration(cfg)


# Parameters vLLM keeps whole on every rank (ReplicatedLinear patch embed, norms, row-parallel biases)
_REPLICATED = re.compile(r"norm|patch_embed|ln_q|attn\.proj\.bias|mlp\.down_proj\.bias|merger\.mlp\.2\.bias")


@pytest.mark.parametrize("name", ["qwen2.5-vl-3b", "qwen2.5-vl-7b"])
@pytest.mark.parametrize("tp", [1, 2])
def test_weights_match_the_real_module(name: str, tp: int) -> None:
    _, model = _meta_model(name)
    rep = sharded = 0
    for pname, p in model.named_parameters():
        if _REPLICATED.search(pname):
            rep += p.numel()
        else:
            sharded += p.numel()
    expected = (-(-sharded // tp) + rep) * 2  # bf16
    assert weights_bytes(builtin_model(name), tp) == expected
    if tp == 1:
        assert expected == sum(p.numel() for p in model.parameters()) * 2


def test_7b_weights_are_8_29b_params_in_bf16() -> None:
    assert weights_bytes(M7) == 8_292_166_656 * 2


@pytest.mark.parametrize("name", ["qwen2.5-vl-3b", "qwen2.5-vl-7b", "qwen2.5-vl-72b"])
def test_kv_bytes_per_token_from_the_config(name: str) -> None:
    cfg, _ = _meta_model(name) if name != "qwen2.5-vl-72b" else (None, None)
    spec = builtin_model(name)
    if cfg is not None:
        t = cfg.text_config
        layers, kv = t.num_hidden_layers, t.num_key_value_heads
        head_dim = t.hidden_size // t.num_attention_heads
    else:
        layers, kv, head_dim = 80, 8, 8192 // 64  # Qwen2.5-VL-72B config.json
    assert kv_bytes_per_token(spec.text) == 2 * layers * kv * head_dim * 2
    assert kv_bytes_per_token(spec.text, dtype=1) == layers * kv * head_dim * 2


def test_kv_known_values() -> None:
    assert kv_bytes_per_token(M7.text) == 57344  # 2 * 28 * 4 * 128 * 2
    assert kv_bytes_per_token(M7.text, tp=2) == 28672
    assert kv_bytes_per_token(M7.text, tp=4) == 14336
    m3 = builtin_model("qwen2.5-vl-3b")  # 2 KV heads: TP 4 replicates them, one per card
    assert kv_bytes_per_token(m3.text, tp=4) == 2 * 36 * 1 * 128 * 2


def test_tp_must_divide_heads() -> None:
    for bad in (3, 8):
        with pytest.raises(GaudiVLError) as err:
            check_tp(M7, bad)
        assert "valid --tp for qwen2.5-vl-7b: 1, 2, 4" in err.value.one_line()
    check_tp(builtin_model("qwen2.5-vl-3b"), 4)  # KV heads replicated
    check_tp(builtin_model("qwen2.5-vl-72b"), 8)


# ---------------------------------------------------------------- calibration


def _records(path: str) -> list[dict]:
    data = json.loads((RESULTS / path).read_text())
    return data["records"]


DENSE = [dict(r, design=r.get("design", "gaudi")) for r in _records("vision_memory_h100.json")] + _records(
    "vision_memory_dense_fork_h100.json"
)
FUSED = _records("vision_memory_fused_h100.json")


def test_calibration_files_are_committed() -> None:
    assert len(FUSED) == 30 and len(DENSE) == 30
    for rec in FUSED + DENSE:
        assert {1024, 16384} <= {r["patches"] for r in FUSED + DENSE if r["design"] == rec["design"]}


def _predicted(rec: dict) -> int:
    engine = DESIGNS[rec["design"]]
    assert engine.attention is not None
    mode = VisionMemory.FUSED if rec["impl"] == "fused" else VisionMemory.WORST_CASE
    return vision_peak_bytes(
        M7.vision,
        rec["patches"],
        engine.attention,
        fp32_softmax=rec["softmax"] == "fp32",
        memory=mode,
        mask_bytes=rec.get("mask_bytes", 1),
    )


@pytest.mark.parametrize(
    "rec", FUSED + DENSE, ids=lambda r: f"{r['impl']}-{r['design']}-{r['softmax']}-{r['patches']}"
)
def test_vision_peak_within_15_percent_of_measurement(rec: dict) -> None:
    assert abs(_predicted(rec) / rec["peak_activation_bytes"] - 1) <= 0.15


def test_fused_is_far_below_the_worst_case_at_large_buckets() -> None:
    for engine in HPU:
        assert engine.attention is not None
        fused = vision_peak_bytes(M7.vision, 16384, engine.attention)
        worst = vision_peak_bytes(M7.vision, 16384, engine.attention, memory=VisionMemory.WORST_CASE)
        assert fused * 5 < worst


# ---------------------------------------------------------------- invariants


@given(
    st.integers(1, 1024),
    st.integers(1, 1024),
    st.sampled_from([1, 2, 4]),
    st.booleans(),
    st.sampled_from(HPU),
    st.sampled_from(list(VisionMemory)),
)
def test_vision_peak_monotone_in_bucket(
    a: int, b: int, tp: int, fp32: bool, engine: EngineProfile, mode: VisionMemory
) -> None:
    lo, hi = sorted((a * 64, b * 64))  # up to 65536
    assert engine.attention is not None
    if hi >= engine.attention.query_tiled_from:
        # where the engine starts tiling the query, the worst case drops by design (no full scores)
        assert mode is VisionMemory.WORST_CASE or vision_peak_bytes(
            M7.vision, lo, engine.attention, tp=tp, fp32_softmax=fp32) <= vision_peak_bytes(
            M7.vision, hi, engine.attention, tp=tp, fp32_softmax=fp32)
        return
    kw = {"tp": tp, "fp32_softmax": fp32, "memory": mode}
    assert vision_peak_bytes(M7.vision, lo, engine.attention, **kw) <= vision_peak_bytes(
        M7.vision, hi, engine.attention, **kw
    )


@given(st.integers(1, 2048), st.booleans(), st.sampled_from(HPU), st.sampled_from(list(VisionMemory)))
def test_more_tp_never_needs_more(
    windows: int, fp32: bool, engine: EngineProfile, mode: VisionMemory
) -> None:
    n = windows * 64
    assert engine.attention is not None
    peaks = [
        vision_peak_bytes(M7.vision, n, engine.attention, tp=tp, fp32_softmax=fp32, memory=mode)
        for tp in (1, 2, 4)
    ]
    assert peaks == sorted(peaks, reverse=True)
    assert [weights_bytes(M7, tp) for tp in (1, 2, 4)] == sorted(
        (weights_bytes(M7, tp) for tp in (1, 2, 4)), reverse=True
    )
    assert vision_peak_bytes(
        M7.vision, n, engine.attention, fp32_softmax=True, memory=mode
    ) >= vision_peak_bytes(M7.vision, n, engine.attention, memory=mode)


@given(
    st.sampled_from(HPU),
    st.sampled_from(["gaudi2", "gaudi3"]),
    st.sampled_from([1, 2, 4]),
    st.integers(32, 1024),  # largest bucket, windows
    st.sampled_from([4096, 8192, 32768]),
    st.sampled_from([None, False, True]),
    st.booleans(),
)
def test_budget_identities(
    engine: EngineProfile, device: str, tp: int, windows: int, max_len: int, fp32: bool | None, eager: bool
) -> None:
    buckets = tuple(sorted({2048, windows * 64}))
    try:
        mp = memory(
            engine, buckets, device, tp, max_model_len=max_len, fp32_softmax_vision=fp32, enforce_eager=eager
        )
    except InfeasiblePlan:
        return
    budget = mp.budget
    assert budget.split is engine.memory
    assert mp.usable_bytes == int(mp.free_bytes * mp.gpu_memory_utilization)
    assert mp.graph_reserve_bytes == (0 if eager else int(mp.usable_bytes * mp.graph_reserved_mem))
    kv_room = mp.usable_bytes - mp.graph_reserve_bytes - engine.memory.dummy_blocks * budget.block_bytes
    assert (
        mp.kv_cache_bytes <= kv_room < mp.kv_cache_bytes + budget.block_bytes * engine.memory.block_round + 1
    )
    assert mp.kv_blocks % engine.memory.block_round == 0
    assert mp.kv_tokens >= max_len  # at least one full sequence
    assert mp.outside_kv_bytes >= mp.vision_peak_bytes  # the largest image runs beside the KV cache
    assert 0 < mp.gpu_memory_utilization <= 0.9
    assert (mp.graph_reserved_mem == 0) if eager else 0 < mp.graph_reserved_mem < 1
    # graphs hold the vision sizes only with HPU graphs: not under --enforce-eager, not in torch.compile mode
    mode = engine.default_execution_mode
    held = not eager and mode is not None and mode.vision_graph_memory
    assert (mp.vision_graphs, mp.vision_graph_bytes == 0) == ((len(buckets), False) if held else (0, True))
    assert 0 < mp.graph_prompt_ratio < 1 and 0 < mp.graph_multimodal_ratio < 1


@given(st.integers(32, 300), st.integers(32, 300), st.sampled_from(HPU))
def test_bigger_largest_bucket_leaves_less_kv(a: int, b: int, engine: EngineProfile) -> None:
    lo, hi = sorted((a * 64, b * 64))
    try:
        big = memory(engine, (2048, hi))
    except InfeasiblePlan:
        return
    small = memory(engine, (2048, lo))
    assert small.kv_tokens >= big.kv_tokens
    assert small.gpu_memory_utilization >= big.gpu_memory_utilization


def test_vllm_gaudi_keeps_one_dummy_block_and_the_fork_rounds_to_128_blocks() -> None:
    for engine in (VLLM_GAUDI, FORK_121, FORK_MAIN):
        mp = memory(engine)
        b = mp.budget
        kv = b.usable_bytes * (1 - mp.graph_reserved_mem)  # the engine's float arithmetic
        expected = int((kv - engine.memory.dummy_blocks * b.block_bytes) // b.block_bytes)
        expected = expected // engine.memory.block_round * engine.memory.block_round
        assert mp.kv_blocks == expected
    assert VLLM_GAUDI.memory.dummy_blocks == 1 and FORK_121.memory.block_round == 128


# ---------------------------------------------------------------- infeasible plans

HINT = re.compile(
    r"lower --gpu-memory-utilization to ([\d.]+)|raise --gpu-memory-utilization to ([\d.]+)"
    r"|raise --tp to (\d+)|(drop --fp32-softmax-vision)|--kv-dtype (fp8)|--max-num-batched-tokens (\d+)"
    r"|--max-model-len at most (\d+)"
)


def _apply(hint: re.Match, kwargs: dict) -> dict:
    util, util_up, tp, fp32, kv, batched, length = hint.groups()
    out = dict(kwargs)
    if util or util_up:
        out["gpu_memory_utilization"] = float(util or util_up)
    if tp:
        out["tp"] = int(tp)
    if fp32:
        out["fp32_softmax_vision"] = False
    if kv:
        out["kv_dtype"] = kv
    if batched:
        out["max_num_batched_tokens"] = int(batched)
    if length:
        out["max_model_len"] = int(length)
    return out


CASES = [
    ("weights", {"tp": 1}, "qwen2.5-vl-72b"),
    ("utilization", {"gpu_memory_utilization": 0.99, "buckets": (2048, 65536)}, "qwen2.5-vl-7b"),
    ("kv", {"gpu_memory_utilization": 0.01}, "qwen2.5-vl-7b"),
    ("vision peak", {"buckets": (2048, 65536), "vision_memory": "worst-case"}, "qwen2.5-vl-7b"),
    (
        "weights",
        {"memory_size": "40GiB", "max_model_len": 600_000, "max_num_batched_tokens": 8192},
        "qwen2.5-vl-7b",
    ),
    (
        "vision peak",
        {"buckets": (2048, 24576), "vision_memory": "worst-case", "fp32_softmax_vision": True},
        "qwen2.5-vl-7b",
    ),
]


@pytest.mark.parametrize(("binding", "kwargs", "model"), CASES)
def test_infeasible_plans_name_the_binding_constraint_and_every_hint_fits(
    binding: str, kwargs: dict, model: str
) -> None:
    global M7
    keep = M7
    M7 = builtin_model(model)
    try:
        with pytest.raises(InfeasiblePlan) as err:
            memory(**kwargs)
        assert err.value.binding == binding, err.value.one_line()
        hints = list(HINT.finditer(err.value.hint))
        assert hints, err.value.one_line()
        for hint in hints:
            memory(**_apply(hint, kwargs))  # each suggested change on its own makes the plan fit
    finally:
        M7 = keep


def test_too_low_utilization_is_never_blamed_on_the_vision_tower() -> None:
    with pytest.raises(InfeasiblePlan) as err:
        memory(VLLM_GAUDI, device="gaudi2", gpu_memory_utilization=0.01)
    line = err.value.one_line()
    assert "raise --gpu-memory-utilization to" in line
    assert "--max-pixels" not in line and "lower" not in line


# ---------------------------------------------------------------- fitting max_pixels


def test_default_range_that_does_not_fit_gets_the_largest_max_pixels_that_does() -> None:
    req = PlanRequest(M7, ServeSettings(vision_memory="worst-case"), min_pixels=401408)
    plan, _ = assemble(req)
    fitted = plan.pixel_range.max_pixels
    assert fitted < M7.processor.max_pixels and fitted % 12544 == 0
    assert any(
        f"max_pixels {M7.processor.max_pixels} -> {fitted} to fit gaudi2 x1" in n for n in plan.warnings
    )
    with pytest.raises(InfeasiblePlan):  # one window more does not fit
        assemble(
            PlanRequest(
                M7,
                ServeSettings(vision_memory="worst-case"),
                min_pixels=401408,
                max_pixels=fitted + 12544 * 8,
            )
        )


def test_explicit_max_pixels_that_does_not_fit_is_an_error_with_the_largest_that_does() -> None:
    serve = ServeSettings(vision_memory="worst-case")
    with pytest.raises(InfeasiblePlan) as err:
        assemble(PlanRequest(M7, serve, min_pixels=401408, max_pixels=12845056))
    m = re.search(r"lower --max-pixels to (\d+)", err.value.one_line())
    assert m, err.value.one_line()
    plan, _ = assemble(PlanRequest(M7, serve, min_pixels=401408, max_pixels=int(m.group(1))))
    assert plan.memory is not None


# ---------------------------------------------------------------- CLI wiring


def _plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gaudi_vl", "plan", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "extra", [[], ["--device", "gaudi2"], ["--device", "gaudi3"], ["--device", "gaudi3", "--tp", "2"]]
)
@pytest.mark.parametrize("engine", HPU, ids=lambda e: e.name)
def test_headline_command_prints_every_memory_variable_its_engine_reads(
    engine: EngineProfile, extra: list[str]
) -> None:
    r = _plan("--min-pixels", "401408", "--target", engine.name, "--json", *extra)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    mem = d["memory"]
    assert mem is not None
    names = {v.name for v in engine.variables}
    for name in ("VLLM_GRAPH_RESERVED_MEM", "VLLM_GRAPH_PROMPT_RATIO", "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO"):
        assert (name in d["env"]) == (name in names)
    assert d["env"]["VLLM_GRAPH_RESERVED_MEM"] == f"{mem['graph_reserved_mem']:.4g}"
    cmd = d["command"]
    assert cmd[cmd.index("--gpu-memory-utilization") + 1] == f"{mem['gpu_memory_utilization']:.4g}"
    assert cmd[cmd.index("--max-num-seqs") + 1] == str(mem["max_num_seqs"])
    assert mem["kv_tokens"] >= 32768


def test_kv_dtype_reaches_the_engine_under_its_own_name() -> None:
    d = json.loads(_plan("--min-pixels", "401408", "--kv-dtype", "fp8", "--json").stdout)
    cmd = d["command"]
    assert cmd[cmd.index("--kv-cache-dtype") + 1] == "fp8_inc"
    assert d["memory"]["kv_bytes_per_token"] == kv_bytes_per_token(M7.text, dtype=1)
    auto = json.loads(_plan("--min-pixels", "401408", "--json").stdout)
    assert "--kv-cache-dtype" not in auto["command"]
    assert d["memory"]["kv_tokens"] > auto["memory"]["kv_tokens"]


def test_plan_rejects_unknown_device_and_bad_tp() -> None:
    assert _plan("--device", "tpu").returncode == 2
    bad = _plan("--tp", "3")
    assert bad.returncode == 2 and "attention heads" in bad.stderr
