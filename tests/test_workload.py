"""Workload readers on real files written here: images (PNG/JPEG/WebP, EXIF), CSV, JSONL, logs."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from gaudi_vl.buckets.histogram import histogram_from_sizes
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange
from gaudi_vl.workload import WorkloadFormat, detect_format, read_workload, top_resolutions

PR = PixelRange(112 * 112, 1003520)


def expected(sizes: list[tuple[int, int]]) -> dict[int, int]:
    """Independent expectation: the geometry core's own rule, per image."""
    out: dict[int, int] = {}
    for w, h in sizes:
        p = PR.aligned_patches(h, w)
        out[p] = out.get(p, 0) + 1
    return out


def as_dict(workload) -> dict[int, int]:  # noqa: ANN001
    return dict(zip(workload.histogram.patches, workload.histogram.counts, strict=True))


def image_bytes(size: tuple[int, int], fmt: str, exif: Image.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    im = Image.new("RGB", size, (120, 30, 200))
    if exif is not None:
        im.save(buf, fmt, exif=exif)
    else:
        im.save(buf, fmt)
    return buf.getvalue()


def test_folder_of_images(tmp_path: Path) -> None:
    sizes = [(300, 200), (1000, 700), (64, 2000), (1920, 1080)]
    (tmp_path / "a.png").write_bytes(image_bytes(sizes[0], "PNG"))
    (tmp_path / "b.jpg").write_bytes(image_bytes(sizes[1], "JPEG"))
    (tmp_path / "c.webp").write_bytes(image_bytes(sizes[2], "WEBP"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.JPEG").write_bytes(image_bytes(sizes[3], "JPEG"))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG but not really")
    w = read_workload(tmp_path, PR)
    assert w.format is WorkloadFormat.DIR
    assert as_dict(w) == expected(sizes)
    assert [s.where for s in w.skipped] == ["broken.png"]
    assert any("skipped 1" in n for n in w.warnings())
    with pytest.raises(GaudiVLError, match="broken.png"):
        read_workload(tmp_path, PR, strict=True)


def test_exif_rotation_is_counted_and_optional(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: displayed as 300 x 400
    (tmp_path / "r.jpg").write_bytes(image_bytes((400, 300), "JPEG", exif))
    stored = read_workload(tmp_path, PR)
    turned = read_workload(tmp_path, PR, apply_exif=True)
    assert stored.exif_rotated_images == turned.exif_rotated_images == 1
    g1, g2 = stored.histogram.grids[0], turned.histogram.grids[0]
    assert (g1.width_px, g1.height_px) == (g2.height_px, g2.width_px) != (g2.width_px, g2.height_px)
    assert stored.histogram.patches == turned.histogram.patches


def test_csv_with_counts_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "sizes.csv"
    path.write_text("Width, Height ,count\n1920,1080,3\nabc,10,1\n640,480\n0,100,1\n800,600,2\n,,\n")
    w = read_workload(path, PR)
    sizes = [(1920, 1080)] * 3 + [(640, 480)] + [(800, 600)] * 2
    assert as_dict(w) == expected(sizes)
    assert [s.where for s in w.skipped] == ["line 3", "line 5"]
    assert "not a whole number" in w.skipped[0].reason and "not positive" in w.skipped[1].reason
    with pytest.raises(GaudiVLError, match="line 3"):
        read_workload(path, PR, strict=True)


def test_csv_without_size_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("w,h\n1,2\n")
    with pytest.raises(GaudiVLError, match="no width and height"):
        read_workload(path, PR)
    (tmp_path / "empty.csv").write_text("width,height\n")
    with pytest.raises(GaudiVLError, match="no valid width,height rows"):
        read_workload(tmp_path / "empty.csv", PR)


def data_url(raw: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def test_jsonl_chat_requests(tmp_path: Path) -> None:
    big_exif = Image.Exif()
    big_exif[0x010E] = "x" * 20000  # ImageDescription: pushes the JPEG size marker past 4 KB of base64
    jpeg = image_bytes((1280, 960), "JPEG", big_exif)
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "local.png").write_bytes(image_bytes((500, 500), "PNG"))
    (tmp_path / "abs.webp").write_bytes(image_bytes((2000, 100), "WEBP"))

    def chat(*urls: str) -> str:
        content = [{"type": "text", "text": "describe"}] + [
            {"type": "image_url", "image_url": {"url": u}} for u in urls
        ]
        return json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]})

    lines = [
        chat(data_url(image_bytes((640, 480), "PNG"), "image/png"), data_url(jpeg, "image/jpeg")),
        "{not json",
        json.dumps({"custom_id": "1", "body": json.loads(chat("img/local.png"))}),
        chat("https://example.com/cat.jpg"),
        "",
        chat((tmp_path / "abs.webp").resolve().as_uri()),
        chat("data:image/png;base64,AAAA"),
    ]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")
    w = read_workload(path, PR)
    assert as_dict(w) == expected([(640, 480), (1280, 960), (500, 500), (2000, 100)])
    assert [s.where for s in w.skipped] == ["line 2", "line 4", "line 7"]
    with pytest.raises(GaudiVLError, match="line 2"):
        read_workload(path, PR, strict=True)


