"""VLLM_GAUDI (vllm-project/vllm-gaudi main @ 091bbadda10b) against facts read in that source.

Citations are ``path:line`` in vllm-project/vllm-gaudi at 091bbadda10b. Where a test runs images
through a processor, the processor is the real one (transformers' ``Qwen2VLImageProcessor``, or
gaudi-vl's aligned subclass when the alignment plugin is on), as the engine's warm-up does
(v1/worker/hpu_model_runner.py:5843-5854, 5873-5908: raw solid images through ``processor.apply``).
"""

from __future__ import annotations

import pytest

from gaudi_vl.assembly import warmup_fill
from gaudi_vl.command import server_argv
from gaudi_vl.engines import FORK_121, VLLM_GAUDI, InstalledEngine, Setting, identify
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from gaudi_vl.plan import Resolution
from tests.engines.plans import BLOCK_BYTES, FREE, RESERVED, UTIL, plan_for

P = VLLM_GAUDI
# MULTIMODAL_CONFIG['qwen2_5_vl'] (extension/bucketing/vision.py:22-25)
DEFAULT_LIST = (1600, 3136, 4096, 6400, 7744, 9216, 12544)
FORCED_MIN = 112 * 112  # HPUQwen2_5_VLProcessingInfo.get_hf_processor (models/qwen2_5_vl.py:464)


# ---------------------------------------------------------------- variables and defaults

@pytest.mark.parametrize(("setting", "name", "default"), [
    # HPUVisionBucketManager.__init__ (extension/bucketing/vision.py:85, 96)
    (Setting.BUCKETS, "VLLM_MULTIMODAL_BUCKETS", ""),
    (Setting.RESOLUTIONS, "VLLM_MULTIMODAL_RESOLUTIONS", ""),
    # float(os.environ.get('VLLM_GRAPH_RESERVED_MEM', '0.1')) (v1/worker/hpu_worker.py:410)
    (Setting.GRAPH_RESERVED_MEM, "VLLM_GRAPH_RESERVED_MEM", "0.1"),
    # Value('fp32_softmax', Any(ModelType('qwen2'), ModelType('qwen2_5_vl'))) (extension/features.py:85),
    # env var 'VLLM_' + name.upper() (extension/config.py:181): ON for Qwen2.5-VL by default.
    (Setting.FP32_SOFTMAX, "VLLM_FP32_SOFTMAX", "true"),
    # HPU_Attention.softmax_mode: os.environ.get('VLLM_FP32_SOFTMAX_VISION', 'false') in ['true', '1']
    # (models/qwen2_5_vl.py:70-72)
    (Setting.FP32_SOFTMAX_VISION, "VLLM_FP32_SOFTMAX_VISION", "false"),
    # Value('skip_warmup', False) (extension/features.py:95); runner :1265, :6218-6220
    (Setting.SKIP_WARMUP, "VLLM_SKIP_WARMUP", "false"),
    # the bridge's backend; docs/configuration/env_variables.md:80 documents 0 (torch.compile)
    (Setting.EXECUTION_MODE, "PT_HPU_LAZY_MODE", "0"),
])
def test_reads_variable_with_default(setting: Setting, name: str, default: str) -> None:
    var = P.variable(setting)
    assert var is not None and var.name == name and var.default == default


@pytest.mark.parametrize("setting", [Setting.GRAPH_PROMPT_RATIO, Setting.GRAPH_MULTIMODAL_RATIO])
def test_does_not_read_graph_ratios(setting: Setting) -> None:
    # `git grep` at 091bbadda10b: neither name appears in any .py file of the plugin.
    assert not P.reads(setting)


def test_plan_keeps_the_fp32_softmax_default() -> None:
    """The issue's regression: exporting VLLM_FP32_SOFTMAX=0 by default turned OFF this engine's default
    fp32 softmax for Qwen2.5-VL (features.py:85). A plan writes it only when asked."""
    assert P.fp32_softmax_default is True
    env = plan_env(plan_for(P.name))
    assert "VLLM_FP32_SOFTMAX" not in env and "VLLM_FP32_SOFTMAX_VISION" not in env
    assert not {"VLLM_GRAPH_PROMPT_RATIO", "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO"} & set(env)
    assert plan_env(plan_for(P.name, fp32_softmax=False))["VLLM_FP32_SOFTMAX"] == "false"
    # boolean() (extension/config.py:135-137) reads 'true' as True
    assert plan_env(plan_for(P.name, fp32_softmax_vision=True))["VLLM_FP32_SOFTMAX_VISION"] == "true"


