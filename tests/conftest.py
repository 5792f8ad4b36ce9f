"""Test suite for gaudi-vl: mirrors the package; property tests for every planner invariant.

Markers: ``e2e`` (a real vLLM engine, heavy: CI runs it in its own step) — see tests/e2e/.
``tests/fuzz/``: every command fed hostile input as a real process (``hostile.py`` holds the contract
and the number of examples per test: 25 under the ``ci`` profile, 8 under ``dev``,
``GAUDI_VL_FUZZ_EXAMPLES=N`` for a long hunt).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
