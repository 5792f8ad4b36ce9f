"""Frame plan of a video for Qwen2.5-VL: how many frames, which ones, at what size, how many patches.

Why: a video costs ``frames / 2 * grid_h * grid_w`` vision patches, and on Gaudi every frame must
be 112-aligned like an image, so the planner needs the numbers before any video is decoded. This
module is pure arithmetic (no I/O, no torch); it reproduces the rules of qwen-vl-utils, the
sampling helper that Qwen2.5-VL's model card uses (QwenLM/Qwen2.5-VL,
``qwen-vl-utils/src/qwen_vl_utils/vision_process.py``: ``smart_nframes``, ``fetch_video`` and the
``_read_video_*`` readers; read at a fork, gzpeng1984/Qwen2.5-VL@1a39953):

* Frame count (``smart_nframes``): either ``nframes`` (rounded to the frame factor 2) or
  ``total_frames / video_fps * fps`` (``fps`` default 2.0) clamped to
  ``[ceil2(min_frames=4), floor2(max_frames=min(768, total_frames))]`` and to ``total_frames``,
  then floored to a multiple of 2; the result must lie in ``[2, total_frames]``.
* Which frames: ``linspace(0, total_frames - 1, nframes)`` rounded half to even (``torch.round``);
  the sampled fps is ``nframes / total_frames * video_fps``.
* Frame size: ``smart_resize`` with ``min_pixels`` (default ``VIDEO_MIN_PIXELS`` = 128 * 28 * 28)
  and a per-frame ``max_pixels = max(min(VIDEO_MAX_PIXELS, total_pixels / nframes * 2),
  int(min_pixels * 1.05))`` (``VIDEO_MAX_PIXELS`` = 768 * 28 * 28, ``total_pixels`` default
  ``VIDEO_TOTAL_PIXELS`` = 128000 * 28 * 28 * 0.9, upstream overridable by its environment
  variable ``VIDEO_MAX_PIXELS``; here it is a parameter). A caller's ``max_pixels`` can only lower
  that limit, as upstream.
* Patches: frames are grouped by the temporal patch size 2, so ``grid_t = nframes / 2`` and the
  video costs ``grid_t * grid_h * grid_w`` patches (``/ 4`` LLM tokens after the 2 x 2 merge).

Differences, on purpose: the factor is 112 by default (HPU; pass 28 for the stock GPU rule) and the
resize is transformers' ``smart_resize`` from :mod:`gaudi_vl.geometry` (one rule, one place).
qwen-vl-utils' own copy first clamps each rounded side to at least one factor, which can only
differ for a frame side under ``factor / 2`` pixels. The frame indices use float64 ``linspace``
where upstream uses torch's float32 one; they can differ only where a value lands within float32
error of ``k + 0.5``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import MERGE_SIZE, PATCH_PX, WINDOW_PX, smart_resize

__all__ = [
    "FPS",
    "FPS_MAX_FRAMES",
    "FPS_MIN_FRAMES",
    "FRAME_FACTOR",
    "TEMPORAL_PATCH_SIZE",
    "VIDEO_MAX_PIXELS",
    "VIDEO_MIN_PIXELS",
    "VIDEO_TOTAL_PIXELS",
    "VideoPlan",
    "frame_indices",
    "frame_max_pixels",
    "plan_video",
    "smart_nframes",
]

FPS = 2.0
"""Default sampling rate in frames per second."""
FRAME_FACTOR = 2
"""Frame counts are multiples of this (the temporal patch size)."""
FPS_MIN_FRAMES = 4
FPS_MAX_FRAMES = 768
VIDEO_MIN_PIXELS = 128 * 28 * 28
VIDEO_MAX_PIXELS = 768 * 28 * 28
VIDEO_TOTAL_PIXELS = int(128000 * 28 * 28 * 0.9)
"""Pixel budget of all frames of one video (upstream: 128k tokens for the engine, 90% of it)."""
TEMPORAL_PATCH_SIZE = 2
"""Consecutive frames merged into one temporal patch by the vision tower."""


def _round_by(x: float, factor: int) -> int:
    return round(x / factor) * factor


def _ceil_by(x: float, factor: int) -> int:
    return math.ceil(x / factor) * factor


def _floor_by(x: float, factor: int) -> int:
    return math.floor(x / factor) * factor


def _positive(name: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise GaudiVLError(f"{name} must be a positive number, got {value!r}", f"pass a positive {name}")


def smart_nframes(
    total_frames: int,
    video_fps: float,
    *,
    fps: float | None = None,
    nframes: int | None = None,
    min_frames: int | None = None,
    max_frames: int | None = None,
) -> int:
    """Frames fed to the model for a video of ``total_frames`` at ``video_fps`` (module docstring).

    ``nframes`` and ``fps`` exclude each other; ``min_frames`` / ``max_frames`` apply with ``fps``.
    """
    _positive("total_frames", total_frames)
    _positive("video_fps", video_fps)
    if nframes is not None and fps is not None:
        raise GaudiVLError("give either nframes or fps, not both", "drop one of them")
    if nframes is not None:
        n = _round_by(nframes, FRAME_FACTOR)
    else:
        rate = FPS if fps is None else fps
        _positive("fps", rate)
        lo = _ceil_by(FPS_MIN_FRAMES if min_frames is None else min_frames, FRAME_FACTOR)
        hi = _floor_by(min(FPS_MAX_FRAMES, total_frames) if max_frames is None else max_frames, FRAME_FACTOR)
        wanted = total_frames / video_fps * rate
        n = _floor_by(min(min(max(wanted, lo), hi), total_frames), FRAME_FACTOR)
    if not FRAME_FACTOR <= n <= total_frames:
        raise GaudiVLError(
            f"the video would be sampled to {n} frames, outside [{FRAME_FACTOR}, {total_frames}]",
            "the video needs at least 2 frames; check nframes / min_frames / max_frames",
        )
    return int(n)


def frame_indices(total_frames: int, nframes: int) -> tuple[int, ...]:
    """Indices of the sampled frames: ``linspace(0, total_frames - 1, nframes)``, rounded half to even."""
    idx = np.rint(np.linspace(0.0, float(total_frames - 1), nframes))
    return tuple(int(i) for i in idx)


def frame_max_pixels(
    nframes: int,
    *,
    min_pixels: int = VIDEO_MIN_PIXELS,
    total_pixels: float = VIDEO_TOTAL_PIXELS,
    max_pixels: float | None = None,
) -> float:
    """Per-frame pixel ceiling: the video's budget spread over its frames, within the video limits."""
    limit = max(min(VIDEO_MAX_PIXELS, total_pixels / nframes * FRAME_FACTOR), int(min_pixels * 1.05))
    return limit if max_pixels is None else min(max_pixels, limit)


