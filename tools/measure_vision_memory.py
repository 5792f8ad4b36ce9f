"""Measure the vision tower's peak activation memory on a CUDA GPU, the engine's HPU way.

Why: ``gaudi_vl.memory`` predicts how much device memory the Qwen2.5-VL vision tower needs for one
image padded to a bucket of N patches. On HPU (vllm-gaudi ``vllm_gaudi/models/qwen2_5_vl.py``,
``Qwen2_5_VisionTransformerStaticShape.get_image_embeds``) each image goes through the tower alone,
padded to its bucket, and every layer -- window and full attention alike -- runs ONE dense
``FusedSDPA`` over the whole bucket with a [N, N] boolean block-diagonal mask built by
``create_block_diagonal_attention_mask`` (einsum in float, then ``.bool()``). This script rebuilds that
design in plain PyTorch (random bf16 weights, same shapes as the 7B tower: depth 32, hidden 1280,
16 heads, MLP 3420, out 3584) with the attention written out densely -- scores = q k^T, masked,
softmax, probabilities @ v -- and records ``torch.cuda.max_memory_allocated`` above the memory held
before the call (weights + pixel input), i.e. the activation peak.

Designs (``--design``), one per engine profile's vision attention (``gaudi_vl.engines``):

* ``gaudi`` (vllm-gaudi): every layer one attention over the whole bucket; the full and the window
  ``[N, N]`` masks both alive, each a float32 einsum made bool;
* ``fork`` (vllm-fork habana_main): window layers one attention per 64-patch chunk (no mask), outputs
  concatenated; full layers one ``[N, N]`` mask from a float32 einsum made bool;
* ``fork121`` (vllm-fork aice/v1.21.0): as ``fork``, but the window chunks get a [1, 1, 1, 64] key-mask
  slice and the full mask is a bool outer product of the key mask.

Attention (``--attention``): ``dense`` writes the scores out (q k^T, mask, softmax, @ v: the
worst case); ``fused`` runs PyTorch's memory-efficient SDPA (no [heads, N, N] scores held), the GPU
stand-in for Habana's FusedSDPA. For ``fused`` each bool mask is turned once per forward into the
additive mask that kernel takes (bf16, or fp32 for fp32 softmax, whose q/k/v are fp32 copies), so
a mask costs 2 (or 4) bytes per element here against 1 on HPU; ``mask_bytes`` in each record says
which, and the model is checked with that element size.

It is a measurement tool, run by hand on a GPU machine; nothing in the package imports it.

    python tools/measure_vision_memory.py --patches 1024 4096 9216 16384 --out results.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

DEPTH, HIDDEN, HEADS, INTERMEDIATE, OUT_HIDDEN = 32, 1280, 16, 3420, 3584
PATCH_IN = 3 * 2 * 14 * 14  # channels * temporal patch * patch^2 = 1176 values per patch
WINDOW = 64  # 8 x 8 patches = one 112 x 112 px window
FULL_LAYERS = (7, 15, 23, 31)
MERGE = 4  # 2 x 2 patches -> one LLM token


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (xf * self.weight.float()).to(x.dtype)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding in float, cast back (as vLLM's apply_rotary_pos_emb_vision does)."""
    xf = x.float()
    x1, x2 = xf.chunk(2, dim=-1)
    rotated = torch.cat((-x2, x1), dim=-1)
    return (xf * cos + rotated * sin).to(x.dtype)


