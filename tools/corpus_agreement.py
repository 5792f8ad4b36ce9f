"""How far two careful readers agree on the doctor corpus's labels, and the doctor measured against each.

    python tools/corpus_agreement.py tests/doctor_corpus [--batches K40-K88] [--json]

A held-out log's label is its collector's (the *first* label). ``blind_labels.json`` holds a *second* label of
the same logs, written from the log's lines alone by a reader who saw neither the first label, the log's
thread and file name, nor the doctor (corpus README, "Blind second labels"), and a *third* label, written the
same way, of each log the two disagree on. From these this prints:

- label agreement: whether the log shows a failure, and the failure phase (``not failed`` counted as a phase),
  first against second label, over the logs the first label calls failing;
- the doctor at each held-out batch's one measurement (``heldout_measurements.json``: the recorded misses;
  every other log then read as its first label) against the first labels, the second labels, the logs both
  agree on, and the majority of the three (a log with no majority is left out and counted).

No doctor runs here: the numbers are those of the verdicts recorded when each batch was measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

VERDICT = ("failed", "failure_kind", "failure_phase", "phase_reached")
NOT_FAILED = "not failed"
"""The "phase" of a log that shows no failure, so that one comparison covers both questions."""


def phase(label: Mapping[str, Any]) -> str | None:
    """The failure phase a label gives, or ``NOT_FAILED``; ``None`` is the phase "unknown"."""
    return label["failure_phase"] if label["failed"] else NOT_FAILED


def first_verdicts(manifest: Mapping[str, Mapping[str, Any]],
                   records: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The doctor's verdict on each measured held-out log at its batch's one measurement: the recorded miss,
    or, for a log it did not miss, its label as it was then (``label_when_measured`` where a convention
    settled later changed it: the manifest's ``relabelled`` says why)."""
    out: dict[str, dict[str, Any]] = {}
    for record in records.values():
        misses = {m["log"]: m for m in record["first"]["misses"]}
        for name, label in manifest.items():
            if label.get("split") == record["split"]:
                source = misses.get(name, label.get("label_when_measured", label))
                out[name] = {k: source[k] for k in VERDICT}
    return out


def majority(votes: Iterable[str | None]) -> tuple[bool, str | None]:
    """``(True, phase)`` when at least two votes name the same phase; ``(False, None)`` when none do."""
    counts = Counter(votes).most_common()
    if counts and counts[0][1] >= 2:
        return True, counts[0][0]
    return False, None


def _rate(pairs: list[tuple[Any, Any]]) -> dict[str, float]:
    hits = sum(a == b for a, b in pairs)
    return {"agree": hits, "of": len(pairs), "rate": round(hits / len(pairs), 3) if pairs else 1.0}


