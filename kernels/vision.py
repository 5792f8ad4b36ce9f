"""Bucketed, window-batched Qwen2.5-VL vision tower with static shapes per bucket.

transformers' ``Qwen2_5_VisionTransformerPretrainedModel`` runs its 64-patch windows as one SDPA call
per window (dynamic, slow), and the HPU engine pads each image to a bucket and runs dense
[bucket x bucket] masked attention. For a 112-aligned image every window holds exactly
``(window_size / patch_size)^2`` = 64 patches in an 8x8 layout, and padding the image with whole
64-patch windows keeps that true. So, in window order:

* window layers are ONE batched attention over ``[num_windows, heads, 64, 64]`` (pad windows attend
  only to themselves);
* full-attention layers (``fullatt_block_indexes``) are ONE attention over the bucket with a
  key-padding mask, so pad rows never reach a real row;
* pad rows are zeroed before the patch embedding, so no pad content (not even inf/NaN) can leak.

Every shape depends on the bucket alone; the image only changes index and rotary tables, which makes
the forward capturable once per bucket (``BucketGraph``: a CUDA graph on GPUs, the analogue of an
HPU graph) and replayable for any image that fits.

The module's weights are used as they are: its own RMSNorm, MLP and merger modules run unchanged;
the attention reuses its ``qkv``/``proj`` linears and transformers' rotary rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BucketGraph",
    "VisionLayout",
    "attention",
    "bucketed_vision_forward",
    "dense_masked_vision_forward",
    "pad_mlp_for_tensor_cores",
    "vision_layout",
]


# --------------------------------------------------------------------------------------------------
# Geometry of the tower
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    """The config integers that decide patch order, windows and token merging."""

    merge: int  # spatial_merge_size: m x m patches -> one LLM token
    window_tokens: int  # window side in merged tokens (transformers' vit_merger_window_size)
    fullatt: frozenset[int]
    heads: int
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
        """Patches in one window (64 for Qwen2.5-VL)."""
        return self.window_side * self.window_side


def _geometry(visual: nn.Module) -> _Geometry:
    attn = visual.blocks[0].attn
    return _Geometry(
        merge=int(visual.spatial_merge_size),
        window_tokens=int(visual.window_size) // int(visual.spatial_merge_size) // int(visual.patch_size),
        fullatt=frozenset(int(i) for i in visual.fullatt_block_indexes),
        heads=int(attn.num_heads),
        head_dim=int(attn.head_dim),
    )


def _grid_hw(grid_thw: torch.Tensor | Sequence[int]) -> tuple[int, int]:
    """(h, w) in patches of ONE single-frame image; anything else is refused (one image per call)."""
    values = [
        int(v) for v in (grid_thw.reshape(-1).tolist() if isinstance(grid_thw, torch.Tensor) else grid_thw)
    ]
    if len(values) != 3:
        raise ValueError(f"grid_thw must describe exactly one image as (t, h, w), got {values}")
    t, h, w = values
    if t != 1:
        raise ValueError(f"one still image per call (t == 1), got t={t}")
    return h, w


# --------------------------------------------------------------------------------------------------
# Index tables (host side, cached per grid/bucket)
# --------------------------------------------------------------------------------------------------


def _window_token_index(h_tok: int, w_tok: int, win: int) -> torch.Tensor:
    """Merged-token order of transformers' window attention for one aligned frame.

    Rule reproduced from transformers/vision_utils.py ``get_vision_window_index``: merged tokens are
    grouped into ``win x win`` windows, windows row-major, tokens row-major inside a window. With
    sides that are multiples of ``win`` no window is partial, so the rule is a pure reshape.
    """
    idx = torch.arange(h_tok * w_tok).view(h_tok // win, win, w_tok // win, win)
    return idx.permute(0, 2, 1, 3).reshape(-1)


def _patch_positions(h: int, w: int, merge: int) -> torch.Tensor:
    """(row, col) of every patch in the processor's order: merge blocks row-major, m x m inside.

    Same layout as transformers' ``get_vision_position_ids`` (and the Qwen2-VL image processor).
    """
    hpos = torch.arange(h).view(h // merge, merge, 1, 1).expand(h // merge, merge, w // merge, merge)
    wpos = torch.arange(w).view(1, 1, w // merge, merge).expand(h // merge, merge, w // merge, merge)
    hpos = hpos.permute(0, 2, 1, 3).reshape(-1)
    wpos = wpos.permute(0, 2, 1, 3).reshape(-1)
    return torch.stack([hpos, wpos], dim=-1)


@lru_cache(maxsize=256)
def _host_tables(h: int, w: int, bucket: int, geo: _Geometry) -> tuple[torch.Tensor, ...]:
    """Index tables of one (grid, bucket): window-order patch gather, positions, token un-gather."""
    side, m = geo.window_side, geo.merge
    if h % side or w % side:
        raise ValueError(
            f"grid {h}x{w} patches is not window-aligned: both sides must be multiples of {side} patches "
            f"({side * 14} px for 14-px patches); align the image first (gaudi-vl's 112-alignment)"
        )
    n = h * w
    if bucket % geo.window_len or bucket < n:
        raise ValueError(
            f"bucket {bucket} must be a multiple of {geo.window_len} and >= the image's {n} patches"
        )
    win_tok = _window_token_index(h // m, w // m, geo.window_tokens)
    unit = geo.merge_unit
    real = (win_tok[:, None] * unit + torch.arange(unit)).reshape(-1)
    patch_order = torch.cat([real, torch.arange(n, bucket)])
    positions = _patch_positions(h, w, m)[real]  # window order, real rows only
    token_order = torch.cat([torch.argsort(win_tok), torch.arange(n // unit, bucket // unit)])
    return patch_order, positions, token_order


# --------------------------------------------------------------------------------------------------
# Per-image device tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisionLayout:
    """Device tables for one image in one bucket. Every tensor's shape depends on the bucket only.

    patch_order: [bucket] long, row of the padded ``pixel_values`` for each window-order slot.
    cos, sin: [bucket, head_dim] fp32 rotary tables in window order (identity rotation on pad rows).
    row_valid: [bucket] bool, real rows (they come first in window order).
    key_mask: [1, 1, 1, bucket] bool key-padding mask for the full-attention layers.
    token_order: [bucket // m^2] long, merged row for each output token in the image's own order;
      the first ``num_patches // m^2`` entries are the real tokens.
    """

    grid: tuple[int, int]
    bucket: int
    num_patches: int
    num_tokens: int
    patch_order: torch.Tensor
    cos: torch.Tensor
    sin: torch.Tensor
    row_valid: torch.Tensor
    key_mask: torch.Tensor
    token_order: torch.Tensor


def _inv_freq(visual: nn.Module) -> torch.Tensor:
    """The tower's own rotary inverse frequencies (head_dim / 4 of them: h and w halves)."""
    return visual.rotary_pos_emb.inv_freq.float()


def _rotary_tables(positions: torch.Tensor, inv_freq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin in transformers' layout: [h freqs | w freqs] twice (rotate_half convention), fp32."""
    freqs = positions.to(inv_freq.device, torch.float32)[..., None] * inv_freq  # [n, 2, hd/4]
    freqs = torch.cat([freqs[:, 0], freqs[:, 1]], dim=-1)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def vision_layout(
    visual: nn.Module, grid_thw: torch.Tensor | Sequence[int], bucket: int, device: torch.device | None = None
) -> VisionLayout:
    """The device tables that place one aligned image into ``bucket`` patches (cached: re-sending
    them every call would put small host-to-device copies on the critical path of a graph replay)."""
    geo = _geometry(visual)
    h, w = _grid_hw(grid_thw)
    device = torch.device(device) if device is not None else visual.rotary_pos_emb.inv_freq.device
    inv_freq = visual.rotary_pos_emb.inv_freq
    key = (h, w, int(bucket), str(device), geo, inv_freq.data_ptr(), inv_freq._version)
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) >= _LAYOUT_CACHE_SIZE:
            _LAYOUTS.pop(next(iter(_LAYOUTS)))
        layout = _LAYOUTS[key] = _build_layout(visual, geo, h, w, int(bucket), device)
    return layout


_LAYOUT_CACHE_SIZE = 64
_LAYOUTS: dict[tuple, VisionLayout] = {}


def _build_layout(
    visual: nn.Module, geo: _Geometry, h: int, w: int, bucket: int, device: torch.device
) -> VisionLayout:
    patch_order, positions, token_order = _host_tables(h, w, int(bucket), geo)
    n = h * w
    cos_r, sin_r = _rotary_tables(positions, _inv_freq(visual).to(device))
    cos = torch.ones(bucket, geo.head_dim, dtype=torch.float32, device=device)
    sin = torch.zeros(bucket, geo.head_dim, dtype=torch.float32, device=device)
    cos[:n] = cos_r
    sin[:n] = sin_r
    row_valid = torch.arange(bucket, device=device) < n
    return VisionLayout(
        grid=(h, w),
        bucket=int(bucket),
        num_patches=n,
        num_tokens=n // geo.merge_unit,
        patch_order=patch_order.to(device),
        cos=cos,
        sin=sin,
        row_valid=row_valid,
        key_mask=row_valid.view(1, 1, 1, bucket),
        token_order=token_order.to(device),
    )


# --------------------------------------------------------------------------------------------------
# The static forward
# --------------------------------------------------------------------------------------------------


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    scale: float,
    fp32_softmax: bool = False,
) -> torch.Tensor:
    """SDPA over [batch, heads, seq, head_dim]; ``mask`` is boolean, True = may attend.

    ``fp32_softmax`` reproduces the engine's VLLM_FP32_SOFTMAX_VISION (FusedSDPA softmax_mode='fp32',
    vllm_gaudi/models/qwen2_5_vl.py): the scores, the softmax and its normaliser are kept in fp32 instead
    of the model dtype. PyTorch has no softmax-precision switch on its fused SDPA, so the attention runs
    on fp32 copies of q/k/v (the memory-efficient kernels support fp32) and the result is rounded back.
    """
    if fp32_softmax and q.dtype != torch.float32:
        out = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask, scale=scale)
        return out.to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _apply_rotary(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' ``apply_rotary_pos_emb_vision``: rotate in fp32, round back to the model dtype."""
    cos, sin = cos.unsqueeze(-2), sin.unsqueeze(-2)
    qf, kf = q.float(), k.float()
    q_out = qf * cos + _rotate_half(qf) * sin
    k_out = kf * cos + _rotate_half(kf) * sin
    return q_out.to(q.dtype), k_out.to(k.dtype)


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """transformers' Qwen2_5_VLRMSNorm math (fp32 statistics, cast back, then the weight)."""
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def _silu_gate(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * up


@lru_cache(maxsize=1)
def _fused_ops() -> tuple:
    """torch.compile'd versions of the elementwise chains (rotary, RMSNorm, SiLU gate).

    Why: in eager mode these chains are ~half of the tower's GPU time at 16k patches (fp32 upcasts,
    cat, mean, rsqrt each a full pass over [N, 1280]); fused they are one pass each. Opt-in, because
    compiling costs seconds per bucket and needs a compiler backend (inductor on CUDA).
    """
    return (
        torch.compile(_apply_rotary, dynamic=False, fullgraph=True),
        torch.compile(_rms_norm, dynamic=False, fullgraph=True),
        torch.compile(_silu_gate, dynamic=False, fullgraph=True),
    )


def _norm(norm: nn.Module, x: torch.Tensor, fused: bool) -> torch.Tensor:
    if not fused:
        return norm(x)
    return _fused_ops()[1](x, norm.weight, norm.variance_epsilon)


def _mlp(mlp: nn.Module, x: torch.Tensor, fused: bool) -> torch.Tensor:
    if not fused:
        return mlp(x)
    return mlp.down_proj(_fused_ops()[2](mlp.gate_proj(x), mlp.up_proj(x)))


def _qkv(
    attn: nn.Module,
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    geo: _Geometry,
    fused: bool = False,
):
    n = x.shape[0]
    q, k, v = attn.qkv(x).view(n, 3, geo.heads, geo.head_dim).unbind(1)
    q, k = (_fused_ops()[0] if fused else _apply_rotary)(q, k, cos, sin)
    return q, k, v


def _windowed_attention(
    attn: nn.Module,
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    key_mask: torch.Tensor | None,
    window: bool,
    geo: _Geometry,
    fp32_softmax: bool,
    fused: bool = False,
) -> torch.Tensor:
    """One attention sub-layer in window order: batched windows, or the whole bucket with a key mask."""
    n = x.shape[0]
    q, k, v = _qkv(attn, x, cos, sin, geo, fused)
    if window:
        # [n, heads, hd] -> [windows, heads, 64, hd]: each window is 64 consecutive rows.
        shape = (n // geo.window_len, geo.window_len, geo.heads, geo.head_dim)
        q, k, v = (t.reshape(shape).transpose(1, 2) for t in (q, k, v))
        out = attention(q, k, v, None, attn.scaling, fp32_softmax)
    else:
        q, k, v = (t.unsqueeze(0).transpose(1, 2) for t in (q, k, v))
        out = attention(q, k, v, key_mask, attn.scaling, fp32_softmax)
    out = out.transpose(1, 2).reshape(n, geo.heads * geo.head_dim)
    return attn.proj(out)


def _patch_embed(visual: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The Conv3d patch embedding as the matmul it is (kernel == stride, no bias)."""
    weight = visual.patch_embed.proj.weight
    return F.linear(x.to(weight.dtype), weight.reshape(weight.shape[0], -1))


def _static_forward(
    visual: nn.Module,
    pixels: torch.Tensor,
    patch_order: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    row_valid: torch.Tensor,
    key_mask: torch.Tensor | None,
    token_order: torch.Tensor,
    fp32_softmax: bool,
    fused: bool = False,
) -> torch.Tensor:
    """Bucket-shaped forward: [bucket, C*T*P*P] pixels -> [bucket // m^2, out_hidden] tokens.

    Only tensors go in, so the same call can be captured in a graph and replayed with new tables.
    """
    geo = _geometry(visual)
    x = pixels.index_select(0, patch_order)
    dtype = visual.patch_embed.proj.weight.dtype
    x = torch.where(row_valid[:, None], x.to(dtype), torch.zeros((), dtype=dtype, device=x.device))
    x = _patch_embed(visual, x)
    for i, blk in enumerate(visual.blocks):
        window = i not in geo.fullatt
        hidden = _norm(blk.norm1, x, fused)
        x = x + _windowed_attention(blk.attn, hidden, cos, sin, key_mask, window, geo, fp32_softmax, fused)
        x = x + _mlp(blk.mlp, _norm(blk.norm2, x, fused), fused)
    merged = visual.merger(x)
    return merged.index_select(0, token_order)


def _padded_pixels(pixel_values: torch.Tensor, bucket: int) -> torch.Tensor:
    rows = pixel_values.shape[0]
    if rows == bucket:
        return pixel_values
    pad = pixel_values.new_zeros(bucket - rows, pixel_values.shape[1])
    return torch.cat([pixel_values, pad])


def bucketed_vision_forward(
    visual: nn.Module,
    pixel_values: torch.Tensor,
    grid_thw: torch.Tensor | Sequence[int],
    bucket: int,
    *,
    fp32_softmax: bool = False,
    fused: bool = False,
) -> torch.Tensor:
    """What ``visual(pixel_values, grid_thw=grid_thw).pooler_output`` hands the language model.

    ``fused`` runs the elementwise chains through torch.compile (same math; see ``_fused_ops``).

    ``pixel_values`` is ONE window-aligned image in the processor's layout, either its own
    ``h*w`` rows or already padded to ``bucket`` rows (the pad rows' content is ignored).
    Returns ``[h*w // m^2, out_hidden]`` merged tokens in the image's order.
    """
    layout = vision_layout(visual, grid_thw, bucket, pixel_values.device)
    if pixel_values.shape[0] not in (layout.num_patches, layout.bucket):
        raise ValueError(
            f"pixel_values has {pixel_values.shape[0]} rows; expected {layout.num_patches} (the image) "
            f"or {layout.bucket} (the image padded to the bucket)"
        )
    pixels = _padded_pixels(pixel_values, layout.bucket)
    key_mask = layout.key_mask if layout.num_patches < layout.bucket else None
    out = _static_forward(
        visual,
        pixels,
        layout.patch_order,
        layout.cos,
        layout.sin,
        layout.row_valid,
        key_mask,
        layout.token_order,
        fp32_softmax,
        fused,
    )
    return out[: layout.num_tokens]


def pad_mlp_for_tensor_cores(visual: nn.Module, multiple: int = 64) -> nn.Module:
    """Pad every block's MLP intermediate width to a multiple of ``multiple``, in place; exact.

    Why: the 7B tower's intermediate size 3420 is not a multiple of 8, so bf16 rows of the gate/up
    outputs are not 16-byte aligned and cuBLAS falls back to slow GEMM kernels for three of the five
    matmuls per layer. Zero rows appended to ``gate_proj``/``up_proj`` (and their biases) give channels
    that are exactly 0 after SiLU-gating, and zero columns appended to ``down_proj`` ignore them, so the
    module (transformers' own forward included) computes the same function. Returns ``visual``.
    """
    for blk in visual.blocks:
        mlp = blk.mlp
        width = mlp.gate_proj.out_features
        padded = -(-width // multiple) * multiple
        if padded == width:
            continue
        extra = padded - width
        with torch.no_grad():
            for lin in (mlp.gate_proj, mlp.up_proj):
                lin.weight = nn.Parameter(F.pad(lin.weight, (0, 0, 0, extra)), requires_grad=False)
                if lin.bias is not None:
                    lin.bias = nn.Parameter(F.pad(lin.bias, (0, extra)), requires_grad=False)
                lin.out_features = padded
            down = mlp.down_proj
            down.weight = nn.Parameter(F.pad(down.weight, (0, extra)), requires_grad=False)
            down.in_features = padded
        if hasattr(mlp, "intermediate_size"):
            mlp.intermediate_size = padded
    return visual


# --------------------------------------------------------------------------------------------------
# Static graph per bucket
# --------------------------------------------------------------------------------------------------


class BucketGraph:
    """The bucketed forward with static input buffers, captured once per bucket.

    On CUDA the forward is captured in a ``torch.cuda.CUDAGraph`` (the analogue of an HPU graph) and
    every call only refills the buffers (pixels, index and rotary tables) and replays it. On other
    devices the same buffers feed an eager call, so the refill logic is the same everywhere; on HPU,
    ``habana_frameworks.torch.hpu.wrap_in_hpu_graph`` can wrap ``run`` the same way.
    """

    def __init__(
        self,
        visual: nn.Module,
        bucket: int,
        *,
        fp32_softmax: bool = False,
        capture: bool | None = None,
        fused: bool = False,
    ):
        weight = visual.patch_embed.proj.weight
        self.visual = visual
        self.bucket = int(bucket)
        self.fp32_softmax = fp32_softmax
        self.fused = fused
        self.device = weight.device
        geo = _geometry(visual)
        # Any aligned grid that fills the bucket exactly initialises the tables.
        first = vision_layout(visual, (1, geo.window_side, self.bucket // geo.window_side), self.bucket)
        self.pixels = torch.zeros(self.bucket, weight[0].numel(), dtype=weight.dtype, device=self.device)
        self.patch_order = first.patch_order.clone()
        self.cos = first.cos.clone()
        self.sin = first.sin.clone()
        self.row_valid = first.row_valid.clone()
        self.key_mask = self.row_valid.view(1, 1, 1, self.bucket)
        self.token_order = first.token_order.clone()
        self.graph: torch.cuda.CUDAGraph | None = None
        self.out: torch.Tensor | None = None
        if capture is None:
            capture = self.device.type == "cuda"
        if capture:
            self._capture()

    def run(self) -> torch.Tensor:
        """One eager forward over the static buffers."""
        return _static_forward(
            self.visual,
            self.pixels,
            self.patch_order,
            self.cos,
            self.sin,
            self.row_valid,
            self.key_mask,
            self.token_order,
            self.fp32_softmax,
            self.fused,
        )

    @torch.no_grad()
    def _capture(self) -> None:
        stream = torch.cuda.Stream(device=self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            for _ in range(2):  # warm-up: kernel selection and workspace allocation stay out of the graph
                self.run()
        torch.cuda.current_stream(self.device).wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = self.run()

    @torch.no_grad()
    def load(self, pixel_values: torch.Tensor, grid_thw: torch.Tensor | Sequence[int]) -> VisionLayout:
        """Copy one image and its tables into the static buffers (rows past the image keep stale data)."""
        layout = vision_layout(self.visual, grid_thw, self.bucket, self.device)
        n = layout.num_patches
        if pixel_values.shape[0] < n:
            raise ValueError(f"pixel_values has {pixel_values.shape[0]} rows, the grid needs {n}")
        self.pixels[:n].copy_(pixel_values[:n])
        self.patch_order.copy_(layout.patch_order)
        self.cos.copy_(layout.cos)
        self.sin.copy_(layout.sin)
        self.row_valid.copy_(layout.row_valid)
        self.token_order.copy_(layout.token_order)
        return layout

    @torch.no_grad()
    def __call__(self, pixel_values: torch.Tensor, grid_thw: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """Merged tokens of one image that fits the bucket (a fresh tensor, safe to keep)."""
        layout = self.load(pixel_values, grid_thw)
        if self.graph is not None:
            self.graph.replay()
            out = self.out
        else:
            out = self.run()
        return out[: layout.num_tokens].clone()


# --------------------------------------------------------------------------------------------------
# Baseline: the engine's dense masked attention over the whole bucket
# --------------------------------------------------------------------------------------------------


def block_diagonal_mask(cu_seqlens: torch.Tensor) -> torch.Tensor:
    """[N, N] bool mask, True inside each [cu[i], cu[i+1]) block, built the way the engine builds it.

    Rule reproduced from vllm_gaudi/models/qwen2_5_vl.py ``create_block_diagonal_attention_mask_outerprod``:
    a [segments, N] float indicator per segment, an einsum outer product 'bi,bj->ij', then ``.bool()``
    (so the float [N, N] intermediate is part of its memory cost).
    """
    size = int(cu_seqlens[-1])
    ranges = torch.arange(size, device=cu_seqlens.device).unsqueeze(0).repeat(cu_seqlens.shape[0] - 1, 1)
    inside = (ranges < cu_seqlens[1:].unsqueeze(1)) & (ranges >= cu_seqlens[:-1].unsqueeze(1))
    indicator = inside.float()
    return torch.einsum("bi,bj->ij", indicator, indicator).bool()


def dense_masked_vision_forward(
    visual: nn.Module,
    pixel_values: torch.Tensor,
    grid_thw: torch.Tensor | Sequence[int],
    bucket: int,
    *,
    fp32_softmax: bool = False,
) -> torch.Tensor:
    """The HPU engine's design in PyTorch: the baseline the window-batched forward is measured against.

    As in vllm_gaudi/models/qwen2_5_vl.py (``pad_multimodal_data``, ``get_image_embeds``): the image is
    padded with rows of -100 that form an extra image of grid (1, 8, pad/8); both images get their own
    window order and rotary positions; EVERY layer is one dense attention over [bucket, bucket] with a
    block-diagonal boolean mask (64-patch windows in window layers, {image, pad} in full layers). Pad
    tokens are cut off after the merger.
    """
    geo = _geometry(visual)
    h, w = _grid_hw(grid_thw)
    n = h * w
    pad = int(bucket) - n
    device = pixel_values.device
    grids = [(h, w)] + ([(geo.window_side, pad // geo.window_side)] if pad else [])
    patch_order, positions, offset = [], [], 0
    for gh, gw in grids:
        order, pos, _ = _host_tables(gh, gw, gh * gw, geo)
        patch_order.append(order + offset)
        positions.append(pos)
        offset += gh * gw
    patch_order_t = torch.cat(patch_order).to(device)
    cos, sin = _rotary_tables(torch.cat(positions), _inv_freq(visual).to(device))
    pixels = pixel_values[:n]
    if pad:
        pixels = torch.cat(
            [pixels, torch.full((pad, pixels.shape[1]), -100.0, dtype=pixels.dtype, device=device)]
        )
    cu_full = torch.tensor([0, n] + ([int(bucket)] if pad else []), device=device)
    cu_window = torch.arange(0, int(bucket) + 1, geo.window_len, device=device)
    full_mask = block_diagonal_mask(cu_full).view(1, 1, bucket, bucket)
    window_mask = block_diagonal_mask(cu_window).view(1, 1, bucket, bucket)

    x = visual.patch_embed(pixels).index_select(0, patch_order_t)
    for i, blk in enumerate(visual.blocks):
        mask = full_mask if i in geo.fullatt else window_mask
        hidden = blk.norm1(x)
        q, k, v = _qkv(blk.attn, hidden, cos, sin, geo)
        q, k, v = (t.unsqueeze(0).transpose(1, 2) for t in (q, k, v))
        out = attention(q, k, v, mask, blk.attn.scaling, fp32_softmax)
        x = x + blk.attn.proj(out.transpose(1, 2).reshape(bucket, geo.heads * geo.head_dim))
        x = x + blk.mlp(blk.norm2(x))
    merged = visual.merger(x)
    token_order = torch.argsort(patch_order_t.view(-1, geo.merge_unit)[:, 0] // geo.merge_unit)
    return merged.index_select(0, token_order)[: n // geo.merge_unit]
