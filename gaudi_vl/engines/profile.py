"""``EngineProfile``: what one engine version reads and does, as data plus pure rules.

Pure (standard library and gaudi_vl's own pure core). A profile answers every question a plan
depends on: which environment variables the engine reads and their defaults; how it parses,
validates, looks up and pads vision buckets; which vision-tower sizes its warm-up really compiles;
what its vision attention holds in memory; how it splits device memory between KV cache and graphs;
how it overrides ``min_pixels``; how it is installed and recognised. The facts themselves, each with
its citation, live in the profile modules (``vllm_fork``, ``vllm_gaudi``, ``vllm_upstream``); this
module only holds the shapes of those facts and the arithmetic every profile shares.

A new engine release is a new profile, usually ``dataclasses.replace(old, ...)``, and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from gaudi_vl.engines.logs import LogGrammar
from gaudi_vl.engines.text_buckets import TextBucketing
from gaudi_vl.engines.vllm_gaudi_models import VllmGaudiModels, guessed_images
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import HF_FACTOR, PATCH_PX, WINDOW_PX, PixelRange, smart_resize


class Setting(str, Enum):
    """What gaudi-vl can set through an engine's environment; a profile maps each to its variable."""

    BUCKETS = "buckets"
    RESOLUTIONS = "resolutions"
    GRAPH_RESERVED_MEM = "graph_reserved_mem"
    GRAPH_PROMPT_RATIO = "graph_prompt_ratio"
    GRAPH_MULTIMODAL_RATIO = "graph_multimodal_ratio"
    FP32_SOFTMAX = "fp32_softmax"
    FP32_SOFTMAX_VISION = "fp32_softmax_vision"
    SKIP_WARMUP = "skip_warmup"
    EXECUTION_MODE = "execution_mode"
    RECIPE_CACHE = "recipe_cache"


VARIABLE_NAMES: dict[Setting, str] = {
    Setting.BUCKETS: "VLLM_MULTIMODAL_BUCKETS",
    Setting.RESOLUTIONS: "VLLM_MULTIMODAL_RESOLUTIONS",
    Setting.GRAPH_RESERVED_MEM: "VLLM_GRAPH_RESERVED_MEM",
    Setting.GRAPH_PROMPT_RATIO: "VLLM_GRAPH_PROMPT_RATIO",
    Setting.GRAPH_MULTIMODAL_RATIO: "VLLM_GRAPH_MULTIMODAL_PROMPT_RATIO",
    Setting.FP32_SOFTMAX: "VLLM_FP32_SOFTMAX",
    Setting.FP32_SOFTMAX_VISION: "VLLM_FP32_SOFTMAX_VISION",
    Setting.SKIP_WARMUP: "VLLM_SKIP_WARMUP",
    Setting.EXECUTION_MODE: "PT_HPU_LAZY_MODE",
    Setting.RECIPE_CACHE: "PT_HPU_RECIPE_CACHE_CONFIG",
}
"""The names every HPU engine here uses; whether and how an engine reads one is in its profile."""

MEANINGS: dict[Setting, str] = {
    Setting.BUCKETS: "vision bucket sizes in patches; empty: the default list",
    Setting.RESOLUTIONS: "explicit warm-up images WxH[xN] through the processor, beside the guessed ones",
    Setting.GRAPH_RESERVED_MEM: "share of usable memory kept from the KV cache for HPU graphs",
    Setting.GRAPH_PROMPT_RATIO: "share of graph memory for prompt (prefill) graphs; the rest is decode",
    Setting.GRAPH_MULTIMODAL_RATIO: "share of the prompt graph memory for the vision (multimodal) graphs; "
                                    "the rest is text",
    Setting.FP32_SOFTMAX: "fp32 softmax in the language model",
    Setting.FP32_SOFTMAX_VISION: "fp32 softmax in the vision attention (FusedSDPA softmax_mode='fp32')",
    Setting.SKIP_WARMUP: "skip warm-up: graphs compile while serving",
    Setting.EXECUTION_MODE: ("the Habana PyTorch bridge's backend the engine runs on: 1 lazy (HPU graphs), "
                             "0 eager (torch.compile)"),
    Setting.RECIPE_CACHE: "Habana recipe cache PATH,DELETE,SIZE_MB: compiled graphs reused on restarts",
}


