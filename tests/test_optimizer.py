"""The exact bucket optimizer: brute-force optimality, invariants, the cost model against torch's
FLOP counter on a real (tiny) transformers vision tower, and the histogram builder."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gaudi_vl.buckets import (
    Histogram,
    Strategy,
    VisionCost,
    fewest_buckets_for_waste,
    histogram_from_patches,
    histogram_from_sizes,
    optimal_buckets,
    plan_buckets,
    score_buckets,
)
from gaudi_vl.buckets.cost import PATCH_COST, Objective, cost_for
from gaudi_vl.engines import EngineProfile
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange, reachable_windows
from gaudi_vl.models import VisionSpec, builtin_model

VISION_7B = VisionCost.from_vision(builtin_model("qwen2.5-vl-7b").vision)
COSTS = {
    "patches": PATCH_COST,
    "time-7b": VISION_7B,
    "attention-heavy": VisionCost(linear_flops_per_patch=1, attention_flops_per_patch_sq=5),
}


def total(buckets: tuple[int, ...], hist: Histogram, cost: VisionCost) -> int:
    """Independent objective: every image at the engine's bucket (all histograms here fit)."""
    out = 0
    for v, n in zip(hist.patches, hist.counts, strict=True):
        b = EngineProfile.bucket_for(v, buckets)
        assert b is not None
        out += n * cost.flops(b)
    return out


def brute_force(hist: Histogram, k_max: int, cost: VisionCost, top: int) -> int:
    """Best objective over EVERY set of multiples of 64 below ``top`` (not only the DP's
    candidates), plus ``top``: checks the candidate argument as well as the recursion."""
    below = range(64, top, 64)
    best = None
    for k in range(k_max):
        for combo in itertools.combinations(below, k):
            value = total((*combo, top), hist, cost)
            best = value if best is None else min(best, value)
    assert best is not None
    return best


@st.composite
def small_histograms(draw: st.DrawFn) -> Histogram:
    values = draw(st.lists(st.integers(1, 640), min_size=1, max_size=7, unique=True))
    counts = draw(st.lists(st.integers(1, 9), min_size=len(values), max_size=len(values)))
    return histogram_from_patches(values, counts)


