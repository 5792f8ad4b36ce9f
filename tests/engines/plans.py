"""Helpers for the engine-profile tests: whole plans through ``gaudi_vl.assembly`` and the numbers
the engines' memory arithmetic is checked with.

Nothing here restates an engine rule; each test module states its facts with their citations.
"""

from __future__ import annotations

from gaudi_vl.assembly import PlanRequest, assemble
from gaudi_vl.models import builtin_model
from gaudi_vl.plan import Plan
from gaudi_vl.settings import ServeSettings

MODEL = builtin_model("qwen2.5-vl-7b")

# One memory case for every engine's split, chosen so that each rule shows in the result.
# free = 64 GiB, gpu_memory_utilization 0.5, VLLM_GRAPH_RESERVED_MEM 0.5, one KV block = 10^6 bytes:
# usable = 2^36 * 0.5 = 34359738368; KV = usable * (1 - 0.5) = 17179869184 bytes = 17179.87 blocks.
FREE = 64 * 2**30
UTIL = 0.5
RESERVED = 0.5
BLOCK_BYTES = 10**6


def plan_for(
    target: str, *, user_buckets: tuple[int, ...] | None = None, max_pixels: int | None = None,
    min_pixels: int | None = None, max_aspect: float | None = None, **serve: object,
) -> Plan:
    """The plan gaudi-vl makes for Qwen2.5-VL-7B on ``target`` (no memory plan for upstream vLLM).

    With ``user_buckets`` and no ``max_pixels``, ``max_pixels`` is the largest bucket's pixels and the
    aspect ratio at most 2 (the planner refuses a list that leaves the range's top unbucketed)."""
    if user_buckets is not None and max_pixels is None:
        max_pixels = max(user_buckets) * 196
        max_aspect = max_aspect or 2.0
    req = PlanRequest(model=MODEL, serve=ServeSettings(target=target, **serve), user_buckets=user_buckets,
                      min_pixels=min_pixels, max_pixels=max_pixels,
                      **({"max_aspect": max_aspect} if max_aspect else {}))
    plan, _ = assemble(req)
    return plan
