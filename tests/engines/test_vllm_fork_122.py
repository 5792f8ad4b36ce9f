"""FORK_122 (HabanaAI/vllm-fork aice/v1.22.0 @ 17a7946f471f) against facts read in that source.

Citations are ``path:line`` in HabanaAI/vllm-fork at 17a7946f unless marked ``ext:``
(HabanaAI/vllm-hpu-extension branch aice/v1.22.0 @ f5f9ecb7298b, the branch requirements/hpu.txt:10
pins). The branch mixes its neighbours: 1.21's grid padding and one graph per bucket, habana_main's
forced ``min_pixels`` and plain memory split; its own are the four-bucket default list, the window mask
and the lower-cased ``None``.
"""

from __future__ import annotations

import pytest

from gaudi_vl.engines import (
    FORK_121,
    FORK_122,
    FORK_MAIN,
    VLLM_GAUDI,
    ExecutionMode,
    GridRule,
    InstalledEngine,
    Setting,
    WarmupRule,
    get_profile,
    identify,
)
from gaudi_vl.engines.logs import VLLM_FORK_V0
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from tests.engines.plans import BLOCK_BYTES, FREE, RESERVED, UTIL, plan_for

P = FORK_122
RUNNER = "vllm/worker/hpu_model_runner.py"


def test_known_as_its_target() -> None:
    assert get_profile("vllm-fork-1.22") is P
    assert "17a7946f" in P.source and "aice/v1.22.0" in P.source


# ---------------------------------------------------------------- variables and defaults

@pytest.mark.parametrize(("setting", "name", "default"), [
    # VisionBuckets.__init__: os.environ.get('VLLM_MULTIMODAL_BUCKETS', "").lower() (hpu_model_runner.py:112)
    (Setting.BUCKETS, "VLLM_MULTIMODAL_BUCKETS", ""),
    # float(os.environ.get('VLLM_GRAPH_RESERVED_MEM', '0.1')) unless enforce_eager (hpu_worker.py:345-347)
    (Setting.GRAPH_RESERVED_MEM, "VLLM_GRAPH_RESERVED_MEM", "0.1"),
    # ext:features.py:61 Value('fp32_softmax', False, env_var='VLLM_FP32_SOFTMAX'): off for every model
    (Setting.FP32_SOFTMAX, "VLLM_FP32_SOFTMAX", "false"),
    # os.environ.get('VLLM_FP32_SOFTMAX_VISION', 'false') in ['true', '1'] (models/qwen2_5_vl.py:318-320)
    (Setting.FP32_SOFTMAX_VISION, "VLLM_FP32_SOFTMAX_VISION", "false"),
    # get_config().skip_warmup (hpu_model_runner.py:1258; ext:features.py:72) and VisionBuckets (:125-126)
    (Setting.SKIP_WARMUP, "VLLM_SKIP_WARMUP", "false"),
    # README_GAUDI.md:421 documents the bridge's default 0 (torch.compile, :203)
    (Setting.EXECUTION_MODE, "PT_HPU_LAZY_MODE", "0"),
])
def test_reads_variable_with_default(setting: Setting, name: str, default: str) -> None:
    var = P.variable(setting)
    assert var is not None and var.name == name and var.default == default


@pytest.mark.parametrize("setting", [
    # `git grep` at 17a7946f: neither ratio appears under vllm/ (warmup_model, :3556-3656, no longer
    # splits graph memory); VLLM_MULTIMODAL_RESOLUTIONS nowhere.
    Setting.GRAPH_PROMPT_RATIO, Setting.GRAPH_MULTIMODAL_RATIO, Setting.RESOLUTIONS,
])
def test_does_not_read(setting: Setting) -> None:
    assert not P.reads(setting)


def test_plan_env_pins_lazy_mode_and_no_ratio() -> None:
    env = plan_env(plan_for(P.name))
    assert env["PT_HPU_LAZY_MODE"] == "1"  # the only mode modelled; the bridge defaults to 0 (README :203)
    unread = {"VLLM_GRAPH_PROMPT_RATIO", "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO", "VLLM_FP32_SOFTMAX"}
    assert not unread & set(env)


