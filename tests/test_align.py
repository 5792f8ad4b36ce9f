"""gaudi_vl.align: the rule vs transformers, 112-alignment, box mapping, pixel modes, bad input."""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from gaudi_vl import align, geometry
from gaudi_vl.align import AlignTransform, align_image, load_image, plan_alignment, to_rgb
from gaudi_vl.errors import GaudiVLError

CKPT = {"min_pixels": 3136, "max_pixels": 12845056}

EPS64 = float(np.finfo(np.float64).eps)
"""Tolerances below: float64 roundings (each at most EPS64 / 2, relative) times the values involved."""


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def hf_smart_resize():  # type: ignore[no-untyped-def]
    mod = pytest.importorskip("transformers.models.qwen2_vl.image_processing_qwen2_vl")
    return mod.smart_resize


@st.composite
def ranges(draw: st.DrawFn) -> tuple[int, int]:
    hi = draw(st.integers(min_value=12544, max_value=20_000_000))
    lo = draw(st.integers(min_value=1, max_value=hi))
    return lo, hi


# ---------------------------------------------------------------- the rule vs transformers


def test_smart_resize_is_the_geometry_rule() -> None:
    assert align.smart_resize is geometry.smart_resize


@given(
    h=st.integers(1, 30000),
    w=st.integers(1, 30000),
    lo=st.integers(1, 4_000_000),
    span=st.integers(0, 30_000_000),
)
def test_smart_resize_matches_transformers_factor_28(h: int, w: int, lo: int, span: int) -> None:
    ref = hf_smart_resize()
    hi = lo + span
    try:
        expected = ref(h, w, factor=28, min_pixels=lo, max_pixels=hi)
    except ValueError:
        with pytest.raises(ValueError):
            align.smart_resize(h, w, factor=28, min_pixels=lo, max_pixels=hi)
        return
    assert align.smart_resize(h, w, factor=28, min_pixels=lo, max_pixels=hi) == expected


def test_smart_resize_matches_transformers_bulk() -> None:
    ref = hf_smart_resize()
    rng = random.Random(3)
    raised = 0
    for i in range(6000):
        short = rng.randint(1, 4000)
        # a quarter of the cases near or past the 200:1 aspect limit
        long_side = short * rng.randint(150, 260) if i % 4 == 0 else rng.randint(1, 9000)
        h, w = (short, long_side) if rng.random() < 0.5 else (long_side, short)
        lo = rng.choice([1, 3136, 12544, 100352, rng.randint(1, 3_000_000)])
        hi = lo + rng.choice([0, 1, rng.randint(0, 20_000_000)])
        try:
            expected = ref(h, w, factor=28, min_pixels=lo, max_pixels=hi)
        except ValueError:
            raised += 1
            with pytest.raises(GaudiVLError):
                align.smart_resize(h, w, factor=28, min_pixels=lo, max_pixels=hi)
            continue
        assert align.smart_resize(h, w, factor=28, min_pixels=lo, max_pixels=hi) == expected, (h, w, lo, hi)
    assert raised > 100  # the aspect-ratio branch was exercised


# ---------------------------------------------------------------- alignment invariants


def check_pixel_rule(h: int, w: int, ah: int, aw: int, lo: int, hi: int, factor: int = 112) -> None:
    """The three branches of the rule, checked from the outside."""
    assert ah % factor == 0 and aw % factor == 0 and ah >= factor and aw >= factor
    rounded = (round(h / factor) * factor, round(w / factor) * factor)
    rounded_area = rounded[0] * rounded[1]
    area = ah * aw
    if rounded_area > hi:  # scaled down: under max unless a side was clamped to one factor
        assert area <= hi or min(ah, aw) == factor
    elif rounded_area < lo:  # scaled up: at least min_pixels
        assert area >= lo
    else:
        assert (ah, aw) == rounded
        assert lo <= area <= hi


