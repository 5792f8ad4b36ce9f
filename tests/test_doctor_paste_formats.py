"""The doctor reads a log the same however it was pasted: metamorphic tests over the whole corpus.

People paste engine logs through collectors and editors that wrap every line in an envelope: a markdown
code block inside a list (indented as a whole), a quote, ``docker logs -t`` / ``kubectl logs --prefix`` /
journald / ``docker compose`` prefixes, Windows line ends, trailing blanks. None of these changes what the
engine did, so the verdict (failed, failure kind, failure phase) on each real log of tests/doctor_corpus/
must not change when every line is so wrapped. Each corpus log is its own reference: no expected value is
written here, and a grammar that only reads the corpus' own formats fails. The formats are those of
``tools/doctor_corpus.py --paste`` (where the wraps, a measured figure rather than an invariant, are too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gaudi_vl.doctor as doctor_module
from tools.doctor_corpus import ENVELOPES, LAYOUTS, WHOLE_LINE_EXPORTS, read_lines
from tools.doctor_corpus import verdict as verdict_of

CORPUS = Path(__file__).parent / "doctor_corpus"
MANIFEST: dict[str, dict] = json.loads((CORPUS / "manifest.json").read_text())
LOGS: dict[str, list[str]] = {
    name: (CORPUS / name).read_text(encoding="utf-8", errors="replace").splitlines()
    for name in sorted(MANIFEST)
}

Transform = Callable[[list[str]], list[str]]


def verdict(lines: list[str]) -> tuple[bool, str | None, str | None]:
    """(failed, kind, failure phase) as ``gaudi-vl doctor`` reads the lines as a saved log."""
    return verdict_of(read_lines(doctor_module, lines))


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


def test_the_paste_tool_reports_how_many_verdicts_change(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``tools/doctor_corpus.py --paste`` reads a corpus folder under one paste format and counts changes."""
    import shutil

    from tools.doctor_corpus import main

    names = [n for n in sorted(MANIFEST) if n.startswith("synth_")][:3]
    for name in names:
        shutil.copy(CORPUS / name, tmp_path / name)
    (tmp_path / "manifest.json").write_text(json.dumps({n: MANIFEST[n] for n in names}))
    assert main([str(tmp_path), "--paste", "journald", "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == "journald: 0 of 3 verdicts change"
