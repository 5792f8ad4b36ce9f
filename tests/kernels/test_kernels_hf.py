"""``gaudi_vl.kernels.accelerate`` on a real transformers Qwen2.5-VL (tiny, random weights, CPU, fp32).

References are transformers' own model and processor: the same model generates before the call, after
it and after ``undo``; images come from transformers' ``Qwen2VLImageProcessor`` (28-px rounding, so
most of them have windows cut by the border) and from 112-px-aligned sizes.

Tolerance: fp32 (eps 1.2e-7). The fast path does the same operations in another order (one batched
attention instead of one call per window, other matmul blockings); over the tiny tower's 4 blocks
that leaves relative differences of a few 1e-6 (seen up to ~3e-6). 1e-4 is far above that and far
below what a wrong mask, order or rotary gives (order 1e-1, see test_kernels_vision.py).
"""

from __future__ import annotations

import copy
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("torchvision")

from kernel_towers import TINY, rel_err  # noqa: E402
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration  # noqa: E402
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor  # noqa: E402

from gaudi_vl.errors import GaudiVLError  # noqa: E402
from gaudi_vl.kernels import accelerate  # noqa: E402

FP32_TOL = 1e-4
VOCAB = 300
IMAGE, VIDEO, START, END = 299, 298, 297, 296
# (width, height) in pixels: 224x224 and 448x112 are 112-aligned; the others are cut by the border.
SIZES = [(224, 224), (300, 200), (448, 112), (150, 500)]
PIXELS = {"shortest_edge": 56 * 56, "longest_edge": 1024 * 28 * 28}


@pytest.fixture(scope="module")
def model() -> Qwen2_5_VLForConditionalGeneration:
    """Tiny Qwen2.5-VL, fp32. Vision weights scaled up so attention is peaked (order and masks matter)."""
    text = {
        "vocab_size": VOCAB,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6], "rope_theta": 10000.0},
        "bos_token_id": 0,
        "eos_token_id": 1,
        "pad_token_id": 0,
    }
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config={**TINY, "out_hidden_size": 64},
        image_token_id=IMAGE,
        video_token_id=VIDEO,
        vision_start_token_id=START,
        vision_end_token_id=END,
    )
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.model.visual.named_parameters():
            noise = torch.randn(param.shape, generator=gen)
            if param.ndim == 1 and ("norm" in name or "ln_q" in name):
                param.copy_(1.0 + 0.2 * noise)
            else:
                fan_in = param[0].numel() if param.ndim > 1 else param.numel()
                param.copy_(noise * (1.5 / math.sqrt(fan_in)))
    return model


