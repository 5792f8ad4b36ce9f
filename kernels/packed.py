"""Several frames packed into one bucket, every attention as variable-length segments (CUDA default).

Why: the window-batched forward of ``gaudi_vl.kernels.vision`` pads ONE frame to a bucket and gives
its full-attention layers a key-padding mask; PyTorch then has to use the memory-efficient SDPA
kernel with a bias (slower than FlashAttention), and small photos waste most of their bucket (a
640x480 photo takes 1920 window slots, padded to 3136). Here:

* frames are packed one after the other into one bucket, each in its own 64-slot windows (the slot
  layout of ``vision.py``: a window's real patches first, its empty slots after), pad slots at the end;
* window layers are ONE variable-length attention whose segments are each window's real slots and
  its empty slots (two segments per window, ``cu_window``): no mask, no masked/unmasked graph pair;
* full-attention layers are ONE variable-length attention over the frames' real rows, gathered
  frame by frame (``full_perm``), plus one segment of all pad slots (``cu_full``); the result is put
  back in slot order (``full_inv``). Each frame sees exactly its own patches, as in transformers
  (``cu_seqlens`` per frame) and vLLM;
* the elementwise steps are the single-pass kernels of ``gaudi_vl.kernels.fast``.

Every table has a shape fixed by the bucket (``cu_full`` by the bucket's frame limit), so one CUDA
graph per bucket replays any packing of frames that fits; the frame count and sizes only change the
tables. On devices without the varlen kernel (CPU, HPU) the same forward runs with the per-segment
reference attention (tests), and the runner keeps the one-frame masked path of ``vision.py`` there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from .fast import (
    ElementwiseOps,
    choose_full_attention,
    dense_attention,
    elementwise_ops,
    keymask_attention,
    varlen_attention,
)
from .tower import Geometry, Tower
from .vision import _host_tables, record_cuda_graph, slots_for

__all__ = [
    "MAX_FRAMES",
    "PackedGraph",
    "PackedLayout",
    "Variant",
    "packed_layout",
    "packed_vision_forward",
    "variant_for",
]

MAX_FRAMES = 16
"""Frames one packed call holds at most (the length of ``cu_full`` is fixed per graph: ``MAX_FRAMES``
frame segments, zero-length when unused, plus the pad segment)."""


@dataclass(frozen=True)
class PackedLayout:
    """Device tables that place frames into one bucket (shapes depend on the bucket only, except
    ``real_rows``).

    patch_order [B] long: pixel row per slot (frames' rows in order, pad slots read the pad rows).
    cos, sin [B, head_dim] fp32: rotary tables in slot order (identity rotation on pad slots).
    row_valid [B] bool: real slots. token_order [B / m^2] long: merged row of each output token,
    frames' real tokens first in input order. cu_window [2 B / 64 + 1] int32: per window, its real
    slots then its empty slots. full_perm [B] long: slots in full-attention order (each frame's real
    slots, then every pad slot); full_inv its inverse; cu_full [MAX_FRAMES + 2] int32.
    real_rows [N] long: real slots in transformers' window order, frame after frame.
    """

    grids: tuple[tuple[int, int], ...]
    bucket: int
    num_patches: int
    num_tokens: int
    patch_order: torch.Tensor
    cos: torch.Tensor
    sin: torch.Tensor
    row_valid: torch.Tensor
    token_order: torch.Tensor
    cu_window: torch.Tensor
    full_perm: torch.Tensor
    full_inv: torch.Tensor
    cu_full: torch.Tensor
    real_rows: torch.Tensor

    def tables(self) -> tuple[torch.Tensor, ...]:
        """The tensors the static forward reads, in :func:`_packed_static_forward`'s order."""
        return (
            self.patch_order,
            self.cos,
            self.sin,
            self.row_valid,
            self.token_order,
            self.cu_window,
            self.full_perm,
            self.full_inv,
            self.cu_full,
        )


def packed_slots(grids: Sequence[tuple[int, int]], geo: Geometry) -> int:
    """Window slots the frames take together (each frame in whole windows of its own)."""
    return sum(slots_for(g, geo) for g in grids)


@lru_cache(maxsize=256)
def _packed_host_tables(
    grids: tuple[tuple[int, int], ...], bucket: int, geo: Geometry
) -> tuple[torch.Tensor, ...]:
    if not grids or len(grids) > MAX_FRAMES:
        raise ValueError(f"a packed call holds 1 .. {MAX_FRAMES} frames, got {len(grids)}")
    slots = packed_slots(grids, geo)
    if bucket % geo.window_len or bucket < slots:
        raise ValueError(
            f"bucket {bucket} must be a multiple of {geo.window_len} and >= the frames' {slots} window slots"
        )
    unit = geo.merge_unit
    total = sum(h * w for h, w in grids)
    patch_order = torch.empty(bucket, dtype=torch.long)
    valid = torch.zeros(bucket, dtype=torch.bool)
    positions, real_rows, tokens = [], [], []
    slot0 = row0 = 0
    for h, w in grids:
        own = slots_for((h, w), geo)
        order, pos, val, rows, token_order = _host_tables(h, w, own, geo)
        n = h * w
        real = rows + slot0
        valid[real] = True
        patch_order[real] = order[rows] + row0
        positions.append(pos)
        real_rows.append(real)
        tokens.append(token_order[: n // unit] + slot0 // unit)
        slot0 += own
        row0 += n
    pad_slots = (~valid).nonzero().view(-1)
    patch_order[pad_slots] = torch.arange(total, bucket)
    real_rows_t = torch.cat(real_rows)
    used = torch.zeros(bucket // unit, dtype=torch.bool)
    token_real = torch.cat(tokens)
    used[token_real] = True
    token_order = torch.cat([token_real, (~used).nonzero().view(-1)])
    full_perm = torch.cat([real_rows_t, pad_slots])
    full_inv = torch.empty_like(full_perm)
    full_inv[full_perm] = torch.arange(bucket)
    sizes = [h * w for h, w in grids]
    ends = torch.tensor(sizes).cumsum(0).tolist()
    cu_full = torch.tensor([0, *ends] + [total] * (MAX_FRAMES - len(grids)) + [bucket], dtype=torch.int32)
    real_per_window = valid.view(-1, geo.window_len).sum(1)
    lengths = torch.stack([real_per_window, geo.window_len - real_per_window], dim=1).reshape(-1)
    cu_window = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]).to(torch.int32)
    return (
        patch_order,
        torch.cat(positions),
        valid,
        real_rows_t,
        token_order,
        cu_window,
        full_perm,
        full_inv,
        cu_full,
    )


_CACHE_SIZE = 64


def packed_layout(
    tower: Tower, grids: Sequence[tuple[int, int]], bucket: int, device: torch.device | None = None
) -> PackedLayout:
    """The device tables of these frames in ``bucket`` (cached per tower, frames and bucket)."""
    grids = tuple((int(h), int(w)) for h, w in grids)
    device = torch.device(device) if device is not None else tower.device
    key = ("packed", grids, int(bucket), str(device))
    cache = tower.layouts
    layout = cache.get(key)
    if layout is None:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        layout = cache[key] = _build(tower, grids, int(bucket), device)
    return layout


def _build(
    tower: Tower, grids: tuple[tuple[int, int], ...], bucket: int, device: torch.device
) -> PackedLayout:
    geo = tower.geometry
    order, positions, valid, real_rows, token_order, cu_window, perm, inv, cu_full = _packed_host_tables(
        grids, bucket, geo
    )
    cos_r, sin_r = tower.rotary(positions.to(device))
    cos = torch.ones(bucket, geo.head_dim, dtype=torch.float32, device=device)
    sin = torch.zeros(bucket, geo.head_dim, dtype=torch.float32, device=device)
    real = real_rows.to(device)
    cos[real] = cos_r.float()
    sin[real] = sin_r.float()
    n = sum(h * w for h, w in grids)
    return PackedLayout(
        grids=grids,
        bucket=bucket,
        num_patches=n,
        num_tokens=n // geo.merge_unit,
        patch_order=order.to(device),
        cos=cos,
        sin=sin,
        row_valid=valid.to(device),
        token_order=token_order.to(device),
        cu_window=cu_window.to(device),
        full_perm=perm.to(device),
        full_inv=inv.to(device),
        cu_full=cu_full.to(device),
        real_rows=real,
    )


# --------------------------------------------------------------------------------------------------
# The static forward
# --------------------------------------------------------------------------------------------------


def _norm(ops: ElementwiseOps, module, fallback, x: torch.Tensor, delta: torch.Tensor | None):  # noqa: ANN001, ANN202
    """Residual add + RMSNorm in one pass when the norm is transformers' RMSNorm, else the module."""
    weight = getattr(module, "weight", None)
    eps = getattr(module, "variance_epsilon", None)
    if weight is not None and eps is not None and weight.dtype == x.dtype:
        return ops.add_rms_norm(x, delta, weight, eps)
    if delta is not None:
        x = x + delta
    return x, fallback(x)


def _mlp(ops: ElementwiseOps, block, h: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
    parts = block.mlp_parts
    if parts is None:
        return block.mlp(h)
    gate, up, down = parts
    gate_up = block.gate_up() if block.gate_up is not None else None
    if gate_up is not None:  # one matmul for both halves (``fuse_gate_up``)
        weight, bias = gate_up
        both = F.linear(h, weight, bias)
        width = weight.shape[0] // 2
        return down(ops.silu_mul(both[:, :width], both[:, width:]))
    return down(ops.silu_mul(gate(h), up(h)))


@dataclass(frozen=True)
class Variant:
    """Static choices of one graph. ``dense_full``: one frame per call, full layers as ONE dense fused
    attention with the pad keys masked through an extra head dimension (``keymask_attention``; cuDNN on
    Hopper), where that was timed faster than the varlen kernel. ``batched_windows``: every window is
    all real or all pad (112-px-aligned frames), so window layers are one batched SDPA over
    [windows, heads, 64, head_dim] with no mask (faster than 2 varlen segments per window).
    ``exact_fill`` (with ``dense_full``): the one frame fills the bucket, so the full layers attend
    densely with no key mask at all (:func:`dense_attention`: head size 80 instead of 88, no extended
    copies; 4 % of the tower at 16384 patches on an H100, BENCHMARKS.md issue 20). Plans fitted to a
    workload make the frequent sizes buckets of their own, so exact fills are the common case there."""

    dense_full: bool = False
    batched_windows: bool = False
    exact_fill: bool = False


def variant_for(tower: Tower, grids: Sequence[tuple[int, int]], bucket: int, device: torch.device) -> Variant:
    """The fastest variant valid for these frames in this bucket (timing cached per shape)."""
    geo = tower.geometry
    aligned = all(slots_for(g, geo) == g[0] * g[1] for g in grids)
    dense = False
    if len(grids) == 1:
        dense = choose_full_attention(bucket, geo.heads, geo.head_dim, tower.dtype, device) == "dense"
    exact = dense and grids[0][0] * grids[0][1] == bucket
    return Variant(dense_full=dense, batched_windows=aligned, exact_fill=exact)


def _packed_static_forward(
    tower: Tower,
    ops: ElementwiseOps,
    pixels: torch.Tensor,
    patch_order: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    row_valid: torch.Tensor,
    token_order: torch.Tensor,
    cu_window: torch.Tensor,
    full_perm: torch.Tensor,
    full_inv: torch.Tensor,
    cu_full: torch.Tensor,
    variant: Variant = Variant(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, C*T*P*P] pixels -> ([B / m^2, out] merged rows in ``token_order``, [B, hidden] last states).

    Tensors in, tensors out, no host sync on CUDA: capturable once per bucket and variant.
    """
    geo = tower.geometry
    n = pixels.shape[0]
    heads, hd = geo.heads, geo.head_dim
    weight = tower.embed_weight()
    x = tower.prepare(pixels.index_select(0, patch_order))
    x = torch.where(row_valid[:, None], x, torch.zeros((), dtype=x.dtype, device=x.device))
    x = F.linear(x.to(weight.dtype), weight)
    delta: torch.Tensor | None = None
    window_shape = (n // geo.window_len, geo.window_len, heads, hd)
    for i, blk in enumerate(tower.blocks):
        x, h = _norm(ops, blk.norm1_module, blk.norm1, x, delta)
        qkv = blk.qkv(h)
        qkv = ops.rotary_(qkv, cos, sin, heads)
        if i in geo.fullatt and variant.exact_fill:
            q, k, v = qkv.view(n, 3, heads, hd).unbind(1)
            out = dense_attention(q, k, v, tower.scale)
        elif i in geo.fullatt and variant.dense_full:
            q, k, v = qkv.view(n, 3, heads, hd).unbind(1)
            out = keymask_attention(q, k, v, row_valid, tower.scale)
        elif i in geo.fullatt:
            q, k, v = qkv.index_select(0, full_perm).view(n, 3, heads, hd).unbind(1)
            out = varlen_attention(q, k, v, cu_full, n, tower.scale).index_select(0, full_inv)
        elif variant.batched_windows:
            q, k, v = (t.reshape(window_shape).transpose(1, 2) for t in qkv.view(n, 3, heads, hd).unbind(1))
            out = F.scaled_dot_product_attention(q, k, v, scale=tower.scale).transpose(1, 2)
        else:
            q, k, v = qkv.view(n, 3, heads, hd).unbind(1)
            out = varlen_attention(q, k, v, cu_window, geo.window_len, tower.scale)
        delta = blk.proj(out.reshape(n, heads * hd))
        x, h = _norm(ops, blk.norm2_module, blk.norm2, x, delta)
        delta = _mlp(ops, blk, h)
    x = tower.after_blocks(x + delta)
    merged = tower.merger(x)
    return merged.index_select(0, token_order), x


def packed_vision_forward(
    visual,  # noqa: ANN001 - nn.Module or Tower
    pixel_values: torch.Tensor,
    grids: Sequence[tuple[int, int]],
    bucket: int,
    *,
    ops: ElementwiseOps | None = None,
    variant: Variant | None = None,
    return_hidden: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Eager packed forward of single-frame ``grids`` ((h, w) each) whose rows are ``pixel_values``
    in order: every frame's merged tokens concatenated (and the real patches' last states in
    transformers' window order, frame after frame). ``variant``: None picks the fastest valid one."""
    from .tower import as_tower

    tower = as_tower(visual)
    layout = packed_layout(tower, grids, bucket, pixel_values.device)
    if pixel_values.shape[0] != layout.num_patches:
        raise ValueError(f"pixel_values has {pixel_values.shape[0]} rows, the frames {layout.num_patches}")
    pixels = torch.cat(
        [pixel_values, pixel_values.new_zeros(bucket - layout.num_patches, pixel_values.shape[1])]
    )
    ops = ops or elementwise_ops(pixels.device)
    if variant is None:
        variant = variant_for(tower, layout.grids, bucket, pixels.device)
    tokens, hidden = _packed_static_forward(tower, ops, pixels, *layout.tables(), variant)
    tokens = tokens[: layout.num_tokens]
    if return_hidden:
        return tokens, hidden.index_select(0, layout.real_rows)
    return tokens


class PackedGraph:
    """The packed forward over static buffers of one bucket, captured as a CUDA graph (on CUDA).

    ``pool``: a CUDA graph memory pool shared with the runner's other buckets (safe: every call copies
    its result out before another graph runs). Elsewhere the same buffers feed an eager call.
    """

    def __init__(
        self,
        tower: Tower,
        bucket: int,
        *,
        capture: bool | None = None,
        pool: tuple | None = None,
        ops: ElementwiseOps | None = None,
        variant: Variant = Variant(),
    ) -> None:
        self.tower = tower
        self.bucket = int(bucket)
        self.variant = variant
        weight = tower.embed_weight()
        self.device = weight.device
        self.ops = ops or elementwise_ops(self.device)
        geo = tower.geometry
        with torch.inference_mode(False), torch.no_grad():
            first = packed_layout(tower, [(geo.window_side, self.bucket // geo.window_side)], self.bucket)
            self.pixels = torch.zeros(self.bucket, weight.shape[1], dtype=weight.dtype, device=self.device)
            self.buffers = tuple(t.clone() for t in first.tables())
            self.graph: torch.cuda.CUDAGraph | None = None
            self.out: tuple[torch.Tensor, torch.Tensor] | None = None
            if capture is None:
                capture = self.device.type == "cuda"
            if capture:
                self._capture(pool)

    def run(self) -> tuple[torch.Tensor, torch.Tensor]:
        return _packed_static_forward(self.tower, self.ops, self.pixels, *self.buffers, self.variant)

    def _check(self, layout: PackedLayout) -> None:
        geo = self.tower.geometry
        if self.variant.dense_full and len(layout.grids) != 1:
            raise ValueError(f"this graph attends densely over one frame; got {len(layout.grids)} frames")
        if self.variant.exact_fill and layout.num_patches != self.bucket:
            raise ValueError(
                f"this graph has no key mask: the frame must fill all {self.bucket} slots, it has "
                f"{layout.num_patches} patches"
            )
        if self.variant.batched_windows and any(slots_for(g, geo) != g[0] * g[1] for g in layout.grids):
            raise ValueError(f"this graph batches whole windows; frames {layout.grids} have cut windows")

    def _capture(self, pool: tuple | None) -> None:
        try:
            self._record(pool)
        except RuntimeError:
            if not self.variant.dense_full:
                raise
            # A fused dense kernel that refuses graph capture: the varlen kernel serves one frame too.
            self.variant = Variant(batched_windows=self.variant.batched_windows)
            self._record(pool)

    def _record(self, pool: tuple | None) -> None:
        self.graph, self.out = record_cuda_graph(self.run, self.device, pool)

    @torch.no_grad()
    def __call__(
        self, pixel_values: torch.Tensor, grids: Sequence[tuple[int, int]], *, return_hidden: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Merged tokens of the frames (fresh tensors) and, with ``return_hidden``, their last states."""
        layout = packed_layout(self.tower, grids, self.bucket, self.device)
        self._check(layout)
        n = layout.num_patches
        if pixel_values.shape[0] != n:
            raise ValueError(f"pixel_values has {pixel_values.shape[0]} rows, the frames {n}")
        self.pixels[:n].copy_(pixel_values)
        for buf, table in zip(self.buffers, layout.tables(), strict=True):
            buf.copy_(table)
        if self.graph is not None:
            self.graph.replay()
            tokens, hidden = self.out
        else:
            tokens, hidden = self.run()
        tokens = tokens[: layout.num_tokens].clone()
        return tokens, (hidden.index_select(0, layout.real_rows) if return_hidden else None)