# ---------------------------------------------------------------- bucket parsing

@pytest.mark.parametrize(("text", "expected"), [
    ("", DEFAULT_LIST),                 # envvar == "" -> config['buckets'] (vision.py:90-91)
    ("128,64,128", (64, 128, 128)),     # [int(x) ...] (:93); _process_buckets only sorts (:158-161)
    ("72", (72,)),                      # no multiple-of-8 or -64 check, and none needed: pad rows are
    ("100", (100,)),                    # appended to any count (models/qwen2_5_vl.py:396-413)
])
def test_parse_buckets(text: str, expected: tuple[int, ...]) -> None:
    assert P.parse_buckets(text) == expected


@pytest.mark.parametrize("text", [
    # 'None' -> multimodal_buckets None (vision.py:87-88), then warm-up calls len(buckets) on it
    # (v1/worker/hpu_model_runner.py:6034) and every image crops its rotary table to zero rows
    # (models/qwen2_5_vl.py:397-398, 413: bucket 0, F.pad by a negative count).
    "None",
    "abc",                              # int('abc') -> ValueError (vision.py:93)
    "64,",
])
def test_parse_buckets_refuses(text: str) -> None:
    with pytest.raises(GaudiVLError):
        P.parse_buckets(text)


def _refuses(text: str) -> bool:
    try:
        P.parse_buckets(text)
    except GaudiVLError:
        return True
    return False


@pytest.mark.parametrize("text", ["0", "3", "64,1", "-8"])
def test_bucket_the_warmup_cannot_guess_refused(text: str) -> None:
    assert _refuses(text)


# ---------------------------------------------------------------- lookup and padding

@pytest.mark.parametrize(("grid", "run"), [
    # get_image_embeds: bucket_size = get_multimodal_bucket(curr_img_size) (models/qwen2_5_vl.py:397;
    # vision.py:163-168), pad rows appended to reach it (:398-413): the grid itself is kept.
    ((10, 12), 128),     # 120 -> 128
    ((2, 64), 128),      # 128 -> 128
    ((12, 12), 256),     # 144 -> 256
    ((20, 20), 400),     # 400 > 256: its own size, unpadded
])
def test_any_grid_padded_to_its_bucket(grid: tuple[int, int], run: int) -> None:
    assert P.tower_grid(*grid) == grid
    assert P.run_patches(*grid, (128, 256)) == run


# ---------------------------------------------------------------- warm-up

def test_guessed_images_for_one_bucket() -> None:
    """bucket_to_image_resolution (vision.py:262-285), bucket 1600, patch_size 14: grid_h = int(1600**0.5)
    = 40, height 560; width = int(560 * rw / rh); grid_w = width // 14 rounded UP to even."""
    assert P.guessed_warmup_images((1600,)) == (
        (560, 560),     # 1:1   -> 560 // 14 = 40
        (756, 560),     # 4:3   -> int(746.67) = 746 -> 53 -> 54 -> 756
        (420, 560),     # 3:4   -> 420 -> 30
        (1008, 560),    # 16:9  -> int(995.56) = 995 -> 71 -> 72 -> 1008
        (308, 560),     # 9:16  -> 315 -> 22 -> 308
    )


def test_guessed_images_deduplicated_in_order() -> None:
    # int(1664**0.5) = 40: the same five images as bucket 1600; dict.fromkeys keeps the first
    # (v1/worker/hpu_model_runner.py:6040).
    assert P.guessed_warmup_images((1600, 1664)) == P.guessed_warmup_images((1600,))


def _processor_sizes(images: tuple[tuple[int, int], ...], lo: int, hi: int, buckets: tuple[int, ...],
                     align: bool) -> set[int]:
    """The sizes the tower runs at for ``images`` through the real processor, bucketed as the engine does."""
    pytest.importorskip("transformers")
    from PIL import Image
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    from gaudi_vl.processor import GaudiQwen2VLImageProcessor

    cls = GaudiQwen2VLImageProcessor if align else Qwen2VLImageProcessor
    proc = cls(size={"shortest_edge": lo, "longest_edge": hi})
    out = set()
    for w, h in images:
        t, gh, gw = proc(images=[Image.new("RGB", (w, h), color=255)])["image_grid_thw"][0].tolist()
        n = t * gh * gw
        out.add(next((b for b in sorted(buckets) if n <= b), n))
    return out


