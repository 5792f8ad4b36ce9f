"""FORK_MAIN (HabanaAI/vllm-fork habana_main @ 95af70093fc0) against facts read in that source.

Citations are ``path:line`` in HabanaAI/vllm-fork at 95af70093fc0 unless marked ``ext:``
(HabanaAI/vllm-hpu-extension). habana_main pins the extension at f1d9275 (requirements/hpu.txt), a
commit the mirror does not hold; ``ext:`` facts are read at the extension's main @ 7717587d1780
(2025-09-25), whose features.py / config.py are the files the profile cites.
"""

from __future__ import annotations

import pytest

from gaudi_vl.engines import FORK_121, FORK_MAIN, InstalledEngine, Setting, identify
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from tests.engines.plans import BLOCK_BYTES, FREE, RESERVED, UTIL, plan_for

P = FORK_MAIN


# ---------------------------------------------------------------- variables and defaults

@pytest.mark.parametrize(("setting", "name", "default"), [
    # VisionBuckets.__init__: os.environ.get('VLLM_MULTIMODAL_BUCKETS', "") (hpu_model_runner.py:118)
    (Setting.BUCKETS, "VLLM_MULTIMODAL_BUCKETS", ""),
    # float(os.environ.get('VLLM_GRAPH_RESERVED_MEM', '0.1')) (hpu_worker.py:295-297)
    (Setting.GRAPH_RESERVED_MEM, "VLLM_GRAPH_RESERVED_MEM", "0.1"),
    # ext:features.py:64 Value('fp32_softmax', ModelType('qwen2')): env var 'VLLM_' + name.upper()
    # (ext:config.py:155), on only for model type qwen2 -> off for qwen2_5_vl
    (Setting.FP32_SOFTMAX, "VLLM_FP32_SOFTMAX", "false"),
    # os.environ.get('VLLM_FP32_SOFTMAX_VISION', 'false') in ['true', '1'] (models/qwen2_5_vl.py:316-318)
    (Setting.FP32_SOFTMAX_VISION, "VLLM_FP32_SOFTMAX_VISION", "false"),
    # self.skip_warmup = get_config().skip_warmup (hpu_model_runner.py:1111); ext:features.py:75
    # Value('skip_warmup', False) -> VLLM_SKIP_WARMUP, parsed by boolean() (ext:config.py:116-118)
    (Setting.SKIP_WARMUP, "VLLM_SKIP_WARMUP", "false"),
    # the bridge's backend; README_GAUDI.md:430 documents 0 (torch.compile, :211)
    (Setting.EXECUTION_MODE, "PT_HPU_LAZY_MODE", "0"),
])
def test_reads_variable_with_default(setting: Setting, name: str, default: str) -> None:
    var = P.variable(setting)
    assert var is not None and var.name == name and var.default == default


@pytest.mark.parametrize("setting", [
    # `git grep` at 95af70093fc0: VLLM_GRAPH_PROMPT_RATIO only in .cd/ (the autocalc scripts), never
    # under vllm/; VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO and VLLM_MULTIMODAL_RESOLUTIONS nowhere.
    Setting.GRAPH_PROMPT_RATIO, Setting.GRAPH_MULTIMODAL_RATIO, Setting.RESOLUTIONS,
])
def test_does_not_read(setting: Setting) -> None:
    assert not P.reads(setting)


def test_plan_exports_no_ratio_and_no_fp32_switch_by_default() -> None:
    env = plan_env(plan_for(P.name))
    assert set(env) <= {*P.variable_names, "GAUDI_VL_ALIGN"}
    for name in ("VLLM_GRAPH_PROMPT_RATIO", "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO",
                 "VLLM_FP32_SOFTMAX", "VLLM_FP32_SOFTMAX_VISION"):
        assert name not in env


# ---------------------------------------------------------------- bucket parsing

@pytest.mark.parametrize(("text", "expected"), [
    ("", (1600, 3136, 4096, 6400, 7744, 9216, 12544)),  # envvar == "" and not batch based (:122-128)
    ("128,64,128", (64, 128, 128)),                     # [int(i) ...] (:130), sorted (:138), no dedup
    (" 64, 128", (64, 128)),
])
def test_parse_buckets(text: str, expected: tuple[int, ...]) -> None:
    assert P.parse_buckets(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    # envvar == 'None' -> multimodal_buckets None (:119-120); is_mm_run() is then False (:2803-2805) so no
    # vision run happens in profiling or graph warm-up, but log_graph_warmup_summary calls
    # len(self.multimodal_buckets) (:3169) after the graph warm-up: TypeError unless --enforce-eager or
    # VLLM_SKIP_WARMUP skip that block (:3223-3225, 3245). gaudi-vl refuses it outright.
    ("None", "None"),
    ("abc", "not an integer"),
    ("100", "multiple of 8"),           # assert bucket % 8 == 0 for non-batch models (:133-137)
    # % 8 but not % 64: the dummy image asserts pixel_values.shape[0] % 64 == 0 (:2708-2710) and
    # pad_multimodal_data asserts padding_len % 64 == 0 (models/qwen2_5_vl.py:976).
    ("72", "multiple of 64"),
])
def test_parse_buckets_refuses(text: str, why: str) -> None:
    with pytest.raises(GaudiVLError) as err:
        P.parse_buckets(text)
    assert why in str(err.value)


def _refuses(text: str) -> bool:
    try:
        P.parse_buckets(text)
    except GaudiVLError:
        return True
    return False


@pytest.mark.parametrize("text", ["0", "64,0", "-64"])
def test_non_positive_bucket_refused(text: str) -> None:
    assert _refuses(text)


# ---------------------------------------------------------------- lookup and trimming

