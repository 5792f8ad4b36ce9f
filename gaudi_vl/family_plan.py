"""The whole-engine plan of a model family beyond Qwen2.5-VL: what its warm-up compiles, as a ``Plan``.

Pure. A family plan is a ``Plan`` (``gaudi_vl.plan``) whose ``family_warmup`` holds the engine's
vision warm-up variables for the family -- the bucket list, the ``VLLM_MULTIMODAL_RESOLUTIONS``
entries and the ``--limit-mm-per-prompt`` image count (the family warm-up plan,
``gaudi_vl.warmup_plan``, chooses them from traffic; without a workload, the engine's defaults).
Everything else is the Qwen2.5-VL machinery, unchanged: the memory plan (``gaudi_vl.memory``) reads
one ``VisionCall`` per compiled key (``family_calls``) and the largest call warm-up or serving can
make (``largest_call``); the text buckets, the graph budget, the warm-up estimate, the environment,
the command and every export read the ``Plan``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gaudi_vl.buckets.planner import BucketPlan, Strategy
from gaudi_vl.engines import EngineProfile, WarmupSet
from gaudi_vl.engines.vllm_gaudi_models import (
    ModelFacts,
    WarmResolution,
    call_keys,
    key_call,
    parse_resolutions,
    warm_entries,
    warmed_keys,
)
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.families import ImageKind, ImageRule
from gaudi_vl.geometry import PIXELS_PER_WINDOW, PixelRange, WindowRange
from gaudi_vl.memory import VisionCall
from gaudi_vl.models import ModelSpec

if TYPE_CHECKING:
    from gaudi_vl.plan import Plan


@dataclass(frozen=True)
class FamilyWarmup:
    """The engine's vision warm-up variables for a family plan (its own fields in the plan file)."""

    buckets: tuple[int, ...]
    """``VLLM_MULTIMODAL_BUCKETS`` (empty: the model's default list is left in force)."""
    resolutions: tuple[str, ...] = ()
    """``VLLM_MULTIMODAL_RESOLUTIONS`` entries in the engine's syntax (``WxH``, ``WxHxN``, ``WxHxN-M``)."""
    limit: int = 1
    """``--limit-mm-per-prompt`` image count."""

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise GaudiVLError(f"limit must be a positive image count, got {self.limit!r}",
                               "pass --images-per-prompt N")
        if any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in self.buckets):
            raise GaudiVLError(f"buckets must be positive integers, got {list(self.buckets)}",
                               "re-plan with gaudi-vl plan")
        parse_resolutions(",".join(self.resolutions))

    @property
    def warm_resolutions(self) -> tuple[WarmResolution, ...]:
        return parse_resolutions(",".join(self.resolutions))


def with_pixels(model: ModelSpec, min_pixels: int | None, max_pixels: int | None) -> ModelSpec:
    """``model`` with its processor's pixel limits replaced (``--min-pixels`` / ``--max-pixels``), for
    the families whose processor resizes by area (Qwen3-VL, Qwen2-VL: ``smart_resize``); the plan
    pins them with ``--mm-processor-kwargs``. A one-line error for the others."""
    if min_pixels is None and max_pixels is None:
        return model
    fam = model.family
    assert fam is not None
    if fam.image.kind is not ImageKind.RESIZE:
        flag = "--max-pixels" if max_pixels is not None else "--min-pixels"
        raise GaudiVLError(f"{flag} applies to processors that resize by area, not to {model.model_type}",
                           "drop it; --workload and --max-graphs plan this model's warm-up")
    lo = fam.image.min_pixels if min_pixels is None else min_pixels
    hi = fam.image.max_pixels if max_pixels is None else max_pixels
    if lo > hi:
        raise GaudiVLError(f"--min-pixels {lo} is above --max-pixels {hi} for {model.name}",
                           "pass a smaller --min-pixels or a larger --max-pixels")
    PixelRange(lo, hi)  # the same bounds as every pixel range (one-line errors)
    image = replace(fam.image, min_pixels=lo, max_pixels=hi)
    return replace(model, family=replace(fam, image=image), processor=replace(model.processor,
                                                                             min_pixels=lo, max_pixels=hi))


def family_facts(model: ModelSpec, engine: EngineProfile) -> ModelFacts:
    """The engine's facts for the model's family; a one-line error for an engine without them."""
    if engine.multimodal_models is None:
        raise GaudiVLError(f"{model.name} ({model.model_type}) is not served by --target {engine.name}: "
                           "it plans Qwen2.5-VL only", "pass --target vllm-gaudi")
    return engine.multimodal_models.facts(model.model_type)


def _rule(model: ModelSpec) -> ImageRule:
    assert model.family is not None
    return model.family.image


def family_buckets(facts: ModelFacts, warm: FamilyWarmup) -> tuple[int, ...]:
    """The bucket list in force: the plan's, else the model's default."""
    return warm.buckets or facts.default_buckets


def family_pixel_range(model: ModelSpec) -> PixelRange:
    """What a family plan's ``pixel_range`` describes: the processor's pixel limits (RESIZE), else
    one window up to the largest image's area (the family's rule decides the rest)."""
    rule = _rule(model)
    if rule.min_pixels and rule.max_pixels:
        return PixelRange(rule.min_pixels, rule.max_pixels)
    w, h = rule.largest_image()
    return PixelRange(PIXELS_PER_WINDOW, max(PIXELS_PER_WINDOW, w * h))


