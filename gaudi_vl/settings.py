"""Serving settings, each declared once: type, bounds, default, flag and help in one place.

Pure. ``ServeSettings`` is a frozen dataclass whose fields carry a ``Spec`` (``setting(...)``); from
that one declaration come the command-line options (``gaudi_vl.cli.options.add_setting_arguments``),
the plan file's ``serve`` section (``to_dict`` / ``from_dict``, strict: unknown keys and wrong types
are refused) and the validation of the object itself. Never four hand-kept copies of one setting
(the shape of vLLM's config dataclasses: each field declares its type, default and help).

Errors name the setting (its flag) and the value received (as attrs' validators do).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any

from gaudi_vl.devices import BUILTIN_HBM_BYTES, DEFAULT_DEVICE, parse_memory_size
from gaudi_vl.engines import (
    DEFAULT_PROFILE,
    NAMES,
    EngineProfile,
    ExecutionMode,
    ModeFacts,
    Setting,
    get_profile,
)
from gaudi_vl.engines.profile import VARIABLE_NAMES
from gaudi_vl.errors import GaudiVLError

MAX_TOKENS = 16_777_216
"""Upper bound for token counts (2^24: far above any Qwen2.5-VL context)."""
MAX_TP = 64
MAX_SEQS = 65_536
MAX_IMAGES_PER_PROMPT = 1_024
AUTO_TARGET = "auto"
"""``--target auto``: the profile of the engine the interpreter has installed (``gaudi_vl.cli.plan``)."""
_HOST = re.compile(r"[A-Za-z0-9.:\[\]%_][A-Za-z0-9.:\-\[\]%_]{0,252}")
"""Host names and addresses, matched whole (``fullmatch``: ``$`` alone let a trailing newline
through); no leading ``-``, which the engine's argument parser would read as an option."""
MIN_GPU_MEMORY_UTILIZATION = 0.01
"""Below 1% of the card the engine has no room for one KV block; tiny values (1e-308) used to
overflow the memory planner's arithmetic."""
MAX_BYTES = 2**50
"""Largest byte count in a plan (1 PiB: far above any card)."""


@dataclass(frozen=True)
class Spec:
    """How one setting appears on the command line and in a plan file, and what it accepts."""

    flag: str
    help: str
    kind: type
    """``int``, ``float``, ``str`` or ``bool``."""
    nullable: bool = False
    """None is a value: "planned by gaudi-vl" or "the engine's default", as the help says."""
    minimum: float | None = None
    maximum: float | None = None
    open_minimum: bool = False
    """The bound is exclusive (``0 < x``)."""
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    negative_flag: str | None = None
    """Booleans: a ``--no-...`` flag; with ``nullable`` both flags exist and unset means the default."""
    parse: Callable[[str], Any] | None = None
    """Command-line text to value, when not the plain type (e.g. memory sizes)."""
    group: str = "engine"
    cli_values: tuple[str, ...] = ()
    """Values only the command line takes, resolved by the CLI before the settings exist
    (``--target auto``: the installed engine); a settings object or plan file never holds them."""

    def describe_bounds(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices + self.cli_values)
        if self.minimum is not None and self.maximum is not None:
            lo = f"{self.minimum:g}" if isinstance(self.minimum, float) else str(self.minimum)
            left = "(" if self.open_minimum else "["
            hi = f"{self.maximum:g}" if isinstance(self.maximum, float) else str(self.maximum)
            return f"{'an integer' if self.kind is int else 'a number'} in {left}{lo}, {hi}]"
        return {int: "an integer", float: "a number", str: "text", bool: "true or false"}[self.kind]


def setting(default: Any, **spec: Any) -> Any:
    """A dataclass field with its ``Spec`` (see ``ServeSettings``)."""
    return field(default=default, metadata={"spec": Spec(**spec)})


def spec_of(f: Any) -> Spec:
    return f.metadata["spec"]


