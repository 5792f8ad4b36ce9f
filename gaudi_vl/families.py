"""Multimodal model families beyond Qwen2.5-VL: image geometry, weights and KV dimensions.

Pure (standard library and gaudi_vl's pure core). ``family_spec_from_config`` turns an already
parsed ``config.json`` (and ``preprocessor_config.json``) of Qwen3-VL (dense ``qwen3_vl`` and MoE
``qwen3_vl_moe``), Qwen2-VL (``qwen2_vl``), Gemma-3 (``gemma3``) or Llama-4 (``llama4``) into a
``ModelSpec`` whose ``family`` holds what planning needs:

* ``ImageRule``: how the checkpoint's own image processor turns a ``width x height`` image into
  what the vision tower sees. Three rules cover the families:

  - ``RESIZE`` (Qwen2-VL, Qwen3-VL): transformers' ``smart_resize`` with ``factor = patch_size *
    merge_size`` (28 for Qwen2-VL, 32 for Qwen3-VL) and the processor's min/max pixels
    (transformers/models/qwen2_vl/image_processing_qwen2_vl.py ``smart_resize``; Qwen3-VL
    checkpoints use that very processor with patch 16, ``Qwen2VLImageProcessorFast``). The tower
    sees ``(h / patch) x (w / patch)`` patches; ``/ merge^2`` of them become LLM tokens.
  - ``FIXED`` (Gemma-3): every image is resized to the SigLIP ``image_size`` (896 x 896), plus
    pan-and-scan crops when enabled (transformers/models/gemma3/image_processing_gemma3.py
    ``pan_and_scan_batched``); each crop is one 896 x 896 tower input of ``mm_tokens_per_image``
    tokens.
  - ``TILES`` (Llama-4): the image is fitted to the best canvas of ``k x m`` tiles of
    ``image_size`` (336) with ``k * m <= max_patches`` (16) (transformers/models/llama4/
    image_processing_llama4.py ``find_supported_resolutions`` / ``get_best_fit``), plus one global
    tile when there is more than one; each tile is one tower input.

* weights: text and vision parameter counts by each family's module layout in transformers (the
  test suite checks them against the real modules built on the meta device), the MoE total and
  the parameters active per token;
* KV dims: layers, KV heads and head size (``head_dim`` read from the config where it is explicit).

Published dimensions of the built-in checkpoints are in ``FAMILY_BUILTINS``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import smart_resize


class ImageKind(str, Enum):
    RESIZE = "resize"
    FIXED = "fixed"
    TILES = "tiles"
    ASPECT = "aspect"
    """Gemma-4: aspect-preserving resize to at most ``max_soft_tokens * k^2`` patches, sides in
    multiples of ``k * patch`` (transformers/models/gemma4/image_processing_gemma4.py
    ``get_aspect_ratio_preserving_size``); ``merge_size`` holds the pooling kernel ``k``."""


@dataclass(frozen=True)
class PanAndScan:
    """Gemma-3's pan-and-scan settings (``do_pan_and_scan`` and its three limits)."""

    min_crop_size: int = 256
    max_num_crops: int = 4
    min_ratio_to_activate: float = 1.2


@dataclass(frozen=True)
class ImageShape:
    """What the vision tower gets for one image."""

    grid: tuple[int, int]
    """RESIZE: the patch grid ``(grid_h, grid_w)``; FIXED: ``(1, crops)``; TILES: the canvas in tiles."""
    units: int
    """Tower inputs: patches (RESIZE), 896 x 896 crops (FIXED) or 336 x 336 tiles incl. global (TILES)."""
    tokens: int
    """LLM placeholder tokens the image becomes (without start/end markers)."""
    size: tuple[int, int]
    """``(width, height)`` in pixels of what the tower sees (the resized image, or one crop/tile)."""


