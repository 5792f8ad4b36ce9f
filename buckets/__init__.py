"""Bucket planning and optimisation for HPU vision graphs (pure: no torch, no I/O).

Installed as ``gaudi_vl.buckets``. ``rules`` holds gaudi-vl's own policy for a bucket list (whole
windows, each once); ``planner`` spreads buckets over a pixel range; ``optimizer`` picks them from a
workload. What an engine does with a list is in its profile (``gaudi_vl.engines``).
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
from gaudi_vl.buckets.rules import check_bucket_values, round_up_to_window

__all__ = [
    "BucketPlan",
    "BucketRow",
    "BucketScore",
    "GridCount",
    "Histogram",
    "Objective",
    "OptimalBuckets",
    "Strategy",
    "VisionCost",
    "check_bucket_values",
    "cost_for",
    "fewest_buckets_for_waste",
    "histogram_from_patches",
    "histogram_from_sizes",
    "make_plan",
    "optimal_buckets",
    "plan_buckets",
    "round_up_to_window",
    "score_buckets",
]