def images_inputs(sizes: list[tuple[int, int]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Real processor output for random images, and a prompt with each image's placeholder tokens."""
    gen = torch.Generator().manual_seed(seed)
    images = [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen) for w, h in sizes]
    out = Qwen2VLImageProcessor(size=PIXELS)(images=images, return_tensors="pt")
    ids = [5, 6]
    for t, h, w in out["image_grid_thw"].tolist():
        ids += [START] + [IMAGE] * (t * h * w // 4) + [END, 7]
    ids = torch.tensor([ids + [8, 9]])
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "pixel_values": out["pixel_values"],
        "image_grid_thw": out["image_grid_thw"],
    }


def greedy(model, inputs: dict[str, torch.Tensor]) -> list[int]:
    out = model.generate(**inputs, max_new_tokens=8, do_sample=False, min_new_tokens=8)
    return out[0, inputs["input_ids"].shape[1] :].tolist()


def image_features(model, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        feats = model.model.get_image_features(inputs["pixel_values"], inputs["image_grid_thw"])
    return torch.cat(feats.pooler_output)


@pytest.mark.parametrize(
    "buckets",
    [None, [256, 512], "256,512,1024", "None", (64, 128)],
    ids=["engine-default", "list", "string", "no-buckets", "all-above"],
)
def test_generate_gives_stock_tokens(model, buckets) -> None:
    inputs = images_inputs(SIZES)
    stock_tokens, stock_feats = greedy(model, inputs), image_features(model, inputs)
    with accelerate(model, buckets=buckets) as handle:
        assert "forward" in model.model.visual.__dict__
        fast_tokens, fast_feats = greedy(model, inputs), image_features(model, inputs)
        assert sum(handle.runner.counts.values()) >= 2 * len(SIZES)
        assert handle.stock_calls == 0
    assert "forward" not in model.model.visual.__dict__
    assert fast_tokens == stock_tokens
    assert fast_feats.shape == stock_feats.shape
    assert rel_err(fast_feats, stock_feats) < FP32_TOL
    assert greedy(model, inputs) == stock_tokens


def test_packed_path_gives_stock_tokens_and_is_undone(model) -> None:
    """``packed=True`` (the CUDA default; here with the PyTorch twins and the reference varlen
    attention): frames share bucket calls, gate and up become one tensor, the same greedy tokens and
    features come out, and undo gives gate and up their own storage back."""
    inputs = images_inputs(SIZES)
    stock_tokens, stock_feats = greedy(model, inputs), image_features(model, inputs)
    state = {k: v.clone() for k, v in model.model.visual.state_dict().items()}
    with accelerate(model, buckets=[512, 1024], packed=True) as handle:
        assert handle.gate_up_fused and handle.runner.packed
        fast_tokens, fast_feats = greedy(model, inputs), image_features(model, inputs)
        # 256 + 384 + 256 slots share a 1024 call; 640 slots: a 1024 call of its own.
        assert handle.runner.groups([(16, 16), (14, 22), (8, 32), (36, 10)]) == [
            ([(16, 16), (14, 22), (8, 32)], 1024),
            ([(36, 10)], 1024),
        ]
    assert fast_tokens == stock_tokens
    assert rel_err(fast_feats, stock_feats) < FP32_TOL
    mlp = model.model.visual.blocks[0].mlp
    assert "_gaudi_vl_gate_up" not in mlp.__dict__
    after = model.model.visual.state_dict()
    assert all(torch.equal(after[k], v) for k, v in state.items())


def test_frames_take_the_smallest_bucket_that_holds_their_windows(model) -> None:
    """224x224 -> 16x16 patches = 256 slots; 300x200 -> 14x22 patches, 3x2 windows = 384 slots -> 512;
    150x500 -> 36x10 patches, 5x2 windows = 640 slots: above the largest bucket, eager at 640."""
    inputs = images_inputs(SIZES)
    assert inputs["image_grid_thw"].tolist() == [[1, 16, 16], [1, 14, 22], [1, 8, 32], [1, 36, 10]]
    with accelerate(model, buckets=[256, 512]) as handle:
        image_features(model, inputs)
    assert handle.graphs == "none"
    assert dict(handle.runner.counts) == {("eager", 256): 2, ("eager", 512): 1, ("eager", 640): 1}


def test_visual_module_outputs_match_stock(model) -> None:
    """The tower's own output object: pooler_output and last_hidden_state, images and a 2-frame video."""
    visual = model.model.visual
    inputs = images_inputs(SIZES[:2], seed=3)
    gen = torch.Generator().manual_seed(4)
    video = torch.randn(2 * 14 * 22, inputs["pixel_values"].shape[1], generator=gen)
    cases = [
        (inputs["pixel_values"], inputs["image_grid_thw"]),
        (video, torch.tensor([[2, 14, 22]])),
        (
            torch.cat([video, inputs["pixel_values"]]),
            torch.tensor([[2, 14, 22], *inputs["image_grid_thw"].tolist()]),
        ),
    ]
    with torch.no_grad():
        stock = [visual(p, grid_thw=g) for p, g in cases]
        with accelerate(visual, buckets=[512, 1024]):
            fast = [visual(p, grid_thw=g) for p, g in cases]
    for s, f in zip(stock, fast, strict=True):
        assert f.pooler_output.shape == s.pooler_output.shape
        assert rel_err(f.pooler_output, s.pooler_output) < FP32_TOL
        assert f.last_hidden_state.shape == s.last_hidden_state.shape
        assert rel_err(f.last_hidden_state, s.last_hidden_state) < FP32_TOL


def test_requests_for_more_than_the_output_run_stock(model) -> None:
    visual = model.model.visual
    inputs = images_inputs(SIZES[:1])
    with accelerate(model) as handle, torch.no_grad():
        out = visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"], output_hidden_states=True)
        assert out.hidden_states is not None and len(out.hidden_states) > 0
        assert handle.stock_calls == 1
        visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"], return_dict=True)
        assert handle.stock_calls == 1
    with accelerate(model) as handle:  # autograd on and trainable weights: the stock forward
        visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"])
        assert handle.stock_calls == 1 and not handle.runner.counts


def test_mlp_padding_is_undone_exactly(model) -> None:
    """Forced on the CPU: padded width a multiple of 64, same outputs, and undo restores every weight."""
    visual = model.model.visual
    before = {k: v.clone() for k, v in visual.state_dict().items()}
    inputs = images_inputs(SIZES[:2])
    stock = image_features(model, inputs)
    handle = accelerate(model, buckets=[512], pad_mlp=True)
    assert handle.mlp_width == TINY["intermediate_size"]
    assert visual.blocks[0].mlp.gate_proj.weight.shape[0] == 128
    assert visual.blocks[0].mlp.down_proj.in_features == 128
    assert rel_err(image_features(model, inputs), stock) < FP32_TOL
    handle.undo()
    handle.undo()  # idempotent
    after = visual.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], before[k]) for k in before)
    assert visual.blocks[0].mlp.gate_proj.out_features == TINY["intermediate_size"]
    assert accelerate(model, pad_mlp=None).mlp_width is None  # CPU fp32: padding does not pay
    model.model.visual._gaudi_vl_acceleration.undo()


