"""vllm-gaudi's per-model multimodal facts: what it buckets, warms and pads for each model family.

Pure data plus the engine's rules as pure functions. Facts read at vllm-project/vllm-gaudi ``main``
@ 091bbadda10b (2026-08-21) and at the vLLM it runs on (vllm 0.32, ``vllm/config/multimodal.py``);
citations are ``path:line@commit``.

* Per-model config: ``MULTIMODAL_CONFIG`` (vllm_gaudi/extension/bucketing/vision.py:6-70@091bbadda10b)
  holds a bucket list and ``is_batch_based`` per model key. The key is matched against the HF
  config's ``model_type`` (hpu_model_runner.py:6176 passes ``get_config().model_type``, set from
  ``hf_config.model_type`` in extension/environment.py:75) by SUBSTRING after dropping ``-`` and
  ``.``, first key in dict order wins (vision.py:145-152): ``qwen3_vl`` also matches
  ``qwen3_vl_moe``, ``gemma-3`` matches ``gemma3``. A model type no key matches (``qwen2_vl``,
  ``llama4``) falls back to ``{'is_batch_based': True, 'buckets': [1, 2, 4, 8]}`` (vision.py:155-156).
* Warm-up (hpu_model_runner.py:5993-6130@091bbadda10b), only when ``--limit-mm-per-prompt`` names
  ``image`` (:6005-6006; vLLM's default ``limit_per_prompt`` is an empty mapping, so without the flag
  no image graph is warmed at all):

  - batch-based models: one run per bucket ``b`` of ``b`` images of a hard-coded 896 x 896
    (:6077-6081, 5926-5928), whatever the model; ``VLLM_MULTIMODAL_RESOLUTIONS`` is NOT read for
    them (:6017-6018);
  - other models: per bucket, five guessed images (``bucket_to_image_resolution`` with the model's
    own ``patch_size``, vision.py:262-285; hpu_model_runner.py:6034-6038), each once (count 1), then
    the explicit resolutions: ``VLLM_MULTIMODAL_RESOLUTIONS`` entries ``WxH`` (count = the
    ``--limit-mm-per-prompt`` image count), ``WxHxN`` (N, clamped to it), ``WxHxN-M`` (every count
    in N..min(M, it)) (vision.py:98-143; hpu_model_runner.py:6084-6091) and the ``width``/``height``
    of ``--limit-mm-per-prompt`` (:6020-6028). Each warm image is built raw at WxH and sent through
    the model's own processor (:5843-5854, 5873-5908): it lands on the grid a real image of that
    size lands on. An empty bucket list (gemma4, qwen3_5, kimi_k25) skips the guessed images.
  - a warning above 25 warmed multimodal graphs (:182-183, 6106-6113).
* Serving: only Qwen2.5-VL pads an image to a bucket (models/qwen2_5_vl.py:384-413, the only caller
  of ``get_multimodal_bucket``); Gemma-3 splits each call's crops greedily into the batch buckets
  (models/gemma3_mm.py:22-40, vision.py:243-257); every other model runs its tower on what the
  processor gives. The encoder runs once per prefill batch on all its not-yet-cached images
  (hpu_model_runner.py:2014-2057), so what decides a serving-time compile is:

  - ``PADDED_PER_IMAGE`` (qwen2_5_vl): each image's padded patch count (or its own count above the
    largest bucket);
  - ``CONCAT_GRIDS`` (Qwen2-VL, Qwen3-VL: upstream vLLM's ``self.visual(pixel_values, grid_thw)``
    on the concatenated images, vllm/model_executor/models/qwen3_vl.py ``_process_image_input``):
    the sequence of image grids of the call. Warm-up only ever builds N copies of ONE image, so
    only calls whose images share one grid can be warm;
  - ``BATCH_BREAKDOWN`` (gemma3): the batch sizes of the greedy split of the call's crops;
  - ``TILES_TOTAL`` (llama4: vLLM's ``Llama4ForConditionalGeneration`` runs its tower on all
    tiles of the call, and vllm-gaudi's models/llama4.py does not touch the vision path): the
    call's total tile count.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.families import ImageKind, ImageRule, ImageShape

G = "@091bbadda10b"

MULTIMODAL_CONFIG: tuple[tuple[str, bool, tuple[int, ...]], ...] = (
    ("gemma-3", True, (1, 2, 4, 8)),
    ("ovis", False, (1600, 3136, 4096, 6400)),
    ("ovis2.5", False, (784, 1600, 3136, 4096, 6400, 7744, 9216, 12544)),
    ("qwen2_5_vl", False, (1600, 3136, 4096, 6400, 7744, 9216, 12544)),
    ("qwen3_vl", False, (196, 256, 441, 480, 576, 900, 1156)),
    ("ernie4_5_moe_vl", False, (1600, 3136, 4096, 6400, 7744, 9216, 12544)),
    ("pixtral", False, (512, 1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288,
                        131076)),
    ("mistral3", False, (512, 1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288,
                         131076)),
    ("deepseek_ocr", False, (1600, 2048, 3072, 6144, 8192, 131076)),
    ("qwen3_5", False, ()),
    ("kimi_k25", False, ()),
    ("gemma4", False, ()),
)
"""``MULTIMODAL_CONFIG`` in dict order: (key, is_batch_based, buckets) (vision.py:6-70@091bbadda10b)."""
DEFAULT_CONFIG = (None, True, (1, 2, 4, 8))
"""What an unmatched model type gets (vision.py:155-156@091bbadda10b)."""
BATCH_WARMUP_SIDE = 896
"""Batch-based warm-up images are 896 x 896 for every model ("as in gemma3 config",
hpu_model_runner.py:6079-6080@091bbadda10b)."""
GUESSED_ASPECT_RATIOS = ((1, 1), (4, 3), (3, 4), (16, 9), (9, 16))
"""``bucket_to_image_resolution``'s ratios (vision.py:267-273@091bbadda10b)."""
GUESSED_MERGE = 2
"""``merge_size = 2`` hard-coded in ``bucket_to_image_resolution`` (vision.py:274@091bbadda10b)."""
WARN_GRAPHS = 25
"""``_MM_WARMUP_GRAPH_WARN_THRESHOLD`` (hpu_model_runner.py:183@091bbadda10b)."""


