"""Model specs: the dimensions of a Qwen2-VL-family model that planning needs, and nothing else.

Pure (no torch, no file I/O): built-in specs for Qwen2.5-VL 3B / 7B / 32B / 72B, and
``model_spec_from_config`` that turns an already-parsed Hugging Face ``config.json`` (and
``preprocessor_config.json``) into a spec. Reading those files from a folder is an edge:
``gaudi_vl.modelfiles``.

Parameter counts follow the module layout of transformers'
``transformers/models/qwen2_5_vl/modeling_qwen2_5_vl.py`` (biases included); the test suite
checks them against the real module built on the meta device.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gaudi_vl.errors import GaudiVLError


@dataclass(frozen=True)
class VisionSpec:
    """The vision tower (``vision_config``)."""

    depth: int
    hidden_size: int
    num_heads: int
    intermediate_size: int
    out_hidden_size: int
    fullatt_block_indexes: tuple[int, ...] = (7, 15, 23, 31)
    patch_size: int = 14
    spatial_merge_size: int = 2
    temporal_patch_size: int = 2
    window_size: int = 112
    in_channels: int = 3

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def params(self) -> int:
        """Parameters: patch embedding (Conv3d, no bias), blocks, patch merger."""
        h, i = self.hidden_size, self.intermediate_size
        patch_embed = self.in_channels * self.temporal_patch_size * self.patch_size**2 * h
        block = (
            2 * h  # norm1, norm2 (RMSNorm weights)
            + h * 3 * h + 3 * h  # qkv with bias
            + h * h + h  # proj with bias
            + 2 * (h * i + i)  # gate_proj, up_proj with bias
            + i * h + h  # down_proj with bias
        )
        merged = h * self.spatial_merge_size**2
        merger = h + merged * merged + merged + merged * self.out_hidden_size + self.out_hidden_size
        return patch_embed + self.depth * block + merger


@dataclass(frozen=True)
class TextSpec:
    """The language model (``text_config``)."""

    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    vocab_size: int
    tie_word_embeddings: bool
    max_position_embeddings: int = 128000

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def params(self) -> int:
        """Parameters: embeddings, decoder layers (q/k/v with bias, o without), norm, lm_head."""
        h, i, d = self.hidden_size, self.intermediate_size, self.head_dim
        q, kv = self.num_heads * d, self.num_kv_heads * d
        layer = (h * q + q) + 2 * (h * kv + kv) + q * h + 3 * h * i + 2 * h
        embed = self.vocab_size * h
        lm_head = 0 if self.tie_word_embeddings else self.vocab_size * h
        return embed + self.num_layers * layer + h + lm_head


@dataclass(frozen=True)
class ProcessorSpec:
    """Pixel limits of the checkpoint's image processor (``preprocessor_config.json``)."""

    min_pixels: int = 3136
    max_pixels: int = 12845056


@dataclass(frozen=True)
class ModelSpec:
    """Everything the planner knows about one model."""

    name: str
    model_type: str
    vision: VisionSpec
    text: TextSpec
    processor: ProcessorSpec = ProcessorSpec()
    hf_id: str | None = None
    """The Hugging Face id the engine is given as ``--model`` (a local folder for loaded specs)."""

    @property
    def params(self) -> int:
        return self.vision.params + self.text.params


def _qwen25(name: str, size: str, text: TextSpec, vision_intermediate: int) -> ModelSpec:
    vision = VisionSpec(
        depth=32,
        hidden_size=1280,
        num_heads=16,
        intermediate_size=vision_intermediate,
        out_hidden_size=text.hidden_size,
    )
    return ModelSpec(
        name=name,
        model_type="qwen2_5_vl",
        vision=vision,
        text=text,
        hf_id=f"Qwen/Qwen2.5-VL-{size}-Instruct",
    )


BUILTIN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _qwen25("qwen2.5-vl-3b", "3B", TextSpec(2048, 11008, 36, 16, 2, 151936, True), 3420),
        _qwen25("qwen2.5-vl-7b", "7B", TextSpec(3584, 18944, 28, 28, 4, 152064, False), 3420),
        _qwen25("qwen2.5-vl-32b", "32B", TextSpec(5120, 27648, 64, 40, 8, 152064, False), 3456),
        _qwen25("qwen2.5-vl-72b", "72B", TextSpec(8192, 29568, 80, 64, 8, 152064, False), 3456),
    )
}
DEFAULT_MODEL = "qwen2.5-vl-7b"


