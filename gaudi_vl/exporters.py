"""Formatting a ``Plan`` for people and machines: table, json, env, dotenv, docker, k8s, helm-values.

Pure string building: no values are computed here (environment: ``gaudi_vl.envvars``, command:
``gaudi_vl.command``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gaudi_vl.command import server_argv
from gaudi_vl.engines import Setting
from gaudi_vl.envvars import defaults_in_force, plan_env
from gaudi_vl.errors import printable, shell_join, shell_quote
from gaudi_vl.geometry import PIXELS_PER_PATCH
from gaudi_vl.k8s import K8sOptions, build_manifests, helm_values, manifest_comments, startup_comment
from gaudi_vl.plan import Plan
from gaudi_vl.planfile import jsonable, plan_to_dict
from gaudi_vl.warmup import fewer_buckets_hint
from gaudi_vl.yamlout import to_yaml, yaml_stream

if TYPE_CHECKING:
    from gaudi_vl.workload import WorkloadReport


def format_json(plan: Plan, workload: WorkloadReport | None = None) -> str:
    """The plan file (``gaudi_vl.planfile``): what ``gaudi-vl serve --plan`` runs as written."""
    return json.dumps(plan_to_dict(plan, workload), indent=2) + "\n"


def workload_to_dict(report: WorkloadReport) -> dict[str, Any]:
    """The workload section: what was read, and each plan's score on it (optimal first)."""
    w = report.workload
    stats = jsonable(w.size_stats) if w.size_stats is not None else None
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
                "warmup_graphs": s.warmup_graphs,
                "never_warmed": list(s.never_warmed),
                "warmup_above_largest": list(s.warmup_above_largest),
                "tower_tflops": round(s.tower_flops / 1e12, 6),
                "relative_time": round(report.relative_time(s), 6),
            }
            for s in report.scores
        ],
        "compiling_while_serving": {
            s.label: {"images": n, "share": round(n / w.images, 6) if w.images else 0.0}
            for s, n in zip(report.scores, report.compiling_images, strict=False)
        },
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
        (f"{'plan':>8}  {'buckets':>7}  {'waste':>7}  {'compiles':>8}  {'graphs':>6}  {'unwarmed':>8}  "
         f"{'rel. time':>9}"),
    ]
    for s in report.scores:
        out.append(
            f"{s.label:>8}  {len(s.buckets):>7}  {100 * s.waste_fraction:>6.1f}%  "
            f"{s.images_above_largest:>8,}  {s.warmup_graphs:>6}  {len(s.never_warmed):>8}  "
            f"{report.relative_time(s):>9.3f}"
        )
    out.append(
        "waste: padded / real patches - 1; compiles: images above the largest bucket; graphs: sizes the "
        "engine compiles at warm-up; unwarmed: buckets its warm-up never reaches; rel. time: "
        "vision-tower cost model, optimal = 1"
    )
    if report.compiling_images and w.images:
        shares = ", ".join(f"{s.label} {n:,} ({100 * n / w.images:.1f}%)"
                           for s, n in zip(report.scores, report.compiling_images, strict=False))
        out.append(f"images compiling while serving (padded size not warmed): {shares}")
    if report.resolutions:
        out.append(
            f"warm-up resolutions: {', '.join(map(str, report.resolutions))} "
            f"({100 * report.resolutions_share:.1f}% of the images)"
        )
    return out


def format_env(plan: Plan) -> str:
    """``export K=V`` lines for ``eval "$(gaudi-vl plan ... --format env)"``."""
    return "".join(f"export {k}={shell_quote(v)}\n" for k, v in plan_env(plan).items())


def format_dotenv(plan: Plan) -> str:
    """``K=V`` lines for docker ``--env-file`` and systemd ``EnvironmentFile`` (values have no quotes
    to strip, as docker takes them literally)."""
    return "".join(f"{k}={v}\n" for k, v in plan_env(plan).items())


def format_docker(plan: Plan) -> str:
    """``-e K=V`` arguments for ``docker run``, one per line with shell continuations."""
    return "".join(f"-e {shell_quote(f'{k}={v}')} \\\n" for k, v in plan_env(plan).items())


LOAD_BASE_S = 300.0
"""What precedes warm-up besides reading the weights (engine start, the profiling run, the KV-cache
set-up): gaudi-vl's allowance, an assumption, not a published figure."""
LOAD_BYTES_PER_S = 200 * 2**20
"""Weights read at 200 MiB/s: a conservative rate for a network volume (an assumption)."""


def startup_seconds_high(plan: Plan) -> tuple[float, str]:
    """Upper bound of the container's start-up in seconds, and where it comes from (for the header).

    The startupProbe's clock starts with the container, so the bound covers reading the weights and
    the profiling run (``LOAD_*``, assumptions) as well as the whole warm-up: the warm-up estimate's
    upper bound (``gaudi_vl.warmup.estimate_warmup``, from published Gaudi figures).
    """
    warm = plan.warmup_estimate
    weights = plan.memory.text_weights_bytes + plan.memory.vision_weights_bytes if plan.memory else 0
    load = LOAD_BASE_S + weights / LOAD_BYTES_PER_S
    source = (f"warm-up up to {warm.seconds_high:.0f} s for {warm.graphs} graphs (gaudi_vl.warmup, an "
              f"estimate from published Gaudi figures) + {load:.0f} s to load {weights / 2**30:.1f} GiB of "
              "weights and profile (assumed)")
    return warm.seconds_high + load, source