def check_value(spec: Spec, value: Any, source: str = "") -> Any:
    """``value`` if it is of the setting's type and within its bounds; else a one-line error.

    Strict: ``True`` is not an integer, ``"false"`` is not a boolean, ``1.5`` is not an integer,
    NaN and infinities are not numbers. ``source`` says where the value came from (a file key).
    """
    where = f" (from {source})" if source else ""
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."

    def bad(why: str = "") -> GaudiVLError:
        if source and not spec.flag.startswith("-"):  # a file's value with no flag of its own
            return GaudiVLError(f"{source}: expected {spec.describe_bounds()}, got {shown}{why}",
                                "write the file again with gaudi-vl (re-plan)")
        return GaudiVLError(
            f"setting {spec.flag}: expected {spec.describe_bounds()}, got {shown}{where}{why}",
            f"see gaudi-vl plan --help for {spec.flag}",
        )

    if value is None:
        if spec.nullable:
            return None
        raise bad()
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise bad()
        return value
    if spec.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
    elif spec.kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        try:
            value = float(value)  # an integer of 400 digits does not fit: OverflowError
        except OverflowError:
            raise bad() from None
        if not math.isfinite(value):
            raise bad()
    elif spec.kind is str and not isinstance(value, str):
        raise bad()
    if spec.choices and value not in spec.choices:
        raise bad()
    if spec.minimum is not None and (value <= spec.minimum if spec.open_minimum else value < spec.minimum):
        raise bad()
    if spec.maximum is not None and value > spec.maximum:
        raise bad()
    return value


def parse_text(spec: Spec, text: str) -> Any:
    """A command-line string to the setting's value (then ``check_value``)."""
    if text in spec.cli_values:
        return text
    if spec.parse is not None:
        return check_value(spec, spec.parse(text))
    if spec.kind is int:
        stripped = text.strip()
        if not re.fullmatch(r"[+-]?\d{1,19}", stripped):
            raise GaudiVLError(
                f"setting {spec.flag}: expected {spec.describe_bounds()}, got {text!r}",
                f"pass {spec.flag} with a whole number",
            )
        return check_value(spec, int(stripped))
    if spec.kind is float:
        try:
            value = float(text)
        except ValueError:
            raise GaudiVLError(
                f"setting {spec.flag}: expected {spec.describe_bounds()}, got {text!r}",
                f"pass {spec.flag} with a number",
            ) from None
        return check_value(spec, value)
    return check_value(spec, text)


def _memory_size(text: str) -> int:
    return parse_memory_size(text)


def _host(value: str) -> None:
    if not _HOST.fullmatch(value):
        raise GaudiVLError(
            f"setting --host: {value!r} is not a host name or address", "e.g. --host 0.0.0.0 or --host ::1"
        )


def _recipe_dir(value: str) -> None:
    """A directory the runtime can take inside ``PATH,DELETE,SIZE_MB``: no comma, no control character."""
    if value and ("," in value or any(ord(c) < 32 for c in value) or len(value) > 4096):
        raise GaudiVLError(
            f"setting --recipe-cache: {value!r} is not a usable directory (no commas or control characters)",
            "e.g. --recipe-cache /var/cache/gaudi-recipes on local disk",
        )


