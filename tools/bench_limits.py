"""Time gaudi-vl at its documented limits (README "Limits"): what the worst accepted input costs.

Run: ``python tools/bench_limits.py [--repeat R] [--resources-only] [--align-pixels N]``

Each case runs the real CLI in a fresh process (wall time, best of ``--repeat``, interpreter start-up
included) or, for ``reachable_windows``, the function itself with its cache cleared. The point is
that every bound keeps a command in the sub-second range on a small machine: a hostile value is
either refused at once or costs no more than these.

The resource cases (issue 19) also report each run's peak resident memory (the child's
``ru_maxrss`` from ``os.wait4``): 100 large PNGs read from their headers, 100,000 JSONL requests
naming one PNG (one header read, cached), an engine log with 262,144 distinct padded sizes, and
``align`` of one image at the documented pixel bound (RGB and RGBA, the largest conversion).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gaudi_vl.geometry import MAX_PIXELS, PixelRange, reachable_windows


def best_of(repeat: int, run) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def cli(args: list[str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gaudi_vl", *args], cwd=cwd, capture_output=True, timeout=600
    )
    if done.returncode not in (0, 2):
        raise SystemExit(f"gaudi-vl {args} exited {done.returncode}: {done.stderr.decode()[-500:]}")


def cli_peak(args: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """``(wall seconds, peak RSS MiB)`` of one ``gaudi-vl ARGS`` process (its own ``ru_maxrss``)."""
    start = time.perf_counter()
    with open(cwd / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gaudi_vl", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc
    if rc not in ok:
        raise SystemExit(f"gaudi-vl {args} exited {rc}: {(cwd / 'stderr.txt').read_text()[-500:]}")
    return wall, usage.ru_maxrss / 1024


ALIGN_MODES = ("RGB", "RGBA", "I;16")
"""``align`` sources at the pixel bound: plain RGB, alpha (composited over white), 16-bit grey."""


def make_data(box: Path, align_pixels: int) -> None:
    """The resource cases' inputs, written by a process of its own (``multiprocessing`` spawn), so
    that the measuring process stays small: ``ru_maxrss`` survives ``fork`` and ``exec``, and a
    child forked from a large parent would report the parent's peak as its own."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    tile = rng.integers(0, 256, (PNG_SIDES[1], PNG_SIDES[0] // 8, 3), dtype=np.uint8)
    pngs = box / "pngs"
    pngs.mkdir()
    Image.fromarray(np.tile(tile, (1, 8, 1)), "RGB").save(pngs / "0.png", compress_level=1)
    data = (pngs / "0.png").read_bytes()
    for i in range(1, 100):
        (pngs / f"{i}.png").write_bytes(data)
    (box / "one.png").write_bytes(data)
    request = (
        '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "one.png"}}, '
        '{"type": "text", "text": "describe"}]}]}\n'
    )
    (box / "requests.jsonl").write_text(request * 100_000)
    with open(box / "distinct.log", "w") as f:
        for n in range(1, 262_145):
            f.write(f"INFO 10-24 12:00:00 qwen2_5_vl.py:929] Padding current number pixel {n} to {n + 64}\n")
    side = int(align_pixels**0.5)
    for mode in ALIGN_MODES:
        if mode == "I;16":
            im = Image.fromarray(np.full((side, side), 40000, dtype=np.uint16))
        else:
            im = Image.new(mode, (side, side), (200, 100, 50, 128)[: len(mode)])
        im.save(box / f"bound_{mode.replace(';', '')}.png", compress_level=1)
        del im


PNG_SIDES = (6000, 4000)


