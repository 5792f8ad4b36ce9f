"""Read an HPU engine log: every failure found, the phase it happened in, advice only where it helps.

Pure: lines in, findings and a report out; no file I/O (``gaudi_vl.cli.doctor`` streams the file or
the pipe, ``gaudi_vl.launch.LogWatcher`` feeds a live engine). ``Doctor.feed`` keeps counters, the
last memory figures, one small traceback state per process and bounded lists, so a log of any length
is read in constant memory, and a log cut off anywhere still gives a report on what was there.

How a log is read (the line grammar and every engine fact live in ``gaudi_vl.engines.logs``):

1. Each line is split into its stream (``(Worker_TP0 pid=635023)``, ``(WorkerDict pid=..)``,
   ``[rank0]:``, ``(raylet)``, or the main process), its logger header and its message; colour codes
   (real, ``^[[``, or with the ESC byte lost), ``^M``, collector timestamps, ``docker compose``
   prefixes and ``> `` quoting are dropped. The frequent lines of a long run take a fast path
   (``feed_many``).
2. Phase markers (the engines' own logger calls) move the engine forward: start-up, weights,
   profiling run, memory budget, KV allocation, warm-up steps, serving.
3. Failures: any traceback, ``FATAL ERROR :: MODULE:...``, synapse error, ``Fatal Python error`` or
   engine / Ray worker death. A traceback is followed per stream, so the interleaved tracebacks of
   eight TP workers are eight tracebacks, folded into one finding when they say the same thing (pids,
   ranks, sizes and addresses aside). Hard-wrapped frame lines are joined to their traceback; an
   exception printed on its own line before a ``Traceback`` becomes that traceback's message.
   Teardown tracebacks (``Exception ignored in``, "Python is likely shutting down", destructors after
   the server served) are noise, never failures. A failure's phase comes from its strong frames,
   else the exception's own text, else the last marker, else frames several phases share, else the
   phase other workers' tracebacks show; else it is unknown (None), never guessed. The cause reported
   is the first specific failure (out of memory, assertion, not implemented, lazy-mode, graph
   compile, fatal, crash) over generic exceptions over "the engine process died" wrappers.
4. Advice only for what the log shows: memory advice only for out-of-memory failures, only from
   numbers in the log, and only when it changes something (``memory_advice``: the one place the lead
   re-points at the profiles' Budget); HPU variables only for HPU logs; image advice only for a
   multimodal model.

Every number is parsed defensively (finite, within bounds: ``MAX_LOG_NUMBER``, ``MAX_LOG_BYTES``,
ratios in [0, 1]): a marker line whose numbers do not parse is a finding "unreadable line N", never
an exception; ``feed`` itself turns any internal error into such a
finding, so a caller (``serve``'s supervisor) never stops because of the doctor.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gaudi_vl.devices import GIB
from gaudi_vl.engines import DEFAULT_PROFILE, NAMES, EngineProfile, Setting, get_profile
from gaudi_vl.engines.logs import (
    ACCESS_LOG,
    ALL_GRAMMARS,
    ANSI,
    ASGI_STARTED,
    BLOCK_START,
    BLOCKS,
    BRACKET_START,
    BUDGET,
    C10_FRAME,
    CALL_SITES,
    CALLER_ERROR_TYPES,
    CAPTURE_ERROR,
    CHAINED,
    CLIENT_SHUTDOWN,
    CLOUD_PREFIX,
    CLOUDWATCH_CSV,
    CLOUDWATCH_ESCAPES,
    COLLECTOR_STAMP,
    COMPILER_PATHS,
    COMPOSE_NAMED,
    COMPOSE_PREFIX,
    CPP_EXCEPTION,
    CRASH_FRAME,
    CRASH_HEADER,
    CUDA_CHECK_EXIT,
    CUT_CALL,
    CUT_CALL_SITES,
    CUT_HEADER,
    CUT_SITE_MIN,
    DEVICE_ASSERT,
    DEVICE_RUNTIME_ERROR,
    ENGINE_CORE_OUTPUT,
    ENGINE_DEATH,
    ENGINE_FAMILY_PATH,
    ENGINE_LOOP_FRAMES,
    ENGINE_LOOP_PATH_FRAMES,
    ENGINE_PATHS,
    EXCEPTION,
    EXCEPTION_REPR,
    EXIT_MONITOR_DEATH,
    FAILED_EXECUTION,
    FATAL,
    FATAL_PYTHON,
    FAULT_THREAD,
    FRAME,
    FRAME_HEAD,
    FRAME_OR_CARET,
    FRAME_PATH_PART,
    FRAME_TAIL,
    GLOG_PREFIX,
    GLUED_HEADER,
    GLUED_RECORD,
    GPU_ENGINE,
    GRAPH_COMPILE,
    GRAPH_MEMORY_PROFILING,
    GRAPH_SPLIT,
    HANDLED_ERROR,
    HEADER,
    IPYTHON_CONTEXT,
    IPYTHON_FRAME,
    IPYTHON_TRACEBACK,
    JOURNAL_PREFIX,
    JOURNAL_TAIL,
    KILLED_BY_SIGNAL,
    KUBECTL_PREFIX,
    KV_SHORTFALL,
    LINE_FAILURES,
    LOADING_PATHS,
    MASK_CPU,
    MESSAGE_PHASES,
    MODEL_NAMED,
    MULTIMODAL_HINTS,
    NAMED_FRAMES,
    NAMED_PREFIX,
    NATIVE_FRAME,
    NATIVE_THREAD_ROOT,
    NOT_A_REQUEST,
    NOT_WARMED,
    NUMPY_STACK,
    OOM_ALLOC,
    OOM_DEFRAG,
    OOM_TEXT,
    ORDERLY_STOP,
    ORPHAN_TASK_ERROR,
    PADDING,
    PATH_FRAMES,
    PIPE_FIELDS,
    PREEMPTED,
    PROCESS_DIED,
    PROCESS_PREFIX,
    PROFILE,
    PROGRESS_PERCENT,
    PYTEST_E,
    PYTEST_FRAME,
    QUOTE_PREFIX,
    RANK_PREFIX,
    RAY_COMPONENTS,
    RAY_DEATH,
    RAY_PREFIX,
    RAY_TASK_FAILED,
    REGISTRY_LOGGER,
    RELAY_PREFIX,
    RELAYED_WORKER_ERROR,
    REQUEST_ADMISSION_FRAMES,
    REQUEST_ADMISSION_PATHS,
    REQUEST_DISPATCH_FRAMES,
    REQUEST_DISPATCH_PATHS,
    REQUEST_ERROR,
    REQUEST_EXCEPTIONS,
    REQUEST_HANDLERS,
    REQUEST_ID,
    REQUEST_LOGGER,
    REQUEST_RECORD,
    REQUEST_SERVING_PATHS,
    RESUMED,
    RICH_FRAME,
    RICH_FUNC,
    RL_WEIGHT_SYNC,
    ROCR_FAULT,
    RPC_CALL,
    RPC_TIMEOUT,
    SCRUBBED_HEADER,
    SCRUBBED_PROCESS,
    SERVING_PATHS,
    SHUTDOWN_NOISE,
    SIGNAL_EXIT,
    SOCKET_CLOSED,
    STAGE_PREFIX,
    STAMP_START,
    START_INTERRUPTED,
    START_SHORTFALL,
    STDLIB_PREFIX,
    STEP_DUMP,
    SYNAPSE,
    SYNAPSE_DFA,
    TEARDOWN_FRAMES,
    TERM_SIGNAL,
    TERMINATE,
    TORCH_ABORT,
    TORCH_OOM,
    TRACEBACK,
    TRACING_PREFIX,
    UNDATED_HEADER,
    UNRAISABLE,
    UTILITY_FAILED,
    V0_FATAL_LOGGERS,
    V0_MQ_START_HANDLER_BELOW,
    V0_REQUEST_STREAM,
    WARMUP_NAMED,
    WARMUP_STEP,
    WEAK_MESSAGE_PHASES,
    WEIGHT_SYNC_NAMED,
    WEIGHTS_GAUDI,
    WEIGHTS_TOTAL,
    WORKER_BUSY_LOOP_ERROR,
    WORKER_METHOD,
    WORKER_METHOD_CUT,
    WRAPPER_PREFIX,
    LogGrammar,
    Marker,
    Phase,
    grammar_for,
)
from gaudi_vl.geometry import PATCHES_PER_WINDOW, PIXELS_PER_PATCH
from gaudi_vl.memory import Budget, vision_margin_bytes, vision_peak_bytes
from gaudi_vl.models import DEFAULT_MODEL, ModelSpec, builtin_model

__all__ = ["MAX_KEPT_FINDINGS", "Doctor", "DoctorReport", "Finding", "Phase", "memory_advice"]

MAX_LINE_CHARS = 8192
"""Only the first 8 KiB of a line are read: every engine line we know fits; a runaway line costs nothing."""
MAX_KEPT_FINDINGS = 200
MAX_FAILURES = 64
MAX_STREAMS = 256
MAX_UNREADABLE_KEPT = 20
QUIET_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "WARN"})
"""Levels below ERROR. A failure is logged at ERROR or CRITICAL (``logger.exception`` logs at ERROR); what a
logger writes below that, a traceback included, is an exception the program caught and reported."""

_UNIT = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
         "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_SIZE_PARTS = re.compile(r"(-?[\d.]+) ?([KMGT]?i?B)")


MAX_LOG_NUMBER = 1e15
"""No number an engine logs (bytes in GiB units, blocks, patches, steps) comes near this; a larger one
(``1e308``) is a corrupted line, read as unreadable rather than carried into the advice's arithmetic."""


def _number(text: str | None) -> float | None:
    """A finite float within +-MAX_LOG_NUMBER, or None for anything else ("1.2.3", "", "9" * 400, "1e308")."""
    if text is None or len(text) > 40:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_LOG_NUMBER else None


def _ratio(text: str | None) -> float | None:
    """A share in [0, 1] (``gpu_memory_utilization``, the graph-memory reserve); None otherwise."""
    value = _number(text)
    return value if value is not None and 0.0 <= value <= 1.0 else None


def _bytes(text: str | None) -> int | None:
    """``"14.97 GiB"`` -> bytes, or None when the text is not a size ``format_bytes`` could write."""
    if text is None:
        return None
    m = _SIZE_PARTS.fullmatch(text.strip())
    if not m:
        return None
    value = _number(m.group(1))
    unit = _UNIT.get(m.group(2).lower())
    if value is None or unit is None or abs(value * unit) > MAX_LOG_BYTES:
        return None
    return int(value * unit)


MAX_LOG_BYTES = 1 << 60
"""1 EiB: above any device or host memory; a size beyond it is a corrupted line."""


def _gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


FAILURE_KINDS: dict[str, str] = {
    "oom": "out of memory",
    "lazy_mode": "Habana lazy-mode error (PT_LAZY)",
    "graph_compile": "graph compilation failed (synapse)",
    "fatal": "Habana fatal error",
    "assertion": "assertion failed",
    "not_implemented": "not implemented",
    "crash": "process crashed",
    "exception": "exception",
    "engine_died": "engine process died",
}
"""Failure kinds, specific first; only ``oom`` gets memory advice."""
_PRIORITY = {"oom": 3, "lazy_mode": 3, "graph_compile": 3, "fatal": 3, "assertion": 3,
             "not_implemented": 3, "crash": 3, "exception": 2, "engine_died": 1}


def _just_after(now: Phase | None, said: Phase | None) -> bool:
    """``said`` (what a cut traceback's frames weakly name) is the engine's next start-up step after ``now``
    (the phase the log reached): the engine went on to it without a line saying so (a cut
    ``_initialize_kv_caches()`` after the weights loaded). Weak frames of any later step are not taken past
    the phase reached (the profiling run calls ``execute_model`` too, so a weak serving frame never is)."""
    return (now is not None and said is not None and said is not Phase.SERVING
            and said.order == now.order + 1)


_STRONG_ORDER = (Phase.WARMUP, Phase.PROFILING, Phase.KV_ALLOCATION, Phase.STARTUP, Phase.SERVING)
"""The latest phase among a traceback's strong frames wins: warm-up runs inside the KV set-up
(``initialize_cache`` -> ``_warm_up_model``, hpu_worker.py:351@95af70093fc0) and the profiling run inside
``_initialize_kv_caches``; serving frames never enclose start-up ones."""


def _innermost(a: Phase | None, b: Phase | None) -> Phase | None:
    """Of two workers' strong phases for one failure, the one ``_STRONG_ORDER`` ranks first: the workers ran
    the same method, and the one whose frames reach deeper shows the step (``initialize_cache`` on one
    worker's header, ``_warm_up_model`` in another's frames: warm-up)."""
    if a is None or b is None:
        return a or b
    return a if _STRONG_ORDER.index(a) <= _STRONG_ORDER.index(b) else b


_CALL = re.compile(r"([A-Za-z_]\w{2,60})\(")
"""A call in a traceback's source line: ``self.model_runner.profile_run()`` names ``profile_run``."""
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|\d+")
"""Numbers and addresses that differ between worker processes reporting the same event (pid, rank,
device index, object address): dropped from a failure's de-duplication key."""


def _norm(text: str) -> str:
    return _VOLATILE.sub("#", text.lower())[:240]


def _message_phase(text: str) -> Phase | None:
    for pattern, phase in MESSAGE_PHASES:
        if pattern.search(text):
            return phase
    return None


_STEP_FAILED = "a model step failed (its input was dumped)"


def _rank(f: _Failure) -> int:
    """How specific a failure is: its kind's priority, below every kind when it is only a hint."""
    return 0 if f.hint else _PRIORITY[f.kind]


def _weak_message_phase(text: str | None) -> Phase | None:
    """The phase a failure's text names only weakly (V0's failed model step: profiling or serving)."""
    if text and "execution" in text:
        for pattern, phase in WEAK_MESSAGE_PHASES:
            if pattern.search(text):
                return phase
    return None


