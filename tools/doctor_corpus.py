"""Score ``gaudi-vl doctor`` on a folder of engine logs whose expected verdicts are in a manifest.

    python tools/doctor_corpus.py tests/doctor_corpus [--split NAME|all] [--by split|batch]
                                  [--manifest M.json] [--doctor-file OLD.py] [--quiet]
                                  [--record BATCH --doctor COMMIT (--labels COMMIT | --why TEXT)]

A log is a positive when its manifest entry says ``failed: true``. Printed per log (unless
``--quiet``): expected and reported verdicts; then, per split, failure recall (positives reported
failed / positives), precision (reported failed that are positives / reported failed), phase accuracy
(positives reported failed in the expected ``failure_phase`` / positives; a ``null`` expected phase
means "unknown": the doctor must report no phase), kind accuracy and ``phase_reached`` accuracy.

Splits (``split`` in the manifest, fixed when a log is added; README of the corpus): ``tune`` logs
may be used to develop the doctor, ``heldout`` / ``heldout-N`` logs only to measure it (each
``heldout-N`` is one batch, measured once when added: ``heldout_measurements.json``). ``--by batch``
scores each batch (``batch`` in the manifest: the tune batches A, A2, ... and the held-out ones) instead
of each split. ``--record K7 --labels LABELS_COMMIT --doctor DOCTOR_COMMIT`` writes a held-out batch's one
measurement (``first``, with every missed log's verdict) into ``heldout_measurements.json``; ``--record K7
--why TEXT --doctor COMMIT`` re-measures it after later fixes (``current`` only). ``--doctor-file`` loads
another ``doctor.py`` (e.g. ``git show REV:gaudi_vl/doctor.py > /tmp/old.py``) to score it the same way.
``--paste FORMAT`` re-reads every log as if it had been pasted that way (``PASTE_FORMATS``: a collector's
envelope around each line, an indented or quoted block, a hard wrap at a terminal's width, a re-wrap at word
boundaries) and counts the verdicts (failed, kind, failure phase) that change: each log is its own reference.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from gaudi_vl.cli.doctor import iter_lines

SPLITS = ("tune", "heldout")
"""The first two splits; each later held-out batch is its own split (``heldout-2``, ``heldout-3``, ...)."""


def load_doctor(path: str | None) -> ModuleType:
    if path is None:
        import gaudi_vl.doctor as module

        return module
    spec = importlib.util.spec_from_file_location("doctor_under_test", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def reader(module: ModuleType, grammar: str | None = None) -> Any:
    """A doctor that reads as ``gaudi-vl doctor`` reads a file, wrapped lines joined (an older doctor under
    test may not know ``unwrap``)."""
    unwrap = {"unwrap": True} if "unwrap" in inspect.signature(module.Doctor).parameters else {}
    return module.Doctor(grammar=grammar, **unwrap)


def read(module: ModuleType, log: Path, grammar: str | None = None) -> Any:
    doctor = reader(module, grammar)
    with log.open(encoding="utf-8", errors="replace") as stream:
        for line in iter_lines(stream):
            doctor.feed(line)
    return doctor.report()


def _hard_wrap(width: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: [line[i:i + width] for line in lines for i in range(0, len(line), width) or [0]]


def _word_wrap(width: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: [piece for line in lines for piece in textwrap.wrap(
        line, width, break_on_hyphens=False, replace_whitespace=False) or [""]]


ENVELOPES: dict[str, Callable[[list[str]], list[str]]] = {
    "docker logs -t": lambda ls: [f"2025-03-01T12:00:{i % 60:02d}.123456789Z {s}" for i, s in enumerate(ls)],
    "kubectl logs --prefix": lambda ls: [f"[pod/vllm-0/vllm] {s}" for s in ls],
    "journald": lambda ls: [f"Dec 07 04:05:06 gaudi-node vllm[123]: {s}" for s in ls],
    "docker compose logs": lambda ls: [f"vllm-server-1  | {s}" for s in ls],
    "markdown quote": lambda ls: [f"> {s}" for s in ls],
}
"""A collector's prefix, or a quote mark, around every line of a log."""
LAYOUTS: dict[str, Callable[[list[str]], list[str]]] = {
    "code block in a list (4 spaces)": lambda ls: [f"    {s}" for s in ls],
    "tab-indented": lambda ls: [f"\t{s}" for s in ls],
    "CRLF line ends": lambda ls: [f"{s}\r" for s in ls],
    "trailing blanks": lambda ls: [f"{s}   " for s in ls],
}
"""How an editor lays a pasted block out."""
WRAPS: dict[str, Callable[[list[str]], list[str]]] = {
    "hard wrap at 120": _hard_wrap(120), "hard wrap at 160": _hard_wrap(160),
    "word wrap at 120": _word_wrap(120), "word wrap at 72": _word_wrap(72),
}
"""A terminal's copy cut at its width (inside words), or a re-wrap at word boundaries (an e-mail, a commit
message): what the doctor reads back is a measured figure, not an invariant (BENCHMARKS.md)."""
PASTE_FORMATS = {**ENVELOPES, **LAYOUTS, **WRAPS}
WHOLE_LINE_EXPORTS = {"sagemaker111_cloudwatch_csv_escaped_engine_core_executor.log"}
"""A CloudWatch CSV export quotes each whole line as a CSV field: no collector adds an envelope around it."""


