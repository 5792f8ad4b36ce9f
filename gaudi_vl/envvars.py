"""The engine environment of a plan: each value produced by exactly one function.

Pure. A plan exports only the variables its engine profile reads (``gaudi_vl.engines``), under the
engine's own names and with the engine's meaning, and never writes an engine default the user did not
ask to change: the fp32 softmax switches appear only with ``--[no-]fp32-softmax[-vision]``. Memory
variables come from the memory plan; gaudi-vl's own ``GAUDI_VL_ALIGN`` turns on its vLLM plugin.
"""

from __future__ import annotations

from collections.abc import Callable

from gaudi_vl.engines import Setting
from gaudi_vl.plan import Plan

ALIGN_VAR = "GAUDI_VL_ALIGN"
"""gaudi-vl's own switch for its vLLM plugin (``gaudi_vl.vllm_plugin``), read by no engine."""
VISION_VAR = "GAUDI_VL_VISION"
"""gaudi-vl's switch for its bucketed vision forward inside vLLM (``gaudi_vl.vllm_plugin``)."""


def _ratio(x: float) -> str:
    return f"{x:.4g}"


def _flag(on: bool | None) -> str | None:
    return None if on is None else ("true" if on else "false")


def buckets(plan: Plan) -> str | None:
    if plan.family_warmup is not None:  # a family plan: its own list, or the model's default kept
        return ",".join(map(str, plan.family_warmup.buckets)) or None
    return plan.buckets.env_value


def resolutions(plan: Plan) -> str | None:
    if plan.family_warmup is not None:
        return ",".join(plan.family_warmup.resolutions) or None
    return ",".join(str(r) for r in plan.resolutions) or None


def graph_reserved_mem(plan: Plan) -> str | None:
    return _ratio(plan.memory.graph_reserved_mem) if plan.memory else None


def graph_prompt_ratio(plan: Plan) -> str | None:
    return _ratio(plan.memory.graph_prompt_ratio) if plan.memory else None


def graph_multimodal_ratio(plan: Plan) -> str | None:
    """The VISION share of prompt graph memory (the engine's meaning; see ``engines.vllm_fork``)."""
    return _ratio(plan.memory.graph_multimodal_ratio) if plan.memory else None


def fp32_softmax(plan: Plan) -> str | None:
    return _flag(plan.serve.fp32_softmax)


def fp32_softmax_vision(plan: Plan) -> str | None:
    return _flag(plan.serve.fp32_softmax_vision)


def skip_warmup(plan: Plan) -> str | None:
    return "true" if plan.serve.skip_warmup else None


def execution_mode(plan: Plan) -> str | None:
    """Always written on HPU: the bridge's own default changed between Gaudi software releases
    (``engines.vllm_fork``), and the plan's graph memory depends on the mode."""
    mode = plan.serve.execution
    return None if mode is None else mode.lazy_mode_value


RECIPE_CACHE_SIZE_MB = 8192
"""Cache size in the vllm-gaudi recipe-cache example (managing_warm-up.md:46-48@091bbadda10b)."""


def recipe_cache(plan: Plan) -> str | None:
    """``PATH,False,SIZE_MB``: reuse (do not delete) the recipes stored in PATH, storing new ones."""
    d = plan.serve.recipe_cache
    return f"{d},False,{RECIPE_CACHE_SIZE_MB}" if d else None


VALUES: dict[Setting, Callable[[Plan], str | None]] = {
    Setting.BUCKETS: buckets,
    Setting.RESOLUTIONS: resolutions,
    Setting.GRAPH_RESERVED_MEM: graph_reserved_mem,
    Setting.GRAPH_PROMPT_RATIO: graph_prompt_ratio,
    Setting.GRAPH_MULTIMODAL_RATIO: graph_multimodal_ratio,
    Setting.FP32_SOFTMAX: fp32_softmax,
    Setting.FP32_SOFTMAX_VISION: fp32_softmax_vision,
    Setting.SKIP_WARMUP: skip_warmup,
    Setting.EXECUTION_MODE: execution_mode,
    Setting.RECIPE_CACHE: recipe_cache,
}
"""One function per setting; the engine profile names the variable (or reads none)."""


def plan_env(plan: Plan) -> dict[str, str]:
    """The environment the engine needs for ``plan``, in the profile's order, then ``GAUDI_VL_ALIGN``."""
    env: dict[str, str] = {}
    for var in plan.engine.variables:
        value = VALUES[var.setting](plan)
        if value is not None:
            env[var.name] = value
    env.update(plan.text_env)
    if plan.family_warmup is not None:  # gaudi-vl's plugin aligns and buckets Qwen2.5-VL only
        return env
    if plan.serve.align:
        env[ALIGN_VAR] = "1"
    if plan.serve.vision != "stock":
        env[VISION_VAR] = plan.serve.vision
    return env


def managed_names(plan: Plan) -> tuple[str, ...]:
    """Every name this plan's engine reads that gaudi-vl manages, plus ``GAUDI_VL_ALIGN``: those the
    plan leaves unset are removed from an inherited environment so the engine sees the plan only."""
    text = plan.engine.text_buckets.variables if plan.engine.text_buckets is not None else ()
    return (*plan.engine.variable_names, *text, ALIGN_VAR, VISION_VAR)


def defaults_in_force(plan: Plan) -> list[str]:
    """One line per engine variable the plan leaves at the engine's default, with that default."""
    env = plan_env(plan)
    return [
        f"{v.name}={v.default or '(empty)'} ({v.meaning})"
        for v in plan.engine.variables
        if v.name not in env
    ]
