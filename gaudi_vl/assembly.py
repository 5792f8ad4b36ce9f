"""Assembling a complete ``Plan`` from a request: range, buckets, warm-up, memory, in that order.

Pure (the workload, an I/O edge, comes in as a function of the pixel range, called once). Each step
asks the engine profile what the engine does:

1. the pixel range the engine's processor really uses (``EngineProfile.effective_pixel_range``);
2. the buckets (a strategy, the user's list, or the workload optimum);
3. warm-up images for engines that read ``VLLM_MULTIMODAL_RESOLUTIONS``: the workload's most frequent
   sizes, plus one image for each bucket the engine's guessed warm-up never reaches
   (``warmup_fill``), so no bucket compiles while serving;
4. the memory plan for the engine's warm-up set. When ``--max-pixels`` was not given and the model's
   default range does not fit the device, the largest ``max_pixels`` that fits is chosen (bisection
   over whole 112 x 112 windows) and said in a note; an explicit ``--max-pixels`` that does not fit
   stays an error whose hint gives the largest one that does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gaudi_vl.buckets.planner import BucketPlan, Strategy, plan_buckets
from gaudi_vl.devices import DeviceSpec, device_spec
from gaudi_vl.engines import EngineProfile, Setting
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import MAX_ASPECT_RATIO, PATCH_PX, PIXELS_PER_WINDOW, PixelRange
from gaudi_vl.memory import InfeasiblePlan, MemoryPlan, check_tp, plan_memory
from gaudi_vl.models import ModelSpec
from gaudi_vl.plan import Plan, Resolution, build_plan
from gaudi_vl.settings import ServeSettings

if TYPE_CHECKING:
    from gaudi_vl.family_plan import FamilyWarmup
    from gaudi_vl.workload import WorkloadReport

WorkloadSolver = Callable[[PixelRange], tuple[BucketPlan, "WorkloadReport"]]
"""Reads and solves the workload for a pixel range (``gaudi_vl.cli.workload_options``)."""

FIT_BINDINGS = frozenset({"vision peak", "graphs", "kv", "utilization"})
"""Failures a smaller ``max_pixels`` can cure (weights alone cannot be)."""


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked for; None means "the model's or engine's default"."""

    model: ModelSpec
    serve: ServeSettings = ServeSettings()
    min_pixels: int | None = None
    max_pixels: int | None = None
    max_aspect: float = MAX_ASPECT_RATIO
    strategy: Strategy = Strategy.DEFAULT
    step: int | None = None
    count: int | None = None
    user_buckets: tuple[int, ...] | None = None
    model_ref: str | None = None
    notes: tuple[str, ...] = ()
    """What the edges found worth saying before planning (e.g. a max_model_len vLLM only warns about)."""
    text_env: tuple[tuple[str, str], ...] = ()
    """Text bucket variables fitted to traffic (``gaudi_vl.cli.workload_options.fit_text_workload``)."""


def requested_range(req: PlanRequest) -> PixelRange:
    lo = req.min_pixels if req.min_pixels is not None else req.model.processor.min_pixels
    hi = req.max_pixels if req.max_pixels is not None else req.model.processor.max_pixels
    if req.min_pixels is not None and req.max_pixels is None and lo > hi:
        raise GaudiVLError(f"--min-pixels {lo} is above the model's max_pixels {hi}", "pass --max-pixels too")
    return PixelRange(min_pixels=lo, max_pixels=hi, max_aspect_ratio=req.max_aspect)


def plan_device(serve: ServeSettings) -> DeviceSpec:
    return device_spec(serve.device, memory=serve.device_memory, tp=serve.tensor_parallel_size)