class ShapeKey(str, Enum):
    """What decides whether one encoder call compiles (see the module docstring)."""

    PADDED_PER_IMAGE = "padded-per-image"
    CONCAT_GRIDS = "concatenated-grids"
    BATCH_BREAKDOWN = "batch-breakdown"
    TILES_TOTAL = "tiles-total"
    GROUPED_BY_PATCHES = "grouped-by-patches"


@dataclass(frozen=True)
class ModelFacts:
    """What vllm-gaudi does with one model type."""

    model_type: str
    config_key: str | None
    """The ``MULTIMODAL_CONFIG`` key that matched (None: the default)."""
    batch_based: bool
    default_buckets: tuple[int, ...]
    shape_key: ShapeKey
    reads_resolutions: bool
    """``VLLM_MULTIMODAL_RESOLUTIONS`` and limit width/height are read (non-batch-based models only)."""
    cited: str

    @property
    def pads_to_bucket(self) -> bool:
        return self.shape_key is ShapeKey.PADDED_PER_IMAGE


SHAPE_KEYS: dict[str, tuple[ShapeKey, str]] = {
    "qwen2_5_vl": (ShapeKey.PADDED_PER_IMAGE, "vllm_gaudi/models/qwen2_5_vl.py:384-413" + G),
    "qwen2_vl": (ShapeKey.CONCAT_GRIDS, "vllm/model_executor/models/qwen2_vl.py:1480 (vllm 0.32)"),
    "qwen3_vl": (ShapeKey.CONCAT_GRIDS, "vllm/model_executor/models/qwen3_vl.py:2454-2474 (vllm 0.32)"),
    "qwen3_vl_moe": (ShapeKey.CONCAT_GRIDS, "vllm_gaudi/models/qwen3_vl_moe.py:8-38" + G
                     + "; vllm/model_executor/models/qwen3_vl.py:2454-2474 (vllm 0.32)"),
    "gemma3": (ShapeKey.BATCH_BREAKDOWN, "vllm_gaudi/models/gemma3_mm.py:17-48" + G),
    "gemma4": (ShapeKey.GROUPED_BY_PATCHES, "vllm/model_executor/models/gemma4_mm.py:1297-1405 (vllm 0.32); "
               "vllm_gaudi/models/gemma4_mm.py:1-45" + G),
    "llama4": (ShapeKey.TILES_TOTAL, "vllm_gaudi/models/llama4.py:281-319" + G
               + " (text-only patches); vllm/model_executor/models/mllama4.py:996 (vllm 0.32)"),
}