@dataclass(frozen=True)
class ServeSettings:
    """How the engine is run: every field is one setting, declared once (flag, type, bounds, help).

    ``None`` in a nullable field means "gaudi-vl plans it" (utilization, max_num_seqs) or "the
    engine's default stays in force" (the fp32 softmax switches).
    """

    target: str = setting(
        DEFAULT_PROFILE.name, flag="--target", kind=str, choices=NAMES, metavar="ENGINE",
        cli_values=(AUTO_TARGET,),
        help=(f"engine profile the plan is for ({DEFAULT_PROFILE.name} is vllm-fork's Qwen2.5-VL release "
              f"line; {AUTO_TARGET}: the engine installed in --python's interpreter): " + ", ".join(NAMES)),
    )
    tensor_parallel_size: int = setting(
        1, flag="--tp", kind=int, minimum=1, maximum=MAX_TP, metavar="N", help="tensor parallel size (cards)"
    )
    max_model_len: int = setting(
        32768, flag="--max-model-len", kind=int, minimum=1, maximum=MAX_TOKENS, metavar="TOKENS",
        help="longest sequence (prompt + output) in tokens",
    )
    max_num_seqs: int | None = setting(
        None, flag="--max-num-seqs", kind=int, nullable=True, minimum=1, maximum=MAX_SEQS, metavar="N",
        help="concurrent sequences (default: planned from the KV cache)",
    )
    max_num_batched_tokens: int | None = setting(
        None, flag="--max-num-batched-tokens", kind=int, nullable=True, minimum=1, maximum=MAX_TOKENS,
        metavar="TOKENS", help="tokens per prefill step (default: --max-model-len)",
    )
    gpu_memory_utilization: float | None = setting(
        None, flag="--gpu-memory-utilization", kind=float, nullable=True, minimum=MIN_GPU_MEMORY_UTILIZATION,
        maximum=1.0, metavar="F",
        help="share of free device memory for KV cache and graphs (default: planned so the vision "
             "tower fits beside them)",
    )
    dtype: str = setting("bfloat16", flag="--dtype", kind=str, choices=("bfloat16",), help="model dtype")
    kv_dtype: str = setting(
        "auto", flag="--kv-dtype", kind=str, choices=("auto", "fp8"), group="memory",
        help="KV cache dtype: auto (the model's) or fp8 (the engine's fp8 cache, e.g. fp8_inc on HPU)",
    )
    images_per_prompt: int = setting(
        1, flag="--images-per-prompt", kind=int, minimum=1, maximum=MAX_IMAGES_PER_PROMPT, metavar="N",
        help="images one prompt may carry (--limit-mm-per-prompt)",
    )
    host: str = setting("0.0.0.0", flag="--host", kind=str, metavar="ADDR", help="address the server binds")
    port: int = setting(8000, flag="--port", kind=int, minimum=1, maximum=65535, metavar="PORT",
                        help="port the server listens on")
    fp32_softmax: bool | None = setting(
        None, flag="--fp32-softmax", negative_flag="--no-fp32-softmax", kind=bool, nullable=True,
        help="set the language model's fp32 softmax on or off (default: the engine's own default)",
    )
    fp32_softmax_vision: bool | None = setting(
        None, flag="--fp32-softmax-vision", negative_flag="--no-fp32-softmax-vision", kind=bool,
        nullable=True,
        help="set the vision tower's fp32 softmax on or off: more exact, slower, 2.5x the attention "
             "memory (default: the engine's own default, off)",
    )
    skip_warmup: bool = setting(False, flag="--skip-warmup", kind=bool,
                                help="skip graph warm-up: faster start, graphs compile while serving")
    enforce_eager: bool = setting(
        False, flag="--enforce-eager", kind=bool,
        help="run the engine without HPU graphs or torch.compile (--enforce-eager): no graph memory, slower",
    )
    align: bool = setting(
        True, flag="--align", negative_flag="--no-align", kind=bool,
        help="gaudi-vl's vLLM plugin 112-aligns images in the engine (GAUDI_VL_ALIGN=1)",
    )
    vision: str = setting(
        "stock", flag="--vision", kind=str, choices=("stock", "bucketed"),
        help="bucketed: GAUDI_VL_VISION=bucketed, the engine's Qwen2.5-VL vision tower runs gaudi-vl's "
             "bucketed, window-batched forward (vLLM layout; refused with one log line otherwise)",
    )
    device: str = setting(
        DEFAULT_DEVICE, flag="--device", kind=str, choices=tuple(BUILTIN_HBM_BYTES), group="memory",
        metavar="NAME", help=f"card type: {' or '.join(BUILTIN_HBM_BYTES)}",
    )
    device_memory: int | None = setting(
        None, flag="--device-memory", kind=int, nullable=True, minimum=1, maximum=2**50, group="memory",
        parse=_memory_size, metavar="SIZE",
        help="memory one card shows the engine, e.g. 94.62GiB or 96GB (default: the device's)",
    )
    recipe_cache: str = setting(
        "", flag="--recipe-cache", kind=str, metavar="DIR",
        help="keep the Habana recipe cache (compiled graphs) in DIR on LOCAL disk and reuse it: restarts "
             "skip most of the warm-up (the Habana recipe cache set to DIR,False,8192; not NFS, which "
             "lacks locking); default: none",
    )
    vision_memory: str = setting(
        "fused", flag="--vision-memory", kind=str, choices=("fused", "worst-case"), group="memory",
        help="vision attention memory model: fused (the engine's fused SDPA holds no [heads, N, N] "
             "scores) or worst-case (scores materialised)",
    )
    execution_mode: str | None = setting(
        None, flag="--execution-mode", kind=str, nullable=True, choices=tuple(m.value for m in ExecutionMode),
        help=f"HPU execution mode, written to {VARIABLE_NAMES[Setting.EXECUTION_MODE]}: compile "
             "(torch.compile, no HPU graphs: the vision sizes take no graph memory) or lazy (HPU graphs); a "
             "target that models one mode refuses the other (default: the target's default mode)",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            check_value(spec_of(f), getattr(self, f.name))
        _host(self.host)
        _recipe_dir(self.recipe_cache)
        self.engine.execution(self.execution_mode)  # a mode the target does not model: one-line error

    @property
    def execution(self) -> ModeFacts | None:
        """The execution mode's facts (``--execution-mode`` or the engine's default); None off HPU."""
        return self.engine.execution(self.execution_mode)

    @property
    def engine(self) -> EngineProfile:
        return get_profile(self.target)

    @property
    def batched_tokens(self) -> int:
        return self.max_num_batched_tokens or self.max_model_len

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "serve") -> ServeSettings:
        """Strict: a JSON object with known keys of the right types (missing keys take defaults)."""
        if not isinstance(data, Mapping):
            raise GaudiVLError(f"{where} must be an object, got {type(data).__name__}", "re-plan")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise GaudiVLError(f"{where} has unknown key(s) {', '.join(map(repr, unknown))}",
                               "remove them or re-plan with this gaudi-vl version")
        values = {k: check_value(spec_of(known[k]), v, f"{where}.{k}") for k, v in data.items()}
        return cls(**values)