def format_k8s(plan: Plan, options: K8sOptions | None = None) -> str:
    """The Kubernetes manifests (``gaudi_vl.k8s``) as a YAML stream for ``kubectl apply -f``."""
    opts = options or K8sOptions()
    high, source = startup_seconds_high(plan)
    docs = build_manifests(plan, opts, high)
    return yaml_stream(docs, manifest_comments(plan, opts, high, source))


def format_helm_values(plan: Plan, options: K8sOptions | None = None) -> str:
    """Values for OPEA's vllm Helm chart (``gaudi_vl.k8s.helm_values``): ``helm install -f``."""
    opts = options or K8sOptions()
    high, source = startup_seconds_high(plan)
    head = [
        "values for OPEA GenAIInfra helm-charts/common/vllm: helm install NAME ./vllm -f this-file.yaml",
        startup_comment(high, source),
    ]
    return "".join(f"# {line}\n" for line in head) + to_yaml(helm_values(plan, opts, high))


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.2f}"


def _bucket_table(plan: Plan) -> list[str]:
    """The bucket rows: what each bucket serves, its worst padding, whether warm-up compiles it."""
    b, warm = plan.buckets, plan.warmup
    out = ["", f"{'bucket':>8}  {'serves patches':>15}  {'image MP':>11}  {'worst pad':>9}  {'warmed':>6}"]
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
        warmed = "yes" if r.bucket_patches in warm.compiled else "no"
        out.append(f"{r.bucket_patches:>8}  {serves:>15}  {mp:>11}  {pad:>9}  {warmed:>6}")
    above = ", ".join(map(str, warm.above_largest))
    out.append(
        f"{len(b.buckets)} buckets ({b.strategy.value}); warm-up compiles {warm.graphs} vision graph(s)"
        + (f", {len(warm.above_largest)} above the largest bucket ({above})" if warm.above_largest else "")
        + (f"; never warmed: {', '.join(map(str, warm.never_warmed))}" if warm.never_warmed else "")
        + f"; 1 patch = {PIXELS_PER_PATCH} px; images above {b.largest} patches would compile while serving"
    )
    return out


def format_table(plan: Plan, workload: WorkloadReport | None = None) -> str:
    """The human report: engine, range, bucket table, warm-up, workload comparison, memory,
    environment (and the engine defaults left in force), command, notes."""
    pr = plan.pixel_range
    w = plan.buckets.windows
    engine = plan.engine
    out = [
        (f"gaudi-vl plan: {plan.model_ref} ({plan.model.params / 1e9:.2f}B params) for {engine.name} "
         f"({engine.title})"),
        (
            f"pixels {pr.min_pixels:,} .. {pr.max_pixels:,} (aspect up to {pr.max_aspect_ratio:g}:1) -> "
            f"images of {w.min_patches:,} .. {w.max_patches:,} patches after 112-alignment"
        ),
    ]
    if plan.family_warmup is not None:
        from gaudi_vl.family_plan import family_lines

        out[1:] = family_lines(plan)
    elif engine.reads(Setting.BUCKETS):
        out += _bucket_table(plan)
    else:
        out.append(f"{engine.name} compiles no per-bucket vision graphs: no vision buckets to plan")
    if workload is not None:
        out += ["", *workload_table_lines(workload)]
    if plan.memory is not None:
        out += ["", "memory:"] + [f"  {line}" for line in plan.memory.summary_lines()]
        out += ["", "warm-up:", f"  {plan.warmup_estimate.summary()}"]
        tb = plan.text_buckets
        if tb is not None and tb.modelled:
            ranges = "; ".join(f"{name} {'/'.join(map(str, v))}" for name, v in tb.config)
            out.append(f"  text buckets ({tb.strategy.value}, min/step/max[/limit]): {ranges}")
        hint = fewer_buckets_hint(plan)
        if hint:
            out.append(f"  {hint}")
    env = plan_env(plan)
    out += ["", "environment:"] + [f"  export {k}={shell_quote(v)}" for k, v in env.items()]
    kept = defaults_in_force(plan)
    if kept:
        out += ["  engine defaults left in force:"] + [f"    {line}" for line in kept]
    out += ["", "command:", "  " + shell_join(server_argv(plan))]
    notes = plan.all_warnings + engine.notes + (workload.workload.warnings() if workload is not None else ())
    if notes:
        out += ["", "notes:"] + [f"  - {n}" for n in notes]
    # model names, file names and notes come from the user: no control character reaches a terminal
    return "\n".join(printable(line) for line in out) + "\n"


FORMATTERS: dict[str, Callable[[Plan], str]] = {
    "table": format_table,
    "json": format_json,
    "env": format_env,
    "dotenv": format_dotenv,
    "docker": format_docker,
    "k8s": format_k8s,
    "helm-values": format_helm_values,
}


def format_plan(
    plan: Plan, fmt: str, workload: WorkloadReport | None = None, k8s: K8sOptions | None = None
) -> str:
    """``FORMATTERS[fmt]``, with the workload section for the formats that have one (table, json);
    the shell formats stay pure environment so that ``eval`` keeps working; the Kubernetes formats
    take their options (``k8s``)."""
    if fmt == "k8s":
        return format_k8s(plan, k8s)
    if fmt == "helm-values":
        return format_helm_values(plan, k8s)
    if fmt == "table":
        return format_table(plan, workload)
    if fmt == "json":
        return format_json(plan, workload)
    return FORMATTERS[fmt](plan)
