"""``gaudi-vl serve``: compute the plan, then print it as a script (``--dry-run``) or run the engine."""

from __future__ import annotations

import argparse
import sys

from gaudi_vl.cli.plan import add_plan_arguments, plan_from_args
from gaudi_vl.launch import render_script, run_engine


def run(args: argparse.Namespace) -> int:
    if args.model_pos is not None:
        args.model = args.model_pos
    plan = plan_from_args(args)
    extra = list(args.passthrough)
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
    add_plan_arguments(p)
    p.add_argument("--dry-run", action="store_true", help="print a bash script (exports + exec) and exit")
    p.add_argument("--python", metavar="EXE", help="interpreter that runs the engine (default: this one)")
    p.set_defaults(handler=run)
