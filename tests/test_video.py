"""gaudi_vl.video: qwen-vl-utils' frame rules, checked as properties and on hand-worked cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.video import (
    FPS_MAX_FRAMES,
    VIDEO_MAX_PIXELS,
    VIDEO_MIN_PIXELS,
    VIDEO_TOTAL_PIXELS,
    frame_max_pixels,
    plan_video,
    smart_nframes,
)


@given(
    w=st.integers(16, 4096),
    h=st.integers(16, 4096),
    duration=st.floats(0.05, 4000, allow_nan=False),
    video_fps=st.sampled_from([1.0, 5.0, 12.5, 23.976, 25.0, 29.97, 30.0, 60.0, 120.0]),
    fps=st.one_of(st.none(), st.floats(0.1, 8.0)),
    factor=st.sampled_from([112, 28]),
)
def test_fps_plan_properties(
    w: int, h: int, duration: float, video_fps: float, fps: float | None, factor: int
) -> None:
    if max(w, h) / min(w, h) > 200:
        return
    total = round(duration * video_fps)
    try:
        p = plan_video(w, h, duration, video_fps, fps=fps, factor=factor)
    except GaudiVLError:
        # only a video too short to give 2 frames is refused
        assert total < 2
        return
    assert p.total_frames == total
    n = p.nframes
    assert n % 2 == 0 and 2 <= n <= total
    assert n <= FPS_MAX_FRAMES
    # the count is the largest even number under the clamped target (floor to the frame factor)
    rate = 2.0 if fps is None else fps
    target = min(max(total / video_fps * rate, 4), math.floor(min(768, total) / 2) * 2, total)
    assert n <= target < n + 2
    # frames: first and last of the video, strictly increasing, timestamps in seconds
    idx = p.frame_indices
    assert len(idx) == n and idx[0] == 0 and idx[-1] == total - 1
    assert all(b > a for a, b in zip(idx, idx[1:], strict=False))
    assert all(math.isclose(t, i / video_fps) for t, i in zip(p.timestamps_s, idx, strict=True))
    assert math.isclose(p.sample_fps, n / total * video_fps)
    # frame size: aligned, within the per-frame budget by the resize rule's branches
    assert p.frame_width % factor == 0 and p.frame_height % factor == 0
    expected_max = max(min(VIDEO_MAX_PIXELS, VIDEO_TOTAL_PIXELS / n * 2), int(VIDEO_MIN_PIXELS * 1.05))
    assert math.isclose(p.max_pixels, expected_max)
    rounded = (round(h / factor) * factor) * (round(w / factor) * factor)
    area = p.frame_width * p.frame_height
    if rounded > p.max_pixels:
        assert area <= p.max_pixels or min(p.frame_width, p.frame_height) == factor
    elif rounded < p.min_pixels:
        assert area >= p.min_pixels
    # patches: frames in temporal pairs times the 14-px grid
    assert p.grid_t == n // 2
    assert p.patches == (n // 2) * (p.frame_height // 14) * (p.frame_width // 14)
    assert p.llm_tokens * 4 == p.patches


@given(total=st.integers(2, 5000), nframes=st.integers(1, 6000))
def test_nframes_option(total: int, nframes: int) -> None:
    expected = round(nframes / 2) * 2  # round half to even, as upstream's round_by_factor
    if not 2 <= expected <= total:
        with pytest.raises(GaudiVLError):
            smart_nframes(total, 30.0, nframes=nframes)
        return
    assert smart_nframes(total, 30.0, nframes=nframes) == expected


@pytest.mark.parametrize(
    ("duration", "video_fps", "kwargs", "expected"),
    [
        (10.0, 30.0, {}, 20),  # 300 frames at 2 fps -> 20
        (1.0, 30.0, {}, 4),  # 2 wanted, FPS_MIN_FRAMES 4
        (1000.0, 30.0, {}, 768),  # 2000 wanted, FPS_MAX_FRAMES 768
        (0.1, 20.0, {}, 2),  # a 2-frame video: max_frames floor(min(768, 2)) = 2
        (10.0, 30.0, {"fps": 1.0}, 10),
        (10.0, 30.0, {"fps": 0.3}, 4),  # 3 wanted -> min 4
        (10.0, 30.0, {"fps": 1.5}, 14),  # 15 wanted -> floored to 14
        (10.0, 30.0, {"min_frames": 7, "fps": 0.1}, 8),  # min_frames ceiled to 8
        (100.0, 30.0, {"max_frames": 51}, 50),  # max_frames floored to 50
        (10.0, 30.0, {"nframes": 5}, 4),  # round(2.5) = 2 -> 4
        (10.0, 30.0, {"nframes": 7}, 8),  # round(3.5) = 4 -> 8
    ],
)
def test_hand_worked_frame_counts(duration: float, video_fps: float, kwargs: dict, expected: int) -> None:
    assert plan_video(640, 480, duration, video_fps, **kwargs).nframes == expected


def test_hand_worked_sizes_and_timestamps() -> None:
    # 4 frames of a 2 s, 30 fps video: linspace(0, 59, 4) = 0, 19.67, 39.33, 59
    p = plan_video(640, 480, 2.0, 30.0)
    assert p.nframes == 4 and p.frame_indices == (0, 20, 39, 59)
    # 768 frames: 90316800 / 768 * 2 = 235200 pixels per frame (under VIDEO_MAX_PIXELS 602112)
    long = plan_video(1920, 1080, 1000.0, 30.0, factor=28)
    assert long.max_pixels == 235200
    hf = pytest.importorskip("transformers.models.qwen2_vl.image_processing_qwen2_vl")
    expected = hf.smart_resize(1080, 1920, factor=28, min_pixels=VIDEO_MIN_PIXELS, max_pixels=235200)
    assert (long.frame_height, long.frame_width) == expected
    aligned = plan_video(1920, 1080, 1000.0, 30.0)
    expected112 = hf.smart_resize(1080, 1920, factor=112, min_pixels=VIDEO_MIN_PIXELS, max_pixels=235200)
    assert (aligned.frame_height, aligned.frame_width) == expected112
    # few frames: the budget is capped at VIDEO_MAX_PIXELS; a caller's max_pixels only lowers it
    assert frame_max_pixels(4) == VIDEO_MAX_PIXELS
    assert frame_max_pixels(4, max_pixels=200_000) == 200_000
    assert frame_max_pixels(4, max_pixels=10**9) == VIDEO_MAX_PIXELS
    # a tiny total budget is lifted to 1.05 * min_pixels
    assert frame_max_pixels(768, total_pixels=1000) == int(VIDEO_MIN_PIXELS * 1.05)


def test_explicit_total_frames_and_errors() -> None:
    p = plan_video(320, 240, 10.0, 30.0, total_frames=301)
    assert p.total_frames == 301 and p.frame_indices[-1] == 300
    with pytest.raises(GaudiVLError, match="either nframes or fps"):
        plan_video(320, 240, 10.0, 30.0, fps=1.0, nframes=8)
    with pytest.raises(GaudiVLError):
        plan_video(320, 240, 0.01, 30.0)  # zero frames
    for bad in ({"duration_s": -1.0}, {"video_fps": 0.0}, {"width": 0}, {"video_fps": float("nan")}):
        args = {"width": 320, "height": 240, "duration_s": 10.0, "video_fps": 30.0, **bad}
        with pytest.raises(GaudiVLError):
            plan_video(**args)
    with pytest.raises(GaudiVLError, match="multiple of 28"):
        plan_video(320, 240, 10.0, 30.0, factor=100)
    with pytest.raises(GaudiVLError, match="aspect"):
        plan_video(4000, 10, 10.0, 30.0)
