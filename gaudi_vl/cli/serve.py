"""``gaudi-vl serve``: compute the plan, then print it as a script (``--dry-run``) or run the engine.

The plan options are ``gaudi-vl plan``'s (``gaudi_vl.cli.plan.add_plan_arguments`` /
``plan_from_args``); ``--plan FILE`` starts from a saved ``gaudi-vl plan --format json`` instead. An
option given both on the command line and in the file with different values is an error, not a silent
choice: to tell "given" from "defaulted", the plan options are registered here with
``argparse.SUPPRESS`` defaults and the real defaults are filled in afterwards.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gaudi_vl.cli.plan import add_plan_arguments, plan_from_args
from gaudi_vl.cli.workload_options import check_workload_options
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.launch import render_script, run_engine
from gaudi_vl.plan import Plan, Resolution

PLAN_FILE_OPTIONS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    # argparse dest: (the command-line flag, how to read its value from a plan JSON)
    "model": ("MODEL/--model", lambda d: d["model"]["ref"]),
    "target": ("--target", lambda d: d["target"]),
    "min_pixels": ("--min-pixels", lambda d: d["pixel_range"]["min_pixels"]),
    "max_pixels": ("--max-pixels", lambda d: d["pixel_range"]["max_pixels"]),
    "max_aspect": ("--max-aspect", lambda d: d["pixel_range"]["max_aspect_ratio"]),
    "buckets": ("--buckets", lambda d: ",".join(str(b) for b in d["buckets"])),
    "tp": ("--tp", lambda d: d["serve"]["tensor_parallel_size"]),
    "max_model_len": ("--max-model-len", lambda d: d["serve"]["max_model_len"]),
    "max_num_seqs": ("--max-num-seqs", lambda d: (d["memory"] or d["serve"])["max_num_seqs"]),
    "max_num_batched_tokens": ("--max-num-batched-tokens", lambda d: d["serve"]["max_num_batched_tokens"]),
    "gpu_memory_utilization": (
        "--gpu-memory-utilization", lambda d: (d["memory"] or d["serve"])["gpu_memory_utilization"],
    ),
    "images_per_prompt": ("--images-per-prompt", lambda d: d["serve"]["images_per_prompt"]),
    "host": ("--host", lambda d: d["serve"]["host"]),
    "port": ("--port", lambda d: d["serve"]["port"]),
    "fp32_softmax": ("--fp32-softmax", lambda d: d["serve"]["fp32_softmax"]),
    "fp32_softmax_vision": ("--fp32-softmax-vision", lambda d: d["serve"]["fp32_softmax_vision"]),
    "skip_warmup": ("--skip-warmup", lambda d: d["serve"]["skip_warmup"]),
    "align": ("--no-align", lambda d: d["serve"]["align"]),
}
"""What a plan file fixes. The rest (workload, device) shaped the saved plan already."""

BUCKET_SHAPING = {"strategy": "--strategy", "step": "--step", "count": "--count", "workload": "--workload"}
"""Options that choose buckets: with ``--plan`` the file's bucket list is final, so these conflict."""


REPLAN = "write one with gaudi-vl plan --json -o FILE"


def read_plan_file(path: str) -> dict[str, Any]:
    """The option values a ``gaudi-vl plan --format json`` file holds, by argparse dest."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GaudiVLError(f"plan file {path} does not exist", REPLAN) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GaudiVLError(f"plan file {path} is not readable JSON ({exc})", REPLAN) from None
    try:
        values = {dest: read(data) for dest, (_flag, read) in PLAN_FILE_OPTIONS.items()}
        values["resolutions"] = tuple(data.get("resolutions") or ())
    except (KeyError, TypeError) as exc:
        raise GaudiVLError(f"plan file {path} is not a gaudi-vl plan (missing {exc})", REPLAN) from None
    return values


def parse_resolution(text: str) -> Resolution:
    """``WxH`` or ``WxHxN`` as ``Resolution.__str__`` writes it."""
    parts = [int(p) for p in text.split("x")]
    return Resolution(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)


def resolve_options(args: argparse.Namespace, defaults: dict[str, Any]) -> tuple[argparse.Namespace, tuple]:
    """Fill in defaults, the positional MODEL and the plan file; refuse conflicting values."""
    given = {dest for dest in defaults if hasattr(args, dest)}
    if args.model_pos is not None:
        if "model" in given and args.model != args.model_pos:
            raise GaudiVLError(
                f"MODEL {args.model_pos} conflicts with --model {args.model}", "give the model once"
            )
        args.model = args.model_pos
        given.add("model")
    resolutions: tuple = ()
    if args.plan is not None:
        saved = read_plan_file(args.plan)
        resolutions = saved.pop("resolutions")
        conflicts = [
            f"{PLAN_FILE_OPTIONS[dest][0]} {getattr(args, dest)} vs {saved[dest]} in {args.plan}"
            for dest in sorted(given & saved.keys())
            if getattr(args, dest) != saved[dest]
        ]
        conflicts += [
            f"{flag} vs the bucket list in {args.plan}"
            for dest, flag in BUCKET_SHAPING.items()
            if dest in given
        ]
        if conflicts:
            raise GaudiVLError(
                "options conflict with the plan file: " + "; ".join(conflicts),
                "drop them from the command line or re-plan",
            )
        for dest, value in saved.items():
            setattr(args, dest, value)
        if "buckets" in saved:
            args.strategy = defaults.get("strategy")
    for dest, value in defaults.items():
        if not hasattr(args, dest):
            setattr(args, dest, value)
    return args, resolutions


def build(args: argparse.Namespace, defaults: dict[str, Any]) -> Plan:
    args, resolutions = resolve_options(args, defaults)
    check_workload_options(args)
    plan = plan_from_args(args)
    if resolutions and not plan.resolutions:
        plan = replace(plan, resolutions=tuple(parse_resolution(r) for r in resolutions))
    return plan


def run(args: argparse.Namespace, defaults: dict[str, Any]) -> int:
    plan = build(args, defaults)
    extra = list(getattr(args, "passthrough", []))
    if args.dry_run:
        sys.stdout.write(render_script(plan, extra, python=args.python or "python"))
        return 0
    return run_engine(plan, extra, python=args.python or sys.executable)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="start the engine's OpenAI server with a computed plan",
        description=(
            "Compute the plan (same options as 'gaudi-vl plan') and start "
            "'python -m vllm.entrypoints.openai.api_server' with its environment and flags. "
            "The engine's log is streamed; OOM lines get the doctor's advice. Ctrl-C stops it."
        ),
        epilog=(
            "Extra engine flags go after --. Print the exact script instead of running it: "
            "gaudi-vl serve qwen2.5-vl-7b --dry-run > serve.sh"
        ),
    )
    p.add_argument("model_pos", nargs="?", metavar="MODEL", help="built-in name or local model folder")
    before = len(p._actions)
    add_plan_arguments(p)
    defaults: dict[str, Any] = {}
    for action in p._actions[before:]:
        defaults[action.dest] = action.default
        action.default = argparse.SUPPRESS
    r = p.add_argument_group("serve")
    r.add_argument("--plan", metavar="FILE", help="start from a saved plan (gaudi-vl plan --json -o FILE)")
    r.add_argument("--dry-run", action="store_true", help="print a bash script (exports + exec) and exit")
    r.add_argument("--python", metavar="EXE", help="interpreter that runs the engine (default: this one)")
    p.set_defaults(handler=functools.partial(run, defaults=defaults))
