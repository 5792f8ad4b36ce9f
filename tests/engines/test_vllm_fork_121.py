"""FORK_121 (HabanaAI/vllm-fork aice/v1.21.0 @ 277a33cd907e) against facts read in that source.

Citations are ``path:line`` in HabanaAI/vllm-fork at 277a33cd907e unless marked ``ext:``
(HabanaAI/vllm-hpu-extension branch aice/v1.21.0 @ 8afd25348a28, the branch requirements/hpu.txt:12
pins). Each table row states one fact; its expected value is derived in the comment, not copied
from the profile. ``tools/check_engine_profiles.py`` runs the engine's own functions against the
profile on random inputs; these tests pin the facts without the engine source.
"""

from __future__ import annotations

import pytest

from gaudi_vl.engines import (
    FORK_121,
    FORK_MAIN,
    VLLM_GAUDI,
    VLLM_UPSTREAM,
    InstalledEngine,
    Setting,
    identify,
)
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from tests.engines.plans import BLOCK_BYTES, FREE, RESERVED, UTIL, plan_for

P = FORK_121
DEFAULT_LIST = (1600, 3136, 4096, 6400, 7744, 9216, 12544)  # hpu_model_runner.py:109-111


# ---------------------------------------------------------------- variables and defaults

@pytest.mark.parametrize(("setting", "name", "default"), [
    # DefaultVisionBuckets.__init__: os.environ.get('VLLM_MULTIMODAL_BUCKETS', "") (hpu_model_runner.py:99)
    (Setting.BUCKETS, "VLLM_MULTIMODAL_BUCKETS", ""),
    # determine_num_available_blocks: float(os.environ.get('VLLM_GRAPH_RESERVED_MEM', '0.1'))
    # (hpu_worker.py:336-337)
    (Setting.GRAPH_RESERVED_MEM, "VLLM_GRAPH_RESERVED_MEM", "0.1"),
    # warmup_model: float(os.environ.get('VLLM_GRAPH_PROMPT_RATIO', '0.3')) (hpu_model_runner.py:2871-2872)
    (Setting.GRAPH_PROMPT_RATIO, "VLLM_GRAPH_PROMPT_RATIO", "0.3"),
    # warmup_graphs: float(os.environ.get('VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO', '0.3')) (:2639-2640)
    (Setting.GRAPH_MULTIMODAL_RATIO, "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO", "0.3"),
    # ext:flags.py:165 EnvFlag("VLLM_FP32_SOFTMAX", ModelType('qwen2') | ModelType('qwen2_moe')); the model
    # type is hf_config.model_type (ext:environment.py:52-57, set at hpu_model_runner.py:819) = 'qwen2_5_vl'.
    (Setting.FP32_SOFTMAX, "VLLM_FP32_SOFTMAX", "false"),
    # Qwen2_5_VisionAttention.__init__: os.environ.get('VLLM_FP32_SOFTMAX_VISION', 'false') in ['true', '1']
    # (models/qwen2_5_vl.py:317-319)
    (Setting.FP32_SOFTMAX_VISION, "VLLM_FP32_SOFTMAX_VISION", "false"),
    # HPUModelRunnerBase.__init__: os.environ.get('VLLM_SKIP_WARMUP', 'false').lower() == 'true' (:958-959)
    (Setting.SKIP_WARMUP, "VLLM_SKIP_WARMUP", "false"),
    # the bridge's backend; README_GAUDI.md:386 documents 1 as the default on this line
    (Setting.EXECUTION_MODE, "PT_HPU_LAZY_MODE", "1"),
])
def test_reads_variable_with_default(setting: Setting, name: str, default: str) -> None:
    var = P.variable(setting)
    assert var is not None and var.name == name and var.default == default


