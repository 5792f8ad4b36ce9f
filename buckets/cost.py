"""Cost model of the HPU vision tower for one image padded to a bucket of N patches.

Pure integer arithmetic (no torch). The optimizer minimises these numbers exactly, so they are
whole FLOP counts (Python ints never round), not timings.

Why FLOPs stand in for time on HPU: every piece below is a matrix multiply that the engine runs on
the MME (the Gaudi matrix engine) at a static, bucket-sized shape: the linear layers and, because
the HPU path runs window attention and full attention alike as ONE dense ``FusedSDPA`` over the
whole bucket with a block-diagonal ``[N, N]`` mask (vllm_gaudi/models/qwen2_5_vl.py; see
shared/reference/hpu_semantics.md), an ``N x N`` attention in EVERY layer. So the time of one
image is, to first order, ``a * N + b * N**2`` with

* ``a`` (linear FLOPs per patch, from transformers' ``modeling_qwen2_5_vl.py`` module layout):
  patch embedding ``Conv3d(in_channels, hidden, kernel=(temporal_patch, patch, patch))`` =
  ``2 * in_channels * temporal_patch * patch**2 * hidden``; per block ``qkv`` (h -> 3h), ``proj``
  (h -> h), ``gate_proj`` and ``up_proj`` (h -> i), ``down_proj`` (i -> h) = ``2 * (4 h^2 + 3 h i)``;
  the patch merger ``Linear(4h, 4h)`` + ``Linear(4h, out)`` on N / 4 merged tokens =
  ``2 * (4 h^2 + h * out)`` per patch;
* ``b`` (attention FLOPs per patch squared): ``Q K^T`` and ``softmax(.) V`` are each
  ``2 * N^2 * head_dim * heads = 2 N^2 h`` FLOPs per layer, times ``depth`` layers (dense on HPU).

Left out on purpose: biases, norms, GELU/SiLU, rotary embeddings and the softmax itself (all
elementwise: under 2 % of the total at any bucket for the Qwen2.5-VL towers), and the per-image
launch overhead (the same for every bucket choice, so it cannot change which buckets are best).
For the 7B tower (h 1280, i 3420, 32 layers) ``a`` ~ 1.26 GFLOP and ``b`` = 163,840 FLOP, so
attention equals the linear layers at about 7,700 patches and dominates above: large buckets
cost quadratically, which is why the ``time`` objective splits the top of the range finer than
the ``patches`` objective does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from gaudi_vl.models import VisionSpec


class Objective(str, Enum):
    """What the bucket optimizer minimises over a workload."""

    TIME = "time"
    """Vision-tower FLOPs (``VisionCost.flops``): linear layers ~ N plus dense attention ~ N^2."""
    PATCHES = "patches"
    """Total padded patches (every image counts as its bucket's size)."""


@dataclass(frozen=True)
class VisionCost:
    """``flops(N) = linear_flops_per_patch * N + attention_flops_per_patch_sq * N**2``."""

    linear_flops_per_patch: int
    attention_flops_per_patch_sq: int

    def __post_init__(self) -> None:
        if self.linear_flops_per_patch < 0 or self.attention_flops_per_patch_sq < 0:
            raise ValueError("cost coefficients must be non-negative")

    @classmethod
    def from_vision(cls, vision: VisionSpec) -> VisionCost:
        """The coefficients of one vision tower, from its dimensions (see the module docstring)."""
        h, i, out = vision.hidden_size, vision.intermediate_size, vision.out_hidden_size
        patch_in = vision.in_channels * vision.temporal_patch_size * vision.patch_size**2
        patch_embed = 2 * patch_in * h
        block = 2 * (4 * h * h + 3 * h * i)
        merge = vision.spatial_merge_size**2
        # Linear(4h, 4h) and Linear(4h, out) run on N / merge tokens of width merge * h.
        merger = 2 * (merge * h * merge * h + merge * h * out) // merge
        return cls(
            linear_flops_per_patch=patch_embed + vision.depth * block + merger,
            attention_flops_per_patch_sq=4 * h * vision.depth,
        )

    def flops(self, patches: int) -> int:
        """FLOPs of one image run at ``patches`` patches (its bucket, or its own size above them)."""
        return self.linear_flops_per_patch * patches + self.attention_flops_per_patch_sq * patches * patches

    def attention_share(self, patches: int) -> float:
        """Fraction of ``flops(patches)`` spent in the dense attention."""
        total = self.flops(patches)
        return self.attention_flops_per_patch_sq * patches * patches / total if total else 0.0


PATCH_COST = VisionCost(linear_flops_per_patch=1, attention_flops_per_patch_sq=0)
"""``flops(N) = N``: the ``patches`` objective as a cost model."""


def cost_for(objective: Objective | str, vision: VisionSpec) -> VisionCost:
    """The per-image cost function the optimizer minimises for ``objective``."""
    objective = Objective(objective)
    return PATCH_COST if objective is Objective.PATCHES else VisionCost.from_vision(vision)