def _doctor_against(want: Mapping[str, str | None],
                    doctor: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Recall, precision and failure-phase accuracy of ``doctor`` against ``want`` (a phase, or NOT_FAILED,
    per log), counted as ``tools/doctor_corpus.py`` counts them."""
    failing = [n for n, p in want.items() if p != NOT_FAILED]
    tp = sum(bool(doctor[n]["failed"]) for n in failing)
    fp = sum(bool(doctor[n]["failed"]) for n, p in want.items() if p == NOT_FAILED)
    phase_ok = sum(bool(doctor[n]["failed"]) and doctor[n]["failure_phase"] == want[n] for n in failing)
    found = [n for n in failing if doctor[n]["failed"]]
    named = [n for n in found if doctor[n]["failure_phase"] is not None]
    unknown = [n for n in found if doctor[n]["failure_phase"] is None]
    return {"logs": len(want), "failing": len(failing),
            "recall": round(tp / len(failing), 3) if failing else 1.0,
            "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
            "phase": round(phase_ok / len(failing), 3) if failing else 1.0,
            "phase named, right": _rate([(want[n], doctor[n]["failure_phase"]) for n in named]),
            "phase unknown, right": _rate([(want[n], None) for n in unknown])}


def batch_range(spec: str) -> set[str]:
    """``K40-K88`` (inclusive) or ``K89`` -> the batch names it spans."""
    first, _, last = spec.partition("-")
    prefix = first.rstrip("0123456789")
    try:
        lo, hi = int(first[len(prefix):]), int((last or first)[len(prefix):])
    except ValueError:
        raise ValueError(f"--batches {spec!r}: give one batch (K89) or a range of one series "
                         "(K40-K88)") from None
    return {f"{prefix}{i}" for i in range(lo, hi + 1)}


def agreement(manifest: Mapping[str, Mapping[str, Any]], blind: Mapping[str, Mapping[str, Any]],
              records: Mapping[str, Mapping[str, Any]], batches: set[str] | None = None) -> dict[str, Any]:
    """Label agreement and the doctor's recorded first verdicts against each reading (module docstring), over
    the logs of ``batches`` (all when None)."""
    doctor = first_verdicts(manifest, records)
    names = sorted(n for n in blind
                   if n in doctor and (batches is None or manifest[n].get("batch") in batches))
    first = {n: phase(manifest[n]) for n in names}  # the label now, as doctor_corpus.py scores
    second = {n: phase(blind[n]["second"]) for n in names}
    disagree = [n for n in names if first[n] != second[n]]
    missing_third = [n for n in disagree if "third" not in blind[n]]
    both = {n: first[n] for n in names if first[n] == second[n]}
    voted = {n: majority([first[n], second[n]] + ([phase(blind[n]["third"])] if "third" in blind[n] else []))
             for n in names}
    majority_label = {n: p for n, (ok, p) in voted.items() if ok}
    changes = Counter(f"{first[n]} -> {second[n]}" for n in disagree)
    return {
        "logs": len(names),
        "labels": {
            "failed": _rate([(manifest[n]["failed"], blind[n]["second"]["failed"]) for n in names]),
            "failure phase": _rate([(first[n], second[n]) for n in names if first[n] != NOT_FAILED]),
            "disagreements": dict(changes.most_common()),
            "without a third label": len(missing_third),
            "without a majority": len(names) - len(majority_label),
        },
        "doctor": {
            "first labels": _doctor_against(first, doctor),
            "second labels": _doctor_against(second, doctor),
            "both labels agree": _doctor_against(both, doctor),
            "majority of three": _doctor_against(majority_label, doctor),
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, help="the corpus folder (manifest.json, heldout_measurements.json, "
                                             "blind_labels.json)")
    p.add_argument("--batches", default=None,
                   help="only the logs of these held-out batches: one (K89) or a range (K40-K88)")
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    args = p.parse_args(argv)
    try:
        batches = batch_range(args.batches) if args.batches else None
    except ValueError as exc:
        p.error(str(exc))
    try:
        manifest, records, blind = (json.loads((args.folder / f).read_text()) for f in
                                    ("manifest.json", "heldout_measurements.json", "blind_labels.json"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"corpus_agreement: cannot read the corpus in {args.folder}: {exc}") from None
    result = agreement(manifest, blind, records, batches)
    if not result["logs"]:
        raise SystemExit(f"corpus_agreement: no log labelled twice in {args.batches}")
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    labels = result["labels"]
    print(f"{result['logs']} held-out logs labelled twice, blind")
    for what in ("failed", "failure phase"):
        r = labels[what]
        print(f"  labels agree on {what}: {r['agree']}/{r['of']} = {r['rate']:.3f}")
    print(f"  disagreements (first -> second): {labels['disagreements']}")
    print(f"  no third label: {labels['without a third label']}; no majority: {labels['without a majority']}")
    print("the doctor at each batch's one measurement, against:")
    for what, r in result["doctor"].items():
        named, unknown = r["phase named, right"], r["phase unknown, right"]
        print(f"  {what:18} {r['logs']:4} logs ({r['failing']} failing): recall {r['recall']:.3f}, "
              f"precision {r['precision']:.3f}, phase {r['phase']:.3f} "
              f"(named: {named['agree']}/{named['of']} right, unknown: {unknown['agree']}/{unknown['of']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