def test_does_not_read_resolutions() -> None:
    # `git grep VLLM_MULTIMODAL_RESOLUTIONS 277a33cd907e -- '*.py'`: no hit anywhere in the tree.
    assert not P.reads(Setting.RESOLUTIONS)
    assert "VLLM_MULTIMODAL_RESOLUTIONS" not in plan_env(plan_for(P.name))


def test_plan_exports_both_graph_ratios_and_no_fp32_switch_by_default() -> None:
    env = plan_env(plan_for(P.name))
    # This branch reads both ratios (above), so a plan with a memory plan sets them ...
    assert {"VLLM_GRAPH_PROMPT_RATIO", "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO"} <= set(env)
    # ... but never an fp32 softmax switch the user did not ask for.
    assert "VLLM_FP32_SOFTMAX" not in env and "VLLM_FP32_SOFTMAX_VISION" not in env


def test_multimodal_ratio_is_the_vision_share() -> None:
    """warmup_graphs (hpu_model_runner.py:2638-2649): ``multimodal_avail_mem = ratio * available_mem``
    is what ``_warmup_multimodal_graph(available_mem=multimodal_avail_mem)`` (:2698-2716) captures the
    VISION graphs in; the text prompt graphs get the rest. So the ratio must grow with the vision graphs'
    bytes (the seed's "text share" reading would make it shrink), and ratio * prompt share of the graph
    memory must hold the vision graphs."""
    few = plan_for(P.name, user_buckets=(1600,)).memory
    many = plan_for(P.name, user_buckets=(1600, 3136, 4096, 6400, 7744, 9216, 12544, 16384)).memory
    assert few is not None and many is not None
    assert many.vision_graph_bytes > few.vision_graph_bytes
    assert many.graph_multimodal_ratio > few.graph_multimodal_ratio
    for m in (few, many):
        graph_mem = m.usable_bytes * m.graph_reserved_mem
        assert m.graph_multimodal_ratio * m.graph_prompt_ratio * graph_mem >= m.vision_graph_bytes


def test_skip_warmup_is_written_as_true() -> None:
    # :958-959 compares .lower() == 'true': "1" would NOT skip the warm-up on this branch.
    assert plan_env(plan_for(P.name, skip_warmup=True))["VLLM_SKIP_WARMUP"] == "true"


# ---------------------------------------------------------------- bucket parsing

@pytest.mark.parametrize(("text", "expected"), [
    ("", DEFAULT_LIST),                     # envvar == "" -> _get_default_buckets() (:100-101, 109-111)
    ("64,128", (64, 128)),
    (" 64 , 128 ", (64, 128)),              # int(i) (:103) strips surrounding blanks
    ("1_024", (1024,)),                     # int('1_024') == 1024: Python's int() accepts the underscore
    ("+64", (64,)),                         # and a sign
    ("128,64", (64, 128)),                  # _process_buckets returns sorted(buckets) (:117)
    ("128,64,128", (64, 128, 128)),         # ... without de-duplication
])
def test_parse_buckets(text: str, expected: tuple[int, ...]) -> None:
    assert P.parse_buckets(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("None", "not an integer"),             # no 'None' case on this branch: int('None') -> ValueError (:103)
    ("abc", "not an integer"),              # int('abc') -> ValueError at start-up
    ("64,", "not an integer"),              # int('') -> ValueError
    ("1.5", "not an integer"),
    ("100", "multiple of 8"),               # _process_buckets: assert bucket % 8 == 0 (:113-116)
    ("72", "multiple of 64"),               # 72 % 8 == 0 passes, but the dummy image asserts
                                            # pixel_values.shape[0] % 64 == 0 (:2264-2266) and
                                            # pad_multimodal_data asserts padding_len % 64 == 0
                                            # (models/qwen2_5_vl.py:936): warm-up crashes
])
def test_parse_buckets_refuses(text: str, why: str) -> None:
    with pytest.raises(GaudiVLError) as err:
        P.parse_buckets(text)
    assert why in str(err.value) or (why == "not an integer" and "None" in str(err.value))