def ceil64(v: int) -> int:
    return -(-v // 64) * 64


@settings(max_examples=80, deadline=None)
@given(
    hist=small_histograms(),
    k=st.integers(1, 4),
    extra_top=st.integers(0, 2),
    cost_name=st.sampled_from(sorted(COSTS)),
)
def test_dp_equals_brute_force(hist: Histogram, k: int, extra_top: int, cost_name: str) -> None:
    cost = COSTS[cost_name]
    top = ceil64(hist.largest_patches) + 64 * extra_top
    result = optimal_buckets(hist, k, cost, top_patches=top)
    assert result.cost == brute_force(hist, k, cost, top)
    assert result.cost == total(result.buckets, hist, cost)


@settings(max_examples=60, deadline=None)
@given(hist=small_histograms(), waste_pct=st.integers(0, 80))
def test_max_waste_gives_the_fewest_buckets(hist: Histogram, waste_pct: int) -> None:
    top = ceil64(hist.largest_patches)
    limit = hist.real_patches * (1 + waste_pct / 100)
    below = range(64, top, 64)
    fewest = None
    for k in range(0, len(below) + 1):
        if any(total((*c, top), hist, PATCH_COST) <= limit for c in itertools.combinations(below, k)):
            fewest = k + 1
            break
    if fewest is None:
        with pytest.raises(GaudiVLError, match="keeps padding under"):
            fewest_buckets_for_waste(hist, waste_pct / 100, top_patches=top)
        return
    result = fewest_buckets_for_waste(hist, waste_pct / 100, top_patches=top)
    assert len(result.buckets) == fewest
    assert total(result.buckets, hist, PATCH_COST) <= limit


@st.composite
def workloads(draw: st.DrawFn) -> tuple[PixelRange, Histogram]:
    hi = draw(st.integers(12544, 4_000_000))
    lo = draw(st.integers(1, hi))
    pr = PixelRange(lo, hi, draw(st.sampled_from([200.0, 4.0])))
    sides = st.integers(16, 5000)
    n = draw(st.integers(1, 40))
    widths = draw(st.lists(sides, min_size=n, max_size=n))
    heights = draw(st.lists(sides, min_size=n, max_size=n))
    counts = draw(st.lists(st.integers(1, 50), min_size=n, max_size=n))
    hist, _ = histogram_from_sizes(widths, heights, counts, pr)
    assume(not hist.is_empty)
    return pr, hist


@settings(max_examples=60, deadline=None)
@given(workload=workloads(), k=st.integers(1, 16), objective=st.sampled_from(list(Objective)))
def test_invariants(workload: tuple[PixelRange, Histogram], k: int, objective: Objective) -> None:
    pr, hist = workload
    top = reachable_windows(pr).max_patches
    cost = cost_for(objective, builtin_model("qwen2.5-vl-3b").vision)
    result = optimal_buckets(hist, k, cost, objective=objective, top_patches=top)
    b = result.buckets
    assert 1 <= len(b) <= k
    assert all(x % 64 == 0 and x > 0 for x in b)
    assert all(x < y for x, y in itertools.pairwise(b))
    assert b[-1] == max(top, ceil64(hist.largest_patches))
    assert all(EngineProfile.bucket_for(v, b) is not None for v in hist.patches)
    score = score_buckets("optimal", b, hist, cost)
    assert score.tower_flops == result.cost
    assert score.images_above_largest == 0


@settings(max_examples=60, deadline=None)
@given(
    workload=workloads(),
    strategy=st.sampled_from([Strategy.DEFAULT, Strategy.LINEAR, Strategy.EXP]),
    objective=st.sampled_from(list(Objective)),
    count=st.integers(2, 12),
)
def test_never_worse_than_the_strategies(
    workload: tuple[PixelRange, Histogram], strategy: Strategy, objective: Objective, count: int
) -> None:
    """With the same K and the same largest bucket, no strategy beats the optimum on the workload."""
    pr, hist = workload
    plan = plan_buckets(pr, strategy, step=64 * count * 4 if strategy is Strategy.LINEAR else None,
                        count=count if strategy is Strategy.EXP else None)
    assume(plan.largest >= hist.largest_patches)
    cost = cost_for(objective, builtin_model("qwen2.5-vl-7b").vision)
    result = optimal_buckets(hist, len(plan.buckets), cost, top_patches=plan.largest)
    assert result.cost <= total(plan.buckets, hist, cost)


def test_time_objective_splits_large_buckets_finer() -> None:
    """Attention is quadratic: with one free bucket between a small and a large cluster, the time
    objective puts it higher than the patches objective (hand-checked example)."""
    hist = histogram_from_patches([1024, 2048, 16384, 20480], [100, 100, 10, 10])
    # patches: (1024, 2048, 20480) pads 20 * 4096 = 81,920; (2048, 16384, 20480) pads 102,400.
    assert optimal_buckets(hist, 3, PATCH_COST).buckets == (1024, 2048, 20480)
    # N^2: the same two cost 20 * 20480^2 = 8.39e9 vs 100 * (2048^2 - 1024^2) + 10 * 16384^2
    # + 10 * 20480^2 ... = 7.72e9 in all, so the big cluster gets its own bucket.
    heavy = VisionCost(linear_flops_per_patch=0, attention_flops_per_patch_sq=1)
    assert optimal_buckets(hist, 3, heavy).buckets == (2048, 16384, 20480)


def test_ties_prefer_fewer_buckets() -> None:
    hist = histogram_from_patches([128], [5])
    assert optimal_buckets(hist, 8, PATCH_COST).buckets == (128,)
    assert optimal_buckets(hist, 8, PATCH_COST, top_patches=1024).buckets == (128, 1024)


def test_bad_inputs() -> None:
    with pytest.raises(GaudiVLError, match="no images"):
        optimal_buckets(Histogram((), ()), 4)
    hist = histogram_from_patches([100, 200])
    with pytest.raises(GaudiVLError, match="below 1"):
        optimal_buckets(hist, 0)
    with pytest.raises(GaudiVLError, match="multiple of 64"):
        optimal_buckets(hist, 2, top_patches=1000)
    with pytest.raises(GaudiVLError, match="keeps padding under"):
        fewest_buckets_for_waste(hist, 0.0)  # 100 -> 128 pads at least 28 patches
    with pytest.raises(GaudiVLError, match="negative"):
        fewest_buckets_for_waste(hist, -0.1)


def test_histogram_from_sizes_uses_the_resize_rule() -> None:
    pr = PixelRange(112 * 112, 1003520)
    widths = [1000, 1000, 224, 30000, 50]
    heights = [1000, 1000, 224, 100, 10000]  # last one: aspect 200.0 is allowed, 30000/100 = 300 is not
    hist, stats = histogram_from_sizes(widths, heights, [1, 2, 1, 1, 1], pr)
    assert stats.images == 6 and stats.refused_aspect == 1
    expected: dict[int, int] = {}
    for w, h, n in [(1000, 1000, 3), (224, 224, 1), (50, 10000, 1)]:
        p = pr.aligned_patches(h, w)
        expected[p] = expected.get(p, 0) + n
    assert dict(zip(hist.patches, hist.counts, strict=True)) == expected
    assert sum(g.images for g in hist.grids) == 5
    assert all(g.patches % 64 == 0 for g in hist.grids)


def test_cost_model_matches_torch_flop_counter() -> None:
    """The FLOP coefficients against torch's FlopCounterMode on transformers' real Qwen2.5-VL vision
    tower (tiny random dims, eager attention, every layer full attention as on HPU)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from torch.utils.flop_counter import FlopCounterMode
    from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLVisionConfig
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VisionTransformerPretrainedModel

    spec = VisionSpec(depth=2, hidden_size=64, num_heads=4, intermediate_size=96, out_hidden_size=48,
                      fullatt_block_indexes=(0, 1))
    cfg = Qwen2_5_VLVisionConfig(depth=2, hidden_size=64, num_heads=4, intermediate_size=96,
                                 out_hidden_size=48, fullatt_block_indexes=[0, 1])
    cfg._attn_implementation = "eager"
    model = Qwen2_5_VisionTransformerPretrainedModel(cfg).eval()
    cost = VisionCost.from_vision(spec)
    for gh, gw in [(8, 8), (8, 16)]:
        n = gh * gw
        x = torch.randn(n, spec.in_channels * spec.temporal_patch_size * spec.patch_size**2)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x, grid_thw=torch.tensor([[1, gh, gw]]))
        counts = {str(k): v for k, v in counter.get_flop_counts()["Global"].items()}
        linear = counts["aten.convolution"] + counts["aten.addmm"] + counts.get("aten.mm", 0)
        assert linear == cost.linear_flops_per_patch * n
        assert counts["aten.bmm"] == cost.attention_flops_per_patch_sq * n * n
