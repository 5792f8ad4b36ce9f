"""vllm-project/vllm-gaudi profile: the HPU plugin for upstream vLLM (V1 engine), branch main.

Facts read at vllm-gaudi ``main`` @ 091bbadda10b (2026-08-21); citations are ``path:line@commit`` in
vllm-project/vllm-gaudi.
"""

from __future__ import annotations

from gaudi_vl.engines.logs import VLLM_GAUDI_V1
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
from gaudi_vl.engines.text_buckets import GAUDI_VARIABLES, Generator, TextBucketing, TextStrategy
from gaudi_vl.engines.vllm_gaudi_models import VLLM_GAUDI_MODELS

G = "@091bbadda10b"

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
