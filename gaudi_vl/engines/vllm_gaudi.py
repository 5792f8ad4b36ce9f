"""vllm-project/vllm-gaudi profile: the HPU plugin for upstream vLLM (V1 engine), branch main.

Facts read at vllm-gaudi ``main`` @ 091bbadda10b (2026-08-21); citations are ``path:line@commit`` in
vllm-project/vllm-gaudi.

Two execution modes (``ModeFacts``), chosen by the Habana bridge's ``PT_HPU_LAZY_MODE`` and tested in
the engine with ``htorch.utils.internal.is_lazy()``: torch.compile (``0``, the default: the engine's
docs/configuration/env_variables.md:80) and lazy / HPU graphs (``1``). What differs between them for a
vision-language plan:

- graphs: lazy wraps the model in HPU graphs (v1/worker/hpu_model_runner.py:1093-1095, 4903-4904;
  platform.py:429-431 disables dynamo); compile runs ``torch.compile`` regions instead
  (:4947-4962; extension/features.py:105-106: regional, dynamic shapes on) and captures no HPU graph;
- graph memory: ``VLLM_GRAPH_RESERVED_MEM`` is kept from the KV cache in BOTH modes
  (v1/worker/hpu_worker.py:409-414 has no mode test); only under ``--enforce-eager`` is it 0. The
  deployment recipe caps it at 0.1 in compile mode and 0.5 in lazy mode
  (.cd/server/vllm_autocalc_rules.py:216-218): a recipe choice, not what the engine does;
- vision warm-up: lazy (or ``--enforce-eager``, or ``VLLM_MM_WARMUP_OUTSIDE_COMPILE_ONLY=1``) runs the
  warm-up images for real BEFORE the compile-only context (hpu_model_runner.py:6226-6229); compile runs
  them INSIDE ``PT_COMPILE_ONLY_MODE`` (:6241-6244), where Qwen2.5-VL's tower builds zero dummy masks of
  the bucket's shape (models/qwen2_5_vl.py:415-427) and nothing executes. The SAME sizes are compiled in
  both modes (``warmup_set`` does not depend on the mode); what changes is that in compile mode the
  tower's working memory is first reached by a real image while serving;
- dynamo: compile mode raises ``cache_size_limit`` to ``1 + 5 * (prompt + decode buckets)``
  (:6208-6216, 5 with regional compilation). With dynamic shapes on (the default) dynamo traces one
  symbolic graph and the HPU backend compiles one static recipe per new shape
  (``force_static_compile``, utils.py:277-283): a vision size warm-up missed is a recipe compile while
  serving, not a dynamo recompile against that limit.

gaudi-vl does not set ``VLLM_MM_WARMUP_OUTSIDE_COMPILE_ONLY`` (envs.py:88-89, default false): PR 1744
(43f5f1fd) added it for gemma-4's data-dependent gather, which compile-only warm-up cannot trace;
Qwen2.5-VL's tower has its own compile-only path (models/qwen2_5_vl.py:415-427) and the opt-in costs
warm-up time (the tower executes every warm-up size). gaudi-vl's vision margin outside
``gpu_memory_utilization`` covers the tower's peak either way.
"""

from __future__ import annotations

