"""Text buckets, their graph memory and the warm-up estimate (issue 18, parts 1 and 3).

The generators are checked against the engines' OWN functions by tools/check_engine_profiles.py
(check "text buckets"); here: the engines' documented invariants as properties, and the published
figures the estimates are calibrated on.
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.assembly import PlanRequest, assemble
from gaudi_vl.engines import FORK_121, VLLM_GAUDI
from gaudi_vl.engines.text_buckets import (
    TextBucketInputs,
    TextStrategy,
    ext_exponential_range,
    ext_linear_range,
    gaudi_exponential_range,
    gaudi_linear_range,
    strategy_in_force,
    text_buckets,
)
from gaudi_vl.memory import text_graph_token_bytes
from gaudi_vl.models import builtin_model
from gaudi_vl.settings import ServeSettings
from gaudi_vl.warmup import COMPILE_GRAPH_S, estimate_warmup

GIB, MIB = 1024**3, 1024**2
LLAMA_8B = types.SimpleNamespace(num_layers=32, hidden_size=4096, intermediate_size=14336)


@given(st.integers(1, 64), st.integers(1, 256), st.integers(0, 4096))
def test_linear_range_doubles_then_steps(bmin: int, bstep: int, extra: int) -> None:
    bmax = bmin + extra
    out = ext_linear_range(bmin, bstep, bmax)
    assert out == sorted(set(out)) and all(bmin <= b <= bmax for b in out)
    ramp = [b for b in out if b < bstep]
    assert all(b == bmin * 2**i for i, b in enumerate(ramp))
    assert [b for b in out if b >= bstep] == [b for b in range(bstep, bmax + 1, bstep) if b >= bmin]
    # vllm-gaudi's copy is the same for bmin > 0 and adds 0 for bmin == 0
    assert gaudi_linear_range(bmin, bstep, bmax) == out
    assert gaudi_linear_range(0, bstep, bmax)[0] == 0


@given(st.integers(1, 8), st.sampled_from([1, 2, 32, 128]), st.integers(1, 400), st.integers(1, 20),
       st.booleans())
def test_exponential_ranges_end_at_max_and_stay_on_steps(k: int, bstep: int, mult: int, limit: int,
                                                         cpa: bool) -> None:
    bmin, bmax = bstep * k, bstep * (k + mult)
    ext = ext_exponential_range(bmin, bstep, bmax, limit, contiguous_pa=cpa)
    assert ext == sorted(set(ext)) and len(ext) <= limit and ext[-1] <= bmax
    assert all(b % bstep == 0 for b in ext)
    if cpa or limit == 1:
        assert ext[-1] == bmax
    g = gaudi_exponential_range(bmin, bstep, bmax, limit, contiguous_pa=cpa)
    assert g == sorted(set(g)) and len(g) <= limit and g[-1] <= bmax


inputs = st.builds(
    TextBucketInputs,
    max_num_seqs=st.sampled_from([1, 2, 8, 16, 64, 128, 256]),
    max_num_batched_tokens=st.sampled_from([2048, 4096, 8192, 32768]),
    max_model_len=st.sampled_from([2048, 4096, 8192, 32768]),
    block_size=st.just(128),
    num_blocks=st.integers(128, 20000),  # below one block step the engines make blocks above the KV blocks
)


@given(inputs, st.booleans())
def test_fork_buckets_keep_the_extension_filters(inp: TextBucketInputs, exp: bool) -> None:
    env = {"VLLM_EXPONENTIAL_BUCKETING": "true"} if exp else {}
    for prof in (FORK_121,):  # habana_main: tests/engines/test_fork_main_text_buckets.py
        assert prof.text_buckets is not None
        tb = text_buckets(prof.text_buckets, replace(inp, env=env))
        assert tb.strategy is (TextStrategy.EXPONENTIAL if exp else TextStrategy.LINEAR)
        fits = [b for b in tb.prompt if b[0] * b[1] <= inp.max_num_batched_tokens]
        assert fits == list(tb.prompt) or not fits  # the budget filter, or the engine's "ignore it" fallback
        assert all(b[0] <= inp.max_num_seqs and b[1] <= inp.max_model_len for b in tb.prompt)
        assert all(b[0] * b[1] <= 8192 for b in tb.prompt_graphed)  # max_seq_len_to_capture
        if not exp:  # blocks capped at the KV blocks; bs <= blocks except at the cap (linear.py:284-291)
            assert all(n <= inp.num_blocks for _, n in tb.decode)
            assert all(b <= n or n == inp.num_blocks for b, n in tb.decode)


@given(inputs, st.sampled_from(["exp", "lin"]))
def test_gaudi_buckets_keep_the_plugin_filters(inp: TextBucketInputs, strategy: str) -> None:
    if strategy == "lin" and inp.max_model_len > 4096:
        inp = replace(inp, max_model_len=4096, max_num_batched_tokens=min(inp.max_num_batched_tokens, 4096))
    tb = text_buckets(VLLM_GAUDI.text_buckets, replace(inp, env={"VLLM_BUCKETING_STRATEGY": strategy}))
    blk, mml = inp.block_size, inp.max_model_len
    for bs, q, ctx in tb.prompt:
        assert bs * q <= inp.max_num_batched_tokens and q <= mml and ctx <= math.ceil((mml - 1) / blk)
    for bs, q, ctx in tb.decode:  # prefix caching on: no contiguous PA
        assert q == 1 and bs <= ctx <= bs * math.ceil(mml / blk)
    assert set(tb.prompt_graphed) <= set(tb.prompt)


def test_strategy_variables_as_the_engines_read_them() -> None:
    g, f = VLLM_GAUDI.text_buckets, FORK_121.text_buckets
    assert g is not None and f is not None
    assert strategy_in_force(g, {}) is TextStrategy.EXPONENTIAL  # features.py:99-103
    assert strategy_in_force(g, {"VLLM_BUCKETING_STRATEGY": "pad"}) is TextStrategy.PADDING_AWARE
    assert strategy_in_force(g, {"VLLM_BUCKETING_STRATEGY": "pad", "VLLM_EXPONENTIAL_BUCKETING": "0"}) \
        is TextStrategy.LINEAR
    assert strategy_in_force(f, {}) is TextStrategy.LINEAR
    assert strategy_in_force(f, {"VLLM_EXPONENTIAL_BUCKETING": "True"}) is TextStrategy.EXPONENTIAL
    assert strategy_in_force(f, {"VLLM_EXPONENTIAL_BUCKETING": "1"}) is TextStrategy.LINEAR  # 'true' only


def test_graph_memory_sits_between_the_published_figures() -> None:
    """Llama-3.1-8B bf16 on Gaudi2. vllm-fork PR 292 (after PR 252): every graph at batch 256 takes
    1.566 GB; for the fork's buckets at max_model_len 1024..4096 (the PR does not say which) that is
    7 to 37 KB per token, and ``2 H b`` lies inside. docs/features/warmup.md:68-69@091bbadda10b, the
    log from before PR 252 (activations kept): 14.03 GiB for 9,984 prompt tokens, far above."""
    per = text_graph_token_bytes(LLAMA_8B)  # type: ignore[arg-type]
    implied = []
    for mml in (1024, 2048, 4096):
        inp = TextBucketInputs(256, max(mml, 2048), mml, 128, 256 * mml // 128)
        tb = text_buckets(FORK_121.text_buckets, inp)
        tokens = sum(b * s for b, s in tb.prompt_graphed) + sum(b for b, _ in tb.decode)
        implied.append(1.566e9 / tokens)
    assert min(implied) < per < max(implied)
    assert 50 * per < 14.03 * GIB / 9984


def test_compile_time_per_graph_comes_from_the_documented_command() -> None:
    """managing_warm-up.md:44-63: the command's buckets by the engine's generator are the 236 that
    ``COMPILE_GRAPH_S`` divides 66 s by."""
    tb = text_buckets(VLLM_GAUDI.text_buckets, TextBucketInputs(
        256, 2048, 8192, 128, 20000,
        {"VLLM_PROMPT_BS_BUCKET_MAX": "256", "VLLM_DECODE_BS_BUCKET_MAX": "128"}))
    assert tb.graphs == 236
    assert 66 / tb.graphs == COMPILE_GRAPH_S


def _plan(**serve: object):  # type: ignore[no-untyped-def]
    req = PlanRequest(model=builtin_model("Qwen/Qwen2.5-VL-7B-Instruct"), serve=ServeSettings(**serve),
                      min_pixels=401408)
    return assemble(req)[0]


def test_one_graph_budget_holds_text_and_vision_graphs() -> None:
    for target in ("vllm-fork-1.21", "vllm-fork", "vllm-fork-1.22", "vllm-gaudi"):
        plan = _plan(target=target)
        m = plan.memory
        assert m is not None and m.text_strategy and m.text_prompt_graphs > 0 and m.text_decode_graphs > 0
        # one reserve: text budget + vision graphs fit it; the text budget is the estimate bounded by the
        # engine's default share: from above where capture stops when memory does, from below elsewhere
        assert m.graph_reserve_bytes >= m.text_graph_bytes + m.vision_graph_bytes - m.usable_bytes * 0.01
        share = m.usable_bytes * 0.1
        bound = min if plan.engine.text_buckets.capture_gated_by_memory else max  # type: ignore[union-attr]
        assert abs(m.text_graph_bytes - bound(m.text_graph_estimate_bytes, share)) <= 1
        tb = plan.text_buckets
        assert tb is not None and len(tb.prompt) == m.text_prompt_graphs
        assert len(tb.decode) == m.text_decode_graphs


def test_warmup_estimate_orders_and_levers() -> None:
    plan = _plan()
    w = plan.warmup_estimate
    assert w == estimate_warmup(plan)
    assert w.seconds_high > w.seconds > w.seconds_cached > 0
    assert dict(w.graphs_by_kind)["vision"] == plan.warmup.graphs
    assert dict(w.graphs_by_kind)["prompt"] == plan.memory.text_prompt_graphs  # type: ignore[union-attr]
    skipped = _plan(skip_warmup=True).warmup_estimate
    assert skipped.seconds == 0 and skipped.graphs == 0
    cached = _plan(recipe_cache="/var/cache/recipes")
    assert cached.warmup_estimate.recipe_cache
    from gaudi_vl.envvars import plan_env

    assert plan_env(cached)["PT_HPU_RECIPE_CACHE_CONFIG"] == "/var/cache/recipes,False,8192"
    # at the same max_num_seqs a shorter context means fewer text buckets and a shorter warm-up (a
    # planned max_num_seqs grows with the KV room, and decode buckets with it)
    long, short = _plan(max_num_seqs=16), _plan(max_model_len=4096, max_num_seqs=16)
    assert short.warmup_estimate.graphs < long.warmup_estimate.graphs
    assert short.warmup_estimate.seconds < long.warmup_estimate.seconds


def test_cli_plan_shows_text_and_vision_graphs_budget_and_warmup(capsys) -> None:  # type: ignore[no-untyped-def]
    from gaudi_vl.cli import main

    assert main(["plan", "--min-pixels", "401408"]) == 0
    out = capsys.readouterr().out
    assert "graph budget" in out and "text graphs" in out and "vision graphs" in out and "warm-up ~" in out
    assert main(["plan", "--min-pixels", "401408", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    est = d["warmup_estimate"]
    assert est["seconds_high"] > est["seconds"] > 0 and {k for k, _ in est["graphs_by_kind"]} == {
        "prompt", "decode", "vision"}
    assert d["memory"]["text_prompt_graphs"] == len(d["text_buckets"]["prompt"])


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["vllm-fork-1.21", "vllm-fork", "vllm-fork-1.22", "vllm-gaudi"]),
       st.sampled_from([2048, 4096, 8192, 16384, 32768]), st.one_of(st.none(), st.sampled_from([1, 8, 64])))
def test_graph_budget_and_warmup_invariants(target: str, max_model_len: int, seqs: int | None) -> None:
    plan = _plan(target=target, max_model_len=max_model_len, max_num_seqs=seqs)
    m, w = plan.memory, plan.warmup_estimate
    assert m is not None
    assert m.graph_reserve_bytes >= m.text_graph_bytes + m.vision_graph_bytes - m.usable_bytes * 0.01
    assert m.text_prompt_graphed <= m.text_prompt_graphs
    assert w.seconds_high >= w.seconds >= w.seconds_cached >= 0
    assert dict(w.graphs_by_kind) == {"prompt": m.text_prompt_graphs, "decode": m.text_decode_graphs,
                                      "vision": plan.warmup.graphs}
    assert abs(sum(t for _, t in w.seconds_by_kind) - w.seconds) < 0.2


def test_exponential_hint_counts_the_engines_exponential_buckets() -> None:
    from gaudi_vl.warmup import fewer_buckets_hint

    plan = _plan()
    m = plan.memory
    assert m is not None and plan.engine.text_buckets is not None
    exp = text_buckets(plan.engine.text_buckets, TextBucketInputs(
        m.max_num_seqs, plan.serve.batched_tokens, plan.serve.max_model_len, m.block_size, m.kv_blocks,
        {plan.engine.text_buckets.strategy_variable: "true"}))
    hint = fewer_buckets_hint(plan)
    assert hint is not None and f"{len(exp.prompt)} prompt + {len(exp.decode)} decode" in hint
    assert fewer_buckets_hint(_plan(target="vllm-gaudi")) is None  # already exponential
