"""Bucketed, window-batched Qwen2.5-VL vision tower with static shapes per bucket.

transformers' ``Qwen2_5_VisionTransformerPretrainedModel`` runs its 64-patch windows as one SDPA call
per window (dynamic, slow), and the HPU engine pads each image to a bucket and runs dense
[bucket x bucket] masked attention. Here every window gets 64 consecutive *slots* (an 8 x 8-patch
window of a 14-px-patch tower), in transformers' window order:

* window layers are ONE batched attention over ``[num_windows, heads, 64, 64]``. A window cut by the
  image border (sides that are not multiples of 112 px) holds fewer real patches; its empty slots
  are pad rows, and a [windows, 1, 64, 64] mask keeps real rows and pad rows apart. For 112-aligned
  images no window is cut and the mask is not needed (pad windows, appended at the end, attend only to
  themselves);
* full-attention layers (``fullatt_block_indexes``) are ONE attention over the bucket with a
  key-padding mask, so pad rows never reach a real row;
* pad rows are zeroed before the patch embedding, so no pad content (not even inf/NaN) can leak.

Every shape depends on the bucket alone; the image only changes index and rotary tables, which makes
the forward capturable once per bucket (``BucketGraph``: a CUDA graph on GPUs, the analogue of an
HPU graph) and replayable for any image whose windows fit.

The tower's own modules run unchanged (through ``gaudi_vl.kernels.tower.Tower``: RMSNorm, MLP, merger,
``qkv``/``proj`` linears); only the attention and the patch order are ours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from .tower import Geometry, Tower, as_tower

_T = TypeVar("_T")

__all__ = [
    "BucketGraph",
    "VisionLayout",
    "attention",
    "bucketed_vision_forward",
    "dense_masked_vision_forward",
    "pad_mlp_for_tensor_cores",
    "fuse_gate_up",
    "unfuse_gate_up",
    "slots_for",
    "vision_layout",
]


# --------------------------------------------------------------------------------------------------
# Geometry of one image
# --------------------------------------------------------------------------------------------------


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


def _windows(h: int, w: int, geo: Geometry) -> tuple[int, int]:
    """Windows down and across of an h x w patch grid (a cut window at the border counts as one)."""
    m, win = geo.merge, geo.window_tokens
    if h <= 0 or w <= 0 or h % m or w % m:
        raise ValueError(
            f"grid {h}x{w} patches: both sides must be positive multiples of the merge size {m} "
            "(what the Qwen2-VL image processor produces)"
        )
    return -(-(h // m) // win), -(-(w // m) // win)


def slots_for(grid_hw: tuple[int, int], geo: Geometry) -> int:
    """Patch slots an h x w image takes in window layout: whole windows of ``geo.window_len``.

    Equal to h * w for 112-px-aligned images; above it when the border cuts windows. A bucket must
    hold this many slots.
    """
    down, across = _windows(*grid_hw, geo)
    return down * across * geo.window_len


# --------------------------------------------------------------------------------------------------
# Index tables (host side, cached per grid/bucket)
# --------------------------------------------------------------------------------------------------


def _patch_positions(h: int, w: int, merge: int) -> torch.Tensor:
    """(row, col) of every patch in the processor's order: merge blocks row-major, m x m inside.

    Same layout as transformers' ``get_vision_position_ids`` (and the Qwen2-VL image processor).
    """
    hpos = torch.arange(h).view(h // merge, merge, 1, 1).expand(h // merge, merge, w // merge, merge)
    wpos = torch.arange(w).view(1, 1, w // merge, merge).expand(h // merge, merge, w // merge, merge)
    hpos = hpos.permute(0, 2, 1, 3).reshape(-1)
    wpos = wpos.permute(0, 2, 1, 3).reshape(-1)
    return torch.stack([hpos, wpos], dim=-1)


def _token_slots(ht: int, wt: int, win: int, across: int) -> torch.Tensor:
    """Merged-token slot of every LLM token (row-major), in windows of ``win x win`` token slots.

    Rule reproduced from transformers/vision_utils.py ``get_vision_window_index`` (and vLLM's
    ``get_window_index_thw``): the token grid is padded to whole windows, windows are taken row-major,
    tokens row-major inside a window, and pad entries are dropped. Here window ``j`` owns token slots
    ``[j * win^2, (j + 1) * win^2)`` and its real tokens fill them from the start, so the real slots in
    ascending order are exactly transformers' window order.
    """
    r = torch.arange(ht).view(-1, 1)
    c = torch.arange(wt).view(1, -1)
    wr, wc = r // win, c // win
    width = torch.clamp(wt - wc * win, max=win)  # real width of the window holding column c
    rank = (r - wr * win) * width + (c - wc * win)
    return ((wr * across + wc) * win * win + rank).reshape(-1)


@lru_cache(maxsize=256)
def _host_tables(h: int, w: int, bucket: int, geo: Geometry) -> tuple[torch.Tensor, ...]:
    """Index tables of one (grid, bucket): patch gather, positions of real slots, token un-gather."""
    down, across = _windows(h, w, geo)
    slots = down * across * geo.window_len
    if bucket % geo.window_len or bucket < slots:
        raise ValueError(
            f"bucket {bucket} must be a multiple of {geo.window_len} and >= the image's {slots} window "
            f"slots ({h}x{w} patches in {down}x{across} windows of {geo.window_len})"
        )
    unit, n = geo.merge_unit, h * w
    token_slot = _token_slots(h // geo.merge, w // geo.merge, geo.window_tokens, across)
    patch_slot = (token_slot[:, None] * unit + torch.arange(unit)).reshape(-1)  # slot of each patch row
    valid = torch.zeros(bucket, dtype=torch.bool)
    valid[patch_slot] = True
    patch_order = torch.empty(bucket, dtype=torch.long)
    patch_order[patch_slot] = torch.arange(n)
    patch_order[~valid] = torch.arange(n, bucket)  # pad slots read the pad rows, in order
    positions = torch.empty(bucket, 2, dtype=torch.long)
    positions[patch_slot] = _patch_positions(h, w, geo.merge)
    real_rows = valid.nonzero().view(-1)  # window order
    used = torch.zeros(bucket // unit, dtype=torch.bool)
    used[token_slot] = True
    token_order = torch.cat([token_slot, (~used).nonzero().view(-1)])
    return patch_order, positions[real_rows], valid, real_rows, token_order


# --------------------------------------------------------------------------------------------------
# Per-image device tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisionLayout:
    """Device tables for one image in one bucket. Every table's shape depends on the bucket only
    (except ``real_rows``, used outside the static part).

    patch_order: [bucket] long, row of the padded ``pixel_values`` for each window-order slot.
    cos, sin: [bucket, head_dim] fp32 rotary tables in slot order (identity rotation on pad slots).
    row_valid: [bucket] bool, real slots.
    key_mask: [1, 1, 1, bucket] bool key-padding mask for the full-attention layers.
    token_order: [bucket // m^2] long, merged row for each output token in the image's own order;
      the first ``num_patches // m^2`` entries are the real tokens.
    real_rows: [num_patches] long, the real slots in transformers' window order.
    partial: some window is cut by the image border (the window layers need a mask).
    """

    grid: tuple[int, int]
    bucket: int
    num_patches: int
    num_tokens: int
    partial: bool
    patch_order: torch.Tensor
    cos: torch.Tensor
    sin: torch.Tensor
    row_valid: torch.Tensor
    key_mask: torch.Tensor
    token_order: torch.Tensor
    real_rows: torch.Tensor


_LAYOUT_CACHE_SIZE = 64


def vision_layout(
    visual: nn.Module | Tower,
    grid_thw: torch.Tensor | Sequence[int],
    bucket: int,
    device: torch.device | None = None,
) -> VisionLayout:
    """The device tables that place one image into ``bucket`` slots (cached per tower: re-sending
    them every call would put small host-to-device copies on the critical path of a graph replay)."""
    tower = as_tower(visual)
    h, w = _grid_hw(grid_thw)
    device = torch.device(device) if device is not None else tower.device
    key = (h, w, int(bucket), str(device))
    cache = tower.layouts
    layout = cache.get(key)
    if layout is None:
        if len(cache) >= _LAYOUT_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        layout = cache[key] = _build_layout(tower, h, w, int(bucket), device)
    return layout


def _build_layout(tower: Tower, h: int, w: int, bucket: int, device: torch.device) -> VisionLayout:
    geo = tower.geometry
    patch_order, positions, valid, real_rows, token_order = _host_tables(h, w, bucket, geo)
    cos_r, sin_r = tower.rotary(positions.to(device))
    cos = torch.ones(bucket, geo.head_dim, dtype=torch.float32, device=device)
    sin = torch.zeros(bucket, geo.head_dim, dtype=torch.float32, device=device)
    real = real_rows.to(device)
    cos[real] = cos_r.float()
    sin[real] = sin_r.float()
    row_valid = valid.to(device)
    n = h * w
    return VisionLayout(
        grid=(h, w),
        bucket=bucket,
        num_patches=n,
        num_tokens=n // geo.merge_unit,
        partial=bool((h // geo.merge) % geo.window_tokens or (w // geo.merge) % geo.window_tokens),
        patch_order=patch_order.to(device),
        cos=cos,
        sin=sin,
        row_valid=row_valid,
        key_mask=row_valid.view(1, 1, 1, bucket),
        token_order=token_order.to(device),
        real_rows=real,
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


def _window_mask(row_valid: torch.Tensor, window_len: int) -> torch.Tensor:
    """[windows, 1, L, L] bool: inside each window, real rows see real rows and pad rows see pad rows.

    Every row keeps at least itself, so no softmax row is empty (an all-masked row would give NaN,
    and NaN times a zero weight still spreads in the next layer's attention).
    """
    rv = row_valid.view(-1, 1, window_len)
    return rv.unsqueeze(-1) == rv.unsqueeze(-2)


def _attention_sublayer(
    tower: Tower,
    blk,
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    mask: torch.Tensor | None,
    window: bool,
    fp32_softmax: bool,
) -> torch.Tensor:
    """One attention sub-layer in slot order: batched windows, or the whole bucket with a key mask."""
    geo = tower.geometry
    n = x.shape[0]
    q, k, v = blk.qkv(x).view(n, 3, geo.heads, geo.head_dim).unbind(1)
    q, k = tower.apply_rotary(q, k, cos, sin)
    if window:
        # [n, heads, hd] -> [windows, heads, 64, hd]: each window is 64 consecutive slots.
        shape = (n // geo.window_len, geo.window_len, geo.heads, geo.head_dim)
        q, k, v = (t.reshape(shape).transpose(1, 2) for t in (q, k, v))
    else:
        q, k, v = (t.unsqueeze(0).transpose(1, 2) for t in (q, k, v))
    out = attention(q, k, v, mask, tower.scale, fp32_softmax)
    return blk.proj(out.transpose(1, 2).reshape(n, geo.heads * geo.head_dim))


def _static_forward(
    tower: Tower,
    pixels: torch.Tensor,
    patch_order: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    row_valid: torch.Tensor,
    key_mask: torch.Tensor | None,
    token_order: torch.Tensor,
    fp32_softmax: bool,
    masked: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bucket-shaped forward: [bucket, C*T*P*P] pixels -> ([bucket // m^2, out] tokens, [bucket, hidden]).

    Only tensors go in, so the same call can be captured in a graph and replayed with new tables.
    ``masked`` (static) turns on the window mask, needed when a window is cut by the image border.
    """
    geo = tower.geometry
    weight = tower.embed_weight()
    x = tower.prepare(pixels.index_select(0, patch_order))
    x = torch.where(row_valid[:, None], x, torch.zeros((), dtype=x.dtype, device=x.device))
    x = F.linear(x.to(weight.dtype), weight)  # the Conv3d patch embedding (kernel == stride, no bias)
    window_mask = _window_mask(row_valid, geo.window_len) if masked else None
    for i, blk in enumerate(tower.blocks):
        window = i not in geo.fullatt
        mask = window_mask if window else key_mask
        x = x + _attention_sublayer(tower, blk, blk.norm1(x), cos, sin, mask, window, fp32_softmax)
        x = x + blk.mlp(blk.norm2(x))
    x = tower.after_blocks(x)
    merged = tower.merger(x)
    return merged.index_select(0, token_order), x


def _padded_pixels(pixel_values: torch.Tensor, bucket: int) -> torch.Tensor:
    rows = pixel_values.shape[0]
    if rows == bucket:
        return pixel_values
    pad = pixel_values.new_zeros(bucket - rows, pixel_values.shape[1])
    return torch.cat([pixel_values, pad])


def bucketed_vision_forward(
    visual: nn.Module | Tower,
    pixel_values: torch.Tensor,
    grid_thw: torch.Tensor | Sequence[int],
    bucket: int,
    *,
    fp32_softmax: bool = False,
    fused: bool = False,
    return_hidden: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """What ``visual(pixel_values, grid_thw=grid_thw).pooler_output`` hands the language model.

    ``visual`` is transformers' tower or a :class:`~gaudi_vl.kernels.tower.Tower`. ``fused`` runs the
    elementwise chains of transformers' tower through torch.compile (same math).

    ``pixel_values`` is ONE image in the processor's layout, either its own ``h*w`` rows or already
    padded to ``bucket`` rows (the pad rows' content is ignored). Returns ``[h*w // m^2, out_hidden]``
    merged tokens in the image's order; with ``return_hidden`` also the last block's hidden states of
    the real patches in window order (transformers' ``last_hidden_state``).
    """
    tower = as_tower(visual, fused=fused)
    layout = vision_layout(tower, grid_thw, bucket, pixel_values.device)
    if pixel_values.shape[0] not in (layout.num_patches, layout.bucket):
        raise ValueError(
            f"pixel_values has {pixel_values.shape[0]} rows; expected {layout.num_patches} (the image) "
            f"or {layout.bucket} (the image padded to the bucket)"
        )
    pixels = _padded_pixels(pixel_values, layout.bucket)
    key_mask = layout.key_mask if layout.num_patches < layout.bucket else None
    tokens, hidden = _static_forward(
        tower,
        pixels,
        layout.patch_order,
        layout.cos,
        layout.sin,
        layout.row_valid,
        key_mask,
        layout.token_order,
        fp32_softmax,
        layout.partial,
    )
    tokens = tokens[: layout.num_tokens]
    if return_hidden:
        return tokens, hidden.index_select(0, layout.real_rows)
    return tokens


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
        _set_mlp_width(mlp, width, padded)
    return visual


def fuse_gate_up(visual: nn.Module) -> nn.Module:
    """Lay every block's ``gate_proj`` and ``up_proj`` out as ONE [2 * width, hidden] tensor, in place;
    exact (the same numbers, other storage).

    Why: the packed path then runs both as one matmul (on an H100 at 1024 rows: 404 TFLOP/s for the
    fused [1280 -> 6912] product against 304 for each [1280 -> 3456] half, BENCHMARKS.md "issue 20").
    The modules' parameters become views into the concatenated tensor (kept on the MLP as a plain
    attribute, not a parameter), so transformers' own forward and ``state_dict`` are unchanged.
    Returns ``visual``; :func:`unfuse_gate_up` undoes it.
    """
    from .tower import GATE_UP_ATTR

    with torch.no_grad():
        for blk in visual.blocks:
            mlp = blk.mlp
            gate, up = mlp.gate_proj, mlp.up_proj
            width = gate.weight.shape[0]
            weight = torch.cat([gate.weight, up.weight]).detach()
            bias = None
            if gate.bias is not None and up.bias is not None:
                bias = torch.cat([gate.bias, up.bias]).detach()
                gate.bias = nn.Parameter(bias[:width], requires_grad=gate.bias.requires_grad)
                up.bias = nn.Parameter(bias[width:], requires_grad=up.bias.requires_grad)
            elif gate.bias is not None or up.bias is not None:
                continue  # one bias only: leave this MLP as it is
            gate.weight = nn.Parameter(weight[:width], requires_grad=gate.weight.requires_grad)
            up.weight = nn.Parameter(weight[width:], requires_grad=up.weight.requires_grad)
            mlp.__dict__[GATE_UP_ATTR] = (weight, bias)
    return visual


def unfuse_gate_up(visual: nn.Module) -> nn.Module:
    """Give ``gate_proj`` and ``up_proj`` their own storage again (the inverse of :func:`fuse_gate_up`)."""
    from .tower import GATE_UP_ATTR

    with torch.no_grad():
        for blk in visual.blocks:
            mlp = blk.mlp
            if mlp.__dict__.pop(GATE_UP_ATTR, None) is None:
                continue
            for lin in (mlp.gate_proj, mlp.up_proj):
                lin.weight = nn.Parameter(lin.weight.detach().clone(), requires_grad=lin.weight.requires_grad)
                if lin.bias is not None:
                    lin.bias = nn.Parameter(lin.bias.detach().clone(), requires_grad=lin.bias.requires_grad)
    return visual


def _set_mlp_width(mlp: nn.Module, width: int, new: int) -> None:
    """Zero-pad (new > width) or crop (new < width) the intermediate width of a gate/up/down MLP."""
    with torch.no_grad():
        for lin in (mlp.gate_proj, mlp.up_proj):
            lin.weight = nn.Parameter(_resize(lin.weight, 0, new), requires_grad=lin.weight.requires_grad)
            if lin.bias is not None:
                lin.bias = nn.Parameter(_resize(lin.bias, 0, new), requires_grad=lin.bias.requires_grad)
            lin.out_features = new
        down = mlp.down_proj
        down.weight = nn.Parameter(_resize(down.weight, 1, new), requires_grad=down.weight.requires_grad)
        down.in_features = new
    if hasattr(mlp, "intermediate_size"):
        mlp.intermediate_size = new


def _resize(t: torch.Tensor, dim: int, new: int) -> torch.Tensor:
    old = t.shape[dim]
    if new <= old:
        return t.narrow(dim, 0, new).contiguous()
    pad = [0, 0] * (t.ndim - 1 - dim) + [0, new - old]
    return F.pad(t, pad)


# --------------------------------------------------------------------------------------------------
# Static graph per bucket
# --------------------------------------------------------------------------------------------------


def record_cuda_graph(
    run: Callable[[], _T], device: torch.device, pool: tuple | None, *, warmups: int = 1
) -> tuple[torch.cuda.CUDAGraph, _T]:
    """Capture ``run`` (a forward over static buffers) into a CUDA graph, after ``warmups`` eager runs on a
    side stream so that kernel selection (Triton, cuBLAS) and workspace allocation stay out of the graph;
    ``pool`` shares one memory pool between the graphs of several buckets. Returns the graph and the
    tensors its replays write."""
    stream = torch.cuda.Stream(device=device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):
        for _ in range(warmups):
            run()
    torch.cuda.current_stream(device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=pool):
        out = run()
    return graph, out


class BucketGraph:
    """The bucketed forward with static input buffers, captured once per bucket.

    On CUDA the forward is captured in a ``torch.cuda.CUDAGraph`` (the analogue of an HPU graph) and
    every call only refills the buffers (pixels, index and rotary tables) and replays it. On other
    devices the same buffers feed an eager call, so the refill logic is the same everywhere.

    ``masked`` fixes whether the window layers use the cut-window mask (images whose sides are not
    multiples of 112 px need it; aligned images run the faster unmasked graph). ``pool`` is a CUDA
    graph memory pool to share with other graphs (``torch.cuda.graph_pool_handle()``); sharing is safe
    here because every call copies its result out before any other graph can run.
    """

    def __init__(
        self,
        visual: nn.Module | Tower,
        bucket: int,
        *,
        fp32_softmax: bool = False,
        capture: bool | None = None,
        fused: bool = False,
        masked: bool = False,
        pool: tuple | None = None,
    ):
        tower = as_tower(visual, fused=fused)
        self.tower = tower
        self.bucket = int(bucket)
        self.fp32_softmax = fp32_softmax
        self.masked = masked
        weight = tower.embed_weight()
        self.device = weight.device
        geo = tower.geometry
        with torch.inference_mode(False), torch.no_grad():  # buffers stay writable outside inference mode
            # Any aligned grid that fills the bucket exactly initialises the tables.
            first = vision_layout(tower, (1, geo.window_side, self.bucket // geo.window_side), self.bucket)
            self.pixels = torch.zeros(self.bucket, weight.shape[1], dtype=weight.dtype, device=self.device)
            self.patch_order = first.patch_order.clone()
            self.cos = first.cos.clone()
            self.sin = first.sin.clone()
            self.row_valid = first.row_valid.clone()
            self.key_mask = self.row_valid.view(1, 1, 1, self.bucket)
            self.token_order = first.token_order.clone()
            self.graph: torch.cuda.CUDAGraph | None = None
            self.out: tuple[torch.Tensor, torch.Tensor] | None = None
            if capture is None:
                capture = self.device.type == "cuda"
            if capture:
                self._capture(pool)

    def run(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One eager forward over the static buffers: (tokens of the whole bucket, hidden states)."""
        return _static_forward(
            self.tower,
            self.pixels,
            self.patch_order,
            self.cos,
            self.sin,
            self.row_valid,
            self.key_mask,
            self.token_order,
            self.fp32_softmax,
            self.masked,
        )

    def _capture(self, pool: tuple | None) -> None:
        self.graph, self.out = record_cuda_graph(self.run, self.device, pool, warmups=2)

    @torch.no_grad()
    def load(self, pixel_values: torch.Tensor, grid_thw: torch.Tensor | Sequence[int]) -> VisionLayout:
        """Copy one image and its tables into the static buffers (rows past the image keep stale data)."""
        layout = vision_layout(self.tower, grid_thw, self.bucket, self.device)
        if layout.partial and not self.masked:
            raise ValueError(f"grid {layout.grid} has cut windows: it needs a graph made with masked=True")
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
    def __call__(
        self,
        pixel_values: torch.Tensor,
        grid_thw: torch.Tensor | Sequence[int],
        *,
        return_hidden: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Merged tokens of one image that fits the bucket (fresh tensors, safe to keep)."""
        layout = self.load(pixel_values, grid_thw)
        if self.graph is not None:
            self.graph.replay()
            tokens, hidden = self.out
        else:
            tokens, hidden = self.run()
        tokens = tokens[: layout.num_tokens].clone()
        if return_hidden:
            return tokens, hidden.index_select(0, layout.real_rows)
        return tokens


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
    visual: nn.Module | Tower,
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
    tokens are cut off after the merger. 112-aligned images only (the window mask assumes whole windows).
    """
    tower = as_tower(visual)
    geo = tower.geometry
    h, w = _grid_hw(grid_thw)
    n = h * w
    if slots_for((h, w), geo) != n:
        raise ValueError(f"grid {h}x{w} has cut windows; the dense baseline takes 112-aligned images only")
    pad = int(bucket) - n
    device = pixel_values.device
    grids = [(h, w)] + ([(geo.window_side, pad // geo.window_side)] if pad else [])
    patch_order, positions, offset = [], [], 0
    for gh, gw in grids:
        order, pos, _, _, _ = _host_tables(gh, gw, gh * gw, geo)
        patch_order.append(order + offset)
        positions.append(pos)
        offset += gh * gw
    patch_order_t = torch.cat(patch_order).to(device)
    cos, sin = tower.rotary(torch.cat(positions).to(device))
    pixels = pixel_values[:n]
    if pad:
        pixels = torch.cat(
            [pixels, torch.full((pad, pixels.shape[1]), -100.0, dtype=pixels.dtype, device=device)]
        )
    cu_full = torch.tensor([0, n] + ([int(bucket)] if pad else []), device=device)
    cu_window = torch.arange(0, int(bucket) + 1, geo.window_len, device=device)
    full_mask = block_diagonal_mask(cu_full).view(1, 1, bucket, bucket)
    window_mask = block_diagonal_mask(cu_window).view(1, 1, bucket, bucket)

    weight = tower.embed_weight()
    x = F.linear(tower.prepare(pixels), weight).index_select(0, patch_order_t)
    for i, blk in enumerate(tower.blocks):
        mask = full_mask if i in geo.fullatt else window_mask
        hidden = blk.norm1(x)
        q, k, v = blk.qkv(hidden).view(bucket, 3, geo.heads, geo.head_dim).unbind(1)
        q, k = tower.apply_rotary(q, k, cos, sin)
        q, k, v = (t.unsqueeze(0).transpose(1, 2) for t in (q, k, v))
        out = attention(q, k, v, mask, tower.scale, fp32_softmax)
        x = x + blk.proj(out.transpose(1, 2).reshape(bucket, geo.heads * geo.head_dim))
        x = x + blk.mlp(blk.norm2(x))
    merged = tower.merger(tower.after_blocks(x))
    token_order = torch.argsort(patch_order_t.view(-1, geo.merge_unit)[:, 0] // geo.merge_unit)
    return merged.index_select(0, token_order)[: n // geo.merge_unit]
