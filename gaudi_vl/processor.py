"""A Qwen2-VL image processor that resizes to 112-pixel multiples: HPU alignment with no fork.

Why: Gaudi wants every image side to be a multiple of 112 (one 8 x 8-patch attention window), and
the stock processor aligns to ``patch_size * merge_size`` = 28. People installed a patched
transformers for that. Here the stock classes are subclassed and only the resize *target* changes:
``resize`` is called by the stock ``_preprocess`` with ``factor=patch_size * merge_size``
(transformers/models/qwen2_vl/image_processing_qwen2_vl.py, ``Qwen2VLImageProcessor._preprocess``)
and the override passes :attr:`align_factor` (112) instead; rescale, normalise, patchify and the
``image_grid_thw`` layout stay the stock code. ``get_number_of_image_patches`` (which vLLM calls to
count placeholder tokens without an image) is overridden with the same factor so the engine's token
count matches the pixels. On an image that is already 112-aligned and inside the pixel range the
result is bit-identical to the stock processor's.

Two classes, one per transformers 5 backend: :class:`GaudiQwen2VLImageProcessor` (torchvision, the
default ``Qwen2VLImageProcessor`` in 5.x) and :class:`GaudiQwen2VLImageProcessorPil`. Use either

* ``GaudiQwen2VLImageProcessor.from_pretrained(model_dir)`` (reads the checkpoint's
  ``preprocessor_config.json``: pixel range, mean/std), or
* :func:`register` once in the process, then set ``"image_processor_type":
  "GaudiQwen2VLImageProcessor"`` in the model's ``preprocessor_config.json`` (what
  ``save_pretrained`` of these classes writes): ``AutoImageProcessor`` / ``AutoProcessor`` and any
  engine that loads the processor through them then pick the aligned one.

The size rule is transformers' ``smart_resize`` with ``factor=112`` (``gaudi_vl.geometry``).
Importing this module imports transformers and torchvision.
"""

from __future__ import annotations

from typing import Any

from transformers import AutoImageProcessor, PretrainedConfig
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

from gaudi_vl.geometry import WINDOW_PX, smart_resize

__all__ = [
    "GaudiQwen2VLImageProcessor",
    "GaudiQwen2VLImageProcessorPil",
    "aligned_from",
    "register",
]


class _AlignMixin:
    """The one change: resize targets use :attr:`align_factor` instead of ``patch_size * merge_size``."""

    align_factor: int = WINDOW_PX
    """Both sides of every resized image are multiples of this (112: one attention window)."""

    def resize(self, *args: Any, factor: int | None = None, **kwargs: Any) -> Any:
        """Stock dynamic resize, with the target rounded to :attr:`align_factor`."""
        if factor is not None and self.align_factor % factor:
            raise ValueError(f"align_factor {self.align_factor} must be a multiple of {factor}")
        return super().resize(*args, factor=self.align_factor, **kwargs)  # type: ignore[misc]

    def get_number_of_image_patches(
        self, height: int, width: int, images_kwargs: dict[str, Any] | None = None
    ) -> int:
        """Patches of an image after 112-aligned resizing (the stock method, with our factor)."""
        images_kwargs = images_kwargs or {}
        size: Any = self.size  # type: ignore[attr-defined]
        min_pixels = images_kwargs.get("min_pixels", size["shortest_edge"])
        max_pixels = images_kwargs.get("max_pixels", size["longest_edge"])
        patch_size = images_kwargs.get("patch_size", self.patch_size)  # type: ignore[attr-defined]
        resized_h, resized_w = smart_resize(
            height, width, factor=self.align_factor, min_pixels=min_pixels, max_pixels=max_pixels
        )
        return (resized_h // patch_size) * (resized_w // patch_size)


class GaudiQwen2VLImageProcessor(_AlignMixin, Qwen2VLImageProcessor):
    """``Qwen2VLImageProcessor`` (torchvision backend) producing 112-aligned ``pixel_values``."""


class GaudiQwen2VLImageProcessorPil(_AlignMixin, Qwen2VLImageProcessorPil):
    """``Qwen2VLImageProcessorPil`` (PIL backend) producing 112-aligned ``pixel_values``."""


class GaudiAlignedQwen2VLConfig(PretrainedConfig):
    """Registration key only: ``AutoImageProcessor`` finds user classes through a config class.

    No checkpoint uses this model type; registering under it leaves the stock mapping of
    ``qwen2_vl`` / ``qwen2_5_vl`` untouched.
    """

    model_type = "gaudi_qwen2_vl_aligned"


def register() -> None:
    """Make ``AutoImageProcessor`` resolve ``"image_processor_type": "GaudiQwen2VLImageProcessor"``.

    Idempotent. Both backends are registered, so ``backend="pil"`` finds
    :class:`GaudiQwen2VLImageProcessorPil`.
    """
    AutoImageProcessor.register(
        GaudiAlignedQwen2VLConfig,
        image_processor_classes={
            "torchvision": GaudiQwen2VLImageProcessor,
            "pil": GaudiQwen2VLImageProcessorPil,
        },
        exist_ok=True,
    )


def aligned_from(stock: Qwen2VLImageProcessor | Qwen2VLImageProcessorPil) -> _AlignMixin:
    """The aligned twin of an already loaded stock processor (same settings, same backend).

    For a ``Qwen2_5_VLProcessor`` ``p``: ``p.image_processor = aligned_from(p.image_processor)``.
    """
    config = stock.to_dict()
    config.pop("image_processor_type", None)
    cls: type[_AlignMixin]
    cls = (
        GaudiQwen2VLImageProcessorPil
        if isinstance(stock, Qwen2VLImageProcessorPil)
        else GaudiQwen2VLImageProcessor
    )
    return cls(**config)
