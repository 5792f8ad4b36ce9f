"""The packed forward (several frames per bucket, variable-length attention, fused elementwise steps)
against transformers' own Qwen2.5-VL vision tower, on the CPU.

On CUDA the packed path runs FlashAttention's varlen kernel and Triton kernels; here the same forward
runs with the per-segment reference attention and the plain-PyTorch twins of the kernels, and the
Triton kernels themselves run in Triton's CPU interpreter against those twins. References are always
transformers' module (or float64 math): nothing here hard-codes an expected output.
"""

from __future__ import annotations

import copy
import importlib.util

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from kernel_towers import (  # noqa: E402
    MID,
    PIXEL_COLUMNS,
    bf16_tolerance,
    pixels_for,
    rel_err,
    reorder_tolerance,
)

from gaudi_vl.kernels import VisionRunner, as_tower  # noqa: E402
from gaudi_vl.kernels.fast import torch_ops, varlen_reference  # noqa: E402
from gaudi_vl.kernels.packed import (  # noqa: E402
    MAX_FRAMES,
    PackedGraph,
    Variant,
    packed_layout,
    packed_slots,
    packed_vision_forward,
)

FP32_TOL = reorder_tolerance(max(PIXEL_COLUMNS, 1024), MID["depth"])


def frames_pixels(grids: list[tuple[int, int]], seed: int) -> torch.Tensor:
    return torch.cat([pixels_for(h, w, seed + i) for i, (h, w) in enumerate(grids)])


def stock(visual: torch.nn.Module, pixels: torch.Tensor, grids: list[tuple[int, int]]):  # noqa: ANN201
    with torch.no_grad():
        return visual(pixels, grid_thw=torch.tensor([[1, h, w] for h, w in grids]))


PACKINGS = [
    ([(16, 16)], 256),  # one aligned frame, exact fit: no pad segment
    ([(16, 16)], 512),  # one aligned frame and pad windows
    ([(10, 14), (8, 8), (34, 46)], 4096),  # cut windows, aligned, a COCO-sized grid
    ([(2, 2)] * 3, 256),  # three one-token-window frames
    ([(6, 10), (46, 2)], 1024),
]


@pytest.mark.parametrize(("grids", "bucket"), PACKINGS)
def test_packed_matches_transformers(mid_tower, grids: list[tuple[int, int]], bucket: int) -> None:
    pixels = frames_pixels(grids, seed=len(grids) * 7 + bucket)
    ref = stock(mid_tower, pixels, grids)
    with torch.no_grad():
        tokens, hidden = packed_vision_forward(mid_tower, pixels, grids, bucket, return_hidden=True)
    assert tokens.shape == ref.pooler_output.shape
    assert rel_err(tokens, ref.pooler_output) < FP32_TOL
    assert rel_err(hidden, ref.last_hidden_state) < FP32_TOL


@settings(max_examples=12, deadline=None)
@given(
    sides=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12)), min_size=1, max_size=4),
    extra_windows=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_any_packing_matches_transformers(
    tiny_tower, sides: list[tuple[int, int]], extra_windows: int, seed: int
) -> None:
    """Invariant: any frames of even sides, in any bucket holding their windows, give transformers'
    tokens frame by frame."""
    grids = [(2 * h, 2 * w) for h, w in sides]
    bucket = packed_slots(grids, as_tower(tiny_tower).geometry) + 64 * extra_windows
    pixels = frames_pixels(grids, seed)
    with torch.no_grad():
        out = packed_vision_forward(tiny_tower, pixels, grids, bucket)
    assert rel_err(out, stock(tiny_tower, pixels, grids).pooler_output) < FP32_TOL


def test_tables_are_bucket_shaped_and_segments_are_the_frames(tiny_tower) -> None:
    """One graph per bucket: every table's shape depends on the bucket only. The full-attention
    segments are the frames' patch counts, the window segments each window's real and empty slots."""
    tower = as_tower(tiny_tower)
    shapes = set()
    for grids in ([(8, 8)], [(6, 10), (8, 8)], [(2, 2)] * 5, [(14, 22)]):
        lay = packed_layout(tower, grids, 640)
        shapes.add(tuple(tuple(t.shape) for t in lay.tables()))
        sizes = torch.diff(lay.cu_full.long())
        assert sizes[: len(grids)].tolist() == [h * w for h, w in grids]
        assert int(sizes[len(grids) : -1].sum()) == 0 and int(lay.cu_full[-1]) == 640
        assert torch.equal(torch.sort(lay.full_perm).values, torch.arange(640))
        assert torch.equal(lay.full_perm[lay.full_inv], torch.arange(640))
        windows = torch.diff(lay.cu_window.long()).view(-1, 2)
        assert torch.equal(windows[:, 0], lay.row_valid.view(-1, 64).sum(1))
        assert bool((windows.sum(1) == 64).all())
        assert torch.equal(torch.sort(lay.patch_order).values, torch.arange(640))
    assert len(shapes) == 1


