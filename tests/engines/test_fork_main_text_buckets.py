"""FORK_MAIN's text buckets: the extension's ``HPUBucketingManager`` as habana_main @95af70093fc0 builds it.

habana_main pins the extension at f1d9275 (requirements/hpu.txt:10@95af7009), which the mirror lacks; the
profile follows extension main @7717587d1780 (``N``), the last commit before the pin that the mirror holds.
``tools/check_engine_profiles.py`` runs N's own manager against the profile (row "text buckets (prompt,
decode) / vllm-fork") and the runner's own ``_use_graphs`` (row "text prompt graphs"); here: what N's code
guarantees, as properties against fork 1.22's pin @f5f9ecb7298b (``M``), and N's docstring example.
Runner citations: ``vllm/worker/hpu_model_runner.py@95af7009`` (``R``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.engines import FORK_121, FORK_122, FORK_MAIN
from gaudi_vl.engines.text_buckets import (
    Generator,
    TextBucketInputs,
    TextStrategy,
    ext_exponential_range,
    text_buckets,
)
from gaudi_vl.errors import GaudiVLError
from tests.engines.test_fork_122_text_buckets import (  # the same engine inputs and budget
    LINEAR,
    graph_budget_of_every_bucket,
    inputs,
)

TB, TB122 = FORK_MAIN.text_buckets, FORK_122.text_buckets
assert TB is not None and TB122 is not None

PREFIX = {"VLLM_PREFIX_CACHING": "true"}


def test_wired_as_the_extension_manager_of_habana_main() -> None:
    """R:33, 1041-1047 build the manager; R:1415-1416 ``_use_graphs`` is ``not enforce_eager``; warm-up
    captures every bucket and tests graph memory only for pooling models (R:3059-3119, 3245-3291)."""
    assert TB.generator is Generator.EXT_MANAGER and TB.default_strategy is TextStrategy.EXPONENTIAL
    assert not TB.capture_gated_by_memory and TB.capture_tokens_limit is None and TB.compiles_every_bucket
    assert TB.linear_context_extra == 1 and TB.prompt_deduplicated
    assert "7717587d1780" in TB.cited and "@95af70093fc0" in TB.cited
    assert TB.variables == TB122.variables  # the same MIN/STEP/MAX, strategy and feature flags
    assert any("7717587d1780" in n and "f1d9275" in n for n in FORK_MAIN.notes)
    assert not any("aice/v1.21.0" in n for n in FORK_MAIN.notes)  # the old assumption is gone


@settings(max_examples=150, deadline=None)
@given(inputs, st.sampled_from([{}, LINEAR, {"VLLM_CONTIGUOUS_PA": "false"},
                                {**LINEAR, "VLLM_MERGED_PREFILL": "1"}]))
def test_same_buckets_as_fork_122_off_prefix_caching(inp: TextBucketInputs, env: dict[str, str]) -> None:
    """N and M differ in bucket generation only under prefix caching (linear.py:142, 157-163,
    exponential.py:131-137), which V0 turns off for multimodal models (vllm/engine/arg_utils.py:1554-1560
    @95af7009): the buckets are 1.22's; only the graphed subset differs (no token limit)."""
    inp = replace(inp, env=env)
    main, v122 = text_buckets(TB, inp), text_buckets(TB122, inp)
    assert (main.strategy, main.prompt, main.decode) == (v122.strategy, v122.prompt, v122.decode)
    assert main.prompt_graphed == main.prompt  # every prompt bucket serves from a graph
    assert set(v122.prompt_graphed) <= set(main.prompt_graphed)


@settings(max_examples=60, deadline=None)
@given(inputs.filter(lambda i: i.max_model_len <= 4096))
def test_linear_prefix_caching_warms_one_context_fewer(inp: TextBucketInputs) -> None:
    """N linear.py:142 ``range(max_blocks_range + 1)`` against M's ``+ 2`` (extension PR 313): N's prompt
    buckets are M's without the context ``(seq max - seq) // block + 1``."""
    inp = replace(inp, env={**LINEAR, **PREFIX})
    main, v122 = text_buckets(TB, inp), text_buckets(TB122, inp)
    seq_max = inp.max_model_len
    assert list(main.prompt) == [t for t in v122.prompt if t[2] <= (seq_max - t[1]) // inp.block_size]
    assert main.decode == v122.decode
    # with budget to spare, M's extra context is a bucket per (bs, seq): 8 seq x 1 bs at 1024 tokens
    roomy = TextBucketInputs(1, 32768, 1024, 128, 1000, {**LINEAR, **PREFIX})
    assert len(text_buckets(TB122, roomy).prompt) - len(text_buckets(TB, roomy).prompt) == 8


@settings(max_examples=100, deadline=None)
@given(inputs)
def test_exponential_prefix_caching_drops_duplicate_buckets(inp: TextBucketInputs) -> None:
    """N exponential.py:131-137 filters into a set; M keeps a list, so a short context span whose
    exponential contexts repeat (``ceil(span ** (i / n))``) warms the same bucket twice on 1.22. When no
    bucket fits the budget both return every bucket, duplicates included (exponential.py:139-157)."""
    inp = replace(inp, env=PREFIX)
    try:
        v122 = text_buckets(TB122, inp)
    except GaudiVLError:  # a long-context seq rounded above max_model_len: log2 of a negative span
        with pytest.raises(GaudiVLError, match="math domain error"):  # (exponential.py:106-110, both)
            text_buckets(TB, inp)
        return
    main = text_buckets(TB, inp)
    fits = any(b * (q + c * inp.block_size) <= inp.max_num_batched_tokens and q <= inp.max_model_len
               for b, q, c in v122.prompt)
    if fits:
        assert list(main.prompt) == sorted(set(v122.prompt))
    else:
        assert main.prompt == v122.prompt
    assert main.decode == v122.decode


def test_a_duplicate_exists_on_1_22_and_not_on_main() -> None:
    """One concrete case of the above: max_model_len 2048 puts seq buckets near the top, whose context
    spans of a few blocks repeat contexts (span 3: ceil(3 ** (1/3)), ceil(3 ** (2/3)), 3 = 2, 3, 3)."""
    inp = TextBucketInputs(1, 8192, 2048, 128, 1000, PREFIX)
    main, v122 = text_buckets(TB, inp), text_buckets(TB122, inp)
    assert len(v122.prompt) > len(set(v122.prompt)) and len(main.prompt) == len(set(main.prompt))


def test_exponential_range_matches_the_engines_docstring_example() -> None:
    """N exponential.py:215-240 (``warmup_range_with_limit``): bmin 128, bstep 128, bmax 2048, 10 buckets,
    fill -> the ten listed for ``fill is True``."""
    assert ext_exponential_range(128, 128, 2048, 10) == [128, 256, 384, 512, 640, 768, 896, 1152, 1536, 2048]


def test_plan_budgets_every_graph_of_its_buckets() -> None:
    """habana_main graphs every bucket as 1.22 does, and every prompt bucket counts as graphed."""
    plan, env = graph_budget_of_every_bucket("vllm-fork")
    m, tb = plan.memory, plan.text_buckets
    assert m is not None and tb is not None
    assert m.text_prompt_graphed == len(tb.prompt) > 0
    old = FORK_121.text_buckets
    assert old is not None and old.generator is Generator.EXT_2D  # 1.21 keeps its own generator
