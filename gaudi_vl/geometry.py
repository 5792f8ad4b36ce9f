"""Image geometry of Qwen2.5-VL on HPU: patches, windows, the resize rule and its reachable range.

Pure arithmetic (standard library only). Every other module asks this one how big an image is in
patches; nothing re-derives these rules.

Facts reproduced here (see ../shared/reference/hpu_semantics.md):

* The vision tower cuts images into 14 x 14 pixel patches; 2 x 2 patches merge into one LLM token.
* Window attention works on 112 x 112 pixel windows = 8 x 8 = 64 patches. An image whose sides are
  multiples of 112 holds only whole windows, which is why Gaudi wants 112-aligned images and
  buckets that are multiples of 64 patches.
* ``smart_resize`` is transformers' rule (``transformers/models/qwen2_vl/image_processing_qwen2_vl.py``,
  ``smart_resize``): round each side to the factor, then scale down (floor, each side at least one
  factor) when over ``max_pixels`` or up (ceil) when under ``min_pixels``; aspect ratios over 200
  are refused. With ``factor=112`` it is the HPU alignment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from gaudi_vl.errors import GaudiVLError

PATCH_PX = 14
"""Side of one vision patch in pixels (``patch_size`` in the vision config)."""
MERGE_SIZE = 2
"""``spatial_merge_size``: 2 x 2 patches become one LLM token."""
WINDOW_PX = 112
"""Side of one attention window in pixels (``window_size`` in the vision config)."""
PIXELS_PER_PATCH = PATCH_PX * PATCH_PX
"""196: the divisor in the engine's ``VLLM_MULTIMODAL_BUCKETS`` unit (pixels / 196 = patches)."""
PATCHES_PER_WINDOW = (WINDOW_PX // PATCH_PX) ** 2
"""64: every bucket must be a multiple of this so that padding adds whole windows."""
PIXELS_PER_WINDOW = WINDOW_PX * WINDOW_PX
"""12544 pixels in one 112 x 112 window."""
MAX_ASPECT_RATIO = 200.0
"""transformers' smart_resize raises for ``max(h, w) / min(h, w)`` above this."""
HF_FACTOR = PATCH_PX * MERGE_SIZE
"""28: the factor stock transformers resizes to (GPU engines)."""
MAX_PIXELS = 2 * 89_478_485
"""178,956,970: the largest ``min_pixels`` / ``max_pixels`` gaudi-vl accepts (README "Limits").

Pillow refuses to open an image over ``2 * Image.MAX_IMAGE_PIXELS`` pixels (``DecompressionBombError``,
``PIL/Image.py`` ``_decompression_bomb_check``; 89,478,485 is its default ``MAX_IMAGE_PIXELS``) and the
engines load every image with Pillow (vllm/multimodal/media/image.py ``ImageMediaIO``), so no larger
image can reach the vision tower. The bound also keeps :func:`reachable_windows` (``O(sqrt(max_pixels))``
steps) under a few thousand steps."""
MAX_PATCHES = MAX_PIXELS // PIXELS_PER_PATCH
"""913,045: patches of a ``MAX_PIXELS`` image."""


def smart_resize(
    height: int,
    width: int,
    *,
    factor: int = HF_FACTOR,
    min_pixels: int = 56 * 56,
    max_pixels: int = 28 * 28 * 1280,
) -> tuple[int, int]:
    """Return ``(height, width)`` resized by transformers' rule for the given factor.

    Why a copy: Gaudi needs the same rule with ``factor=112``, and stock transformers only offers 28
    (a patched fork was the workaround). Results are identical to
    ``transformers.models.qwen2_vl.image_processing_qwen2_vl.smart_resize`` for any factor; the test
    suite checks it on thousands of random cases, Python's ``round`` (half to even) included.
    """
    if height <= 0 or width <= 0:
        raise GaudiVLError(
            f"image size {width}x{height} is empty", "width and height must be positive pixel counts"
        )
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        raise GaudiVLError(
            f"absolute aspect ratio must be smaller than {MAX_ASPECT_RATIO:g}, "
            f"got {max(height, width) / min(height, width)}",
            "crop or split the image; Qwen2.5-VL's processor refuses such images",
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def patches_of(height_px: int, width_px: int) -> int:
    """Vision-tower patches of a resized image: ``(h / 14) * (w / 14)``.

    This is the number the engine compares with its buckets (``pixel_values.shape[0]`` for one
    image, vllm_gaudi/extension/bucketing/vision.py ``pad_multimodal_data``).
    """
    if height_px % PATCH_PX or width_px % PATCH_PX:
        raise GaudiVLError(
            f"size {width_px}x{height_px} is not a multiple of {PATCH_PX} px",
            "resize it with smart_resize first",
        )
    return (height_px // PATCH_PX) * (width_px // PATCH_PX)


def llm_tokens_of(patches: int) -> int:
    """LLM tokens for an image of ``patches`` patches (2 x 2 merge)."""
    return patches // (MERGE_SIZE * MERGE_SIZE)


@dataclass(frozen=True)
class PixelRange:
    """The processor's pixel limits, and the widest aspect ratio the plan must cover.

    ``max_aspect_ratio`` defaults to transformers' own limit (200). Images wider than ``max_pixels``
    allows in one dimension get their short side clamped to one window and may then exceed
    ``max_pixels`` (transformers' rule, reproduced); a smaller ``max_aspect_ratio`` lets the plan
    ignore such panoramas.
    """

    min_pixels: int
    max_pixels: int
    max_aspect_ratio: float = MAX_ASPECT_RATIO

    def __post_init__(self) -> None:
        for name in ("min_pixels", "max_pixels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                flag = "--" + name.replace("_", "-")
                raise GaudiVLError(f"{name} must be an integer, got {value!r}", f"pass {flag} N")
        if self.min_pixels <= 0:
            raise GaudiVLError(
                f"min_pixels must be positive, got {self.min_pixels}",
                f"use e.g. --min-pixels {PIXELS_PER_WINDOW} (one 112 x 112 window)",
            )
        if self.max_pixels < PIXELS_PER_WINDOW:
            raise GaudiVLError(
                f"max_pixels {self.max_pixels} is below one 112 x 112 window ({PIXELS_PER_WINDOW} px)",
                f"use --max-pixels {PIXELS_PER_WINDOW} or more",
            )
        if self.max_pixels > MAX_PIXELS:
            raise GaudiVLError(
                f"max_pixels {self.max_pixels} is above the limit of {MAX_PIXELS} (Pillow's "
                "decompression-bomb threshold: the engine cannot open larger images)",
                f"use --max-pixels {MAX_PIXELS} or less",
            )
        if self.min_pixels > self.max_pixels:
            raise GaudiVLError(
                f"min_pixels {self.min_pixels} is larger than max_pixels {self.max_pixels}",
                "swap them or raise --max-pixels",
            )
        ratio = self.max_aspect_ratio
        is_number = isinstance(ratio, (int, float)) and not isinstance(ratio, bool)
        if not is_number or not 1.0 <= ratio <= MAX_ASPECT_RATIO:
            raise GaudiVLError(
                f"max aspect ratio must be between 1 and {MAX_ASPECT_RATIO:g}, got {self.max_aspect_ratio}",
                "pass e.g. --max-aspect 20",
            )

    def resize(self, height: int, width: int, factor: int = WINDOW_PX) -> tuple[int, int]:
        """``smart_resize`` of one image with these limits (112-aligned by default)."""
        return smart_resize(
            height, width, factor=factor, min_pixels=self.min_pixels, max_pixels=self.max_pixels
        )

    def aligned_patches(self, height: int, width: int) -> int:
        """Patches of an original ``height x width`` image after 112-alignment in this range."""
        return patches_of(*self.resize(height, width))


@dataclass(frozen=True)
class WindowRange:
    """Smallest and largest window count that 112-aligned resizing can produce for a range."""

    min_windows: int
    max_windows: int
    nominal_max_windows: int
    """The largest count whose area fits in ``max_pixels`` (what a user expects as 'the max')."""

    @property
    def min_patches(self) -> int:
        return self.min_windows * PATCHES_PER_WINDOW

    @property
    def max_patches(self) -> int:
        return self.max_windows * PATCHES_PER_WINDOW

    @property
    def nominal_max_patches(self) -> int:
        return self.nominal_max_windows * PATCHES_PER_WINDOW


@lru_cache(maxsize=64)
def reachable_windows(pixel_range: PixelRange, factor: int = WINDOW_PX) -> WindowRange:
    """Bounds on the window count of every image ``smart_resize(factor=112)`` can return.

    Why not simply ``max_pixels // 12544``: transformers clamps each side to at least one factor
    when scaling down, so a 150 x 30000 panorama with ``max_pixels`` = 1003520 becomes 112 x 14112
    = 126 windows, over the nominal 80. Scaling up (ceil) can also overshoot ``max_pixels`` when
    the range is narrow. The bounds come from the three branches of the rule, with the input's
    side ratio ``x / y`` (x * y fixed) limited by ``max_aspect_ratio``:

    * round only: ``min_pixels <= area <= max_pixels``;
    * scale down: ``max(1, floor(x)) * max(1, floor(y))`` with ``x * y = max_pixels / factor^2``;
    * scale up: ``ceil(x) * ceil(y)`` with ``x * y = min_pixels / factor^2``.

    Each branch is enumerated over the integer part of ``x``; the result is a tight superset of
    what real inputs reach (the property tests check it against ``smart_resize`` itself).

    Cost: about ``sqrt(pixels * max_aspect_ratio) / factor`` steps per branch, at most 1,689 each at
    ``MAX_PIXELS`` (``PixelRange`` refuses more; 29 digits used to hang), and cached per range because
    the planner, the optimizer and the report all ask for it.
    """
    area = factor * factor
    ratio = pixel_range.max_aspect_ratio
    lows: list[int] = []
    highs: list[int] = []

    a_lo = max(1, math.ceil(pixel_range.min_pixels / area))
    a_hi = pixel_range.max_pixels // area
    if a_lo <= a_hi:
        lows.append(a_lo)
        highs.append(a_hi)

    big = pixel_range.max_pixels / area
    x_min, x_max = math.sqrt(big / ratio), math.sqrt(big * ratio)
    for p in range(math.floor(x_min), math.floor(x_max) + 1):
        x_lo, x_hi = max(float(p), x_min), min(float(p + 1), x_max)
        if x_lo > x_hi:
            continue
        side = max(1, p)
        highs.append(side * max(1, math.floor(big / x_lo)))
        lows.append(side * max(1, math.floor(big / x_hi)))

    small = pixel_range.min_pixels / area
    x_min, x_max = math.sqrt(small / ratio), math.sqrt(small * ratio)
    for q in range(max(1, math.ceil(x_min)), math.ceil(x_max) + 1):
        x_lo, x_hi = max(float(q - 1), x_min), min(float(q), x_max)
        if x_lo > x_hi or x_lo <= 0.0:
            continue
        highs.append(q * math.ceil(small / x_lo))
        lows.append(q * math.ceil(small / x_hi))

    return WindowRange(
        min_windows=min(lows),
        max_windows=max(highs),
        nominal_max_windows=max(1, a_hi),
    )