def read(setting: Setting, default: str, cited: str, meaning: str = "") -> EnvVar:
    """An engine reads ``setting``'s variable with this ``default`` (where: ``cited``)."""
    return EnvVar(setting, VARIABLE_NAMES[setting], default, meaning or MEANINGS[setting], cited)


@dataclass(frozen=True)
class EnvVar:
    """One variable an engine reads: its name, the engine's default, its meaning, where it is read."""

    setting: Setting
    name: str
    default: str
    """The engine's default as text (what it uses when the variable is unset)."""
    meaning: str
    cited: str
    """``path:line@commit`` of the read."""


class GridRule(str, Enum):
    """What the engine does to an image's patch grid before the bucket lookup."""

    KEEP = "keep"
    """Any grid: the bucket lookup takes the patch count as it is (pad rows appended)."""
    PAD_SIDES_TO_8 = "pad-sides-to-8"
    """Each grid side is padded UP to a multiple of 8 patches first (whole 112-px windows)."""
    TRIM_SIDES_TO_8 = "trim-sides-to-8"
    """A batch whose patch total is not a multiple of 64 has every grid side cut DOWN to a multiple
    of 8 patches (the engine warns about accuracy degradation)."""


class WarmupRule(str, Enum):
    """How an engine chooses the vision-tower sizes it compiles at start-up."""

    ONE_PER_BUCKET = "one-per-bucket"
    """One dummy image per bucket with grid ``[1, b/8, 8]``: exactly the bucket sizes."""
    PROCESSOR_GUESSES = "processor-guesses"
    """Guessed images per bucket (aspect ratios) sent through the real processor: the compiled
    sizes are wherever those images land."""
    NONE = "none"
    """No vision graphs (engines without HPU graphs)."""


@dataclass(frozen=True)
class VisionAttention:
    """What the engine's vision attention holds in device memory for one image of N patches.

    ``gaudi_vl.memory`` turns this into bytes; the facts (and citations) are in each profile.
    """

    masks_held: int
    """``[N, N]`` bool masks alive during the tower's forward (full-attention and/or window)."""
    dense_window_layers: bool
    """Window layers run one masked attention over all N patches (else: per-64-patch chunks)."""
    window_outputs_concatenated: bool
    """Window chunks' outputs are kept in a list and concatenated (one more ``N x C`` copy)."""
    mask_built_in_float: bool
    """Masks come from a float32 einsum (``4 N^2`` bytes, then ``.bool()``); else a bool outer product."""
    mask_on_cpu_above: int | None
    """The einsum runs on the CPU above this many patches; its float32 result is still copied to
    the device and made bool there, so the device memory of building is the same (only compute moves)."""
    query_tiled_from: int
    """The query is tiled (64 rows at a time) when N >= this."""
    query_tile: int = 64
    fp32_softmax_vision_default: bool = False
    cited: str = ""

    def refuses(self, patches: int) -> bool:
        """The tiled path asserts the query splits into whole tiles (``q_len % 64 == 0``): an unpadded
        size from the tiling threshold up that is not a multiple of the tile crashes the engine."""
        return patches >= self.query_tiled_from and patches % self.query_tile != 0

    def query_rows(self, patches: int) -> int:
        """Rows of the query that one fused attention call sees at once."""
        return self.query_tile if patches >= self.query_tiled_from else patches


