"""The doctor corpus's tools (tools/corpus_threads.py, tools/corpus_fold.py, tools/corpus_agreement.py,
tools/corpus_abstentions.py) on the real corpus and on a copy of it: a thread in the corpus is found, a batch
folds into a manifest that reads back as the old one plus the batch, its existing lines untouched, the blind
labels' comparison reads the recorded measurements back as they were recorded, and the abstentions are those
recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.doctor import FAILURE_KINDS
from gaudi_vl.engines.logs import Phase
from tools.corpus_abstentions import abstentions, forward_chain
from tools.corpus_agreement import (
    NOT_FAILED,
    _doctor_against,
    agreement,
    batch_range,
    first_verdicts,
    majority,
    phase,
)
from tools.corpus_fold import README_TAIL, fold
from tools.corpus_threads import DEFAULT_CORPUS, bare_mentions, evidence, short_name

MANIFEST = json.loads((DEFAULT_CORPUS / "manifest.json").read_text())
README = (DEFAULT_CORPUS / "README.md").read_text()
RECORDS = json.loads((DEFAULT_CORPUS / "heldout_measurements.json").read_text())
BLIND = json.loads((DEFAULT_CORPUS / "blind_labels.json").read_text())


def test_every_thread_in_the_manifest_is_seen_and_an_unused_number_is_not() -> None:
    for name, entry in list(MANIFEST.items())[::97]:  # a spread of entries, every origin
        parts = entry["source"].split("github.com/", 1)
        if len(parts) < 2 or "/issues/" not in parts[1] and "/pull/" not in parts[1]:
            continue
        owner, repo, _, number = parts[1].split("/")[:4]
        assert evidence(f"{owner}/{repo}", int(number.split("#")[0]), MANIFEST, README), name
    assert not evidence("vllm-project/vllm", 987654321, MANIFEST, README)
    assert short_name("vllm-project/vllm-ascend") == "vllmascend"


def test_a_batch_folds_in_and_the_manifests_old_lines_stay(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in ("manifest.json", "README.md"):
        shutil.copy(DEFAULT_CORPUS / f, corpus / f)
    before = (corpus / "manifest.json").read_text()
    (corpus / "x1_new_log.log").write_text("INFO 01-01 00:00:00 [core.py:1] started\n" * 5)
    entry = {"source": "https://github.com/o/x/issues/1", "failed": False, "batch": "Z9",
             "split": "heldout-99"}
    (corpus / "new_Z9.json").write_text(json.dumps({"x1_new_log.log": entry}))
    (corpus / "new_Z9.md").write_text("## Round 99: batch Z9\n\ntext\n")
    assert fold(corpus, "Z9") == 1
    after = (corpus / "manifest.json").read_text()
    assert after.startswith(before.rstrip()[:-1].rstrip())  # every earlier line kept as it was
    assert json.loads(after) == {**MANIFEST, "x1_new_log.log": entry}
    readme = (corpus / "README.md").read_text()
    assert readme.index("## Round 99: batch Z9") < readme.index(README_TAIL)
    assert not (corpus / "new_Z9.json").exists() and not (corpus / "new_Z9.md").exists()
    (corpus / "new_Z9.json").write_text(json.dumps({"x1_new_log.log": entry}))
    (corpus / "new_Z9.md").write_text("again\n")
    with pytest.raises(SystemExit, match="already in the manifest"):
        fold(corpus, "Z9")


def test_a_thread_named_in_a_left_out_list_by_a_short_form_is_shown() -> None:
    """Round 22 left out ``amd-strix-halo#69`` (kyuz0/amd-strix-halo-vllm-toolboxes), a short form of the
    name; a wrap can also put the name on the line before the number."""
    assert any("amd-strix-halo#69" in line
               for line in bare_mentions("kyuz0/amd-strix-halo-vllm-toolboxes", 69, README))
    wrapped = "threads left out: vllm-omni\n7555 (a duplicate)\n"
    assert bare_mentions("vllm-project/vllm-omni", 7555, wrapped) == ["7555 (a duplicate)"]
    assert bare_mentions("vllm-project/vllm-omni", 7556, wrapped) == []
    # a list run over many lines names its repository once, at its start (round 47: vllm 10459, PR 18970)
    listed = ("Left out: vllm 4234, 4501: prose;\n" + "".join(f"{n}: code;\n" for n in range(100, 140))
              + "48871 and 18970: a cut config line.\n\nAnother paragraph: 18971 tokens, core.py:18972.\n")
    assert bare_mentions("vllm-project/vllm", 18970, listed) == ["48871 and 18970: a cut config line."]
    assert bare_mentions("vllm-project/vllm", 18971, listed) == []
    assert bare_mentions("vllm-project/vllm", 18972, listed) == []
    assert bare_mentions("vllm-project/vllm-omni", 18970, listed) == []
    for number in (10459, 18970):  # the two real ones, in the corpus README
        assert bare_mentions("vllm-project/vllm", number, README)


def test_a_thread_named_with_its_repository_in_a_list_is_seen() -> None:
    """Left-out lists name threads as ``containers/ramalama 2214, 2523, 758`` or ``kvcache-ai/Mooncake 436
    and 874`` (round 31's collector found the check answering NEW for them); a number beside another
    repository, or not in the list, is not seen."""
    text = "Left out: containers/ramalama 2214, 2523,\n758; kvcache-ai/Mooncake 436 and 874; ramalama#99.\n"
    for repo, number in (("containers/ramalama", 2214), ("containers/ramalama", 758),
                         ("kvcache-ai/Mooncake", 874), ("containers/ramalama", 99)):
        assert evidence(repo, number, {}, text), (repo, number)
    for repo, number in (("containers/ramalama", 436), ("kvcache-ai/Mooncake", 2214),
                         ("containers/ramalama", 25)):
        assert not evidence(repo, number, {}, text), (repo, number)
    assert evidence("containers/ramalama", 1948, MANIFEST, README)  # the real README's round 31 list


# ---------------------------------------------------------------- blind labels (tools/corpus_agreement.py)


def test_first_verdicts_score_each_batch_as_its_one_measurement_recorded() -> None:
    doctor = first_verdicts(MANIFEST, RECORDS)
    for batch, record in RECORDS.items():
        part = {n: phase(v.get("label_when_measured", v)) for n, v in MANIFEST.items()
                if v["split"] == record["split"]}
        got = _doctor_against(part, doctor)
        first = record["first"]
        assert (got["recall"], got["precision"], got["phase"]) == (
            first["recall"], first["precision"], first["phase_accuracy"]), batch


def _blind_label_problems(name: str) -> list[str]:
    problems = []
    if MANIFEST[name]["split"] not in {r["split"] for r in RECORDS.values()}:
        problems.append("not a measured held-out log")
    phases = {p.value for p in Phase} | {None}
    for which, label in BLIND[name].items():
        if which not in ("second", "third"):
            problems.append(f"unknown reading {which!r}")
        if not set(label) >= {"failed", "failure_kind", "failure_phase", "phase_reached", "why"}:
            problems.append(f"{which}: keys missing")
        elif label["phase_reached"] not in phases or label["failure_phase"] not in phases:
            problems.append(f"{which}: phase not one of {sorted(map(str, phases))}")
        elif label["failed"] and label["failure_kind"] not in FAILURE_KINDS:
            problems.append(f"{which}: kind {label['failure_kind']!r}")
        elif not label["failed"] and (label["failure_kind"], label["failure_phase"]) != (None, None):
            problems.append(f"{which}: a kind or failure phase on a log that did not fail")
    # a third reader was asked exactly where the first two disagree
    if ("third" in BLIND[name]) != (phase(MANIFEST[name]) != phase(BLIND[name]["second"])):
        problems.append("a third label where the first two agree, or none where they disagree")
    return problems


def test_every_blind_label_is_complete_and_names_a_measured_held_out_log() -> None:
    problems = {name: p for name in sorted(BLIND) if (p := _blind_label_problems(name))}
    assert problems == {}


def test_agreement_counts_every_blind_label_once() -> None:
    result = agreement(MANIFEST, BLIND, RECORDS)
    assert result["logs"] == len(BLIND)
    assert result["labels"]["without a third label"] == 0
    both = result["doctor"]["both labels agree"]
    assert both["logs"] == len(BLIND) - sum(result["labels"]["disagreements"].values())
    voted = result["doctor"]["majority of three"]
    assert voted["logs"] == len(BLIND) - result["labels"]["without a majority"]


votes = st.lists(st.sampled_from([None, NOT_FAILED, *(p.value for p in Phase)]), min_size=0, max_size=3)


@given(votes)
def test_a_majority_is_a_phase_two_readers_share(vs: list[str | None]) -> None:
    ok, winner = majority(vs)
    shared = [v for v in set(vs) if vs.count(v) >= 2]
    assert ok == bool(shared)
    if ok:
        assert winner in shared


@given(st.integers(1, 200), st.integers(0, 50))
def test_a_batch_range_spans_its_ends(lo: int, width: int) -> None:
    got = batch_range(f"K{lo}-K{lo + width}")
    assert len(got) == width + 1 and f"K{lo}" in got and f"K{lo + width}" in got
    assert batch_range(f"K{lo}") == {f"K{lo}"}


def test_disjoint_batch_ranges_split_the_logs_labelled_twice() -> None:
    whole = agreement(MANIFEST, BLIND, RECORDS)
    lettered = {str(v.get("batch")) for v in MANIFEST.values() if not str(v.get("batch"))[1:].isdigit()}
    parts = [agreement(MANIFEST, BLIND, RECORDS, batch_range(r)) for r in ("K1-K39", "K40-K88", "K89-K999")]
    parts.append(agreement(MANIFEST, BLIND, RECORDS, lettered))
    assert sum(p["logs"] for p in parts) == whole["logs"]
    assert sum(p["labels"]["failure phase"]["of"] for p in parts) == whole["labels"]["failure phase"]["of"]


def test_the_abstentions_are_the_recorded_first_verdicts_without_a_phase() -> None:
    """Every failing held-out log the doctor, at its one measurement, found failed in no phase; no other."""
    rows = abstentions(DEFAULT_CORPUS, MANIFEST, RECORDS)
    doctor = first_verdicts(MANIFEST, RECORDS)
    want = {n for n, got in doctor.items() if got["failed"] and got["failure_phase"] is None
            and MANIFEST[n].get("label_when_measured", MANIFEST[n])["failed"]}
    assert {r["log"] for r in rows} == want
    labels = {r["log"]: MANIFEST[r["log"]].get("label_when_measured", MANIFEST[r["log"]]) for r in rows}
    assert all(r["phase"] == labels[r["log"]]["failure_phase"] for r in rows)


def test_the_classifier_places_what_its_words_tell_and_tests_each_round_once() -> None:
    """On abstentions whose phase a word gives away, forward chaining places each later round's right; a
    round with nothing before it to learn from is not tested; a higher threshold places no more."""
    def row(rnd: int, phase: str | None, word: str) -> dict:
        return {"log": f"{rnd}{phase}{word}", "round": rnd, "phase": phase,
                "words": frozenset({word, "traceback", f"noise{rnd % 3}"})}
    rows = [row(r, p, w) for r in range(1, 9) for p, w in
            ((None, "argparse"), ("serving", "generate"), ("start-up/weights", "loading")) for _ in range(3)]
    got = forward_chain(rows, 1, 8)
    assert got["abstentions"] == 3 * 3 * 7  # round 1 has no earlier round to learn from
    assert got["by_threshold"]["0.5"] == {"right": 2 * 3 * 7, "placed_unknown": 0, "other_phase": 0}
    placed = [sum(c.values()) for c in got["by_threshold"].values()]
    assert placed == sorted(placed, reverse=True)