def test_default_buckets_with_the_model_maximum() -> None:
    """The issue's example: max_pixels 12845056, the default buckets, the stock 28-px processor with
    min_pixels forced to 12544: 35 distinct guessed images compile 11 sizes, four of them above the
    largest bucket (e.g. 16:9 of bucket 12544: 2800 x 1568 px = 200 x 112 = 22400 patches)."""
    rng = PixelRange(FORCED_MIN, 12845056)
    warm = P.warmup_set(DEFAULT_LIST, rng, align=False)
    assert len(warm.images) == 35
    assert warm.compiled == (*DEFAULT_LIST, 13728, 16320, 16800, 22400)
    assert warm.above_largest == (13728, 16320, 16800, 22400)
    assert warm.never_warmed == ()
    assert set(warm.compiled) == _processor_sizes(warm.images, FORCED_MIN, 12845056, DEFAULT_LIST, False)


@pytest.mark.parametrize(("max_pixels", "warmed"), [
    # max_pixels 1024 patches: every guessed image is scaled down into bucket 1600.
    (1024 * 196, (1600,)),
    # 5120 patches: the guesses of 7744 and up are scaled down into 6400 or below.
    (5120 * 196, (1600, 3136, 4096, 6400)),
])
def test_small_max_pixels_leaves_buckets_unwarmed(max_pixels: int, warmed: tuple[int, ...]) -> None:
    warm = P.warmup_set(DEFAULT_LIST, PixelRange(FORCED_MIN, max_pixels), align=False)
    assert warm.compiled == warmed
    assert warm.never_warmed == tuple(b for b in DEFAULT_LIST if b not in warmed)
    assert set(warm.compiled) == _processor_sizes(warm.images, FORCED_MIN, max_pixels, DEFAULT_LIST, False)


@pytest.mark.parametrize("align", [False, True])
def test_reachable_bucket_never_warmed_and_resolutions_fill_it(align: bool) -> None:
    """Buckets (1600, 1664, 3136): 1664's guesses are 1600's (int(1664**0.5) = 40), which land in 1600
    and 3136, so a real image of 1601-1664 patches compiles while serving. VLLM_MULTIMODAL_RESOLUTIONS
    adds raw images to the same warm-up (vision.py:96, 99-143; runner :6016-6018, 6040)."""
    buckets, rng = (1600, 1664, 3136), PixelRange(FORCED_MIN, 3136 * 196)
    warm = P.warmup_set(buckets, rng, align=align)
    assert warm.never_warmed == (1664,)
    assert set(warm.compiled) == _processor_sizes(warm.images, *_lo_hi(rng), buckets, align)
    fill = warmup_fill(P, buckets, rng, align=align)
    assert set(fill) == {1664}
    res = fill[1664]
    assert _processor_sizes(((res.width, res.height),), *_lo_hi(rng), buckets, align) == {1664}
    warm2 = P.warmup_set(buckets, rng, align=align, resolutions=((res.width, res.height),))
    assert warm2.never_warmed == () and 1664 in warm2.compiled


def _lo_hi(rng: PixelRange) -> tuple[int, int]:
    return rng.min_pixels, rng.max_pixels


def test_no_compiled_size_the_attention_refuses() -> None:
    # bucket 65536: grid_h 256, height 3584; 16:9 -> 6384 x 3584 px, scaled by smart_resize (factor 28) to
    # 238 x 426 = 101388 patches (max_pixels 20,000,000): above the bucket, 101388 % 64 == 12.
    warm = P.warmup_set((65536,), PixelRange(FORCED_MIN, 20_000_000), align=False)
    assert 101388 not in warm.compiled
    assert all(n < 65536 or n % 64 == 0 for n in warm.compiled)


def test_resolutions_only_for_the_engine_that_reads_them() -> None:
    rng = PixelRange(FORCED_MIN, 3136 * 196)
    assert warmup_fill(FORK_121, (1600, 1664, 3136), rng, align=True) == {}