def test_refuses_what_does_not_fit(tiny_tower) -> None:
    with pytest.raises(ValueError, match="window slots"):
        packed_layout(as_tower(tiny_tower), [(8, 8), (8, 8)], 64)
    with pytest.raises(ValueError, match="frames"):
        packed_layout(as_tower(tiny_tower), [(2, 2)] * (MAX_FRAMES + 1), 64 * (MAX_FRAMES + 1))


def test_static_buffers_replay_any_packing(tiny_tower) -> None:
    """PackedGraph refills its buffers (CUDA: replays the graph; CPU: the same buffers, eager). Larger
    packings before smaller ones leave stale rows: they must not matter."""
    graph = PackedGraph(as_tower(tiny_tower), 640)
    for grids in ([(24, 24)], [(6, 10), (8, 8)], [(2, 2)] * 7, [(14, 22)], [(8, 8)]):
        pixels = frames_pixels(grids, seed=len(grids))
        tokens, hidden = graph(pixels, grids, return_hidden=True)
        with torch.no_grad():
            eager, eager_hidden = packed_vision_forward(tiny_tower, pixels, grids, 640, return_hidden=True)
        assert torch.equal(tokens, eager) and torch.equal(hidden, eager_hidden)
        assert rel_err(tokens, stock(tiny_tower, pixels, grids).pooler_output) < FP32_TOL


def test_runner_packs_consecutive_frames(tiny_tower) -> None:
    grids = [(1, 16, 16), (1, 14, 22), (2, 8, 10), (1, 36, 10), (1, 2, 2)]
    pixels = torch.cat([pixels_for(t * h, w, seed=i) for i, (t, h, w) in enumerate(grids)])
    runner = VisionRunner(as_tower(tiny_tower), (256, 512), packed=True)
    tokens, hidden = runner(pixels, grids, return_hidden=True)
    with torch.no_grad():
        ref = tiny_tower(pixels, grid_thw=torch.tensor(grids))
    assert rel_err(tokens, ref.pooler_output) < FP32_TOL
    assert rel_err(hidden, ref.last_hidden_state) < FP32_TOL
    frames = [(h, w) for t, h, w in grids for _ in range(t)]
    # 256 slots; 384 + 128 = 512 fits the largest bucket; 128; 640 > 512 runs alone; 64.
    assert runner.groups(frames) == [
        ([(16, 16)], 256),
        ([(14, 22), (8, 10)], 512),
        ([(8, 10)], 256),
        ([(36, 10)], None),
        ([(2, 2)], 256),
    ]
    assert [len(g) for g, _ in runner.groups([(2, 2)] * 17)] == [8, 8, 1]  # 64 slots each, 512 at most
    roomy = VisionRunner(as_tower(tiny_tower), (4096,), packed=True)
    assert [len(g) for g, _ in roomy.groups([(2, 2)] * (MAX_FRAMES + 1))] == [MAX_FRAMES, 1]


def test_bf16_packed_within_bf16_rounding_of_fp32(mid_tower) -> None:
    grids = [(16, 16), (10, 14)]
    pixels = frames_pixels(grids, seed=3)
    ref = stock(mid_tower, pixels, grids).pooler_output
    bf16 = copy.deepcopy(mid_tower).to(torch.bfloat16)
    with torch.no_grad():
        out = packed_vision_forward(bf16, pixels.bfloat16(), grids, 1024)
        stock_bf16 = stock(bf16, pixels.bfloat16(), grids).pooler_output
    assert out.dtype == torch.bfloat16
    assert rel_err(out, ref) < bf16_tolerance(MID["depth"])
    assert rel_err(stock_bf16, ref) < bf16_tolerance(MID["depth"])


