"""HabanaAI/vllm-fork profiles: the Qwen2.5-VL release line (aice/v1.21.0) and habana_main / v1.22.0.

Every fact below was read in the engine's source; citations are ``path:line@commit`` in
HabanaAI/vllm-fork unless marked ``ext:`` (HabanaAI/vllm-hpu-extension).

- ``FORK_121`` = branch ``aice/v1.21.0`` @ 277a33cd907e (2025-10-24), the line that seed 003 (the
  Qwen2.5-VL on Gaudi guide) documents; it pins ext branch ``aice/v1.21.0`` (@8afd25348a28).
- ``FORK_MAIN`` = ``habana_main`` @ 95af70093fc0 (2025-10-28), also tag v0.9.0.1+Gaudi-1.22.0's line:
  PR 1178 (6bac2f76) removed the graph ratios from it one day after PR 1163 (798b7404) landed Qwen2.5-VL.

Where the docs and the code disagree, the code wins: seed 003 calls
``VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO`` the text share; the only code that reads it
(vllm/worker/hpu_model_runner.py:2638-2650@277a33cd) gives that share to the multimodal (vision)
graphs: ``multimodal_avail_mem = ratio * available_mem``.
"""

from __future__ import annotations

from dataclasses import replace

from gaudi_vl.engines.logs import VLLM_FORK_V0
from gaudi_vl.engines.profile import (
    EngineProfile,
    Fingerprint,
    GridRule,
    MemorySplit,
    SchedulerRule,
    Setting,
    VisionAttention,
    WarmupRule,
    read,
)
from gaudi_vl.engines.text_buckets import EXT_VARIABLES, Generator, TextBucketing, TextStrategy

A = "@277a33cd907e"
H = "@95af70093fc0"

QWEN_DEFAULT_BUCKETS = (1600, 3136, 4096, 6400, 7744, 9216, 12544)
"""``DefaultVisionBuckets._get_default_buckets`` (hpu_model_runner.py:109-111@277a33cd; habana_main
``VisionBuckets`` :126-128@95af7009)."""

_FORK_INSTALL = (
    "on the Gaudi server: git clone -b {branch} https://github.com/HabanaAI/vllm-fork && "
    "pip install -r vllm-fork/requirements-hpu.txt && pip install -e vllm-fork (see requirements-hpu.txt)"
)

