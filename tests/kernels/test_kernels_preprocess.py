"""Device-side preprocessing against transformers' own Qwen2-VL image processors (CPU).

The torchvision ("fast") processor and the PIL/NumPy one are both references; images are aligned and
inside the processor's pixel range, so neither resizes (asserted through the grids they return).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("torchvision")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD  # noqa: E402
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor  # noqa: E402

from gaudi_vl.kernels import QWEN2_VL_MEAN, QWEN2_VL_STD, preprocess  # noqa: E402

SIZE = {"shortest_edge": 112 * 112, "longest_edge": 2048 * 28 * 28}
PIXEL_ATOL = 2 * 3 * (torch.finfo(torch.float32).eps / 2) * (1 + max(QWEN2_VL_MEAN)) / min(QWEN2_VL_STD)
"""Two fp32 evaluations of ``(x / 255 - mean) / std``: 3 rounded operations each, every intermediate at
most ``(1 + max(mean)) / min(std)`` in magnitude, so they differ by at most ``2 * 3 * u * that``
(about 1.0e-6), in whatever order each processor does them."""


def _images(sizes: list[tuple[int, int]], seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (h, w, 3), dtype=torch.uint8, generator=gen) for h, w in sizes]


def _slow_processor():
    try:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    except ImportError:
        return None
    return Qwen2VLImageProcessorPil(size=SIZE)


def test_constants_are_the_processors() -> None:
    assert tuple(QWEN2_VL_MEAN) == tuple(OPENAI_CLIP_MEAN)
    assert tuple(QWEN2_VL_STD) == tuple(OPENAI_CLIP_STD)
    processor = Qwen2VLImageProcessor()
    assert tuple(processor.image_mean) == tuple(QWEN2_VL_MEAN)
    assert tuple(processor.image_std) == tuple(QWEN2_VL_STD)


@pytest.mark.parametrize("sizes", [[(112, 112)], [(224, 336)], [(336, 224), (112, 448), (224, 224)]])
def test_matches_fast_processor(sizes: list[tuple[int, int]]) -> None:
    images = _images(sizes, seed=len(sizes))
    ref = Qwen2VLImageProcessor(size=SIZE)(images=[i.permute(2, 0, 1) for i in images], return_tensors="pt")
    ours = preprocess(images)
    assert torch.equal(ours.image_grid_thw, ref["image_grid_thw"])
    assert [tuple(g[1:]) for g in ref["image_grid_thw"].tolist()] == [(h // 14, w // 14) for h, w in sizes]
    torch.testing.assert_close(ours.pixel_values, ref["pixel_values"], rtol=0, atol=PIXEL_ATOL)


def test_matches_slow_processor() -> None:
    slow = _slow_processor()
    if slow is None:
        pytest.skip("this transformers has no PIL/NumPy Qwen2-VL image processor")
    images = _images([(224, 112), (112, 336)], seed=5)
    ref = slow(images=[i.numpy() for i in images], return_tensors="pt")
    ours = preprocess(images)
    assert torch.equal(ours.image_grid_thw, ref["image_grid_thw"])
    torch.testing.assert_close(ours.pixel_values, ref["pixel_values"].float(), rtol=0, atol=PIXEL_ATOL)


@settings(max_examples=15, deadline=None)
@given(
    hw=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    channels_first=st.booleans(),
    batched=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_layouts_agree_with_fast_processor(
    hw: tuple[int, int], channels_first: bool, batched: bool, seed: int
):
    """Invariant: HWC or CHW, one image or a batch, the rows are the processor's."""
    h, w = 112 * hw[0], 112 * hw[1]
    images = _images([(h, w)] * (2 if batched else 1), seed)
    chw = [i.permute(2, 0, 1) for i in images]
    ref = Qwen2VLImageProcessor(size=SIZE)(images=chw, return_tensors="pt")
    given_images = chw if channels_first else images
    ours = preprocess(torch.stack(given_images) if batched else given_images)
    assert torch.equal(ours.image_grid_thw, ref["image_grid_thw"])
    torch.testing.assert_close(ours.pixel_values, ref["pixel_values"], rtol=0, atol=PIXEL_ATOL)


def test_bf16_output_is_the_rounded_fp32_output() -> None:
    images = _images([(224, 224)], seed=9)
    assert torch.equal(
        preprocess(images, dtype=torch.bfloat16).pixel_values, preprocess(images).pixel_values.bfloat16()
    )


def test_feeds_the_vision_tower(tiny_tower) -> None:
    """End to end on CPU: our pixels through the bucketed tower equal the processor's through transformers."""
    from kernel_towers import PIXEL_COLUMNS, TINY, rel_err, reorder_tolerance

    from gaudi_vl.kernels import bucketed_vision_forward

    images = _images([(224, 336)], seed=3)
    ref = Qwen2VLImageProcessor(size=SIZE)(images=[images[0].permute(2, 0, 1)], return_tensors="pt")
    ours = preprocess(images)
    with torch.no_grad():
        expected = tiny_tower(ref["pixel_values"], grid_thw=ref["image_grid_thw"]).pooler_output
        got = bucketed_vision_forward(tiny_tower, ours.pixel_values, ours.image_grid_thw, 512)
    assert rel_err(got, expected) < reorder_tolerance(PIXEL_COLUMNS, TINY["depth"])


@pytest.mark.parametrize("shape", [(100, 112, 3), (112, 126, 3), (112, 112, 4), (2, 112, 112)])
def test_refuses_unaligned_or_odd_images(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        preprocess(torch.zeros(shape, dtype=torch.uint8))
