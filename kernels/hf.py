"""One call that makes a loaded transformers Qwen2.5-VL use the bucketed, window-batched vision tower.

    import gaudi_vl.kernels as gk
    handle = gk.accelerate(model, buckets=[1600, 3136, 4096])   # the plan's VLLM_MULTIMODAL_BUCKETS
    model.generate(**inputs)                                     # same tokens, faster vision tower
    handle.undo()                                                # stock forward (and MLP) back

What changes: the vision tower's ``forward`` (an instance attribute shadowing the class method, so
other instances and the class stay stock) splits the request into images and video frames. On CUDA
(default) consecutive frames are packed into the smallest bucket that holds their 64-patch windows
and run through ``gaudi_vl.kernels.packed`` (variable-length FlashAttention segments, single-pass
Triton elementwise kernels) in CUDA graphs captured for every bucket inside ``accelerate`` itself;
elsewhere each frame is padded to its bucket and runs the static forward of ``gaudi_vl.kernels.vision``
(HPU graphs on Gaudi, recorded on first use; eager on the CPU). On CUDA with bf16/fp16 weights, an
MLP width that is not a multiple of 64 (the 7B/3B towers' 3420) is zero-padded for tensor cores (exact)
(``pad_mlp_for_tensor_cores``; worth 1.36x at 16384 patches on an H100, BENCHMARKS.md "Vision
kernels"). ``undo`` crops the MLP back and restores the forward.

What stays stock: calls that ask the tower for attentions or per-layer hidden states, calls with
precomputed position/window tables, ``return_dict=False``, and calls with autograd on (training): those
run transformers' own forward unchanged. The language model is never touched.

Outputs: the same ``BaseModelOutputWithPooling`` as transformers' tower (``pooler_output`` = merged
tokens of every image in order, ``last_hidden_state`` = the last block's states in window order);
equal to stock within the dtype's rounding (the attention runs batched instead of per window), so
greedy ``generate`` gives the same tokens (tests/kernels/test_kernels_hf.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from gaudi_vl.errors import GaudiVLError

from .runner import GRAPH_MODES, VisionRunner, graph_mode_for
from .tower import transformers_tower
from .vision import _set_mlp_width, fuse_gate_up, unfuse_gate_up

__all__ = ["Acceleration", "accelerate"]

_MARK = "_gaudi_vl_acceleration"
_STOCK_OK = {
    "output_attentions": (None, False),
    "output_hidden_states": (None, False),
    "return_dict": (None, True),
}
"""Keyword arguments the fast path honours as long as they ask for nothing extra."""


def _find_visual(model: nn.Module) -> nn.Module:
    """transformers' Qwen2.5-VL vision tower inside ``model`` (the model, its ``.model``, or the tower)."""
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VisionTransformerPretrainedModel

    candidates = [
        model,
        getattr(model, "visual", None),
        getattr(getattr(model, "model", None), "visual", None),
    ]
    for candidate in candidates:
        if isinstance(candidate, Qwen2_5_VisionTransformerPretrainedModel):
            return candidate
    raise GaudiVLError(
        f"{type(model).__name__} has no Qwen2.5-VL vision tower (transformers' "
        "Qwen2_5_VisionTransformerPretrainedModel)",
        "pass a Qwen2_5_VLForConditionalGeneration, its .model, or its .visual",
    )


def _parse_buckets(buckets: Sequence[int] | str | None) -> tuple[int, ...] | None:
    """The bucket list: None -> the engine's default list; a string is read like VLLM_MULTIMODAL_BUCKETS
    (``"None"`` = no padding at all); every value a positive multiple of 64, each once
    (``gaudi_vl.buckets.rules.bucket_spec``)."""
    from gaudi_vl.buckets.rules import bucket_spec

    return bucket_spec(buckets)


def _graph_mode(graphs: bool | str | None, device: torch.device) -> str:
    native = graph_mode_for(device)
    if graphs is None or graphs is True:
        if graphs is True and native == "none":
            raise GaudiVLError(
                f"graphs=True, but the vision tower is on {device.type}", "graphs need a CUDA or HPU device"
            )
        return native
    if graphs is False:
        return "none"
    if graphs not in GRAPH_MODES or graphs not in (native, "none"):
        raise GaudiVLError(f"graphs={graphs!r} on a {device.type} tower", f"use True, False, or {native!r}")
    return graphs


def _mlp_width(visual: nn.Module) -> int:
    return int(visual.blocks[0].mlp.gate_proj.out_features)


def _pad_pays(visual: nn.Module, device: torch.device, dtype: torch.dtype, multiple: int) -> bool:
    """Zero-padding the MLP pays on CUDA tensor cores with 16-bit weights and an unaligned width only."""
    return (
        device.type == "cuda"
        and dtype in (torch.bfloat16, torch.float16)
        and _mlp_width(visual) % multiple != 0
    )


