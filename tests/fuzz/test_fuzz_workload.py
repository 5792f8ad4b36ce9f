"""Fuzz ``gaudi-vl plan --workload``: image folders, CSV, JSONL and engine logs with hostile rows,
sizes, counts, nesting, encodings and file kinds, with the optimizer's options and ``--plot``."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

from hostile import (
    assert_contract,
    assert_unchanged,
    fuzz,
    nasty_number,
    nasty_text,
    run_cli,
    sandbox,
    snapshot,
)
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image


def png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buf, "PNG")
    return buf.getvalue()


SIZES = st.tuples(st.integers(1, 3000), st.integers(1, 3000))
CELLS = st.one_of(nasty_number(), st.integers(1, 5000).map(str), st.just("x" * 140_000), st.just("1\x00"))


def write(path: Path, text: str) -> None:
    """Text as bytes: surrogates (undecodable bytes of a file) written back as those bytes."""
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def csv_text(rows: list[list[str]], header: str) -> str:
    return header + "\n" + "\n".join(",".join(row) for row in rows) + "\n"


LOG_LINES = st.one_of(
    st.integers(0, 10**7).map(lambda n: f"INFO Padding current image size {n} to {n + 64}"),
    st.integers(0, 10**7).map(lambda n: f"Padding current number pixel {n} to 4096"),
    st.just("Padding current image size " + "9" * 5000 + " to 1"),
    nasty_text(),
)


def jsonl_line(url: str, depth: int) -> str:
    part = {"type": "image_url", "image_url": {"url": url}}
    return "[" * depth + json.dumps({"messages": [{"role": "user", "content": [part]}]}) + "]" * depth


@st.composite
def workload(draw: st.DrawFn, box: Path) -> str:
    kind = draw(st.sampled_from(["csv", "jsonl", "log", "dir", "fifo", "devzero", "missing", "empty"]))
    if kind == "csv":
        header = draw(
            st.sampled_from(["width,height", "width,height,count", "height,width,count", "w,h", ""])
        )
        rows = draw(st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=6))
        rows += [[str(w), str(h)] for w, h in draw(st.lists(SIZES, max_size=4))]
        write(box / "w.csv", csv_text(rows, header))
        return "w.csv"
    if kind == "jsonl":
        lines = []
        for w, h in draw(st.lists(st.tuples(st.integers(1, 400), st.integers(1, 400)), max_size=3)):
            lines.append(
                jsonl_line(
                    "data:image/png;base64," + base64.b64encode(png(w, h)).decode(),
                    draw(st.sampled_from([0, 1, 5000])),
                )
            )
        lines += draw(
            st.lists(
                st.one_of(
                    nasty_text(),
                    st.sampled_from(
                        [
                            jsonl_line("file:///dev/zero", 0),
                            jsonl_line("victim.txt", 0),
                            jsonl_line("fifo", 0),
                            jsonl_line("data:image/png;base64,!!!", 0),
                            "[" * 100_000,
                            '{"a": ' + "9" * 5000 + "}",
                            jsonl_line("http://example.com/x.png", 0),
                        ]
                    ),
                ),
                max_size=4,
            )
        )
        write(box / "w.jsonl", "\n".join(lines) + "\n")
        return "w.jsonl"
    if kind == "log":
        write(box / "w.log", "\n".join(draw(st.lists(LOG_LINES, max_size=8))) + "\n")
        return "w.log"
    if kind == "dir":
        folder = box / "imgs"
        folder.mkdir()
        for i, (w, h) in enumerate(
            draw(st.lists(st.tuples(st.integers(1, 300), st.integers(1, 300)), max_size=3))
        ):
            (folder / f"{i}.png").write_bytes(png(w, h))
        (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * draw(st.integers(0, 40)))
        (folder / "loop.png").symlink_to("loop.png")
        (folder / "zero.png").symlink_to("/dev/zero")
        os.mkfifo(folder / "pipe.png")
        return "imgs"
    return {"fifo": "fifo", "devzero": "/dev/zero", "missing": "nothing.csv", "empty": "dir"}[kind]


@fuzz
@given(
    data=st.data(),
    fmt=st.sampled_from(["auto", "auto", "csv", "jsonl", "log", "dir", "xml"]),
    opts=st.lists(
        st.sampled_from(
            [
                ["--max-buckets", "3"],
                ["--max-buckets", "256"],
                ["--max-buckets", "257"],
                ["--max-waste", "5"],
                ["--max-waste", "-1"],
                ["--objective", "patches"],
                ["--strict"],
                ["--no-cover-range"],
                ["--exif"],
                ["--target", "vllm-gaudi"],
                ["--min-pixels", "401408"],
                ["--max-pixels", "178956970"],
            ]
        ),
        max_size=3,
    ),
    plot=st.sampled_from([None, "out/p.png", "out/p.txt", "victim-link", "fifo", "dir"]),
)
def test_workload(data: st.DataObject, fmt: str, opts: list[list[str]], plot: str | None) -> None:
    with sandbox() as box:
        path = data.draw(workload(box))
        argv = ["plan", "--workload", path, "--workload-format", fmt, *[a for o in opts for a in o], "--json"]
        argv += [] if plot is None else ["--plot", plot]
        before = snapshot(box)
        r = run_cli(argv, box)
        assert_contract(r)
        assert_unchanged(box, before, allowed=["out/p.png"] if plot == "out/p.png" and r.rc == 0 else [])
