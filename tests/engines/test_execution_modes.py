"""Execution modes (``--execution-mode``): vllm-gaudi's torch.compile and lazy modes, the forks' lazy only.

Facts (vllm-project/vllm-gaudi @ 091bbadda10b unless said otherwise):

* the mode is the Habana bridge's ``PT_HPU_LAZY_MODE``; the engine branches on
  ``htorch.utils.internal.is_lazy()`` (v1/worker/hpu_model_runner.py:6226) and documents 0 (torch.compile)
  as the default (docs/configuration/env_variables.md:80);
* lazy wraps the model in HPU graphs (:1093-1095, 4903-4904); compile runs torch.compile regions and
  captures none (:4947-4962): the compiled vision sizes hold graph memory only in lazy mode;
* ``VLLM_GRAPH_RESERVED_MEM`` is kept from the KV cache in both modes, 0 only under enforce_eager
  (v1/worker/hpu_worker.py:409-414);
* the vision warm-up runs the same images in both modes, outside PT_COMPILE_ONLY_MODE when lazy or eager
  (:6226-6229), inside it in compile mode (:6241-6244);
* vllm-fork: plans pin ``PT_HPU_LAZY_MODE=1``: the Gaudi software defaults to torch.compile from 1.21.0
  (README_GAUDI.md:203@17a7946f), which gaudi-vl does not model for the fork.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.engines import PROFILES, VLLM_GAUDI, VLLM_UPSTREAM, EngineProfile, ExecutionMode, Setting
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.planfile import plan_from_dict, plan_to_dict
from gaudi_vl.settings import ServeSettings
from tests.engines.plans import plan_for

HPU = tuple(p for p in PROFILES if p.hpu)
MODED = [(p, m.mode.value) for p in HPU for m in p.execution_modes]


def test_vllm_gaudi_modes_and_default() -> None:
    assert [m.mode for m in VLLM_GAUDI.execution_modes] == [ExecutionMode.COMPILE, ExecutionMode.LAZY]
    compile_, lazy = VLLM_GAUDI.execution_modes
    assert VLLM_GAUDI.execution(None) is compile_
    assert (compile_.lazy_mode_value, lazy.lazy_mode_value) == ("0", "1")
    assert not compile_.hpu_graphs and lazy.hpu_graphs
    assert compile_.graph_reserved_applies and lazy.graph_reserved_applies
    assert compile_.vision_warmup_compile_only and not lazy.vision_warmup_compile_only
    var = VLLM_GAUDI.variable(Setting.EXECUTION_MODE)
    assert var is not None and var.name == "PT_HPU_LAZY_MODE" and var.default == "0"


def test_every_hpu_profile_models_lazy_mode_and_only_vllm_gaudi_compile() -> None:
    for p in HPU:
        assert ExecutionMode.LAZY in [m.mode for m in p.execution_modes]
        assert (ExecutionMode.COMPILE in [m.mode for m in p.execution_modes]) == (p is VLLM_GAUDI)
    assert VLLM_UPSTREAM.execution_modes == () and VLLM_UPSTREAM.execution(None) is None


@pytest.mark.parametrize("p", [p for p in HPU if p is not VLLM_GAUDI], ids=lambda p: p.name)
def test_fork_refuses_compile_in_one_line(p: EngineProfile) -> None:
    with pytest.raises(GaudiVLError) as err:
        ServeSettings(target=p.name, execution_mode="compile")
    assert "\n" not in str(err.value) and "--execution-mode compile" in str(err.value)


def test_upstream_refuses_any_mode() -> None:
    with pytest.raises(GaudiVLError, match="no HPU execution modes"):
        ServeSettings(target="vllm", execution_mode="lazy")
    assert "PT_HPU_LAZY_MODE" not in plan_env(plan_for("vllm"))


@pytest.mark.parametrize(("p", "mode"), MODED, ids=lambda x: getattr(x, "name", x))
def test_plan_writes_the_mode(p: EngineProfile, mode: str) -> None:
    env = plan_env(plan_for(p.name, execution_mode=mode))
    assert env["PT_HPU_LAZY_MODE"] == {"lazy": "1", "compile": "0"}[mode]
    # the engine's default mode is written too: the bridge's own default changed between releases
    facts = p.execution(None)
    assert facts is not None
    assert plan_env(plan_for(p.name))["PT_HPU_LAZY_MODE"] == facts.lazy_mode_value


def test_compile_mode_memory_plan_follows_the_engine() -> None:
    """Same buckets, same warm-up sizes; in compile mode no HPU graph holds them, so the reserved share is
    the engine's default 0.1 alone and the KV cache gets the difference. In lazy mode the share grows by
    one graph per compiled vision size."""
    lazy = plan_for("vllm-gaudi", execution_mode="lazy", min_pixels=401408)
    comp = plan_for("vllm-gaudi", execution_mode="compile", min_pixels=401408)
    assert lazy.buckets.buckets == comp.buckets.buckets
    assert lazy.warmup.compiled == comp.warmup.compiled != ()
    assert lazy.memory is not None and comp.memory is not None
    assert comp.memory.vision_graph_bytes == 0 and comp.memory.vision_graphs == 0
    assert lazy.memory.vision_graph_bytes > 0 and lazy.memory.vision_graphs == len(lazy.warmup.compiled)
    assert comp.memory.graph_reserved_mem == VLLM_GAUDI.memory.graph_reserved_default  # type: ignore[union-attr]
    assert lazy.memory.graph_reserved_mem > comp.memory.graph_reserved_mem
    assert comp.memory.kv_blocks > lazy.memory.kv_blocks
    assert any("torch.compile mode" in w for w in comp.warnings)
    assert any("lazy mode" in w for w in lazy.warnings)


@pytest.mark.parametrize("mode", ["lazy", "compile"])
def test_enforce_eager_in_either_mode(mode: str) -> None:
    """enforce_eager: R = 0 (hpu_worker.py:409-411) and no graphs of either kind (runner :4949, 6226); the
    vision warm-up still runs, outside compile-only (:6226-6229)."""
    plan = plan_for("vllm-gaudi", execution_mode=mode, enforce_eager=True, user_buckets=(1600, 3136))
    assert plan.memory is not None
    assert plan.memory.graph_reserved_mem == 0 and plan.memory.vision_graph_bytes == 0
    assert plan.warmup.compiled != ()


@given(st.sampled_from(MODED), st.booleans())
def test_vision_graph_memory_iff_hpu_graphs(case: tuple[EngineProfile, str], eager: bool) -> None:
    p, mode = case
    plan = plan_for(p.name, execution_mode=mode, enforce_eager=eager, user_buckets=(1600, 3136))
    facts = p.execution(mode)
    assert facts is not None and plan.memory is not None
    held = facts.hpu_graphs and not eager
    assert (plan.memory.vision_graph_bytes > 0) == held
    assert plan_env(plan)["PT_HPU_LAZY_MODE"] == facts.lazy_mode_value


def test_plan_file_round_trips_the_mode() -> None:
    plan = plan_for("vllm-gaudi", execution_mode="lazy")
    back = plan_from_dict(json.loads(json.dumps(plan_to_dict(plan))))
    assert back.serve.execution_mode == "lazy" and plan_env(back) == plan_env(plan)


def test_cli_flag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gaudi_vl", "plan", "--target", "vllm-gaudi", "--execution-mode", "lazy",
         "--min-pixels", "401408", "--json"], capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert json.loads(out)["env"]["PT_HPU_LAZY_MODE"] == "1"
    bad = subprocess.run(
        [sys.executable, "-m", "gaudi_vl", "plan", "--target", "vllm-fork-1.22",
         "--execution-mode", "compile"],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "--execution-mode compile" in bad.stderr
