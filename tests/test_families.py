"""Model families against transformers' own configs, modules (meta device) and image processors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.family_models import FAMILY_BUILTINS, family_model_spec
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import builtin_model

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")

SIZES = [(640, 480), (480, 640), (1920, 1080), (1080, 1920), (333, 500), (4032, 3024), (100, 100),
         (64, 2000), (1280, 720), (896, 896), (336, 336), (500, 375), (3000, 200), (2048, 1536)]
"""Camera, phone, COCO, screenshot, thumbnail and panorama sizes."""


def _tiny(model_type: str) -> Any:
    """transformers' own config class with tiny dims (the module is built on the meta device)."""
    if model_type in ("qwen3_vl", "qwen3_vl_moe"):
        text = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4,
                "num_key_value_heads": 2, "head_dim": 24, "vocab_size": 500}
        if model_type == "qwen3_vl_moe":
            text |= {"num_experts": 6, "num_experts_per_tok": 2, "moe_intermediate_size": 40,
                     "decoder_sparse_step": 1, "mlp_only_layers": [1]}
        vision = {"depth": 3, "hidden_size": 32, "intermediate_size": 48, "num_heads": 4,
                  "out_hidden_size": 64,
                  "num_position_embeddings": 144, "deepstack_visual_indexes": [0, 2]}
        cls = transformers.Qwen3VLMoeConfig if model_type == "qwen3_vl_moe" else transformers.Qwen3VLConfig
        return cls(text_config=text, vision_config=vision, tie_word_embeddings=False)
    if model_type == "qwen2_vl":
        return transformers.Qwen2VLConfig(
            text_config={"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
                         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 500},
            vision_config={"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 4, "mlp_ratio": 4},
            tie_word_embeddings=False)
    if model_type == "gemma3":
        return transformers.Gemma3Config(
            text_config={"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
                         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                             "vocab_size": 500},
            vision_config={"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                           "num_attention_heads": 4, "image_size": 112, "patch_size": 14},
            mm_tokens_per_image=16)
    return transformers.Llama4Config(
        text_config={"hidden_size": 64, "intermediate_size": 48, "intermediate_size_mlp": 96,
                     "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
                         "head_dim": 16,
                     "vocab_size": 500, "num_local_experts": 3, "num_experts_per_tok": 1,
                     "interleave_moe_layer_step": 2},
        vision_config={"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "image_size": 56, "patch_size": 14,
                           "pixel_shuffle_ratio": 0.5,
                       "projector_input_dim": 64, "projector_output_dim": 64, "vision_output_dim": 64})


MODEL_CLASSES = {
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
    "qwen3_vl_moe": "Qwen3VLMoeForConditionalGeneration",
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "gemma3": "Gemma3ForConditionalGeneration",
    "llama4": "Llama4ForConditionalGeneration",
}


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("model_type", sorted(MODEL_CLASSES))
def test_param_counts_equal_the_real_module(model_type: str) -> None:
    config = _tiny(model_type)
    with torch.device("meta"):
        model = getattr(transformers, MODEL_CLASSES[model_type])(config)
    spec = family_model_spec(config.to_dict())
    fam = spec.family
    assert fam is not None and fam.family == model_type
    assert fam.params == _count(model)
    if model_type == "llama4":  # its language_model is a whole causal LM, lm_head included
        text = _count(model.language_model)
    else:
        head = 0 if config.tie_word_embeddings else _count(model.lm_head)
        text = _count(model.model.language_model) + head
    assert fam.text_params == text
    assert fam.vision_params == _count(model) - text


def test_moe_active_params_count_only_routed_experts() -> None:
    config = _tiny("qwen3_vl_moe")
    fam = family_model_spec(config.to_dict()).family
    assert fam is not None
    # two sparse layers (layer 1 is dense), 6 experts of 3 * 64 * 40, two of them active per token
    assert fam.params - fam.active_params == 2 * (6 - 2) * 3 * 64 * 40


@pytest.mark.parametrize("name", sorted(FAMILY_BUILTINS))
def test_builtins_are_read_as_transformers_reads_their_config(name: str, tmp_path: Path) -> None:
    """A built-in equals its published config saved by transformers and loaded from a folder."""
    hf_id, config, pre = FAMILY_BUILTINS[name]
    cls = transformers.AutoConfig.for_model(config["model_type"])
    loaded_cfg = type(cls).from_dict({k: v for k, v in config.items()})
    loaded_cfg.save_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(pre))
    folder = load_model(str(tmp_path))
    assert folder.family == builtin_model(name).family
    assert builtin_model(hf_id).name == name


def test_published_sizes() -> None:
    """Parameter counts the model cards publish (8.77B, 33.4B, 31.1B, 236B, 8.29B, 27.4B, 109B/17B)."""
    got = {n: round(builtin_model(n).params / 1e9, 1) for n in FAMILY_BUILTINS}
    assert got == {"qwen3-vl-8b": 8.8, "qwen3-vl-32b": 33.4, "qwen3-vl-30b-a3b": 31.1,
                   "qwen3-vl-235b-a22b": 235.7, "qwen2-vl-7b": 8.3, "gemma-3-27b": 27.4,
                       "llama-4-scout": 108.6}
    assert round(builtin_model("llama-4-scout").family.active_params / 1e9) == 18  # 17B text + vision


def _image(w: int, h: int) -> Any:
    return Image.new("RGB", (w, h), color=(120, 30, 200))


@pytest.mark.parametrize("model_type", ["qwen3_vl", "qwen2_vl"])
@pytest.mark.parametrize(("w", "h"), SIZES)
def test_resize_rule_equals_the_real_processor(model_type: str, w: int, h: int) -> None:
    if model_type == "qwen3_vl":
        pre = {"size": {"shortest_edge": 65536, "longest_edge": 16777216}, "patch_size": 16, "merge_size": 2}
        config = FAMILY_BUILTINS["qwen3-vl-8b"][1]
    else:
        pre = {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "merge_size": 2}
        config = FAMILY_BUILTINS["qwen2-vl-7b"][1]
    rule = family_model_spec(config, pre).family.image
    proc = transformers.Qwen2VLImageProcessor(
        size={"shortest_edge": rule.min_pixels, "longest_edge": rule.max_pixels},
        patch_size=rule.patch_size, merge_size=rule.merge_size)
    if max(w, h) / min(w, h) > 200:
        pytest.skip("refused by both")
    out = proc(images=_image(w, h), return_tensors="pt")
    t, gh, gw = out["image_grid_thw"][0].tolist()
    shape = rule.shape(w, h)
    assert shape.grid == (gh, gw)
    assert shape.units == out["pixel_values"].shape[0]
    assert shape.tokens == gh * gw // rule.merge_size**2


@pytest.mark.parametrize("pan_and_scan", [False, True])
@pytest.mark.parametrize(("w", "h"), SIZES)
def test_gemma3_crops_equal_the_real_processor(pan_and_scan: bool, w: int, h: int) -> None:
    pre = {"size": {"height": 896, "width": 896}, "do_pan_and_scan": pan_and_scan}
    rule = family_model_spec(FAMILY_BUILTINS["gemma-3-27b"][1], pre).family.image
    proc = transformers.Gemma3ImageProcessor(do_pan_and_scan=pan_and_scan, pan_and_scan_min_crop_size=256,
                                             pan_and_scan_max_num_crops=4,
                                                 pan_and_scan_min_ratio_to_activate=1.2,
                                             size={"height": 896, "width": 896})
    out = proc(images=_image(w, h), return_tensors="pt")
    assert rule.shape(w, h).units == out["pixel_values"].shape[0]
    assert tuple(out["pixel_values"].shape[-2:]) == (896, 896)


@pytest.mark.parametrize(("w", "h"), SIZES)
def test_llama4_tiles_equal_the_real_processor(w: int, h: int) -> None:
    rule = builtin_model("llama-4-scout").family.image
    proc = transformers.Llama4ImageProcessor(max_patches=16, size={"height": 336, "width": 336})
    out = proc(images=_image(w, h), return_tensors="pt")
    rows, cols = out["aspect_ratios"][0].tolist()
    shape = rule.shape(w, h)
    assert shape.grid == (rows, cols)
    assert shape.units == out["pixel_values"].shape[0]


def test_unknown_architecture_is_one_line_naming_the_supported() -> None:
    with pytest.raises(GaudiVLError) as info:
        family_model_spec({"model_type": "idefics3"})
    assert "idefics3" in str(info.value) and "qwen3_vl_moe" in info.value.hint and "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [{"num_experts_per_tok": 129}, {"num_key_value_heads": 3}, {"head_dim": 0},
                                 {"num_experts": True}])
