"""The tower's elementwise steps and variable-length attention, as single passes where the device allows.

Why: with the matmuls at tensor-core speed, eager PyTorch spends a third of the 7B tower's time on
elementwise chains (RMSNorm's fp32 upcast, mean, rsqrt and casts; the rotary's upcasts and
``rotate_half`` copies; SiLU and the gate product; residual adds): each a full pass over [N, 1280]
or [N, 3456]. ``torch.compile`` fuses them but compiles for seconds per bucket on the first call.
Here each step is one hand-written Triton kernel, compiled once per process (shape-independent: the
row count is a run-time argument), with a plain-PyTorch twin that computes the same function
(transformers' own math, the same roundings) and runs everywhere else -- the CPU, and HPU graphs,
which cannot hold Triton kernels. :func:`elementwise_ops` picks one set per device.

Roundings follow transformers' modules step by step (modeling_qwen2_5_vl.py ``Qwen2_5_VLRMSNorm``,
``apply_rotary_pos_emb_vision``, ``Qwen2_5_VLMLP``): the residual sum is rounded to the model dtype,
RMSNorm's statistics are fp32 and its result is rounded before the weight multiplies it, the rotary
runs in fp32 and is rounded once, SiLU is rounded before the gate product. The kernels differ from
the twins only in the order of the fp32 sum of squares (so at most a rounding step apart).

Variable-length attention (:func:`varlen_attention`): segments of one packed sequence given by
cumulative offsets, the FlashAttention-2 varlen kernel on CUDA (softmax statistics in fp32, QK^T and
PV on tensor cores with fp32 accumulation), a per-segment SDPA loop elsewhere (tests; not capturable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "ElementwiseOps",
    "elementwise_ops",
    "torch_ops",
    "triton_ops",
    "choose_full_attention",
    "keymask_attention",
    "varlen_attention",
    "varlen_reference",
]


# --------------------------------------------------------------------------------------------------
# Plain PyTorch (the reference, and the path for the CPU and HPU graphs)
# --------------------------------------------------------------------------------------------------


def _torch_add_rms_norm(
    x: torch.Tensor, delta: torch.Tensor | None, weight: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``x + delta`` (rounded) and transformers' RMSNorm of it."""
    if delta is not None:
        x = x + delta
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return x, weight * xf.to(x.dtype)


def _torch_rotary_(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, heads: int) -> torch.Tensor:
    """Rotate q and k of a [n, 3 * heads * head_dim] qkv row block in place (fp32, rounded once)."""
    n = qkv.shape[0]
    head_dim = qkv.shape[1] // (3 * heads)
    qk = qkv.view(n, 3, heads, head_dim)[:, :2]
    half = head_dim // 2
    f = qk.float()
    rotated = torch.cat((-f[..., half:], f[..., :half]), dim=-1)
    c, s = cos[:, None, None, :], sin[:, None, None, :]
    qk.copy_(f * c + rotated * s)
    return qkv


