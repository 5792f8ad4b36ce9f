"""Kernel tests: the import shim and session fixtures (torch is imported lazily, so a missing torch
skips the test modules through their ``pytest.importorskip`` instead of breaking collection).

The shim only matters before setup.py's ``gaudi_vl.kernels`` mapping is installed: it registers the
repository's ``kernels/`` folder under that name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parents[2]
try:
    importlib.import_module("gaudi_vl.kernels")
except ImportError:
    if importlib.util.find_spec("gaudi_vl") is None:
        sys.path.insert(0, str(_ROOT))
    _spec = importlib.util.spec_from_file_location(
        "gaudi_vl.kernels",
        _ROOT / "kernels" / "__init__.py",
        submodule_search_locations=[str(_ROOT / "kernels")],
    )
    sys.modules["gaudi_vl.kernels"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["gaudi_vl.kernels"])


@pytest.fixture(scope="session")
def tiny_tower() -> Any:
    from kernel_towers import TINY, make_tower

    return make_tower(TINY, seed=1)


@pytest.fixture(scope="session")
def mid_tower() -> Any:
    from kernel_towers import MID, make_tower

    return make_tower(MID, seed=2)
