"""Fuzz ``gaudi-vl align``: batches of real, broken and special files (links, loops, FIFOs, devices,
folders, odd names), hostile options and output folders. Inputs are never changed, nothing is
written outside ``--out``, no temporary file is left, and the sidecar lists exactly what is there."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from hostile import assert_contract, assert_unchanged, fuzz, nasty_number, run_cli, sandbox, snapshot
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

NAMES = st.one_of(
    st.sampled_from(["a", "b c", "new\nline", "é", "-dash", ".hidden", "x" * 200, "$(touch P)"]),
    st.text(alphabet="abc-_. \n", min_size=1, max_size=8).filter(lambda n: n not in (".", "..")),
)


def image_bytes(kind: str, w: int, h: int) -> bytes:
    if kind == "text":
        return b"not an image"
    if kind == "empty":
        return b""
    buf = io.BytesIO()
    mode = {"jpeg": "RGB", "png": "RGBA", "gif": "P", "tiff": "I;16"}[kind]
    Image.new(mode, (w, h)).save(buf, {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "tiff": "TIFF"}[kind])
    data = buf.getvalue()
    return data


@st.composite
def batch(draw: st.DrawFn, box: Path) -> list[str]:
    src = box / "src"
    src.mkdir()
    (src / "sub").mkdir()
    for i in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["jpeg", "png", "gif", "tiff", "text", "empty", "truncated"]))
        w, h = draw(st.integers(1, 260)), draw(st.integers(1, 260))
        data = image_bytes("png" if kind == "truncated" else kind, w, h)
        if kind == "truncated":
            data = data[: max(8, len(data) // 2)]
        folder = src / "sub" if draw(st.booleans()) else src
        suffix = draw(st.sampled_from([".png", ".jpg", ".gif", ".tif", ".txt", ""]))
        path = folder / f"{draw(NAMES)}{i}{suffix}"
        path.write_bytes(data)
    specials = draw(
        st.lists(
            st.sampled_from(["loop", "dangling", "fifo", "devzero", "outside-dir", "victim"]),
            max_size=3,
            unique=True,
        )
    )
    for special in specials:
        target = src / f"{special}.png"
        if special == "loop":
            target.symlink_to(target.name)
        elif special == "dangling":
            target.symlink_to("nowhere.png")
        elif special == "fifo":
            os.mkfifo(target)
        elif special == "devzero":
            target.symlink_to("/dev/zero")
        elif special == "outside-dir":
            (src / "outside").symlink_to(box / "dir")
        elif special == "victim":
            target.symlink_to(box / "victim.txt")
    named = draw(
        st.lists(
            st.sampled_from(
                [
                    "src",
                    "src/sub",
                    "src/loop.png",
                    "src/fifo.png",
                    "nothing.png",
                    "fifo",
                    "victim-link",
                    "dir",
                    "src/devzero.png",
                ]
            ),
            min_size=1,
            max_size=3,
        )
    )
    return named


OUTS = [
    "out",
    "out/new/deeper",
    "victim.txt",
    "fifo",
    "src",
    "src/sub",
    "victim-link",
    "dangling-link",
    "dir",
]


@fuzz
@given(
    data=st.data(),
    out=st.sampled_from(OUTS),
    mode=st.sampled_from(["resize", "pad", "crop"]),
    pixels=st.lists(
        st.tuples(
            st.sampled_from(["--min-pixels", "--max-pixels"]),
            st.one_of(
                st.sampled_from(["3136", "12544", "401408", "200000", "10000000000", "178956971"]),
                nasty_number(),
            ),
        ),
        max_size=2,
    ),
    fmt=st.sampled_from(["text", "json"]),
    preexisting=st.booleans(),
)
def test_align(
    data: st.DataObject, out: str, mode: str, pixels: list[tuple[str, str]], fmt: str, preexisting: bool
) -> None:
    with sandbox() as box:
        inputs = data.draw(batch(box))
        if preexisting:  # a file of someone else's in --out, and a link there leading outside
            (box / "out" / "a0.png").write_text("not ours\n")
            (box / "out" / "sub").symlink_to(box / "dir")
        argv = [
            "align",
            *inputs,
            "--out",
            out,
            "--mode",
            mode,
            "--format",
            fmt,
            *[a for p in pixels for a in p],
        ]
        top = box / out  # --out and the folders align creates for it
        while not top.parent.exists():
            top = top.parent
        top_created = str(top.relative_to(box))
        before = snapshot(box)
        r = run_cli(argv, box)
        assert_contract(r, ok=(0, 1, 2))
        for line in r.stderr.strip("\n").split("\n") if r.stderr.strip() else []:
            assert line.startswith("gaudi-vl align:"), f"not one line per failure: {line!r}"
        out_dir = box / out
        written = [top_created] if r.rc in (0, 1) and out_dir.is_dir() and not out_dir.is_symlink() else []
        assert_unchanged(box, before, allowed=written)
        if written:
            names = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file() or p.is_symlink()}
            temporary = [n for n in names if Path(n).name.startswith(".") and n.endswith(".tmp")]
            assert not temporary, f"temporary files left: {temporary}"
            sidecar = out_dir / "transforms.json"
            if sidecar.exists():
                listed = set(json.loads(sidecar.read_text())["images"])
                assert listed <= names, f"the sidecar lists files that are not there: {listed - names}"
