"""Fuzz ``gaudi-vl boxes``: hostile sidecars, box arguments (``--`` before negative values) and stdin."""

from __future__ import annotations

import json
import math

from hostile import assert_contract, dumps, fuzz, json_values, nasty_number, nasty_text, run_cli, sandbox
from hypothesis import assume, given
from hypothesis import strategies as st

from gaudi_vl.align import plan_alignment

RECORD = plan_alignment(640, 480, min_pixels=3136, max_pixels=1003520, mode="pad").to_dict()
FIELDS = sorted(RECORD)


@st.composite
def sidecar(draw: st.DrawFn) -> bytes:
    record = dict(RECORD)
    for key, value in draw(st.lists(st.tuples(st.sampled_from(FIELDS), json_values()), max_size=2)):
        record[key] = value
    doc = {"version": 1, "images": {"cat.png": record}}
    raw = draw(
        st.sampled_from(
            [
                None,
                b"",
                b"{",
                b"[" * 100_000,
                b'{"images": []}',
                b'{"images": {"cat.png": 5}}',
                b'{"images": {"cat.png": {"mode": "pad", "factor": Infinity}}}',
            ]
        )
    )
    return raw if raw is not None else dumps(doc).encode()


BOX = st.one_of(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), nasty_number()),
        min_size=1,
        max_size=5,
    ).map(",".join),
    st.sampled_from(
        [
            "10,20,110,220",
            "-10,-10,200,200",
            "1e308,0,1e308,1",
            "inf,0,1,1",
            "0,0,0,0",
            "1,2,3",
            "1,2,3,4,5",
            "",
            "a,b,c,d",
        ]
    ),
    nasty_text(),
)


@fuzz
@given(
    doc=sidecar(),
    boxes=st.lists(BOX, max_size=3),
    dash=st.booleans(),
    stdin=st.one_of(
        st.none(),
        json_values().map(lambda v: dumps(v).encode()),
        st.sampled_from(
            [
                b"[[1,2,3,4]]",
                b"[1,2,3,4]",
                b'{"boxes": [[0, 0, 1e308, 1e308]]}',
                b"[[" + b"9" * 400 + b",0,1,1]]",
                b"\xff",
                b"[" * 100_000,
            ]
        ),
    ),
    image=st.sampled_from(["cat.png", "cat", "dog.png", ""]),
    direction=st.sampled_from(["--to-original", "--to-aligned"]),
    clip=st.booleans(),
    fmt=st.sampled_from(["text", "json"]),
)
def test_boxes(
    doc: bytes,
    boxes: list[str],
    dash: bool,
    stdin: bytes | None,
    image: str,
    direction: str,
    clip: bool,
    fmt: str,
) -> None:
    assume(dash or not {"-h", "--help"} & set(boxes))  # a help request, not a box
    with sandbox() as box:
        (box / "transforms.json").write_bytes(doc)
        argv = ["boxes", "--transforms", "transforms.json", "--image", image, direction, "--format", fmt]
        argv += ["--clip"] if clip else []
        argv += (["--"] if dash else []) + boxes
        r = run_cli(argv, box, stdin=stdin)
        assert_contract(r)
        if r.rc == 0 and fmt == "json":
            mapped = json.loads(r.stdout)["boxes"]
            assert all(math.isfinite(v) for b in mapped for v in b)
        elif r.rc == 0:
            for line in r.stdout.split():
                assert len([float(v) for v in line.split(",")]) == 4
