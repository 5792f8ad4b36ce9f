"""The built-in model dimensions (``gaudi_vl.models``) as transformers config keys, for the benchmarks.

One source for the 7B vision tower's shape: the benchmark scripts build their random-weight towers
from it instead of each writing the numbers again.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from gaudi_vl.models import builtin_model


def vision_config(name: str = "qwen2.5-vl-7b", **extra: Any) -> dict[str, Any]:
    """``Qwen2_5_VLVisionConfig`` keyword arguments for the built-in model ``name`` (plus ``extra``)."""
    spec = dataclasses.asdict(builtin_model(name).vision)
    spec["fullatt_block_indexes"] = list(spec["fullatt_block_indexes"])
    return {**spec, **extra}
