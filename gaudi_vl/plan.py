"""The ``Plan``: everything the engine needs, computed from what the user knows.

Pure. ``build_plan`` composes the bucket plan, the serving settings and (when the memory planner
ran) the memory plan; exporters (``gaudi_vl.exporters``), the environment (``gaudi_vl.envvars``)
and the server command (``gaudi_vl.command``) only read a ``Plan``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Protocol, runtime_checkable

from gaudi_vl.buckets.planner import BucketPlan
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PIXELS_PER_WINDOW, PixelRange
from gaudi_vl.models import ModelSpec


class Target(str, Enum):
    """Which engine the environment and flags are for."""

    VLLM_FORK = "vllm-fork"
    """HabanaAI/vllm-fork (HPU): multimodal buckets, no explicit resolutions."""
    VLLM_GAUDI = "vllm-gaudi"
    """vllm-project/vllm-gaudi plugin (HPU): buckets plus ``VLLM_MULTIMODAL_RESOLUTIONS``."""
    VLLM = "vllm"
    """Upstream vLLM on GPUs or CPUs: HPU variables are ignored; alignment and pixel limits stay."""

    @property
    def is_hpu(self) -> bool:
        return self is not Target.VLLM


VLLM_GAUDI_MIN_PIXELS = PIXELS_PER_WINDOW
"""vllm-gaudi forces ``min_pixels = 112 * 112`` in its processor
(vllm_gaudi/models/qwen2_5_vl.py, ``HPUQwen2_5_VLProcessingInfo.get_hf_processor``)."""


@runtime_checkable
class MemorySettings(Protocol):
    """What the environment and command need from a memory plan (``gaudi_vl.memory``)."""

    gpu_memory_utilization: float
    graph_reserved_mem: float
    graph_prompt_ratio: float
    graph_multimodal_prompt_ratio: float
    max_num_seqs: int


@dataclass(frozen=True)
class Resolution:
    """An explicit warm-up resolution for vllm-gaudi (``WxH`` or ``WxHxN`` images)."""

    width: int
    height: int
    images: int = 1

    def __str__(self) -> str:
        return f"{self.width}x{self.height}" + (f"x{self.images}" if self.images != 1 else "")


@dataclass(frozen=True)
class ServeSettings:
    """Engine arguments that are not derived from buckets or memory."""

    target: Target = Target.VLLM_FORK
    tensor_parallel_size: int = 1
    max_model_len: int = 32768
    max_num_seqs: int = 128
    max_num_batched_tokens: int | None = None
    """Defaults to ``max_model_len`` (one full prompt per prefill step)."""
    gpu_memory_utilization: float = 0.9
    dtype: str = "bfloat16"
    images_per_prompt: int = 1
    host: str = "0.0.0.0"
    port: int = 8000
    fp32_softmax: bool = False
    fp32_softmax_vision: bool = False
    skip_warmup: bool = False
    align: bool = True
    """Set ``GAUDI_VL_ALIGN=1`` so the gaudi-vl vLLM plugin 112-aligns images in the engine."""

    def __post_init__(self) -> None:
        checks = (
            (self.tensor_parallel_size >= 1, "--tp must be 1 or more"),
            (self.max_model_len >= 1, "--max-model-len must be positive"),
            (self.max_num_seqs >= 1, "--max-num-seqs must be positive"),
            (self.images_per_prompt >= 1, "--images-per-prompt must be 1 or more"),
            (0.0 < self.gpu_memory_utilization <= 1.0, "--gpu-memory-utilization must be in (0, 1]"),
            (1 <= self.port <= 65535, "--port must be in 1..65535"),
        )
        for ok, hint in checks:
            if not ok:
                raise GaudiVLError("invalid serving setting", hint)

    @property
    def block_size(self) -> int | None:
        """HPU engines want ``--block-size 128`` (the seed's launch command); others keep theirs."""
        return 128 if self.target.is_hpu else None

    @property
    def batched_tokens(self) -> int:
        return self.max_num_batched_tokens or self.max_model_len


@dataclass(frozen=True)
class Plan:
    """A complete deployment plan for one model on one engine."""

    model: ModelSpec
    model_ref: str
    """What the engine gets as ``--model``: a Hugging Face id or a local folder."""
    pixel_range: PixelRange
    buckets: BucketPlan
    serve: ServeSettings = ServeSettings()
    memory: MemorySettings | None = None
    resolutions: tuple[Resolution, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def effective_gpu_memory_utilization(self) -> float:
        return self.memory.gpu_memory_utilization if self.memory else self.serve.gpu_memory_utilization

    @property
    def effective_max_num_seqs(self) -> int:
        return self.memory.max_num_seqs if self.memory else self.serve.max_num_seqs

    @property
    def all_warnings(self) -> tuple[str, ...]:
        return self.buckets.warnings + self.warnings

    def with_memory(self, memory: MemorySettings) -> Plan:
        return replace(self, memory=memory)


def effective_pixel_range(requested: PixelRange, target: Target) -> tuple[PixelRange, tuple[str, ...]]:
    """The range the engine will really use, and why it differs from the request.

    vllm-gaudi overrides ``min_pixels`` with 112 * 112, so smaller images reach the vision tower
    than a larger ``--min-pixels`` suggests; the buckets must cover them.
    """
    if target is Target.VLLM_GAUDI and requested.min_pixels != VLLM_GAUDI_MIN_PIXELS:
        forced = replace(requested, min_pixels=min(VLLM_GAUDI_MIN_PIXELS, requested.max_pixels))
        note = (
            f"vllm-gaudi forces min_pixels={VLLM_GAUDI_MIN_PIXELS} (112 x 112) whatever "
            f"--min-pixels says ({requested.min_pixels}); buckets are planned for the forced value"
        )
        return forced, (note,)
    return requested, ()


def build_plan(
    model: ModelSpec,
    bucket_plan: BucketPlan,
    *,
    model_ref: str | None = None,
    serve: ServeSettings = ServeSettings(),
    memory: MemorySettings | None = None,
    resolutions: tuple[Resolution, ...] = (),
    warnings: tuple[str, ...] = (),
) -> Plan:
    """Assemble a ``Plan``; ``model_ref`` defaults to the model's Hugging Face id."""
    ref = model_ref or model.hf_id or model.name
    return Plan(
        model=model,
        model_ref=ref,
        pixel_range=bucket_plan.pixel_range,
        buckets=bucket_plan,
        serve=serve,
        memory=memory,
        resolutions=resolutions,
        warnings=warnings,
    )
