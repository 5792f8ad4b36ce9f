"""Formatting a ``Plan`` for people and machines: table, json, env, dotenv, docker, k8s.

Pure string building: no values are computed here (environment: ``gaudi_vl.envvars``, command:
``gaudi_vl.command``).
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from gaudi_vl.command import server_argv
from gaudi_vl.envvars import plan_env
from gaudi_vl.geometry import PIXELS_PER_PATCH
from gaudi_vl.plan import Plan

if TYPE_CHECKING:
    from gaudi_vl.workload import WorkloadReport


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in getattr(value, "__json_properties__", ()):
            out[name] = _jsonable(getattr(value, name))
        return out
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def plan_to_dict(plan: Plan, workload: WorkloadReport | None = None) -> dict[str, Any]:
    """The plan as plain JSON data: ``buckets``, ``env`` and ``command`` at the top level
    (plus ``workload`` when the buckets were optimised for one)."""
    b = plan.buckets
    out = {
        "model": {
            "name": plan.model.name,
            "ref": plan.model_ref,
            "params": plan.model.params,
            "vision_params": plan.model.vision.params,
            "text_params": plan.model.text.params,
        },
        "target": plan.serve.target.value,
        "pixel_range": _jsonable(plan.pixel_range),
        "reachable_patches": {
            "min": b.windows.min_patches,
            "max": b.windows.max_patches,
            "nominal_max": b.windows.nominal_max_patches,
        },
        "strategy": b.strategy.value,
        "buckets": list(b.buckets),
        "bucket_rows": [
            {
                "bucket_patches": r.bucket_patches,
                "first_patches": r.first_patches,
                "last_patches": r.last_patches,
                "first_pixels": r.first_pixels,
                "last_pixels": r.last_pixels,
                "worst_pad_patches": r.worst_pad_patches,
                "worst_pad_fraction": round(r.worst_pad_fraction, 6),
                "warmup_graphs": r.warmup_graphs,
            }
            for r in b.rows
        ],
        "warmup_graphs": b.warmup_graphs,
        "resolutions": [str(r) for r in plan.resolutions],
        "serve": _jsonable(plan.serve),
        "memory": _jsonable(plan.memory) if plan.memory is not None else None,
        "env": plan_env(plan),
        "command": server_argv(plan),
        "warnings": list(plan.all_warnings),
    }
    if workload is not None:
        out["workload"] = workload_to_dict(workload)
        out["warnings"] += list(workload.workload.warnings())
    return out


def format_json(plan: Plan, workload: WorkloadReport | None = None) -> str:
    return json.dumps(plan_to_dict(plan, workload), indent=2) + "\n"


def workload_to_dict(report: WorkloadReport) -> dict[str, Any]:
    """The workload section: what was read, and each plan's score on it (optimal first)."""
    w = report.workload
    stats = _jsonable(w.size_stats) if w.size_stats is not None else None
    return {
        "source": w.source,
        "format": w.format.value,
        "images": w.images,
        "distinct_patch_counts": len(w.histogram.patches),
        "skipped": [{"where": s.where, "reason": s.reason} for s in w.skipped],
        "size_stats": stats,
        "exif_rotated_images": w.exif_rotated_images,
        "objective": report.objective.value,
        "max_buckets": report.max_buckets,
        "max_waste_percent": None if report.max_waste_fraction is None else 100 * report.max_waste_fraction,
        "cover_range": report.cover_range,
        "histogram": {"patches": list(w.histogram.patches), "images": list(w.histogram.counts)},
        "resolutions": [str(r) for r in report.resolutions],
        "resolutions_share": round(report.resolutions_share, 6),
        "plans": [
            {
                "strategy": s.label,
                "buckets": list(s.buckets),
                "waste_percent": round(100 * s.waste_fraction, 4),
                "padded_patches": s.padded_patches,
                "real_patches": s.real_patches,
                "images_above_largest": s.images_above_largest,
                "shapes_above_largest": s.shapes_above_largest,
                "unpaddable_images": s.unpaddable_images,
                "warmup_graphs": s.warmup_graphs,
                "tower_tflops": round(s.tower_flops / 1e12, 6),
                "relative_time": round(report.relative_time(s), 6),
            }
            for s in report.scores
        ],
    }


