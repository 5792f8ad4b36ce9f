"""The plan file: ``Plan`` to plain JSON data and back, versioned and strict.

Pure (no file I/O: ``gaudi_vl.cli.serve`` reads the file). ``plan_to_dict`` writes the plan's own
fields (model, pixel range, buckets, serving settings, memory plan, warm-up resolutions, notes) and,
for people and machines, what they imply (environment, command, bucket coverage, warm-up set, ...).
``plan_from_dict`` rebuilds the ``Plan`` from its own fields, refusing unknown keys and wrong types
with one line that names the key, and checks that every implied section in the file is exactly what
the plan implies: a file edited by hand in an implied section (``env``, ``command``) is refused
rather than silently half-applied. A file loads back as itself: ``plan_from_dict(plan_to_dict(p)) == p``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from enum import Enum
from typing import TYPE_CHECKING, Any, Union

from gaudi_vl.buckets.planner import Strategy, make_plan
from gaudi_vl.command import server_argv
from gaudi_vl.envvars import defaults_in_force, plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from gaudi_vl.memory import MemoryPlan
from gaudi_vl.models import ModelSpec
from gaudi_vl.plan import Plan, Resolution
from gaudi_vl.settings import ServeSettings, check_memory_section

if TYPE_CHECKING:
    from gaudi_vl.workload import WorkloadReport

FORMAT = "gaudi-vl plan"
VERSION = 1
REPLAN = "write one with gaudi-vl plan --json -o FILE"
OWN_KEYS = ("format", "version", "model", "pixel_range", "strategy", "buckets", "bucket_notes", "serve",
            "memory", "resolutions", "notes")
IMPLIED_KEYS = ("engine", "reachable_patches", "bucket_rows", "warmup", "env", "command", "warnings",
                "warmup_estimate", "text_buckets")
OPTIONAL_KEYS = ("text_env", "family_warmup")
"""Own fields newer than version 1's first files: absent means empty."""
REPORT_KEYS = ("workload",)
"""Written for people, not read back (the workload is not re-read when a plan file is used)."""


def jsonable(value: Any) -> Any:
    """Dataclasses (with their ``__json_properties__``), enums, tuples: plain JSON data."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in getattr(value, "__json_properties__", ()):
            out[name] = jsonable(getattr(value, name))
        return out
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _implied(plan: Plan) -> dict[str, Any]:
    b = plan.buckets
    warm = plan.warmup
    return {
        "engine": {
            "name": plan.engine.name,
            "title": plan.engine.title,
            "source": plan.engine.source,
            "defaults_in_force": defaults_in_force(plan),
        },
        "reachable_patches": {
            "min": b.windows.min_patches,
            "max": b.windows.max_patches,
            "nominal_max": b.windows.nominal_max_patches,
        },
        "bucket_rows": [
            {
                "bucket_patches": r.bucket_patches,
                "first_patches": r.first_patches,
                "last_patches": r.last_patches,
                "first_pixels": r.first_pixels,
                "last_pixels": r.last_pixels,
                "worst_pad_patches": r.worst_pad_patches,
                "worst_pad_fraction": round(r.worst_pad_fraction, 6),
                "warmed": r.bucket_patches in warm.compiled,
            }
            for r in b.rows
        ],
        "warmup": {
            "graphs": warm.graphs,
            "compiled": list(warm.compiled),
            "never_warmed": list(warm.never_warmed),
            "above_largest": list(warm.above_largest),
            "images": [f"{w}x{h}" for w, h in warm.images],
        },
        "env": plan_env(plan),
        "command": server_argv(plan),
        "warnings": list(plan.all_warnings),
        "warmup_estimate": jsonable(plan.warmup_estimate) | {"graphs": plan.warmup_estimate.graphs},
        "text_buckets": _text_buckets(plan),
    }


def _text_buckets(plan: Plan) -> dict[str, Any] | None:
    tb = plan.text_buckets
    if tb is None or not tb.modelled:
        return None
    return {
        "strategy": tb.strategy.value,
        "config": {name: list(values) for name, values in tb.config},
        "prompt": [list(b) for b in tb.prompt],
        "prompt_graphed": len(tb.prompt_graphed),
        "decode": [list(b) for b in tb.decode],
    }


def plan_to_dict(plan: Plan, workload: WorkloadReport | None = None) -> dict[str, Any]:
    """The plan file's content (``workload``: the optimizer's report, written for people)."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model": {"ref": plan.model_ref, "spec": jsonable(plan.model)},
        "pixel_range": jsonable(plan.pixel_range),
        "strategy": plan.buckets.strategy.value,
        "buckets": list(plan.buckets.buckets),
        "bucket_notes": list(plan.buckets.notes),
        "serve": plan.serve.to_dict(),
        "memory": jsonable(plan.memory) if plan.memory is not None else None,
        "resolutions": [str(r) for r in plan.resolutions],
        "notes": list(plan.warnings),
        "text_env": [list(kv) for kv in plan.text_env],
    }
    if plan.family_warmup is not None:
        out["family_warmup"] = jsonable(plan.family_warmup)
    out.update(_implied(plan))
    if workload is not None:
        from gaudi_vl.exporters import workload_to_dict

        out["workload"] = workload_to_dict(workload)
        out["warnings"] += list(workload.workload.warnings())
    return out


