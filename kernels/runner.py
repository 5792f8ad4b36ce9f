"""Several images (and video frames) through the bucketed forward: a bucket per frame, a graph per bucket.

Why a runner: the transformers call (``gaudi_vl.kernels.accelerate``) and the vLLM switch
(``gaudi_vl.vllm_plugin``) hand the tower the same thing, all images of a request concatenated with
one ``(t, h, w)`` grid row each, and want the same thing back, every image's tokens concatenated. The
runner splits, pads each frame to the smallest bucket that holds its windows, and keeps one static
graph per (bucket, cut-windows) pair, captured the first time that pair is needed:

* CUDA: ``BucketGraph`` (a ``torch.cuda.CUDAGraph``), all graphs of a runner in ONE memory pool, so
  capturing several buckets costs about the largest one's activations, not their sum;
* HPU: ``habana_frameworks.torch.hpu.wrap_in_hpu_graph`` around the static forward, which records one
  HPU graph per input shape, i.e. per bucket (code path only: no Gaudi was available to measure it);
* CPU, or ``graphs="none"``: the same static forward, eager.

On CUDA the runner packs by default (``packed``, ``gaudi_vl.kernels.packed``): consecutive frames
share one bucket call as long as their window slots fit the largest bucket, each frame's attention
runs as variable-length segments (no masks, one graph per bucket), and ``warm_up`` captures every
bucket's graph ahead of the first request (``accelerate`` calls it), so no request pays a capture.

A frame above the largest bucket (or every frame when there are no buckets) runs eagerly at its own
window-slot count, as the engine runs an image above its largest bucket unpadded.

Frames of a video are independent images here, as in the tower: transformers and vLLM give each
frame its own full-attention segment (``cu_seqlens`` = ``h*w`` repeated ``t`` times), its own
windows and the same rotary positions (transformers/vision_utils.py ``get_vision_attention_seqlens``,
``get_vision_window_index``; vllm/model_executor/models/qwen2_5_vl.py ``get_rope_by_thw``).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence

import torch
from torch import nn

from .packed import MAX_FRAMES, PackedGraph, Variant, packed_vision_forward, variant_for
from .tower import Tower
from .vision import (
    BucketGraph,
    _padded_pixels,
    _static_forward,
    bucketed_vision_forward,
    slots_for,
    vision_layout,
)

__all__ = ["GRAPH_MODES", "VisionRunner", "graph_mode_for"]

GRAPH_MODES = ("cuda", "hpu", "none")


def graph_mode_for(device: torch.device) -> str:
    """The graph kind a device supports: CUDA graphs, HPU graphs, or none (eager)."""
    return device.type if device.type in ("cuda", "hpu") else "none"


class _StaticModule(nn.Module):
    """The static forward as a module of tensors only, for ``wrap_in_hpu_graph`` (one per mask kind)."""

    def __init__(self, tower: Tower, fp32_softmax: bool, masked: bool) -> None:
        super().__init__()
        self._tower = (tower,)  # a tuple: the tower's modules must not become this module's children
        self.fp32_softmax = fp32_softmax
        self.masked = masked

    def forward(self, pixels, patch_order, cos, sin, row_valid, key_mask, token_order):  # noqa: ANN001, ANN201
        return _static_forward(
            self._tower[0],
            pixels,
            patch_order,
            cos,
            sin,
            row_valid,
            key_mask,
            token_order,
            self.fp32_softmax,
            self.masked,
        )


def _grid_rows(grid_thw: torch.Tensor | Sequence[Sequence[int]]) -> list[tuple[int, int, int]]:
    rows = grid_thw.tolist() if isinstance(grid_thw, torch.Tensor) else grid_thw
    out = []
    for row in rows:
        t, h, w = (int(v) for v in row)
        out.append((t, h, w))
    return out


class VisionRunner:
    """Runs concatenated images through a :class:`~gaudi_vl.kernels.tower.Tower`, bucket by bucket.

    ``buckets``: sorted patch-slot counts (positive multiples of 64), or None for no padding at all.
    ``graphs``: one of :data:`GRAPH_MODES`. ``counts`` tallies the frames per path and bucket
    (``("graph", 1600)``, ``("eager", 1920)``, ...), for tests and benchmarks. ``packed`` (default: on
    CUDA): frames share bucket calls and attend through variable-length segments; ``fp32_softmax``
    is then what FlashAttention already does (fp32 softmax statistics, bf16 tensor-core products), so
    the flag changes nothing there; on the unpacked path it runs the attention in fp32.
    """

    def __init__(
        self,
        tower: Tower,
        buckets: Sequence[int] | None,
        *,
        graphs: str = "none",
        fp32_softmax: bool = False,
        packed: bool | None = None,
    ) -> None:
        if graphs not in GRAPH_MODES:
            raise ValueError(f"graphs must be one of {GRAPH_MODES}, got {graphs!r}")
        self.tower = tower
        self.buckets = tuple(sorted(int(b) for b in buckets)) if buckets is not None else None
        self.graphs = graphs
        self.fp32_softmax = fp32_softmax
        self.packed = tower.device.type == "cuda" if packed is None else bool(packed)
        self.counts: Counter[tuple[str, int]] = Counter()
        self._packed: dict[tuple[int, Variant], PackedGraph] = {}
        self._cuda: dict[tuple[int, bool], BucketGraph] = {}
        self._hpu: dict[bool, nn.Module] = {}
        self._pool = None

    def bucket_for(self, slots: int) -> int | None:
        """The smallest bucket holding ``slots`` window slots, or None (none does, or no buckets)."""
        if not self.buckets:
            return None
        i = bisect.bisect_left(self.buckets, slots)
        return self.buckets[i] if i < len(self.buckets) else None

    @torch.no_grad()
    def __call__(
        self,
        pixel_values: torch.Tensor,
        grid_thw: torch.Tensor | Sequence[Sequence[int]],
        *,
        return_hidden: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(tokens, hidden)``: every frame's merged tokens concatenated in input order, and (with
        ``return_hidden``) the last block's hidden states of the real patches in window order."""
        tokens: list[torch.Tensor] = []
        hidden: list[torch.Tensor] = []
        frames = [(h, w) for t, h, w in _grid_rows(grid_thw) for _ in range(t)]
        rows = sum(h * w for h, w in frames)
        if rows != pixel_values.shape[0]:
            raise ValueError(
                f"grid_thw describes {rows} patch rows, pixel_values has {pixel_values.shape[0]}"
            )
        if self.packed:
            return self._run_packed(pixel_values, frames, return_hidden)
        offset = 0
        for h, w in frames:
            frame = pixel_values[offset : offset + h * w]
            offset += h * w
            tok, hid = self._frame(frame, h, w)
            tokens.append(tok)
            if return_hidden:
                hidden.append(hid)
        return torch.cat(tokens), (torch.cat(hidden) if return_hidden else None)

    def groups(self, frames: Sequence[tuple[int, int]]) -> list[tuple[list[tuple[int, int]], int | None]]:
        """Consecutive frames packed into bucket calls: ``(grids, bucket)``, bucket None = eager alone.

        A frame joins the open call while the call's window slots still fit the largest bucket and it
        holds fewer than ``MAX_FRAMES`` frames; each call takes the smallest bucket holding its slots.
        """
        geo = self.tower.geometry
        largest = self.buckets[-1] if self.buckets else 0
        out: list[tuple[list[tuple[int, int]], int | None]] = []
        open_grids: list[tuple[int, int]] = []
        open_slots = 0

        def close() -> None:
            nonlocal open_grids, open_slots
            if open_grids:
                out.append((open_grids, self.bucket_for(open_slots)))
            open_grids, open_slots = [], 0

        for grid in frames:
            slots = slots_for(grid, geo)
            if slots > largest:
                close()
                out.append(([grid], None))
                continue
            if open_slots + slots > largest or len(open_grids) == MAX_FRAMES:
                close()
            open_grids.append(grid)
            open_slots += slots
        close()
        return out

    def _run_packed(
        self, pixel_values: torch.Tensor, frames: list[tuple[int, int]], return_hidden: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        tokens: list[torch.Tensor] = []
        hidden: list[torch.Tensor] = []
        offset = 0
        geo = self.tower.geometry
        for grids, bucket in self.groups(frames):
            rows = sum(h * w for h, w in grids)
            chunk = pixel_values[offset : offset + rows]
            offset += rows
            if bucket is None or self.graphs != "cuda":
                size = bucket if bucket is not None else sum(slots_for(g, geo) for g in grids)
                self.counts["eager", size] += len(grids)
                tok, hid = packed_vision_forward(self.tower, chunk, grids, size, return_hidden=True)
            else:
                self.counts["graph", bucket] += len(grids)
                variant = variant_for(self.tower, grids, bucket, chunk.device)
                tok, hid = self._packed_graph(bucket, variant)(chunk, grids, return_hidden=return_hidden)
            tokens.append(tok)
            if return_hidden:
                hidden.append(hid)
        return torch.cat(tokens), (torch.cat(hidden) if return_hidden else None)

    def _packed_graph(self, bucket: int, variant: Variant) -> PackedGraph:
        graph = self._packed.get((bucket, variant))
        if graph is None:
            if self._pool is None:
                self._pool = torch.cuda.graph_pool_handle()
            graph = PackedGraph(self.tower, bucket, capture=True, pool=self._pool, variant=variant)
            self._packed[bucket, variant] = graph
        return graph

    def warm_up(self) -> int:
        """Capture every bucket's graphs now (packed CUDA path), so that no request pays for a capture:
        per bucket the several-frame graph, and the one-frame graphs (cut windows, aligned windows with
        pad slots, and a frame filling the bucket).
        Returns the number of graphs captured; other paths capture nothing here."""
        if not (self.packed and self.graphs == "cuda" and self.buckets):
            return 0
        geo = self.tower.geometry
        device = self.tower.device
        with torch.no_grad():
            for bucket in self.buckets:
                cut = [(geo.merge, geo.merge)]  # a one-token image: its window is cut
                rows = bucket // geo.window_side
                fills = [(geo.window_side, rows)]  # an aligned frame filling the bucket: no key mask
                several = [(geo.merge, geo.merge)] * 2
                calls = [several, cut, fills]
                if bucket >= 2 * geo.window_len:  # aligned frames that leave pad slots
                    part = (geo.window_side, rows - geo.window_side)
                    calls += [[part], [(geo.window_side, geo.window_side)] * 2]
                for grids in calls:
                    self._packed_graph(bucket, variant_for(self.tower, grids, bucket, device))
        return len(self._packed)

    def _frame(self, pixels: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        grid = (1, h, w)
        slots = slots_for((h, w), self.tower.geometry)
        bucket = self.bucket_for(slots)
        if bucket is None or self.graphs == "none":
            size = bucket if bucket is not None else slots
            self.counts["eager", size] += 1
            return bucketed_vision_forward(
                self.tower, pixels, grid, size, fp32_softmax=self.fp32_softmax, return_hidden=True
            )
        masked = slots != h * w
        self.counts["graph", bucket] += 1
        if self.graphs == "cuda":
            return self._cuda_graph(bucket, masked)(pixels, grid, return_hidden=True)
        return self._hpu_graph(pixels, grid, bucket, masked)

    def _cuda_graph(self, bucket: int, masked: bool) -> BucketGraph:
        graph = self._cuda.get((bucket, masked))
        if graph is None:
            if self._pool is None:
                self._pool = torch.cuda.graph_pool_handle()
            graph = BucketGraph(
                self.tower,
                bucket,
                fp32_softmax=self.fp32_softmax,
                masked=masked,
                capture=True,
                pool=self._pool,
            )
            self._cuda[bucket, masked] = graph
        return graph

    def _hpu_graph(
        self, pixels: torch.Tensor, grid: tuple[int, int, int], bucket: int, masked: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame through an HPU graph (habana_frameworks records one graph per input shape).

        ``wrap_in_hpu_graph`` is the call vllm-gaudi uses for its own towers
        (vllm_gaudi/v1/worker/hpu_model_runner.py:971@091bbadda10b); ``disable_tensor_cache`` lets the
        graph's outputs be fresh tensors instead of cached ones.
        """
        module = self._hpu.get(masked)
        if module is None:
            import habana_frameworks.torch as htorch

            module = htorch.hpu.wrap_in_hpu_graph(
                _StaticModule(self.tower, self.fp32_softmax, masked), disable_tensor_cache=True
            )
            self._hpu[masked] = module
        layout = vision_layout(self.tower, grid, bucket, pixels.device)
        tokens, hidden = module(
            _padded_pixels(pixels, bucket),
            layout.patch_order,
            layout.cos,
            layout.sin,
            layout.row_valid,
            layout.key_mask,
            layout.token_order,
        )
        return tokens[: layout.num_tokens], hidden.index_select(0, layout.real_rows)

    def release(self) -> None:
        """Drop every captured graph and its memory."""
        self._cuda.clear()
        self._hpu.clear()
        self._packed.clear()
        self._pool = None