def match_config(model_type: str) -> tuple[str | None, bool, tuple[int, ...]]:
    """``HPUVisionBucketManager._get_multimodal_config`` (vision.py:145-156@091bbadda10b)."""
    name = model_type.lower().replace("-", "").replace(".", "")
    for key, batch, buckets in MULTIMODAL_CONFIG:
        if key.replace("-", "").replace(".", "") in name:
            return key, batch, buckets
    return DEFAULT_CONFIG


def model_facts(model_type: str) -> ModelFacts:
    """vllm-gaudi's facts for ``model_type``; a one-line error for a family gaudi-vl has no key rule for."""
    if model_type not in SHAPE_KEYS:
        raise GaudiVLError(f"no vllm-gaudi serving facts for model_type {model_type!r}",
                           f"gaudi-vl plans {', '.join(SHAPE_KEYS)} on vllm-gaudi")
    key, batch, buckets = match_config(model_type)
    shape, cited = SHAPE_KEYS[model_type]
    return ModelFacts(model_type, key, batch, buckets, shape, not batch,
                      f"vllm_gaudi/extension/bucketing/vision.py:6-70, 145-156{G}; {cited}")


# ------------------------------------------------------------------ resolutions grammar


@dataclass(frozen=True)
class WarmResolution:
    """One ``VLLM_MULTIMODAL_RESOLUTIONS`` entry: ``WxH`` (counts None), ``WxHxN`` or ``WxHxN-M``."""

    width: int
    height: int
    counts: int | tuple[int, int] | None = None
    """``N`` (``WxHxN``), ``(N, M)`` (``WxHxN-M``) or None (``WxH``: at the per-prompt limit). The
    engine keeps ``N`` and ``(N, N)`` apart: above the limit the first warms the limit, the second
    nothing."""

    def __str__(self) -> str:
        if self.counts is None:
            return f"{self.width}x{self.height}"
        if isinstance(self.counts, int):
            return f"{self.width}x{self.height}x{self.counts}"
        return f"{self.width}x{self.height}x{self.counts[0]}-{self.counts[1]}"

    def warmed_counts(self, limit: int) -> tuple[int, ...]:
        """The image counts warm-up runs for this entry (hpu_model_runner.py:6084-6091@091bbadda10b)."""
        if self.counts is None:
            return (limit,)
        if isinstance(self.counts, int):
            return (min(self.counts, limit),)
        lo, hi = self.counts
        return tuple(range(lo, min(hi, limit) + 1))


def parse_resolutions(text: str) -> tuple[WarmResolution, ...]:
    """``VLLM_MULTIMODAL_RESOLUTIONS`` as the engine parses it (vision.py:98-143@091bbadda10b); where
    the engine raises, a one-line ``GaudiVLError`` naming the entry."""
    out: list[WarmResolution] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        parts = item.lower().split("x")
        try:
            if len(parts) == 2:
                out.append(WarmResolution(int(parts[0]), int(parts[1])))
            elif len(parts) == 3:
                w, h, n = parts
                if "-" in n:
                    lo, hi = (int(x) for x in n.split("-", 1))
                    if lo < 1 or hi < lo:
                        raise ValueError
                    out.append(WarmResolution(int(w), int(h), (lo, hi)))
                else:
                    out.append(WarmResolution(int(w), int(h), int(n)))
            else:
                raise ValueError
        except ValueError:
            raise GaudiVLError(f"VLLM_MULTIMODAL_RESOLUTIONS entry {item!r} is not WxH, WxHxN or WxHxN-M",
                               "e.g. 1024x768,864x480x1-4") from None
    return tuple(out)


# ------------------------------------------------------------------ keys


Key = Hashable
"""A compile key: two encoder calls with equal keys run the same graph."""


