"""``gaudi-vl doctor LOGFILE|-``: read an engine log, say where it failed and what to change.

Streams the file (or stdin for ``-``) in pieces of at most 1 MiB (``read1``: a live pipe is
diagnosed as it grows), so a huge log never sits in memory (only the first ``MAX_LINE_CHARS`` of a
line are kept), and hands each piece's lines to ``Doctor.feed_many`` (tens of MB/s, BENCHMARKS.md).
A failure whose phase the log does not show is printed as "phase unknown", never guessed. Text
format prints each finding as it is found, then the report; JSON
prints the report once the input ends. ``--target`` reads the log with that engine's grammar only
(default: try them all). Exit status: 0 the log was read, 3 it shows a failure (any traceback, fatal
runtime error or engine death, memory or not), 1 no line was recognised, 2 usage errors.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import stat
import sys
from collections.abc import Iterable
from typing import TextIO

from gaudi_vl.cli.options import setting_type
from gaudi_vl.doctor import MAX_LINE_CHARS, Doctor, DoctorReport
from gaudi_vl.engines.logs import GRAMMARS
from gaudi_vl.errors import GaudiVLError, printable, printable_lines
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import DEFAULT_MODEL

EXIT_UNRECOGNISED = 1
EXIT_FAILURE_FOUND = 3


CHUNK = 1 << 20


def iter_lines(stream: TextIO, keep: int = MAX_LINE_CHARS) -> Iterable[str]:
    """Each line of ``stream`` as soon as it arrives, cut to ``keep`` characters (``iter_chunks``)."""
    for chunk in iter_chunks(stream, keep):
        yield from chunk


def iter_chunks(stream: TextIO, keep: int = MAX_LINE_CHARS) -> Iterable[list[str]]:
    """The lines of ``stream`` in lists, each list as soon as it arrives (a pipe stays live), each
    line cut to ``keep`` characters.

    Read in pieces of at most ``CHUNK`` bytes (``read1``: whatever a pipe has, without waiting for a
    full piece), decoded incrementally (bad UTF-8 replaced), split into lines; memory is bounded by
    one piece plus ``keep`` characters of an unfinished line: the rest of a runaway line is dropped
    as it streams by. A stream without a byte buffer (``io.StringIO``) is read with ``readline``.
    """
    raw = getattr(stream, "buffer", None)
    if raw is None or not hasattr(raw, "read1"):
        for line in _iter_text_lines(stream, keep):
            yield [line]
        return
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    carry = ""
    runaway = False  # the current line passed ``keep`` characters: its rest is dropped
    while True:
        block = raw.read1(CHUNK)
        text = decoder.decode(block, final=not block)
        if text:
            pieces = text.split("\n")
            lines: list[str] = []
            tail = pieces[-1]
            if len(pieces) > 1:
                if not runaway:  # the line the last piece began (a runaway's rest is dropped)
                    lines.append((carry + pieces[0])[:keep] + "\n")
                lines += [piece[:keep] + "\n" for piece in pieces[1:-1]]
                carry, runaway = tail[:keep], False
            elif not runaway:
                carry += tail
            if len(carry) >= keep and not runaway:
                lines.append(carry[:keep] + "\n")
                carry, runaway = "", True
            if lines:
                yield lines
        if not block:
            if carry:
                yield [carry[:keep]]
            return


def _iter_text_lines(stream: TextIO, keep: int) -> Iterable[str]:
    while True:
        line = stream.readline(1 << 16)
        if not line:
            return
        head, rest = line[:keep], line
        while not rest.endswith("\n"):
            rest = stream.readline(1 << 16)
            if not rest:
                break
        yield head


def format_report(report: DoctorReport, source: str) -> str:
    out = [f"gaudi-vl doctor: {source}: {report.lines_read:,} lines, {report.recognised_lines:,} recognised"]
    if report.phase_reached:
        out.append(f"reached: {report.phase_reached.value}")
    if report.failed:
        who = f" (reported by {report.failure_processes} processes)" if report.failure_processes > 1 else ""
        where = (f"in {report.failure_phase.value}" if report.failure_phase
                 else "(phase unknown: the log shows no phase marker or phase frame before it)")
        out.append(f"FAILED {where}: {report.failure}{who}")
    if report.ended_during and report.ended_during.startswith("after warm-up"):
        out.append(f"log ends {report.ended_during}: no failure line (the engine was initialised)")
    elif report.ended_during:
        out.append(f"log ends during {report.ended_during}: no failure line (still running, hung, or killed)")
    if report.shutdown_noise:
        out.append(f"shutdown noise: {report.shutdown_noise} teardown traceback(s) at exit (destructors, "
                   "interpreter shutdown): not failures")
    if report.unreadable_lines:
        shown = ", ".join(str(n) for n in report.unreadable_line_numbers)
        out.append(f"unreadable lines: {report.unreadable_lines} (line {shown})")
    m = report.memory
    if "free_bytes" in m:
        out.append(
            f"memory: free {m['free_bytes'] / 2**30:.2f} GiB, gpu_memory_utilization="
            f"{m['gpu_memory_utilization']:g}, graph reserve {m['graph_reserved_mem']:g}, "
            f"KV {m['kv_cache_bytes'] / 2**30:.2f} GiB"
        )
    if report.images_padded:
        out.append(
            f"images: {report.images_padded:,} padded, largest {report.largest_image_seen} patches into "
            f"bucket {report.largest_bucket_seen}, {100 * report.padding_fraction:.1f}% padding"
        )
    if report.recompilations:
        out.append(f"recompilations: {report.recompilations}")
    if report.advice:
        out.append("advice:")
        out += [f"  - {a}" for a in report.advice]
    elif report.failed and report.failure_kind != "oom":
        out.append("advice: none from the log's numbers (not an out-of-memory failure)")
    elif report.failed:
        out.append("advice: none (the log lacks the numbers to compute a change)")
    elif report.recognised and not report.ended_during:
        out.append("advice: none, the log looks healthy")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    doctor = Doctor(model, tp=args.tp, fp32_softmax_vision=args.fp32_softmax_vision, grammar=args.target,
                    unwrap=True)  # a saved or pasted log: lines a paste wrapped are joined
    source = "stdin" if args.logfile == "-" else args.logfile
    text = args.format == "text"
    live = args.logfile == "-"
    """A pipe may be a running engine: a line held for a possible continuation is read once the pipe has
    nothing more for now (``flush``), so findings come as the lines arrive."""
    try:
        if args.logfile != "-":
            mode = os.stat(args.logfile).st_mode
            live = stat.S_ISFIFO(mode)
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                raise GaudiVLError(
                    f"{args.logfile} is not a log file or a pipe (a device or a folder never ends or never "
                    "starts)", "give a log file path, a FIFO, or - for stdin"
                )
        stream: TextIO = (
            sys.stdin if args.logfile == "-" else open(args.logfile, encoding="utf-8", errors="replace")  # noqa: SIM115
        )
    except OSError as exc:
        raise GaudiVLError(
            f"cannot read {args.logfile}: {exc.strerror}", "give a log file path or - for stdin"
        ) from None
    try:
        for chunk in iter_chunks(stream):
            for finding in doctor.feed_many(chunk) + (doctor.flush() if live else []):
                if text:
                    where = finding.phase.value if finding.phase else "phase unknown"
                    shown = f"[{where}] line {finding.line_no}: {finding.message}"
                    print(printable(shown), flush=True)  # log text is untrusted
    finally:
        if stream is not sys.stdin:
            stream.close()
    report = doctor.report()
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(printable_lines(format_report(report, source)))  # log text is untrusted
    if not report.recognised:
        print(
            f"gaudi-vl doctor: no engine log line recognised in {source} ({report.lines_read} lines); "
            "is this a vllm-fork / vllm-gaudi server log?",
            file=sys.stderr,
        )
        return EXIT_UNRECOGNISED
    return EXIT_FAILURE_FOUND if report.failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="diagnose an engine log: failing phase, memory figures, concrete changes",
        description=(
            "Read a vllm-fork / vllm-gaudi log (a file, or - for stdin, e.g. a live server piped in), "
            "report every failure (traceback, Habana FATAL/synapse error, engine death) with the phase it "
            "happened in (start-up/weights, profiling, KV allocation, warm-up, serving) and, for out-of-"
            "memory failures, the changes to make: env values computed from the log's numbers, "
            "max_pixels, TP."
        ),
        epilog="Example: vllm serve ... 2>&1 | gaudi-vl doctor -   |   gaudi-vl doctor server.log "
               "--format json. Exit: 0 read, 3 failure found, 1 nothing recognised.",
    )
    p.add_argument("logfile", metavar="LOGFILE|-")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--target", choices=sorted(GRAMMARS), default=None,
                   help="the engine that wrote the log (default: unknown, try every engine's grammar)")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME|DIR",
                   help="model the log is from, to size its vision tower (default: %(default)s)")
    p.add_argument("--tp", type=setting_type("tensor_parallel_size"), default=1, metavar="N",
                   help="tensor parallel size of that engine")
    p.add_argument("--fp32-softmax-vision", action="store_true",
                   help="the engine ran with fp32 softmax in the vision tower")
    p.set_defaults(handler=run)
