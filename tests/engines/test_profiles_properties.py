"""Invariants every engine profile must keep, on random inputs (hypothesis).

The per-engine facts live in test_vllm_fork_121.py, test_vllm_fork_122.py, test_vllm_fork_main.py,
test_vllm_gaudi.py and test_upstream.py (modes: test_execution_modes.py); here are the rules that hold
across profiles, whatever the engine:

* a bucketed image runs at a bucket >= its patches, or at its own size above the largest bucket;
* one-per-bucket engines compile exactly the distinct buckets; every engine's warm-up splits the
  buckets into warmed and never warmed, and the sizes above the largest bucket are the compiled ones
  over it;
* KV blocks never go negative and never shrink when more memory is given to them;
* the bucket list a plan writes parses back to itself in the engine's reading;
* a plan exports only variables its engine reads, and the fp32 softmax switches only when asked;
* any text in ``VLLM_MULTIMODAL_BUCKETS`` gives a list or a one-line ``GaudiVLError``, nothing else;
* each profile's fingerprint identifies it, its execution modes resolve (default first), and the doctor
  reads its logs with its own grammar.
"""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from gaudi_vl.engines import PROFILES, EngineProfile, GridRule, WarmupRule
from gaudi_vl.envvars import ALIGN_VAR, plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from tests.engines.plans import plan_for

HPU = tuple(p for p in PROFILES if p.hpu)
profiles = st.sampled_from(PROFILES)
hpu_profiles = st.sampled_from(HPU)
# Buckets every HPU profile accepts (multiples of 64), unsorted, duplicates allowed.
bucket_lists = st.lists(st.integers(1, 400).map(lambda k: 64 * k), min_size=1, max_size=10)
grid_sides = st.integers(1, 300)


@given(hpu_profiles, grid_sides, grid_sides, bucket_lists)
def test_run_patches_is_a_bucket_or_the_own_size(
    p: EngineProfile, h: int, w: int, buckets: list[int]
) -> None:
    th, tw = p.tower_grid(h, w)
    n = th * tw
    run = p.run_patches(h, w, buckets)
    assert run >= n
    if n <= max(buckets):
        assert run in buckets and run == min(b for b in buckets if b >= n)
    else:
        assert run == n
    if p.grid_rule is not GridRule.TRIM_SIDES_TO_8:  # trimming is the one rule that drops patches
        assert run >= h * w


@given(hpu_profiles, grid_sides, grid_sides)
def test_tower_grid_rules(p: EngineProfile, h: int, w: int) -> None:
    th, tw = p.tower_grid(h, w)
    if p.grid_rule is GridRule.PAD_SIDES_TO_8:
        assert th % 8 == tw % 8 == 0 and 0 <= th - h < 8 and 0 <= tw - w < 8
    elif p.grid_rule is GridRule.TRIM_SIDES_TO_8:
        if (h * w) % 64:
            assert th % 8 == tw % 8 == 0 and 0 <= h - th < 8 and 0 <= w - tw < 8
        else:
            assert (th, tw) == (h, w)
    else:
        assert (th, tw) == (h, w)


@given(profiles, st.integers(0, 10**6), bucket_lists)
def test_bucket_for_is_the_first_sorted_bucket_at_or_above(
    p: EngineProfile, n: int, buckets: list[int]
) -> None:
    b = p.bucket_for(n, buckets)
    above = sorted(x for x in buckets if x >= n)
    assert b == (above[0] if above else None)


pixel_ranges = st.builds(
    lambda lo, span: PixelRange(lo, lo + span),
    st.integers(12544, 400_000), st.integers(0, 4_000_000),
)


@given(hpu_profiles, bucket_lists, pixel_ranges, st.booleans(), st.booleans())
def test_warmup_set_partitions_the_buckets(
    p: EngineProfile, buckets: list[int], rng: PixelRange, align: bool, skip: bool
) -> None:
    warm = p.warmup_set(buckets, rng, align=align, skip_warmup=skip)
    distinct = sorted(set(buckets))
    warmed = [b for b in distinct if b in warm.compiled]
    assert sorted(warmed + list(warm.never_warmed)) == distinct
    assert not set(warmed) & set(warm.never_warmed)
    assert warm.above_largest == tuple(n for n in warm.compiled if n > max(buckets))
    assert list(warm.compiled) == sorted(set(warm.compiled))
    assert warm.graphs == len(warm.compiled)
    if skip:
        assert warm.compiled == () and list(warm.never_warmed) == distinct
    elif p.warmup is WarmupRule.ONE_PER_BUCKET:
        assert list(warm.compiled) == distinct and warm.images == ()
    else:
        # every compiled size is where one of the warm-up images runs (the engine's own lookup)
        assert set(warm.compiled) == {
            p.run_patches(*p.image_patches(w, h, rng, align=align), buckets) for w, h in warm.images}


@given(hpu_profiles, st.floats(1e8, 2e11), st.floats(0.01, 0.99), st.floats(0.01, 0.99),
       st.floats(0.0, 0.9), st.integers(10**4, 10**8), st.booleans())