def guessed_images(
    buckets: Sequence[int], patch_size: int,
    aspect_ratios: Sequence[tuple[int, int]] = GUESSED_ASPECT_RATIOS,
) -> tuple[tuple[int, int], ...]:
    """``bucket_to_image_resolution(patch_size)`` (vision.py:262-285@091bbadda10b): (width, height)
    per bucket (ascending, as the engine sorts them) and aspect ratio, de-duplicated keeping the
    first (hpu_model_runner.py:6040). ``EngineProfile.guessed_warmup_images`` is this at 14 px."""
    out: list[tuple[int, int]] = []
    for b in sorted(buckets):
        for rw, rh in aspect_ratios:
            grid_h = int(b**0.5)
            height = grid_h * patch_size
            width = int(height * rw / rh)
            grid_w = width // patch_size
            if grid_w * grid_h // GUESSED_MERGE != 0:
                grid_w = (grid_w + GUESSED_MERGE - 1) // GUESSED_MERGE * GUESSED_MERGE
            out.append((grid_w * patch_size, height))
    return tuple(dict.fromkeys(out))


def greedy_plan(total: int, buckets: Sequence[int]) -> tuple[int, ...]:
    """``HPUVisionBucketManager.greedy_plan`` (vision.py:243-257@091bbadda10b)."""
    ordered = sorted(buckets, reverse=True)
    out: list[int] = []
    left, idx = total, 0
    while left > 0 and idx < len(ordered):
        if ordered[idx] <= left:
            out.append(ordered[idx])
            left -= ordered[idx]
        else:
            idx += 1
    if left > 0 and ordered:
        out.append(ordered[-1])
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _shape(rule: ImageRule, width: int, height: int) -> ImageShape:
    """``rule.shape``, cached: a workload repeats few distinct sizes many times."""
    return rule.shape(width, height)


def call_keys(facts: ModelFacts, rule: ImageRule, sizes: Sequence[tuple[int, int]],
              buckets: Sequence[int]) -> tuple[Key, ...]:
    """The compile keys of one encoder call on images of ``sizes`` (width, height): the call is
    warm when every key is among the warmed ones."""
    shapes = [_shape(rule, w, h) for w, h in sizes]
    if facts.shape_key is ShapeKey.CONCAT_GRIDS:
        return (tuple(s.grid for s in shapes),)
    if facts.shape_key is ShapeKey.TILES_TOTAL:
        return (sum(s.units for s in shapes),)
    if facts.shape_key is ShapeKey.GROUPED_BY_PATCHES:
        groups: dict[int, int] = {}
        for s in shapes:
            groups[s.units] = groups.get(s.units, 0) + 1
        return tuple(sorted(groups.items()))
    if facts.shape_key is ShapeKey.BATCH_BREAKDOWN:
        return greedy_plan(sum(s.units for s in shapes), buckets)
    out = []
    ordered = sorted(buckets)
    for s in shapes:
        n = s.units
        out.append(next((b for b in ordered if n <= b), n))
    return tuple(out)


def warm_entries(facts: ModelFacts, rule: ImageRule, buckets: Sequence[int],
                 resolutions: Sequence[WarmResolution], limit: int,
                 limit_size: tuple[int, int] | None = None) -> tuple[tuple[tuple[int, int], int], ...]:
    """The warm-up runs as ``((width, height), count)``, in the engine's order."""
    if facts.batch_based:
        return tuple(((BATCH_WARMUP_SIDE, BATCH_WARMUP_SIDE), b) for b in buckets)
    runs: list[tuple[tuple[int, int], int]] = [(wh, 1) for wh in guessed_images(buckets, rule.patch_size)]
    explicit = list(resolutions)
    if limit_size is not None:
        explicit.append(WarmResolution(*limit_size))
    for r in explicit:
        runs += [((r.width, r.height), n) for n in r.warmed_counts(limit)]
    return tuple(dict.fromkeys(runs))


def warmed_keys(facts: ModelFacts, rule: ImageRule, buckets: Sequence[int],
                resolutions: Sequence[WarmResolution], limit: int,
                limit_size: tuple[int, int] | None = None) -> frozenset[Key]:
    """Every compile key warm-up leaves compiled."""
    keys: set[Key] = set()
    for wh, n in warm_entries(facts, rule, buckets, resolutions, limit, limit_size):
        keys.update(call_keys(facts, rule, [wh] * n, buckets))
    return frozenset(keys)


