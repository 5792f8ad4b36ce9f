"""``gaudi-vl plan``: buckets, memory, environment and server command for a model and pixel range.

Also exposes ``add_plan_arguments`` / ``plan_from_args`` so that ``serve`` takes the same options.
The serving options come from the settings' one declaration (``gaudi_vl.cli.options``); the plan is
assembled by ``gaudi_vl.assembly.assemble``.
"""

from __future__ import annotations

import argparse
import os
import sys

from gaudi_vl.assembly import PlanRequest, assemble
from gaudi_vl.buckets.planner import Strategy
from gaudi_vl.cli.argtypes import bucket_count, patch_step, pixels
from gaudi_vl.cli.options import add_setting_arguments, given_settings, settings_from_args
from gaudi_vl.cli.workload_options import (
    add_workload_arguments,
    check_workload_options,
    fit_text_workload,
    workload_solver,
)
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.exporters import FORMATTERS, format_plan
from gaudi_vl.fileio import write_text_output
from gaudi_vl.geometry import MAX_ASPECT_RATIO
from gaudi_vl.k8s import K8S_FIELDS, K8sOptions
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import DEFAULT_MODEL, max_model_len_notes
from gaudi_vl.plan import Plan
from gaudi_vl.settings import AUTO_TARGET
from gaudi_vl.workload import WorkloadReport


def parse_bucket_list(text: str) -> tuple[int, ...]:
    """``--buckets``: comma-separated patch counts (gaudi-vl's policy: multiples of 64, each once)."""
    items = [t.strip() for t in text.split(",")]
    if not text.strip() or any(not t for t in items):
        raise GaudiVLError(f"--buckets {text!r} has an empty item", "list patch counts, e.g. 2048,4096,8192")
    values = []
    for t in items:
        if not t.isdigit() or len(t) > 9:
            raise GaudiVLError(f"bucket {t!r} in --buckets is not a patch count",
                               "e.g. --buckets 2048,4096,8192")
        values.append(int(t))
    return tuple(values)


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``plan`` and ``serve``."""
    m = parser.add_argument_group("model and images")
    m.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME|DIR",
                   help="built-in name (qwen2.5-vl-3b/7b/32b/72b, qwen3-vl-8b/32b/30b-a3b/235b-a22b, "
                        "qwen2-vl-7b, gemma-3-27b, llama-4-scout, or the HF id) or a local model folder "
                        f"with config.json (default: {DEFAULT_MODEL})")
    m.add_argument("--min-pixels", type=pixels, metavar="PX",
                   help="smallest image area after resizing, e.g. 401408 (= 2048 patches); "
                        "default: the model's preprocessor_config.json")
    m.add_argument("--max-pixels", type=pixels, metavar="PX",
                   help="largest image area, e.g. 1003520 or 1280*28*28; default: the model's processor, "
                        "lowered to the largest that fits the device when it does not")
    m.add_argument("--max-aspect", type=float, default=MAX_ASPECT_RATIO, metavar="R",
                   help="plan for images up to R:1 (default: 200, the processor's limit); very wide "
                        "images can exceed max_pixels because the short side is clamped to 112 px")
    b = parser.add_argument_group("buckets")
    b.add_argument("--strategy", choices=[s.value for s in (Strategy.DEFAULT, Strategy.LINEAR, Strategy.EXP)],
                   default=Strategy.DEFAULT.value,
                   help="default: the engine's list clipped to the range and extended to its ends; "
                        "linear: every --step patches; exp: --count buckets in geometric progression")
    b.add_argument("--step", type=patch_step, metavar="PATCHES", help="linear step (multiple of 64)")
    b.add_argument("--count", type=bucket_count, metavar="N", help="number of exp buckets (default 8)")
    b.add_argument("--buckets", metavar="LIST",
                   help="validate and use your own list, e.g. 2048,4096,8192")
    add_setting_arguments(parser)
    add_workload_arguments(parser)


LONG_MAX_MODEL_LEN_VAR = "VLLM_ALLOW_LONG_MAX_MODEL_LEN"
"""vLLM's own switch that turns its max_model_len refusal into a warning (``models.max_model_len_notes``)."""