def workload_table_lines(report: WorkloadReport) -> list[str]:
    """The workload section of the table: the optimum against the other strategies."""
    w = report.workload
    how = (
        f"fewest buckets with padding <= {100 * report.max_waste_fraction:g}%"
        if report.max_waste_fraction is not None
        else f"objective {report.objective.value}, at most {report.max_buckets} buckets"
    )
    out = [
        (f"workload: {w.images:,} images from {w.source} ({w.format.value}), "
        f"{len(w.histogram.patches)} distinct patch counts; optimal buckets: {how}"),
        (f"{'plan':>8}  {'buckets':>7}  {'waste':>7}  {'compiles':>8}  {'unpaddable':>10}  "
        f"{'graphs':>6}  {'rel. time':>9}"),
    ]
    for s in report.scores:
        unpaddable = "n/a" if s.unpaddable_images is None else f"{s.unpaddable_images:,}"
        out.append(
            f"{s.label:>8}  {len(s.buckets):>7}  {100 * s.waste_fraction:>6.1f}%  "
            f"{s.images_above_largest:>8,}  {unpaddable:>10}  {s.warmup_graphs:>6}  "
            f"{report.relative_time(s):>9.3f}"
        )
    out.append(
        "waste: padded / real patches - 1; compiles: images above the largest bucket; unpaddable: "
        "images the engine's find_padding cannot pad; rel. time: vision-tower cost model, optimal = 1"
    )
    if report.resolutions:
        out.append(
            f"warm-up resolutions: {', '.join(map(str, report.resolutions))} "
            f"({100 * report.resolutions_share:.1f}% of the images)"
        )
    return out


def format_env(plan: Plan) -> str:
    """``export K=V`` lines for ``eval "$(gaudi-vl plan ... --format env)"``."""
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in plan_env(plan).items())


def format_dotenv(plan: Plan) -> str:
    """``K=V`` lines for docker ``--env-file`` and systemd ``EnvironmentFile`` (values have no quotes
    to strip, as docker takes them literally)."""
    return "".join(f"{k}={v}\n" for k, v in plan_env(plan).items())


def format_docker(plan: Plan) -> str:
    """``-e K=V`` arguments for ``docker run``, one per line with shell continuations."""
    return "".join(f"-e {shlex.quote(f'{k}={v}')} \\\n" for k, v in plan_env(plan).items())


def format_k8s(plan: Plan) -> str:
    """A container ``env:`` list in YAML (values JSON-quoted, which is valid YAML)."""
    lines = ["env:"]
    for k, v in plan_env(plan).items():
        lines += [f"  - name: {k}", f"    value: {json.dumps(v)}"]
    return "\n".join(lines) + "\n"


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.2f}"


def format_table(plan: Plan, workload: WorkloadReport | None = None) -> str:
    """The human report: range, bucket table, warm-up, workload comparison, memory, environment,
    command, warnings."""
    b = plan.buckets
    pr = plan.pixel_range
    w = b.windows
    out = [
        (f"gaudi-vl plan: {plan.model_ref} ({plan.model.params / 1e9:.2f}B params) "
        f"for {plan.serve.target.value}"),
        (
            f"pixels {pr.min_pixels:,} .. {pr.max_pixels:,} (aspect up to {pr.max_aspect_ratio:g}:1) -> "
            f"images of {w.min_patches:,} .. {w.max_patches:,} patches after 112-alignment"
        ),
        "",
        f"{'bucket':>8}  {'serves patches':>15}  {'image MP':>11}  {'worst pad':>9}  {'graphs':>6}",
    ]
    for r in b.rows:
        if r.serves_images:
            serves = f"{r.first_patches}-{r.last_patches}" if r.first_patches != r.last_patches else str(
                r.first_patches
            )
            mp = _mp(r.first_pixels) if r.first_pixels == r.last_pixels else (
                f"{_mp(r.first_pixels)}-{_mp(r.last_pixels)}"
            )
            pad = f"{100 * r.worst_pad_fraction:.1f}%"
        else:
            serves, mp, pad = "none", "-", "-"
        out.append(f"{r.bucket_patches:>8}  {serves:>15}  {mp:>11}  {pad:>9}  {r.warmup_graphs:>6}")
    out.append(
        f"{len(b.buckets)} buckets ({b.strategy.value}), {b.warmup_graphs} warm-up graphs; "
        f"1 patch = {PIXELS_PER_PATCH} px, images above {b.largest} patches would compile while serving"
    )
    if workload is not None:
        out += ["", *workload_table_lines(workload)]
    summary = getattr(plan.memory, "summary_lines", None)
    if callable(summary):
        out += ["", "memory:"] + [f"  {line}" for line in summary()]
    out += ["", "environment:"] + [f"  export {k}={shlex.quote(v)}" for k, v in plan_env(plan).items()]
    out += ["", "command:", "  " + shlex.join(server_argv(plan))]
    notes = plan.all_warnings + (workload.workload.warnings() if workload is not None else ())
    if notes:
        out += ["", "notes:"] + [f"  - {n}" for n in notes]
    return "\n".join(out) + "\n"


FORMATTERS: dict[str, Callable[[Plan], str]] = {
    "table": format_table,
    "json": format_json,
    "env": format_env,
    "dotenv": format_dotenv,
    "docker": format_docker,
    "k8s": format_k8s,
}


def format_plan(plan: Plan, fmt: str, workload: WorkloadReport | None = None) -> str:
    """``FORMATTERS[fmt]``, with the workload section for the formats that have one (table, json);
    the shell formats stay pure environment so that ``eval`` keeps working."""
    if fmt == "table":
        return format_table(plan, workload)
    if fmt == "json":
        return format_json(plan, workload)
    return FORMATTERS[fmt](plan)
