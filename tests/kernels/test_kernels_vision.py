"""The bucketed vision forward against transformers' own Qwen2.5-VL vision tower (CPU, fp32 and bf16).

References are always transformers' module itself (or float64 math for the attention primitive):
nothing here hard-codes an expected output.
"""

from __future__ import annotations

import copy

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
    reference,
    rel_err,
    reorder_tolerance,
)

from gaudi_vl.kernels import (  # noqa: E402
    BucketGraph,
    attention,
    bucketed_vision_forward,
    dense_masked_vision_forward,
    vision_layout,
)
from gaudi_vl.kernels.vision import block_diagonal_mask  # noqa: E402

FP32_TOL = reorder_tolerance(max(PIXEL_COLUMNS, 1024), MID["depth"])
"""Our forward against transformers': same maths, other kernels. The longest reduction is the patch
embedding's 1176 columns (the buckets below stay under 1024 keys); MID is the deepest tower."""

# (h, w) in patches (multiples of 8 = 112 px), bucket in patches (multiple of 64, >= h*w).
GRIDS = [(8, 8, 64), (8, 8, 256), (8, 16, 128), (16, 8, 320), (16, 24, 384), (24, 16, 512), (8, 40, 448)]


@pytest.mark.parametrize(("h", "w", "bucket"), GRIDS)
def test_tiny_matches_transformers(tiny_tower, h: int, w: int, bucket: int) -> None:
    pixels = pixels_for(h, w, seed=h * 100 + w)
    ref = reference(tiny_tower, pixels, h, w)
    with torch.no_grad():
        out = bucketed_vision_forward(tiny_tower, pixels, torch.tensor([[1, h, w]]), bucket)
    assert out.shape == ref.shape
    assert rel_err(out, ref) < FP32_TOL


@pytest.mark.parametrize(("h", "w", "bucket"), [(16, 16, 256), (16, 32, 640), (32, 24, 1024), (8, 56, 512)])
def test_mid_matches_transformers(mid_tower, h: int, w: int, bucket: int) -> None:
    pixels = pixels_for(h, w, seed=7 * h + w)
    ref = reference(mid_tower, pixels, h, w)
    with torch.no_grad():
        out = bucketed_vision_forward(mid_tower, pixels, [1, h, w], bucket)
    assert rel_err(out, ref) < FP32_TOL


# Grids whose sides are not multiples of 8 patches (112 px): the border cuts windows.
CUT_GRIDS = [
    (2, 2, 64), (6, 10, 128), (10, 6, 256), (12, 20, 384), (34, 46, 2048), (2, 40, 320), (46, 2, 384)
]


@pytest.mark.parametrize(("h", "w", "bucket"), CUT_GRIDS)
def test_cut_windows_match_transformers(tiny_tower, h: int, w: int, bucket: int) -> None:
    """Images as the stock processor sizes them (28-px multiples): partial windows, masked per window."""
    pixels = pixels_for(h, w, seed=h * 31 + w)
    ref = reference(tiny_tower, pixels, h, w)
    with torch.no_grad():
        out = bucketed_vision_forward(tiny_tower, pixels, [1, h, w], bucket)
    assert out.shape == ref.shape
    assert rel_err(out, ref) < FP32_TOL


def test_slots_are_whole_windows(tiny_tower) -> None:
    from gaudi_vl.kernels import as_tower, slots_for

    geo = as_tower(tiny_tower).geometry
    assert slots_for((8, 8), geo) == 64
    assert slots_for((8, 16), geo) == 128
    assert slots_for((34, 46), geo) == 5 * 6 * 64  # 17 x 23 tokens -> 5 x 6 windows of 4 x 4 tokens
    assert slots_for((2, 2), geo) == 64


def test_hidden_states_are_transformers_last_hidden_state(tiny_tower) -> None:
    """``return_hidden`` gives the real rows of the last block in transformers' window order."""
    for h, w, bucket in [(16, 8, 192), (10, 14, 256)]:
        pixels = pixels_for(h, w, seed=3)
        with torch.no_grad():
            ref = tiny_tower(pixels, grid_thw=torch.tensor([[1, h, w]])).last_hidden_state
            _, hidden = bucketed_vision_forward(tiny_tower, pixels, [1, h, w], bucket, return_hidden=True)
        assert hidden.shape == ref.shape
        assert rel_err(hidden, ref) < FP32_TOL


