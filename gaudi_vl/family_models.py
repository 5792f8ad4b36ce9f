"""``ModelSpec`` for the families of ``gaudi_vl.families``, and their built-in checkpoints.

Pure. The built-ins are the published ``config.json`` (the keys planning reads) and
``preprocessor_config.json`` of each checkpoint, read through the same code as a local folder, so a
built-in name and a downloaded folder give the same spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gaudi_vl.families import FamilySpec, family_spec
from gaudi_vl.models import ModelSpec, ProcessorSpec, TextSpec, VisionSpec


def family_model_spec(
    config: Mapping[str, Any],
    preprocessor: Mapping[str, Any] | None = None,
    *,
    name: str = "custom",
    hf_id: str | None = None,
    preprocessor_source: str = "preprocessor_config.json",
) -> ModelSpec:
    """A ``ModelSpec`` whose ``family`` holds the family facts (``vision``/``text`` carry the headline
    dims for the messages that print them; the Qwen2.5-VL memory model does not apply)."""
    fam = family_spec(config, preprocessor, preprocessor_source)
    return _spec(fam, config, name, hf_id)


def _spec(fam: FamilySpec, config: Mapping[str, Any], name: str, hf_id: str | None) -> ModelSpec:
    text_cfg = config.get("text_config") or config
    vision_cfg = config.get("vision_config") or {}
    hidden = int(text_cfg.get("hidden_size", 1))
    heads = int(text_cfg.get("num_attention_heads", 1))
    v_hidden = int(vision_cfg.get("embed_dim") or vision_cfg.get("hidden_size") or 1)
    v_heads = int(vision_cfg.get("num_heads") or vision_cfg.get("num_attention_heads") or 1)
    text = TextSpec(
        hidden_size=hidden,
        intermediate_size=int(text_cfg.get("intermediate_size", 1)),
        num_layers=fam.kv_layers,
        num_heads=heads,
        num_kv_heads=fam.kv_heads,
        vocab_size=int(text_cfg.get("vocab_size", 1)),
        tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
        max_position_embeddings=int(text_cfg.get("max_position_embeddings", 32768)),
    )
    vision = VisionSpec(
        depth=int(vision_cfg.get("depth") or vision_cfg.get("num_hidden_layers") or 1),
        hidden_size=v_hidden,
        num_heads=v_heads,
        intermediate_size=int(vision_cfg.get("intermediate_size") or 4 * v_hidden),
        out_hidden_size=hidden,
        fullatt_block_indexes=(),
        patch_size=fam.image.patch_size,
        spatial_merge_size=fam.image.merge_size,
        mlp_gated=fam.family == "gemma4",  # the others: fc1 -> activation -> fc2 (gaudi_vl.families)
    )
    processor = ProcessorSpec(fam.image.min_pixels or 1, fam.image.max_pixels or 1)
    return ModelSpec(name=name, model_type=fam.family, vision=vision, text=text, processor=processor,
                     hf_id=hf_id, family=fam)


# ------------------------------------------------------------------ built-ins

_QWEN3_VL_VISION = {
    "depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16, "patch_size": 16,
    "spatial_merge_size": 2, "temporal_patch_size": 2, "in_channels": 3, "num_position_embeddings": 2304,
    "deepstack_visual_indexes": [8, 16, 24],
}
_QWEN3_VL_PRE = {"size": {"shortest_edge": 65536, "longest_edge": 16777216}, "patch_size": 16,
                 "merge_size": 2, "temporal_patch_size": 2}


def _qwen3(text: dict[str, Any], moe: bool) -> dict[str, Any]:
    return {
        "model_type": "qwen3_vl_moe" if moe else "qwen3_vl",
        "tie_word_embeddings": False,
        "text_config": {"vocab_size": 151936, "head_dim": 128, "max_position_embeddings": 262144, **text},
        "vision_config": {**_QWEN3_VL_VISION, "out_hidden_size": text["hidden_size"]},
    }


FAMILY_BUILTINS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # name: (Hugging Face id = the model card repo the dims come from, config.json, preprocessor_config.json)
    "qwen3-vl-8b": ("Qwen/Qwen3-VL-8B-Instruct", _qwen3(
        {"hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36,
         "num_attention_heads": 32, "num_key_value_heads": 8}, moe=False), _QWEN3_VL_PRE),
    "qwen3-vl-32b": ("Qwen/Qwen3-VL-32B-Instruct", _qwen3(
        {"hidden_size": 5120, "intermediate_size": 25600, "num_hidden_layers": 64,
         "num_attention_heads": 64, "num_key_value_heads": 8}, moe=False), _QWEN3_VL_PRE),
    "qwen3-vl-30b-a3b": ("Qwen/Qwen3-VL-30B-A3B-Instruct", _qwen3(
        {"hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
         "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4,
         "num_experts": 128, "num_experts_per_tok": 8, "decoder_sparse_step": 1, "mlp_only_layers": []},
        moe=True), _QWEN3_VL_PRE),
    "qwen3-vl-235b-a22b": ("Qwen/Qwen3-VL-235B-A22B-Instruct", _qwen3(
        {"hidden_size": 4096, "intermediate_size": 12288, "moe_intermediate_size": 1536,
         "num_hidden_layers": 94, "num_attention_heads": 64, "num_key_value_heads": 4,
         "num_experts": 128, "num_experts_per_tok": 8, "decoder_sparse_step": 1, "mlp_only_layers": []},
        moe=True), _QWEN3_VL_PRE),
    "qwen2-vl-7b": ("Qwen/Qwen2-VL-7B-Instruct", {
        "model_type": "qwen2_vl", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
        "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
        "max_position_embeddings": 32768, "tie_word_embeddings": False,
        "vision_config": {"depth": 32, "embed_dim": 1280, "hidden_size": 3584, "mlp_ratio": 4,
                          "num_heads": 16, "in_chans": 3, "patch_size": 14, "spatial_merge_size": 2,
                          "temporal_patch_size": 2},
    }, {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "merge_size": 2}),
    "gemma-3-27b": ("google/gemma-3-27b-it", {
        "model_type": "gemma3", "mm_tokens_per_image": 256,
        "text_config": {"hidden_size": 5376, "intermediate_size": 21504, "num_hidden_layers": 62,
                        "num_attention_heads": 32, "num_key_value_heads": 16, "head_dim": 128,
                        "vocab_size": 262208, "max_position_embeddings": 131072},
        "vision_config": {"hidden_size": 1152, "intermediate_size": 4304, "num_hidden_layers": 27,
                          "num_attention_heads": 16, "image_size": 896, "patch_size": 14,
                          "vision_use_head": False},
    }, {"size": {"height": 896, "width": 896}, "do_pan_and_scan": None}),
    "llama-4-scout": ("meta-llama/Llama-4-Scout-17B-16E-Instruct", {
        "model_type": "llama4", "tie_word_embeddings": False,
        "text_config": {"hidden_size": 5120, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
                        "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8,
                        "head_dim": 128, "vocab_size": 202048, "num_local_experts": 16,
                        "num_experts_per_tok": 1, "interleave_moe_layer_step": 1,
                        "max_position_embeddings": 10485760},
        "vision_config": {"hidden_size": 1408, "intermediate_size": 5632, "num_hidden_layers": 34,
                          "num_attention_heads": 16, "image_size": 336, "patch_size": 14,
                          "pixel_shuffle_ratio": 0.5, "projector_input_dim": 4096,
                          "projector_output_dim": 4096, "vision_output_dim": 4096},
    }, {"max_patches": 16, "size": {"height": 336, "width": 336}}),
}
"""Published dimensions: each checkpoint's config.json / preprocessor_config.json on its model card
repo (the Hugging Face id beside it), the keys gaudi-vl reads."""


def family_builtin(key: str) -> ModelSpec | None:
    """A built-in family checkpoint by short name or Hugging Face id (lower-case), or None."""
    for name, (hf_id, config, pre) in FAMILY_BUILTINS.items():
        if key in (name, hf_id.lower(), hf_id.lower().split("/")[-1]):
            return family_model_spec(config, pre, name=name, hf_id=hf_id)
    return None
