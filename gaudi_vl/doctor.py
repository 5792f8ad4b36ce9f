"""Read an HPU engine log, tell where it failed and what to change.

Pure: lines in, findings and advice out; no file I/O (the CLI in ``gaudi_vl.cli.doctor`` streams the
file or the pipe). ``Doctor.feed`` keeps only counters, the last memory figures and a bounded list of
findings, so a log of any length is read in constant memory, and a log cut off anywhere still gives
a report on what was there.

Recognised lines (exact formats from the engines' sources and documented logs):

- weights: ``Loading model weights took in total 15.05 GiB of device memory (15.05 GiB/94.62 GiB used)``
  (vllm-fork ``hpu_model_runner.py``; docs "Managing memory" log excerpt);
- profiling: ``Model profiling run took 504 MiB of device memory (...)`` (``hpu_worker.py``);
- the budget: ``Free device memory: 79.16 GiB, 39.58 GiB usable (gpu_memory_utilization=0.5), 15.83 GiB
  reserved for HPUGraphs (VLLM_GRAPH_RESERVED_MEM=0.4), 23.75 GiB reserved for KV cache`` (vllm-fork
  ``vllm/worker/hpu_worker.py``), and vllm-gaudi's variant ending ``X reserved for KV cache dummy block
  Y reserved for usable KV cache`` (``vllm_gaudi/v1/worker/hpu_worker.py``);
- KV allocation: ``# HPU blocks: 1519, # CPU blocks: 0``, ``Usable num_blocks: N``, ``Initializing
  cache engine took ...``;
- graph split: ``Using 15.85 GiB/55.43 GiB of free device memory for HPUGraphs, 4.755 GiB for prompt and
  11.095 GiB for decode (VLLM_GRAPH_PROMPT_RATIO=0.3)`` (vllm-fork ``hpu_model_runner.py``);
- warm-up: ``[Warmup]...`` progress lines and ``Graph/Prompt captured`` summaries;
- serving: ``Application startup complete``, ``Started server process``, throughput lines;
- image padding: ``Padding current image size N to B`` (vllm-fork / vllm-gaudi ``qwen2_5_vl.py``) and
  ``Padding current number pixel N to B`` (the HPU multimodal bucket paths);
- mask on CPU: ``einsum running on CPU :torch.Size([..., N])`` (images above 40000 patches);
- out of memory: ``PT_DEVMEM Allocation failed for size::939524096 (896)MB`` and ``PT_DEVMEM OOM: No
  enough memory for defragment``;
- recompilation: ``Configuration: (prompt, 1, 36864) was not warmed-up!`` (vllm-fork
  ``hpu_model_runner.py`` ``_check_config``; also the ``rank (...)`` and tuple forms), vllm-gaudi's
  ``[HPUWorker.execute_model] graph compilation detected: ...`` (``hpu_worker.py``
  ``track_graph_compile``) and KV preemption ``is preempted by PreemptionMode.RECOMPUTE mode because
  there is not enough KV cache space``.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gaudi_vl.devices import GIB
from gaudi_vl.geometry import PATCHES_PER_WINDOW, PIXELS_PER_PATCH
from gaudi_vl.engines import DEFAULT_PROFILE
from gaudi_vl.memory import vision_margin_bytes, vision_peak_bytes
from gaudi_vl.models import DEFAULT_MODEL, ModelSpec, builtin_model


class Phase(str, Enum):
    """Where in its life the engine was, in order."""

    STARTUP = "start-up/weights"
    PROFILING = "profiling"
    KV_ALLOCATION = "KV allocation"
    WARMUP = "warm-up/graph capture"
    SERVING = "serving"

    @property
    def order(self) -> int:
        return list(Phase).index(self)


_UNIT = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
         "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_SIZE = r"(-?[\d.]+ ?[KMGT]?i?B)"


def _bytes(text: str) -> int:
    m = re.match(r"(-?[\d.]+) ?([KMGT]?i?B)", text.strip())
    if not m:
        raise ValueError(text)
    return int(float(m.group(1)) * _UNIT[m.group(2).lower()])


def _gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


_RE = {
    "weights": re.compile(r"Loading model weights took in total " + _SIZE + r" of device memory \("
                          + _SIZE + "/" + _SIZE + " used\\)"),
    "preload": re.compile(r"(?:Pre-loading|Loading) model weights on \S+ took"),
    "profile": re.compile(r"Model profiling run took " + _SIZE + " of device memory"),
    "free": re.compile(
        r"Free device memory: " + _SIZE + ", " + _SIZE + r" usable \(gpu_memory_utilization=([\d.]+)\), ?"
        + _SIZE + r" reserved for HPUGraphs \(VLLM_GRAPH_RESERVED_MEM=([\d.]+)\), " + _SIZE
        + r" reserved for KV cache(?: dummy block " + _SIZE + " reserved for usable KV cache)?"
    ),
    "blocks": re.compile(r"# HPU blocks: (\d+)|Usable num_blocks: (\d+)"),
    "cache_init": re.compile(r"Initializing cache engine took"),
    "graph_split": re.compile(
        r"Using " + _SIZE + "/" + _SIZE + r" of free device memory for HPUGraphs, " + _SIZE
        + " for prompt and " + _SIZE + r" for decode \(VLLM_GRAPH_PROMPT_RATIO=([\d.]+)\)"
    ),
    "warmup": re.compile(r"\[Warmup\]|captured:\d+|Warmup finished|warming up", re.IGNORECASE),
    "serving": re.compile(r"Application startup complete|Started server process|Avg prompt throughput"
                          r"|Uvicorn running on"),
    "padding": re.compile(r"Padding current (?:image size|number pixel) (\d+) to (\d+)"),
    "mask_cpu": re.compile(r"einsum running on CPU"),
    "oom_alloc": re.compile(r"PT_DEVMEM Allocation failed for size::(\d+)(?: \((\d+)\)MB)?"),
    "oom_defrag": re.compile(r"PT_DEVMEM OOM: No enough memory for defragment"),
    "not_warmed": re.compile(r"Configuration: (.*) was not warmed-up!"),
    "graph_compile": re.compile(r"graph compilation detected"),
    "preempted": re.compile(r"preempted by PreemptionMode\.\w+ mode because there is not enough KV cache"),
}

MAX_KEPT_FINDINGS = 200


@dataclass(frozen=True)
class Finding:
    """One recognised event in the log."""

    line_no: int
    kind: str
    phase: Phase
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line_no, "kind": self.kind, "phase": self.phase.value, "message": self.message}


@dataclass(frozen=True)
class DoctorReport:
    """What the log says: how far the engine got, where it failed, and what to change."""

    lines_read: int
    recognised_lines: int
    phase_reached: Phase | None
    failed: bool
    failure_phase: Phase | None
    failure: str | None
    memory: dict[str, float]
    images_padded: int
    largest_bucket_seen: int
    largest_image_seen: int
    padding_fraction: float
    recompilations: int
    preemptions: int
    advice: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def recognised(self) -> bool:
        return self.recognised_lines > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "recognised_lines": self.recognised_lines,
            "phase_reached": self.phase_reached.value if self.phase_reached else None,
            "failed": self.failed,
            "failure_phase": self.failure_phase.value if self.failure_phase else None,
            "failure": self.failure,
            "memory": dict(self.memory),
            "images_padded": self.images_padded,
            "largest_bucket_seen": self.largest_bucket_seen,
            "largest_image_seen": self.largest_image_seen,
            "padding_fraction": round(self.padding_fraction, 4),
            "recompilations": self.recompilations,
            "preemptions": self.preemptions,
            "advice": list(self.advice),
            "findings": [f.to_dict() for f in self.findings],
        }


class Doctor:
    """Feed engine log lines one at a time; ask for the report at any point.

    ``model`` and ``tp`` are used to size the vision tower when the advice is about images.
    """

    def __init__(
        self, model: ModelSpec | None = None, *, tp: int = 1, fp32_softmax_vision: bool = False
    ) -> None:
        self.model = model or builtin_model(DEFAULT_MODEL)
        self.tp = tp
        self.fp32 = fp32_softmax_vision
        self.attention = DEFAULT_PROFILE.attention
        self.lines = 0
        self.recognised = 0
        self.phase: Phase | None = None
        self.failure: str | None = None
        self.failure_phase: Phase | None = None
        self.failure_kind: str | None = None
        self.alloc_bytes: int | None = None
        self.mem: dict[str, float] = {}
        self.padded = 0
        self.pad_patches = 0
        self.bucket_patches = 0
        self.largest_bucket = 0
        self.largest_image = 0
        self.last_bucket = 0
        self.recompiles = 0
        self.preemptions = 0
        self.mask_on_cpu = 0
        self.kept: deque[Finding] = deque(maxlen=MAX_KEPT_FINDINGS)

    # ------------------------------------------------------------ reading

    def _advance(self, phase: Phase) -> None:
        if self.phase is None or phase.order > self.phase.order:
            self.phase = phase

    def feed(self, line: str) -> list[Finding]:
        """Read one line; return what it revealed (empty for lines we do not know)."""
        self.lines += 1
        out: list[Finding] = []

        def note(kind: str, phase: Phase, message: str) -> None:
            f = Finding(self.lines, kind, phase, message)
            out.append(f)
            self.kept.append(f)

        def enter(phase: Phase, kind: str, message: str) -> None:
            """A phase marker: noted the first time, afterwards only counted as recognised."""
            first = self.phase is not phase
            self._advance(phase)
            if first:
                note(kind, phase, message)
            else:
                self.recognised += 1

        if "Padding current" in line and (m := _RE["padding"].search(line)):
            n, b = int(m.group(1)), int(m.group(2))
            self.padded += 1
            self.pad_patches += b - n
            self.bucket_patches += b
            self.largest_bucket = max(self.largest_bucket, b)
            self.largest_image = max(self.largest_image, n)
            self.last_bucket = b
            self.recognised += 1
            return out  # too frequent to report one by one; summarised in the report
        if m := _RE["free"].search(line):
            free, usable, util, graphs, reserved, kv = m.group(1, 2, 3, 4, 5, 6)
            self.mem.update(free_bytes=_bytes(free), usable_bytes=_bytes(usable),
                            gpu_memory_utilization=float(util), graph_reserve_bytes=_bytes(graphs),
                            graph_reserved_mem=float(reserved),
                            kv_cache_bytes=_bytes(m.group(7) or kv))
            self._advance(Phase.KV_ALLOCATION)
            note("budget", Phase.KV_ALLOCATION,
                 f"free {_gib(self.mem['free_bytes'])}, usable {_gib(self.mem['usable_bytes'])} "
                 f"(gpu_memory_utilization={util}), graphs {_gib(self.mem['graph_reserve_bytes'])} "
                 f"(VLLM_GRAPH_RESERVED_MEM={reserved}), KV {_gib(self.mem['kv_cache_bytes'])}")
        elif m := _RE["weights"].search(line):
            self.mem.update(weights_bytes=_bytes(m.group(1)), device_total_bytes=_bytes(m.group(3)))
            self._advance(Phase.STARTUP)
            note("weights", Phase.STARTUP, f"weights {m.group(1)} on a card of {m.group(3)}")
        elif _RE["preload"].search(line):
            self._advance(Phase.STARTUP)
            note("weights", Phase.STARTUP, "loading weights")
        elif m := _RE["profile"].search(line):
            self.mem["profile_bytes"] = _bytes(m.group(1))
            self._advance(Phase.PROFILING)
            note("profile", Phase.PROFILING, f"profiling run took {m.group(1)}")
        elif m := _RE["blocks"].search(line):
            self.mem["kv_blocks"] = int(m.group(1) or m.group(2))
            self._advance(Phase.KV_ALLOCATION)
            note("kv_blocks", Phase.KV_ALLOCATION, f"{self.mem['kv_blocks']:.0f} KV blocks")
        elif _RE["cache_init"].search(line):
            self._advance(Phase.WARMUP)
            note("kv_allocated", Phase.WARMUP, "KV cache allocated")
        elif m := _RE["graph_split"].search(line):
            self.mem.update(graph_used_bytes=_bytes(m.group(1)), warmup_free_bytes=_bytes(m.group(2)),
                            graph_prompt_bytes=_bytes(m.group(3)), graph_decode_bytes=_bytes(m.group(4)),
                            graph_prompt_ratio=float(m.group(5)))
            self._advance(Phase.WARMUP)
            note("graph_split", Phase.WARMUP,
                 f"HPU graphs {m.group(1)} of {m.group(2)} free: {m.group(3)} prompt, {m.group(4)} decode "
                 f"(VLLM_GRAPH_PROMPT_RATIO={m.group(5)})")
        elif _RE["serving"].search(line):
            enter(Phase.SERVING, "serving", "engine is serving")
        elif _RE["warmup"].search(line):
            enter(Phase.WARMUP, "warmup", "warm-up started")
        elif m := _RE["oom_alloc"].search(line):
            size = int(m.group(1))
            self.alloc_bytes = size
            self._fail("oom_alloc", f"device allocation of {_gib(size)} failed (PT_DEVMEM)")
            note("oom", self.failure_phase or Phase.STARTUP, f"out of memory: {self.failure}")
        elif _RE["oom_defrag"].search(line):
            self._fail("oom_defrag", "no memory left even after defragmentation (PT_DEVMEM OOM)")
            note("oom", self.failure_phase or Phase.STARTUP, f"out of memory: {self.failure}")
        elif m := _RE["not_warmed"].search(line):
            self.recompiles += 1
            if self.recompiles <= 3:
                note("recompile", self.phase or Phase.SERVING,
                     f"graph not warmed up, compiled now: {m.group(1)}")
            else:
                self.recognised += 1
        elif _RE["graph_compile"].search(line):
            self.recompiles += 1
            if self.recompiles <= 3:
                note("recompile", self.phase or Phase.SERVING, "graph compilation while serving")
            else:
                self.recognised += 1
        elif _RE["preempted"].search(line):
            self.preemptions += 1
            if self.preemptions == 1:
                note("preempted", self.phase or Phase.SERVING, "requests preempted: the KV cache is full")
            else:
                self.recognised += 1
        elif _RE["mask_cpu"].search(line):
            self.mask_on_cpu += 1
            note("mask_cpu", self.phase or Phase.SERVING,
                 "an image above 40000 patches: its attention mask was built on the CPU")
        self.recognised += len(out)
        return out

    def _fail(self, kind: str, what: str) -> None:
        if self.failure is None:  # the first failure is the cause; later ones are fallout
            self.failure = what
            self.failure_kind = kind
            self.failure_phase = self.phase or Phase.STARTUP

    # ------------------------------------------------------------ advice

    def _vision_advice(self, free: float, util: float) -> list[str]:
        """Which utilization or largest bucket lets the biggest image seen run beside the KV cache."""
        bucket = self.largest_bucket or self.last_bucket
        if not bucket:
            return []
        peak = vision_peak_bytes(self.model.vision, bucket, self.attention, tp=self.tp, fp32_softmax=self.fp32)
        need = vision_margin_bytes(peak)
        out = [(f"an image padded to {bucket} patches needs ~{_gib(peak)} in the vision tower "
                f"(+15% and 1 GiB = {_gib(need)}); gpu_memory_utilization={util:g} leaves "
                f"{_gib(free * (1 - util))} outside the KV cache and graphs")]
        new_util = math.floor((1 - need / free) * 100) / 100 if free > 0 else 0
        if 0.05 <= new_util < util:
            out.append(f"set --gpu-memory-utilization {new_util:g} (from {util:g})")
        margin = free * (1 - util)
        lo, hi = 0, bucket // PATCHES_PER_WINDOW
        while hi - lo > 1:
            mid = (lo + hi) // 2
            n = mid * PATCHES_PER_WINDOW
            p = vision_peak_bytes(self.model.vision, n, self.attention, tp=self.tp, fp32_softmax=self.fp32)
            lo, hi = (mid, hi) if vision_margin_bytes(p) <= margin else (lo, mid)
        fit = lo * PATCHES_PER_WINDOW
        if fit >= PATCHES_PER_WINDOW:
            px = fit * PIXELS_PER_PATCH
            out.append(f"or keep gpu_memory_utilization={util:g} and lower max_pixels to {px} "
                       f"(largest bucket {fit} patches): gaudi-vl plan --max-pixels {px}")
        if self.fp32:
            out.append("or drop VLLM_FP32_SOFTMAX_VISION (fp32 softmax needs 2.5x the attention memory)")
        out.append(f"or raise --tp to {self.tp * 2} (the vision tower's heads are split across cards)")
        return out

    def advice(self) -> list[str]:
        out: list[str] = []
        util = self.mem.get("gpu_memory_utilization")
        reserved = self.mem.get("graph_reserved_mem")
        free = self.mem.get("free_bytes")
        usable = self.mem.get("usable_bytes")
        kind, phase = self.failure_kind, self.failure_phase
        if kind is not None and phase is not None:
            size = f" ({_gib(self.alloc_bytes)})" if self.alloc_bytes else ""
            if phase is Phase.STARTUP:
                total = self.mem.get("device_total_bytes")
                out.append(f"out of memory while loading weights{size}: the model does not fit on one card; "
                           f"raise --tp to {self.tp * 2}" + (f" (card: {_gib(total)})" if total else ""))
                out.append("if weights did load and images are pre-processed at start-up, lower "
                           "--gpu-memory-utilization to 0.5 (the seed's 0.3-0.5 range) to leave room")
            elif phase is Phase.PROFILING:
                out.append(f"out of memory in the profiling run{size}: lower --max-num-batched-tokens "
                           "(the dummy prefill) or raise --tp")
            elif phase is Phase.KV_ALLOCATION:
                if util and free and self.alloc_bytes:
                    new = math.floor((util - self.alloc_bytes / free - 0.01) * 100) / 100
                    out.append(f"out of memory allocating the KV cache{size}: set --gpu-memory-utilization "
                               f"{max(new, 0.05):g} (from {util:g})")
                else:
                    out.append(f"out of memory allocating the KV cache{size}: lower --gpu-memory-utilization "
                               "by 0.05 or raise --tp")
            elif phase is Phase.WARMUP:
                if kind == "oom_defrag" and (self.largest_bucket or self.last_bucket) and free and util:
                    out += self._vision_advice(free, util)
                elif reserved is not None and usable:
                    extra = (self.alloc_bytes or 0) / usable
                    new = min(0.9, max(0.4 if reserved < 0.4 else reserved + 0.1,
                                       math.ceil((reserved + extra) * 20) / 20))
                    out.append(f"out of memory while capturing HPU graphs{size}: set VLLM_GRAPH_RESERVED_MEM="
                               f"{new:g} (from {reserved:g}); the KV cache shrinks to "
                               f"{_gib(usable * (1 - new))}")
                else:
                    out.append("out of memory while capturing HPU graphs: raise VLLM_GRAPH_RESERVED_MEM "
                               "to 0.4-0.6")
            else:  # serving
                if (self.largest_bucket or self.last_bucket) and free and util:
                    out += self._vision_advice(free, util)
                elif util:
                    out.append(f"out of memory while serving{size}: lower --gpu-memory-utilization to "
                               f"{max(0.05, util - 0.1):.2f} (from {util:g}) or --max-num-seqs")
                else:
                    out.append(f"out of memory while serving{size}: lower --gpu-memory-utilization "
                               "or --max-num-seqs, or raise --tp")
        if self.recompiles:
            out.append(f"{self.recompiles} graph(s) compiled while serving: keep VLLM_SKIP_WARMUP off and "
                       "make the buckets cover the shapes seen (gaudi-vl plan with your --max-pixels / "
                       "--workload)")
        if self.preemptions:
            out.append(f"{self.preemptions} preemption(s): the KV cache is too small for the load; lower "
                       "--max-num-seqs or --max-model-len, or raise --tp")
        if self.padded and self.bucket_patches:
            frac = self.pad_patches / self.bucket_patches
            if frac > 0.2:
                out.append(f"{100 * frac:.0f}% of vision tower work was padding over {self.padded} images: "
                           "plan buckets from this traffic (gaudi-vl plan --workload)")
        if self.mask_on_cpu:
            out.append(f"{self.mask_on_cpu} image(s) above 40000 patches had their mask built on the CPU "
                       "(slow): lower max_pixels")
        return out

    def report(self) -> DoctorReport:
        frac = self.pad_patches / self.bucket_patches if self.bucket_patches else 0.0
        return DoctorReport(
            lines_read=self.lines,
            recognised_lines=self.recognised,
            phase_reached=self.phase,
            failed=self.failure is not None,
            failure_phase=self.failure_phase,
            failure=self.failure,
            memory=dict(self.mem),
            images_padded=self.padded,
            largest_bucket_seen=self.largest_bucket,
            largest_image_seen=self.largest_image,
            padding_fraction=frac,
            recompilations=self.recompiles,
            preemptions=self.preemptions,
            advice=tuple(self.advice()),
            findings=tuple(self.kept),
        )