@settings(max_examples=12, deadline=None)
@given(
    hw=st.tuples(st.integers(1, 20), st.integers(1, 20)),
    extra_windows=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_any_grid_and_bucket(tiny_tower, hw: tuple[int, int], extra_windows: int, seed: int) -> None:
    """Invariant: for every grid of even sides and every bucket that holds its windows, the output is
    transformers'."""
    from gaudi_vl.kernels import as_tower, slots_for

    h, w = 2 * hw[0], 2 * hw[1]
    bucket = slots_for((h, w), as_tower(tiny_tower).geometry) + 64 * extra_windows
    pixels = pixels_for(h, w, seed)
    with torch.no_grad():
        out = bucketed_vision_forward(tiny_tower, pixels, [1, h, w], bucket)
    assert rel_err(out, reference(tiny_tower, pixels, h, w)) < FP32_TOL


@settings(max_examples=12, deadline=None)
@given(
    hw=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    extra_windows=st.integers(0, 5),
    seed=st.integers(0, 2**16),
)
def test_any_aligned_grid_and_bucket(tiny_tower, hw: tuple[int, int], extra_windows: int, seed: int) -> None:
    """Invariant: for every aligned grid and every bucket that holds it, the output is transformers'."""
    h, w = 8 * hw[0], 8 * hw[1]
    bucket = h * w + 64 * extra_windows
    pixels = pixels_for(h, w, seed)
    with torch.no_grad():
        out = bucketed_vision_forward(tiny_tower, pixels, [1, h, w], bucket)
    assert rel_err(out, reference(tiny_tower, pixels, h, w)) < FP32_TOL


@pytest.mark.parametrize("garbage", ["normal", "huge", "inf", "nan", "minus100"])
def test_pad_content_cannot_change_outputs(mid_tower, garbage: str) -> None:
    h, w, bucket = 16, 16, 512
    pixels = pixels_for(h, w, seed=3)
    pad_rows = bucket - h * w
    fills = {
        "normal": torch.randn(pad_rows, pixels.shape[1]),
        "huge": torch.randn(pad_rows, pixels.shape[1]) * 1e30,
        "inf": torch.full((pad_rows, pixels.shape[1]), float("inf")),
        "nan": torch.full((pad_rows, pixels.shape[1]), float("nan")),
        "minus100": torch.full((pad_rows, pixels.shape[1]), -100.0),  # the engine's pad value
    }
    with torch.no_grad():
        clean = bucketed_vision_forward(mid_tower, pixels, [1, h, w], bucket)
        dirty = bucketed_vision_forward(mid_tower, torch.cat([pixels, fills[garbage]]), [1, h, w], bucket)
    assert torch.equal(clean, dirty)
    assert torch.isfinite(dirty).all()


def test_static_buffers_replay_any_image_in_the_bucket(tiny_tower) -> None:
    """BucketGraph refills static buffers (CUDA: replays the captured graph; CPU: same buffers, eager).

    A small image after a large one leaves stale rows in the buffer: they must not matter.
    """
    bucket = 640
    runner = BucketGraph(tiny_tower, bucket)
    masked = BucketGraph(tiny_tower, bucket, masked=True)
    for h, w in [(24, 24), (8, 16), (16, 40), (8, 8), (22, 14), (2, 4)]:
        pixels = pixels_for(h, w, seed=h + 3 * w)
        cut = h % 8 != 0 or w % 8 != 0
        if cut:
            with pytest.raises(ValueError, match="masked=True"):
                runner(pixels, [1, h, w])
        out = (masked if cut else runner)(pixels, [1, h, w])
        with torch.no_grad():
            eager = bucketed_vision_forward(tiny_tower, pixels, [1, h, w], bucket)
        assert torch.equal(out, eager)
        assert rel_err(out, reference(tiny_tower, pixels, h, w)) < FP32_TOL
        if not cut:  # an aligned image in the masked graph: the mask changes nothing for real rows
            assert rel_err(masked(pixels, [1, h, w]), eager) < FP32_TOL


def test_engine_dense_masked_baseline_matches_transformers(tiny_tower) -> None:
    """The baseline that benchmarks and the memory planner compare against computes the same function."""
    for h, w, bucket in [(8, 16, 128), (16, 16, 448), (8, 24, 256)]:
        pixels = pixels_for(h, w, seed=h * w)
        with torch.no_grad():
            out = dense_masked_vision_forward(tiny_tower, pixels, [1, h, w], bucket)
        assert rel_err(out, reference(tiny_tower, pixels, h, w)) < FP32_TOL


def test_block_diagonal_mask_is_the_blocks() -> None:
    cu = torch.tensor([0, 3, 7, 8, 12])
    mask = block_diagonal_mask(cu)
    segment = torch.bucketize(torch.arange(12), cu[1:], right=True)
    assert torch.equal(mask, segment[:, None] == segment[None, :])


def test_layout_tables_are_bucket_shaped(tiny_tower) -> None:
    """Every table's shape depends on the bucket only: the condition for one graph per bucket."""
    shapes = set()
    for h, w in [(8, 8), (16, 24), (24, 16), (8, 48)]:
        lay = vision_layout(tiny_tower, [1, h, w], 384)
        shapes.add(tuple(tuple(t.shape) for t in (lay.patch_order, lay.cos, lay.row_valid, lay.token_order)))
        assert torch.equal(torch.sort(lay.patch_order).values, torch.arange(384))
        assert int(lay.row_valid.sum()) == h * w
    assert len(shapes) == 1


@pytest.mark.parametrize(
    ("grid", "bucket"),
    [
        ((1, 12, 8), 64), ((1, 8, 8), 32), ((1, 8, 16), 100),
        ((2, 8, 8), 128), ((1, 7, 8), 128), ((1, 0, 8), 64),
    ],
)
def test_refuses_what_it_cannot_do(tiny_tower, grid: tuple[int, int, int], bucket: int) -> None:
    pixels = torch.zeros(grid[0] * grid[1] * grid[2], 3 * 2 * 14 * 14)
    with pytest.raises(ValueError):
        bucketed_vision_forward(tiny_tower, pixels, list(grid), bucket)


def test_fp32_softmax_attention_is_fp32_math_rounded_once() -> None:
    """The fp32-softmax primitive equals float64 attention rounded to bf16; the model-dtype softmax
    (scores and probabilities in bf16, the engine's default mode) is several times further away."""
    gen = torch.Generator().manual_seed(0)
    q, k = (torch.randn(4, 4, 64, 16, generator=gen) * 3 for _ in range(2))
    v = torch.randn(4, 4, 64, 16, generator=gen)
    mask = torch.rand(1, 1, 1, 64, generator=gen) > 0.3
    qb, kb, vb = (t.bfloat16() for t in (q, k, v))
    scale = 16**-0.5
    scores = (qb.double() @ kb.double().transpose(-1, -2) * scale).masked_fill(~mask, float("-inf"))
    exact = scores.softmax(-1) @ vb.double()
    fp32_softmax = attention(qb, kb, vb, mask, scale, fp32_softmax=True)
    assert fp32_softmax.dtype == torch.bfloat16
    # At most one bf16 rounding step away (fp32 -> bf16 vs float64 -> bf16 may round differently).
    # rtol: one bf16 ulp (eps = 2^-7); atol, for outputs near 0: the fp32 softmax-weighted sum of 64 values.
    atol = torch.finfo(torch.float32).eps * 64**0.5 * v.abs().max().item()
    torch.testing.assert_close(
        fp32_softmax.double(), exact.bfloat16().double(), rtol=torch.finfo(torch.bfloat16).eps, atol=atol
    )
    bf16_scores = (qb @ kb.transpose(-1, -2) * scale).masked_fill(~mask, float("-inf"))
    bf16_softmax = (bf16_scores.softmax(-1) @ vb).double()
    assert 3 * rel_err(fp32_softmax, exact) < rel_err(bf16_softmax, exact)


def test_fp32_softmax_through_the_tower(mid_tower) -> None:
    """In bf16 the switch reaches every attention layer and stays within bf16 accuracy of the fp32 module;
    in fp32 it changes nothing."""
    h, w, bucket = 16, 16, 320
    pixels = pixels_for(h, w, seed=11)
    ref = reference(mid_tower, pixels, h, w)
    bf16 = copy.deepcopy(mid_tower).to(torch.bfloat16)
    with torch.no_grad():
        plain = bucketed_vision_forward(bf16, pixels, [1, h, w], bucket)
        fp32_sm = bucketed_vision_forward(bf16, pixels, [1, h, w], bucket, fp32_softmax=True)
        fp32_model = bucketed_vision_forward(mid_tower, pixels, [1, h, w], bucket, fp32_softmax=True)
        fp32_plain = bucketed_vision_forward(mid_tower, pixels, [1, h, w], bucket)
    assert fp32_sm.dtype == torch.bfloat16
    assert not torch.equal(plain, fp32_sm)
    assert rel_err(plain, ref) < bf16_tolerance(MID["depth"])
    assert rel_err(fp32_sm, ref) < bf16_tolerance(MID["depth"])
    assert torch.equal(fp32_model, fp32_plain)


def test_mlp_padding_is_exact(mid_tower) -> None:
    """Padding the MLP width for tensor-core alignment keeps transformers' own forward and ours unchanged."""
    from gaudi_vl.kernels import pad_mlp_for_tensor_cores

    h, w = 16, 24
    pixels = pixels_for(h, w, seed=5)
    ref = reference(mid_tower, pixels, h, w)
    padded = pad_mlp_for_tensor_cores(copy.deepcopy(mid_tower), multiple=64)
    assert padded.blocks[0].mlp.gate_proj.weight.shape[0] % 64 == 0
    assert padded.blocks[0].mlp.down_proj.weight.shape[1] % 64 == 0
    # Zero-padded MLP rows/columns add exact zeros; only the blocking of its sums may change (BLAS picks
    # it from the shape): the reordering bound of the padded width, not one machine's 1e-6 (AMD: 1.36e-6).
    padded_width = padded.blocks[0].mlp.gate_proj.weight.shape[0]
    assert rel_err(reference(padded, pixels, h, w), ref) < reorder_tolerance(padded_width, MID["depth"])
    with torch.no_grad():
        assert rel_err(bucketed_vision_forward(padded, pixels, [1, h, w], 512), ref) < FP32_TOL
