"""Share of requests that compile while serving on vllm-gaudi, engine default vs gaudi-vl's plan.

For each model family and each workload (CSV or folder of real images, ``tools/workload_sets.py``)
it prints one Markdown row: requests, the default warm-up's graphs and compiling share, and the
planned warm-up's (at ``--max-graphs`` 25, the engine's warning threshold, and with an unlimited
budget). Counts, not timings: the numbers depend only on the sizes, the models' processors and the
engine's rules, not on the machine.

Usage: python tools/bench_warmup_share.py /tmp/coco_val2017.csv /tmp/mpl_images.csv
"""

from __future__ import annotations

import argparse
import sys

from gaudi_vl.engines.vllm_gaudi_models import model_facts
from gaudi_vl.families import ImageKind, ImageRule
from gaudi_vl.geometry import PixelRange
from gaudi_vl.models import builtin_model
from gaudi_vl.warmup_plan import plan_warmup
from gaudi_vl.workload import plan_for_workload, read_requests, read_workload

FAMILIES = ("qwen3-vl-8b", "qwen3-vl-235b-a22b", "qwen2-vl-7b", "gemma-3-27b", "llama-4-scout")
UNLIMITED = 10_000
GEMMA4_RULE = ImageRule(ImageKind.ASPECT, 16, 3, max_soft_tokens=280)
"""Gemma4ImageProcessor's defaults: patch 16, pooling 3, 280 soft tokens (2,520 patches)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="+")
    args = parser.parse_args()
    print("| workload | model | requests | default graphs | default compiling | planned (25) graphs "
          "| planned (25) compiling | planned (no limit) graphs | planned (no limit) compiling |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for path in args.workloads:
        requests = read_requests(path)
        rules = [(name, builtin_model(name).family) for name in FAMILIES]
        for name, fam in [*rules, ("gemma-4 (processor defaults)", None)]:
            if fam is None:  # no built-in: the rule of transformers' Gemma4ImageProcessor defaults
                family, rule = "gemma4", GEMMA4_RULE
            else:
                family, rule = fam.family, fam.image
            facts = model_facts(family)
            capped = plan_warmup(requests.requests, facts, rule, max_graphs=25)
            free = plan_warmup(requests.requests, facts, rule, max_graphs=UNLIMITED)
            d, p, f = capped.default, capped.planned, free.planned
            print(f"| {path} | {name} | {d.requests:,} | {d.graphs} | {100 * d.compiling_share:.1f}% | "
                  f"{p.graphs} | {100 * p.compiling_share:.1f}% | {f.graphs} | "
                  f"{100 * f.compiling_share:.1f}% |")
        # Qwen2.5-VL: the bucket planner (padded sizes), gaudi-vl's default strategy vs the optimum
        from gaudi_vl.engines import VLLM_GAUDI

        model = builtin_model("qwen2.5-vl-7b")
        asked = PixelRange(model.processor.min_pixels, model.processor.max_pixels)
        pr, _ = VLLM_GAUDI.effective_pixel_range(asked)
        _, report = plan_for_workload(read_workload(path, pr), pr, model.vision, engine=VLLM_GAUDI)
        scores = dict(zip((s.label for s in report.scores), zip(report.scores, report.compiling_images,
                                                                strict=True), strict=True))
        (opt, n_opt), (dft, n_dft) = scores["optimal"], scores["default"]
        images = report.workload.images
        print(f"| {path} | qwen2.5-vl-7b (images) | {images:,} | {dft.warmup_graphs} | "
              f"{100 * n_dft / images:.1f}% | {opt.warmup_graphs} | {100 * n_opt / images:.1f}% | - | - |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