# ---------------------------------------------------------------- buckets

@pytest.mark.parametrize(("text", "expected"), [
    # envvar == "" and not batch based -> [1600, 3136, 4096, 6400] (:116-120): four, not seven
    ("", (1600, 3136, 4096, 6400)),
    ("128,64,128", (64, 128, 128)),  # [int(i) ...] (:122), sorted by _process_buckets (:133), no dedup
    (" 64, 128", (64, 128)),
])
def test_parse_buckets(text: str, expected: tuple[int, ...]) -> None:
    assert P.parse_buckets(text) == expected


def test_default_list_differs_from_both_neighbours() -> None:
    assert P.default_buckets == (1600, 3136, 4096, 6400)
    seven = (1600, 3136, 4096, 6400, 7744, 9216, 12544)
    assert FORK_121.default_buckets == FORK_MAIN.default_buckets == seven


@pytest.mark.parametrize("text", [
    "abc",   # int('abc') (:122)
    "100",   # assert bucket % 8 == 0 (:131)
    "72",    # % 8, not % 64: the dummy image asserts pixel_values.shape[0] % 64 (:3043-3045)
    "0",     # image_h = 0 // 8 = 0, int(0 / 0) (:3024-3026)
    # 'None' (lower-cased, :112-114) is accepted by the engine but gaudi-vl plans buckets
    "None",
])
def test_parse_buckets_refuses(text: str) -> None:
    with pytest.raises(GaudiVLError) as err:
        P.parse_buckets(text)
    assert "\n" not in str(err.value)


def test_none_message_says_what_this_engine_does() -> None:
    """1.22 lower-cases the value (:112): 'None' means no buckets, no vision warm-up (is_mm_run,
    :3145-3147) and every image at its own size without an HPU graph; 1.21 raises ValueError instead."""
    with pytest.raises(GaudiVLError, match="own size"):
        P.parse_buckets("None")
    with pytest.raises(GaudiVLError, match="ValueError"):
        FORK_121.parse_buckets("None")


@pytest.mark.parametrize(("grid", "run"), [
    # pad_multimodal_data_wh: ceil(g / 2 / 4) * 8 per side (models/qwen2_5_vl.py:968-1002), then the bucket
    ((10, 12), (16, 16)),
    ((8, 8), (8, 8)),
    ((2, 66), (8, 72)),
])
def test_grid_sides_padded_up_to_8(grid: tuple[int, int], run: tuple[int, int]) -> None:
    assert P.grid_rule is GridRule.PAD_SIDES_TO_8
    assert P.tower_grid(*grid) == run


def test_run_patches_reach_the_bucket() -> None:
    # 10x12 -> 16x16 = 256 patches -> the first bucket >= 256 (pad_multimodal_data, :1004-1039)
    assert P.run_patches(10, 12, (128, 384)) == 384
    assert P.run_patches(40, 40, (128, 384)) == 1600  # above the largest: its own (8-padded) size


# ---------------------------------------------------------------- warm-up

def test_one_graph_per_bucket_not_under_eager() -> None:
    """_warmup_multimodal_graph: one warmup_scenario per bucket, no memory skip (:3497-3533), only
    `if not self.enforce_eager` (:3622); no separate lazy multimodal pass as on 1.21."""
    assert P.warmup is WarmupRule.ONE_PER_BUCKET and not P.warms_under_eager
    warm = P.warmup_set((4096, 1600, 4096), PixelRange(12544, 4096 * 196))
    assert warm.compiled == (1600, 4096) and warm.never_warmed == ()
    assert plan_for(P.name, enforce_eager=True, user_buckets=(1600, 3136)).warmup.compiled == ()
    assert FORK_121.warms_under_eager


