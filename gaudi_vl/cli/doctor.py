"""``gaudi-vl doctor LOGFILE|-``: read an engine log, say where it failed and what to change.

Streams the file (or stdin for ``-``) line by line, so a live log piped in is diagnosed as it
grows and a huge one never sits in memory. Text format prints each finding as it is found, then
the report; JSON prints the report once the input ends. Exit status: 0 the log was read, 3 it shows
a failure (out of memory), 1 no line was recognised, 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TextIO

from gaudi_vl.cli.argtypes import positive_int
from gaudi_vl.doctor import Doctor, DoctorReport
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import DEFAULT_MODEL

EXIT_UNRECOGNISED = 1
EXIT_FAILURE_FOUND = 3


def _lines(stream: TextIO) -> Iterable[str]:
    # readline keeps a pipe live: each line is handled as soon as it arrives
    while True:
        line = stream.readline()
        if not line:
            return
        yield line


def format_report(report: DoctorReport, source: str) -> str:
    out = [f"gaudi-vl doctor: {source}: {report.lines_read:,} lines, {report.recognised_lines:,} recognised"]
    if report.phase_reached:
        out.append(f"reached: {report.phase_reached.value}")
    if report.failed and report.failure_phase:
        out.append(f"FAILED in {report.failure_phase.value}: {report.failure}")
    m = report.memory
    if "free_bytes" in m:
        out.append(
            f"memory: free {m['free_bytes'] / 2**30:.2f} GiB, gpu_memory_utilization="
            f"{m['gpu_memory_utilization']:g}, VLLM_GRAPH_RESERVED_MEM={m['graph_reserved_mem']:g}, "
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
    elif report.recognised:
        out.append("advice: none, the log looks healthy")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    doctor = Doctor(model, tp=args.tp, fp32_softmax_vision=args.fp32_softmax_vision)
    source = "stdin" if args.logfile == "-" else args.logfile
    text = args.format == "text"
    try:
        stream: TextIO = (
            sys.stdin if args.logfile == "-" else open(args.logfile, encoding="utf-8", errors="replace")  # noqa: SIM115
        )
    except OSError as exc:
        raise GaudiVLError(
            f"cannot read {args.logfile}: {exc.strerror}", "give a log file path or - for stdin"
        ) from None
    try:
        for line in _lines(stream):
            for finding in doctor.feed(line):
                if text:
                    print(f"[{finding.phase.value}] line {finding.line_no}: {finding.message}", flush=True)
    finally:
        if stream is not sys.stdin:
            stream.close()
    report = doctor.report()
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(format_report(report, source))
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
            "tell the phase where it failed (start-up/weights, profiling, KV allocation, warm-up, serving) "
            "and print the changes to make: env values computed from the log's numbers, max_pixels, TP."
        ),
        epilog="Example: vllm serve ... 2>&1 | gaudi-vl doctor -   |   gaudi-vl doctor server.log "
               "--format json. Exit: 0 read, 3 failure found, 1 nothing recognised.",
    )
    p.add_argument("logfile", metavar="LOGFILE|-")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME|DIR",
                   help="model the log is from, to size its vision tower (default: %(default)s)")
    p.add_argument("--tp", type=positive_int, default=1, metavar="N",
                   help="tensor parallel size of that engine")
    p.add_argument("--fp32-softmax-vision", action="store_true",
                   help="the engine ran VLLM_FP32_SOFTMAX_VISION=1")
    p.set_defaults(handler=run)