def read_lines(module: ModuleType, lines: list[str]) -> Any:
    doctor = reader(module)
    doctor.feed_many(lines)
    return doctor.report()


def verdict(report: Any) -> tuple[bool, str | None, str | None]:
    return report.failed, report.failure_kind, report.failure_phase.value if report.failure_phase else None


def paste_changes(folder: Path, names: list[str], module: ModuleType, paste: str) -> list[str]:
    """The logs whose verdict changes when read as pasted in ``paste`` (``PASTE_FORMATS``)."""
    transform = PASTE_FORMATS[paste]
    changed = []
    for name in names:
        if paste in ENVELOPES and name in WHOLE_LINE_EXPORTS:
            continue
        lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        before, after = verdict(read_lines(module, lines)), verdict(read_lines(module, transform(lines)))
        if after != before:
            changed.append(f"{name}: {before} -> {after}")
    return changed


def split_of(entry: dict[str, Any]) -> str:
    return str(entry.get("split", "tune"))


def batch_of(entry: dict[str, Any]) -> str:
    """The batch a log was added in; logs from before issue 19's second round are ``round 1``."""
    return str(entry.get("batch", "round 1"))


def groups(manifest: dict[str, dict[str, Any]], by: str = "split") -> list[str]:
    """The split (or batch) names of ``manifest``, in the order their first log appears."""
    key = split_of if by == "split" else batch_of
    return list(dict.fromkeys(key(v) for v in manifest.values()))


def score(folder: Path, manifest: dict[str, dict[str, Any]], module: ModuleType,
          *, quiet: bool = False, verdicts: dict[str, dict[str, Any]] | None = None) -> dict[str, float]:
    """Recall, precision, phase / kind / phase_reached accuracy of ``module``'s doctor on ``manifest``;
    ``verdicts``, when given, receives each log's report (``to_dict``)."""
    tp = fp = fn = phase_ok = kind_ok = reached_ok = crashes = 0
    rows = []
    for name, want in sorted(manifest.items()):
        try:
            r = read(module, folder / name)
        except Exception as exc:  # noqa: BLE001 -- an older doctor may raise: scored as a miss
            crashes += 1
            fn += bool(want["failed"])
            rows.append(f"{name:55} want {str(want['failed']):5} {str(want['failure_phase']):22} "
                        f"CRASHED {type(exc).__name__}: {exc}")
            continue
        if verdicts is not None:
            verdicts[name] = r.to_dict()
        got_phase = r.failure_phase.value if r.failure_phase else None
        got_reached = r.phase_reached.value if r.phase_reached else None
        got_kind = getattr(r, "failure_kind", None)
        if want["failed"] and r.failed:
            tp += 1
            phase_ok += got_phase == want["failure_phase"]
            kind_ok += got_kind == want["failure_kind"]
        elif r.failed:
            fp += 1
        elif want["failed"]:
            fn += 1
        reached_ok += got_reached == want["phase_reached"]
        rows.append(f"{name:55} want {str(want['failed']):5} {str(want['failure_phase']):22} "
                    f"{str(want['phase_reached']):22} got {str(r.failed):5} {str(got_phase):22} "
                    f"{str(got_reached):22} {got_kind}")
    positives = tp + fn
    if not quiet:
        print("\n".join(rows))
    return {
        "logs": float(len(manifest)),
        "failing logs": float(positives),
        "recall": tp / positives if positives else 1.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "phase accuracy": phase_ok / positives if positives else 1.0,
        "kind accuracy": kind_ok / positives if positives else 1.0,
        "phase_reached accuracy": reached_ok / len(manifest) if manifest else 1.0,
        "crashes": float(crashes),
    }


VERDICT = ("failed", "failure_kind", "failure_phase", "phase_reached")


def measurement(folder: Path, part: dict[str, dict[str, Any]], module: ModuleType) -> dict[str, Any]:
    """One batch's numbers and every log whose verdict differs from its label (the doctor's verdict), as
    ``heldout_measurements.json`` keeps them."""
    verdicts: dict[str, dict[str, Any]] = {}
    r = score(folder, part, module, quiet=True, verdicts=verdicts)
    misses = [{"log": name, **{k: verdicts[name][k] for k in VERDICT}} for name, want in sorted(part.items())
              if any(verdicts[name][k] != want[k] for k in VERDICT)]
    return {"logs": len(part), "failing_logs": sum(bool(v["failed"]) for v in part.values()),
            **{k.replace(" ", "_"): round(v, 3) for k, v in r.items() if k not in ("logs", "failing logs",
                                                                                   "crashes")},
            "misses": misses}