SERVE_FIELDS = tuple(f for f in fields(ServeSettings))
DEFAULTS: dict[str, Any] = {f.name: f.default for f in SERVE_FIELDS if f.default is not MISSING}


# ---------------------------------------------------------------- the plan file's memory section

SERVE_SPECS: dict[str, Spec] = {f.name: spec_of(f) for f in SERVE_FIELDS}


def _numbers(kind: type, minimum: float, maximum: float, what: str) -> Spec:
    return Spec(flag=what, help="", kind=kind, minimum=minimum, maximum=maximum)


_BYTES = _numbers(int, 0, MAX_BYTES, "a byte count")
_RATIO = _numbers(float, 0.0, 1.0, "a share")
MEMORY_SPECS: dict[str, Spec] = {
    # the serving settings the memory plan repeats: the same declaration (a planned value is never None)
    "tensor_parallel_size": SERVE_SPECS["tensor_parallel_size"],
    "max_model_len": SERVE_SPECS["max_model_len"],
    "max_num_seqs": replace(SERVE_SPECS["max_num_seqs"], nullable=False),
    "gpu_memory_utilization": replace(SERVE_SPECS["gpu_memory_utilization"], nullable=False),
    "vision_memory": SERVE_SPECS["vision_memory"],
    "engine": SERVE_SPECS["target"],
    # what the planner computed
    "hbm_bytes": _numbers(int, 1, MAX_BYTES, "a byte count"),
    "runtime_reserved_bytes": _BYTES,
    "text_weights_bytes": _BYTES,
    "vision_weights_bytes": _BYTES,
    "profile_peak_bytes": _BYTES,
    "vision_peak_bytes": _BYTES,
    "vision_peak_worst_case_bytes": _BYTES,
    "vision_graph_bytes": _BYTES,
    "largest_bucket_patches": _numbers(int, 1, MAX_TOKENS, "a patch count"),
    "vision_graphs": _numbers(int, 0, 1 << 20, "a graph count"),
    "graph_reserved_mem": _RATIO,
    "graph_prompt_ratio": _RATIO,
    "graph_multimodal_ratio": _RATIO,
    "kv_bytes_per_token": _numbers(int, 1, MAX_BYTES, "a byte count"),
    "block_size": _numbers(int, 1, 1 << 16, "a token count"),
}
"""Bounds of the plan file's ``memory`` fields: the serving settings' own declarations where the
memory plan repeats one, else a plain range (counts and bytes non-negative and finite, shares in
0..1). Text and true/false fields are typed by the plan file reader."""
SAME_AS_SERVE: dict[str, str] = {
    "engine": "target",
    "tensor_parallel_size": "tensor_parallel_size",
    "max_model_len": "max_model_len",
    "vision_memory": "vision_memory",
    "enforce_eager": "enforce_eager",
}
"""``memory`` fields that must equal a ``serve`` field (the memory plan was computed for them)."""


def check_memory_section(memory: Mapping[str, Any], serve: ServeSettings, where: str = "memory") -> None:
    """A plan file's ``memory`` values within :data:`MEMORY_SPECS` and consistent with ``serve``."""
    for name, spec in MEMORY_SPECS.items():
        if name in memory:
            check_value(spec, memory[name], f"{where}.{name}")
    for name, other in SAME_AS_SERVE.items():
        if name in memory and memory[name] != getattr(serve, other):
            raise GaudiVLError(
                f"{where}.{name} is {memory[name]!r} but serve.{other} is {getattr(serve, other)!r}: "
                "the memory plan was computed for other settings",
                "re-plan with gaudi-vl plan --json -o FILE",
            )
    if serve.max_num_seqs is not None and memory.get("max_num_seqs") != serve.max_num_seqs:
        raise GaudiVLError(
            f"{where}.max_num_seqs is {memory.get('max_num_seqs')!r} but serve.max_num_seqs is "
            f"{serve.max_num_seqs}", "re-plan with gaudi-vl plan --json -o FILE",
        )