LOG = """\
INFO 05-02 10:00:01 [qwen2_5_vl.py:812] Padding current image size 1980 to 3136
INFO 05-02 10:00:02 [vision.py:140] Padding current number pixel 4096 to 6400
DEBUG 05-02 10:00:03 [hpu_model_runner.py:1] [Multimodal] Padding current number pixel 4096 to 6400
INFO 05-02 10:00:04 Avg prompt throughput: 12.0 tokens/s
INFO 05-02 10:00:05 Padding current image size 99999 to 100032
"""


def test_engine_log(tmp_path: Path) -> None:
    path = tmp_path / "server.log"
    path.write_text(LOG)
    w = read_workload(path, PR)
    assert w.format is WorkloadFormat.LOG
    assert as_dict(w) == {1980: 1, 4096: 2, 99999: 1}
    assert w.size_stats is None and w.histogram.grids == ()
    assert w.above_range_images == 1  # 99999 > the range's largest reachable count
    (tmp_path / "quiet.log").write_text("INFO nothing here\n")
    with pytest.raises(GaudiVLError, match="no 'Padding current"):
        read_workload(tmp_path / "quiet.log", PR)


def test_format_detection_and_mismatch(tmp_path: Path) -> None:
    (tmp_path / "a.data").write_text('{"messages": []}\n')
    (tmp_path / "b.data").write_text("width,height\n1,1\n")
    (tmp_path / "c.data").write_text("Padding current image size 5 to 64\n")
    assert detect_format(tmp_path / "a.data") is WorkloadFormat.JSONL
    assert detect_format(tmp_path / "b.data") is WorkloadFormat.CSV
    assert detect_format(tmp_path / "c.data") is WorkloadFormat.LOG
    with pytest.raises(GaudiVLError, match="not dir"):
        read_workload(tmp_path / "a.data", PR, fmt="dir")
    with pytest.raises(GaudiVLError, match="does not exist"):
        read_workload(tmp_path / "missing.csv", PR)
    with pytest.raises(GaudiVLError, match="no readable image files"):
        read_workload(tmp_path, PR, fmt="dir")


def test_top_resolutions_are_the_most_frequent_aligned_sizes() -> None:
    widths = [1920] * 100 + [1000] * 60 + [640] * 39 + [3000]
    heights = [1080] * 100 + [1000] * 60 + [480] * 39 + [20]
    hist, stats = histogram_from_sizes(widths, heights, None, PR)
    res, share = top_resolutions(hist, limit=2)
    h, w = PR.resize(1080, 1920)
    assert (res[0].width, res[0].height) == (w, h)
    assert res[1].width == res[1].height == PR.resize(1000, 1000)[0]
    assert share == pytest.approx(0.8)
    res_all, share_all = top_resolutions(hist, limit=8)
    assert len(res_all) == 3 and share_all == pytest.approx(0.995)  # the 1 % rule drops 3000 x 20
    assert stats.over_max_aspect == 0 and stats.refused_aspect == 0


def test_every_jsonl_reader_reads_local_image_files(tmp_path: Path) -> None:
    """Chat requests naming local files (relative, absolute and ``file://``) are read the same way by
    the bucket histogram, the per-request reader and the text-length reader: one size per image."""
    from gaudi_vl.workload import read_requests, read_text_workload

    Image.new("RGB", (640, 480)).save(tmp_path / "a.png")
    Image.new("RGB", (300, 200)).save(tmp_path / "b.jpg")
    rows = [
        ["a.png"],
        [str(tmp_path / "b.jpg"), "a.png"],
        [(tmp_path / "a.png").as_uri()],
    ]
    lines = []
    for urls in rows:
        content = [{"type": "text", "text": "x" * 40}]
        content += [{"type": "image_url", "image_url": {"url": u}} for u in urls]
        lines.append(json.dumps({"messages": [{"role": "user", "content": content}]}))
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")

    hist = read_workload(path, PixelRange(3136, 12845056)).histogram
    assert hist.images == 4
    requests = read_requests(path).requests
    assert requests == {((640, 480),): 2, ((300, 200), (640, 480)): 1}
    seen: list[tuple[int, int]] = []
    text = read_text_workload(path, lambda w, h: seen.append((w, h)) or 0, chars_per_token=4)
    assert sorted(seen) == sorted([(640, 480), (300, 200), (640, 480), (640, 480)])
    assert text.prompt_tokens.images == 3 and not text.skipped
