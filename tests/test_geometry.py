"""The resize rule and the reachable patch range, against transformers' own smart_resize."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import (
    MAX_ASPECT_RATIO,
    PATCHES_PER_WINDOW,
    PixelRange,
    patches_of,
    reachable_windows,
    smart_resize,
)

hf = pytest.importorskip("transformers.models.qwen2_vl.image_processing_qwen2_vl")

sides = st.integers(min_value=1, max_value=20000)


def pixel_ranges() -> st.SearchStrategy[PixelRange]:
    @st.composite
    def build(draw: st.DrawFn) -> PixelRange:
        hi = draw(st.integers(min_value=12544, max_value=30_000_000))
        lo = draw(st.integers(min_value=1, max_value=hi))
        aspect = draw(st.sampled_from([MAX_ASPECT_RATIO, 1.0, 4.0, 20.0, 150.0]))
        return PixelRange(lo, hi, aspect)

    return build()


@given(
    h=sides,
    w=sides,
    factor=st.sampled_from([14, 28, 56, 112]),
    lo=st.integers(1, 4_000_000),
    span=st.integers(0, 20_000_000),
)
def test_smart_resize_matches_transformers(h: int, w: int, factor: int, lo: int, span: int) -> None:
    hi = lo + span
    try:
        expected = hf.smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi)
    except ValueError:
        with pytest.raises(ValueError):
            smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi)
        return
    assert smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi) == expected


def test_smart_resize_matches_transformers_bulk() -> None:
    rng = random.Random(20261124)
    for _ in range(20000):
        h, w = rng.randint(1, 8000), rng.randint(1, 8000)
        factor = rng.choice([28, 112])
        lo = rng.randint(1, 2_000_000)
        hi = lo + rng.randint(0, 16_000_000)
        try:
            expected = hf.smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi)
        except ValueError:
            continue
        assert smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi) == expected


def test_empty_image_is_a_user_error() -> None:
    with pytest.raises(GaudiVLError):
        smart_resize(0, 10)


@given(
    pr=pixel_ranges(), h=sides, ratio=st.floats(min_value=1.0, max_value=MAX_ASPECT_RATIO), tall=st.booleans()
)
def test_every_aligned_image_lies_in_the_reachable_range(
    pr: PixelRange, h: int, ratio: float, tall: bool
) -> None:
    assume(ratio <= pr.max_aspect_ratio)
    w = max(1, int(h * ratio))
    if tall:
        h, w = w, h
    assume(max(h, w) / min(h, w) <= pr.max_aspect_ratio)
    rh, rw = pr.resize(h, w)
    assert rh % 112 == 0 and rw % 112 == 0
    patches = patches_of(rh, rw)
    assert patches % PATCHES_PER_WINDOW == 0
    wr = reachable_windows(pr)
    assert wr.min_patches <= patches <= wr.max_patches


@given(pr=pixel_ranges())
def test_reachable_bounds_are_attained_by_some_image(pr: PixelRange) -> None:
    """The bounds are not just safe but (nearly) tight: images exist at both ends.

    A square-ish image of exactly ``min_windows`` / the nominal maximum is built when that count is
    inside the range; otherwise the bound comes from a clamped branch, checked by the property above.
    """
    wr = reachable_windows(pr)
    if wr.min_patches * 196 >= pr.min_pixels:
        n = wr.min_windows
        a = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
        assume(n // a / a <= pr.max_aspect_ratio)
        assert pr.aligned_patches(112 * a, 112 * (n // a)) == wr.min_patches
    assert wr.nominal_max_windows <= wr.max_windows


def test_seed_example_min_pixels_401408_is_2048_patches() -> None:
    # Seed 003: min_pixels=401408 -> 401408 / (14*14) = 2048 patches, a multiple of 64.
    wr = reachable_windows(PixelRange(401408, 1003520))
    assert wr.min_patches == 401408 // 196 == 2048


def test_panorama_exceeds_max_pixels_as_transformers_does() -> None:
    pr = PixelRange(3136, 1003520)
    h, w = hf.smart_resize(150, 30000, factor=112, min_pixels=3136, max_pixels=1003520)
    assert h * w > 1003520
    assert reachable_windows(pr).max_patches >= patches_of(h, w) > reachable_windows(pr).nominal_max_patches
    narrow = PixelRange(3136, 1003520, max_aspect_ratio=4.0)
    assert reachable_windows(narrow).max_patches == reachable_windows(narrow).nominal_max_patches


@pytest.mark.parametrize(
    ("lo", "hi", "aspect"),
    [
        (-1, 1003520, 200.0),
        (0, 1003520, 200.0),
        (5000, 12543, 200.0),
        (2_000_000, 1_000_000, 200.0),
        (3136, 1003520, 0.5),
        (3136, 1003520, 201.0),
    ],
)
def test_bad_ranges_are_user_errors(lo: int, hi: int, aspect: float) -> None:
    with pytest.raises(GaudiVLError) as info:
        PixelRange(lo, hi, aspect)
    assert info.value.hint
