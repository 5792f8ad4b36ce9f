"""Exact workload-driven bucket optimizer: the best K buckets for the images people send.

Pure (standard library; integers only, so results are exact). Input: a ``Histogram`` of patch
counts, a budget K and a per-image cost ``VisionCost`` (``gaudi_vl.buckets.cost``). Output: at
most K buckets, each a multiple of 64 patches, the largest one the mandatory ``top``, that
minimise ``sum(images * cost(bucket_for(patches)))`` over the workload.

Why only a few candidate values are needed (the argument the dynamic programme rests on).
Let ``r(v) = ceil(v / 64) * 64``, the smallest legal bucket for an image of ``v`` patches, and let
``top`` be the mandatory largest bucket (>= every ``r(v)``). Take any optimal bucket set ``B``.
For every bucket ``b`` in ``B`` other than ``top``, let ``v*`` be the largest histogram value it
serves (the values in ``(previous bucket, b]``):

* if it serves none, drop it: no image changes bucket, the cost stays the same, K shrinks;
* otherwise replace ``b`` by ``r(v*)``. Since ``b`` is a multiple of 64 and ``b >= v*``,
  ``r(v*) <= b``; since the previous bucket is a multiple of 64 below ``v*``, ``r(v*)`` is above
  it. So every image that ``b`` served still lands on the new bucket (it is ``>= v*`` >= each
  of them), images of other buckets are unaffected, and the cost of each moved image does not
  grow because ``cost`` is non-decreasing in N (non-negative coefficients).

The result is a set at least as good, of no more buckets, whose values all lie in
``{r(v) : v in histogram} | {top}``. Hence an exact search may stay on these m + 1 candidates.
(The test suite checks this against brute force over EVERY multiple of 64.)

The dynamic programme. Number the distinct ``r`` values ``r_1 < ... < r_m`` with image weights
``W_j`` and prefix sums ``P_j = W_1 + ... + W_j`` (``P_0 = 0``). With ``c_j = cost(r_j)``, let
``f_k[j]`` be the least cost of serving groups ``1..j`` with exactly k buckets, the last at
``r_j``::

    f_0[0] = 0;   f_k[j] = min_{i < j} ( f_{k-1}[i] + (P_j - P_i) * c_j )

(the last bucket serves groups ``i+1..j``, all at cost ``c_j``: each transition is O(1) thanks
to the prefix sums). The mandatory top closes the plan: with k buckets in all,
``F_k = min_i f_{k-1}[i] + (P_m - P_i) * cost(top)`` (``i <= m``; when ``top == r_m`` it is
simply ``f_k[m]``). The answer for "at most K" is the smallest k reaching ``min_k F_k`` (extra
buckets never hurt, so ties go to fewer warm-up graphs).

Speed. ``min_i (f_{k-1}[i] - P_i * c_j) + P_j * c_j`` is a lower envelope of lines with slopes
``-P_i`` (strictly decreasing in i) queried at ``c_j`` (increasing in j): the monotone convex-hull
trick answers all m queries of one layer in O(m) amortised, exact with integer cross products.
A whole run is O(K * m); m is at most a few thousand even for a million images.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from gaudi_vl.buckets.cost import PATCH_COST, Objective, VisionCost
from gaudi_vl.buckets.histogram import Histogram
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PATCHES_PER_WINDOW

MAX_BUCKETS_FOR_WASTE = 64
"""``--max-waste`` without ``--max-buckets`` searches up to this many buckets (320 warm-up graphs)."""


def required_bucket(patches: int) -> int:
    """``r(v)``: the smallest multiple of 64 patches that holds ``patches``."""
    return -(-patches // PATCHES_PER_WINDOW) * PATCHES_PER_WINDOW


@dataclass(frozen=True)
class OptimalBuckets:
    """The optimizer's answer."""

    buckets: tuple[int, ...]
    objective: Objective
    cost: int
    """The minimised total (padded patches, or vision-tower FLOPs) over the workload: exact."""
    max_buckets: int
    """The budget K it was allowed."""
    top_patches: int
    """The mandatory largest bucket."""


