"""Measure a Qwen3-VL vision tower's peak activation memory on a CUDA GPU, vllm-gaudi's encoder way.

Why: ``gaudi_vl.memory.vision_peak`` predicts the tower's working memory for one encoder call of
``patches`` patches whose longest image has ``seq`` patches (``VisionCall``). For the families beyond
Qwen2.5-VL, vllm-gaudi runs the tower on all images of a call concatenated and its HPU encoder
attention (vllm_gaudi/ops/hpu_mm_encoder_attention.py:36-82@091bbadda10b) runs FusedSDPA once per
image of ``cu_seqlens``, with no mask, and concatenates the per-image outputs. This script rebuilds
that design in plain PyTorch with the Qwen3-VL-8B tower's shapes (depth 27, hidden 1152, 16 heads,
LayerNorm, non-gated GELU MLP 4304, 2-D rotary in float, random bf16 weights), attention by PyTorch's
memory-efficient SDPA (the GPU stand-in for FusedSDPA: no scores held), and records
``torch.cuda.max_memory_allocated`` above what was held before the call (weights and input), max over
``--repeats`` after one warm-up forward. The deepstack taps and the merger run after the blocks on
``patches / 4`` rows and are left out (smaller than a block's peak).

It is a measurement tool, run by hand on a GPU machine; nothing in the package imports it.

    python tools/measure_encoder_memory.py --calls 1x4096 1x16384 2x16384 4x4096 1x65536 --out r.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

DEPTH, HIDDEN, HEADS, INTERMEDIATE = 27, 1152, 16, 4304
HEAD_DIM = HIDDEN // HEADS


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding in float, cast back (vLLM's apply_rotary_pos_emb_vision)."""
    xf = x.float()
    x1, x2 = xf.chunk(2, dim=-1)
    return (xf * cos + torch.cat((-x2, x1), dim=-1) * sin).to(x.dtype)


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(HIDDEN, eps=1e-6), nn.LayerNorm(HIDDEN, eps=1e-6)
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN, bias=True)
        self.proj = nn.Linear(HIDDEN, HIDDEN, bias=True)
        self.fc1 = nn.Linear(HIDDEN, INTERMEDIATE, bias=True)
        self.fc2 = nn.Linear(INTERMEDIATE, HIDDEN, bias=True)

    def attn(self, x: torch.Tensor, bounds: list[int], cos: torch.Tensor, sin: torch.Tensor
             ) -> torch.Tensor:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        n = x.shape[0]
        qkv = self.qkv(x).view(1, n, 3, HEADS, HEAD_DIM)
        q, k = rotate(qkv[:, :, 0], cos, sin), rotate(qkv[:, :, 1], cos, sin)
        v = qkv[:, :, 2]
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [1, H, N, d]
        outs = []
        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):  # one FusedSDPA per image
                outs.append(F.scaled_dot_product_attention(q[:, :, lo:hi], k[:, :, lo:hi], v[:, :, lo:hi]))
        out = torch.cat(outs, dim=2)
        del outs
        return self.proj(out.transpose(1, 2).reshape(n, HIDDEN))

    def forward(self, x: torch.Tensor, bounds: list[int], cos: torch.Tensor, sin: torch.Tensor
                ) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), bounds, cos, sin)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x)), approximate="tanh"))


@torch.inference_mode()
def measure(blocks: nn.ModuleList, images: int, seq: int, repeats: int) -> int:
    dev = torch.device("cuda")
    n = images * seq
    x = torch.randn(n, HIDDEN, device=dev, dtype=torch.bfloat16)
    bounds = [i * seq for i in range(images + 1)]
    peak = 0
    for r in range(repeats + 1):  # the first pass warms cuBLAS workspaces and is not counted
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        # fp32 cos/sin per patch, built per call as vLLM's rotary does
        cos = torch.randn(n, 1, HEAD_DIM, device=dev, dtype=torch.float32).unsqueeze(0)
        sin = torch.randn_like(cos)
        h = x
        for block in blocks:
            h = block(h, bounds, cos, sin)
        del h, cos, sin
        torch.cuda.synchronize()
        if r:
            peak = max(peak, torch.cuda.max_memory_allocated() - base)
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", nargs="+", default=["1x4096", "1x16384", "4x4096", "2x16384", "1x65536"],
                    help="IMAGESxSEQ: images per call and patches per image")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    blocks = nn.ModuleList(Block() for _ in range(DEPTH)).to("cuda", torch.bfloat16).eval()
    records = []
    for spec in args.calls:
        images, seq = (int(v) for v in spec.lower().split("x"))
        t0 = time.perf_counter()
        peak = measure(blocks, images, seq, args.repeats)
        records.append({"images": images, "seq": seq, "patches": images * seq, "peak_bytes": peak,
                        "seconds": round(time.perf_counter() - t0, 2)})
        print(json.dumps(records[-1]), flush=True)
    meta = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
            "python": platform.python_version(),
            "tower": {"depth": DEPTH, "hidden": HIDDEN, "heads": HEADS, "intermediate": INTERMEDIATE},
            "attention": "memory-efficient SDPA per image, outputs concatenated"}
    args.out.write_text(json.dumps({"meta": meta, "records": records}, indent=2) + "\n")


if __name__ == "__main__":
    main()