def family_bucket_plan(model: ModelSpec, engine: EngineProfile, warm: FamilyWarmup) -> BucketPlan:
    """``Plan.buckets`` of a family plan: the list in force, described only (no 64-patch rows: the
    family's compile keys, not padded buckets, decide what compiles)."""
    buckets = family_buckets(family_facts(model, engine), warm)
    strategy = Strategy.USER if warm.buckets else Strategy.DEFAULT
    return BucketPlan(buckets, strategy, family_pixel_range(model), WindowRange(1, 1, 1), ())


def family_calls(model: ModelSpec, engine: EngineProfile, warm: FamilyWarmup) -> tuple[VisionCall, ...]:
    """One ``VisionCall`` per compile key warm-up leaves compiled (one vision graph each), sorted."""
    facts = family_facts(model, engine)
    rule = _rule(model)
    keys = warmed_keys(facts, rule, family_buckets(facts, warm), warm.warm_resolutions, warm.limit)
    return tuple(sorted(VisionCall(*key_call(rule, facts, k)) for k in keys))


def largest_call(model: ModelSpec, engine: EngineProfile, warm: FamilyWarmup,
                 batched_tokens: int) -> VisionCall:
    """The largest tower call warm-up or serving makes: the warmed calls, and one serving step of
    the processor's largest image (``ImageRule.largest_image``) as many times as the engine's encoder
    budget admits in one call (``VllmGaudiModels.encoder_step_images``: at least ``limit``), the
    most patches first; the family's own split (Gemma-3's batch buckets) applies."""
    facts = family_facts(model, engine)
    assert engine.multimodal_models is not None
    rule = _rule(model)
    image = rule.largest_image()
    n = engine.multimodal_models.encoder_step_images(rule.shape(*image).tokens, batched_tokens, warm.limit)
    serving = [VisionCall(*key_call(rule, facts, k)) for k in
               call_keys(facts, rule, [image] * n, family_buckets(facts, warm))]
    return max((*family_calls(model, engine, warm), *serving))


def family_warmup_set(model: ModelSpec, engine: EngineProfile, warm: FamilyWarmup, *,
                      skip: bool) -> WarmupSet:
    """``Plan.warmup`` of a family plan: the warm-up images and one compiled entry (its call's
    patches) per compile key, so ``graphs`` counts the vision graphs (``gaudi_vl.warmup``)."""
    if skip:
        return WarmupSet((), (), (), ())
    facts = family_facts(model, engine)
    rule = _rule(model)
    images = tuple(dict.fromkeys(wh for wh, _ in warm_entries(
        facts, rule, family_buckets(facts, warm), warm.warm_resolutions, warm.limit)))
    compiled = tuple(c.patches for c in family_calls(model, engine, warm))
    return WarmupSet(images, compiled, (), ())


def image_rule_line(model: ModelSpec) -> str:
    """One line: how the family's processor turns an image into tower input."""
    rule = model.family.image  # type: ignore[union-attr]
    if rule.kind is ImageKind.RESIZE:
        return (f"image rule: smart_resize to multiples of {rule.factor} px (patch {rule.patch_size} x merge "
                f"{rule.merge_size}), pixels {rule.min_pixels:,} .. {rule.max_pixels:,}")
    if rule.kind is ImageKind.FIXED:
        pas = "on" if rule.pan_and_scan else "off"
        return (f"image rule: fixed {rule.image_size} x {rule.image_size} crops of {rule.tokens_per_unit} "
                f"tokens, pan-and-scan {pas}")
    if rule.kind is ImageKind.ASPECT:
        return (f"image rule: aspect-preserving resize to at most {rule.max_soft_tokens} tokens of "
                f"{rule.merge_size} x {rule.merge_size} patches of {rule.patch_size} px")
    return (f"image rule: tiles of {rule.image_size} px, at most {rule.max_tiles} (+1 global), "
            f"{rule.tokens_per_unit} tokens each")


def family_lines(plan: Plan) -> list[str]:
    """The family part of the plan table: the image rule, what the engine warms and pads for the
    model, and the vision warm-up variables in force."""
    from gaudi_vl.memory import VisionCall

    model, engine, warm = plan.model, plan.engine, plan.family_warmup
    assert warm is not None
    facts = family_facts(model, engine)
    kind = "batch-based" if facts.batch_based else "patch buckets"
    calls = family_calls(model, engine, warm)
    top = largest_call(model, engine, warm, plan.serve.batched_tokens)
    biggest = max(calls, default=VisionCall(0, 0))
    res = ",".join(warm.resolutions) or "none"
    listed = ",".join(map(str, family_buckets(facts, warm))) or "(none)"
    return [
        image_rule_line(model),
        (f"{engine.name}: MULTIMODAL_CONFIG key {facts.config_key or 'none (default)'}, {kind} "
         f"{listed}; compile key: {facts.shape_key.value}; "
         f"pads to a bucket: {'yes' if facts.pads_to_bucket else 'no'}"),
        (f"vision warm-up: {plan.warmup.graphs} graph(s) (one per compiled key; largest {biggest.patches:,} "
         f"patches); resolutions {res}; {warm.limit} image(s) per prompt"),
        (f"largest encoder call serving can make: {top.patches:,} patches (one step's largest images "
         "within max_num_batched_tokens; the vision peak below is for it)"),
    ]
