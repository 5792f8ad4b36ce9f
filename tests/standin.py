"""Stand-in engine interpreters for the launcher tests: how they answer gaudi-vl's engine probe.

The probe (``gaudi_vl.engine_probe``, run as ``python -c SOURCE JSON``) is answered the way an
interpreter with a given engine installed answers it, built from that engine profile's fingerprint;
the code under test (the launcher, its checks and supervision) is real.
"""

from __future__ import annotations

import json

from gaudi_vl.engines import EngineProfile, InstalledEngine, identify


def probe_answer(engine: EngineProfile | None) -> str:
    """Stand-in code that answers the engine probe like an interpreter with ``engine`` installed."""
    fp = engine.fingerprint if engine is not None else None
    found = {
        "modules": list(fp.modules) if fp else [],
        "files": {fp.marker_file: fp.marker} if fp and fp.marker_file else {},
        "versions": {"vllm": "0.0.test"} if fp else {},
    }
    installed = InstalledEngine(frozenset(found["modules"]), found["files"])
    assert identify(installed) == engine  # the answer really is that engine's
    return f"if sys.argv[1:2] == ['-c']:\n    print({json.dumps(found)!r})\n    sys.exit(0)\n"