def _unglued(raw: str) -> list[str] | None:
    """The records of a line that glues several (``GLUED_RECORD``): None unless it holds three or more record
    starts (frames alone: a traceback glued without its header), or two, one of them a logger header or a
    traceback's header after other text (a header's own traceback header right after it, with no text between,
    stays its own). A frame right after a header is that
    record's own (``ERROR .. [x.py:1]   File ..``); a prefix the line starts with (a collector's stamp) that
    stands again before a later record goes with that record; a frame's source goes on a line of its own."""
    starts, header_end, prefix_end = [], -1, -1
    for m in GLUED_RECORD.finditer(raw):
        if m.start() and raw[m.start() - 1] != " ":
            continue
        if m.start() == prefix_end:
            continue  # the record a process prefix stands before
        inner = m.group()[:5] in ("File ", "Trace")
        if inner and header_end >= 0 and not raw[header_end:m.start()].strip():
            continue  # the header's own frame or traceback header
        starts.append(m)
        header_end = -1 if inner else m.end()
        prefix_end = m.end() if m.group("ray") else -1
    if len(starts) < 2 or not (len(starts) >= 3 or any(
            (m.start() > 0 and m.group()[:5] != "File " and not (i == 0 and m.group("ray")))
            or (m.start() == 0 and m.group()[:5] == "Trace") for i, m in enumerate(starts))):
        return None  # (a process prefix first after a collector's stamp is that line's own)
    prefix = raw[:starts[0].start()]
    cuts = [0] + [m.start() - len(prefix) if prefix and raw[:m.start()].endswith(prefix) else m.start()
                  for m in starts[1:]]
    pieces: list[str] = []
    for k, (m, cut) in enumerate(zip(starts, cuts, strict=True)):
        end = cuts[k + 1] if k + 1 < len(cuts) else len(raw)
        if m.group()[:5] == "File ":  # ``File "..", line N, in f`` then its source line, or (a frame that
            # shows none: an import machinery's) the exception the traceback ends in
            source = raw[m.end():end].strip()
            pieces += [raw[cut:m.start()] + "  " + m.group().rstrip(),
                       source if ": " in source and EXCEPTION.match(source) else "    " + source]
        else:
            pieces.append(raw[cut:end])
    return [piece.rstrip() for piece in pieces if piece.strip()]


def _maybe_death(msg: str) -> bool:
    return ("ail" in msg or "died" in msg or "ead" in msg or "atal" in msg or "running" in msg
            or "xite" in msg or "ncountered" in msg or "topped" in msg) and (
        ENGINE_DEATH.search(msg) is not None or RAY_DEATH.search(msg) is not None)


_GLOG_LEVEL = {"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "CRITICAL"}


@dataclass(frozen=True)
class LogLine:
    """One log line taken apart: which process wrote it, its logger header (if any), its message."""

    stream: str
    level: str | None
    source: str | None
    message: str


def _bar_before_stamp(text: str) -> int:
    """Where the line goes on after a CI table's bar before a collector's stamp (0: no such bar)."""
    if text[:1] in " |\xa0" and (m := COMPOSE_PREFIX.match(text)) and COLLECTOR_STAMP.match(text[m.end():]):
        return m.end()  # (a web page's copy may turn the table's first blank into a no-break space)
    return 0


def _journal(text: str) -> re.Match[str] | None:
    """journald's prefix (``JOURNAL_PREFIX``), after a cheap look at where its month and time go."""
    if (text[:1].isalpha() or "\u6708" in text[1:3]) and ":" in text[5:20]:
        return JOURNAL_PREFIX.match(text)
    return None


def split_line(raw: str) -> LogLine:
    """Take a raw line apart (pure; any input gives a LogLine)."""
    text = raw[:MAX_LINE_CHARS]
    if text[:1].isdigit() and "," in text[10:14] and (c := CLOUDWATCH_CSV.match(text.rstrip("\r\n"))):
        quoted = c.group("quoted")  # a CloudWatch CSV export: the message, unquoted and its escapes undone
        text = quoted.replace('""', '"') if quoted is not None else c.group("plain")
        text = CLOUDWATCH_ESCAPES.sub("", text)
    if "#0" in text[:40] or text[-4:] == "#015":
        text = CLOUDWATCH_ESCAPES.sub("", text)  # rsyslog's octal escapes of the colour codes and the CR
    text = ANSI.sub("", text).replace("\r", "").rstrip()
    if text.endswith("^M"):
        text = text[:-2]
    if text[:2] == "**":  # markdown bold around a pasted line
        text = text.strip("*")
    if text[:1] == "`" or text[-1:] == "`":  # a markdown code span's backticks around a pasted line
        text = text.strip("`")
    for _ in range(3):  # envelopes around the line: a markdown quote, a collector's
        # prefix around another's (``kubectl --prefix`` over journald, ...)
        if text[:5] == "[pod/" and (m := KUBECTL_PREFIX.match(text)):
            text = text[m.end():]
        elif text[:1] == ">":
            text = QUOTE_PREFIX.sub("", text, count=1)
        elif text[:1] == "`":  # a code span's backtick behind an envelope
            text = text.lstrip("`")
        elif m := _journal(text):
            text = text[m.end():]
        elif text[:1] in "[0123456789" and (m := COLLECTOR_STAMP.match(text)) and (
                (rest := text[m.end():].lstrip("`"))[:5] == "[pod/" or COMPOSE_NAMED.match(rest)
                or JOURNAL_PREFIX.match(rest) or _bar_before_stamp(rest) or rest[:2] == "> "):
            text = rest  # ``docker logs -t`` around a compose, kubectl, journald or CI capture, or a quote
        elif bar := _bar_before_stamp(text):
            text = text[bar:]  # a CI log's table bar before its stamp: ``  | [2026-06-18T07:45:31Z] ..``
        elif (text[:1].isalnum() or text[:1] == "[") and ("|" in text[:70] or "\u2502" in text[:70]) and (
                m := COMPOSE_NAMED.match(text)):
            text = text[m.end():]
            if text.rstrip()[-1:] == "\u2502":  # a terminal UI's right border
                text = text.rstrip()[:-1]
        else:
            break
    if text[:1] == " " and (stripped := text.lstrip())[:2].isdigit() and COLLECTOR_STAMP.match(stripped):
        text = stripped  # a relay that indents the stamped lines it shows
    if m := COLLECTOR_STAMP.match(text):
        text = text[m.end():].lstrip("`")  # (a code span's backtick behind the stamp)
        if text[:1] in "[0123456789" and (m := COLLECTOR_STAMP.match(text)):
            text = text[m.end():]  # two collectors' stamps (``docker logs -t`` over a stamped file)
        if text[:1].isupper() and (t := TRACING_PREFIX.match(text)):
            text = text[t.end():]  # Rust tracing's ``LEVEL module::path: ``
        if "]:" in text[:150] and (j := JOURNAL_TAIL.match(text)):
            text = text[j.end():]  # journald's short-iso: ``<ISO time> host unit[pid]: ``
        elif text[:1] == "|" and (p := PIPE_FIELDS.match(text)):
            text = text[p.end():]  # a wrapper's ``| LEVEL | name | `` fields
    elif m := _journal(text):
        text = text[m.end():]  # journald: ``Mon DD HH:MM:SS host unit[pid]: `` in any locale
    glog = None
    if text[:2] == "E " and (e := PYTEST_E.match(text)):
        text = text[e.end():]  # pytest's failure explanation: the report's indentation goes too
    if text[1:2] == " " and (m := GLOG_PREFIX.match(text)):  # Ray's C++ lines: ``E 73667 73667] x.cc:361: ``
        glog, text = _GLOG_LEVEL[m.group("sev")], text[m.end():]
    elif text[:5] == "[pod/" and (m := KUBECTL_PREFIX.match(text)):
        text = text[m.end():]
    elif ":" in text[:9] and (m := STDLIB_PREFIX.match(text)):
        glog, text = m.group("level"), text[m.end():]
    if "Z [" in text[:60] and (m := CLOUD_PREFIX.match(text)):
        text = text[m.end():]
    if text[:1] == ">":
        text = COLLECTOR_STAMP.sub("", QUOTE_PREFIX.sub("", text, count=1), count=1)
    stage = None
    if text[:1] == "[" and (m := WRAPPER_PREFIX.match(text) or CUT_HEADER.match(text)
                            or NAMED_PREFIX.match(text)):
        text = text[m.end():]
    elif text[:7] == "[Stage-" and (m := STAGE_PREFIX.match(text)):
        stage, text = f"stage{m.group('stage')}", text[m.end():]
    if ("|" in text[:70] or "\u2502" in text[:70]) and (m := COMPOSE_PREFIX.match(text)):
        text = text[m.end():]
        if text.rstrip()[-1:] == "\u2502":  # a terminal UI's right border
            text = text.rstrip()[:-1]
    elif text[:1].isalpha() and ":" in text[:42] and (m := RELAY_PREFIX.match(text)):
        text = text[m.end():]
    stream = stage or "main"
    if text[:1] == "(" and (m := RAY_PREFIX.match(text)):
        stream, text = m.group("process"), text[m.end():]
    for _ in range(2):  # Ray forwards a worker's own prefix: ``(Worker pid=750) (Worker_TP1 pid=750)``
        if m := PROCESS_PREFIX.match(text):
            stream = f"{m.group('process') or 'proc'}:{m.group('pid')}"
            text = text[m.end():]
            if text[:1].isdigit() and (c := COLLECTOR_STAMP.match(text)) \
                    and text[c.end():c.end() + 1] == "|" and (p := PIPE_FIELDS.match(text[c.end():])):
                text = text[c.end() + p.end():]  # the worker's output went through the same relay logger
    scrubbed = False
    if stream == "main" and text[:1] == "(" and (m := SCRUBBED_PROCESS.match(text)):
        stream, text = m.group("process"), text[m.end():]  # a worker's prefix with its pid scrubbed
        scrubbed = True
    if text[:7] == "[Stage-" and (m := STAGE_PREFIX.match(text)):
        text = text[m.end():]  # the stage's logging prefix after its worker process's (STAGE_PREFIX)
    if m := RANK_PREFIX.match(text):
        stream = stream if stream != "main" else f"rank{m.group('rank')}"
        text = text[m.end():]
    level, source = glog, None
    if (m := HEADER.match(text)) or (".py:" in text[:120] and (m := UNDATED_HEADER.match(text))) or (
            scrubbed and (m := SCRUBBED_HEADER.match(text))):
        source = f"{m.group('file')}:{m.group('lineno')}" if m.group("file") else None
        level = m.group("level")
        text = m.group("message")
        if r := RANK_PREFIX.match(text):
            stream = stream if stream != "main" else f"rank{r.group('rank')}"
            text = text[r.end():]
    return LogLine(stream, level, source, text)


@dataclass(frozen=True)
class Finding:
    """One recognised event in the log."""

    line_no: int
    kind: str
    phase: Phase | None
    """None: nothing in the log so far shows the phase."""
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line_no, "kind": self.kind, "phase": self.phase.value if self.phase else None,
                "message": self.message}


@dataclass
class _Traceback:
    """A traceback being read on one stream: the phases its frames (and code lines) name."""

    start_line: int
    message: str | None = None
    strong: set[Phase] = field(default_factory=set)
    graph_profiling: bool = False
    """A frame that captures graphs to estimate their memory while the KV cache is sized
    (``GRAPH_MEMORY_PROFILING``): the capture frames inside it are profiling's."""
    weak: Phase | None = None
    frames: int = 0
    noise: bool = False
    """Opened by ``Exception ignored in``: interpreter teardown, never a failure."""
    logged: bool = False
    """Opened by a ``Traceback`` header that a logger wrote at DEBUG, INFO or WARNING (``QUIET_LEVELS``): the
    program caught the exception and logged it with its traceback (``logger.warning(.., exc_info=True)``),
    never a failure on its own; its frames still show where the program was."""
    other_frames: int = 0
    """Frames that are not teardown functions (``__del__``, ``shutdown``, ...)."""
    exc: tuple[str, str] | None = None
    """The exception a bare line printed just before this traceback (``logger.exception`` order)."""
    explicit: bool = False
    """Opened by a ``Traceback (most recent call last)`` header (not only inferred from frames)."""
    handled: bool = False
    """Opened right after a start-up step's report that it caught an exception and went on
    (``HANDLED_ERROR``): never a failure on its own."""
    request: bool = False
    """Opened right after a request's own error (``REQUEST_ERROR``): the server answered that request with
    an error and kept serving; a failure only if its exception says the engine died."""
    crash: bool = False
    """A ``faulthandler`` stack dump (``FAULT_THREAD``, frames without a comma): the process crashed."""
    dispatch: bool = False
    """A frame of the web framework running one request (``REQUEST_DISPATCH_PATHS``)."""
    engine_loop: bool = False
    """A frame of the engine's own loop (``ENGINE_LOOP_FRAMES``): the engine's error, carried to a request."""
    named: Phase | None = None
    """The phase the innermost frame's function name says (``NAMED_FRAMES``): the weakest evidence."""
    stream_raise: bool = False
    """A frame of V0's request stream raising what it was handed (``V0_REQUEST_STREAM``)."""
    in_engine: bool = False
    """The innermost frame with a path is in the engine's own modules (``ENGINE_PATHS``)."""
    engine_code: bool = False
    """A frame with a path in the engine family's code (``ENGINE_FAMILY_PATH``: vLLM, its plugins, the
    frameworks' vLLM adapters): without one, a complete traceback is the caller's own code's."""
    chained_from: tuple[str, str] | None = None
    """The failure whose exception this traceback was raised while handling (``CHAINED``, just after it)."""
    admission: bool = False
    """A frame of the front end admitting one request (``REQUEST_ADMISSION_FRAMES``): a ``ValueError`` raised
    under it is that request's input refused, raised to the caller."""
    asserting: bool = False
    """The innermost source line is an ``assert`` statement: cut there, the exception is an AssertionError."""
    syncing: bool = False
    """A frame of a weight sync into the built engine (``RL_WEIGHT_SYNC``, ``WEIGHT_SYNC_NAMED``): the loading
    frames under it are the sync's, not start-up's."""
    in_compiler: bool = False
    """The innermost frame with a path is in the compiler's own code (``COMPILER_PATHS``): the calls its
    source lines make are the compiler's, never the engine's steps."""
    core_output: bool = False
    """A frame or call of the engine core client's output (``ENGINE_CORE_OUTPUT``): a cut traceback there is
    the engine core's death."""
    last_func: str = ""
    """The function of the frame before (an import chain is ``<module>`` under ``<module>``)."""
    before_source: tuple[Phase | None, Phase | None] | None = None
    """``named`` and ``weak`` as they were before a source line that makes several calls: which of them the
    next frame runs is not known (``LLM(**args).generate(..)`` is followed by ``LLM``'s constructor, not by
    ``generate``), so what they named holds only while the paste shows no frame after the line."""

    def harmless(self) -> bool:
        """Teardown noise (``noise``), an exception a logger reported below ERROR (``logged``) or one a
        start-up step caught and went on from (``handled``): never a failure on its own."""
        return self.noise or self.logged or self.handled

    def is_request(self) -> bool:
        """A request's own traceback: after a request error line, or through the framework's request
        dispatch and not through the engine's loop."""
        return (self.request or self.dispatch) and not self.engine_loop and not self.stream_raise

    def cut_in_engine(self) -> bool:
        """Cut before its exception line while inside the engine's own code: pasted for the engine's error."""
        return self.in_engine and self.exc is None

    def add(self, func: str, grammars: Sequence[LogGrammar], path: str = "") -> None:
        if path and self.before_source is not None:
            self.named, self.weak = self.before_source  # the next frame is shown: it names, not the line
            self.before_source = None
        self.frames += 1
        self.asserting = False
        importing, self.last_func = self.last_func == "<module>", func
        self.other_frames += func not in TEARDOWN_FRAMES
        if func == ENGINE_CORE_OUTPUT:
            self.core_output = True
        if path:
            self.in_engine = any(p in path for p in ENGINE_PATHS)
            self.engine_code = self.engine_code or ENGINE_FAMILY_PATH.search(path) is not None
            self.in_compiler = any(p in path for p in COMPILER_PATHS)
            if self.in_compiler:
                return  # the compiler's own functions (``step``, ``run``) name no engine phase
            if func == V0_REQUEST_STREAM[1] and path.endswith(V0_REQUEST_STREAM[0]):
                self.stream_raise = True
            if "/vllm/" in path and any(p in path for p in REQUEST_ADMISSION_PATHS) and (
                    func in REQUEST_ADMISSION_FRAMES or path.endswith("_params.py")):
                self.admission = True
        if not self.syncing and (any(func == f and p in path for p, f in RL_WEIGHT_SYNC) or (
                func[:1] in "_ursp" and WEIGHT_SYNC_NAMED.match(func))):
            # a weight sync into the built engine, whatever framework runs it: a weak serving frame
            self.syncing = True
            self.weak = self.weak or Phase.SERVING
        if func in ENGINE_LOOP_FRAMES or (path and any(path.endswith(p) and func == f
                                                       for p, f in ENGINE_LOOP_PATH_FRAMES)):
            self.engine_loop = True
        elif path and func not in NOT_A_REQUEST and (
                any(p in path for p in REQUEST_DISPATCH_PATHS) or func in REQUEST_HANDLERS
                or any(path.endswith(p) and func == f for p, f in REQUEST_DISPATCH_FRAMES)
                or (func != "__init__" and path.endswith(REQUEST_SERVING_PATHS))):
            self.dispatch = True
        if path and self.weak is None:
            for where, name, phase in PATH_FRAMES:
                # a module imported by another module's import (``import vllm`` pulling the worker in) is
                # the program starting; imported from a function (the executor resolving its worker class)
                # it is the engine's step
                if func == name and where.search(path) and not (importing and name == "<module>"):
                    self.weak = phase
                    break
        if path and self.weak is None and any(p in path for p in LOADING_PATHS):
            self.weak = Phase.STARTUP
        if path and self.weak is None and any(p in path for p in SERVING_PATHS):
            self.weak = Phase.SERVING  # Ray's compiled graph runs model steps only
        for pattern, named in NAMED_FRAMES:
            if pattern.search(func):
                if self.named is None or not self.crash:  # the innermost match: a traceback lists it last,
                    self.named = named  # a crash's stack dump (most recent call first) first
                break
        for g in grammars:
            phase, strong = g.frame_phase(func)
            if phase is None or (self.syncing and phase is Phase.STARTUP):
                continue
            if strong:
                self.strong.add(phase)
                self.graph_profiling = self.graph_profiling or func in GRAPH_MEMORY_PROFILING
            elif self.weak is None:  # outermost weak frame
                self.weak = phase
            return
        if self.weak is None and WARMUP_NAMED.search(func):
            self.weak = Phase.WARMUP

    def strong_phase(self) -> Phase | None:
        if self.graph_profiling and Phase.WARMUP in self.strong:
            return Phase.PROFILING  # the graphs captured to estimate their memory (GRAPH_MEMORY_PROFILING)
        for p in _STRONG_ORDER:
            if p in self.strong:
                return p
        return None

    def phase(self) -> Phase | None:
        return self.strong_phase() or self.weak

    def shown_phase(self) -> Phase | None:
        """The phase its shown frames name, without what the last source line's calls stand in for."""
        return self.strong_phase() or (self.weak if self.before_source is None else self.before_source[1])