def test_pad_mlp_auto_only_where_it_pays(model) -> None:
    from gaudi_vl.kernels.hf import _pad_pays

    visual = model.model.visual
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert _pad_pays(visual, cuda, torch.bfloat16, 64)  # width 96
    assert not _pad_pays(visual, cuda, torch.float32, 64)
    assert not _pad_pays(visual, cpu, torch.bfloat16, 64)
    assert not _pad_pays(visual, cuda, torch.bfloat16, 32)  # 96 is a multiple of 32


def test_user_mistakes_name_the_setting(model) -> None:
    with pytest.raises(GaudiVLError, match="buckets=\\[100\\]"):
        accelerate(model, buckets=[100])
    with pytest.raises(GaudiVLError, match="'big' in '1024,big' is not an integer"):
        accelerate(model, buckets="1024,big")
    with pytest.raises(GaudiVLError, match="buckets=\\[64, 64\\]"):
        accelerate(model, buckets=[64, 64])
    with pytest.raises(GaudiVLError, match="not a list"):
        accelerate(model, buckets=[object()])
    with pytest.raises(GaudiVLError, match="graphs=True"):
        accelerate(model, graphs=True)
    with pytest.raises(GaudiVLError, match="no Qwen2.5-VL vision tower"):
        accelerate(torch.nn.Linear(2, 2))
    with accelerate(model), pytest.raises(GaudiVLError, match="already accelerated"):
        accelerate(model)
    assert "forward" not in model.model.visual.__dict__


def test_undo_keeps_an_earlier_instance_forward(model) -> None:
    """A forward already set on the instance (e.g. by a hook library) is what undo puts back."""
    visual = copy.deepcopy(model.model.visual)
    calls = []
    stock = visual.forward

    def hooked(*args, **kwargs):
        calls.append(1)
        return stock(*args, **kwargs)

    visual.forward = hooked
    inputs = images_inputs(SIZES[:1])
    with accelerate(visual), torch.no_grad():
        visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"])
        visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"], output_attentions=True)
    assert visual.forward is hooked and len(calls) == 1
