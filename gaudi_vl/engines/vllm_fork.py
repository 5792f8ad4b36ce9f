"""HabanaAI/vllm-fork profiles: the Qwen2.5-VL release lines (aice/v1.21.0, aice/v1.22.0) and habana_main.

Every fact below was read in the engine's source; citations are ``path:line@commit`` in
HabanaAI/vllm-fork unless marked ``ext:`` (HabanaAI/vllm-hpu-extension).

- ``FORK_121`` = branch ``aice/v1.21.0`` @ 277a33cd907e (2025-10-24), the line that seed 003 (the
  Qwen2.5-VL on Gaudi guide) documents; it pins ext branch ``aice/v1.21.0`` (@8afd25348a28).
- ``FORK_MAIN`` = ``habana_main`` @ 95af70093fc0 (2025-10-28), also tag v0.9.0.1+Gaudi-1.22.0's line:
  PR 1178 (6bac2f76) removed the graph ratios from it one day after PR 1163 (798b7404) landed Qwen2.5-VL.
  It pins ext f1d9275 (requirements/hpu.txt:10), which the mirror lacks; its text buckets follow ext
  main @7717587d1780, the nearest earlier commit held (a stated assumption).
- ``FORK_122`` = branch ``aice/v1.22.0`` @ 17a7946f471f (2025-11-19), the release line after 1.21 (it
  branched from habana_main's 0.9.0.1 rebase 4d5ee6c6, not from aice/v1.21.0); it pins ext branch
  ``aice/v1.22.0`` (@f5f9ecb7298b). The fork reaches end of life from v1.23 and is deprecated in v1.24;
  vllm-gaudi is the engine to move to (README_GAUDI.md:6@95af7009).

Execution mode: every fork profile models lazy mode (HPU graphs) only and its plans pin
``PT_HPU_LAZY_MODE=1``, because the Gaudi software's own default is torch.compile from release 1.21.0
(README_GAUDI.md:203@17a7946f), which the fork calls experimental (README_GAUDI.md:164@277a33cd) and
gaudi-vl does not model for the fork (``--target vllm-gaudi`` models both modes).

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
    EnvVar,
    ExecutionMode,
    Fingerprint,
    GridRule,
    MemorySplit,
    ModeFacts,
    SchedulerRule,
    Setting,
    VisionAttention,
    WarmupRule,
    read,
)
from gaudi_vl.engines.text_buckets import (
    EXT_MANAGER_VARIABLES,
    EXT_VARIABLES,
    Generator,
    TextBucketing,
    TextStrategy,
)

A = "@277a33cd907e"
H = "@95af70093fc0"
V = "@17a7946f471f"

QWEN_DEFAULT_BUCKETS = (1600, 3136, 4096, 6400, 7744, 9216, 12544)
"""``DefaultVisionBuckets._get_default_buckets`` (hpu_model_runner.py:109-111@277a33cd; habana_main
``VisionBuckets`` :126-128@95af7009)."""

_FORK_INSTALL = (
    "on the Gaudi server: git clone -b {branch} https://github.com/HabanaAI/vllm-fork && "
    "pip install -r vllm-fork/requirements-hpu.txt && pip install -e vllm-fork (see requirements-hpu.txt)"
)


def _fork_lazy(wrap: str, embed: str, worker: str, commit: str, new_size: str) -> ModeFacts:
    """Lazy mode on a fork branch: the Qwen2.5-VL tower is wrapped in its own HPU graph when
    ``is_lazy()`` (``wrap``); the vision embedding runs with ``PT_COMPILE_ONLY_MODE`` forced off, so
    its warm-up executes (``embed``); ``VLLM_GRAPH_RESERVED_MEM`` is read with no mode test (``worker``)."""
    return ModeFacts(
        mode=ExecutionMode.LAZY,
        lazy_mode_value="1",
        hpu_graphs=True,
        graph_reserved_applies=True,
        vision_warmup_compile_only=False,
        serving_new_size=new_size,
        cited=f"vllm/worker/hpu_model_runner.py:{wrap}, {embed}; vllm/worker/hpu_worker.py:{worker}{commit}",
    )


def _mode_var(cited: str, default: str = "1") -> EnvVar:
    """``PT_HPU_LAZY_MODE``: read by the Habana bridge; the fork branches on ``is_lazy()`` (``cited``).
    ``default`` as that branch's guide documents it; plans always write it (module docstring)."""
    return read(Setting.EXECUTION_MODE, default, cited)


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
        _mode_var("README_GAUDI.md:386; vllm/worker/hpu_model_runner.py:367" + A),
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
    execution_modes=(_fork_lazy(
        "367-376", "552-556", "336-338", A,
        "one lazy graph compile, run without an HPU graph (bypass_hpu_graphs: models/qwen2_5_vl.py:1117-1122"
        + A + ")",
    ),),
    buckets_none="int('none') raises ValueError at start-up (hpu_model_runner.py:99-103@277a33cd)",
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
        # README_GAUDI.md:430 documents 0 (:211: torch.compile is the default from Gaudi software 1.21.0)
        _mode_var("README_GAUDI.md:430, 211; vllm/worker/hpu_model_runner.py:368" + H, default="0"),
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
        # requirements/hpu.txt:10@95af7009 pins f1d9275 (vllm-fork PR 2021, 2025-10-14, for extension PR
        # 374); the mirror's extension main ends at 7717587d (2025-09-25, PR 371)
        ("text buckets for habana_main follow vllm-hpu-extension main @7717587d1780, the last commit "
         "before its pin f1d9275 (requirements/hpu.txt:10@95af7009) that the mirror holds: an assumption"),
        # hpu_model_runner.py:1415-1416, 3059-3119, 3245-3291@95af7009
        ("vllm-fork habana_main warms exponential text buckets unless VLLM_EXPONENTIAL_BUCKETING=false "
         "(its VLLM_PROMPT_*/VLLM_DECODE_* ranges apply only then) and graphs every one, with no memory "
         "check and no token limit: the graph reserve is planned to hold them all"),
    ),
    execution_modes=(_fork_lazy(
        "368-372", "673", "295-297", H,
        "one lazy graph compile and a new HPU graph capture (no bypass_hpu_graphs in models/qwen2_5_vl.py"
        + H + ")",
    ),),
    buckets_none=("no vision warm-up then runs, and its summary calls len(None) (hpu_model_runner.py:3169"
                  + H + ")"),
    text_buckets=TextBucketing(
        # The runner builds the extension's HPUBucketingManager as 1.22 does (hpu_model_runner.py:33,
        # 1041-1047); the worker generates both sets once the KV blocks are known (hpu_worker.py:339-343).
        # Extension @7717587d (profile note): exponential unless VLLM_EXPONENTIAL_BUCKETING parses false
        # (ext: bucketing/common.py:66-80; features.py:16, 80 and config.py:153 read the variable).
        generator=Generator.EXT_MANAGER,
        default_strategy=TextStrategy.EXPONENTIAL,
        strategy_variable="VLLM_EXPONENTIAL_BUCKETING",
        # max_num_prefill_seqs defaults to max_num_seqs (hpu_model_runner.py:992-995)
        prompt_bs_follows_max_num_seqs=True,
        # use_contiguous_pa = Disabled('prefix_caching') (ext: features.py:77), and V0 turns prefix caching
        # off for multimodal models (vllm/engine/arg_utils.py:1554-1560): on unless VLLM_CONTIGUOUS_PA
        contiguous_pa=True,
        # _use_graphs is `not self.enforce_eager` (hpu_model_runner.py:1415-1416): no token limit (1.22
        # tests bs * query <= max_seq_len_to_capture)
        capture_tokens_limit=None,
        # warmup_graphs warms and captures every bucket (:3059-3119); warmup_model computes graph_free_mem
        # but tests it only for pooling models (:3245-3291)
        capture_gated_by_memory=False,
        # every bucket is warmed under PT_COMPILE_ONLY_MODE, then captured (:3230-3244, 3245-3291)
        compiles_every_bucket=True,
        variables=EXT_MANAGER_VARIABLES,
        # ext main, unlike aice/v1.22.0 @f5f9ecb7: linear prefix-caching contexts to +1 (linear.py:142) and
        # set-based prompt filters (linear.py:157-163, exponential.py:131-137)
        linear_context_extra=1,
        prompt_deduplicated=True,
        cited=("ext:vllm_hpu_extension/bucketing/common.py:34-117, linear.py:12-214, exponential.py:14-320, "
               "features.py:12-85, config.py:150-180@7717587d1780; requirements/hpu.txt:10; "
               "vllm/worker/hpu_model_runner.py:33, 992-995, 1041-1047, 1415-1416, 3059-3119, 3179-3303; "
               "vllm/worker/hpu_worker.py:339-343" + H),
    ),
)


