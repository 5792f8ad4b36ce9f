"""Bucket planning and optimisation for HPU vision graphs (pure: no torch, no I/O).

Installed as ``gaudi_vl.buckets``. ``rules`` reproduces the engine's parsing, lookup and padding;
``planner`` spreads buckets over a pixel range; ``optimizer`` picks them from a workload.
"""

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
    "Strategy",
    "bucket_for",
    "engine_padded_grid",
    "make_plan",
    "parse_engine_buckets",
    "plan_buckets",
]
