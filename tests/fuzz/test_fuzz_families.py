"""Fuzz the family config readers (Qwen3-VL, Qwen2-VL, Gemma-3, Llama-4): any JSON value under any
key of config.json or preprocessor_config.json gives a spec whose image rule works on real sizes, or a
one-line ``GaudiVLError``; never another exception."""

from __future__ import annotations

import copy
from typing import Any

from hostile import fuzz, json_values
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.family_models import FAMILY_BUILTINS, family_model_spec

NAMES = sorted(FAMILY_BUILTINS)


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
    _, config, pre = FAMILY_BUILTINS[name]
    config, pre = copy.deepcopy(config), copy.deepcopy(pre)
    extra = ["moe_layers", "mlp_only_layers", "do_pan_and_scan", "pan_and_scan_min_crop_size",
             "pan_and_scan_max_num_crops", "pan_and_scan_min_ratio_to_activate", "max_patches", "size"]
    if in_pre:
        key = data.draw(st.sampled_from([*pre, *extra]))
        pre[key] = value
    else:
        path = data.draw(st.sampled_from(_keys(config) + [("text_config", "moe_layers"),
                                                          ("text_config", "mlp_only_layers")]))
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
