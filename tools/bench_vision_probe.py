"""Probe the GPU for the vision tower's building blocks: attention backends and GEMM rates per shape.

Why: the tower's time is its matmuls plus 4 full-attention layers (head_dim 80) and 28 window layers
(64-patch windows); which attention kernel PyTorch offers for these shapes, and how fast the GEMMs of
the 7B tower's widths run, decide how close to the FLOP floor a forward can get. Prints one JSON line
per measurement (CUDA events, median).

    python3 tools/bench_vision_probe.py --out $OUT/probe.json
"""

# ruff: noqa: B023 - every closure is called before its loop variable moves on
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from bench_vision_kernels import time_ms  # the same CUDA-event median as the tower benchmark
from torch.nn.attention import SDPBackend, sdpa_kernel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("probe.json"))
    args = parser.parse_args()
    rows: list[dict] = []

    def rec(**kw: object) -> None:
        rows.append(kw)
        print(json.dumps(kw), flush=True)

    import triton

    rec(
        torch=torch.__version__,
        triton=triton.__version__,
        cudnn=torch.backends.cudnn.version(),
        device=torch.cuda.get_device_name(),
        varlen=hasattr(torch.nn.attention, "varlen")
        or __import__("importlib").util.find_spec("torch.nn.attention.varlen") is not None,
    )
    dev, dt = "cuda", torch.bfloat16
    a = torch.randn(8192, 8192, device=dev, dtype=dt)
    ms = time_ms(lambda: a @ a)
    rec(what="matmul8192", tflops=2 * 8192**3 / ms / 1e9)
    for n in (1024, 12544, 16384):
        x = torch.randn(n, 1280, device=dev, dtype=dt)
        h = torch.randn(n, 3456, device=dev, dtype=dt)
        for name, inp, out in (
            ("qkv", x, 3840),
            ("proj", x, 1280),
            ("gate", x, 3456),
            ("gate_up", x, 6912),
            ("down", h, 1280),
            ("gate3420", x, 3420),
        ):
            w = torch.randn(out, inp.shape[1], device=dev, dtype=dt)
            b = torch.randn(out, device=dev, dtype=dt)
            ms = time_ms(lambda inp=inp, w=w, b=b: F.linear(inp, w, b))
            rec(what="gemm", n=n, name=name, ms=ms, tflops=2 * n * inp.shape[1] * out / ms / 1e9)
    H, D = 16, 80
    for n in (1024, 12544, 16384):
        q, k, v = (torch.randn(1, H, n, D, device=dev, dtype=dt) for _ in range(3))
        flops = 4 * n * n * D * H
        for be in (SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION, SDPBackend.EFFICIENT_ATTENTION):
            try:
                with sdpa_kernel([be]):
                    ms = time_ms(lambda: F.scaled_dot_product_attention(q, k, v))
                rec(what="full", n=n, backend=be.name, ms=ms, tflops=flops / ms / 1e9)
            except Exception as exc:  # noqa: BLE001
                rec(what="full", n=n, backend=be.name, error=str(exc)[:200])
        # the transposed view the tower passes: [n, H, D] -> [1, H, n, D]
        qkv = torch.randn(n, 3, H, D, device=dev, dtype=dt)
        q3, k3, v3 = qkv.unbind(1)
        cu = torch.tensor([0, n - 512, n], device=dev, dtype=torch.int32)
        cu0 = torch.tensor([0, n, n, n], device=dev, dtype=torch.int32)
        kernels = {
            "full_varlen_flash": lambda cuv: torch.ops.aten._flash_attention_forward(
                q3, k3, v3, cuv, cuv, n, n, 0.0, False, False, scale=D**-0.5
            ),
            "full_varlen_cudnn": lambda cuv: torch.ops.aten._cudnn_attention_forward(
                q3, k3, v3, None, cuv, cuv, n, n, False, 0.0, False, False, scale=D**-0.5
            ),
        }
        for label, cuv in (("two", cu), ("zero_len", cu0)):
            first = int(cuv[1])
            ref = F.scaled_dot_product_attention(
                *(t[:first].transpose(0, 1) for t in (q3, k3, v3))
            ).transpose(0, 1)
            for what, kernel in kernels.items():
                try:
                    ms = time_ms(lambda kernel=kernel, cuv=cuv: kernel(cuv))
                    o = kernel(cuv)[0]
                    err = ((o[:first].float() - ref.float()).norm() / ref.float().norm()).item()
                    finite = bool(torch.isfinite(o).all())
                    rec(what=what, n=n, cu=label, ms=ms, tflops=flops / ms / 1e9, err=err, finite=finite)
                except Exception as exc:  # noqa: BLE001
                    rec(what=what, n=n, cu=label, error=str(exc)[:300])
        # windows: [n/64, H, 64, D]
        qw, kw, vw = (t.reshape(n // 64, 64, H, D).transpose(1, 2) for t in (q3, k3, v3))
        wflops = 4 * n * 64 * D * H
        for be in (SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION, SDPBackend.EFFICIENT_ATTENTION):
            try:
                with sdpa_kernel([be]):
                    ms = time_ms(lambda: F.scaled_dot_product_attention(qw, kw, vw))
                rec(what="window", n=n, backend=be.name, ms=ms, tflops=wflops / ms / 1e9)
            except Exception as exc:  # noqa: BLE001
                rec(what="window", n=n, backend=be.name, error=str(exc)[:200])
        cuw = torch.arange(0, n + 1, 32, device=dev, dtype=torch.int32)  # 2 segments per window
        ms = time_ms(
            lambda: torch.ops.aten._flash_attention_forward(
                q3, k3, v3, cuw, cuw, 64, 64, 0.0, False, False, scale=D**-0.5
            )
        )
        rec(what="window_varlen_flash", n=n, ms=ms, tflops=wflops / ms / 1e9)
        mask = torch.rand(n // 64, 1, 64, 64, device=dev) > 0.1
        mask |= torch.eye(64, device=dev, dtype=torch.bool)
        ms = time_ms(lambda: F.scaled_dot_product_attention(qw, kw, vw, attn_mask=mask))
        rec(what="window_masked_sdpa", n=n, ms=ms)
        x = torch.randn(n, 1280, device=dev, dtype=dt)
        ms = time_ms(lambda: x + x)
        rec(what="add", n=n, ms=ms, gbps=3 * x.numel() * 2 / ms / 1e6)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
