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
from gaudi_vl.families import FamilySpec
from gaudi_vl.geometry import MAX_PIXELS


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
    mlp_gated: bool = True
    """A gated MLP (gate and up, Qwen2.5-VL, Gemma-4) holds ``2 I`` per patch before its product;
    a plain one (fc1, activation: Qwen3-VL, Qwen2-VL, SigLIP, Llama-4) ``I``."""

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
    family: FamilySpec | None = None
    """Other families than Qwen2.5-VL (``gaudi_vl.families``): their image rule, weights and KV
    dims. None: Qwen2.5-VL, whose geometry and weights are ``vision`` / ``text`` / ``processor``."""

    @property
    def params(self) -> int:
        if self.family is not None:
            return self.family.params
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
    from gaudi_vl.family_models import FAMILY_BUILTINS, family_builtin

    found = family_builtin(key)
    if found is not None:
        return found
    known = ", ".join([*BUILTIN_MODELS, *FAMILY_BUILTINS])
    raise GaudiVLError(
        f"unknown model {name!r}",
        f"use one of {known}, or a local folder with config.json",
    )


def max_model_len_notes(model: ModelSpec, max_model_len: int, allow_long: bool = False) -> tuple[str, ...]:
    """Refuse a ``--max-model-len`` above the model's ``max_position_embeddings``, as vLLM does.

    vLLM raises at start-up "User-specified max_model_len (N) is greater than the derived
    max_model_len (max_position_embeddings=M ...)" unless ``VLLM_ALLOW_LONG_MAX_MODEL_LEN`` is
    ``1`` or ``true`` (vllm/envs.py), in which case it only warns: vllm/config.py:3419@95af70093fc0
    (vllm-fork habana_main), vllm/config.py:3205@277a33cd907e (aice/v1.21.0), vllm/config/model.py
    ``_get_and_verify_max_len`` (vLLM 0.32). Qwen2.5-VL's rope is mrope with no scaling factor, so
    the derived length is ``max_position_embeddings`` itself. With ``allow_long`` the refusal becomes
    a note, since positions past it give NaN with RoPE.
    """
    limit = model.text.max_position_embeddings
    if max_model_len <= limit:
        return ()
    if allow_long:
        note = (f"--max-model-len {max_model_len} is above {model.name}'s max_position_embeddings {limit}: "
                "allowed by VLLM_ALLOW_LONG_MAX_MODEL_LEN, but positions past it give NaN with RoPE")
        return (note,)
    raise GaudiVLError(
        f"--max-model-len {max_model_len} is above {model.name}'s max_position_embeddings {limit} "
        "(vLLM refuses it at start-up)",
        f"pass --max-model-len {limit} or less",
    )


_QWEN_VL_TYPES = ("qwen2_5_vl",)

CONFIG_INT_MAX = 2**24
"""16,777,216: the largest whole number read from a model config (README "Limits"). Qwen2.5-VL's
largest is its 152,064-token vocabulary; the bound keeps the planner's float arithmetic finite."""
_REQUIRED = object()