def test_varlen_reference_is_fp32_softmax_rounded_once() -> None:
    """Segments attend only to themselves, with the softmax in fp32 for bf16 inputs (what FlashAttention
    does on CUDA): float64 attention per segment, rounded once to bf16."""
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(50, 3, 16, generator=gen).bfloat16() for _ in range(3))
    cu = torch.tensor([0, 7, 7, 30, 50], dtype=torch.int32)
    out = varlen_reference(q, k, v, cu, 23, 0.25)
    for start, end in [(0, 7), (7, 30), (30, 50)]:
        qs, ks, vs = (t[start:end].double().transpose(0, 1) for t in (q, k, v))
        exact = ((qs @ ks.transpose(-1, -2) * 0.25).softmax(-1) @ vs).transpose(0, 1)
        atol = torch.finfo(torch.float32).eps * 64**0.5 * v.abs().max().item()
        torch.testing.assert_close(
            out[start:end].double(),
            exact.bfloat16().double(),
            rtol=torch.finfo(torch.bfloat16).eps,
            atol=atol,
        )


_TRITON_CHECK = """
import sys
import torch
from gaudi_vl.kernels.fast import torch_ops, triton_ops

dtype = getattr(torch, sys.argv[1])
ops = triton_ops(True)
gen = torch.Generator().manual_seed(1)
# One rounding step of the dtype for each of the three roundings in a row of the norm kernel (sum,
# normalised value, weight product: the interpreter's casts to bf16 truncate instead of rounding to
# nearest, so each may land one step off), plus the fp32 reordering bound of a 160-term sum of
# squares (3 sqrt(n) u, tests/kernels/kernel_towers.py) that RMSNorm's statistics may carry.
tol = 3 * torch.finfo(dtype).eps + 3 * 160**0.5 * torch.finfo(torch.float32).eps / 2


def close(a, b):
    torch.testing.assert_close(a.float(), b.float(), rtol=tol, atol=tol)


x, d = (torch.randn(9, 160, generator=gen).to(dtype) for _ in range(2))
weight = (1 + 0.2 * torch.randn(160, generator=gen)).to(dtype)
for delta in (d, None):
    got, want = ops.add_rms_norm(x, delta, weight, 1e-6), torch_ops.add_rms_norm(x, delta, weight, 1e-6)
    close(got[0], want[0])
    close(got[1], want[1])
qkv = torch.randn(7, 3 * 2 * 80, generator=gen).to(dtype)
cos, sin = torch.randn(7, 80, generator=gen), torch.randn(7, 80, generator=gen)
rotated = ops.rotary_(qkv.clone(), cos, sin, 2)
close(rotated, torch_ops.rotary_(qkv.clone(), cos, sin, 2))
assert not torch.equal(rotated, qkv)
gate, up = (torch.randn(5, 344, generator=gen).to(dtype) for _ in range(2))
close(ops.silu_mul(gate, up), torch_ops.silu_mul(gate, up))
print("ok")
"""


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton not installed")
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_triton_kernels_equal_their_pytorch_twins(dtype: str) -> None:
    """The Triton kernels (in Triton's CPU interpreter, which must be chosen before Triton is imported:
    hence a fresh process) compute the twins' function up to one rounding step of the dtype (the sum
    of squares runs in another order; the interpreter's casts may round the other way at a tie)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _TRITON_CHECK, dtype], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_torch_twins_are_transformers_modules(mid_tower) -> None:
    """The plain-PyTorch twins compute exactly what transformers' RMSNorm, rotary and MLP compute."""
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import apply_rotary_pos_emb_vision

    blk = copy.deepcopy(mid_tower.blocks[0]).to(torch.bfloat16)
    gen = torch.Generator().manual_seed(2)
    x, d = (torch.randn(12, 160, generator=gen).bfloat16() for _ in range(2))
    summed, normed = torch_ops.add_rms_norm(x, d, blk.norm1.weight, blk.norm1.variance_epsilon)
    assert torch.equal(summed, x + d) and torch.equal(normed, blk.norm1(x + d))
    with torch.no_grad():
        mlp = blk.mlp
        assert torch.equal(
            mlp.down_proj(torch_ops.silu_mul(mlp.gate_proj(normed), mlp.up_proj(normed))), mlp(normed)
        )
        qkv = blk.attn.qkv(normed)
    cos, sin = torch.randn(12, 80, generator=gen), torch.randn(12, 80, generator=gen)
    q, k, _ = qkv.view(12, 3, 2, 80).unbind(1)
    want_q, want_k = apply_rotary_pos_emb_vision(q, k, cos, sin)
    got = torch_ops.rotary_(qkv.clone(), cos, sin, 2).view(12, 3, 2, 80)
    assert torch.equal(got[:, 0], want_q) and torch.equal(got[:, 1], want_k)


