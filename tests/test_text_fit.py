"""Text buckets fitted to traffic (issue 18, part 2): exact against brute force, read from real files."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.buckets.histogram import histogram_from_patches
from gaudi_vl.buckets.text_fit import best_linear_range, optimal_seq_buckets, padded_tokens
from gaudi_vl.cli import main
from gaudi_vl.engines.text_buckets import ext_linear_range
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.planfile import plan_from_dict
from gaudi_vl.workload import read_text_workload

BLOCK = 128
lengths = st.lists(st.integers(1, 6 * BLOCK), min_size=1, max_size=12)


@settings(max_examples=60)
@given(lengths, st.integers(1, 4))
def test_optimal_seq_buckets_match_brute_force(values: list[int], k: int) -> None:
    """Every set of at most k block multiples up to the longest prompt (which must be covered)."""
    hist = histogram_from_patches(values)
    top = -(-max(values) // BLOCK) * BLOCK
    candidates = range(BLOCK, top, BLOCK)
    brute = min(
        padded_tokens(hist, (*extra, top))
        for n in range(k) for extra in itertools.combinations(candidates, n)
    )
    fit = optimal_seq_buckets(hist, k, BLOCK)
    assert fit.padded_tokens == brute and len(fit.buckets) <= k and fit.buckets[-1] == top
    assert all(b % BLOCK == 0 for b in fit.buckets)


def _expressible(top: int, k: int) -> list[list[int]]:
    out = []
    for lo in range(BLOCK, top + 1, BLOCK):
        for s in range(BLOCK, top + 1, BLOCK):
            r = ext_linear_range(lo, s, top)
            if r and len(r) <= k and r[-1] == top and all(v % BLOCK == 0 for v in r):
                out.append(r)
    return out


@settings(max_examples=60)
@given(lengths, st.integers(1, 8))
def test_best_linear_range_is_the_best_expressible_and_never_beats_the_optimum(
    values: list[int], k: int
) -> None:
    hist = histogram_from_patches(values)
    top = -(-max(values) // BLOCK) * BLOCK
    ranges = _expressible(top, k)
    if not ranges:
        with pytest.raises(GaudiVLError, match="no linear bucket range"):
            best_linear_range(hist, k, BLOCK, ext_linear_range)
        return
    fit = best_linear_range(hist, k, BLOCK, ext_linear_range)
    assert tuple(ext_linear_range(fit.minimum, fit.step, fit.maximum)) == fit.buckets  # the engine's range
    assert fit.padded_tokens == padded_tokens(hist, fit.buckets)
    assert fit.padded_tokens == min(padded_tokens(hist, r) for r in ranges)
    assert fit.padded_tokens >= optimal_seq_buckets(hist, k, BLOCK).padded_tokens


def _chat(path: Path, texts: list[str]) -> Path:
    with path.open("w") as f:
        for t in texts:
            f.write(json.dumps({"messages": [{"role": "user", "content": [{"type": "text", "text": t}]},
                                             {"role": "system", "content": "ab"}]}) + "\n")
        f.write("not json\n")
    return path


def test_text_workload_reads_prompts_and_batches(tmp_path: Path) -> None:
    jsonl = _chat(tmp_path / "chat.jsonl", ["x" * 398, "y" * 798])
    w = read_text_workload(jsonl, lambda w, h: 0, chars_per_token=4.0)
    assert w.prompt_tokens.patches == (100, 200) and len(w.skipped) == 1  # (398 + 2) / 4, (798 + 2) / 4
    log = tmp_path / "engine.log"
    log.write_text("INFO x] Avg prompt throughput: 1 tokens/s, Running: 7 reqs, Waiting: 0 reqs\n"
                   "INFO x] Running: 7 reqs, Swapped: 0 reqs\nINFO x] Running: 0 reqs\n")
    w = read_text_workload(log, lambda w, h: 0)
    assert w.decode_batches.patches == (7,) and w.decode_batches.counts == (2,)
    with pytest.raises(GaudiVLError, match="does not exist"):
        read_text_workload(tmp_path / "none.jsonl", lambda w, h: 0)


def test_plan_text_workload_sets_the_fork_variables_and_round_trips(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys
) -> None:
    jsonl = _chat(tmp_path / "chat.jsonl", ["x" * n for n in (500, 900, 2000, 4000, 4100, 9000)])
    assert main(["plan", "--min-pixels", "401408", "--text-workload", str(jsonl), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    env = d["env"]
    names = {"VLLM_PROMPT_SEQ_BUCKET_MIN", "VLLM_PROMPT_SEQ_BUCKET_STEP", "VLLM_PROMPT_SEQ_BUCKET_MAX"}
    assert names <= set(env)
    assert int(env["VLLM_PROMPT_SEQ_BUCKET_MAX"]) == -(-(9002 // 4 + 1) // BLOCK) * BLOCK
    # the fitted range is what the text buckets (and the graph budget) were planned with
    assert max(b[1] for b in d["text_buckets"]["prompt"]) == int(env["VLLM_PROMPT_SEQ_BUCKET_MAX"])
    plan = plan_from_dict(d)
    assert dict(plan.text_env) == {k: env[k] for k in dict(plan.text_env)}
    d["text_env"] = [["VLLM_NOT_A_BUCKET", "1"]]
    with pytest.raises(GaudiVLError, match="text_env"):
        plan_from_dict(d)


def test_fork_122_text_workload_points_to_its_linear_strategy(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """fork 1.22's exponential default overwrites ranges and its extension has no bucket file
    (ext:vllm_hpu_extension/bucketing/exponential.py:14-27@f5f9ecb7298b): nothing is written, and the
    note names the flag that makes the fitted range apply rather than vllm-gaudi's file."""
    jsonl = _chat(tmp_path / "chat.jsonl", ["x" * n for n in (500, 900, 2000, 4000)])
    assert main(["plan", "--min-pixels", "401408", "--target", "vllm-fork-1.22",
                 "--text-workload", str(jsonl), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert not any(k.startswith("VLLM_PROMPT_SEQ_BUCKET") for k in d["env"]) and d["text_env"] == []
    notes = " ".join(d["notes"])
    assert "VLLM_EXPONENTIAL_BUCKETING=false" in notes and "VLLM_BUCKETING_FROM_FILE" not in notes
