"""Align images to 112-pixel multiples for Qwen2.5-VL on Gaudi, and map boxes back and forth.

Why: on HPU every image side must be a multiple of 112 (one attention window = 8 x 8 patches of
14 px), and the engines' stock processors only align to 28. Running the same resize rule with
``factor=112`` *before* the image reaches the engine makes the stock processor a no-op resize
(an aligned image is already on its 28-grid and inside its pixel range), so no patched
transformers is needed. The model answers grounding boxes in the coordinates of the image it
saw; ``to_original`` maps them back to the user's pixels.

The size rule is transformers' ``smart_resize``
(``transformers/models/qwen2_vl/image_processing_qwen2_vl.py``), kept once in
:mod:`gaudi_vl.geometry` and re-exported here. Pixel work mirrors the processors:

* EXIF orientation is applied first (``PIL.ImageOps.exif_transpose``); every size and box here
  refers to the *upright* image. (vLLM itself does not transpose, see
  vllm/multimodal/media/image.py; aligning here fixes the orientation once for everybody.)
* Conversion to RGB: palette, ``1``, ``L``, ``CMYK`` (Pillow's plain conversion, ICC profiles are
  not applied), ``YCbCr`` go through ``Image.convert("RGB")``; 16/32-bit integer grey (``I;16*``,
  ``I``) is scaled from 0..65535 to 0..255 (``round(v * 255 / 65535)``, Pillow's own conversion
  would clip at 255); float grey (``F``) is clipped to 0..255; any alpha channel (``RGBA``,
  ``LA``, ``PA``, palette transparency) is composited over white, as qwen-vl-utils' ``to_rgb``
  does (QwenLM/Qwen2.5-VL, qwen-vl-utils/src/qwen_vl_utils/vision_process.py).
* Resampling is bicubic, like the Qwen2-VL image processor (``resample = BICUBIC``).

Pillow is imported lazily so that ``import gaudi_vl.align`` stays as light as the core.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import (
    MAX_ASPECT_RATIO,
    MAX_PIXELS,
    PATCH_PX,
    WINDOW_PX,
    PixelRange,
    patches_of,
    smart_resize,
)
from gaudi_vl.imageio import ALLOWED_FORMATS, RefusedImage, open_image, orientation

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MIN_PIXELS",
    "MAX_INPUT_PIXELS",
    "MAX_OUTPUT_PIXELS",
    "AlignTransform",
    "AlignedImage",
    "LoadedImage",
    "align_image",
    "load_image",
    "plan_alignment",
    "smart_resize",
    "to_rgb",
]

Mode = Literal["resize", "pad"]
MODES: tuple[str, ...] = ("resize", "pad")

DEFAULT_MIN_PIXELS = 3136
"""The Qwen2.5-VL checkpoints' ``min_pixels`` (same value as ``gaudi_vl.models.ProcessorSpec``)."""
DEFAULT_MAX_PIXELS = 12845056
"""The Qwen2.5-VL checkpoints' ``max_pixels`` (same value as ``gaudi_vl.models.ProcessorSpec``)."""

MAX_INPUT_PIXELS = MAX_PIXELS
"""Largest decoded image accepted (about 179 MP): Pillow's own decompression-bomb error threshold
(``2 * Image.MAX_IMAGE_PIXELS`` at its default, ``gaudi_vl.geometry.MAX_PIXELS``), fixed here so a
changed Pillow global does not change what this tool accepts. The size is checked from the header,
before any pixel is decoded."""
MAX_OUTPUT_PIXELS = MAX_PIXELS
"""Largest aligned image written (the same 179 MP: the engine could not open a larger one). The
aligned size can exceed ``max_pixels`` (a 200:1 image keeps a 112-px short side, ``min_pixels``
rounds up), so it is checked by itself, before any pixel is allocated: at most about 537 MB of RGB
per image. ``--min-pixels 10000000000`` used to try to allocate 30 GB."""