FORK_121 = EngineProfile(
    name="vllm-fork-1.21",
    title="HabanaAI/vllm-fork aice/v1.21.0 (Qwen2.5-VL release line)",
    source="HabanaAI/vllm-fork@aice/v1.21.0 (277a33cd907e, 2025-10-24)",
    hpu=True,
    variables=(
        read(Setting.BUCKETS, "", "vllm/worker/hpu_model_runner.py:99-117" + A),
        read(Setting.GRAPH_RESERVED_MEM, "0.1", "vllm/worker/hpu_worker.py:336-338" + A),
        read(Setting.GRAPH_PROMPT_RATIO, "0.3", "vllm/worker/hpu_model_runner.py:2871-2872" + A),
        read(Setting.GRAPH_MULTIMODAL_RATIO, "0.3", "vllm/worker/hpu_model_runner.py:2638-2650" + A),
        read(Setting.FP32_SOFTMAX, "false", "ext:vllm_hpu_extension/flags.py:165@8afd25348a28",
             "fp32 softmax in the language model (default on only for qwen2/qwen2_moe)"),
        read(Setting.FP32_SOFTMAX_VISION, "false", "vllm/model_executor/models/qwen2_5_vl.py:317-319" + A),
        read(Setting.SKIP_WARMUP, "false", "vllm/worker/hpu_model_runner.py:958-959, 2825-2827" + A,
             "skip warm-up: no vision graphs until an image of a bucket's size arrives"),
        # The Habana PyTorch bridge reads it, not vLLM: vllm-gaudi
        # docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b (PATH,DELETE,SIZE_MB)
        read(Setting.RECIPE_CACHE, "", "docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b"),
    ),
    default_buckets=QWEN_DEFAULT_BUCKETS,
    # _process_buckets asserts % 8 (hpu_model_runner.py:113-117); the dummy image then asserts
    # pixel_values.shape[0] % 64 (:2264-2266) in warm-up, and in the profiling run for the largest.
    bucket_assert_multiple=8,
    bucket_crash_multiple=64,
    # the dummy image's grid is [1, b/8, 8]: b // 8 == 0 divides by zero (:2256-2261)
    bucket_minimum=8,
    # warmup_all_buckets -> _warmup_multimodal runs one lazy pass per bucket whatever enforce_eager
    # says; only the graph capture is skipped (:2845-2858)
    warms_under_eager=True,
    # pad_multimodal_data_wh pads grid h and w up to multiples of 8 patches before the bucket
    # lookup (models/qwen2_5_vl.py:876-948); images then always reach the bucket.
    grid_rule=GridRule.PAD_SIDES_TO_8,
    # Per bucket one lazy run (_warmup_multimodal :2601-2619) and one graph capture
    # (_warmup_multimodal_graph :2720-2761), dummy grid [1, b/8, 8] (:2258-2260): one size per bucket.
    warmup=WarmupRule.ONE_PER_BUCKET,
    warmup_aspect_ratios=(),
    warmup_cited="vllm/worker/hpu_model_runner.py:2601-2619, 2720-2761, 2258-2260" + A,
    # No override: qwen2_5_vl.py:1150-1168 and qwen2_vl.py:981-1012 pass the user's kwargs through.
    min_pixels_override=None,
    block_size=128,  # vllm/platforms/hpu.py:84-85@277a33cd (the engine's own default, made explicit)
    fp32_softmax_default=False,
    attention=VisionAttention(
        # ONE [1,1,N,N] bool mask: attention_mask[0,0,:,:] * attention_mask[0,0,0,:].unsqueeze(1)
        # on the device (models/qwen2_5_vl.py:1113-1115, mask made bool at :999).
        masks_held=1,
        # Window layers: one FusedSDPA per 64-patch chunk with a [1,1,1,64] key mask, outputs
        # concatenated (:392-417).
        dense_window_layers=False,
        window_outputs_concatenated=True,
        mask_built_in_float=False,
        mask_on_cpu_above=None,
        # FusedSDPA while q1.shape[2] <= 65536, else 64-row query tiles (:431-436).
        query_tiled_from=65537,
        cited="vllm/model_executor/models/qwen2_5_vl.py:392-437, 999, 1113-1115" + A,
    ),
    memory=MemorySplit(
        graph_reserved_default=0.1,
        dummy_blocks=0,
        # blocks rounded down to VLLM_DECODE_BLOCK_BUCKET_STEP, default block_size 128
        # (hpu_worker.py:361-363; ext:vllm_hpu_extension/bucketing/linear.py:76-78@8afd25348a28).
        block_round=128,
        cited="vllm/worker/hpu_worker.py:333-363" + A,
    ),
    kv_cache_dtypes=(("fp8", "fp8_inc"),),  # vllm/config.py:1333, 1452 (HPU: fp8 via fp8_inc)
    fingerprint=Fingerprint(
        modules=("vllm",), absent=("vllm_gaudi",),
        marker_file="vllm/worker/hpu_model_runner.py", marker="VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO",
    ),
    install_hint=_FORK_INSTALL.format(branch="aice/v1.21.0"),
    log_grammar=VLLM_FORK_V0,
    # V0 turns chunked prefill off for multimodal models (engine/arg_utils.py:1427-1430); the
    # scheduler then refuses max_num_batched_tokens < max_model_len or < max_num_seqs at start-up
    # (config.py:2100-2115, SchedulerConfig._verify_args).
    scheduler=SchedulerRule(
        batched_covers_model_len=True, batched_covers_seqs=True,
        cited="vllm/config.py:2100-2115, vllm/engine/arg_utils.py:1427-1430" + A,
    ),
    notes=(
        ("VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO is the vision share of prompt graph memory in the code "
         "(hpu_model_runner.py:2638-2650@277a33cd), not the text share the Qwen2.5-VL guide describes"),
    ),
    text_buckets=TextBucketing(
        # get_bucketing_context (ext: bucketing/common.py:41-50@8afd25348a28): linear unless
        # VLLM_EXPONENTIAL_BUCKETING=true; the runner builds it at hpu_model_runner.py:882-888.
        generator=Generator.EXT_2D,
        default_strategy=TextStrategy.LINEAR,
        strategy_variable="VLLM_EXPONENTIAL_BUCKETING",
        # max_num_prefill_seqs defaults to max_num_seqs (hpu_model_runner.py:834-837)
        prompt_bs_follows_max_num_seqs=True,
        # ext: exponential.py:376-377 reads VLLM_CONTIGUOUS_PA, default 'true'
        contiguous_pa=True,
        # warmup_graphs skips prompt graphs with bs*seq > max_seq_len_to_capture (:2671-2673),
        # default 8192 (vllm/config.py:301)
        capture_tokens_limit=8192,
        # a graph is captured only while the estimate fits the memory left (:2675-2678)
        capture_gated_by_memory=True,
        # warmup_all_buckets compiles every prompt and decode bucket first (:2851-2856)
        compiles_every_bucket=True,
        variables=EXT_VARIABLES,
        cited=("ext:vllm_hpu_extension/bucketing/linear.py:51-292, exponential.py:53-390@8afd25348a28; "
               "vllm/worker/hpu_model_runner.py:834-888, 2621-2718, 2785-2962" + A),
    ),
)

