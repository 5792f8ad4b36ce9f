"""Fuzz the model folder: config.json and preprocessor_config.json with hostile values, types,
encodings, nesting and file kinds. Every one is a plan (exit 0) or one line (exit 2); a flag that is
not a JSON boolean is never read as one."""

from __future__ import annotations

import copy
import os
from typing import Any

from hostile import (
    CONFIG,
    PREPROCESSOR,
    assert_contract,
    dumps,
    fuzz,
    json_values,
    run_cli,
    sandbox,
    write_model,
)
from hypothesis import given
from hypothesis import strategies as st

TEXT_KEYS = [
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "max_position_embeddings",
    "tie_word_embeddings",
    "model_type",
    "vision_config",
    "text_config",
]
VISION_KEYS = list(CONFIG["vision_config"]) + ["embed_dim", "in_channels", "in_chans"]
PRE_KEYS = ["min_pixels", "max_pixels", "size", "patch_size"]
DELETE = object()


def mutations(keys: list[str]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    return st.lists(st.tuples(st.sampled_from(keys), st.one_of(st.just(DELETE), json_values())), max_size=3)


def apply(base: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes:
        if value is DELETE:
            out.pop(key, None)
        else:
            out[key] = value
    return out


RAW = [
    b"",
    b"{",
    b"[]",
    b"null",
    b"\xff\xfe{}",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a": ' + b"9" * 5000 + b"}",
    b'{"hidden_size": NaN}',
    '{"model_type": "qwen2_5_vl", "x": "caf\xe9"}'.encode("latin-1"),
]
"""Whole files: empty, truncated, not an object, UTF-16 BOM, nested 50,000 deep, a 5000-digit number,
NaN, latin-1 bytes."""


def tie_value(config: dict[str, Any]) -> Any:
    """The ``tie_word_embeddings`` gaudi-vl reads: top level first, then ``text_config``'s."""
    if "tie_word_embeddings" in config:
        return config["tie_word_embeddings"]
    text = config.get("text_config")
    return text.get("tie_word_embeddings") if isinstance(text, dict) else None


@fuzz
@given(
    text=mutations(TEXT_KEYS),
    vision=mutations(VISION_KEYS),
    pre=mutations(PRE_KEYS),
    raw=st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["config.json", "preprocessor_config.json"]), st.sampled_from(RAW)),
    ),
    kind=st.sampled_from(["file", "file", "file", "fifo", "dir", "loop", "dangling", "devzero"]),
    nested=st.booleans(),
    fmt=st.sampled_from(["json", "table"]),
)
def test_model_folder(text, vision, pre, raw, kind: str, nested: bool, fmt: str) -> None:
    config = apply(CONFIG, text)
    if isinstance(config.get("vision_config"), dict):
        config["vision_config"] = apply(config["vision_config"], vision)
    if nested:  # transformers 5 layout: the language model's keys under text_config
        outer = ("model_type", "vision_config")
        config = {
            **{k: config.get(k) for k in outer},
            "text_config": {k: v for k, v in config.items() if k not in outer},
        }
    with sandbox() as box:
        folder = write_model(box / "model", config, apply(PREPROCESSOR, pre))
        if raw is not None:
            (folder / raw[0]).write_bytes(raw[1])
        target = folder / "preprocessor_config.json"
        if kind != "file":
            target.unlink()
            {
                "fifo": lambda: os.mkfifo(target),
                "dir": lambda: target.mkdir(),
                "loop": lambda: target.symlink_to(target.name),
                "dangling": lambda: target.symlink_to("nowhere"),
                "devzero": lambda: target.symlink_to("/dev/zero"),
            }[kind]()
        r = run_cli(["plan", "--model", str(folder), "--format", fmt], box)
        assert_contract(r)
        tie = tie_value(config)
        if r.rc == 0 and raw is None:
            assert tie is None or isinstance(tie, bool), f"tie_word_embeddings {dumps(tie)} was accepted"