def test_bad_moe_values_are_one_line_errors(bad: dict[str, Any]) -> None:
    _, config, pre = FAMILY_BUILTINS["qwen3-vl-30b-a3b"]
    broken = {**config, "text_config": {**config["text_config"], **bad}}
    with pytest.raises(GaudiVLError):
        family_model_spec(broken, pre)


# ---------------------------------------------------------------- Gemma-4 (local configs only)

GEMMA4_TEXT = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4, "num_attention_heads": 4,
               "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 500, "vocab_size_per_layer_input": 300,
               "hidden_size_per_layer_input": 8, "global_head_dim": 32,
               "layer_types": ["sliding_attention", "full_attention"] * 2}
GEMMA4_VISION = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "head_dim": 8, "position_embedding_size": 64}
GEMMA4_VARIANTS = [
    {},
    {"hidden_size_per_layer_input": 0, "enable_moe_block": True, "num_experts": 4, "top_k_experts": 2,
     "moe_intermediate_size": 40, "attention_k_eq_v": True, "num_global_key_value_heads": 1},
    {"num_kv_shared_layers": 2, "use_double_wide_mlp": True, "attention_bias": True},
    {"layer_types": None, "num_hidden_layers": 7},
]


def _gemma4(variant: dict[str, Any]) -> Any:
    return transformers.Gemma4Config(text_config={**GEMMA4_TEXT, **variant}, vision_config=GEMMA4_VISION,
                                     audio_config=None)


