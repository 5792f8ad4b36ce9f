"""``gaudi_vl.kernels`` for the benchmark scripts, installed or from a plain checkout.

setup.py maps ``kernels/`` to ``gaudi_vl.kernels`` and ``buckets/`` to ``gaudi_vl.buckets`` on install;
on the device machine the repository is only copied, so the scripts put the checkout first on the path
and load those two folders under their package names themselves.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
MAPPED = {"gaudi_vl.buckets": "buckets", "gaudi_vl.kernels": "kernels"}


def _load_folder(name: str, folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, module)
    return module


def import_kernels() -> ModuleType:
    """``gaudi_vl.kernels`` (with ``gaudi_vl.buckets``), also from a plain checkout."""
    try:
        return importlib.import_module("gaudi_vl.kernels")
    except ImportError:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        for name, folder in MAPPED.items():
            try:
                importlib.import_module(name)
            except ImportError:
                _load_folder(name, ROOT / folder)
        return importlib.import_module("gaudi_vl.kernels")
