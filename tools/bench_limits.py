"""Time gaudi-vl at its documented limits (README "Limits"): what the worst accepted input costs.

Run: ``python tools/bench_limits.py [--repeat R]``

Each case runs the real CLI in a fresh process (wall time, best of ``--repeat``, interpreter start-up
included) or, for ``reachable_windows``, the function itself with its cache cleared. The point is
that every bound keeps a command in the sub-second range on a small machine: a hostile value is
either refused at once or costs no more than these.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
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