@pytest.mark.parametrize("variant", GEMMA4_VARIANTS, ids=["ple", "moe-k-eq-v", "kv-shared", "default-types"])
def test_gemma4_param_counts_equal_the_real_module(variant: dict[str, Any]) -> None:
    config = _gemma4(variant)
    with torch.device("meta"):
        model = transformers.Gemma4ForConditionalGeneration(config)
    fam = family_model_spec(config.to_dict()).family
    assert fam is not None and fam.family == "gemma4"
    assert fam.params == _count(model)
    assert fam.text_params == _count(model.model.language_model)


def test_gemma4_checkpoint_style_config_reads_the_same() -> None:
    """Checkpoints write global_head_dim / num_global_key_value_heads; transformers saves
    per_layer_config: both give the same spec."""
    variant = GEMMA4_VARIANTS[1]
    saved = _gemma4(variant).to_dict()
    text = {k: v for k, v in saved["text_config"].items() if k != "per_layer_config"}
    written = {**saved, "text_config": text}
    written["text_config"] |= {"global_head_dim": 32, "num_global_key_value_heads": 1}
    assert family_model_spec(written).family == family_model_spec(saved).family


@pytest.mark.parametrize("soft", [70, 280, 1120])
@pytest.mark.parametrize(("w", "h"), [*SIZES, (10, 5000), (50, 50)])
def test_gemma4_resize_equals_the_real_processor(soft: int, w: int, h: int) -> None:
    rule = family_model_spec(_gemma4({}).to_dict(), {"max_soft_tokens": soft}).family.image
    proc = transformers.Gemma4ImageProcessor(max_soft_tokens=soft, patch_size=16, pooling_kernel_size=3)
    out = proc(images=_image(w, h), return_tensors="pt")
    real_patches = int((out["image_position_ids"][0][:, 0] >= 0).sum())
    shape = rule.shape(w, h)
    assert shape.units == real_patches
    assert shape.tokens == int(out["num_soft_tokens_per_image"][0])
