"""End-to-end tests against a real vLLM engine (marker ``e2e``; heavy install: tools/ci/install_e2e.sh).

Quick local runs skip them with ``pytest -m "not e2e"``; without vLLM they skip with a reason.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

INSTALL = "tools/ci/install_e2e.sh .venv/bin/python"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: starts a real vLLM engine (install it with " + INSTALL + ")")


@pytest.fixture(scope="session")
def vllm_installed() -> None:
    if importlib.util.find_spec("vllm") is None:
        pytest.skip(f"vLLM is not importable here: install the engine with {INSTALL}")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, vllm_installed: None) -> Path:
    """The tiny random Qwen2.5-VL checkpoint, built once per session (seconds)."""
    from tiny_model import build_tiny_model  # tests/e2e is on sys.path (rootdir conftest, no __init__)

    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2.5-vl"))
