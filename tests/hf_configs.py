"""transformers' own Qwen2.5-VL config for a gaudi-vl ``ModelSpec``: the reference the tests build real
modules (on the meta device) from."""

from __future__ import annotations

from typing import Any

from gaudi_vl.models import ModelSpec


def hf_config(spec: ModelSpec) -> Any:
    """``transformers.Qwen2_5_VLConfig`` with the spec's dimensions (transformers must be installed)."""
    import transformers

    return transformers.Qwen2_5_VLConfig(
        text_config={
            "hidden_size": spec.text.hidden_size,
            "intermediate_size": spec.text.intermediate_size,
            "num_hidden_layers": spec.text.num_layers,
            "num_attention_heads": spec.text.num_heads,
            "num_key_value_heads": spec.text.num_kv_heads,
            "vocab_size": spec.text.vocab_size,
            "max_position_embeddings": spec.text.max_position_embeddings,
        },
        vision_config={
            "depth": spec.vision.depth,
            "hidden_size": spec.vision.hidden_size,
            "num_heads": spec.vision.num_heads,
            "intermediate_size": spec.vision.intermediate_size,
            "out_hidden_size": spec.vision.out_hidden_size,
        },
        tie_word_embeddings=spec.text.tie_word_embeddings,
    )