def dense_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, fp32_softmax: bool
) -> torch.Tensor:
    """softmax(q k^T / sqrt(d) masked) v over the whole bucket, scores and probabilities materialised."""
    scores = torch.matmul(q, k.transpose(-1, -2))  # [1, H, N, N] bf16
    scores.mul_(1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores.masked_fill_(mask.logical_not(), float("-inf"))
    if fp32_softmax:
        probs32 = torch.softmax(scores, dim=-1, dtype=torch.float32)  # [1, H, N, N] fp32
        del scores
        probs = probs32.to(v.dtype)
        del probs32
    else:
        probs = torch.softmax(scores, dim=-1)  # [1, H, N, N] bf16
        del scores
    return torch.matmul(probs, v)


def fused_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, fp32_softmax: bool
) -> torch.Tensor:
    """Memory-efficient SDPA (no scores held); fp32 softmax runs on fp32 copies of q, k and v."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    dtype = v.dtype
    if fp32_softmax:
        q, k, v = q.float(), k.float(), v.float()
    with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out.to(dtype)


def additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A bool keep-mask as the additive mask memory-efficient SDPA takes (4-D, same element layout)."""
    out = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    out.masked_fill_(mask.logical_not(), float("-inf"))
    return out if out.dim() == 4 else out.view(1, 1, *mask.shape[-2:])


class Block(nn.Module):
    def __init__(self, fp32_softmax: bool, attention: str, design: str, full: bool) -> None:
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(HIDDEN), RMSNorm(HIDDEN)
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN, bias=True)
        self.proj = nn.Linear(HIDDEN, HIDDEN, bias=True)
        self.gate_up = nn.Linear(HIDDEN, 2 * INTERMEDIATE, bias=True)
        self.down = nn.Linear(INTERMEDIATE, HIDDEN, bias=True)
        self.fp32_softmax = fp32_softmax
        self.attention = attention
        self.chunked = design != "gaudi" and not full
        self.key_mask = design == "fork121"

    def attend(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        if self.attention == "dense":
            return dense_attention(q, k, v, mask, self.fp32_softmax)
        return fused_attention(q, k, v, mask, self.fp32_softmax)

    def attn(
        self, x: torch.Tensor, mask: torch.Tensor | None, cos: torch.Tensor, sin: torch.Tensor
    ) -> torch.Tensor:
        n = x.shape[0]
        qkv = self.qkv(x).view(1, n, 3, HEADS, HIDDEN // HEADS)
        q, k = rotate(qkv[:, :, 0], cos, sin), rotate(qkv[:, :, 1], cos, sin)
        v = qkv[:, :, 2]
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # b h s d
        if self.chunked:  # the fork's window layers: one call per 64-patch window, outputs concatenated
            outs = []
            for s in range(0, n, WINDOW):
                m = None if mask is None else mask[..., s : s + WINDOW]
                outs.append(
                    self.attend(q[:, :, s : s + WINDOW], k[:, :, s : s + WINDOW], v[:, :, s : s + WINDOW], m)
                )
            out = torch.cat(outs, dim=2)
        else:
            out = self.attend(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(n, HIDDEN))

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, cos: torch.Tensor, sin: torch.Tensor
    ) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), mask, cos, sin)
        return x + self.mlp(self.norm2(x))


class Tower(nn.Module):
    def __init__(self, fp32_softmax: bool, attention: str = "dense", design: str = "gaudi") -> None:
        super().__init__()
        self.attention, self.design = attention, design
        self.mask_dtype = torch.float32 if fp32_softmax else torch.bfloat16
        self.patch_embed = nn.Linear(PATCH_IN, HIDDEN, bias=False)
        self.blocks = nn.ModuleList(
            Block(fp32_softmax, attention, design, i in FULL_LAYERS) for i in range(DEPTH)
        )
        self.ln_q = RMSNorm(HIDDEN)
        self.merger = nn.Sequential(
            nn.Linear(HIDDEN * MERGE, HIDDEN * MERGE), nn.GELU(), nn.Linear(HIDDEN * MERGE, OUT_HIDDEN)
        )

    def masks(self, n: int, device: torch.device) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(full, window) masks the way the design's engine builds and holds them."""
        if self.design == "fork121":
            keep = torch.ones(1, n, dtype=torch.bool, device=device)  # the image fills its bucket here
            full = keep[0, :] * keep[0, :].unsqueeze(1)  # bool outer product, [N, N]
            window = keep.view(1, 1, 1, n)
        else:
            full = block_diagonal_mask(torch.tensor([0, n], device=device))
            window = (
                block_diagonal_mask(torch.arange(0, n + 1, WINDOW, device=device))
                if self.design == "gaudi"
                else None
            )
        if self.attention == "fused":  # once per forward, as the kernel needs it
            full = additive(full, self.mask_dtype)
            window = None if window is None else additive(window, self.mask_dtype)
        return full, window

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        n = pixels.shape[0]
        x = self.patch_embed(pixels)
        full, window = self.masks(n, pixels.device)
        head_dim = HIDDEN // HEADS
        rot = head_dim // 2
        inv = 1.0 / (10000 ** (torch.arange(0, rot, 2, device=pixels.device).float() / rot))
        freqs = torch.outer(torch.arange(n, device=pixels.device).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1).repeat(1, 2)[None, :, None, :]  # [1, N, 1, head_dim]
        cos, sin = emb.cos(), emb.sin()
        for i, blk in enumerate(self.blocks):
            x = blk(x, full if i in FULL_LAYERS else window, cos, sin)
        return self.merger(self.ln_q(x).view(-1, HIDDEN * MERGE))


