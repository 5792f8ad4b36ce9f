"""Warm-up time: how long the engine compiles and captures its graphs before it serves. An ESTIMATE.

Pure. ``estimate_warmup(plan)`` counts the graphs the plan's engine warms by kind -- text prompt and
decode buckets (``gaudi_vl.engines.text_buckets``, the engine's own generator, counted in the memory
plan) and vision sizes (``Plan.warmup``) -- and multiplies each kind by a time per graph taken from
published Gaudi runs. Nobody has measured these on this project's hardware; every figure below
names its source, and the README says how far to trust them.

Calibration (seconds per graph, Gaudi2, 8B-class text model of 32 layers, bf16):

* lazy HPU-graph engines (vllm-fork: every bucket compiled, then graphs captured):
  vllm-gaudi docs/features/warmup.md@091bbadda10b :11-22 and :54-70 (vllm-fork log lines of
  Llama-3.1-8B): 24 prompt buckets compiled in 12 s (0.5 s each), 48 decode buckets in 16 s
  (0.33 s each), then 63 graphs captured in 21 s (0.33 s each); the whole warm-up logged as 49 s.
* torch.compile engines (vllm-gaudi): docs/configuration/warm-up/managing_warm-up.md@091bbadda10b
  :44-63: Llama-3.1-8B BF16 warms in 66 s cold and 23 s from the recipe cache; FP8 504 s cold, 34 s
  cached. Its command (max_model_len 8192, VLLM_PROMPT_BS_BUCKET_MAX 256, the default ``exp``
  strategy, vLLM's serve defaults max_num_seqs 256 and max_num_batched_tokens 2048) gives 176 prompt
  and 60 decode buckets by the engine's generator: 66 / 236 = 0.28 s per graph.
* vision graphs: vllm-gaudi PR 1182 (Qwen3-VL-32B-FP8, one Gaudi2): multimodal warm-up 362 s before
  and 17 s after; its default qwen3_vl list is 7 buckets x 5 guessed aspect ratios, at most 35
  images (extension/bucketing/vision.py:26-29): 17 / 35 = 0.49 s per graph (362 / 35 = 10.3 s
  before the fix).

Text times scale with the text layers (compile work grows with the ops in the graph: ``L / 32``);
vision times are not scaled. ``seconds_high`` (for a Kubernetes startup probe) multiplies by
504 / 66 = 7.6, the spread between the two published cold runs of one model (FP8 against BF16),
and uses the pre-PR-1182 vision figure. ``seconds_cached`` is a restart with a warm recipe cache
(``PT_HPU_RECIPE_CACHE_CONFIG``): x 23 / 66 (managing_warm-up.md). vllm-gaudi PR 1160 reports about
14 s per decode bucket for Llama-4-Maverick at 131K context: very large models and contexts sit far
above these figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gaudi_vl.plan import Plan

LAZY_PROMPT_COMPILE_S = 12 / 24
"""docs/features/warmup.md:12-16@091bbadda10b: 24 prompt buckets warmed 22:26:47 -> 22:26:59."""
LAZY_DECODE_COMPILE_S = 16 / 48
"""docs/features/warmup.md:17-22@091bbadda10b: 48 decode buckets warmed 22:27:00 -> 22:27:16."""
LAZY_CAPTURE_S = 21 / 63
"""docs/features/warmup.md:57-68@091bbadda10b: 15 + 48 graphs captured 17:38:22 -> 17:38:43."""
COMPILE_GRAPH_S = 66 / 236
"""managing_warm-up.md:60-62@091bbadda10b (66 s, BF16) over the 236 buckets of its command."""
VISION_GRAPH_S = 17 / 35
"""vllm-gaudi PR 1182 after the fix: 17 s for at most 35 qwen3_vl warm-up images."""
VISION_GRAPH_HIGH_S = 362 / 35
"""vllm-gaudi PR 1182 before the fix: 362 s."""
HIGH_FACTOR = 504 / 66
"""managing_warm-up.md:60-63: FP8 cold (504 s) over BF16 cold (66 s) for the same buckets."""
CACHED_FACTOR = 23 / 66
"""managing_warm-up.md:62: BF16 with a warm recipe cache (23 s) over cold (66 s)."""
REFERENCE_LAYERS = 32
"""Llama-3.1-8B, the model of every text figure above."""

SOURCES: tuple[str, ...] = (
    ("vllm-gaudi docs/features/warmup.md@091bbadda10b: vllm-fork Llama-3.1-8B warm-up log, 49 s "
     "(0.5 s per prompt and 0.33 s per decode bucket compiled, 0.33 s per graph captured)"),
    ("vllm-gaudi docs/configuration/warm-up/managing_warm-up.md@091bbadda10b: Llama-3.1-8B 66 s BF16 / "
     "504 s FP8 cold, 23 s / 34 s with the recipe cache"),
    "vllm-gaudi PR 1182: Qwen3-VL-32B multimodal warm-up 362 s -> 17 s",
    "vllm-gaudi PR 1160: ~14 s per decode bucket for Llama-4-Maverick at 131K context (not used: far larger)",
)


@dataclass(frozen=True)
class WarmupEstimate:
    """Estimated warm-up of one plan's engine (seconds; graphs by kind). Not a measurement."""

    seconds: float
    """Central estimate for a cold start."""
    seconds_high: float
    """Upper bound for a cold start: budget a startup probe from this."""
    seconds_cached: float
    """Central estimate for a restart with a warm recipe cache (``PT_HPU_RECIPE_CACHE_CONFIG``)."""
    graphs_by_kind: tuple[tuple[str, int], ...]
    """``(kind, graphs)``: ``prompt``, ``decode``, ``vision``."""
    seconds_by_kind: tuple[tuple[str, float], ...]
    mode: str
    """``lazy`` (compile every bucket, then capture graphs) or ``compile`` (one pass per bucket)."""
    recipe_cache: bool
    """The plan sets the recipe cache (restarts take ``seconds_cached``)."""
    sources: tuple[str, ...] = SOURCES

    @property
    def graphs(self) -> int:
        return sum(n for _, n in self.graphs_by_kind)

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in self.graphs_by_kind)
        cache = (f"; restarts ~{self.seconds_cached:.0f} s from the recipe cache" if self.recipe_cache
                 else f"; --recipe-cache DIR would cut restarts to ~{self.seconds_cached:.0f} s")
        return (f"warm-up ~{self.seconds:.0f} s (up to {self.seconds_high:.0f} s) for {self.graphs} graphs "
                f"({kinds}; {self.mode}){cache}; an estimate from published Gaudi2 figures")


