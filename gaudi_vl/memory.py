"""The memory model: what a Qwen2.5-VL engine needs on each Gaudi card, before it is launched.

Pure (standard library only). Every term is in bytes PER CARD (per tensor parallel rank), with its
formula below; ``plan_memory`` turns them into the engine's knobs and the resulting KV cache.

Engine budget (vllm-gaudi ``vllm_gaudi/v1/worker/hpu_worker.py``, ``HPUWorker.determine_available_memory``;
HabanaAI/vllm-fork ``vllm/worker/hpu_worker.py`` does the same): after the weights load and a profiling
run, ``free = torch.hpu.mem_get_info()[0]``; ``usable = free * gpu_memory_utilization``; the graph
reserve is ``usable * VLLM_GRAPH_RESERVED_MEM`` and the KV cache gets ``usable * (1 -
VLLM_GRAPH_RESERVED_MEM)``. We predict ``free = visible - weights - profile_peak`` (``visible`` = the
card's HBM less what the runtime keeps, ``gaudi_vl.devices``). The rest,
``free * (1 - gpu_memory_utilization)``, is the margin that everything outside the KV cache and the
graphs must live in -- above all the vision tower's working memory for the largest image.

Terms (``b`` = dtype bytes, ``tp`` = tensor parallel size, ``C`` = vision hidden 1280, ``I`` = vision
MLP width, ``H`` = vision heads, ``N`` = patches of the bucket):

- Weights: every parameter of the text model and the vision tower, ``b`` bytes each. vLLM shards
  the vision tower under TP like the language model (vllm ``model_executor/models/qwen2_5_vl.py``:
  ``QKVParallelLinear`` qkv, ``RowParallelLinear`` proj/down_proj/merger ``mlp.2``,
  ``MergedColumnParallelLinear`` gate_up, ``ColumnParallelLinear`` merger ``mlp.0``, heads per
  partition ``num_heads / tp``); only the patch embedding (``ReplicatedLinear``), the norms and the
  biases of row-parallel layers are replicated. So per card:
  ``weights = ceil(sharded / tp) * b + replicated * b``.
- KV cache per token: ``2 * layers * kv_heads_per_card * head_dim * b_kv`` with
  ``kv_heads_per_card = max(1, kv_heads // tp)`` (vLLM replicates KV heads when tp > kv_heads);
  allocated in blocks of ``block_size`` (128 on HPU) tokens.
- Vision tower peak for one image of ``N`` patches (the largest bucket): images run one at a time,
  padded to the bucket (vllm-gaudi ``vllm_gaudi/models/qwen2_5_vl.py``, ``get_image_embeds``), and
  every layer, window or full, runs one dense ``FusedSDPA`` over the whole bucket with an ``[N, N]``
  boolean mask (``create_block_diagonal_attention_mask``: einsum in float32, then ``.bool()``; the
  einsum runs on the CPU above 40000 patches). With ``h = H / tp`` heads per card and ``Q = N`` query
  rows (64 when ``HPU_Attention`` tiles the query above 65536 patches), the peak is the largest of:

  * attention: ``2 N^2`` (window and full bool masks) ``+ h * Q * N * s`` (scores and probabilities,
    ``s = 2 + 2`` in bf16; ``s = 2 + 4 + 4`` with ``VLLM_FP32_SOFTMAX_VISION``: bf16 scores, their
    fp32 copy, fp32 probabilities) ``+ N * b * (4 C + 10 C / tp)`` (residual, normed input, qkv,
    rotated q and k) ``+ N * 2 * head_dim * 4`` (fp32 cos and sin);
  * MLP: ``2 N^2 + N * b * (2 C + 4 I / tp)`` (residual, normed input, gate_up, activation product);
  * mask building: ``N^2 + 4 N^2 + N^2`` (one mask done, the float32 einsum result, its bool copy);
    zero on the device above 40000 patches.

  Calibrated on an H100 against the same design in PyTorch (``tools/measure_vision_memory.py``,
  ``tools/results/vision_memory_h100.json``, BENCHMARKS.md "Memory model calibration"): measured
  peaks fit ``66.3 N^2 + 12 kB N`` (bf16) and ``162.0 N^2 + 19 kB N`` (fp32 softmax), and the formulas
  above (``66 N^2 + 18.6 kB N`` and ``162 N^2 + 18.6 kB N`` for the 7B tower) stay within 15% of every
  measured point (test_memory.py enforces it).
- Graph memory: each captured vision graph keeps its static inputs and output (hidden states
  ``N*C*b``, the two masks ``2 N^2``, fp32 cos/sin ``2*N*head_dim*4``, output ``N*C*b``); warm-up
  captures ``warmup_graphs`` of them per bucket (5 aspect ratios; graphs of equal shapes may be
  shared by the engine, so this is an upper bound). Text graphs keep the engine's default share
  (``VLLM_GRAPH_RESERVED_MEM`` 0.1 of usable, split 0.3 prompt / 0.7 decode as in the docs).
- Profile peak (text): the profiling run's prefill of ``max_num_batched_tokens`` tokens,
  ``T * b * (4 h + 3 i/tp)`` (hidden states, residual, gate_up, activation). An estimate, not
  calibrated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gaudi_vl.devices import GIB, DeviceSpec, format_bytes
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PATCHES_PER_WINDOW, PIXELS_PER_PATCH
from gaudi_vl.models import ModelSpec, TextSpec, VisionSpec

DTYPE_BYTES: dict[str, int] = {
    "bfloat16": 2, "bf16": 2, "float16": 2, "fp16": 2, "half": 2,
    "float32": 4, "fp32": 4, "float": 4,
    "fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1, "fp8_inc": 1,
}
BLOCK_SIZE = 128
"""HPU engines run with ``--block-size 128`` (the seed's launch command)."""
MASK_ON_CPU_ABOVE = 40000
"""``create_block_diagonal_attention_mask`` runs the einsum on the CPU above this many patches."""
QUERY_TILE_ABOVE = 65536
"""``HPU_Attention.forward`` tiles the query in blocks of 64 above this many tokens."""
QUERY_TILE = 64
ENGINE_GRAPH_RESERVED_MEM = 0.1
"""vllm-gaudi's default ``VLLM_GRAPH_RESERVED_MEM`` (hpu_worker.py), kept for the text graphs."""
ENGINE_GRAPH_PROMPT_RATIO = 0.3
"""The prompt share of text graph memory (vllm-gaudi docs/features/warmup.md example, fork default)."""
VISION_HEADROOM_FRACTION = 0.15
"""Margin on the vision peak: the calibration tolerance (predictions within 15% of measurements)."""
FIXED_HEADROOM_BYTES = 1 * GIB
"""Margin for host-side image pre-processing buffers and fragmentation (the seed's start-up OOMs)."""
MAX_GPU_MEMORY_UTILIZATION = 0.9
"""Never plan above vLLM's own default."""
MAX_PLANNED_SEQS = 256
DECODE_BS_STEP = 32
"""``VLLM_DECODE_BS_BUCKET_STEP`` default: max_num_seqs is rounded to it (vllm_autocalc_rules.py)."""


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
    valid = [n for n in range(1, 9) if _tp_ok(model, n)]
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


def _tp_ok(model: ModelSpec, tp: int) -> bool:
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


# ---------------------------------------------------------------- KV cache


def kv_heads_per_card(text: TextSpec, tp: int = 1) -> int:
    return max(1, text.num_kv_heads // tp)


def kv_bytes_per_token(text: TextSpec, tp: int = 1, dtype: int = 2) -> int:
    """``2 (K and V) * layers * kv_heads_per_card * head_dim * b_kv``."""
    return 2 * text.num_layers * kv_heads_per_card(text, tp) * text.head_dim * dtype


def kv_block_bytes(text: TextSpec, tp: int = 1, dtype: int = 2, block_size: int = BLOCK_SIZE) -> int:
    return block_size * kv_bytes_per_token(text, tp, dtype)


# ---------------------------------------------------------------- vision tower


@dataclass(frozen=True)
class VisionPeak:
    """The vision tower's working memory for one image padded to ``patches``, per card."""

    patches: int
    masks_bytes: int
    attention_scores_bytes: int
    attention_activations_bytes: int
    mlp_activations_bytes: int
    mask_build_bytes: int

    @property
    def attention_phase_bytes(self) -> int:
        return self.masks_bytes + self.attention_scores_bytes + self.attention_activations_bytes

    @property
    def mlp_phase_bytes(self) -> int:
        return self.masks_bytes + self.mlp_activations_bytes

    @property
    def peak_bytes(self) -> int:
        return max(self.attention_phase_bytes, self.mlp_phase_bytes, self.mask_build_bytes)


def vision_peak(
    vision: VisionSpec, patches: int, *, tp: int = 1, fp32_softmax: bool = False, dtype: int = 2
) -> VisionPeak:
    """Peak activation bytes of the HPU vision path for one image of ``patches`` (module docstring)."""
    n, c, i = patches, vision.hidden_size, vision.intermediate_size
    heads = max(1, vision.num_heads // tp)
    q_rows = QUERY_TILE if n > QUERY_TILE_ABOVE else n
    per_score = (2 + 4 + 4) if fp32_softmax else (2 + 2)
    masks = 2 * n * n
    scores = heads * q_rows * n * per_score
    rope = n * 2 * vision.head_dim * 4
    attn_act = n * dtype * (4 * c + 10 * c // tp) + rope
    mlp_act = n * dtype * (2 * c + 4 * i // tp)
    build = 0 if n > MASK_ON_CPU_ABOVE else 6 * n * n
    return VisionPeak(n, masks, scores, attn_act, mlp_act, build)


def vision_peak_bytes(
    vision: VisionSpec, patches: int, *, tp: int = 1, fp32_softmax: bool = False, dtype: int = 2
) -> int:
    return vision_peak(vision, patches, tp=tp, fp32_softmax=fp32_softmax, dtype=dtype).peak_bytes


def vision_graph_bytes(vision: VisionSpec, patches: int, dtype: int = 2) -> int:
    """Static inputs and output one captured vision graph keeps: ``2 N^2 + N (2 C b + 8 head_dim)``."""
    n = patches
    return 2 * n * n + n * (2 * vision.hidden_size * dtype + 2 * vision.head_dim * 4)


# ---------------------------------------------------------------- text profile run


def text_profile_peak_bytes(text: TextSpec, batched_tokens: int, *, tp: int = 1, dtype: int = 2) -> int:
    """Prefill activations of the profiling run: ``T * b * (4 h + 3 i / tp)`` (an estimate)."""
    return batched_tokens * dtype * (4 * text.hidden_size + 3 * text.intermediate_size // tp)


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class MemoryPlan:
    """Engine memory settings for one model, device and bucket plan, and what they leave for KV.

    Satisfies ``gaudi_vl.plan.MemorySettings``; all ``*_bytes`` are per card.
    """

    device: str
    hbm_bytes: int
    runtime_reserved_bytes: int
    tensor_parallel_size: int
    weights_bytes: int
    text_weights_bytes: int
    vision_weights_bytes: int
    profile_peak_bytes: int
    largest_bucket_patches: int
    vision_peak_bytes: int
    fp32_softmax_vision: bool
    vision_graph_bytes: int
    gpu_memory_utilization: float
    graph_reserved_mem: float
    graph_prompt_ratio: float
    graph_multimodal_prompt_ratio: float
    max_num_seqs: int
    kv_bytes_per_token: int
    block_size: int
    max_model_len: int
    kv_dtype: str

    __json_properties__ = (
        "free_bytes", "usable_bytes", "graph_reserve_bytes", "kv_cache_bytes", "kv_blocks", "kv_tokens",
        "concurrency", "outside_kv_bytes",
    )

    @property
    def free_bytes(self) -> int:
        """``hbm - runtime_reserved - weights - profile_peak``: what the engine measures after profiling."""
        return self.hbm_bytes - self.runtime_reserved_bytes - self.weights_bytes - self.profile_peak_bytes

    @property
    def usable_bytes(self) -> int:
        return int(self.free_bytes * self.gpu_memory_utilization)

    @property
    def graph_reserve_bytes(self) -> int:
        return int(self.usable_bytes * self.graph_reserved_mem)

    @property
    def kv_cache_bytes(self) -> int:
        return self.usable_bytes - self.graph_reserve_bytes

    @property
    def kv_blocks(self) -> int:
        return self.kv_cache_bytes // (self.kv_bytes_per_token * self.block_size)

    @property
    def kv_tokens(self) -> int:
        return self.kv_blocks * self.block_size

    @property
    def concurrency(self) -> float:
        """Sequences of ``max_model_len`` tokens the KV cache holds at once (vLLM's "max concurrency")."""
        return round(self.kv_tokens / self.max_model_len, 2)

    @property
    def outside_kv_bytes(self) -> int:
        """``free * (1 - gpu_memory_utilization)``: the margin where the vision tower runs."""
        return self.free_bytes - self.usable_bytes

    def summary_lines(self) -> list[str]:
        g = format_bytes
        softmax = " (fp32 softmax)" if self.fp32_softmax_vision else ""
        return [
            (f"device {self.device} x{self.tensor_parallel_size}: {g(self.hbm_bytes)} per card; weights "
             f"{g(self.weights_bytes)} (text {g(self.text_weights_bytes)}, vision "
             f"{g(self.vision_weights_bytes)}), profile peak ~{g(self.profile_peak_bytes)} -> free "
             f"{g(self.free_bytes)}"),
            (f"vision tower peak for bucket {self.largest_bucket_patches}: {g(self.vision_peak_bytes)}"
             f"{softmax}; vision graphs {g(self.vision_graph_bytes)}"),
            (f"gpu_memory_utilization {self.gpu_memory_utilization:g}: usable {g(self.usable_bytes)}, "
             f"graphs {g(self.graph_reserve_bytes)} (VLLM_GRAPH_RESERVED_MEM={self.graph_reserved_mem:g}), "
             f"KV {g(self.kv_cache_bytes)}; {g(self.outside_kv_bytes)} left for the vision tower"),
            (f"KV cache: {self.kv_blocks:,} blocks of {self.block_size} = {self.kv_tokens:,} tokens "
             f"({self.kv_bytes_per_token:,} B/token, {self.kv_dtype}); {self.concurrency:g} sequences of "
             f"{self.max_model_len:,} tokens; max_num_seqs {self.max_num_seqs}"),
        ]


def _round_down(x: float, step: float = 0.01) -> float:
    return math.floor(x / step + 1e-9) * step


def _round_up(x: float, step: float = 0.01) -> float:
    return math.ceil(x / step - 1e-9) * step


def _seqs_from_concurrency(concurrency: float) -> int:
    """vllm_autocalc_rules.calc_MAX_NUM_SEQS: below the decode step a power of two, else a multiple."""
    if concurrency < 1:
        return 0
    if concurrency < DECODE_BS_STEP:
        return 2 ** int(math.floor(math.log2(concurrency)))
    return min(MAX_PLANNED_SEQS, int(concurrency // DECODE_BS_STEP) * DECODE_BS_STEP)


def plan_memory(
    model: ModelSpec,
    device: DeviceSpec,
    buckets: Sequence[int],
    *,
    warmup_graphs: Sequence[int] | None = None,
    max_model_len: int = 32768,
    max_num_batched_tokens: int | None = None,
    fp32_softmax_vision: bool = False,
    dtype: str = "bfloat16",
    kv_dtype: str = "auto",
    gpu_memory_utilization: float | None = None,
    max_num_seqs: int | None = None,
    block_size: int = BLOCK_SIZE,
) -> MemoryPlan:
    """Choose the engine's memory settings, or say exactly what to change when nothing fits.

    ``gpu_memory_utilization`` is the largest value (<= 0.9) that leaves the vision peak of the
    largest bucket, plus 15% and 1 GiB, outside the KV cache and graphs. ``VLLM_GRAPH_RESERVED_MEM``
    holds the text graphs' default 10% plus the vision graphs. Given ``gpu_memory_utilization`` or
    ``max_num_seqs`` are checked instead of chosen.
    """
    tp = device.cards
    check_tp(model, tp)
    b = dtype_bytes(dtype)
    kvb = b if kv_dtype == "auto" else dtype_bytes(kv_dtype)
    if not buckets:
        raise GaudiVLError("no buckets to plan memory for", "plan buckets first")
    largest = max(buckets)
    graphs = list(warmup_graphs) if warmup_graphs is not None else [5] * len(buckets)
    if len(graphs) != len(buckets):
        raise ValueError("warmup_graphs must give one count per bucket")
    rows = list(zip(buckets, graphs, strict=True))

    w_text = text_weights_bytes(model.text, tp, b)
    w_vision = vision_weights_bytes(model.vision, tp, b)
    weights = w_text + w_vision
    profile = text_profile_peak_bytes(model.text, max_num_batched_tokens or max_model_len, tp=tp, dtype=b)
    free = device.visible_bytes - weights - profile
    per_token = kv_bytes_per_token(model.text, tp, kvb)
    need_kv = -(-max_model_len // block_size) * block_size * per_token

    peak = vision_peak_bytes(model.vision, largest, tp=tp, fp32_softmax=fp32_softmax_vision, dtype=b)
    vgraphs = sum(g * vision_graph_bytes(model.vision, n, b) for n, g in rows)
    margin_needed = vision_margin_bytes(peak)

    if free <= need_kv:
        batched = max_num_batched_tokens or max_model_len
        fits = [n for n in (2, 4, 8)
                if n > tp and _tp_ok(model, n) and _free_at(model, device, n, b, batched) > need_kv]
        change = f"need --tp {fits[0]}" if fits else "use a larger device or a smaller model"
        max_len = _max_model_len(free, margin_needed, vgraphs, per_token)
        if max_len > 0:
            change += f", or --max-model-len at most {max_len}"
        raise GaudiVLError(
            f"{model.name} does not fit on {device.name} x{tp}: weights {format_bytes(weights)} + "
            f"profiling ~{format_bytes(profile)} leave {format_bytes(max(free, 0))} per card, one "
            f"{max_model_len}-token sequence needs {format_bytes(need_kv)} of KV cache",
            f"{change} (or lower --max-num-batched-tokens)",
        )

    if gpu_memory_utilization is None:
        util = min(MAX_GPU_MEMORY_UTILIZATION, _round_down(1 - margin_needed / free))
    else:
        util = gpu_memory_utilization
    usable = free * max(util, 0.0)
    text_graph = usable * ENGINE_GRAPH_RESERVED_MEM
    reserved = min(0.9, _round_up((text_graph + vgraphs) / usable)) if usable > 0 else 1.0
    kv = usable * (1 - reserved)

    if util <= 0 or kv < need_kv or free - usable < margin_needed:
        _raise_vision_infeasible(
            model, device, rows, free, need_kv, fp32_softmax_vision, b,
            gpu_memory_utilization, max_model_len, per_token,
        )

    text_prompt = text_graph * ENGINE_GRAPH_PROMPT_RATIO
    prompt_ratio = _round_up((text_prompt + vgraphs) / (text_graph + vgraphs))
    mm_ratio = max(0.01, _round_down(text_prompt / (text_prompt + vgraphs))) if vgraphs else 1.0

    blocks = int(kv // (per_token * block_size))
    concurrency = blocks * block_size / max_model_len
    seqs = max(1, _seqs_from_concurrency(concurrency)) if max_num_seqs is None else max_num_seqs

    return MemoryPlan(
        device=device.name,
        hbm_bytes=device.hbm_bytes,
        runtime_reserved_bytes=device.runtime_reserved_bytes,
        tensor_parallel_size=tp,
        weights_bytes=weights,
        text_weights_bytes=w_text,
        vision_weights_bytes=w_vision,
        profile_peak_bytes=profile,
        largest_bucket_patches=largest,
        vision_peak_bytes=peak,
        fp32_softmax_vision=fp32_softmax_vision,
        vision_graph_bytes=vgraphs,
        gpu_memory_utilization=round(util, 4),
        graph_reserved_mem=round(reserved, 4),
        graph_prompt_ratio=round(min(prompt_ratio, 0.99), 4),
        graph_multimodal_prompt_ratio=round(mm_ratio, 4),
        max_num_seqs=seqs,
        kv_bytes_per_token=per_token,
        block_size=block_size,
        max_model_len=max_model_len,
        kv_dtype=dtype if kv_dtype == "auto" else kv_dtype,
    )


def _free_at(model: ModelSpec, device: DeviceSpec, tp: int, b: int, batched: int) -> int:
    return (device.visible_bytes - weights_bytes(model, tp, b)
            - text_profile_peak_bytes(model.text, batched, tp=tp, dtype=b))


def vision_margin_bytes(peak: int) -> int:
    """What must stay outside the KV cache and graphs: the vision peak + 15% + 1 GiB."""
    return int(peak * (1 + VISION_HEADROOM_FRACTION)) + FIXED_HEADROOM_BYTES


def _max_model_len(free: float, margin: float, vgraphs: float, per_token: int) -> int:
    """The longest sequence whose KV cache fits beside the vision margin and graphs (multiple of 128)."""
    util = min(MAX_GPU_MEMORY_UTILIZATION, _round_down(1 - margin / free)) if free > 0 else 0.0
    if util <= 0:
        return 0
    usable = free * util
    reserved = min(0.9, _round_up((usable * ENGINE_GRAPH_RESERVED_MEM + vgraphs) / usable))
    kv_room = usable * (1 - reserved)
    return max(0, int(kv_room // per_token) // BLOCK_SIZE * BLOCK_SIZE)


def _feasible_bucket(
    model: ModelSpec, tp: int, free: int, need_kv: int, smaller: Sequence[tuple[int, int]], fp32: bool,
    b: int, patches: int,
) -> bool:
    """Would ``patches`` as the largest bucket (beside ``smaller``) leave one sequence of KV cache?"""
    vg = sum(g * vision_graph_bytes(model.vision, n, b) for n, g in smaller if n < patches)
    vg += 5 * vision_graph_bytes(model.vision, patches, b)
    margin = vision_margin_bytes(vision_peak_bytes(model.vision, patches, tp=tp, fp32_softmax=fp32, dtype=b))
    util = min(MAX_GPU_MEMORY_UTILIZATION, _round_down(1 - margin / free))
    if util <= 0:
        return False
    usable = free * util
    reserved = min(0.9, _round_up((usable * ENGINE_GRAPH_RESERVED_MEM + vg) / usable))
    return usable * (1 - reserved) >= need_kv


def _raise_vision_infeasible(
    model: ModelSpec, device: DeviceSpec, rows: Sequence[tuple[int, int]], free: int, need_kv: int,
    fp32: bool, b: int, util: float | None, max_model_len: int, per_token: int,
) -> None:
    """Say what to change: the largest bucket / max_pixels that fits, the utilization, TP or length."""
    tp = device.cards
    largest = max(n for n, _ in rows)
    peak = vision_peak_bytes(model.vision, largest, tp=tp, fp32_softmax=fp32, dtype=b)
    vgraphs = sum(g * vision_graph_bytes(model.vision, n, b) for n, g in rows)
    what = (
        f"the vision tower needs {format_bytes(peak)} for the largest bucket ({largest} patches, dense "
        f"[{largest} x {largest}] attention{' with fp32 softmax' if fp32 else ''}); {device.name} x{tp} "
        f"leaves {format_bytes(free)} per card after weights for it (+15% and 1 GiB), the vision graphs "
        f"({format_bytes(vgraphs)}) and a KV cache of at least one {max_model_len}-token sequence"
    )
    margin = vision_margin_bytes(peak)
    if util is not None:
        max_util = _round_down(1 - margin / free)
        if 0 < max_util < util:
            raise GaudiVLError(what, f"lower --gpu-memory-utilization to {max_util:g} or below")
    lo, hi = 0, largest // PATCHES_PER_WINDOW
    while hi - lo > 1:  # feasibility falls as the bucket grows: bisect on multiples of 64
        mid = (lo + hi) // 2
        if _feasible_bucket(model, tp, free, need_kv, rows, fp32, b, mid * PATCHES_PER_WINDOW):
            lo = mid
        else:
            hi = mid
    fit = lo * PATCHES_PER_WINDOW
    hints = []
    if fit >= PATCHES_PER_WINDOW:
        hints.append(f"lower --max-pixels to {fit * PIXELS_PER_PATCH} (largest bucket {fit} patches)")
    more_tp = [n for n in (2, 4, 8) if n > tp and _tp_ok(model, n)]
    if more_tp:
        hints.append(f"raise --tp to {more_tp[0]}")
    if fp32:
        hints.append("drop --fp32-softmax-vision")
    max_len = _max_model_len(free, margin, vgraphs, per_token)
    if 0 < max_len < max_model_len:
        hints.append(f"--max-model-len at most {max_len}")
    raise GaudiVLError(what, "; or ".join(hints) or "use a larger device")