@dataclass(frozen=True)
class ImageRule:
    """A checkpoint's image processor as pure arithmetic (see the module docstring)."""

    kind: ImageKind
    patch_size: int
    merge_size: int = 1
    min_pixels: int = 0
    max_pixels: int = 0
    image_size: int = 0
    """FIXED: the square input side; TILES: the tile side."""
    max_tiles: int = 0
    tokens_per_unit: int = 0
    """FIXED: ``mm_tokens_per_image``; TILES: tokens per tile (after pixel shuffle)."""
    pan_and_scan: PanAndScan | None = None
    """FIXED: None = pan-and-scan off (the processor's and vLLM's default)."""
    max_soft_tokens: int = 0
    """ASPECT: tokens per image at most (the patch budget is this times ``merge_size**2``)."""

    @property
    def factor(self) -> int:
        """RESIZE: the side multiple of a resized image (``patch_size * merge_size``)."""
        return self.patch_size * self.merge_size

    @property
    def patches_per_unit(self) -> int:
        """Tower patches of one unit (``ImageShape.units``): 1 for RESIZE/ASPECT (units are patches),
        ``(image_size / patch)^2`` per SigLIP crop (FIXED), that plus the class token per Llama-4 tile
        (TILES: the tower's ``(grid^2 + 1)`` positions, transformers' ``Llama4VisionModel``)."""
        if self.kind in (ImageKind.RESIZE, ImageKind.ASPECT):
            return 1
        grid = (self.image_size // self.patch_size) ** 2
        return grid + 1 if self.kind is ImageKind.TILES else grid

    def largest_image(self) -> tuple[int, int]:
        """A ``(width, height)`` the processor turns into its largest tower input: a square at
        ``max_pixels`` (RESIZE), one over the patch budget (ASPECT, scaled down to it), a pan-and-scan
        image of the most crops (FIXED), a canvas of the most tiles (TILES)."""
        if self.kind is ImageKind.RESIZE:
            # the most whole factor x factor cells within max_pixels at an aspect ratio the
            # processor accepts (< 200): an image already on that grid is kept as it is
            cells = self.max_pixels // self.factor**2
            best = max(((k * (cells // k), -abs(k - cells // k), k) for k in range(1, cells + 1)
                        if cells // k and max(k, cells // k) < 200 * min(k, cells // k)), default=None)
            if best is None:
                side = math.isqrt(self.max_pixels)
                return side, side
            k = best[2]
            return (cells // k) * self.factor, k * self.factor
        if self.kind is ImageKind.ASPECT:
            side = self.patch_size * self.merge_size * (math.isqrt(self.max_soft_tokens) + 1)
            return side, side
        if self.kind is ImageKind.FIXED:
            crops = self.pan_and_scan.max_num_crops if self.pan_and_scan is not None else 1
            return self.image_size * crops, self.image_size
        rows = max(r for r in range(1, math.isqrt(self.max_tiles) + 1) if self.max_tiles % r == 0)
        return self.image_size * (self.max_tiles // rows), self.image_size * rows

    def processor_kwargs(self, size_edges: bool = False) -> dict[str, Any]:
        """``--mm-processor-kwargs`` in the processor's own keys, pinning what the plan assumed:
        Qwen3-VL's ``size`` edges (vllm/model_executor/models/qwen3_vl.py:1442-1447, vllm 0.32, folds
        ``min_pixels``/``max_pixels`` into it), Qwen2-VL's ``min_pixels``/``max_pixels``, Gemma-3's
        ``do_pan_and_scan`` (vllm gemma3_mm.py:106-107), Gemma-4's ``max_soft_tokens`` (gemma4_mm.py:
        107-117), Llama-4's ``max_patches`` (mllama4.py:579)."""
        if self.kind is ImageKind.RESIZE:
            if size_edges:
                return {"size": {"shortest_edge": self.min_pixels, "longest_edge": self.max_pixels}}
            return {"min_pixels": self.min_pixels, "max_pixels": self.max_pixels}
        if self.kind is ImageKind.ASPECT:
            return {"max_soft_tokens": self.max_soft_tokens}
        if self.kind is ImageKind.FIXED:
            return {"do_pan_and_scan": self.pan_and_scan is not None}
        return {"max_patches": self.max_tiles}

    def shape(self, width: int, height: int) -> ImageShape:
        """The tower's input for a ``width x height`` image, by the processor's own rule."""
        if width <= 0 or height <= 0:
            raise GaudiVLError(f"image size {width}x{height} is empty", "width and height must be positive")
        if self.kind is ImageKind.RESIZE:
            h, w = smart_resize(height, width, factor=self.factor,
                                min_pixels=self.min_pixels, max_pixels=self.max_pixels)
            gh, gw = h // self.patch_size, w // self.patch_size
            return ImageShape((gh, gw), gh * gw, gh * gw // self.merge_size**2, (w, h))
        if self.kind is ImageKind.ASPECT:
            budget = self.max_soft_tokens * self.merge_size**2
            h, w = gemma4_size(height, width, self.patch_size, budget, self.merge_size)
            gh, gw = h // self.patch_size, w // self.patch_size
            return ImageShape((gh, gw), gh * gw, gh * gw // self.merge_size**2, (w, h))
        if self.kind is ImageKind.FIXED:
            crops = 1 + gemma3_crops(width, height, self.pan_and_scan)
            side = (self.image_size, self.image_size)
            return ImageShape((1, crops), crops, crops * self.tokens_per_unit, side)
        rows, cols = llama4_canvas(width, height, self.image_size, self.max_tiles)
        tiles = rows * cols + (1 if rows * cols > 1 else 0)
        side = (self.image_size, self.image_size)
        return ImageShape((rows, cols), tiles, tiles * self.tokens_per_unit, side)


def gemma3_crops(width: int, height: int, pas: PanAndScan | None) -> int:
    """Pan-and-scan crops of one image (0 when off or not activated): ``pan_and_scan_batched``."""
    if pas is None:
        return 0
    if width >= height:
        if width / height < pas.min_ratio_to_activate:
            return 0
        n_w = min(math.floor(width / pas.min_crop_size), math.floor(width / height + 0.5))
        n_w, n_h = min(pas.max_num_crops, max(2, n_w)), 1
    else:
        if height / width < pas.min_ratio_to_activate:
            return 0
        n_h = min(math.floor(height / pas.min_crop_size), math.floor(height / width + 0.5))
        n_w, n_h = 1, min(pas.max_num_crops, max(2, n_h))
    if min(math.ceil(width / n_w), math.ceil(height / n_h)) < pas.min_crop_size:
        return 0
    return n_w * n_h


def gemma4_size(height: int, width: int, patch: int, max_patches: int, pooling: int) -> tuple[int, int]:
    """``get_aspect_ratio_preserving_size`` (transformers/models/gemma4/image_processing_gemma4.py):
    the largest aspect-preserving ``(height, width)`` in multiples of ``pooling * patch`` within
    ``max_patches`` patches; a side that rounds to 0 becomes one multiple (the other then from the
    integer aspect ratio, capped)."""
    factor = math.sqrt(max_patches * patch**2 / (height * width))
    side = pooling * patch
    th = int(math.floor(factor * height / side)) * side
    tw = int(math.floor(factor * width / side)) * side
    if th == 0 and tw == 0:
        raise GaudiVLError(f"image {width}x{height} resizes to 0 x 0", "the processor refuses it")
    longest = (max_patches // pooling**2) * side
    if th == 0:
        th, tw = side, min(int(math.floor(width / height)) * side, longest)
    elif tw == 0:
        tw, th = side, min(int(math.floor(height / width)) * side, longest)
    if th * tw > max_patches * patch**2:
        raise GaudiVLError(f"image {width}x{height} resizes over the patch budget",
                           "the processor refuses it")
    return th, tw


def llama4_canvases(max_tiles: int) -> tuple[tuple[int, int], ...]:
    """``(rows, cols)`` of every canvas with ``rows * cols <= max_tiles``, in
    ``find_supported_resolutions``' order (by tile count descending, grouped by aspect ratio)."""
    groups: dict[Fraction, list[tuple[int, int]]] = {}
    for n in range(max_tiles, 0, -1):
        for r in sorted(d for d in range(1, n + 1) if n % d == 0):
            groups.setdefault(Fraction(r, n // r), []).append((r, n // r))
    return tuple(c for group in groups.values() for c in group)


def llama4_canvas(width: int, height: int, tile: int, max_tiles: int) -> tuple[int, int]:
    """The canvas ``get_best_fit`` picks: the smallest upscale without distortion, else the least
    downscale; among canvases with that scale, the smallest area (first on ties, as ``argmin``)."""
    canvases = llama4_canvases(max_tiles)
    scales = [min(Fraction(r * tile, height), Fraction(c * tile, width)) for r, c in canvases]
    up = [s for s in scales if s >= 1]
    best = min(up) if up else max(scales)
    chosen = [c for c, s in zip(canvases, scales, strict=True) if s == best]
    return min(chosen, key=lambda c: c[0] * c[1])


@dataclass(frozen=True)
class FamilySpec:
    """The family facts of a non-Qwen2.5-VL ``ModelSpec``."""

    family: str
    """``qwen3_vl``, ``qwen3_vl_moe``, ``qwen2_vl``, ``gemma3`` or ``llama4``: the config's model_type."""
    image: ImageRule
    text_params: int
    vision_params: int
    """The vision tower and its projector/merger (everything that is not the language model)."""
    active_params: int
    """Parameters one token passes through (MoE: the routed top-k experts only)."""
    experts: int = 0
    experts_per_token: int = 0
    kv_layers: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    kv_elements_per_token: int = 0
    """K and V elements of one token over all layers when layers differ (Gemma-4); 0: uniform."""

    @property
    def params(self) -> int:
        return self.text_params + self.vision_params

    def processor_kwargs(self) -> dict[str, Any]:
        """``ImageRule.processor_kwargs`` in this family's keys (Qwen3-VL: ``size`` edges)."""
        return self.image.processor_kwargs(size_edges=self.family in ("qwen3_vl", "qwen3_vl_moe"))

    def kv_bytes_per_token(self, dtype_bytes: int = 2) -> int:
        """K and V of one token in every attention layer (K/V-sharing layers hold none)."""
        if self.kv_elements_per_token:
            return self.kv_elements_per_token * dtype_bytes
        return 2 * self.kv_layers * self.kv_heads * self.head_dim * dtype_bytes


SUPPORTED_FAMILIES = ("qwen2_5_vl", "qwen2_vl", "qwen3_vl", "qwen3_vl_moe", "gemma3", "gemma4", "llama4")
"""Every ``model_type`` gaudi-vl reads a config.json of."""


# ------------------------------------------------------------------ config reading


def _ints(cfg: Mapping[str, Any], where: str, *keys: str) -> list[int]:
    from gaudi_vl.models import _int

    return [_int(cfg, k, where) for k in keys]


def _opt(cfg: Mapping[str, Any], key: str, where: str, default: int, low: int = 1) -> int:
    from gaudi_vl.models import _int

    return _int(cfg, key, where, default, low)


def _sub(config: Mapping[str, Any], key: str) -> tuple[Mapping[str, Any], str]:
    from gaudi_vl.models import _object

    return _object(config.get(key), key, "config.json"), f"config.json {key}"


def _flag(cfg: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    from gaudi_vl.models import _bool

    return default if cfg.get(key) is None else _bool(cfg[key], key, where)


def _int_list(cfg: Mapping[str, Any], key: str, where: str, default: list[int], high: int) -> list[int]:
    """A JSON list of whole numbers in ``0..high`` (layer or block indexes); absent or null: default."""
    from gaudi_vl.models import _typed_int, json_repr

    value = cfg.get(key)
    if value is None:
        return list(default)
    if not isinstance(value, list):
        raise GaudiVLError(f"{where} {key} must be a list of indexes, got {json_repr(value)}",
                           "restore the file")
    return [_typed_int(i, key, where, 0, high) for i in value]


def _divides(a: int, b: int, what: str, where: str) -> None:
    if b % a:
        raise GaudiVLError(f"{where} {what}: {b} is not divisible by {a}", "restore the file")


@dataclass(frozen=True)
class _Text:
    hidden: int
    inter: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tie: bool
    max_pos: int


def _text(cfg: Mapping[str, Any], where: str, config: Mapping[str, Any], max_pos_default: int) -> _Text:
    from gaudi_vl.models import _typed_int

    hidden, inter, layers, heads, vocab = _ints(
        cfg, where, "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "vocab_size")
    kv = cfg.get("num_key_value_heads")
    kv_heads = heads if kv is None else _typed_int(kv, "num_key_value_heads", where)
    _divides(kv_heads, heads, "num_attention_heads / num_key_value_heads", where)
    head_dim = cfg.get("head_dim")
    if head_dim is None:
        _divides(heads, hidden, "hidden_size / num_attention_heads", where)
        head_dim = hidden // heads
    else:
        head_dim = _typed_int(head_dim, "head_dim", where)
    tie_key = "tie_word_embeddings"
    tie = (_flag(config, tie_key, "config.json", False) if tie_key in config
           else _flag(cfg, tie_key, where, False))
    return _Text(hidden, inter, layers, heads, kv_heads, head_dim, vocab, tie,
                 _opt(cfg, "max_position_embeddings", where, max_pos_default))


def _attention_params(t: _Text, *, bias: bool = False, qk_norm: bool = False) -> int:
    q, kv = t.heads * t.head_dim, t.kv_heads * t.head_dim
    p = t.hidden * q + 2 * t.hidden * kv + q * t.hidden
    if bias:
        p += q + 2 * kv
    if qk_norm:
        p += 2 * t.head_dim
    return p


def _embeddings(t: _Text) -> int:
    return t.vocab * t.hidden * (1 if t.tie else 2) + t.hidden  # embed (+ lm_head) + final norm


# ------------------------------------------------------------------ Qwen3-VL / Qwen2-VL


def _resize_rule(v: Mapping[str, Any], vw: str, pre: Mapping[str, Any], pre_where: str,
                 patch_default: int, pixels_default: tuple[int, int]) -> ImageRule:
    """RESIZE rule: patch and merge from the vision config, pixels from the processor config."""
    from gaudi_vl.models import processor_spec_from_config

    patch = _opt(v, "patch_size", vw, patch_default)
    merge = _opt(v, "spatial_merge_size", vw, 2)
    lo, hi = pixels_default
    limits = processor_spec_from_config(
        {"min_pixels": lo, "max_pixels": hi, **{k: x for k, x in pre.items() if x is not None}}, pre_where)
    return ImageRule(ImageKind.RESIZE, patch, merge, limits.min_pixels, limits.max_pixels)


def _qwen3_vl(config: Mapping[str, Any], pre: Mapping[str, Any], pre_where: str, moe: bool) -> FamilySpec:
    """Qwen3-VL (transformers/models/qwen3_vl{,_moe}/modeling_*.py): Qwen3 text (q/k norms, no
    attention bias; MoE: a router and ``num_experts`` gated experts per sparse layer) and a ViT with
    LayerNorms, biased non-gated MLP, learned position embedding, a patch merger and one
    deepstack merger per ``deepstack_visual_indexes`` entry."""
    cfg, where = _sub(config, "text_config")
    v, vw = _sub(config, "vision_config")
    t = _text(cfg, where, config, 128000)
    layer_attn = _attention_params(t, qk_norm=True) + 2 * t.hidden
    if moe:
        # transformers 5 writes num_local_experts (its attribute map); checkpoints num_experts
        experts_key = "num_local_experts" if "num_local_experts" in cfg else "num_experts"
        experts, top_k, moe_inter = _ints(cfg, where, experts_key, "num_experts_per_tok",
                                          "moe_intermediate_size")
        if top_k > experts:
            raise GaudiVLError(f"{where} num_experts_per_tok {top_k} is above num_experts {experts}",
                               "restore the file")
        step = _opt(cfg, "decoder_sparse_step", where, 1)
        dense_layers = set(_int_list(cfg, "mlp_only_layers", where, [], t.layers - 1))
        sparse = [i for i in range(t.layers) if i not in dense_layers and (i + 1) % step == 0]
        n_dense = t.layers - len(sparse)
        expert = 3 * t.hidden * moe_inter
        text = _embeddings(t) + t.layers * layer_attn + n_dense * 3 * t.hidden * t.inter \
            + len(sparse) * (t.hidden * experts + experts * expert)
        active = text - len(sparse) * (experts - top_k) * expert
    else:
        experts = top_k = 0
        text = _embeddings(t) + t.layers * (layer_attn + 3 * t.hidden * t.inter)
        active = text
    depth, c, inter, v_heads = _ints(v, vw, "depth", "hidden_size", "intermediate_size", "num_heads")
    _divides(v_heads, c, "hidden_size / num_heads", vw)
    patch = _opt(v, "patch_size", vw, 16)
    merge = _opt(v, "spatial_merge_size", vw, 2)
    out = _opt(v, "out_hidden_size", vw, t.hidden)
    chans, temporal = _opt(v, "in_channels", vw, 3), _opt(v, "temporal_patch_size", vw, 2)
    positions = _opt(v, "num_position_embeddings", vw, 2304)
    deep = _int_list(v, "deepstack_visual_indexes", vw, [8, 16, 24], depth - 1)
    m = c * merge**2
    block = 4 * c + (3 * c * c + 3 * c) + (c * c + c) + (c * inter + inter) + (inter * c + c)
    merger = m * m + m + m * out + out
    vision = (chans * temporal * patch**2 * c + c) + positions * c + depth * block \
        + (2 * c + merger) + len(deep) * (2 * m + merger)
    image = _resize_rule(v, vw, pre, pre_where, 16, (65536, 16777216))
    return FamilySpec("qwen3_vl_moe" if moe else "qwen3_vl", image, text, vision, active + vision,
                      experts, top_k, t.layers, t.kv_heads, t.head_dim)


def _qwen2_vl(config: Mapping[str, Any], pre: Mapping[str, Any], pre_where: str) -> FamilySpec:
    """Qwen2-VL (transformers/models/qwen2_vl/modeling_qwen2_vl.py): Qwen2 text (q/k/v bias) and a
    ViT of ``embed_dim`` with LayerNorms and a ``mlp_ratio`` GELU MLP; its vision ``hidden_size``
    is the merger's OUTPUT width (the text width), not the tower's."""
    if config.get("text_config") is not None:
        cfg, where = _sub(config, "text_config")
    else:
        cfg, where = config, "config.json"
    v, vw = _sub(config, "vision_config")
    t = _text(cfg, where, config, 32768)
    layer = _attention_params(t, bias=True) + 2 * t.hidden + 3 * t.hidden * t.inter
    text = _embeddings(t) + t.layers * layer
    depth, v_heads = _ints(v, vw, "depth", "num_heads")
    c = _opt(v, "embed_dim", vw, 1280)
    _divides(v_heads, c, "embed_dim / num_heads", vw)
    ratio = v.get("mlp_ratio", 4)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 64:
        raise GaudiVLError(f"{vw} mlp_ratio must be a positive number, got {ratio!r}", "restore the file")
    inter = int(c * ratio)
    out = _opt(v, "hidden_size", vw, t.hidden)
    patch, merge = _opt(v, "patch_size", vw, 14), _opt(v, "spatial_merge_size", vw, 2)
    chans, temporal = _opt(v, "in_channels", vw, 3), _opt(v, "temporal_patch_size", vw, 2)
    m = c * merge**2
    block = 4 * c + (3 * c * c + 3 * c) + (c * c + c) + (c * inter + inter) + (inter * c + c)
    vision = chans * temporal * patch**2 * c + depth * block + 2 * c + (m * m + m + m * out + out)
    image = _resize_rule(v, vw, pre, pre_where, 14, (3136, 12845056))
    return FamilySpec("qwen2_vl", image, text, vision, text + vision, 0, 0, t.layers, t.kv_heads, t.head_dim)


# ------------------------------------------------------------------ Gemma-3


def _siglip(v: Mapping[str, Any], vw: str) -> tuple[int, int, int, int]:
    """SigLIP tower parameters (``SiglipVisionModel``: conv patch embedding with bias, learned
    positions, pre-norm blocks with biased q/k/v/o and fc1/fc2, post LayerNorm): (params, hidden,
    image_size, patch)."""
    layers, c, inter, heads = _ints(v, vw, "num_hidden_layers", "hidden_size", "intermediate_size",
                                    "num_attention_heads")
    _divides(heads, c, "hidden_size / num_attention_heads", vw)
    size, patch = _opt(v, "image_size", vw, 224), _opt(v, "patch_size", vw, 14)
    chans = _opt(v, "num_channels", vw, 3)
    block = 4 * c + 4 * (c * c + c) + (c * inter + inter) + (inter * c + c)
    params = chans * patch**2 * c + c + (size // patch) ** 2 * c + layers * block + 2 * c
    if _flag(v, "vision_use_head", vw, True):  # the attention-pooling head (probe, MHA, norm, MLP)
        params += c + (3 * c * c + 3 * c) + (c * c + c) + 2 * c + (c * inter + inter) + (inter * c + c)
    return params, c, size, patch


def _gemma3(config: Mapping[str, Any], pre: Mapping[str, Any], pre_where: str) -> FamilySpec:
    """Gemma-3 (transformers/models/gemma3/modeling_gemma3.py): Gemma text (q/k norms, four norms
    per layer, tied embeddings) and SigLIP at a fixed 896 x 896, projected by an RMSNorm and one
    matrix to ``mm_tokens_per_image`` tokens."""
    cfg, where = _sub(config, "text_config")
    v, vw = _sub(config, "vision_config")
    t = _text(cfg, where, {"tie_word_embeddings": config.get("tie_word_embeddings", True)}, 131072)
    text = _embeddings(t) + t.layers * (_attention_params(t, qk_norm=True) + 4 * t.hidden
                                        + 3 * t.hidden * t.inter)
    tower, c, size, patch = _siglip(v, vw)
    vision = tower + c + c * t.hidden
    tokens = _opt(config, "mm_tokens_per_image", "config.json", 256)
    pas = None
    if _flag(pre, "do_pan_and_scan", pre_where, False):
        ratio = pre.get("pan_and_scan_min_ratio_to_activate")
        ratio = 1.2 if ratio is None else ratio
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 1 <= ratio <= 1000:
            raise GaudiVLError(f"{pre_where} pan_and_scan_min_ratio_to_activate must be a number in 1..1000, "
                               f"got {ratio!r}", "restore the file")
        pas = PanAndScan(_opt(pre, "pan_and_scan_min_crop_size", pre_where, 256),
                         _opt(pre, "pan_and_scan_max_num_crops", pre_where, 4), float(ratio))
    image = ImageRule(ImageKind.FIXED, patch, image_size=size, tokens_per_unit=tokens, pan_and_scan=pas)
    return FamilySpec("gemma3", image, text, vision, text + vision, 0, 0, t.layers, t.kv_heads, t.head_dim)


# ------------------------------------------------------------------ Llama-4


def _llama4(config: Mapping[str, Any], pre: Mapping[str, Any], pre_where: str) -> FamilySpec:
    """Llama-4 (transformers/models/llama4/modeling_llama4.py): MoE text (every
    ``interleave_moe_layer_step``-th layer: a router, ``num_local_experts`` gated experts and one
    shared expert; the other layers a dense MLP of ``intermediate_size_mlp``) and a tiled ViT of
    ``image_size`` tiles with a pixel-shuffle adapter and a projector to the text width."""
    cfg, where = _sub(config, "text_config")
    v, vw = _sub(config, "vision_config")
    t = _text(cfg, where, config, 10485760)
    experts, top_k = _ints(cfg, where, "num_local_experts", "num_experts_per_tok")
    dense_inter = _opt(cfg, "intermediate_size_mlp", where, t.inter)
    step = _opt(cfg, "interleave_moe_layer_step", where, 1)
    every_step = list(range(step - 1, t.layers, step))
    moe_layers = set(_int_list(cfg, "moe_layers", where, every_step, t.layers - 1))
    n_moe = len(moe_layers)
    expert = 3 * t.hidden * t.inter
    text = _embeddings(t) + t.layers * (_attention_params(t) + 2 * t.hidden) \
        + (t.layers - n_moe) * 3 * t.hidden * dense_inter \
        + n_moe * (t.hidden * experts + (experts + 1) * expert)
    active = text - n_moe * (experts - top_k) * expert
    layers, c, inter, heads = _ints(v, vw, "num_hidden_layers", "hidden_size", "intermediate_size",
                                    "num_attention_heads")
    _divides(heads, c, "hidden_size / num_attention_heads", vw)
    size, patch = _opt(v, "image_size", vw, 336), _opt(v, "patch_size", vw, 14)
    chans = _opt(v, "num_channels", vw, 3)
    ratio = v.get("pixel_shuffle_ratio", 0.5)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise GaudiVLError(f"{vw} pixel_shuffle_ratio must be in (0, 1], got {ratio!r}", "restore the file")
    proj_in = _opt(v, "projector_input_dim", vw, 4096)
    proj_out = _opt(v, "projector_output_dim", vw, 4096)
    out = _opt(v, "vision_output_dim", vw, 4096)
    grid = size // patch
    block = 4 * c + 4 * (c * c + c) + (c * inter + inter) + (inter * c + c)
    # unfold patch embedding (no bias), class embedding, positions (+1 class), pre/post LayerNorms,
    # blocks, pixel-shuffle adapter fc1 (intermediate_size -> projector_input_dim) and fc2, no biases
    tower = chans * patch**2 * c + c + (grid * grid + 1) * c + 4 * c + layers * block \
        + inter * proj_in + proj_in * proj_out
    vision = tower + out * t.hidden
    tokens = int(grid * grid * ratio**2)
    max_tiles = _opt(pre, "max_patches", pre_where, 16)
    image = ImageRule(ImageKind.TILES, patch, image_size=size, max_tiles=max_tiles, tokens_per_unit=tokens)
    return FamilySpec("llama4", image, text, vision, active + vision, experts, top_k,
                      t.layers, t.kv_heads, t.head_dim)


# ------------------------------------------------------------------ Gemma-4

SOFT_TOKENS = (70, 140, 280, 560, 1120)
"""``_SUPPORTED_SOFT_TOKENS`` of transformers' Gemma4ImageProcessor."""


def _gemma4(config: Mapping[str, Any], pre: Mapping[str, Any], pre_where: str) -> FamilySpec:
    """Gemma-4 (transformers/models/gemma4/modeling_gemma4.py): per layer type (``layer_types``,
    default 5 sliding : 1 full, the last full) its own head size and KV heads (full layers:
    ``global_head_dim``, ``num_global_key_value_heads`` with ``attention_k_eq_v``, whose full layers
    have no v_proj); the last ``num_kv_shared_layers`` layers reuse earlier K/V (q and o only) and,
    with ``use_double_wide_mlp``, a twice as wide MLP; optional per-layer input embeddings
    (``hidden_size_per_layer_input``) and a MoE block beside the MLP (``enable_moe_block``). The
    vision tower: a linear patch embedding, a 2-D position table, gated-MLP blocks with q/k norms,
    and one projection to the text width."""
    from gaudi_vl.models import _typed_int

    cfg, where = _sub(config, "text_config")
    v, vw = _sub(config, "vision_config")
    t = _text(cfg, where, {"tie_word_embeddings": config.get("tie_word_embeddings", True)}, 131072)
    types = cfg.get("layer_types")
    if types is None:
        types = ["sliding_attention" if (i + 1) % 6 else "full_attention" for i in range(t.layers)]
    if not isinstance(types, list) or len(types) != t.layers or \
            any(x not in ("sliding_attention", "full_attention") for x in types):
        raise GaudiVLError(f"{where} layer_types must list sliding_attention/full_attention for each of "
                           f"the {t.layers} layers", "restore the file")
    types = [*types[:-1], "full_attention"]  # the config forces the last layer to full attention
    k_eq_v = _flag(cfg, "attention_k_eq_v", where, False)
    global_dim = _opt(cfg, "global_head_dim", where, 512)
    global_kv = cfg.get("num_global_key_value_heads")
    global_kv = None if global_kv is None else _typed_int(global_kv, "num_global_key_value_heads", where)
    shared_n = _opt(cfg, "num_kv_shared_layers", where, 0, low=0)
    first_shared = t.layers - shared_n
    double = _flag(cfg, "use_double_wide_mlp", where, False)
    bias = _flag(cfg, "attention_bias", where, False)
    hpl = _opt(cfg, "hidden_size_per_layer_input", where, 0, low=0)
    moe = _flag(cfg, "enable_moe_block", where, False)
    experts = top_k = moe_inter = 0
    if moe:
        experts, top_k, moe_inter = _ints(cfg, where, "num_experts", "top_k_experts", "moe_intermediate_size")
    # what transformers saves: per_layer_config {"index": {"head_dim", "num_key_value_heads"}}; what
    # checkpoints write: global_head_dim / num_global_key_value_heads for the full-attention layers
    per_layer = cfg.get("per_layer_config")
    if per_layer is None:
        override = {"head_dim": global_dim}
        if k_eq_v and global_kv is not None:
            override["num_key_value_heads"] = global_kv
        per_layer = {str(i): override for i, kind in enumerate(types) if kind == "full_attention"}
    if not isinstance(per_layer, Mapping):
        raise GaudiVLError(f"{where} per_layer_config must be a JSON object", "restore the file")
    h, text, kv_per_token = t.hidden, 0, 0
    for i, kind in enumerate(types):
        full = kind == "full_attention"
        over = per_layer.get(str(i)) or {}
        if not isinstance(over, Mapping):
            raise GaudiVLError(f"{where} per_layer_config {i} must be a JSON object", "restore the file")
        hd = _opt(over, "head_dim", where, t.head_dim)
        kv = _opt(over, "num_key_value_heads", where, t.kv_heads)
        q = t.heads * hd
        layer = h * q + q * h + hd + (q + h if bias else 0)  # q_proj, o_proj, q_norm
        if not i >= first_shared >= 0:
            has_v = not (k_eq_v and full)
            layer += hd + (1 + has_v) * (h * kv * hd + (kv * hd if bias else 0))
            kv_per_token += 2 * kv * hd
        inter = t.inter * (2 if double and i >= first_shared > 0 else 1)
        layer += 3 * h * inter + 4 * h
        if hpl:
            layer += 2 * h * hpl + h
        if moe:
            layer += h * experts + h + experts + 3 * experts * h * moe_inter + 3 * h
        text += layer
    text += _embeddings(t)
    if hpl:
        per_vocab = _opt(cfg, "vocab_size_per_layer_input", where, t.vocab)
        text += per_vocab * t.layers * hpl + h * t.layers * hpl + hpl
    active = text - t.layers * (experts - top_k) * 3 * h * moe_inter
    layers, c, inter, heads = _ints(v, vw, "num_hidden_layers", "hidden_size", "intermediate_size",
                                    "num_attention_heads")
    v_kv = _opt(v, "num_key_value_heads", vw, heads)
    v_hd = _opt(v, "head_dim", vw, c // heads)
    patch, pooling = _opt(v, "patch_size", vw, 16), _opt(v, "pooling_kernel_size", vw, 3)
    positions = _opt(v, "position_embedding_size", vw, 10240)
    block = 2 * c * heads * v_hd + 2 * c * v_kv * v_hd + 2 * v_hd + 3 * c * inter + 4 * c
    vision = 3 * patch**2 * c + 2 * positions * c + layers * block + c * h
    soft = _opt(pre, "max_soft_tokens", pre_where, 280)
    if soft not in SOFT_TOKENS:
        raise GaudiVLError(f"{pre_where} max_soft_tokens must be one of {SOFT_TOKENS}, got {soft}",
                           "restore the file")
    image = ImageRule(ImageKind.ASPECT, patch, pooling, max_soft_tokens=soft)
    return FamilySpec("gemma4", image, text, vision, active + vision, experts, top_k,
                      t.layers, t.kv_heads, t.head_dim, kv_per_token)


def family_spec(config: Mapping[str, Any], preprocessor: Mapping[str, Any] | None,
                preprocessor_source: str = "preprocessor_config.json") -> FamilySpec:
    """The ``FamilySpec`` of a parsed config.json of a supported non-Qwen2.5-VL family."""
    model_type = config.get("model_type")
    pre = {k: v for k, v in (preprocessor or {}).items() if v is not None}  # null: the default
    size = pre.get("size")
    if model_type in ("qwen2_vl", "qwen3_vl", "qwen3_vl_moe") and isinstance(size, Mapping):
        pre.setdefault("min_pixels", size.get("shortest_edge"))
        pre.setdefault("max_pixels", size.get("longest_edge"))
    pre.pop("size", None)
    try:
        return _build(model_type, config, pre, preprocessor_source)
    except GaudiVLError as exc:
        if exc.hint == "is this a Qwen2-VL-family config.json?":  # the shared reader's generic hint
            hint = f"is this a {model_type} config.json? restore the file"
            raise GaudiVLError(exc.message, hint) from None
        raise


def _build(model_type: Any, config: Mapping[str, Any], pre: Mapping[str, Any],
           preprocessor_source: str) -> FamilySpec:
    from gaudi_vl.models import json_repr

    if model_type == "qwen3_vl":
        return _qwen3_vl(config, pre, preprocessor_source, moe=False)
    if model_type == "qwen3_vl_moe":
        return _qwen3_vl(config, pre, preprocessor_source, moe=True)
    if model_type == "qwen2_vl":
        return _qwen2_vl(config, pre, preprocessor_source)
    if model_type == "gemma3":
        return _gemma3(config, pre, preprocessor_source)
    if model_type == "llama4":
        return _llama4(config, pre, preprocessor_source)
    if model_type == "gemma4":
        return _gemma4(config, pre, preprocessor_source)
    raise GaudiVLError(
        f"config.json has model_type {json_repr(model_type)}, which gaudi-vl does not plan",
        f"supported model types: {', '.join(SUPPORTED_FAMILIES)}",
    )