def block_diagonal_mask(indices: torch.Tensor) -> torch.Tensor:
    """The engine's create_block_diagonal_attention_mask: [segments, N] float, einsum to [N, N], bool."""
    size = int(indices[-1])
    ar = torch.arange(size, device=indices.device).unsqueeze(0).repeat(indices.shape[0] - 1, 1)
    inside = torch.logical_and(ar < indices[1:].unsqueeze(1), ar >= indices[:-1].unsqueeze(1)).float()
    return torch.einsum("bi,bj->ij", inside, inside).bool()


def measure(
    patches: int, fp32_softmax: bool, repeats: int, attention: str = "dense", design: str = "gaudi"
) -> dict[str, object]:
    torch.manual_seed(0)
    dev = torch.device("cuda")
    with dev:
        tower = Tower(fp32_softmax, attention, design).to(torch.bfloat16).eval()
    for blk in tower.blocks:
        for norm in (blk.norm1, blk.norm2):
            norm.weight.data = norm.weight.data.float()
    pixels = torch.randn(patches, PATCH_IN, device=dev, dtype=torch.bfloat16)
    torch.cuda.synchronize()
    times = []
    peak = 0
    with torch.inference_mode():
        for _ in range(repeats):
            torch.cuda.empty_cache()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            out = tower(pixels)
            torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1e3)
            peak = max(peak, torch.cuda.max_memory_allocated() - base)
            del out
    weights = sum(p.numel() * p.element_size() for p in tower.parameters())
    del tower, pixels
    torch.cuda.empty_cache()
    return {
        "impl": attention,
        "design": design,
        "mask_bytes": 1 if attention == "dense" else (4 if fp32_softmax else 2),
        "softmax": "fp32" if fp32_softmax else "bf16",
        "patches": patches,
        "ms": round(min(times), 2),
        "peak_activation_bytes": int(peak),
        "weights_bytes": int(weights),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patches", type=int, nargs="+", default=[1024, 4096, 9216, 16384])
    ap.add_argument("--softmax", choices=["bf16", "fp32", "both"], default="both")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--attention", choices=["dense", "fused"], nargs="+", default=["dense"])
    ap.add_argument("--design", choices=["gaudi", "fork", "fork121"], nargs="+", default=["gaudi"])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    modes = {"bf16": [False], "fp32": [True], "both": [False, True]}[args.softmax]
    records = []
    measure(1024, False, 1)  # one-time library workspaces (cuBLAS) before any recorded peak
    for attention in args.attention:
        for design in args.design:
            for fp32 in modes:
                for n in args.patches:
                    rec = measure(n, fp32, args.repeats, attention, design)
                    print(json.dumps(rec), flush=True)
                    records.append(rec)
    meta = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "command": "python tools/measure_vision_memory.py "
        + " ".join(
            [
                "--patches",
                *map(str, args.patches),
                "--softmax",
                args.softmax,
                "--repeats",
                str(args.repeats),
                "--attention",
                *args.attention,
                "--design",
                *args.design,
            ]
        ),
        "records": records,
    }
    args.out.write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