def resolve_auto_target(args: argparse.Namespace) -> None:
    """``--target auto``: the profile of the engine ``--python``'s interpreter has installed, found by
    the same probe ``gaudi-vl serve`` uses (``launch.detect_engine``); a one-line error when none is."""
    if getattr(args, "target", None) != AUTO_TARGET:
        return
    from gaudi_vl.engines import NAMES
    from gaudi_vl.launch import detect_engine

    python = getattr(args, "python", None) or sys.executable
    found = detect_engine(python)
    if found is None:
        raise GaudiVLError(f"--target auto: no vLLM engine is installed for {python}",
                           f"install one or pass --target with one of {', '.join(NAMES)}")
    args.target = found.name


def request_from_args(args: argparse.Namespace) -> PlanRequest:
    model = load_model(args.model)
    resolve_auto_target(args)
    serve = settings_from_args(args)
    long_ok = os.environ.get(LONG_MAX_MODEL_LEN_VAR, "0").strip().lower() in ("1", "true")
    return PlanRequest(
        model=model,
        serve=serve,
        notes=max_model_len_notes(model, serve.max_model_len, long_ok),
        min_pixels=args.min_pixels,
        max_pixels=args.max_pixels,
        max_aspect=args.max_aspect,
        strategy=Strategy(args.strategy),
        step=args.step,
        count=args.count,
        user_buckets=None if args.buckets is None else parse_bucket_list(args.buckets),
        model_ref=model.hf_id,
    )


def plan_from_args(args: argparse.Namespace) -> tuple[Plan, WorkloadReport | None]:
    """Build the full plan (and the workload report) from parsed ``plan`` / ``serve`` options."""
    if load_model(args.model).family is not None:
        from gaudi_vl.cli.family_plan import family_plan_from_args

        plan, _report, _workload = family_plan_from_args(args)
        return plan, None
    check_workload_options(args)
    req = request_from_args(args)
    req = fit_text_workload(args, req)
    return assemble(req, workload_solver(args, req.model, req.serve))


K8S_DEST = "k8s_"
"""Namespace prefix of the Kubernetes options (``gaudi_vl.k8s.K8sOptions``), apart from the serving ones."""


def k8s_options_from_args(args: argparse.Namespace) -> K8sOptions:
    """The Kubernetes options given on the command line, defaults for the rest."""
    return K8sOptions(**given_settings(args, K8S_FIELDS, K8S_DEST))


def run(args: argparse.Namespace) -> int:
    from gaudi_vl.cli.family_plan import family_run

    done = family_run(args)
    if done is not None:
        return done
    k8s = k8s_options_from_args(args)
    plan, report = plan_from_args(args)
    fmt = "json" if args.json else args.format
    if report is not None and args.plot:
        from gaudi_vl.plot import plot_workload

        plot_workload(report, plan.buckets, args.plot)
    text = format_plan(plan, fmt, report, k8s)
    if args.output is None or args.output == "-":
        sys.stdout.write(text)
    else:
        write_text_output(args.output, text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        help="compute buckets, memory, environment and server command",
        description=(
            "Compute VLLM_MULTIMODAL_BUCKETS for the images your pixel range allows (sizes in 14 x 14 "
            "patches of the 112-aligned image, each a multiple of 64), the engine's memory settings for "
            "your device, and print them with the environment and the server command, for the engine "
            "--target names. Example: gaudi-vl plan --min-pixels 401408"
        ),
        epilog=(
            'Apply to a shell: eval "$(gaudi-vl plan --min-pixels 401408 --format env)". '
            "Formats: table (default), json (the plan file serve --plan reads), env, dotenv, docker "
            "(-e K=V), k8s (Deployment, Service and recipe-cache claim for kubectl apply -f; options in "
            "the kubernetes group), helm-values (values for OPEA's vllm Helm chart)."
        ),
    )
    add_plan_arguments(p)
    add_setting_arguments(p, K8S_FIELDS, K8S_DEST)
    o = p.add_argument_group("output")
    o.add_argument("--format", choices=sorted(FORMATTERS), default="table")
    o.add_argument("--json", action="store_true", help="same as --format json")
    o.add_argument("-o", "--output", metavar="FILE", help="write to FILE atomically instead of stdout")
    p.add_argument("--python", metavar="EXE",
                   help=f"interpreter whose installed engine --target {AUTO_TARGET} plans for "
                        "(default: this one)")
    p.set_defaults(handler=run)
