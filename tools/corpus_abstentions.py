"""Could a log's words place the phase the doctor left "unknown"? A forward-chaining test on its abstentions.

    python tools/corpus_abstentions.py tests/doctor_corpus [--from-round 25] [--to-round 40] [--json]

The doctor's abstentions at each held-out batch's one measurement (``heldout_measurements.json``: a failing
log it found failed but placed in no phase) are a data set of their own: some are truly unknown (the label
has no phase either), some had a phase the grammar missed. This trains a bag-of-words classifier (multinomial
logistic regression over the words of the log, ``numpy`` only) on the abstentions of every round before a
round and tests it on that round's, once per round, and counts, at each confidence threshold, the
abstentions it would have placed right, those it would have placed although their label has no phase, and
those it would have placed in another phase (corpus README, round 41, "What does not close the phase gap").
No doctor runs here: the abstentions are those recorded when each batch was measured.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_agreement import first_verdicts  # noqa: E402

WORD = re.compile(r"[A-Za-z_]{3,}")
ROUND = re.compile(r"round (\d+)")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
MIN_DOCS = 3
"""A word enters the vocabulary when at least this many training logs hold it."""
L2 = 0.003
STEPS = 300


def abstentions(folder: Path, manifest: Mapping[str, Mapping[str, Any]],
                records: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each failing held-out log the doctor, at its batch's one measurement, found failed in no phase: its
    round, its label's phase (None: unknown) and the set of its words."""
    out = []
    for name, got in first_verdicts(manifest, records).items():
        label = manifest[name].get("label_when_measured", manifest[name])
        if not (label["failed"] and got["failed"]) or got["failure_phase"] is not None:
            continue
        found = ROUND.search(manifest[name].get("added", ""))
        text = (folder / name).read_text(encoding="utf-8", errors="replace")
        words = frozenset(w.lower() for w in WORD.findall(text))
        out.append({"log": name, "round": int(found.group(1)) if found else 0,
                    "phase": label["failure_phase"], "words": words})
    return out


def _design(rows: Sequence[Mapping[str, Any]], vocab: Mapping[str, int]) -> np.ndarray:
    x = np.zeros((len(rows), len(vocab) + 1))
    x[:, -1] = 1.0  # the bias
    for i, row in enumerate(rows):
        for word in row["words"]:
            if word in vocab:
                x[i, vocab[word]] = 1.0
    return x


def fit(train: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], list[str | None], np.ndarray]:
    """A multinomial logistic regression (L2, full-batch gradient descent) of the label's phase on the
    words."""
    docs = Counter(word for row in train for word in row["words"])
    vocab = {w: i for i, w in enumerate(sorted(w for w, n in docs.items() if n >= MIN_DOCS))}
    classes = sorted({row["phase"] for row in train}, key=lambda p: (p is not None, p or ""))
    x = _design(train, vocab)
    target = np.eye(len(classes))[[classes.index(row["phase"]) for row in train]]
    weights = np.zeros((x.shape[1], len(classes)))
    for _ in range(STEPS):
        z = x @ weights
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        weights -= x.T @ (p - target) / len(train) + L2 * weights
    return vocab, classes, weights


def forward_chain(rows: Sequence[Mapping[str, Any]], first: int, last: int) -> dict[str, Any]:
    """Train on the rounds before each round in ``first..last``, test on that round; counts per threshold."""
    counts = {t: Counter() for t in THRESHOLDS}
    tested = 0
    for rnd in range(first, last + 1):
        test = [r for r in rows if r["round"] == rnd]
        train = [r for r in rows if r["round"] < rnd]
        if not test or len({r["phase"] for r in train}) < 2:
            continue
        tested += len(test)
        vocab, classes, weights = fit(train)
        z = _design(test, vocab) @ weights
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        for row, probs in zip(test, p, strict=True):
            best = int(probs.argmax())
            for t in THRESHOLDS:
                if classes[best] is None or probs[best] < t:
                    continue
                counts[t]["right" if classes[best] == row["phase"] else
                          "placed_unknown" if row["phase"] is None else "other_phase"] += 1
    return {"rounds": [first, last], "abstentions": tested,
            "with_a_phase": sum(r["phase"] is not None for r in rows if first <= r["round"] <= last),
            "by_threshold": {str(t): {k: counts[t][k] for k in ("right", "placed_unknown", "other_phase")}
                             for t in THRESHOLDS}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, help="the corpus folder (tests/doctor_corpus)")
    p.add_argument("--from-round", type=int, default=25, help="the first round tested (default 25)")
    p.add_argument("--to-round", type=int, default=40, help="the last round tested (default 40)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args(argv)
    if args.from_round > args.to_round:
        p.error(f"--from-round {args.from_round} is after --to-round {args.to_round}: swap them")
    manifest = json.loads((args.folder / "manifest.json").read_text())
    records = json.loads((args.folder / "heldout_measurements.json").read_text())
    result = forward_chain(abstentions(args.folder, manifest, records), args.from_round, args.to_round)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"rounds {args.from_round}-{args.to_round}: {result['abstentions']} abstentions tested, "
          f"{result['with_a_phase']} with a phase in their label")
    print("threshold  right  placed-unknown  other-phase")
    for t, c in result["by_threshold"].items():
        print(f"{t:>9}  {c['right']:>5}  {c['placed_unknown']:>14}  {c['other_phase']:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