def key_images(facts: ModelFacts, key: Key) -> int:
    """Images one call of this key holds (what ``--limit-mm-per-prompt`` must allow)."""
    if facts.shape_key is ShapeKey.CONCAT_GRIDS and isinstance(key, tuple):
        return len(key)
    if facts.shape_key is ShapeKey.GROUPED_BY_PATCHES and isinstance(key, tuple):
        return int(key[1])
    return 1


def resolution_for_key(rule: ImageRule, key: Key) -> WarmResolution | None:
    """A ``WxHxN`` whose warm-up run compiles ``key``: CONCAT_GRIDS keys of N equal grids (the grid's
    own pixel size) and GROUPED_BY_PATCHES keys ``(patches, N)`` (the most square grid of that many
    patches), each checked through the processor rule; None for keys no warm-up run can build."""
    if rule.kind is ImageKind.ASPECT and isinstance(key, tuple) and len(key) == 2 \
            and all(isinstance(x, int) for x in key):
        units, n = key
        k = rule.merge_size
        pairs = [(gh, units // gh) for gh in range(k, units + 1, k)
                 if units % gh == 0 and (units // gh) % k == 0]
        for gh, gw in sorted(pairs, key=lambda p: abs(p[0] - p[1])):
            w, h = gw * rule.patch_size, gh * rule.patch_size
            try:
                if rule.shape(w, h).units == units:
                    return WarmResolution(w, h, n)
            except GaudiVLError:
                continue
        return None
    if not isinstance(key, tuple) or not key or len(set(key)) != 1 or rule.kind is not ImageKind.RESIZE:
        return None
    gh, gw = key[0]
    w, h = gw * rule.patch_size, gh * rule.patch_size
    if rule.shape(w, h).grid != (gh, gw):
        return None
    return WarmResolution(w, h, len(key))


def compact(resolutions: Sequence[WarmResolution]) -> tuple[WarmResolution, ...]:
    """Runs of consecutive counts of one size as ``WxHxN-M`` (the same graphs, one entry)."""
    by_size: dict[tuple[int, int], list[int]] = {}
    for r in resolutions:
        assert isinstance(r.counts, int)
        by_size.setdefault((r.width, r.height), []).append(r.counts)
    out: list[WarmResolution] = []
    for (w, h), counts in by_size.items():
        ordered = sorted(set(counts))
        start = prev = ordered[0]
        for n in [*ordered[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            out.append(WarmResolution(w, h, start if start == prev else (start, prev)))
            if n is not None:
                start = prev = n
    return tuple(out)


def key_call(rule: ImageRule, facts: ModelFacts, key: Key) -> tuple[int, int]:
    """``(patches, seq)`` of the tower call one compile key stands for (``call_keys``): ``patches``
    in the call (the activations), ``seq`` its longest attention sequence (one image, crop or tile:
    the HPU encoder attention runs each separately, ``ENCODER_ATTENTION_CITED``). Keys: the grids of
    a concatenated call; ``(patches, images)`` of one Gemma-4 group; a Gemma-3 batch of crops or a
    Llama-4 call's tiles (an int, times ``rule.patches_per_unit``)."""
    per = rule.patches_per_unit
    if facts.shape_key is ShapeKey.CONCAT_GRIDS and isinstance(key, tuple):
        sizes = [gh * gw for gh, gw in key]
        return sum(sizes), max(sizes)
    if facts.shape_key is ShapeKey.GROUPED_BY_PATCHES and isinstance(key, tuple):
        units, n = key
        return units * n, units
    if isinstance(key, int):
        return key * per, per
    raise GaudiVLError(f"no tower call for compile key {key!r} of {facts.model_type}", "report this")


ENCODER_ATTENTION_CITED = (
    "vllm_gaudi/ops/hpu_mm_encoder_attention.py:6-87" + G + " (registered at vllm_gaudi/__init__.py:123"
    + G + "): MMEncoderAttention on HPU runs FusedSDPA (fsdpa_impl) per image of cu_seqlens with no "
    "mask, outputs concatenated (:56-81); used by Qwen3-VL (vllm/model_executor/models/qwen3_vl.py:471 "
    "-> qwen2_5_vl.py:397, vllm 0.32), Qwen2-VL (qwen2_vl.py:318), Gemma-3's SigLIP (siglip.py:675), "
    "Llama-4 (mllama4.py:262); Gemma-4's tower is transformers' own (gemma4_mm.py:1096, eager, "
    "not tensor-parallel)")
VISION_REPLICATED = frozenset({"gemma4"})
"""Towers vLLM does not shard under TP (Gemma-4: ``AutoModel.from_config``, gemma4_mm.py:1096)."""


@lru_cache(maxsize=1)
def encoder_attention() -> object:
    """The ``VisionAttention`` of vllm-gaudi's encoder attention (``ENCODER_ATTENTION_CITED``): no
    ``[N, N]`` masks, flash-style FusedSDPA per image, the per-image outputs concatenated."""
    from gaudi_vl.engines.profile import VisionAttention

    return VisionAttention(masks_held=0, dense_window_layers=False, window_outputs_concatenated=True,
                           mask_built_in_float=False, mask_on_cpu_above=None, query_tiled_from=1 << 62,
                           cited=ENCODER_ATTENTION_CITED)


BUCKETS_VAR = "VLLM_MULTIMODAL_BUCKETS"
"""Read by ``HPUVisionBucketManager.__init__``: empty means the model's default list, ``None`` makes
the list None (warm-up then crashes on ``len(None)``) (vision.py:85-94@091bbadda10b)."""
RESOLUTIONS_VAR = "VLLM_MULTIMODAL_RESOLUTIONS"
"""Read by ``HPUVisionBucketManager.__init__`` (vision.py:96@091bbadda10b)."""
LIMIT_FLAG = "--limit-mm-per-prompt"
"""vLLM's flag; ``{"image": N}`` is read as ``count`` N (vllm/config/multimodal.py
``_validate_limit_per_prompt``, vllm 0.32), the count a bare ``WxH`` warms."""


@dataclass(frozen=True)
class VllmGaudiModels:
    """The EngineProfile field: the per-model facts of this engine version, and its syntax."""

    source: str = "vllm-project/vllm-gaudi@091bbadda10b"

    def facts(self, model_type: str) -> ModelFacts:
        return model_facts(model_type)

    @staticmethod
    def attention(model_type: str) -> object:
        """The ``VisionAttention`` the model's tower runs on this engine (``encoder_attention``)."""
        model_facts(model_type)
        return encoder_attention()

    @staticmethod
    def encoder_step_images(item_tokens: int, batched_tokens: int, limit: int) -> int:
        """Images of ``item_tokens`` LLM tokens one encoder call can hold at most: the runner encodes
        every not-yet-cached image of a prefill batch's requests in one call (hpu_model_runner.py:
        2014-2057 ``_execute_mm_encoder``, grouped by modality; called per prefill batch at :4439);
        vLLM's scheduler admits encoder inputs up to ``max(max_num_encoder_input_tokens,
        max_tokens_per_mm_item)`` per step, the first being ``max_num_batched_tokens``
        (vllm/v1/core/encoder_cache_manager.py:316-357,
        vllm/config/scheduler.py:303, vllm 0.32; an item is admitted only while it fits the budget
        left): ``floor(budget / item)`` equal images, and at least the per-prompt limit."""
        budget = max(batched_tokens, item_tokens)
        return max(limit, budget // max(1, item_tokens))

    @staticmethod
    def vision_sharded(model_type: str) -> bool:
        """Whether vLLM splits the model's tower under tensor parallelism (``VISION_REPLICATED``)."""
        return model_type not in VISION_REPLICATED

    @staticmethod
    def environment(buckets: Sequence[int], resolutions: Sequence[WarmResolution]) -> dict[str, str]:
        """The variables of a warm-up plan; an empty bucket list is not written (the engine reads an
        empty variable as the default list, which is empty only where nothing is to be exported)."""
        env = {BUCKETS_VAR: ",".join(map(str, buckets))} if buckets else {}
        if resolutions:
            env[RESOLUTIONS_VAR] = ",".join(map(str, resolutions))
        return env

    @staticmethod
    def limit_flag(images: int) -> tuple[str, str]:
        """``--limit-mm-per-prompt`` allowing ``images`` images per prompt."""
        return LIMIT_FLAG, json.dumps({"image": images}, separators=(",", ":"))


VLLM_GAUDI_MODELS = VllmGaudiModels()
