"""The OpenAI-compatible server command line a plan implies (argv list, not a shell string).

Pure. Flags follow the seed's HPU launch command (``--block-size 128`` on HPU, ``--dtype
bfloat16``) and vLLM's multimodal options (``--mm-processor-kwargs``, ``--limit-mm-per-prompt``).
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
    argv = [
        python, "-m", SERVER_MODULE,
        "--model", plan.model_ref,
        "--host", s.host,
        "--port", str(s.port),
        "--tensor-parallel-size", str(s.tensor_parallel_size),
        "--max-model-len", str(s.max_model_len),
        "--max-num-seqs", str(plan.effective_max_num_seqs),
        "--max-num-batched-tokens", str(s.batched_tokens),
        "--gpu-memory-utilization", f"{plan.effective_gpu_memory_utilization:.4g}",
        "--dtype", s.dtype,
    ]
    if s.block_size is not None:
        argv += ["--block-size", str(s.block_size)]
    argv += [
        "--mm-processor-kwargs", json.dumps(mm_processor_kwargs(plan), separators=(",", ":")),
        "--limit-mm-per-prompt", json.dumps({"image": s.images_per_prompt}, separators=(",", ":")),
    ]
    return argv
