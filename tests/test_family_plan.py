"""Whole-engine plans for the families beyond Qwen2.5-VL on vllm-gaudi (``gaudi_vl.family_plan``):
memory, text buckets, one graph budget, warm-up estimate, environment, command, every export, the
plan file round trip and ``serve --dry-run``; invariants of the memory plan as property tests."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaudi_vl.assembly import PlanRequest, assemble_family
from gaudi_vl.command import server_argv
from gaudi_vl.engines.vllm_gaudi_models import VLLM_GAUDI_MODELS, greedy_plan, model_facts
from gaudi_vl.envvars import plan_env
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.exporters import FORMATTERS, format_plan
from gaudi_vl.family_plan import FamilyWarmup, family_calls, largest_call
from gaudi_vl.memory import (
    InfeasiblePlan,
    VisionCall,
    model_kv_bytes_per_token,
    model_weights_bytes,
    tp_ok,
    vision_margin_bytes,
)
from gaudi_vl.models import ModelSpec, builtin_model
from gaudi_vl.plan import Plan
from gaudi_vl.planfile import plan_from_dict, plan_to_dict
from gaudi_vl.settings import ServeSettings

GAUDI_VL = [sys.executable, "-m", "gaudi_vl"]
FAMILIES = {"qwen3-vl-8b": 1, "qwen3-vl-32b": 1, "qwen3-vl-30b-a3b": 1, "qwen3-vl-235b-a22b": 8,
            "qwen2-vl-7b": 1, "gemma-3-27b": 1, "llama-4-scout": 4}
"""Built-in checkpoints and the smallest tensor parallel size that fits one Gaudi2 each."""


def _plan(name: str, tp: int, warm: FamilyWarmup | None = None, **serve: object) -> Plan:
    model = builtin_model(name)
    s = ServeSettings(target="vllm-gaudi", tensor_parallel_size=tp, **serve)  # type: ignore[arg-type]
    return assemble_family(PlanRequest(model, s, model_ref=model.hf_id),
                           warm or FamilyWarmup((), (), s.images_per_prompt))


def _gemma4() -> ModelSpec:
    transformers = pytest.importorskip("transformers")
    from gaudi_vl.family_models import family_model_spec

    config = transformers.Gemma4Config(
        text_config={"hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 6,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 1000},
        vision_config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                       "num_attention_heads": 4},
        audio_config=None)
    return family_model_spec(config.to_dict(), {"max_soft_tokens": 280}, name="gemma4-tiny")


@pytest.mark.parametrize("mode", ["compile", "lazy"])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_table_has_memory_warmup_environment_and_command(name: str, mode: str) -> None:
    plan = _plan(name, FAMILIES[name], execution_mode=mode)
    text = format_plan(plan, "table")
    for section in ("memory:", "graph budget", "warm-up:", "text buckets", "environment:", "command:"):
        assert section in text, section
    assert plan.memory is not None and plan.text_buckets is not None and plan.text_buckets.modelled
    env = plan_env(plan)
    assert env["VLLM_GRAPH_RESERVED_MEM"] == f"{plan.memory.graph_reserved_mem:.4g}"
    assert "GAUDI_VL_ALIGN" not in env  # gaudi-vl's plugin aligns Qwen2.5-VL only
    argv = server_argv(plan)
    kwargs = json.loads(argv[argv.index("--mm-processor-kwargs") + 1])
    assert kwargs == plan.model.family.processor_kwargs()  # type: ignore[union-attr]
    assert json.loads(argv[argv.index("--limit-mm-per-prompt") + 1]) == {"image": 1}
    assert argv[argv.index("--max-num-seqs") + 1] == str(plan.memory.max_num_seqs)
    # one vision graph per compiled key, counted once in the memory plan and the estimate
    graphs = len(family_calls(plan.model, plan.engine, plan.family_warmup))  # type: ignore[arg-type]
    assert plan.warmup.graphs == graphs
    # lazy mode captures HPU graphs; torch.compile mode compiles the same keys and holds no graph memory
    held = plan.serve.execution is not None and plan.serve.execution.vision_graph_memory
    assert held == (mode == "lazy")
    assert plan.memory.vision_graphs == (graphs if held else 0)
    assert (plan.memory.vision_graph_bytes > 0) == (held and graphs > 0)
    assert dict(plan.warmup_estimate.graphs_by_kind)["vision"] == graphs
    assert dict(plan.warmup_estimate.graphs_by_kind)["decode"] == plan.memory.text_decode_graphs


def test_qwen3_vl_size_edges_reach_vllms_own_processor_keys() -> None:
    """vLLM folds Qwen3-VL's ``size`` edges into the processor call: the kwargs name what it reads."""
    plan = _plan("qwen3-vl-8b", 1)
    rule = plan.model.family.image  # type: ignore[union-attr]
    assert plan.model.family.processor_kwargs() == {  # type: ignore[union-attr]
        "size": {"shortest_edge": rule.min_pixels, "longest_edge": rule.max_pixels}}
    assert _plan("qwen2-vl-7b", 1).model.family.processor_kwargs() == {  # type: ignore[union-attr]
        "min_pixels": 3136, "max_pixels": 12845056}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_plan_file_loads_back_as_itself(name: str) -> None:
    plan = _plan(name, FAMILIES[name])
    data = json.loads(json.dumps(plan_to_dict(plan)))
    assert plan_from_dict(data) == plan