def test_kv_blocks_monotone_and_never_negative(
    p: EngineProfile, free: float, u1: float, u2: float, reserved: float, block: int, eager: bool
) -> None:
    split = p.memory
    assert split is not None
    lo, hi = sorted((u1, u2))
    a = split.kv_blocks(free, lo, reserved, block, enforce_eager=eager)
    b = split.kv_blocks(free, hi, reserved, block, enforce_eager=eager)
    assert 0 <= a <= b
    assert a % split.block_round == 0
    # more memory for graphs never gives more KV blocks; enforce_eager gives graphs none
    base = split.kv_blocks(free, hi, reserved, block)
    assert split.kv_blocks(free, hi, min(0.9, reserved + 0.05), block) <= base
    assert split.kv_blocks(free, hi, reserved, block, enforce_eager=True) >= base


@given(hpu_profiles, st.floats(0, 1e6), st.floats(0.01, 0.99), st.integers(10**4, 10**8))
def test_kv_blocks_zero_when_nothing_is_free(p: EngineProfile, free: float, util: float, block: int) -> None:
    assert p.memory is not None
    assume(free * util < block)
    assert p.memory.kv_blocks(free, util, 0.1, block) == 0


@given(hpu_profiles, bucket_lists)
def test_bucket_env_value_round_trips(p: EngineProfile, buckets: list[int]) -> None:
    text = ",".join(map(str, buckets))
    assert p.parse_buckets(text) == tuple(sorted(buckets))


@given(hpu_profiles, st.text(max_size=40))
def test_any_bucket_text_parses_or_fails_in_one_line(p: EngineProfile, text: str) -> None:
    try:
        out = p.parse_buckets(text)
    except GaudiVLError as err:
        assert "\n" not in str(err)
        return
    assert list(out) == sorted(out)
    assert text == "" or len(out) == len(text.split(","))


@given(profiles, st.sampled_from((None, True, False)), st.sampled_from((None, True, False)),
       st.booleans(), st.booleans(), st.booleans())
def test_plan_exports_only_what_the_engine_reads(
    p: EngineProfile, fp32: bool | None, fp32_vision: bool | None, skip: bool, eager: bool, align: bool
) -> None:
    plan = plan_for(p.name, fp32_softmax=fp32, fp32_softmax_vision=fp32_vision, skip_warmup=skip,
                    enforce_eager=eager, align=align)
    env = plan_env(plan)
    assert set(env) <= {*p.variable_names, ALIGN_VAR}
    for flag, var in ((fp32, "VLLM_FP32_SOFTMAX"), (fp32_vision, "VLLM_FP32_SOFTMAX_VISION")):
        if flag is None or var not in p.variable_names:
            assert var not in env
        else:
            assert env[var] == ("true" if flag else "false")
    if "VLLM_MULTIMODAL_BUCKETS" in env:
        assert p.parse_buckets(env["VLLM_MULTIMODAL_BUCKETS"]) == plan.buckets.buckets


# ---------------------------------------------------------------- vision peak terms per VisionAttention

@given(hpu_profiles, st.integers(1, 2000).map(lambda k: 64 * k))
def test_mask_terms_follow_the_engine_attention(p: EngineProfile, n: int) -> None:
    """gaudi_vl.memory's mask terms from the profile's VisionAttention:

    * masks held: k bool [N, N] masks (fork: 1, vllm-gaudi: 2; see the per-engine tests);
    * building them: a float32 einsum result (4 N^2) and its .bool() copy (N^2) beside the k - 1
      masks already built, or one bool outer product (N^2). Above 40000 patches the einsum runs on the
      CPU but its float32 result is copied to the device before .bool() (habana_main
      models/qwen2_5_vl.py:121-129@95af7009; vllm-gaudi models/qwen2_5_vl.py:94-102@091bbadd), so the
      device term does not change at the threshold.
    """
    from gaudi_vl.memory import vision_peak
    from tests.engines.plans import MODEL

    att = p.attention
    assert att is not None
    peak = vision_peak(MODEL.vision, n, att)
    c, b = MODEL.vision.hidden_size, 2
    assert peak.masks_bytes == att.masks_held * n * n
    per_n2 = (att.masks_held - 1 + 5) if att.mask_built_in_float else 1
    assert peak.mask_build_bytes == per_n2 * n * n + n * c * b


# ---------------------------------------------------------------- fingerprints, modes, log grammar

@given(profiles)
def test_fingerprint_of_each_profile_identifies_it(p: EngineProfile) -> None:
    """An interpreter holding exactly what a profile's fingerprint names is identified as that profile
    (``FINGERPRINT_ORDER``: vllm-gaudi first, the fork branches by their runner file, 1.22 before
    habana_main), so ``gaudi-vl serve`` and ``plan --target auto`` pick it."""
    from gaudi_vl.engines import InstalledEngine, identify

    fp = p.fingerprint
    files = {fp.marker_file: fp.marker} if fp.marker_file else {}
    assert identify(InstalledEngine(frozenset(fp.modules), files)) is p


@given(hpu_profiles)
def test_execution_modes_default_first_and_each_resolves(p: EngineProfile) -> None:
    assert p.execution_modes and p.execution(None) is p.execution_modes[0]
    values = [m.lazy_mode_value for m in p.execution_modes]
    assert len(set(values)) == len(values) and set(values) <= {"0", "1"}
    for m in p.execution_modes:
        assert p.execution(m.mode.value) is m
        assert m.vision_graph_memory == m.hpu_graphs  # graph memory per vision size only with HPU graphs
        assert m.cited and "@" in m.cited


@given(profiles)
def test_doctor_reads_every_profile_with_its_grammar(p: EngineProfile) -> None:
    from gaudi_vl.engines.logs import grammar_for

    assert p.log_grammar is not None and grammar_for(p.name) == (p.log_grammar,)
