"""Model specs against transformers' real module and real saved configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hf_configs import hf_config

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import BUILTIN_MODELS, builtin_model

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")





@pytest.mark.parametrize("name", sorted(BUILTIN_MODELS))
def test_param_counts_equal_the_real_module(name: str) -> None:
    spec = BUILTIN_MODELS[name]
    with torch.device("meta"):
        model = transformers.Qwen2_5_VLForConditionalGeneration(hf_config(spec))
    vision = sum(p.numel() for p in model.model.visual.parameters())
    total = sum(p.numel() for p in model.parameters())
    assert spec.vision.params == vision
    assert spec.params == total


def test_7b_is_8_29b_parameters() -> None:
    assert round(builtin_model("Qwen/Qwen2.5-VL-7B-Instruct").params / 1e9, 2) == 8.29


def test_folder_round_trip(tmp_path: Path) -> None:
    spec = BUILTIN_MODELS["qwen2.5-vl-3b"]
    hf_config(spec).save_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"min_pixels": 12544, "max_pixels": 1003520})
    )
    loaded = load_model(str(tmp_path))
    assert loaded.vision == spec.vision
    assert loaded.text == spec.text
    assert (loaded.processor.min_pixels, loaded.processor.max_pixels) == (12544, 1003520)
    assert loaded.hf_id == str(tmp_path)


def test_transformers5_size_keys_are_read(tmp_path: Path) -> None:
    hf_config(BUILTIN_MODELS["qwen2.5-vl-7b"]).save_pretrained(tmp_path)
    processor = transformers.Qwen2VLImageProcessor(size={"shortest_edge": 50176, "longest_edge": 2007040})
    processor.save_pretrained(tmp_path)
    loaded = load_model(str(tmp_path))
    assert (loaded.processor.min_pixels, loaded.processor.max_pixels) == (50176, 2007040)


def test_folder_without_config_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(GaudiVLError, match="no config.json"):
        load_model(str(tmp_path))


def test_non_vl_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(GaudiVLError, match="does not plan") as info:
        load_model(str(tmp_path))
    assert "qwen3_vl" in info.value.hint and "gemma3" in info.value.hint


def test_unknown_name_lists_known_models() -> None:
    with pytest.raises(GaudiVLError) as info:
        load_model("qwen9-vl")
    assert "qwen2.5-vl-7b" in info.value.hint


def test_transformers5_combined_processor_config_is_read(tmp_path: Path) -> None:
    hf_config(BUILTIN_MODELS["qwen2.5-vl-7b"]).save_pretrained(tmp_path)
    image = transformers.Qwen2VLImageProcessor(size={"shortest_edge": 12544, "longest_edge": 802816})
    (tmp_path / "processor_config.json").write_text(
        json.dumps({"image_processor": image.to_dict(), "processor_class": "Qwen2_5_VLProcessor"})
    )
    loaded = load_model(str(tmp_path))
    assert (loaded.processor.min_pixels, loaded.processor.max_pixels) == (12544, 802816)
