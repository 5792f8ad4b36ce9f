"""The ``--workload`` options of ``gaudi-vl plan`` / ``serve``: read traffic, optimise the buckets.

``workload_solver`` turns the options into one function of the pixel range that the plan assembly
(``gaudi_vl.assembly.assemble``) calls once: the workload is read and solved once per run.
"""

from __future__ import annotations

import argparse

from gaudi_vl.assembly import WorkloadSolver
from gaudi_vl.buckets.cost import Objective
from gaudi_vl.buckets.planner import BucketPlan
from gaudi_vl.cli.argtypes import bucket_count, graph_count, percent
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from gaudi_vl.models import ModelSpec
from gaudi_vl.settings import ServeSettings
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
    w.add_argument("--max-graphs", type=graph_count, metavar="N",
                   help="models other than Qwen2.5-VL on vllm-gaudi: at most N warm-up graphs (default 25, "
                        "the engine's warning threshold); the resolutions chosen leave the fewest requests "
                        "compiling while serving")
    w.add_argument("--plot", metavar="FILE.png",
                   help="draw the patch-count histogram, bucket edges and padding waste (needs matplotlib)")


def workload_solver(
    args: argparse.Namespace, model: ModelSpec, serve: ServeSettings
) -> WorkloadSolver | None:
    """The workload as a function of the pixel range (None without ``--workload``)."""
    if getattr(args, "workload", None) is None:
        return None
    if getattr(args, "buckets", None) is not None:
        raise GaudiVLError("--workload and --buckets both choose the buckets", "pass only one of them")

    def solve(pixel_range: PixelRange) -> tuple[BucketPlan, WorkloadReport]:
        workload = read_workload(str(args.workload), pixel_range, fmt=args.workload_format,
                                 strict=args.strict, apply_exif=args.exif)
        return plan_for_workload(
            workload,
            pixel_range,
            model.vision,
            max_buckets=args.max_buckets,
            objective=args.objective,
            max_waste_fraction=None if args.max_waste is None else args.max_waste / 100,
            cover_range=args.cover_range,
            step=getattr(args, "step", None),
            count=getattr(args, "count", None),
            engine=serve.engine,
            align=serve.align,
        )

    return solve


def check_workload_options(args: argparse.Namespace) -> None:
    """Optimizer options without ``--workload`` are a mistake worth one line."""
    if getattr(args, "workload", None) is None:
        for flag, value in (("--max-buckets", args.max_buckets), ("--max-waste", args.max_waste),
                            ("--plot", args.plot), ("--max-graphs", getattr(args, "max_graphs", None))):
            if value is not None:
                raise GaudiVLError(
                    f"{flag} needs --workload", "pass --workload PATH (images, CSV, JSONL or log)"
                )