def _torch_silu_mul(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * up


@dataclass(frozen=True)
class ElementwiseOps:
    """One implementation of the three fused steps (see the module docstring)."""

    name: str
    add_rms_norm: Callable[..., tuple[torch.Tensor, torch.Tensor]]
    rotary_: Callable[..., torch.Tensor]
    silu_mul: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


torch_ops = ElementwiseOps("torch", _torch_add_rms_norm, _torch_rotary_, _torch_silu_mul)


# --------------------------------------------------------------------------------------------------
# Triton (CUDA)
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _triton_kernels(interpret: bool) -> tuple:
    """Define the kernels (at call time, so that a test can ask for Triton's CPU interpreter)."""
    import triton
    import triton.language as tl

    @triton.jit
    def add_rms_norm_kernel(
        x_ptr, d_ptr, w_ptr, xo_ptr, h_ptr, cols, eps, HAS_D: tl.constexpr, BLOCK: tl.constexpr
    ):
        row = tl.program_id(0).to(tl.int64)
        offs = tl.arange(0, BLOCK)
        mask = offs < cols
        x = tl.load(x_ptr + row * cols + offs, mask=mask, other=0.0).to(tl.float32)
        if HAS_D:
            d = tl.load(d_ptr + row * cols + offs, mask=mask, other=0.0).to(tl.float32)
            s = (x + d).to(xo_ptr.dtype.element_ty)
            tl.store(xo_ptr + row * cols + offs, s, mask=mask)
            x = s.to(tl.float32)
        var = tl.sum(x * x, axis=0) / cols
        y = (x * (1.0 / tl.sqrt(var + eps))).to(h_ptr.dtype.element_ty).to(tl.float32)
        w = tl.load(w_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        tl.store(h_ptr + row * cols + offs, (w * y).to(h_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def rotary_kernel(
        qkv_ptr,
        cos_ptr,
        sin_ptr,
        row_stride,
        HEADS2: tl.constexpr,
        HEAD_DIM: tl.constexpr,
        HALF: tl.constexpr,
        HALF_P2: tl.constexpr,
    ):
        row = tl.program_id(0).to(tl.int64)
        h = tl.arange(0, HEADS2)[:, None]
        d = tl.arange(0, HALF_P2)[None, :]
        mask = (d < HALF) & (h < HEADS2)
        base = qkv_ptr + row * row_stride + h * HEAD_DIM + d
        x1 = tl.load(base, mask=mask, other=0.0).to(tl.float32)
        x2 = tl.load(base + HALF, mask=mask, other=0.0).to(tl.float32)
        c1 = tl.load(cos_ptr + row * HEAD_DIM + d, mask=d < HALF, other=0.0)
        c2 = tl.load(cos_ptr + row * HEAD_DIM + HALF + d, mask=d < HALF, other=0.0)
        s1 = tl.load(sin_ptr + row * HEAD_DIM + d, mask=d < HALF, other=0.0)
        s2 = tl.load(sin_ptr + row * HEAD_DIM + HALF + d, mask=d < HALF, other=0.0)
        o1 = x1 * c1 + (-x2) * s1
        o2 = x2 * c2 + x1 * s2
        tl.store(base, o1.to(qkv_ptr.dtype.element_ty), mask=mask)
        tl.store(base + HALF, o2.to(qkv_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def silu_mul_kernel(g_ptr, u_ptr, o_ptr, cols, g_stride, u_stride, o_stride, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < cols
        g = tl.load(g_ptr + row * g_stride + offs, mask=mask, other=0.0).to(tl.float32)
        u = tl.load(u_ptr + row * u_stride + offs, mask=mask, other=0.0).to(tl.float32)
        act = (g / (1.0 + tl.exp(-g))).to(o_ptr.dtype.element_ty).to(tl.float32)
        tl.store(o_ptr + row * o_stride + offs, (act * u).to(o_ptr.dtype.element_ty), mask=mask)

    return add_rms_norm_kernel, rotary_kernel, silu_mul_kernel


def _next_pow2(n: int) -> int:
    return 1 << (max(int(n), 1) - 1).bit_length()


def _make_triton_ops(interpret: bool = False) -> ElementwiseOps:
    norm_k, rot_k, silu_k = _triton_kernels(interpret)

    def add_rms_norm(
        x: torch.Tensor, delta: torch.Tensor | None, weight: torch.Tensor, eps: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        rows, cols = x.shape
        x = x.contiguous()
        out_x = torch.empty_like(x) if delta is not None else x
        h = torch.empty_like(x)
        block = _next_pow2(cols)
        norm_k[(rows,)](
            x,
            delta.contiguous() if delta is not None else x,
            weight,
            out_x,
            h,
            cols,
            float(eps),
            HAS_D=delta is not None,
            BLOCK=block,
            num_warps=4 if block <= 2048 else 8,
        )
        return out_x, h

    def rotary_(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, heads: int) -> torch.Tensor:
        rows, width = qkv.shape
        head_dim = width // (3 * heads)
        if qkv.stride(1) != 1 or head_dim % 2 or _next_pow2(2 * heads) != 2 * heads:
            return _torch_rotary_(qkv, cos, sin, heads)
        half = head_dim // 2
        rot_k[(rows,)](
            qkv,
            cos.contiguous(),
            sin.contiguous(),
            qkv.stride(0),
            HEADS2=2 * heads,
            HEAD_DIM=head_dim,
            HALF=half,
            HALF_P2=_next_pow2(half),
            num_warps=4,
        )
        return qkv

    def silu_mul(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        """Rows of ``gate`` and ``up`` may be strided (the two halves of one gate_up product)."""
        if gate.stride(1) != 1 or up.stride(1) != 1:
            gate, up = gate.contiguous(), up.contiguous()
        rows, cols = gate.shape
        out = torch.empty(rows, cols, dtype=gate.dtype, device=gate.device)
        block = 1024
        silu_k[(rows, triton_cdiv(cols, block))](
            gate, up, out, cols, gate.stride(0), up.stride(0), out.stride(0), BLOCK=block, num_warps=4
        )
        return out

    return ElementwiseOps("triton", add_rms_norm, rotary_, silu_mul)


def triton_cdiv(a: int, b: int) -> int:
    return -(-a // b)


@functools.lru_cache(maxsize=1)
def _triton_usable() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=2)
def triton_ops(interpret: bool = False) -> ElementwiseOps:
    """The Triton set (``interpret``: for tests under ``TRITON_INTERPRET=1`` on the CPU)."""
    return _make_triton_ops(interpret)


def elementwise_ops(device: torch.device) -> ElementwiseOps:
    """Triton kernels on CUDA when Triton is installed, plain PyTorch everywhere else (CPU, HPU)."""
    if device.type == "cuda" and _triton_usable():
        return triton_ops()
    return torch_ops


# --------------------------------------------------------------------------------------------------
# Variable-length attention
# --------------------------------------------------------------------------------------------------


def varlen_reference(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu: torch.Tensor, max_len: int, scale: float
) -> torch.Tensor:
    """Each segment ``[cu[i], cu[i+1])`` of [total, heads, head_dim] attends to itself only (SDPA per
    segment, softmax in fp32 for 16-bit inputs). Reads ``cu`` on the host: for CPUs and tests."""
    out = torch.empty_like(q)
    bounds = cu.tolist()
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        if end <= start:
            continue
        seg = [t[start:end].transpose(0, 1).float() for t in (q, k, v)]
        o = F.scaled_dot_product_attention(*seg, scale=scale)
        out[start:end] = o.transpose(0, 1).to(q.dtype)
    return out


def _flash(q, k, v, cu, max_len, scale):  # noqa: ANN001, ANN202
    return torch.ops.aten._flash_attention_forward(
        q, k, v, cu, cu, max_len, max_len, 0.0, False, False, scale=scale
    )[0]


_FULL_CHOICE: dict[tuple, str] = {}


def _median_ms(fn: Callable[[], object], reps: int = 5) -> float:
    fn()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


MASK_DIMS = 8
"""Extra head dimensions of :func:`keymask_attention` (one carries the key mask; 8 keeps the head size
a multiple of 8, as the fused kernels need)."""
_MASKED_OUT = -1e9


def keymask_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_valid: torch.Tensor, scale: float
) -> torch.Tensor:
    """Dense attention of [n, heads, head_dim] q/k/v in which no query sees a key with ``key_valid``
    False, without a mask tensor: q gets an extra dimension of 1, k one of 0 (valid) or -1e9 (not), v
    one of 0, so a masked key's score is -1e9 * scale lower and its softmax weight exactly 0, while
    valid scores are untouched (1 * 0 adds nothing). Why: with no mask, PyTorch can run the fastest
    fused kernel (cuDNN's on Hopper, 417 against FlashAttention-2's 275 TFLOP/s at 16384 rows and head
    size 80 on an H100, BENCHMARKS.md "issue 20"); a boolean mask would force the memory-efficient
    kernel (116 TFLOP/s). Softmax statistics stay fp32 in every fused kernel."""
    n, heads, hd = q.shape
    width = hd + MASK_DIMS

    def extended(t: torch.Tensor, extra: torch.Tensor | float) -> torch.Tensor:
        out = t.new_zeros(n, heads, width)
        out[..., :hd] = t
        out[..., hd] = extra
        return out.transpose(0, 1).unsqueeze(0)

    bias = torch.where(key_valid, 0.0, _MASKED_OUT).to(q.dtype)[:, None]
    qx, kx, vx = extended(q, 1.0), extended(k, bias), extended(v, 0.0)
    return _fused_sdpa(qx, kx, vx, scale)[0, :, :, :hd].transpose(0, 1)


def dense_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    """Dense attention of [n, heads, head_dim] q/k/v with every key valid: the frame fills its bucket,
    so there is no pad key to mask and the fused kernel runs at the real head size (80, not the 88 of
    :func:`keymask_attention`) with no extended copies of q, k and v."""
    return _fused_sdpa(*(t.transpose(0, 1).unsqueeze(0) for t in (q, k, v)), scale)[0].transpose(0, 1)


def _fused_sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    """[1, heads, n, d] SDPA by the fastest fused kernel on CUDA (cuDNN, else FlashAttention); fp32
    softmax elsewhere for 16-bit inputs (the CPU/HPU twin of what the fused kernels do)."""
    if q.is_cuda:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION]):
            return F.scaled_dot_product_attention(q, k, v, scale=scale)
    wide = torch.promote_types(q.dtype, torch.float32)
    return F.scaled_dot_product_attention(q.to(wide), k.to(wide), v.to(wide), scale=scale).to(q.dtype)


def choose_full_attention(n: int, heads: int, head_dim: int, dtype: torch.dtype, device: torch.device) -> str:
    """For a one-frame call of ``n`` rows: ``"dense"`` (:func:`keymask_attention`, cuDNN) where it is
    faster on this GPU than ``"varlen"`` (FlashAttention-2 over the frame and pad segments), timed once
    per shape on random data, and only where both agree to bf16 accuracy. Call outside graph capture
    (``PackedGraph`` does, before capturing)."""
    key = (int(n), int(heads), int(head_dim), dtype, str(device))
    choice = _FULL_CHOICE.get(key)
    if choice is not None:
        return choice
    choice = "varlen"
    if device.type == "cuda" and dtype in (torch.float16, torch.bfloat16):
        gen = torch.Generator(device=device).manual_seed(0)
        q, k, v = (
            torch.randn(n, heads, head_dim, device=device, dtype=dtype, generator=gen) for _ in range(3)
        )
        cut = max(n - n // 8, 1)
        cu = torch.tensor([0, cut, cut, n], dtype=torch.int32, device=device)
        valid = torch.arange(n, device=device) < cut
        scale = head_dim**-0.5
        try:
            ref = _flash(q, k, v, cu, n, scale)[:cut].float()
            out = keymask_attention(q, k, v, valid, scale)[:cut].float()
            agrees = bool(torch.isfinite(out).all()) and ((out - ref).norm() / ref.norm()).item() < 2**-6
        except RuntimeError:
            agrees = False
        if agrees:
            t_flash = _median_ms(lambda: _flash(q, k, v, cu, n, scale))
            t_dense = _median_ms(lambda: keymask_attention(q, k, v, valid, scale))
            choice = "dense" if t_dense < t_flash else "varlen"
    _FULL_CHOICE[key] = choice
    return choice


def varlen_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    cu: torch.Tensor,
    max_len: int,
    scale: float,
) -> torch.Tensor:
    """Attention within segments of a packed [total, heads, head_dim] sequence (``cu``: int32 offsets,
    zero-length segments allowed; ``max_len``: an upper bound of the segment lengths, fixed per graph).

    CUDA, 16-bit: FlashAttention-2's varlen kernel through ``torch.ops.aten._flash_attention_forward``
    (the op behind PyTorch's SDPA flash backend and ``torch.nn.attention.varlen``); no host sync, so it
    is captured in CUDA graphs with ``cu`` as a static buffer. Otherwise :func:`varlen_reference`.
    (cuDNN's ragged form, ``aten._cudnn_attention_forward`` with offsets, took 37-41 ms per call on an
    H100 for every size from 1024 to 16384 rows: not used.)
    """
    if q.is_cuda and q.dtype in (torch.float16, torch.bfloat16):
        return _flash(q, k, v, cu, max_len, scale)
    return varlen_reference(q, k, v, cu, max_len, scale)