@given(
    w=st.integers(1, 20000), h=st.integers(1, 20000), rng=ranges(), mode=st.sampled_from(["resize", "pad"])
)
def test_plan_is_aligned_and_respects_the_pixel_rule(w: int, h: int, rng: tuple[int, int], mode: str) -> None:
    lo, hi = rng
    if max(w, h) / min(w, h) > 200:
        with pytest.raises(GaudiVLError, match="aspect ratio"):
            plan_alignment(w, h, min_pixels=lo, max_pixels=hi, mode=mode)
        return
    t = plan_alignment(w, h, min_pixels=lo, max_pixels=hi, mode=mode)
    check_pixel_rule(h, w, t.aligned_height, t.aligned_width, lo, hi)
    assert t.grid_h * 14 == t.aligned_height and t.grid_w * 14 == t.aligned_width
    assert t.grid_h % 8 == 0 and t.grid_w % 8 == 0
    assert t.patches == t.grid_h * t.grid_w
    assert 1 <= t.content_width <= t.aligned_width and 1 <= t.content_height <= t.aligned_height
    assert t.offset_x >= 0 and t.offset_x + t.content_width <= t.aligned_width
    assert t.offset_y >= 0 and t.offset_y + t.content_height <= t.aligned_height
    if mode == "resize":
        assert (t.content_width, t.content_height, t.offset_x, t.offset_y) == (
            t.aligned_width,
            t.aligned_height,
            0,
            0,
        )
    else:
        s = min(t.aligned_width / w, t.aligned_height / h)
        # aspect kept: each content side is the scaled side rounded (or clamped to the canvas); w * s
        # is two float64 roundings away from the exact product
        slack = 0.5 + 2 * EPS64 * max(t.aligned_width, t.aligned_height)
        assert abs(t.content_width - w * s) <= slack or t.content_width in (1, t.aligned_width)
        assert abs(t.content_height - h * s) <= slack or t.content_height in (1, t.aligned_height)
        assert t.content_width == t.aligned_width or t.content_height == t.aligned_height
        # centred: the bars differ by at most one pixel
        assert abs((t.aligned_width - t.content_width - t.offset_x) - t.offset_x) <= 1
        assert abs((t.aligned_height - t.content_height - t.offset_y) - t.offset_y) <= 1


