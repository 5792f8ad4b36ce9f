"""``gaudi-vl plan --workload`` end to end: JSON report, env, plot, and one-line errors."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from gaudi_vl.engines import EngineProfile
from gaudi_vl.geometry import PixelRange

GAUDI_VL = [sys.executable, "-m", "gaudi_vl"]
RANGE = ["--min-pixels", "12544", "--max-pixels", "1003520"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAUDI_VL, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sizes_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("wl") / "sizes.csv"
    rows = ["width,height,count"]
    common = [(1920, 1080), (1280, 720), (1024, 768), (4032, 3024), (800, 600), (640, 480), (1170, 2532)]
    for w, h in common:
        rows.append(f"{w},{h},{rng.randint(50, 400)}")
    for _ in range(300):
        rows.append(f"{rng.randint(200, 3000)},{rng.randint(200, 3000)},1")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_json_report_end_to_end(sizes_csv: Path) -> None:
    result = run("plan", "--workload", str(sizes_csv), *RANGE, "--max-buckets", "6",
                 "--objective", "patches", "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    wl = plan["workload"]
    assert plan["strategy"] == "optimal"
    buckets = plan["buckets"]
    assert len(buckets) <= 6 and all(b % 64 == 0 for b in buckets)
    assert plan["env"]["VLLM_MULTIMODAL_BUCKETS"] == ",".join(map(str, buckets))
    assert buckets[-1] == plan["reachable_patches"]["max"]  # covers the whole range by default
    labels = [p["strategy"] for p in wl["plans"]]
    assert labels == ["optimal", "default", "linear", "exp"]
    opt, default = wl["plans"][0], wl["plans"][1]
    assert opt["buckets"] == buckets and opt["relative_time"] == 1.0
    # The default list has 7 >= 6 buckets and the same top, yet cannot pad less than the optimum.
    assert opt["padded_patches"] <= default["padded_patches"]
    assert opt["warmup_graphs"] == len(buckets)  # vllm-fork-1.21 warms one graph per bucket
    # Recompute the optimum's padding from the histogram with the engine's lookup.
    hist = wl["histogram"]
    padded = sum(EngineProfile.bucket_for(p, buckets) * n
                 for p, n in zip(hist["patches"], hist["images"], strict=True))
    assert padded == opt["padded_patches"]
    assert wl["images"] == sum(hist["images"])


def test_vllm_gaudi_gets_resolutions_and_no_cover_range(sizes_csv: Path, tmp_path: Path) -> None:
    png = tmp_path / "plot.png"
    result = run("plan", "--workload", str(sizes_csv), *RANGE, "--target", "vllm-gaudi", "--json",
                 "--no-cover-range", "--plot", str(png))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    resolutions = plan["env"]["VLLM_MULTIMODAL_RESOLUTIONS"].split(",")
    chosen = plan["workload"]["resolutions"]
    assert 1 <= len(chosen) <= 8
    assert resolutions[: len(chosen)] == chosen  # then one per bucket the guessed warm-up misses, if any
    assert not plan["warmup"]["never_warmed"]
    # The most frequent aligned size must be listed (independently: counts are in the CSV).
    pr = PixelRange(112 * 112, 1003520)
    counts: dict[str, int] = {}
    for line in sizes_csv.read_text().splitlines()[1:]:
        w, h, n = map(int, line.split(","))
        ah, aw = pr.resize(h, w)
        counts[f"{aw}x{ah}x1"] = counts.get(f"{aw}x{ah}x1", 0) + n  # one image each
    assert max(counts, key=counts.get) == resolutions[0]
    hist = plan["workload"]["histogram"]["patches"]
    assert plan["buckets"][-1] == -(-max(hist) // 64) * 64  # stops at the workload's largest
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 600


def test_table_and_max_waste(sizes_csv: Path) -> None:
    result = run("plan", "--workload", str(sizes_csv), *RANGE, "--max-waste", "5")
    assert result.returncode == 0, result.stderr
    assert "fewest buckets with padding <= 5%" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.strip().startswith("optimal"))
    waste = float(row.split()[2].rstrip("%"))
    assert waste <= 5.0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--workload", "/nonexistent/x.csv"], "does not exist"),
        (["--max-buckets", "4"], "needs --workload"),
        (["--workload", "{csv}", "--max-buckets", "0"], "must be 1 or more"),
        (["--workload", "{bad}", "--strict"], "line 3"),
        (["--workload", "{csv}", "--max-waste", "0", "--max-buckets", "2"], "keeps padding under"),
        (["--workload", "{csv}", "--buckets", "2048,4096"], "only one of them"),
    ],
)
def test_bad_input_is_one_line_exit_2(sizes_csv: Path, tmp_path: Path, args: list[str], needle: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("width,height\n100,100\nx,1\n")
    argv = [a.format(csv=sizes_csv, bad=bad) for a in args]
    result = run("plan", *RANGE, *argv)
    assert result.returncode == 2
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
