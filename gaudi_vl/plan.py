"""The ``Plan``: everything the engine needs, computed from what the user knows.

Pure. ``build_plan`` composes the bucket plan, the serving settings, the engine's warm-up set and
(for engines gaudi-vl plans memory for) the memory plan; exporters (``gaudi_vl.exporters``), the
environment (``gaudi_vl.envvars``) and the server command (``gaudi_vl.command``) only read a
``Plan``. What the engine does with it comes from the plan's engine profile (``plan.engine``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from gaudi_vl.buckets.planner import BucketPlan
from gaudi_vl.engines import EngineProfile, WarmupSet
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from gaudi_vl.models import ModelSpec
from gaudi_vl.settings import ServeSettings

if TYPE_CHECKING:
    from gaudi_vl.engines.text_buckets import TextBucketSet
    from gaudi_vl.family_plan import FamilyWarmup
    from gaudi_vl.memory import MemoryPlan
    from gaudi_vl.warmup import WarmupEstimate

DEFAULT_MAX_NUM_SEQS = 128
"""``--max-num-seqs`` when memory is not planned (engines gaudi-vl does not model)."""
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9
"""vLLM's own default, used when memory is not planned."""


@dataclass(frozen=True)
class Resolution:
    """An explicit warm-up image for engines that read ``VLLM_MULTIMODAL_RESOLUTIONS`` (``WxH``)."""

    width: int
    height: int
    images: int = 1

    def __str__(self) -> str:
        """Always with the count: vllm-gaudi reads a bare ``WxH`` as "at the per-prompt image limit"
        (vllm_gaudi/extension/bucketing/vision.py:105-107@091bbadda10b), ``WxHxN`` as N images."""
        return f"{self.width}x{self.height}x{self.images}"

    @classmethod
    def parse(cls, text: str) -> Resolution:
        """``WxH`` or ``WxHxN`` as ``__str__`` writes it; a one-line error otherwise."""
        parts = text.lower().split("x")
        if len(parts) not in (2, 3) or not all(p.isdigit() and 0 < len(p) <= 6 for p in parts):
            raise GaudiVLError(f"resolution {text!r} is not WxH or WxHxN", "e.g. 1344x896 or 1344x896x2")
        values = [int(p) for p in parts]
        if min(values) < 1:
            raise GaudiVLError(f"resolution {text!r} has a zero side or count", "use positive numbers")
        return cls(values[0], values[1], values[2] if len(values) == 3 else 1)


@dataclass(frozen=True)
class Plan:
    """A complete deployment plan for one model on one engine."""

    model: ModelSpec
    model_ref: str
    """What the engine gets as ``--model``: a Hugging Face id or a local folder."""
    pixel_range: PixelRange
    buckets: BucketPlan
    serve: ServeSettings = ServeSettings()
    memory: MemoryPlan | None = None
    resolutions: tuple[Resolution, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    text_env: tuple[tuple[str, str], ...] = ()
    """Text bucket variables fitted to traffic (``--text-workload``), exported with the plan's env."""
    family_warmup: FamilyWarmup | None = None
    """For the families beyond Qwen2.5-VL (``gaudi_vl.family_plan``): the engine's vision warm-up
    variables; ``buckets`` and ``pixel_range`` then only describe (the family's rule decides)."""

    @property
    def engine(self) -> EngineProfile:
        return self.serve.engine

    @cached_property
    def warmup(self) -> WarmupSet:
        """The vision-tower sizes the engine compiles at start-up for this plan (its profile's rule);
        computed once per plan (the table, the file, the memory plan all read it)."""
        eager_skips = self.serve.enforce_eager and not self.engine.warms_under_eager
        if self.family_warmup is not None:
            from gaudi_vl.family_plan import family_warmup_set

            return family_warmup_set(self.model, self.engine, self.family_warmup,
                                     skip=self.serve.skip_warmup or eager_skips)
        return self.engine.warmup_set(
            self.buckets.buckets,
            self.pixel_range,
            align=self.serve.align,
            resolutions=[(r.width, r.height) for r in self.resolutions],
            skip_warmup=self.serve.skip_warmup or eager_skips,
        )

    @cached_property
    def text_buckets(self) -> TextBucketSet | None:
        """The text prompt/decode buckets the engine warms for this plan (its own generator, at the
        memory plan's KV blocks and max_num_seqs); None without a memory plan or text buckets."""
        from gaudi_vl.memory import plan_text_buckets

        if self.memory is None:
            return None
        return plan_text_buckets(self.engine, self.serve, self.memory.max_num_seqs, self.memory.kv_blocks,
                                 self.memory.block_size, dict(self.text_env))

    @cached_property
    def warmup_estimate(self) -> WarmupEstimate:
        """Estimated warm-up time by graph kind (``gaudi_vl.warmup.estimate_warmup``): the startup
        probe's budget comes from ``seconds_high``."""
        from gaudi_vl.warmup import estimate_warmup

        return estimate_warmup(self)

    @property
    def gpu_memory_utilization(self) -> float:
        if self.memory is not None:
            return self.memory.gpu_memory_utilization
        return self.serve.gpu_memory_utilization or DEFAULT_GPU_MEMORY_UTILIZATION

    @property
    def max_num_seqs(self) -> int:
        if self.memory is not None:
            return self.memory.max_num_seqs
        if self.serve.max_num_seqs is not None:
            return self.serve.max_num_seqs
        limit = self.engine.max_num_seqs_for(self.serve.batched_tokens)  # more is refused at start-up
        return DEFAULT_MAX_NUM_SEQS if limit is None else min(DEFAULT_MAX_NUM_SEQS, limit)

    def check_engine_start(self) -> None:
        """Raise the one-line error (with the fix) for a plan its engine refuses at start-up: the
        server numbers against the profile's scheduler rule (``EngineProfile.check_scheduler``)."""
        self.engine.check_scheduler(self.serve.max_model_len, self.max_num_seqs, self.serve.batched_tokens)

    @property
    def all_warnings(self) -> tuple[str, ...]:
        return self.buckets.warnings + self.warnings

    def with_memory(self, memory: MemoryPlan) -> Plan:
        return replace(self, memory=memory)


def build_plan(
    model: ModelSpec,
    bucket_plan: BucketPlan,
    *,
    model_ref: str | None = None,
    serve: ServeSettings | None = None,
    memory: MemoryPlan | None = None,
    resolutions: tuple[Resolution, ...] = (),
    warnings: tuple[str, ...] = (),
    text_env: tuple[tuple[str, str], ...] = (),
) -> Plan:
    """Assemble a ``Plan``; ``model_ref`` defaults to the model's Hugging Face id."""
    ref = model_ref or model.hf_id or model.name
    return Plan(
        model=model,
        model_ref=ref,
        pixel_range=bucket_plan.pixel_range,
        buckets=bucket_plan,
        serve=serve or ServeSettings(),
        memory=memory,
        resolutions=resolutions,
        warnings=warnings,
        text_env=text_env,
    )