PAD_FILL: tuple[int, int, int] = (0, 0, 0)
"""Colour of the letterbox bars in ``pad`` mode."""

_GREY16_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

def _transform_specs() -> dict[str, Any]:
    from gaudi_vl.settings import Spec

    def whole(low: int, high: int) -> Spec:
        return Spec(flag="a sidecar value", help="", kind=int, minimum=low, maximum=high)

    side, offset = whole(1, MAX_PIXELS), whole(0, MAX_PIXELS)
    return {
        "mode": Spec(flag="a sidecar value", help="", kind=str, choices=MODES),
        "factor": whole(1, WINDOW_PX),
        "min_pixels": whole(1, MAX_PIXELS),
        "max_pixels": whole(1, MAX_PIXELS),
        "original_width": side, "original_height": side,
        "aligned_width": side, "aligned_height": side,
        "content_width": side, "content_height": side,
        "offset_x": offset, "offset_y": offset,
    }


TRANSFORM_SPECS: dict[str, Any] = _transform_specs()
"""Bounds of a ``transforms.json`` record (``gaudi_vl.settings.Spec``): sides and pixel counts up to
the pixel limit, offsets from 0, the factor up to 112."""

BoxesT = TypeVar("BoxesT", list[float], list[list[float]], np.ndarray)