def resources(box: Path, align_pixels: int) -> None:
    """The issue-19 resource figures: time and peak memory of one process each."""
    import multiprocessing
    import resource

    maker = multiprocessing.get_context("spawn").Process(target=make_data, args=(box, align_pixels))
    maker.start()
    maker.join()
    if maker.exitcode != 0:
        raise SystemExit("making the inputs failed")
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process: {floor:.0f} MiB, the floor of every peak below)")
    cases = {
        f"plan --workload: folder of 100 PNGs of {PNG_SIDES[0]}x{PNG_SIDES[1]} px": [
            "plan", "--workload", "pngs", "--json",
        ],
        "plan --workload: 100,000 JSONL requests naming one PNG": [
            "plan", "--workload", "requests.jsonl", "--json",
        ],
        "plan --workload: engine log with 262,144 distinct sizes, --plot (upstream vLLM, pixel limit)": [
            "plan", "--workload", "distinct.log", "--json", "--target", "vllm",
            "--max-pixels", str(MAX_PIXELS), "--plot", "distinct.png",
        ],
    }
    side = int(align_pixels**0.5)
    for mode in ALIGN_MODES:
        name = f"bound_{mode.replace(';', '')}.png"
        cases[f"align one {mode} PNG of {side}x{side} = {side * side:,} px"] = [
            "align", name, "--out", f"aligned_{mode.replace(';', '')}",
        ]
    for name, argv in cases.items():
        wall, peak = cli_peak(argv, box)
        print(f"{name}: {wall:.2f} s, peak RSS {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resources-only", action="store_true", help="only the issue-19 resource cases")
    parser.add_argument("--align-pixels", type=int, default=MAX_PIXELS,
                        help="pixels of the align case (default: the documented bound)")
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}")
    if args.resources_only:
        with tempfile.TemporaryDirectory() as folder:
            resources(Path(folder), args.align_pixels)
        return

    for lo, hi in ((3136, 12845056), (3136, MAX_PIXELS), (MAX_PIXELS, MAX_PIXELS)):
        pr = PixelRange(lo, hi)

        def uncached(pr: PixelRange = pr) -> None:
            reachable_windows.cache_clear()
            reachable_windows(pr)

        print(f"reachable_windows({lo}, {hi}): {1e3 * best_of(args.repeat, uncached):.2f} ms")

    with tempfile.TemporaryDirectory() as folder:
        box = Path(folder)
        big = ["--min-pixels", str(MAX_PIXELS), "--max-pixels", str(MAX_PIXELS)]
        (box / "field.csv").write_text("width,height\n640,480\n" + '"' + "x" * 200_000 + '",1\n' * 100)
        (box / "rows.csv").write_text(
            "width,height,count\n"
            + "".join(f"{640 + i % 997},{480 + i % 389},{1 + i % 7}\n" for i in range(200_000))
        )
        cases = {
            "gaudi-vl plan --format json (baseline)": ["plan", "--format", "json"],
            "plan at the pixel limit, default strategy": ["plan", *big, "--format", "json"],
            "plan at the pixel limit, --strategy exp --count 256": [
                "plan",
                *big,
                "--strategy",
                "exp",
                "--count",
                "256",
                "--format",
                "json",
            ],
            "plan --max-pixels limit --strategy linear --step 64": [
                "plan",
                "--max-pixels",
                str(MAX_PIXELS),
                "--strategy",
                "linear",
                "--step",
                "64",
                "--format",
                "json",
            ],
            "plan --max-pixels 29 digits (refused)": ["plan", "--max-pixels", "9" * 29],
            "plan --strategy exp --count 20 digits (refused)": [
                "plan",
                "--strategy",
                "exp",
                "--count",
                "9" * 20,
            ],
            "plan --workload /dev/zero (refused)": ["plan", "--workload", "/dev/zero"],
            "plan --workload: 100 CSV fields of 200,000 chars": ["plan", "--workload", "field.csv", "--json"],
            "plan --workload: 200,000 CSV rows, --max-buckets 256": [
                "plan",
                "--workload",
                "rows.csv",
                "--max-buckets",
                "256",
                "--json",
            ],
        }
        for name, argv in cases.items():
            print(f"{name}: {best_of(args.repeat, lambda argv=argv: cli(argv, box)):.2f} s")


if __name__ == "__main__":
    main()
