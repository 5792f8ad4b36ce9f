"""Time the exact bucket optimizer on 1,000,000 random-but-realistic image sizes.

Run: ``python tools/bench_optimizer.py [--images N] [--seed S] [--repeat R]``

Sizes: 55 % common camera / phone / screen / document resolutions (both orientations), 15 % of
those cropped by a random 50-100 % per side (user crops, screenshots of windows), 30 % free-form
(log-normal area around 0.8 MP, log-uniform aspect up to 8:1). Two timings are printed
separately, best of ``--repeat``: building the histogram (dedup + the resize rule per distinct
size) and the DP for K = 4, 8, 16 (time and patches objectives), for two pixel ranges: the
common serving range (max 1,003,520 px) and the model default (max 12,845,056 px, many more
distinct patch counts).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

import numpy as np

from gaudi_vl.buckets.cost import PATCH_COST, VisionCost
from gaudi_vl.buckets.histogram import histogram_from_sizes
from gaudi_vl.buckets.optimizer import optimal_buckets
from gaudi_vl.geometry import PixelRange, reachable_windows
from gaudi_vl.models import builtin_model

COMMON = np.array([
    (4032, 3024), (4000, 3000), (3264, 2448), (2592, 1944), (1920, 1080), (1280, 720), (2560, 1440),
    (3840, 2160), (1080, 1920), (1170, 2532), (1284, 2778), (1080, 2400), (750, 1334), (1024, 768),
    (800, 600), (640, 480), (1600, 1200), (2480, 3508), (1700, 2200), (1240, 1754), (512, 512),
    (1024, 1024), (224, 224), (336, 336), (1366, 768), (1440, 900), (2880, 1800), (3000, 4000),
])


def realistic_sizes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_common, n_crop = int(n * 0.55), int(n * 0.15)
    n_free = n - n_common - n_crop
    pick = COMMON[rng.integers(0, len(COMMON), n_common + n_crop)]
    flip = rng.random(len(pick)) < 0.2
    w = np.where(flip, pick[:, 1], pick[:, 0]).astype(np.int64)
    h = np.where(flip, pick[:, 0], pick[:, 1]).astype(np.int64)
    crop = rng.uniform(0.5, 1.0, size=(n_crop, 2))
    w[n_common:] = np.maximum(16, (w[n_common:] * crop[:, 0]).astype(np.int64))
    h[n_common:] = np.maximum(16, (h[n_common:] * crop[:, 1]).astype(np.int64))
    area = np.exp(rng.normal(np.log(0.8e6), 1.0, n_free))
    aspect = np.exp(rng.uniform(-np.log(8), np.log(8), n_free))
    fw = np.maximum(16, np.sqrt(area * aspect)).astype(np.int64)
    fh = np.maximum(16, np.sqrt(area / aspect)).astype(np.int64)
    return np.concatenate([w, fw]), np.concatenate([h, fh])


def best_of(repeat: int, fn):  # noqa: ANN001, ANN201 - tiny timing helper
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    widths, heights = realistic_sizes(args.images, args.seed)
    time_cost = VisionCost.from_vision(builtin_model("qwen2.5-vl-7b").vision)
    print("| max_pixels | images | distinct sizes | distinct patch counts | histogram s | objective "
          "| K=4 DP s | K=8 DP s | K=16 DP s | total K=16 s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for max_pixels in (1003520, 12845056):
        pr = PixelRange(112 * 112, max_pixels)
        top = reachable_windows(pr).max_patches
        distinct = len(np.unique((widths << 32) | heights))
        t_hist, (hist, _) = best_of(args.repeat, partial(histogram_from_sizes, widths, heights, None, pr))
        for name, cost in (("time", time_cost), ("patches", PATCH_COST)):
            times = []
            for k in (4, 8, 16):
                t, _ = best_of(args.repeat, partial(optimal_buckets, hist, k, cost, top_patches=top))
                times.append(t)
            print(f"| {max_pixels:,} | {hist.images:,} | {distinct:,} | {len(hist.patches):,} | {t_hist:.3f} "
                  f"| {name} | {times[0]:.4f} | {times[1]:.4f} | {times[2]:.4f} | {t_hist + times[2]:.3f} |")


if __name__ == "__main__":
    main()