def test_refused_bucket_hint_is_the_next_multiple() -> None:
    with pytest.raises(GaudiVLError) as err:
        P.check_buckets([72])
    assert err.value.hint == "use 128"  # the next multiple of 64 above 72


def _refuses(text: str) -> bool:
    try:
        P.parse_buckets(text)
    except GaudiVLError:
        return True
    return False


@pytest.mark.parametrize("text", ["0", "64,0", "-64"])
def test_non_positive_bucket_refused(text: str) -> None:
    assert _refuses(text)


# ---------------------------------------------------------------- lookup and padding

@pytest.mark.parametrize(("patches", "expected"), [
    # get_multimodal_bucket (:119-123): the first sorted bucket >= n, else n itself (no padding).
    (1, 1600), (1600, 1600), (1601, 3136), (3136, 3136), (3137, None),
])
def test_bucket_lookup(patches: int, expected: int | None) -> None:
    assert P.bucket_for(patches, (3136, 1600)) == expected


@pytest.mark.parametrize(("grid", "tower", "run"), [
    # pad_multimodal_data_wh (models/qwen2_5_vl.py:876-910): padded = ceil(g / 2 / 4) * 2 * 4 per side
    # (spatial_merge_size 2, vit_merger_window_size = 112 // 2 // 14 = 4), then the bucket of the
    # PADDED count (:923-924). Buckets (256, 1024):
    ((8, 8), (8, 8), 256),                  # 64 -> bucket 256
    ((10, 12), (16, 16), 256),              # 120 raw, 256 after side padding -> 256
    ((2, 2), (8, 8), 256),                  # even a 2 x 2 grid becomes one whole window
    ((18, 30), (24, 32), 1024),             # 540 raw -> 768 padded -> 1024
    ((30, 30), (32, 32), 1024),             # 900 raw -> 1024 padded -> exactly the bucket
    ((34, 30), (40, 32), 1280),             # 1020 raw would fit 1024, but 1280 padded is above it: own size
])
def test_grid_is_padded_up_to_whole_windows(grid: tuple[int, int], tower: tuple[int, int], run: int) -> None:
    assert P.tower_grid(*grid) == tower
    assert P.run_patches(*grid, (256, 1024)) == run


# ---------------------------------------------------------------- warm-up

def test_warmup_is_one_graph_per_distinct_bucket() -> None:
    # _warmup_multimodal runs every bucket once (:2601-2619); _warmup_multimodal_graph captures one graph
    # per num_patches and skips one already in graphed_multimodal_buckets (:2731-2744); the dummy image
    # has grid [1, b/8, 8] (:2258-2260), padded to exactly b. Duplicates compile once.
    buckets = (4096, 1024, 1024, 64)
    warm = P.warmup_set(buckets, PixelRange(3136, 12845056))
    assert warm.compiled == (64, 1024, 4096)
    assert warm.never_warmed == () and warm.above_largest == () and warm.images == ()


def test_warmup_ignores_the_pixel_range_and_resolutions() -> None:
    # The dummy images are built from the bucket alone (:2256-2266), never through the processor.
    a = P.warmup_set((1600, 3136), PixelRange(12544, 200704), resolutions=((5000, 5000),))
    b = P.warmup_set((1600, 3136), PixelRange(3136, 12845056))
    assert a == b


def test_skip_warmup_compiles_nothing() -> None:
    # warmup_model returns after "Skipping warmup..." (:2825-2827).
    warm = P.warmup_set((1600, 3136), PixelRange(3136, 12845056), skip_warmup=True)
    assert warm.compiled == () and warm.never_warmed == (1600, 3136)


def test_enforce_eager_still_runs_every_bucket_at_warmup() -> None:
    plan = plan_for(P.name, enforce_eager=True, user_buckets=(1600, 3136))
    assert plan.warmup.compiled == (1600, 3136)


# ---------------------------------------------------------------- memory split