def test_plan_file_with_traffic_resolutions_loads_back_and_refuses_edits() -> None:
    warm = FamilyWarmup((196, 441), ("1280x704x1-2", "1920x1088"), 2)
    plan = _plan("qwen3-vl-8b", 1, warm, images_per_prompt=2)
    data = json.loads(json.dumps(plan_to_dict(plan)))
    assert plan_from_dict(data) == plan
    assert data["env"]["VLLM_MULTIMODAL_RESOLUTIONS"] == "1280x704x1-2,1920x1088"
    assert data["env"]["VLLM_MULTIMODAL_BUCKETS"] == "196,441"
    edited = json.loads(json.dumps(data))
    edited["family_warmup"]["limit"] = 3
    with pytest.raises(GaudiVLError, match="edited by hand|implied"):
        plan_from_dict(edited)
    edited = json.loads(json.dumps(data))
    edited["family_warmup"]["resolutions"] = ["12x"]
    with pytest.raises(GaudiVLError):
        plan_from_dict(edited)


def test_gemma4_plan_is_complete_and_round_trips() -> None:
    model = _gemma4()
    s = ServeSettings(target="vllm-gaudi", max_model_len=8192)
    warm = FamilyWarmup((), ("1920x1072x1",), 1)
    plan = assemble_family(PlanRequest(model, s, model_ref="gemma4-tiny"), warm)
    assert plan.memory is not None and plan.warmup.graphs == 1
    assert "VLLM_MULTIMODAL_BUCKETS" not in plan_env(plan)  # an empty list is the engine's default
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(plan)))) == plan
    # Gemma-4's tower is transformers' own, not split by TP: its weights are held whole
    assert not VLLM_GAUDI_MODELS.vision_sharded("gemma4")


@pytest.mark.parametrize("fmt", sorted(FORMATTERS))
def test_every_format_renders_a_family_plan(fmt: str) -> None:
    text = format_plan(_plan("qwen3-vl-30b-a3b", 1), fmt)
    assert text.strip()
    if fmt in ("env", "dotenv", "docker"):
        assert "VLLM_GRAPH_RESERVED_MEM" in text