from gaudi_vl.engines.logs import VLLM_GAUDI_V1
from gaudi_vl.engines.profile import (
    EngineProfile,
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
from gaudi_vl.engines.text_buckets import GAUDI_VARIABLES, Generator, TextBucketing, TextStrategy
from gaudi_vl.engines.vllm_gaudi_models import VLLM_GAUDI_MODELS

G = "@091bbadda10b"

GAUDI_COMPILE = ModeFacts(
    mode=ExecutionMode.COMPILE,
    lazy_mode_value="0",
    # _maybe_compile: torch.compile regions, no HPU graph (v1/worker/hpu_model_runner.py:4947-4962)
    hpu_graphs=False,
    graph_reserved_applies=True,  # v1/worker/hpu_worker.py:409-414: no mode test, only enforce_eager
    # inside PT_COMPILE_ONLY_MODE (hpu_model_runner.py:6241-6244) unless VLLM_MM_WARMUP_OUTSIDE_COMPILE_ONLY
    vision_warmup_compile_only=True,
    serving_new_size=("one HPU recipe compile for the new shape (dynamic shapes: one dynamo graph, "
                      "force_static_compile recipes, utils.py:277-283)"),
    cited=("vllm_gaudi/v1/worker/hpu_model_runner.py:4947-4962, 6208-6216, 6226-6244; "
           "v1/worker/hpu_worker.py:409-414; utils.py:277-283; extension/features.py:105-106" + G),
    notes=(
        ("vllm-gaudi in torch.compile mode (PT_HPU_LAZY_MODE=0): no HPU graphs, so the vision sizes take no "
         "graph memory; VLLM_GRAPH_RESERVED_MEM is still kept from the KV cache (hpu_worker.py:409-414"
         + G + "); the vision warm-up compiles inside PT_COMPILE_ONLY_MODE without executing "
         "(hpu_model_runner.py:6241-6244), so the tower's peak is first reached while serving"),
    ),
)
"""The engine's default mode (docs/configuration/env_variables.md:80: ``PT_HPU_LAZY_MODE`` default 0)."""

GAUDI_LAZY = ModeFacts(
    mode=ExecutionMode.LAZY,
    lazy_mode_value="1",
    hpu_graphs=True,  # _maybe_wrap_in_hpu_graph / wrap_in_hpu_graph when is_lazy() (:1093-1095, 4903-4904)
    graph_reserved_applies=True,
    vision_warmup_compile_only=False,  # not use_torch_compile -> warmed outside compile-only (:6226-6229)
    serving_new_size="one lazy graph compile (and HPU graph capture) for the new shape",
    cited=("vllm_gaudi/v1/worker/hpu_model_runner.py:1093-1095, 4903-4904, 6226-6229; "
           "platform.py:429-431; v1/worker/hpu_worker.py:409-414" + G),
    notes=(
        ("vllm-gaudi in lazy mode (PT_HPU_LAZY_MODE=1): HPU graphs; the vision warm-up executes every "
         "warm-up size before the compile-only phase (hpu_model_runner.py:6226-6229" + G
         + "), so the tower's peak is reached at start-up"),
    ),
)

VLLM_GAUDI = EngineProfile(
    name="vllm-gaudi",
    title="vllm-project/vllm-gaudi main (vLLM V1 plugin)",
    source="vllm-project/vllm-gaudi@main (091bbadda10b, 2026-08-21)",
    hpu=True,
    variables=(
        read(Setting.BUCKETS, "", "vllm_gaudi/extension/bucketing/vision.py:85-94" + G),
        read(Setting.RESOLUTIONS, "", "vllm_gaudi/extension/bucketing/vision.py:96-143" + G),
        read(Setting.GRAPH_RESERVED_MEM, "0.1", "vllm_gaudi/v1/worker/hpu_worker.py:409-414" + G),
        read(Setting.FP32_SOFTMAX, "true", "vllm_gaudi/extension/features.py:85" + G,
             "fp32 softmax in the language model (default on for qwen2 and qwen2_5_vl)"),
        read(Setting.FP32_SOFTMAX_VISION, "false", "vllm_gaudi/models/qwen2_5_vl.py:70-72" + G),
        read(Setting.SKIP_WARMUP, "false",
             "vllm_gaudi/extension/features.py:95; v1/worker/hpu_model_runner.py:6218-6220" + G),
        # Read by the Habana bridge; the engine branches on htorch.utils.internal.is_lazy()
        # (v1/worker/hpu_model_runner.py:6226, 4948; platform.py:429). Default 0 per the engine's docs.
        read(Setting.EXECUTION_MODE, "0",
             "docs/configuration/env_variables.md:80; v1/worker/hpu_model_runner.py:6226" + G),
        # The Habana PyTorch bridge reads it, not vLLM: vllm-gaudi
        # docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b (PATH,DELETE,SIZE_MB)
        read(Setting.RECIPE_CACHE, "", "docs/configuration/warm-up/managing_warm-up.md:8-20@091bbadda10b"),
    ),
    default_buckets=(1600, 3136, 4096, 6400, 7744, 9216, 12544),  # extension/bucketing/vision.py:22-25
    bucket_assert_multiple=None,  # _process_buckets only sorts (vision.py:158-161)
    bucket_crash_multiple=None,
    # bucket_to_image_resolution makes a 0-px-wide 9:16 image for buckets 0-3 (vision.py:276-284)
    bucket_minimum=4,
    # warmup_multimodal_graphs runs when not use_torch_compile, which --enforce-eager makes true
    # (v1/worker/hpu_model_runner.py:6226-6229)
    warms_under_eager=True,
    # get_image_embeds appends pad rows to reach the bucket, any patch count (models/qwen2_5_vl.py:
    # 396-413); PR 698 (18105cc5) dropped the 112-alignment requirement. HPUVisionBucketManager's
    # find_padding / pad_multimodal_data (vision.py:172-241) have no caller.
    grid_rule=GridRule.KEEP,
    # bucket_to_image_resolution guesses 5 aspect ratios per bucket (vision.py:262-285), de-duplicated
    # (v1/worker/hpu_model_runner.py:6036-6040), each a raw image through the real processor
    # (:5843-5854, 5872-5905): the tower compiles wherever those images land.
    warmup=WarmupRule.PROCESSOR_GUESSES,
    warmup_aspect_ratios=((1, 1), (4, 3), (3, 4), (16, 9), (9, 16)),
    warmup_cited=("vllm_gaudi/extension/bucketing/vision.py:262-285; "
                  "v1/worker/hpu_model_runner.py:5993-6130" + G),
    min_pixels_override=112 * 112,  # HPUQwen2_5_VLProcessingInfo.get_hf_processor (models/qwen2_5_vl.py:464)
    block_size=128,  # vllm_gaudi/platform.py:156 (the engine's own default, made explicit)
    fp32_softmax_default=True,
    attention=VisionAttention(
        # Every layer runs FusedSDPA over the whole bucket with an [N, N] bool mask; the full and the
        # window mask are both alive (models/qwen2_5_vl.py:175, 342-356, 429-430), each a float32
        # einsum made bool, on the CPU above 40000 patches (:86-102).
        masks_held=2,
        dense_window_layers=True,
        window_outputs_concatenated=False,
        mask_built_in_float=True,
        mask_on_cpu_above=40000,
        query_tiled_from=65536,  # q_len < 65536 -> FusedSDPA, else AttentionLongSequence (:79-83)
        cited="vllm_gaudi/models/qwen2_5_vl.py:68-102, 137-179, 342-356, 429-430" + G,
    ),
    memory=MemorySplit(
        graph_reserved_default=0.1,
        dummy_blocks=1,  # dummy_block_headroom = one KV block (v1/worker/hpu_worker.py:422-441)
        block_round=1,
        cited="vllm_gaudi/v1/worker/hpu_worker.py:407-441" + G,
    ),
    kv_cache_dtypes=(("fp8", "fp8_inc"),),  # vllm_gaudi/platform.py:468
    fingerprint=Fingerprint(modules=("vllm", "vllm_gaudi")),
    install_hint="on the Gaudi server: pip install vllm vllm-gaudi (see requirements-hpu.txt)",
    log_grammar=VLLM_GAUDI_V1,
    # vLLM V1 always chunks prefills, so only max_num_batched_tokens >= max_num_seqs is refused at
    # start-up (SchedulerConfig.verify_max_model_len, vllm/config/scheduler.py:328-332 in vllm 0.32.0, the
    # release the e2e test installs; same check in vllm-project/vllm@01230b40).
    scheduler=SchedulerRule(
        batched_covers_model_len=False, batched_covers_seqs=True,
        cited="vllm/config/scheduler.py:328-332@vllm-0.32.0",
    ),
    notes=(
        ("vllm-gaudi reads neither VLLM_GRAPH_PROMPT_RATIO nor VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO: "
         "they are not exported"),
    ),
    execution_modes=(GAUDI_COMPILE, GAUDI_LAZY),
    text_buckets=TextBucketing(
        generator=Generator.GAUDI_3D,
        # Value('bucketing_strategy', 'exp', env_var='VLLM_BUCKETING_STRATEGY') (extension/features.py:99-103)
        default_strategy=TextStrategy.EXPONENTIAL,
        strategy_variable="VLLM_BUCKETING_STRATEGY",
        # max_prefill_batch_size = VLLM_PROMPT_BS_BUCKET_MAX or 1 (v1/worker/hpu_model_runner.py:1510-1522)
        prompt_bs_follows_max_num_seqs=False,
        # use_contiguous_pa = Disabled('prefix_caching') (features.py:97); vLLM V1 enables prefix
        # caching by default, so contiguous PA is off
        contiguous_pa=False,
        # _use_graphs: no graph when bs*query + ctx*block > max_cudagraph_capture_size, default
        # max_num_batched_tokens (v1/worker/hpu_model_runner.py:1516-1518, 5006-5019)
        capture_tokens_limit=None,
        # warmup_graphs runs every bucket with no memory check (v1/worker/hpu_model_runner.py:5466-5500)
        capture_gated_by_memory=False,
        compiles_every_bucket=False,
        variables=GAUDI_VARIABLES,
        cited=("vllm_gaudi/extension/bucketing/common.py:117-547, linear.py:14-160, exponential.py:34-203; "
               "v1/worker/hpu_model_runner.py:1510-1533, 5466-5500, 6133-6266" + G),
    ),
    multimodal_models=VLLM_GAUDI_MODELS,
)
