"""The memory model: exact weights and KV arithmetic, calibration against the GPU measurement,
budget identities, monotonicity, and infeasible plans that say what to change."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.devices import device_spec
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.memory import (
    check_tp,
    kv_bytes_per_token,
    plan_memory,
    vision_peak_bytes,
    weights_bytes,
)
from gaudi_vl.models import builtin_model
from gaudi_vl.plan import MemorySettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "tools" / "results"
M7 = builtin_model("qwen2.5-vl-7b")
DEFAULT_BUCKETS = (2048, 3136, 4096, 6400, 7744, 9216, 12544)


# ---------------------------------------------------------------- exact arithmetic

def _meta_model(name: str):  # noqa: ANN202 - transformers type
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    spec = builtin_model(name)
    cfg = transformers.Qwen2_5_VLConfig(
        text_config={
            "hidden_size": spec.text.hidden_size, "intermediate_size": spec.text.intermediate_size,
            "num_hidden_layers": spec.text.num_layers, "num_attention_heads": spec.text.num_heads,
            "num_key_value_heads": spec.text.num_kv_heads, "vocab_size": spec.text.vocab_size,
        },
        vision_config={
            "depth": spec.vision.depth, "hidden_size": spec.vision.hidden_size,
            "num_heads": spec.vision.num_heads, "intermediate_size": spec.vision.intermediate_size,
            "out_hidden_size": spec.vision.out_hidden_size,
        },
        tie_word_embeddings=spec.text.tie_word_embeddings,
    )
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

def _dense_records() -> list[dict]:
    records = []
    for path in (RESULTS / "vision_memory_h100.json", RESULTS / "vision_tower_h100.json"):
        if path.exists():
            data = json.loads(path.read_text())
            rows = data["records"] if isinstance(data, dict) else data
            records += [r for r in rows if r.get("impl") == "dense"]
    return records


def test_calibration_file_is_committed() -> None:
    assert len(_dense_records()) >= 8


@pytest.mark.parametrize("rec", _dense_records(), ids=lambda r: f"{r.get('softmax', 'bf16')}-{r['patches']}")
def test_vision_peak_within_15_percent_of_measurement(rec: dict) -> None:
    predicted = vision_peak_bytes(M7.vision, rec["patches"], fp32_softmax=rec.get("softmax") == "fp32")
    assert abs(predicted / rec["peak_activation_bytes"] - 1) <= 0.15


# ---------------------------------------------------------------- invariants

@given(st.integers(1, 1024), st.integers(1, 1024), st.sampled_from([1, 2, 4]), st.booleans())
def test_vision_peak_monotone_in_bucket(a: int, b: int, tp: int, fp32: bool) -> None:
    lo, hi = sorted((a * 64, b * 64))  # up to 65536: below the query tiling threshold
    assert vision_peak_bytes(M7.vision, lo, tp=tp, fp32_softmax=fp32) <= vision_peak_bytes(
        M7.vision, hi, tp=tp, fp32_softmax=fp32)


@given(st.integers(1, 2048), st.booleans())
def test_more_tp_never_needs_more(windows: int, fp32: bool) -> None:
    n = windows * 64
    peaks = [vision_peak_bytes(M7.vision, n, tp=tp, fp32_softmax=fp32) for tp in (1, 2, 4)]
    assert peaks == sorted(peaks, reverse=True)
    assert [weights_bytes(M7, tp) for tp in (1, 2, 4)] == sorted((weights_bytes(M7, tp) for tp in (1, 2, 4)),
                                                                 reverse=True)
    assert vision_peak_bytes(M7.vision, n, fp32_softmax=True) > vision_peak_bytes(M7.vision, n)


@given(
    st.sampled_from(["gaudi2", "gaudi3"]),
    st.sampled_from([1, 2, 4]),
    st.integers(32, 196),  # largest bucket, windows
    st.sampled_from([4096, 8192, 32768]),
    st.booleans(),
)
def test_budget_identities(device: str, tp: int, windows: int, max_len: int, fp32: bool) -> None:
    largest = windows * 64
    buckets = tuple(sorted({2048, largest}))
    try:
        mp = plan_memory(M7, device_spec(device, tp=tp), buckets, max_model_len=max_len,
                         fp32_softmax_vision=fp32)
    except GaudiVLError:
        return
    assert isinstance(mp, MemorySettings)
    assert mp.usable_bytes == int(mp.free_bytes * mp.gpu_memory_utilization)
    assert mp.graph_reserve_bytes + mp.kv_cache_bytes == mp.usable_bytes
    assert mp.kv_blocks * mp.block_size * mp.kv_bytes_per_token <= mp.kv_cache_bytes
    assert mp.kv_tokens >= max_len  # at least one full sequence
    assert mp.outside_kv_bytes >= mp.vision_peak_bytes  # the largest image runs beside the KV cache
    assert 0 < mp.gpu_memory_utilization <= 0.9
    assert 0 < mp.graph_reserved_mem < 1 and 0 < mp.graph_prompt_ratio < 1
    assert 0 < mp.graph_multimodal_prompt_ratio <= 1


@given(st.integers(32, 300), st.integers(32, 300))
def test_bigger_largest_bucket_leaves_less_kv(a: int, b: int) -> None:
    lo, hi = sorted((a * 64, b * 64))
    dev = device_spec("gaudi2")
    try:
        big = plan_memory(M7, dev, (2048, hi))
    except GaudiVLError:
        return
    small = plan_memory(M7, dev, (2048, lo))
    assert small.kv_tokens >= big.kv_tokens
    assert small.gpu_memory_utilization >= big.gpu_memory_utilization


# ---------------------------------------------------------------- infeasible plans

def test_huge_bucket_says_how_far_to_lower_max_pixels() -> None:
    with pytest.raises(GaudiVLError) as err:
        plan_memory(M7, device_spec("gaudi2"), (2048, 65536))
    line = err.value.one_line()
    m = re.search(r"lower --max-pixels to (\d+) \(largest bucket (\d+) patches\)", line)
    assert m, line
    fit = int(m.group(2))
    assert int(m.group(1)) == fit * 196 and fit % 64 == 0
    plan_memory(M7, device_spec("gaudi2"), (2048, fit))  # the advice works
    with pytest.raises(GaudiVLError):
        plan_memory(M7, device_spec("gaudi2"), (2048, fit + 64 * 16))


def test_weights_too_big_say_need_tp() -> None:
    with pytest.raises(GaudiVLError) as err:
        plan_memory(builtin_model("qwen2.5-vl-72b"), device_spec("gaudi2"), DEFAULT_BUCKETS)
    assert "need --tp 2" in err.value.one_line()


def test_given_utilization_too_high_says_the_limit() -> None:
    with pytest.raises(GaudiVLError) as err:
        plan_memory(M7, device_spec("gaudi2"), DEFAULT_BUCKETS, gpu_memory_utilization=0.99)
    m = re.search(r"lower --gpu-memory-utilization to ([\d.]+)", err.value.one_line())
    assert m
    plan_memory(M7, device_spec("gaudi2"), DEFAULT_BUCKETS, gpu_memory_utilization=float(m.group(1)))


def test_max_model_len_limit_is_given() -> None:
    with pytest.raises(GaudiVLError) as err:
        plan_memory(M7, device_spec("gaudi2", memory="40GiB"), DEFAULT_BUCKETS, max_model_len=600_000,
                    max_num_batched_tokens=8192)
    m = re.search(r"--max-model-len at most (\d+)", err.value.one_line())
    assert m, err.value.one_line()
    plan_memory(M7, device_spec("gaudi2", memory="40GiB"), DEFAULT_BUCKETS, max_model_len=int(m.group(1)),
                max_num_batched_tokens=8192)


# ---------------------------------------------------------------- CLI wiring

def _plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gaudi_vl", "plan", *args], capture_output=True, text=True,
                          timeout=60)


def test_plan_json_carries_memory_env_and_command() -> None:
    r = _plan("--min-pixels", "401408", "--max-pixels", "2458624", "--device", "gaudi2", "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    mem = d["memory"]
    assert mem["graph_reserve_bytes"] + mem["kv_cache_bytes"] == mem["usable_bytes"]
    assert d["env"]["VLLM_GRAPH_RESERVED_MEM"] == f"{mem['graph_reserved_mem']:.4g}"
    cmd = d["command"]
    assert cmd[cmd.index("--gpu-memory-utilization") + 1] == f"{mem['gpu_memory_utilization']:.4g}"
    assert cmd[cmd.index("--max-num-seqs") + 1] == str(mem["max_num_seqs"])


def test_named_device_makes_misfit_an_error_and_default_a_note() -> None:
    strict = _plan("--min-pixels", "401408", "--device", "gaudi2")
    assert strict.returncode == 2 and "lower --max-pixels to" in strict.stderr
    assert len(strict.stderr.strip().splitlines()) == 1
    lenient = _plan("--min-pixels", "401408")
    assert lenient.returncode == 0 and "memory not planned for gaudi2" in lenient.stdout


def test_plan_rejects_unknown_device_and_bad_tp() -> None:
    assert _plan("--device", "tpu").returncode == 2
    bad = _plan("--tp", "3")
    assert bad.returncode == 2 and "attention heads" in bad.stderr
