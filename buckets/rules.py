"""gaudi-vl's own rules for a bucket list: whole 112 x 112 windows, each size once.

Pure. What an engine does with a list (parse, validate, look up, pad, warm up) is a fact of that
engine and lives in its profile (``gaudi_vl.engines``); this module holds only the project's policy,
which is stricter than every engine: a bucket is a positive multiple of 64 patches (one 112 x 112
window is 8 x 8 = 64 patches, so padding adds whole windows) and is listed once (a duplicate costs a
warm-up slot and buys nothing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gaudi_vl.engines import DEFAULT_PROFILE, EngineProfile
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PATCHES_PER_WINDOW

MAX_BUCKET_PATCHES = 1 << 24
"""Largest bucket gaudi-vl emits or accepts (16,777,216 patches = 3.3 gigapixels, far above any
processor limit); bigger values are typos, and the engine's int would overflow its graph shapes."""


def round_up_to_window(patches: float) -> int:
    """The smallest multiple of 64 patches that is >= ``patches`` (at least one window)."""
    whole = math.ceil(patches)
    return max(PATCHES_PER_WINDOW, -(-whole // PATCHES_PER_WINDOW) * PATCHES_PER_WINDOW)


def check_bucket_values(buckets: Sequence[int]) -> None:
    """Raise a one-line error for a list that breaks the policy above (naming the value)."""
    seen: set[int] = set()
    for b in buckets:
        if b in seen:
            raise GaudiVLError(f"bucket {b} is listed twice", "list each bucket once")
        seen.add(b)
        if b <= 0 or b % PATCHES_PER_WINDOW:
            up = round_up_to_window(max(b, 1))
            raise GaudiVLError(
                f"bucket {b} is not a positive multiple of {PATCHES_PER_WINDOW} patches",
                f"use {up} (one 112 x 112 window is 64 patches)",
            )
        if b > MAX_BUCKET_PATCHES:
            raise GaudiVLError(
                f"bucket {b} is above {MAX_BUCKET_PATCHES} patches", "lower it or lower --max-pixels"
            )


def bucket_spec(
    spec: Sequence[int] | str | None, engine: EngineProfile = DEFAULT_PROFILE
) -> tuple[int, ...] | None:
    """The bucket list gaudi-vl's own vision kernels pad to (``gaudi_vl.kernels``, the vLLM switch).

    ``None`` or empty text: the engine's default list (the default profile's Qwen2.5-VL list when the
    engine has none, e.g. upstream vLLM); the text ``"None"``: no padding, every image at its own size;
    other text: ``VLLM_MULTIMODAL_BUCKETS`` as ``engine`` parses it; a sequence: those patch counts.
    Then the policy above (whole windows, each once). A one-line error names the value otherwise.
    """
    if isinstance(spec, str) and spec.strip() == "None":
        return None
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return engine.default_buckets or DEFAULT_PROFILE.default_buckets
    if isinstance(spec, str):
        values = engine.parse_buckets(spec)
    else:
        try:
            values = tuple(sorted(int(b) for b in spec))
        except (TypeError, ValueError):
            raise GaudiVLError(
                f"buckets={spec!r} is not a list of patch counts", "pass e.g. buckets=[1600, 3136, 4096]"
            ) from None
    try:
        check_bucket_values(values)
    except GaudiVLError as exc:
        raise GaudiVLError(f"buckets={list(values)}: {exc.message}", exc.hint) from None
    return values
