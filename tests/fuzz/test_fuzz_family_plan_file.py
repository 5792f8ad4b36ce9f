"""Fuzz a family plan file (``gaudi_vl.planfile`` with ``family_warmup``): hostile values in every
field are a ``GaudiVLError`` (one line at the CLI), never another exception or a different plan.

In process (``plan_from_dict``), so many examples stay cheap; ``test_fuzz_plan_file`` runs the CLI."""

from __future__ import annotations

import functools
import json
from typing import Any

from hostile import json_values
from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.assembly import PlanRequest, assemble_family
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.family_plan import FamilyWarmup
from gaudi_vl.models import builtin_model
from gaudi_vl.planfile import plan_from_dict, plan_to_dict
from gaudi_vl.settings import ServeSettings


@functools.cache
def saved() -> str:
    model = builtin_model("qwen3-vl-8b")
    serve = ServeSettings(target="vllm-gaudi", images_per_prompt=2)
    plan = assemble_family(PlanRequest(model, serve, model_ref=model.hf_id),
                           FamilyWarmup((196, 441), ("1280x704x1-2",), 2))
    return json.dumps(plan_to_dict(plan))


def leaf_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in leaf_paths(v, (*prefix, k))] or [prefix]
    if isinstance(node, list) and node:
        return [p for i, v in enumerate(node) for p in leaf_paths(v, (*prefix, i))]
    return [prefix]


PATHS = [("family_warmup", "limit"), ("family_warmup", "buckets"), ("family_warmup", "resolutions"),
         ("family_warmup",), ("model", "spec", "family", "image", "kind"),
         ("model", "spec", "family", "kv_heads"), ("buckets",), ("pixel_range", "max_pixels")]


@settings(max_examples=300, deadline=None)
@given(path=st.one_of(st.sampled_from(PATHS),
                      st.deferred(lambda: st.sampled_from(leaf_paths(json.loads(saved()))))),
       value=json_values())
def test_family_plan_file(path: tuple[Any, ...], value: Any) -> None:
    doc = json.loads(saved())
    node = doc
    for key in path[:-1]:
        node = node[key]
    if path:
        node[path[-1]] = value
    try:
        plan = plan_from_dict(doc)
    except GaudiVLError as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert plan_to_dict(plan)["family_warmup"] == doc["family_warmup"]
