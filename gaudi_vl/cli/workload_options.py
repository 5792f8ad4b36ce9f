"""The ``--workload`` options of ``gaudi-vl plan`` / ``serve``: read traffic, optimise the buckets.

Kept beside ``gaudi_vl.cli.plan`` so that module only gains a few hooks. The workload is read and
optimised once per set of options (``functools.lru_cache``), although the bucket plan, the
warm-up resolutions and the report each ask for it.
"""

from __future__ import annotations

import argparse
from functools import lru_cache

from gaudi_vl.buckets.cost import Objective
from gaudi_vl.buckets.planner import BucketPlan
from gaudi_vl.cli.argtypes import bucket_count, percent
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import ModelSpec
from gaudi_vl.workload import WorkloadFormat, WorkloadReport, plan_for_workload, read_workload


def add_workload_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workload`` and the optimizer's options."""
    w = parser.add_argument_group("workload (optimal buckets for your traffic)")
    w.add_argument("--workload", metavar="PATH",
                   help="a folder of images, a CSV with width,height[,count], a JSONL of OpenAI chat "
                        "requests, or an engine log; buckets are then optimised for it "
                        "(overrides --strategy)")
    w.add_argument("--workload-format", choices=[f.value for f in WorkloadFormat], default="auto",
                   help="how to read --workload (auto: by folder / suffix / first line)")
    w.add_argument("--max-buckets", type=bucket_count, metavar="K",
                   help="at most K buckets (default 8; with --max-waste: the search limit, default 64)")
    w.add_argument("--objective", choices=[o.value for o in Objective], default=Objective.TIME.value,
                   help="time (default): vision-tower cost model, linear layers ~N plus dense attention "
                        "~N^2; patches: total padded patches")
    w.add_argument("--max-waste", type=percent, metavar="P",
                   help="instead: the fewest buckets whose padding stays under P percent")
    w.add_argument("--strict", action="store_true",
                   help="stop at the first unreadable row or file instead of skipping it")
    w.add_argument("--no-cover-range", dest="cover_range", action="store_false",
                   help="let the largest bucket stop at the workload's largest image instead of the "
                        "range's largest size (larger in-range images then compile while serving)")
    w.add_argument("--exif", action="store_true",
                   help="swap the sides of images with an EXIF rotation (vLLM itself does not)")
    w.add_argument("--plot", metavar="FILE.png",
                   help="draw the patch-count histogram, bucket edges and padding waste (needs matplotlib)")


@lru_cache(maxsize=8)
def _cached(
    path: str,
    fmt: str,
    strict: bool,
    exif: bool,
    pixel_range: PixelRange,
    model: ModelSpec,
    max_buckets: int | None,
    objective: str,
    max_waste_percent: float | None,
    cover_range: bool,
    step: int | None,
    count: int | None,
    resolutions: bool,
) -> tuple[BucketPlan, WorkloadReport]:
    workload = read_workload(path, pixel_range, fmt=fmt, strict=strict, apply_exif=exif)
    return plan_for_workload(
        workload,
        pixel_range,
        model.vision,
        max_buckets=max_buckets,
        objective=objective,
        max_waste_fraction=None if max_waste_percent is None else max_waste_percent / 100,
        cover_range=cover_range,
        step=step,
        count=count,
        resolutions=resolutions,
    )


def workload_plan_from_args(
    args: argparse.Namespace, pixel_range: PixelRange
) -> tuple[BucketPlan, WorkloadReport]:
    """The optimal bucket plan for ``--workload`` and its report (read and solved once)."""
    if getattr(args, "buckets", None) is not None:
        raise GaudiVLError("--workload and --buckets both choose the buckets", "pass only one of them")
    return _cached(
        str(args.workload),
        args.workload_format,
        args.strict,
        args.exif,
        pixel_range,
        load_model(args.model),
        args.max_buckets,
        args.objective,
        args.max_waste,
        args.cover_range,
        getattr(args, "step", None),
        getattr(args, "count", None),
        getattr(args, "target", None) == "vllm-gaudi",
    )


def check_workload_options(args: argparse.Namespace) -> None:
    """Optimizer options without ``--workload`` are a mistake worth one line."""
    if getattr(args, "workload", None) is None:
        for flag, value in (("--max-buckets", args.max_buckets), ("--max-waste", args.max_waste),
                            ("--plot", args.plot)):
            if value is not None:
                raise GaudiVLError(
                    f"{flag} needs --workload", "pass --workload PATH (images, CSV, JSONL or log)"
                )
