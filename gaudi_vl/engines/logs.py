"""Log line grammars: how each engine version writes its log, and which lines mark its phases.

Data, not logic: frozen objects built from the engines' own logger calls, each fact cited
``path:line@commit`` (vllm-fork and vllm-gaudi from their git mirrors; upstream vLLM, uvicorn and torch
at the versions installed beside gaudi-vl). The doctor (``gaudi_vl.doctor``) reads a log with one
grammar when the engine is known (``grammar_for("vllm-gaudi")``, later ``profile.log_grammar``) and
with all of them when it is not. Nothing here raises on any input: patterns only.

Why the grammars differ:

- **vLLM V0 as the fork writes it** (``vllm-fork-1.21`` = aice/v1.21.0 @277a33cd907e, ``vllm-fork`` =
  habana_main/v1.22.0 @95af70093fc0): ``INFO 08-02 17:37:54 [hpu_worker.py:158] message``; the
  logger format is ``%(levelname)s %(asctime)s [%(filename)s:%(lineno)d] %(message)s`` with date
  ``%m-%d %H:%M:%S`` (vllm/logger.py:24-26@95af70093fc0, vllm/logger.py:23-25@277a33cd907e); older
  fork releases wrote ``hpu_worker.py:158]`` without the opening bracket (the README_GAUDI.md log
  excerpt, docs/features/warmup.md:47-71@091bbadda10b), so the bracket is optional. Worker
  processes prefix every line with ``(VllmWorkerProcess pid=614) `` (``_add_prefix``,
  vllm/executor/multiproc_worker_utils.py:265-268@95af70093fc0) and Ray workers with
  ``(RayWorkerWrapper pid=8965) ``.
- **vLLM V1 as vllm-gaudi writes it** (main @091bbadda10b, on upstream vLLM): the same header, always
  bracketed, and the process name and pid are part of the format itself: ``(EngineCore_DP0
  pid=1079040) ERROR 01-21 06:56:31 [core.py:935] ...`` (vllm/logger.py:28-32@vllm==0.32.0); the
  warm-up progress lines are written with ``tqdm.write`` and carry no header at all
  (vllm_gaudi/v1/worker/hpu_model_runner.py:5226-5231@091bbadda10b).
- Both: a multi-line message repeats the prefix on every line, joined with ``\\r\\n``
  (vllm/logging_utils/formatter.py:17@95af70093fc0), which is why pasted logs show ``^M``; colours
  come as ANSI escapes (or their ``^[[1;36m`` text form once pasted); torch's distributed excepthook
  prefixes an uncaught traceback with ``[rank0]: `` (torch/distributed/distributed_c10d.py:2576-2591
  @torch==2.14.1).

Failure lines (any of them is a failure, memory or not) come from CPython (``Traceback (most recent
call last):``, ``  File "...", line N, in func``, ``Process SpawnProcess-1:``), from the engines'
death reports (cited below) and from the closed-source Habana bridge, whose messages are known only
from public logs: ``[Rank:0] FATAL ERROR :: MODULE:PT_LAZY Error, ...``
(https://github.com/HabanaAI/vllm-fork/issues/776), ``FATAL ERROR :: MODULE:PT_DEVMEM Allocation
failed for size::939524096 (896)MB`` (vllm-fork README_GAUDI.md, ../shared/reference/engine_facts.md)
and ``Graph compile failed. synStatus=synStatus 26 [Generic failure]``
(https://github.com/HabanaAI/vllm-fork/issues/484).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

FORK_121 = "277a33cd907e"
"""vllm-fork aice/v1.21.0 (profile ``vllm-fork-1.21``)."""
FORK_122 = "95af70093fc0"
"""vllm-fork habana_main / v1.22.0 (profile ``vllm-fork``)."""
GAUDI = "091bbadda10b"
"""vllm-project/vllm-gaudi main (profile ``vllm-gaudi``)."""
UPSTREAM = "vllm==0.32.0"
"""Upstream vLLM as installed here (profile ``vllm``; vllm-gaudi runs on it)."""
ASCEND = "1de16ead8eec"
"""vllm-project/vllm-ascend before its V1 model runner was refactored (#2461): ``_process_reqs`` era."""
ASCEND_HEAD = "182b75ea84ff"
"""vllm-project/vllm-ascend main as mirrored (2026)."""


class Phase(str, Enum):
    """Where in its life the engine was, in the order the engines go through them.

    V0 (fork): ``load_model`` (hpu_worker.py:180), then ``LLMEngine._initialize_kv_caches``
    (llm_engine.py:408) runs ``determine_num_available_blocks`` = the profiling run and the memory
    budget (hpu_worker.py:260-324), then ``initialize_cache`` allocates the KV cache and warms up
    (hpu_worker.py:326-351, ``_warm_up_model`` :367), all @95af70093fc0; then the API server serves.
    V1 (vllm-gaudi): ``load_model``, ``determine_available_memory`` (hpu_worker.py:319),
    ``initialize_from_config`` (:516) which ends in ``compile_or_warm_up_model`` (:552), @091bbadda10b.
    """

    STARTUP = "start-up/weights"
    PROFILING = "profiling"
    KV_ALLOCATION = "KV allocation"
    WARMUP = "warm-up/graph capture"
    SERVING = "serving"

    @property
    def order(self) -> int:
        return _PHASE_ORDER[self]


_PHASE_ORDER = {p: i for i, p in enumerate(Phase)}


# ------------------------------------------------------------------ numbers and sizes

SIZE = r"(-?[\d.]+ ?[KMGT]?i?B)"
"""A byte size as ``format_bytes`` writes it (``504 MiB``, ``14.97 GiB``, ``0 B``); parsed defensively."""

# ------------------------------------------------------------------ line shape, shared by all grammars

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|(?:\^\[|\ufffd|ESC)\[[0-9;]*m|\[(?:\d{1,3};)*\d{1,3}m(?=[(\s])"
                  r"|^(?:\d{1,3};)*\d{1,3}m(?=\(\w)|(?<=\))(?:\d{1,3};)*\d{1,3}m(?=[(\s])")
"""Colour escapes, real (``\\x1b[1;36m``), as pasted text (``^[[1;36m``) or with the ESC byte turned
into U+FFFD by a paste (``\ufffd[36m(WorkerDict pid=129668)\ufffd[0m``,
https://github.com/ray-project/ray/issues/50418) or lost entirely (``[36m(RayWorkerWrapper pid=812)[0m``,
https://github.com/vllm-project/vllm/issues/16766): the worker prefix is cyan
(multiproc_worker_utils.py:268@95af70093fc0; Ray colours its ``(WorkerDict pid=..)`` prefixes too), or spelt
out as ``ESC[1;36m`` (https://github.com/vllm-project/vllm-gaudi/pull/281), or with its ``[`` lost too, at
the line's start before a prefix and right after one (``36m(EngineCore_DP0 pid=820)0m ERROR ..``,
https://github.com/gpustack/gpustack/issues/4194)."""
PYTEST_E = re.compile(r"^E(?: {2,}| (?!\d{1,10} \d{1,10}\] ))(?=\S)")
"""pytest's prefix on the lines of a failure's explanation (``E       ray.exceptions.RayTaskError(..)``, then
the traceback it carries, every line behind ``E`` and the report's indentation,
https://github.com/NovaSky-AI/SkyRL/pull/1301), or one space when a commit message re-wrapped the report
(https://github.com/vllm-project/llm-compressor/pull/2618); not Ray's C++ ``E 73667 73667] ..`` lines."""

COLLECTOR_STAMP = re.compile(
    r"^\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?\s+")
"""A timestamp a log collector (docker --timestamps, kubectl, CI) puts before the engine's own line,
with a zone offset (``2024-06-22T20:16:34.700+00:00``, https://github.com/vllm-project/vllm/issues/5060)
or in brackets (``[2025-08-12T08:42:32Z]``, https://github.com/vllm-project/vllm/pull/22587)."""

PIPE_FIELDS = re.compile(
    r"^\|\s*(?:DEBUG|INFO|WARNING|ERROR|CRITICAL|SUCCESS|TRACE)\s*\|\s*[\w.:<>\-]{1,80}(?:\s*\|\s|\s+-\s)")
"""A wrapper's logger fields after the collector stamp, separated by bars: FastChat's workers relay vLLM's
output through their own logger as ``2024-06-20 23:15:43 | ERROR | stderr | [rank0]: ...`` (``%(asctime)s |
%(levelname)s | %(name)s | %(message)s``, fastchat/utils.py ``build_logger``;
https://github.com/lm-sys/FastChat/pull/3136), loguru as ``2025-01-01 10:00:00.123 | ERROR    |
module:function:42 - ...``. The relay's level is its own (stderr is relayed at ERROR), so it is dropped."""

TRACING_PREFIX = re.compile(
    r"^(?:TRACE|DEBUG|INFO|WARN|ERROR)\s+[A-Za-z_]\w*(?:::\w+)+(?:\{[^}]{0,200}\})?: ")
"""Rust ``tracing``'s fields after the time stamp: ``DEBUG dynamo_run::subprocess: `` (level, module path with
``::``, optional span fields), written by Rust launchers that relay vLLM's output (ai-dynamo's ``dynamo-run``:
``2025-06-06T19:02:34.252Z DEBUG dynamo_run::subprocess:     raise e``,
https://github.com/ai-dynamo/dynamo/issues/1422). The relay's level is its own, so it is dropped."""

CLOUD_PREFIX = re.compile(
    r"^(?:DEFAULT|DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL) \d{4}-\d\d-\d\dT[\d:.]+Z \[[^\]]{1,200}\] ")
"""A cloud log viewer's own level, time and labels before the container's line: Google Cloud Logging's
``INFO 2025-11-19T20:16:36.096625454Z [resource.labels.containerName: vllm] (EngineCore_DP0 pid=270) ERROR
...`` (https://github.com/vllm-project/vllm/issues/29049)."""

WRAPPER_PREFIX = re.compile(
    r"^\[(?:(?:DEBUG|INFO|WARN|ERROR)\s*\] [\w.\-]{1,80} MODEL_LOG - "
    r"|(?:Debug|Info|Warning|Error)\] \(\w{1,40}\) )")
"""A program that runs vLLM as a child and re-logs its output with its own level: TorchServe's
``2024-10-07T22:54:54,595 [INFO ] W-9000-model_1.0-stdout MODEL_LOG - INFO 10-07 ...``
(https://github.com/pytorch/serve/pull/3343, /pull/3315), a launcher's ``2026-06-09 14:01:54.604 [Info]
(Process) (APIServer pid=42406) ...`` (https://github.com/lemonade-sdk/vllm-rocm/issues/5); the
collector stamp before it goes first."""

CUT_HEADER = re.compile(r"^\[[\w./\-]{1,80}\.py:\d{1,6}\]\s?")
"""What is left of a logger header when a paste starts inside it: ``[multiproc_executor.py:492] ValueError:
...`` (https://github.com/vllm-project/vllm/issues/20305)."""

PROCESS_PREFIX = re.compile(
    r"^\(?(?P<process>[A-Za-z_][\w.\-:]*(?:\((?:[\w.\-:>,]|\([\w.\-:>,]*\)){1,80}\))?)?,?\s*"
    r"(?:(?:rank=(?P<prank>\d+)|TP\d+),?\s+)?pid=(?P<pid>\d+)(?:,\s*ip=[\w.:]+)?\)\s?"
)
"""``(VllmWorkerProcess pid=614)`` (multiproc_worker_utils.py:268@95af70093fc0), ``(RayWorkerWrapper
pid=8965)`` (Ray's log forwarding), ``(EngineCore_DP0 pid=1079040)`` / ``(Worker_TP0 pid=635023)``
(vllm/logger.py:28-32@vllm==0.32.0), the older ``(VllmWorker rank=0 pid=26234)`` and Ray Serve's
``(ServeReplica:default:LLMDeploymentqwen-0_5b pid=14262)`` (https://github.com/ray-project/ray/issues/53267)
and Ray Data's actors, named for their operator (``(MapWorker(MapBatches(vLLMEngineStageUDF)) pid=12390,
ip=10.0.118.90)``, the actor that runs vLLM in ray.data.llm, https://github.com/ray-project/ray/pull/53825),
and SkyPilot's job output, which prefixes each node's lines ``(task_name, pid=N)`` on a single node and
``(head, rank=0, pid=N)`` / ``(worker1, rank=1, pid=N, ip=..)`` on several (its task runner's streaming
prefix; https://github.com/OpenPipe/ART/issues/97)."""

RAY_COMPONENTS = frozenset({"raylet", "gcs_server", "autoscaler", "monitor", "dashboard"})
RAY_PREFIX = re.compile(
    r"^\((?P<process>raylet|gcs_server|autoscaler|monitor|dashboard)(?:,\s*ip=[\w.:]+)?\)\s?")
"""Ray's own components forward their lines as ``(raylet) A worker died ...``
(https://github.com/gpustack/gpustack/issues/2415)."""
COMPOSE_NAMED = re.compile(r"^(?:[\w.\-]{1,64}|\[[\w.\-]{1,64}\])\s+[|\u2502]\s")
"""``docker compose logs``'s service name alone (``COMPOSE_PREFIX``): an envelope taken off before any other
prefix; other compose front ends bracket the name (``[vllm] | (APIServer pid=1) ...``,
https://github.com/vllm-project/vllm/pull/46110)."""
COMPOSE_PREFIX = re.compile(r"^(?:[\w.\-]{1,64}\s+|\s*)[|\u2502]\s")
"""``docker compose logs`` puts the service name before each line: ``runner-llm-1  | INFO ...``
(https://github.com/livepeer/ai-runner/pull/230); a CI log shown as a table has only the bar:
``  | (EngineCore_DP0 pid=6804)   File ...`` (https://github.com/vllm-project/vllm-omni/issues/946), also
before a collector's stamp (``  | [2026-06-18T07:45:31Z]   File ...``, https://github.com/vllm-project/vllm-omni/issues/4537);
a terminal UI (k9s) draws a box-drawing border ``\u2502 `` before (and after) every line
(https://github.com/vllm-project/vllm/issues/6976)."""

JOURNAL_PREFIX = re.compile(
    r"^(?:[^\W\d_]{2,12}\.?|\d{1,2}\u6708)\s{1,2}\d{1,2}\s\d\d:\d\d:\d\d(?:\.\d{1,9})?\s[\w.\-]{1,64}\s[\w.@\-/]{1,80}"
    r"(?:\[\d{1,10}\])?:\s?")
"""journald's (and syslog's) short format before a service's line: ``Mon DD HH:MM:SS host unit[pid]: ``
(systemd's ``journalctl -o short``, month abbreviated in the host's locale: ``авг 18 14:15:02 llm
python3[28147]: (Worker_TP2 pid=28147) INFO ...``, https://github.com/1CatAI/1Cat-vLLM/issues/237; ``Dec 06
..`` in English, ``déc. 06 ..`` in French): the month is any word of letters, in any script, or a number
and 月 (Chinese and Japanese locales: ``6月 10 16:45:05 host bash[107468]: ``,
https://github.com/vllm-project/vllm/issues/5376); ``-o short-precise`` adds microseconds."""
JOURNAL_TAIL = re.compile(r"^[\w.\-]{1,64}\s[\w.@\-/]{1,80}\[\d{1,10}\]:\s?")
"""What follows journald's ISO time (``-o short-iso``: ``2024-08-18T14:15:02+0300 llm python3[28147]: ..``)
once the time is taken off as a collector's stamp: ``host unit[pid]: ``."""
NAMED_PREFIX = re.compile(r"^\[(?!rank\d)[A-Za-z][\w.\-]{0,40}\]:\s")
"""A program that relays vLLM's output labels each line with a name in brackets: ``[vllm]: [rank0]:
RuntimeError: NCCL error ..`` (an Akash deployment's log, https://github.com/akash-network/awesome-akash
/issues/543); torch's own ``[rank0]:`` is ``RANK_PREFIX``."""
RELAY_PREFIX = re.compile(
    r"^(?![\w.\-]*(?:Error|Exception|Failure|Warning|Interrupt|Exit):)[A-Za-z][\w.\-]{0,40}:\s{1,4}"
    r"(?=(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\d\d-\d\d\s"
    r"|\([\w.\-:]{1,80}(?:\s+\w+=\d+)?\s+pid=\d|\[rank\d+\]:|Traceback \(most|\s*File \"[^\"]+\", line \d"
    r"|(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception): )")
"""A relay's label without brackets (``VLLM: ERROR 11-05 ..``, ``worker-1: (EngineCore_DP0 pid=270) ..``):
taken off only when vLLM's own header, a process or rank prefix, a traceback, a frame or an exception line
follows, and never when the label itself is an exception type, so that an
exception line (``RuntimeError: ..``, also one whose text starts like a header) is never taken for a label."""

RANK_PREFIX = re.compile(r"^\[rank(?P<rank>\d+)\]:\s?")
"""torch's distributed excepthook: ``[rank0]: Traceback ...`` (distributed_c10d.py:2576@torch==2.14.1)."""

LEVELS = r"DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL"
"""The level words of vLLM's logger header (vllm/logger.py:28-33@vllm==0.32.0), shared by every header
pattern below."""
HEADER = re.compile(
    rf"^\s*(?P<level>{LEVELS})\s+(?P<date>(?:\d{{4}}-)?\d\d-\d\d)\s+"
    r"(?P<time>\d\d:\d\d(?::\d\d)?)"
    r"(?:[.,]\d+)?(?:\s+\[?(?P<file>[\w./\-]+\.py):(?P<lineno>\d+)\])?\s?(?P<message>.*)$"
)
"""vLLM's logger header; leading whitespace is tolerated (pastes indent it), the ``[`` is optional
(older fork releases: ``hpu_worker.py:134]``) and so is the ``[file:line]`` part (a user's own log
format: ``(VllmWorker TP0 pid=326) ERROR 08-25 13:48:26 WorkerProc failed to start.``,
https://github.com/vllm-project/vllm/issues/23359). The time may come without seconds (``ERROR 11-03 23:14
[serving_chat.py:1145]``, a date format set by the user, https://github.com/vllm-project/vllm/issues/28028)
and the date with its year (Ray Serve's replica logger: ``INFO 2025-02-19 22:43:55,698 <deployment>
<replica> -- message``, https://github.com/vllm-project/vllm/issues/12742)."""

SCRUBBED_PROCESS = re.compile(
    r"^\((?P<process>(?:EngineCore|Worker|APIServer|VllmWorker)[\w.\-:]{0,40})\)\s"
    rf"(?=\s*(?:{LEVELS})\s)")
"""``PROCESS_PREFIX`` with its ``pid=`` taken out by a reporter who scrubbed the paste (``(Worker_TP3) ERROR
04:57:00 [multiproc_executor.py:1055] ...``, https://github.com/vllm-project/vllm/issues/54317): only vLLM's
own process names (vllm/logger.py:28-32@vllm==0.32.0) before a logger's level word."""
UNDATED_HEADER = re.compile(
    rf"^\s*(?P<level>{LEVELS})\s+(?P<time>\d\d:\d\d:\d\d)(?:[.,]\d+)?\s+"
    r"\[(?P<file>[\w./\-]+\.py):(?P<lineno>\d+)\]\s?(?P<message>.*)$")
"""``HEADER`` with its date taken out, as a reporter who scrubs a paste leaves it (``(Worker_TP3) ERROR
04:57:00 [multiproc_executor.py:1055]   File ...``, pids, dates and path prefixes removed,
https://github.com/vllm-project/vllm/issues/54317): the ``[file:line]`` part is required, so that a line
that merely starts with a level word and a time is not taken for the logger's."""
SCRUBBED_HEADER = re.compile(
    rf"^\s*(?P<level>{LEVELS})(?:\s+\d\d:\d\d(?::\d\d)?(?:[.,]\d+)?)?"
    r"(?:\s+\[(?P<file>[\w./\-]+\.py):(?P<lineno>\d+)\])?(?:\s|$)(?P<message>.*)$")
"""What a scrub leaves of the logger's header (vllm/logger.py:28-33@vllm==0.32.0: level, date and time,
``[file:line]``) after a ``SCRUBBED_PROCESS`` prefix: the level word, the time and the ``[file:line]`` each
kept or taken out (``(Worker_TP1) ERROR [multiproc_executor.py:962] WorkerProc hit an exception.`` and its
frames ``(Worker_TP1) ERROR   File ".../gpu_model_runner.py", line 3875, in execute_model``,
https://github.com/vllm-project/vllm/issues/41190; the record is multiproc_executor.py:1063@vllm==0.32.0's
``logger.exception``). Only read after vLLM's own process name, so a bare line that starts with a level word
is never taken for the logger's."""
GLUED_HEADER = re.compile(
    r"(?<=\S)\s*(?=(?:ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)? \[?[\w.\-]+\.py:\d+\] )")
"""An error's logger header (``HEADER`` with its ``[file:line]``) glued after another line's text, where a
paste lost the line break between them: ``... "POST /v1/chat/completions HTTP/1.1" 500 Internal Server Error
CRITICAL 02-14 08:44:33 launcher.py:101] MQLLMEngine is already dead, terminating server process``
(https://github.com/vllm-project/vllm/issues/13252), or with no blank at all (``in _wrapped_call_implERROR
03-05 14:13:42 worker_base.py:469] Error executing method ..``, https://github.com/intel/ipex-llm/issues/12934):
two lines, read as such."""
GLUED_RECORD = re.compile(
    rf"(?:\([^()]{{1,80}}pid=\d+\) )?(?:{LEVELS}) \d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)? \[?[\w.\-]+\.py:\d+\] "
    r"|Traceback \(most recent call last\):"
    r'|File "[^"\n]{1,400}", line \d+, in [\w<>.]+ ?'
    r"|(?P<ray>\([\w.:\-]{1,60} pid=\d+(?:, ip=[\d.]+)?\) )"
    r"|INFO: {1,6}(?=Started server|Waiting for app|Application s|Uvicorn running|Shutting down"
    r"|Finished server|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d+ - \")"
    r"|\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [EWIF] \d+ \d+\] "
    r"|frame #\d{1,3}: |Fatal Python error: |\*\*\* SIG[A-Z]{2,6} received")
"""Where a record starts inside a paste that lost its line breaks (an issue mirror or a web page storing a
log as one physical line: ``INFO 04-15 16:54:34 [__init__.py:239] Automatically detected platform cpu. INFO
04-15 16:54:35 [config.py:2704] Downcasting .. Traceback (most recent call last): File "/u/x.py", line 5, in
llm = LLM(..) .. File ".../vllm/entrypoints/llm.py", line 243, in __init__ self.llm_engine = ..``,
https://github.com/vllm-project/vllm/issues/16682 as such a copy stores it): a logger header (with a worker's
prefix), a traceback's header or a frame. A line holding two or more of them (one a header, after other text)
is read as the records it glues, a frame's source after it on a line of its own. So are the other records
such a copy glues: a Ray process's prefix (``(RayWorker pid=4711) ``, whose record is what follows it),
uvicorn's own lines and access lines (``INFO: Started server process``), Ray's glog lines (``[2023-08-18
01:35:57,940 E 4711 4962] logging.cc:361: ..``), a C++ exception's ``frame #N:`` lines and a crash's ``Fatal
Python error:`` / ``*** SIGBUS received`` (the issue wiki that stores vLLM#789, #1725 and #2798 as one line
each)."""
STAGE_PREFIX = re.compile(r"^\[Stage-(?P<stage>\d{1,4})\]\s?")
"""vllm-omni runs each pipeline stage's engine in its own process and prefixes that process's lines with
its stage: ``[Stage-0] INFO 02-10 08:00:59 [manager.py:204] ...`` (https://github.com/vllm-project/vllm-omni
/issues/1214), through vLLM's ``VLLM_LOGGING_PREFIX``, put before every line of the logger's format
(vllm/logger.py:29, vllm/envs.py:855-856@vllm==0.32.0; set per stage at vllm_omni/entrypoints/omni_stage.py:
248-250@be81443c8a52): a stream prefix like a worker's ``(pid=..)``, and after one where the stage's worker
process has its own (``(Worker pid=1802) [Stage-0] INFO ..``, https://github.com/vllm-project/vllm-omni/issues/602)."""

BLOCK_START = re.compile(
    r"(?:\d|\[|\(|\x1b|\^\[|>|\$ |\ufffd|[|\u2502]|[\w.\-]{1,64}\s+[|\u2502]\s|Traceback \("
    r"|[^\W\d_]{2,12}\.?\s{1,2}\d{1,2}\s\d\d:\d\d:\d\d\s"
    r"|(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL|FATAL)\b"
    r"|[A-Za-z_.]*(?:Error|Exception|Warning|Exit|Interrupt)\b)"
)
"""How a log line starts (a timestamp, a bracketed or process prefix, a colour code, raw, written out or
mangled, a quote mark, a compose service's bar, a shell prompt, a level word, a traceback header or an
exception). A pasted block indented as a whole (a markdown code block inside a list, a quoted e-mail) keeps
that indentation on every line: the doctor takes it off, learnt from the block's first line unless that
line is a frame or carets (``FRAME_OR_CARET``), or from the first later line that starts so and shows the
indentation every line of the block has had."""

BRACKET_START = re.compile(
    r"\[(?:\d|rank\d|pod/|Stage-|[A-Za-z][\w.\-]{0,40}\]|[\w./\-]{1,80}\.py:\d"
    rf"|(?:{LEVELS}|Debug|Info|Warning|Error)\b)")
"""A line's own bracketed prefix: a stamp (``[2025-``), a rank (``[rank0]:``), kubectl's ``[pod/``, a stage, a
relay's name (``[vllm]:``), a cut logger header (``[core.py:1006]``), a level: a line that starts so is its
own line, not a wrapped sentence's rest."""

STAMP_START = re.compile(r"\d{4}-\d\d-\d\d|\d\d-\d\d[ T]\d\d:|\d\d:\d\d:\d\d|\d{10,13}\b|\d{1,3}%")
"""A line that starts with a date, a time, an epoch or a percentage (a stamp, a progress bar): its own line.
Other digits at a line's start are the rest of a wrapped line (a path's ``11/site-packages``, a frame's
``355, in load_weights``)."""

FRAME_OR_CARET = re.compile(r'(?:File "|\^|~)')
"""A traceback's frame line or the carets under its source line: a block that starts with one is a paste
cut inside a traceback, and its indentation is the traceback's own (never taken off)."""

QUOTE_PREFIX = re.compile(r"^(?:>[ \t]?)+(?:[-*+][ \t]+)?")
"""Markdown quoting of a pasted log (``> > Exception ignored in: ...``), also of a quoted list
(``> - 2024-06-22T20:16:34.700+00:00 ERROR ...``): not part of the engine's line."""

TRACEBACK = re.compile(r"Traceback \(most recent call\b")
"""CPython's traceback header, also when a paste cuts it (``[rank0]: Traceback (most recent call las``,
https://github.com/HabanaAI/vllm-fork/issues/232)."""
IPYTHON_TRACEBACK = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception))\s+Traceback \(most recent call last\)")
"""IPython's traceback header (``RuntimeError      Traceback (most recent call last)``): the exception
type comes first, its text last (https://github.com/vllm-project/vllm/issues/17618)."""
FATAL_PYTHON = re.compile(r"^Fatal Python error: (?P<text>.+)")
IPYTHON_FRAME = re.compile(
    r"^\s*(?:File\s+)?\[?(?P<path>(?:~|/|\.{1,2}/|[A-Za-z]:\\)[^\s:\]]*\.py)(?::(?P<line>\d{1,7}))?"
    r"(?:\]\([^)\s]{0,600}\))?,?\s+in\s+(?P<func>[A-Za-z_][\w.]{0,120})\(")
"""IPython's (and Jupyter's) frame line: ``File ~/env/.../vllm/worker/model_runner.py:722, in
GPUModelRunnerBase.load_model(self)`` (IPython >= 8's ``VerboseTB``: path, ``:line``, ``, in`` and the
qualified function with its arguments) or ``~/env/.../model_runner.py in load_model(self)`` (IPython 7), each
followed by numbered source lines and an arrow (``--> 722     self.model = get_model(..``). A notebook paste
of a failed ``LLM(..)`` often starts at such a frame and is cut before the exception
(https://github.com/vllm-project/vllm/issues/10481, https://github.com/ncsoft/offsetbias/issues/2): the
frames are a traceback's all the same. The method is the qualified name's last part. JupyterLab renders the
location as a link, ``File [/usr/.../vllm/lora/worker_manager.py:195](https://../worker_manager.py#line=194),
in LRUCacheWorkerLoRAManager._apply_adapters(self, lora_requests)``
(https://github.com/vllm-project/vllm/issues/3374)."""
"""CPython's faulthandler report of a process killed by a signal (``Fatal Python error: Floating point
exception``, then ``Stack (most recent call first):``): the process crashed."""
RICH_FRAME = re.compile(
    r"^\s*(?P<path>(?:~|/|\.{1,2}/|[A-Za-z]:\\)[^\s:]*\.py):(?P<line>\d{1,7}) in"
    r"(?: (?P<func>[A-Za-z_<][\w<>.]*))?\s*$")
"""rich's traceback box (``rich.traceback.install()``, used by wrappers' CLIs): each frame is a line
``/path/vllm/entrypoints/llm.py:53 in __init__`` (rich/traceback.py:811-817@rich==15.0.0) inside the box's
``│`` borders, which a narrow box wraps before the function (``..llm.py:53 in`` / ``__init__``); its source
context follows, numbered, with ``❱`` before the line the frame ran (rich/syntax.py:738), read like IPython's
(``IPYTHON_CONTEXT``; https://github.com/vllm-project/vllm/issues/734)."""
PYTEST_FRAME = re.compile(
    r"^\s*(?P<path>[^\s:\"]+\.py):(?P<line>\d{1,7}): in (?P<func>[A-Za-z_<][\w<>.]{0,120})\s*$")
"""pytest's frame in a failure report's short entries (``e2e/test_vllm.py:108: in _build_vllm_engine``, then
the source line: ``ReprFileLocation(path, lineno + 1, f"in {entry.name}")``, written ``path:lineno: message``,
_pytest/_code/code.py:1113-1118,1520-1526@pytest==9.2.0; the default ``--tb=auto`` writes every entry but
the first and the last so): a traceback's frame, relative paths included
(https://github.com/intel/auto-round/issues/2242)."""
RICH_FUNC = re.compile(r"^\s*(?P<func>[A-Za-z_<][\w<>.]{0,120})\s*$")
"""The function of a rich frame line the box wrapped (``RICH_FRAME`` without its name)."""
IPYTHON_CONTEXT = re.compile(r"^\s*(?:\d{1,7}|\[\d{1,7}\]\([^)\s]{0,600}\))\s")
"""IPython's numbered source context around a frame's line (``    103 engine_args = EngineArgs(``): lines the
frame did not run; only the arrowed line (``--> 123 ...``) is the call (IPython's ``VerboseTB``). VS Code's
notebook output renders each number as a link to the source (``    [439](https://vscode-remote+...py:439)
executor_class = cls._get_executor_cls(..)``, ``--> [441](..) engine = cls(``;
https://github.com/vllm-project/vllm/issues/7141): the same context lines."""
FRAME = re.compile(r'^\s*File "(?P<path>[^"]*)", line (?P<line>\d+)(?P<comma>,?) in (?P<func>[\w<>.]+)')
FRAME_TAIL = re.compile(
    r'^(?:(?P<path>[^"\s]*)", line (?P<line>\d+)|\s*(?:line |ine |ne |e )?(?P<digits>\d+)),? in '
    r'(?P<func>[\w<>.]+)\s*$')
FRAME_PATH_PART = re.compile(r'^\s*"[^"\s]+\.py",?\s*$')
"""The middle of a frame re-wrapped over three lines (``File`` /
``"/workspace/vllm/worker/hpu_model_runner.py",`` / ``line 3006, in prepare_model_input``): its path alone."""
CUDA_CHECK_EXIT = re.compile(
    r"(?:^|: )Failed: (?:Cuda error )?\S{1,300}\.(?:cuh?|cc|cpp|h|hpp):\d{1,6} '[^']{1,120}'")
"""vLLM's native CUDA check (``CUDACHECK`` in csrc/custom_all_reduce.cuh:13-21@036bb685581d:
``printf("Failed: Cuda error %s:%d '%s'\\n", __FILE__, __LINE__, cudaGetErrorString(e));
exit(EXIT_FAILURE);``; older releases printed no ``Cuda error ``: ``Failed:
/workspace/csrc/custom_all_reduce.cuh:368 'invalid argument'``, each TP worker once,
https://github.com/ai-dynamo/dynamo/issues/787, relayed by a program that prefixes the child's lines):
the process exits on the spot, with no Python traceback: a crash. Searched after ``: `` too (a relay's
``VLLM: `` label)."""
CPP_EXCEPTION = re.compile(r"^Exception raised from \S+ at \S+ \(most recent call first\):")
"""torch's C++ exception report (``c10::Error``): ``Exception raised from run at .../ProcessGroupNCCL.cpp:2074
(most recent call first):`` then ``frame #N: ...`` lines; from a background thread (the NCCL watchdog) it
ends the process: a crash when nothing else in the log says more
(https://github.com/vllm-project/vllm/pull/25605)."""
C10_FRAME = re.compile(r"^\s*frame #\d{1,3}: .{1,600}\(0x[0-9a-fA-F]{4,16} in [^\s()]{1,400}\)\s*$")
"""A frame of the backtrace torch attaches to a C++ exception (``c10::Error``, after ``Exception raised from
..``: ``frame #13: torch_call_dispatcher + 0x471 (0x713e004f9351 in .../libtorch_cpu.so)``; the ``frame #``
format in torch/lib/libc10.so@torch==2.14.1, c10/util/Backtrace.cpp): a paste of only these lines is an
exception raised from C++ (https://github.com/noonghunna/club-3090/issues/617), a crash only where the header
or the watchdog says so (``CPP_EXCEPTION``)."""
NATIVE_THREAD_ROOT = re.compile(r"^\s*frame #\d{1,3}: (?:clone|clone3|start_thread)\b")
"""The root of a C++ backtrace on a thread that no Python code runs (``frame #5: clone + 0x44 (.. in
libc.so.6)``: the thread's entry, with torch's own frames above it and no interpreter frame): a ``c10::Error``
thrown there reaches no Python ``except`` and ends the process (``std::terminate``), as the NCCL watchdog's
does; a crash, not an exception (https://github.com/ray-project/ray/issues/59522)."""
NATIVE_FRAME = re.compile(
    r"^\s*(?:-{2,3}\s*|#\d{1,3}\s+)?[^\s()\[\]]{1,300}\([\w.:<>~$@,\[\] *&-]{0,400}\+0x[0-9a-fA-F]+\)"
    r"\s*\[0x[0-9a-fA-F]+\]")
"""A native (C/C++) stack frame as glibc's ``backtrace_symbols`` writes it: ``binary(symbol+0xoff) [0xaddr]``,
here with the `` --- `` a C++ runtime puts before each frame of the backtrace it attaches to an exception's
text: ``(EngineCore_DP0 pid=280) ERROR 07-15 10:48:46 core.py:1033]  --- VLLM::EngineCore(
_PyEval_EvalFrameDefault+0x8cf) [0x55fb937b7a7f]`` (https://github.com/tenstorrent/tt-inference-server/issues/4658).
The binary is the process title vLLM sets for its engine core and workers (``VLLM::EngineCore``:
``setproctitle(f"{prefix}::{name}")``, vllm/utils/system_utils.py:180-194@vllm==0.32.0). Logged at ERROR
such a backtrace is part of an exception's report: a failure, even when no Python frame or exception line
survived the paste."""
CRASH_FRAME = re.compile(
    r"^\s*(?:\d{1,3}\s+0x[0-9a-fA-F]{4,16}\s+\S+\(\)\s+\S+:\d+\s*$|#\d{1,3}\s+0x[0-9a-fA-F]{4,16} in \S"
    r"|(?:PC: )?@\s+0x[0-9a-fA-F]{4,16}\s)")
"""A frame of the stack dump a crash handler writes when its process gets a fatal signal, in the formats
of the libraries vLLM's processes load: UCX's ``ucs_debug_backtrace`` (``%2d 0x%016lx %s()  %s:%u``: ``17
0x0000000000150a7b _PyObject_MakeTpCall()  ???:0``, a Ray worker of https://github.com/vllm-project/vllm/issues/17242),
gdb/libunwind's ``#3 0x00007f.. in func ()``, and abseil's failure-signal handler that Ray installs (``PC: @
0x7f75332ba350  (unknown)``, ``    @     0x7f7586283630  (unknown)``, https://github.com/ray-project/ray/issues/43456).
Such frames, whatever follows, mean the process crashed."""
CRASH_HEADER = re.compile(
    r"\*\*\* SIG[A-Z]{2,6} received at time=|^==== backtrace \(tid:\s*\d+\) ====|^Caught signal \d+ \("
    r"|^!{3,} Segfault encountered !{3,}")
"""The first line of such a dump: abseil's ``*** SIGSEGV received at time=1709028495 on cpu 22 ***``, UCX's
``Caught signal 11 (Segmentation fault: address not mapped to object ...)`` and ``==== backtrace (tid: 1234)
====``; tvm-ffi's segfault handler (``TVM_FFI_BACKTRACE_ON_SEGFAULT``, on by default, tvm/ffi/error.h; its
banner ``!!!!!!! Segfault encountered !!!!!!!`` then ``  File "<unknown>", line 0, in <symbol>`` frames, in
libtvm_ffi.so@apache-tvm-ffi==0.1.15.post2), which every process that imports FlashInfer's tvm-ffi kernels
installs (https://github.com/vllm-project/vllm/issues/44780)."""
KUBECTL_PREFIX = re.compile(r"^\[pod/[\w.\-]{1,253}/[\w.\-]{1,63}\] ")
"""``kubectl logs --prefix`` names the pod and container before each line: ``[pod/vllm-0/vllm] INFO ...``."""
STDLIB_PREFIX = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<name>[\w.\-]{1,80}):")
"""Python's default logging format (``logging.basicConfig``: ``%(levelname)s:%(name)s:%(message)s``), used by
programs that run vLLM and by asyncio's handler: ``ERROR:asyncio:Exception in callback ...``
(https://github.com/vllm-project/vllm/issues/8100); uvicorn's ``INFO:     ...`` has no logger name and is
left as it is."""
GLOG_PREFIX = re.compile(r"^(?P<sev>[IWEF]) \d{1,10} \d{1,10}\] [\w.\-]{1,80}:\d{1,6}: ")
"""What is left of Ray's C++ (glog) prefix once its timestamp is dropped: ``[2024-02-27 18:08:15,439 E 73667
73667] logging.cc:361: *** SIGSEGV ...`` (severity, pid, thread, file:line; Ray's src/ray/util/logging.cc):
the severity letter is the line's level."""
TERMINATE = re.compile(
    r"^terminate called (?:after throwing an instance of|without an active exception|recursively)"
    r"|^libc\+\+abi: terminating\b"
    r"|^(?:Aborted|Segmentation fault|Bus error|Floating point exception|Illegal instruction)"
    r" \(core dumped\)|^Killed\s*$")
"""The process was killed by the C++ runtime or a signal: libstdc++'s verbose terminate handler writes
``terminate called after throwing an instance of 'c10::AcceleratorError'`` and aborts
(libsupc++/vterminate.cc, ``__gnu_cxx::__verbose_terminate_handler``;
https://github.com/christopherowen/spark-vllm-mxfp4-docker/issues/5 after an ``EngineDeadError``), and a
shell reports a child killed by a signal as ``Aborted (core dumped)``, ``Segmentation fault (core dumped)``
or a bare ``Killed`` (SIGKILL, often the kernel's out-of-memory killer): a crash, more specific than the
engine-death report beside it. LLVM's libc++abi (macOS) writes ``libc++abi: terminating due to uncaught
exception of type std::runtime_error: ..`` instead (libcxxabi/src/cxa_default_handlers.cpp;
https://github.com/vllm-project/vllm-metal/issues/274); a runtime error that says the device ran out of memory
(``OOM_TEXT``) is an out-of-memory failure."""
TORCH_ABORT = re.compile(
    r"Watchdog caught collective operation timeout|we are taking the entire process down")
"""torch's NCCL watchdog when a collective hangs or fails: ``[rank0]:[E601 ..ProcessGroupNCCL.cpp:616] [Rank
0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE, ..) ran for 600001
milliseconds before timing out``, then ``To avoid data inconsistency, we are taking the entire process down.``
(both strings in torch/lib/libtorch_cuda.so@torch==2.14.1): the watchdog aborts the process, a crash."""
FAULT_THREAD = re.compile(r"^(?:Current thread|Thread) 0x[0-9a-fA-F]+ \(most recent call first\):")
"""``faulthandler``'s stack dump of a crashed (or killed) process: ``Current thread 0x... (most recent call
first):`` then frames written ``File "...", line N in func`` -- no comma before ``in``, unlike a
traceback (CPython 3.11 ``faulthandler.dump_traceback``; a Ray worker's dump in
https://github.com/vllm-project/vllm/issues/16766). Such a dump is a crash, whatever its frames."""
"""The second half of a frame line a paste hard-wrapped (``or/multiproc_executor.py", line 810, in
worker_busy_loop``, https://github.com/vllm-project/vllm/issues/29360), or wrapped inside its line
number (``16, in decorate_context`` after ``File ".../_contextlib.py", line 1``,
https://github.com/vllm-project/vllm/issues/16818): it belongs to the traceback of the line before it."""
FRAME_HEAD = re.compile(r'^\s*File(?: "(?:(?P<path>[^"]*)", (?:l|li|lin|line)? ?\d*|[^"]*))?\s*$')
"""The first half of a hard-wrapped frame line (``  File "/usr/local/lib/python3.12/.../vllm/v1/execut``,
``  File ".../gpu_worker.py", line``, or ``File`` alone when a commit message re-wrapped the paste at 72
columns, https://github.com/HabanaAI/vllm-fork/pull/2018):
a traceback is being written on this stream. Cut inside the word ``line`` (``.../utils.py", l``, then ``ine
64, in initialize_model`` on a line of its own, https://github.com/vllm-project/vllm/issues/20647), its path
is kept for the tail (``FRAME_TAIL``)."""
CALL_SITES: tuple[tuple[re.Pattern[str], Phase], ...] = (
    (re.compile(r"model_runner\._dummy_(?:sampler|pooler)_run\("), Phase.WARMUP),
    (re.compile(r"\bexecutor_class\(\s*vllm_config|\bmodel_executor = executor_class\("), Phase.STARTUP),
    (re.compile(r"=\s*(?:Async)?EngineArgs\("), Phase.STARTUP),
    (re.compile(r"^\s*self\._init_cache\(\)"), Phase.PROFILING),
)
"""A traceback's source line whose call names its phase though the function is shared: the worker's
``self.model_runner._dummy_sampler_run(...)`` is the sampler warm-up in ``compile_or_warm_up_model``
(vllm/v1/worker/gpu_worker.py:1054-1058@vllm==0.32.0), while the profiling run calls
``self._dummy_sampler_run(...)`` from inside the runner (gpu_model_runner.py:6200): a strong frame.
``self.model_executor = executor_class(vllm_config)`` in ``EngineCore.__init__`` builds the executor, whose
workers start and load the model before the KV caches are set up by the separate ``_initialize_kv_caches``
(vllm/v1/engine/core.py): a traceback cut there failed in start-up
(https://github.com/vllm-project/vllm/pull/40760); older V0 engines build it the same way in
``LLMEngine.__init__`` (``self.model_executor = executor_class(model_config, cache_config, ..)``, before the
KV cache is set up; https://github.com/chu-tianxiang/vllm-gptq/issues/3). A program building the engine's
arguments (``engine_args = AsyncEngineArgs(..)``, as Xinference's ``VLLMModel.load`` does,
xinference/model/llm/vllm/core.py:622@7ecec16b6) failed before any engine existed, when the arguments were
refused: start-up (https://github.com/xorbitsai/inference/issues/2420); the same program's later call that
builds the engine (``AsyncLLMEngine.from_engine_args``) runs every start-up phase, so it names none. In the
releases of early 2024 the executor's constructor also set up the cache (``self._init_cache()``, whose first
step is the workers' ``profile_num_available_blocks``: vllm/executor/gpu_executor.py:45,79-91 and
ray_gpu_executor.py:70,213-236@4c922709b; the same in V0.2's ``LLMEngine.__init__`` and in Aphrodite's
executors, https://github.com/dphnAI/sonar/issues/421): that line, deeper than the executor's construction,
is the profiling run (the latest strong phase wins)."""

CUT_CALL_SITES: tuple[tuple[str, Phase], ...] = (
    ("self.model_executor = executor_class(vllm_config)", Phase.STARTUP),
    ("num_gpu_blocks, num_cpu_blocks, kv_cache_config = self._initialize_kv_caches(", Phase.PROFILING),)
"""A call site of ``CALL_SITES`` whose source line a paste cut inside the statement (the excerpt ends at
``self.model_executor``): a line that is a proper prefix of the statement, at least its target
(``self.model_executor``), and no other statement, is that statement (vllm/v1/engine/core.py:144@vllm==0.32.0,
``EngineCore.__init__``; https://github.com/vllm-project/vllm/pull/39878). ``self.model_executor.x(..)`` is
not a prefix of it, so the executor's later calls are never read as its construction. The KV caches' set-up
in the releases of 2025 (``num_gpu_blocks, num_cpu_blocks, kv_cache_config =``, continued on the next line
with ``self._initialize_kv_caches(vllm_config)``, vllm/v1/engine/core.py:82-83@95af70093fc0), cut inside its
targets (``num_gpu_blocks, num_cpu_blocks, kv_cache``,
https://github.com/tenstorrent/tt-inference-server/issues/2995), is that call, placed at its first step, the
profiling run (as ``_initialize_kv_caches`` in ``NAMED_FRAMES``)."""
CUT_SITE_MIN = len("self.model_executor")
CUT_CALL = re.compile(r"\.(_?[a-z]\w{9,})$")
"""A source line that ends inside a method's name (a paste, or a search index, cut it there:
``kv_cache_config = self._initialize_kv_``): the frame function it begins, when only one begins so."""

RPC_CALL = re.compile(r'(?:collective_rpc|_run_workers|run_method)\(\s*["\'](?P<func>\w+)["\']')
"""A worker method called by name in a traceback's source line: ``self.collective_rpc("load_model")``
(vllm/executor/uniproc_executor.py:55@vllm==0.32.0; the fork's
``_run_workers("determine_num_available_blocks")``)."""
NUMPY_STACK = "A module that was compiled using NumPy 1.x cannot be run in"
"""NumPy 2's refusal of a module built against NumPy 1.x: it writes this message and the importing stack
(``traceback.format_stack``, headed ``Traceback (most recent call last):``, with no exception line) to
stderr, then raises an ImportError that the importing module catches (torch: ``UserWarning: Failed to
initialize NumPy``) and goes on (numpy/core/_multiarray_umath.py:12-45@numpy==2.3.5): the stack after it is
a warning's, never the failure (https://github.com/vllm-project/vllm/issues/5594)."""
UNRAISABLE = re.compile(r"^Exception ignored (?:in|on)\b")
"""CPython's report of an exception it could not raise (a destructor, an atexit hook, a thread at
interpreter exit: ``PyErr_WriteUnraisable``, Python/errors.c): the program goes on (or has already
finished), so the traceback after it is noise, never the engine's failure."""
SHUTDOWN_NOISE = re.compile(r"Python is likely shutting down|sys\.meta_path is None|interpreter shutdown")
"""Exception texts that only appear while the interpreter tears down (CPython's import machinery at
exit): a traceback ending in one is teardown noise (https://github.com/HabanaAI/vllm-fork/pull/1487)."""
SOCKET_CLOSED = re.compile(r"ZMQError: Operation not supported\s*$")
"""pyzmq's async socket refuses to poll once it is closed (``if self.closed: raise ZMQError(ENOTSUP)``,
zmq/_future.py:384-386@pyzmq==27.3.0): the engine client's loops meeting it have met the client's own close,
which follows whatever made the client close (V0's ``Engine process failed to start`` closing the
``MQLLMEngineClient`` whose output loop was already running, https://github.com/vllm-project/vllm/issues/11232;
an orderly stop): the close's echo, never the failure."""
ORPHAN_TASK_ERROR = re.compile(r"^(?:Task|Future) exception was never retrieved$")
"""asyncio's report of a task whose exception nobody awaited, written when the task object is collected
(``Future.__del__`` -> ``call_exception_handler``, asyncio/futures.py:91-105@CPython 3.11.7), its traceback
after it. After an orderly stop (``ORDERLY_STOP``) it is a background task that met the closed engine client
as the server shut down: V0's periodic ``_force_log`` stats task on the closed RPC socket (``ZMQError:
Operation not supported``, https://github.com/JackLingjie/arean_hard_eval), teardown noise."""
TEARDOWN_FRAMES = frozenset({"__del__", "del", "_exit_function", "shutdown", "close", "cleanup", "teardown",
                             "__exit__", "_python_exit", "_run_finalizers", "_exitfunc"})
"""Functions that run only while objects or the interpreter are torn down; a traceback made only of
them (and no engine-phase frame) after the server served is shutdown noise."""
EXCEPTION = re.compile(
    r"^(?P<type>(?:[A-Za-z_]\w*\.|[a-z_]\w*\. )*"
    r"(?:(?:[A-Za-z_]\w*)?(?:Error|Exception|Failure)|KeyboardInterrupt|SystemExit))"
    r"(?::\s?(?P<text>.*))?$"
)
"""The last line of a CPython traceback: ``AssertionError: ...``, ``torch.OutOfMemoryError: ...``; a module of
its path may be followed by a blank a paste put there (``pydantic_core._pydantic_core. ValidationError: ..``,
https://github.com/MiniMax-AI/MiniMax-M2/issues/40)."""
EXCEPTION_REPR = re.compile(
    r"^(?P<type>(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception))\((?P<q>['\"]?)(?P<text>.*)(?P=q),?\)$")
"""An exception's ``repr`` as a whole ERROR line: V0's multiprocessing engine ends its loop with
``logger.exception(repr(e))`` (``MQLLMEngine.start``, vllm/engine/multiprocessing/engine.py:158-166
@95af70093fc0), so ``ERROR ... engine.py:166] TypeError("'NoneType' object is not subscriptable")`` is the
engine's failure, and its traceback follows (or the paste was cut there)."""
V0_FATAL_LOGGERS = frozenset({"engine.py", "async_llm_engine.py"})
"""V0's engine modules whose every ERROR line reports the engine's end: the multiprocessing engine's
``logger.exception(repr(e))`` when its loop dies and ``logger.exception(e)`` when its process fails
(vllm/engine/multiprocessing/engine.py:166,472), the async engine's ``Engine background task failed`` and
``Engine iteration timed out`` (vllm/engine/async_llm_engine.py:69,887) @95af70093fc0. A paste made only of
such lines (an exception whose message is a tensor, printed over many lines) shows the engine's failure. The
async engine's loop is started for requests (``start_background_loop`` from ``add_request`` when it is not
running, vllm/engine/async_llm_engine.py:933-953@95af70093fc0): its end is a serving failure. So is the end
the multiprocessing engine's ``start`` reports: it runs only once its constructor has built the engine
(profiling and warm-up included), its start-up loop only answering the client's readiness question, so what
it logs (``logger.exception(repr(e))``, vllm/engine/multiprocessing/engine.py:131-139@1a3928aba2df, :166
@95af70093fc0) came out of the engine loop; its process's own handler, which also reports a failed
construction, sits at the file's end (``run_mp_engine``, :472@95af70093fc0). A logger line number below
``V0_MQ_START_HANDLER_BELOW`` is ``start``'s (https://github.com/vllm-project/vllm/issues/15078, at :140)."""
V0_MQ_START_HANDLER_BELOW = 300
REQUEST_ERROR = re.compile(
    r"Exception in ASGI application|Error in preprocessing prompt inputs"
    r"|Error in (?:chat completion|completion|responses?) stream generator|NIXL transfer failure: "
    r"|\] Method execution failed: ")
"""A request's own error, logged by the server that answered it with an error and kept serving:
uvicorn's ``ERROR:    Exception in ASGI application`` (after a ``500 Internal Server Error`` access line,
https://github.com/QwenLM/Qwen3-VL/issues/970) and the OpenAI front end's ``logger.exception`` around one
request (``Error in preprocessing prompt inputs``, ``Error in chat completion stream generator.``,
vllm/entrypoints/openai/serving_chat.py, https://github.com/vllm-project/vllm/issues/16918), and the NIXL KV
connector's report of a handshake or transfer with a remote engine that failed (``_log_failure``: ``NIXL
transfer failure: %s | Context: %s``, with the exception's traceback, vllm/distributed/kv_transfer/
kv_connector/v1/nixl/base_worker.py:1227-1266@vllm==0.32.0): the connector records it and the requests
concerned are recomputed or freed while the engine serves on (https://github.com/vllm-project/vllm/pull/41863);
ms-swift's rollout server running one call the trainer sent to its engine (``async_llm_worker`` catches each
call's exception, logs ``Method execution failed: ..`` and answers that call with None, then reads the next,
swift/llm/infer/rollout.py@0756cb6ffdcc; a later release logs the traceback with it, ``[ERROR:swift] Method
execution failed: collective_rpc``, https://github.com/modelscope/ms-swift/issues/6935).
The traceback after one is the request's, not the engine's: a failure only if its exception says the engine
died."""

HANDLED_ERROR = re.compile(r"\bFailed to load plugin \S+$")
"""A start-up step that catches an exception, logs it with its traceback at ERROR and goes on: vLLM's plugin
loader, ``logger.exception("Failed to load plugin %s", plugin.name)`` for one entry point that failed to
import, then the next (``load_plugins_by_group``, vllm/plugins/__init__.py:66-74@vllm==0.32.0). It runs
while an engine starts (``load_general_plugins`` from ``EngineArgs``, ``EngineCore.__init__`` and the worker's
start, vllm/engine/arg_utils.py:906, vllm/v1/engine/core.py:129, vllm/v1/worker/worker_base.py:276
@vllm==0.32.0): the traceback after it is handled, not the engine's failure (a failure the missing plugin
causes later, ``Failed to infer device type`` with no platform, is reported on its own); the line shows
start-up."""

CHAINED = re.compile(r"^(?:The above exception was the direct cause|During handling of the above exception)")
PROCESS_DIED = re.compile(r"^Process (?P<name>[\w\-:]+):$")
"""``Process SpawnProcess-1:`` / ``Process EngineCore_DP0:``: CPython's multiprocessing prints this
before the traceback of a child process that died (a bare, prefix-less engine traceback)."""

FATAL = re.compile(r"FATAL ERROR :: MODULE:(?P<module>\w+)\s*(?P<text>.*)")
SYNAPSE = re.compile(
    r"synStatus[= ](?:synStatus\s*)?(?P<code>\d+)\s*\[(?P<text>[^\]]*)\]|Graph compile failed"
)
"""The Habana PyTorch bridge raises a Synapse call's failure as ``RuntimeError: synStatus=26 [Generic failure]
Device acquire failed.`` (``synStatus`` and its code, the status's name in brackets, then what failed): a
status of the card's runtime, never one request's error. So an exception line carrying it is a failure even
when no ``Traceback`` follows (a bare exception line otherwise waits for its traceback): ``Device acquire
failed`` and ``synStatus=8 [Device not found]`` name start-up (``MESSAGE_PHASES``); any other status fails in
the phase the log had reached (a launch failing while serving). Pastes of the bare line:
https://github.com/opea-project/GenAIComps/issues/1038 (in the corpus), and users' notes quoting
``hcl_device_control_factory.cpp:84(initDevice): ... == hcclSuccess failed.`` then that line."""
SYNAPSE_DFA = re.compile(r"Synapse detected a device critical error that requires a restart")
"""Synapse's device-fail analysis (DFA) kill message, printed by each device's process before Synapse kills it
(``DFA_KILL_MSG = "Synapse detected a device critical error that requires a restart. Killing process in"`` in
Synapse's device_fail_analysis header, then ``5 seconds (hl: N) HH:MM:SS [No progress error]``; the header's
``DfaErrorCode`` lists the causes: TDR/no-progress, razwi, MMU page fault, critical HW/firmware errors). The
process is killed whatever phase it is in: a crash of the card, in the phase the log had reached
(https://github.com/HabanaAI/vllm-fork/issues/2134: 8 cards, one line each, between a server's access
lines)."""
OOM_ALLOC = re.compile(r"PT_DEVMEM Allocation failed for size::(\d+)(?: \((\d+)\)MB)?")
OOM_DEFRAG = re.compile(r"PT_DEVMEM OOM: No enough memory for defragment")
TORCH_OOM = re.compile(r"\b(?:CUDA|HIP|XPU|NPU|HPU|MPS) out of memory\. Tried to allocate"
                       r"|memory allocation failed with OOM on device \d")
"""torch's caching allocator's own out-of-memory text (``CUDA out of memory. Tried to allocate %s. GPU %d has
a total capacity of ..``, c10/cuda/CUDACachingAllocator.cpp@torch==2.14.1; the NPU's and XPU's allocators copy
it): written only into the ``OutOfMemoryError`` it raises, so on a bare line (type and header stripped) it is
that error; and the warning the same allocator writes on its way to raising it (``[W830 12:05:56.43
CUDACachingAllocator.cpp:3933] memory allocation failed with OOM on device 0 while trying to allocate ..``,
the string in torch/lib/libc10_cuda.so@torch==2.14.1; https://github.com/vllm-project/vllm-omni/issues/6843)."""
OOM_TEXT = re.compile(
    r"out of memory|OutOfMemoryError|Device out of memory"
    r"|(?:UR|ZE)_RESULT_ERROR_OUT_OF_(?:DEVICE_MEMORY|HOST_MEMORY|RESOURCES)|\bRESOURCE_EXHAUSTED\b"
    r"|Memory_Allocation_Failure\(EL0004\)|kIOGPUCommandBufferCallbackErrorOutOfMemory",
    re.IGNORECASE)
"""Out-of-memory texts; Intel GPUs' runtimes report it as a result code (``level_zero backend failed with
error: 40 (UR_RESULT_ERROR_OUT_OF_RESOURCES)``: the Unified Runtime's and Level Zero's out-of-memory results,
ur_api.h / ze_api.h; https://github.com/intel/llm-scaler/issues/348); XLA's status for an allocation the TPU
could not make (``RESOURCE_EXHAUSTED: Error loading program: Attempting to reserve 4.55G at the bottom of
memory. That was not possible. There are 905.37M free``, https://github.com/vllm-project/vllm/issues/16521);
Ascend CANN's error code for device memory it could not allocate (``Memory_Allocation_Failure(EL0004): Failed
to allocate memory.``, relayed by torch_npu's ``PTA call acl api failed``,
https://github.com/vllm-project/vllm-omni/issues/705); Apple's Metal driver failing a command buffer for
want of GPU memory (``[METAL] Command buffer execution failed: Insufficient Memory
(00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)``, the IOGPU status MLX raises as std::runtime_error;
https://github.com/vllm-project/vllm-metal/issues/274)."""

KV_SHORTFALL = re.compile(
    r"No available memory for the cache blocks|larger than the available KV cache memory"
    r"|larger than the maximum number of tokens that can be stored in KV cache"
    r"|KV cache is needed, which is larger than the available"
    r"|To serve at least one request with the models?'s max seq"
    r"|max seq len \(\d+\) is larger than the maximum number of tokens")
"""The KV cache does not fit in what the memory budget left: a memory failure (its fix is the
utilization or the context length), raised while the KV cache is sized, after profiling:
``raise_if_cache_size_invalid`` (vllm/worker/hpu_worker.py:535-548, worker.py:560-577@95af70093fc0),
``_check_enough_kv_cache_memory`` (vllm/v1/core/kv_cache_utils.py:1003-1040@vllm==0.32.0: ``To serve at
least one request with the models's max seq len (%d), (%.2f GiB KV cache is needed, which is larger than the
available KV cache memory (%.2f GiB)``; older releases' ``check_enough_kv_cache_memory`` wrote the same);
each wording is matched by a part that a paste's hard wrap leaves on one line (the message's first words, or
the middle of its sentence)."""

START_SHORTFALL = re.compile(r"on startup is less than desired GPU memory utilization")
"""The device has less free memory than the utilization asks for, checked when a worker initialises its
device, before any weight (``request_memory``, vllm/v1/worker/utils.py:761-770, called by
``init_device``, vllm/v1/worker/gpu_worker.py:436,535@vllm==0.32.0): a memory failure at start-up."""

ACCESS_LOG = re.compile(r' - "(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH) \S* HTTP/[\d.]+" \d{3}')
"""The API server's access log (``127.0.0.1:41774 - "POST /v1/chat/completions HTTP/1.1" 200 OK``,
uvicorn/protocols/http/httptools_impl.py:481, h11_impl.py:474@uvicorn==0.55.0): written only once the
server answers requests, whatever the status: the engine is serving."""

REQUEST_RECORD = re.compile(
    r"Received request \S+: (?:prompt|params)|Finished request \S+\.|Aborted request(?:\(s\))? \S+"
    r"|', params: (?:SamplingParams|PoolingParams|BeamSearchParams)\(")
"""A request received, finished or aborted (the request logger's ``Received request %s: prompt: %r, ..``, V0's
``Finished request %s.``, ``Aborted request %s.``, V1's ``Aborted request(s) %s.``): only a serving engine has
requests. A paste cut inside the record's prompt keeps its tail, ``..', params: SamplingParams(..``
(``prompt: %r, params: %s``, vllm/entrypoints/logger.py:43-50@95af70093fc0)."""

REQUEST_ID = re.compile(r"\b(?:chat)?cmpl-[0-9a-f]{8}")
"""A request's id as the OpenAI server makes it (``chatcmpl-`` or ``cmpl-`` and a uuid's hex,
vllm/entrypoints/openai/chat_completion/serving.py:315, completion/protocol.py:683,
chat_completion/protocol.py:135@vllm==0.32.0): a line that names one, whoever writes it, is about a request
the server accepted (the scheduler's ``prefetch started for request %s``, LMCache's ``Lookup %s: ..``,
https://github.com/vllm-project/vllm/issues/41784): the engine is serving. Read after every line that says
more (a preemption, a request's error)."""

SERVING_DEATH = re.compile(
    r"(?:Stage)?EngineCore(?:Proc)? encountered (?:a fatal error|an issue)|Engine loop has died"
    r"|Engine loop is not running"
    r"|Engine process \(pid \d+\) died|MQLLMEngine is already dead|Engine background task failed"
    r"|Exception in callback _log_task_completion|Task finished unexpectedly"
    r"|AsyncLLM output_handler failed|Background loop is stopped|Background loop has errored already"
    r"|(?:Async|MQ)LLMEngine (?:has failed|is already dead), terminating server process")
"""An engine that dies after it started, i.e. while serving: V1 ``EngineCore encountered a fatal error.``
(logged only once the engine core exists, vllm/v1/engine/core.py:1509-1512) and the client's
``EngineDeadError`` text (vllm/v1/engine/exceptions.py:12-17) @vllm==0.32.0; V0's multiprocessing engine:
``Engine loop is not running`` (vllm/engine/multiprocessing/__init__.py:184), ``Engine process (pid %d) died``
(client.py:164,182, its heartbeat loop runs only while serving), ``Engine background task failed``
(async_llm_engine.py:69) @95af70093fc0, and asyncio's report of that callback raising
(``Exception in callback _log_task_completion(..)``: the callback raises AsyncEngineDeadError once the
engine loop's task has failed; https://github.com/vllm-project/vllm/pull/6869); V1's ``AsyncLLM
output_handler failed.`` (the front end's loop over the engine's outputs; its error goes to every request,
vllm/v1/engine/async_llm.py:906@vllm==0.32.0); ``Engine
loop has died`` and ``MQLLMEngine is already dead, terminating server process`` (older releases' client and
launcher, seen in https://github.com/vllm-project/vllm/issues/10024 and /issues/13939); V0's
``AsyncEngineDeadError("Background loop is stopped.")`` (``check_health`` once the loop that was started
has stopped, async_llm_engine.py:1230) and ``Background loop has errored already.``
(``start_background_loop`` after the loop failed, :747) and ``AsyncEngineDeadError("Task finished
unexpectedly. ..")``, which the engine loop task's done-callback raises right after logging ``Engine
background task failed`` (``_log_task_completion``, :69-74; 0.2's ``_raise_exception_on_finish`` raised the
same text)
@95af70093fc0: the background loop runs only once
the engine serves (the RPC server's health check relays the first,
https://github.com/QwenLM/Qwen3-VL/issues/563). ``Background loop is not running`` (:722, :956) is said
also of a loop that never started: an engine death, no phase. The V0 server's launcher, when a request's
handler raised and the engine has errored and stopped (``engine.errored and not engine.is_running``), logs
``AsyncLLMEngine has failed, terminating server process``, and ``AsyncLLMEngine`` / ``MQLLMEngine is already
dead, terminating server process`` for the dead-engine errors (vllm/entrypoints/launcher.py:81-89,100-116
@3c776dcefb3f, the fork's last commit with them): the engine died while it served a request
(https://github.com/vllm-project/vllm/issues/8952)."""

STEP_DUMP = re.compile(r"Dumping input data for V1 LLM engine|Dumping scheduler output for model execution")
"""A model step that raised, dumped by ``log_error_detail`` around each serving step's execute_model
(vllm/v1/engine/core.py:562-575, vllm/logging_utils/dump_input.py:73,79@vllm==0.32.0): an exception
while serving, whatever the traceback after it shows. Every record that module logs comes from that dump
(``_dump_engine_exception``, dump_input.py:67-83, its only logger calls), so an ERROR line logged from
``dump_input.py`` says the same even when a paste kept only the dump's rows
(https://github.com/stepfun-ai/Step-Audio2/issues/72)."""

FAILED_EXECUTION = re.compile(
    r"Writing input of failed execution to|Failed to pickle inputs of failed execution"
    r"|Error in model execution\b")
"""V0's model runner when a model step raised: ``dump_input_when_exception`` around ``execute_model`` logs
``Writing input of failed execution to %s...`` and, when the inputs do not pickle, ``Failed to pickle inputs
of failed execution: %s``, then re-raises the error as ``Error in model execution[ (input dumped to ..)]: ..``
(vllm/worker/model_runner_base.py:110-156, used at vllm/worker/model_runner.py:1650@4797dad3ec48, the fork's
last commit before it was removed). A failure; ``execute_model`` runs the profiling pass's dummy batch
(model_runner.py:1349@4797dad3ec48) as well as every serving step, so the phase it names is weak (serving
unless a phase line says otherwise), like an ``execute_model`` frame."""

ENGINE_DEATH = re.compile(
    r"(?:Stage)?EngineCore(?:Proc)? failed to start|Engine core initialization failed"
    r"|WorkerProc failed to start|WorkerProc initialization failed|Worker proc \S+ died unexpectedly"
    r"|Engine process failed to start|Worker \S+ pid \d+ died, exit code|StageEngineCoreProc died during \w+"
    r"|[Gg]ot fatal signal from worker processes"
    r"|AsyncEngineDeadError|Background loop has errored already|EngineDeadError"
    r"|Engine core proc(?:ess)? \S+ died unexpectedly|engine core exited unexpectedly"
    r"|Process \S+ \(PID: \d+\) died with exit code|RayWorkerProc rank=\[?[\d, ]{1,40}\]? died unexpectedly"
    r"|\bexited with code [1-9]\d*\b|Main process exited, code=(?:exited, status=[1-9]|killed|dumped)|"
    + SERVING_DEATH.pattern
)
"""Engine deaths, each a logger call or exception text: V1 ``EngineCore failed to start.``
(vllm/v1/engine/core.py:1510), ``EngineCore encountered a fatal error.`` (:1512), ``Engine core
initialization failed`` (vllm/v1/engine/utils.py:1432), ``WorkerProc failed to start.``
(vllm/v1/executor/multiproc_executor.py:953), ``Worker proc %s died unexpectedly`` (:316), all
@vllm==0.32.0; early V1's ``Got fatal signal from worker processes, shutting down.`` and ``MulitprocExecutor
got fatal signal from worker processes, ..`` (the client's and the executor's SIGUSR1 handlers when a worker
died, vllm/v1/engine/core_client.py:148, vllm/v1/executor/multiproc_executor.py:46@1543914c0); V0 ``Engine
process failed to start`` (vllm/entrypoints/openai/api_server.py:302) and
``Worker %s pid %s died, exit code: %s`` (vllm/executor/multiproc_worker_utils.py:123), @95af70093fc0; the
front end's and the client's watch on the engine core processes: ``Engine core process %s died
unexpectedly.``, ``Process %s (PID: %s) died with exit code %s`` (vllm/v1/utils.py:586-593), ``[shutdown]
MPClient: engine core exited unexpectedly`` (vllm/v1/engine/core_client.py:818), ``RayWorkerProc rank=%s died
unexpectedly`` (vllm/v1/executor/ray_executor_v2.py:516-523, its ``%s`` a list of the dead ranks:
``rank=[3]``) @vllm==0.32.0 and the older ``Engine core proc %s died unexpectedly, shutting down client.``
(vllm/v1/engine/core_client.py:536@bccc43c0332c; as a log's last line, the program's exit:
``EXIT_MONITOR_DEATH``); and the
supervisor's report of the engine's process ending with an error: docker compose's ``vllm-1 exited with code
137``, systemd's ``Main process exited, code=killed, status=9/KILL``. vllm-omni's stage engine core says the
same of itself (``StageEngineCoreProc failed to start.`` / ``.. encountered a fatal error.``, run_stage_core's
handler, vllm_omni/engine/stage_engine_core_proc.py@7e6251d52ee5; https://github.com/vllm-project/vllm-omni/
pull/5478), and its front end raises ``StageEngineCoreProc died during HELLO|READY (exit code N)`` when the
stage's process exits before its handshake answers (``_recv``, the same file in an earlier revision, whose
``_perform_handshake`` waits for HELLO then READY; https://github.com/vllm-project/vllm-omni/issues/3308)."""

EXIT_MONITOR_DEATH = "died unexpectedly, shutting down client"
"""Early V1's front end watched its engine core processes from a thread and, when one ended, logged ``Engine
core proc %s died unexpectedly, shutting down client.`` (vllm/v1/engine/core_client.py:536@bccc43c0332c)
whatever ended it, the program's own exit included: an offline script that had finished printed it as its last
line (https://github.com/vllm-project/vllm/issues/23517, /issues/31681: "the program run success, last raise
error"). vLLM now asks first whether the client itself is being finalized and says nothing then
(``monitor_engine_cores``, vllm/v1/engine/core_client.py:808-815@vllm==0.32.0). As a log's last line, with no
failure before it and no call into the dead engine after it, it is the program's exit, not a failure."""

PROGRESS_PERCENT = re.compile(r"(\d{1,3})%\|")
"""A tqdm bar's percentage (``Processed prompts:  87%|####  | 1827/2099``): below 100 the call it counts was
still running (``EXIT_MONITOR_DEATH``)."""

ORDERLY_STOP = re.compile(
    r"^INFO: +Shutting down\s*$|Waiting for application shutdown\.|Application shutdown complete\."
    r"|Finished server process \[\d+\]|Engine is gracefully shutting down\.|\[shutdown\] "
    r"|Shutting down FastAPI HTTP server"
    r"|^Shutdown initiated \(timeout=\d+\)|^Shutdown complete$|^Stopping [\w.@\-]+\.service"
    r"|^Stopped [\w .@\-]+\.$")
"""A stop asked for: uvicorn's shutdown (uvicorn/server.py:282,313,320, lifespan/on.py:67,76, ``Finished
server process [%d]``, server.py:104@uvicorn==0.55.0), V0's engine loop cancelled (``_log_task_completion``:
``Engine is gracefully shutting down.`` on ``CancelledError``, vllm/engine/async_llm_engine.py, beside :69
@95af70093fc0), the launcher's ``Shutting down FastAPI HTTP server.`` when its server task is cancelled
(vllm/entrypoints/launcher.py ``serve_http``@95af70093fc0; ``[shutdown] API server: shutting down FastAPI HTTP
server`` later), vLLM's ``[shutdown]`` steps (vllm/entrypoints/launchers/launcher.py:254-304,
vllm/v1/engine/core.py:1636-1667@vllm==0.32.0) and systemd's ``Stopping x.service...``. After one, the
processes that get the stop's signal report it (``SIGNAL_EXIT``): not a failure. The same lines follow an
engine that died (the launcher stops the server then), but that failure was reported before them and stays."""
CLIENT_SHUTDOWN = re.compile(r"\[shutdown\] MPClient: start timeout=")
"""The front end's engine client shutting down (``MPClient.shutdown``, vllm/v1/engine/core_client.py:766-777
@vllm==0.32.0): its resources' cleanup marks the engine dead (``engine_dead = True``, :509-512), so an output
handler still waiting raises ``EngineDeadError`` (``_format_exception``, :779-783; ``AsyncLLM output_handler
failed.``, vllm/v1/engine/async_llm.py:906) though nothing died: the stop's own echo (a SIGTERM'd server's
log, https://github.com/sostrowsk/dgx-spark-local-llm/blob/a30decd7f6de661dac6971b785159d92b2d3d2dd/vllm.log).
An engine that did die says so before it (``engine core exited unexpectedly``, :818, ``ENGINE_DEATH``), and
that failure stays."""
SIGNAL_EXIT = re.compile(
    r"exit ?code:? ?-(?:2|9|15)\b|died with exit code -(?:2|9|15)\b|\bexited with code 1(?:30|37|43)\b"
    r"|code=killed, status=(?:2/INT|9/KILL|15/TERM)")
"""A process ended by SIGINT, SIGKILL or SIGTERM: multiprocessing's negative exit code (V0's ``Worker %s pid
%s died, exit code: %s``, vllm/executor/multiproc_worker_utils.py:120-123@95af70093fc0, written for every
worker with a non-zero exit code once one stops, then ``Killing local vLLM worker processes``; V1's ``Process
%s (PID: %s) died with exit code %s``, vllm/v1/utils.py:586-593@vllm==0.32.0), a shell's or docker's 128+N and
systemd's ``code=killed, status=15/TERM``. After an orderly stop (``ORDERLY_STOP``) these are the stop itself
(https://github.com/instructlab/instructlab/pull/2093: SIGINT to the server, ``died, exit code: -15``)."""

START_INTERRUPTED = re.compile(r"^(?:KeyboardInterrupt: terminated|SystemExit: 15)\s*$")
"""SIGTERM ending a start-up before the server ran: the API server's handler installed for initialization
only, ``raise KeyboardInterrupt("terminated")`` ("Interrupt initialization if SIGTERM arrives before uvicorn
installs its own signal handlers. Once uvicorn is running it replaces this.", ``run_server``,
vllm/entrypoints/launchers/api_server/entry.py:165-174@vllm==0.32.0; ``signal_handler`` in
vllm/entrypoints/openai/api_server.py in 0.9-0.10, as the corpus's K127 logs show), and Ray's
``sigterm_handler`` -> ``sys.exit(signum)``, ``SystemExit: 15`` (ray/_private/worker.py, the frames of
https://github.com/ThomasVuNguyen/agent-distillation/blob/4e66be60000bb73ef8dd05b0b9fd97d57d417311/vllm.log).
Before any serving line and with no stop asked for (``ORDERLY_STOP``, a Ctrl-C), the engine never came up:
a supervisor's probe or timeout killed a start-up that had not finished (a Kubernetes liveness probe during
weight loading,
https://github.com/imroc/tke-guide/blob/80449bd6d5d218bfdc1f444f1a5f00de18f261a9/docs/ai/faq.md), a failure of
that start-up (the corpus's collectors label all four such logs so; corpus README, round 46)."""

RAY_DEATH = re.compile(r"A worker died or was killed while execut|Failed to register worker \S+ to Raylet"
                       r"|The actor died unexpectedly before finishing"
                       r"|The actor died because of an error raised in its creation task"
                       r"|Worker exits because there was an exception in the initiali[sz]ation method")
"""Ray's reports of a worker process that died or never started (``(raylet) A worker died or was killed
while executing a task by an unexpected system error``, https://github.com/gpustack/gpustack/issues/2415;
``core_worker.cc:215: Failed to register worker ... to Raylet``, https://github.com/vllm-project/vllm/issues/6090;
``ray.exceptions.RayActorError: The actor died unexpectedly before finishing this task``, Ray's
python/ray/exceptions.py; an actor whose constructor raised, ``ActorDiedError: The actor died because of an
error raised in its creation task, ray::LLMRayActor.__init__()``: the actor hosting the engine is gone,
https://github.com/OpenRLHF/OpenRLHF/issues/358; the actor's own core worker exiting for it, ``core_worker.cc:
Exit signal received, .. exit_type=USER_ERROR, detail=Worker exits because there was an exception in the
initialization method (e.g., __init__)``, https://github.com/vllm-project/vllm/issues/6607). The phase stays
what the log shows: vLLM's worker actors are built at start-up, but an RL framework's actor builds the
whole engine in its constructor (OpenRLHF's ``LLMRayActor.__init__`` runs ``LLM(..)``: start-up to graph
capture)."""

RAY_TASK_FAILED = re.compile(
    r"(?:RayTaskError\((?P<type>[A-Za-z_][\w.]*)\)"
    r"|Unhandled error \(suppress with '?RAY_IGNORE_UNHANDLED_ERRORS=1'?\))"
    r": (?:\x1b\[\d+m|\^\[\[\d+m|\ufffd\[\d+m|\[\d+m)?ray::(?P<actor>\w+)\.(?P<method>\w+)\(\)")
"""A Ray task or actor method that raised, as Ray reports it: the exception re-raised in the caller
(``ray.exceptions.RayTaskError(AssertionError): ray::WorkerDict.actor_rollout_generate_sequences() (pid=..``,
``RayTaskError.__str__``, python/ray/exceptions.py), or an error nobody retrieved, logged when its object
reference is dropped (``Unhandled error (suppress with 'RAY_IGNORE_UNHANDLED_ERRORS=1'): ray::..``,
``_unhandled_error_handler``, python/ray/_private/worker.py @daf610416eb7): a failure of the process that
ran that method, of the wrapped exception's kind, the method named as its outermost frame would be (verl's
``WorkerDict`` binds each role's methods as ``<role>_<method>``, ``actor_rollout_generate_sequences`` for
the rollout's ``generate_sequences``, verl/single_controller/ray/base.py, verl/workers/fsdp_workers.py
@b38119fa248; https://github.com/volcengine/verl/issues/584, /issues/4057)."""

RELAYED_WORKER_ERROR = re.compile(
    r"Worker failed with error '(?P<type>(?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception)): ?(?P<text>[^']*)")
"""The executor relaying a worker's exception as its own: ``RuntimeError: Worker failed with error '%s',
please check the stack trace above for the root cause`` (``get_response`` of the multiproc executor's RPC,
vllm/v1/executor/multiproc_executor.py:445@vllm==0.32.0): the kind is the worker's exception's
(https://github.com/vllm-project/vllm/issues/40778: ``'AssertionError: auto_functionalized was not
removed'``)."""
DEVICE_RUNTIME_ERROR = re.compile(r"^(?:torch\.)?AcceleratorError: |^RuntimeError: (?:CUDA|HIP|XPU) error: "
                                  r"|^RuntimeError: \S{0,200} NPU function error: ")
"""A device runtime's failed call as torch raises it (``torch.AcceleratorError: CUDA error: ...`` since torch
2.8, ``RuntimeError: CUDA error: ...`` before; HIP and XPU the same, c10's ``C10_CUDA_CHECK``): the device's
context is unusable after it, so even on a line of its own, with no traceback pasted, it is the process's
failure (https://github.com/vllm-project/vllm/issues/32895: ``HIP error: no kernel image is available``);
torch_npu's failed CANN call the same (``RuntimeError: npu_moe_distribute_dispatch_v2:.. NPU function error:
call aclnnMoeDistributeDispatchV3 failed``, https://github.com/vllm-project/vllm-ascend/pull/5287)."""
UTILITY_FAILED = re.compile(r"Invocation of \w+ method failed")
"""The engine core's busy loop reporting a client's utility call that raised (``logger.exception("Invocation
of %s method failed", name)`` in ``_invoke_utility_method``, vllm/v1/engine/core.py:1750@vllm==0.32.0): its
traceback follows (or the paste cut it); the call was made of a built engine (``UTILITY_CALL``), and the
corpus counts the failed call as the engine's failure (https://github.com/modelscope/ms-swift/issues/6866)."""
WORKER_BUSY_LOOP_ERROR = re.compile(r"WorkerProc hit an exception\.")
"""A V1 worker's RPC raising in its busy loop (``logger.exception("WorkerProc hit an exception.")``,
``_execute_worker_rpc``, vllm/v1/executor/multiproc_executor.py:1063@vllm==0.32.0): the worker's traceback
follows; a paste cut right after the line is the worker's failure all the same
(https://github.com/ai-dynamo/nixl/issues/699)."""
CLOUDWATCH_CSV = re.compile(r'^\d{10,13},(?:"(?P<quoted>.*)"|(?P<plain>.*))$')
"""A CloudWatch log export in CSV: ``<epoch ms>,`` then the message, quoted (inner quotes doubled) when it has
commas or quotes, ANSI escapes written ``#033[..m`` and a carriage return ``#015``
(https://github.com/aws-samples/amazon-sagemaker-generativeai/issues/111)."""
CLOUDWATCH_ESCAPES = re.compile(r"#033\[[0-9;]*m|#015$")
"""Control characters written as ``#`` and three octal digits, as rsyslog escapes them on receipt (and so a
CloudWatch export of a syslog stream): the colour codes around a worker's prefix and the carriage return
(``#033[1;36m(VllmWorkerProcess pid=382)#033[0;0m ERROR ..#015``, https://github.com/vllm-project/vllm/issues/
20855)."""
WORKER_METHOD_CUT = re.compile(r"Error executing m(?:e(?:t(?:h(?:od?)?)?)?)?\s*$")
"""``Error executing method {method!r}.`` (``WORKER_METHOD``) cut by the paste before the method's name: the
worker's failure all the same (https://github.com/vllm-project/vllm/issues/15598)."""
KILLED_BY_SIGNAL = re.compile(r"died with <Signals\.SIG(?:SEGV|ILL|ABRT|BUS|FPE): \d+>")
"""A child process killed by a crash signal, as Python's ``CalledProcessError`` says it (``Command '[...]'
died with <Signals.SIGILL: 4>.``, CPython Lib/subprocess.py ``CalledProcessError.__str__``): vLLM runs the
model registry's inspection in such a child (``_run_in_subprocess``, vllm/model_executor/models/registry.py
@vllm==0.32.0), so a crash there is reported through the wrapper's exception
(https://github.com/vllm-project/vllm/issues/32554)."""
K8S_CRASH = re.compile(r"\bCrashed container in pod\b|\bCrashLoopBackOff\b|\bOOMKilled\b"
                       r"|Back-off restarting failed container")
"""Kubernetes reporting the engine's container dead (the kubelet's ``CrashLoopBackOff`` /
``OOMKilled`` reasons and its ``Back-off restarting failed container`` event, and harnesses that print
them: llm-d-benchmark's ``Crashed container in pod: ..``, https://github.com/llm-d/llm-d-benchmark/issues/668):
the engine's process crashed."""
NEURON_COMPILE_FAILED = re.compile(r"\|\|NEURON_CC_WRAPPER\|\|: (?:Failed compilation|Compilation failed)")
"""AWS Neuron's compiler wrapper failing to compile the model's graph, which the Neuron backend does while the
model is built and loaded (``ERROR ||NEURON_CC_WRAPPER||: Failed compilation with ['neuronx-cc', 'compile',
..]``, https://github.com/vllm-project/vllm/issues/11189)."""
TERM_SIGNAL = re.compile(r"^Signal Received: (?:15 \(Terminated\)|2 \(Interrupt\))")
"""A runtime's signal handler announcing SIGTERM or SIGINT before it dumps a native stack (IBM Spyre's
g3log handler: ``Signal Received: 15 (Terminated)``, ``Signal Received from pid=..``, ``*** BACKTRACE ***``,
https://github.com/torch-spyre/sendnn-inference/issues/191): the process was told to stop; its dump is the
stop, not a crash."""
TRITON_LOAD_FAILED = re.compile(
    r"^error: creating server: .{0,200}failed to load|\bfailed to load '[^']{1,200}' version \d+: "
    r"|\bFailed to initialize Python stub: |\bERROR: Failed to create instance: ")
"""Triton Inference Server giving up because a model (here the vLLM backend's engine) did not load:
``error: creating server: Internal - failed to load all models`` (the server's main exits with it after
unloading), https://github.com/triton-inference-server/server/issues/8578; the Python backend's stub failing
in the model's ``initialize`` (where the vLLM backend builds its engine), then the instance and the model
failing to load (``pb_stub.cc] Failed to initialize Python stub: TypeError: ..``, ``backend_model.cc] ERROR:
Failed to create instance: ..``, ``model_lifecycle.cc] failed to load 'vllm_model' version 1: Internal: ..``,
https://github.com/triton-inference-server/server/issues/6578)."""
RAY_OOM_KILL = re.compile(r"(?<!\b0 Workers \(tasks / )actors\) killed due to memory pressure \(OOM\)")
"""Ray's memory monitor killing worker processes (the engine's workers among them) because the node ran out of
host memory: the raylet's ``N Workers (tasks / actors) killed due to memory pressure (OOM), M Workers
crashed due to other reasons at node ..`` (node_manager.cc,
https://github.com/vllm-project/vllm/issues/1160); a paste may wrap it after ``(tasks /``, so the pattern
starts at ``actors)``."""
ARGPARSE_ERROR = re.compile(
    r"^[\w .\-]{1,60}: error: (?:argument |unrecognized arguments: |the following arguments are required: )")
"""A command line refused by its parser, which then exits with status 2: argparse's ``usage: ..`` and
``<prog>: error: unrecognized arguments: ..`` (CPython Lib/argparse.py ``ArgumentParser.error``), which
vLLM's ``vllm serve`` uses (``FlexibleArgumentParser``, vllm/utils/argparse_utils.py:119@vllm==0.32.0) and so
do the programs that launch it (``TRL CLI: error: argument command: invalid choice: 'vllm-serve'``,
https://github.com/wdrink/SimpleAR/issues/24): the launch failed before any engine existed."""
DEVICE_OPEN_FAILED = re.compile(
    r"\brt(?:GetDeviceCount|SetDevice|SetDefaultDeviceId) execut(?:e|ion) failed, reason="
    r"|\bget device count failed, runtime result = \d+|\bset default device id failed, ret:\d+"
    r"|\bopen device \d+ failed, runtime result = \d+")
"""Ascend CANN's runtime failing to find or open the NPU (``rtGetDeviceCount execution failed,
reason=driver error:internal error``, ``get device count failed, runtime result = 507899.``,
``rtSetDefaultDeviceId execution failed``: CANN's error report, printed when the process sets its device
up; the driver has no usable card for it, https://github.com/vllm-project/vllm-ascend/issues/13399;
``rtSetDevice execute failed, reason=[device id error]``, ``open device 1 failed, runtime result = 107001.``
for a device id the process may not use, https://github.com/vllm-project/vllm-ascend/issues/167): the
process cannot run a model, a failure at start-up."""
DEVICE_KERNEL_FAULT = re.compile(
    r"\bA kernel exception has occurred, please check dmesg for details"
    r"|\bcuapi_xpu_launch_async\(\) failed in \w+, status= ?\d+"
    r"|\bevent wait timeout occurred during task execution\b|^\s*Kernel Run failed\. opType: \d+"
    r"|\bKernel task happen error, retCode=0x[0-9a-fA-F]+|\bAicore kernel execute failed, device_id=\d+")
"""Kunlun XPU's runtime reporting a kernel that faulted on the device (``kl3ChannelCheckErrors A kernel
exception has occurred, please check dmesg for details.``, then every launch failing with ``status= 700``, the
runtime's illegal-address code, as CUDA's 700; vLLM-Kunlun, https://github.com/baidu/vLLM-Kunlun/issues/475):
the device's context is unusable after it, as after ``DEVICE_RUNTIME_ERROR``. Ascend CANN's the same: a task
on the device timing out (``The error from device(chipId:3, dieId:1), .. event wait timeout occurred during
task execution, .. timeout=234s``) and the kernel launches after it failing (``Kernel Run failed. opType: 35,
Sort``, ``launch failed for Sort, errno:361001.``), the error report torch_npu raises with
(https://github.com/vllm-project/vllm-ascend/issues/14527), and a kernel that faulted or timed out on an AI
core (``Kernel task happen error, retCode=0x30, [vector core timeout]``, ``Aicore kernel execute failed,
device_id=5, ..``, then ``rtStreamSynchronize execute failed``: the stream the worker waits on failed,
https://github.com/vllm-project/vllm-ascend/issues/693; CANN is closed source, so the threads are the
reference)."""
ACL_CAPTURE_FAILED = re.compile(
    r"\b(?:New|Create) capture stream failed, stream_id=\d+|\bCapture wait event failed\.")
"""Ascend CANN's error report when an ACL graph capture cannot get a stream (``New capture stream failed,
stream_id=1987, event_id=[-1->70037]``, ``Capture wait event failed.``, then ``rtStreamWaitEvent execution
failed, reason=driver error:resource alloc fail`` and ``runtime result = 207005``): the capture, and the
worker's call with it, failed; the text torch_npu raises with, logged by the worker at ERROR level
(https://github.com/vllm-project/vllm-ascend/issues/9564; CANN is closed source, so the thread is the
reference, as for ``DEVICE_OPEN_FAILED``)."""
COMPILER_CRASH = re.compile(
    r"PLEASE submit a bug report to https://github\.com/llvm/llvm-project/issues/")
"""An LLVM-based kernel compiler crashing (LLVM's crash handler: ``PLEASE submit a bug report to
https://github.com/llvm/llvm-project/issues/ and include the crash backtrace ..``, then ``Stack dump:``), here
CANN's ``ccec`` compiling an operator for the engine (https://github.com/vllm-project/vllm-omni/issues/890):
the kernel the engine needs was not built, so the engine fails with the compile error."""
ROCR_FAULT = re.compile(r"^(?:Memory access fault|HW Exception) by GPU node-\d+ ")
"""ROCm's HSA runtime reporting a GPU page fault (``Memory access fault by GPU node-%u (Agent handle: %p) on
address %p%s. Reason: %s.``) or a hardware exception (``HW Exception by GPU node-%u (Agent handle: %p) reason
:%s``) on stderr and then aborting the process
(runtime/hsa-runtime/core/runtime/runtime.cpp:1762-1766,1864-1886 in ROCm/ROCR-Runtime@c7785a6da1c1): the
process that ran the kernel crashed
(https://github.com/vllm-project/vllm/issues/28460)."""
SERVER_BIND_FAILED = re.compile(r"^(?:ERROR: +)?\[Errno \d+\] error while attempting to bind on address ")
"""The API server could not listen on its address (``[Errno 98] error while attempting to bind on address
('0.0.0.0', 8000): address already in use``, the OSError asyncio's ``create_server`` raises,
asyncio/base_events.py:1525-1527@CPython 3.11.7): uvicorn logs it, shuts the application's lifespan down
and exits with ``STARTUP_FAILURE`` (uvicorn/server.py:189-192@uvicorn==0.55.0), so the server is gone,
whatever the engine had done before (https://github.com/vllm-project/vllm/issues/217; uvicorn's own ``ERROR:``
prefix kept or not)."""
RUST_PANIC = re.compile(r"^thread '[^']{0,200}' panicked at ")
"""A Rust program's panic (``thread 'tokio-runtime-worker' panicked at lib/llm/src/engines/vllm/
worker.rs:247:17:`` then its message; the standard library's default panic hook writes ``thread '{name}'
panicked at {location}:``, library/std/src/panicking.rs, and ``'{msg}', {location}`` before Rust 1.73): a Rust
front end that runs vLLM (Dynamo's ``dynamo-run``) giving up, a native abort of the run like a C++
``terminate`` (https://github.com/ai-dynamo/dynamo/issues/349: importing vllm failed)."""
DEVICE_ASSERT = re.compile(r"block: \[\d+,\d+,\d+\], thread: \[\d+,\d+,\d+\] Assertion `")
"""A kernel's device-side assertion, as the CUDA runtime prints it for the failing thread (``<file>:<line>:
<function>: block: [486,0,0], thread: [8,0,0] Assertion `index out of bounds: ..` failed.``): Inductor's and
Triton's kernels check indices this way (``tl.device_assert``); the context is lost and the next CUDA call
raises ``device-side assert triggered`` (https://github.com/vllm-project/vllm/issues/17348, a compiled kernel
of the profiling run, the paste cut on that line). Only a hint: the error or death it causes says more."""
LINE_FAILURES: tuple[tuple[tuple[str, ...], str, re.Pattern[str]], ...] = (
    (("error: creating server", "failed to load '", "Python stub", "create instance"), "exception",
     TRITON_LOAD_FAILED),
    (("rash", "OOMKilled", "Back-off"), "crash", K8S_CRASH),
    (("NEURON_CC",), "exception", NEURON_COMPILE_FAILED),
    (("memory pressure",), "oom", RAY_OOM_KILL),
    ((": error: ",), "exception", ARGPARSE_ERROR),
    (("execution failed", "execute failed", "device count failed", "device id failed", "open device"),
     "exception", DEVICE_OPEN_FAILED),
    (("kernel exception", "cuapi_xpu_launch_async", "event wait timeout", "Kernel Run failed",
      "Kernel task happen error", "Aicore kernel execute failed"), "exception", DEVICE_KERNEL_FAULT),
    (("PLEASE submit a bug report",), "exception", COMPILER_CRASH),
    (("capture stream failed", "Capture wait event failed"), "exception", ACL_CAPTURE_FAILED),
    (("by GPU node-",), "crash", ROCR_FAULT),
    (("attempting to bind",), "exception", SERVER_BIND_FAILED),
    (("panicked at",), "crash", RUST_PANIC),
    (("thread: [",), "exception", DEVICE_ASSERT),
)
"""Lines that are a failure on their own, whatever comes around them: (substrings one of which the line must
hold, the failure's kind, the pattern). The substrings keep the common line off the patterns."""
WORKER_METHOD = re.compile(
    r"Exception in worker \S+ while processing method (?P<m1>\w+)|Error executing method '?(?P<m2>\w+)'?"
)
"""The method a worker was running when it failed: ``Exception in worker %s while processing method
%s.`` (multiproc_worker_utils.py:241-242) and ``Error executing method {method!r}.``
(worker_base.py:647), @95af70093fc0."""

RPC_TIMEOUT = re.compile(r"RPC call to (?P<method>\w+) timed out")
"""V1's executor giving up on its workers: ``TimeoutError: RPC call to {method} timed out.``
(vllm/v1/executor/multiproc_executor.py:442@vllm==0.32.0): the workers hung in that method, which names
the phase as its frame would (``determine_available_memory``, ``compile_or_warm_up_model``, ``sample_tokens``,
..)."""

WARMUP_STEP = re.compile(
    r"\[Warmup\]\[(?P<what>[^\]]{1,40})\]\[(?P<i>\d+)/(?P<n>\d+)\]"
    r"(?:[^\n]{0,400}?free_mem:\s?(?P<free>-?[\d.]+ ?[KMGT]?i?B))?"
)
"""``[Warmup][Decode][204/416] batch_size:224 num_blocks:384 free_mem:14.93 GiB``: fork ``log_warmup``
(hpu_model_runner.py:3040-3045@95af70093fc0, :2583-2587@277a33cd907e) and vllm-gaudi's
(hpu_model_runner.py:5226-5231@091bbadda10b)."""


MESSAGE_PHASES: tuple[tuple[re.Pattern[str], Phase], ...] = (
    (re.compile(r"when warming up|during warm-?up|warmup (?:failed|error)", re.IGNORECASE), Phase.WARMUP),
    (re.compile(r"during (?:the )?profil|memory profiling", re.IGNORECASE), Phase.PROFILING),
    (KV_SHORTFALL, Phase.KV_ALLOCATION),
    (START_SHORTFALL, Phase.STARTUP),
    (SERVING_DEATH, Phase.SERVING),
    (STEP_DUMP, Phase.SERVING),
    (re.compile(r"WorkerProc initialization failed|WorkerProc failed to start"), Phase.STARTUP),
    (re.compile(r"Device acquire failed|synStatus[= ](?:synStatus\s*)?8\b"), Phase.STARTUP),
    (DEVICE_OPEN_FAILED, Phase.STARTUP),
    (re.compile(r"Failed to register worker \S+ to Raylet|Unable to register worker with raylet"
                r"|Ray does not allocate any GPUs on the driver node"), Phase.STARTUP),
    (re.compile(r"Failed to create (?:\w+ )?linear weights|Stage initialization failed"), Phase.STARTUP),
    (re.compile(r"Gloo connectFullMesh failed|server socket has failed to listen on any local network "
                r"address|Unable to find address for: \S+"), Phase.STARTUP),
    (re.compile(r"Cannot find any model weights|Following weights were not initialized from checkpoint"
                r"|Error\(s\) in loading state_dict|SafetensorError|Error while deserializing header"),
     Phase.STARTUP),
    (re.compile(r"User-specified max_model_len \(\d+\) is greater than the derived max_model_len"),
     Phase.STARTUP),
    (re.compile(r"validation errors? for \w*Config\b"), Phase.STARTUP),
    (re.compile(r"Failed to find a kernel that can implement the \w+ linear layer"), Phase.STARTUP),
    (re.compile(r"max_num_batched_tokens \(\d+\) is smaller than max_model_len \(\d+\)"
                r"|Current node has no \w+ available\. "), Phase.STARTUP),
    (re.compile(r"Bfloat16 is only supported on GPUs with compute capability"
                r"|The NVIDIA driver on your system is too old"), Phase.STARTUP),
    (re.compile(r"No module named '(?:vllm|vllm_\w+)\.model_executor\.models\.\w+"), Phase.STARTUP),
)
WEAK_MESSAGE_PHASES: tuple[tuple[re.Pattern[str], Phase], ...] = ((FAILED_EXECUTION, Phase.SERVING),)
"""Texts that name a phase only as a weak frame does (``FAILED_EXECUTION``): used after the phase lines."""
"""Exception texts that name their phase (a model's module missing, ``No module named
'vllm.model_executor.models.neuron'``: the model registry imports an architecture's module when the engine
resolves its model, ``_LazyRegisteredModel.load_model_cls``, vllm/model_executor/models/registry.py:1092-1094
@vllm==0.32.0, start-up; https://github.com/vllm-project/vllm/issues/3284); ``CUDA out of memory occurred
when warming up sampler with
%d dummy requests`` (vllm/v1/worker/gpu_model_runner.py:5991@vllm==0.32.0); the KV shortfall
(``KV_SHORTFALL``); a worker that died while it started: ``WorkerProc initialization failed``
(vllm/v1/executor/multiproc_executor.py:790@vllm==0.32.0) is raised when a worker's constructor, which
initialises its device and loads the model (:679-687), failed; the Habana bridge's ``synStatus=8 [Device
not found] Device acquire failed`` is raised by ``habana_frameworks.torch.hpu.init()`` when the engine
first touches the device (https://github.com/opea-project/GenAIComps/issues/1038): start-up. (Only
``Graph compile failed`` or a synStatus that says "compile" is a graph-compile failure.) A Ray worker process
registers with its raylet once, when it starts (``core_worker.cc: Failed to register worker .. to Raylet.
IOError: [RayletClient] Unable to register worker with raylet``, https://github.com/vllm-project/vllm/issues/5495):
the engine's workers never started. Reading the weights failed: the loader's ``Cannot find any model weights
with ..`` and ``Following weights were not initialized from checkpoint`` (vllm/model_executor/model_loader/
default_loader.py:260,565@vllm==0.32.0), torch's ``Error(s) in loading state_dict for ..``
(torch/nn/modules/module.py:2644@torch==2.14.1) and safetensors' ``SafetensorError: Error while deserializing
header`` (safetensors/_safetensors_rust.abi3.so@safetensors==0.8.0): start-up. The
process groups' own set-up errors: gloo's ``Gloo connectFullMesh failed with ..`` (ProcessGroupGloo, when a
CPU group is made) and its device failing to find the network interface it was told to use (``[enforce fail at
../third_party/gloo/gloo/transport/tcp/device.cc:83] ifa != nullptr. Unable to find address for: eth0``, as a
new group's ``ProcessGroupGloo(`` builds its device; https://github.com/vllm-project/vllm/issues/12997; vLLM
makes its gloo groups with ``torch.distributed.new_group`` in ``init_model_parallel_group`` and
``init_distributed_environment``, vllm/distributed/parallel_state.py@vllm==0.32.0, i.e. in ``init_device``)
and the rendezvous store's ``The server socket has failed to listen on
any local network address`` (c10d's TCPStore, made by ``init_process_group`` and vLLM's stateless
data-parallel groups while the engine starts): start-up. The model's configuration refusing the length asked
for (``User-specified max_model_len (%d) is greater than the derived max_model_len``, raised by
``_get_and_verify_max_len`` while the model config is built, vllm/config/model.py:2527,2646@vllm==0.32.0):
start-up. A configuration class refusing its values: vLLM's configs are pydantic dataclasses (``@config``,
vllm/config/utils.py:52-60; ``ModelConfig``, vllm/config/model.py:150@vllm==0.32.0) that pydantic validates as
they are built, ``1 validation error for ModelConfig``: start-up, as configuration frames are
(https://github.com/OpenSQZ/MiniCPM-V-CookBook/issues/51). No linear kernel for a quantized layer (``Failed to
find a kernel that can implement the WNA16 linear layer. Reasons: ..``, raised by ``choose_mp_linear_kernel``
and its siblings, vllm/model_executor/kernels/linear/__init__.py:865,930-933@vllm==0.32.0, which the
quantization schemes call from ``create_weights`` as the model is built,
compressed_tensors_wNa16.py:106,136): start-up (https://github.com/vllm-project/llm-compressor/issues/973).
The scheduler's configuration refusing a batch budget below the model length (``max_num_batched_tokens (%d) is
smaller than max_model_len (%d)``, ``SchedulerConfig.verify_max_model_len``, vllm/config/scheduler.py:312-321;
https://github.com/verl-project/verl/issues/259) and the Ray executor finding no accelerator on its node
(``Current node has no GPU available``, ``initialize_ray_cluster``, vllm/v1/executor/ray_utils.py:510,635,
called by ``RayDistributedExecutor._init_executor``, ray_executor.py:72,80 @vllm==0.32.0;
https://github.com/vllm-project/vllm/issues/29265): start-up. The device refusing what the engine asks of it
as a worker sets it up: the platform's dtype check (``Bfloat16 is only supported on GPUs with compute
capability of at least 8.0``, ``check_if_supports_dtype``, vllm/platforms/cuda.py:636-653, called by the
worker's ``init_device`` right after it picks its device, vllm/v1/worker/gpu_worker.py:436,503@vllm==0.32.0)
and CUDA's own refusal on the process's first call to the device (``The NVIDIA driver on your system is too
old (found version ..)``, c10's CUDA functions in torch/lib/libc10_cuda.so@torch==2.14.1): start-up, also when
the front end printed only that line before its ``Engine process failed to start``
(https://github.com/imroc/tke-guide, docs/ai/faq.md)."""

CAPTURE_ERROR = re.compile(
    r"cudaErrorStreamCapture\w*|hipErrorStreamCapture\w*|operation not permitted when stream is capturing"
    r"|operation failed due to a previous error during capture|" + ACL_CAPTURE_FAILED.pattern)
"""CUDA's (and HIP's) stream-capture error names and texts: only an operation issued while a CUDA graph is
being captured raises them (cudaErrorStreamCaptureUnsupported, CUDA runtime API, "Data types"), so a log that
names one failed in graph capture even when the traceback that follows is cut
(https://github.com/noonghunna/club-3090/issues/106). Ascend CANN's runtime the same for an ACL graph's
capture streams (``ACL_CAPTURE_FAILED``: ``New capture stream failed, stream_id=..``, ``Capture wait event
failed.``), which only vllm-ascend's graph capture opens (``_capture_aclgraphs``, ``_GRAPH_CAPTURE``)."""

MULTIMODAL_HINTS = re.compile(
    r"(?i:qwen[\d.]*-?vl|-vl-|llava|mllama|pixtral|internvl|minicpm-?v|idefics|paligemma"
    r"|phi-?3(?:\.5)?-vision|llama-3\.2-\d+b-vision)|VLForConditionalGeneration|Gemma3ForConditionalGeneration"
    r"|Multimodal bucket"
    r"|Padding current (?:image size|number pixel)|Encoder cache will be initialized|image items"
    r"|Multi-modal warmup|multimodal|VLLM_MULTIMODAL_BUCKETS"
)
"""A line that shows the model takes images: a vision-language model's name or architecture, or a
line only a multimodal engine writes (the fork's ``Multimodal bucket :`` hpu_model_runner.py:2826
@95af70093fc0, ``Padding current ...`` above, upstream's ``Encoder cache will be initialized ...
profiled with %d %s items`` vllm/v1/worker/gpu_model_runner.py:6166@vllm==0.32.0)."""
MODEL_NAMED = re.compile(r"model='[^']+'|Starting to load model \S+|served_model_name=|model_type: \w+"
                         r"|\bvllm serve \S+|--model[ =]\S+")
"""A line that names the model (engine config dump, ``Starting to load model %s``, the command)."""
GPU_ENGINE = re.compile(r"CUDA out of memory|HIP out of memory|CUDA error|gpu_model_runner\.py|gpu_worker\.py"
                        r"|cuda\.py:\d+|cudagraph|Flash Attention backend|NCCL")
"""Lines only an upstream (GPU) vLLM writes: the HPU advice (graph-memory variables) does not apply."""

# ------------------------------------------------------------------ lines the doctor reads for their numbers
# Not phase markers: image padding, recompiles, preemption, and the memory figures the engines log.
PADDING = re.compile(r"Padding current (?:image size|number pixel) (\d+) to (\d+)")
"""vllm-fork models/qwen2_5_vl.py:970@95af70093fc0 and :929@277a33cd907e (``number pixel``),
vllm-gaudi models/qwen2_5_vl.py:400 (``image size``) and extension/bucketing/vision.py:219@091bbadda10b."""
MASK_CPU = re.compile(r"einsum running on CPU")
NOT_WARMED = re.compile(r"Configuration: (.*) was not warmed-up!")
"""vllm-fork hpu_model_runner.py:1434@95af70093fc0; vllm-gaudi hpu_model_runner.py:3643@091bbadda10b."""
GRAPH_COMPILE = re.compile(r"graph compilation detected")
"""vllm-gaudi hpu_worker.py:763 ``track_graph_compile``@091bbadda10b."""
PREEMPTED = re.compile(r"preempted by PreemptionMode\.\w+ mode because there is not enough KV cache")
RESUMED = re.compile(r"Preempted request \S+ has been resumed")
"""Preemption (V0's warning above, V1's scheduler resuming a preempted request, ``[scheduler.py:495]
Preempted request cmpl-.. has been resumed!``, https://github.com/LMCache/LMCache/pull/1361) happens only
while requests are scheduled: the engine is serving."""

BUDGET = re.compile(
    r"Free device memory: " + SIZE + ", " + SIZE + r" usable \(gpu_memory_utilization=([^)]*)\),\s*"
    + SIZE + r" reserved for HPUGraphs \(VLLM_GRAPH_RESERVED_MEM=([^)]*)\),\s*" + SIZE
    + r" reserved for KV cache(?: dummy\s+block " + SIZE + r"\s+reserved for usable KV cache)?"
)
WEIGHTS_TOTAL = re.compile(r"Loading model weights took in total " + SIZE + r" of device memory \("
                            + SIZE + "/" + SIZE + r" used\)")
WEIGHTS_GAUDI = re.compile(r"Loading model weights took (-?[\d.]+) GB")
PROFILE = re.compile(r"Model profiling run took " + SIZE)
BLOCKS = re.compile(r"# (?:HPU|hpu|GPU|gpu|TPU|tpu|cpu) blocks: (\S+),|Usable num_blocks: (\S+?),")
GRAPH_SPLIT = re.compile(
    r"Using " + SIZE + "/" + SIZE + r" of free device memory for HPUGraphs(?:,\s*" + SIZE
    + r"\s+for prompt and\s+" + SIZE + r"\s+for decode \(VLLM_GRAPH_PROMPT_RATIO=([^)]*)\))?"
)
"""Whitespace-tolerant: on aice/v1.21.0 the f-string continues with a backslash inside the literal, so the
message carries a run of spaces before ``for prompt`` (hpu_model_runner.py:2876-2884@277a33cd907e)."""


@dataclass(frozen=True)
class Marker:
    """One engine logger call that says which phase the engine is in (or has just finished).

    ``done`` marks the last line of a phase: the engine is then in the next one (``Loading model
    weights took in total`` is the last line of ``load_model``; the next step is the profiling run).
    """

    kind: str
    phase: Phase
    pattern: re.Pattern[str]
    source: str
    done: bool = False

    def next_phase(self) -> Phase:
        phases = list(Phase)
        return phases[min(self.phase.order + 1, len(phases) - 1)] if self.done else self.phase


@dataclass(frozen=True)
class LogGrammar:
    """How one engine family writes its log: markers per phase and the frame -> phase table.

    ``strong_frames``: functions that run only in one phase; in a traceback the latest phase among
    them wins (warm-up runs inside ``initialize_cache`` / ``initialize_from_config``, the profiling run
    inside ``_initialize_kv_caches``). ``weak_frames``: functions several phases call (the fork's
    ``profile_run`` runs ``warmup_scenario``, hpu_model_runner.py:2829@95af70093fc0; every warm-up step
    runs ``execute_model``): used only when no strong frame is in the traceback, outermost first.
    """

    name: str
    description: str
    markers: tuple[Marker, ...]
    strong_frames: tuple[tuple[str, Phase], ...]
    weak_frames: tuple[tuple[str, Phase], ...]
    bare_warmup_lines: bool = False
    """Warm-up progress lines come without a logger header (vllm-gaudi's ``tqdm.write``)."""

    def frame_phase(self, func: str) -> tuple[Phase | None, bool]:
        """The phase a traceback frame's function belongs to, and whether it is a strong frame."""
        for name, phase in self.strong_frames:
            if name == func:
                return phase, True
        for name, phase in self.weak_frames:
            if name == func:
                return phase, False
        return None, False


def _m(kind: str, phase: Phase, pattern: str, source: str, *, done: bool = False) -> Marker:
    return Marker(kind, phase, re.compile(pattern), source, done)


_LOADING = (
    _m("weights", Phase.STARTUP,
       r"Loading (?:safetensors|pt|np_cache) checkpoint shards|Loading safetensors using \w+",
       f"the weight readers' progress bars: vllm/model_executor/model_loader/weight_utils.py:869,1094,1273,"
       f"1409,1434@{UPSTREAM} (the same in the fork's V0, model_loader/weight_utils.py@{FORK_122})"),
    _m("weights", Phase.STARTUP, r"(?:Using|Downloading) model weights(?: format)? \[",
       "the loader choosing and fetching the checkpoint files (prepare_hf_model_weights: 'Using model "
       "weights format %s', vllm/model_executor/model_loader/weight_utils.py:292@95af70093fc0; the same "
       "function in forks of vLLM's loader, aphrodite/modeling/hf_downloader.py@071269e4065b, whose older "
       "releases say 'Downloading model weights %s', https://github.com/dphnAI/sonar/issues/386)"),
    _m("weights", Phase.STARTUP, r"Prefetching checkpoint files",
       f"the loader reading the checkpoint into the page cache before it loads (_prefetch_all_checkpoints: "
       f"'Prefetching checkpoint files: %d%% (%d/%d)', '... into page cache started/finished'): "
       f"vllm/model_executor/model_loader/weight_utils.py:1043,1066,1071@{UPSTREAM}"),
    _m("weights", Phase.STARTUP, r"^(?:\[SpyreWorker\] )?load model\.\.\.$",
       "IBM Spyre's plugin worker starting its load_model (logger.info('load model...'), "
       "vllm_spyre/v1/worker/spyre_worker.py:407@fc6b54b9; a print with the '[SpyreWorker] ' tag in its "
       "first V0 worker, vllm_spyre/worker/spyre_worker.py:127@e0a51ad2)"),
    _m("weights", Phase.STARTUP, r"Loading weights on \S+\s*\.\.\.",
       f"the loader starting to read (at DEBUG upstream): vllm/model_executor/model_loader/base_loader.py:87"
       f"@{UPSTREAM}; base_loader.py:47@{FORK_122}, loader.py:459@{FORK_121}"),
    _m("weights", Phase.STARTUP, r"Loading model \S+\.\.\.\s*$|Loading modules\.\.\. .{0,80}\b\d+/\d+\b",
       "Aphrodite (a fork of vLLM's engine, dphnAI/sonar) starting to load a model file ('Loading model "
       "%s...') and its rich progress bar over the model's modules ('Loading modules... 0/917'): "
       "https://github.com/dphnAI/sonar/issues/786, https://github.com/dphnAI/sonar/issues/789"),
    _m("starting", Phase.STARTUP, r"Initializing stages for model: |Starting stage worker with model: ",
       "vllm-omni starting its stages before any of them builds an engine ('Initializing stages for model: "
       "%s', Omni.__init__ before _initialize_stages, vllm_omni/entrypoints/omni.py:99; each stage's "
       "process on its first line, 'Starting stage worker with model: %s', _stage_worker, "
       "vllm_omni/entrypoints/omni_stage.py:412@be81443c8a52; https://github.com/vllm-project/vllm-omni/"
       "issues/859)"),
    _m("weights_done", Phase.STARTUP, r"Model weights loaded\. Memory usage: ",
       "Aphrodite's model runner at the end of load_model ('Model weights loaded. Memory usage: %.2f GiB x "
       "%d = %.2f GiB', aphrodite/task_handler/model_runner.py, as vLLM's 'Loading model weights took'; "
       "https://github.com/dphnAI/sonar/issues/360)", done=True),
)
"""Weights being read (inside ``load_model``): all engines use these loaders."""

_STARTING = (
    _m("starting", Phase.STARTUP,
       r"Initializing an? (?:V[01] )?LLM engine|Initializing (?:the )?Aphrodite Engine\b"
       r"|Waiting for init message from front-end|Worker ready; awaiting tasks"
       r"|Found nccl from library|Using [\w ]{2,40} backend"
       r"|world_size=\d+ rank=\d+ local_rank=\d+ distributed_init_method=|is assigned as DP rank"
       r"|Reducing Torch parallelism from \d+ threads to \d+|DP group leader: node_rank=\d+"
       r"|NCCL INFO Channel \d+/\d+ : |NCCL WARN Duplicate GPU detected : |flags: \[(?:[-+]\w+ ){2,}[-+]\w+\]"
       r"|vLLM message queue communication handle: |use_ray_spmd_worker: "
       r"|OMP threads binding of Process \d+|^\s*OMP tid: \d+, core \d+"
       r"|Creating v1 connector with name: |LMCache INFO: Loading LMCache config file "
       r"|FlashInfer CUTLASS M[Oo][Ee] is (?:available for EP but not enabled|currently not available for DP)"
       r"|Enabling FlashInfer CUTLASS M[Oo][Ee] for UnquantizedFusedMoEMethod"
       r"|Using a slow tokenizer\. This might cause",
       f"the engine loading the model's tokenizer as it is built ('Using a slow tokenizer. ..', "
       f"get_tokenizer, vllm/tokenizers/registry.py:196,273-277, through the renderer the engine's "
       f"constructor builds, renderer_from_config, vllm/v1/engine/llm_engine.py:98, "
       f"async_llm.py:158@{UPSTREAM}; V0's LLMEngine._init_tokenizer; "
       f"https://github.com/vllm-project/vllm/issues/789); "
       f"the multiprocessing executor setting up its workers ('Reducing Torch parallelism from %d threads "
       f"to %d ..', set_multiprocessing_worker_envs, vllm/executor/multiproc_worker_utils.py:292,326, called "
       f"by both executors' _init_executor, vllm/executor/mp_distributed_executor.py:68, "
       f"vllm/v1/executor/multiproc_executor.py:66@95af70093fc0; 'DP group leader: node_rank=%d, ..', "
       f"MultiprocExecutor._init_executor, vllm/v1/executor/multiproc_executor.py:118,154@{UPSTREAM}; "
       f"https://github.com/MetaX-MACA/vLLM-metax/issues/324); "
       f"V0's multiprocessing TP worker built and waiting for the driver's first task ('Worker ready; "
       f"awaiting tasks', _run_worker_process, vllm/executor/multiproc_worker_utils.py:228@95af70093fc0, "
       f"right after the worker's constructor and before its device is initialised; "
       f"https://github.com/EleutherAI/lm-evaluation-harness/issues/3093); "
       f"V1's shared-memory message queues, each logging its handle when built (MessageQueue.__init__, "
       f"vllm/distributed/device_communicators/shm_broadcast.py:589@{UPSTREAM}, at INFO in early V1): the "
       f"executor's RPC broadcast queue and each worker's response queue (vllm/v1/executor/"
       f"multiproc_executor.py:164,624@{UPSTREAM}) and the groups' broadcasters, all while the workers "
       f"start; the CPU worker binding its OpenMP threads in init_device (the list init_cpu_threads_env "
       f"returns, 'OMP threads binding of Process %d:' then '\\tOMP tid: %d, core %d' per thread: "
       f"csrc/cpu/utils.cpp:98-103, logged by vllm/v1/worker/cpu_worker.py:38-47@95af70093fc0); "
       f"V0's Ray executor creating its workers ('use_ray_spmd_worker: %s', and 'Ray does not "
       f"allocate any GPUs on the driver node.' when the placement has none: _init_workers_ray, "
       f"vllm/executor/ray_distributed_executor.py:169,196,280@95af70093fc0); "
       f"vllm/engine/llm_engine.py:233@8642d8927065 and :240@{FORK_122} (Aphrodite, a fork of vLLM's V0 "
       f"engine, writes 'Initializing the Aphrodite Engine (v%s) with the following config:', "
       f"https://github.com/dphnAI/sonar/issues/386, in AphroditeEngine.__init__ before its workers start, "
       f"aphrodite/engine/aphrodite_engine.py@0468026f000e; later releases 'Initializing Aphrodite Engine "
       f"(v%s commit %s) with the following config:', https://github.com/dphnAI/sonar/issues/607); "
       f"vllm/v1/engine/core.py:455, "
       f"vllm/utils.py:1227 (NCCL while a worker initialises its device), vllm/platforms/hpu.py:54 and "
       f"cuda.py:249,256 (attention backend chosen in worker init) @{FORK_122}; vllm/v1/engine/core.py:134"
       f"@{UPSTREAM}; a worker joining its distributed group: vllm/distributed/"
       f"parallel_state.py:919@{FORK_122}, :1823,2351@{UPSTREAM}; NCCL's own channel set-up lines "
       f"('NCCL INFO Channel 14/0 : 1[1] -> 0[0] via P2P/IPC/read') and its check that no two ranks share "
       f"a device ('init.cc:943 NCCL WARN Duplicate GPU detected : rank 0 and rank 1 both on CUDA device', "
       f"NCCL 2.21.5's src/init.cc:943 as the line names it, https://github.com/huggingface/trl/issues/3446) "
       f"while a communicator is built; "
       f"other NCCL lines come at any time; the Habana extension's 'Detected flags: [-compile_one_hot "
       f"-cpu +fsdpa ...]' (the Flags repr: sorted +/- features), printed once by enabled_flags() "
       f"(vllm_hpu_extension/flags.py@ab44cb50047232cb) when the model's attention layers or its HPU "
       f"adapter are built, inside load_model (vllm/attention/backends/hpu_attn.py:148, "
       f"vllm/worker/hpu_model_runner.py:220@8642d8927065); a KV connector being built ('Creating v1 "
       f"connector with name: %s', kv_connector/factory.py:74@{FORK_122}): at the latest when the workers "
       f"join their group (init_worker_distributed_environment -> ensure_kv_transfer_initialized, "
       f"vllm/v1/worker/gpu_worker.py:357@{FORK_122}), later in newer releases (initialize_from_config, "
       f"vllm/v1/worker/gpu_worker.py:874, and the scheduler's, v1/core/sched/scheduler.py:176@{UPSTREAM}), "
       f"so it shows start-up reached in every release; LMCache's connector reading its configuration "
       f"as it is built ('Loading LMCache config file %s', lmcache_get_or_create_config, "
       f"lmcache/integration/vllm/utils.py@00e40ed95002, called by the connector's constructor in either "
       f"role; https://github.com/vllm-project/vllm/issues/22532); an unquantized MoE layer choosing its "
       f"experts' kernel as the model is built ('FlashInfer CUTLASS MoE is available for EP but not "
       f"enabled, ..', UnquantizedFusedMoEMethod.__init__, vllm/model_executor/layers/fused_moe/"
       f"unquantized_fused_moe_method.py:50,70,91@017b8f23ef35; a later release logs it from layer.py, "
       f"https://github.com/gpustack/gpustack/issues/4194, where a paste wrote 'MOE')"),
    _m("frontend", Phase.STARTUP,
       r"vLLM API server version|non-default args: |\bargs: Namespace\("
       r"|Resolved architecture: |This model supports multiple tasks|Chunked prefill is enabled with"
       r"|Starting with engine args|EngineArgs\(model=|Using max model len \d+"
       r"|vLLM server version |\u2580\u2584\u2580 \u2588\s+version "
       r"|Multiprocessing frontend to use |Started engine process with PID \d+"
       r"|(?:^|[\s\u22c5])Loading model(?: \S+)?\.\.\.\s*$|^Set PYTORCH_NPU_ALLOC_CONF="
       r"|^Downcasting torch\.\w+ to torch\.\w+\.$",
       f"the front end resolving its configuration before it builds the engine: api_server.py:1300 "
       f"(version), config.py:823,2203@{FORK_122}; the server's version line, or its block-letter logo with "
       f"the version (log_version_and_model, vllm/entrypoints/serve/utils/api_utils.py:325-347@{UPSTREAM}); "
       f"vllm/entrypoints/serve/"
       f"utils/api_utils.py:286 (non-default args), vllm/config/model.py:733 (architecture), :2152 (max "
       f"model len)@{UPSTREAM}; not 'Automatically detected platform' (platforms/__init__.py:254@{FORK_122}, "
       f":291@{UPSTREAM}): the platform is resolved on first use, at import of vllm in any program "
       f"(a notebook, Unsloth, a test), so that line shows no server starting "
       f"(https://github.com/vllm-project/vllm/pull/14612, https://github.com/meta-llama/synthetic-data-kit/"
       f"issues/24); the engine arguments printed by the program that is "
       f"about to build the engine (Ray Serve's vLLM deployment: 'Starting with engine args: AsyncEngineArgs("
       f"model=..', https://github.com/vllm-project/vllm/issues/12742); V0's multiprocessing front end "
       f"starting its engine process ('Multiprocessing frontend to use %s for IPC Path.', 'Started engine "
       f"process with PID %d', build_async_engine_client_from_engine_args, vllm/entrypoints/openai/"
       f"api_server.py@95af70093fc0; "
       f"Aphrodite's '.. for RPC Path.', https://github.com/dphnAI/sonar/issues/854); a program announcing "
       f"the model it is about to load, before the engine's own lines: Aphrodite's front end ('Loading model "
       f"%s...', https://github.com/dphnAI/sonar/issues/786) and evaluation harnesses' ('\u22c5 Loading "
       f"model...', https://github.com/EuroEval/EuroEval/issues/1117); vllm-ascend's platform setting the "
       f"NPU allocator as the configuration is built ('Set PYTORCH_NPU_ALLOC_CONF=%s', "
       f"_set_pytorch_npu_alloc_env, vllm_ascend/platform.py:1208-1227, called from "
       f"NPUPlatform.check_and_update_config at :395@182b75ea84ff, which VllmConfig.__post_init__ runs, "
       f"vllm/config/vllm.py:1991@{UPSTREAM}, as the front end builds the configuration; "
       f"https://github.com/vllm-project/vllm-ascend/issues/7613); the model's configuration settling its "
       f"dtype ('Downcasting %s to %s.', vllm/config/model.py:2495@{UPSTREAM}, as ModelConfig is built for "
       f"an engine; https://github.com/vllm-project/vllm/issues/16682)"),
)
"""Lines written while the engine and its workers start, before any weight is loaded; ``frontend``
lines come from the API server or ``LLM(...)`` before the engine exists: they show a healthy log was
starting. They are the weakest evidence of a failure's phase: a failure after them with no engine line at all
is placed at start-up (the engine's processes write to the same terminal, so it failed while being set up),
except in a notebook, which shows none of those processes' lines."""

_SERVING = (
    _m("serving", Phase.SERVING, r"Application startup complete",
       "uvicorn/lifespan/on.py:62@uvicorn==0.54.0"),
    _m("serving", Phase.SERVING,
       r"Starting vLLM (?:API )?server (?:\d+ )?on\b|Available routes are|Route: \S+, (?:Methods|Endpoint): ",
       f"vllm/entrypoints/openai/api_server.py:1362@{FORK_122}; vllm/entrypoints/launchers/api_server/"
       f"entry.py:140 and launchers/launcher.py:186 (then one 'Route: %s, Methods: %s' line per route, "
       f":195,206, before the HTTP server starts serving)@{UPSTREAM}; always 'Starting vLLM (API )server "
       f"(N )on ADDRESS', never a wrapper's own 'Starting vLLM server: /path/to/vllm', which GPUStack writes "
       f"before it runs the CLI (https://github.com/gpustack/gpustack/issues/2849)"),
    _m("serving", Phase.SERVING, r"Started server process|Uvicorn running on",
       "uvicorn/server.py:101,232@uvicorn==0.54.0"),
    _m("serving", Phase.SERVING, r"Avg prompt throughput", f"vllm/engine/metrics.py:418@{FORK_122}"),
    _m("serving", Phase.SERVING, r"-- Application '[^']+' is ready at |-- Started HTTP server on port \d+",
       "Ray Serve's application ready once its deployments' replicas (here the vLLM engines) are up, and Ray "
       "Serve LLM's replica starting its HTTP server after its engine started "
       "(https://github.com/ray-project/ray/pull/55754, https://github.com/ray-project/ray/pull/65486)"),
    _m("serving", Phase.SERVING, r"(?:NIXL|Nixl\w{0,20}|Mooncake)Connector update_state_after_alloc: ",
       f"a KV connector's scheduler side after blocks were allocated to a request (the scheduler calls "
       f"update_state_after_alloc for each scheduled request, vllm/v1/core/sched/scheduler.py:1289; the "
       f"lines: "
       f"distributed/kv_transfer/kv_connector/v1/nixl/pull_scheduler.py:113, push_scheduler.py:136, "
       f"mooncake/mooncake_connector.py:1038 @{UPSTREAM}; https://github.com/ai-dynamo/nixl/issues/699)"),
    _m("serving", Phase.SERVING, r"VLLM generating sequences with batch size \d+",
       "verl's vLLM rollout generating a batch of sequences on its built engine "
       "(https://github.com/verl-project/verl/issues/138)"),
    _m("serving", Phase.SERVING, r"SpecDecoding metrics: ",
       f"speculative decoding's acceptance counters, logged with the throughput while requests run: "
       f"vllm/v1/spec_decode/metrics.py:121@{UPSTREAM}"),
    _m("serving", Phase.SERVING, r"^Generation completed successfully\.",
       "vllm-omni's diffusion engine finishing a request's generation (DiffusionEngine.step, "
       "vllm_omni/diffusion/diffusion_engine.py:86@be81443c8a52)"),
    _m("serving", Phase.SERVING,
       r"\[(?:Async)?Orchestrator\] (?:Entering scheduling loop|Enqueued request|Seeding \d* ?requests? into"
       r"|Forwarded request|Request \S+ (?:finalized|fully completed))|Received batch size=\d+, request_ids="
       r"|^\{'type': 'request_level_metrics',",
       "vllm-omni's orchestrator handling requests ('Enqueued request %s to stage-0', 'Entering scheduling "
       "loop: ..': vllm_omni/entrypoints/async_omni.py:445,454,852,854 and the offline Omni, "
       "omni.py:392,401; "
       "a stage worker's 'Received batch size=%d, request_ids=%s', omni_stage.py:688; the orchestrator's "
       "metrics of a finished request, pformat of {'type': 'request_level_metrics', ..}, "
       "log_utils.py:518-529 @be81443c8a52): only "
       "written for requests, https://github.com/vllm-project/vllm-omni/issues/1214"),
    _m("serving", Phase.SERVING, r"^(?:Processed prompts|Adding requests): +\d+%",
       f"the offline LLM's progress bars over its requests (LLM._validate_and_add_requests, LLM._run_engine: "
       f"vllm/entrypoints/llm.py:1422,1486@{UPSTREAM}; the same in V0, vllm/entrypoints/llm.py@{FORK_122})"),
    _m("serving", Phase.SERVING, REQUEST_RECORD.pattern,
       f"the request logger and the engines' per-request lines: vllm/entrypoints/logger.py:44, "
       f"async_llm_engine.py:180,224, multiprocessing/engine.py:351@{FORK_122}; "
       f"vllm/entrypoints/serve/utils/request_logger.py:66, vllm/v1/engine/async_llm.py:922@{UPSTREAM}"),
    _m("serving", Phase.SERVING,
       r"^INFO: +Shutting down\s*$|Waiting for connections to close\. \(CTRL\+C"
       r"|Waiting for background tasks to complete\. \(CTRL\+C|Waiting for application shutdown\."
       r"|Application shutdown complete\.",
       "uvicorn's orderly shutdown, which it runs only after a startup that succeeded (``if self.started: "
       "await self.shutdown()``, uvicorn/server.py:103-104,282,313,320; the lifespan's shutdown, "
       "lifespan/on.py:67,76@uvicorn==0.55.0): the server had been serving "
       "(https://github.com/vllm-project/vllm-omni/issues/3683)"),
    _m("serving", Phase.SERVING,
       r"\[shutdown\] (?:API server: |EngineCore: (?:start mode=|aborting in-flight|draining in-flight"
       r"|request processing complete|rejecting new request))|^Shutdown initiated \(timeout=\d+\)"
       r"|^Aborting \d+ requests$|^Draining \d+ in-flight requests|^Shutdown complete$"
       r"|^Rejecting request \S+ \(server shutting down\)",
       f"vLLM's orderly shutdown of a running server: the API server's signal handler and drain, set up "
       f"by serve_http once the HTTP server runs (vllm/entrypoints/launchers/launcher.py:254,270,279,282,"
       f"304), and the engine core's busy loop handling the request to stop (``_handle_shutdown``, called "
       f"only by ``run_busy_loop``: vllm/v1/engine/core.py:1636,1645,1656,1667; a request that arrives "
       f"meanwhile is refused, ``_reject_add_in_shutdown``, :1713) @{UPSTREAM}; older releases wrote the "
       f"same steps as 'Shutdown initiated (timeout=%d)', 'Aborting %d requests', 'Draining %d in-flight "
       f"requests', 'Shutdown complete', 'Rejecting request %s (server shutting down)' "
       f"(https://github.com/vllm-project/vllm-omni/issues/3683). Not the engine core's 'trigger received "
       f"signal' or a worker's 'terminated by shutdown signal': a signal can come at any time"),
    _m("serving", Phase.SERVING,
       r"It took [\d.]+ seconds to (?:wake up\b|fall asleep)|Sleep mode freed [\d.]+ GiB memory"
       r"|Successfully reset prefix cache",
       f"sleep mode and the prefix cache's reset, asked of an engine that has been built (RL frameworks "
       f"between rounds of generation, the server's /sleep, /wake_up and /reset_prefix_cache routes): "
       f"vllm/v1/executor/abstract.py:391,409, vllm/v1/worker/gpu_worker.py:327, "
       f"vllm/v1/core/block_pool.py:861 (BlockPool.reset_prefix_cache, reached through "
       f"EngineCore.reset_prefix_cache, vllm/v1/engine/core.py:871) @{UPSTREAM}; 'It took %.6f seconds to "
       f"wake up tags %s.' at vllm/executor/executor_base.py:227@{FORK_122}, before tags 'It took %.6f "
       f"seconds to wake up.' (executor_base.py:219 as the line names it, "
       f"https://github.com/TideDra/lmm-r1/issues/49); the corpus labels an engine "
       f"woken or put to sleep as serving (https://github.com/hiyouga/EasyR1/issues/260, "
       f"https://github.com/modelscope/ms-swift/issues/5231)"),
    _m("serving", Phase.SERVING, r"Storing KV cache for \d+ out of \d+ tokens",
       "LMCache's KV connector storing one request's KV cache after its forward pass ('Storing KV cache for "
       "%d out of %d tokens (skip_leading_tokens=%d) for request %s', LMCacheConnectorV1Impl.wait_for_save "
       "and save_kv_layer, lmcache/integration/vllm/vllm_v1_adapter.py; "
       "https://github.com/LMCache/LMCache/issues/1471): a request is being served"),
    _m("serving", Phase.SERVING, r"(?:^|\] - )Replaying aclgraph\s*$",
       "vllm-ascend's ACL graph wrapper replaying a captured graph ('Replaying aclgraph', logged once, "
       "ACLGraphWrapper.__call__, vllm_ascend/compilation/acl_graph.py@0011ce33514b): a replay needs an "
       "entry captured before for the step's batch shape, and the capture runs each shape's warm-up "
       "steps eagerly (CUDAGraphMode.NONE, which the wrapper passes through) and then one captured step "
       f"(_warmup_and_capture, vllm/v1/worker/gpu_model_runner.py:6588-6634@{UPSTREAM}), so the first "
       "replay is a model step of requests (https://github.com/vllm-project/vllm-ascend/issues/10815)"),
    _m("serving", Phase.SERVING, r"^Reqid: \S+, Total tokens \d+, kvpool hit tokens: \d+",
       f"the Mooncake store connector's scheduler side looking up one waiting request's prefix in the KV "
       f"pool ('Reqid: %s, Total tokens %d, kvpool hit tokens: %d, need to load: %d', "
       f"get_num_new_matched_tokens, "
       f"which the scheduler calls for each request it schedules, "
       f"vllm/distributed/kv_transfer/kv_connector/v1/mooncake/store/scheduler.py:201,238@{UPSTREAM}; "
       f"vllm-ascend's KV pool logs the same at INFO from pool_scheduler.py, "
       f"https://github.com/vllm-project/vllm-ascend/issues/6512): a request is being scheduled"),
    _m("serving", Phase.SERVING, r"Added request \S+\.",
       f"vllm/v1/engine/async_llm.py:552,578@{UPSTREAM}; vllm/engine/multiprocessing/engine.py (V0's "
       f"'Added request', https://github.com/vllm-project/vllm/issues/10024)"),
)

_FORK_MARKERS = (
    _m("buckets", Phase.KV_ALLOCATION, r"Generated \d+ (?:prompt|decode) buckets \[bs, query, num_blocks\]",
       f"fork 1.22 generates its buckets once the KV cache is sized, in initialize_cache before the "
       f"cache engine is built (vllm/worker/hpu_worker.py:340-343@{FORK_122}; the message: "
       f"vllm_hpu_extension/bucketing/common.py:122@f5f9ecb7298b, aice/v1.22.0); vllm-gaudi writes the "
       f"same line in warm-up, later still"),
    _m("warmup", Phase.WARMUP, r"Generated \d+ decode buckets \[bs, total_blocks\]",
       f"fork 1.21 generates its decode buckets in warmup_model "
       f"(vllm/worker/hpu_model_runner.py:2789@{FORK_121}; the message: "
       f"vllm_hpu_extension/bucketing/linear.py:128@8afd25348a28, aice/v1.21.0)"),
    _m("starting", Phase.STARTUP,
       r"(?:Prompt|Decode) bucket config \(min, step, max_warmup|Generated \d+ (?:prompt|decode) buckets:"
       r"|Generated \d+ prompt buckets \[bs, seq\]",
       f"fork 1.21 builds its bucketing context with the model runner (vllm/worker/hpu_model_runner.py:883"
       f"@{FORK_121}), whose constructor logs the bucket settings and the prompt buckets (vllm_hpu_extension/"
       f"bucketing/linear.py:47-48,94-111@8afd25348a28); the first fork releases did the same in the model "
       f"runner's _setup_buckets, prompt and decode ('Generated %d prompt buckets: ..', vllm/worker/"
       f"habana_model_runner.py:293-306@b6f6881da896); fork 1.22 logs the settings again while "
       f"generating the buckets in KV allocation (linear.py:42@f5f9ecb7298b): the line shows at least "
       f"start-up"),
    _m("weights", Phase.STARTUP, r"Pre-loading model weights on \S+ took " + SIZE,
       f"vllm/worker/hpu_model_runner.py:1186@{FORK_122}, :980@{FORK_121}"),
    _m("weights_done", Phase.STARTUP,
       r"Loading model weights took in total " + SIZE + r" of device memory \(" + SIZE + "/" + SIZE
       + r" used\)",
       f"vllm/worker/hpu_model_runner.py:1279@{FORK_122}, :1074@{FORK_121}", done=True),
    _m("profile", Phase.PROFILING, r"Model profiling run took " + SIZE,
       f"vllm/worker/hpu_worker.py:287@{FORK_122}, :328@{FORK_121}"),
    _m("budget", Phase.KV_ALLOCATION, r"Free device memory: ",
       f"vllm/worker/hpu_worker.py:306-313@{FORK_122}, :347-354@{FORK_121}"),
    _m("kv_blocks", Phase.KV_ALLOCATION, r"# (?:HPU|hpu) blocks: (\d+)",
       f"vllm/executor/executor_base.py:113@{FORK_122}"),
    _m("kv_allocated", Phase.KV_ALLOCATION, r"Initializing cache engine took",
       f"vllm/worker/hpu_worker.py:348@{FORK_122}, :391@{FORK_121}", done=True),
    _m("graph_split", Phase.WARMUP, r"of free device memory for HPUGraphs",
       f"vllm/worker/hpu_model_runner.py:3267-3270@{FORK_122}, :2876-2884@{FORK_121}"),
    _m("warmup", Phase.WARMUP, r"\[Warmup\]\[", f"vllm/worker/hpu_model_runner.py:3040@{FORK_122}"),
    _m("warmup", Phase.WARMUP, r"(?:Prompt|Decode|Multimodal) captured:\d+",
       f"vllm/worker/hpu_model_runner.py:3165@{FORK_122}, :2770@{FORK_121}"),
    _m("weights", Phase.STARTUP, r"Wrapping in HPU ?Graph took|Preparing model with INC|Compiling took",
       f"vllm/worker/hpu_model_runner.py:1223,1244,1271 and the torch.compile wrap after it@{FORK_122} "
       f"(inside load_model, after the weights)"),
    _m("warmup", Phase.WARMUP, r"Multimodal bucket : |Skipping warmup\.\.\.",
       f"vllm/worker/hpu_model_runner.py:2826,3224@{FORK_122}, :2798,2826@{FORK_121}"),
    _m("warmup_done", Phase.WARMUP, r"Warmup finished in \d+ secs",
       f"vllm/worker/hpu_model_runner.py:3300@{FORK_122}, :2960@{FORK_121}"),
    *_STARTING,
    *_LOADING,
    *_SERVING,
)

GRAPH_MEMORY_PROFILING = frozenset({"profile_cudagraph_memory"})
"""V1's estimate of the CUDA graphs' memory, made while ``determine_available_memory`` sizes the KV cache
(gpu_worker.py:704 -> ``profile_cudagraph_memory``, vllm/v1/worker/gpu_model_runner.py:6333@vllm==0.32.0):
it captures the graphs itself (``self._warmup_and_capture(..)``, :6400), so a capture frame inside it
(``_GRAPH_CAPTURE``) is the profiling step, not the warm-up
(https://github.com/alint77/jupiter-glm52-vllm-worklog, an illegal memory access in its capture)."""
_KV_SIZING = (("raise_if_cache_size_invalid", Phase.KV_ALLOCATION),)
_GRAPH_CAPTURE = (
    ("capture_begin", Phase.WARMUP), ("capture_end", Phase.WARMUP), ("capture", Phase.WARMUP),
    ("capture_model", Phase.WARMUP), ("_capture_cudagraphs", Phase.WARMUP),
    ("_warmup_and_capture", Phase.WARMUP),
    ("graph_capture", Phase.WARMUP), ("kernel_warmup", Phase.WARMUP), ("flashinfer_autotune", Phase.WARMUP),
    ("register_graph_buffers", Phase.WARMUP), ("_capture_model", Phase.WARMUP),
    ("_capture_aclgraphs", Phase.WARMUP), ("_capture_budget_graph", Phase.WARMUP),
)
"""Graph capture and the kernel warm-up, called from the warm-up (``capture_model`` /
``compile_or_warm_up_model``; V1's ``_warmup_and_capture`` also from the profiling step's graph-memory
estimate, ``GRAPH_MEMORY_PROFILING``): torch's ``CUDAGraph.capture_begin/capture_end`` (entered by ``with
torch.cuda.graph(...)``); V0's ``capture_model`` and ``CUDAGraphRunner.capture``, the ``graph_capture``
context and the custom all-reduce's ``capture`` (vllm/worker/model_runner.py:1499,1567,2041,
vllm/distributed/device_communicators/custom_all_reduce.py:180@95af70093fc0); V1's ``capture_model``,
``_capture_cudagraphs``, ``_warmup_and_capture`` (vllm/v1/worker/gpu_model_runner.py:6482,6588,6636), the
graph managers' and encoder's ``capture`` (vllm/v1/worker/gpu/cudagraph_utils.py:419,606,
vllm/v1/worker/encoder_cudagraph.py:246), ``kernel_warmup`` and ``flashinfer_autotune``
(vllm/model_executor/warmup/kernel_warmup.py:404, called from gpu_worker.py:950) @vllm==0.32.0; the custom
all-reduce registering the buffers the captured graphs use, at the end of its ``capture`` context
(``register_graph_buffers``, vllm/distributed/device_communicators/custom_all_reduce.py:467-497@vllm==0.32.0);
vllm-ascend's ACL graph and torchair capture (``_capture_model``, ``_capture_aclgraphs``,
vllm_ascend/worker/model_runner_v1.py:2459,2492, torchair/torchair_model_runner.py:150@1de16ead8eec;
``_capture_budget_graph``, worker/encoder_acl_graph.py:274@182b75ea84ff)."""
_WORKER_START = (
    ("init_device", Phase.STARTUP),
    ("_check_if_gpu_supports_dtype", Phase.STARTUP),
    ("init_worker_distributed_environment", Phase.STARTUP),
    ("init_distributed_environment", Phase.STARTUP),
    ("init_world_group", Phase.STARTUP),
    ("ensure_model_parallel_initialized", Phase.STARTUP),
    ("initialize_model_parallel", Phase.STARTUP),
    ("init_model_parallel_group", Phase.STARTUP),
    ("_init_workers_ray", Phase.STARTUP),
    ("_init_data_parallel", Phase.STARTUP),
    ("load_weights", Phase.STARTUP),
    ("init_worker", Phase.STARTUP),
    ("initialize_model", Phase.STARTUP),
    ("create_model", Phase.STARTUP),
    ("process_weights_after_loading", Phase.STARTUP),
    ("download_model", Phase.STARTUP),
    ("_prepare_weights", Phase.STARTUP),
    ("_get_weights_iterator", Phase.STARTUP),
    ("get_all_weights", Phase.STARTUP),
    ("download_weights_from_hf", Phase.STARTUP),
    ("safetensors_weights_iterator", Phase.STARTUP),
    ("pt_weights_iterator", Phase.STARTUP),
    ("np_cache_weights_iterator", Phase.STARTUP),
    ("ncclCommInitRank", Phase.STARTUP),
    ("hcclCommInitRank", Phase.STARTUP),
)
"""A worker starting: its device and its TP/PP groups (``init_device``, hpu_worker.py:157,479,
worker.py:169,522@95af70093fc0, which checks the card supports the dtype first,
``_check_if_gpu_supports_dtype`` at :184; before March 2024 the same step was ``init_model``,
``V0_WORKER_INIT_MODEL``); gpu_worker.py:436,1640, vllm/distributed/parallel_state.py:1502,1514,
1814,2056,2366@vllm==0.32.0; ``init_world_group``, :1502, is called only by ``init_distributed_environment``,
:1990), a data-parallel rank joining its group (``_init_data_parallel``,
vllm/v1/engine/core.py:1531,2195@vllm==0.32.0), Ray's worker start
(ray_distributed_executor.py:169@95af70093fc0), and the model built and its weights read (``get_model``,
model_loader/__init__.py:53@95af70093fc0; a model's ``load_weights``, called only by the loaders); a worker
built by its wrapper (``init_worker``, vllm/worker/worker_base.py:571@95af70093fc0); the loaders' steps, all
inside ``load_model``: ``initialize_model`` and ``process_weights_after_loading``
(vllm/model_executor/model_loader/utils.py:74,133), ``create_model`` (base_loader.py:49), ``download_model``,
``_prepare_weights``, ``_get_weights_iterator``, ``get_all_weights`` (default_loader.py:147,265,367,389) and
the weight readers (weight_utils.py:432,846,1079,1426) @vllm==0.32.0; a device communicator joining its group:
``ncclCommInitRank`` (vllm/distributed/device_communicators/pynccl_wrapper.py, called only by
``PyNcclCommunicator.__init__``, pynccl.py, which ``GroupCoordinator.__init__`` builds while the groups are
made, parallel_state.py@vllm==0.32.0; https://github.com/akash-network/awesome-akash/issues/543) and
vllm-ascend's ``hcclCommInitRank`` (vllm_ascend/distributed/device_communicators/pyhccl_wrapper.py, the same
role, @1de16ead8eec)."""
_MODEL_REGISTRY = (
    ("_try_inspect_model_cls", Phase.STARTUP),
    ("_try_load_model_cls", Phase.STARTUP),
    ("_raise_for_unsupported", Phase.STARTUP),
)
"""The model registry resolving the model's architecture (``_try_inspect_model_cls``, ``_try_load_model_cls``:
vllm/model_executor/models/registry.py:1097-1121; ``_raise_for_unsupported``, :1177 @vllm==0.32.0): run when
the model's config is built (``registry.inspect_model_cls`` in ``ModelConfig``, vllm/config/model.py:730
@vllm==0.32.0), before any worker starts or any weight is read: start-up
(https://github.com/vllm-project/vllm/issues/9713)."""
REGISTRY_LOGGER = re.compile(r"registry\.py:\d")
"""The model registry's own logger at ERROR: vllm/model_executor/models/registry.py logs at ERROR only ``Error
in loading model architecture '%s'`` (:1108), ``Error in inspecting model architecture '%s'`` (:1120) and
``Error saving model info cache.`` (:1041), each with ``logger.exception`` (its traceback's lines carry the
same header), all while the architecture is resolved at start-up; no other ``registry.py`` of vLLM logs at
ERROR (multimodal, tokenizers, attention backends, renderers) @vllm==0.32.0. Evidence of start-up outside a
failure's own frames (https://github.com/vllm-project/vllm/issues/9377: the registry's ImportError, then the
CLI's traceback through ``build_async_engine_client``, which encloses every phase)."""
_REQUEST_KERNELS = (
    ("_continuation_prefill", Phase.SERVING),
    ("_compute_prefill_context", Phase.SERVING),
    ("_context_parallel_compute_prefill_context", Phase.SERVING),
    ("swap_blocks_batch", Phase.SERVING),
    ("_advance_step", Phase.SERVING),
    ("advance_step_flashattn", Phase.SERVING),
    ("advance_step_flashinfer", Phase.SERVING),
)
"""Attention and KV-transfer code that runs only for a request whose earlier tokens are cached, so only while
serving (the profiling run's and the capture's dummy batches have no cached context and move no KV blocks):
TurboQuant's ``_continuation_prefill`` of a prefill chunk after a cached one (``cached_len = seq_len -
q_len``, vllm/v1/attention/backends/turboquant_attn.py:828-907), MLA's ``_compute_prefill_context`` and its
context-parallel form, called only when ``has_context`` (``prefill_metadata.chunked_context is not None``,
vllm/model_executor/layers/attention/mla_attention.py:3202-3244), and the KV offloading connector's
``swap_blocks_batch`` copying a request's blocks between GPU and CPU (``transfer_async``, vllm/v1/kv_offload/
cpu/gpu_worker.py:534,681; the op, vllm/_custom_ops.py:2863) @vllm==0.32.0
(https://github.com/Sandermage/genesis-vllm-patches/issues/1, https://github.com/vllm-project/vllm/issues/44780:
a native ``swap_blocks_batch`` frame under a segfault). V0's multi-step decoding advances a request's inputs
in place between its decode steps (``MultiStepModelRunner.execute_model`` -> ``_advance_step`` ->
``attn_metadata.advance_step`` -> ``ops.advance_step_flashattn`` / ``_flashinfer``,
vllm/worker/multi_step_model_runner.py:463,514,621-642 and vllm/_custom_ops.py:324,338@95af70093fc0); the
profiling run and graph capture go to the base runner (``profile_run``, ``capture_model``, :669-675), so
these frames run only while serving (https://github.com/vllm-project/vllm/issues/10432)."""
_STEP_OUTPUT = (
    ("_bookkeeping_sync", Phase.SERVING),
    ("_to_list", Phase.SERVING),
)
"""The model runner turning a step's sampled tokens into the requests' outputs (``_bookkeeping_sync``, called
only by ``sample_tokens``, and the ``_to_list`` it calls to copy the sampled ids to the host:
vllm/v1/worker/gpu_model_runner.py:3468,3520,4477,7183@vllm==0.32.0; by ``execute_model`` in 2025's releases,
https://github.com/intel/llm-scaler/issues/235): the profiling run and the warm-up sample through
``_dummy_sampler_run``, never through these, so only a step of requests runs them."""
_API_SERVING = (
    ("output_handler", Phase.SERVING),
    ("run_heartbeat_loop", Phase.SERVING),
    ("_process_engine_step", Phase.SERVING),
    ("_process_input_queue", Phase.SERVING),
    ("_handle_client_request", Phase.SERVING),
    ("step_async", Phase.SERVING),
    ("_raise_exception_on_finish", Phase.SERVING),
    ("create_completion", Phase.SERVING),
    ("create_chat_completion", Phase.SERVING),
    ("completion_full_generator", Phase.SERVING),
    ("completion_stream_generator", Phase.SERVING),
    ("chat_completion_full_generator", Phase.SERVING),
    ("chat_completion_stream_generator", Phase.SERVING),
    ("step_with_batch_queue", Phase.SERVING),
    ("execute_dummy_batch", Phase.SERVING),
    ("_process_model_outputs", Phase.SERVING),
    ("_driver_execute_model", Phase.SERVING),
    ("_driver_execute_model_async", Phase.SERVING),
    ("_run_engine", Phase.SERVING),
    ("_log_task_completion", Phase.SERVING),
    ("process_request_outputs", Phase.SERVING),
    ("add_request_async", Phase.SERVING),
    ("add_request", Phase.SERVING),
    ("preprocess_add_request", Phase.SERVING),
    ("abort_requests", Phase.SERVING),
    ("_process_aborts_queue", Phase.SERVING),
    ("post_step", Phase.SERVING),
    ("log_error_detail", Phase.SERVING),
    ("_handle_shutdown", Phase.SERVING),
)
"""Serving: the API server's output handler and handlers, V0's async engine loop (cited under
``_FORK_STRONG``); V1's engine core stepping with a batch queue and a data-parallel rank's idle dummy batch
in its busy loop (vllm/v1/engine/core.py:698,1045,2363@vllm==0.32.0); V0's ``LLMEngine.step`` processing
outputs and the executor running the driver's model step, called only from ``step``
(vllm/engine/llm_engine.py:993, vllm/executor/executor_base.py:315, mp_distributed_executor.py:141,
ray_distributed_executor.py:456@95af70093fc0; the profiling run calls the model runner directly); ``LLM``'s
offline loop over its requests (``_run_engine``, vllm/entrypoints/llm.py:1478@95af70093fc0); V0's async engine
loop finishing with an error (``_log_task_completion``, the callback that logs 'Engine background task
failed'), handing out a step's outputs and adding a request (vllm/engine/async_llm_engine.py:49,811,434
@95af70093fc0); V1's engine core adding, aborting and stepping requests (``add_request``,
``preprocess_add_request``, ``abort_requests``, ``_process_aborts_queue``, ``post_step``, ``log_error_detail``
around a step: vllm/v1/engine/core.py:508,1089,554,814,689,562@vllm==0.32.0); the busy loop's shutdown step
(``_handle_shutdown``, core.py:1626, called by ``run_busy_loop`` only)."""

ASGI_STARTED = re.compile(r"Application startup complete|Started server process|Uvicorn running on"
                          r"|Waiting for application startup")
"""uvicorn's own start-up lines, which any ASGI application writes, not only vLLM's API server: vLLM starts
uvicorn only after its engine is up (``run_server`` builds the engine client, then ``serve_http``,
vllm/entrypoints/openai/api_server.py and launchers/launcher.py@vllm==0.32.0), so engine start-up lines
after them mean the server was another program's that builds vLLM in-process later (MinerU's FastAPI
service, https://github.com/opendatalab/MinerU/issues/3582): the engine is starting, not serving."""

REQUEST_DISPATCH_PATHS = ("/fastapi/", "/starlette/", "/uvicorn/protocols/", "/uvicorn/middleware/")
"""Web-framework code that runs one HTTP request: fastapi's ``run_endpoint_function`` / ``app``
(fastapi/routing.py), starlette's routing, middleware and exception handlers, uvicorn's ``run_asgi``
(uvicorn/protocols/http/httptools_impl.py, h11_impl.py). A traceback through them is a request's, like one
after uvicorn's ``Exception in ASGI application`` (``REQUEST_ERROR``): the server answered that request with
an error (https://github.com/vllm-project/vllm-ascend/issues/10426)."""
REQUEST_DISPATCH_FRAMES = (("/vllm/entrypoints/utils.py", "wrapper"),
                           ("/vllm_tgis_adapter/grpc/grpc_server.py", "func_with_log"))
"""vLLM's own per-request wrappers around a route handler (``with_cancellation``'s and ``load_aware_call``'s
``wrapper``, vllm/entrypoints/utils.py@vllm==0.32.0), and the TGIS adapter's around each gRPC method of its
text-generation service (``func_with_log`` in vllm_tgis_adapter/grpc/grpc_server.py, which logs ``Generate
failed`` with the traceback of that one call, grpc_server.py:123 as the log's header names it, the frames of
https://github.com/opendatahub-io/vllm-tgis-adapter/pull/15)."""
REQUEST_SERVING_PATHS = ("/vllm/entrypoints/openai/serving_engine.py",
                         "/vllm/entrypoints/serve/engine/serving.py")
"""The OpenAI front end's base class of its request handlers (``OpenAIServing``): besides ``__init__``, which
runs once as the server starts, each of its methods runs for one request, from the route handlers (checking
the request's model name, ``_check_model`` -> ``_is_model_supported``, tokenizing and validating its prompt,
building its generators; vllm/entrypoints/openai/serving_engine.py:420-964@95af70093fc0, moved to
vllm/entrypoints/serve/engine/serving.py:49-91@vllm==0.32.0). A traceback through one of them is a request's
(https://github.com/ray-project/ray/issues/50275: a served-model check raising on a model list of plain
strings, for every request)."""
REQUEST_EXCEPTIONS = ("VLLMClientError", "VLLMValidationError", "VLLMNotFoundError",
                      "LoRAAdapterNotFoundError", "VLLMUnprocessableEntityError")
"""vLLM's errors caused by a request (``VLLMClientError`` and its subclasses, which the entry points answer
with a 4xx: vllm/exceptions.py:10-23,28,59,65,90@vllm==0.32.0): a traceback ending in one is the request's,
whatever code raised it (the renderer refusing a prompt longer than the model's context, ``_token_len_check``,
https://github.com/vllm-project/vllm-ascend/issues/10952)."""
ENGINE_FAMILY_PATH = re.compile(
    r"(?:^|/)(?:vllm|vllm_\w+|aphrodite\w*|habana_\w+|sglang|torch|triton|ray)/|/[^/]*(?:vllm|aphrodite)[^/]*\.py$",
    re.IGNORECASE)
"""A frame path inside the engine family's code or what it runs on, by its package folder or its module's
name: vLLM and its plugins and forks (``vllm/``, ``vllm_ascend/``, ``vllm_gaudi/``), the frameworks'
vLLM adapters (verl's ``vllm_rollout/``, Unsloth's ``vllm_utils.py``, ms-swift's ``vllm_engine.py``), the
device and compiler stacks (torch, Triton, Habana's frameworks) and Ray, whose tasks carry a remote worker's
error. A traceback with none of these is the caller's own code's (``CALLER_ERROR_TYPES``); a folder that only
names vLLM (``vllm-benchmarks/test.py``) is the caller's."""
CALLER_ERROR_TYPES = frozenset({"AttributeError", "NameError", "TypeError", "KeyError", "IndexError",
                                "AssertionError", "ValueError", "FileNotFoundError", "UnboundLocalError",
                                "JSONDecodeError", "ValidationError", "ZeroDivisionError"})
"""Plain Python errors of a program's own code. Raised by a complete traceback none of whose frames is in the
engine family's code (``ENGINE_FAMILY_PATH``), after the engine printed its start-up, they are the program's
error, not the engine's (COLLECTING.md, settled in round 49): the engine's own failures are raised from its
own frames, or are deaths, OOMs and crashes, which this never covers. A notebook calling a method ``LLM`` does
not have (``AttributeError: 'LLM' object has no attribute 'get_embeddings'``) or a wrapper reaching into
internals a newer engine dropped (``'LLMEngine' object has no attribute 'model_executor'``,
https://github.com/unslothai/unsloth/issues/2426), a script's own ``assert`` on what the engine returned
(https://github.com/vllm-project/vllm/issues/15394)."""
REQUEST_ADMISSION_FRAMES = frozenset({"_validate_and_add_requests", "_render_and_add_requests",
                                      "_add_completion_requests", "_add_request", "add_request",
                                      "process_inputs", "_validate_model_inputs", "_validate_model_input",
                                      "_validate_prompt_len", "_validate_params", "preprocess"})
REQUEST_ADMISSION_PATHS = ("/vllm/entrypoints/", "/vllm/engine/llm_engine.py",
                           "/vllm/v1/engine/llm_engine.py", "/vllm/v1/engine/processor.py",
                           "/vllm/v1/engine/input_processor.py", "/vllm/inputs/preprocess.py",
                           "/vllm/sampling_params.py", "/vllm/pooling_params.py")
"""The front end admitting one request to a built engine: the offline ``LLM`` adds a call's prompts one by
one and, when one is refused, aborts those already added and raises the error to its caller
(``_render_and_add_requests``, vllm/entrypoints/common/offline.py:549-564@vllm==0.32.0), having checked each
through ``LLMEngine.add_request`` -> ``InputProcessor.process_inputs`` (vllm/v1/engine/llm_engine.py:229-271,
vllm/v1/engine/input_processor.py:373,557-649@vllm==0.32.0: a prompt longer than the model's context, more
items than ``--limit-mm-per-prompt``); a request's ``SamplingParams`` check their own values as they are built
(``__post_init__`` -> ``_verify_args``, ``max_tokens must be at least 1``, vllm/sampling_params.py:556,631,690
@vllm==0.32.0). A ``ValueError`` raised there (frames in ``REQUEST_ADMISSION_PATHS`` naming one of these
functions, or any frame of the params modules) is one request's input refused, raised to the program that
drives the engine, which itself goes on: the caller's error, not the engine's (COLLECTING.md, settled in
round 49; https://github.com/modelscope/ms-swift/issues/8223). The engine core's own ``add_request``
(vllm/v1/engine/core.py:508) runs in its input thread, whose error ends the engine: not listed."""
REQUEST_HANDLERS = frozenset({
    "create_chat_completion", "create_completion", "create_embedding", "create_responses", "create_messages",
    "create_transcriptions", "create_translations", "create_pooling", "create_classify", "create_score",
    "create_batch_chat_completion", "extract_tool_calls", "extract_tool_calls_streaming",
    "build_guided_decoding_logits_processor_async", "generate_videos", "_run_video_generation"})
"""The OpenAI-compatible API's route handlers, one call per HTTP request (``async def
create_chat_completion(request, raw_request)``, vllm/entrypoints/openai/chat_completion/api_router.py:54,
completion/api_router.py:47, pooling/embed/api_router.py:38, responses/api_router.py:60,
anthropic/api_router.py:63@vllm==0.32.0); servers that wrap vLLM name theirs the same (LLaMA-Factory's
``create_chat_completion``, src/llamafactory/api/app.py, https://github.com/hiyouga/LlamaFactory/issues/9080).
So are a tool parser's two methods, handed one request's model output (``extract_tool_calls(model_output,
request)``, ``extract_tool_calls_streaming(.., request)``, vllm/tool_parsers/abstract_tool_parser.py:201,214,
called from the response parser, vllm/parser/abstract_parser.py:638,669@vllm==0.32.0), also when a user's
plugin parser defines them (https://github.com/vllm-project/vllm/issues/10589). So is V0's building of one
request's guided-decoding logits processor (``build_guided_decoding_logits_processor_async``,
vllm/engine/async_llm_engine.py:547, awaited by the MQ client's ``_process_request``,
vllm/engine/multiprocessing/client.py:592@95af70093fc0; https://github.com/microsoft/graphrag/issues/1400),
and vllm-omni's video route (``_run_video_generation`` -> ``OmniServingVideo.generate_videos``,
vllm_omni/entrypoints/openai/api_server.py and serving_video.py, https://github.com/vllm-project/vllm-omni/issues/
1671). A traceback through one is a request's."""
REQUEST_LOGGER = re.compile(r"(?:serving(?:_\w{1,40})?|chat_utils|\w{1,40}_tool_parser)\.py:\d")
"""The OpenAI front end's per-request handlers log a request's error with its traceback from their own
modules: ``logger.exception("Error in preprocessing prompt inputs")``
(vllm/entrypoints/openai/serving_chat.py:201, serving_completion.py:126, serving_embedding.py:97,
serving_pooling.py:135, ..) and ``Error in chat completion stream generator.`` (serving_chat.py:913)
@95af70093fc0. A traceback whose lines carry such a header (``ERROR 03-13 11:21:33 serving_chat.py:197]
result = ..``) is a request's, as one through the web framework's dispatch is, even when the paste lost the
message above it (https://github.com/bytedance/UI-TARS-desktop/issues/180); the engine's error relayed to
the request still reads as the engine's (``ENGINE_LOOP_FRAMES``, ``ENGINE_LOOP_PATH_FRAMES``). So do the
front end's helpers that work on one request: rendering its chat template (``An error occurred in
`transformers` while applying chat template``, vllm/entrypoints/chat_utils.py:1260) and a tool parser
reading the model's output of it (``Error in extracting tool call from response.``,
vllm/entrypoints/openai/tool_parsers/deepseekv3_tool_parser.py:112) @95af70093fc0. Newer front ends keep
each route's handler in a module of its own named ``serving.py``, whose error logs are all one request's
(``Error in chat completion stream generator.``, ``Error in parser creation.``,
vllm/entrypoints/openai/chat_completion/serving.py:514,929, completion/serving.py:500,
generate/base/serving.py:203,302@vllm==0.32.0; a 400 for a chat template the renderer refused,
https://github.com/mistralai/mistral-vibe/issues/454)."""
ENGINE_LOOP_PATH_FRAMES = (("/v1/engine/output_processor.py", "get"),
                           ("/v1/engine/output_processor.py", "get_nowait"))
"""V1's per-request output collector re-raising what it was handed (``RequestOutputCollector.get`` /
``get_nowait``: ``raise output``, vllm/v1/engine/output_processor.py:85-102@vllm==0.32.0): only
``propagate_error`` puts an exception there (:546-550), called by ``AsyncLLM.output_handler`` when the engine
failed (vllm/v1/engine/async_llm.py:907@vllm==0.32.0): the engine's error, carried to the request."""
V0_REQUEST_STREAM = ("/engine/async_llm_engine.py", "generator")
"""V0's per-request stream raising what it was handed (``AsyncStream.generator``: ``raise result``,
vllm/engine/async_llm_engine.py:108-117@95af70093fc0): the background loop's error, handed to every stream
when the loop fails (``_error_callback`` -> ``propagate_exception``, :146-157,730-732), or a ``ValueError``
from validating that request (``engine_step``'s ``except ValueError`` -> ``process_exception``, :785-790).
A request's traceback through it is the engine's failure unless its exception is a ``ValueError``
(https://github.com/vllm-project/vllm/issues/19639)."""
COMPILER_PATHS = ("/torch/_dynamo/", "/torch/_inductor/", "/torch/fx/", "/triton/compiler/")
"""torch.compile's and Triton's own code: Dynamo's tracer has ``step`` and ``run`` (torch/_dynamo/
symbolic_convert.py ``InstructionTranslatorBase.step``), names the engine's frames also have, so a frame
there, and the calls its source lines make, name no engine phase; the engine frames around them do."""
ENGINE_PATHS = ("/vllm/engine/", "/vllm/v1/engine/")
"""The engine's own modules (V0's ``LLMEngine`` / ``AsyncLLMEngine``, V1's engine core, its client and
``AsyncLLM``): a request's traceback cut (no exception line) while inside them was pasted for the engine's
error, not for a request the server answered (https://github.com/vllm-project/vllm/issues/6361: cut in V0's
``generate`` at ``self._process_request(``)."""
ENGINE_CORE_OUTPUT = "get_output_async"
"""The engine core client's output (``AsyncMPClient.get_output_async``, awaited by
``AsyncLLM.output_handler``: ``outputs = await engine_core.get_output_async()``): it raises only what its
output task put on the queue, and ``_format_exception`` turns that into ``EngineDeadError`` once the core is
dead; the task puts ``EngineDeadError()`` itself when the core's socket closes
(vllm/v1/engine/core_client.py:1227-1235,779-787,1221 @vllm==0.32.0). A traceback cut inside that call, with
no exception line, is the engine core's death (https://github.com/vllm-project/vllm/issues/21466: cut at that
source line); one cut at the ``output_handler`` frame itself names no cause
(https://github.com/vllm-project/vllm/issues/28028, labelled ``exception``)."""
NOT_A_REQUEST = frozenset({"lifespan", "merged_lifespan", "startup", "shutdown", "main", "serve", "_serve",
                           "__aenter__", "__aexit__", "_startup", "_shutdown"})
"""Framework functions that run when the server starts or stops, not for a request: FastAPI's router runs an
application's start-up and shutdown handlers from ``_startup`` and ``_shutdown`` (fastapi/routing.py:4873,4889
@fastapi==0.136.3), called from starlette's ``lifespan`` (a program that builds its ``LLM(..)`` in a start-up
handler fails there before serving, and uvicorn logs ``Application startup failed. Exiting.``,
uvicorn/lifespan/on.py:59@uvicorn==0.55.0)."""
ENGINE_LOOP_FRAMES = frozenset({"output_handler", "run_engine_loop", "engine_step", "step_async",
                                "_raise_exception_on_finish", "run_busy_loop", "_process_engine_step",
                                "run_heartbeat_loop", "run_output_handler", "_log_task_completion"})
"""The engine's own loops (V1 ``AsyncLLM.output_handler``, the engine core's busy loop; V0's engine loop and
``_raise_exception_on_finish``; cited under ``_API_SERVING`` and ``_FORK_STRONG``): a request's traceback
that goes through one carries the engine's error to the request (``raise output``): the engine's failure."""

_FORK_STRONG = (
    ("load_model", Phase.STARTUP),
    ("_init_worker", Phase.STARTUP),
    ("profile_run", Phase.PROFILING),
    ("determine_num_available_blocks", Phase.PROFILING),
    ("memory_profiling", Phase.PROFILING),
    ("initialize_cache", Phase.KV_ALLOCATION),
    ("_init_cache_engine", Phase.KV_ALLOCATION),
    ("_allocate_kv_cache", Phase.KV_ALLOCATION),
    ("_warm_up_model", Phase.WARMUP),
    ("warmup_model", Phase.WARMUP),
    ("warmup_graphs", Phase.WARMUP),
    ("warmup_all_buckets", Phase.WARMUP),
    ("_warmup_multimodal", Phase.WARMUP),
    ("_warmup_multimodal_graph", Phase.WARMUP),
    ("make_layers", Phase.STARTUP),
    ("_init_executor", Phase.STARTUP),
    ("engine_step", Phase.SERVING),
    ("run_engine_loop", Phase.SERVING),
    ("start_worker_execution_loop", Phase.SERVING),
    *_KV_SIZING,
    *_API_SERVING,
    *_WORKER_START,
    *_MODEL_REGISTRY,
    *_REQUEST_KERNELS,
    *_STEP_OUTPUT,
    *_GRAPH_CAPTURE,
)
"""hpu_worker.py:180,260,326,353,367,553; hpu_model_runner.py:1178,2807,3059,3121,3179;
llm_engine.py:408; multiprocessing/engine.py:210,246 @95af70093fc0; the KV cache is sized by
``raise_if_cache_size_invalid`` (hpu_worker.py:535, worker.py:560@95af70093fc0); requests are served by
AsyncLLMEngine's loop (``step_async``, ``engine_step``, ``run_engine_loop``, ``_raise_exception_on_finish``:
async_llm_engine.py:270,773,825,72@95af70093fc0) and the OpenAI handlers (api_server.py:560,599,
serving_chat.py:122,400,919, serving_completion.py:70,283@95af70093fc0), the V0 client's heartbeat
(multiprocessing/client.py:152@95af70093fc0), V1's output handler and the engine core's busy loop
(vllm/v1/engine/async_llm.py:845, core.py:1573,1603,1674@vllm==0.32.0: they run only after the engine
started); warmup_all_buckets and
_warmup_multimodal: hpu_model_runner.py:2601,2621@277a33cd907e; cache_engine.py:69 ``_allocate_kv_cache``."""

_WEAK = (("warmup_scenario", Phase.WARMUP), ("execute_model", Phase.SERVING), ("generate", Phase.SERVING),
         ("execute_model_async", Phase.SERVING), ("_dummy_sampler_run", Phase.PROFILING),
         ("_initialize_kv_caches", Phase.PROFILING), ("_dummy_run", Phase.PROFILING),
         ("_dummy_pooler_run", Phase.PROFILING), ("_process_reqs", Phase.SERVING),
         ("_update_states", Phase.SERVING), ("_prepare_inputs", Phase.SERVING), ("add_lora", Phase.SERVING))
"""``warmup_scenario`` (hpu_model_runner.py:2872@95af70093fc0) also runs the profiling pass (:2829, :2844);
``execute_model`` (:3585) runs every warm-up step as well as serving; ``generate`` (AsyncLLMEngine.generate,
async_llm_engine.py:981@95af70093fc0, and ``LLM.generate``) serves requests, but other libraries' ``generate``
may run anywhere; ``_initialize_kv_caches`` encloses the profiling run, the KV allocation and the warm-up
(llm_engine.py:408@95af70093fc0, vllm/v1/engine/core.py:261@vllm==0.32.0): a traceback cut there says less
than the log's last phase marker, and with none it is placed at the first step it runs, the profiling run
(``determine_available_memory``, vllm/v1/engine/core.py:315, before the KV cache is sized). ``_dummy_run`` and
``_dummy_pooler_run`` make the profiling pass's dummy batch (vllm/worker/model_runner.py:1325,
hpu_model_runner.py:2842@95af70093fc0; vllm/v1/worker/gpu_model_runner.py:5508,6103@vllm==0.32.0), but V1 also
calls ``_dummy_run`` to capture graphs and warm kernels up. A model runner's steps over a scheduler's output
are ``execute_model``'s own: upstream's ``_update_states`` and ``_prepare_inputs``
(gpu_model_runner.py:3979,4022@vllm==0.32.0), vllm-ascend's ``_process_reqs``
(vllm_ascend/worker/model_runner_v1.py:1640, its only caller, @1de16ead8eec; the profiling run and the ACL
graph capture use ``_dummy_run``) and the same names in vllm-gaudi
(hpu_model_runner.py:4159,4387@091bbadda10b), whose warm-up also runs ``execute_model`` (:5728): serving,
weakly, as ``execute_model`` is. Weak frames rank after the markers. ``add_lora`` is the engine's LoRA call
(``EngineCore.add_lora``, vllm/v1/engine/core.py:1051, a client's utility call, ``UTILITY_CALL``; the worker's
and the model runner's, gpu_worker.py:1439, lora_model_runner_mixin.py:286@vllm==0.32.0; V0's worker method,
named in ``Exception in worker .. while processing method add_lora``,
https://github.com/vllm-project/vllm/issues/13394), which only a built engine answers (``LORA_ADAPTER_LOAD``).
"""

VLLM_FORK_V0 = LogGrammar(
    name="vllm-v0-fork",
    description="vLLM V0 lines as HabanaAI/vllm-fork writes them (aice/v1.21.0, habana_main/v1.22.0)",
    markers=_FORK_MARKERS,
    strong_frames=_FORK_STRONG,
    weak_frames=_WEAK,
)

_GAUDI_MARKERS = (
    _m("warmup", Phase.WARMUP,
       r"(?:Prompt|Decode) bucket config \(min, step, max_warmup"
       r"|Generated \d+ (?:prompt|decode|spec decode) buckets",
       f"vllm-gaudi generates its buckets at the start of warm-up (warmup_model: vllm_gaudi/v1/worker/"
       f"hpu_model_runner.py:6137,6167; the messages: vllm_gaudi/extension/bucketing/common.py:250,367, "
       f"linear.py:48,85, exponential.py:76,132 @{GAUDI})"),
    _m("weights", Phase.STARTUP, r"Starting to load model \S+",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:4796@{GAUDI}"),
    _m("weights_done", Phase.STARTUP, r"Loading model weights took (-?[\d.]+) GB",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:4814@{GAUDI} (GB = bytes / 2**30)", done=True),
    _m("profile", Phase.PROFILING, r"Model profiling run took " + SIZE,
       f"vllm_gaudi/v1/worker/hpu_worker.py:402@{GAUDI}"),
    _m("budget", Phase.KV_ALLOCATION, r"Free device memory: ",
       f"vllm_gaudi/v1/worker/hpu_worker.py:423-432@{GAUDI}"),
    _m("kv_blocks", Phase.KV_ALLOCATION, r"Usable num_blocks: (\d+)",
       f"vllm_gaudi/v1/worker/hpu_worker.py:540-546@{GAUDI}"),
    _m("kv_allocated", Phase.KV_ALLOCATION, r"Initializing cache engine took",
       f"vllm_gaudi/v1/worker/hpu_worker.py:547@{GAUDI}", done=True),
    _m("warmup", Phase.WARMUP, r"\[Warmup\]\[",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:5226,5235@{GAUDI}"),
    _m("warmup", Phase.WARMUP, r"Graph/(?:Prompt|Decode) captured:\d+",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:5220@{GAUDI}"),
    _m("warmup", Phase.WARMUP,
       r"Multimodal bucket : |Skipping warmup\.\.\.|Warming up sampler|Starting sampler warmup"
       r"|Warming up defragmenter",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:6177,6219,5369,5372@{GAUDI}; "
       f"vllm_gaudi/extension/defragmentation.py:238@{GAUDI}"),
    _m("warmup_done", Phase.WARMUP, r"Warmup finished in \d+ secs",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:6306@{GAUDI}"),
    _m("weights", Phase.STARTUP,
       r"Wrapping in HPU ?Graph took|Preparing model with INC|Compilation took [\d.]+ GB"
       r"|Loading drafter model weights took",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:4817,4873,4907,4922,4935@{GAUDI} (inside load_model, after "
       f"the weights)"),
    _m("warmup", Phase.WARMUP,
       r"Sampler warmup completed|Pooler warmup completed|Running validation warmup|Validation warmup",
       f"vllm_gaudi/v1/worker/hpu_model_runner.py:5341,5464,6273,6290,6297@{GAUDI}"),
    _m("init_done", Phase.WARMUP, r"init engine \(profile, create kv cache, warmup model\) took",
       f"vllm/v1/engine/core.py:386-403@{UPSTREAM}"),
    *_STARTING,
    *_LOADING,
    *_SERVING,
)

_GAUDI_STRONG = (
    ("load_model", Phase.STARTUP),
    ("profile_run", Phase.PROFILING),
    ("determine_available_memory", Phase.PROFILING),
    ("initialize_from_config", Phase.KV_ALLOCATION),
    ("initialize_kv_cache", Phase.KV_ALLOCATION),
    ("compile_or_warm_up_model", Phase.WARMUP),
    ("warmup_model", Phase.WARMUP),
    ("warmup_graphs", Phase.WARMUP),
    ("warmup_sampler", Phase.WARMUP),
    ("warmup_pooler", Phase.WARMUP),
    ("warmup_multimodal_graphs", Phase.WARMUP),
    ("capture_model", Phase.WARMUP),
    ("kernel_warmup", Phase.WARMUP),
    ("warmup_kernels", Phase.WARMUP),
    ("make_layers", Phase.STARTUP),
    ("_init_executor", Phase.STARTUP),
    ("run_busy_loop", Phase.SERVING),
    ("step", Phase.SERVING),
    ("sample_tokens", Phase.SERVING),
    ("get_kv_cache_configs", Phase.KV_ALLOCATION),
    ("get_kv_cache_config", Phase.KV_ALLOCATION),
    ("_check_enough_kv_cache_memory", Phase.KV_ALLOCATION),
    ("initialize_kv_cache_tensors", Phase.KV_ALLOCATION),
    ("profile_cudagraph_memory", Phase.PROFILING),
    ("memory_profiling", Phase.PROFILING),
    ("_init_minimal_kv_cache_for_profiling", Phase.PROFILING),
    *_KV_SIZING,
    *_API_SERVING,
    *_WORKER_START,
    *_MODEL_REGISTRY,
    *_REQUEST_KERNELS,
    *_STEP_OUTPUT,
    *_GRAPH_CAPTURE,
)
"""vllm_gaudi/v1/worker/hpu_worker.py:223,319,516,552,565; hpu_model_runner.py:4792,5242,5343,5466,
5993,6133,6339,6513 @091bbadda10b; upstream vllm/v1/engine/core.py:261,657,1547 and
vllm/v1/worker/gpu_model_runner.py:6482 ``capture_model``, ``kernel_warmup`` (called only by
``compile_or_warm_up_model``, vllm/v1/worker/gpu_worker.py:950; ``warmup_kernels`` likewise, :955 and
vllm/v1/worker/gpu/warmup.py:218) @vllm==0.32.0; ``make_layers`` builds a
model's layers (vllm/model_executor/models/utils.py:662@95af70093fc0), i.e. inside ``load_model``;
``_init_executor`` starts the workers and loads the model, once, from the executor's constructor
(vllm/executor/executor_base.py:53@95af70093fc0, vllm/v1/executor/abstract.py:126@vllm==0.32.0);
``get_kv_cache_configs`` and ``_check_enough_kv_cache_memory`` size the KV cache after the profiling
run (vllm/v1/engine/core.py:326, vllm/v1/core/kv_cache_utils.py:1003,2531@vllm==0.32.0);
``initialize_kv_cache_tensors`` allocates them (gpu_model_runner.py:6979); ``profile_cudagraph_memory`` and
``_init_minimal_kv_cache_for_profiling`` run inside ``determine_available_memory`` (gpu_worker.py:704,
gpu_model_runner.py:6333-6335@vllm==0.32.0), and so does the ``memory_profiling`` context around the profiling
run (vllm/utils/mem_utils.py:230, gpu_worker.py:679@vllm==0.32.0; vllm/utils.py:2455 and worker.py:253
@95af70093fc0): profiling."""

_V0_STRONG = (
    ("determine_num_available_blocks", Phase.PROFILING),
    ("initialize_cache", Phase.KV_ALLOCATION),
    ("_init_cache_engine", Phase.KV_ALLOCATION),
    ("_allocate_kv_cache", Phase.KV_ALLOCATION),
    ("_warm_up_model", Phase.WARMUP),
    ("engine_step", Phase.SERVING),
    ("run_engine_loop", Phase.SERVING),
    ("start_worker_execution_loop", Phase.SERVING),
)
"""Upstream vLLM's V0 engine, which the ``vllm`` profile reads too (releases before V1, V1's fallback to V0):
the same start-up steps as the fork's, on the GPU worker (vllm/worker/worker.py:232,312,337,351,
cache_engine.py:69@95af70093fc0, the fork's copy of upstream V0) and AsyncLLMEngine's loop
(async_llm_engine.py:773,825@95af70093fc0). The TP workers' execution loop (``start_worker_execution_loop``,
vllm/worker/worker_base.py:84) is started by the distributed executor's ``execute_model`` on the first model
step it runs (vllm/executor/executor_base.py:289-296@95af70093fc0), never by the profiling run or the cache's
set-up, which run on every worker by name: it runs only while serving
(https://github.com/OpenRLHF/OpenRLHF/issues/313)."""

NAMED_FRAMES: tuple[tuple[re.Pattern[str], Phase], ...] = (
    (re.compile(r"(?<!set_)(?<!update_)(?:warm_?up|capture|cuda_?graph|hpu_?graph|acl_?graph|graph_runner)"
                r"(?!_sizes)", re.IGNORECASE), Phase.WARMUP),
    (re.compile(r"profile_run|determine_(?:num_)?available|profile_memory|memory_profil"), Phase.PROFILING),
    (re.compile(r"(?<!send_)(?<!recv_)kv_?caches?|init(?:ialize)?_cache|(?<![A-Za-z0-9])cache_engine|allocate_(?:kv|cache|blocks)|num_gpu_blocks"),
     Phase.KV_ALLOCATION),
    (re.compile(r"load_?model|(?<!re)load_?weights|create_weights|weights_(?:iterator|loader)|init_device"
                r"|init_(?:worker_)?distributed|(?:init\w*|ensure)_model_parallel|download_|from_pretrained"
                r"|_init_executor|_init_workers|inspect_model|load_model_cls|get_model_architecture"
                r"|^EngineArgs$|create_engine_config|model_is_embedding|get_attn_backend"
                r"|_initialize_stages?\b|_initialize_stage_replicas|_build_rollout"
                r"|_create_worker|^\w*WorkerProc$|prepare_communication_buffer"
                r"|get_quant_method|^get_scheme$|_check_scheme_supported"
                r"|process_weights_after_loading|^prepare_\w*_for_marlin$|^_get_executor_cls$"
                r"|^build_vllm_config$|^verify_with_\w+_config$|^get_class_(?:in|from_dynamic)_module$"),
     Phase.STARTUP),
    (re.compile(r"generate|chat_completion|create_completion|_requests?\b|_reqs\b|output_handler"
                r"|handle_request|update_weights|reload_weights|weight_transfer|weight_update"
                r"|grammar_init|_create_grammar|compile_grammar|^(?:send|recv)_kv_caches"),
     Phase.SERVING),
)
"""Function names that say their phase, for frames no engine's table names (another platform's plugin, a newer
or older release, a wrapper): every engine names its steps the same way, V0's and V1's workers and runners on
every platform (``load_model``/``load_weights`` in start-up, ``profile_run`` and
``determine_available_memory``/``determine_num_available_blocks`` in profiling, ``initialize_cache`` /
``_initialize_kv_caches`` / ``initialize_kv_cache`` sizing the cache, ``capture_model`` and ``*warmup*`` in
warm-up: vllm/v1/worker/gpu_worker.py:587,634,853,908 and gpu_model_runner.py:5028,6133,
6482,7055@vllm==0.32.0, vllm/worker/hpu_worker.py, hpu_model_runner.py@95af70093fc0,
vllm_ascend/worker/worker_v1.py@1de16ead8eec); requests are ``generate``d and ``_process_reqs``-style steps
run them. Functions that set graph sizes are configuration, not capture (``update_aclgraph_sizes`` in
vllm-ascend's ``check_and_update_config``, vLLM's ``_set_cudagraph_sizes``;
https://github.com/vllm-project/vllm-ascend/pull/1803). The engine's configuration is built before anything
else (``EngineArgs(...)``, ``create_engine_config``, vllm/engine/arg_utils.py:2205@vllm==0.32.0; the older
CLI's ``model_is_embedding`` check of the model's config before it built the engine; the configuration's
checks of each other, ``verify_with_parallel_config``, which ``VllmConfig.__post_init__`` and the tensorizer
loader run, vllm/config/vllm.py:1414,1452, config/model.py:1532, model_loader/tensorizer_loader.py:60
@vllm==0.32.0, and V0's ``LLMEngine._verify_args`` as the engine was built, https://github.com/vllm-project/
vllm/issues/2284; a remote-code model's class imported from its repository's module as the registry
resolves the architecture, ``get_class_from_dynamic_module`` -> ``get_class_in_module``, vllm/model_executor/
models/registry.py:1245,1259 and transformers_utils/dynamic_module.py:43@vllm==0.32.0,
https://github.com/vllm-project/vllm/issues/15844,
https://github.com/vllm-project/vllm/issues/7345), a call named on a traceback's source line counting as its
next frame (https://github.com/huggingface/trl/issues/3304); the attention backend is chosen while the model's
layers are built (``get_attn_backend``, vllm/v1/attention/selector.py:215@vllm==0.32.0;
https://github.com/vllm-project/vllm/issues/24297); vllm-omni starts its stages before anything else
(``_initialize_stages``, vllm_omni/entrypoints/omni.py:102, async_omni.py:642@be81443c8a52) and builds each
stage's engine configuration first (``build_vllm_config``: ``OmniEngineArgs(..).create_engine_config`` and the
executor class, vllm_omni/engine/stage_init_utils.py:305-332@e2fef187a158, called by the headless server's
``run_headless``, https://github.com/vllm-project/vllm-omni/issues/2756); RL frameworks build their vLLM
rollout engine in their workers' ``_build_rollout`` (https://github.com/microsoft/agent-lightning/pull/144;
not their ``init_model``, which also builds the trainer's own model,
https://github.com/NovaSky-AI/SkyRL/pull/1463); a V1 worker process is built, its device set up and its model
loaded, in the ``WorkerProc`` constructor (vllm/v1/executor/multiproc_executor.py:679-687@vllm==0.32.0;
vllm-omni's ``NPUWorkerProc`` and ``_create_worker``, https://github.com/vllm-project/vllm-omni/issues/1199).
Weights are updated or reloaded only in an engine that is up (``update_weights``,
``init_weight_transfer_engine``, vllm/v1/engine/async_llm.py:1315,1340, ``reload_weights``,
vllm/v1/worker/gpu_worker.py:629,1550 @vllm==0.32.0; RL frameworks' ``update_weights_from_ipc``,
https://github.com/verl-project/verl/pull/6393). A request's structured-output grammar is compiled when the
engine core takes the request in (``preprocess_add_request`` -> ``grammar_init`` -> ``_create_grammar`` -> the
backend's ``compile_grammar``, vllm/v1/engine/core.py:1089,1110 and
vllm/v1/structured_output/__init__.py:126,180,189,204@vllm==0.32.0; nothing compiles a grammar at start-up):
serving (https://github.com/vllm-project/vllm/pull/47312). V0's disaggregated prefill sends and receives each
step's KV caches inside ``execute_model`` (``send_kv_caches_and_hidden_states`` /
``recv_kv_caches_and_hidden_states``, vllm/worker/model_runner.py:1818,1864@95af70093fc0): serving, not the
cache's allocation (https://github.com/flagos-ai/FlagScale/pull/475). A quantized layer's method is chosen as
the layer is built (``get_quant_method`` -> the config's ``get_scheme`` -> ``_check_scheme_supported``, which
refuses a GPU too old for the scheme: vllm/model_executor/layers/quantization/base_config.py:200,306 and
compressed_tensors/compressed_tensors.py:159,166,951,994@vllm==0.32.0;
https://github.com/1CatAI/1Cat-vLLM/issues/289); the weights are processed right after they are read
(``process_weights_after_loading``, vllm/model_executor/model_loader/base_loader.py:109 and utils.py:133,180,
which on a GPU without FP8 repacks FP8 weights for Marlin, ``prepare_fp8_layer_for_marlin``,
vllm/model_executor/kernels/linear/scaled_mm/marlin.py:65,77@vllm==0.32.0;
https://github.com/noonghunna/club-3090/issues/1044). V0's engine picks its executor class from the
configuration it has just built, before any worker exists (``_get_executor_cls``, called from
``from_engine_args``, vllm/engine/llm_engine.py:435,482@95af70093fc0): start-up
(https://github.com/huggingface/open-r1/issues/245). The model runner's ``load_model`` ends by preparing the
loaded model's communication buffers (``prepare_communication_buffer_for_model``: the MoE layers' all-to-all
``init_prepare_finalize``, right after 'Model loading took', vllm/v1/worker/gpu_model_runner.py
``load_model``; https://github.com/vllm-project/vllm/issues/26055); only an elastic expert-parallel rescale
calls it again. (Not LoRA frames: an adapter is loaded into a built engine, ``LORA_ADAPTER_LOAD``.) The
weakest evidence the doctor takes: used only when no frame of any table and no phase line places the failure,
and the innermost match wins (an outer ``_initialize_kv_caches`` encloses the profiling run and the warm-up;
https://github.com/AI-Hypercomputer/tpu-inference/issues/898, https://github.com/vllm-project/vllm-ascend/
issues/3965). A name matches as a whole word piece: ``cache_engine`` is V0's ``CacheEngine``, never LMCache's
``_init_lmcache_engine`` (lmcache/integration/vllm/vllm_v1_adapter.py, which builds its engine in the KV
connector; https://github.com/LMCache/LMCache/issues/1998)."""

WARMUP_NAMED = re.compile(r"warm_?up", re.IGNORECASE)
"""A function named for warming up (``_warmup``, ``deep_gemm_warmup``, ``_warmup_multimodal_graph``)
that no frame table names: a weak warm-up frame (the fork's profiling run also calls
``warmup_scenario``, so a phase line before the failure outranks it)."""

LOADING_PATHS = ("/model_executor/model_loader/", "/safetensors/", "/huggingface_hub/file_download.py",
                 "/vllm_gguf_plugin/loader.py", "/vllm_gguf_plugin/weights_adapter/")
"""Code that runs only while weights are read: vLLM's model loaders (called from ``load_model`` alone,
``get_model``, vllm/model_executor/model_loader/__init__.py:131@vllm==0.32.0), the safetensors reader and the
Hub client fetching a model's files (huggingface_hub's file_download.py: the engine's configuration,
tokenizer and weights are fetched while it starts, https://github.com/EuroEval/EuroEval/issues/1742; a LoRA
adapter fetched for a request comes after serving lines, which outrank it), and the GGUF plugin's model loader
and its weight adapters mapping a checkpoint's tensors to the model's parameters (vllm_gguf_plugin/loader.py
``_prepare_adapter`` -> weights_adapter/default.py ``prepare_loading``, as the frames of
https://github.com/vllm-project/vllm-gguf-plugin/issues/75 show; Windows paths read with ``/``). A frame in
them, whatever its function, is a weak start-up frame (a later phase line outranks it)."""

SERVING_PATHS = ("/ray/dag/", "/ray/experimental/channel/", "/model_executor/guided_decoding/")
"""Ray's compiled graph (``ray.dag.compiled_dag_node``, ``_execute_until``, and the channels it reads its
outputs from): vLLM runs it only for a model step, from the Ray executor's ``execute_model``
(``self.forward_dag.execute(scheduler_output)``, vllm/v1/executor/ray_distributed_executor.py, and V0's
``_driver_execute_model_async`` with ``VLLM_USE_RAY_COMPILED_DAG``,
vllm/executor/ray_distributed_executor.py@95af70093fc0); the profiling run and the graph capture reach the
workers through ``collective_rpc`` / ``_run_workers`` instead. A frame in it is a weak serving frame, like
``execute_model`` (https://github.com/vllm-project/vllm/issues/15199). V0's guided decoding (vllm/
model_executor/guided_decoding/, outlines' and lm-format-enforcer's logits processors) runs on a request's
logits in the engine's sampling step, or builds one request's processor (``REQUEST_HANDLERS``): serving
either way (https://github.com/vllm-project/vllm/pull/4109)."""

MODEL_BUILD = (r"/(?:model_executor|vllm_\w+|transformers)/models/", "__init__", Phase.STARTUP)
"""A model class's constructor (``vllm/model_executor/models/llama.py ... in __init__``) runs only
while the model is built, inside ``load_model`` (``get_model``, hpu_model_runner.py:1185@95af70093fc0):
a weak start-up frame (the same files' ``forward`` runs in every later phase). The ``models/`` folders of
vLLM, of a platform plugin (``vllm_ascend/models/deepseek_v2.py ... in __init__``,
https://github.com/vllm-project/vllm-ascend/issues/2546) and of transformers (the Transformers backend builds
the Hugging Face model class); not a wrapper's own ``models/`` folder, whose constructor may build the whole
engine (NeMo-RL's ``nemo_rl/models/generation/vllm.py``, ``self.llm = vllm.LLM(..)``, which names no phase,
https://github.com/NVIDIA-NeMo/RL/issues/870)."""
LAYER_INIT = (("/model_executor/layers/", "__init__", Phase.STARTUP),
              ("vllm_ascend/ops/", "__init__", Phase.STARTUP))
"""A layer's constructor (vLLM's ``model_executor/layers/``, vllm-ascend's ``ops/``:
``AscendFusedMoE.__init__``, vllm_ascend/ops/fused_moe.py@1de16ead8eec) runs only while the model is built: a
weak start-up frame."""
LAYER_BUILD = ("/model_executor/layers/", "create_weights", Phase.STARTUP)
"""A layer's quantisation method creating its parameters (``UnquantizedLinearMethod.create_weights``,
vllm/model_executor/layers/linear.py:202-210@vllm==0.32.0, which logs ``Failed to create unquantized linear
weights: %s`` when the allocation fails): called from the layer's constructor only, i.e. while the model is
built in ``load_model`` (https://github.com/vllm-project/vllm/issues/28143): a weak start-up frame."""
TOKENIZER_LOAD = (("/transformers_utils/tokenizer.py", "get_tokenizer", Phase.STARTUP),
                  ("/tokenizers/registry.py", "get_tokenizer", Phase.STARTUP))
"""The tokenizer loader (``get_tokenizer``, vllm/tokenizers/registry.py:196, memoised as
``cached_get_tokenizer`` and ``cached_tokenizer_from_config``, :282-291@vllm==0.32.0; before, in
vllm/transformers_utils/tokenizer.py, which V0's ``LLMEngine.__init__`` called as ``self.tokenizer =
get_tokenizer(``, https://github.com/vllm-project/vllm/issues/569): the engine loads its tokenizer while it
is built, and a later call of the memoised loader finds it loaded, so a load that fails is start-up's (a
request's LoRA tokenizer comes under the request's frames, which place it first). Only these files'
function: the engines' and processors' ``get_tokenizer`` accessors (vllm/v1/engine/async_llm.py:1079,
llm.py:386) hand out the loaded one while serving."""
GROUP_BUILD = (("/distributed/parallel_state.py", "__init__", Phase.STARTUP),
               ("/device_communicators/cuda_communicator.py", "__init__", Phase.STARTUP))
"""A process group being built: ``GroupCoordinator.__init__`` (the only constructor of
vllm/distributed/parallel_state.py that builds anything, :454, creating its device communicator at :549-552),
which ``init_world_group`` (:1502, called only by ``init_distributed_environment``, :1990) and
``init_model_parallel_group`` run while a worker starts, and the CUDA device communicator it creates
(``CudaCommunicator.__init__``, device_communicators/cuda_communicator.py:36, whose ``PyNcclCommunicator``
runs a first all-reduce, pynccl.py) @vllm==0.32.0: start-up (https://github.com/gpustack/gpustack/issues/3379,
https://github.com/QwenLM/Qwen3/issues/1339). Elastic expert-parallel rescaling builds them again
(stateless_coordinator.py:194, elastic_ep/), under frames of its own."""
ROPE_CACHE = tuple(("/model_executor/layers/rotary_embedding", func, Phase.STARTUP)
                   for func in ("_compute_inv_freq", "_compute_cos_sin_cache"))
"""A rotary embedding computing its cos/sin cache, which it does in its constructor
(``RotaryEmbedding.__init__`` -> ``_compute_cos_sin_cache`` -> ``_compute_inv_freq``,
vllm/model_executor/layers/rotary_embedding/base.py:59,96@vllm==0.32.0; the older single module the same,
vllm/model_executor/layers/rotary_embedding.py:111,157@95af70093fc0), i.e. while the model is built
(https://github.com/ROCm/legacy-rocm-build/issues/4909: a HIP kernel missing for the card); FoPE alone
recomputes it in its first forward (fope.py:143), so a weak start-up frame."""

WORKER_INIT = (r"/worker/\w*worker\.py$", "__init__", Phase.STARTUP)
"""A worker's constructor (``Worker.__init__`` in worker.py, gpu_worker.py, hpu_worker.py, a plugin's
``vllm_ascend/worker/worker.py``): it runs once, when the worker is built, before its device and model are
set up (``Worker.__init__``, vllm/v1/worker/gpu_worker.py:193, before ``init_device`` at :436@vllm==0.32.0;
vllm_ascend/worker/worker_v1.py:56@1de16ead8eec; https://github.com/vllm-project/vllm-ascend/pull/10379).
Only in a ``worker/`` folder: FastChat's ``fastchat/serve/vllm_worker.py`` is a web worker, not vLLM's."""
CONFIG_BUILD = tuple((r"/vllm/config(?:\.py$|/)", func, Phase.STARTUP)
                     for func in ("__init__", "__post_init__"))
"""A configuration class being built (V0's ``ModelConfig.__init__`` in vllm/config.py, later dataclasses'
``__post_init__``: vllm/config.py:453@95af70093fc0, vllm/config/model.py:561, vllm/config/vllm.py:1414
@vllm==0.32.0): the engine's configuration, resolved before anything is built, as ``create_engine_config`` and
``EngineArgs(..)`` frames are (start-up; https://github.com/TideDra/lmm-r1/issues/9: cut in ``config.py``'s
``__init__`` under an RL actor's ``LLM(``)."""
WORKER_MODULE = (r"/worker/\w*(?:worker|model_runner)\.py$", "<module>", Phase.STARTUP)
"""A worker module's top level running, i.e. being imported: vLLM imports the worker class by name when the
executor builds its workers (``WorkerWrapperBase.init_worker`` -> ``resolve_obj_by_qualname(worker_cls)``,
vllm/v1/worker/worker_base.py:260,286@vllm==0.32.0), so an import that fails under it (a kernel library the
model runner imports, https://github.com/vllm-project/vllm/issues/30776) fails the engine at start-up. So does
the model runner's module, which the worker imports as it builds its runner (``_make_model_runner``,
vllm/v1/worker/gpu_worker.py:563-579@vllm==0.32.0; at the worker module's top in earlier releases,
https://github.com/gpustack/gpustack/issues/5305: an attention backend's kernel library failing to import)."""
ASYNC_STEP_OUTPUT = ("/v1/worker/gpu_model_runner.py", "get_output", Phase.SERVING)
"""The model runner's asynchronous step output waiting for its sampled tokens (``AsyncGPUModelRunnerOutput
.get_output``: ``self.async_copy_ready_event.synchronize()``, vllm/v1/worker/gpu_model_runner.py:269-324, and
the pooling variant, :412-444): made only by ``sample_tokens`` for scheduled requests under async scheduling
(:4304,4539) and by the pooling step (:3266), never by the profiling run or the capture (``_dummy_run``,
``_dummy_sampler_run``, :5508,5927) @vllm==0.32.0: a weak serving frame
(https://github.com/vllm-project/vllm/issues/44734)."""
OFFLINE_RPC = ("/entrypoints/llm.py", "collective_rpc", Phase.SERVING)
"""``LLM.collective_rpc`` (vllm/entrypoints/llm.py:574@vllm==0.32.0) is a method of an ``LLM`` that was built:
called by users and RL frameworks on the running engine (OpenRLHF's ``init_process_group``,
https://github.com/OpenRLHF/OpenRLHF/issues/922), never by the engine's own start-up (the executor's
``collective_rpc`` lives elsewhere): a weak serving frame."""
SLEEP_MODE = (("/vllm", "sleep", Phase.SERVING), ("/vllm", "wake_up", Phase.SERVING))
"""Sleep mode: an engine that has been built is put to sleep and woken between rounds of generation
(``AsyncLLM.sleep`` / ``wake_up``, vllm/v1/engine/async_llm.py:1154,1169; ``LLM.sleep`` / ``wake_up``,
vllm/entrypoints/llm.py:836,869; vllm/v1/engine/llm_engine.py:418,433 @vllm==0.32.0), called by RL
frameworks' rollout servers (verl's ``vllm_async_server.sleep``): a frame of that name in code under a
``vllm`` path is a weak serving frame (https://github.com/verl-project/verl/issues/4921)."""
CLIENT_UTILITY_CALL = tuple(("/v1/engine/core_client.py", func, Phase.SERVING)
                            for func in ("call_utility", "call_utility_async", "_call_utility_async")) + (
    ("/v1/engine/async_llm.py", "collective_rpc", Phase.SERVING),)
"""The client's side of a utility call (``SyncMPClient.call_utility``, and the async clients'
``call_utility_async`` / ``_call_utility_async``: each sends the call to the engine core's input queue and
waits for its result, vllm/v1/engine/core_client.py:1010,1259,1279@vllm==0.32.0; ``collective_rpc``
and the weight-sync calls of RL frameworks go this way, vllm/v1/engine/llm_engine.py:485 and
``AsyncLLM.collective_rpc``, vllm/v1/engine/async_llm.py:1205): answered by the core's busy loop, which runs
once the engine is built (``UTILITY_CALL``): a weak serving frame (https://github.com/modelscope/ms-swift/
issues/7270, https://github.com/PrimeIntellect-ai/verifiers/issues/139)."""
OMNI_ORCHESTRATOR_LOOP = ("/vllm_omni/engine/orchestrator.py", "run", Phase.SERVING)
"""vllm-omni's orchestrator event loop (``Orchestrator.run``: its request handler and the stages' output
handler, gathered; vllm_omni/engine/orchestrator.py ``Orchestrator.run``@057c9c1b80a9), which its engine's
bootstrap thread starts once the stage clients are built (``_bootstrap_orchestrator``, async_omni_engine.py):
it routes requests between the stages, so a failure out of it is a failure while serving
(https://github.com/vllm-project/vllm-omni/issues/ 3250)."""
RL_WEIGHT_SYNC_GROUP = ("/vllm_worker_wrap.py", "init_process_group", Phase.SERVING)
"""OpenRLHF's worker extension creating the weight-sync group between the trainer and the built engine's
workers (``WorkerWrap.init_process_group``, openrlhf/trainer/ray/vllm_worker_wrap.py, called on the running
engine through ``collective_rpc`` / ``execute_method``, as ``OFFLINE_RPC`` says;
https://github.com/OpenRLHF/OpenRLHF/issues/744): not torch's ``init_process_group``, which vLLM's own
start-up calls (only this file's is taken)."""
RL_TRAINING_LOOP = ("ray_trainer.py", "fit", Phase.SERVING)
"""verl's trainer loop (``RayPPOTrainer.fit`` and the recipes' subclasses, ``dapo_ray_trainer.py``): its entry
point builds every worker group, the rollout's vLLM engine among them, before it starts the loop
(``trainer.init_workers()`` then ``trainer.fit()``, verl/trainer/main_ppo.py:364-367,
verl/trainer/ppo/ray_trainer.py:731,1302@b178a3cd56f5), so whatever fails inside the loop (a rollout, the
reference model's log-probs, an update) fails with the engine built: serving
(https://github.com/PeterGriffinJin/Search-R1/issues/45, https://github.com/volcengine/verl/issues/1691)."""
SWIFT_ROLLOUT = tuple((r"/swift/(?:trainers/)?rlhf_trainers?/", func, Phase.SERVING) for func in (
    "async_generate_rollout", "infer_task", "_infer_single_or_multi_turn", "_infer_multi_turn",
    "_engine_infer"))
"""ms-swift's GRPO rollout asking its vLLM engine, built when the trainer is (``_prepare_vllm`` ->
``_prepare_vllm_engine``, swift/rlhf_trainers/rollout_mixin.py:371,459), for completions: the rollout task
(``async_generate_rollout`` -> ``infer_task``, :1615-1628) -> ``_infer_single_or_multi_turn`` (:1122) ->
``_engine_infer`` (:1342) @3602360a5623; older releases' swift/trainers/rlhf_trainer/grpo_trainer.py called
the same steps ``infer_task`` -> ``_infer_multi_turn`` (https://github.com/modelscope/ms-swift/issues/4418):
serving."""
RL_WEIGHT_SYNC = (("/sharding_manager/fsdp_vllm.py", "__enter__"),
                  ("/sharding_manager/fsdp_vllm.py", "update_params"),
                  ("/verl/third_party/vllm/", "sync_model_weights"),
                  ("/openrlhf/trainer/ray/vllm_worker_wrap.py", "update_weight"),
                  ("/openrlhf/trainer/ray/vllm_worker_wrap.py", "update_weight_cuda_ipc"),
                  ("/trl/scripts/vllm_serve.py", "update_named_param"),
                  ("/trl/generation/vllm_generation.py", "_push_param_to_vllm"))
"""verl's sharding manager pushing the trainer's weights into the rollout engine before each rollout
(``FSDPVLLMShardingManager.__enter__`` wakes the engine up and calls ``update_params``, which calls the built
model's ``load_weights``: verl/workers/sharding_manager/fsdp_vllm.py@004c888001c8): the engine was built
long before, so the loading frames under it are the sync's, not the engine's start-up (serving, as the corpus
labels weight syncs; https://github.com/TIGER-AI-Lab/verl-tool/issues/125); with vLLM 0.5.4 and 0.6.3 the
same ``__enter__`` calls the engine verl vendors, ``self.inference_engine.sync_model_weights(params, ..)``,
down its executor and worker to ``load_dtensor_weights`` (verl/third_party/vllm/vllm_v_0_6_3/
llm_engine_sp.py, spmd_gpu_executor.py, worker.py; https://github.com/Qihoo360/Light-R1/issues/7). The other
frameworks' syncs end in the same call on the built model: OpenRLHF's worker extension receiving a broadcast
weight (``WorkerWrap.update_weight`` / ``update_weight_cuda_ipc`` -> ``self.model_runner.model.load_weights``,
openrlhf/trainer/ray/vllm_worker_wrap.py:32,48,52,69@3c3be6234e0c) and TRL's, in its server's worker extension
(``WeightSyncWorkerExtension.update_named_param``, trl/scripts/vllm_serve.py:117,149) and in colocate mode
(``_push_param_to_vllm``, trl/generation/vllm_generation.py:387-392@f2cd57710ae3)."""
WEIGHT_SYNC_NAMED = re.compile(
    r"^_?(?:update|sync|refit|push|receive|recv)_(?:[a-z]+_)?(?:weights?|params?)(?:_(?:from|to|via|chunk|cuda|ipc"
    r"|async)\w*)?$")
"""A function whose name says it moves new weights into a model (``update_weights``, ``receive_weights``,
``update_named_param``, ``sync_model_weights``, ``update_weights_via_ipc_zmq_async``,
``_push_param_to_vllm``): vLLM's own weight-transfer API (``update_weights`` / ``receive_weights``,
vllm/distributed/weight_transfer/base.py:491,505@vllm==0.32.0) and every RL framework's sync
(``RL_WEIGHT_SYNC``) run on an engine that has been built, so the loading frames under one are the sync's
(the corpus labels all five logs with such a frame serving); not the loader's ``update_param_tp_status`` or
the offloader's ``_update_cpu_storage_from_param``, which run while the model is loaded
(vllm/model_executor/model_loader/utils.py:187, offloader/prefetch.py:679@vllm==0.32.0)."""
LORA_ADAPTER_LOAD = tuple((where, func, Phase.SERVING) for where in ("/lora/", "lora_worker_manager")
                          for func in ("_load_adapter", "add_adapter", "_apply_adapters"))
"""A LoRA adapter being loaded into a built engine's worker (``WorkerLoRAManager._apply_adapters`` ->
``add_adapter`` -> ``_load_adapter``, vllm/lora/worker_manager.py:106,206,225,274,289@vllm==0.32.0, and
Unsloth's copy, unsloth_zoo/vllm_lora_worker_manager.py): for a request that names the adapter, or through the
engine's ``add_lora`` (a weak frame of ``_WEAK``), both of which only a built engine answers: serving, as the
corpus's readers label it (https://github.com/vllm-project/vllm/issues/3374,
https://github.com/unslothai/unsloth/ issues/3677; the blind readers of
https://github.com/vllm-project/vllm/issues/30690, where the server adds its static ``--lora-modules`` through
``add_lora`` once the engine is up). A profiling or capture run's dummy adapters come through ``_dummy_run``
(``add_dummy_lora``, vllm/v1/worker/lora_model_runner_mixin.py:134), whose outer frame places them first."""
UTILITY_CALL = ("/v1/engine/core.py", "_invoke_utility_method", Phase.SERVING)
"""A client's utility call run by the engine core (``collective_rpc``, ``add_lora``, ``sleep``, a weight
sync): read from the input queue by the busy loop (``run_busy_loop`` -> ``_process_input_queue`` ->
``_handle_client_request`` -> ``_invoke_utility_method``, which logs ``Invocation of %s method failed``,
vllm/v1/engine/core.py:1547-1601,1674-1750@vllm==0.32.0), and the busy loop runs only once the engine is
built: a weak serving frame."""
OMNI_STAGE_POLL = (("/vllm_omni/engine/stage_pool.py", "poll_llm_raw_output", Phase.SERVING),
                   ("/vllm_omni/engine/stage_pool.py", "_poll_stage_raw", Phase.SERVING))
"""vllm-omni's stage pool polling one stage replica's engine-core outputs (``StagePool.poll_llm_raw_output``
-> ``_poll_stage_raw`` -> the client's ``get_output_async``, which logs ``[StagePool] _poll_stage_raw failed
for stage-%s replica-%s`` and re-raises; vllm_omni/engine/stage_pool.py): the orchestrator's output loop
(``OMNI_ORCHESTRATOR_LOOP``) calls it to route requests' outputs between the stages, so it runs while serving
(https://github.com/vllm-project/vllm-omni/issues/5554)."""
LMCACHE_RETRIEVE = tuple(("/lmcache/v1/cache_engine.py", func, Phase.SERVING) for func in (
    "retrieve", "_process_tokens_internal", "store"))
"""LMCache's engine loading a request's cached KV chunks (``LMCacheEngine.retrieve`` ->
``_process_tokens_internal`` -> the storage manager's ``batched_get``,
lmcache/v1/cache_engine.py@3bafe17fbd0b), which its vLLM connector calls for the tokens of a scheduled
request, and storing a request's computed KV (``LMCacheEngine.store`` -> ``batched_put``, which logs
``[req_id=%s] Stored %d out of total %d tokens``, lmcache/v1/cache_engine.py@000620e37eb7): serving
(https://github.com/LMCache/LMCache/issues/2420, https://github.com/LMCache/LMCache/issues/1981)."""
HF_PROCESSOR_LOAD = tuple(("/transformers/", func, Phase.STARTUP) for func in (
    "get_image_processor_dict", "get_processor_dict", "get_feature_extractor_dict",
    "get_video_processor_dict"))
"""transformers reading a model's processor files (``get_image_processor_dict``,
image_processing_base.py:239; ``get_processor_dict``, processing_utils.py:1223;
``get_feature_extractor_dict``, feature_extraction_utils.py:439; ``get_video_processor_dict``,
video_processing_utils.py:297 @transformers==5.19.0, each called by its class's ``from_pretrained``): vLLM
loads the processor through vllm/transformers_utils/processor.py (``cached_*``, lru-cached) when the front
end's renderer builds the multimodal processor (``mm_registry.create_processor``,
vllm/renderers/base.py:193@vllm==0.32.0) and the profiling run makes its dummy inputs: a weak start-up frame
(a request with its own processor arguments may load one while serving, so a later phase line outranks it;
https://github.com/vllm-project/vllm-ascend/issues/9708)."""
V02_INIT_CACHE = ("/vllm/engine/llm_engine.py", "_init_cache", Phase.PROFILING)
"""The 0.2-era ``LLMEngine._init_cache`` profiled the free memory first (``num_blocks =
self._run_workers("profile_num_available_blocks", ..)``) and then built the cache engines: like
``_initialize_kv_caches`` later, a traceback cut there is placed at its first step, the profiling run
(https://github.com/vllm-project/vllm/issues/1411); not the workers' ``init_cache_engine``."""
MODEL_LOADER_GET_MODEL = ("/model_executor/model_loader/", "get_model", Phase.STARTUP)
"""The model built and its weights read (``get_model``, vllm/model_executor/model_loader/__init__.py:53
@95af70093fc0, :131@vllm==0.32.0): only in vLLM's loader, since wrappers have their own ``get_model`` that
runs before any engine exists (lmms-eval's ``get_model(model).create_from_arg_string``, MinerU's VLM model
getter, https://github.com/EvolvingLMMs-Lab/lmms-eval/issues/726)."""
V0_WORKER_INIT_MODEL = ("vllm/worker/worker.py", "init_model", Phase.STARTUP)
"""V0's worker setting its device up before March 2024 (``Worker.init_model``: device, dtype check,
distributed groups; vllm/worker/worker.py:70,85@e90fc21f2^, renamed ``init_device`` by e90fc21f2): only in
that file, since trainers' workers have their own ``init_model`` (a policy model's, which is no engine
phase)."""
PATH_FRAMES: tuple[tuple[re.Pattern[str], str, Phase], ...] = (
    *((re.compile(re.escape(fragment)), func, phase) for fragment, func, phase in (
        LAYER_BUILD, *LAYER_INIT, ASYNC_STEP_OUTPUT, OFFLINE_RPC, *SLEEP_MODE, UTILITY_CALL,
        *CLIENT_UTILITY_CALL, OMNI_ORCHESTRATOR_LOOP, RL_WEIGHT_SYNC_GROUP, RL_TRAINING_LOOP,
        V0_WORKER_INIT_MODEL, MODEL_LOADER_GET_MODEL, V02_INIT_CACHE, *OMNI_STAGE_POLL, *HF_PROCESSOR_LOAD,
        *LMCACHE_RETRIEVE, *ROPE_CACHE, *GROUP_BUILD, *LORA_ADAPTER_LOAD, *TOKENIZER_LOAD)),
    *((re.compile(pattern), func, phase)
      for pattern, func, phase in (MODEL_BUILD, WORKER_INIT, WORKER_MODULE, *CONFIG_BUILD, *SWIFT_ROLLOUT)),
)
"""Functions whose phase depends on the file they are in (the path's pattern, the function, the phase):
weak."""

VLLM_GAUDI_V1 = LogGrammar(
    name="vllm-v1-gaudi",
    description="vLLM V1 lines as vllm-project/vllm-gaudi writes them (process-prefixed, bracketed)",
    markers=_GAUDI_MARKERS,
    strong_frames=_GAUDI_STRONG,
    weak_frames=_WEAK,
    bare_warmup_lines=True,
)

VLLM_V1 = LogGrammar(
    name="vllm-v1",
    description="upstream vLLM V1 lines (GPUs, CPUs): no HPU markers",
    markers=(
        _m("weights", Phase.STARTUP,
           r"Starting to load model \S+|Initializing a V[01] LLM engine|Loading weights took [\d.]+ seconds"
           r"|Inferred dynamic dimensions for forward method|^(?:en|dis)abled custom ops: "
           r"|^No custom ops found in model\.|^Using \w+ for CompressedTensors\w+$",
           f"vllm/v1/worker/gpu_model_runner.py:5040, vllm/v1/engine/core.py:134, "
           f"vllm/model_executor/model_loader/default_loader.py:502, vllm/compilation/decorators.py:223 "
           f"(a model class built, inside load_model) @{UPSTREAM}; the custom ops the model's layers chose, "
           f"logged once the model is built (custom_op_log_check, vllm/config/compilation.py:1312-1323, run "
           f"when set_current_vllm_config exits with check_compile, vllm/config/vllm.py:3447-3449, which "
           f"only the loader's initialize_model asks for, vllm/model_executor/model_loader/utils.py:94,126 "
           f"@{UPSTREAM}; https://github.com/vllm-project/vllm/issues/15754); the linear kernel a "
           f"compressed-tensors scheme chose as it creates a layer's weights ('Using %s for "
           f"CompressedTensorsWNA16', create_weights, vllm/model_executor/layers/quantization/"
           f"compressed_tensors/schemes/compressed_tensors_wNa16.py:106,138@{UPSTREAM}; "
           f"https://github.com/vllm-project/llm-compressor/issues/973); "
           f"vllm/engine/llm_engine.py:240@{FORK_122}"),
        _m("weights_done", Phase.STARTUP,
           r"Model loading took (-?[\d.]+) ?Gi?B|Loading model weights took [\d.]+ G",
           f"vllm/v1/worker/gpu_model_runner.py:5150@{UPSTREAM}; V0 vllm/worker/model_runner.py:1203"
           f"@{FORK_122} (older releases wrote GB; before that 'Loading model weights took %.4f GB', "
           f"model_runner.py:1102@8642d8927065)", done=True),
        _m("profile", Phase.PROFILING,
           r"Encoder cache will be initialized|Dynamo bytecode transform time"
           r"|Initial profiling/warmup run took|torch\.compile (?:takes|took) [\d.]+ s in total"
           r"|Compiling a graph for (?:general shape|compile range)|Directly load the compiled graph"
           r"|Cache the graph of compile range"
           r"|Starting profile run for multi-modal models|Starting torch\.compile$"
           r"|Profiling CUDA graph memory: ",
           f"vllm/v1/worker/gpu_model_runner.py:6166, vllm/compilation/backends.py:1167 (torch.compile "
           f"traces the model in its first forward: the profiling run), "
           f"vllm/compilation/monitor.py:20,92, backends.py:296,399 (the first forward's compilation; "
           f"'Cache the graph of compile range %s for later use' at backends.py:383, the same compile() "
           f"storing its first graph just before :399's line) "
           f"@{UPSTREAM}; "
           f"vllm/worker/worker.py:278@{FORK_122}; the CUDA graphs' memory estimated inside "
           f"determine_available_memory (profile_cudagraph_memory, vllm/v1/worker/gpu_model_runner.py:6369, "
           f"called at gpu_worker.py:704@{UPSTREAM}); "
           f"vllm/compilation/monitor.py:40 ('Starting torch.compile', "
           f"the first forward, @{UPSTREAM}); V0's encoder-decoder profile_run: "
           f"vllm/worker/enc_dec_model_runner.py:278@8642d8927065"),
        _m("weights", Phase.STARTUP,
           r"^Preparing request paddings:|^Using (?:exponential|incremental) token paddings:",
           "the TPU model runner's constructor computing its padded token and request counts "
           "(TPUModelRunner.__init__: _get_token_paddings at vllm/v1/worker/tpu_model_runner.py:157, "
           "_get_req_paddings at :245, which log 'Using exponential|incremental token paddings:' and "
           "'Preparing request paddings:' at :1613,1621,1579@95af70093fc0), before load_model (:965): "
           "the worker is being built (https://github.com/google/tunix/issues/256)"),
        _m("profile", Phase.PROFILING, r"^Memory statistics \| total_hbm_limit_gb=",
           "tpu-inference's determine_available_memory, the step that measures what is left for the KV cache "
           "after the model loaded (tpu_inference/worker/tpu_worker_jax.py:172,188@03d76de6eae4, "
           "tpu_worker.py:557@b8692ff01fa1; a 'GPU KV cache size' line follows it): the profiling step "
           "(https://github.com/vllm-project/tpu-inference/issues/898)"),
        _m("profile_done", Phase.PROFILING,
           r"Memory profiling takes [\d.]+ seconds|Memory profiling results:",
           f"the end of the profiling run: V0 determine_num_available_blocks logs it last, before returning "
           f"the block counts (vllm/worker/worker.py:278@{FORK_122}; 'Memory profiling results: ..' in the "
           f"releases before, vllm/worker/worker.py:237-238@efbce85f4d37, "
           f"https://github.com/vllm-project/vllm/pull/11120); V1 logs MemoryProfilingResult (its "
           f"repr, vllm/utils/mem_utils.py:218) when determine_available_memory has profiled @{UPSTREAM}: "
           f"the KV cache is sized next", done=True),
        _m("kv_blocks", Phase.KV_ALLOCATION, r"# (?:GPU|gpu|TPU|tpu|cpu) blocks: \d+",
           f"vllm/executor/executor_base.py:113@{FORK_122} (the platform's device name: '# TPU blocks' on "
           f"TPU, https://github.com/vllm-project/vllm/issues/11132)"),
        _m("warmup", Phase.WARMUP,
           r"Capturing cudagraphs for decoding|Capturing the model for CUDA graphs"
           r"|CUDA graphs can take additional"
           r"|^(?:You can )?also reduce the .max_num_seqs. as needed to decrease"
           r"|Capturing (?:CUDA graph shapes|(?:\w+ )?(?:CUDA|ACL) graphs\b|torchair graph|encoder aclgraph)"
           r"|^Graph capturing for \d+ input tokens",
           f"V0 capture_model's lines and progress bar: vllm/worker/model_runner.py:1513,1589@{FORK_122}, "
           f"model_runner.py:396-400@37ca55810392 (older releases), and the last sentence of its notice, "
           f"which a paste hard-wraps onto a line of its own ('also reduce the `max_num_seqs` as needed to "
           f"decrease memory usage.', model_runner.py:1519-1520@{FORK_122}, "
           f"https://github.com/ai-dynamo/dynamo/issues/787); "
           f"V1 capture_model's progress bar 'Capturing CUDA graphs (mixed prefill-decode, PIECEWISE)': "
           f"vllm/v1/worker/gpu_model_runner.py:6657@{UPSTREAM}; the platform plugins' graph capture: "
           f"vllm-ascend's 'Capturing ACL graphs (..)' bar and 'Capturing torchair graph' "
           f"(vllm_ascend/worker/model_runner_v1.py:2470, vllm_ascend/torchair/torchair_model_runner.py:176"
           f"@{ASCEND}), its V2 runner's 'Capturing (prefill |decode )?CUDA graphs' bars and 'Capturing "
           f"encoder aclgraph' (vllm_ascend/worker/v2/aclgraph_utils.py:170, "
           f"spec_decode/autoregressive/speculator.py:227,243, "
           f"worker/encoder_acl_graph.py:276@{ASCEND_HEAD}); a V1 build's per-size capture lines ('Graph "
           f"capturing for 304 input tokens' then 'finished in 0.050 secs, took 24.00 MiB', from "
           f"capture_model's loop over the sizes, gpu_model_runner.py:2721 in the paste of "
           f"https://github.com/vllm-project/vllm/pull/23184)"),
        _m("warmup", Phase.WARMUP, r"Compiling (?:the model|\w+) with different input shapes\b",
           "the TPU model runner's capture_model compiling each graph over its padded shapes ('Compiling the "
           "model with different input shapes.', then select_hidden_states, compute_logits, "
           "structured_decoding, sample_from_logits, gather_logprobs: vllm/v1/worker/tpu_model_runner.py:"
           "1145-1273, called from compile_or_warm_up_model, tpu_worker.py:245@95af70093fc0; V0's TPU runner "
           "'Compiling the model with different input shapes...' in warmup_model, run by initialize_cache "
           "after the KV cache is allocated, vllm/worker/tpu_model_runner.py:282-308, tpu_worker.py:183-216"
           "@95af70093fc0)"),
        _m("warmup", Phase.WARMUP, r"^batch_size: \d+, seq_len: \d+$",
           "V0's TPU model runner compiling one padded shape after another in warmup_model ('batch_size: %d, "
           "seq_len: %d' for each prefill and decode shape, vllm/worker/tpu_model_runner.py:297,319,340"
           "@95af70093fc0), run by initialize_cache once the KV cache is allocated (tpu_worker.py:183-216): "
           "warm-up (https://github.com/vllm-project/vllm/issues/13707)"),
        _m("kv_allocated", Phase.KV_ALLOCATION, r"^Precompile (?:worker\d+ )?(?:sample|gather_logprobs)\b",
           "tpu-inference compiling its sampler and log-prob gathering before it allocates the KV cache "
           "(TPUWorker.initialize_from_config: _precompile_sampling, _precompile_gather_logprobs, then "
           "initialize_kv_cache, tpu_inference/worker/tpu_worker.py:705-722; each compilation logs "
           "'Precompile %s --> %s', tpu_inference/runner/compilation_manager.py:137@b8692ff01fa1; "
           "before a085cc6b9, "
           "2025-12-19, they ran in capture_model with the rest)"),
        _m("warmup", Phase.WARMUP, r"^Precompile (?:all the subgraphs|(?:worker\d+ )?\w+ --> )",
           "tpu-inference's capture_model compiling every other graph over its padded shapes "
           "('Precompile all the subgraphs with possible input shapes.', then 'Precompile %s --> %s' per "
           "graph, "
           "tpu_inference/runner/compilation_manager.py:137,233-294@b8692ff01fa1), run by "
           "compile_or_warm_up_model after the KV cache exists (tpu_inference/worker/tpu_worker.py:669-670)"),
        _m("warmup", Phase.WARMUP, r"^DeepG(?:EMM|emm)(?:\(\w+\))? warmup\b",
           "DeepGEMM's kernel warm-up bar ('DeepGEMM warmup', "
           "vllm/model_executor/warmup/deep_gemm_warmup.py:369@vllm==0.32.0, run by kernel_warmup from "
           "compile_or_warm_up_model after the KV cache is allocated; "
           "older releases wrote 'DeepGemm(fp8_gemm_nt) warmup (W=..)', https://github.com/vllm-project/vllm/"
           "pull/30903)"),
        _m("warmup", Phase.WARMUP, r"Waiting for pending NCCL work to finish before starting graph capture",
           "a device graph's capture starting while collective work is pending (torch's CUDAGraph "
           "capture_begin, CUDAGraph.cpp:145 as its warning names it in a 2024 release, "
           "https://github.com/zjunlp/KnowLM/issues/106; torch_npu's NPUGraph, NPUGraph.cpp:223, "
           "https://github.com/vllm-project/vllm-ascend/issues/12989): graph capture"),
        _m("warmup", Phase.WARMUP, r"\[Autotuner\]: Autotuning process starts",
           f"FlashInfer's autotuner tuning its kernels (flashinfer/autotuner.py's 'Autotuning process "
           f"starts ...'), run by vLLM only inside kernel_warmup (flashinfer_autotune, "
           f"vllm/model_executor/warmup/kernel_warmup.py:268,404-483, from compile_or_warm_up_model, "
           f"vllm/v1/worker/gpu_worker.py:950@{UPSTREAM}) after the KV cache is allocated "
           f"(https://github.com/vllm-project/vllm/pull/23439)"),
        _m("warmup", Phase.WARMUP, r"dummy run to warm up the model",
           "vllm-omni's diffusion engine warming its stage up once the model is loaded (DiffusionEngine's "
           "dummy run, vllm_omni/diffusion/diffusion_engine.py:347-359@be81443c8a52)"),
        _m("warmup", Phase.WARMUP, r"Warming up model for the compilation\.\.\.",
           f"the CPU model runner compiling its graphs (warming_up_model, "
           f"vllm/v1/worker/cpu_model_runner.py:84-90, v1/worker/cpu/model_runner.py:13@{UPSTREAM}), run "
           f"from compile_or_warm_up_model after the KV cache is sized (cpu_worker.py:264-268), or inside "
           f"determine_available_memory when the KV space is not "
           f"given (:204-206): seen before any KV sizing line it is the profiling run's, like an early graph "
           f"capture (https://github.com/vllm-project/vllm/pull/39910)"),
        _m("warmup_done", Phase.WARMUP, r"Graph capturing finished in \d+ secs",
           f"vllm/worker/model_runner.py:1671@{FORK_122}; "
           f"vllm/v1/worker/gpu_model_runner.py:6582@{UPSTREAM}"),
        _m("kv_blocks", Phase.KV_ALLOCATION,
           r"Available KV cache memory:|memory for KV Cache as specified by kv_cache_memory_bytes"
           r"|Free memory after profiling|CUDA graph memory profiling is enabled"
           r"|KV cache size: [\d,]+ tokens|Maximum concurrency for [\d,]+ tokens per request",
           f"vllm/v1/worker/gpu_worker.py:753-785 (profiled: free memory, the KV budget, the CUDA graph "
           f"estimate) and :657-668 (kv_cache_memory_bytes given, "
           f"profiling skipped), vllm/v1/core/kv_cache_utils.py:2328 (the KV cache sized) @{UPSTREAM}; "
           f"vllm/executor/executor_base.py:119@{FORK_122}"),
        _m("init_done", Phase.WARMUP, r"init engine \(profile, create kv cache, warmup model\) took",
           f"vllm/v1/engine/core.py:386-403@{UPSTREAM}"),
        *_STARTING,
        *_LOADING,
        *_SERVING,
    ),
    strong_frames=_GAUDI_STRONG + _V0_STRONG,
    weak_frames=_WEAK,
)

GRAMMARS: dict[str, LogGrammar] = {
    "vllm-fork-1.21": VLLM_FORK_V0,
    "vllm-fork": VLLM_FORK_V0,
    "vllm-gaudi": VLLM_GAUDI_V1,
    "vllm": VLLM_V1,
}
"""Engine profile name -> its grammar (each profile holds its own as ``profile.log_grammar``; the
engine-profile tests check the two agree)."""

ALL_GRAMMARS: tuple[LogGrammar, ...] = (VLLM_FORK_V0, VLLM_GAUDI_V1, VLLM_V1)
"""Tried in turn when the engine is unknown."""


def grammar_for(target: str | None) -> tuple[LogGrammar, ...]:
    """The grammars to read a log with: the target's, or all of them for ``None``.

    An unknown name is the caller's mistake (the CLI restricts choices); it gets all grammars.
    """
    if target is None or target not in GRAMMARS:
        return ALL_GRAMMARS
    return (GRAMMARS[target],)