@dataclass
class _Failure:
    """One distinct failure (same kind and text from several TP workers is one failure, counted)."""

    line_no: int
    kind: str
    text: str
    stream: str
    marker_phase: Phase | None
    frame_phase: Phase | None = None
    alloc_bytes: int | None = None
    streams: set[str] = field(default_factory=set)
    text_phase: Phase | None = None
    """The phase the exception's own text names (``... when warming up sampler ...``)."""
    weak_phase: Phase | None = None
    """The phase of the traceback's weak frames (functions several phases run)."""
    hint: bool = False
    """Known only from a report around the error (V0's dump of a failed step's input): the exception that
    follows it, or the engine death it caused, says more, so any other failure is reported before it."""

    @property
    def count(self) -> int:
        return max(1, len(self.streams))

    def phase(self, fallback: Phase | None = None) -> Phase | None:
        """Strong frames first, then the exception's text, then the last phase marker, then weak
        frames, then ``fallback`` (the phase other processes' tracebacks of the same log show);
        None: unknown."""
        return self.frame_phase or self.text_phase or self.marker_phase or self.weak_phase or fallback


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
    failure_kind: str | None = None
    failure_processes: int = 0
    ended_during: str | None = None
    unreadable_lines: int = 0
    unreadable_line_numbers: tuple[int, ...] = ()
    shutdown_noise: int = 0
    """Teardown tracebacks (destructors, interpreter exit) read as noise, not failures."""
    request_errors: int = 0
    """Tracebacks of single requests the server answered with an error (not engine failures)."""

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
            "failure_kind": self.failure_kind,
            "failure": self.failure,
            "failure_processes": self.failure_processes,
            "ended_during": self.ended_during,
            "unreadable_lines": self.unreadable_lines,
            "unreadable_line_numbers": list(self.unreadable_line_numbers),
            "shutdown_noise": self.shutdown_noise,
            "request_errors": self.request_errors,
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


WORD_END = re.compile(r"\b(?:line|in|File|of|to|the|and|for|is|at|on|with|from|by|not|a)$")
"""Short words a line ends with at a word boundary (``.., line`` / ``355, in f``): a cut there dropped a
space."""

UNWRAP_PROBE_LINES = 5000
"""Lines after which a log none of whose lines continued another is read line by line: a paste is wrapped
throughout, and an engine's own long log is wrapped nowhere (the join test costs as much as reading a
line)."""

def _opens_line(line: str) -> bool:
    """``line`` starts a line of its own (``BLOCK_START``), never a wrapped line's rest: a parenthesis only
    as a process's or Ray's prefix and a bracket only as a bracketed prefix (``(4096) is greater ..``,
    ``[address=..]`` may be a wrapped sentence's rest), a digit only as a stamp or a percentage
    (``STAMP_START``: ``11/site-packages/..`` or ``355, in f`` are the rest of a wrapped path or frame)."""
    first = line[:1]
    if first == "(":
        end = line.find(")", 1, 160)
        return end > 0 and (line.find("pid=", 1, end) > 0 or line[1:end].split(",", 1)[0] in RAY_COMPONENTS)
    if first == "[":
        return bool(BRACKET_START.match(line))
    if first.isdigit():
        return bool(STAMP_START.match(line))
    # an engine's death or a crash dump's banner on a line of its own (``EngineCore failed to start.`` after a
    # long warning, ``!!!!!!! Segfault encountered !!!!!!!`` after a runtime's error line)
    return bool(BLOCK_START.match(line)) or (first.isupper() and bool(ENGINE_DEATH.match(line))) or (
        first in "!*=C" and bool(CRASH_HEADER.search(line)))


