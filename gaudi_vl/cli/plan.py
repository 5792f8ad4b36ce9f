"""``gaudi-vl plan``: buckets, environment and server command for a model and pixel range.

Also exposes ``add_plan_arguments`` / ``plan_from_args`` so that ``serve`` takes the same options.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gaudi_vl.buckets.planner import BucketPlan, Strategy, plan_buckets
from gaudi_vl.buckets.rules import parse_engine_buckets
from gaudi_vl.cli.argtypes import (
    bucket_count,
    fraction,
    images_per_prompt,
    num_seqs,
    patch_step,
    pixels,
    port,
    tokens,
    tp_size,
)
from gaudi_vl.cli.workload_options import (
    add_workload_arguments,
    check_workload_options,
    workload_plan_from_args,
)
from gaudi_vl.devices import BUILTIN_HBM_BYTES, DEFAULT_DEVICE, device_spec
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.exporters import FORMATTERS, format_plan
from gaudi_vl.fileio import atomic_writer
from gaudi_vl.geometry import MAX_ASPECT_RATIO, PixelRange
from gaudi_vl.memory import MemoryPlan, check_tp, plan_memory
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import DEFAULT_MODEL, ModelSpec, max_model_len_notes
from gaudi_vl.plan import Plan, Resolution, ServeSettings, Target, build_plan, effective_pixel_range
from gaudi_vl.workload import WorkloadReport


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``plan`` and ``serve``."""
    m = parser.add_argument_group("model and images")
    m.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME|DIR",
                   help="built-in name (qwen2.5-vl-3b/7b/32b/72b or the HF id) or a local model folder "
                        f"with config.json (default: {DEFAULT_MODEL})")
    m.add_argument("--min-pixels", type=pixels, metavar="PX",
                   help="smallest image area after resizing, e.g. 401408 (= 2048 patches); "
                        "default: the model's preprocessor_config.json")
    m.add_argument("--max-pixels", type=pixels, metavar="PX",
                   help="largest image area, e.g. 1003520 or 1280*28*28; default: the model's processor")
    m.add_argument("--max-aspect", type=float, default=MAX_ASPECT_RATIO, metavar="R",
                   help="plan for images up to R:1 (default: 200, the processor's limit); very wide "
                        "images can exceed max_pixels because the short side is clamped to 112 px")
    b = parser.add_argument_group("buckets")
    b.add_argument("--strategy", choices=[s.value for s in (Strategy.DEFAULT, Strategy.LINEAR, Strategy.EXP)],
                   default=Strategy.DEFAULT.value,
                   help="default: the engine's list clipped to the range plus its ends; linear: every "
                        "--step patches; exp: --count buckets in geometric progression")
    b.add_argument("--step", type=patch_step, metavar="PATCHES", help="linear step (multiple of 64)")
    b.add_argument("--count", type=bucket_count, metavar="N", help="number of exp buckets (default 8)")
    b.add_argument("--buckets", metavar="LIST",
                   help="validate and use your own list, e.g. 2048,4096,8192 (parsed like the engine)")
    s = parser.add_argument_group("engine")
    s.add_argument("--target", choices=[t.value for t in Target], default=Target.VLLM_FORK.value,
                   help="engine the plan is for (default: vllm-fork)")
    s.add_argument("--tp", type=tp_size, default=1, metavar="N", help="tensor parallel size")
    s.add_argument("--max-model-len", type=tokens, default=32768, metavar="TOKENS")
    s.add_argument("--max-num-seqs", type=num_seqs, metavar="N",
                   help="default: planned from the KV cache (128 when memory is not planned)")
    s.add_argument("--max-num-batched-tokens", type=tokens, metavar="TOKENS",
                   help="default: --max-model-len")
    s.add_argument("--gpu-memory-utilization", type=fraction, metavar="F",
                   help="default: planned so the largest bucket's vision tower fits beside the KV cache "
                        "(0.9 when memory is not planned)")
    s.add_argument("--images-per-prompt", type=images_per_prompt, default=1, metavar="N")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=port, default=8000)
    s.add_argument("--fp32-softmax", action="store_true",
                   help="VLLM_FP32_SOFTMAX=1: fp32 softmax in the language model")
    s.add_argument("--fp32-softmax-vision", action="store_true",
                   help="VLLM_FP32_SOFTMAX_VISION=1: fp32 softmax in the vision tower (slower, more exact)")
    s.add_argument("--skip-warmup", action="store_true", help="VLLM_SKIP_WARMUP=true")
    s.add_argument("--no-align", dest="align", action="store_false",
                   help="do not set GAUDI_VL_ALIGN=1 (images are then not 112-aligned in the engine)")
    add_workload_arguments(parser)
    add_memory_arguments(parser)


