"""Static-shape torch code for the Qwen2.5-VL vision path (HPU via habana_frameworks, CUDA, CPU).

Why this folder exists: HPU graphs (and CUDA graphs) need one shape per bucket, and the engine's
stock answer, dense [bucket x bucket] masked attention in every layer, pays N^2 for the 64-patch
window layers. Here the window layers are one batched attention over [windows, heads, 64, 64], the
full-attention layers one attention with a key-padding mask, and images are preprocessed on the
device. Plain PyTorch only, so the same code runs wherever torch runs.

Users: ``accelerate(model, buckets=...)`` swaps a loaded transformers Qwen2.5-VL's vision tower for
this forward (``handle.undo()`` restores it); in vLLM, ``GAUDI_VL_VISION=bucketed`` does the same
through gaudi-vl's plugin (``gaudi_vl.vllm_plugin``). Modules: ``vision`` (the static forward, one image
per bucket), ``packed`` (the CUDA default: frames packed per bucket, variable-length attention),
``fast`` (single-pass elementwise kernels with PyTorch twins, varlen and key-masked attention),
``tower`` (the sub-layer adapter), ``runner`` (several images and frames, graphs per bucket), ``hf``
(``accelerate``), ``vllm_tower`` (vLLM's layout), ``preprocessing``.

torch is an optional extra of gaudi-vl: names are imported lazily so that ``import gaudi_vl.kernels``
does not need torch until a kernel is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "accelerate": "hf",
    "Acceleration": "hf",
    "VisionRunner": "runner",
    "bucketed_vision_forward": "vision",
    "dense_masked_vision_forward": "vision",
    "BucketGraph": "vision",
    "VisionLayout": "vision",
    "vision_layout": "vision",
    "slots_for": "vision",
    "Tower": "tower",
    "as_tower": "tower",
    "transformers_tower": "tower",
    "attention": "vision",
    "pad_mlp_for_tensor_cores": "vision",
    "fuse_gate_up": "vision",
    "unfuse_gate_up": "vision",
    "packed_vision_forward": "packed",
    "PackedGraph": "packed",
    "preprocess": "preprocessing",
    "QWEN2_VL_MEAN": "preprocessing",
    "QWEN2_VL_STD": "preprocessing",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use (keeps torch optional)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