def warmup_fill(
    engine: EngineProfile, buckets: Sequence[int], pixel_range: PixelRange, *, align: bool,
    existing: Sequence[Resolution] = (),
) -> dict[int, Resolution]:
    """One warm-up image for each bucket the engine's warm-up would never reach, for engines that
    read explicit resolutions: the largest image whose processed grid pads into exactly that bucket
    (sides in whole resize units, nearest to square), checked through the engine's own rules."""
    if not engine.reads(Setting.RESOLUTIONS) or not buckets:
        return {}
    ordered = tuple(sorted(buckets))
    warm = engine.warmup_set(ordered, pixel_range, align=align,
                             resolutions=[(r.width, r.height) for r in existing])
    unit = engine.resize_factor(align) // PATCH_PX
    out: dict[int, Resolution] = {}
    for b in warm.never_warmed:
        below = max([x for x in ordered if x < b], default=0)
        best: tuple[int, int, int] | None = None  # (patches, -imbalance, gh)
        gh = unit
        while gh * unit <= b:
            gw = b // gh // unit * unit
            n = gh * gw
            if n > below and gw >= unit:
                key = (n, -abs(gh - gw), gh)
                if best is None or key > best:
                    best = key
            gh += unit
        if best is None:
            continue
        gh = best[2]
        gw = best[0] // gh
        width, height = gw * PATCH_PX, gh * PATCH_PX
        grid = engine.image_patches(width, height, pixel_range, align=align)
        if engine.run_patches(*grid, ordered) == b:
            out[b] = Resolution(width, height)
    return out


def _buckets(req: PlanRequest, pixel_range: PixelRange, engine: EngineProfile) -> BucketPlan:
    if req.user_buckets is not None:
        return plan_buckets(pixel_range, Strategy.USER, user_buckets=req.user_buckets, engine=engine)
    return plan_buckets(pixel_range, req.strategy, step=req.step, count=req.count, engine=engine)


def _memory(req: PlanRequest, plan: Plan, device: DeviceSpec) -> MemoryPlan:
    return plan_memory(req.model, device, plan.serve, plan.buckets.largest, plan.warmup.compiled,
                       dict(plan.text_env))


def _assemble(
    req: PlanRequest, pixel_range: PixelRange, bucket_plan: BucketPlan,
    resolutions: tuple[Resolution, ...], notes: tuple[str, ...],
) -> Plan:
    engine = req.serve.engine
    fill = warmup_fill(engine, bucket_plan.buckets, pixel_range, align=req.serve.align, existing=resolutions)
    if fill:
        notes = (*notes, (f"{engine.name}'s guessed warm-up images never reach bucket(s) "
                          f"{', '.join(map(str, fill))}: warm-up resolutions "
                          f"{', '.join(map(str, fill.values()))} added for them"))
    plan = build_plan(
        req.model, bucket_plan, model_ref=req.model_ref, serve=req.serve,
        resolutions=resolutions + tuple(fill.values()), warnings=notes, text_env=req.text_env,
    )
    fails = plan.warmup.fails
    if fails:
        plan = replace(plan, warnings=(*plan.warnings, (
            f"{engine.name}'s warm-up would crash: its guessed images land unpadded at "
            f"{', '.join(map(str, fails))} patches, which its long-sequence attention refuses (not a "
            "multiple of 64); keep --align on or raise the largest bucket to cover max_pixels")))
    return plan