def test_kv_blocks_rounded_down_to_the_decode_block_step() -> None:
    # hpu_worker.py:336-363: usable = free * util; KV = usable * (1 - R); blocks = int(KV // block);
    # then blocks // step * step with step = decode_block_bucket_cfg[1] = VLLM_DECODE_BLOCK_BUCKET_STEP,
    # default block_size (ext:bucketing/linear.py:76-78, 186-202) = 128 (vllm/platforms/hpu.py:84-85).
    # KV = 17179869184 bytes = 17179 blocks of 10^6 -> 17179 // 128 * 128 = 134 * 128 = 17152.
    assert P.memory is not None
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES) == 17152
    # enforce_eager -> R = 0 (:336-338): 34359 blocks -> 268 * 128 = 34304.
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES, enforce_eager=True) == 34304


def test_no_graph_memory_under_enforce_eager() -> None:
    assert P.memory is not None
    assert P.memory.graph_reserved(0.4, enforce_eager=True) == 0.0
    assert P.memory.graph_reserved(0.4, enforce_eager=False) == 0.4
    plan = plan_for(P.name, enforce_eager=True)
    assert plan.memory is not None and plan.memory.vision_graph_bytes == 0


def test_block_size() -> None:
    # vllm/platforms/hpu.py:84-85: block_size None -> 128
    assert P.block_size == 128


# ---------------------------------------------------------------- vision attention

def test_vision_attention() -> None:
    att = P.attention
    assert att is not None
    # Full layers: ONE [N, N] bool mask, attention_mask[0,0,:,:] * attention_mask[0,0,0,:].unsqueeze(1),
    # on the device (models/qwen2_5_vl.py:999, 1113-1115); window layers get the [1,1,1,64] slice of the
    # [1,1,1,N] key-padding mask (:410), not a second [N, N] mask.
    assert att.masks_held == 1
    assert not att.mask_built_in_float and att.mask_on_cpu_above is None
    # Window layers: one FusedSDPA per 64-patch chunk (:399-414), outputs concatenated (:417).
    assert not att.dense_window_layers and att.window_outputs_concatenated
    # Full layers: FusedSDPA while q1.shape[2] <= 65536, else AttentionLongSequence, 64-row tiles (:431-436).
    assert att.query_rows(65536) == 65536
    assert att.query_rows(65537) == 64
    # VLLM_FP32_SOFTMAX_VISION default 'false' (:317-319)
    assert att.fp32_softmax_vision_default is False


# ---------------------------------------------------------------- processor, flags, fingerprint

def test_no_min_pixels_override() -> None:
    # Qwen2_5_VLProcessingInfo.get_hf_processor passes min_pixels through (models/qwen2_5_vl.py:1150-1168),
    # and so does qwen2_vl.py:981-1012.
    asked = PixelRange(3136, 1003520)
    assert P.effective_pixel_range(asked) == (asked, ())


def test_kv_cache_dtype() -> None:
    # vllm/config.py:1333 CacheDType includes 'fp8_inc';
    # :1452 "Intel Gaudi (HPU) supports fp8 (using fp8_inc)".
    assert P.kv_cache_dtype("fp8") == "fp8_inc"
    assert P.kv_cache_dtype("auto") is None
    with pytest.raises(GaudiVLError):
        P.kv_cache_dtype("int4")


def test_fp32_softmax_default_off_for_qwen2_5_vl() -> None:
    assert P.fp32_softmax_default is False


def test_fingerprint() -> None:
    # Only this branch's runner reads VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO (hpu_model_runner.py:2640).
    runner = "os.environ.get('VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO', '0.3')"
    installed = InstalledEngine(frozenset({"vllm"}), {"vllm/worker/hpu_model_runner.py": runner})
    assert identify(installed) is P
    assert {FORK_MAIN, VLLM_GAUDI, VLLM_UPSTREAM}.isdisjoint({identify(installed)})
