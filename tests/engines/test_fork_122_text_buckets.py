"""FORK_122's text buckets: the extension's ``HPUBucketingManager`` @f5f9ecb7298b (the aice/v1.22.0 pin).

Executed against the extension's own code by ``tools/check_engine_profiles.py`` (row "text buckets
(prompt, decode) / vllm-fork-1.22"); here: the invariants that code guarantees, as properties, and the
worked example in the engine's own docstring. Citations: ``ext:vllm_hpu_extension/...@f5f9ecb7298b``
(``M``) and ``vllm/worker/hpu_model_runner.py@17a7946f`` (``F``).
"""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.engines import FORK_121, FORK_122
from gaudi_vl.engines.text_buckets import (
    Generator,
    TextBucketInputs,
    TextStrategy,
    ext_exponential_range,
    manager_config,
    strategy_in_force,
    text_buckets,
)
from gaudi_vl.plan import Plan
from tests.engines.test_text_buckets import _plan

TB = FORK_122.text_buckets
assert TB is not None

inputs = st.builds(
    TextBucketInputs,
    max_num_seqs=st.sampled_from([1, 2, 3, 8, 16, 50, 64, 128, 256]),
    max_num_batched_tokens=st.sampled_from([1024, 2048, 4096, 8192, 32768]),
    max_model_len=st.sampled_from([1024, 2048, 4096, 8192, 10000, 16384, 32768]),
    block_size=st.just(128),
    num_blocks=st.integers(128, 20000),  # linear decode blocks start at block_size (M linear.py:67-69)
)
LINEAR = {"VLLM_EXPONENTIAL_BUCKETING": "false"}


def test_wired_as_the_extension_manager() -> None:
    assert TB.generator is Generator.EXT_MANAGER and TB.default_strategy is TextStrategy.EXPONENTIAL
    assert not TB.capture_gated_by_memory  # warmup_graphs has no memory test (F:3435-3495)
    assert "f5f9ecb7298b" in TB.cited and "17a7946f" in TB.cited


def test_strategy_flag_is_the_extensions_boolean() -> None:
    """M common.py:66-80: unset -> exponential; config.py:122-124: true/t/1/yes/y/on are true. 1.21
    read only 'true' and defaulted to linear."""
    assert strategy_in_force(TB, {}) is TextStrategy.EXPONENTIAL
    for on in ("1", "yes", "TRUE", "on", "t"):
        assert strategy_in_force(TB, {"VLLM_EXPONENTIAL_BUCKETING": on}) is TextStrategy.EXPONENTIAL
    for off in ("false", "0", "no", "off", ""):
        assert strategy_in_force(TB, {"VLLM_EXPONENTIAL_BUCKETING": off}) is TextStrategy.LINEAR
    old = FORK_121.text_buckets
    assert old is not None
    assert strategy_in_force(old, {"VLLM_EXPONENTIAL_BUCKETING": "1"}) is TextStrategy.LINEAR


def test_contiguous_pa_follows_prefix_caching_unless_set() -> None:
    """M features.py:74: ``use_contiguous_pa = Disabled('prefix_caching')``, ``VLLM_CONTIGUOUS_PA`` wins."""
    assert manager_config(TB, {}).contiguous_pa
    assert not manager_config(TB, {"VLLM_PREFIX_CACHING": "true"}).contiguous_pa
    assert manager_config(TB, {"VLLM_PREFIX_CACHING": "true", "VLLM_CONTIGUOUS_PA": "1"}).contiguous_pa
    assert not manager_config(TB, {"VLLM_CONTIGUOUS_PA": "false"}).contiguous_pa


def test_exponential_range_matches_the_engines_docstring_example() -> None:
    """M exponential.py:215-239: bmin 128, bstep 128, bmax 2048, 10 buckets, fill -> the listed ten."""
    assert ext_exponential_range(128, 128, 2048, 10) == [128, 256, 384, 512, 640, 768, 896, 1152, 1536, 2048]


@given(st.integers(64, 256).map(lambda k: 128 * k), st.sampled_from([0, 0, 1, 100]), st.booleans())
def test_long_context_range(mult: int, off: int, cpa: bool) -> None:
    """M exponential.py:270-319: from 8192 tokens half the buckets are exponential up to bmax / limit,
    the other half evenly spaced up to bmax; all on the step, at most ``limit`` of them."""
    bmax = mult - off
    limit = math.ceil(math.log2(bmax)) + 1
    out = ext_exponential_range(128, 128, bmax, limit, contiguous_pa=cpa, long_context=True)
    assert out == sorted(set(out)) and len(out) <= limit and all(b % 128 == 0 for b in out)
    assert out[0] == 128 and out[-1] == math.ceil(bmax / 128) * 128  # the tail ends at bmax, rounded up
    n_lin = limit - limit // 2
    tail = out[-n_lin:]  # evenly spaced: the gaps differ by at most one step (rounding up)
    gaps = [b - a for a, b in zip(tail, tail[1:], strict=False)]
    assert len(out) > n_lin and max(gaps) - min(gaps) <= 128
    assert tail[0] >= (bmax - bmax / limit) / n_lin  # the head ends below bmax / limit, the tail starts above


