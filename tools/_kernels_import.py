"""``gaudi_vl.kernels`` for the benchmark scripts, installed or from a plain checkout.

setup.py maps ``kernels/`` to ``gaudi_vl.kernels`` on install; on the device machine the repository is
only copied, so the scripts load the folder under that name themselves.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def import_kernels() -> ModuleType:
    """``gaudi_vl.kernels``, also from a plain checkout (setup.py maps ``kernels/`` there on install)."""
    try:
        return importlib.import_module("gaudi_vl.kernels")
    except ImportError:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        spec = importlib.util.spec_from_file_location(
            "gaudi_vl.kernels",
            ROOT / "kernels" / "__init__.py",
            submodule_search_locations=[str(ROOT / "kernels")],
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["gaudi_vl.kernels"] = module
        spec.loader.exec_module(module)
        return module
