"""``gaudi-vl plan --target auto``: the plan is for the engine ``--python``'s interpreter has installed.

The interpreter is a stand-in that answers gaudi-vl's engine probe like one with a given engine
installed (``tests/standin.py``, built from the profile's fingerprint), as in the launcher tests; the
probe, ``engines.identify`` and the plan are real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gaudi_vl.engines import DEFAULT_PROFILE, PROFILES, EngineProfile
from gaudi_vl.settings import ServeSettings
from tests.standin import probe_answer

PLAN = [sys.executable, "-m", "gaudi_vl", "plan", "--min-pixels", "401408"]


def interpreter(tmp_path: Path, engine: EngineProfile | None) -> Path:
    exe = tmp_path / "fake-python"
    exe.write_text(f"#!{sys.executable}\nimport json, sys\n{probe_answer(engine)}sys.exit(3)\n")
    exe.chmod(0o755)
    return exe


@pytest.mark.parametrize("engine", PROFILES, ids=lambda p: p.name)
def test_auto_plans_for_the_installed_engine(tmp_path: Path, engine: EngineProfile) -> None:
    exe = interpreter(tmp_path, engine)
    done = subprocess.run([*PLAN, "--target", "auto", "--python", str(exe), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["serve"]["target"] == engine.name


def test_auto_without_an_engine_is_one_line_naming_target(tmp_path: Path) -> None:
    exe = interpreter(tmp_path, None)
    done = subprocess.run([*PLAN, "--target", "auto", "--python", str(exe)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--target" in lines[0] and "no vLLM engine" in lines[0]


def test_default_target_unchanged_and_auto_never_stored() -> None:
    assert ServeSettings().target == DEFAULT_PROFILE.name == "vllm-fork-1.21"
    with pytest.raises(Exception, match="--target"):
        ServeSettings(target="auto")


def test_serve_dry_run_with_auto_uses_the_installed_engine_and_its_default_mode(tmp_path: Path) -> None:
    from gaudi_vl.engines import VLLM_GAUDI

    exe = interpreter(tmp_path, VLLM_GAUDI)
    done = subprocess.run(
        [sys.executable, "-m", "gaudi_vl", "serve", "qwen2.5-vl-7b", "--min-pixels", "401408",
         "--target", "auto", "--python", str(exe), "--dry-run"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # vllm-gaudi's default mode is torch.compile (docs/configuration/env_variables.md:80@091bbadd)
    assert "PT_HPU_LAZY_MODE=0" in done.stdout