# ---------------------------------------------------------------- reading


def _bad(where: str, expected: str, value: Any) -> GaudiVLError:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return GaudiVLError(f"plan file: {where} must be {expected}, got {shown}", REPLAN)


def _check(tp: Any, value: Any, where: str) -> Any:
    """``value`` if it is of type ``tp`` (strict JSON typing: no bool for int, no NaN), else an error."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check(inner[0], value, where)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise _bad(where, "a list", value)
        return tuple(_check(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return _load(tp, value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise _bad(where, "true or false", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(where, "an integer", value)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(where, "a number", value)
        try:
            number = float(value)  # an integer of 400 digits does not fit: OverflowError
        except OverflowError:
            raise _bad(where, "a finite number", value) from None
        if not math.isfinite(number):
            raise _bad(where, "a number", value)
        return number
    if tp is str:
        if not isinstance(value, str):
            raise _bad(where, "text", value)
        return value
    if isinstance(tp, type) and issubclass(tp, Enum):
        choices = [m.value for m in tp]
        if value not in choices:
            raise _bad(where, "one of " + ", ".join(map(str, choices)), value)
        return tp(value)
    raise TypeError(f"no reader for {tp!r}")


def _load(cls: type, data: Any, where: str, ignore: tuple[str, ...] = ()) -> Any:
    """A frozen dataclass from a JSON object: every field present or defaulted, no unknown keys."""
    if not isinstance(data, dict):
        raise _bad(where, "an object", data)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields) - set(ignore))
    if unknown:
        raise GaudiVLError(f"plan file: {where} has unknown key(s) {', '.join(map(repr, unknown))}", REPLAN)
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _check(hints[name], data[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise GaudiVLError(f"plan file: {where} has no {name!r}", REPLAN)
    try:
        return cls(**values)
    except GaudiVLError as exc:
        raise GaudiVLError(f"plan file: {where}: {exc.message}", exc.hint or REPLAN) from None


def plan_from_dict(data: Any) -> Plan:
    """The ``Plan`` a plan file holds (see the module docstring for what is checked)."""
    if not isinstance(data, dict):
        raise _bad("the file", "a JSON object", data)
    if data.get("format") != FORMAT or "version" not in data:
        raise GaudiVLError("plan file: not a gaudi-vl plan (no 'format': 'gaudi-vl plan' and 'version')",
                           REPLAN)
    if type(data["version"]) is not int or data["version"] != VERSION:  # 1.0 and true are not 1
        raise GaudiVLError(f"plan file: version {data['version']!r} is not {VERSION}",
                           "re-plan with this gaudi-vl")
    unknown = sorted(set(data) - set(OWN_KEYS) - set(OPTIONAL_KEYS) - set(IMPLIED_KEYS) - set(REPORT_KEYS))
    if unknown:
        raise GaudiVLError(f"plan file: unknown key(s) {', '.join(map(repr, unknown))}", REPLAN)
    missing = [k for k in OWN_KEYS if k not in data]
    if missing:
        raise GaudiVLError(f"plan file: missing {', '.join(missing)}", REPLAN)
    model = data["model"]
    if not isinstance(model, dict) or set(model) != {"ref", "spec"}:
        raise _bad("model", "an object with 'ref' and 'spec'", model)
    spec = _load(ModelSpec, model["spec"], "model.spec")
    ref = _check(str, model["ref"], "model.ref")
    pixel_range = _load(PixelRange, data["pixel_range"], "pixel_range")
    serve = ServeSettings.from_dict(data["serve"], "serve")
    strategy = _check(str, data["strategy"], "strategy")
    if strategy not in {s.value for s in Strategy}:
        raise _bad("strategy", "one of " + ", ".join(s.value for s in Strategy), strategy)
    buckets = _check(tuple[int, ...], data["buckets"], "buckets")
    if "family_warmup" in data and data["family_warmup"] is not None:
        return _family_plan(data, spec, ref, pixel_range, serve)
    if not buckets:
        raise _bad("buckets", "a non-empty list", data["buckets"])
    memory = None
    if data["memory"] is not None:
        memory = _load(MemoryPlan, data["memory"], "memory", ignore=MemoryPlan.__json_properties__)
        try:
            check_memory_section(data["memory"], serve)  # the settings' own bounds (gaudi_vl.settings)
        except GaudiVLError as exc:
            raise GaudiVLError(f"plan file: {exc.message}", exc.hint) from None
    resolutions = tuple(Resolution.parse(_check(str, r, f"resolutions[{i}]"))
                        for i, r in enumerate(_check(tuple[str, ...], data["resolutions"], "resolutions")))
    notes = _check(tuple[str, ...], data["notes"], "notes")
    bucket_notes = _check(tuple[str, ...], data["bucket_notes"], "bucket_notes")
    try:
        bucket_plan = make_plan(buckets, Strategy(strategy), pixel_range, extra_warnings=bucket_notes)
    except GaudiVLError as exc:
        raise GaudiVLError(f"plan file: buckets: {exc.message}", exc.hint) from None
    text_env = _text_env(data.get("text_env", []), serve)
    plan = Plan(spec, ref, pixel_range, bucket_plan, serve, memory, resolutions, notes, text_env)
    _check_implied(plan, data)
    try:
        plan.check_engine_start()
    except GaudiVLError as exc:
        raise GaudiVLError(f"plan file: {exc.message}", exc.hint) from None
    return plan


def _family_plan(data: dict[str, Any], spec: ModelSpec, ref: str, pixel_range: PixelRange,
                 serve: ServeSettings) -> Plan:
    """A family plan (``gaudi_vl.family_plan``): its warm-up variables are its own fields; its
    buckets and pixel range are implied by them and checked."""
    from gaudi_vl.family_plan import FamilyWarmup, family_bucket_plan

    if spec.family is None:
        raise _bad("family_warmup", "absent for a Qwen2.5-VL model", data["family_warmup"])
    warm = _load(FamilyWarmup, data["family_warmup"], "family_warmup")
    memory = None
    if data["memory"] is not None:
        memory = _load(MemoryPlan, data["memory"], "memory", ignore=MemoryPlan.__json_properties__)
    bucket_plan = family_bucket_plan(spec, serve.engine, warm)
    implied = (("buckets", list(bucket_plan.buckets)), ("pixel_range", jsonable(bucket_plan.pixel_range)),
               ("strategy", bucket_plan.strategy.value), ("resolutions", []), ("bucket_notes", []))
    for key, value in implied:
        if data[key] != value:
            raise _edited(key, data[key], value)
    notes = _check(tuple[str, ...], data["notes"], "notes")
    text_env = _text_env(data.get("text_env", []), serve)
    plan = Plan(spec, ref, bucket_plan.pixel_range, bucket_plan, serve, memory, (), notes, text_env, warm)
    _check_implied(plan, data)
    return plan


def _text_env(value: Any, serve: ServeSettings) -> tuple[tuple[str, str], ...]:
    """``[[NAME, VALUE], ...]`` of text bucket variables the plan's engine reads; else an error."""
    pairs = _check(tuple[tuple[str, ...], ...], value, "text_env")
    tb = serve.engine.text_buckets
    known = set(tb.variables) if tb is not None else set()
    for i, pair in enumerate(pairs):
        if len(pair) != 2 or pair[0] not in known or not re.fullmatch(r"[0-9]{1,9}", pair[1]):
            raise _bad(f"text_env[{i}]",
                       f"[NAME, DIGITS] with NAME a bucket variable {serve.engine.name} reads", list(pair))
    return tuple((k, v) for k, v in pairs)


def _check_implied(plan: Plan, data: dict[str, Any]) -> None:
    expected = _implied(plan)
    if plan.memory is not None:
        expected_memory = jsonable(plan.memory)
        for name in MemoryPlan.__json_properties__:
            if name in data["memory"] and data["memory"][name] != expected_memory[name]:
                raise _edited(f"memory.{name}", data["memory"][name], expected_memory[name])
    for key, value in expected.items():
        if key == "warnings" and "workload" in data:
            continue  # the workload's own warnings are appended to the plan's
        if key in data and data[key] != value:
            where, found = key, data[key]
            if isinstance(value, dict) and isinstance(found, dict):
                diff = sorted(k for k in set(value) | set(found) if value.get(k) != found.get(k))
                where, found = f"{key}.{diff[0]}", found.get(diff[0])
            raise _edited(where, found, value)


def _edited(where: str, found: Any, implied: Any) -> GaudiVLError:
    shown = repr(found) if len(repr(found)) <= 50 else repr(found)[:47] + "..."
    return GaudiVLError(
        f"plan file: {where} is {shown} but the plan's own fields imply something else (edited by hand?)",
        "edit the fields it comes from (serve, memory, buckets) or re-plan; implied sections are output only",
    )
