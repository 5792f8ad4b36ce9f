"""``gaudi-vl serve``: compute the plan (or take a saved one), then print it as a script (``--dry-run``)
or run the engine with it.

The plan options are ``gaudi-vl plan``'s (``gaudi_vl.cli.plan.add_plan_arguments``). ``--plan FILE``
runs a saved ``gaudi-vl plan --json`` file exactly as written (device, memory and environment
included: it is never re-planned), so planning options beside it are an error, not a silent choice.
Without ``--target`` (and without ``--dry-run``, whose script may run elsewhere) the engine installed
in ``--python``'s interpreter picks the profile; with ``--target`` a different installed engine is a
one-line error that names the flag to pass.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import Any

from gaudi_vl.cli.plan import add_plan_arguments, plan_from_args
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.fileio import read_json_file
from gaudi_vl.launch import detect_engine, render_script, run_engine
from gaudi_vl.plan import Plan
from gaudi_vl.planfile import REPLAN, plan_from_dict

MAX_PLAN_FILE_BYTES = 16 << 20
"""A plan file is a few KB; anything this large is not one."""


def read_plan_file(path: str) -> Plan:
    """The plan a ``gaudi-vl plan --json`` file holds, checked (``gaudi_vl.planfile``); read strictly
    (a regular file of at most 16 MiB, UTF-8 JSON: ``gaudi_vl.fileio.read_json_file``)."""
    try:
        data = read_json_file(Path(path), "plan file", MAX_PLAN_FILE_BYTES)
    except GaudiVLError as exc:
        raise GaudiVLError(exc.message, REPLAN) from None
    try:
        return plan_from_dict(data)
    except GaudiVLError as exc:
        raise GaudiVLError(exc.message.replace("plan file:", f"plan file {path}:", 1), exc.hint) from None


def build(args: argparse.Namespace, defaults: dict[str, Any]) -> Plan:
    """The plan to serve: the file as written, or planned from the options."""
    given = sorted(dest for dest in defaults if hasattr(args, dest))
    if args.plan is not None:
        if given:
            flags = ", ".join("--" + d.replace("_", "-") for d in given)
            raise GaudiVLError(
                f"{flags} given with --plan {args.plan}: a plan file is served as written",
                f"drop them, or re-plan: gaudi-vl plan ... --json -o {args.plan}",
            )
        plan = read_plan_file(args.plan)
        if args.model_pos is not None and args.model_pos != plan.model_ref:
            raise GaudiVLError(
                f"MODEL {args.model_pos} differs from the plan file's model {plan.model_ref}",
                "drop MODEL or re-plan for it",
            )
        return plan
    if args.model_pos is not None:
        if "model" in given and args.model != args.model_pos:
            raise GaudiVLError(f"MODEL {args.model_pos} conflicts with --model {args.model}",
                               "give the model once")
        args.model = args.model_pos
    for dest, value in defaults.items():
        if not hasattr(args, dest):
            setattr(args, dest, value)
    if "target" not in given and not args.dry_run:
        found = detect_engine(args.python or sys.executable)
        if found is not None:
            args.target = found.name
    plan, _report = plan_from_args(args)
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
            "Compute the plan (same options as 'gaudi-vl plan', or --plan FILE) and start "
            "'python -m vllm.entrypoints.openai.api_server' with its environment and flags. "
            "The engine's log is streamed; OOM lines get the doctor's advice. Ctrl-C stops it."
        ),
        epilog=(
            "Extra engine flags go after --. Print the exact script instead of running it: "
            "gaudi-vl serve qwen2.5-vl-7b --dry-run > serve.sh. Without --target the installed "
            "engine chooses the profile."
        ),
    )
    p.add_argument("model_pos", nargs="?", metavar="MODEL", help="built-in name or local model folder")
    before = len(p._actions)
    add_plan_arguments(p)
    defaults: dict[str, Any] = {}
    for action in p._actions[before:]:
        if action.dest not in defaults or defaults[action.dest] is argparse.SUPPRESS:
            defaults[action.dest] = action.default
        action.default = argparse.SUPPRESS
    from gaudi_vl.settings import DEFAULTS

    for dest in list(defaults):
        if defaults[dest] is argparse.SUPPRESS:
            defaults[dest] = DEFAULTS.get(dest)
    r = p.add_argument_group("serve")
    r.add_argument("--plan", metavar="FILE",
                   help="serve a saved plan as written (gaudi-vl plan --json -o FILE)")
    r.add_argument("--dry-run", action="store_true", help="print a bash script (exports + exec) and exit")
    r.add_argument("--python", metavar="EXE", help="interpreter that runs the engine (default: this one)")
    p.set_defaults(handler=functools.partial(run, defaults=defaults))
