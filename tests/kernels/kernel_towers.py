"""Small Qwen2.5-VL vision towers with random weights, and helpers, for the kernel tests.

Imported only by test modules that already passed ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

import math

import torch
from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLVisionConfig
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VisionTransformerPretrainedModel

# Real geometry (14-px patches, 112-px windows, merge 2, temporal patch 2), small widths.
TINY = dict(
    depth=4,
    hidden_size=64,
    num_heads=4,
    intermediate_size=96,
    out_hidden_size=48,
    fullatt_block_indexes=[1, 3],
)
# head_dim 80, as in the 7B tower.
MID = dict(
    depth=6,
    hidden_size=160,
    num_heads=2,
    intermediate_size=344,
    out_hidden_size=96,
    fullatt_block_indexes=[2, 5],
)
PIXEL_COLUMNS = 3 * 2 * 14 * 14


def make_tower(dims: dict, seed: int, attn_implementation: str = "sdpa") -> torch.nn.Module:
    """A tower whose weights are large enough that attention is peaked, so masks and order matter.

    transformers' own init (std 0.02) gives near-uniform attention, which would hide ordering mistakes.
    """
    config = Qwen2_5_VLVisionConfig(**dims)
    model = Qwen2_5_VisionTransformerPretrainedModel._from_config(
        config, attn_implementation=attn_implementation
    )
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=gen)
            if param.ndim == 1 and ("norm" in name or "ln_q" in name):
                param.copy_(1.0 + 0.2 * noise)
            else:
                fan_in = param[0].numel() if param.ndim > 1 else param.numel()
                param.copy_(noise * (1.5 / math.sqrt(fan_in)))
    return model.eval()


def pixels_for(h: int, w: int, seed: int) -> torch.Tensor:
    """Random processor-layout rows for an h x w patch grid (values like normalised pixels)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(h * w, PIXEL_COLUMNS, generator=gen)


def reference(visual: torch.nn.Module, pixels: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """What transformers' own module hands the language model for one image."""
    with torch.no_grad():
        return visual(pixels, grid_thw=torch.tensor([[1, h, w]])).pooler_output


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    return ((out.double() - ref.double()).norm() / ref.double().norm()).item()