FORK_MAIN = replace(
    FORK_121,
    name="vllm-fork",
    title="HabanaAI/vllm-fork habana_main / v1.22.0",
    source="HabanaAI/vllm-fork@habana_main (95af70093fc0, 2025-10-28)",
    variables=(
        read(Setting.BUCKETS, "", "vllm/worker/hpu_model_runner.py:111-137" + H),
        read(Setting.GRAPH_RESERVED_MEM, "0.1", "vllm/worker/hpu_worker.py:295-297" + H),
        # habana_main pins the extension at f1d9275 (requirements/hpu.txt), not in the mirror;
        # read at the extension's main @7717587d1780 (2025-09-25)
        read(Setting.FP32_SOFTMAX, "false",
             "ext:vllm_hpu_extension/features.py:64, config.py:155@7717587d1780",
             "fp32 softmax in the language model (default on only for qwen2)"),
        read(Setting.FP32_SOFTMAX_VISION, "false", "vllm/model_executor/models/qwen2_5_vl.py:316-318" + H),
        read(Setting.SKIP_WARMUP, "false", "vllm/worker/hpu_model_runner.py:1111, 3223-3225" + H
             + "; ext:vllm_hpu_extension/features.py:75@7717587d1780"),
        # The Habana PyTorch bridge reads it, not vLLM: vllm-gaudi
        # docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b (PATH,DELETE,SIZE_MB)
        read(Setting.RECIPE_CACHE, "", "docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b"),
    ),
    # _process_buckets asserts % 8 (:133-137); pad_multimodal_data asserts the image and the padding
    # are multiples of 64 (models/qwen2_5_vl.py:962, 976): a bucket % 64 != 0 crashes warm-up.
    bucket_assert_multiple=8,
    bucket_crash_multiple=64,
    bucket_minimum=8,  # the dummy image divides by image_h = b // 8 (hpu_model_runner.py:2699-2706)
    warms_under_eager=False,  # warm-up returns under enforce_eager (hpu_model_runner.py:3245)
    # get_image_embeds trims every grid side down to a multiple of 8 when the batch's patch total is
    # not a multiple of 64 (models/qwen2_5_vl.py:1068-1107), warning of accuracy degradation.
    grid_rule=GridRule.TRIM_SIDES_TO_8,
    warmup=WarmupRule.ONE_PER_BUCKET,
    warmup_cited="vllm/worker/hpu_model_runner.py:2699-2703, 3121-3160" + H,
    min_pixels_override=112 * 112,  # models/qwen2_5_vl.py:1170-1171@95af7009 (on HPU)
    attention=VisionAttention(
        # Full layers: ONE [1,1,N,N] mask from create_block_diagonal_attention_mask_outerprod,
        # a float32 einsum made bool, on the CPU above 40000 patches (models/qwen2_5_vl.py:112-130,
        # 1133-1134); window layers: 64-patch chunks, mask None, concatenated (:391-414).
        masks_held=1,
        dense_window_layers=False,
        window_outputs_concatenated=True,
        mask_built_in_float=True,
        mask_on_cpu_above=40000,
        query_tiled_from=65537,  # q1.shape[2] <= 65536 -> FusedSDPA, else tiles (:428-433)
        cited="vllm/model_executor/models/qwen2_5_vl.py:112-130, 388-434, 1133-1134" + H,
    ),
    memory=MemorySplit(
        graph_reserved_default=0.1, dummy_blocks=0, block_round=1,  # no rounding (hpu_worker.py:314-318)
        cited="vllm/worker/hpu_worker.py:293-318" + H,
    ),
    kv_cache_dtypes=(("fp8", "fp8_inc"),),  # vllm/config.py:1436, 1555@95af7009
    fingerprint=Fingerprint(
        modules=("vllm",), absent=("vllm_gaudi",),
        marker_file="vllm/worker/hpu_model_runner.py", marker_absent="VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO",
    ),
    install_hint=_FORK_INSTALL.format(branch="habana_main"),
    scheduler=SchedulerRule(  # same rule, same V0 default (chunked prefill off for multimodal)
        batched_covers_model_len=True, batched_covers_seqs=True,
        cited="vllm/config.py:2221-2236, vllm/engine/arg_utils.py:1513-1516" + H,
    ),
    notes=(
        ("vllm-fork habana_main reads neither VLLM_GRAPH_PROMPT_RATIO nor "
         "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO (removed by PR 1178): they are not exported"),
        ("text buckets for habana_main follow vllm-hpu-extension aice/v1.21.0 (@8afd25348a28): its pin "
         "f1d9275 (requirements/hpu.txt@95af7009) is in no mirror"),
    ),
)