@pytest.mark.parametrize("mode", ["resize", "pad"])
def test_real_images_are_aligned(mode: str) -> None:
    rng = random.Random(7)
    for i in range(25):
        w, h = rng.randint(1, 1500), rng.randint(1, 1500)
        if max(w, h) / min(w, h) > 200:
            continue
        lo = rng.choice([3136, 12544, 200_000])
        hi = rng.choice([12544, 401_408, 1_003_520])
        lo = min(lo, hi)
        out = align_image(noise(w, h, seed=i), min_pixels=lo, max_pixels=hi, mode=mode)
        assert out.image.mode == "RGB"
        aw, ah = out.image.size
        assert (aw, ah) == out.aligned_size and aw % 112 == 0 and ah % 112 == 0
        assert out.original_size == (w, h)
        check_pixel_rule(h, w, ah, aw, lo, hi)
        assert out.patches == (aw // 14) * (ah // 14) == out.grid_h * out.grid_w


def test_aligned_input_is_left_untouched() -> None:
    im = noise(336, 224, seed=1)
    for mode in ("resize", "pad"):
        out = align_image(im, mode=mode, **CKPT)
        assert out.image.size == (336, 224)
        assert np.array_equal(np.asarray(out.image), np.asarray(im))
        assert out.to_aligned([1.0, 2.0, 3.0, 4.0]) == [1.0, 2.0, 3.0, 4.0]


# ---------------------------------------------------------------- boxes


@st.composite
def boxes_in(draw: st.DrawFn, w: int, h: int) -> list[list[float]]:
    n = draw(st.integers(1, 5))
    out = []
    for _ in range(n):
        x1, x2 = sorted(draw(st.floats(0, w, allow_nan=False)) for _ in range(2))
        y1, y2 = sorted(draw(st.floats(0, h, allow_nan=False)) for _ in range(2))
        out.append([x1, y1, x2, y2])
    return out


@given(
    data=st.data(),
    w=st.integers(1, 5000),
    h=st.integers(1, 5000),
    rng=ranges(),
    mode=st.sampled_from(["resize", "pad"]),
)
def test_boxes_round_trip(data: st.DataObject, w: int, h: int, rng: tuple[int, int], mode: str) -> None:
    if max(w, h) / min(w, h) > 200:
        return
    t = plan_alignment(w, h, min_pixels=rng[0], max_pixels=rng[1], mode=mode)
    boxes = data.draw(boxes_in(w, h))
    there = t.to_aligned(boxes)
    back = t.to_original(there)
    assert isinstance(there, list) and isinstance(back, list)
    # x -> x * s + o -> (x' - o) / s: four float64 roundings, the offset's error magnified by 1 / s
    round_trip = 8 * EPS64 * (max(w, h) + max(t.offset_x, t.offset_y) / min(t.scale_x, t.scale_y))
    assert np.allclose(back, boxes, rtol=0, atol=round_trip)
    arr = np.array(boxes)
    there_arr = t.to_aligned(arr)
    assert isinstance(there_arr, np.ndarray) and there_arr.shape == arr.shape
    assert np.allclose(t.to_original(there_arr), arr, rtol=0, atol=round_trip)
    # boxes inside the original land inside the content area (pad: never in the bars); x * s + o is
    # two float64 roundings of values up to the canvas side
    eps = 4 * EPS64 * max(t.aligned_width, t.aligned_height)
    a = np.asarray(there)
    assert np.all(a[:, [0, 2]] >= t.offset_x - eps) and np.all(
        a[:, [0, 2]] <= t.offset_x + t.content_width + eps
    )
    assert np.all(a[:, [1, 3]] >= t.offset_y - eps) and np.all(
        a[:, [1, 3]] <= t.offset_y + t.content_height + eps
    )
    # the image corners map to the content corners
    corners = t.to_aligned([0, 0, w, h])
    expected = [t.offset_x, t.offset_y, t.offset_x + t.content_width, t.offset_y + t.content_height]
    assert np.allclose(corners, expected, rtol=0, atol=eps)


def test_single_box_shapes_and_clip() -> None:
    t = plan_alignment(500, 300, mode="pad", **CKPT)
    single = t.to_original(np.array([0.0, 0.0, 10.0, 10.0]))
    assert single.shape == (4,)
    # a box reaching into the letterbox bar maps outside the original unless clipped
    whole = [0, 0, t.aligned_width, t.aligned_height]
    raw = t.to_original(whole)
    assert raw[1] < 0 and raw[3] > 300
    assert t.to_original(whole, clip=True) == [0.0, 0.0, 500.0, 300.0]
    with pytest.raises(GaudiVLError):
        t.to_original([1, 2, 3])
    with pytest.raises(GaudiVLError):
        t.to_original([[1, 2, 3, float("nan")]])


@pytest.mark.parametrize("mode", ["resize", "pad"])
def test_mapped_box_finds_the_drawn_rectangle(mode: str) -> None:
    """Pixels and boxes agree: a red rectangle drawn in the original is red at its mapped box."""
    w, h = 731, 389
    im = Image.new("RGB", (w, h), (0, 0, 255))
    box = [200, 100, 420, 300]
    ImageDraw.Draw(im).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=(255, 0, 0))
    out = align_image(im, mode=mode, min_pixels=3136, max_pixels=401_408)
    x1, y1, x2, y2 = out.to_aligned(box)
    px = np.asarray(out.image).astype(int)
    inner = px[int(y1) + 3 : int(y2) - 3, int(x1) + 3 : int(x2) - 3]
    assert inner.size and np.all(inner[..., 0] > 200) and np.all(inner[..., 2] < 60)
    outside = px[int(y2) + 3 :, :]
    assert np.all(outside[..., 0] < 60)
    if mode == "pad":
        t = out.transform
        assert t.offset_y > 0 or t.offset_x > 0
        bar = px[: t.offset_y, :] if t.offset_y else px[:, : t.offset_x]
        assert np.all(bar == np.array(align.PAD_FILL))


def test_transform_dict_round_trip_and_bad_records() -> None:
    t = plan_alignment(640, 480, mode="pad", **CKPT)
    d = t.to_dict()
    assert AlignTransform.from_dict(d) == t
    assert d["aligned_size"] == [t.aligned_width, t.aligned_height] and d["patches"] == t.patches
    with pytest.raises(GaudiVLError):
        AlignTransform.from_dict({"mode": "pad"})
    with pytest.raises(GaudiVLError):
        AlignTransform.from_dict({**d, "mode": "stretch"})
    with pytest.raises(GaudiVLError):
        AlignTransform.from_dict({**d, "original_width": 0})


# ---------------------------------------------------------------- orientation and pixel modes