class Doctor:
    """Feed engine log lines one at a time; ask for the report at any point.

    ``grammar``: an engine profile name (``"vllm-gaudi"``), a ``LogGrammar``, or None to try all.
    ``model`` and ``tp`` size the vision tower when the advice is about images.
    """

    def __init__(
        self, model: ModelSpec | None = None, *, tp: int = 1, fp32_softmax_vision: bool = False,
        grammar: str | LogGrammar | Iterable[LogGrammar] | None = None, unwrap: bool = False,
    ) -> None:
        self.model = model or builtin_model(DEFAULT_MODEL)
        self.unwrap = unwrap
        """Join lines a paste wrapped (``_continuation``), holding each line until the next: on for a log read
        from a file or a paste (``gaudi-vl doctor``); off by default and for an engine's own output, which
        nothing wraps (``serve``), so each line is read, and its findings returned, as it comes."""
        self._held: tuple[str, int, int] | None = None
        """The logical line read last (its text, its physical lines, the length of its last one): held until
        the next line shows whether it continues it."""
        self._width = 0
        """The longest physical line so far, and how many lines had exactly that length: a paste hard-wrapped
        at a fixed width has many lines of exactly that width and none longer."""
        self._width_lines = 0
        self._unwrap_seen = 0
        """Lines read with ``unwrap`` on, and how many of them continued another (``UNWRAP_PROBE_LINES``)."""
        self._unwrap_joins = 0
        self.tp = tp
        self.fp32 = fp32_softmax_vision
        known = get_profile(grammar) if isinstance(grammar, str) and grammar in NAMES else None
        self.engine = known if known is not None and known.memory is not None else DEFAULT_PROFILE
        """The engine whose vision attention and memory split the advice assumes (the seeds' by default)."""
        if isinstance(grammar, LogGrammar):
            self.grammars: tuple[LogGrammar, ...] = (grammar,)
        elif grammar is None or isinstance(grammar, str):
            self.grammars = grammar_for(grammar)
        else:
            self.grammars = tuple(grammar) or ALL_GRAMMARS
        self._frame_names = frozenset(name for g in self.grammars
                                      for name, _ in (*g.strong_frames, *g.weak_frames))
        """Every frame function the grammars name (``_glued_frame``, ``_cut_call``)."""
        self._marker_res = [
            (g, re.compile("|".join(f"(?P<m{i}>{mk.pattern.pattern})" for i, mk in enumerate(g.markers))))
            for g in self.grammars
        ]
        unique = dict.fromkeys(mk.pattern.pattern for g in self.grammars for mk in g.markers)
        self._any_marker = re.compile("|".join(f"(?:{p})" for p in unique))
        """One search over every grammar's markers, each pattern once (the grammars share most of theirs):
        most lines are no marker, and this gate is several times cheaper than a search per grammar."""
        self.lines = 0
        self.recognised = 0
        self.phase: Phase | None = None
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
        self.last_step: tuple[str, int, int, int | None] | None = None
        self.unreadable = 0
        self.unreadable_at: list[int] = []
        self.internal_errors = 0
        self.tracebacks: dict[str, _Traceback] = {}
        self.last_error: dict[str, tuple[int, str]] = {}
        self.last_fail: dict[str, tuple[int, tuple[str, str]]] = {}
        """The line and key of each stream's last failure (a message continued on later lines)."""
        self.noted: set[tuple[str, str]] = set()
        self.failures: dict[tuple[str, str], _Failure] = {}
        self.kept: deque[Finding] = deque(maxlen=MAX_KEPT_FINDINGS)
        self.pending: dict[str, tuple[int, str, str]] = {}
        """A bare exception line per stream, waiting for the ``Traceback`` a logger prints after it."""
        self.tb_stream: str | None = None
        """The stream of the last traceback line: a hard-wrapped frame's second half belongs to it."""
        self.tb_phase_seen: Phase | None = None
        """The latest phase any traceback of this log showed (TP workers failing in one event)."""
        self.multimodal: bool | None = None
        """True: a line shows the model takes images; False: the model is named and is text-only."""
        self.gpu_engine = False
        """A line only upstream (GPU) vLLM writes: advice leaves the HPU graph variables out."""
        self.warmup_done = False
        self.frontend = False
        self.notebook = False
        """A notebook's traceback was seen: a notebook shows none of the engine processes' own lines, so a
        failure after the front end's lines is not placed at start-up there."""
        """A front-end line (API server version, resolved config) was seen: a healthy log was starting."""
        self.wrapped_path: str | None = None
        """The path line of a frame re-wrapped over three lines, waiting for its ``line N, in func``."""
        self.rich_path: str | None = None
        """The path of a rich frame whose function the box wrapped onto the next line (``RICH_FRAME``)."""
        self.term_signal = False
        """A runtime's handler announced SIGTERM/SIGINT (``TERM_SIGNAL``): native dumps after it are the
        stop."""
        self.asgi_first = False
        """Serving was reached only by uvicorn's own start-up lines (``ASGI_STARTED``), before any engine
        line."""
        self.noise_tracebacks = 0
        self.logged_tracebacks = 0
        self.request_tracebacks = 0
        self.request_error: dict[str, int] = {}
        """Per stream, the line of the last request error (``REQUEST_ERROR``) or request traceback's end."""
        self.handled_error: dict[str, int] = {}
        """Per stream, the line of the last start-up step's caught-and-logged error (``HANDLED_ERROR``)."""
        self.handled_tracebacks = 0
        self.caller_errors = 0
        self.last_text_line = 0
        """The last line with text (``_exit_echo``: nothing after an engine's death)."""
        self.last_text = self.text_before = ""
        """The last line with text and the one before it (``_exit_echo``)."""
        self.http_server = False
        """An HTTP server ran (its start-up, uvicorn's lines, an access line): not a program that exits when
        done (``_exit_echo``)."""
        self._step_raw: str | None = None
        self.stopping = False
        """An orderly stop was asked for (``ORDERLY_STOP``): processes killed by its signal are no failure."""
        self.interrupted = False
        """The terminal echoed a Ctrl-C (``^C``) or a traceback ended in a bare ``KeyboardInterrupt``
        (SIGINT): every process of the foreground group got SIGINT, the engine core's too (its handler stops
        it, ``signal_handler`` for SIGTERM and SIGINT, vllm/v1/engine/core.py:1451-1470@vllm==0.32.0), so the
        client's report that its engine core died is the interrupt's echo."""
        self.client_closed = False
        """The front end's engine client began its shutdown (``CLIENT_SHUTDOWN``): an ``EngineDeadError``
        after it is the client's own cleanup."""
        self.kv_seen = False
        """A line of the KV cache's sizing was seen (``kv_blocks`` markers)."""
        self.early_capture = False
        self._indent = ""
        """The indentation a pasted block carries as a whole (``BLOCK_START``), taken off each of its
        lines."""
        self._block_start = True
        """The next non-blank line starts a block (the log's first line, or the first after a blank one)."""
        self._block_ws = ""
        self._block_lines = 0
        """The indentation every line of the current block has shown so far."""
        """Graph capture seen before any KV sizing line: V1 captures while it profiles memory, so a KV
        sizing line after it puts the engine back at the end of profiling."""

    # ------------------------------------------------------------ reading

    def _advance(self, phase: Phase) -> None:
        if self.phase is None or phase.order > self.phase.order:
            self.phase = phase

    def _now(self) -> Phase | None:
        """The phase the log has shown so far; None (unknown) before any phase marker: no guessing."""
        return self.phase

    def feed(self, line: str) -> list[Finding]:
        """Read one line; return what it revealed (empty for lines we do not know). Never raises."""
        return self.feed_many((line,))

    def feed_many(self, lines: Iterable[str]) -> list[Finding]:
        """Read lines in order; return what they revealed. Never raises.

        The frequent lines of a long run (access log, request records, image padding, serving
        throughput, warm-up steps) take a fast path of a few substring tests on the line's head, so
        a log is read at tens of MB/s (BENCHMARKS.md); everything else goes through the full
        grammar (``_read``). A request record's prompt text is never read as a failure. With ``unwrap``
        the last line is held until the next one (or ``flush``/``report``) shows whether it goes on.
        """
        return self._feed(self._unwrapped(lines) if self.unwrap else ((line, 1) for line in lines))

    def flush(self) -> list[Finding]:
        """Read the line held back for a possible continuation (``report`` does this first)."""
        return self._feed(self._release_held()) if self._held is not None else []

    def _unwrapped(self, lines: Iterable[str]) -> Iterator[tuple[str, int]]:
        """Logical lines and how many physical lines each took: a line a paste wrapped is joined to the one it
        continues (``_continuation``). Never raises (plain string work)."""
        stream = iter(lines)
        for raw in stream:
            self._unwrap_seen += 1
            if self._unwrap_seen > UNWRAP_PROBE_LINES and not self._unwrap_joins:
                # a paste is wrapped throughout: this many lines and none continued another is an engine's
                # own log, read line by line from here (``_read`` lays each line out itself)
                self.unwrap = False
                yield from self._release_held()
                yield raw, 1
                yield from ((rest, 1) for rest in stream)
                return
            line = raw.rstrip("\r\n")
            if line[:1] in " \t>" or self._indent or self._block_start:
                line = self._layout(line)
            size = len(line)
            if line[-1:] in " \t":
                size = len(line.rstrip())  # a terminal's copy pads short lines with blanks
            if size > self._width:
                self._width, self._width_lines = size, 1
            elif size == self._width:
                self._width_lines += 1
            held = self._held
            if held is not None:
                joiner = self._continuation(held[0], held[2], line)
                if joiner is not None:
                    text = held[0].rstrip() + joiner + (line.lstrip() if joiner else line)
                    self._held = (text, held[1] + 1, size)
                    self._unwrap_joins += 1
                    continue
                yield held[0], held[1]
            self._held = (line, 1, size)

    def _release_held(self) -> Iterator[tuple[str, int]]:
        """The line held back for a possible continuation, if any, let go (no longer held)."""
        if self._held is not None:
            text, count, _ = self._held
            self._held = None
            yield text, count

    def _continuation(self, prev: str, prev_size: int, line: str) -> str | None:
        """How ``line`` continues ``prev``: ``""`` a hard wrap at the paste's fixed width (many lines of
        exactly that width, ``prev`` one of them), ``" "`` a re-wrap at word boundaries after a logger's line
        (a commit message's or an e-mail's 72 columns); None when ``line`` starts a line of its own: a prefix,
        header, stamp or level word (``BLOCK_START``), a traceback's frame, header or exception, a phase
        marker or a progress bar, an indented line (source under a frame), or a blank."""
        body = line.lstrip()
        if not body or len(prev) >= MAX_LINE_CHARS or _opens_line(body):
            return None
        if prev_size < 100 and (head := split_line(prev)).level and not head.message:
            return " "  # a logger's header whose message the re-wrap put on the next line
        if prev_size < 60:
            return None
        if body[:6] == 'File "' or body[:1] in "^~" or TRACEBACK.search(body[:40]) or (
                EXCEPTION.match(body) and ":" in body[:120]) or TERMINATE.match(body) or (
                PROCESS_DIED.match(body.rstrip())) or ROCR_FAULT.match(body):
            # (C++ terminate handlers, multiprocessing's ``Process X:`` and ROCm's fault report write at
            # column 0)
            return None
        if prev_size == self._width and self._width_lines >= 2:
            # a fixed-width wrap keeps the text whole (a space at the cut stays on one side); after a comma
            # or colon with none, or after a whole short word (``line`` / ``355``), the wrap was at a word
            # boundary and dropped the space
            return " " if line[:1].isalnum() and (prev[-1:] in ",;:" or WORD_END.search(prev[-6:])) else ""
        if line[:1].isspace() or not BLOCK_START.match(prev) or prev_size < 0.6 * self._width or (
                "%|" in line or "it/s" in line or self._any_marker.search(line)):
            return None
        return " "

    def _feed(self, lines: Iterable[tuple[str, int]]) -> list[Finding]:
        out: list[Finding] = []
        padding = PADDING.search
        tracebacks = self.tracebacks  # never re-bound: its emptiness is the fast path's gate
        serving, warmup = Phase.SERVING, Phase.WARMUP
        n = self.lines  # kept local on the fast path; written back before any method reads it
        quiet = 0  # lines recognised on the fast path, added once
        try:
            for line, count in lines:
                n += count
                if not tracebacks:
                    head = line[:240]  # where a line's kind shows (prefixes, header, the logger's message)
                    if ('"POST ' in head or '"GET ' in head or "Received request" in head or (
                            "', params: " in head)) and "RITICAL " not in line and "RROR " not in line:
                        if self.phase is not serving and (ACCESS_LOG.search(head)
                                                          or REQUEST_RECORD.search(head)):
                            self._advance(serving)  # the server answers requests
                        self.last_text_line = n
                        self.http_server = True
                        continue
                    if "Padding current" in head and (m := padding(line)):
                        self.lines = self.last_text_line = n
                        self._padding(m, out)  # int() of at most 12 digits: cannot raise
                        continue
                    if "throughput:" in head and self.phase is serving and "xception" not in line and (
                            "ailed" not in line):  # (a re-wrap may join a failure onto a metrics line)
                        quiet += 1
                        self.last_text_line = n
                        continue
                    if ("[Warmup][" in head and self.phase is warmup and len(line) < 400
                            and "rror" not in line):
                        self._step_raw = line  # parsed when asked for (only the last step is reported)
                        quiet += 1
                        continue
                self.lines = n
                found: list[Finding] = []
                try:
                    self._read(line, found)
                except Exception as exc:  # noqa: BLE001 -- a doctor bug must never stop the caller (serve)
                    self.internal_errors += 1
                    self._unreadable(found, f"doctor error {type(exc).__name__}")
                self.recognised += any(f.kind != "unreadable" for f in found)
                out += found
        finally:
            self.lines = n
            self.recognised += quiet
        return out

    def _note(self, out: list[Finding], kind: str, phase: Phase | None, message: str) -> None:
        f = Finding(self.lines, kind, phase, message)
        out.append(f)
        self.kept.append(f)

    def _unreadable(self, out: list[Finding], why: str) -> None:
        self.unreadable += 1
        if len(self.unreadable_at) < MAX_UNREADABLE_KEPT:
            self.unreadable_at.append(self.lines)
        self._note(out, "unreadable", self._now(), f"unreadable line {self.lines}: {why}")

    def _layout(self, raw: str) -> str:
        """Undo the paste's layout of one physical line: a quote mark, then the block's indentation."""
        if raw[:1] == ">":
            raw = QUOTE_PREFIX.sub("", raw, count=1)
        if raw[:1] in " \t" or self._indent or self._block_start:
            raw = self._dedent(raw)
        return raw

    def _dedent(self, raw: str) -> str:
        """Take a pasted block's common indentation off its line (``BLOCK_START``): a log indented as a
        whole reads as the same log unindented, and a traceback's own indentation stays relative."""
        body = raw.lstrip(" \t")
        if not body.strip():
            self._block_start = True
            return raw
        ws = raw[:len(raw) - len(body)]
        if self._block_start:
            self._block_start, self._block_ws, self._indent, self._block_lines = False, ws, "", 0
        elif not ws.startswith(self._block_ws):
            n = 0  # the block's common indentation shrinks to what this line shares
            while n < min(len(ws), len(self._block_ws)) and ws[n] == self._block_ws[n]:
                n += 1
            self._block_ws = ws[:n]
            if not raw.startswith(self._indent):
                self._indent = ""  # a line left of the block's edge: the block has ended
        if not self._indent and ws and ws == self._block_ws and (
                BLOCK_START.match(body) or (self._block_lines == 0 and not FRAME_OR_CARET.match(body))):
            self._indent = ws
        self._block_lines += 1
        return raw[len(self._indent):] if self._indent else raw

    def _read(self, raw: str, out: list[Finding]) -> None:
        if raw and not raw.isspace():
            self.last_text_line = self.lines
            self.text_before, self.last_text = self.last_text, raw
        if "Padding current" in raw and not self.tracebacks and (m := PADDING.search(raw)):
            return self._padding(m, out)
        if not self.unwrap:  # (with ``unwrap`` the logical line was laid out before it was joined)
            raw = self._layout(raw)
        if len(raw) > 200 and (pieces := _unglued(raw)) is not None:
            out += self._feed((piece, 0) for piece in pieces)  # a paste that lost its line breaks
            return None
        ln = split_line(raw)
        msg = ln.message
        if ("RROR " in msg or "RITICAL " in msg) and (g := GLUED_HEADER.search(msg)) and (
                i := raw.find(msg[g.end():])) > 0:  # a paste glued an error's line onto this one
            out += self._feed(((raw[:i], 0), (raw[i:], 0)))
            return None
        self._detect(msg)
        if not self.stopping and ("hut" in msg or "Finished" in msg or "Stop" in msg) and (
                ORDERLY_STOP.search(msg)):
            self.stopping = True
        if msg[:2] == "^C":  # (before this line's own failure check: ``^CERROR .. died unexpectedly``)
            self.stopping = self.interrupted = True
        if self.stopping and "MPClient: start" in msg and CLIENT_SHUTDOWN.search(msg):
            self.client_closed = True
        if self._failure_line(ln, out):
            return
        if (ln.source is not None and "arm" in ln.source and self.phase is Phase.KV_ALLOCATION
                and WARMUP_NAMED.search(ln.source)):
            # a logger in a warm-up module (vllm/model_executor/warmup/*_warmup.py, run by ``kernel_warmup``
            # from the worker's compile_or_warm_up_model after the KV cache exists; engines/logs.py)
            self._advance(Phase.WARMUP)
        if "Padding current" in msg and (m := PADDING.search(msg)):
            return self._padding(m, out)
        if "[Warmup][" in msg and (m := WARMUP_STEP.search(msg)) and not self._warmup_step(m):
            return self._unreadable(out, "warm-up step numbers")
        if self._any_marker.search(msg):
            for grammar, combined in self._marker_res:
                if (m := combined.search(msg)) and m.lastgroup:
                    return self._marker(grammar.markers[int(m.lastgroup[1:])], msg, out)
        if m := NOT_WARMED.search(msg):
            self.recompiles += 1
            if self.recompiles <= 3:
                self._note(out, "recompile", self._now(),
                           f"graph not warmed up, compiled now: {m.group(1)[:200]}")
            else:
                self.recognised += 1
        elif GRAPH_COMPILE.search(msg):
            self.recompiles += 1
            if self.recompiles <= 3:
                self._note(out, "recompile", self._now(), "graph compilation while serving")
            else:
                self.recognised += 1
        elif "reempt" in msg and RESUMED.search(msg):
            self._advance(Phase.SERVING)
            self.recognised += 1
        elif PREEMPTED.search(msg):
            self._advance(Phase.SERVING)  # only scheduled requests are preempted
            self.preemptions += 1
            if self.preemptions == 1:
                self._note(out, "preempted", self._now(), "requests preempted: the KV cache is full")
            else:
                self.recognised += 1
        elif MASK_CPU.search(msg):
            self.mask_on_cpu += 1
            self._note(out, "mask_cpu", self._now(),
                       "an image above 40000 patches: its attention mask was built on the CPU")
        elif "cmpl-" in msg and REQUEST_ID.search(msg):
            self._advance(Phase.SERVING)  # a request the server accepted
            self.recognised += 1
        return None

    def _padding(self, m: re.Match[str], out: list[Finding]) -> None:
        a, b = m.group(1, 2)  # digits only (PADDING); one a request, so no float parsing
        if len(a) > 12 or len(b) > 12:
            return self._unreadable(out, "padding numbers")
        n, bucket = int(a), int(b)
        if n > bucket:
            return self._unreadable(out, "padding numbers")
        self.padded += 1
        self.pad_patches += bucket - n
        self.bucket_patches += bucket
        if bucket > self.largest_bucket:
            self.largest_bucket = bucket
        if n > self.largest_image:
            self.largest_image = n
        self.last_bucket = bucket
        self.recognised += 1  # too frequent to report one by one; summarised in the report
        self.multimodal = True
        return None

    def _warmup_step(self, m: re.Match[str]) -> bool:
        """Keep a warm-up step's numbers; False when they do not parse."""
        i, n = _number(m.group("i")), _number(m.group("n"))
        free = _bytes(m.group("free")) if m.group("free") else None
        if i is None or n is None or (m.group("free") and free is None):
            return False
        self.last_step = (m.group("what"), int(i), int(n), free)
        self._step_raw = None
        return True

    def _settle(self) -> None:
        """Parse the last warm-up step the fast path kept raw (a bad one is left out, never raised)."""
        if self._step_raw is not None:
            raw, self._step_raw = self._step_raw, None
            if m := WARMUP_STEP.search(ANSI.sub("", raw)):
                self._warmup_step(m)

    def _detect(self, msg: str) -> None:
        """What the log shows of the model and the engine (for advice that fits them)."""
        if self.multimodal is not True and MULTIMODAL_HINTS.search(msg):
            self.multimodal = True
        elif self.multimodal is None and MODEL_NAMED.search(msg):
            self.multimodal = False
        if not self.gpu_engine and GPU_ENGINE.search(msg):
            self.gpu_engine = True

    def _marker(self, marker: Marker, msg: str, out: list[Finding]) -> None:
        """A phase marker: parse its numbers (if it has any), move the phase, note it once."""
        kind = marker.kind
        message: str | None = None
        if self.asgi_first and marker.phase is not Phase.SERVING:
            self.phase, self.asgi_first = None, False  # that server was another program's (ASGI_STARTED)
        if kind == "frontend":  # the server starting; no evidence of an engine phase (engines/logs.py)
            self.frontend = True
            self.http_server = self.http_server or "server version" in msg
            self.recognised += 1
            return None
        if kind == "serving" and ASGI_STARTED.search(msg):
            self.http_server = True
            if self.phase is None:
                self.asgi_first = True
        if kind == "budget":
            message = self._budget(msg)
            if message is None:
                return self._unreadable(out, "memory budget numbers")
        elif kind == "weights_done" and (m := WEIGHTS_TOTAL.search(msg)):
            weights, total = _bytes(m.group(1)), _bytes(m.group(3))
            if weights is None or total is None:
                return self._unreadable(out, "weights size")
            self.mem.update(weights_bytes=weights, device_total_bytes=total)
            message = f"weights {_gib(weights)} on a card of {_gib(total)}"
        elif kind == "weights_done" and (m := WEIGHTS_GAUDI.search(msg)):
            gib = _number(m.group(1))  # "%.4f GB" of bytes / 2**30 (hpu_model_runner.py:4814@091bbadda10b)
            if gib is None:
                return self._unreadable(out, "weights size")
            self.mem["weights_bytes"] = int(gib * GIB)
            message = f"weights {gib:.2f} GiB"
        elif kind == "profile" and "profiling run took" in msg:  # other profiling lines carry no size
            m = PROFILE.search(msg)
            size = _bytes(m.group(1)) if m else None
            if size is None:
                return self._unreadable(out, "profiling run size")
            self.mem["profile_bytes"] = size
            message = f"profiling run took {_gib(size)}"
        elif kind == "kv_blocks" and (m := BLOCKS.search(msg)):
            blocks = _number(m.group(1) or m.group(2))
            if blocks is None:
                return self._unreadable(out, "KV block count")
            self.mem["kv_blocks"] = int(blocks)
            message = f"{int(blocks)} KV blocks"
        elif kind == "graph_split":
            message = self._graph_split(msg)
            if message is None:
                return self._unreadable(out, "HPU graph memory numbers")
        if marker.phase is Phase.KV_ALLOCATION:
            if self.early_capture and not self.kv_seen and self.phase is Phase.WARMUP:
                self.phase, self.warmup_done = Phase.PROFILING, False  # the capture was the profiling run's
            self.kv_seen = True
        elif marker.phase is Phase.WARMUP and not self.kv_seen and self.phase in (
                None, Phase.STARTUP, Phase.PROFILING):
            self.early_capture = True
        before = self.phase
        self._advance(marker.next_phase())
        if kind in ("warmup_done", "init_done"):
            self.warmup_done = True
        text = message or _MARKER_TEXT.get(kind, kind)
        if (message is not None or self.phase is not before) and (kind, text) not in self.noted:
            if len(self.noted) < MAX_KEPT_FINDINGS:  # TP workers repeat every line: say it once
                self.noted.add((kind, text))
            self._note(out, kind, marker.phase, text)
        else:
            self.recognised += 1
        return None

    def _budget(self, msg: str) -> str | None:
        m = BUDGET.search(msg)
        if not m:
            return None
        free, usable = _bytes(m.group(1)), _bytes(m.group(2))
        graphs, kv = _bytes(m.group(4)), _bytes(m.group(6))
        util, reserved = _ratio(m.group(3)), _ratio(m.group(5))
        usable_kv = _bytes(m.group(7)) if m.group(7) else kv
        if None in (free, usable, graphs, kv, util, reserved, usable_kv):
            return None
        assert free is not None and usable is not None and graphs is not None and usable_kv is not None
        self.mem.update(free_bytes=free, usable_bytes=usable, gpu_memory_utilization=float(util or 0),
                        graph_reserve_bytes=graphs, graph_reserved_mem=float(reserved or 0),
                        kv_cache_bytes=usable_kv)
        return (f"free {_gib(free)}, usable {_gib(usable)} (gpu_memory_utilization={util:g}), graphs "
                f"{_gib(graphs)} ({self._var(Setting.GRAPH_RESERVED_MEM)}={reserved:g}), "
                f"KV {_gib(usable_kv)}")

    def _graph_split(self, msg: str) -> str | None:
        m = GRAPH_SPLIT.search(msg)
        if not m:
            return None
        used, free = _bytes(m.group(1)), _bytes(m.group(2))
        if used is None or free is None:
            return None
        self.mem.update(graph_used_bytes=used, warmup_free_bytes=free)
        text = f"HPU graphs {_gib(used)} of {_gib(free)} free"
        if m.group(3):
            prompt, decode, ratio = _bytes(m.group(3)), _bytes(m.group(4)), _ratio(m.group(5))
            if prompt is None or decode is None or ratio is None:
                return None
            self.mem.update(graph_prompt_bytes=prompt, graph_decode_bytes=decode, graph_prompt_ratio=ratio)
            text += (f": {_gib(prompt)} prompt, {_gib(decode)} decode "
                     f"({self._var(Setting.GRAPH_PROMPT_RATIO)}={ratio:g})")
        return text

    # ------------------------------------------------------------ failures

    def _failure_line(self, ln: LogLine, out: list[Finding]) -> bool:
        """Tracebacks, fatal runtime errors and engine deaths; True when the line was one of them."""
        msg, stream = ln.message, ln.stream
        tb = self.tracebacks.get(stream)
        if ln.level == "ERROR" and ln.source and ln.source[:9] == "registry." and REGISTRY_LOGGER.match(
                ln.source):
            self._phase_seen(Phase.STARTUP)  # the model registry resolving the architecture (engines/logs.py)
        if tb is None and ", in " in msg and (m := FRAME_TAIL.match(msg)):
            if stream == "main" and self.tb_stream is not None and (
                    wrapped := self.tracebacks.get(self.tb_stream)):
                path, self.wrapped_path = m.group("path") or self.wrapped_path or "", None
                self._frame(wrapped, m.group("func"), path)  # the second half of a hard-wrapped frame line
                return True
            if (m.group("path") or "").endswith(".py"):
                # a paste that starts inside a frame's line (``/site-packages/huggingface_hub/
                # file_download.py", line 1919, in _copy_no_matter_what``): the traceback's first frame shown
                self._frame(self._open(stream), m.group("func"), m.group("path"))
                self.tb_stream = stream
                return True
        if msg[:2] == "^C":  # the terminal's echo of Ctrl-C (``stopping`` and ``interrupted`` set in _read)
            if "Traceback" in msg:  # the interrupt's own traceback follows, often cut before its last line
                self._open(stream, explicit=True).noise = True
                self.tb_stream = stream
            self._note(out, "stopped", self._now(), "stopped: Ctrl-C (^C) in the terminal")
            return True
        if self.stopping and msg[:1] in "TF" and ORPHAN_TASK_ERROR.match(msg):
            self._open(stream).noise = True  # a background task met the closed client as the server stopped
            self.tb_stream = stream
            self.recognised += 1
            return True
        if msg[:1] == "A" and msg.startswith(NUMPY_STACK):
            self._open(stream, explicit=True).noise = True  # its stack follows, headed like a traceback
            self.tb_stream = stream
            self.recognised += 1
            return True
        if msg[:1] == "E" and UNRAISABLE.match(msg):
            self._open(stream).noise = True  # "Exception ignored in: <function X.__del__ ...>"
            self.tb_stream = stream
            self.recognised += 1
            return True
        if "Synapse detected" in msg and SYNAPSE_DFA.search(msg):  # Synapse kills the card's process
            self._fail(out, "crash", msg.strip()[:300], stream, tb, None)
            return True
        if "Fatal Python error" in msg and (m := FATAL_PYTHON.match(msg)):
            self._fail(out, "crash", f"Fatal Python error: {m.group('text').strip()}"[:300], stream, tb, None)
            return True
        if ("atchdog caught" in msg or "process down" in msg) and TORCH_ABORT.search(msg):
            self._fail(out, "crash", msg.strip()[:300], stream, tb, None)  # torch's NCCL watchdog aborts
            return True
        if "Failed: " in msg and "'" in msg and (m := CUDA_CHECK_EXIT.search(msg)):
            self._fail(out, "crash", m.group(0).lstrip(": ")[:300], stream, tb, None)  # a CUDA check exits
            return True
        if ("terminat" in msg or "(core dumped)" in msg or msg[:6] == "Killed") and TERMINATE.match(
                msg.lstrip()):  # the C++ runtime or a signal
            self._fail(out, "oom" if OOM_TEXT.search(msg) else "crash", msg.strip()[:300], stream, tb, None)
            return True
        if ("0x" in msg and (NATIVE_FRAME.match(msg) or CRASH_FRAME.match(msg))) or (
                ("***" in msg or "ignal" in msg or "====" in msg or "Segfault" in msg)
                and CRASH_HEADER.search(msg)):
            return self._native(ln, tb, out)
        if ("ASGI" in msg or "Error in " in msg or "failure" in msg or "execution failed" in msg) and (
                REQUEST_ERROR.search(msg)):
            if len(self.request_error) >= MAX_STREAMS:
                self.request_error.pop(next(iter(self.request_error)))
            self.request_error[stream] = self.lines
            self._advance(Phase.SERVING)  # only a serving front end answers requests
            self.recognised += 1
            return True
        if "plugin" in msg and HANDLED_ERROR.search(msg):
            if len(self.handled_error) >= MAX_STREAMS:
                self.handled_error.pop(next(iter(self.handled_error)))
            self.handled_error[stream] = self.lines
            self._advance(Phase.STARTUP)  # plugins load while an engine starts
            self.recognised += 1
            return True
        if ln.level in ("ERROR", "CRITICAL") and msg[-1:] == ")" and tb is None and (
                m := EXCEPTION_REPR.match(msg.strip())) and not _maybe_death(msg):
            last_request = self.request_error.get(stream)
            if last_request is None or self.lines - last_request > 3:
                tb = self._open(stream, explicit=True)  # the engine loop's error; its traceback follows
                tb.exc = (m.group("type"), m.group("text"))
                tb.message = f"{m.group('type')}: {m.group('text')}"[:300]
                self.tb_stream = stream
                self.recognised += 1
                return True
        if tb is None and ln.level in ("ERROR", "CRITICAL") and ln.source and (
                ln.source.rsplit(":", 1)[0] in V0_FATAL_LOGGERS):
            tb = self._open(stream, explicit=True)  # the engine's end is being reported (its lines follow)
            tb.message = msg.strip()[:300] or None
            if ln.source[:6] == "async_" or (ln.source[:10] == "engine.py:" and ln.source[10:].isdigit()
                                             and int(ln.source[10:]) < V0_MQ_START_HANDLER_BELOW):
                # the async engine's background loop runs only for requests; the multiprocessing engine's
                # ``start`` only once it is built (V0_FATAL_LOGGERS)
                tb.weak = Phase.SERVING
            self.tb_stream = stream
        if ("Traceback" in msg and TRACEBACK.search(msg)) or PROCESS_DIED.match(msg) or CHAINED.match(msg):
            if tb is None or (tb.harmless() and tb.frames):
                tb = self._open(stream, explicit=True)
                last_request = self.request_error.get(stream)
                tb.request = last_request is not None and self.lines - last_request <= 3
                tb.logged = ln.level in QUIET_LEVELS and ln.source is not None
                last_handled = self.handled_error.get(stream)
                tb.handled = last_handled is not None and self.lines - last_handled <= 3
                if (last := self.last_fail.get(stream)) is not None and self.lines - last[0] <= 3 and (
                        msg[:1] in "TD" and CHAINED.match(msg)):
                    tb.chained_from = last[1]  # the exception this one was raised while handling
            if m := IPYTHON_TRACEBACK.match(msg):  # ``RuntimeError    Traceback (most recent call last)``
                self.notebook = True
                tb.exc = (m.group("type"), "")
                tb.message = tb.message or m.group("type")
            if "method" in msg and (m := WORKER_METHOD.search(msg)):  # ``.. method X: e, Traceback (..``
                self._frame(tb, m.group("m1") or m.group("m2") or "")
            self.tb_stream = stream
            self.recognised += 1
            return True
        if "ray::" in msg and (m := RAY_TASK_FAILED.search(msg)) and not _maybe_death(msg):
            # Ray's report of a method that raised: its kind and the method, named like a frame
            if tb is None or tb.frames or tb.exc:
                tb = self._open(stream, explicit=True)
            exc_type = (m.group("type") or "").rsplit(".", 1)[-1]
            if exc_type and exc_type != "RayTaskError":
                tb.exc = (exc_type, "")
            tb.message = tb.message or f"ray::{m.group('actor')}.{m.group('method')}() failed"
            self._frame(tb, m.group("method"))
            self.tb_stream = stream
            self.recognised += 1
            return True
        if msg[:10] == "Exception " and CPP_EXCEPTION.match(msg):  # torch's C++ error report
            if tb is None or not tb.crash:
                self._open(stream, explicit=True).crash = True
            self.recognised += 1
            return True
        if "frame #" in msg[:12] and ln.level in (None, "ERROR", "CRITICAL") and C10_FRAME.match(msg):
            tb = tb or self._open(stream, explicit=True)
            self._frame(tb, "<native>")  # a C++ exception's backtrace
            if NATIVE_THREAD_ROOT.match(msg):  # thrown on a thread no Python code runs: nothing catches it
                tb.crash = True
            self.tb_stream = stream
            return True
        if ("thread 0x" in msg or "Thread 0x" in msg) and FAULT_THREAD.match(msg):
            self._open(stream, explicit=True).crash = True
            self.tb_stream = stream
            self.recognised += 1
            return True
        if "File" in msg and (m := FRAME.match(msg)):
            tb = tb or self._open(stream)
            self._request_logger(tb, ln)
            # faulthandler writes no comma before "in"; tvm-ffi's segfault dump names no file or line
            # (``File "<unknown>", line 0, in <symbol>``: CRASH_HEADER) even where its banner was cut off
            tb.crash = (tb.crash or not m.group("comma")
                        or (m.group("line") == "0" and m.group("path") == "<unknown>"))
            func = m.group("func")
            glued = msg[m.end():m.end() + 3].lstrip()[:1] in ("=", "(", ".") and self._glued_frame(func)
            self._frame(tb, glued[0] if glued else func, m.group("path"))
            self.tb_stream = stream
            if glued:  # the frame's source line, its line break lost: read as the line it is
                self._failure_line(LogLine(ln.stream, ln.level, ln.source, glued[1] + msg[m.end():]), out)
            return True
        if ".py" in msg and " in " in msg and (m := IPYTHON_FRAME.match(msg)):  # a notebook's frame
            self.notebook = True
            tb = tb or self._open(stream)
            self._frame(tb, m.group("func").rsplit(".", 1)[-1], m.group("path"))
            self.tb_stream = stream
            return True
        if ".py:" in msg and (m := RICH_FRAME.match(msg)):  # a frame of rich's traceback box
            tb = tb or self._open(stream)
            if m.group("func"):
                self._frame(tb, m.group("func").rsplit(".", 1)[-1], m.group("path"))
            else:  # the box wrapped the function onto the next line
                self.rich_path = m.group("path")
                self.recognised += 1
            self.tb_stream = stream
            return True
        if ".py:" in msg and ": in " in msg and (m := PYTEST_FRAME.match(msg)):  # pytest's failure report
            tb = tb or self._open(stream)
            self._frame(tb, m.group("func").rsplit(".", 1)[-1], m.group("path"))
            self.tb_stream = stream
            return True
        if self.rich_path is not None:
            path, self.rich_path = self.rich_path, None
            if tb is not None and (m := RICH_FUNC.match(msg)):
                self._frame(tb, m.group("func").rsplit(".", 1)[-1], path)
                return True
        if "method" in msg and (m := WORKER_METHOD.search(msg)):
            self._frame(tb or self._open(stream), m.group("m1") or m.group("m2") or "")
            return True
        if ln.level in ("ERROR", "CRITICAL") and (
                ("Error executing" in msg and WORKER_METHOD_CUT.search(msg))
                or ("WorkerProc hit" in msg and WORKER_BUSY_LOOP_ERROR.search(msg))):
            self._open(stream, explicit=True)  # its traceback follows (or was cut): the worker's failure
            self.recognised += 1
            return True
        if ln.level in ("ERROR", "CRITICAL") and "Invocation of" in msg and UTILITY_FAILED.search(msg):
            tb = self._open(stream, explicit=True)  # its traceback follows (or was cut): the failed call's,
            tb.weak = tb.weak or Phase.SERVING  # answered only by a built engine's busy loop (UTILITY_FAILED)
            self.recognised += 1
            return True
        for gates, kind, pattern in LINE_FAILURES:
            if any(g in msg for g in gates) and pattern.search(msg):
                if "apture" in msg and CAPTURE_ERROR.search(msg):  # a runtime's own capture failure
                    self._phase_seen(Phase.WARMUP)
                # (a kernel's device assertion comes before the error or death it causes: those say more)
                self._fail(out, kind, msg.strip()[:300], stream, None, None, hint=pattern is DEVICE_ASSERT)
                return True
        if msg[:7] == "Signal " and TERM_SIGNAL.match(msg):
            self.term_signal = True  # the native stack that follows is the stop's, not a crash
            self.recognised += 1
            return True
        if tb is None and stream == "main" and self.tb_stream is not None and msg[:1] in ' "' \
                and FRAME_PATH_PART.match(msg) and self.tracebacks.get(self.tb_stream) is not None:
            self.wrapped_path = msg.strip().rstrip(",").strip('"')  # a frame re-wrapped over three lines
            self.recognised += 1  # (``File`` / its path / ``line N, in func``): its tail follows
            return True
        if "File" in msg and (head := FRAME_HEAD.match(msg)):  # a frame line the paste wrapped: its tail
            if tb is None:  # follows
                self._open(stream)
            self.tb_stream = stream
            self.wrapped_path = head.group("path") or self.wrapped_path  # (when the cut came after the path)
            self.recognised += 1
            return True
        # one space before an exception's line is a paste's (the block's indentation, which the doctor takes
        # off only when the paste's first line shows it); a traceback's own lines are indented by two or more
        exc = EXCEPTION.match(msg[1:] if msg[:1] == " " and msg[1:2] != " " else msg)
        if exc is not None and "RPC call" in msg and (m := RPC_TIMEOUT.search(msg)):
            tb = tb or self._open(stream)  # the workers hung in this method: its phase, as a frame's
            tb.add(m.group("method"), self.grammars)
        if tb is not None and tb.noise:
            if exc is not None:  # the end of a destructor's or an exit hook's traceback
                self.tracebacks.pop(stream, None)
                self._shutdown_noise(out, exc.group("type"))
                return True
            if msg[:1].isspace() or ln.level is None and "(" in msg:
                self.recognised += 1
                return True
            return False
        if tb is not None and tb.logged and exc is not None and ln.level in QUIET_LEVELS:
            self.tracebacks.pop(stream, None)  # the end of a traceback logged below ERROR: caught and logged
            self.logged_tracebacks += 1
            if self.logged_tracebacks == 1:
                self._note(out, "logged_traceback", self._now(), f"a traceback logged at {ln.level} "
                           f"({exc.group('type')}): caught and logged by the program; not a failure")
            return True
        if tb is not None and tb.handled and exc is not None:
            self.tracebacks.pop(stream, None)  # the end of a traceback a start-up step caught: it went on
            self.handled_tracebacks += 1
            if self.handled_tracebacks == 1:
                said = f"{exc.group('type')}: {(exc.group('text') or '').strip()[:120]}"
                self._note(out, "handled_error", self._now(), f"a plugin failed to load ({said}): vLLM's "
                           "loader logged it and went on; not a failure by itself, though what the plugin "
                           "provides is missing")
            return True
        if exc is not None and not self.stopping and self.phase is not Phase.SERVING and (
                exc.group("type").endswith(("KeyboardInterrupt", "SystemExit"))) and (
                START_INTERRUPTED.match(msg.strip())):
            # SIGTERM before the server ran: the start-up never finished (a probe's or a timeout's kill)
            text = (f"start-up terminated by SIGTERM before the engine served ({msg.strip()}): a liveness "
                    "probe, timeout or supervisor stopped it; give the start-up longer or find what kept it "
                    "waiting")
            self._fail(out, "exception", text, stream, tb, None)
            self.tracebacks.pop(stream, None)
            return True
        if exc is not None and (exc.group("type").endswith(("KeyboardInterrupt", "SystemExit")) or (
                self.stopping and exc.group("type").endswith("CancelledError")) or (
                self.client_closed and exc.group("type").endswith("EngineDeadError"))):
            # a Ctrl-C, a clean exit, or a task cancelled by an orderly stop (asyncio cancels the server's and
            # the engine loop's tasks on shutdown: V0's ``_log_task_completion`` reads that as graceful), or
            # the engine client's own shutdown marking the engine dead (CLIENT_SHUTDOWN)
            self.tracebacks.pop(stream, None)  # a user's Ctrl-C or a clean exit, not a failure
            if exc.group("type").endswith("KeyboardInterrupt") and not (exc.group("text") or "").strip():
                # SIGINT (Ctrl-C) reached this process: the deaths its peers report next are its echo
                self.interrupted = True
            self._note(out, "stopped", self._now(), f"stopped: {exc.group('type')}")
            return True
        if exc is not None and (SHUTDOWN_NOISE.search(msg) or (
                "supported" in msg and SOCKET_CLOSED.search(msg)) or (
                tb is not None and self.phase is Phase.SERVING and tb.frames and not tb.other_frames
                and tb.phase() is None)):
            self.tracebacks.pop(stream, None)  # teardown after the engine served: not a failure
            self._shutdown_noise(out, exc.group("type"))
            return True
        kind, text, alloc = self._classify(exc.group("type") if exc else None,
                                           (exc.group("text") or "") if exc else msg)
        if tb is not None and tb.stream_raise and exc is not None and exc.group("type")[-10:] == "ValueError":
            tb.stream_raise = False  # the request's validation error, handed back through its stream
        if exc is not None and tb is not None and not tb.engine_loop and (
                (short := exc.group("type").rsplit(".", 1)[-1]) in REQUEST_EXCEPTIONS or (
                    tb.admission and short == "ValueError")):
            # an error vLLM raises for a request's own fault (answered with a 4xx), or one request's input
            # refused as the front end admitted it, raised to the offline caller (REQUEST_ADMISSION_FRAMES)
            tb.dispatch = True
        if exc is not None and tb is not None and tb.is_request() and (
                kind in (None, "not_implemented", "assertion")) and not _maybe_death(msg):
            # one request failed (a plain exception, an assertion in its own handling, or a feature it asked
            # for that is not implemented);
            # the server answered it and went on
            self.tracebacks.pop(stream, None)
            if tb.chained_from is not None and (cause := self.failures.get(tb.chained_from)) is not None and (
                    cause.kind == "exception"):
                # the exception this request's was raised from (``raise ValueError(msg) from exc`` in the
                # input processor): the same request's, not a failure of its own
                self._retract(tb.chained_from)
            self.request_error[stream] = self.lines  # a chained traceback of the same request may follow
            self._advance(Phase.SERVING)  # only a serving front end answers requests
            self.request_tracebacks += 1
            if self.request_tracebacks == 1:
                self._note(out, "request_error", self._now(), f"a request failed ({exc.group('type')}): "
                           "the server answered it with an error; not an engine failure")
            return True
        if exc is not None and tb is not None and kind in (None, "assertion") and (
                self._callers_own(tb, exc.group("type"), msg)):
            # the program driving a built engine failed in its own code: no frame inside the engine
            self.tracebacks.pop(stream, None)
            self.caller_errors += 1
            if self.caller_errors == 1:
                said = f"{exc.group('type')}: {(exc.group('text') or '').strip()}"[:160]
                self._note(out, "caller_error", self._now(), "the program that drives the engine failed in "
                           f"its own code ({said}), with no frame inside the engine: not an engine failure")
            return True
        if exc is not None and tb is None and kind is None and not _maybe_death(msg) and not (
                "synStatus" in msg and SYNAPSE.search(msg)) and not DEVICE_RUNTIME_ERROR.match(msg) and not (
                self._after_empty_error_header()):
            # (a Synapse status or a device runtime's failed call: the card failed, traceback or not; an
            # exception wrapped onto the line after an ERROR header left empty is that error)
            # an exception printed on its own line: ``logger.error(e)`` before its Traceback, or a
            # paste that starts at the exception; a failure only once its traceback follows
            if len(self.pending) >= MAX_STREAMS:
                self.pending.pop(next(iter(self.pending)))
            self.pending[stream] = (self.lines, exc.group("type"), (exc.group("text") or "").strip()[:300])
            self.recognised += 1
            return True
        if kind is None and _maybe_death(msg) and (self.interrupted or (self.stopping and (
                SIGNAL_EXIT.search(msg) or (self.client_closed and "output_handler failed" in msg)))):
            # the stop's own signal ended the process, the client's own shutdown ended its output handler, or
            # the engine core took the terminal's Ctrl-C with its client
            self.tracebacks.pop(stream, None)
            self._note(out, "stopped", self._now(), f"stopped: {msg.strip()[:200]}")
            return True
        if exc is not None:
            if kind is None:
                kind = "engine_died" if _maybe_death(msg) else "exception"
                said = (exc.group("text") or "").strip()
                text = f"{exc.group('type')}: {said}"[:300] if said else exc.group("type")
            self._fail(out, kind, text, stream, tb, alloc)
            self.tracebacks.pop(stream, None)
            return True
        weak: Phase | None = None
        if kind is None and (("Dumping" in msg and STEP_DUMP.search(msg)) or (
                ln.level == "ERROR" and ln.source is not None and ln.source[:14] == "dump_input.py:")):
            kind, text = "exception", msg.strip()[:300]  # "Dumping input data ...": a model step failed
            weak = Phase.SERVING  # (the dump's own rows carry no text that says so)
        elif kind is None and "execution" in msg and FAILED_EXECUTION.search(msg):
            # V0's model runner dumping a failed step's input: the step raised (profiling or serving)
            said = msg.split("execution: ", 1)[1].strip().rstrip("')\"") if "execution: " in msg else ""
            kind = self._classify("RuntimeError", said)[0] or "exception"
            text = f"a model step failed: {said}"[:300] if said else _STEP_FAILED
            weak = _weak_message_phase(msg)
            if ln.level in ("ERROR", "CRITICAL"):  # ``logger.exception(repr(e))``: its traceback follows
                self.last_error[stream] = (self.lines, msg.strip()[:300])
            last = self.last_fail.get(stream)
            if said and last is not None and self.lines - last[0] <= 3 and (
                    (f := self.failures.get(last[1])) is not None and f.text == _STEP_FAILED):
                f.text = text  # the dump's next line says what the error was
                if kind == "oom":
                    self._to_oom(last[1])
                self.recognised += 1
                return True
        elif kind is None and _maybe_death(msg):
            kind, text = "engine_died", msg.strip()[:300]
        elif kind is None and ln.level in (None, "ERROR", "CRITICAL") and (
                "ache" in msg or "seq len" in msg) and KV_SHORTFALL.search(msg):
            kind, text = "oom", msg.strip()[:300]  # the KV shortfall's text on a line of its own (no type)
        elif kind is None and "emory" in msg and (
                (ln.level in ("ERROR", "CRITICAL") and OOM_TEXT.search(msg))
                or (ln.level is None and tb is None and TORCH_OOM.search(msg))):
            kind, text = "oom", msg.strip()[:300]  # ``logger.error("Failed to create ..: %s", e)`` of an OOM
        if kind is not None:
            self._fail(out, kind, text, stream, tb, alloc, weak, hint=weak is not None)
            return True
        if tb is None and ln.level is None and "memory" in msg and OOM_TEXT.search(msg):
            # a multi-line exception message's continuation (NCCL's "Last error:" / "Cuda failure 'out of
            # memory'" after a DistBackendError): the failure just before it was out of memory
            last = self.last_fail.get(stream)
            if last is not None and self.lines - last[0] <= 4 and self._to_oom(last[1]):
                self.recognised += 1
                return True
        if tb is None and "(" in msg and ((ln.level in ("ERROR", "CRITICAL") and msg[:4] == "    ") or (
                ln.level is None and ("rpc(" in msg or "_workers(" in msg or "_method(" in msg)
                and RPC_CALL.search(msg))):
            # a paste that starts inside a traceback, at a source line the logger wrote at ERROR level
            # (``ERROR ... [multiproc_executor.py:671]     self.model_runner._dummy_sampler_run(``), or at a
            # bare one that runs a worker method by name (``return self.collective_rpc("determine_..")``, its
            # indentation lost to a collector's envelope or not)
            tb = self._open(stream)
            self.tb_stream = stream
        if tb is not None and ln.level in (None, "ERROR", "CRITICAL") and (
                msg[:1].isspace() or "(" in msg or msg[:6] == "assert" or CUT_CALL.search(msg)):
            # a source line of the traceback: what it calls is the next frame, which a cut paste may
            # have lost (``self.model_executor.determine_num_available_blocks())``, and a method
            # called by name: ``self.collective_rpc("load_model")``)
            context = IPYTHON_CONTEXT.match(msg) or tb.in_compiler  # IPython's context lines did not run
            calls = [] if context else _CALL.findall(msg[:400])
            rpc = [] if context else RPC_CALL.findall(msg[:400])
            for func in rpc:  # a method run by name runs under whichever of the line's calls comes next
                tb.add(func, self.grammars)
            if len(calls) + len(rpc) > 1 and tb.before_source is None:
                tb.before_source = (tb.named, tb.weak)
            for func in calls:
                tb.add(func, self.grammars)
            for site, phase in () if context else CALL_SITES:
                if site.search(msg[:400]):
                    tb.strong.add(phase)
            code = msg.strip()
            tb.asserting = code == "assert" or code[:7] == "assert "  # the innermost line if the paste ends
            if len(code) >= CUT_SITE_MIN:
                for statement, phase in CUT_CALL_SITES:
                    if len(code) < len(statement) and statement.startswith(code):
                        tb.strong.add(phase)  # the paste cut the call site's line
                if not context and code[-1:] not in ")(,:" and (cut := CUT_CALL.search(code)):
                    self._cut_call(tb, cut.group(1))
            self._request_logger(tb, ln)
            self._seen(tb)
            self.recognised += 1
            return True
        if "apture" in msg and CAPTURE_ERROR.search(msg):  # a graph-capture-only CUDA error named
            self._phase_seen(Phase.WARMUP)
            self.recognised += 1
        if ln.level in ("ERROR", "CRITICAL") and not msg[:1].isspace():
            if len(self.last_error) >= MAX_STREAMS:
                self.last_error.pop(next(iter(self.last_error)))
            self.last_error[stream] = (self.lines, msg.strip()[:300])
        return False

    def _callers_own(self, tb: _Traceback, exc_type: str, msg: str) -> bool:
        """A complete traceback of the program that drives the engine, raised by that program's own code after
        the engine printed its start-up: frames shown, none in the engine family's code and none naming an
        engine step, a plain exception (``CALLER_ERROR_TYPES``) that says nothing of the engine dying
        (COLLECTING.md, settled in round 49: a notebook calling a method ``LLM`` lacks, a wrapper reaching
        into engine internals a newer engine dropped)."""
        return (self.phase is not None and tb.frames > 0 and tb.explicit and not tb.engine_code
                and tb.phase() is None and tb.named is None and not tb.syncing and not tb.crash
                and exc_type.rsplit(".", 1)[-1] in CALLER_ERROR_TYPES and not _maybe_death(msg))

    def _glued_frame(self, func: str) -> tuple[str, str] | None:
        """A frame whose source line a paste glued onto it with no break (``in _handle_client_requestresult =
        method(..)``, https://github.com/huggingface/trl/issues/4790): the grammars' longest frame function
        that ``func`` begins with, and the source's first word; None where ``func`` is a frame function
        itself or begins with none."""
        names = self._frame_names
        if func in names:
            return None
        best = max((n for n in names if func.startswith(n) and func[len(n)].isalpha()), key=len, default=None)
        return (best, func[len(best):]) if best is not None and len(best) >= 6 else None

    def _cut_call(self, tb: _Traceback, part: str) -> None:
        """A source line the paste cut inside the name it calls (``self._initialize_kv_``): the one frame
        function of the grammars that name begins, as if its frame had been shown."""
        names = {name for name in self._frame_names if name.startswith(part) and name != part}
        if len(names) == 1:
            tb.add(names.pop(), self.grammars)
        elif not names:  # what the cut name already says (``self.actor_rollout_wg.generate_s``: generating)
            tb.add(part, self.grammars)

    def _request_logger(self, tb: _Traceback, ln: LogLine) -> None:
        """A traceback line logged by a front-end request handler (``REQUEST_LOGGER``): the request's."""
        if not tb.dispatch and ln.source and ("_" in ln.source or ln.source[:8] == "serving.") and (
                REQUEST_LOGGER.match(ln.source)):
            tb.dispatch = True
            self._advance(Phase.SERVING)  # only a serving front end handles requests

    def _native(self, ln: LogLine, tb: _Traceback | None, out: list[Finding]) -> bool:
        """A native (C/C++) backtrace's line. At ERROR it is part of an exception's report; bare, it is a
        crash handler's dump (so are the crash-handler formats, ``CRASH_FRAME``, at any level but INFO and
        below); at INFO/WARNING it only joins a traceback already open."""
        msg = ln.message
        quiet = ln.level in QUIET_LEVELS
        header = CRASH_HEADER.search(msg) is not None
        if header and self.stopping and ("SIGTERM" in msg or "SIGINT" in msg) and (
                tb is None or not tb.noise):
            # a crash handler reporting the stop's own signal (Ray's abseil handler in each worker,
            # ``*** SIGTERM received at time=..``): its dump is the stop, read as teardown noise
            self._stop_dump(ln.stream)
            self._note(out, "stopped", self._now(), f"stopped: {msg.strip()[:200]}")
            return True
        if tb is None and quiet and not header:
            return False
        if tb is None and self.term_signal:  # a handler announced SIGTERM/SIGINT: this dump is the stop
            self._stop_dump(ln.stream)
            self.recognised += 1
            return True
        if tb is None:
            tb = self._open(ln.stream, explicit=True)
            tb.crash = header or ln.level is None or not NATIVE_FRAME.match(msg)
        elif header or (not quiet and not NATIVE_FRAME.match(msg)):
            tb.crash = True
        if not header:
            self._frame(tb, "<native>")
        else:
            self.recognised += 1
        self.tb_stream = ln.stream
        return True

    def _after_empty_error_header(self) -> bool:
        """The last ERROR line, on any stream, is one or two lines back and its message is empty: a paste
        wrapped the error's text onto the lines after its header."""
        last = max(self.last_error.values(), default=None)
        return last is not None and self.lines - last[0] <= 2 and not last[1]

    def _stop_dump(self, stream: str) -> None:
        """A native dump written because the process was told to stop: read as teardown noise."""
        self._open(stream, explicit=True).noise = True
        self.tb_stream = stream

    def _frame(self, tb: _Traceback, func: str, path: str = "") -> None:
        if not tb.noise:
            # a Windows path (``C:\...\site-packages\vllm\...``) is read as the same module's
            tb.add(func, self.grammars, path.replace("\\", "/") if "\\" in path else path)
            if tb.dispatch:
                self._advance(Phase.SERVING)  # the server is answering requests
            self._seen(tb)
        self.recognised += 1

    def _seen(self, tb: _Traceback) -> None:
        self._phase_seen(tb.shown_phase())  # a source line's calls may not be the next frame (above)

    def _phase_seen(self, phase: Phase | None) -> None:
        """Evidence of the phase a failure happened in, outside its own frames (other processes'
        tracebacks, an error name only one phase raises): the fallback when the failure shows none."""
        if phase is not None and (self.tb_phase_seen is None or phase.order > self.tb_phase_seen.order):
            self.tb_phase_seen = phase

    def _shutdown_noise(self, out: list[Finding], exc_type: str) -> None:
        self.noise_tracebacks += 1
        if self.noise_tracebacks == 1:
            self._note(out, "shutdown_noise", self._now(),
                       f"teardown traceback ({exc_type}) while the interpreter exits: not a failure")
        else:
            self.recognised += 1

    def _open(self, stream: str, *, explicit: bool = False) -> _Traceback:
        if len(self.tracebacks) >= MAX_STREAMS:
            self.tracebacks.pop(next(iter(self.tracebacks)))
        tb = self.tracebacks[stream] = _Traceback(self.lines, explicit=explicit)
        last = self.last_error.get(stream)
        # ``logger.exception(e)`` writes str(e) on the line before the traceback
        if explicit and last is not None and last[0] == self.lines - 1:
            tb.message = last[1]
        pending = self.pending.pop(stream, None)
        if explicit and pending is not None and self.lines - pending[0] <= 5:
            tb.exc = (pending[1], pending[2])
            tb.message = f"{pending[1]}: {pending[2]}"[:300] if pending[2] else pending[1]
        return tb

    @staticmethod
    def _classify(exc_type: str | None, text: str) -> tuple[str | None, str, int | None]:
        """The failure kind named by an exception line or a bare runtime error line (None: not one)."""
        if "PT_DEVMEM" in text:
            if m := OOM_ALLOC.search(text):
                size = _number(m.group(1))
                alloc = int(size) if size is not None else None
                what = (f"device allocation of {_gib(alloc)} failed (PT_DEVMEM)" if alloc
                        else "device allocation failed (PT_DEVMEM)")
                return "oom", what, alloc
            if OOM_DEFRAG.search(text):
                return "oom", "no memory left even after defragmentation (PT_DEVMEM OOM)", None
        if "FATAL" in text and (m := FATAL.search(text)):
            module = m.group("module")
            kind = "lazy_mode" if module == "PT_LAZY" else "fatal"
            return kind, f"FATAL ERROR :: MODULE:{module} {m.group('text').strip()}"[:300], None
        if (("synStatus" in text or "Graph compile failed" in text) and SYNAPSE.search(text)
                and "ompile" in text):  # synStatus=8 [Device not found] is no compile failure
            return "graph_compile", text.strip()[:300], None
        if exc_type is None:
            return None, text, None
        if "Worker failed with error" in text and (r := RELAYED_WORKER_ERROR.search(text)):
            exc_type, text = r.group("type"), r.group("text")  # the worker's own exception, relayed
        short = exc_type.rsplit(".", 1)[-1]
        said = f"{short}: {text.strip()}"[:300] if text.strip() else short
        if short == "AssertionError":
            return "assertion", said, None
        if "Signals.SIG" in text and KILLED_BY_SIGNAL.search(text):
            return "crash", said, None
        if short == "NotImplementedError":
            return "not_implemented", said, None
        if (short == "OutOfMemoryError" or OOM_TEXT.search(text) or KV_SHORTFALL.search(text)
                or START_SHORTFALL.search(text)):
            return "oom", said, None
        return None, "", None

    def _fail(self, out: list[Finding], kind: str, text: str, stream: str, tb: _Traceback | None,
              alloc: int | None, weak: Phase | None = None, *, hint: bool = False) -> None:
        frame_phase = tb.strong_phase() if tb else None
        weak_phase = ((tb.weak if tb else None) or weak or _weak_message_phase(text)
                      or _weak_message_phase(tb.message if tb else None) or (tb.named if tb else None))
        key = (kind, _norm(text))  # the same event from N workers: pids, ranks, addresses differ
        if len(self.last_fail) >= MAX_STREAMS:
            self.last_fail.pop(next(iter(self.last_fail)))
        self.last_fail[stream] = (self.lines, key)
        known = self.failures.get(key)
        if known is not None:  # the same failure from another TP worker, or its traceback's end
            if len(known.streams) < MAX_STREAMS:
                known.streams.add(stream)
            known.frame_phase = _innermost(known.frame_phase, frame_phase)
            known.weak_phase = known.weak_phase or weak_phase
            # first reported before the log showed any phase (a paste that starts inside the event): where the
            # engine is when another process reports the same failure is the best evidence left
            known.marker_phase = known.marker_phase or self._now()
            self.recognised += 1
            return
        if len(self.failures) >= MAX_FAILURES:
            self.recognised += 1
            return
        # the text, or the message printed just before its traceback (an engine process's own error line above
        # the front end's ``Engine process failed to start``)
        said_phase = _message_phase(text) or (_message_phase(tb.message) if tb and tb.message else None)
        f = self.failures[key] = _Failure(self.lines, kind, text, stream, self._now(), frame_phase, alloc,
                                          {stream}, said_phase, weak_phase, hint)
        # a FATAL/OOM line logged just before its traceback takes the traceback's phase later
        phase = f.phase()
        label = FAILURE_KINDS[kind]
        self._note(out, "oom" if kind == "oom" else "failure", phase, f"{label}: {text}")

    def _to_oom(self, key: tuple[str, str]) -> bool:
        """Re-file a generic failure as out of memory (its message went on to say so); False if none."""
        f = self.failures.get(key)
        if f is None or f.kind not in ("exception", "engine_died"):
            return False
        del self.failures[key]
        f.kind = "oom"
        self.failures.setdefault(("oom", key[1]), f)
        return True

    def _attach_open_tracebacks(self) -> None:
        """Frames of tracebacks cut off (or still being written) name the phase of their failure."""
        for stream, tb in self.tracebacks.items():
            if tb.harmless() or tb.is_request() or (tb.phase() or tb.named) is None:
                continue
            for f in self.failures.values():  # before or after the report of the failure (Ray prints the
                # actor's error, then its traceback)
                if f.stream == stream and f.frame_phase is None:
                    f.frame_phase = tb.strong_phase()
                    f.weak_phase = f.weak_phase or tb.weak or tb.named

    def _retract(self, key: tuple[str, str]) -> None:
        """Take back a failure that later lines showed to be none, with the finding that reported it."""
        f = self.failures.pop(key)
        self.kept = deque((k for k in self.kept if k.line_no != f.line_no or k.kind != "failure"),
                          maxlen=MAX_KEPT_FINDINGS)

    def _exit_echo(self) -> None:
        """The old engine-core monitor's death report as the log's last line, with no other failure, nothing
        after it, no HTTP server in the log and no generate call's progress bar running just before it
        (``EXIT_MONITOR_DEATH``): an offline program's exit; re-filed as a stop."""
        if len(self.failures) != 1 or self.pending or self.http_server:
            return
        key, f = next(iter(self.failures.items()))
        if f.kind != "engine_died" or self.last_text_line > f.line_no or EXIT_MONITOR_DEATH not in f.text or (
                any(not tb.harmless() for tb in self.tracebacks.values())):
            return
        if (bar := PROGRESS_PERCENT.search(self.text_before)) and int(bar.group(1)) < 100:
            return  # it died while a generate call was running: the program had not finished
        self._retract(key)  # (the report reads the log as ended: ``serve`` asks once its engine exited)
        self.kept.append(Finding(f.line_no, "stopped", self._now(), "stopped: the engine core ended with the "
                                 "program (the last line, nothing failed before it)"))

    def _cause(self) -> _Failure | None:
        """The failure to report: the first of the most specific kind."""
        best: _Failure | None = None
        for f in self.failures.values():
            if best is None or _rank(f) > _rank(best):
                best = f
        return best

    # ------------------------------------------------------------ report

    def _where_it_stopped(self) -> str | None:
        self._settle()
        if self.phase is Phase.SERVING or self.lines == 0 or self.phase is None:
            return None
        if self.phase is Phase.WARMUP and self.warmup_done:
            return "after warm-up finished"
        if self.phase is Phase.WARMUP and self.last_step is not None:
            what, i, n, free = self.last_step
            parts = what.lower().split("/")
            desc = f"{'/'.join(parts[1:])} graph capture" if parts[0] == "graph" and len(parts) > 1 \
                else f"{what.lower()} warm-up"
            where = f"{desc} step {i}/{n}"
            return where + (f" with {_gib(free)} free" if free is not None else "")
        return self.phase.value

    def _var(self, setting: Setting) -> str:
        return var(self.engine, setting)

    def advice(self) -> list[str]:
        """Changes for the failure and the model the log shows: memory advice only for out-of-memory
        failures, HPU variables only for HPU logs, image advice only when the log shows a
        multimodal model (a text-only model never hears of buckets of patches or max_pixels)."""
        self._attach_open_tracebacks()
        cause = self._cause()
        out: list[str] = []
        if cause is not None and cause.kind == "oom":
            out += memory_advice(
                MemoryFigures.from_log(self.mem), cause.phase(self.tb_phase_seen),
                defrag="defragment" in cause.text, alloc_bytes=cause.alloc_bytes,
                bucket=self.largest_bucket or self.last_bucket, model=self.model, tp=self.tp, fp32=self.fp32,
                engine=self.engine, gpu=self.gpu_engine,
            )
        if self.recompiles and self.multimodal:
            out.append(f"{self.recompiles} graph(s) compiled while serving: keep "
                       f"{self._var(Setting.SKIP_WARMUP)} off and "
                       "make the buckets cover the shapes seen (gaudi-vl plan with your --max-pixels / "
                       "--workload)")
        elif self.recompiles:
            out.append(f"{self.recompiles} graph(s) compiled while serving: keep "
                       f"{self._var(Setting.SKIP_WARMUP)} off and widen the prompt/decode buckets to the "
                       "batch sizes and sequence lengths seen")
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
        self.flush()
        self._settle()
        self._exit_echo()
        advice = tuple(self.advice())  # attaches cut-off tracebacks first
        cause = self._cause()
        open_tb = [tb for tb in self.tracebacks.values() if not tb.harmless()
                   and (not tb.is_request() or tb.cut_in_engine())
                   and (tb.frames or tb.phase() or tb.exc or tb.explicit)]
        # an exception's line that no traceback followed: a paste that starts at the exception (the frames
        # above it left out), or a program that prints only the error: the failure all the same
        bare = min(self.pending.values()) if not open_tb and self.pending else None
        if bare and cause is not None and (cause.kind != "engine_died" or bare[0] > cause.line_no):
            bare = None  # (kept before a process's death: the exception is what the process died of)
        failed = cause is not None or bool(open_tb) or bare is not None
        failure = phase = kind = None
        processes = 0
        if cause is not None and bare is None:
            kind, phase = cause.kind, cause.phase(self.tb_phase_seen)
            if cause.frame_phase is None and cause.text_phase is None and (later := [
                    f.frame_phase for f in self.failures.values()
                    if f is not cause and f.frame_phase is not None
                    and (phase is None or f.frame_phase.order > phase.order)]):
                # a death that names no step (``Killed``, the client's fatal signal) after an error whose
                # frames show the engine further on than the log's last phase line: the error's step
                phase = max(later, key=lambda p: p.order)
            if phase is None:  # the failures it caused (a worker's error, then the engine's death) name it
                others = (f.phase() for f in self.failures.values() if f is not cause)
                phase = next((p for p in others if p is not None), None)
            failure = f"{FAILURE_KINDS[kind]}: {cause.text}"
            processes = cause.count
        elif open_tb:  # a traceback with no exception line: the paste or the log was cut
            tb = open_tb[0]
            kind = "crash" if tb.crash else "assertion" if tb.asserting else "exception"
            if tb.core_output and tb.exc is None and not tb.crash:
                kind = "engine_died"  # cut inside the core client's output: EngineDeadError (engines/logs.py)
            if tb.exc is None and (later := [p for p in self.pending.values() if p[0] > tb.start_line]):
                # its exception, on a line whose process prefix the paste kept and the frame's lost: a
                # stream of its own, so it waited there for a traceback (``pending``)
                tb.exc = min(later)[1:]
            if tb.exc is not None:
                kind = self._classify(*tb.exc)[0] or kind
            elif tb.message:  # ``logger.exception(e)`` wrote str(e) (no type) on the line before it
                kind = self._classify("Exception", tb.message)[0] or kind
            strong = None
            for t in open_tb:  # N workers' cut tracebacks of one method: the one that reaches deepest
                strong = _innermost(strong, t.strong_phase())
            now, said = self._now(), tb.weak or tb.named
            phase = (strong or (_message_phase(tb.exc[1]) if tb.exc else None)
                     or (said if _just_after(now, said) else None) or now
                     or said or self.tb_phase_seen)  # N workers' cut tracebacks: one event
            cut = (f"(a crash's native backtrace from line {tb.start_line})" if tb.crash and not tb.exc
                   else f"(traceback from line {tb.start_line} cut off before its exception line)")
            failure = (f"{tb.message} " if tb.message else "") + cut
            processes = len(open_tb)
        elif bare is not None:
            _, exc_type, said = bare
            kind = self._classify(exc_type, said)[0] or "exception"
            phase = _message_phase(said) or (cause.phase(self.tb_phase_seen) if cause is not None else None)
            failure = f"{FAILURE_KINDS[kind]}: {exc_type}" + (f": {said}"[:300] if said else "")
            processes = 1
        if failed and phase is None:
            # The failure's own lines name no phase, but the log shows how far the engine had got: it
            # failed there (a phase it had reached and not yet left), not at some guessed point
            phase = self.phase
            if phase is None:  # another process's exception line names it (the engine core's ``ValueError:
                # Current node has no GPU available`` above the front end's cut traceback)
                named = (_message_phase(said) for _, _, said in sorted(self.pending.values()))
                phase = next((p for p in named if p is not None), None)
            if phase is None and self.frontend and not self.notebook:
                # the front end had started and nothing of the engine followed before the failure: the
                # engine's processes write to the same terminal, so it failed while being set up
                phase = Phase.STARTUP
        frac = self.pad_patches / self.bucket_patches if self.bucket_patches else 0.0
        return DoctorReport(
            lines_read=self.lines,
            recognised_lines=self.recognised,
            phase_reached=(self.phase if phase is None or (self.phase and self.phase.order >= phase.order)
                           else phase) or (Phase.STARTUP if self.frontend and not failed else None),
            failed=failed,
            failure_phase=phase,
            failure=failure,
            memory=dict(self.mem),
            images_padded=self.padded,
            largest_bucket_seen=self.largest_bucket,
            largest_image_seen=self.largest_image,
            padding_fraction=frac,
            recompilations=self.recompiles,
            preemptions=self.preemptions,
            advice=advice,
            findings=tuple(self.kept),
            failure_kind=kind,
            failure_processes=processes,
            ended_during=None if failed else self._where_it_stopped(),
            unreadable_lines=self.unreadable,
            unreadable_line_numbers=tuple(self.unreadable_at),
            shutdown_noise=self.noise_tracebacks + sum(tb.noise for tb in self.tracebacks.values()),
            request_errors=self.request_tracebacks + sum(tb.is_request() and not tb.cut_in_engine()
                                                         for tb in self.tracebacks.values()),
        )


