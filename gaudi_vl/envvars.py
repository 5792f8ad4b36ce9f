"""The engine environment of a plan: each variable produced by exactly one function.

Pure. ``plan_env`` returns them in a stable order; exporters only quote and format. Variable
meanings and defaults: the seed document for vllm-fork's Qwen2.5-VL (``VLLM_MULTIMODAL_BUCKETS``,
``VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO``, ``VLLM_FP32_SOFTMAX``, ``VLLM_FP32_SOFTMAX_VISION``),
vllm-gaudi's ``docs/features/warmup.md`` and ``vllm_gaudi/v1/worker/hpu_worker.py``
(``VLLM_GRAPH_RESERVED_MEM``, ``VLLM_GRAPH_PROMPT_RATIO``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gaudi_vl.plan import Plan, Target


@dataclass(frozen=True)
class EnvVar:
    """One variable: its name, what it does, and the function that computes it from a plan."""

    name: str
    why: str
    value: Callable[[Plan], str | None]
    """Returns None when the variable does not apply to this plan."""


def _flag(on: bool) -> str:
    return "1" if on else "0"


def _ratio(x: float) -> str:
    return f"{x:.4g}"


def multimodal_buckets(plan: Plan) -> str | None:
    return plan.buckets.env_value if plan.serve.target.is_hpu else None


def multimodal_resolutions(plan: Plan) -> str | None:
    if plan.serve.target is not Target.VLLM_GAUDI or not plan.resolutions:
        return None
    return ",".join(str(r) for r in plan.resolutions)


def graph_reserved_mem(plan: Plan) -> str | None:
    return _ratio(plan.memory.graph_reserved_mem) if plan.memory and plan.serve.target.is_hpu else None


def graph_prompt_ratio(plan: Plan) -> str | None:
    return _ratio(plan.memory.graph_prompt_ratio) if plan.memory and plan.serve.target.is_hpu else None


def graph_multimodal_prompt_ratio(plan: Plan) -> str | None:
    if plan.memory is None or plan.serve.target is not Target.VLLM_FORK:
        return None
    return _ratio(plan.memory.graph_multimodal_prompt_ratio)


def fp32_softmax(plan: Plan) -> str | None:
    return _flag(plan.serve.fp32_softmax) if plan.serve.target.is_hpu else None


def fp32_softmax_vision(plan: Plan) -> str | None:
    return _flag(plan.serve.fp32_softmax_vision) if plan.serve.target.is_hpu else None


def skip_warmup(plan: Plan) -> str | None:
    return "true" if plan.serve.skip_warmup and plan.serve.target.is_hpu else None


def align(plan: Plan) -> str | None:
    return "1" if plan.serve.align else None


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("VLLM_MULTIMODAL_BUCKETS", "image sizes in patches that get a pre-compiled HPU graph",
           multimodal_buckets),
    EnvVar("VLLM_MULTIMODAL_RESOLUTIONS", "explicit warm-up resolutions (vllm-gaudi only)",
           multimodal_resolutions),
    EnvVar("VLLM_GRAPH_RESERVED_MEM", "share of usable device memory kept for HPU graphs, not KV cache",
           graph_reserved_mem),
    EnvVar("VLLM_GRAPH_PROMPT_RATIO", "share of graph memory for prefill graphs (rest: decode)",
           graph_prompt_ratio),
    EnvVar("VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO", "share of prefill graph memory for text (rest: vision)",
           graph_multimodal_prompt_ratio),
    EnvVar("VLLM_FP32_SOFTMAX", "fp32 softmax in the language model: accuracy for a little speed",
           fp32_softmax),
    EnvVar("VLLM_FP32_SOFTMAX_VISION", "fp32 softmax in the vision tower: accuracy for noticeable speed",
           fp32_softmax_vision),
    EnvVar("VLLM_SKIP_WARMUP", "skip graph warm-up: faster start, compiles while serving", skip_warmup),
    EnvVar("GAUDI_VL_ALIGN", "the gaudi-vl vLLM plugin 112-aligns images inside the engine", align),
)


def plan_env(plan: Plan) -> dict[str, str]:
    """The environment the engine needs for ``plan``, in a stable order."""
    env: dict[str, str] = {}
    for var in ENV_VARS:
        value = var.value(plan)
        if value is not None:
            env[var.name] = value
    return env