@settings(max_examples=150, deadline=None)
@given(inputs, st.sampled_from([{}, LINEAR]))
def test_manager_buckets_keep_the_extension_filters(inp: TextBucketInputs, env: dict[str, str]) -> None:
    tb = text_buckets(TB, replace(inp, env=env))
    mml, mnbt, mns, kv = inp.max_model_len, inp.max_num_batched_tokens, inp.max_num_seqs, inp.num_blocks
    assert tb.strategy is (TextStrategy.LINEAR if env else TextStrategy.EXPONENTIAL)
    assert list(tb.prompt) == sorted(set(tb.prompt)) and list(tb.decode) == sorted(set(tb.decode))
    # prompt: (bs, seq, 0) without prefix caching; the token budget, or all if none fits (M linear.py:157-182)
    assert all(c == 0 and 1 <= b <= mns for b, _, c in tb.prompt)
    fits = [t for t in tb.prompt if t[0] * t[1] <= mnbt]
    assert fits == list(tb.prompt) or not fits
    if not env:  # exponential also drops seq > max_model_len (M exponential.py:132-137)
        assert all(q <= mml for _, q, _ in tb.prompt)
    else:
        assert all(q <= mml and q % 128 == 0 for _, q, _ in tb.prompt)
    # graphs: bs * seq <= max_seq_len_to_capture = min(8192, max_model_len) (F:1620-1623)
    assert set(tb.prompt_graphed) <= set(tb.prompt)
    assert {t for t in tb.prompt if t[0] * t[1] <= min(8192, mml)} == set(tb.prompt_graphed)
    # decode: (bs, 1, blocks), blocks on the block_size grid or the KV block count itself
    assert all(q == 1 and 1 <= b <= mns and (n % 128 == 0 or n == kv) for b, q, n in tb.decode)
    top = max(n for _, _, n in tb.decode)
    if env:  # linear: contiguous PA puts the KV blocks on top, bs > blocks skipped but at the cap
        assert top == kv and all(b <= n or n == kv for b, _, n in tb.decode)  # M linear.py:196-213
    else:  # exponential: every (bs, blocks) pair (skip_invalid False, M exponential.py:176-185)
        bss, blocks = {b for b, _, _ in tb.decode}, {n for _, _, n in tb.decode}
        assert len(tb.decode) == len(bss) * len(blocks) and max(bss) == mns
        # the range ends at the KV blocks when the grid has room for all ``limit`` values; with fewer
        # grid steps the fill runs out and stops short, or one rounded step lands past them
        # (M exponential.py:278-293)
        limit = math.ceil(math.log2(kv)) + 1
        assert top == kv or kv // 128 < limit
        assert top <= math.ceil(kv / 128) * 128


@settings(max_examples=60, deadline=None)
@given(inputs)
def test_merged_prefill_makes_one_sequence_per_batch(inp: TextBucketInputs) -> None:
    """M linear.py:27-40: merged prefill -> bs 1 and sequences up to min(max bs * max seq, budget)."""
    tb = text_buckets(TB, replace(inp, env={**LINEAR, "VLLM_MERGED_PREFILL": "true"}))
    top = min(inp.max_num_seqs * inp.max_model_len, inp.max_num_batched_tokens)
    assert {b for b, _, _ in tb.prompt} == {1} and max(q for _, q, _ in tb.prompt) <= max(top, 128)


@settings(max_examples=40, deadline=None)
@given(inputs, st.sampled_from([1024, 2048]))
def test_sdpa_slicing_keeps_long_prompts_on_the_slice(inp: TextBucketInputs, bc: int) -> None:
    """M common.py:92-95: with PT_HPU_SDPA_QKV_SLICE_MODE_FWD, seq >= 8192 only at multiples of the slice."""
    env = {"PT_HPU_SDPA_QKV_SLICE_MODE_FWD": "1", "PT_HPU_SDPA_BC_FACTOR": str(bc)}
    plain, sliced = (text_buckets(TB, replace(inp, env=e)) for e in ({}, env))
    assert set(sliced.prompt) == {t for t in plain.prompt if t[1] < 8192 or t[1] % bc == 0}
    assert sliced.decode == plain.decode


def graph_budget_of_every_bucket(target: str) -> tuple[Plan, dict[str, str]]:
    """A fork line that graphs every bucket without a memory test (1.22, habana_main): the plan counts its
    exponential buckets, the text graphs get at least the engine's default share (memory.text_graph_budget,
    not gated), the warm-up counts a graph per prompt bucket, and no bucket variable is written. Returns the
    plan and its environment for the line's own checks."""
    from gaudi_vl.envvars import plan_env

    plan = _plan(target=target)
    m, tb = plan.memory, plan.text_buckets
    assert m is not None and tb is not None and m.text_strategy == "exp"
    assert (m.text_prompt_graphs, m.text_decode_graphs) == (len(tb.prompt), len(tb.decode))
    assert abs(m.text_graph_bytes - max(m.text_graph_estimate_bytes, m.usable_bytes * 0.1)) <= 1
    assert dict(plan.warmup_estimate.graphs_by_kind)["prompt"] == len(tb.prompt)
    env = plan_env(plan)  # exponential by default: no bucket variable to write
    assert not set(env) & set(TB.variables)
    return plan, env


def test_plan_budgets_every_graph_of_its_buckets() -> None:
    plan, env = graph_budget_of_every_bucket("vllm-fork-1.22")
    m, tb = plan.memory, plan.text_buckets
    assert m is not None and tb is not None
    assert m.text_prompt_graphed == len(tb.prompt_graphed) > 0
    assert plan.warmup_estimate.mode == "lazy"
    assert "VLLM_MULTIMODAL_BUCKETS" in env