_MARKER_TEXT = {
    "starting": "engine starting",
    "weights": "loading weights",
    "weights_done": "weights loaded",
    "kv_allocated": "KV cache allocated",
    "warmup": "warm-up started",
    "warmup_done": "warm-up finished",
    "init_done": "engine initialised (profile, KV cache, warm-up)",
    "profile_done": "profiling finished",
    "serving": "engine is serving",
    "buckets": "buckets generated",
}


def var(engine: EngineProfile, setting: Setting) -> str:
    """The engine's name for ``setting`` (advice names what this engine reads)."""
    v = engine.variable(setting) or DEFAULT_PROFILE.variable(setting)
    return v.name if v is not None else setting.value


# ================================================================= memory advice (one place)
# The log's numbers go through the same ``Budget`` the memory planner uses (``gaudi_vl.memory``).


@dataclass(frozen=True)
class MemoryFigures:
    """The memory numbers one log gave (bytes; None where the log did not say)."""

    free_bytes: float | None = None
    usable_bytes: float | None = None
    gpu_memory_utilization: float | None = None
    graph_reserved_mem: float | None = None
    device_total_bytes: float | None = None

    @classmethod
    def from_log(cls, mem: dict[str, float]) -> MemoryFigures:
        return cls(mem.get("free_bytes"), mem.get("usable_bytes"), mem.get("gpu_memory_utilization"),
                   mem.get("graph_reserved_mem"), mem.get("device_total_bytes"))