FORK_122 = replace(
    FORK_MAIN,
    name="vllm-fork-1.22",
    title="HabanaAI/vllm-fork aice/v1.22.0 (release line; the fork is end of life from v1.23)",
    source="HabanaAI/vllm-fork@aice/v1.22.0 (17a7946f471f, 2025-11-19)",
    variables=(
        # VisionBuckets.__init__ / _process_buckets (hpu_model_runner.py:110-133)
        read(Setting.BUCKETS, "", "vllm/worker/hpu_model_runner.py:110-133" + V),
        read(Setting.GRAPH_RESERVED_MEM, "0.1", "vllm/worker/hpu_worker.py:345-347" + V),
        # requirements/hpu.txt pins ext branch aice/v1.22.0 (head f5f9ecb7298b): Value('fp32_softmax',
        # False, env_var='VLLM_FP32_SOFTMAX'): off for every model type, qwen2 included
        read(Setting.FP32_SOFTMAX, "false", "ext:vllm_hpu_extension/features.py:61@f5f9ecb7298b",
             "fp32 softmax in the language model (default off for every model)"),
        read(Setting.FP32_SOFTMAX_VISION, "false", "vllm/model_executor/models/qwen2_5_vl.py:318-320" + V),
        read(Setting.SKIP_WARMUP, "false", "vllm/worker/hpu_model_runner.py:125-126, 1258, 3600-3602" + V
             + "; ext:vllm_hpu_extension/features.py:72@f5f9ecb7298b"),
        # README_GAUDI.md:421 documents 0 as the bridge's default (:203: torch.compile is the default from
        # Gaudi software 1.21.0); the runner branches on is_lazy() (hpu_model_runner.py:410, 3588)
        _mode_var("README_GAUDI.md:421, 203; vllm/worker/hpu_model_runner.py:410" + V, default="0"),
        # The Habana PyTorch bridge reads it, not vLLM: vllm-gaudi
        # docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b (PATH,DELETE,SIZE_MB)
        read(Setting.RECIPE_CACHE, "", "docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b"),
    ),
    # `[1600, 3136, 4096, 6400]` when VLLM_MULTIMODAL_BUCKETS is empty and the model is not batch-based
    # (hpu_model_runner.py:117-120): four buckets, not the seven of 1.21 / habana_main.
    default_buckets=(1600, 3136, 4096, 6400),
    # _process_buckets asserts % 8 (:128-133); the dummy image asserts pixel_values.shape[0] % 64
    # (:3043-3045) and pad_multimodal_data asserts padding_len % 64 (models/qwen2_5_vl.py:1027).
    bucket_assert_multiple=8,
    bucket_crash_multiple=64,
    bucket_minimum=8,  # image_h = img_args // 8, then int(img_args / image_h) (:3024-3026)
    # warmup_model captures graphs (vision included, via warmup_graphs) only `if not self.enforce_eager`
    # (:3622); there is no separate lazy multimodal pass as on 1.21.
    warms_under_eager=False,
    # pad_multimodal_data_wh pads grid h and w UP to multiples of 8 patches, then pad_multimodal_data pads
    # to the bucket (models/qwen2_5_vl.py:968-1039), as on 1.21; no trimming as on habana_main.
    grid_rule=GridRule.PAD_SIDES_TO_8,
    # warmup_graphs (prompt) -> _warmup_multimodal_graph: one warmup_scenario per bucket, img_args = the
    # bucket, no memory-based skipping (:3472-3533); dummy grid [1, b/8, 8] (:3022-3026).
    warmup=WarmupRule.ONE_PER_BUCKET,
    warmup_cited="vllm/worker/hpu_model_runner.py:3472-3533, 3022-3026" + V,
    # Qwen2_5_VLProcessingInfo.get_hf_processor on HPU (models/qwen2_5_vl.py:1256-1257)
    min_pixels_override=112 * 112,
    block_size=128,  # vllm/platforms/hpu.py:97-98@17a7946f
    fp32_softmax_default=False,
    attention=VisionAttention(
        # Two [N, N] bool masks alive in the tower's forward: the full-attention mask, a bool outer product
        # of the [1,1,1,N] padding mask on the device (models/qwen2_5_vl.py:1208-1209), and the window
        # mask `attention_mask_compose`, block-diagonal over 64-patch windows, built as a float32
        # torch.zeros(N, N) on the CPU, copied to the device as float32 and made bool there
        # (:1113-1120, 1051-1052). Memory: the float32 copy and its bool (5 N^2) exist before the full
        # mask is built, so the engine's build peak is 5 N^2; gaudi_vl.memory's float-build term
        # ((k - 1) + 5) N^2 = 6 N^2 over-counts it by N^2 (conservative).
        masks_held=2,
        # Window layers: FusedSDPA over chunks of sdpa_compose_step = 16 windows (1024 patches) with the
        # matching [1024, 1024] slice of the window mask, outputs concatenated (:321, 396-420).
        dense_window_layers=False,
        window_outputs_concatenated=True,
        mask_built_in_float=True,
        mask_on_cpu_above=0,  # torch.zeros(seq_len, seq_len) without a device: always on the CPU (:1113)
        query_tiled_from=65537,  # q1.shape[2] <= 65536 -> FusedSDPA, else 64-row tiles (:434-438)
        cited="vllm/model_executor/models/qwen2_5_vl.py:321, 396-438, 1041-1121, 1208-1209" + V,
    ),
    memory=MemorySplit(
        graph_reserved_default=0.1, dummy_blocks=0, block_round=1,  # no rounding (hpu_worker.py:343-366)
        cited="vllm/worker/hpu_worker.py:343-366" + V,
    ),
    kv_cache_dtypes=(("fp8", "fp8_inc"),),  # vllm/config.py:1467, 1589@17a7946f
    # The four-bucket default line is in no other fork branch's runner (aice/v1.21.0, habana_main,
    # 1.22_next, 1.22-DP, aice-v1.22.0-glm checked); 1.21's ratio variable must be absent.
    fingerprint=Fingerprint(
        modules=("vllm",), absent=("vllm_gaudi",),
        marker_file="vllm/worker/hpu_model_runner.py",
        marker="multimodal_buckets = [1600, 3136, 4096, 6400]",
        marker_absent="VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO",
    ),
    install_hint=_FORK_INSTALL.format(branch="aice/v1.22.0"),
    log_grammar=VLLM_FORK_V0,  # the same V0 log format (hpu_worker.py:355-363, hpu_model_runner.py:3423-3433)
    notes=(
        ("vllm-fork aice/v1.22.0 reads neither VLLM_GRAPH_PROMPT_RATIO nor "
         "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO (warmup_model no longer splits graph memory, "
         "hpu_model_runner.py:3556-3656" + V + "): not exported"),
        ("vllm-fork is end of life from v1.23 and deprecated in v1.24 (README_GAUDI.md:6@95af7009): "
         "plan for --target vllm-gaudi to move"),
        # ext:vllm_hpu_extension/bucketing/common.py:66-80, exponential.py:14-27, 278-293@f5f9ecb7298b;
        # vllm/worker/hpu_model_runner.py:3435-3495 (every bucket warmed, no memory test)
        ("vllm-fork aice/v1.22.0 warms exponential text buckets unless VLLM_EXPONENTIAL_BUCKETING=false "
         "(its VLLM_PROMPT_*/VLLM_DECODE_* ranges apply only then) and graphs every one without a memory "
         "check: the graph reserve is planned to hold them all"),
        # pre_attn_hpu fills block i of the window mask from cu_seqlens[i - 1]:cu_seqlens[i] for i in
        # range(0, len(cu_seqlens) - 1): i = 0 slices [N:0] (empty), so the last block is never set
        # (executed by tools/check_engine_profiles.py, row "fork-1.22 window mask").
        ("vllm-fork aice/v1.22.0 leaves the last 64-patch window of its window-attention mask all False "
         "(models/qwen2_5_vl.py:1112-1118" + V + "): an image whose padded size equals its bucket (or runs "
         "above the largest bucket) has no window attention in its last window; a bucket with room to pad "
         "avoids it"),
    ),
    text_buckets=TextBucketing(
        # The runner builds the extension's HPUBucketingManager (hpu_model_runner.py:1184-1190); the worker
        # generates both bucket sets once the KV blocks are known (hpu_worker.py:389-393). Exponential
        # unless VLLM_EXPONENTIAL_BUCKETING parses false (ext:vllm_hpu_extension/bucketing/common.py:66-80
        # @f5f9ecb7298b); 3-D (bs, seq, ctx) prompt and (bs, 1, blocks) decode buckets.
        generator=Generator.EXT_MANAGER,
        default_strategy=TextStrategy.EXPONENTIAL,
        strategy_variable="VLLM_EXPONENTIAL_BUCKETING",
        # max_num_prefill_seqs defaults to max_num_seqs (hpu_model_runner.py:1134-1137)
        prompt_bs_follows_max_num_seqs=True,
        # use_contiguous_pa = Disabled('prefix_caching') (ext:features.py:74), and V0 turns prefix caching
        # off for multimodal models (vllm/engine/arg_utils.py:1553-1560): on unless VLLM_CONTIGUOUS_PA
        contiguous_pa=True,
        # _use_graphs: bs * query <= max_seq_len_to_capture (hpu_model_runner.py:1620-1623), 8192 capped
        # at max_model_len (vllm/config.py:322, 948-950)
        capture_tokens_limit=8192,
        # warmup_graphs warms and captures every bucket with no memory test (:3435-3495); warmup_model no
        # longer splits or checks graph memory (:3556-3666)
        capture_gated_by_memory=False,
        # each bucket is compiled (warm-up under PT_COMPILE_ONLY_MODE, :3607-3621) and then captured
        compiles_every_bucket=True,
        variables=EXT_MANAGER_VARIABLES,
        cited=("ext:vllm_hpu_extension/bucketing/common.py:34-117, linear.py:12-214, exponential.py:14-320, "
               "features.py:12-83, config.py:122-164@f5f9ecb7298b; "
               "vllm/worker/hpu_model_runner.py:1134-1190, 1620-1623, 3435-3495, 3556-3666; "
               "vllm/worker/hpu_worker.py:389-393" + V),
    ),
    execution_modes=(_fork_lazy(
        "410-416", "719-723", "345-347", V,
        "one lazy graph compile, run without an HPU graph (bypass_hpu_graphs: models/qwen2_5_vl.py:1211-1216"
        + V + ")",
    ),),
    # VLLM_MULTIMODAL_BUCKETS is lower-cased, 'none' -> None (:112-114); no vision warm-up (is_mm_run,
    # :3145-3147) and get_multimodal_bucket returns 0: every image runs at its own 8-padded size, never
    # from an HPU graph (use_graph, :146-150).
    buckets_none="every image then runs at its own size and never from an HPU graph (hpu_model_runner.py:"
                 "112-114, 135-141" + V + ")",
    scheduler=SchedulerRule(  # same V0 rule at this commit (chunked prefill off for multimodal)
        batched_covers_model_len=True, batched_covers_seqs=True,
        cited="vllm/config.py:2280-2295, vllm/engine/arg_utils.py:1513-1516" + V,
    ),
)
"""vllm-fork ``aice/v1.22.0``: 1.21's grid padding and one-graph-per-bucket warm-up, habana_main's forced
``min_pixels`` and plain memory split, a four-bucket default list, and a window mask of its own."""
