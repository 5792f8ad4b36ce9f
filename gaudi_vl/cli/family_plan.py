"""``gaudi-vl plan`` for the model families beyond Qwen2.5-VL (``gaudi_vl.families``).

Parses and prints only: the engine's per-model facts come from its profile
(``EngineProfile.multimodal_models``), the warm-up plan from ``gaudi_vl.warmup_plan``. Qwen2.5-VL
keeps the bucket planner (``gaudi_vl.cli.plan``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import replace
from typing import Any

from gaudi_vl.cli.options import settings_from_args
from gaudi_vl.cli.workload_options import check_workload_options
from gaudi_vl.command import SERVER_MODULE
from gaudi_vl.engines.vllm_gaudi_models import ModelFacts, warmed_keys
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.exporters import format_plan
from gaudi_vl.family_plan import FamilyWarmup, image_rule_line, with_pixels
from gaudi_vl.fileio import write_text_output
from gaudi_vl.modelfiles import load_model
from gaudi_vl.models import ModelSpec
from gaudi_vl.plan import Plan
from gaudi_vl.planfile import plan_to_dict
from gaudi_vl.settings import ServeSettings
from gaudi_vl.warmup_plan import (
    DEFAULT_MAX_GRAPHS,
    WarmupReport,
    WarmupScore,
    graphs_for_seconds,
    plan_warmup,
)
from gaudi_vl.workload import RequestWorkload, read_requests

FAMILY_FORMATS = ("table", "json", "env")


def _facts(model: ModelSpec, serve: ServeSettings) -> ModelFacts:
    engine = serve.engine
    if engine.multimodal_models is None:
        raise GaudiVLError(
            f"{model.name} ({model.model_type}) is not served by --target {engine.name}: "
            "it plans Qwen2.5-VL only",
            "pass --target vllm-gaudi",
        )
    return engine.multimodal_models.facts(model.model_type)


def _env(serve: ServeSettings, score: WarmupScore) -> dict[str, str]:
    """The engine's variables for the plan, in its syntax (its profile's ``multimodal_models``)."""
    models = serve.engine.multimodal_models
    assert models is not None
    return models.environment(score.buckets, score.resolutions)


def _argv(model: ModelSpec, serve: ServeSettings, score: WarmupScore) -> list[str]:
    """The flags this plan sets (the rest stays the engine's default)."""
    models = serve.engine.multimodal_models
    assert models is not None
    return ["python", "-m", SERVER_MODULE, "--model", model.hf_id or model.name,
            "--tensor-parallel-size", str(serve.tensor_parallel_size),
            "--max-model-len", str(serve.max_model_len), *models.limit_flag(score.limit)]


def _score_dict(serve: ServeSettings, s: WarmupScore) -> dict[str, Any]:
    return {"buckets": list(s.buckets), "resolutions": [str(r) for r in s.resolutions],
            "limit_mm_per_prompt": s.limit, "graphs": s.graphs, "requests": s.requests,
            "compiling_requests": s.compiling, "compiling_share": round(s.compiling_share, 6),
            "compiling_keys": s.compiling_keys, "warmup_seconds_estimate": round(s.warmup_seconds, 1),
            "env": _env(serve, s)}


def family_plan_dict(
    model: ModelSpec, serve: ServeSettings, facts: ModelFacts, report: WarmupReport | None,
    workload: RequestWorkload | None, default_graphs: int,
) -> dict[str, Any]:
    fam = model.family
    assert fam is not None
    out: dict[str, Any] = {
        "model": {"name": model.name, "ref": model.hf_id, "model_type": model.model_type,
                  "params": fam.params, "text_params": fam.text_params, "vision_params": fam.vision_params,
                  "active_params": fam.active_params, "experts": fam.experts,
                  "experts_per_token": fam.experts_per_token,
                  "kv": {"layers": fam.kv_layers, "heads": fam.kv_heads, "head_dim": fam.head_dim,
                         "bytes_per_token_bf16": fam.kv_bytes_per_token(2)},
                  "image": {"kind": fam.image.kind.value, "patch_size": fam.image.patch_size,
                            "merge_size": fam.image.merge_size, "min_pixels": fam.image.min_pixels,
                            "max_pixels": fam.image.max_pixels, "image_size": fam.image.image_size,
                            "max_tiles": fam.image.max_tiles}},
        "engine": {"target": serve.engine.name, "config_key": facts.config_key,
                   "batch_based": facts.batch_based,
                   "default_buckets": list(facts.default_buckets), "compile_key": facts.shape_key.value,
                   "pads_to_bucket": facts.pads_to_bucket, "reads_resolutions": facts.reads_resolutions,
                   "default_warmup_graphs": default_graphs, "cited": facts.cited},
    }
    if report is not None and workload is not None:
        out["workload"] = {"source": workload.source, "format": workload.format.value,
                           "requests": workload.total, "distinct_requests": len(workload.requests),
                           "skipped": [{"where": s.where, "reason": s.reason} for s in workload.skipped],
                           "max_graphs": report.max_graphs,
                           "default": _score_dict(serve, report.default),
                           "planned": _score_dict(serve, report.planned)}
        out["environment"] = _env(serve, report.planned)
        out["command"] = _argv(model, serve, report.planned)
        out["notes"] = list(report.notes) + list(workload.warnings())
    return out


def _row(s: WarmupScore) -> str:
    return (f"{s.label:>8}  {len(s.buckets):>7}  {len(s.resolutions):>11}  {s.graphs:>6}  "
            f"{s.warmup_seconds:>8.0f}  {s.compiling:>9,} ({100 * s.compiling_share:5.1f}%)  "
            f"{s.compiling_keys:>12}")


def family_plan_table(
    model: ModelSpec, serve: ServeSettings, facts: ModelFacts, report: WarmupReport | None,
    workload: RequestWorkload | None, default_graphs: int,
) -> str:
    fam = model.family
    assert fam is not None
    moe = f", {fam.active_params / 1e9:.2f}B active ({fam.experts} experts, top {fam.experts_per_token})" \
        if fam.experts else ""
    kind = "batch-based" if facts.batch_based else "patch buckets"
    pads = "yes" if facts.pads_to_bucket else "no"
    out = [
        (f"gaudi-vl plan: {model.hf_id or model.name} ({model.model_type}, {fam.params / 1e9:.2f}B "
         f"params{moe}) for {serve.engine.name}"),
        image_rule_line(model),
        (f"{serve.engine.name}: MULTIMODAL_CONFIG key {facts.config_key or 'none (default)'}, "
         f"{kind} {','.join(map(str, facts.default_buckets))}; compile key: {facts.shape_key.value}; "
         f"pads to a bucket: {pads}; default warm-up compiles {default_graphs} graph(s)"),
    ]
    if report is None or workload is None:
        out.append("pass --workload (images, CSV or chat JSONL) to plan warm-up resolutions for your traffic")
        return "\n".join(out) + "\n"
    out += [
        "",
        (f"workload: {workload.total:,} requests ({len(workload.requests)} distinct) from "
         f"{workload.source}; graph budget {report.max_graphs}"),
        (f"{'warm-up':>8}  {'buckets':>7}  {'resolutions':>11}  {'graphs':>6}  {'~seconds':>8}  "
         f"{'compiling requests':>18}  {'compile keys':>12}"),
        _row(report.default),
        _row(report.planned),
        ("compiling requests: requests whose encoder call needs a graph warm-up did not compile "
         "(one request per call, no cached image); ~seconds: vision warm-up estimate, 0.49 s per graph "
         "(vllm-gaudi PR 1182, Gaudi2)"),
        "",
        "environment:",
        *[f"  export {k}={shlex.quote(v)}" for k, v in _env(serve, report.planned).items()],
        "",
        "command:",
        "  " + shlex.join(_argv(model, serve, report.planned)),
    ]
    notes = list(report.notes) + list(workload.warnings())
    if notes:
        out += ["", "notes:"] + [f"  - {n}" for n in notes]
    return "\n".join(out) + "\n"


def check_family_options(args: argparse.Namespace, model: ModelSpec) -> None:
    """Refuse the Qwen2.5-VL bucket options for a family model (one line naming the flag)."""
    check_workload_options(args)
    for flag, dest in (("--buckets", "buckets"), ("--max-buckets", "max_buckets"),
                       ("--max-waste", "max_waste"), ("--plot", "plot"), ("--step", "step"),
                       ("--count", "count")):
        if getattr(args, dest, None) is not None:
            raise GaudiVLError(f"{flag} applies to Qwen2.5-VL's buckets, not to {model.model_type}",
                               "drop it; --workload and --max-graphs plan this model's warm-up")


def family_warmup_report(args: argparse.Namespace, model: ModelSpec, serve: ServeSettings, facts: ModelFacts
                         ) -> tuple[WarmupReport | None, RequestWorkload | None]:
    """The warm-up plan from ``--workload`` under the graph budget (None, None without one)."""
    if getattr(args, "workload", None) is None:
        return None, None
    assert model.family is not None
    workload = read_requests(args.workload, fmt=args.workload_format, strict=args.strict,
                             apply_exif=args.exif)
    budgets = [b for b in (getattr(args, "max_graphs", None),) if b is not None]
    seconds = getattr(args, "max_warmup_seconds", None)
    if seconds is not None:
        budgets.append(max(1, graphs_for_seconds(seconds)))
    max_graphs = min(budgets) if budgets else DEFAULT_MAX_GRAPHS
    report = plan_warmup(workload.requests, facts, model.family.image, max_graphs=max_graphs,
                         limit=serve.images_per_prompt)
    return report, workload


def family_plan_from_args(
    args: argparse.Namespace,
) -> tuple[Plan, WarmupReport | None, RequestWorkload | None]:
    """The whole-engine ``Plan`` of a family model (``gaudi_vl.assembly.assemble_family``): the
    warm-up variables the workload plan chose (or the engine's defaults), memory, text buckets."""
    from gaudi_vl.assembly import assemble_family
    from gaudi_vl.cli.plan import request_from_args
    from gaudi_vl.cli.workload_options import fit_text_workload

    req = request_from_args(args)
    check_family_options(args, req.model)
    req = replace(req, model=with_pixels(req.model, args.min_pixels, args.max_pixels))
    facts = _facts(req.model, req.serve)
    report, workload = family_warmup_report(args, req.model, req.serve, facts)
    if report is not None:
        p = report.planned
        warm = FamilyWarmup(tuple(p.buckets), tuple(map(str, p.resolutions)), p.limit)
        notes = (*req.notes, *report.notes, *(workload.warnings() if workload is not None else ()))
        req = replace(req, notes=tuple(notes))
    else:
        warm = FamilyWarmup((), (), req.serve.images_per_prompt)
    req = fit_text_workload(args, req)
    return assemble_family(req, warm), report, workload


def family_run(args: argparse.Namespace) -> int | None:
    """Plan a non-Qwen2.5-VL model; None when ``--model`` is Qwen2.5-VL (the bucket planner's)."""
    model = load_model(args.model)
    if model.family is None:
        return None
    model = with_pixels(model, args.min_pixels, args.max_pixels)
    serve = settings_from_args(args)
    facts = _facts(model, serve)
    fmt = "json" if args.json else args.format
    if serve.engine.memory is None:  # an engine gaudi-vl plans no memory for: the warm-up facts only
        check_family_options(args, model)
        if fmt not in FAMILY_FORMATS:
            raise GaudiVLError(f"--format {fmt} needs an engine gaudi-vl plans memory for",
                               f"pass --target vllm-gaudi, or use one of {', '.join(FAMILY_FORMATS)}")
        return _facts_only(args, model, serve, facts, fmt)
    from gaudi_vl.cli.plan import k8s_options_from_args

    k8s = k8s_options_from_args(args)
    plan, report, workload = family_plan_from_args(args)
    default_graphs = len(warmed_keys(facts, model.family.image, facts.default_buckets, (),
                                     serve.images_per_prompt))
    if fmt == "json":
        data = plan_to_dict(plan)  # the plan file serve --plan reads; the traffic report beside it
        section = family_plan_dict(model, serve, facts, report, workload, default_graphs).get("workload")
        if section is not None:
            data["workload"] = section
        text = json.dumps(data, indent=2) + "\n"
    elif fmt == "table":
        text = format_plan(plan, fmt, None, k8s)
        if report is not None and workload is not None:
            text += "\n" + "\n".join(_workload_lines(report, workload)) + "\n"
    else:
        text = format_plan(plan, fmt, None, k8s)
    _write(args, text)
    return 0


def _workload_lines(report: WarmupReport, workload: RequestWorkload) -> list[str]:
    return [
        (f"vision warm-up from traffic: {workload.total:,} requests ({len(workload.requests)} distinct) "
         f"from {workload.source}; graph budget {report.max_graphs}"),
        (f"{'warm-up':>8}  {'buckets':>7}  {'resolutions':>11}  {'graphs':>6}  {'~seconds':>8}  "
         f"{'compiling requests':>18}  {'compile keys':>12}"),
        _row(report.default),
        _row(report.planned),
        ("compiling requests: requests whose encoder call needs a graph warm-up did not compile "
         "(one request per call, no cached image); ~seconds: vision warm-up only (0.49 s per graph, "
         "vllm-gaudi PR 1182); the planned row is the plan above"),
    ]


def _write(args: argparse.Namespace, text: str) -> None:
    if args.output is None or args.output == "-":
        sys.stdout.write(text)
    else:
        write_text_output(args.output, text)


def _facts_only(args: argparse.Namespace, model: ModelSpec, serve: ServeSettings, facts: ModelFacts,
                fmt: str) -> int:
    """The warm-up facts (and the traffic-fitted resolutions) without a memory plan."""
    assert model.family is not None
    default_graphs = len(warmed_keys(facts, model.family.image, facts.default_buckets, (),
                                     serve.images_per_prompt))
    report, workload = family_warmup_report(args, model, serve, facts)
    if fmt == "json":
        data = family_plan_dict(model, serve, facts, report, workload, default_graphs)
        text = json.dumps(data, indent=2) + "\n"
    elif fmt == "env":
        if report is None:
            raise GaudiVLError("--format env needs --workload for this model", "pass --workload PATH")
        text = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in _env(serve, report.planned).items())
    else:
        text = family_plan_table(model, serve, facts, report, workload, default_graphs)
    _write(args, text)
    return 0
