"""Benchmark device-side preprocessing (``gaudi_vl.kernels.preprocess``) against transformers' processor.

Why: transformers' Qwen2-VL image processor took ~10.8 ms per 1920x1080 image on an H100 even on cuda;
for an already 112-aligned image the work is one affine map and one reshuffle. One 1920x1080 frame
aligned to 112 px (1904x1120, 80x136 = 10880 patches), uint8:

  hf_fast_cpu / hf_fast_cuda  ``Qwen2VLImageProcessor`` (torchvision backend), device="cpu" / "cuda"
  hf_pil_cpu                  ``Qwen2VLImageProcessorPil`` where this transformers has it
  ours_cpu                    ``preprocess`` on a host tensor
  ours_cuda                   ``preprocess`` on a uint8 tensor already on the GPU (fp32 and bf16 out)
  ours_cuda_from_host         ``preprocess(host_uint8, device="cuda")``: includes the uint8 upload

The processors get a pixel range that holds the image, so none of them resizes (checked via the grid),
and every output is checked against the fast processor's.

    python tools/bench_preprocess.py --out preprocess.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _kernels_import import import_kernels

K = import_kernels()


def time_ms(fn: Callable[[], object], reps: int, warmup: int, cuda: bool) -> float:
    """Median wall milliseconds per call, synchronising the GPU after each call when it is used."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--height", type=int, default=1120)
    parser.add_argument("--width", type=int, default=1904)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import transformers
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    size = {"shortest_edge": 112 * 112, "longest_edge": args.height * args.width}
    fast = Qwen2VLImageProcessor(size=size)
    try:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

        slow = Qwen2VLImageProcessorPil(size=size)
    except ImportError:
        slow = None

    gen = torch.Generator().manual_seed(0)
    hwc = torch.randint(0, 256, (args.height, args.width, 3), dtype=torch.uint8, generator=gen)
    chw = hwc.permute(2, 0, 1).contiguous()
    ref = fast(images=chw, return_tensors="pt")
    grid = ref["image_grid_thw"].tolist()
    assert grid == [[1, args.height // 14, args.width // 14]], f"the processor resized: {grid}"
    cuda = torch.cuda.is_available()
    meta = {
        "image": f"{args.width}x{args.height}",
        "patches": args.height * args.width // 196,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    records: list[dict] = []

    def run(name: str, fn: Callable[[], object], on_cuda: bool, reps: int = args.reps) -> None:
        out = fn()
        pixel_values = (
            out["pixel_values"] if isinstance(out, dict) or hasattr(out, "keys") else out.pixel_values
        )
        err = (pixel_values.float().cpu() - ref["pixel_values"]).abs().max().item()
        ms = time_ms(fn, reps=reps, warmup=3, cuda=on_cuda)
        row = {"impl": name, "ms": round(ms, 4), "max_abs_diff_vs_hf_fast": err, **meta}
        records.append(row)
        print(json.dumps(row), flush=True)

    run("hf_fast_cpu", lambda: fast(images=chw, return_tensors="pt"), False, reps=10)
    if slow is not None:
        run("hf_pil_cpu", lambda: slow(images=hwc.numpy(), return_tensors="pt"), False, reps=5)
    run("ours_cpu", lambda: K.preprocess(hwc), False, reps=10)
    if cuda:
        chw_gpu, hwc_gpu = chw.cuda(), hwc.cuda()
        run("hf_fast_cuda", lambda: fast(images=chw_gpu, return_tensors="pt", device="cuda"), True)
        run("ours_cuda", lambda: K.preprocess(hwc_gpu), True)
        run("ours_cuda_bf16", lambda: K.preprocess(hwc_gpu, dtype=torch.bfloat16), True)
        run("ours_cuda_chw", lambda: K.preprocess(chw_gpu), True)
        pinned = hwc.pin_memory()
        run("ours_cuda_from_host", lambda: K.preprocess(hwc, device="cuda"), True)
        run("ours_cuda_from_pinned_host", lambda: K.preprocess(pinned, device="cuda"), True)

    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(records, indent=1) + "\n")
    print(f"\n{meta['image']} px ({meta['patches']} patches) on {meta['device']}")
    for row in records:
        diff = row["max_abs_diff_vs_hf_fast"]
        print(f"{row['impl']:28s} {row['ms']:9.3f} ms   max |diff| vs hf fast {diff:.2e}")


if __name__ == "__main__":
    main()
