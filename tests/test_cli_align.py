"""``gaudi-vl align`` and ``gaudi-vl boxes`` on real files: outputs, sidecar, bad input, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gaudi_vl.cli import main
from gaudi_vl.fileio import atomic_writer


def gaudi_vl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gaudi_vl", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def picture(width: int, height: int, seed: int = 0, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    ImageDraw.Draw(im).rectangle([width // 4, height // 4, width // 2, height // 2], fill=(255, 0, 0))
    return im.convert(mode)


def make_batch(root: Path) -> dict[str, Path]:
    """Good and bad files side by side, as a user's folder would hold them."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sub").mkdir()
    files = {
        "photo": root / "photo.jpg",
        "rotated": root / "sub" / "rotated.JPEG",
        "alpha": root / "alpha.png",
        "grey16": root / "grey16.png",
        "palette": root / "palette.gif",
        "truncated": root / "truncated.jpg",
        "text": root / "readme.png",
        "empty": root / "empty.webp",
        "panorama": root / "panorama.png",
    }
    picture(640, 427, 1).save(files["photo"], quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6
    picture(300, 200, 2).save(files["rotated"], "JPEG", exif=exif.tobytes())
    picture(150, 90, 3, mode="RGBA").save(files["alpha"])
    Image.fromarray((np.arange(200 * 120).reshape(120, 200) % 65536).astype(np.uint16)).save(files["grey16"])
    picture(99, 333, 4, mode="P").save(files["palette"])
    buf = io.BytesIO()
    picture(500, 400, 5).save(buf, "JPEG")
    files["truncated"].write_bytes(buf.getvalue()[:2000])
    files["text"].write_text("this is not a picture\n")
    files["empty"].write_bytes(b"")
    Image.new("RGB", (5000, 20)).save(files["panorama"])  # 250:1
    (root / "notes.txt").write_text("skipped: not an image extension")
    (root / ".hidden.png").write_text("skipped: hidden")
    return files


GOOD = ("photo", "rotated", "alpha", "grey16", "palette")
BAD = ("truncated", "text", "empty", "panorama")


def test_batch_with_bad_files(tmp_path: Path) -> None:
    files = make_batch(tmp_path / "in")
    before = {p: p.read_bytes() for p in (tmp_path / "in").rglob("*") if p.is_file()}
    out = tmp_path / "out"
    missing = tmp_path / "missing.png"
    r = gaudi_vl("align", str(tmp_path / "in"), str(missing), "--out", str(out))
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    # one line per bad path, naming it, and nothing else on stderr (no progress bar off a tty)
    assert len(lines) == len(BAD) + 1
    assert all(line.startswith("gaudi-vl align: ") for line in lines)
    for key in BAD:
        assert sum(str(files[key]) in line for line in lines) == 1, key
    assert any(str(missing) in line for line in lines)
    assert any("aspect ratio" in line for line in lines if "panorama" in line)
    # inputs untouched
    assert before == {p: p.read_bytes() for p in (tmp_path / "in").rglob("*") if p.is_file()}
    # outputs: aligned, JPEG kept as JPEG, the rest PNG, no temp files
    doc = json.loads((out / "transforms.json").read_text())
    images = doc["images"]
    assert sorted(images) == ["alpha.png", "grey16.png", "palette.png", "photo.jpg", "sub/rotated.JPEG"]
    for name, rec in images.items():
        with Image.open(out / name) as im:
            assert im.format == ("JPEG" if name.endswith(("jpg", "JPEG")) else "PNG")
            assert im.mode == "RGB"
            assert list(im.size) == rec["aligned_size"]
            assert im.size[0] % 112 == 0 and im.size[1] % 112 == 0
        assert rec["patches"] == (rec["aligned_size"][0] // 14) * (rec["aligned_size"][1] // 14)
        assert rec["mode"] == "resize" and Path(rec["source"]).exists()
    assert images["sub/rotated.JPEG"]["original_size"] == [200, 300]  # upright
    assert images["sub/rotated.JPEG"]["exif_rotated"] is True
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]
    assert f"aligned {len(GOOD)} of {len(GOOD) + len(BAD)} images" in r.stdout


def test_all_good_json_and_pad_mode(tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    picture(500, 300).save(src)
    r = gaudi_vl(
        "align",
        str(src),
        "--out",
        str(tmp_path / "o"),
        "--mode",
        "pad",
        "--format",
        "json",
        "--max-pixels",
        "256*28*28",
    )
    assert r.returncode == 0 and r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["failed"] == [] and len(doc["images"]) == 1
    rec = doc["images"][0]
    assert rec["mode"] == "pad" and rec["max_pixels"] == 256 * 28 * 28
    w, h = rec["aligned_size"]
    assert w * h <= 256 * 28 * 28 and w % 112 == 0 and h % 112 == 0
    ox, oy = rec["offset"]
    assert ox > 0 or oy > 0
    assert json.loads((tmp_path / "o" / "transforms.json").read_text())["images"]["a.png"] == rec


def test_out_equal_to_an_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    picture(300, 200).save(src / "a.png")
    picture(300, 200).save(src / "b.jpg")
    before = sorted(p.name for p in src.iterdir())
    for args in (
        [str(src), "--out", str(src)],
        [str(src / "a.png"), "--out", str(src)],  # out/a.png would be the input itself
        [str(src / "b.jpg"), "--out", str(src)],
    ):
        r = gaudi_vl("align", *args)
        assert r.returncode == 2, args
        assert "overwrite" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.splitlines()) == 1
    assert sorted(p.name for p in src.iterdir()) == before
    (tmp_path / "file").write_text("x")
    r = gaudi_vl("align", str(src), "--out", str(tmp_path / "file"))
    assert r.returncode == 2 and "is a file" in r.stderr


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture(50, 50).save(tmp_path / "a.png")
    for args in (
        [
            "align",
            str(tmp_path / "a.png"),
            "--out",
            str(tmp_path / "o"),
            "--min-pixels",
            "9000000",
            "--max-pixels",
            "20000",
        ],
        ["align", str(tmp_path / "a.png"), "--out", str(tmp_path / "o"), "--mode", "stretch"],
        ["align", str(tmp_path / "a.png")],
    ):
        with pytest.raises(SystemExit) as info:
            code = main(args)
            raise SystemExit(code)
        assert info.value.code == 2, args
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_second_run_merges_the_sidecar_and_same_names_collide(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    picture(300, 200, 1).save(tmp_path / "x" / "same.png")
    picture(200, 300, 2).save(tmp_path / "y" / "same.png")
    picture(400, 100, 3).save(tmp_path / "y" / "other.png")
    out = tmp_path / "out"
    assert main(["align", str(tmp_path / "x"), "--out", str(out)]) == 0
    # y/same.png maps to the same output name as x/same.png in one run: reported, not overwritten
    code = main(["align", str(tmp_path / "x" / "same.png"), str(tmp_path / "y"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "already taken" in err and str(tmp_path / "y" / "same.png") in err
    images = json.loads((out / "transforms.json").read_text())["images"]
    assert sorted(images) == ["other.png", "same.png"]
    assert images["same.png"]["original_size"] == [300, 200]
    with Image.open(out / "same.png") as im:
        assert im.size == tuple(images["same.png"]["aligned_size"])


def test_atomic_writer_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "transforms.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target, "w") as handle:
        handle.write("half of the new cont")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["transforms.json"]
    with atomic_writer(target, "w") as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["transforms.json"]


def test_boxes_round_trip_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in" / "cat.jpg"
    src.parent.mkdir()
    picture(731, 389).save(src)
    out = tmp_path / "out"
    assert main(["align", str(src), "--out", str(out), "--mode", "pad", "--max-pixels", "401408"]) == 0
    capsys.readouterr()
    sidecar = str(out / "transforms.json")
    rec = json.loads(Path(sidecar).read_text())["images"]["cat.jpg"]
    assert (
        main(
            [
                "boxes",
                "--transforms",
                sidecar,
                "--image",
                "cat.jpg",
                "--to-aligned",
                "0,0,731,389",
                "100,50,200,150",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.split()
    first = [float(v) for v in lines[0].split(",")]
    ox, oy = rec["offset"]
    cw, ch = rec["content_size"]
    printed = 0.5e-3 + 8 * np.finfo(np.float64).eps * max(ox + cw, oy + ch)  # 3 decimals, float64
    assert first == pytest.approx([ox, oy, ox + cw, oy + ch], abs=printed)
    # back again, boxes from stdin as JSON, image named by its source path
    stdin = json.dumps([[float(v) for v in line.split(",")] for line in lines])
    r = gaudi_vl(
        "boxes",
        "--transforms",
        sidecar,
        "--image",
        str(src),
        "--to-original",
        "--format",
        "json",
        stdin=stdin,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["image"] == "cat.jpg" and doc["to"] == "original"
    # the printed aligned boxes were rounded to 3 decimals; mapping back divides that by the scale
    back = 0.5e-3 / min(rec["scale"]) + 8 * np.finfo(np.float64).eps * 731
    assert np.allclose(doc["boxes"], [[0, 0, 731, 389], [100, 50, 200, 150]], rtol=0, atol=back)
    # a box in the letterbox bar clips to the image
    aw, ah = rec["aligned_size"]
    assert (
        main(
            [
                "boxes",
                "--transforms",
                sidecar,
                "--image",
                "cat.jpg",
                "--to-original",
                "--clip",
                f"0,0,{aw},{ah}",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == "0,0,731,389"


def test_boxes_errors_are_one_line(tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    picture(300, 200).save(src)
    out = tmp_path / "o"
    assert gaudi_vl("align", str(src), "--out", str(out)).returncode == 0
    sidecar = str(out / "transforms.json")
    (tmp_path / "bad.json").write_text("{not json")
    cases = [
        ["--transforms", sidecar, "--image", "nope.png", "--to-original", "1,2,3,4"],
        ["--transforms", sidecar, "--image", "a.png", "--to-original", "1,2,3"],
        ["--transforms", str(tmp_path / "missing.json"), "--image", "a.png", "--to-original", "1,2,3,4"],
        ["--transforms", str(tmp_path / "bad.json"), "--image", "a.png", "--to-original", "1,2,3,4"],
        ["--transforms", sidecar, "--image", "a.png", "1,2,3,4"],  # no direction
        ["--transforms", sidecar, "--image", "a.png", "--to-original", "--to-aligned", "1,2,3,4"],
    ]
    for args in cases:
        r = gaudi_vl("boxes", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    r = gaudi_vl("boxes", "--transforms", sidecar, "--image", "a.png", "--to-original", stdin="[1, 2]")
    assert r.returncode == 2 and "Traceback" not in r.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        picture(120 + i, 90, i).save(tmp_path / f"{i}.png")
    (tmp_path / "bad.png").write_text("no")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["align", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    err = terminal.getvalue()
    assert "4/4" in err  # the bar ran to the end
    assert "gaudi-vl align: " in err and str(tmp_path / "bad.png") in err


def test_foreign_files_in_out_are_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    picture(300, 200, 1).save(src / "a.png")
    picture(300, 200, 2).save(src / "b.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"someone else's file")
    assert main(["align", str(src), "--out", str(out)]) == 1
    assert "was not written by gaudi-vl align" in capsys.readouterr().err
    assert (out / "b.png").read_bytes() == b"someone else's file"
    # a rerun may replace its own earlier output
    first = (out / "a.png").stat().st_mtime_ns
    assert main(["align", str(src / "a.png"), "--out", str(out)]) == 0
    assert (out / "a.png").stat().st_mtime_ns >= first
    assert sorted(json.loads((out / "transforms.json").read_text())["images"]) == ["a.png"]