def record(folder: Path, manifest: dict[str, dict[str, Any]], module: ModuleType, batch: str, *,
           doctor: str, labels: str | None, why: str | None, when: str) -> dict[str, Any]:
    """Write a held-out batch's one measurement (``labels`` given: ``first`` and ``current``) or re-measure
    it after later fixes (``why`` given: ``current`` only, ``first`` untouched) into
    ``heldout_measurements.json``."""
    path = folder / "heldout_measurements.json"
    records = json.loads(path.read_text())
    part = {k: v for k, v in manifest.items() if batch_of(v) == batch}
    splits = {split_of(v) for v in part.values()}
    if not part or len(splits) != 1 or not next(iter(splits)).startswith("heldout-"):
        raise SystemExit(f"batch {batch!r} is not one held-out batch (splits: {sorted(splits)})")
    split = splits.pop()
    numbers = measurement(folder, part, module)
    if labels is not None:
        if batch in records:
            raise SystemExit(f"batch {batch} was measured already: its first measurement stays; use --why")
        first = {"measured": when, "doctor_commit": doctor, "labels_commit": labels,
                 "command": f"python tools/doctor_corpus.py tests/doctor_corpus --split {split}", **numbers}
        unchanged = "measured once; not changed since"
        records[batch] = {"split": split, "first": first, "current": {
            "doctor_commit": doctor, "why_it_differs_from_first": unchanged, **numbers}}
    else:
        if batch not in records:
            raise SystemExit(f"batch {batch} has no first measurement: record it with --labels first")
        records[batch]["current"] = {"doctor_commit": doctor, "why_it_differs_from_first": why, **numbers}
    path.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    return numbers


def show(title: str, result: dict[str, float]) -> None:
    print(f"== {title}")
    for key, value in result.items():
        print(f"{key}: {value:.0f}" if key in ("logs", "failing logs", "crashes") else f"{key}: {value:.3f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--manifest", type=Path, default=None, help="default: FOLDER/manifest.json")
    p.add_argument("--split", default="all",
                   help="score only this split (tune, heldout, heldout-2, ...; default: each, then all)")
    p.add_argument("--by", choices=["split", "batch"], default="split",
                   help="group the scores by split (default) or by the batch each log was added in")
    p.add_argument("--doctor-file", default=None, help="score this doctor.py instead of gaudi_vl.doctor")
    p.add_argument("--quiet", action="store_true", help="metrics only, no per-log rows")
    p.add_argument("--record", metavar="BATCH", default=None,
                   help="write held-out BATCH's measurement into heldout_measurements.json: its one "
                        "measurement with --labels, a re-measurement after later fixes with --why")
    p.add_argument("--labels", metavar="COMMIT", default=None,
                   help="with --record: the batch's labels commit")
    p.add_argument("--why", default=None,
                   help="with --record: why the doctor now reads the batch differently")
    p.add_argument("--doctor", metavar="COMMIT", default=None, help="with --record: the doctor's commit")
    p.add_argument("--paste", choices=sorted(PASTE_FORMATS), default=None,
                   help="count the verdicts that change when every log is read as pasted this way")
    args = p.parse_args(argv)
    manifest = json.loads((args.manifest or args.folder / "manifest.json").read_text())
    module = load_doctor(args.doctor_file)
    if args.record is not None:
        if (args.labels is None) == (args.why is None) or args.doctor is None:
            raise SystemExit("--record needs --doctor and exactly one of --labels (first) or --why "
                             "(re-measure)")
        from datetime import datetime, timezone
        numbers = record(args.folder, manifest, module, args.record, doctor=args.doctor, labels=args.labels,
                         why=args.why, when=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ"))
        summary = {k: v for k, v in numbers.items() if k != "misses"}
        print(json.dumps(summary), len(numbers["misses"]), "misses")
        return 0
    if args.paste is not None:
        names = sorted(n for n, v in manifest.items() if args.split == "all" or split_of(v) == args.split)
        changed = paste_changes(args.folder, names, module, args.paste)
        if not args.quiet:
            print("\n".join(changed))
        print(f"{args.paste}: {len(changed)} of {len(names)} verdicts change")
        return 0
    key = split_of if args.by == "split" else batch_of
    names = groups(manifest, args.by) if args.split == "all" else [args.split]
    for name in names:
        part = {k: v for k, v in manifest.items() if key(v) == name}
        if not part:
            known = ", ".join(groups(manifest, args.by))
            raise SystemExit(f"no log in {args.by} {name!r}: choose one of {known}")
        show(f"{args.by} {name} ({len(part)} logs)", score(args.folder, part, module, quiet=args.quiet))
    if args.split == "all":
        show(f"all ({len(manifest)} logs)", score(args.folder, manifest, module, quiet=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
