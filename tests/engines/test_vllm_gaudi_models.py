"""vllm-gaudi's per-model facts (``gaudi_vl.engines.vllm_gaudi_models``) against the engine's own code.

Where the vllm-gaudi mirror is on the machine, the engine's real ``vllm_gaudi/extension/bucketing/
vision.py`` at 091bbadda10b is executed (it needs only ``vllm.logger``) and its
``MULTIMODAL_CONFIG``, model-key match, resolutions parser, ``greedy_plan`` and
``bucket_to_image_resolution`` are compared with gaudi-vl's copies on every input the tests draw.
Images go through transformers' real processors, as the engine's warm-up sends raw images
through the model's processor (v1/worker/hpu_model_runner.py:5843-5854@091bbadda10b).
"""

from __future__ import annotations

import subprocess
import types
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.engines import VLLM_GAUDI
from gaudi_vl.engines.vllm_gaudi_models import (
    DEFAULT_CONFIG,
    MULTIMODAL_CONFIG,
    ShapeKey,
    WarmResolution,
    call_keys,
    compact,
    greedy_plan,
    guessed_images,
    match_config,
    model_facts,
    parse_resolutions,
    resolution_for_key,
    warm_entries,
    warmed_keys,
)
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.models import builtin_model

MIRROR = Path("/work/.mirror/vllm-project+vllm-gaudi/repo")
COMMIT = "091bbadda10b"


