"""The pieces of a Qwen2.5-VL vision tower that the static forward calls, whatever framework built it.

Why: the window-batched forward (``gaudi_vl.kernels.vision``) is one algorithm, but the towers it runs
on differ in layout. transformers' ``Qwen2_5_VisionTransformerPretrainedModel`` has plain ``nn.Linear``
layers (one ``qkv``, separate ``gate_proj``/``up_proj``); vLLM's ``Qwen2_5_VisionTransformer`` has
tensor-parallel linears that return ``(output, bias)`` tuples, a merged ``gate_up_proj`` and a
pre-computed rotary cache. A :class:`Tower` is the common ground: the geometry integers plus one
callable per sub-layer, each reading its module's weights at call time (so ``model.to(...)`` after the
tower was made is still seen). :func:`transformers_tower` builds it for transformers' module; the vLLM
adapter lives in ``gaudi_vl.kernels.vllm_tower``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Geometry", "Tower", "TowerBlock", "as_tower", "transformers_tower"]

Fn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Geometry:
    """The config integers that decide patch order, windows, token merging and attention shapes."""

    merge: int  # spatial_merge_size: m x m patches -> one LLM token
    window_tokens: int  # window side in merged tokens (vit_merger_window_size = 112 / 14 / 2 = 4)
    fullatt: frozenset[int]
    heads: int  # attention heads computed by THIS process (per tensor-parallel rank in vLLM)
    head_dim: int

    @property
    def merge_unit(self) -> int:
        return self.merge * self.merge

    @property
    def window_side(self) -> int:
        """Window side in patches (8 for Qwen2.5-VL: 112 px / 14 px)."""
        return self.window_tokens * self.merge

    @property
    def window_len(self) -> int:
        """Patch slots of one window (64 for Qwen2.5-VL)."""
        return self.window_side * self.window_side


# --------------------------------------------------------------------------------------------------
# Math shared by the adapters
# --------------------------------------------------------------------------------------------------


def rotary_from_inv_freq(
    inv_freq: torch.Tensor, positions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' vision rotary: fp32 ``position * inv_freq`` for rows and columns, rotate-half layout.

    Rule from transformers/models/qwen2_5_vl/modeling_qwen2_5_vl.py (``Qwen2_5_VLVisionRotaryEmbedding``
    and ``apply_rotary_pos_emb_vision``): ``head_dim / 4`` frequencies per axis, ``emb = cat(freqs,
    freqs)``.
    """
    inv_freq = inv_freq.float()
    freqs = positions.to(inv_freq.device, torch.float32)[..., None] * inv_freq  # [n, 2, hd/4]
    freqs = torch.cat([freqs[:, 0], freqs[:, 1]], dim=-1)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """transformers' Qwen2_5_VLRMSNorm math (fp32 statistics, cast back, then the weight)."""
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def _silu_gate(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * up


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' ``apply_rotary_pos_emb_vision``: rotate in fp32, round back to the model dtype.

    The same function as vLLM's neox-style ``ApplyRotaryEmb`` on ``cos``/``sin`` halves
    (vllm/model_executor/layers/rotary_embedding/common.py): ``[x1 cos - x2 sin, x2 cos + x1 sin]``.
    """
    cos, sin = cos.unsqueeze(-2), sin.unsqueeze(-2)
    qf, kf = q.float(), k.float()
    q_out = qf * cos + _rotate_half(qf) * sin
    k_out = kf * cos + _rotate_half(kf) * sin
    return q_out.to(q.dtype), k_out.to(k.dtype)


@lru_cache(maxsize=1)
def fused_elementwise() -> tuple:
    """torch.compile'd RMSNorm, SiLU gate and rotary (opt-in ``fused=True``).

    Why: in eager mode the elementwise chains are about half of the 7B tower's GPU time at 16k patches
    (fp32 upcasts, mean, rsqrt each a full pass over [N, 1280]); fused they are one pass each
    (BENCHMARKS.md, "Vision kernels"). Opt-in, because compiling costs seconds per bucket shape and
    needs a compiler backend (inductor on CUDA).
    """
    return (
        torch.compile(_rms_norm, dynamic=False, fullgraph=True),
        torch.compile(_silu_gate, dynamic=False, fullgraph=True),
        torch.compile(apply_rotary, dynamic=False, fullgraph=True),
    )


@dataclass(frozen=True, eq=False)
class TowerBlock:
    """One transformer block: ``x + proj(attn(qkv(norm1(x))))``, then ``x + mlp(norm2(x))``.

    ``qkv`` returns ``[n, 3 * heads * head_dim]`` laid out as q | k | v, each head-major (the layout of
    transformers' ``qkv`` Linear and of vLLM's ``QKVParallelLinear`` shard alike).
    """

    norm1: Fn
    qkv: Fn
    proj: Fn
    norm2: Fn
    mlp: Fn
    norm1_module: nn.Module | None = None
    """transformers' RMSNorm behind ``norm1`` (``weight``, ``variance_epsilon``), for the packed path's
    one-pass residual add + norm kernel; None: ``norm1`` is called as it is."""
    norm2_module: nn.Module | None = None
    mlp_parts: tuple[Fn, Fn, Fn] | None = None
    """(gate, up, down) when ``mlp`` is ``down(silu(gate(x)) * up(x))``: the packed path fuses the SiLU
    gate product into one pass; None: ``mlp`` is called as it is."""
    gate_up: Callable[[], tuple[torch.Tensor, torch.Tensor | None] | None] | None = None
    """The (weight, bias) of gate and up as ONE matmul when ``fuse_gate_up`` laid them out so (gate
    rows then up rows of one tensor, the modules' parameters views into it), read at call time; None
    when the modules no longer share that storage (e.g. after ``.to()``)."""


@dataclass(frozen=True, eq=False)
class Tower:
    """A vision tower as the static forward sees it. Identity-hashed: caches key on the object.

    prepare: raw pixel rows -> model dtype (vLLM's input norm, or a cast).
    embed_weight: the patch embedding (a Conv3d with kernel == stride, no bias) as a [hidden, C*T*P*P]
      matrix, read at call time.
    rotary: positions [n, 2] (row, col) -> (cos, sin), each [n, head_dim] fp32 in the rotate-half
      layout ``[h freqs | w freqs]`` twice.
    apply_rotary: (q, k, cos, sin) -> rotated (q, k), :func:`apply_rotary` or its compiled twin.
    after_blocks: applied to the hidden states between the last block and the merger (vLLM clamps
      fp16 overflow there); identity otherwise.
    """

    geometry: Geometry
    prepare: Fn
    embed_weight: Callable[[], torch.Tensor]
    blocks: tuple[TowerBlock, ...]
    merger: Fn
    rotary: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    scale: float
    source: nn.Module
    apply_rotary: Callable[..., tuple[torch.Tensor, torch.Tensor]] = apply_rotary
    after_blocks: Fn = field(default=lambda x: x)
    layouts: dict = field(default_factory=dict, repr=False)
    """Per-(grid, bucket, device) device tables, filled by ``gaudi_vl.kernels.vision.vision_layout``."""

    @property
    def dtype(self) -> torch.dtype:
        return self.embed_weight().dtype

    @property
    def device(self) -> torch.device:
        return self.embed_weight().device

    @property
    def pixel_columns(self) -> int:
        return self.embed_weight().shape[1]


# --------------------------------------------------------------------------------------------------
# transformers
# --------------------------------------------------------------------------------------------------


def _hf_norm(norm: nn.Module, fused: bool) -> Fn:
    if not fused:
        return norm
    return lambda x: fused_elementwise()[0](x, norm.weight, norm.variance_epsilon)


def _hf_mlp(mlp: nn.Module, fused: bool) -> Fn:
    if not fused:
        return mlp
    return lambda x: mlp.down_proj(fused_elementwise()[1](mlp.gate_proj(x), mlp.up_proj(x)))


def _rms_module(norm: nn.Module) -> nn.Module | None:
    """The norm if it is transformers' RMSNorm math (a weight and ``variance_epsilon``), else None."""
    ok = type(norm).__name__.endswith("RMSNorm") and hasattr(norm, "variance_epsilon")
    return norm if ok and getattr(norm, "weight", None) is not None else None


def _silu_mlp_parts(mlp: nn.Module) -> tuple[Fn, Fn, Fn] | None:
    """(gate, up, down) of transformers' gated MLP when its activation is SiLU, else None."""
    act = getattr(mlp, "act_fn", None)
    if not isinstance(act, nn.SiLU) and type(act).__name__ != "SiLUActivation":
        return None
    return mlp.gate_proj, mlp.up_proj, mlp.down_proj


GATE_UP_ATTR = "_gaudi_vl_gate_up"
"""Where ``fuse_gate_up`` keeps an MLP's concatenated (weight, bias) (a plain attribute: not a parameter
or buffer, so ``state_dict`` and transformers' own forward see only the two views)."""


def _fused_gate_up(mlp: nn.Module) -> Callable[[], tuple[torch.Tensor, torch.Tensor | None] | None]:
    def read() -> tuple[torch.Tensor, torch.Tensor | None] | None:
        fused = mlp.__dict__.get(GATE_UP_ATTR)
        if fused is None:
            return None
        weight, bias = fused
        width = mlp.gate_proj.weight.shape[0]
        same = (
            weight.shape[0] == 2 * width
            and mlp.gate_proj.weight.data_ptr() == weight.data_ptr()
            and mlp.up_proj.weight.data_ptr() == weight[width:].data_ptr()
            and (bias is None or mlp.gate_proj.bias.data_ptr() == bias.data_ptr())
            and (bias is None or mlp.up_proj.bias.data_ptr() == bias[width:].data_ptr())
        )
        return (weight, bias) if same else None

    return read


def _hf_embed_weight(visual: nn.Module) -> Callable[[], torch.Tensor]:
    def weight() -> torch.Tensor:
        w = visual.patch_embed.proj.weight
        return w.reshape(w.shape[0], -1)

    return weight


def transformers_tower(visual: nn.Module, *, fused: bool = False) -> Tower:
    """The :class:`Tower` of transformers' ``Qwen2_5_VisionTransformerPretrainedModel``.

    ``fused`` runs RMSNorm and the SiLU gate through torch.compile (same math).
    """
    attn = visual.blocks[0].attn
    merge = int(visual.spatial_merge_size)
    geometry = Geometry(
        merge=merge,
        window_tokens=int(visual.window_size) // merge // int(visual.patch_size),
        fullatt=frozenset(int(i) for i in visual.fullatt_block_indexes),
        heads=int(attn.num_heads),
        head_dim=int(attn.head_dim),
    )
    blocks = tuple(
        TowerBlock(
            norm1=_hf_norm(blk.norm1, fused),
            qkv=blk.attn.qkv,
            proj=blk.attn.proj,
            norm2=_hf_norm(blk.norm2, fused),
            mlp=_hf_mlp(blk.mlp, fused),
            norm1_module=_rms_module(blk.norm1),
            norm2_module=_rms_module(blk.norm2),
            mlp_parts=_silu_mlp_parts(blk.mlp),
            gate_up=_fused_gate_up(blk.mlp),
        )
        for blk in visual.blocks
    )
    weight = _hf_embed_weight(visual)
    return Tower(
        geometry=geometry,
        prepare=lambda x: x.to(weight().dtype),
        embed_weight=weight,
        blocks=blocks,
        merger=visual.merger,
        rotary=lambda positions: rotary_from_inv_freq(visual.rotary_pos_emb.inv_freq, positions),
        scale=float(attn.scaling),
        source=visual,
        apply_rotary=fused_elementwise()[2] if fused else apply_rotary,
    )


_CACHE_ATTR = "_gaudi_vl_towers"


class _TowerCache(dict):
    """The towers kept on a module. Copies and pickles of the module start empty: a tower's callables
    hold the ORIGINAL module's sub-modules, which ``copy.deepcopy`` would not re-point."""

    def __reduce__(self) -> tuple:
        return (_TowerCache, ())


def as_tower(visual: nn.Module | Tower, *, fused: bool = False) -> Tower:
    """``visual`` itself if it is a :class:`Tower`, else transformers' module as one.

    Made once per module and ``fused`` flag and kept on the module (so its table cache survives between
    calls and goes away with the module); a copy of the module (``copy.deepcopy``) gets its own.
    """
    if isinstance(visual, Tower):
        return visual
    cache = visual.__dict__.setdefault(_CACHE_ATTR, _TowerCache())
    tower = cache.get(fused)
    if tower is None or tower.source is not visual or len(tower.blocks) != len(visual.blocks):
        tower = cache[fused] = transformers_tower(visual, fused=fused)
    return tower
