"""The memory model: what a Qwen2.5-VL engine needs on each Gaudi card, before it is launched.

Pure (standard library only). Every term is in bytes PER CARD (per tensor parallel rank), with its
formula below; ``plan_memory`` turns them into the engine's knobs and the resulting KV cache. What
the engine holds and how it splits memory come from its profile (``gaudi_vl.engines``:
``VisionAttention`` and ``MemorySplit``); this module only does the arithmetic.

Engine budget (``Budget``; the profile's ``MemorySplit`` cites the worker code): after the weights
load and a profiling run the engine measures ``free``; ``usable = free * gpu_memory_utilization``;
graphs get ``usable * R`` (``R``: the profile's graph-reserve variable; 0 under ``--enforce-eager``);
the KV cache the rest, less the engine's dummy blocks, in whole blocks rounded down as the engine
rounds. We predict
``free = visible - weights - profile_peak`` (``visible`` = the card's HBM less what the runtime keeps,
``gaudi_vl.devices``). ``free * (1 - gpu_memory_utilization)`` is the margin everything outside the KV
cache and the graphs lives in, above all the vision tower's working memory for the largest image.

Terms (``b`` = dtype bytes, ``tp`` = tensor parallel size, ``C`` = vision hidden 1280, ``I`` = vision
MLP width, ``h`` = vision heads per card, ``d`` = head dim, ``N`` = patches of the bucket, ``k`` =
the engine's ``[N, N]`` masks held, ``e`` = bytes per mask element: 1 (bool) on HPU):

- Weights: every parameter, ``b`` bytes each; vLLM shards the vision tower under TP like the language
  model (vllm ``model_executor/models/qwen2_5_vl.py``: ``QKVParallelLinear`` qkv, ``RowParallelLinear``
  proj/down_proj/merger ``mlp.2``, ``MergedColumnParallelLinear`` gate_up, ``ColumnParallelLinear``
  merger ``mlp.0``); the patch embedding, the norms and row-parallel biases are replicated:
  ``weights = ceil(sharded / tp) * b + replicated * b``.
- KV cache per token: ``2 * layers * max(1, kv_heads // tp) * head_dim * b_kv`` (vLLM replicates KV
  heads when tp > kv_heads), allocated in blocks of ``block_size`` tokens.
- Vision tower peak for one image of N patches (images run one at a time, padded to their bucket):
  the largest of three phases,

  * attention: ``k e N^2`` (masks) plus, per patch, the larger of the rotary step
    ``b (2C + 4C/tp) + 20 C/tp`` (residual, normed input, qkv, the rotated q, and five fp32
    temporaries while k is rotated: vLLM's rotary runs in float) and the attention call itself
    ``b (2C + 5C/tp)`` + (fused, fp32 softmax) ``16 C/tp`` (fp32 q, k, v and output) or (worst case)
    ``h Q N s`` scores with ``Q = N`` query rows (64 when the engine tiles the query) and ``s = 2 + 2``
    bytes (bf16 scores and probabilities) or ``2 + 4 + 4`` with fp32 softmax;
  * MLP: ``k e N^2 + N b (2C + 4I/tp)`` (residual, normed input, gate_up, activation product);
    ``2I/tp`` for a plain MLP (fc1 and its activation: ``VisionSpec.mlp_gated`` off);
  * mask building, when the engine builds masks with a float32 einsum (one mask done, ``4 N^2`` of
    float32 result, ``N^2`` of its bool copy): ``(k - 1) N^2 + 5 N^2 + N C b``; a bool outer
    product costs ``N^2``. The einsum moves to the CPU above 40000 patches, but its float32 result
    is copied back to the device before ``.bool()``, so the device memory is the same.

  ``fused`` (default) is Habana's FusedSDPA: flash-style, no ``[heads, N, N]`` scores held;
  ``worst-case`` materialises them. Calibrated on an H100 against the same designs in PyTorch
  (``tools/measure_vision_memory.py``; ``tools/results/vision_memory_*_h100.json``; BENCHMARKS.md
  "Memory model calibration"), fused through the memory-efficient SDPA kernel, whose additive masks
  cost ``e = 2`` (4 with fp32 softmax) bytes per element there: every measured point within 15%
  (tests/test_memory.py enforces it).
- Graph memory: each compiled vision size keeps its static inputs and output (hidden states
  ``N C b`` in and out, the masks ``k N^2``, fp32 cos and sin ``2 N d 4``): one graph per size of
  the engine's warm-up set (``Plan.warmup``). Text graphs: one per prompt and decode bucket the
  engine warms (``gaudi_vl.engines.text_buckets``, its own generator), each keeping its static
  hidden-state input and output, ``tokens * 2 H b`` with ``tokens = batch * seq`` (prompt) or
  ``batch`` (decode), ``H`` the text hidden size (not sharded by TP): the vision graphs' rule
  (``text_graph_bytes``). An ESTIMATE. Published figures for Llama-3.1-8B on Gaudi2 (BENCHMARKS.md
  "Text graphs"): vllm-fork PR 292 (after PR 252, graphs captured without their activations) puts
  all graphs at batch 256 at 1.566 GB, 7 to 37 KB per token for the bucket sets of max_model_len
  1024 to 4096 (the PR does not say which), bracketing ``2 H b`` = 16 KiB; vllm-gaudi's autocalc
  assumes 10 MB per graph; the older log in vllm-gaudi docs/features/warmup.md@091bbadda10b
  :57-69 (before PR 252: 14.03 GiB for 15 prompt graphs of 9,984 tokens, 161.9 MiB for 48 decode
  graphs of 112 sequences) is 90x above, the activations kept. Budget: where the engine captures
  graphs only while memory lasts (vllm-fork, smallest first) the text graphs get
  ``min(estimate, the engine's default share)``; where it compiles every bucket whatever the memory
  (vllm-gaudi, which then runs out: vllm-gaudi issue 1736) ``max(estimate, default share)``.
- Profile peak (text): the profiling run's prefill of ``max_num_batched_tokens`` tokens,
  ``T b (4 H + 3 I_text / tp)`` (hidden states, residual, gate_up, activation). An estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from gaudi_vl.devices import GIB, DeviceSpec, device_spec, format_bytes
from gaudi_vl.engines import EngineProfile, MemorySplit, Setting, VisionAttention, get_profile
from gaudi_vl.engines.text_buckets import TextBucketInputs, TextBucketSet, text_buckets
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.models import ModelSpec, TextSpec, VisionSpec
from gaudi_vl.settings import ServeSettings

DTYPE_BYTES: dict[str, int] = {
    "bfloat16": 2, "bf16": 2, "float16": 2, "fp16": 2, "half": 2,
    "float32": 4, "fp32": 4, "float": 4,
    "fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1, "fp8_inc": 1,
}
VISION_HEADROOM_FRACTION = 0.15
"""Margin on the vision peak: the calibration tolerance (predictions within 15% of measurements)."""
FIXED_HEADROOM_BYTES = 1 * GIB
"""Margin for host-side image pre-processing buffers and fragmentation (the seed's start-up OOMs)."""
MAX_GPU_MEMORY_UTILIZATION = 0.9
"""Never plan above vLLM's own default."""
MAX_GRAPH_RESERVED = 0.9
MAX_PLANNED_SEQS = 256
DECODE_BS_STEP = 32
"""``VLLM_DECODE_BS_BUCKET_STEP`` default: max_num_seqs is rounded to it (vllm_autocalc_rules.py)."""


class VisionMemory(str, Enum):
    """Which attention memory the vision peak assumes."""

    FUSED = "fused"
    """The engine's fused SDPA: no [heads, N, N] scores held (default)."""
    WORST_CASE = "worst-case"
    """Scores and probabilities materialised for the whole bucket."""


def dtype_bytes(dtype: str) -> int:
    key = dtype.strip().lower()
    if key not in DTYPE_BYTES:
        raise GaudiVLError(f"unknown dtype {dtype!r}", f"use one of {', '.join(sorted(set(DTYPE_BYTES)))}")
    return DTYPE_BYTES[key]


def check_tp(model: ModelSpec, tp: int) -> None:
    """vLLM's sharding rules for Qwen2.5-VL: heads split evenly, KV heads split or replicated.

    vllm ``Qwen2Attention``: ``num_heads % tp == 0``; KV heads: ``kv % tp == 0`` when tp <= kv,
    else ``tp % kv == 0`` (replicated). The vision tower divides its heads and MLP width by tp too
    (``dist_utils.divide`` in vllm's ``Qwen2_5_VisionAttention`` / ``MergedColumnParallelLinear``).
    """
    t, v = model.text, model.vision
    if tp < 1:
        raise GaudiVLError(f"--tp {tp} is below 1", "use --tp 1 or more")
    valid = [n for n in range(1, 9) if tp_ok(model, n)]
    hint = f"valid --tp for {model.name}: {', '.join(map(str, valid))}"
    if t.num_heads % tp:
        raise GaudiVLError(f"--tp {tp} does not divide the {t.num_heads} attention heads", hint)
    if t.num_kv_heads % tp if tp <= t.num_kv_heads else tp % t.num_kv_heads:
        raise GaudiVLError(f"--tp {tp} does not divide (or replicate) the {t.num_kv_heads} KV heads", hint)
    if v.num_heads % tp or v.intermediate_size % tp:
        raise GaudiVLError(
            f"--tp {tp} does not divide the vision tower ({v.num_heads} heads, MLP {v.intermediate_size})",
            hint,
        )


def tp_ok(model: ModelSpec, tp: int) -> bool:
    t, v = model.text, model.vision
    if t.num_heads % tp or v.num_heads % tp or v.intermediate_size % tp:
        return False
    kv = t.num_kv_heads
    return not (kv % tp if tp <= kv else tp % kv)


# ---------------------------------------------------------------- weights


def text_replicated_params(text: TextSpec) -> int:
    """Text parameters every card holds in full: the RMSNorm weights (2 per layer + final)."""
    return text.num_layers * 2 * text.hidden_size + text.hidden_size


def vision_replicated_params(vision: VisionSpec) -> int:
    """Vision parameters every card holds: patch embedding, norms, biases of row-parallel layers."""
    c = vision.hidden_size
    patch_embed = vision.in_channels * vision.temporal_patch_size * vision.patch_size**2 * c
    per_block = 2 * c + c + c  # norm1, norm2, proj bias, down_proj bias
    merger = c + vision.out_hidden_size  # ln_q, mlp.2 bias
    return patch_embed + vision.depth * per_block + merger


def text_weights_bytes(text: TextSpec, tp: int = 1, dtype: int = 2) -> int:
    """``ceil((params - replicated) / tp) * b + replicated * b``."""
    rep = text_replicated_params(text)
    return (-(-(text.params - rep) // tp) + rep) * dtype


def vision_weights_bytes(vision: VisionSpec, tp: int = 1, dtype: int = 2) -> int:
    """``ceil((params - replicated) / tp) * b + replicated * b`` (the tower is TP-sharded in vLLM)."""
    rep = vision_replicated_params(vision)
    return (-(-(vision.params - rep) // tp) + rep) * dtype


def weights_bytes(model: ModelSpec, tp: int = 1, dtype: int = 2) -> int:
    return text_weights_bytes(model.text, tp, dtype) + vision_weights_bytes(model.vision, tp, dtype)


def model_weights_bytes(model: ModelSpec, tp: int = 1, dtype: int = 2, vision_sharded: bool = True
                        ) -> tuple[int, int]:
    """(text, vision) weight bytes per card. Qwen2.5-VL: its own layout (above). Other families: the
    family's parameter counts (``gaudi_vl.families``: MoE totals, every expert held) with the same
    rule, ``ceil((params - replicated) / tp) + replicated``, the replicated part the norms (text) and
    the patch embedding, norms and biases (vision); a tower vLLM does not shard is held whole."""
    fam = model.family
    if fam is None:
        return text_weights_bytes(model.text, tp, dtype), vision_weights_bytes(model.vision, tp, dtype)
    t_rep = min(fam.text_params, text_replicated_params(model.text))
    v_rep = fam.vision_params if not vision_sharded else min(fam.vision_params,
                                                             vision_replicated_params(model.vision))
    text = (-(-(fam.text_params - t_rep) // tp) + t_rep) * dtype
    vision = (-(-(fam.vision_params - v_rep) // tp) + v_rep) * dtype
    return text, vision


# ---------------------------------------------------------------- KV cache


def kv_heads_per_card(text: TextSpec, tp: int = 1) -> int:
    return max(1, text.num_kv_heads // tp)


def kv_bytes_per_token(text: TextSpec, tp: int = 1, dtype: int = 2) -> int:
    """``2 (K and V) * layers * kv_heads_per_card * head_dim * b_kv``."""
    return 2 * text.num_layers * kv_heads_per_card(text, tp) * text.head_dim * dtype


def model_kv_bytes_per_token(model: ModelSpec, tp: int = 1, dtype: int = 2) -> int:
    """KV bytes per token per card; families read layers, KV heads and ``head_dim`` from the family
    (the config's explicit ``head_dim``, Gemma-4's per-layer sizes), KV heads split or replicated."""
    fam = model.family
    if fam is None:
        return kv_bytes_per_token(model.text, tp, dtype)
    share = max(1, fam.kv_heads // tp)
    if fam.kv_elements_per_token:
        return -(-fam.kv_elements_per_token * share // max(1, fam.kv_heads)) * dtype
    return 2 * fam.kv_layers * share * fam.head_dim * dtype


# ---------------------------------------------------------------- vision tower


@dataclass(frozen=True, order=True)
class VisionCall:
    """One tower call: ``patches`` in it (all its images), ``seq`` its longest attention sequence.

    Qwen2.5-VL runs one image padded to its bucket (``seq == patches``: a plain int is read so); the
    other families run a call's images, crops or tiles together, attending per image
    (``gaudi_vl.engines.vllm_gaudi_models.key_call``)."""

    patches: int
    seq: int


def as_call(size: int | VisionCall) -> VisionCall:
    return size if isinstance(size, VisionCall) else VisionCall(size, size)


@dataclass(frozen=True)
class VisionPeak:
    """The vision tower's working memory for one image padded to ``patches``, per card, by phase."""

    patches: int
    masks_bytes: int
    attention_bytes: int
    """Masks plus the attention phase's activations (scores included in the worst case)."""
    mlp_bytes: int
    mask_build_bytes: int

    @property
    def peak_bytes(self) -> int:
        return max(self.attention_bytes, self.mlp_bytes, self.mask_build_bytes)


def vision_peak(
    vision: VisionSpec,
    patches: int,
    attention: VisionAttention,
    *,
    tp: int = 1,
    fp32_softmax: bool = False,
    dtype: int = 2,
    memory: VisionMemory | str = VisionMemory.FUSED,
    mask_bytes: int = 1,
    seq: int | None = None,
) -> VisionPeak:
    """Peak bytes of the engine's vision path for one image of ``patches`` (module docstring).

    ``mask_bytes`` is the size of one mask element: 1 (bool) on HPU; the GPU calibration's fused
    kernel takes additive masks of 2 (bf16) or 4 (fp32) bytes. ``seq`` (default ``patches``) is the
    longest attention sequence when a call attends per image: ``[seq, seq]`` masks and scores per
    image, ``patches / seq`` of them; an engine that holds no masks (``masks_held`` 0) builds none.
    """
    memory = VisionMemory(memory)
    n, c, i, b = patches, vision.hidden_size, vision.intermediate_size, dtype
    s = n if seq is None else max(1, min(seq, n))
    per_seq = -(-n // s)
    heads = max(1, vision.num_heads // tp)
    k = attention.masks_held
    masks = k * mask_bytes * s * s * per_seq
    rope = n * 2 * vision.head_dim * 4
    rotary = n * (b * (2 * c + 4 * c // tp) + 20 * c // tp)
    call = n * b * (2 * c + 5 * c // tp)
    if memory is VisionMemory.WORST_CASE:
        per_score = (2 + 4 + 4) if fp32_softmax else (2 + 2)
        call += heads * attention.query_rows(s) * s * per_score
    elif fp32_softmax:
        call += n * 16 * c // tp
    attn = masks + rope + max(rotary, call)
    mlp = masks + rope + n * b * (2 * c + (4 if vision.mlp_gated else 2) * i // tp)
    # float32 einsum + its bool copy beside the masks already built, or one bool outer product
    build = ((k - 1) * n * n + 5 * n * n if attention.mask_built_in_float else n * n) + n * c * b
    if k == 0:
        build = 0  # no masks to build
    return VisionPeak(n, masks, attn, mlp, build)


def vision_peak_bytes(
    vision: VisionSpec, patches: int, attention: VisionAttention, **kwargs: object
) -> int:
    return vision_peak(vision, patches, attention, **kwargs).peak_bytes  # type: ignore[arg-type]


def vision_graph_bytes(vision: VisionSpec, patches: int, attention: VisionAttention, dtype: int = 2,
                       seq: int | None = None) -> int:
    """Static inputs and output one captured vision graph keeps: ``k N^2 + N (2 C b + 8 d)`` (masks
    ``k seq N`` when the call attends per image of ``seq``)."""
    n = patches
    s = n if seq is None else max(1, min(seq, n))
    return attention.masks_held * s * n + n * (2 * vision.hidden_size * dtype + 2 * vision.head_dim * 4)


# ---------------------------------------------------------------- text graphs

def text_graph_token_bytes(text: TextSpec, tp: int = 1, dtype: int = 2) -> int:
    """Graph memory per token of a text graph: ``2 H b``, its static hidden-state input and output (an
    estimate; module docstring). ``tp`` does not divide it: every rank holds the full hidden states."""
    del tp
    return 2 * text.hidden_size * dtype


def text_graph_budget(estimate: int, default_share: float, gated: bool) -> float:
    """Graph memory for the text graphs: ``min(estimate, default)`` where the engine stops capturing
    when memory runs out, else ``max(estimate, default)`` (module docstring)."""
    return min(estimate, default_share) if gated else max(estimate, default_share)


def text_graph_bytes(text: TextSpec, buckets: TextBucketSet, tp: int = 1, dtype: int = 2) -> tuple[int, int]:
    """(prompt, decode) graph bytes of the buckets the engine captures as graphs."""
    per = text_graph_token_bytes(text, tp, dtype)
    prompt = sum(TextBucketSet.tokens(b, True) for b in buckets.prompt_graphed) * per
    decode = sum(TextBucketSet.tokens(b, False) for b in buckets.decode) * per
    return prompt, decode


def plan_text_buckets(
    engine: EngineProfile, serve: ServeSettings, max_num_seqs: int, kv_blocks: int, block_size: int,
    env: Mapping[str, str] | None = None,
) -> TextBucketSet | None:
    """The text buckets ``engine`` warms for these settings (None: it has no text buckets, or warm-up
    is skipped or eager)."""
    if engine.text_buckets is None or serve.skip_warmup or serve.enforce_eager:
        return None
    inputs = TextBucketInputs(max_num_seqs, serve.batched_tokens, serve.max_model_len, block_size,
                              max(1, kv_blocks), dict(env or {}))
    return text_buckets(engine.text_buckets, inputs)


# ---------------------------------------------------------------- text profile run


def text_profile_peak_bytes(text: TextSpec, batched_tokens: int, *, tp: int = 1, dtype: int = 2) -> int:
    """Prefill activations of the profiling run: ``T * b * (4 h + 3 i / tp)`` (an estimate)."""
    return batched_tokens * dtype * (4 * text.hidden_size + 3 * text.intermediate_size // tp)


# ---------------------------------------------------------------- the engine's budget


@dataclass(frozen=True)
class Budget:
    """The engine's own memory arithmetic on one card, from what it measures (``free``) and its knobs.

    The memory planner predicts ``free`` and chooses the knobs; the doctor reads them from a log (it
    may not know the KV bytes per token: the KV terms are then zero).
    """

    free_bytes: float
    gpu_memory_utilization: float
    graph_reserved_mem: float
    split: MemorySplit
    kv_bytes_per_token: int = 0
    block_size: int = 128
    enforce_eager: bool = False

    def utilization_leaving(self, margin_bytes: float) -> float:
        """The largest ``gpu_memory_utilization`` (in steps of 0.01) that leaves ``margin_bytes`` of the
        free memory outside the KV cache and graphs (``free * (1 - u) >= margin``); <= 0 if none."""
        if self.free_bytes <= 0:
            return 0.0
        return _round_down(1 - margin_bytes / self.free_bytes)

    @property
    def usable_bytes(self) -> int:
        return int(self.free_bytes * self.gpu_memory_utilization)

    @property
    def graph_reserved(self) -> float:
        return self.split.graph_reserved(self.graph_reserved_mem, self.enforce_eager)

    @property
    def graph_bytes(self) -> int:
        return int(self.usable_bytes * self.graph_reserved)

    @property
    def margin_bytes(self) -> int:
        """``free * (1 - gpu_memory_utilization)``: what the vision tower and everything else run in."""
        return int(self.free_bytes - self.usable_bytes)

    @property
    def block_bytes(self) -> int:
        return self.kv_bytes_per_token * self.block_size

    @property
    def kv_blocks(self) -> int:
        if self.block_bytes <= 0:
            return 0
        return self.split.kv_blocks(
            self.free_bytes, self.gpu_memory_utilization, self.graph_reserved_mem, self.block_bytes,
            enforce_eager=self.enforce_eager,
        )

    @property
    def kv_cache_bytes(self) -> int:
        return self.kv_blocks * self.block_bytes

    @property
    def kv_tokens(self) -> int:
        return self.kv_blocks * self.block_size

    def tokens_needed(self, max_model_len: int) -> int:
        """KV tokens one sequence of ``max_model_len`` needs, in whole blocks."""
        return -(-max_model_len // self.block_size) * self.block_size


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class MemoryPlan:
    """Engine memory settings for one model, device and bucket plan, and what they leave for KV.

    All ``*_bytes`` are per card. ``budget`` recomputes the engine's split from the fields.
    """

    engine: str
    device: str
    hbm_bytes: int
    runtime_reserved_bytes: int
    tensor_parallel_size: int
    text_weights_bytes: int
    vision_weights_bytes: int
    profile_peak_bytes: int
    largest_bucket_patches: int
    vision_memory: str
    fp32_softmax_vision: bool
    vision_peak_bytes: int
    vision_peak_worst_case_bytes: int
    vision_graphs: int
    vision_graph_bytes: int
    gpu_memory_utilization: float
    graph_reserved_mem: float
    graph_prompt_ratio: float
    """Prompt share of graph memory (``Setting.GRAPH_PROMPT_RATIO``, for engines that read it)."""
    graph_multimodal_ratio: float
    """VISION share of the prompt graph memory (``Setting.GRAPH_MULTIMODAL_RATIO``, engines.vllm_fork)."""
    max_num_seqs: int
    kv_bytes_per_token: int
    block_size: int
    max_model_len: int
    kv_dtype: str
    enforce_eager: bool = False
    text_strategy: str = ""
    """The engine's text bucketing strategy in force (empty: no text buckets planned)."""
    text_prompt_graphs: int = 0
    """Prompt buckets the engine warms (``gaudi_vl.engines.text_buckets``)."""
    text_prompt_graphed: int = 0
    """Of those, the ones it would capture as graphs (capture-size limit)."""
    text_decode_graphs: int = 0
    text_prompt_graph_estimate_bytes: int = 0
    text_decode_graph_estimate_bytes: int = 0
    text_graph_bytes: int = 0
    """Graph memory kept for the text graphs (``text_graph_budget``)."""
    vision_seq_patches: int = 0
    """The largest call's longest attention sequence, for families whose calls attend per image
    (``VisionCall``); 0: one image padded to its bucket (Qwen2.5-VL)."""

    __json_properties__ = (
        "weights_bytes", "free_bytes", "usable_bytes", "graph_reserve_bytes", "kv_cache_bytes", "kv_blocks",
        "kv_tokens", "concurrency", "outside_kv_bytes",
    )

    @property
    def weights_bytes(self) -> int:
        return self.text_weights_bytes + self.vision_weights_bytes

    @property
    def free_bytes(self) -> int:
        """``hbm - runtime_reserved - weights - profile_peak``: what the engine measures after profiling."""
        return self.hbm_bytes - self.runtime_reserved_bytes - self.weights_bytes - self.profile_peak_bytes

    @property
    def budget(self) -> Budget:
        return Budget(
            self.free_bytes, self.gpu_memory_utilization, self.graph_reserved_mem,
            _split(get_profile(self.engine)), self.kv_bytes_per_token, self.block_size, self.enforce_eager,
        )

    @property
    def usable_bytes(self) -> int:
        return self.budget.usable_bytes

    @property
    def graph_reserve_bytes(self) -> int:
        return self.budget.graph_bytes

    @property
    def kv_cache_bytes(self) -> int:
        return self.budget.kv_cache_bytes

    @property
    def kv_blocks(self) -> int:
        return self.budget.kv_blocks

    @property
    def kv_tokens(self) -> int:
        return self.budget.kv_tokens

    @property
    def concurrency(self) -> float:
        """Sequences of ``max_model_len`` tokens the KV cache holds at once (vLLM's "max concurrency")."""
        return round(self.kv_tokens / self.max_model_len, 2)

    @property
    def outside_kv_bytes(self) -> int:
        """``free * (1 - gpu_memory_utilization)``: the margin where the vision tower runs."""
        return self.budget.margin_bytes

    def summary_lines(self) -> list[str]:
        g = format_bytes
        softmax = ", fp32 softmax" if self.fp32_softmax_vision else ""
        other = "worst case (scores held)" if self.vision_memory == VisionMemory.FUSED.value else "fused"
        other_bytes = (self.vision_peak_worst_case_bytes if other.startswith("worst")
                       else self.vision_peak_bytes)
        lines = [
            (f"device {self.device} x{self.tensor_parallel_size}: {g(self.hbm_bytes)} per card; weights "
             f"{g(self.weights_bytes)} (text {g(self.text_weights_bytes)}, vision "
             f"{g(self.vision_weights_bytes)}), profile peak ~{g(self.profile_peak_bytes)} -> free "
             f"{g(self.free_bytes)}"),
            (f"vision tower peak for {self._largest_label}: {g(self._peak)} "
             f"({self.vision_memory}{softmax}; {other}: {g(other_bytes)}); "
             f"{self.vision_graphs} vision graphs {g(self.vision_graph_bytes)}"),
            (f"gpu_memory_utilization {self.gpu_memory_utilization:g}: usable {g(self.usable_bytes)}, "
             f"graphs {g(self.graph_reserve_bytes)} (reserved {self.graph_reserved_mem:g}), "
             f"KV {g(self.kv_cache_bytes)}; {g(self.outside_kv_bytes)} left for the vision tower"),
            self.graph_budget_line(),
            (f"KV cache: {self.kv_blocks:,} blocks of {self.block_size} = {self.kv_tokens:,} tokens "
             f"({self.kv_bytes_per_token:,} B/token, {self.kv_dtype}); {self.concurrency:g} sequences of "
             f"{self.max_model_len:,} tokens; max_num_seqs {self.max_num_seqs}"),
        ]
        return lines

    @property
    def _largest_label(self) -> str:
        if not self.vision_seq_patches:
            return f"bucket {self.largest_bucket_patches}"
        return (f"its largest call, {self.largest_bucket_patches:,} patches (images of up to "
                f"{self.vision_seq_patches:,})")

    @property
    def text_graph_estimate_bytes(self) -> int:
        return self.text_prompt_graph_estimate_bytes + self.text_decode_graph_estimate_bytes

    def graph_budget_line(self) -> str:
        """One line: text and vision graph counts and bytes, and the one reserve that holds them."""
        g = format_bytes
        if self.enforce_eager:
            return "graph budget: none (--enforce-eager: no graphs)"
        if not self.text_strategy:
            text = "text graphs: engine default share (buckets not modelled)"
        else:
            capped = (" (the engine default share: graphs beyond it are not captured)"
                      if self.text_graph_bytes < self.text_graph_estimate_bytes else
                      " (the engine default share)" if self.text_graph_bytes > self.text_graph_estimate_bytes
                      else "")
            text = (f"text graphs ({self.text_strategy}): {self.text_prompt_graphs} prompt "
                    f"({self.text_prompt_graphed} graphed, ~{g(self.text_prompt_graph_estimate_bytes)}) + "
                    f"{self.text_decode_graphs} decode (~{g(self.text_decode_graph_estimate_bytes)}), "
                    f"budget {g(self.text_graph_bytes)}{capped}")
        var = get_profile(self.engine).variable(Setting.GRAPH_RESERVED_MEM)
        name = var.name if var is not None else "graph reserve"
        return (f"graph budget {g(self.graph_reserve_bytes)} ({name} "
                f"{self.graph_reserved_mem:g}) = {text} + {self.vision_graphs} vision graphs "
                f"{g(self.vision_graph_bytes)}; graph memory is an estimate (see BENCHMARKS.md)")

    @property
    def _peak(self) -> int:
        return self.vision_peak_bytes if self.vision_memory == VisionMemory.FUSED.value \
            else self.vision_peak_worst_case_bytes


def vision_attention_for(engine: EngineProfile, model: ModelSpec) -> VisionAttention:
    """The attention the model's tower runs on ``engine``: the profile's (Qwen2.5-VL) or, for the
    other families, its per-model facts (``EngineProfile.multimodal_models``)."""
    if model.family is None:
        assert engine.attention is not None
        return engine.attention
    if engine.multimodal_models is None:
        raise GaudiVLError(f"{model.name} ({model.model_type}) is not served by --target {engine.name}: "
                           "it plans Qwen2.5-VL only", "pass --target vllm-gaudi")
    return engine.multimodal_models.attention(model.model_type)  # type: ignore[return-value]


def _split(engine: EngineProfile) -> MemorySplit:
    if engine.memory is None or engine.attention is None:
        raise GaudiVLError(f"gaudi-vl does not plan memory for {engine.name}", "pass an HPU --target")
    return engine.memory


class InfeasiblePlan(GaudiVLError):
    """A plan that does not fit; ``binding`` names the constraint that fails first."""

    def __init__(self, binding: str, message: str, hint: str) -> None:
        super().__init__(message, hint)
        self.binding = binding


def _round_down(x: float, step: float = 0.01) -> float:
    return math.floor(x / step + 1e-9) * step


def _round_up(x: float, step: float = 0.01) -> float:
    return math.ceil(x / step - 1e-9) * step


def seqs_from_concurrency(concurrency: float) -> int:
    """vllm_autocalc_rules.calc_MAX_NUM_SEQS: below the decode step a power of two, else a multiple."""
    if concurrency < 1:
        return 0
    if concurrency < DECODE_BS_STEP:
        return 2 ** int(math.floor(math.log2(concurrency)))
    return min(MAX_PLANNED_SEQS, int(concurrency // DECODE_BS_STEP) * DECODE_BS_STEP)


def vision_margin_bytes(peak: int) -> int:
    """What must stay outside the KV cache and graphs: the vision peak + 15% + 1 GiB."""
    return int(peak * (1 + VISION_HEADROOM_FRACTION)) + FIXED_HEADROOM_BYTES


@dataclass(frozen=True)
class _Shortfall:
    binding: str
    message: str


def _evaluate(
    model: ModelSpec, device: DeviceSpec, serve: ServeSettings, largest_size: int | VisionCall,
    graph_sizes: Sequence[int | VisionCall], text_env: Mapping[str, str] | None = None,
) -> MemoryPlan | _Shortfall:
    """The plan, or the first constraint that fails. Pure and cheap: hints re-run it on variants."""
    engine = serve.engine
    split, attention = _split(engine), vision_attention_for(engine, model)
    top = as_call(largest_size)
    largest = top.patches
    sharded = model.family is None or engine.multimodal_models is None or \
        engine.multimodal_models.vision_sharded(model.model_type)
    tp = device.cards
    b = dtype_bytes(serve.dtype)
    kvb = b if serve.kv_dtype == "auto" else dtype_bytes(serve.kv_dtype)
    fp32 = serve.fp32_softmax_vision
    if fp32 is None:
        fp32 = attention.fp32_softmax_vision_default
    block = engine.block_size or 128
    w_text, w_vision = model_weights_bytes(model, tp, b, sharded)
    weights = w_text + w_vision
    profile = text_profile_peak_bytes(model.text, serve.batched_tokens, tp=tp, dtype=b)
    free = device.visible_bytes - weights - profile
    per_token = model_kv_bytes_per_token(model, tp, kvb)
    g = format_bytes

    def peak(memory: VisionMemory) -> int:
        return vision_peak_bytes(model.vision, largest, attention, tp=tp, fp32_softmax=fp32, dtype=b,
                                 memory=memory, seq=top.seq)

    chosen = VisionMemory(serve.vision_memory)
    vpeak = peak(chosen)
    margin = vision_margin_bytes(vpeak)
    # one graph per distinct padded size (ints) or per compiled key (calls, equal ones kept)
    ints = sorted({n for n in graph_sizes if not isinstance(n, VisionCall)})
    sizes = [as_call(n) for n in ints] + sorted(n for n in graph_sizes if isinstance(n, VisionCall))
    mode = serve.execution
    # no HPU graphs (--enforce-eager, or torch.compile mode): the compiled vision sizes hold no graph memory
    held = not serve.enforce_eager and (mode is None or mode.vision_graph_memory)
    vgraphs = 0 if not held else sum(
        vision_graph_bytes(model.vision, c.patches, attention, b, c.seq) for c in sizes)
    need_tokens = -(-serve.max_model_len // block) * block
    where = f"{model.name} on {device.name} x{tp}"
    largest_what = "the largest bucket" if model.family is None else "its largest encoder call"

    if free <= need_tokens * per_token:
        return _Shortfall("weights", (
            f"{where}: weights {g(weights)} + profiling ~{g(profile)} leave {g(max(free, 0))} per card; one "
            f"{serve.max_model_len}-token sequence needs {g(need_tokens * per_token)} of KV cache"))
    max_util = min(MAX_GPU_MEMORY_UTILIZATION, Budget(free, 0.0, 0.0, split).utilization_leaving(margin))
    if serve.gpu_memory_utilization is None:
        util = max_util
        if util <= 0:
            return _Shortfall("vision peak", (
                f"{where}: the vision tower needs {g(vpeak)} for {largest_what} ({largest} patches, "
                f"{chosen.value} attention{', fp32 softmax' if fp32 else ''}) + 15% + 1 GiB, more than the "
                f"{g(free)} free per card after weights and profiling"))
    else:
        util = serve.gpu_memory_utilization
        if free * (1 - util) < margin:
            return _Shortfall("utilization", (
                f"{where}: --gpu-memory-utilization {util:g} leaves {g(free * (1 - util))} outside the "
                f"KV cache and graphs; the vision tower needs {g(margin)} there for {largest_what} "
                f"({largest} patches, {chosen.value} attention, with 15% + 1 GiB headroom)"))
    usable = free * util
    text_share = split.graph_reserved_default
    text_cap = usable * text_share
    gated = engine.text_buckets is None or engine.text_buckets.capture_gated_by_memory
    text_prompt_est = text_decode_est = 0
    text_set: TextBucketSet | None = None

    def seqs_for(b: Budget) -> int:
        if serve.max_num_seqs is not None:
            return serve.max_num_seqs
        seqs = max(1, seqs_from_concurrency(b.kv_tokens / serve.max_model_len))
        limit = engine.max_num_seqs_for(serve.batched_tokens)  # more is refused at start-up
        return seqs if limit is None else min(seqs, limit)

    if serve.enforce_eager:
        reserved = 0.0
    elif mode is not None and not mode.hpu_graphs:
        # torch.compile mode: the text buckets are still compiled (counted for warm-up), but no HPU graph
        # holds their shapes or the vision sizes; the engine still keeps its default share from the KV
        # cache (engines.vllm_gaudi: hpu_worker.py:409-414), and that is the reserve
        reserved = _round_up(text_cap / usable)
        trial = Budget(free, util, reserved, split, per_token, block, serve.enforce_eager)
        text_set = plan_text_buckets(engine, serve, seqs_for(trial), trial.kv_blocks, block, text_env)
    else:
        # The text buckets depend on the KV blocks and max_num_seqs, which depend on the reserve:
        # start from the engine's default share (an upper bound) and iterate to a fixed point.
        reserved = _round_up((text_cap + vgraphs) / usable)
        for _ in range(6):
            trial = Budget(free, util, reserved, split, per_token, block, serve.enforce_eager)
            text_set = plan_text_buckets(engine, serve, seqs_for(trial), trial.kv_blocks, block, text_env)
            if text_set is None or not text_set.modelled:
                break
            text_prompt_est, text_decode_est = text_graph_bytes(model.text, text_set, tp, b)
            text_need = text_graph_budget(text_prompt_est + text_decode_est, text_cap, gated)
            again = _round_up((text_need + vgraphs) / usable)
            if again == reserved:
                break
            reserved = max(again, reserved) if _ == 4 else again
        if reserved > MAX_GRAPH_RESERVED:
            return _Shortfall("graphs", (
                f"{where}: {len(sizes)} vision graphs need {g(vgraphs)} beside the text graphs "
                f"(~{g(text_prompt_est + text_decode_est)}, at least the engine's {text_share:g} share where "
                f"it graphs every bucket), more than {MAX_GRAPH_RESERVED:g} of the {g(usable)} usable"))
    modelled = text_set is not None and text_set.modelled
    text_est = text_prompt_est + text_decode_est
    text_budget = text_graph_budget(text_est, text_cap, gated) if modelled else text_cap
    budget = Budget(free, util, reserved, split, per_token, block, serve.enforce_eager)
    if budget.kv_tokens < need_tokens:
        return _Shortfall("kv", (
            f"{where}: the KV cache gets {budget.kv_tokens:,} tokens ({g(budget.kv_cache_bytes)}) after "
            f"graphs {g(budget.graph_bytes)} and the vision margin {g(budget.margin_bytes)}; one "
            f"{serve.max_model_len}-token sequence needs {need_tokens:,}"))

    prompt_default = _default_ratio(engine, Setting.GRAPH_PROMPT_RATIO)
    text_graph = text_budget
    # decode graphs first (a full decode batch runs most of the time; docs/features/warmup.md:38),
    # prompt graphs in what is left: the engine then captures its smallest prompt graphs only
    text_prompt = text_budget - min(text_decode_est, text_budget) if modelled else text_graph * prompt_default
    if vgraphs:
        prompt_ratio = min(0.99, _round_up((text_prompt + vgraphs) / (text_graph + vgraphs)))
        # The engine gives ``ratio * prompt share`` to the VISION graphs (engines.vllm_fork).
        mm_ratio = min(0.99, _round_up(vgraphs / (text_prompt + vgraphs)))
    else:
        prompt_ratio, mm_ratio = prompt_default, _default_ratio(engine, Setting.GRAPH_MULTIMODAL_RATIO)
    seqs = seqs_for(budget)
    return MemoryPlan(
        engine=engine.name,
        device=device.name,
        hbm_bytes=device.hbm_bytes,
        runtime_reserved_bytes=device.runtime_reserved_bytes,
        tensor_parallel_size=tp,
        text_weights_bytes=w_text,
        vision_weights_bytes=w_vision,
        profile_peak_bytes=profile,
        largest_bucket_patches=largest,
        vision_memory=chosen.value,
        fp32_softmax_vision=fp32,
        vision_peak_bytes=peak(VisionMemory.FUSED),
        vision_peak_worst_case_bytes=peak(VisionMemory.WORST_CASE),
        vision_seq_patches=0 if model.family is None else top.seq,
        vision_graphs=len(sizes) if held else 0,
        vision_graph_bytes=vgraphs,
        gpu_memory_utilization=round(util, 4),
        graph_reserved_mem=round(reserved, 4),
        graph_prompt_ratio=round(prompt_ratio, 4),
        graph_multimodal_ratio=round(mm_ratio, 4),
        max_num_seqs=seqs,
        kv_bytes_per_token=per_token,
        block_size=block,
        max_model_len=serve.max_model_len,
        kv_dtype=serve.dtype if serve.kv_dtype == "auto" else serve.kv_dtype,
        enforce_eager=serve.enforce_eager,
        text_strategy=text_set.strategy.value if modelled and text_set is not None else "",
        text_prompt_graphs=len(text_set.prompt) if modelled and text_set is not None else 0,
        text_prompt_graphed=len(text_set.prompt_graphed) if modelled and text_set is not None else 0,
        text_decode_graphs=len(text_set.decode) if modelled and text_set is not None else 0,
        text_prompt_graph_estimate_bytes=text_prompt_est,
        text_decode_graph_estimate_bytes=text_decode_est,
        text_graph_bytes=0 if serve.enforce_eager else int(text_budget),
    )


def _default_ratio(engine: EngineProfile, setting: Setting) -> float:
    var = engine.variable(setting)
    return float(var.default) if var is not None else 0.3


def plan_memory(
    model: ModelSpec,
    device: DeviceSpec,
    serve: ServeSettings,
    largest_bucket: int | VisionCall,
    graph_sizes: Sequence[int | VisionCall],
    text_env: Mapping[str, str] | None = None,
) -> MemoryPlan:
    """Choose the engine's memory settings, or say what fails first and only changes that help.

    ``gpu_memory_utilization`` is the largest value (<= 0.9) that leaves the vision peak of the
    largest bucket, plus 15% and 1 GiB, outside the KV cache and graphs; the graph reserve
    holds the text graphs' default share plus one graph per compiled vision size (``graph_sizes``,
    the engine's warm-up set). Given values (utilization, max_num_seqs) are checked, not chosen.
    A plan that does not fit raises ``InfeasiblePlan``: its ``binding`` names the constraint and its
    hint lists only changes that were re-planned here and fit (see ``changes_that_fit``).
    """
    check_tp(model, device.cards)
    result = _evaluate(model, device, serve, largest_bucket, graph_sizes, text_env)
    if isinstance(result, MemoryPlan):
        return result
    hints = changes_that_fit(model, device, serve, largest_bucket, graph_sizes, result.binding, text_env)
    raise InfeasiblePlan(result.binding, result.message, "; or ".join(hints) or "use a larger device")


def changes_that_fit(
    model: ModelSpec, device: DeviceSpec, serve: ServeSettings, largest: int | VisionCall,
    graph_sizes: Sequence[int | VisionCall], binding: str, text_env: Mapping[str, str] | None = None,
) -> list[str]:
    """The single changes that turn this infeasible plan into a feasible one, each checked by
    re-planning (a change that does not help is never suggested)."""
    def fits(dev: DeviceSpec = device, **changes: object) -> bool:
        return isinstance(_evaluate(model, dev, replace(serve, **changes), largest, graph_sizes, text_env),
                          MemoryPlan)

    out: list[str] = []
    util = serve.gpu_memory_utilization
    if util is not None:
        ok = [u / 100 for u in range(1, 100) if fits(gpu_memory_utilization=u / 100)]
        if ok and util > max(ok):
            out.append(f"lower --gpu-memory-utilization to {max(ok):g}")
        elif ok and util < min(ok):
            out.append(f"raise --gpu-memory-utilization to {min(ok):g} (at most {max(ok):g})")
    for tp in (2, 4, 8):
        if tp > device.cards and tp_ok(model, tp):
            dev = device_spec(device.name, memory=device.hbm_bytes if device.runtime_reserved_bytes == 0
                              else None, tp=tp)
            if fits(dev, tensor_parallel_size=tp):
                out.append(f"raise --tp to {tp}")
                break
    if serve.fp32_softmax_vision and fits(fp32_softmax_vision=False):
        out.append("drop --fp32-softmax-vision")
    if serve.kv_dtype == "auto" and serve.engine.kv_cache_dtypes and fits(kv_dtype="fp8"):
        out.append("--kv-dtype fp8 (halves the KV cache per token)")
    if binding in ("weights", "kv") and serve.max_num_batched_tokens is None and serve.max_model_len > 8192 \
            and fits(max_num_batched_tokens=8192) and _engine_starts(serve, max_num_batched_tokens=8192):
        out.append("--max-num-batched-tokens 8192 (a smaller profiling run)")
    longest = _longest(lambda n: fits(max_model_len=n), serve.max_model_len, serve.engine.block_size or 128)
    if longest:
        out.append(f"--max-model-len at most {longest}")
    return out


def _engine_starts(serve: ServeSettings, **changes: object) -> bool:
    """Whether the engine accepts the changed settings at start-up (its profile's scheduler rule),
    so that no hint suggests a command the engine refuses."""
    s = replace(serve, **changes)
    try:
        s.engine.check_scheduler(s.max_model_len, s.max_num_seqs or 1, s.batched_tokens)
    except GaudiVLError:
        return False
    return True


def _longest(fits: Callable[[int], bool], current: int, step: int) -> int:
    """The largest multiple of ``step`` below ``current`` for which ``fits`` holds (0: none)."""
    lo, hi = 0, current // step
    if hi == 0 or not fits(step):
        return 0
    lo = 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid * step):
            lo = mid
        else:
            hi = mid
    return lo * step if lo * step < current else 0