def fit_max_pixels(req: PlanRequest, device: DeviceSpec, lo_pixels: int, hi_pixels: int) -> int | None:
    """The largest ``max_pixels`` (whole windows, in ``[lo, hi]``) whose plan fits ``device``, or None."""
    engine = req.serve.engine

    def fits(windows: int) -> bool:
        try:
            pr, _ = engine.effective_pixel_range(
                PixelRange(min(lo_pixels, windows * PIXELS_PER_WINDOW), windows * PIXELS_PER_WINDOW,
                           req.max_aspect))
            plan = _assemble(req, pr, _buckets(req, pr, engine), (), ())
            _memory(req, plan, device)
        except GaudiVLError:
            return False
        return True

    lo_w = max(1, -(-lo_pixels // PIXELS_PER_WINDOW))
    hi_w = hi_pixels // PIXELS_PER_WINDOW
    if hi_w < lo_w or not fits(lo_w):
        return None
    while hi_w - lo_w > 1:
        mid = (lo_w + hi_w) // 2
        if fits(mid):
            lo_w = mid
        else:
            hi_w = mid
    return (hi_w if fits(hi_w) else lo_w) * PIXELS_PER_WINDOW


def assemble(req: PlanRequest, workload: WorkloadSolver | None = None) -> tuple[Plan, WorkloadReport | None]:
    """The complete plan for ``req`` (and the workload report when a workload chose the buckets)."""
    engine = req.serve.engine
    check_tp(req.model, req.serve.tensor_parallel_size)
    asked = requested_range(req)
    pixel_range, range_notes = engine.effective_pixel_range(asked)
    mode = req.serve.execution
    notes = req.notes + range_notes + (mode.notes if mode is not None else ())
    device = plan_device(req.serve) if engine.memory is not None else None

    if device is not None and req.max_pixels is None and req.user_buckets is None:
        trial = _assemble(req, pixel_range, _buckets(req, pixel_range, engine), (), ())
        try:
            _memory(req, trial, device)
        except InfeasiblePlan as exc:
            if exc.binding not in FIT_BINDINGS:
                raise
            fitted = fit_max_pixels(req, device, pixel_range.min_pixels, pixel_range.max_pixels)
            if fitted is None:
                raise
            notes = (*notes, (f"max_pixels {pixel_range.max_pixels} -> {fitted} to fit {device.name} "
                              f"x{device.cards} ({exc.binding} at the model's default); "
                              "pass --max-pixels to choose"))
            pixel_range = replace(pixel_range, max_pixels=fitted,
                                  min_pixels=min(pixel_range.min_pixels, fitted))

    report = None
    if workload is not None:
        bucket_plan, report = workload(pixel_range)
        resolutions = report.resolutions
    else:
        bucket_plan, resolutions = _buckets(req, pixel_range, engine), ()
    plan = _assemble(req, pixel_range, bucket_plan, resolutions, notes)
    if device is not None:
        try:
            plan = plan.with_memory(_memory(req, plan, device))
        except InfeasiblePlan as exc:
            if exc.binding in FIT_BINDINGS and req.max_pixels is not None and req.user_buckets is None \
                    and workload is None:
                fitted = fit_max_pixels(req, device, pixel_range.min_pixels, pixel_range.max_pixels)
                if fitted is not None:
                    raise InfeasiblePlan(
                        exc.binding, exc.message, f"lower --max-pixels to {fitted}; or {exc.hint}"
                    ) from None
            raise
    plan.check_engine_start()
    return plan, report


def assemble_family(req: PlanRequest, warm: FamilyWarmup) -> Plan:
    """The complete plan of a family beyond Qwen2.5-VL (``gaudi_vl.family_plan``): the warm-up
    variables ``warm`` (from traffic or the engine's defaults) and the memory plan for the largest
    call warm-up or serving makes, with one vision graph per compiled key."""
    from gaudi_vl.family_plan import family_bucket_plan, family_calls, largest_call

    engine = req.serve.engine
    check_tp(req.model, req.serve.tensor_parallel_size)
    plan = replace(build_plan(req.model, family_bucket_plan(req.model, engine, warm), model_ref=req.model_ref,
                              serve=req.serve, warnings=req.notes, text_env=req.text_env), family_warmup=warm)
    if engine.memory is not None:
        device = plan_device(req.serve)
        calls = () if plan.warmup.graphs == 0 else family_calls(req.model, engine, warm)
        largest = largest_call(req.model, engine, warm, req.serve.batched_tokens)
        memory = plan_memory(req.model, device, req.serve, largest, calls, dict(plan.text_env))
        plan = plan.with_memory(memory)
    plan.check_engine_start()
    return plan