def _vision_advice(
    fig: MemoryFigures, bucket: int, model: ModelSpec, tp: int, fp32: bool, engine: EngineProfile
) -> list[str] | None:
    """Which utilization or largest bucket lets the biggest image seen run beside the KV cache.

    None when the tower already fits in what the KV cache and graphs leave (then images are not what
    ran out, and neither a lower max_pixels nor a lower utilization for the tower's sake changes it).
    """
    assert engine.attention is not None and engine.memory is not None
    free, util = fig.free_bytes or 0.0, fig.gpu_memory_utilization or 0.0
    budget = Budget(free, util, fig.graph_reserved_mem or 0.0, engine.memory)
    peak = vision_peak_bytes(model.vision, bucket, engine.attention, tp=tp, fp32_softmax=fp32)
    need = vision_margin_bytes(peak)
    margin = budget.margin_bytes
    if need <= margin:
        return None
    out = [(f"an image padded to {bucket} patches needs ~{_gib(peak)} in the vision tower "
            f"(+15% and 1 GiB = {_gib(need)}); gpu_memory_utilization={util:g} leaves "
            f"{_gib(margin)} outside the KV cache and graphs")]
    new_util = budget.utilization_leaving(need)
    if 0.05 <= new_util < util:
        out.append(f"set --gpu-memory-utilization {new_util:g} (from {util:g})")
    lo, hi = 0, bucket // PATCHES_PER_WINDOW  # largest window count whose tower fits the margin
    while lo < hi:
        mid = (lo + hi + 1) // 2
        p = vision_peak_bytes(model.vision, mid * PATCHES_PER_WINDOW, engine.attention, tp=tp,
                              fp32_softmax=fp32)
        lo, hi = (mid, hi) if vision_margin_bytes(p) <= margin else (lo, mid - 1)
    fit = lo * PATCHES_PER_WINDOW
    if PATCHES_PER_WINDOW <= fit < bucket:
        px = fit * PIXELS_PER_PATCH
        out.append(f"or keep gpu_memory_utilization={util:g} and lower max_pixels to {px} "
                   f"(largest bucket {fit} patches): gaudi-vl plan --max-pixels {px}")
    if fp32:
        out.append(f"or drop {var(engine, Setting.FP32_SOFTMAX_VISION)} "
                   "(fp32 softmax needs 2.5x the attention memory)")
    out.append(f"or raise --tp to {tp * 2} (the vision tower's heads are split across cards)")
    return out


