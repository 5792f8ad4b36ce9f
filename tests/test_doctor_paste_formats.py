"""The doctor reads a log the same however it was pasted: metamorphic tests over the whole corpus.

People paste engine logs through collectors and editors that wrap every line in an envelope: a markdown
code block inside a list (indented as a whole), a quote, ``docker logs -t`` / ``kubectl logs --prefix`` /
journald / ``docker compose`` prefixes, Windows line ends, trailing blanks. None of these changes what the
engine did, so the verdict (failed, failure kind, failure phase) on each real log of tests/doctor_corpus/
must not change when every line is so wrapped. Each corpus log is its own reference: no expected value is
written here, and a grammar that only reads the corpus' own formats fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.doctor import Doctor

CORPUS = Path(__file__).parent / "doctor_corpus"
MANIFEST: dict[str, dict] = json.loads((CORPUS / "manifest.json").read_text())
LOGS: dict[str, list[str]] = {
    name: (CORPUS / name).read_text(encoding="utf-8", errors="replace").splitlines()
    for name in sorted(MANIFEST)
}

WHOLE_LINE_EXPORTS = {"sagemaker111_cloudwatch_csv_escaped_engine_core_executor.log"}
"""A CloudWatch CSV export quotes each whole line as a CSV field: no collector adds an envelope around that
export, so the envelope transforms leave it out (indentation and line ends still apply)."""

Transform = Callable[[list[str]], list[str]]

ENVELOPES: dict[str, Transform] = {
    "docker logs -t": lambda ls: [f"2025-03-01T12:00:{i % 60:02d}.123456789Z {s}" for i, s in enumerate(ls)],
    "kubectl logs --prefix": lambda ls: [f"[pod/vllm-0/vllm] {s}" for s in ls],
    "journald": lambda ls: [f"Dec 07 04:05:06 gaudi-node vllm[123]: {s}" for s in ls],
    "docker compose logs": lambda ls: [f"vllm-server-1  | {s}" for s in ls],
    "markdown quote": lambda ls: [f"> {s}" for s in ls],
}
LAYOUTS: dict[str, Transform] = {
    "code block in a list (4 spaces)": lambda ls: [f"    {s}" for s in ls],
    "tab-indented": lambda ls: [f"\t{s}" for s in ls],
    "CRLF line ends": lambda ls: [f"{s}\r" for s in ls],
    "trailing blanks": lambda ls: [f"{s}   " for s in ls],
}


def verdict(lines: list[str]) -> tuple[bool, str | None, str | None]:
    doctor = Doctor(unwrap=True)  # as ``gaudi-vl doctor`` reads a saved log
    doctor.feed_many(lines)
    report = doctor.report()
    return report.failed, report.failure_kind, report.failure_phase.value if report.failure_phase else None


VERDICTS = {name: verdict(lines) for name, lines in LOGS.items()}


def changed(transform: Transform, names: list[str]) -> list[str]:
    return [f"{name}: {VERDICTS[name]} -> {got}" for name in names
            if (got := verdict(transform(LOGS[name]))) != VERDICTS[name]]


@pytest.mark.parametrize("envelope", sorted(ENVELOPES))
def test_a_collectors_envelope_around_every_line_changes_no_verdict(envelope: str) -> None:
    names = [n for n in LOGS if n not in WHOLE_LINE_EXPORTS]
    assert changed(ENVELOPES[envelope], names) == []


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_paste_layout_changes_no_verdict(layout: str) -> None:
    assert changed(LAYOUTS[layout], list(LOGS)) == []


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(set(LOGS) - WHOLE_LINE_EXPORTS)),
       envelope=st.sampled_from(sorted(ENVELOPES)), layout=st.sampled_from(sorted(LAYOUTS)))
def test_an_envelope_inside_a_paste_layout_changes_no_verdict(name: str, envelope: str, layout: str) -> None:
    """Envelopes compose: a ``kubectl logs --prefix`` capture pasted as a code block inside a list."""
    assert verdict(LAYOUTS[layout](ENVELOPES[envelope](LOGS[name]))) == VERDICTS[name]


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(sorted(set(LOGS) - WHOLE_LINE_EXPORTS)))
def test_a_quoted_code_block_changes_no_verdict(name: str) -> None:
    """A reply that quotes an indented code block: the quote mark first, then the block's indentation."""
    assert verdict([f">     {s}" for s in LOGS[name]]) == VERDICTS[name]


def test_indentation_that_is_the_tracebacks_own_is_kept() -> None:
    """A paste cut inside a traceback starts with a frame: its indentation is the traceback's, not an
    envelope's, so the exception line at column 0 still ends that traceback as the failure."""
    lines = [
        ('  File "/usr/local/lib/python3.10/dist-packages/vllm/worker/worker.py", line 200, in '
         "determine_num_available_blocks"),
        "    self.model_runner.profile_run()",
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.",
    ]
    failed, kind, phase = verdict(lines)
    assert (failed, kind, phase) == (True, "oom", "profiling")
    assert verdict([f"    {s}" for s in lines]) == (failed, kind, phase)