def test_skip_warmup() -> None:
    # warmup_model returns after "Skipping warmup..." (runner :6218-6220)
    warm = P.warmup_set(DEFAULT_LIST, PixelRange(FORCED_MIN, 12845056), skip_warmup=True)
    assert warm.compiled == () and warm.never_warmed == DEFAULT_LIST


def test_image_warmup_needs_an_image_limit_and_plans_pass_one() -> None:
    """warmup_multimodal_graphs warms images only when limit_per_prompt has an "image" entry
    (runner :6005-6006, 6058-6061); vLLM's MultiModalConfig.limit_per_prompt is empty unless
    --limit-mm-per-prompt is given (vllm 0.32.0 config/multimodal.py:307-309). The profile's warm-up set
    holds only because the plan's command always passes it."""
    argv = server_argv(plan_for(P.name, images_per_prompt=2))
    limit = argv[argv.index("--limit-mm-per-prompt") + 1]
    assert limit == '{"image":2}'


def test_enforce_eager_still_warms_the_guessed_sizes() -> None:
    eager = plan_for(P.name, enforce_eager=True, user_buckets=(1600, 3136))
    graphs = plan_for(P.name, user_buckets=(1600, 3136))
    assert eager.warmup.compiled == graphs.warmup.compiled != ()


def test_one_image_resolution_is_written_with_its_count() -> None:
    # vision.py:124-139: 'WxH' -> (w, h, None); 'WxHxN' -> (w, h, N)
    assert str(Resolution(728, 448, 1)).lower().split("x")[2:] == ["1"]


# ---------------------------------------------------------------- memory split

def test_kv_blocks_less_one_dummy_block() -> None:
    # v1/worker/hpu_worker.py:409-441, 510: available = usable * (1 - R) - one KV block
    # (dummy_block_headroom = single_kv_block_size_bytes, :422); vLLM divides by the block bytes.
    # (17179869184 - 10^6) / 10^6 = 17178.87 -> 17178.
    assert P.memory is not None
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES) == 17178
    # enforce_eager -> R = 0 (:410-411): (34359738368 - 10^6) / 10^6 -> 34358
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES, enforce_eager=True) == 34358


def test_block_size() -> None:
    # platform.py:155-156: not user-specified -> 128
    assert P.block_size == 128


# ---------------------------------------------------------------- vision attention

def test_vision_attention() -> None:
    att = P.attention
    assert att is not None
    # get_image_embeds builds a full AND a window [N, N] mask (models/qwen2_5_vl.py:429-430) and every
    # layer runs one FusedSDPA over all N patches with one of them (:341-357, 137-179).
    assert att.masks_held == 2
    assert att.dense_window_layers and not att.window_outputs_concatenated
    # create_block_diagonal_attention_mask: float32 einsum, .bool(); CPU when shape[-1] > 40000 (:86-102)
    assert att.mask_built_in_float and att.mask_on_cpu_above == 40000
    # HPU_Attention.forward: q_len < 65536 -> FusedSDPA, else 64-row tiles (:79-83): tiled FROM 65536,
    # one patch earlier than the fork (> 65536).
    assert att.query_rows(65535) == 65535 and att.query_rows(65536) == 64
    assert FORK_121.attention is not None and FORK_121.attention.query_rows(65536) == 65536


# ---------------------------------------------------------------- processor, flags, fingerprint

def test_min_pixels_forced_to_one_window() -> None:
    rng, notes = P.effective_pixel_range(PixelRange(3136, 1003520))
    assert rng.min_pixels == FORCED_MIN and len(notes) == 1
    assert plan_for(P.name, min_pixels=401408).pixel_range.min_pixels == FORCED_MIN


def test_kv_cache_dtype() -> None:
    # platform.py:467-468: is_kv_cache_dtype_supported -> kv_cache_dtype == "fp8_inc"
    assert P.kv_cache_dtype("fp8") == "fp8_inc"


def test_fingerprint() -> None:
    # The plugin installs the vllm_gaudi package beside upstream vllm; it wins over any runner file.
    fork_runner = {"vllm/worker/hpu_model_runner.py": "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO"}
    assert identify(InstalledEngine(frozenset({"vllm", "vllm_gaudi"}))) is P
    assert identify(InstalledEngine(frozenset({"vllm", "vllm_gaudi"}), fork_runner)) is P