def exif_rotated_jpeg(path: Path) -> None:
    """Stored 200 x 100 with a red block top-left, EXIF orientation 6 (display rotated 90 deg clockwise)."""
    stored = Image.new("RGB", (200, 100), (0, 0, 255))
    ImageDraw.Draw(stored).rectangle([0, 0, 39, 29], fill=(255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())


def test_exif_rotated_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "rot.jpg"
    exif_rotated_jpeg(path)
    loaded = load_image(path)
    assert loaded.exif_rotated and loaded.source_format == "JPEG"
    assert loaded.image.size == (100, 200)  # upright: portrait
    px = np.asarray(loaded.image).astype(int)
    # rotated clockwise, the stored top-left block is now top-right (30 wide, 40 tall)
    assert px[10, 90, 0] > 200 and px[10, 90, 2] < 60
    assert px[10, 10, 2] > 200 and px[190, 90, 2] > 200
    for source in (path, Image.open(path)):
        out = align_image(source, **CKPT)
        assert out.original_size == (100, 200)
        assert out.aligned_size == (112, 224)


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32768, 65535]], dtype=np.uint16).repeat(3, axis=0)
    path = tmp_path / "g16.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    rgb = np.asarray(load_image(path).image)
    assert rgb.shape == (3, 4, 3)
    assert rgb[0, :, 0].tolist() == [0, 1, 128, 255]
    assert np.all(rgb[..., 0] == rgb[..., 1]) and np.all(rgb[..., 1] == rgb[..., 2])


def test_palette_and_palette_transparency(tmp_path: Path) -> None:
    im = Image.new("P", (4, 1))
    im.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    im.putdata([0, 1, 1, 0])
    path = tmp_path / "pal.png"
    im.save(path)
    rgb = np.asarray(load_image(path).image)
    assert rgb[0].tolist() == [[10, 20, 30], [200, 100, 50], [200, 100, 50], [10, 20, 30]]
    im.info["transparency"] = 1
    path2 = tmp_path / "pal_t.png"
    im.save(path2, transparency=1)
    rgb2 = np.asarray(load_image(path2).image)
    assert rgb2[0].tolist() == [[10, 20, 30], [255, 255, 255], [255, 255, 255], [10, 20, 30]]


def test_alpha_is_composited_over_white(tmp_path: Path) -> None:
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 0)  # transparent -> white
    rgba[0, 1] = (0, 0, 0, 255)  # opaque black
    rgba[0, 2] = (0, 0, 0, 128)  # half black over white -> about 127
    path = tmp_path / "a.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    rgb = np.asarray(load_image(path).image).astype(int)
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [0, 0, 0]
    assert np.all(np.abs(rgb[0, 2] - 127) <= 1)
    la = Image.fromarray(np.array([[[0, 0], [0, 255]]], dtype=np.uint8), mode="LA")
    assert np.asarray(to_rgb(la)).tolist() == [[[255, 255, 255], [0, 0, 0]]]


def test_cmyk_jpeg_and_other_modes(tmp_path: Path) -> None:
    cmyk = Image.new("CMYK", (2, 1))
    cmyk.putpixel((0, 0), (0, 0, 0, 0))  # white
    cmyk.putpixel((1, 0), (0, 255, 255, 0))  # red
    path = tmp_path / "c.tif"
    cmyk.save(path)
    rgb = np.asarray(load_image(path).image).astype(int)
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [255, 0, 0]
    jpg = tmp_path / "c.jpg"
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(jpg, quality=95)
    red = np.asarray(load_image(jpg).image).astype(int)
    assert np.all(np.abs(red - [255, 0, 0]) <= 8)
    assert to_rgb(Image.new("1", (2, 2), 1)).getpixel((0, 0)) == (255, 255, 255)
    f = Image.fromarray(np.array([[-5.0, 100.4, 300.0]], dtype=np.float32), mode="F")
    assert np.asarray(to_rgb(f))[0, :, 0].tolist() == [0, 100, 255]
    out = align_image(Image.new("LA", (300, 200), (0, 0)), **CKPT)
    assert out.image.mode == "RGB" and out.image.getpixel((5, 5)) == (255, 255, 255)


# ---------------------------------------------------------------- refusals


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(60000, 60000))  # 3.6 GP claimed in a tiny file
    with pytest.raises(GaudiVLError, match="bomb"):
        load_image(bomb)
    big = tmp_path / "big.png"
    big.write_bytes(png_header_only(20000, 5000))  # 100 MP: under Pillow's error, over a custom limit
    with pytest.raises(GaudiVLError, match="pixel limit"):
        load_image(big, max_input_pixels=50_000_000)
    with pytest.raises(GaudiVLError, match="pixel limit"):
        align_image(noise(100, 100), max_input_pixels=9999, **CKPT)