@pytest.mark.parametrize("name", ["qwen3-vl-8b", "gemma-3-27b", "llama-4-scout"])
def test_k8s_manifests_of_a_family_plan_validate(name: str) -> None:
    yaml = pytest.importorskip("yaml")
    kv = pytest.importorskip("kubernetes_validate")
    plan = _plan(name, FAMILIES[name])
    docs = [d for d in yaml.safe_load_all(format_plan(plan, "k8s")) if d]
    for doc in docs:
        kv.validate(doc, "1.37", strict=True)
    deploy = next(d for d in docs if d["kind"] == "Deployment")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert env["VLLM_GRAPH_RESERVED_MEM"] == plan_env(plan)["VLLM_GRAPH_RESERVED_MEM"]
    probe = container["startupProbe"]
    assert probe["failureThreshold"] * probe["periodSeconds"] >= plan.warmup_estimate.seconds_high
    limits = container["resources"]["limits"]
    assert str(limits["habana.ai/gaudi"]) == str(FAMILIES[name])


def test_cli_plan_and_serve_dry_run_for_a_family(tmp_path: object) -> None:
    table = subprocess.run([*GAUDI_VL, "plan", "--model", "qwen3-vl-8b", "--target", "vllm-gaudi"],
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    for section in ("memory:", "warm-up:", "environment:", "command:", "VLLM_GRAPH_RESERVED_MEM"):
        assert section in table.stdout
    dry = subprocess.run([*GAUDI_VL, "serve", "--model", "qwen3-vl-8b", "--target", "vllm-gaudi",
                          "--dry-run"], capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "export VLLM_GRAPH_RESERVED_MEM=" in dry.stdout and "--mm-processor-kwargs" in dry.stdout
    assert "GAUDI_VL_ALIGN=1" not in dry.stdout


def test_cli_plan_file_serves_as_written(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "plan.json"
    made = subprocess.run([*GAUDI_VL, "plan", "--model", "gemma-3-27b", "--target", "vllm-gaudi", "--json",
                           "-o", str(path)], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    dry = subprocess.run([*GAUDI_VL, "serve", "--plan", str(path), "--dry-run"],
                         capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert '{"do_pan_and_scan":false}' in dry.stdout


# ------------------------------------------------------------------ weights, KV, the largest call


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_weights_at_tp1_are_every_parameter_and_shrink_with_tp(name: str) -> None:
    model = builtin_model(name)
    fam = model.family
    assert fam is not None
    text, vision = model_weights_bytes(model, 1, 2)
    assert (text, vision) == (2 * fam.text_params, 2 * fam.vision_params)  # MoE: every expert held
    last = text + vision
    for tp in (2, 4, 8):
        if tp_ok(model, tp):
            now = sum(model_weights_bytes(model, tp, 2))
            assert (text + vision) / tp <= now <= last
            last = now


def test_kv_per_token_uses_the_configs_head_dim_and_splits_kv_heads() -> None:
    model = builtin_model("qwen3-vl-32b")  # head_dim 128 while hidden / heads is 80
    assert model_kv_bytes_per_token(model, 1, 2) == 2 * 64 * 8 * 128 * 2
    assert model_kv_bytes_per_token(model, 8, 2) == 2 * 64 * 1 * 128 * 2
    assert model_kv_bytes_per_token(model, 16, 2) == 2 * 64 * 1 * 128 * 2  # replicated above kv heads
    model = builtin_model("qwen3-vl-30b-a3b")
    assert model_kv_bytes_per_token(model, 1, 2) == model.family.kv_bytes_per_token(2)  # type: ignore[union-attr]


def test_gemma3_calls_never_exceed_its_largest_batch_bucket() -> None:
    """vllm-gaudi splits Gemma-3's crops greedily into its batch buckets (gemma3_mm.py:22-40): however
    many images a step holds, one tower call is at most the largest bucket of 896 x 896 crops."""
    plan = _plan("gemma-3-27b", 1, max_num_batched_tokens=65536)
    rule = plan.model.family.image  # type: ignore[union-attr]
    top = largest_call(plan.model, plan.engine, plan.family_warmup, 65536)  # type: ignore[arg-type]
    assert top == VisionCall(max(model_facts("gemma3").default_buckets) * rule.patches_per_unit,
                             rule.patches_per_unit)
    assert max(greedy_plan(100, (1, 2, 4, 8))) == 8


# ------------------------------------------------------------------ properties

names = st.sampled_from(sorted(FAMILIES))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names, st.integers(1, 4), st.sampled_from([4096, 8192, 32768]), st.sampled_from([None, 8192, 65536]))
def test_a_family_memory_plan_is_feasible_by_its_own_arithmetic(
    name: str, images: int, max_model_len: int, batched: int | None,
) -> None:
    try:
        plan = _plan(name, FAMILIES[name], images_per_prompt=images, max_model_len=max_model_len,
                     max_num_batched_tokens=batched)
    except InfeasiblePlan as exc:
        assert exc.hint  # an infeasible plan says what would fit
        return
    mem = plan.memory
    assert mem is not None
    assert mem.free_bytes > 0 and 0 < mem.gpu_memory_utilization <= 0.9
    assert mem.kv_tokens >= -(-max_model_len // mem.block_size) * mem.block_size
    assert mem.outside_kv_bytes >= vision_margin_bytes(mem.vision_peak_bytes) - 1
    assert mem.graph_reserve_bytes >= mem.vision_graph_bytes
    assert 1 <= mem.max_num_seqs <= 256
    top = largest_call(plan.model, plan.engine, plan.family_warmup, plan.serve.batched_tokens)  # type: ignore[arg-type]
    assert mem.largest_bucket_patches == top.patches
    assert all(c <= top for c in family_calls(plan.model, plan.engine, plan.family_warmup))  # type: ignore[arg-type]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names, st.integers(1, 3), st.integers(1, 3), st.sampled_from([8192, 32768, 131072]))
def test_vision_peak_and_graphs_grow_with_images_and_resolutions(
    name: str, images: int, more: int, batched: int,
) -> None:
    """More images per prompt or a larger encoder budget never shrink the largest call or its peak;
    warming one more resolution never warms fewer graphs."""
    tp = FAMILIES[name]
    try:
        small = _plan(name, tp, images_per_prompt=images, max_num_batched_tokens=batched)
        large = _plan(name, tp, images_per_prompt=images + more, max_num_batched_tokens=batched * 2)
    except InfeasiblePlan:
        return
    assert small.memory is not None and large.memory is not None
    assert large.memory.largest_bucket_patches >= small.memory.largest_bucket_patches
    assert large.memory.vision_peak_bytes >= small.memory.vision_peak_bytes
    base = small.family_warmup
    assert base is not None
    if small.model.family.image.kind.value == "resize":  # type: ignore[union-attr]
        extra = replace(base, resolutions=("1280x720x1",))
        assert _plan(name, tp, extra, images_per_prompt=images,
                     max_num_batched_tokens=batched).warmup.graphs >= small.warmup.graphs


def test_plain_mlp_towers_hold_half_the_mlp_activations_of_gated_ones() -> None:
    """Qwen3-VL's tower MLP is fc1 -> GELU -> fc2 (transformers' Qwen3VLVisionMLP): its MLP phase
    holds ``I`` per patch where a gated MLP holds ``2 I`` (gate and up)."""
    from gaudi_vl.engines.vllm_gaudi_models import encoder_attention
    from gaudi_vl.memory import vision_peak

    transformers = pytest.importorskip("transformers")
    from transformers.models.qwen3_vl import modeling_qwen3_vl

    assert not hasattr(modeling_qwen3_vl.Qwen3VLVisionMLP(
        transformers.Qwen3VLConfig().vision_config), "gate_proj")
    v = builtin_model("qwen3-vl-8b").vision
    assert not v.mlp_gated and _gemma4().vision.mlp_gated
    n = 4096
    plain = vision_peak(v, n, encoder_attention()).mlp_bytes  # type: ignore[arg-type]
    gated = vision_peak(replace(v, mlp_gated=True), n, encoder_attention()).mlp_bytes  # type: ignore[arg-type]
    assert gated - plain == n * 2 * 2 * v.intermediate_size


def test_max_pixels_pins_a_resize_family_and_bounds_its_call() -> None:
    """``--max-pixels`` for Qwen3-VL replaces the processor's ``longest_edge`` (pinned in the command)
    and plans the tower for it: every image the processor then makes is within the planned call."""
    from gaudi_vl.family_plan import with_pixels

    model = with_pixels(builtin_model("qwen3-vl-8b"), None, 1003520)
    s = ServeSettings(target="vllm-gaudi", max_num_batched_tokens=8192)
    plan = assemble_family(PlanRequest(model, s, model_ref=model.hf_id), FamilyWarmup((), (), 1))
    argv = server_argv(plan)
    assert json.loads(argv[argv.index("--mm-processor-kwargs") + 1])["size"]["longest_edge"] == 1003520
    rule = model.family.image  # type: ignore[union-attr]
    assert plan.memory is not None
    for w, h in ((4032, 3024), (1920, 1080), (8000, 500), (640, 480)):
        assert rule.shape(w, h).units <= plan.memory.vision_seq_patches
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(plan)))) == plan
    with pytest.raises(GaudiVLError, match="resize by area"):
        with_pixels(builtin_model("gemma-3-27b"), None, 1003520)
    with pytest.raises(GaudiVLError, match="above"):
        with_pixels(builtin_model("qwen3-vl-8b"), 2_000_000, 1003520)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4096), st.sampled_from([2048, 8192, 32768]), st.integers(1, 4))