def estimate_warmup(plan: Plan) -> WarmupEstimate:
    """The warm-up estimate for ``plan`` (module docstring: formula, figures, their sources)."""
    engine = plan.engine
    mem = plan.memory
    skip = plan.serve.skip_warmup
    vision = 0 if skip else plan.warmup.graphs
    prompt = decode = captured = 0
    if mem is not None and not skip:
        prompt, decode = mem.text_prompt_graphs, mem.text_decode_graphs
        captured = mem.text_prompt_graphed
        if mem.text_graph_estimate_bytes > mem.text_graph_bytes > 0:
            # the engine captures graphs only while its memory lasts: the budgeted share of them
            captured = int(captured * mem.text_graph_bytes / mem.text_graph_estimate_bytes)
    scale = plan.model.text.num_layers / REFERENCE_LAYERS
    tb = engine.text_buckets
    lazy = tb is not None and tb.compiles_every_bucket
    if lazy:
        capture = 0 if plan.serve.enforce_eager else LAZY_CAPTURE_S
        t_prompt = scale * (prompt * LAZY_PROMPT_COMPILE_S + captured * capture)
        t_decode = scale * decode * (LAZY_DECODE_COMPILE_S + capture)
    else:
        t_prompt = scale * prompt * COMPILE_GRAPH_S
        t_decode = scale * decode * COMPILE_GRAPH_S
    t_vision = vision * VISION_GRAPH_S
    total = t_prompt + t_decode + t_vision
    high = (t_prompt + t_decode) * HIGH_FACTOR + vision * VISION_GRAPH_HIGH_S
    return WarmupEstimate(
        seconds=round(total, 1),
        seconds_high=round(high, 1),
        seconds_cached=round(total * CACHED_FACTOR, 1),
        graphs_by_kind=(("prompt", prompt), ("decode", decode), ("vision", vision)),
        seconds_by_kind=(("prompt", round(t_prompt, 1)), ("decode", round(t_decode, 1)),
                         ("vision", round(t_vision, 1))),
        mode="lazy" if lazy else "compile",
        recipe_cache=bool(plan.serve.recipe_cache),
    )


def fewer_buckets_hint(plan: Plan) -> str | None:
    """One line when the engine's exponential text strategy would warm markedly fewer buckets (a
    quarter fewer or more) at the same settings (vllm-fork: its strategy variable set to true)."""
    from gaudi_vl.engines.text_buckets import Generator, TextStrategy
    from gaudi_vl.memory import plan_text_buckets

    tb, mem, now = plan.engine.text_buckets, plan.memory, plan.text_buckets
    if tb is None or mem is None or now is None or tb.generator is not Generator.EXT_2D \
            or now.strategy is not TextStrategy.LINEAR:
        return None
    env = {**dict(plan.text_env), tb.strategy_variable: "true"}
    other = plan_text_buckets(plan.engine, plan.serve, mem.max_num_seqs, mem.kv_blocks, mem.block_size, env)
    if other is None or other.graphs > 0.75 * now.graphs:
        return None
    return (f"{tb.strategy_variable}=true would warm {len(other.prompt)} prompt + {len(other.decode)} decode "
            f"text buckets instead of {len(now.prompt)} + {len(now.decode)} (more padding per request)")