def memory_advice(
    fig: MemoryFigures, phase: Phase | None, *, defrag: bool, alloc_bytes: int | None, bucket: int,
    model: ModelSpec, tp: int, fp32: bool, engine: EngineProfile = DEFAULT_PROFILE, gpu: bool = False,
) -> list[str]:
    """What to change after an out-of-memory failure in ``phase``, from the log's own numbers.

    ``phase`` None: the log does not show where it ran out; ``gpu``: the log is upstream vLLM's on a
    GPU, where the HPU graph-memory variables do not exist.
    """
    util, reserved, free, usable = (fig.gpu_memory_utilization, fig.graph_reserved_mem, fig.free_bytes,
                                    fig.usable_bytes)
    size = f" ({_gib(alloc_bytes)})" if alloc_bytes else ""
    out: list[str] = []
    if phase is None:
        out.append(f"out of memory{size} (the log does not show in which phase): lower "
                   "--gpu-memory-utilization or --max-num-seqs, or raise --tp")
    elif gpu and phase is Phase.WARMUP:
        out.append(f"out of memory while warming up / capturing graphs{size}: lower --gpu-memory-utilization "
                   "or --max-num-seqs (warm-up needs room outside the KV cache), or pass --enforce-eager")
    elif phase is Phase.STARTUP:
        total = fig.device_total_bytes
        out.append(f"out of memory while loading weights{size}: the model does not fit on one card; "
                   f"raise --tp to {tp * 2}" + (f" (card: {_gib(total)})" if total else ""))
    elif phase is Phase.PROFILING:
        out.append(f"out of memory in the profiling run{size}: lower --max-num-batched-tokens "
                   f"(the dummy prefill) or raise --tp to {tp * 2}")
    elif phase is Phase.KV_ALLOCATION:
        if util and free and alloc_bytes:
            new = math.floor((util - alloc_bytes / free - 0.01) * 100) / 100
            out.append(f"out of memory allocating the KV cache{size}: set --gpu-memory-utilization "
                       f"{max(new, 0.05):g} (from {util:g})")
        else:
            out.append(f"out of memory allocating the KV cache{size}: lower --gpu-memory-utilization "
                       "by 0.05 or raise --tp")
    elif phase is Phase.WARMUP:
        vision = (_vision_advice(fig, bucket, model, tp, fp32, engine)
                  if defrag and bucket and free and util else None)
        if vision:
            out += vision
        elif reserved is not None and usable:
            extra = (alloc_bytes or 0) / usable
            floor = 0.4 if reserved < 0.4 else reserved + 0.1
            new = min(0.9, max(floor, math.ceil((reserved + extra) * 20) / 20))
            if new > reserved:
                out.append(f"out of memory while capturing HPU graphs{size}: set "
                           f"{var(engine, Setting.GRAPH_RESERVED_MEM)}="
                           f"{new:g} (from {reserved:g}); the KV cache shrinks to {_gib(usable * (1 - new))}")
        else:
            out.append("out of memory while capturing HPU graphs: raise "
                       f"{var(engine, Setting.GRAPH_RESERVED_MEM)} to 0.4-0.6")
    else:  # serving
        vision = (_vision_advice(fig, bucket, model, tp, fp32, engine) if bucket and free and util and not gpu
                  else None)
        if vision:
            out += vision
        elif util and util > 0.15:
            out.append(f"out of memory while serving{size}: lower --gpu-memory-utilization to "
                       f"{util - 0.1:.2f} (from {util:g}) or --max-num-seqs")
        elif not util:
            out.append(f"out of memory while serving{size}: lower --gpu-memory-utilization "
                       "or --max-num-seqs, or raise --tp")
    return out
