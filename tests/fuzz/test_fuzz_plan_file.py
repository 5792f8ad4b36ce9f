"""Fuzz ``gaudi-vl serve --plan FILE``: a saved plan with hostile values in every field.

The plan file is read strictly (``gaudi_vl.planfile.plan_from_dict``: every field typed from the
settings' one declaration, unknown keys refused, implied sections checked), so every hostile value is
one line with exit 2, never a traceback or a silently different plan.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from hostile import assert_contract, dumps, fuzz, json_values, run_cli, sandbox
from hypothesis import example, given
from hypothesis import strategies as st


@functools.cache
def saved_plan() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        r = run_cli(["plan", "--min-pixels", "401408", "--json"], Path(folder))
        assert r.rc == 0, r.stderr
        return json.loads(r.stdout)


def leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in leaf_paths(value, (*prefix, key))] or [prefix]
    return [prefix]


PATHS = [
    ("serve", "tensor_parallel_size"),
    ("serve", "port"),
    ("serve", "host"),
    ("model", "ref"),
    ("target",),
    ("buckets",),
    ("resolutions",),
    ("serve", "fp32_softmax"),
    ("serve", "max_model_len"),
    ("pixel_range", "min_pixels"),
    ("pixel_range", "max_pixels"),
    ("memory",),
]


@fuzz
@example(path=("serve", "tensor_parallel_size"), value="2")
@given(
    path=st.one_of(
        st.sampled_from(PATHS),
        st.deferred(lambda: st.sampled_from(leaf_paths(saved_plan()))),
    ),
    value=json_values(),
)
def test_plan_file(path: tuple[str, ...], value: Any) -> None:
    doc = json.loads(json.dumps(saved_plan()))
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node
    if isinstance(node, dict) and path:
        node[path[-1]] = value
    with sandbox() as box:
        (box / "plan.json").write_text(dumps(doc))
        assert_contract(run_cli(["serve", "--plan", "plan.json", "--dry-run"], box))
