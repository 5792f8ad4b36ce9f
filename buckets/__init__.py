"""Bucket planning and optimisation for HPU vision graphs (pure: no torch, no I/O).

Installed as ``gaudi_vl.buckets``. ``rules`` reproduces the engine's parsing, lookup and padding;
``planner`` spreads buckets over a pixel range; ``optimizer`` picks them from a workload.
"""

from gaudi_vl.buckets.cost import Objective, VisionCost, cost_for
from gaudi_vl.buckets.histogram import GridCount, Histogram, histogram_from_patches, histogram_from_sizes
from gaudi_vl.buckets.optimizer import (
    BucketScore,
    OptimalBuckets,
    fewest_buckets_for_waste,
    optimal_buckets,
    score_buckets,
)
from gaudi_vl.buckets.planner import BucketPlan, BucketRow, Strategy, make_plan, plan_buckets
from gaudi_vl.buckets.rules import (
    ENGINE_DEFAULT_BUCKETS,
    bucket_for,
    engine_padded_grid,
    parse_engine_buckets,
)

__all__ = [
    "ENGINE_DEFAULT_BUCKETS",
    "BucketPlan",
    "BucketRow",
    "BucketScore",
    "GridCount",
    "Histogram",
    "Objective",
    "OptimalBuckets",
    "Strategy",
    "VisionCost",
    "bucket_for",
    "cost_for",
    "engine_padded_grid",
    "fewest_buckets_for_waste",
    "histogram_from_patches",
    "histogram_from_sizes",
    "make_plan",
    "optimal_buckets",
    "parse_engine_buckets",
    "plan_buckets",
    "score_buckets",
]