@dataclass(frozen=True)
class AlignTransform:
    """The geometry of one alignment: what was resized where, without the pixels.

    The aligned canvas is ``aligned_width x aligned_height`` = ``smart_resize(factor)`` of the
    upright original. The original image occupies the *content* rectangle of the canvas,
    ``content_width x content_height`` at ``(offset_x, offset_y)``:

    * ``resize``: the content is the whole canvas (offset 0); each axis is scaled on its own,
      so the aspect ratio changes slightly (as in the stock processor).
    * ``pad``: the original is scaled by ``s = min(aligned_w / w, aligned_h / h)`` (aspect ratio
      kept), each content side is ``round(side * s)`` clamped to ``[1, canvas side]``, and the
      content is centred (offset = ``(canvas - content) // 2``, extra pixel right/bottom); the
      bars are :data:`PAD_FILL`. The canvas is the same ``smart_resize`` size as in ``resize``
      mode, so it obeys the same pixel range and 112-alignment.

    Boxes map by ``aligned = original * (content / original) + offset`` per axis, the exact
    inverse in :meth:`to_original`; box corners are continuous pixel coordinates (the image's
    right edge is ``x = width``).
    """

    mode: str
    factor: int
    min_pixels: int
    max_pixels: int
    original_width: int
    original_height: int
    aligned_width: int
    aligned_height: int
    content_width: int
    content_height: int
    offset_x: int
    offset_y: int

    @property
    def scale_x(self) -> float:
        return self.content_width / self.original_width

    @property
    def scale_y(self) -> float:
        return self.content_height / self.original_height

    @property
    def grid_h(self) -> int:
        """Rows of 14-px patches of the aligned image."""
        return self.aligned_height // PATCH_PX

    @property
    def grid_w(self) -> int:
        """Columns of 14-px patches of the aligned image."""
        return self.aligned_width // PATCH_PX

    @property
    def patches(self) -> int:
        """Vision-tower patches of the aligned image (what the engine compares with its buckets)."""
        return patches_of(self.aligned_height, self.aligned_width)

    def to_aligned(self, boxes: BoxesT, *, clip: bool = False) -> BoxesT:
        """Map ``[x1, y1, x2, y2]`` boxes from original (upright) pixels to aligned pixels.

        ``boxes`` is one box (4 numbers), a list of boxes, or a numpy array ``(N, 4)``/``(4,)``;
        the result has the same kind and shape (floats). ``clip`` clamps to the aligned canvas.
        """
        arr, rebuild = _as_boxes(boxes)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by _finite
            out = _finite(arr * self._scale + self._offset)
        if clip:
            out = _clip(out, self.aligned_width, self.aligned_height)
        return rebuild(out)

    def to_original(self, boxes: BoxesT, *, clip: bool = False) -> BoxesT:
        """Map boxes from aligned pixels (what the model answers in) to original upright pixels.

        ``clip`` clamps to the original image (useful in ``pad`` mode, where a box may reach into
        the letterbox bars).
        """
        arr, rebuild = _as_boxes(boxes)
        with np.errstate(over="ignore", invalid="ignore"):
            out = _finite((arr - self._offset) / self._scale)
        if clip:
            out = _clip(out, self.original_width, self.original_height)
        return rebuild(out)

    @property
    def _scale(self) -> np.ndarray:
        return np.array([self.scale_x, self.scale_y, self.scale_x, self.scale_y], dtype=np.float64)

    @property
    def _offset(self) -> np.ndarray:
        return np.array([self.offset_x, self.offset_y, self.offset_x, self.offset_y], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (the ``transforms.json`` entry of ``gaudi-vl align``)."""
        d = asdict(self)
        d.update(
            original_size=[self.original_width, self.original_height],
            aligned_size=[self.aligned_width, self.aligned_height],
            content_size=[self.content_width, self.content_height],
            offset=[self.offset_x, self.offset_y],
            scale=[self.scale_x, self.scale_y],
            grid=[self.grid_h, self.grid_w],
            patches=self.patches,
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "alignment record") -> AlignTransform:
        """Inverse of :meth:`to_dict` (extra keys ignored); a bad record is a ``GaudiVLError``.

        Strict, as a file from anywhere: every field a JSON integer (not ``true``, not ``1.0``,
        not ``1e308``) within :data:`TRANSFORM_SPECS` (checked by the settings' ``check_value``),
        and the geometry consistent (content plus offset inside the canvas), so no mapping can
        overflow or divide by zero.
        """
        from gaudi_vl.settings import check_value

        fix = "use the transforms.json that gaudi-vl align wrote"
        if not isinstance(d, dict):
            raise GaudiVLError(f"{where} is not an object", fix)
        values: dict[str, Any] = {}
        for name, spec in TRANSFORM_SPECS.items():
            if name not in d:
                raise GaudiVLError(f"{where} has no {name!r}", fix)
            values[name] = check_value(spec, d[name], f"{where}.{name}")
        t = cls(**values)
        for _axis, content, offset, canvas in (
            ("x", t.content_width, t.offset_x, t.aligned_width),
            ("y", t.content_height, t.offset_y, t.aligned_height),
        ):
            if content + offset > canvas:
                raise GaudiVLError(
                    f"{where}: content {content} at offset {offset} leaves the {canvas} px canvas", fix
                )
        return t


@dataclass(frozen=True)
class AlignedImage:
    """An aligned RGB image and its :class:`AlignTransform` (sizes, grid, box mapping)."""

    image: PILImage.Image
    transform: AlignTransform

    @property
    def mode(self) -> str:
        return self.transform.mode

    @property
    def original_size(self) -> tuple[int, int]:
        """``(width, height)`` of the upright original."""
        return self.transform.original_width, self.transform.original_height

    @property
    def aligned_size(self) -> tuple[int, int]:
        """``(width, height)`` of :attr:`image`, both multiples of the factor (112)."""
        return self.transform.aligned_width, self.transform.aligned_height

    @property
    def grid_h(self) -> int:
        return self.transform.grid_h

    @property
    def grid_w(self) -> int:
        return self.transform.grid_w

    @property
    def patches(self) -> int:
        return self.transform.patches

    def to_aligned(self, boxes: BoxesT, *, clip: bool = False) -> BoxesT:
        return self.transform.to_aligned(boxes, clip=clip)

    def to_original(self, boxes: BoxesT, *, clip: bool = False) -> BoxesT:
        return self.transform.to_original(boxes, clip=clip)


@dataclass(frozen=True)
class LoadedImage:
    """An image read from disk: upright RGB pixels plus what the file was."""

    image: PILImage.Image
    source_format: str | None
    """Pillow's format name of the file (``"JPEG"``, ``"PNG"``, ...)."""
    source_mode: str
    exif_rotated: bool


def _as_boxes(boxes: Any) -> tuple[np.ndarray, Any]:
    arr = np.asarray(boxes, dtype=np.float64)
    single = arr.ndim == 1
    if single:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise GaudiVLError(
            f"boxes must be [x1, y1, x2, y2] or a list of them, got shape {np.shape(boxes)}",
            "pass four numbers per box",
        )
    if not np.all(np.isfinite(arr)):
        raise GaudiVLError("box coordinates must be finite numbers", "remove NaN or infinite values")
    as_array = isinstance(boxes, np.ndarray)

    def rebuild(out: np.ndarray) -> Any:
        if as_array:
            return out[0] if single else out
        return out[0].tolist() if single else out.tolist()

    return arr, rebuild


def _finite(out: np.ndarray) -> np.ndarray:
    """Mapped boxes must stay finite numbers (a coordinate near 1e308 overflows when scaled up)."""
    if not np.all(np.isfinite(out)):
        raise GaudiVLError("a mapped box coordinate overflows", "pass pixel coordinates of the image")
    return out


def _clip(arr: np.ndarray, width: int, height: int) -> np.ndarray:
    hi = np.array([width, height, width, height], dtype=np.float64)
    return np.clip(arr, 0.0, hi)


def plan_alignment(
    width: int,
    height: int,
    *,
    min_pixels: int,
    max_pixels: int,
    mode: str = "resize",
    factor: int = WINDOW_PX,
) -> AlignTransform:
    """The :class:`AlignTransform` for an upright ``width x height`` image (no pixels needed).

    Raises ``GaudiVLError`` for empty sizes, aspect ratios over 200 (transformers refuses them)
    and bad pixel ranges.
    """
    if mode not in MODES:
        raise GaudiVLError(f"unknown mode {mode!r}", "use mode='resize' or mode='pad'")
    if isinstance(factor, bool) or not isinstance(factor, int) or factor <= 0 or factor % PATCH_PX:
        raise GaudiVLError(
            f"factor must be a positive multiple of {PATCH_PX}, got {factor!r}", "use 112 (HPU)"
        )
    PixelRange(min_pixels=min_pixels, max_pixels=max_pixels)  # validates the range
    if width <= 0 or height <= 0:
        raise GaudiVLError(f"image size {width}x{height} is empty", "the file has no pixels")
    ratio = max(width, height) / min(width, height)
    if ratio > MAX_ASPECT_RATIO:
        raise GaudiVLError(
            f"aspect ratio {ratio:.1f} of a {width}x{height} image is over {MAX_ASPECT_RATIO:g}",
            "crop or split the image; Qwen2.5-VL's processor refuses it",
        )
    ah, aw = smart_resize(height, width, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    if ah * aw > MAX_OUTPUT_PIXELS:
        raise GaudiVLError(
            f"the aligned image would be {aw}x{ah} = {aw * ah:,} pixels, over the {MAX_OUTPUT_PIXELS:,} "
            "pixel limit (the engine could not open it)",
            "lower --min-pixels / --max-pixels",
        )
    if mode == "resize":
        cw, ch, ox, oy = aw, ah, 0, 0
    else:
        s = min(aw / width, ah / height)
        cw = min(aw, max(1, round(width * s)))
        ch = min(ah, max(1, round(height * s)))
        ox, oy = (aw - cw) // 2, (ah - ch) // 2
    return AlignTransform(
        mode=mode,
        factor=factor,
        min_pixels=min_pixels,
        max_pixels=max_pixels,
        original_width=width,
        original_height=height,
        aligned_width=aw,
        aligned_height=ah,
        content_width=cw,
        content_height=ch,
        offset_x=ox,
        offset_y=oy,
    )


STRIP_PIXELS = 1 << 22
"""Pixels converted at once by :func:`to_rgb`: a large image is converted in horizontal strips
of about this many pixels (every rule is per pixel, so the result is the same), so the conversion
needs the source, the RGB result and one strip's temporaries (16-bit grey went through four
whole-image int64 arrays: 32 bytes a pixel, near 6 GB at the pixel limit)."""
EXIF_TRANSPOSE: dict[int, int] = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}
"""EXIF orientation -> ``Image.Transpose`` value, as ``PIL.ImageOps.exif_transpose`` maps them
(FLIP_LEFT_RIGHT=0, FLIP_TOP_BOTTOM=1, ROTATE_90=2, ROTATE_180=3, ROTATE_270=4, TRANSPOSE=5,
TRANSVERSE=6)."""


def to_rgb(image: PILImage.Image) -> PILImage.Image:
    """Convert any Pillow mode to 8-bit RGB by the rules in the module docstring, in strips of
    :data:`STRIP_PIXELS` (bounded temporaries; an RGB image is returned as it is)."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    width, height = image.size
    if width * height <= STRIP_PIXELS:
        return _to_rgb(image)
    out = Image.new("RGB", image.size)
    rows = max(1, STRIP_PIXELS // max(1, width))
    for top in range(0, height, rows):
        out.paste(_to_rgb(image.crop((0, top, width, min(height, top + rows)))), (0, top))
    return out


def _to_rgb(image: PILImage.Image) -> PILImage.Image:
    from PIL import Image

    mode = image.mode
    if mode == "RGB":
        return image
    if mode in _GREY16_MODES:
        grey = np.asarray(image).astype(np.int64)
        grey = (np.clip(grey, 0, 65535) * 255 + 32767) // 65535
        return Image.fromarray(grey.astype(np.uint8), mode="L").convert("RGB")
    if mode == "F":
        grey = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float64)), 0, 255)
        return Image.fromarray(np.rint(grey).astype(np.uint8), mode="L").convert("RGB")
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise GaudiVLError(f"cannot convert a {mode} image to RGB ({exc})", "save it as RGB first") from None


def _upright(image: PILImage.Image) -> tuple[PILImage.Image, bool]:
    from PIL import ImageOps

    try:
        orientation = int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - unreadable EXIF means no usable orientation
        orientation = 1
    if orientation in (0, 1):
        return image, False
    rotated = ImageOps.exif_transpose(image)
    return (rotated if rotated is not None else image), True


def _turn(rgb: PILImage.Image, orientation: int) -> PILImage.Image:
    """``rgb`` turned upright for an EXIF ``orientation`` (``ImageOps.exif_transpose``'s mapping)."""
    from PIL import Image

    method = EXIF_TRANSPOSE.get(orientation)
    if method is None:
        return rgb
    out = rgb.transpose(Image.Transpose(method))
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "Raw profile type exif"):  # turned: no orientation left
        out.info.pop(key, None)
    return out


def _check_input_size(width: int, height: int, max_input_pixels: int) -> None:
    if width * height > max_input_pixels:
        raise GaudiVLError(
            f"image of {width}x{height} = {width * height:,} pixels is over the {max_input_pixels:,} "
            "pixel limit (decompression bomb protection)",
            "downscale it first or raise max_input_pixels",
        )


def load_image(path: str | os.PathLike[str], *, max_input_pixels: int = MAX_INPUT_PIXELS) -> LoadedImage:
    """Read an image file into upright RGB; every problem is a ``GaudiVLError`` naming the file.

    The pixel count is checked from the header before decoding (decompression bombs); truncated
    or corrupt data fails at decode time instead of producing a half-grey image.
    """
    from PIL import Image, UnidentifiedImageError

    where = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise GaudiVLError(f"{where}: symbolic link loop", "fix or remove the link") from None
        if exc.errno == errno.ENOENT:
            raise GaudiVLError(f"{where}: no such file", "check the path") from None
        raise GaudiVLError(f"{where}: cannot read ({exc.strerror or exc})", "check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise GaudiVLError(f"{where}: is a directory", "pass image files")
    if not stat.S_ISREG(st.st_mode):
        # Opening a FIFO blocks until someone writes; a device never ends.
        raise GaudiVLError(f"{where}: not a regular file", "pass image files")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open_image(path) as im:
                width, height = im.size
                if width <= 0 or height <= 0:
                    raise GaudiVLError(f"{where}: image size {width}x{height} is empty", "it has no pixels")
                _check_input_size(width, height, max_input_pixels)
                fmt, mode = im.format, im.mode
                im.load()
                turn = orientation(im)
            # Converted first, then turned, and the source dropped in between: the peak is the
            # decoded source plus its RGB copy (README "Limits": bytes per input pixel).
            rgb = to_rgb(im)
            del im
            rotated = turn not in (0, 1)
            rgb = _turn(rgb, turn)
    except GaudiVLError:
        raise
    except RefusedImage as exc:
        raise GaudiVLError(f"{where}: {exc}", "convert it to PNG or JPEG first") from None
    except Image.DecompressionBombError as exc:
        raise GaudiVLError(f"{where}: {exc}", "downscale it first (decompression bomb protection)") from None
    except UnidentifiedImageError:
        raise GaudiVLError(
            f"{where}: not an image gaudi-vl reads", f"pass {', '.join(ALLOWED_FORMATS)} images only"
        ) from None
    except FileNotFoundError:
        raise GaudiVLError(f"{where}: no such file", "check the path") from None
    except IsADirectoryError:
        raise GaudiVLError(f"{where}: is a directory", "pass image files") from None
    except PermissionError:
        raise GaudiVLError(f"{where}: permission denied", "make the file readable") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
        raise GaudiVLError(
            f"{where}: corrupt or truncated image ({detail})", "re-export or skip the file"
        ) from None
    return LoadedImage(image=rgb, source_format=fmt, source_mode=mode, exif_rotated=rotated)


def align_image(
    image: PILImage.Image | str | os.PathLike[str],
    *,
    min_pixels: int,
    max_pixels: int,
    mode: Mode | str = "resize",
    factor: int = WINDOW_PX,
    max_input_pixels: int = MAX_INPUT_PIXELS,
) -> AlignedImage:
    """Resize (or letterbox) an image so both sides are multiples of ``factor`` (112 for HPU).

    ``image`` is a Pillow image or a file path. EXIF orientation is applied first and the image
    is converted to RGB (module docstring); sizes and boxes then refer to the upright image.
    The aligned size is ``smart_resize(h, w, factor, min_pixels, max_pixels)``; ``mode`` says how
    the pixels get there (see :class:`AlignTransform`). Raises ``GaudiVLError`` for images that
    are empty, over ``max_input_pixels``, or wider than 200:1.
    """
    from PIL import Image

    if isinstance(image, (str, Path, os.PathLike)):
        rgb = load_image(image, max_input_pixels=max_input_pixels).image
    else:
        w, h = image.size
        if w <= 0 or h <= 0:
            raise GaudiVLError(f"image size {w}x{h} is empty", "the image has no pixels")
        _check_input_size(w, h, max_input_pixels)
        rgb = to_rgb(_upright(image)[0])
    width, height = rgb.size
    t = plan_alignment(width, height, min_pixels=min_pixels, max_pixels=max_pixels, mode=mode, factor=factor)
    bicubic = Image.Resampling.BICUBIC
    if (t.content_width, t.content_height) == (width, height):
        content = rgb.copy()
    else:
        content = rgb.resize((t.content_width, t.content_height), bicubic)
    if t.mode == "resize":
        out = content
    else:
        out = Image.new("RGB", (t.aligned_width, t.aligned_height), PAD_FILL)
        out.paste(content, (t.offset_x, t.offset_y))
    assert out.size == (t.aligned_width, t.aligned_height)
    return AlignedImage(image=out, transform=t)
