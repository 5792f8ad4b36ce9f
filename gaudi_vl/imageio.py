"""Edge: open untrusted image files with Pillow safely, and read their sizes from the header only.

Why a module of its own: every image gaudi-vl reads (``align``, ``plan --workload`` folders, JSONL
file paths and data URLs) comes from users, and Pillow's plain ``Image.open`` tries every format
plug-in it has. One of them, ``EpsImagePlugin``, hands the file to Ghostscript (an interpreter of
a whole programming language, with a long CVE history) as soon as the pixels are loaded. So:

* **An explicit list of formats** (:data:`ALLOWED_FORMATS`: what Qwen2.5-VL users send and vLLM's
  ``ImageMediaIO`` opens in practice) is passed to ``Image.open(..., formats=...)``; anything else
  is "not an image gaudi-vl reads".
* **PostScript is refused by content**, whatever the file is called (``%!PS`` or the DOS EPS
  binary header ``C5 D0 D3 C6``), with a one-line reason (:class:`RefusedImage`).
* **Sizes come from the header**: ``Image.open`` is lazy (it parses the header, no pixel is
  decoded). The EXIF orientation is read from the header as well, except that Pillow's
  ``PngImageFile.getexif`` DECODES THE WHOLE IMAGE to look for an ``eXIf`` chunk after the pixel
  data (Pillow 13, ``PngImagePlugin.py``: ``if "exif" not in self.info: self.load()``): for a
  PNG only an ``eXIf`` chunk before the pixel data (the PNG 1.5 extension's recommended place,
  already in ``info``) is read. That one call cost 0.8 s per large PNG (issue 19).
* :class:`HeaderCache`: one header read per file, keyed by path, device, inode, size and
  modification time, so 100,000 requests naming one image read it once.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage

ALLOWED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "PPM")
"""Pillow format names gaudi-vl opens (``JPEG`` covers MPO, multi-picture JPEG); never ``EPS``."""
EXIF_ORIENTATION_TAG = 0x0112
POSTSCRIPT_MAGIC: tuple[bytes, ...] = (b"%!PS", b"\xc5\xd0\xd3\xc6")
"""PostScript / EPS text and the DOS EPS binary header (Pillow's ``EpsImagePlugin._accept``)."""
SNIFF_BYTES = 4


class RefusedImage(ValueError):
    """Content gaudi-vl will not hand to an image decoder (PostScript: Ghostscript)."""


def check_not_postscript(head: bytes) -> None:
    """Raise :class:`RefusedImage` when the first bytes are PostScript or EPS."""
    if head.startswith(POSTSCRIPT_MAGIC):
        raise RefusedImage("PostScript/EPS content is refused (gaudi-vl never runs Ghostscript)")


@contextlib.contextmanager
def open_image(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[PILImage.Image]:
    """``Image.open`` limited to :data:`ALLOWED_FORMATS`, PostScript refused by content.

    Raises :class:`RefusedImage`, ``PIL.UnidentifiedImageError`` (not an allowed format) or
    ``OSError`` as Pillow does. Closes the file on exit; the image stays (``load()`` it inside).
    Decompression-bomb warnings are silenced (callers check the size themselves); the error above
    twice the limit stays.
    """
    from PIL import Image

    with contextlib.ExitStack() as stack:
        if isinstance(source, (str, os.PathLike)):
            fp: IO[bytes] = stack.enter_context(open(source, "rb"))  # noqa: SIM115 - closed by the stack
        else:
            fp = source
        start = fp.tell()
        check_not_postscript(fp.read(SNIFF_BYTES))
        fp.seek(start)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=ALLOWED_FORMATS)
        # Only the file is closed on exit, not the image: pixels loaded inside stay usable after
        # it (Image.close would drop them, and a copy would double the memory of a large image).
        yield im


def orientation(im: PILImage.Image) -> int:
    """The EXIF orientation (1..8; 1 when absent or unreadable), from the header only."""
    if im.format == "PNG" and "exif" not in im.info:
        return 1  # PngImageFile.getexif would decode every pixel to look after the image data
    try:
        return int(im.getexif().get(EXIF_ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the size
        return 1


def header_size(
    source: str | os.PathLike[str] | IO[bytes], apply_exif: bool = False
) -> tuple[int, int, bool]:
    """``(width, height, rotated)`` from the header only: no pixel is decoded.

    ``rotated``: the EXIF orientation is 5-8 (a quarter turn); ``apply_exif`` then swaps the sides.
    """
    with open_image(source) as im:
        width, height = im.size
        # Pillow turns a TIFF upright itself: its size at open is already the turned one and load()
        # transposes the pixels (Pillow 13 TiffImagePlugin ``_setup``: ``self._size = ysize, xsize``
        # for orientations 5-8; ``load_end``: ``ImageOps.exif_transpose(self, in_place=True)``), so
        # whoever loads it (vLLM included) sees the upright size: nothing is left to turn.
        turned_by_pillow = im.format == "TIFF"
        turn = not turned_by_pillow and orientation(im) in (5, 6, 7, 8)
    if turn and apply_exif:
        width, height = height, width
    return width, height, turn


@dataclass
class HeaderCache:
    """:func:`header_size` per file, read once per (path, device, inode, size, mtime).

    A changed file (new size or modification time) is read again. Failures are cached too (as
    their message), so a broken image named 100,000 times costs one read.
    """

    apply_exif: bool = False
    _sizes: dict[tuple[object, ...], tuple[int, int, bool] | str] = field(default_factory=dict)

    def size(self, path: str | os.PathLike[str], st: os.stat_result) -> tuple[int, int, bool]:
        """The header size of ``path`` whose ``os.stat`` is ``st``; ``ValueError`` when unreadable."""
        key = (os.fspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        found = self._sizes.get(key)
        if found is None:
            try:
                found = header_size(path, self.apply_exif)
            except RefusedImage as exc:
                found = str(exc)
            except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files
                found = f"not a readable image ({type(exc).__name__})"
            self._sizes[key] = found
        if isinstance(found, str):
            raise ValueError(f"{os.fspath(path)}: {found}")
        return found
