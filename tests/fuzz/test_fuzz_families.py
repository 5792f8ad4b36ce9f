"""Fuzz the family config readers (Qwen3-VL, Qwen2-VL, Gemma-3, Llama-4): any JSON value under any
key of config.json or preprocessor_config.json gives a spec whose image rule works on real sizes, or a
one-line ``GaudiVLError``; never another exception."""

from __future__ import annotations

import copy
from typing import Any

from hostile import fuzz, json_values
from hypothesis import event, given
from hypothesis import strategies as st

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.family_models import FAMILY_BUILTINS, family_model_spec

GEMMA4 = ("gemma4-local", {
    "model_type": "gemma4",
    "text_config": {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4,
                    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 500,
                    "global_head_dim": 32,
                    "num_global_key_value_heads": 1, "attention_k_eq_v": True, "enable_moe_block": True,
                    "num_experts": 4, "top_k_experts": 2, "moe_intermediate_size": 40,
                    "hidden_size_per_layer_input": 8, "num_kv_shared_layers": 1, "use_double_wide_mlp": True,
                    "layer_types": ["sliding_attention", "full_attention"] * 2},
    "vision_config": {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1,
                      "num_attention_heads": 4, "patch_size": 16, "pooling_kernel_size": 3},
}, {"max_soft_tokens": 280})
CONFIGS = {**FAMILY_BUILTINS, GEMMA4[0]: GEMMA4}
NAMES = sorted(CONFIGS)


def _keys(config: dict[str, Any]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for k, v in config.items():
        out.append((k,))
        if isinstance(v, dict):
            out += [(k, kk) for kk in v]
    return out


@fuzz
@given(st.sampled_from(NAMES), st.data(), json_values(), st.booleans())
def test_hostile_config_values(name: str, data: st.DataObject, value: Any, in_pre: bool) -> None:
    _, config, pre = CONFIGS[name]
    config, pre = copy.deepcopy(config), copy.deepcopy(pre)
    extra = ["moe_layers", "mlp_only_layers", "do_pan_and_scan", "pan_and_scan_min_crop_size",
             "pan_and_scan_max_num_crops", "pan_and_scan_min_ratio_to_activate", "max_patches", "size",
             "max_soft_tokens"]
    if in_pre:
        key = data.draw(st.sampled_from([*pre, *extra]))
        pre[key] = value
    else:
        path = data.draw(st.sampled_from(_keys(config) + [("text_config", "moe_layers"),
                                                          ("text_config", "mlp_only_layers"),
                                                          ("text_config", "per_layer_config")]))
        target = config
        for k in path[:-1]:
            target = target.setdefault(k, {}) if isinstance(target.get(k, {}), dict) else {}
        target[path[-1]] = value
    try:
        spec = family_model_spec(config, pre)
    except GaudiVLError as exc:
        assert "\n" not in str(exc)
        return
    for w, h in ((640, 480), (4032, 3024), (1, 1), (3000, 20)):
        try:
            shape = spec.family.image.shape(w, h)  # type: ignore[union-attr]
        except GaudiVLError:
            continue
        assert shape.units >= 1 and shape.tokens >= 0


@fuzz
@given(st.sampled_from(NAMES), st.data(), st.one_of(json_values(), st.integers(1, 1 << 17)),
       st.sampled_from([1, 2, 4, 8]))
def test_hostile_config_values_through_the_whole_plan(name: str, data: st.DataObject, value: Any,
                                                      tp: int) -> None:
    """A config the readers accept plans on vllm-gaudi (memory, text buckets, warm-up estimate, env,
    command) or stops with one ``GaudiVLError``: never another exception."""
    import time

    from gaudi_vl.assembly import PlanRequest, assemble_family
    from gaudi_vl.command import server_argv
    from gaudi_vl.envvars import plan_env
    from gaudi_vl.family_plan import FamilyWarmup
    from gaudi_vl.settings import ServeSettings

    _, config, pre = CONFIGS[name]
    config = copy.deepcopy(config)
    path = data.draw(st.sampled_from(_keys(config)))
    target = config
    for k in path[:-1]:
        target = target.setdefault(k, {}) if isinstance(target.get(k, {}), dict) else {}
    target[path[-1]] = value
    start = time.perf_counter()
    try:
        spec = family_model_spec(config, copy.deepcopy(pre), name=name, hf_id="x/y")
        serve = ServeSettings(target="vllm-gaudi", tensor_parallel_size=tp, device="gaudi3",
                              max_model_len=4096)
        plan = assemble_family(PlanRequest(spec, serve, model_ref="x/y"), FamilyWarmup((), (), 1))
        plan_env(plan), server_argv(plan), plan.warmup_estimate.summary()
        event("planned")
    except GaudiVLError as exc:
        assert "\n" not in exc.message
        event("GaudiVLError")
    assert time.perf_counter() - start < 20