def add_memory_arguments(parser: argparse.ArgumentParser) -> None:
    """The device options of the memory planner (``gaudi_vl.memory``)."""
    g = parser.add_argument_group("memory")
    g.add_argument("--device", metavar="NAME",
                   help=f"card type: {' or '.join(BUILTIN_HBM_BYTES)} (default: {DEFAULT_DEVICE}; naming it "
                        "makes a plan that does not fit an error instead of a note)")
    g.add_argument("--device-memory", metavar="SIZE",
                   help="memory of one card, e.g. 96GiB, 96GB or a byte count (default: the device's)")
    g.add_argument("--kv-dtype", choices=["auto", "bfloat16", "fp8"], default="auto",
                   help="KV cache dtype (auto: the model dtype)")


def pixel_range_from_args(args: argparse.Namespace, model: ModelSpec) -> PixelRange:
    lo = args.min_pixels if args.min_pixels is not None else model.processor.min_pixels
    hi = args.max_pixels if args.max_pixels is not None else model.processor.max_pixels
    if args.min_pixels is not None and args.max_pixels is None and lo > hi:
        raise GaudiVLError(
            f"--min-pixels {lo} is above the model's max_pixels {hi}", "pass --max-pixels too"
        )
    return PixelRange(min_pixels=lo, max_pixels=hi, max_aspect_ratio=args.max_aspect)


def serve_settings_from_args(args: argparse.Namespace) -> ServeSettings:
    return ServeSettings(
        target=Target(args.target),
        tensor_parallel_size=args.tp,
        max_model_len=args.max_model_len,
        max_num_seqs=args.max_num_seqs or ServeSettings.max_num_seqs,
        max_num_batched_tokens=args.max_num_batched_tokens,
        gpu_memory_utilization=args.gpu_memory_utilization or ServeSettings.gpu_memory_utilization,
        images_per_prompt=args.images_per_prompt,
        host=args.host,
        port=args.port,
        fp32_softmax=args.fp32_softmax,
        fp32_softmax_vision=args.fp32_softmax_vision,
        skip_warmup=args.skip_warmup,
        align=args.align,
    )


def bucket_plan_from_args(args: argparse.Namespace, pixel_range: PixelRange) -> BucketPlan:
    if getattr(args, "workload", None) is not None:
        return workload_plan_from_args(args, pixel_range)[0]
    if args.buckets is not None:
        values = parse_engine_buckets(args.buckets)
        if values is None:
            raise GaudiVLError("--buckets None disables bucketing", "plan buckets instead of disabling them")
        return plan_buckets(pixel_range, Strategy.USER, user_buckets=values)
    return plan_buckets(pixel_range, args.strategy, step=args.step, count=args.count)


def plan_from_args(args: argparse.Namespace) -> Plan:
    """Build the full plan from parsed ``plan`` / ``serve`` options."""
    model = load_model(args.model)
    serve = serve_settings_from_args(args)
    long_ok = os.environ.get("VLLM_ALLOW_LONG_MAX_MODEL_LEN", "0").strip().lower() in ("1", "true")
    notes = max_model_len_notes(model, serve.max_model_len, long_ok)
    requested = pixel_range_from_args(args, model)
    pixel_range, range_notes = effective_pixel_range(requested, serve.target)
    notes += range_notes
    bucket_plan = bucket_plan_from_args(args, pixel_range)
    memory, memory_notes = memory_plan_from_args(args, model, serve, bucket_plan)
    return build_plan(
        model,
        bucket_plan,
        model_ref=model.hf_id,
        serve=serve,
        resolutions=workload_resolutions(args, pixel_range, serve.target),
        memory=memory,
        warnings=notes + memory_notes,
    )