@dataclass(frozen=True)
class MemorySplit:
    """How the engine divides free device memory after its profiling run.

    ``usable = free * gpu_memory_utilization``; graphs get ``usable * R`` (``R`` =
    ``VLLM_GRAPH_RESERVED_MEM``, 0 under ``--enforce-eager``); the KV cache gets the rest, less
    ``dummy_blocks`` blocks, cut to whole blocks and then down to a multiple of ``block_round``.
    """

    graph_reserved_default: float
    dummy_blocks: int
    block_round: int
    """KV blocks are rounded down to a multiple of this (1: no rounding)."""
    cited: str = ""

    def graph_reserved(self, reserved: float, enforce_eager: bool) -> float:
        return 0.0 if enforce_eager else reserved

    def kv_blocks(
        self, free_bytes: float, utilization: float, reserved: float, block_bytes: int,
        *, enforce_eager: bool = False,
    ) -> int:
        """KV blocks the engine allocates, by its own arithmetic (floats, as the engine computes)."""
        usable = free_bytes * utilization
        kv = usable * (1 - self.graph_reserved(reserved, enforce_eager)) - self.dummy_blocks * block_bytes
        blocks = max(int(kv // block_bytes), 0)
        return blocks // self.block_round * self.block_round


@dataclass(frozen=True)
class SchedulerRule:
    """What the engine's scheduler configuration refuses at start-up (a ``ValueError`` before any
    weight is loaded) for the numbers gaudi-vl writes: ``--max-num-batched-tokens`` against
    ``--max-model-len`` and ``--max-num-seqs``. The facts and citations are in each profile."""

    batched_covers_model_len: bool
    """``max_num_batched_tokens >= max_model_len`` is required: vLLM V0 runs a multimodal model
    without chunked prefill, and its scheduler refuses a prefill budget below the longest sequence."""
    batched_covers_seqs: bool
    """``max_num_batched_tokens >= max_num_seqs`` is required (every engine here)."""
    cited: str = ""

    def max_seqs(self, batched_tokens: int) -> int | None:
        """The most sequences the engine starts with for this prefill budget (None: no limit)."""
        return batched_tokens if self.batched_covers_seqs else None

    def refusal(
        self, engine: str, max_model_len: int, max_num_seqs: int, batched_tokens: int
    ) -> GaudiVLError | None:
        """The one-line error (with its fix) for numbers this engine refuses, or None."""
        where = f"{engine} refuses to start with"
        if self.batched_covers_model_len and batched_tokens < max_model_len:
            return GaudiVLError(
                f"{where} --max-num-batched-tokens {batched_tokens} below --max-model-len {max_model_len} "
                f"(vLLM V0 runs a multimodal model without chunked prefill; {self.cited})",
                f"raise --max-num-batched-tokens to {max_model_len} or more (or leave it out), "
                f"or lower --max-model-len to {batched_tokens}",
            )
        if self.batched_covers_seqs and batched_tokens < max_num_seqs:
            return GaudiVLError(
                f"{where} --max-num-seqs {max_num_seqs} above --max-num-batched-tokens {batched_tokens} "
                f"({self.cited})",
                f"lower --max-num-seqs to {batched_tokens} or raise --max-num-batched-tokens to "
                f"{max_num_seqs}",
            )
        return None


@dataclass(frozen=True)
class Fingerprint:
    """How an installed engine is recognised without importing it (fast, no device needed).

    It matches when every module in ``modules`` is importable, none in ``absent`` is, and the
    source file ``marker_file`` (a module path such as ``vllm/worker/hpu_model_runner.py``) contains
    ``marker`` (or exists, when ``marker`` is empty). Profiles are tried most specific first.
    """

    modules: tuple[str, ...]
    absent: tuple[str, ...] = ()
    marker_file: str = ""
    marker: str = ""
    marker_absent: str = ""
    """A string that must NOT be in ``marker_file`` (tells two branches of one engine apart)."""


@dataclass(frozen=True)
class InstalledEngine:
    """What a probe of the engine's interpreter found (``gaudi_vl.launch`` runs the probe)."""

    modules: frozenset[str]
    """Importable top-level modules among those the profiles name."""
    files: dict[str, str] = field(default_factory=dict)
    """Source text of the marker files that exist, by module path."""
    versions: dict[str, str] = field(default_factory=dict)
    """Distribution versions, for messages only."""

    def matches(self, fp: Fingerprint) -> bool:
        if not set(fp.modules) <= self.modules or set(fp.absent) & self.modules:
            return False
        if not fp.marker_file:
            return True
        text = self.files.get(fp.marker_file)
        if text is None:
            return False
        return fp.marker in text and not (fp.marker_absent and fp.marker_absent in text)


@dataclass(frozen=True)
class WarmupSet:
    """The vision-tower sizes an engine compiles at start-up for a bucket list and pixel range."""

    images: tuple[tuple[int, int], ...]
    """The (width, height) warm-up images sent through the processor (empty for bucket-sized runs)."""
    compiled: tuple[int, ...]
    """Distinct padded patch counts the tower runs at during warm-up, ascending: one graph each."""
    never_warmed: tuple[int, ...]
    """Buckets no warm-up image lands on: their first real image compiles while serving."""
    above_largest: tuple[int, ...]
    """Compiled sizes above the largest bucket (images warm-up runs unpadded)."""
    fails: tuple[int, ...] = ()
    """Sizes a warm-up image lands on that the engine's vision attention refuses: warm-up crashes."""

    @property
    def graphs(self) -> int:
        return len(self.compiled)


class ExecutionMode(str, Enum):
    """How an HPU engine executes the model: the Habana bridge's backend (``PT_HPU_LAZY_MODE``), which
    the engines test with ``htorch.utils.internal.is_lazy()`` (``--execution-mode``)."""

    LAZY = "lazy"
    """``PT_HPU_LAZY_MODE=1``: lazy graphs, the model wrapped in HPU graphs."""
    COMPILE = "compile"
    """``PT_HPU_LAZY_MODE=0``: the eager backend with ``torch.compile`` (``hpu_backend``)."""


@dataclass(frozen=True)
class ModeFacts:
    """What one execution mode changes in an engine (in the spirit of vllm-gaudi's
    ``extension/features.py``: facts conditioned on the mode), each fact cited in the profile.

    ``--enforce-eager`` is not a mode here: in both modes it turns graphs (HPU graphs or
    ``torch.compile``) off and ``VLLM_GRAPH_RESERVED_MEM`` to 0 (``MemorySplit.graph_reserved``).
    """

    mode: ExecutionMode
    lazy_mode_value: str
    """``PT_HPU_LAZY_MODE`` value that selects this mode."""
    hpu_graphs: bool
    """The model (and its vision tower) is captured in HPU graphs: every compiled vision size keeps
    a graph's static inputs and outputs inside the reserved graph memory."""
    graph_reserved_applies: bool
    """The engine keeps ``VLLM_GRAPH_RESERVED_MEM`` of the usable memory from the KV cache in this mode
    (whether or not anything graph-like uses it)."""
    vision_warmup_compile_only: bool
    """The vision warm-up runs inside ``PT_COMPILE_ONLY_MODE``: recipes are compiled without executing,
    so the tower's working memory is first reached by a real image while serving, not at start-up."""
    serving_new_size: str
    """What a vision size warm-up did not compile costs while serving."""
    cited: str
    notes: tuple[str, ...] = ()

    @property
    def vision_graph_memory(self) -> bool:
        """Whether compiled vision sizes take graph memory (gaudi-vl's per-size graph term)."""
        return self.hpu_graphs


@dataclass(frozen=True)
class EngineProfile:
    """One engine version. Pure data plus the engine's rules as pure methods."""

    name: str
    """The ``--target`` value."""
    title: str
    source: str
    """``repo@branch (commit, date)`` the facts were read at."""
    hpu: bool
    variables: tuple[EnvVar, ...]
    default_buckets: tuple[int, ...]
    """The engine's Qwen2.5-VL list when ``VLLM_MULTIMODAL_BUCKETS`` is empty or unset."""
    bucket_assert_multiple: int | None
    """Start-up asserts every bucket is a multiple of this (None: no check)."""
    bucket_crash_multiple: int | None
    """A bucket that is not a multiple of this crashes the profiling run or warm-up later on."""
    bucket_minimum: int
    """A bucket below this crashes the engine's warm-up (its dummy or guessed image has a zero side)."""
    warms_under_eager: bool
    """Whether warm-up still runs (and compiles the vision sizes) with ``--enforce-eager``."""
    grid_rule: GridRule
    warmup: WarmupRule
    warmup_aspect_ratios: tuple[tuple[int, int], ...]
    warmup_cited: str
    min_pixels_override: int | None
    """The engine's processor forces this ``min_pixels`` whatever the user passes (None: user's)."""
    block_size: int | None
    """``--block-size`` the engine wants (None: the engine's own default, not passed)."""
    fp32_softmax_default: bool
    """``VLLM_FP32_SOFTMAX`` default for the Qwen2.5-VL language model."""
    attention: VisionAttention | None
    """None: not an HPU vision path gaudi-vl models (upstream vLLM)."""
    memory: MemorySplit | None
    kv_cache_dtypes: tuple[tuple[str, str], ...]
    """``--kv-dtype`` value -> the engine's ``--kv-cache-dtype`` value."""
    fingerprint: Fingerprint
    install_hint: str
    log_grammar: LogGrammar | None = None
    """How this engine writes its log (``gaudi_vl.engines.logs``): what the doctor reads it with."""
    notes: tuple[str, ...] = ()
    """Facts a user should know about this engine (printed with its plans)."""
    execution_modes: tuple[ModeFacts, ...] = ()
    """The execution modes gaudi-vl models for this engine, the engine's default first (empty: not an
    HPU engine). A mode not listed is refused with a one-line error (``execution``)."""
    buckets_none: str = "the engine crashes at start-up or warm-up with it"
    """What ``VLLM_MULTIMODAL_BUCKETS=None`` does on this engine (gaudi-vl refuses it: it plans buckets)."""
    text_buckets: TextBucketing | None = None
    """How the engine makes its text prompt/decode buckets (``gaudi_vl.engines.text_buckets``);
    None: no text buckets (no HPU graphs)."""
    multimodal_models: VllmGaudiModels | None = None
    """Per-model multimodal facts (``gaudi_vl.engines.vllm_gaudi_models``); None: this engine is
    planned for Qwen2.5-VL only."""
    scheduler: SchedulerRule | None = None
    """What its scheduler refuses at start-up (None: nothing gaudi-vl writes is refused)."""

    # ------------------------------------------------------------------ variables

    def variable(self, setting: Setting) -> EnvVar | None:
        """The engine's variable for ``setting``, or None when this engine does not read one."""
        for var in self.variables:
            if var.setting is setting:
                return var
        return None

    def reads(self, setting: Setting) -> bool:
        return self.variable(setting) is not None

    def switch_on(self, setting: Setting, env: Mapping[str, str]) -> bool:
        """A boolean variable as these engines read it: ``value.lower() in ('true', '1')``, the
        engine's default when unset (e.g. vllm_gaudi/models/qwen2_5_vl.py:70-72@091bbadda10b); False
        when the engine does not read it."""
        var = self.variable(setting)
        return var is not None and env.get(var.name, var.default).lower() in ("true", "1")

    @property
    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    # ------------------------------------------------------------------ execution modes

    @property
    def default_execution_mode(self) -> ModeFacts | None:
        return self.execution_modes[0] if self.execution_modes else None

    def execution(self, mode: str | None) -> ModeFacts | None:
        """The facts of ``mode`` (None: the engine's default); a one-line error for a mode this
        profile does not model. None for engines without modes (upstream vLLM) and no mode asked."""
        if mode is None:
            return self.default_execution_mode
        for facts in self.execution_modes:
            if facts.mode.value == mode:
                return facts
        if not self.execution_modes:
            raise GaudiVLError(f"--execution-mode {mode}: {self.name} has no HPU execution modes",
                               "leave --execution-mode out for this target")
        known = ", ".join(f.mode.value for f in self.execution_modes)
        raise GaudiVLError(
            f"--execution-mode {mode}: gaudi-vl models {self.name} in {known} mode only",
            "pass --execution-mode " + known + " or --target vllm-gaudi (lazy and compile)",
        )

    # ------------------------------------------------------------------ buckets

    def parse_buckets(self, text: str) -> tuple[int, ...]:
        """``VLLM_MULTIMODAL_BUCKETS`` as this engine reads it: empty -> the default list; else
        ``int(x)`` of each comma-separated item (spaces allowed), sorted, duplicates kept.

        Where the engine would crash (``None`` -- unusable in every HPU engine --, a non-integer, a
        bucket its asserts refuse) this raises a ``GaudiVLError`` that names the item instead.
        """
        if text == "":
            return self.default_buckets
        if text.strip() == "None":
            raise GaudiVLError(
                f"VLLM_MULTIMODAL_BUCKETS=None is not usable on {self.name}: {self.buckets_none}",
                "list the buckets, e.g. 2048,4096,8192, or leave it unset",
            )
        values: list[int] = []
        for item in text.split(","):
            try:
                values.append(int(item))
            except ValueError:
                raise GaudiVLError(
                    f"bucket {item.strip()!r} in {text!r} is not an integer",
                    "buckets are comma-separated patch counts, e.g. 2048,4096,8192",
                ) from None
        values.sort()
        self.check_buckets(values)
        return tuple(values)

    def check_buckets(self, buckets: Sequence[int]) -> None:
        """Raise for a list this engine refuses at start-up or crashes on later."""
        for b in buckets:
            if b < self.bucket_minimum:
                raise GaudiVLError(
                    f"bucket {b} is below {self.bucket_minimum}: {self.name}'s warm-up crashes on it",
                    "buckets are positive patch counts, e.g. 2048,4096,8192",
                )
            for multiple, when in ((self.bucket_assert_multiple, "asserts at start-up"),
                                   (self.bucket_crash_multiple, "crashes in profiling or warm-up")):
                if multiple and b % multiple:
                    up = max(multiple, -(-b // multiple) * multiple)
                    raise GaudiVLError(
                        f"bucket {b} is not a multiple of {multiple}: {self.name} {when}",
                        f"use {up}",
                    )

    @staticmethod
    def bucket_for(patches: int, buckets: Sequence[int]) -> int | None:
        """The first sorted bucket ``>= patches``, or None above the largest (the image then runs
        at its own size: a new graph while serving). The same lookup in every engine that buckets."""
        for b in sorted(buckets):
            if patches <= b:
                return b
        return None

    def tower_grid(self, grid_h: int, grid_w: int) -> tuple[int, int]:
        """The patch grid the tower sees for one image, before bucket padding."""
        if self.grid_rule is GridRule.PAD_SIDES_TO_8:
            return -(-grid_h // 8) * 8, -(-grid_w // 8) * 8
        if self.grid_rule is GridRule.TRIM_SIDES_TO_8 and (grid_h * grid_w) % 64:
            return grid_h // 8 * 8, grid_w // 8 * 8
        return grid_h, grid_w

    def run_patches(self, grid_h: int, grid_w: int, buckets: Sequence[int]) -> int:
        """Patches the tower computes for one image: its grid after the engine's grid rule, padded
        to its bucket (both engines always reach the bucket), or its own count above the largest."""
        h, w = self.tower_grid(grid_h, grid_w)
        n = h * w
        b = self.bucket_for(n, buckets) if buckets else None
        return n if b is None else b

    # ------------------------------------------------------------------ images

    def effective_pixel_range(self, requested: PixelRange) -> tuple[PixelRange, tuple[str, ...]]:
        """The range this engine's processor really uses, and a note when it differs."""
        forced = self.min_pixels_override
        if forced is None or requested.min_pixels == forced:
            return requested, ()
        new = PixelRange(min(forced, requested.max_pixels), requested.max_pixels, requested.max_aspect_ratio)
        note = (
            f"{self.name} forces min_pixels={forced} whatever --min-pixels says ({requested.min_pixels}); "
            "buckets are planned for the forced value"
        )
        return new, (note,)

    @staticmethod
    def resize_factor(align: bool) -> int:
        """112 with gaudi-vl's alignment plugin on (``GAUDI_VL_ALIGN=1``), else the processor's 28."""
        return WINDOW_PX if align else HF_FACTOR

    def image_patches(
        self, width: int, height: int, pixel_range: PixelRange, *, align: bool
    ) -> tuple[int, int]:
        """The (grid_h, grid_w) the engine's processor gives a ``width x height`` image."""
        h, w = smart_resize(
            height, width, factor=self.resize_factor(align),
            min_pixels=pixel_range.min_pixels, max_pixels=pixel_range.max_pixels,
        )
        return h // PATCH_PX, w // PATCH_PX

    # ------------------------------------------------------------------ warm-up

    def guessed_warmup_images(self, buckets: Sequence[int]) -> tuple[tuple[int, int], ...]:
        """The (width, height) images a PROCESSOR_GUESSES engine makes per bucket, in its order
        (ascending buckets), de-duplicated keeping the first (the engine's ``dict.fromkeys``)."""
        return guessed_images(buckets, PATCH_PX, self.warmup_aspect_ratios)

    def warmup_set(
        self,
        buckets: Sequence[int],
        pixel_range: PixelRange,
        *,
        align: bool = True,
        resolutions: Sequence[tuple[int, int]] = (),
        skip_warmup: bool = False,
    ) -> WarmupSet:
        """The sizes this engine compiles at start-up (see ``WarmupRule``).

        ``pixel_range`` is the range the engine's processor uses (after ``effective_pixel_range``);
        ``resolutions`` are explicit ``(width, height)`` warm-up images (``VLLM_MULTIMODAL_RESOLUTIONS``,
        read only by engines that read that variable).
        """
        ordered = tuple(sorted(buckets))
        if self.warmup is WarmupRule.NONE or not ordered:
            return WarmupSet((), (), (), ())
        if skip_warmup:
            return WarmupSet((), (), tuple(dict.fromkeys(ordered)), ())
        if self.warmup is WarmupRule.ONE_PER_BUCKET:
            return WarmupSet((), tuple(dict.fromkeys(ordered)), (), ())
        images = self.guessed_warmup_images(ordered)
        if self.reads(Setting.RESOLUTIONS):
            images = tuple(dict.fromkeys(images + tuple(resolutions)))
        sizes = set()
        for w, h in images:
            gh, gw = self.image_patches(w, h, pixel_range, align=align)
            sizes.add(self.run_patches(gh, gw, ordered))
        fails = {n for n in sizes if self.attention is not None and self.attention.refuses(n)}
        compiled = tuple(sorted(sizes - fails))
        return WarmupSet(
            images=images,
            compiled=compiled,
            never_warmed=tuple(b for b in dict.fromkeys(ordered) if b not in sizes),
            above_largest=tuple(n for n in compiled if n > ordered[-1]),
            fails=tuple(sorted(fails)),
        )

    # ------------------------------------------------------------------ flags

    def check_scheduler(self, max_model_len: int, max_num_seqs: int, batched_tokens: int) -> None:
        """Raise the one-line error for server numbers this engine refuses at start-up."""
        if self.scheduler is not None:
            refused = self.scheduler.refusal(self.name, max_model_len, max_num_seqs, batched_tokens)
            if refused is not None:
                raise refused

    def max_num_seqs_for(self, batched_tokens: int) -> int | None:
        """The most sequences this engine starts with for a prefill budget (None: no limit)."""
        return None if self.scheduler is None else self.scheduler.max_seqs(batched_tokens)

    def kv_cache_dtype(self, kv_dtype: str) -> str | None:
        """The engine's ``--kv-cache-dtype`` for gaudi-vl's ``--kv-dtype`` (None: leave the default)."""
        if kv_dtype == "auto":
            return None
        for ours, theirs in self.kv_cache_dtypes:
            if ours == kv_dtype:
                return theirs
        known = ", ".join(o for o, _ in self.kv_cache_dtypes) or "none"
        raise GaudiVLError(f"--kv-dtype {kv_dtype} is not supported by {self.name}", f"use auto or {known}")