def _typed_int(value: Any, key: str, where: str, low: int = 1, high: int = CONFIG_INT_MAX) -> int:
    """A JSON integer in ``[low, high]`` (``true``, ``28.0``, ``"28"``, ``null`` and NaN are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise GaudiVLError(
            f"{where} {key} must be a whole number, got {json_repr(value)}", "restore the file"
        )
    if not low <= value <= high:
        raise GaudiVLError(f"{where} {key} must be in {low}..{high:,}, got {value}", "restore the file")
    return value


def _int(config: Mapping[str, Any], key: str, where: str, default: Any = _REQUIRED, low: int = 1) -> int:
    if key not in config:
        if default is _REQUIRED:
            raise GaudiVLError(f"{where} has no {key!r}", "is this a Qwen2-VL-family config.json?")
        return default
    return _typed_int(config[key], key, where, low)


def _bool(value: Any, key: str, where: str) -> bool:
    """A JSON ``true``/``false`` only: ``"false"`` is a string, which Python would read as true."""
    if not isinstance(value, bool):
        raise GaudiVLError(f"{where} {key} must be true or false, got {json_repr(value)}", "restore the file")
    return value


def _object(value: Any, key: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise GaudiVLError(f"{where} {key} must be a JSON object, got {json_repr(value)}", "restore the file")
    return value


def json_repr(value: Any, limit: int = 40) -> str:
    """A short JSON-like rendering of a config value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def model_spec_from_config(
    config: Mapping[str, Any],
    preprocessor: Mapping[str, Any] | None = None,
    *,
    name: str = "custom",
    hf_id: str | None = None,
    preprocessor_source: str = "preprocessor_config.json",
) -> ModelSpec:
    """Build a spec from a parsed ``config.json`` (transformers 4 flat or 5 nested layout).

    ``preprocessor`` is the parsed ``preprocessor_config.json``; its ``min_pixels`` /
    ``max_pixels`` (or transformers 5's ``size.shortest_edge`` / ``size.longest_edge``, which hold
    pixel counts for this processor) set the default pixel range.

    Values are typed strictly, as the model code needs them: whole numbers in
    ``1..CONFIG_INT_MAX`` for sizes and counts, JSON booleans for flags, block indexes inside the
    tower. Head counts must divide what they split: ``hidden_size % num_attention_heads`` (the head
    size), ``num_attention_heads % num_key_value_heads`` (grouped-query attention repeats each KV
    head ``heads / kv_heads`` times: transformers' ``repeat_kv``) and the vision tower's
    ``hidden_size % num_heads``. Each problem is a one-line ``GaudiVLError`` naming the key.
    """
    model_type = config.get("model_type", "")
    if model_type not in _QWEN_VL_TYPES:
        from gaudi_vl.family_models import family_model_spec

        return family_model_spec(config, preprocessor, name=name, hf_id=hf_id,
                                 preprocessor_source=preprocessor_source)
    v = _object(config.get("vision_config"), "vision_config", "config.json")
    if "text_config" in config and config["text_config"] is not None:
        text_cfg = _object(config["text_config"], "text_config", "config.json")
        where = "config.json text_config"
    else:
        text_cfg, where = config, "config.json"
    hidden = _int(text_cfg, "hidden_size", where)
    heads = _int(text_cfg, "num_attention_heads", where)
    kv = text_cfg.get("num_key_value_heads")  # null or absent: one per head (transformers' default)
    kv_heads = heads if kv is None else _typed_int(kv, "num_key_value_heads", where)
    if hidden % heads:
        raise GaudiVLError(
            f"{where} hidden_size {hidden} is not divisible by num_attention_heads {heads}",
            "restore the file",
        )
    if heads % kv_heads:
        raise GaudiVLError(
            f"{where} num_attention_heads {heads} is not divisible by num_key_value_heads {kv_heads}",
            "restore the file",
        )
    tie_key = "tie_word_embeddings"
    tie = config[tie_key] if tie_key in config else text_cfg.get(tie_key, False)
    text = TextSpec(
        hidden_size=hidden,
        intermediate_size=_int(text_cfg, "intermediate_size", where),
        num_layers=_int(text_cfg, "num_hidden_layers", where),
        num_heads=heads,
        num_kv_heads=kv_heads,
        vocab_size=_int(text_cfg, "vocab_size", where),
        tie_word_embeddings=_bool(tie, tie_key, "config.json"),
        max_position_embeddings=_int(text_cfg, "max_position_embeddings", where, 32768),
    )
    vw = "config.json vision_config"
    depth = _int(v, "depth", vw)
    embed = _int(v, "embed_dim", vw, 1280)
    v_hidden = _int(v, "hidden_size", vw, embed)
    v_heads = _int(v, "num_heads", vw)
    if v_hidden % v_heads:
        raise GaudiVLError(
            f"{vw} hidden_size {v_hidden} is not divisible by num_heads {v_heads}", "restore the file"
        )
    full = v.get("fullatt_block_indexes", [])
    if not isinstance(full, list):
        raise GaudiVLError(
            f"{vw} fullatt_block_indexes must be a list of block indexes, got {json_repr(full)}",
            "restore the file",
        )
    fullatt = tuple(_typed_int(i, "fullatt_block_indexes", vw, 0, depth - 1) for i in full)
    vision = VisionSpec(
        depth=depth,
        hidden_size=v_hidden,
        num_heads=v_heads,
        intermediate_size=_int(v, "intermediate_size", vw, 4 * embed),
        out_hidden_size=_int(v, "out_hidden_size", vw, hidden),
        fullatt_block_indexes=fullatt,
        patch_size=_int(v, "patch_size", vw, 14),
        spatial_merge_size=_int(v, "spatial_merge_size", vw, 2),
        temporal_patch_size=_int(v, "temporal_patch_size", vw, 2),
        window_size=_int(v, "window_size", vw, 112),
        in_channels=_int(v, "in_channels", vw, _int(v, "in_chans", vw, 3)),
    )
    return ModelSpec(
        name=name,
        model_type=model_type,
        vision=vision,
        text=text,
        processor=processor_spec_from_config(preprocessor or {}, preprocessor_source),
        hf_id=hf_id,
    )


def processor_spec_from_config(
    preprocessor: Mapping[str, Any], where: str = "preprocessor_config.json"
) -> ProcessorSpec:
    """Pixel limits from a parsed ``preprocessor_config.json``; stock checkpoint values if absent.

    Whole numbers in ``1..MAX_PIXELS`` (``gaudi_vl.geometry``: Pillow's decompression-bomb limit),
    ``min_pixels <= max_pixels``; anything else is a one-line error naming the file and the key.
    """
    size_value = preprocessor.get("size")
    size = {} if size_value is None else _object(size_value, "size", where)
    default = ProcessorSpec()
    values: dict[str, int] = {}
    for key, alt, fallback in (("min_pixels", "shortest_edge", default.min_pixels),
                               ("max_pixels", "longest_edge", default.max_pixels)):
        if preprocessor.get(key) is not None:
            raw, name = preprocessor[key], key
        elif size.get(alt) is not None:
            raw, name = size[alt], f"size.{alt}"
        else:
            raw, name = fallback, key
        values[key] = _typed_int(raw, name, where, 1, MAX_PIXELS)
    if values["min_pixels"] > values["max_pixels"]:
        raise GaudiVLError(
            f"{where} min_pixels {values['min_pixels']} is above max_pixels {values['max_pixels']}",
            "restore the file or pass --min-pixels and --max-pixels",
        )
    return ProcessorSpec(**values)
