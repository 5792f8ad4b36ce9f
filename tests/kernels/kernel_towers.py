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


# --- tolerances: from the dtype's unit roundoff and the operation count, never from one machine's run ---

LAMBDA = 3.0
"""Standard deviations of the probabilistic rounding-error bound (Higham & Mary, "A new approach to
probabilistic rounding error analysis", SIAM J. Sci. Comput. 2019): an n-term inner product computed
in two summation orders differs by at most ``LAMBDA * sqrt(n) * u`` (relative) with probability at
least ``1 - 2 * exp(-LAMBDA**2 / 2)`` per inner product, whatever BLAS blocking the CPU picks."""


def unit_roundoff(dtype: torch.dtype) -> float:
    """``u = eps / 2``: 2^-24 for float32, 2^-8 for bfloat16."""
    return torch.finfo(dtype).eps / 2


def reorder_tolerance(longest_reduction: int, depth: int) -> float:
    """Relative error allowed between two fp32 evaluations of one tower that differ only in the order
    of their sums (kernels, blocking, padding): ``LAMBDA * sqrt(K) * u`` per inner product of the
    longest length K, once for the patch embedding and once per block, the pre-norm residual stream
    carrying each block's error on with gain about 1."""
    return LAMBDA * math.sqrt(longest_reduction) * unit_roundoff(torch.float32) * (depth + 1)


BF16_ROUNDINGS_PER_BLOCK = 16
"""bf16 tensors one vision block materialises, each rounded once: norm1, q, k, v, rotary q and k,
attention scores and probabilities, attention output, proj, residual, norm2, gate, up, act * up, down."""


def bf16_tolerance(depth: int) -> float:
    """Relative error allowed for a bf16 tower against its fp32 original: every materialised tensor
    is rounded once (relative error <= u, independent), fp32 accumulation inside the matmuls, so the
    error grows as ``LAMBDA * sqrt(roundings) * u``."""
    return LAMBDA * math.sqrt(BF16_ROUNDINGS_PER_BLOCK * depth) * unit_roundoff(torch.bfloat16)
