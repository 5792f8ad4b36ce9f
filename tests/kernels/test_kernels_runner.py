"""``VisionRunner``: images and frames split, bucket choice, and its graph branches on the CPU.

The HPU branch hands ``habana_frameworks.torch.hpu.wrap_in_hpu_graph`` a module of the static forward.
No Gaudi is here, so a stand-in returns that module unchanged (what the real wrapper computes: it only
records and replays graphs of the module's forward); the test checks everything of ours around it --
padding, tables, slicing, one wrapped module per mask kind -- against the eager runner and transformers.
"""

from __future__ import annotations

import sys
import types

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from kernel_towers import pixels_for, rel_err  # noqa: E402

from gaudi_vl.kernels import VisionRunner, as_tower  # noqa: E402

FP32_TOL = 1e-4  # as tests/kernels/test_kernels_vision.py

GRIDS = [(1, 16, 16), (1, 14, 22), (2, 8, 10), (1, 36, 10)]
"""Aligned; cut by the border; a 2-frame video (cut); above the largest bucket (640 slots)."""


def batch(grids: list[tuple[int, int, int]], seed: int = 0) -> torch.Tensor:
    return torch.cat([pixels_for(t * h, w, seed + i) for i, (t, h, w) in enumerate(grids)])


def test_bucket_for_is_the_smallest_that_holds() -> None:
    runner = VisionRunner.__new__(VisionRunner)
    runner.buckets = (256, 512)
    assert [runner.bucket_for(s) for s in (64, 256, 257, 512, 513)] == [256, 256, 512, 512, None]
    runner.buckets = None
    assert runner.bucket_for(64) is None


def test_matches_transformers_frame_by_frame(tiny_tower) -> None:
    pixels = batch(GRIDS)
    runner = VisionRunner(as_tower(tiny_tower), (256, 512))
    tokens, hidden = runner(pixels, GRIDS, return_hidden=True)
    with torch.no_grad():
        ref = tiny_tower(pixels, grid_thw=torch.tensor(GRIDS))
    assert rel_err(tokens, ref.pooler_output) < FP32_TOL
    assert rel_err(hidden, ref.last_hidden_state) < FP32_TOL
    # 16x16 -> 256; 14x22 (3x2 windows) -> 512; each 8x10 frame (1x2 windows) -> 256; 36x10 -> eager 640.
    assert dict(runner.counts) == {("eager", 256): 1 + 2, ("eager", 512): 1, ("eager", 640): 1}
    with pytest.raises(ValueError, match="pixel_values has"):
        runner(pixels[:-1], GRIDS)


def test_hpu_branch_pads_and_slices_like_the_eager_runner(tiny_tower, monkeypatch) -> None:
    wrapped: list[torch.nn.Module] = []

    def wrap_in_hpu_graph(module: torch.nn.Module, **kwargs: object) -> torch.nn.Module:
        assert kwargs == {"disable_tensor_cache": True}
        wrapped.append(module)
        return module

    habana = types.ModuleType("habana_frameworks")
    htorch = types.ModuleType("habana_frameworks.torch")
    htorch.hpu = types.SimpleNamespace(wrap_in_hpu_graph=wrap_in_hpu_graph)
    habana.torch = htorch
    monkeypatch.setitem(sys.modules, "habana_frameworks", habana)
    monkeypatch.setitem(sys.modules, "habana_frameworks.torch", htorch)

    pixels = batch(GRIDS, seed=5)
    tower = as_tower(tiny_tower)
    hpu = VisionRunner(tower, (256, 512), graphs="hpu")
    eager = VisionRunner(tower, (256, 512), graphs="none")
    got, got_hidden = hpu(pixels, GRIDS, return_hidden=True)
    again, _ = hpu(pixels, GRIDS)
    want, want_hidden = eager(pixels, GRIDS, return_hidden=True)
    assert torch.equal(got, want) and torch.equal(got_hidden, want_hidden) and torch.equal(again, want)
    assert len(wrapped) == 2 and {m.masked for m in wrapped} == {False, True}  # once per mask kind
    assert all(not list(m.children()) for m in wrapped)  # the tower's weights are not re-registered
    assert dict(hpu.counts) == {("graph", 256): 6, ("graph", 512): 2, ("eager", 640): 2}