def test_the_largest_call_is_what_the_encoder_budget_admits(cells: int, batched: int, limit: int) -> None:
    """``largest_image`` is the most patches the processor makes (every image on the factor grid within
    max_pixels is kept as is), and one call holds as many of them as the encoder budget admits
    (``VllmGaudiModels.encoder_step_images``), at least the per-prompt limit."""
    from gaudi_vl.family_plan import with_pixels

    base = builtin_model("qwen3-vl-8b")
    factor = base.family.image.factor  # type: ignore[union-attr]
    hi = max(cells * factor * factor, 12544)
    model = with_pixels(base, factor * factor, hi)
    rule = model.family.image  # type: ignore[union-attr]
    units = rule.shape(*rule.largest_image()).units
    grid = hi // factor**2
    assert units <= grid * rule.merge_size**2  # never above max_pixels' whole cells
    for k in range(1, grid + 1, max(1, grid // 64)):  # no image on another grid makes more (brute force)
        w, h = k * factor, max(1, grid // k) * factor
        if max(w, h) < 200 * min(w, h):
            assert rule.shape(w, h).units <= units
    item = rule.shape(*rule.largest_image()).tokens
    n = VLLM_GAUDI_MODELS.encoder_step_images(item, batched, limit)
    budget = max(batched, item)
    assert n >= limit
    if n > limit:
        assert n * item <= budget < (n + 1) * item


def test_an_infeasible_family_plan_is_one_line_naming_what_fits() -> None:
    too_high = subprocess.run([*GAUDI_VL, "plan", "--model", "qwen3-vl-8b", "--target", "vllm-gaudi",
                               "--gpu-memory-utilization", "0.99"],
                              capture_output=True, text=True, timeout=120)
    assert too_high.returncode == 2 and len(too_high.stderr.strip().splitlines()) == 1
    assert "largest encoder call" in too_high.stderr
    assert "lower --gpu-memory-utilization to" in too_high.stderr
    with pytest.raises(InfeasiblePlan) as info:
        _plan("llama-4-scout", 1)
    assert info.value.binding == "weights" and "raise --tp to 4" in info.value.hint
