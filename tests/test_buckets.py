"""Bucket rules and strategies: the engine's semantics and the planner's invariants."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.buckets import Strategy, make_plan, plan_buckets
from gaudi_vl.buckets.planner import default_buckets
from gaudi_vl.engines import FORK_121, PROFILES
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import MAX_ASPECT_RATIO, PixelRange, reachable_windows


@st.composite
def pixel_ranges(draw: st.DrawFn) -> PixelRange:
    hi = draw(st.integers(min_value=12544, max_value=16_000_000))
    lo = draw(st.integers(min_value=1, max_value=hi))
    aspect = draw(st.sampled_from([MAX_ASPECT_RATIO, 3.0, 30.0]))
    return PixelRange(lo, hi, aspect)


@st.composite
def planned(draw: st.DrawFn):  # noqa: ANN202 - a hypothesis strategy
    pr = draw(pixel_ranges())
    strategy = draw(st.sampled_from([Strategy.DEFAULT, Strategy.LINEAR, Strategy.EXP]))
    step = draw(st.integers(1, 64)) * 64 if strategy is Strategy.LINEAR else None
    count = draw(st.integers(2, 24)) if strategy is Strategy.EXP else None
    return pr, plan_buckets(pr, strategy, step=step, count=count)


# --- lookup and the default strategy ------------------------------------------------------------------

def test_log_example_pads_1980_to_3136() -> None:
    # hpu_semantics.md: "Padding current image size 1980 to 3136" with the default buckets.
    assert FORK_121.bucket_for(1980, FORK_121.default_buckets) == 3136


def test_lookup_is_smallest_bucket_at_or_above_and_none_above_the_largest() -> None:
    plan = make_plan((4096, 1600, 3136), Strategy.USER, PixelRange(1, 802816))  # sorted by the planner
    assert plan.bucket_for(1600) == 1600
    assert plan.bucket_for(1601) == 3136
    assert plan.bucket_for(4096) == 4096
    assert plan.bucket_for(4097) is None


def test_seed_example_buckets_start_at_2048() -> None:
    plan = plan_buckets(PixelRange(401408, 1003520), Strategy.DEFAULT)
    assert plan.buckets[0] == 2048
    assert plan.bucket_for(2048) == 2048


def test_default_keeps_the_engine_list_inside_the_range() -> None:
    plan = plan_buckets(PixelRange(401408, 12845056), Strategy.DEFAULT)
    inside = [b for b in FORK_121.default_buckets if plan.buckets[0] <= b <= plan.buckets[-1]]
    assert set(inside) <= set(plan.buckets)


def test_sliver_above_the_engine_list_raises_the_top_instead_of_adding_a_bucket() -> None:
    # max_pixels 12544 windows' worth: nominal top 12544 patches; 200:1 panoramas reach 12608.
    pr = PixelRange(401408, 12544 * 196)
    wr = reachable_windows(pr)
    assert wr.max_patches > wr.nominal_max_patches == 12544
    plan = plan_buckets(pr, Strategy.DEFAULT)
    assert 12544 not in plan.buckets and plan.buckets[-1] == wr.max_patches
    assert any("top bucket raised 12544 -> " in w for w in plan.warnings)
    narrow = plan_buckets(PixelRange(401408, 12544 * 196, 4.0), Strategy.DEFAULT)
    assert narrow.buckets[-1] == 12544  # no panoramas: the engine's own top stays


@given(st.integers(1, 2048), st.integers(1, 2048))
def test_default_never_pads_a_reachable_image_by_half_or_more(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    buckets, _ = default_buckets(lo * 64, hi * 64, FORK_121.default_buckets, hi * 64)
    assert buckets[0] == lo * 64 and buckets[-1] == hi * 64
    for below, top in zip(buckets, buckets[1:], strict=False):
        assert (top - (below + 64)) / top < 0.5


@pytest.mark.parametrize(("kwargs", "flag"), [
    ({"strategy": Strategy.DEFAULT, "step": 1024}, "--step"),
    ({"strategy": Strategy.EXP, "step": 1024}, "--step"),
    ({"strategy": Strategy.DEFAULT, "count": 4}, "--count"),
    ({"strategy": Strategy.LINEAR, "count": 4}, "--count"),
])
def test_options_a_strategy_ignores_are_errors(kwargs: dict, flag: str) -> None:
    with pytest.raises(GaudiVLError, match=flag):
        plan_buckets(PixelRange(401408, 1003520), **kwargs)


# --- planner invariants ------------------------------------------------------------------------------

@given(planned())
def test_buckets_are_sorted_multiples_of_64_covering_the_range(args) -> None:  # noqa: ANN001
    pr, plan = args
    wr = reachable_windows(pr)
    assert all(b % 64 == 0 and b > 0 for b in plan.buckets)
    assert list(plan.buckets) == sorted(set(plan.buckets))
    assert plan.buckets[0] == wr.min_patches
    assert plan.buckets[-1] == wr.max_patches
    assert plan.env_value == ",".join(map(str, plan.buckets))
    for engine in PROFILES:
        if engine.default_buckets:  # engines that read the variable parse it back to the same list
            assert engine.parse_buckets(plan.env_value) == plan.buckets


@given(planned(), st.integers(1, 20000), st.floats(1.0, MAX_ASPECT_RATIO), st.booleans())
def test_every_reachable_image_maps_to_a_bucket(args, h: int, ratio: float, tall: bool) -> None:  # noqa: ANN001
    pr, plan = args
    w = max(1, int(h * min(ratio, pr.max_aspect_ratio)))
    if tall:
        h, w = w, h
    if max(h, w) / min(h, w) > pr.max_aspect_ratio:
        return
    patches = pr.aligned_patches(h, w)
    bucket = plan.bucket_for(patches)
    assert bucket is not None and bucket >= patches
    row = next(r for r in plan.rows if r.bucket_patches == bucket)
    assert row.first_patches <= patches <= row.last_patches
    assert bucket - patches <= row.worst_pad_patches


def test_one_exp_bucket_is_the_largest_reachable_size() -> None:
    pr = PixelRange(401408, 1003520)
    assert plan_buckets(pr, Strategy.EXP, count=1).buckets == (reachable_windows(pr).max_patches,)


@given(pixel_ranges(), st.integers(2, 24))
def test_exp_worst_padding_shrinks_with_more_buckets(pr: PixelRange, count: int) -> None:
    fewer = plan_buckets(pr, Strategy.EXP, count=count - 1)
    more = plan_buckets(pr, Strategy.EXP, count=count * 2)
    worst = lambda p: max((r.worst_pad_fraction for r in p.rows if r.serves_images), default=0.0)  # noqa: E731
    assert worst(more) <= worst(fewer) + 2 * sys.float_info.epsilon  # two fractions <= 1, one rounding each


# --- user lists -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "match"), [
    ((2048, 2048, 5120), "twice"),
    ((2048, 3000, 5120), "multiple of 64"),
    ((2048, 4096), "unbucketed"),
    ((0, 5120), "multiple of 64"),
])
def test_user_lists_are_checked(values: tuple[int, ...], match: str) -> None:
    with pytest.raises(GaudiVLError, match=match):
        plan_buckets(PixelRange(401408, 1003520, max_aspect_ratio=4.0), Strategy.USER, user_buckets=values)


def test_user_list_below_the_range_is_flagged() -> None:
    plan = plan_buckets(PixelRange(401408, 1003520, 4.0), Strategy.USER, user_buckets=(1600, 2048, 5120))
    assert any("1600" in w and "below the smallest" in w for w in plan.warnings)