@dataclass(frozen=True)
class VideoPlan:
    """What the model sees of one video."""

    width: int
    height: int
    video_fps: float
    total_frames: int
    nframes: int
    frame_indices: tuple[int, ...]
    timestamps_s: tuple[float, ...]
    """Time of each sampled frame: ``index / video_fps``."""
    sample_fps: float
    factor: int
    min_pixels: int
    max_pixels: float
    """The per-frame ceiling actually used (:func:`frame_max_pixels`)."""
    frame_width: int
    frame_height: int

    @property
    def grid_t(self) -> int:
        return self.nframes // TEMPORAL_PATCH_SIZE

    @property
    def grid_h(self) -> int:
        return self.frame_height // PATCH_PX

    @property
    def grid_w(self) -> int:
        return self.frame_width // PATCH_PX

    @property
    def patches_per_frame_group(self) -> int:
        return self.grid_h * self.grid_w

    @property
    def patches(self) -> int:
        """Vision-tower patches of the whole video: ``grid_t * grid_h * grid_w``."""
        return self.grid_t * self.grid_h * self.grid_w

    @property
    def llm_tokens(self) -> int:
        return self.patches // (MERGE_SIZE * MERGE_SIZE)


def plan_video(
    width: int,
    height: int,
    duration_s: float,
    video_fps: float,
    *,
    fps: float | None = None,
    nframes: int | None = None,
    min_frames: int | None = None,
    max_frames: int | None = None,
    min_pixels: int = VIDEO_MIN_PIXELS,
    max_pixels: float | None = None,
    total_pixels: float = VIDEO_TOTAL_PIXELS,
    factor: int = WINDOW_PX,
    total_frames: int | None = None,
) -> VideoPlan:
    """Plan the sampling of a ``width x height`` video of ``duration_s`` seconds at ``video_fps``.

    ``total_frames`` defaults to ``round(duration_s * video_fps)`` (pass the container's count when
    known). ``factor`` is 112 for HPU, 28 for the stock rule. Other options as qwen-vl-utils.
    """
    for name, value in (("width", width), ("height", height), ("duration_s", duration_s)):
        _positive(name, value)
    _positive("video_fps", video_fps)
    _positive("min_pixels", min_pixels)
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int)
        or factor <= 0
        or factor % (PATCH_PX * MERGE_SIZE)
    ):
        raise GaudiVLError(f"factor must be a positive multiple of 28, got {factor}", "use 112 (HPU) or 28")
    frames = round(duration_s * video_fps) if total_frames is None else total_frames
    n = smart_nframes(
        frames, video_fps, fps=fps, nframes=nframes, min_frames=min_frames, max_frames=max_frames
    )
    idx = frame_indices(frames, n)
    per_frame = frame_max_pixels(n, min_pixels=min_pixels, total_pixels=total_pixels, max_pixels=max_pixels)
    fh, fw = smart_resize(
        height,
        width,
        factor=factor,
        min_pixels=min_pixels,
        max_pixels=per_frame,  # type: ignore[arg-type]
    )
    return VideoPlan(
        width=width,
        height=height,
        video_fps=float(video_fps),
        total_frames=frames,
        nframes=n,
        frame_indices=idx,
        timestamps_s=tuple(i / video_fps for i in idx),
        sample_fps=n / max(frames, 1e-6) * video_fps,
        factor=factor,
        min_pixels=min_pixels,
        max_pixels=per_frame,
        frame_width=fw,
        frame_height=fh,
    )
