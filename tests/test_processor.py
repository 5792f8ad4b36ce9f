"""gaudi_vl.processor against transformers' stock Qwen2-VL image processors (both backends)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from transformers import AutoImageProcessor  # noqa: E402
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil  # noqa: E402
from transformers.models.qwen2_vl.image_processing_qwen2_vl import (  # noqa: E402
    Qwen2VLImageProcessor,
    smart_resize,
)

from gaudi_vl.align import align_image  # noqa: E402
from gaudi_vl.processor import (  # noqa: E402
    GaudiQwen2VLImageProcessor,
    GaudiQwen2VLImageProcessorPil,
    aligned_from,
    register,
)

CKPT = {"min_pixels": 3136, "max_pixels": 12845056}
BACKENDS = [
    pytest.param(Qwen2VLImageProcessor, GaudiQwen2VLImageProcessor, id="torchvision"),
    pytest.param(Qwen2VLImageProcessorPil, GaudiQwen2VLImageProcessorPil, id="pil"),
]


def picture(width: int, height: int, seed: int) -> Image.Image:
    """Noise with a few drawn shapes (edges and flat areas, like a real picture)."""
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(4):
        x0, x1 = sorted(int(v) for v in rng.integers(0, width, 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, height, 2))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle([x0, y0, x1, y1], fill=color)
        else:
            draw.ellipse([x0, y0, x1, y1], outline=color, width=3)
    return im


@pytest.mark.parametrize(("stock_cls", "gaudi_cls"), BACKENDS)
@pytest.mark.parametrize("limits", [CKPT, {}], ids=["checkpoint-range", "stock-defaults"])
def test_identical_tensors_on_aligned_images(
    stock_cls: type, gaudi_cls: type, limits: dict[str, int]
) -> None:
    stock, gaudi = stock_cls(**limits), gaudi_cls(**limits)
    sizes = [(112, 112), (336, 224), (224, 448), (1120, 560), (112, 896)]
    images = [picture(w, h, seed=i) for i, (w, h) in enumerate(sizes)]
    for batch in ([images[0]], images[1:3], images):
        a = stock(images=batch, return_tensors="pt")
        b = gaudi(images=batch, return_tensors="pt")
        assert torch.equal(a["image_grid_thw"], b["image_grid_thw"])
        assert a["pixel_values"].dtype == b["pixel_values"].dtype
        assert torch.equal(a["pixel_values"], b["pixel_values"])
    for w, h in sizes:
        assert gaudi.get_number_of_image_patches(h, w) == stock.get_number_of_image_patches(h, w)


@pytest.mark.parametrize(("stock_cls", "gaudi_cls"), BACKENDS)
def test_other_sizes_become_112_aligned(stock_cls: type, gaudi_cls: type) -> None:
    rng = random.Random(11)
    sizes = [(1, 1), (27, 29), (113, 111), (500, 300), (57, 4000), (2000, 30)]
    sizes += [(rng.randint(20, 1400), rng.randint(20, 1400)) for _ in range(8)]
    gaudi = gaudi_cls(**CKPT)
    stock = stock_cls(**CKPT)
    images = [picture(w, h, seed=i) for i, (w, h) in enumerate(sizes)]
    out = gaudi(images=images, return_tensors="pt")
    grids = out["image_grid_thw"].tolist()
    assert len(grids) == len(sizes)
    for (w, h), (t, gh, gw) in zip(sizes, grids, strict=True):
        assert t == 1 and gh % 8 == 0 and gw % 8 == 0  # 112 px = 8 patches
        # transformers' own rule with factor 112 is the target
        assert (gh * 14, gw * 14) == smart_resize(h, w, factor=112, **CKPT)
        assert gaudi.get_number_of_image_patches(h, w) == gh * gw
    assert out["pixel_values"].shape == (sum(g * w for _, g, w in grids), 3 * 2 * 14 * 14)
    # the stock processor keeps its 28-grid, so at least one of these differs
    stock_grids = stock(images=images, return_tensors="pt")["image_grid_thw"].tolist()
    assert any(s != g for s, g in zip(stock_grids, grids, strict=True))


def test_pre_aligned_image_gives_the_same_grid_in_the_stock_processor() -> None:
    """align_image (pixels) and the processor (tensors) agree on the target size."""
    stock, gaudi = Qwen2VLImageProcessor(**CKPT), GaudiQwen2VLImageProcessor(**CKPT)
    for i, (w, h) in enumerate([(500, 300), (77, 123), (1920, 1080), (3000, 40)]):
        im = picture(w, h, seed=i)
        aligned = align_image(im, **CKPT)
        via_stock = stock(images=[aligned.image], return_tensors="pt")["image_grid_thw"].tolist()[0]
        via_gaudi = gaudi(images=[im], return_tensors="pt")["image_grid_thw"].tolist()[0]
        assert via_stock == via_gaudi == [1, aligned.grid_h, aligned.grid_w]


def test_settings_survive_save_and_load(tmp_path: Path) -> None:
    stock = Qwen2VLImageProcessor(min_pixels=12544, max_pixels=401408, image_mean=[0.5, 0.5, 0.5])
    stock.save_pretrained(tmp_path / "stock")
    gaudi = GaudiQwen2VLImageProcessor.from_pretrained(tmp_path / "stock")
    assert isinstance(gaudi, GaudiQwen2VLImageProcessor)
    assert gaudi.size["shortest_edge"] == 12544 and gaudi.size["longest_edge"] == 401408
    assert list(gaudi.image_mean) == [0.5, 0.5, 0.5]
    im = picture(900, 700, seed=3)
    (_, gh, gw) = gaudi(images=[im], return_tensors="pt")["image_grid_thw"].tolist()[0]
    assert (gh * 14, gw * 14) == smart_resize(700, 900, factor=112, min_pixels=12544, max_pixels=401408)


def test_auto_image_processor_finds_the_registered_classes(tmp_path: Path) -> None:
    register()
    register()  # idempotent
    GaudiQwen2VLImageProcessor(**CKPT).save_pretrained(tmp_path / "g")
    config = json.loads((tmp_path / "g" / "preprocessor_config.json").read_text())
    assert config["image_processor_type"] == "GaudiQwen2VLImageProcessor"
    loaded = AutoImageProcessor.from_pretrained(tmp_path / "g")
    assert type(loaded) is GaudiQwen2VLImageProcessor
    assert loaded.size["longest_edge"] == CKPT["max_pixels"]
    assert (
        type(AutoImageProcessor.from_pretrained(tmp_path / "g", backend="pil"))
        is GaudiQwen2VLImageProcessorPil
    )
    # stock configs keep loading the stock class
    Qwen2VLImageProcessor(**CKPT).save_pretrained(tmp_path / "s")
    assert type(AutoImageProcessor.from_pretrained(tmp_path / "s")) is Qwen2VLImageProcessor


def test_aligned_from_a_loaded_stock_processor() -> None:
    for stock in (Qwen2VLImageProcessor(min_pixels=12544), Qwen2VLImageProcessorPil(max_pixels=401408)):
        twin = aligned_from(stock)
        assert isinstance(twin, type(stock)) and type(twin) is not type(stock)
        assert twin.size == stock.size
        im = picture(333, 222, seed=5)
        grid = twin(images=[im], return_tensors="pt")["image_grid_thw"].tolist()[0]
        assert grid[1] % 8 == 0 and grid[2] % 8 == 0
