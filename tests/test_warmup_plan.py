"""Warm-up resolutions from traffic: the top-K optimiser against brute force, the plan against
transformers' real processor, and ``gaudi-vl plan --workload`` end to end on real image files."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.buckets.resolutions import covered_weight, heaviest_keys
from gaudi_vl.engines.vllm_gaudi_models import call_keys, model_facts, warm_entries, warmed_keys
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.family_models import FAMILY_BUILTINS
from gaudi_vl.models import builtin_model
from gaudi_vl.warmup_plan import plan_warmup

GAUDI_VL = [sys.executable, "-m", "gaudi_vl"]
QWEN3 = builtin_model("qwen3-vl-8b")
FACTS = model_facts("qwen3_vl")
RULE = QWEN3.family.image  # type: ignore[union-attr]


@given(st.lists(st.integers(0, 50), min_size=0, max_size=9), st.integers(0, 10))
def test_heaviest_keys_is_optimal_against_brute_force(weights: list[int], budget: int) -> None:
    weighted = list(enumerate(weights))
    chosen = heaviest_keys(weighted, budget)
    assert len(chosen) <= budget and len(set(chosen)) == len(chosen)
    assert all(weights[k] > 0 for k in chosen)
    best = max(covered_weight(weighted, set(c)) for r in range(min(budget, len(weights)) + 1)
               for c in itertools.combinations(range(len(weights)), r))
    assert covered_weight(weighted, set(chosen)) == best


def test_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError):
        heaviest_keys([("a", 1)], -1)


sizes = st.tuples(st.integers(32, 4000), st.integers(32, 4000)).filter(lambda s: max(s) / min(s) < 200)
requests = st.dictionaries(
    st.tuples(sizes, st.integers(1, 3)).map(lambda t: (t[0],) * t[1]), st.integers(1, 50),
    min_size=1, max_size=12)


def _rules() -> dict[str, tuple]:
    from gaudi_vl.families import ImageKind, ImageRule

    out = {n: (model_facts(builtin_model(n).family.family), builtin_model(n).family.image)
           for n in ("qwen3-vl-8b", "qwen2-vl-7b", "gemma-3-27b", "llama-4-scout")}
    out["gemma4"] = (model_facts("gemma4"), ImageRule(ImageKind.ASPECT, 16, 3, max_soft_tokens=280))
    return out


RULES = _rules()


@given(requests, st.integers(1, 60), st.sampled_from(sorted(RULES)))
def test_plan_invariants(reqs: dict, max_graphs: int, family: str) -> None:
    facts, rule = RULES[family]
    try:
        report = plan_warmup(reqs, facts, rule, max_graphs=max_graphs, limit=1)
    except GaudiVLError:
        smallest = min(len(warmed_keys(facts, rule, (b,), (), 3)) for b in facts.default_buckets)
        assert max_graphs < smallest
        return
    planned, default = report.planned, report.default
    assert planned.graphs <= max_graphs or (not facts.reads_resolutions and planned.buckets == (1,))
    if facts.shape_key.value == "batch-breakdown":
        assert planned.compiling == 0 and 1 in planned.buckets
    assert planned.limit >= max(len(r) for r in reqs)
    assert planned.requests == default.requests == sum(reqs.values())
    if facts.reads_resolutions and max_graphs >= default.graphs + len(reqs):
        assert planned.compiling == 0  # every request here sends N copies of one image
    if facts.reads_resolutions and max_graphs >= default.graphs:
        assert planned.compiling <= default.compiling
    # the score is what the engine's warm-up and serving keys say
    warm = warmed_keys(facts, rule, planned.buckets, planned.resolutions, planned.limit)
    cold = sum(n for r, n in reqs.items() if not set(call_keys(facts, rule, r, planned.buckets)) <= warm)
    assert cold == planned.compiling


def test_planned_resolutions_land_on_the_traffic_grids_through_the_real_processor() -> None:
    """Each exported WxHxN, sent through transformers' Qwen2VLImageProcessor with Qwen3-VL's settings
    (as the engine's warm-up sends it), gives the grid of the requests it is meant to serve."""
    transformers = pytest.importorskip("transformers")
    image = pytest.importorskip("PIL.Image")
    pre = FAMILY_BUILTINS["qwen3-vl-8b"][2]
    proc = transformers.Qwen2VLImageProcessor(size=pre["size"], patch_size=16, merge_size=2)
    traffic = {((1920, 1080),): 40, ((1280, 720),) * 2: 25, ((640, 480),): 30, ((4032, 3024),): 5,
               ((333, 500),): 3}

    def grid(w: int, h: int) -> tuple[int, int]:
        t = proc(images=image.new("RGB", (w, h)), return_tensors="pt")["image_grid_thw"][0].tolist()
        return t[1], t[2]

    report = plan_warmup(traffic, FACTS, RULE, max_graphs=25, limit=1)
    p = report.planned
    assert p.compiling == 0 and p.limit == 2
    runs = warm_entries(FACTS, RULE, p.buckets, p.resolutions, p.limit)
    warm_real = {(grid(*wh), n) for wh, n in runs}
    for request in traffic:
        assert (grid(*request[0]), len(request)) in warm_real


def _qwen3_folder(tmp_path: Path) -> Path:
    transformers = pytest.importorskip("transformers")
    _, config, pre = FAMILY_BUILTINS["qwen3-vl-8b"]
    folder = tmp_path / "Qwen3-VL-8B"
    transformers.Qwen3VLConfig.from_dict(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(pre))
    return folder


def test_cli_plans_a_qwen3_vl_config_folder_against_image_files(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    images = tmp_path / "images"
    images.mkdir()
    for i, (w, h) in enumerate([(1920, 1080)] * 3 + [(1080, 1920), (640, 480), (4032, 3024), (300, 200)]):
        image.new("RGB", (w, h)).save(images / f"{i}.png")
    folder = _qwen3_folder(tmp_path)
    result = subprocess.run([*GAUDI_VL, "plan", "--model", str(folder), "--target", "vllm-gaudi",
                             "--workload", str(images), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    spec = out["model"]["spec"]  # the JSON is the plan file, the traffic report in its workload section
    assert spec["model_type"] == "qwen3_vl" and spec["family"]["image"]["patch_size"] == 16
    assert out["workload"]["requests"] == 7
    assert out["workload"]["planned"]["compiling_requests"] == 0
    assert out["workload"]["default"]["compiling_requests"] > 0
    assert out["env"]["VLLM_MULTIMODAL_RESOLUTIONS"] == ",".join(out["workload"]["planned"]["resolutions"])
    table = subprocess.run([*GAUDI_VL, "plan", "--model", str(folder), "--target", "vllm-gaudi",
                            "--workload", str(images)], capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "VLLM_MULTIMODAL_RESOLUTIONS=" in table.stdout


def test_cli_jsonl_requests_with_several_images(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    for name, size in (("a.png", (1280, 720)), ("b.png", (800, 600))):
        image.new("RGB", size).save(tmp_path / name)
    lines = []
    for urls in (["a.png", "a.png"], ["a.png", "a.png"], ["b.png"], ["a.png", "b.png"]):
        content = [{"type": "image_url", "image_url": {"url": u}} for u in urls]
        lines.append(json.dumps({"messages": [{"role": "user", "content": content}]}))
    (tmp_path / "chat.jsonl").write_text("\n".join(lines) + "\n")
    result = subprocess.run([*GAUDI_VL, "plan", "--model", "qwen3-vl-30b-a3b", "--target", "vllm-gaudi",
                             "--workload", str(tmp_path / "chat.jsonl"), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    w = json.loads(result.stdout)["workload"]
    assert w["requests"] == 4 and w["planned"]["limit_mm_per_prompt"] == 2
    assert w["planned"]["compiling_requests"] == 1  # the mixed-grid request: no warm-up can build it
    assert "1280x704x2" in w["planned"]["resolutions"]  # 1280x720 resized to multiples of 32


def test_cli_family_on_a_fork_target_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run([*GAUDI_VL, "plan", "--model", "qwen3-vl-8b", "--target", "vllm-fork"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "--target vllm-gaudi" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_images_the_processor_refuses_are_left_out_with_a_note() -> None:
    report = plan_warmup({((6000, 20),): 3, ((640, 480),): 2}, FACTS, RULE, max_graphs=25)
    assert report.planned.requests == 2 and report.planned.compiling == 0
    assert any("refuses" in n for n in report.notes)
    with pytest.raises(GaudiVLError):
        plan_warmup({((6000, 20),): 3}, FACTS, RULE)


@given(st.lists(st.tuples(st.integers(1, 20000), st.integers(1, 9)), min_size=1, max_size=20),
       st.lists(st.sampled_from([1024, 2048, 4096, 8192]), min_size=1, max_size=4, unique=True),
       st.lists(st.integers(1, 20000), max_size=6))
def test_padded_compiling_images_counts_unwarmed_run_sizes(
    hist: list[tuple[int, int]], buckets: list[int], compiled: list[int],
) -> None:
    from gaudi_vl.warmup_plan import padded_compiling_images

    warm = set(compiled)
    expected = sum(n for v, n in hist if next((b for b in sorted(buckets) if v <= b), v) not in warm)
    assert padded_compiling_images([v for v, _ in hist], [n for _, n in hist], buckets, compiled) == expected


@pytest.mark.parametrize("extra", [["--buckets", "1,2"], ["--max-graphs", "3"], ["--step", "64"],
                                   ["--max-pixels", "1003520"]])
def test_cli_options_that_do_not_apply_are_one_line_errors(extra: list[str]) -> None:
    result = subprocess.run([*GAUDI_VL, "plan", "--model", "gemma-3-27b", "--target", "vllm-gaudi", *extra],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cli_budget_below_one_bucket_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "sizes.csv").write_text("width,height,count\n1920,1080,5\n")
    result = subprocess.run([*GAUDI_VL, "plan", "--model", "qwen3-vl-8b", "--target", "vllm-gaudi",
                             "--workload", str(tmp_path / "sizes.csv"), "--max-graphs", "2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--max-graphs" in result.stderr


def test_gemma4_plan_from_nothing_warmed_to_every_request(tmp_path: Path) -> None:
    """vllm-gaudi's gemma4 entry has no buckets: without resolutions nothing is warmed and every request
    compiles; the plan warms each (patch count, images) group, one WxHxN per key."""
    transformers = pytest.importorskip("transformers")
    from gaudi_vl.family_models import family_model_spec

    config = transformers.Gemma4Config(
        text_config={"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 500},
        vision_config={"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1,
                       "num_attention_heads": 4},
        audio_config=None)
    fam = family_model_spec(config.to_dict(), {"max_soft_tokens": 280}).family
    facts = model_facts("gemma4")
    traffic = {((1920, 1080),): 10, ((1280, 720),) * 3: 4, ((640, 480),): 6, ((640, 480), (1920, 1080)): 2}
    report = plan_warmup(traffic, facts, fam.image, max_graphs=25)
    assert report.default.graphs == 0 and report.default.compiling == sum(traffic.values())
    assert report.planned.compiling == 0 and report.planned.buckets == ()
    assert report.planned.limit == 3
    # the same run through the CLI on a saved folder
    config.save_pretrained(tmp_path / "gemma4")
    (tmp_path / "gemma4" / "preprocessor_config.json").write_text(json.dumps({"max_soft_tokens": 280}))
    (tmp_path / "sizes.csv").write_text("width,height,count\n1920,1080,10\n640,480,6\n")
    result = subprocess.run([*GAUDI_VL, "plan", "--model", str(tmp_path / "gemma4"), "--target", "vllm-gaudi",
                             "--workload", str(tmp_path / "sizes.csv"), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["workload"]["planned"]["compiling_requests"] == 0
    assert "VLLM_MULTIMODAL_BUCKETS" not in out["env"] and out["env"]["VLLM_MULTIMODAL_RESOLUTIONS"]


@given(requests, st.integers(5, 40), st.integers(1, 20), st.sampled_from(sorted(RULES)))
def test_more_budget_never_leaves_more_requests_compiling(
    reqs: dict, low: int, extra: int, family: str,
) -> None:
    facts, rule = RULES[family]
    try:
        small = plan_warmup(reqs, facts, rule, max_graphs=low).planned
    except GaudiVLError:
        return
    large = plan_warmup(reqs, facts, rule, max_graphs=low + extra).planned
    assert large.compiling <= small.compiling


@given(st.dictionaries(st.tuples(sizes, st.integers(1, 2)).map(lambda t: (t[0],) * t[1]), st.integers(1, 30),
                       min_size=1, max_size=7), st.integers(1, 6))
def test_gemma4_plan_is_optimal_against_brute_force(reqs: dict, budget: int) -> None:
    """Gemma-4 has no buckets, so the plan is only the explicit keys: the best subset of at most
    ``budget`` warmable keys, found by trying every subset, leaves as few requests compiling."""
    from gaudi_vl.engines.vllm_gaudi_models import resolution_for_key

    facts, rule = RULES["gemma4"]
    report = plan_warmup(reqs, facts, rule, max_graphs=budget, limit=1)
    keys = {r: call_keys(facts, rule, r, ()) for r in report_requests(reqs, rule)}
    warmable = sorted({k for ks in keys.values() for k in ks
                       if resolution_for_key(rule, k) is not None or any(
                           call_keys(facts, rule, [r[0]] * len(r), ()) == (k,) for r in keys)})
    best = min(sum(n for r, n in reqs.items() if r in keys and not set(keys[r]) <= set(c))
               for size in range(min(budget, len(warmable)) + 1)
               for c in itertools.combinations(warmable, size))
    assert report.planned.compiling == best


def report_requests(reqs: dict, rule) -> list:
    """The requests the processor accepts (the others are left out of a plan)."""
    out = []
    for r in reqs:
        try:
            for w, h in r:
                rule.shape(w, h)
        except GaudiVLError:
            continue
        out.append(r)
    return out


def test_cli_warmup_seconds_budget_becomes_graphs(tmp_path: Path) -> None:
    from gaudi_vl.warmup import VISION_GRAPH_S

    (tmp_path / "sizes.csv").write_text("width,height,count\n1920,1080,5\n640,480,3\n")
    result = subprocess.run([*GAUDI_VL, "plan", "--model", "qwen3-vl-8b", "--target", "vllm-gaudi",
                             "--workload", str(tmp_path / "sizes.csv"), "--max-warmup-seconds", "5",
                             "--max-graphs", "40", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    w = json.loads(result.stdout)["workload"]
    assert w["max_graphs"] == int(5 // VISION_GRAPH_S) == 10
    assert w["planned"]["graphs"] <= 10
    assert w["planned"]["warmup_seconds_estimate"] == round(w["planned"]["graphs"] * VISION_GRAPH_S, 1)