@pytest.mark.parametrize(("patches", "expected"), [
    # get_multimodal_bucket (:140-145): first sorted bucket >= n; above the largest n itself.
    (64, 128), (128, 128), (129, 256), (257, None),
])
def test_bucket_lookup(patches: int, expected: int | None) -> None:
    assert P.bucket_for(patches, (256, 128)) == expected


@pytest.mark.parametrize(("grid", "tower"), [
    # get_image_embeds (models/qwen2_5_vl.py:1068-1107): when the patch total is not a multiple of 64,
    # every side is cut DOWN to a multiple of 8 ((hh // 8) * 8) with an accuracy-degradation warning.
    ((9, 9), (8, 8)),          # 81 % 64 != 0 -> 8 x 8
    ((12, 12), (8, 8)),        # 144 % 64 == 16 -> 8 x 8: 80 patches dropped
    ((10, 30), (8, 24)),       # 300 % 64 != 0
    ((4, 16), (4, 16)),        # 64 % 64 == 0: kept as it is, although 4 is not a multiple of 8
    ((16, 24), (16, 24)),      # 384: kept
    ((24, 40), (24, 40)),      # 960 = 15 * 64: kept
])
def test_grid_trimmed_when_total_not_multiple_of_64(grid: tuple[int, int], tower: tuple[int, int]) -> None:
    assert P.tower_grid(*grid) == tower


def test_run_patches_after_trim() -> None:
    # 12 x 12 = 144 -> 8 x 8 = 64 -> bucket 128; pad_multimodal_data then pads 64 -> 128 (:964-991).
    assert P.run_patches(12, 12, (128, 256)) == 128
    # 20 x 20 = 400 -> 16 x 16 = 256 -> 256, BELOW the untrimmed 400's bucket (512)
    assert P.run_patches(20, 20, (256, 512)) == 256


# ---------------------------------------------------------------- warm-up

def test_warmup_is_one_graph_per_distinct_bucket() -> None:
    # _warmup_multimodal_graph: one warmup_scenario per img_args not yet in graphed_multimodal_buckets
    # (hpu_model_runner.py:3132-3150); dummy grid [1, b/8, 8] (:2699-2703).
    warm = P.warmup_set((256, 64, 256), PixelRange(12544, 12845056))
    assert warm.compiled == (64, 256) and warm.never_warmed == () and warm.above_largest == ()


def test_enforce_eager_warms_no_vision_size() -> None:
    # warmup_model: everything after the skip_warmup return sits under `if not self.enforce_eager:`
    # (:3245); this branch has no lazy multimodal warm-up outside it. Nothing is compiled at start-up.
    plan = plan_for(P.name, enforce_eager=True, user_buckets=(1600, 3136))
    assert plan.warmup.compiled == ()
    assert plan.warmup.never_warmed == (1600, 3136)


# ---------------------------------------------------------------- memory split

def test_kv_blocks_not_rounded() -> None:
    # hpu_worker.py:293-318: blocks = int(usable * (1 - R) // block), no rounding on this branch:
    # 17179869184 / 10^6 -> 17179 (FORK_121 gives 17152 for the same numbers).
    assert P.memory is not None and FORK_121.memory is not None
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES) == 17179
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES, enforce_eager=True) == 34359


def test_block_size() -> None:
    # vllm/platforms/hpu.py:96-97@95af7009: block_size None -> 128
    assert P.block_size == 128


# ---------------------------------------------------------------- vision attention

def test_vision_attention() -> None:
    att = P.attention
    assert att is not None
    # Full layers: create_block_diagonal_attention_mask_outerprod(cu_seqlens)
    # (models/qwen2_5_vl.py:1133-1134):
    # a float32 einsum of [images, N] range indicators, made .bool() (:112-129); on the CPU when
    # range_indices.shape[-1] > 40000, its result copied back with .to("hpu") (:121-126).
    assert att.masks_held == 1
    assert att.mask_built_in_float and att.mask_on_cpu_above == 40000
    # Window layers (fullattn_mask None): 64-patch chunks, FusedSDPA with mask None, torch.cat (:391-414).
    assert not att.dense_window_layers and att.window_outputs_concatenated
    # q1.shape[2] <= 65536 -> FusedSDPA; else AttentionLongSequence with 64-row tiles (:428-433).
    assert att.query_rows(65536) == 65536 and att.query_rows(65537) == 64


# ---------------------------------------------------------------- processor, flags, fingerprint

def test_min_pixels_forced_to_one_window() -> None:
    # Qwen2_5_VLProcessingInfo.get_hf_processor: if current_platform.is_hpu(): min_pixels = 112 * 112
    # (models/qwen2_5_vl.py:1170-1171).
    rng, notes = P.effective_pixel_range(PixelRange(3136, 1003520))
    assert rng == PixelRange(12544, 1003520) and len(notes) == 1
    assert P.effective_pixel_range(PixelRange(12544, 1003520)) == (PixelRange(12544, 1003520), ())
    # a plan for this engine sends the forced value, so the engine and the plan agree
    assert plan_for(P.name, min_pixels=3136).pixel_range.min_pixels == 12544


def test_kv_cache_dtype() -> None:
    # vllm/config.py:1436 CacheDType includes 'fp8_inc'; :1555 the HPU note.
    assert P.kv_cache_dtype("fp8") == "fp8_inc"


def test_fingerprint() -> None:
    # The runner exists but does not read VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO (removed by PR 1178, 6bac2f76).
    runner = {"vllm/worker/hpu_model_runner.py": "class VisionBuckets:"}
    installed = InstalledEngine(frozenset({"vllm"}), runner)
    assert identify(installed) is P