def builtin_model(name: str) -> ModelSpec:
    """A built-in spec by short name (``qwen2.5-vl-7b``) or Hugging Face id, case-insensitive."""
    key = name.strip().lower()
    for spec in BUILTIN_MODELS.values():
        if key in (spec.name, (spec.hf_id or "").lower(), (spec.hf_id or "").lower().split("/")[-1]):
            return spec
    known = ", ".join(BUILTIN_MODELS)
    raise GaudiVLError(
        f"unknown model {name!r}",
        f"use one of {known}, or a local folder with config.json",
    )


_QWEN_VL_TYPES = ("qwen2_5_vl", "qwen2_vl")


def _get(config: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in config:
        raise GaudiVLError(f"{where} has no {key!r}", "is this a Qwen2-VL-family config.json?")
    return config[key]


def model_spec_from_config(
    config: Mapping[str, Any],
    preprocessor: Mapping[str, Any] | None = None,
    *,
    name: str = "custom",
    hf_id: str | None = None,
) -> ModelSpec:
    """Build a spec from a parsed ``config.json`` (transformers 4 flat or 5 nested layout).

    ``preprocessor`` is the parsed ``preprocessor_config.json``; its ``min_pixels`` /
    ``max_pixels`` (or transformers 5's ``size.shortest_edge`` / ``size.longest_edge``, which hold
    pixel counts for this processor) set the default pixel range.
    """
    model_type = str(config.get("model_type", ""))
    if model_type not in _QWEN_VL_TYPES:
        raise GaudiVLError(
            f"config.json has model_type {model_type!r}, not a Qwen2-VL-family model",
            f"gaudi-vl plans {', '.join(_QWEN_VL_TYPES)} models",
        )
    v = _get(config, "vision_config", "config.json")
    text_cfg: Mapping[str, Any] = config.get("text_config") or config
    where = "config.json text_config" if "text_config" in config else "config.json"
    hidden = int(_get(text_cfg, "hidden_size", where))
    heads = int(_get(text_cfg, "num_attention_heads", where))
    text = TextSpec(
        hidden_size=hidden,
        intermediate_size=int(_get(text_cfg, "intermediate_size", where)),
        num_layers=int(_get(text_cfg, "num_hidden_layers", where)),
        num_heads=heads,
        num_kv_heads=int(text_cfg.get("num_key_value_heads", heads)),
        vocab_size=int(_get(text_cfg, "vocab_size", where)),
        tie_word_embeddings=bool(
            config.get("tie_word_embeddings", text_cfg.get("tie_word_embeddings", False))
        ),
        max_position_embeddings=int(text_cfg.get("max_position_embeddings", 32768)),
    )
    vision = VisionSpec(
        depth=int(_get(v, "depth", "vision_config")),
        hidden_size=int(v.get("hidden_size", v.get("embed_dim", 1280))),
        num_heads=int(_get(v, "num_heads", "vision_config")),
        intermediate_size=int(v.get("intermediate_size", 4 * int(v.get("embed_dim", 1280)))),
        out_hidden_size=int(v.get("out_hidden_size", hidden)),
        fullatt_block_indexes=tuple(int(i) for i in v.get("fullatt_block_indexes", ())),
        patch_size=int(v.get("patch_size", 14)),
        spatial_merge_size=int(v.get("spatial_merge_size", 2)),
        temporal_patch_size=int(v.get("temporal_patch_size", 2)),
        window_size=int(v.get("window_size", 112)),
        in_channels=int(v.get("in_channels", v.get("in_chans", 3))),
    )
    return ModelSpec(
        name=name,
        model_type=model_type,
        vision=vision,
        text=text,
        processor=processor_spec_from_config(preprocessor or {}),
        hf_id=hf_id,
    )


def processor_spec_from_config(preprocessor: Mapping[str, Any]) -> ProcessorSpec:
    """Pixel limits from a parsed ``preprocessor_config.json``; stock checkpoint values if absent."""
    size = preprocessor.get("size") or {}
    default = ProcessorSpec()
    lo = preprocessor.get("min_pixels")
    hi = preprocessor.get("max_pixels")
    lo = lo if lo is not None else size.get("shortest_edge", default.min_pixels)
    hi = hi if hi is not None else size.get("longest_edge", default.max_pixels)
    return ProcessorSpec(min_pixels=int(lo), max_pixels=int(hi))
