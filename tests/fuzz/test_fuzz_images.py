"""Issue 19, class "images": sizes from headers only, EXIF orientation without decoding, no
Ghostscript, one header read per file.

``header_size`` must never decode pixels: every test here runs it with Pillow's ``ImageFile.load``
replaced by one that fails, across PNG/JPEG/WebP/GIF/BMP/TIFF, random sizes and every EXIF
orientation (a PNG's ``eXIf`` chunk included, the one ``PngImageFile.getexif`` decoded the whole
image to find). PostScript content is refused by its first bytes whatever the file is called, in
the workload reader and in ``align`` (the CLI) alike.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hostile import assert_contract, fuzz, run_cli, sandbox
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageFile

from gaudi_vl.imageio import HeaderCache, RefusedImage, header_size

FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]
EXIF_FORMATS = {"PNG", "JPEG", "WEBP", "TIFF"}


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"{self.format} pixels decoded on the size path")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def encoded(fmt: str, width: int, height: int, orientation: int | None) -> bytes:
    image = Image.new("RGB", (width, height), (90, 10, 200))
    extra = {}
    if orientation is not None and fmt in EXIF_FORMATS:
        exif = Image.Exif()
        exif[0x0112] = orientation
        extra["exif"] = exif.tobytes()
    buf = io.BytesIO()
    image.save(buf, fmt, **extra)
    return buf.getvalue()


@given(
    fmt=st.sampled_from(FORMATS),
    width=st.integers(1, 700),
    height=st.integers(1, 700),
    orientation=st.one_of(st.none(), st.integers(1, 8)),
    apply_exif=st.booleans(),
)
def test_sizes_and_orientation_come_from_the_header(
    fmt: str, width: int, height: int, orientation: int | None, apply_exif: bool
) -> None:
    data = encoded(fmt, width, height, orientation)
    if fmt == "TIFF" and orientation in (5, 6, 7, 8):  # Pillow turns TIFFs upright itself (imageio)
        width, height = height, width
    turned = orientation in (5, 6, 7, 8) and fmt in EXIF_FORMATS - {"TIFF"}
    with pytest.MonkeyPatch.context() as mp:  # (a fixture cannot be used with @given)
        mp.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail(f"{self.format} decoded"))
        w, h, rotated = header_size(io.BytesIO(data), apply_exif)
    assert rotated == turned
    assert (w, h) == ((height, width) if turned and apply_exif else (width, height))


def test_a_large_png_is_not_decoded(tmp_path: Path, no_decoding: None) -> None:
    """The 84-second case of issue 19: a large PNG with no ``eXIf`` chunk, and one with it."""
    for name, extra in (("plain.png", {}), ("exif.png", {"exif": b"Exif\x00\x00" + Image.Exif().tobytes()})):
        Image.new("RGB", (4000, 3000)).save(tmp_path / name, compress_level=0, **extra)
        assert header_size(tmp_path / name)[:2] == (4000, 3000)


@given(head=st.sampled_from([b"%!PS-Adobe-3.0 EPSF-3.0\n", b"%!PS\n", b"\xc5\xd0\xd3\xc6"]),
       rest=st.binary(max_size=64))
def test_postscript_is_refused_before_any_decoder(head: bytes, rest: bytes) -> None:
    with pytest.raises(RefusedImage, match="PostScript"):
        header_size(io.BytesIO(head + rest))


def test_one_header_read_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """100,000 requests naming one image read its header once; a changed file is read again."""
    import gaudi_vl.imageio as imageio

    path = tmp_path / "one.png"
    Image.new("RGB", (64, 48)).save(path)
    reads = []
    real = imageio.header_size
    monkeypatch.setattr(imageio, "header_size", lambda *a: reads.append(a) or real(*a))
    cache = HeaderCache()
    for _ in range(1000):
        assert cache.size(path, os.stat(path)) == (64, 48, False)
    assert len(reads) == 1
    Image.new("RGB", (65, 48)).save(path)
    os.utime(path, ns=(1, 10**18))
    assert cache.size(path, os.stat(path)) == (65, 48, False)
    assert len(reads) == 2


@fuzz
@given(name=st.sampled_from(["a.png", "b.jpg", "c.eps", "d.tif", "e"]),
       head=st.sampled_from([b"%!PS-Adobe-3.0 EPSF-3.0\n", b"\xc5\xd0\xd3\xc6" + bytes(26)]))
def test_no_command_hands_postscript_to_ghostscript(name: str, head: bytes) -> None:
    body = head + b"%%BoundingBox: 0 0 10 10\n/x { } def showpage\n"
    request = {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": name}}, {"type": "text", "text": "hi"}]}]}
    with sandbox() as box:
        (box / name).write_bytes(body)
        (box / "imgs").mkdir()
        (box / "imgs" / "x.png").write_bytes(body)
        Image.new("RGB", (300, 200)).save(box / "imgs" / "ok.png")
        (box / "r.jsonl").write_text(json.dumps(request) + "\n")
        align = run_cli(["align", name, "--out", "out"], box)
        folder = run_cli(["plan", "--workload", "imgs", "--target", "vllm", "--json"], box)
        jsonl = run_cli(["plan", "--workload", "r.jsonl", "--target", "vllm", "--strict"], box)
    assert_contract(align, ok=(1, 2))
    assert "PostScript/EPS content is refused" in align.stderr
    assert_contract(folder)
    assert folder.rc == 0 and "PostScript/EPS content is refused" in json.loads(folder.stdout)["warnings"][-1]
    assert_contract(jsonl)
    assert jsonl.rc == 2 and "PostScript/EPS content is refused" in jsonl.stderr