def test_aspect_ratio_over_200_is_refused() -> None:
    assert align_image(Image.new("RGB", (400, 2)), **CKPT).aligned_size[1] == 112  # exactly 200:1 is fine
    with pytest.raises(GaudiVLError, match="aspect ratio"):
        align_image(Image.new("RGB", (402, 2)), **CKPT)
    with pytest.raises(GaudiVLError, match="aspect ratio"):
        align_image(Image.new("RGB", (1, 201)), mode="pad", **CKPT)


def test_empty_and_bad_arguments() -> None:
    with pytest.raises(GaudiVLError, match="empty"):
        align_image(Image.new("RGB", (0, 10)), **CKPT)
    with pytest.raises(GaudiVLError):
        align_image(noise(10, 10), mode="stretch", **CKPT)
    with pytest.raises(GaudiVLError):
        align_image(noise(10, 10), min_pixels=5000, max_pixels=4000)
    with pytest.raises(GaudiVLError):
        plan_alignment(10, 10, factor=100, **CKPT)


def test_bad_files(tmp_path: Path) -> None:
    good = io.BytesIO()
    noise(300, 200).save(good, "JPEG")
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    png = io.BytesIO()
    noise(300, 200).save(png, "PNG")
    cut_png = tmp_path / "cut.png"
    cut_png.write_bytes(png.getvalue()[:300])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path, pattern in [
        (truncated, "truncated"),
        (cut_png, "truncated"),
        (text, "not an image"),
        (empty, "not an image"),
        (tmp_path / "missing.png", "no such file"),
        (tmp_path, "directory"),
    ]:
        with pytest.raises(GaudiVLError, match=pattern) as info:
            load_image(path)
        assert str(path) in info.value.message


def test_import_does_not_load_pillow() -> None:
    code = "import sys, gaudi_vl.align; assert 'PIL' not in sys.modules, 'PIL imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "I;16", "F", "P-transparent", "CMYK", "L"])
def test_rgb_conversion_in_strips_is_the_whole_image_conversion(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: large images are converted in strips (bounded memory); every rule is per pixel,
    so the strips give exactly the whole-image conversion (strip boundaries included)."""
    rng = np.random.default_rng(7)
    rgba = Image.fromarray(rng.integers(0, 256, (97, 61, 4), dtype=np.uint8), "RGBA")
    if mode == "P-transparent":
        image = rgba.convert("RGB").convert("P")
        image.info["transparency"] = 3
    elif mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (97, 61), dtype=np.uint16))
        assert image.mode == "I;16"
    elif mode == "F":
        image = Image.fromarray(rng.normal(128, 200, (97, 61)).astype(np.float32))
        assert image.mode == "F"
    else:
        image = rgba.convert(mode)
    whole = np.asarray(to_rgb(image))
    monkeypatch.setattr(align, "STRIP_PIXELS", 61 * 5 + 7)  # strips of 5 rows, uneven last strip
    strips = np.asarray(to_rgb(image))
    assert strips.shape == (97, 61, 3)
    assert np.array_equal(strips, whole)


def test_postscript_is_refused_whatever_its_name(tmp_path: Path) -> None:
    """Issue 19: no image input reaches Ghostscript (Pillow's EpsImagePlugin): EPS content is
    refused by its first bytes, with one line naming the file."""
    for name, head in (("a.png", b"%!PS-Adobe-3.0 EPSF-3.0\n"), ("b.jpg", b"\xc5\xd0\xd3\xc6" + bytes(26))):
        path = tmp_path / name
        path.write_bytes(head + b"%%BoundingBox: 0 0 10 10\nshowpage\n")
        with pytest.raises(GaudiVLError, match="PostScript/EPS content is refused") as exc:
            load_image(path)
        assert name in exc.value.one_line()


def test_formats_outside_the_allowed_list_are_not_opened(tmp_path: Path) -> None:
    """Only PNG/JPEG/WebP/GIF/BMP/TIFF/PPM are opened: an ICO (a format Pillow reads) is not."""
    path = tmp_path / "icon.png"
    Image.new("RGB", (16, 16)).save(path, format="ICO")
    with pytest.raises(GaudiVLError, match="not an image gaudi-vl reads"):
        load_image(path)