@pytest.fixture(scope="module")
def engine_vision() -> types.ModuleType:
    """The engine's vision.py at 091bbadda10b, executed (skip without the mirror or vLLM)."""
    pytest.importorskip("vllm.logger")
    if not MIRROR.exists():
        pytest.skip("vllm-gaudi mirror not on this machine")
    path = f"{COMMIT}:vllm_gaudi/extension/bucketing/vision.py"
    source = subprocess.run(["git", f"--git-dir={MIRROR}", "show", path],
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("engine_vision")
    exec(compile(source, "vision.py", "exec"), module.__dict__)  # noqa: S102 - the engine's own code
    return module


MODEL_TYPES = ["qwen2_5_vl", "qwen2_vl", "qwen3_vl", "qwen3_vl_moe", "gemma3", "gemma3n", "gemma4", "llama4",
               "ovis", "ovis2.5", "ovis2_5", "mistral3", "pixtral", "deepseek_ocr", "kimi_k25", "qwen3_5",
               "qwen3_5_moe", "ernie4_5_moe_vl", "idefics3", "Qwen3-VL", "GEMMA-3"]


def test_multimodal_config_is_the_engines(engine_vision: types.ModuleType) -> None:
    real = [(k, v["is_batch_based"], tuple(v["buckets"])) for k, v in engine_vision.MULTIMODAL_CONFIG.items()]
    assert list(MULTIMODAL_CONFIG) == real


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_model_key_match_is_the_engines(engine_vision: types.ModuleType, model_type: str) -> None:
    real = engine_vision.HPUVisionBucketManager._get_multimodal_config(None, model_type)
    key, batch, buckets = match_config(model_type)
    assert (batch, list(buckets)) == (real["is_batch_based"], real["buckets"])
    if key is None:
        assert (batch, buckets) == DEFAULT_CONFIG[1:]


def test_families_the_engine_has_no_key_for_are_batch_based() -> None:
    """qwen2_vl and llama4 match no key: the default [1, 2, 4, 8] batch list, 896 x 896 warm-up."""
    for model_type in ("qwen2_vl", "llama4"):
        facts = model_facts(model_type)
        assert facts.config_key is None and facts.batch_based and not facts.reads_resolutions
    assert model_facts("qwen3_vl_moe").config_key == "qwen3_vl"
    assert model_facts("gemma3").config_key == "gemma-3"
    assert [m for m in ("qwen2_5_vl", "qwen3_vl", "gemma3", "llama4") if model_facts(m).pads_to_bucket] == [
        "qwen2_5_vl"]


resolution_text = st.lists(
    st.tuples(st.integers(1, 5000), st.integers(1, 5000),
              st.one_of(st.none(), st.integers(1, 30), st.tuples(st.integers(1, 30), st.integers(1, 30)))),
    min_size=0, max_size=6,
).map(lambda items: ",".join(
    f"{w}x{h}" if n is None else (f"{w}X{h}x{n}" if isinstance(n, int) else f" {w}x{h}x{n[0]}-{n[1]} ")
    for w, h, n in items))


@given(resolution_text)
def test_resolutions_grammar_is_the_engines(engine_vision: types.ModuleType, text: str) -> None:
    try:
        real = engine_vision.HPUVisionBucketManager._parse_resolutions(text)
    except ValueError:
        with pytest.raises(GaudiVLError):
            parse_resolutions(text)
        return
    ours = parse_resolutions(text)
    assert [(r.width, r.height, r.counts) for r in ours] == real
    assert parse_resolutions(",".join(map(str, ours))) == ours


@pytest.mark.parametrize("text", ["1x2x3x4", "axb", "10x10x0-3", "10x10x5-2", "10x10x-"])
def test_bad_resolutions_are_one_line_errors(engine_vision: types.ModuleType, text: str) -> None:
    with pytest.raises(ValueError):
        engine_vision.HPUVisionBucketManager._parse_resolutions(text)
    with pytest.raises(GaudiVLError, match="VLLM_MULTIMODAL_RESOLUTIONS"):
        parse_resolutions(text)


@given(st.integers(0, 200), st.lists(st.integers(1, 16), min_size=1, max_size=5, unique=True))
def test_greedy_plan_is_the_engines(engine_vision: types.ModuleType, total: int, buckets: list[int]) -> None:
    real = engine_vision.HPUVisionBucketManager.greedy_plan(None, total, buckets)
    assert list(greedy_plan(total, buckets)) == real


@given(st.lists(st.integers(4, 20000), min_size=1, max_size=8), st.sampled_from([14, 16]))
def test_guessed_images_are_the_engines(
    engine_vision: types.ModuleType, buckets: list[int], patch: int,
) -> None:
    manager = engine_vision.HPUVisionBucketManager.__new__(engine_vision.HPUVisionBucketManager)
    manager.multimodal_buckets = sorted(buckets)
    real = list(dict.fromkeys(manager.bucket_to_image_resolution(patch_size=patch)))
    assert list(guessed_images(buckets, patch)) == real


def test_profile_field_reaches_the_facts() -> None:
    assert VLLM_GAUDI.multimodal_models is not None
    assert VLLM_GAUDI.multimodal_models.facts("qwen3_vl").shape_key is ShapeKey.CONCAT_GRIDS
    with pytest.raises(GaudiVLError, match="idefics3") as info:
        VLLM_GAUDI.multimodal_models.facts("idefics3")
    assert "qwen3_vl" in info.value.hint


def test_warm_runs_follow_the_count_rules() -> None:
    """WxH at the limit, WxHxN clamped to it, WxHxN-M every count up to it (hpu_model_runner.py:6084-6091)."""
    facts, rule = model_facts("qwen3_vl"), builtin_model("qwen3-vl-8b").family.image
    runs = warm_entries(facts, rule, (196,), parse_resolutions("640x480,800x600x9,1024x768x2-5"), limit=3)
    explicit = [r for r in runs if r[0] in ((640, 480), (800, 600), (1024, 768))]
    assert explicit == [((640, 480), 3), ((800, 600), 3), ((1024, 768), 2), ((1024, 768), 3)]
    # batch-based: b images of 896 x 896 per bucket, resolutions ignored
    g = model_facts("gemma3")
    assert warm_entries(g, builtin_model("gemma-3-27b").family.image, g.default_buckets,
                        parse_resolutions("640x480"), 4) == tuple(((896, 896), b) for b in (1, 2, 4, 8))


def test_qwen3_default_warmup_lands_where_the_real_processor_puts_its_images() -> None:
    """The guessed warm-up images of the default list, through transformers' Qwen2VLImageProcessor with
    Qwen3-VL's patch 16 and pixel range: the grids gaudi-vl says warm-up compiles."""
    transformers = pytest.importorskip("transformers")
    image_mod = pytest.importorskip("PIL.Image")
    facts, rule = model_facts("qwen3_vl"), builtin_model("qwen3-vl-8b").family.image
    size = {"shortest_edge": rule.min_pixels, "longest_edge": rule.max_pixels}
    proc = transformers.Qwen2VLImageProcessor(size=size, patch_size=16, merge_size=2)
    real = set()
    for w, h in guessed_images(facts.default_buckets, 16):
        grid = proc(images=image_mod.new("RGB", (w, h)), return_tensors="pt")["image_grid_thw"][0].tolist()
        real.add(((grid[1], grid[2]),))
    assert warmed_keys(facts, rule, facts.default_buckets, (), 1) == real


def test_llama4_warmup_is_ten_tiles_per_896_image() -> None:
    """896 x 896 fits a 3 x 3 canvas of 336 (scale 1.125) plus the global tile: 10 tiles per image."""
    facts, rule = model_facts("llama4"), builtin_model("llama-4-scout").family.image
    assert warmed_keys(facts, rule, facts.default_buckets, (), 8) == {10, 20, 40, 80}


def test_mixed_grids_cannot_be_warmed_but_equal_ones_can() -> None:
    facts, rule = model_facts("qwen3_vl"), builtin_model("qwen3-vl-8b").family.image
    (mixed,) = call_keys(facts, rule, [(640, 480), (1920, 1080)], ())
    assert resolution_for_key(rule, mixed) is None
    (same,) = call_keys(facts, rule, [(1920, 1080)] * 3, ())
    res = resolution_for_key(rule, same)
    assert res is not None and res.counts == 3
    assert same in warmed_keys(facts, rule, (196,), (res,), limit=3)


@given(st.lists(st.tuples(st.sampled_from([(64, 32), (96, 64)]), st.integers(1, 12)),
                min_size=1, max_size=10))
def test_compact_keeps_the_warmed_counts(items: list[tuple[tuple[int, int], int]]) -> None:
    single = [WarmResolution(w, h, n) for (w, h), n in items]
    merged = compact(single)
    expand = {((r.width, r.height), n) for r in merged for n in r.warmed_counts(99)}
    assert expand == {((w, h), n) for (w, h), n in items}


def test_limit_flag_is_read_by_vllm_as_the_warmup_count() -> None:
    """vLLM's own config: no --limit-mm-per-prompt leaves no 'image' entry (vllm-gaudi then warms no
    image graph, hpu_model_runner.py:6005-6006); ``{"image": N}`` is count N (a bare WxH's count)."""
    multimodal = pytest.importorskip("vllm.config.multimodal")
    assert multimodal.MultiModalConfig().limit_per_prompt.get("image") is None
    flag, value = VLLM_GAUDI.multimodal_models.limit_flag(3)
    assert flag == "--limit-mm-per-prompt"
    import json

    config = multimodal.MultiModalConfig(limit_per_prompt=json.loads(value))
    assert config.limit_per_prompt["image"].count == 3
