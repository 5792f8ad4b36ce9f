"""The ``--workload`` options of ``gaudi-vl plan`` / ``serve``: read traffic, optimise the buckets.

``workload_solver`` turns the options into one function of the pixel range that the plan assembly
(``gaudi_vl.assembly.assemble``) calls once: the workload is read and solved once per run.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from gaudi_vl.assembly import PlanRequest, WorkloadSolver, requested_range
from gaudi_vl.buckets.cost import Objective
from gaudi_vl.buckets.planner import BucketPlan
from gaudi_vl.buckets.text_fit import best_linear_range, optimal_seq_buckets, padded_tokens
from gaudi_vl.cli.argtypes import bucket_count, graph_count, percent, warmup_seconds
from gaudi_vl.engines.text_buckets import (
    FILE_VARIABLE,
    Generator,
    linear_range_function,
    linear_seq_variables,
)
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from gaudi_vl.models import ModelSpec
from gaudi_vl.settings import ServeSettings
from gaudi_vl.workload import (
    CHARS_PER_TOKEN,
    WorkloadFormat,
    WorkloadReport,
    plan_for_workload,
    read_text_workload,
    read_workload,
)

DEFAULT_TEXT_BUCKETS = 8
"""``--text-max-buckets`` default: prompt sequence buckets per batch size."""


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
    w.add_argument("--max-warmup-seconds", type=warmup_seconds, metavar="S",
                   help="models other than Qwen2.5-VL on vllm-gaudi: a vision warm-up time budget, turned "
                        "into graphs at the published 0.49 s per vision graph (an estimate; with "
                        "--max-graphs the smaller budget wins)")
    w.add_argument("--max-graphs", type=graph_count, metavar="N",
                   help="models other than Qwen2.5-VL on vllm-gaudi: at most N warm-up graphs (default 25, "
                        "the engine's warning threshold); the resolutions chosen leave the fewest requests "
                        "compiling while serving")
    w.add_argument("--plot", metavar="FILE.png",
                   help="draw the patch-count histogram, bucket edges and padding waste (needs matplotlib)")
    t = parser.add_argument_group("text workload (text buckets fitted to your traffic)")
    t.add_argument("--text-workload", metavar="PATH",
                   help="a JSONL of chat requests (prompt lengths: text characters / --chars-per-token + "
                        "the images' tokens) or an engine log ('Running: N reqs' decode batches); the "
                        "prompt sequence buckets are then fitted to it")
    t.add_argument("--text-max-buckets", type=bucket_count, metavar="K", default=DEFAULT_TEXT_BUCKETS,
                   help=f"at most K prompt sequence buckets (default {DEFAULT_TEXT_BUCKETS})")
    t.add_argument("--chars-per-token", type=float, metavar="F", default=CHARS_PER_TOKEN,
                   help=f"text characters per token (default {CHARS_PER_TOKEN:g}: English with a byte-level "
                        "BPE vocabulary of Qwen2.5's size; lower for CJK text)")


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
                            ("--plot", args.plot), ("--max-graphs", getattr(args, "max_graphs", None)),
                            ("--max-warmup-seconds", getattr(args, "max_warmup_seconds", None))):
            if value is not None:
                raise GaudiVLError(
                    f"{flag} needs --workload", "pass --workload PATH (images, CSV, JSONL or log)"
                )


def fit_text_workload(args: argparse.Namespace, req: PlanRequest) -> PlanRequest:
    """``req`` with the text bucket variables fitted to ``--text-workload`` (and what was found, as
    notes); ``req`` itself without that option."""
    path = getattr(args, "text_workload", None)
    if path is None:
        return req
    engine = req.serve.engine
    tb = engine.text_buckets
    if tb is None:
        raise GaudiVLError(f"{engine.name} has no text buckets to fit", "pass an HPU --target")
    family = req.model.family

    def image_tokens(width: int, height: int) -> int:
        if family is not None:  # the family's own processor rule (gaudi_vl.families)
            return family.image.shape(width, height).tokens
        gh, gw = engine.image_patches(width, height, pixel_range, align=req.serve.align)
        return gh * gw // merge

    if family is None:
        pixel_range, _ = engine.effective_pixel_range(requested_range(req))
        merge = req.model.vision.spatial_merge_size ** 2

    text = read_text_workload(path, image_tokens, chars_per_token=args.chars_per_token, strict=args.strict)
    block = engine.block_size or 128
    notes: list[str] = []
    env: tuple[tuple[str, str], ...] = ()
    if not text.prompt_tokens.is_empty:
        h, k = text.prompt_tokens, args.text_max_buckets
        best = optimal_seq_buckets(h, k, block)
        notes.append(
            f"text workload: {text.prompts:,} prompts from {text.source}, "
            f"{h.real_patches / text.prompts:,.0f} tokens on average, longest {h.largest_patches:,} "
            f"(text at {text.chars_per_token:g} characters per token, an estimate); "
            f"optimal {len(best.buckets)} sequence buckets "
            f"{', '.join(map(str, best.buckets))}: padding {100 * best.waste_fraction:.1f}%")
        names = linear_seq_variables(tb)
        if names is not None:
            fit = best_linear_range(h, k, block, linear_range_function(tb))
            env = tuple(zip(names, (str(fit.minimum), str(fit.step), str(fit.maximum)), strict=True))
            default_range = linear_range_function(tb)(block, block, req.serve.max_model_len)
            default = padded_tokens(h, default_range)
            notes.append(
                f"text buckets fitted: {', '.join(f'{n}={v}' for n, v in env)} ({len(fit.buckets)} sequence "
                f"buckets, padding {100 * fit.waste_fraction:.1f}% against "
                f"{100 * (default / h.real_patches - 1):.1f}% with the default range's "
                f"{len(default_range)}); prompts above {fit.maximum} tokens compile while serving")
        elif tb.generator is Generator.EXT_MANAGER:  # no bucket file there: its linear strategy reads ranges
            notes.append(
                f"{engine.name}'s default exponential text strategy overwrites bucket ranges; with "
                f"{tb.strategy_variable}=false its linear one reads VLLM_PROMPT_SEQ_BUCKET_MIN/STEP/MAX; "
                "not applied")
        else:
            notes.append(
                f"{engine.name}'s default text strategy ignores bucket ranges: the optimal list above goes "
                f"into a {FILE_VARIABLE} file (gaudi_vl.engines.text_buckets.bucket_file_text); not applied")
    if not text.decode_batches.is_empty:
        d = text.decode_batches
        notes.append(f"text workload: decode batches {min(d.patches)}..{max(d.patches)} running requests in "
                     f"{d.images:,} metrics lines (decode buckets left to the engine)")
    if text.skipped:
        notes.append(f"text workload: skipped {len(text.skipped)} entries (first: {text.skipped[0].where}: "
                     f"{text.skipped[0].reason})")
    return replace(req, text_env=env, notes=(*req.notes, *notes))