@dataclass(frozen=True)
class _Groups:
    required: tuple[int, ...]
    weights: tuple[int, ...]
    prefix: tuple[int, ...]
    """``prefix[j]`` = images in groups ``1..j`` (``prefix[0] = 0``)."""


def _groups(histogram: Histogram) -> _Groups:
    merged: dict[int, int] = {}
    for v, n in zip(histogram.patches, histogram.counts, strict=True):
        r = required_bucket(v)
        merged[r] = merged.get(r, 0) + n
    required = tuple(sorted(merged))
    weights = tuple(merged[r] for r in required)
    prefix = [0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    return _Groups(required, weights, tuple(prefix))


def resolve_top(histogram: Histogram, top_patches: int | None) -> int:
    """The mandatory largest bucket: ``top_patches`` (checked) or the histogram's own largest."""
    need = required_bucket(histogram.largest_patches)
    if top_patches is None:
        return need
    if top_patches % PATCHES_PER_WINDOW or top_patches <= 0:
        raise GaudiVLError(
            f"largest bucket {top_patches} is not a positive multiple of {PATCHES_PER_WINDOW}",
            "buckets are whole 112 x 112 windows",
        )
    return max(top_patches, need)


class _Envelope:
    """Lower envelope of lines ``y = intercept - slope * x`` (slopes added in increasing order),
    queried at non-decreasing x: the monotone convex-hull trick, exact on Python integers."""

    def __init__(self) -> None:
        self._lines: deque[tuple[int, int, int]] = deque()  # (slope, intercept, index)

    def add(self, slope: int, intercept: int, index: int) -> None:
        lines = self._lines
        if lines and lines[-1][0] == slope:
            if lines[-1][1] <= intercept:
                return
            lines.pop()
        while len(lines) >= 2:
            s1, b1, _ = lines[-2]
            s2, b2, _ = lines[-1]
            # y = b - s x. Middle line 2 is useless when lines 1 and 3 meet no later than 1 and 2:
            # (b3 - b1) / (s3 - s1) <= (b2 - b1) / (s2 - s1), denominators positive.
            if (intercept - b1) * (s2 - s1) <= (b2 - b1) * (slope - s1):
                lines.pop()
            else:
                break
        lines.append((slope, intercept, index))

    def query(self, x: int) -> tuple[int, int]:
        """``(min value, index of the line)`` at ``x``; x must not decrease between calls."""
        lines = self._lines
        while len(lines) >= 2 and lines[1][1] - lines[1][0] * x <= lines[0][1] - lines[0][0] * x:
            lines.popleft()
        s, b, i = lines[0]
        return b - s * x, i


class _Solver:
    """Layer-by-layer DP (one layer per extra bucket), so callers can stop at the first k that is
    good enough (``--max-waste``) or run to K (``--max-buckets``)."""

    def __init__(self, histogram: Histogram, cost: VisionCost, top: int) -> None:
        g = _groups(histogram)
        self.g = g
        self.m = len(g.required)
        self.top = top
        self.top_cost = cost.flops(top)
        self.costs = tuple(cost.flops(r) for r in g.required)
        self.top_is_last = g.required[-1] == top
        inf = None
        self.layer: list[int | None] = [0] + [inf] * self.m  # f_0
        self.back: list[list[int]] = []  # back[k-1][j] = i for f_k[j]
        self.k = 0

    def step(self) -> None:
        """Compute ``f_{k+1}`` from ``f_k``."""
        prev, m, P = self.layer, self.m, self.g.prefix
        env = _Envelope()
        nxt: list[int | None] = [None] * (m + 1)
        back = [0] * (m + 1)
        for j in range(1, m + 1):
            fi = prev[j - 1]
            if fi is not None:
                env.add(P[j - 1], fi, j - 1)
            if not env._lines:
                continue
            c = self.costs[j - 1]
            best, i = env.query(c)
            nxt[j] = best + P[j] * c
            back[j] = i
        self.layer = nxt
        self.back.append(back)
        self.k += 1

    def close(self) -> tuple[int, list[int]] | None:
        """Best plan with exactly ``k + 1`` buckets ending at top (or k when top is r_m):
        ``(cost, buckets)``, or None when infeasible. Uses the current layer ``f_k``."""
        m, P, layer = self.m, self.g.prefix, self.layer
        best: tuple[int, int] | None = None
        if self.top_is_last:
            # The top is r_m itself: the plan is f_k[m] with k buckets.
            if layer[m] is None:
                return None
            return layer[m], self._walk(m)
        for i in range(m + 1):
            fi = layer[i]
            if fi is None:
                continue
            value = fi + (P[m] - P[i]) * self.top_cost
            if best is None or value < best[0]:
                best = (value, i)
        if best is None:
            return None
        return best[0], self._walk(best[1]) + [self.top]

    def _walk(self, j: int) -> list[int]:
        out: list[int] = []
        k = self.k
        while k > 0 and j > 0:
            out.append(self.g.required[j - 1])
            j = self.back[k - 1][j]
            k -= 1
        return out[::-1]


def _plans_up_to(
    histogram: Histogram, cost: VisionCost, top: int, max_buckets: int
) -> list[tuple[int, list[int]] | None]:
    """``plans[n]`` = best plan with exactly n buckets (None if impossible), n = 1..max_buckets.

    Stops at ``m + 1`` buckets (every candidate one): more cannot help, and a huge ``max_buckets``
    must not mean a huge loop."""
    solver = _Solver(histogram, cost, top)
    plans: list[tuple[int, list[int]] | None] = [None]
    max_buckets = min(max_buckets, solver.m + 1)
    if solver.top_is_last:
        for _ in range(max_buckets):
            solver.step()
            plans.append(solver.close())
    else:
        plans.append(solver.close())  # top alone, from f_0
        for _ in range(max_buckets - 1):
            solver.step()
            plans.append(solver.close())
    return plans


def _check(histogram: Histogram, max_buckets: int) -> None:
    if histogram.is_empty:
        raise GaudiVLError("the workload has no images", "check the --workload path and format")
    if max_buckets < 1:
        raise GaudiVLError(f"--max-buckets {max_buckets} is below 1", "allow at least one bucket")


def optimal_buckets(
    histogram: Histogram,
    max_buckets: int,
    cost: VisionCost = PATCH_COST,
    *,
    objective: Objective = Objective.PATCHES,
    top_patches: int | None = None,
) -> OptimalBuckets:
    """At most ``max_buckets`` buckets minimising ``sum(images * cost.flops(bucket))`` exactly.

    ``top_patches`` forces the largest bucket (default: the smallest that holds the workload's
    largest image); pass the pixel range's largest reachable count so that no in-range image ever
    compiles while serving. ``objective`` only labels the result; ``cost`` decides.
    """
    _check(histogram, max_buckets)
    top = resolve_top(histogram, top_patches)
    plans = _plans_up_to(histogram, cost, top, max_buckets)
    best: tuple[int, list[int]] | None = None
    for plan in plans:
        if plan is not None and (best is None or plan[0] < best[0]):
            best = plan
    assert best is not None  # one bucket (the top) is always feasible
    return OptimalBuckets(tuple(best[1]), Objective(objective), best[0], max_buckets, top)


def waste_fraction(padded_patches: int, histogram: Histogram) -> float:
    """``padded / real - 1``: extra patches the tower computes, per real patch (workload-weighted)."""
    return padded_patches / histogram.real_patches - 1.0


def fewest_buckets_for_waste(
    histogram: Histogram,
    max_waste_fraction: float,
    *,
    top_patches: int | None = None,
    max_buckets: int = MAX_BUCKETS_FOR_WASTE,
) -> OptimalBuckets:
    """The fewest buckets (<= ``max_buckets``) whose padding waste stays at or under the limit.

    For each n the least waste with n buckets is the patches-optimal plan, so the first n whose
    optimum meets the limit is the answer (and that plan is returned). Stops as soon as it is found.
    """
    _check(histogram, max_buckets)
    if max_waste_fraction < 0:
        raise GaudiVLError(
            f"--max-waste {100 * max_waste_fraction:g}% is negative", "pass e.g. --max-waste 10"
        )
    top = resolve_top(histogram, top_patches)
    limit_patches = histogram.real_patches * (1.0 + max_waste_fraction)
    solver = _Solver(histogram, PATCH_COST, top)
    best: tuple[int, list[int]] | None = None
    n = 0
    while n < max_buckets:
        if n > 0 or solver.top_is_last:
            solver.step()
        n += 1
        plan = solver.close()
        if plan is None:
            continue
        if best is None or plan[0] < best[0]:
            best = plan
        if plan[0] <= limit_patches:
            return OptimalBuckets(tuple(plan[1]), Objective.PATCHES, plan[0], max_buckets, top)
        if solver.k >= solver.m:
            break  # every candidate is a bucket already: the waste cannot go lower
    assert best is not None
    reached = waste_fraction(best[0], histogram)
    raise GaudiVLError(
        f"no plan of at most {max_buckets} buckets keeps padding under "
        f"{100 * max_waste_fraction:g}% (best: {100 * reached:.2f}% with {len(best[1])} buckets)",
        "raise --max-waste or --max-buckets",
    )


@dataclass(frozen=True)
class BucketScore:
    """How one bucket list serves a workload (the report's comparison row)."""

    label: str
    buckets: tuple[int, ...]
    images: int
    real_patches: int
    padded_patches: int
    """Patches the tower computes: images above the largest bucket count at their own size."""
    images_above_largest: int
    """Run unpadded at a new shape: a graph compile while serving."""
    shapes_above_largest: int
    """Distinct patch counts among those (each compiles once)."""
    tower_flops: int
    """Cost-model FLOPs of the whole workload through the vision tower."""
    warmup_graphs: int
    """Vision-tower sizes the engine compiles at start-up for this list (its profile's warm-up set)."""
    never_warmed: tuple[int, ...] = ()
    """Buckets the engine's warm-up never reaches (their first image compiles while serving)."""
    warmup_above_largest: tuple[int, ...] = ()
    """Sizes warm-up compiles above the largest bucket (graphs no bucketed image uses)."""

    @property
    def waste_fraction(self) -> float:
        return self.padded_patches / self.real_patches - 1.0


def score_buckets(
    label: str,
    buckets: Sequence[int],
    histogram: Histogram,
    cost: VisionCost,
    *,
    warmup_graphs: int | None = None,
    never_warmed: Sequence[int] = (),
    warmup_above_largest: Sequence[int] = (),
) -> BucketScore:
    """Evaluate ``buckets`` on ``histogram`` with the engines' lookup (``EngineProfile.bucket_for``):
    every image is padded to its bucket (both HPU engines always reach it) or, above the largest,
    runs at its own size. ``warmup_graphs`` (default: one per bucket) and the two warm-up lists come
    from the engine profile's warm-up set."""
    ordered = tuple(sorted(buckets))
    padded = flops = above = 0
    above_shapes = 0
    for v, n in zip(histogram.patches, histogram.counts, strict=True):
        # EngineProfile.bucket_for's lookup (the first sorted bucket >= v) by bisection: a linear
        # scan per size cost minutes for 262,144 distinct sizes against 14,266 linear buckets.
        i = bisect.bisect_left(ordered, v)
        b = ordered[i] if i < len(ordered) else None
        run = v if b is None else b
        if b is None:
            above += n
            above_shapes += 1
        padded += run * n
        flops += cost.flops(run) * n
    return BucketScore(
        label=label,
        buckets=ordered,
        images=histogram.images,
        real_patches=histogram.real_patches,
        padded_patches=padded,
        images_above_largest=above,
        shapes_above_largest=above_shapes,
        tower_flops=flops,
        warmup_graphs=len(ordered) if warmup_graphs is None else warmup_graphs,
        never_warmed=tuple(never_warmed),
        warmup_above_largest=tuple(warmup_above_largest),
    )