@pytest.mark.parametrize(
    ("grids", "variant", "pad"),
    [
        ([(16, 24)], Variant(dense_full=True, batched_windows=True), 128),
        ([(10, 14)], Variant(dense_full=True, batched_windows=False), 128),
        ([(8, 8), (16, 8)], Variant(dense_full=False, batched_windows=True), 128),
        ([(16, 24)], Variant(dense_full=True, batched_windows=True, exact_fill=True), 0),
    ],
)
def test_every_graph_variant_matches_transformers(
    mid_tower, grids: list[tuple[int, int]], variant, pad: int
) -> None:
    """Dense full attention with pad keys masked through the extra head dimension, batched whole
    windows, and a frame filling its bucket with no key mask at all compute what transformers computes
    (buckets with pad slots where the key mask matters)."""
    pixels = frames_pixels(grids, seed=17)
    ref = stock(mid_tower, pixels, grids).pooler_output
    bucket = packed_slots(grids, as_tower(mid_tower).geometry) + pad
    with torch.no_grad():
        out = packed_vision_forward(mid_tower, pixels, grids, bucket, variant=variant)
    assert rel_err(out, ref) < FP32_TOL
    graph = PackedGraph(as_tower(mid_tower), bucket, variant=variant)
    assert torch.equal(graph(pixels, grids)[0], out)
    if variant.dense_full:
        with pytest.raises(ValueError, match="one frame"):
            graph(frames_pixels([(8, 8), (8, 8)], 1), [(8, 8), (8, 8)])
    if variant.batched_windows and not variant.exact_fill:
        with pytest.raises(ValueError, match="cut windows"):
            graph(frames_pixels([(10, 14)], 1), [(10, 14)])
    if variant.exact_fill:
        with pytest.raises(ValueError, match="must fill"):
            graph(frames_pixels([(8, 16)], 1), [(8, 16)])


def test_dense_attention_is_unmasked_sdpa() -> None:
    """With every key valid, the dense kernel is plain attention and the key-mask kernel agrees with it."""
    from gaudi_vl.kernels.fast import dense_attention, keymask_attention

    gen = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(40, 2, 16, generator=gen, dtype=torch.float64) for _ in range(3))
    got = dense_attention(q, k, v, 0.25)
    want = torch.nn.functional.scaled_dot_product_attention(
        *(t.transpose(0, 1) for t in (q, k, v)), scale=0.25
    ).transpose(0, 1)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(keymask_attention(q, k, v, torch.ones(40, dtype=torch.bool), 0.25), got)


def test_keymask_attention_masks_exactly() -> None:
    """The extra-dimension key mask gives what a boolean key mask gives, in float64."""
    from gaudi_vl.kernels.fast import keymask_attention

    gen = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(40, 2, 16, generator=gen, dtype=torch.float64) * 2 for _ in range(3))
    valid = torch.rand(40, generator=gen) > 0.4
    got = keymask_attention(q, k, v, valid, 0.25)
    want = torch.nn.functional.scaled_dot_product_attention(
        *(t.transpose(0, 1) for t in (q, k, v)), attn_mask=valid[None, None, :], scale=0.25
    ).transpose(0, 1)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_fused_gate_up_is_exact_and_undone(mid_tower) -> None:
    """One gate_up tensor with the modules' parameters as views: transformers' forward, the packed
    forward and state_dict are unchanged; undo gives separate storage back."""
    from gaudi_vl.kernels import fuse_gate_up, unfuse_gate_up

    model = copy.deepcopy(mid_tower)
    grids = [(10, 14)]
    pixels = frames_pixels(grids, seed=9)
    before = stock(model, pixels, grids).pooler_output
    keys = set(model.state_dict())
    fuse_gate_up(model)
    assert set(model.state_dict()) == keys
    assert as_tower(model).blocks[0].gate_up() is not None
    assert torch.equal(stock(model, pixels, grids).pooler_output, before)
    with torch.no_grad():
        assert rel_err(packed_vision_forward(model, pixels, grids, 256), before) < FP32_TOL
    unfuse_gate_up(model)
    mlp = model.blocks[0].mlp
    assert mlp.gate_proj.weight.data_ptr() != mlp.up_proj.weight.data_ptr() - mlp.gate_proj.weight.nbytes
    assert as_tower(model).blocks[0].gate_up() is None
    assert torch.equal(stock(model, pixels, grids).pooler_output, before)