def test_min_pixels_forced() -> None:
    # Qwen2_5_VLProcessingInfo.get_hf_processor: min_pixels = 112 * 112 on HPU
    # (models/qwen2_5_vl.py:1256-1257)
    assert P.min_pixels_override == 112 * 112
    assert plan_for(P.name, min_pixels=401408).pixel_range.min_pixels == 12544
    assert FORK_121.min_pixels_override is None


# ---------------------------------------------------------------- attention and memory

def test_vision_attention() -> None:
    att = P.attention
    assert att is not None
    # full-attention mask: bool outer product on the device (:1208-1209); window mask: float32
    # torch.zeros(N, N) on the CPU, copied to the device, .bool() (:1113-1120, 1051-1052)
    assert att.masks_held == 2 and att.mask_built_in_float and att.mask_on_cpu_above == 0
    # window layers: 16 x 64-patch chunks with a mask slice, concatenated (:321, 396-420)
    assert not att.dense_window_layers and att.window_outputs_concatenated
    # q1.shape[2] <= 65536 -> FusedSDPA, else AttentionLongSequence tiles (:434-438)
    assert att.query_rows(65536) == 65536 and att.query_rows(65537) == 64


def test_kv_blocks_plain_split() -> None:
    # hpu_worker.py:343-366: usable * (1 - R) // block, no rounding, no dummy block
    # 17179869184 / 10^6 -> 17179 (1.21 rounds down to 17152; vllm-gaudi keeps one block back: 17178)
    assert P.memory is not None and FORK_121.memory is not None and VLLM_GAUDI.memory is not None
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES) == 17179
    assert FORK_121.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES) == 17152
    assert P.memory.kv_blocks(FREE, UTIL, RESERVED, BLOCK_BYTES, enforce_eager=True) == 34359


# ---------------------------------------------------------------- flags, fingerprint, logs, mode

def test_flags() -> None:
    assert P.block_size == 128  # vllm/platforms/hpu.py:97-98
    assert P.kv_cache_dtype("fp8") == "fp8_inc"  # vllm/config.py:1467, 1589
    assert P.log_grammar is VLLM_FORK_V0  # same V0 format (hpu_worker.py:355-363)


@pytest.mark.parametrize(("runner", "want"), [
    # the four-bucket default line (:120) and no 1.21 ratio variable
    ("        multimodal_buckets = [1600, 3136, 4096, 6400]\n", FORK_122),
    ("VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO\nmultimodal_buckets = [1600, 3136, 4096, 6400]", FORK_121),
    ("multimodal_buckets = [\n  1600, 3136, 4096, 6400, 7744, 9216, 12544\n]", FORK_MAIN),
])
def test_fingerprint(runner: str, want: object) -> None:
    assert identify(InstalledEngine(frozenset({"vllm"}), {RUNNER: runner})) is want
    assert identify(InstalledEngine(frozenset({"vllm", "vllm_gaudi"}), {RUNNER: runner})) is VLLM_GAUDI


def test_lazy_mode_only() -> None:
    assert [m.mode for m in P.execution_modes] == [ExecutionMode.LAZY]
    # lazy: an unwarmed size bypasses HPU graphs (use_graph, models/qwen2_5_vl.py:1211-1216), as on 1.21;
    # habana_main has no bypass and captures a new graph
    assert "without an HPU graph" in P.execution_modes[0].serving_new_size
    assert "new HPU graph capture" in FORK_MAIN.execution_modes[0].serving_new_size
    with pytest.raises(GaudiVLError, match="lazy mode only"):
        P.execution("compile")
    with pytest.raises(GaudiVLError):
        plan_for(P.name, execution_mode="compile")


def test_end_of_life_note() -> None:
    assert any("end of life from v1.23" in n and "README_GAUDI.md:6" in n for n in P.notes)


def test_window_mask_note() -> None:
    """pre_attn_hpu fills window-mask block i from cu_seqlens[i - 1]:cu_seqlens[i], i from 0: the last
    64-patch block stays False (models/qwen2_5_vl.py:1112-1118; executed by the differential check)."""
    assert any("last 64-patch window" in n and "1112-1118" in n for n in P.notes)