def memory_plan_from_args(
    args: argparse.Namespace, model: ModelSpec, serve: ServeSettings, bucket_plan: BucketPlan
) -> tuple[MemoryPlan | None, tuple[str, ...]]:
    """The memory plan for HPU targets, and notes.

    With ``--device`` or ``--device-memory`` a plan that does not fit raises ``GaudiVLError``; without
    them it is planned for the default card and a misfit becomes a note (the plan still prints, with
    the engine's defaults), so a bucket-only plan keeps working.
    """
    if not serve.target.is_hpu:
        return None, ()
    device_name = getattr(args, "device", None)
    device_memory = getattr(args, "device_memory", None)
    strict = device_name is not None or device_memory is not None
    check_tp(model, serve.tensor_parallel_size)
    device = device_spec(device_name or DEFAULT_DEVICE, memory=device_memory, tp=serve.tensor_parallel_size)
    try:
        memory = plan_memory(
            model,
            device,
            bucket_plan.buckets,
            warmup_graphs=[r.warmup_graphs for r in bucket_plan.rows],
            max_model_len=serve.max_model_len,
            max_num_batched_tokens=serve.max_num_batched_tokens,
            fp32_softmax_vision=serve.fp32_softmax_vision,
            dtype=serve.dtype,
            kv_dtype=getattr(args, "kv_dtype", "auto"),
            gpu_memory_utilization=getattr(args, "gpu_memory_utilization", None),
            max_num_seqs=getattr(args, "max_num_seqs", None),
        )
    except GaudiVLError as exc:
        if strict:
            raise
        note = (f"memory not planned for {device.name} x{device.cards}: {exc.one_line()} "
                f"(pass --device {device.name} to make this an error)")
        return None, (note,)
    return memory, ()


def write_output(text: str, output: str | None) -> None:
    """Print, or write atomically (temp file + rename) so no half-written file is ever left."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    path = Path(output)
    if not path.parent.is_dir():
        raise GaudiVLError(f"folder {path.parent} does not exist", "create it or choose another --output")
    with atomic_writer(path, "w") as handle:
        handle.write(text)


def workload_resolutions(
    args: argparse.Namespace, pixel_range: PixelRange, target: Target
) -> tuple[Resolution, ...]:
    """vllm-gaudi's ``VLLM_MULTIMODAL_RESOLUTIONS``: the workload's most frequent aligned sizes."""
    if target is not Target.VLLM_GAUDI or getattr(args, "workload", None) is None:
        return ()
    return workload_plan_from_args(args, pixel_range)[1].resolutions


def run(args: argparse.Namespace) -> int:
    check_workload_options(args)
    plan = plan_from_args(args)
    fmt = "json" if args.json else args.format
    report: WorkloadReport | None = None
    if getattr(args, "workload", None) is not None:
        report = workload_plan_from_args(args, plan.pixel_range)[1]
        if args.plot:
            from gaudi_vl.plot import plot_workload

            plot_workload(report, plan.buckets, args.plot)
    write_output(format_plan(plan, fmt, report), args.output)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        help="compute buckets, environment and server command",
        description=(
            "Compute VLLM_MULTIMODAL_BUCKETS for the images your pixel range allows (sizes in 14 x 14 "
            "patches of the 112-aligned image, each a multiple of 64), and print them with the "
            "environment and the server command. Example: gaudi-vl plan --min-pixels 401408"
        ),
        epilog=(
            'Apply to a shell: eval "$(gaudi-vl plan --min-pixels 401408 --format env)". '
            "Formats: table (default), json, env, dotenv, docker (-e K=V), k8s (container env list)."
        ),
    )
    add_plan_arguments(p)
    o = p.add_argument_group("output")
    o.add_argument("--format", choices=sorted(FORMATTERS), default="table")
    o.add_argument("--json", action="store_true", help="same as --format json")
    o.add_argument("-o", "--output", metavar="FILE", help="write to FILE atomically instead of stdout")
    p.set_defaults(handler=run)
