"""A tiny random Qwen2.5-VL checkpoint, built locally: no hub download, seconds on a CPU.

Why: the end-to-end test needs a model that a real vLLM engine loads and serves; only the image
*geometry* matters (how many ``<|image_pad|>`` tokens an image becomes), not what the model says.
Recipe verified on this machine kind (../shared/reference/vllm_cpu_e2e.md):

* ``Qwen2_5_VLConfig`` with small text and vision dims. The text ``head_dim`` must be one that
  vLLM's CPU attention supports: 16 fails ("Unsupported CPU attention configuration"), 64 works, and
  ``mrope_section`` must sum to ``head_dim / 2``. Patch 14, merge 2, window 112 stay the real
  Qwen2.5-VL values so token counts equal the 7B model's.
* A byte-level BPE tokenizer trained locally with ``tokenizers``, holding the special tokens the
  processor and the chat template use; the config's image/video/vision token ids are the
  tokenizer's ids (the engine looks ``<|image_pad|>`` up in the vocabulary).
* A ``Qwen2_5_VLProcessor`` (image processor + tokenizer + ``Qwen2VLVideoProcessor``) with a Qwen
  chat template, saved beside the weights.

Run as a script to build one: ``python tests/e2e/tiny_model.py DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or part['type'] == 'image_url' or 'image' in part %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' or 'video' in part %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Qwen2.5-VL's template, cut to what the test uses (roles, text, one image or video per part)."""

CORPUS = (
    "Describe this image. What is in the picture? The quick brown fox jumps over the lazy dog. "
    "system user assistant You are a helpful assistant. 0123456789 red green blue cat dog box "
)

# Real Qwen2.5-VL geometry (what token counts depend on); everything else as small as it goes.
VISION = {
    "depth": 2,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_heads": 2,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "window_size": 112,
    "fullatt_block_indexes": [1],
    "tokens_per_second": 2,
}
TEXT_HEAD_DIM = 64
TEXT = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": TEXT_HEAD_DIM,
    "max_position_embeddings": 4096,
    "rope_scaling": {"type": "mrope", "mrope_section": [8, 12, 12], "rope_theta": 1000000.0},
}
assert sum(TEXT["rope_scaling"]["mrope_section"]) == TEXT_HEAD_DIM // 2  # type: ignore[index]


def build_tokenizer(vocab_size: int = 400):  # noqa: ANN201 (transformers type, imported lazily)
    """A byte-level BPE tokenizer trained on a few sentences, with Qwen's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([CORPUS] * 20, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
        model_max_length=4096,
    )


def peak_vision_weights(model, seed: int = 1) -> None:  # noqa: ANN001 (transformers type, imported lazily)
    """Scale the vision tower's random weights up so its attention is peaked, not near-uniform.

    transformers' init (std 0.02) makes every attention row almost uniform, which hides ordering and
    masking mistakes in the tower; tests that compare vision forwards want them visible. Same recipe as
    tests/kernels/kernel_towers.py ``make_tower``: norms 1 + 0.2 N(0, 1), other weights
    1.5 N(0, 1) / sqrt(fan_in).
    """
    import math

    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.model.visual.named_parameters():
            noise = torch.randn(param.shape, generator=gen)
            if param.ndim == 1 and ("norm" in name or "ln_q" in name):
                param.copy_(1.0 + 0.2 * noise)
            else:
                fan_in = param[0].numel() if param.ndim > 1 else param.numel()
                param.copy_(noise * (1.5 / math.sqrt(fan_in)))


def build_tiny_model(
    out: Path, *, min_pixels: int = 3136, max_pixels: int = 1003520, peaked_vision: bool = False
) -> Path:
    """Write config, random bf16 weights, tokenizer, processor and chat template to ``out``.

    ``peaked_vision``: vision weights from :func:`peak_vision_weights` (for tests of the tower itself).
    """
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vocab = len(tokenizer)
    text = {
        **TEXT,
        "vocab_size": vocab,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    }
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config={**VISION, "out_hidden_size": TEXT["hidden_size"]},
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    config.architectures = ["Qwen2_5_VLForConditionalGeneration"]
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config)
    if peaked_vision:
        peak_vision_weights(model)
    model.to(torch.bfloat16).save_pretrained(out)

    size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=size),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/e2e/tiny_model.py OUT_DIR")
    print(build_tiny_model(Path(sys.argv[1])))
