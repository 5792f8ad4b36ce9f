"""The OpenAI-compatible server command line a plan implies (argv list, not a shell string).

Pure. Every planned setting reaches the engine here or in the environment (``gaudi_vl.envvars``):
utilization, ``max_num_seqs``, the KV cache dtype under the engine's own name (``fp8_inc`` on HPU,
from the engine profile), ``--enforce-eager``, the block size the profile wants, and vLLM's
multimodal options (``--mm-processor-kwargs`` with the planned pixel range, ``--limit-mm-per-prompt``).
"""

from __future__ import annotations

import json

from gaudi_vl.plan import Plan

SERVER_MODULE = "vllm.entrypoints.openai.api_server"


def mm_processor_kwargs(plan: Plan) -> dict[str, int]:
    """The pixel limits the engine's processor must use (the range the buckets were planned for)."""
    return {"min_pixels": plan.pixel_range.min_pixels, "max_pixels": plan.pixel_range.max_pixels}


def server_argv(plan: Plan, python: str = "python") -> list[str]:
    """``python -m vllm.entrypoints.openai.api_server ...`` for this plan."""
    s = plan.serve
    engine = plan.engine
    argv = [
        python, "-m", SERVER_MODULE,
        "--model", plan.model_ref,
        "--host", s.host,
        "--port", str(s.port),
        "--tensor-parallel-size", str(s.tensor_parallel_size),
        "--max-model-len", str(s.max_model_len),
        "--max-num-seqs", str(plan.max_num_seqs),
        "--max-num-batched-tokens", str(s.batched_tokens),
        "--gpu-memory-utilization", f"{plan.gpu_memory_utilization:.4g}",
        "--dtype", s.dtype,
    ]
    if engine.block_size is not None:
        argv += ["--block-size", str(engine.block_size)]
    kv = engine.kv_cache_dtype(s.kv_dtype)
    if kv is not None:
        argv += ["--kv-cache-dtype", kv]
    if s.enforce_eager:
        argv.append("--enforce-eager")
    argv += [
        "--mm-processor-kwargs", json.dumps(mm_processor_kwargs(plan), separators=(",", ":")),
        "--limit-mm-per-prompt", json.dumps({"image": s.images_per_prompt}, separators=(",", ":")),
    ]
    return argv


OWNED_FLAGS: frozenset[str] = frozenset({
    "--model", "--host", "--port", "--tensor-parallel-size", "--max-model-len", "--max-num-seqs",
    "--max-num-batched-tokens", "--gpu-memory-utilization", "--dtype", "--block-size", "--kv-cache-dtype",
    "--enforce-eager", "--mm-processor-kwargs", "--limit-mm-per-prompt",
})
"""Engine flags the plan sets: extra engine flags (after ``--``) may not repeat them."""
