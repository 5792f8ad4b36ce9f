"""Bucket rules and strategies: the engine's semantics and the planner's invariants."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.buckets import ENGINE_DEFAULT_BUCKETS, Strategy, bucket_for, engine_padded_grid, plan_buckets
from gaudi_vl.buckets.rules import parse_engine_buckets
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
    step = draw(st.integers(1, 64)) * 64
    count = draw(st.integers(2, 24))
    return pr, plan_buckets(pr, strategy, step=step, count=count)


# --- the engine's own documented examples -----------------------------------------------------------

def test_log_example_pads_1980_to_3136() -> None:
    # hpu_semantics.md: "Padding current image size 1980 to 3136" with the default buckets.
    assert bucket_for(1980, ENGINE_DEFAULT_BUCKETS) == 3136


def test_lookup_is_smallest_bucket_at_or_above_and_none_above_the_largest() -> None:
    buckets = (4096, 1600, 3136)  # the engine sorts what it parses
    assert bucket_for(1600, buckets) == 1600
    assert bucket_for(1601, buckets) == 3136
    assert bucket_for(4096, buckets) == 4096
    assert bucket_for(4097, buckets) is None


def test_seed_example_buckets_start_at_2048() -> None:
    plan = plan_buckets(PixelRange(401408, 1003520), Strategy.DEFAULT)
    assert plan.buckets[0] == 2048
    assert plan.bucket_for(2048) == 2048


@pytest.mark.parametrize(("text", "expected"), [
    ("1600, 3136,4096 ", (1600, 3136, 4096)),
    ("4096,1600", (1600, 4096)),
    ("", ENGINE_DEFAULT_BUCKETS),
    ("None", None),
])
def test_env_parsing_follows_the_engine(text: str, expected: tuple[int, ...] | None) -> None:
    assert parse_engine_buckets(text) == expected


@pytest.mark.parametrize("text", ["2048,abc", "2048,,4096", "2048.0"])
def test_env_parsing_rejects_what_int_rejects(text: str) -> None:
    with pytest.raises(GaudiVLError):
        parse_engine_buckets(text)


# --- engine padding (find_padding) ------------------------------------------------------------------

@given(gh=st.integers(1, 40), gw=st.integers(1, 40), extra=st.integers(0, 2000))
def test_padded_grid_is_exact_or_refused(gh: int, gw: int, extra: int) -> None:
    h, w = 8 * gh, 8 * gw
    bucket = h * w + 64 * extra
    grid = engine_padded_grid(h, w, bucket)
    if grid is None:
        return
    ph, pw = grid
    assert ph * pw == bucket
    assert ph >= h and pw >= w
    assert ph == h or pw == w or (ph % 2 == 0 or pw % 2 == 0)  # at most one side is an odd quotient


def test_padded_grid_on_a_simple_case() -> None:
    # 32 x 40 patches into 2048: 2048 % 32 == 0 -> width becomes 64 (even, larger): pad the width.
    assert engine_padded_grid(32, 40, 2048) == (32, 64)


def test_engine_can_refuse_to_pad() -> None:
    refused = [
        (h, w, b)
        for h in range(8, 200, 8)
        for w in range(8, 200, 8)
        for b in (h * w + 64, h * w + 128)
        if engine_padded_grid(h, w, b) is None
    ]
    assert refused, "the engine's find_padding rule has cases where it does not pad"


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
    assert parse_engine_buckets(plan.env_value) == plan.buckets


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


@given(planned())
def test_warmup_counts_five_graphs_per_bucket(args) -> None:  # noqa: ANN001
    _, plan = args
    assert plan.warmup_graphs == 5 * len(plan.buckets)


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
