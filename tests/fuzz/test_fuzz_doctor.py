"""Fuzz ``gaudi-vl doctor``: engine logs with hostile lines, numbers and encodings, from a file, a
folder or stdin. Exit codes: 0 read, 1 nothing recognised, 2 usage, 3 failure found.

Not drawn: a FIFO (doctor follows a live log; waiting for its writer is the documented behaviour);
devices such as ``/dev/zero`` are refused in one line (test_hostile_cases.py)."""

from __future__ import annotations

from hostile import assert_contract, fuzz, nasty_number, nasty_text, run_cli, sandbox
from hypothesis import given
from hypothesis import strategies as st

TEMPLATES = [
    "RuntimeError: [Rank:0] FATAL ERROR :: MODULE:PT_DEVMEM Allocation failed for size::{n} ({n})MB",
    "INFO Padding current image size {n} to {n}",
    "WARNING Configuration: max_num_seqs={n} max_model_len={n}",
    "Usable num_blocks={n}, available memory {n} GiB",
    "Memory profiling takes {n} seconds",
    "free memory {n} GiB, total {n} GiB",
    "Application startup complete.",
]

LINES = st.one_of(
    st.tuples(st.sampled_from(TEMPLATES), nasty_number()).map(lambda t: t[0].replace("{n}", t[1])),
    nasty_text(),
    st.sampled_from(["x" * 200_000, "\x00\x01\x02", "\udcff"]),
)


@fuzz
@given(
    lines=st.lists(LINES, max_size=8),
    source=st.sampled_from(["file", "stdin", "dir"]),
    opts=st.lists(
        st.sampled_from(
            [
                ["--format", "json"],
                ["--tp", "2"],
                ["--tp", "99999999999999999999"],
                ["--model", "qwen2.5-vl-72b"],
                ["--model", "nope"],
                ["--fp32-softmax-vision"],
            ]
        ),
        max_size=2,
    ),
)
def test_doctor(lines: list[str], source: str, opts: list[list[str]]) -> None:
    text = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    with sandbox() as box:
        (box / "engine.log").write_bytes(text)
        target = {"file": "engine.log", "stdin": "-"}.get(source, source)
        r = run_cli(
            ["doctor", target, *[a for o in opts for a in o]], box, stdin=text if source == "stdin" else None
        )
        assert_contract(r, ok=(0, 1, 2, 3))