@dataclass(eq=False)
class Acceleration:
    """What :func:`accelerate` did to one vision tower, and how to take it back (:meth:`undo`).

    ``runner.counts`` tallies the frames per path and bucket (``("graph", 1600)``, ``("eager", 1920)``);
    ``stock_calls`` counts the calls that ran transformers' own forward.
    """

    visual: nn.Module
    runner: VisionRunner
    buckets: tuple[int, ...] | None
    graphs: str
    mlp_width: int | None
    """The original MLP width when it was padded, else None."""
    gate_up_fused: bool
    _stock: Any = field(repr=False)
    _own_forward: bool = field(repr=False)
    stock_calls: int = 0
    active: bool = True

    def undo(self) -> None:
        """Restore the stock forward, crop the MLP back to its width and free the captured graphs."""
        if not self.active:
            return
        visual = self.visual
        if self._own_forward:
            visual.forward = self._stock
        else:
            visual.__dict__.pop("forward", None)
        if self.gate_up_fused:
            unfuse_gate_up(visual)
        if self.mlp_width is not None:
            for blk in visual.blocks:
                _set_mlp_width(blk.mlp, blk.mlp.gate_proj.out_features, self.mlp_width)
        self.runner.release()
        visual.__dict__.pop(_MARK, None)
        self.active = False

    def __enter__(self) -> Acceleration:
        return self

    def __exit__(self, *exc: object) -> None:
        self.undo()


def accelerate(
    model: nn.Module,
    buckets: Sequence[int] | str | None = None,
    *,
    graphs: bool | str | None = None,
    pad_mlp: bool | None = None,
    fused: bool = False,
    fp32_softmax: bool = False,
    packed: bool | None = None,
    warm_up: bool = True,
) -> Acceleration:
    """Swap the vision tower forward of a loaded transformers Qwen2.5-VL for the bucketed one.

    model: ``Qwen2_5_VLForConditionalGeneration``, its ``.model`` (``Qwen2_5_VLModel``) or the bare
      ``.visual``; already on its device and in its dtype (graphs are captured for those weights).
    buckets: patch counts, e.g. the ``VLLM_MULTIMODAL_BUCKETS`` of ``gaudi-vl plan`` (a list, or that
      string); None -> the engine's default list (1600 ... 12544); ``"None"`` -> no padding, eager.
      A frame larger than the largest bucket runs eagerly at its own size.
    graphs: None (default) -> CUDA graphs on CUDA, HPU graphs on HPU, eager elsewhere; False -> eager.
    pad_mlp: None (default) -> pad the MLP width to a multiple of 64 where it pays (CUDA, 16-bit
      weights, unaligned width); True/False to force.
    fused: torch.compile RMSNorm, SiLU gate and rotary on the unpacked path (one compile per bucket;
      needs inductor). The packed path has its own single-pass kernels and ignores it.
    fp32_softmax: attention softmax in fp32 (the engine's VLLM_FP32_SOFTMAX_VISION); on the packed path
      FlashAttention already keeps the softmax statistics in fp32, so it costs nothing there.
    packed: None (default) -> on CUDA, frames share bucket calls and attend through variable-length
      FlashAttention segments (``gaudi_vl.kernels.packed``); elsewhere one frame per bucket with masks.
    warm_up: capture every bucket's graph now (packed CUDA path), not on the first request.

    Returns an :class:`Acceleration`; ``handle.undo()`` (or ``with accelerate(model): ...``) restores
    the stock tower. Raises ``GaudiVLError`` for bad arguments or a model without a Qwen2.5-VL tower.
    """
    visual = _find_visual(model)
    if getattr(visual, _MARK, None) is not None:
        raise GaudiVLError(
            "this vision tower is already accelerated",
            "call .undo() on the first handle before accelerating again",
        )
    values = _parse_buckets(buckets)
    weight = visual.patch_embed.proj.weight
    mode = _graph_mode(graphs, weight.device)
    multiple = 64
    if pad_mlp is None:
        pad_mlp = _pad_pays(visual, weight.device, weight.dtype, multiple)
    width = _mlp_width(visual)
    padded_from = None
    if pad_mlp and width % multiple:
        padded_from = width
        for blk in visual.blocks:
            _set_mlp_width(blk.mlp, width, -(-width // multiple) * multiple)
    if packed is None:
        packed = weight.device.type == "cuda"
    if packed:  # gate and up as one matmul on the packed path (exact; undone by undo())
        fuse_gate_up(visual)
    tower = transformers_tower(visual, fused=fused)
    runner = VisionRunner(tower, values, graphs=mode, fp32_softmax=fp32_softmax, packed=packed)
    own_forward = "forward" in visual.__dict__
    stock = visual.forward
    handle = Acceleration(
        visual=visual,
        runner=runner,
        buckets=values,
        graphs=mode,
        mlp_width=padded_from,
        gate_up_fused=bool(packed),
        _stock=stock,
        _own_forward=own_forward,
    )

    def forward(hidden_states: torch.Tensor, grid_thw: torch.Tensor | None = None, **kwargs: Any) -> Any:
        if not _fast_path_applies(visual, grid_thw, kwargs):
            handle.stock_calls += 1
            return stock(hidden_states, grid_thw=grid_thw, **kwargs)
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        tokens, hidden = runner(hidden_states, grid_thw, return_hidden=True)
        return BaseModelOutputWithPooling(last_hidden_state=hidden, pooler_output=tokens)

    visual.forward = forward
    setattr(visual, _MARK, handle)
    if warm_up:
        runner.warm_up()
    return handle


def _fast_path_applies(visual: nn.Module, grid_thw: torch.Tensor | None, kwargs: dict[str, Any]) -> bool:
    if grid_thw is None:
        return False
    for key, value in kwargs.items():
        if not any(value is ok for ok in _STOCK_OK.get(key, ())):
            return False
    return not (torch.is_grad_enabled() and any(p.requires_grad for p in visual.parameters()))
