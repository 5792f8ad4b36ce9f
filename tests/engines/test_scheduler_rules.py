"""What each engine's scheduler refuses at start-up (issue 19): the profiles' ``SchedulerRule`` facts.

Expected values come from the engines' source, quoted in the comments; where the local bare mirror
of vllm-fork is present the cited lines are read and must hold the rule (skipped otherwise).
vLLM V0 (both fork branches) turns chunked prefill off for multimodal models
(vllm/engine/arg_utils.py:1427-1430@277a33cd: ``if model_config.is_multimodal_model or
model_config.use_mla: self.enable_chunked_prefill = False``) and then ``SchedulerConfig._verify_args``
raises for ``max_num_batched_tokens < max_model_len`` (without chunked prefill) and for
``max_num_batched_tokens < max_num_seqs`` (vllm/config.py:2100-2115@277a33cd). vLLM V1 always chunks
prefills and keeps the second check (vllm/config/scheduler.py:328-332, vllm 0.32.0).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gaudi_vl.engines import FORK_121, FORK_MAIN, VLLM_GAUDI, VLLM_UPSTREAM, EngineProfile
from gaudi_vl.errors import GaudiVLError

FORK_GIT = Path("/work/.mirror/HabanaAI+vllm-fork/repo")


@pytest.mark.parametrize(("profile", "covers_model_len"), [
    (FORK_121, True), (FORK_MAIN, True), (VLLM_GAUDI, False), (VLLM_UPSTREAM, False),
])
def test_each_engine_refuses_what_its_scheduler_refuses(
    profile: EngineProfile, covers_model_len: bool
) -> None:
    # accepted: the prefill budget covers the longest sequence and every sequence
    profile.check_scheduler(max_model_len=8192, max_num_seqs=64, batched_tokens=8192)
    # V0 multimodal: a budget below max_model_len is refused; V1 chunks it
    if covers_model_len:
        refused = "--max-num-batched-tokens 4096 below --max-model-len 8192"
        with pytest.raises(GaudiVLError, match=refused) as e:
            profile.check_scheduler(max_model_len=8192, max_num_seqs=64, batched_tokens=4096)
        assert "8192 or more" in e.value.hint and "--max-model-len to 4096" in e.value.hint
    else:
        profile.check_scheduler(max_model_len=8192, max_num_seqs=64, batched_tokens=4096)
    # every engine: fewer budget tokens than sequences is refused (equal is accepted: ``<``)
    profile.check_scheduler(max_model_len=64, max_num_seqs=64, batched_tokens=64)
    with pytest.raises(GaudiVLError, match="--max-num-seqs 65 above --max-num-batched-tokens 64") as e:
        profile.check_scheduler(max_model_len=64, max_num_seqs=65, batched_tokens=64)
    assert "lower --max-num-seqs to 64" in e.value.hint
    assert profile.max_num_seqs_for(64) == 64


@pytest.mark.skipif(not FORK_GIT.exists(), reason="no local vllm-fork mirror")
@pytest.mark.parametrize("profile", [FORK_121, FORK_MAIN])
def test_the_cited_fork_lines_hold_the_rule(profile: EngineProfile) -> None:
    assert profile.scheduler is not None
    cited, commit = profile.scheduler.cited.rsplit("@", 1)
    texts = []
    for part in cited.split(", "):
        path, lines = part.split(":")
        first, last = (int(n) for n in lines.split("-"))
        source = subprocess.run(["git", "--git-dir", str(FORK_GIT), "show", f"{commit}:{path}"],
                                capture_output=True, text=True, check=True).stdout.splitlines()
        texts.append("\n".join(source[first - 1:last]))
    config, arg_utils = texts
    assert "self.max_num_batched_tokens < self.max_model_len" in config
    assert "not self.chunked_prefill_enabled" in config
    assert "self.max_num_batched_tokens < self.max_num_seqs" in config
    assert "is_multimodal_model" in arg_utils and "self.enable_chunked_prefill = False" in arg_utils
