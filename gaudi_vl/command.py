"""The OpenAI-compatible server command line a plan implies (argv list, not a shell string).

Pure. Every planned setting reaches the engine here or in the environment (``gaudi_vl.envvars``):
utilization, ``max_num_seqs``, the KV cache dtype under the engine's own name (``fp8_inc`` on HPU,
from the engine profile), ``--enforce-eager``, the block size the profile wants, and vLLM's
multimodal options (``--mm-processor-kwargs`` with the planned pixel range, ``--limit-mm-per-prompt``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gaudi_vl.plan import Plan
from gaudi_vl.settings import SERVE_FIELDS, spec_of

SERVER_MODULE = "vllm.entrypoints.openai.api_server"


def mm_processor_kwargs(plan: Plan) -> dict[str, Any]:
    """The pixel limits the engine's processor must use (the range the buckets were planned for);
    for the other families, the processor settings the plan assumed in the family's own keys
    (``FamilySpec.processor_kwargs``)."""
    if plan.model.family is not None:
        return plan.model.family.processor_kwargs()
    return {"min_pixels": plan.pixel_range.min_pixels, "max_pixels": plan.pixel_range.max_pixels}


@dataclass(frozen=True)
class EngineFlag:
    """One engine flag of the plan, and the gaudi-vl option that sets it (None: planned, re-plan)."""

    flag: str
    value: str | None
    """None for a switch that takes no value (``--enforce-eager``)."""
    option: str | None


def _not_an_option(ref: str) -> str:
    """A model reference as the engine's argument parser must see it: a local folder whose name starts
    with ``-`` would be read as an option (``--model -x``: "expected one argument"), so it becomes
    ``./-x``, the same folder (a Hugging Face id never starts with ``-``)."""
    return "./" + ref if ref.startswith("-") else ref


def _opt(field: str) -> str:
    """The gaudi-vl flag of a serving setting, from its one declaration."""
    return next(spec_of(f).flag for f in SERVE_FIELDS if f.name == field)


def engine_flags(plan: Plan) -> list[EngineFlag]:
    """Every engine flag the plan sets, in argv order."""
    s = plan.serve
    engine = plan.engine
    out = [
        EngineFlag("--model", _not_an_option(plan.model_ref), "MODEL / --model"),
        EngineFlag("--host", s.host, _opt("host")),
        EngineFlag("--port", str(s.port), _opt("port")),
        EngineFlag("--tensor-parallel-size", str(s.tensor_parallel_size), _opt("tensor_parallel_size")),
        EngineFlag("--max-model-len", str(s.max_model_len), _opt("max_model_len")),
        EngineFlag("--max-num-seqs", str(plan.max_num_seqs), _opt("max_num_seqs")),
        EngineFlag("--max-num-batched-tokens", str(s.batched_tokens), _opt("max_num_batched_tokens")),
        EngineFlag("--gpu-memory-utilization", f"{plan.gpu_memory_utilization:.4g}",
                   _opt("gpu_memory_utilization")),
        EngineFlag("--dtype", s.dtype, _opt("dtype")),
    ]
    if engine.block_size is not None:
        out.append(EngineFlag("--block-size", str(engine.block_size), None))
    kv = engine.kv_cache_dtype(s.kv_dtype)
    if kv is not None:
        out.append(EngineFlag("--kv-cache-dtype", kv, _opt("kv_dtype")))
    if s.enforce_eager:
        out.append(EngineFlag("--enforce-eager", None, _opt("enforce_eager")))
    out += [
        EngineFlag("--mm-processor-kwargs", json.dumps(mm_processor_kwargs(plan), separators=(",", ":")),
                   "--min-pixels / --max-pixels"),
        EngineFlag("--limit-mm-per-prompt", json.dumps({"image": _images(plan)}, separators=(",", ":")),
                   _opt("images_per_prompt")),
    ]
    return out


def _images(plan: Plan) -> int:
    """The per-prompt image limit: a family plan's warm-up limit, else ``--images-per-prompt``."""
    return plan.family_warmup.limit if plan.family_warmup is not None else plan.serve.images_per_prompt


def server_argv(plan: Plan, python: str = "python") -> list[str]:
    """``python -m vllm.entrypoints.openai.api_server ...`` for this plan."""
    argv = [python, "-m", SERVER_MODULE]
    for f in engine_flags(plan):
        argv += [f.flag] if f.value is None else [f.flag, f.value]
    return argv
