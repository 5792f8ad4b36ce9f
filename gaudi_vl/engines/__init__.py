"""Engine profiles: one frozen profile per engine version, each fact cited (path:line@commit).

Everything gaudi-vl knows about what a given engine reads and does (variables and their defaults,
bucket parsing, lookup and padding, the warm-up set, the vision attention's memory, the memory split,
log line formats, install hints) lives in this package and nowhere else. The rest of gaudi-vl asks
a profile; it never tests which engine it is talking to.

Profiles (``--target``): ``vllm-fork-1.21`` (default: HabanaAI/vllm-fork aice/v1.21.0, the Qwen2.5-VL
release line the guides document), ``vllm-fork-1.22`` (aice/v1.22.0, the fork's last release line before
its end of life from v1.23), ``vllm-fork`` (habana_main), ``vllm-gaudi`` (the vLLM V1 plugin, main, in
torch.compile or lazy mode), ``vllm`` (upstream vLLM on GPUs and CPUs).
"""

from __future__ import annotations

from gaudi_vl.engines.logs import GRAMMARS
from gaudi_vl.engines.profile import (
    EngineProfile,
    EnvVar,
    ExecutionMode,
    Fingerprint,
    GridRule,
    InstalledEngine,
    MemorySplit,
    ModeFacts,
    SchedulerRule,
    Setting,
    VisionAttention,
    WarmupRule,
    WarmupSet,
)
from gaudi_vl.engines.vllm_fork import FORK_121, FORK_122, FORK_MAIN
from gaudi_vl.engines.vllm_gaudi import VLLM_GAUDI
from gaudi_vl.engines.vllm_upstream import VLLM_UPSTREAM
from gaudi_vl.errors import GaudiVLError

PROFILES: tuple[EngineProfile, ...] = (FORK_121, FORK_122, FORK_MAIN, VLLM_GAUDI, VLLM_UPSTREAM)
"""Every profile, most specific fingerprint first (``identify`` takes the first match)."""
DEFAULT_PROFILE = FORK_121
"""The seeds' engine: vllm-fork's Qwen2.5-VL release line."""
NAMES: tuple[str, ...] = tuple(p.name for p in PROFILES)


def get_profile(name: str | EngineProfile) -> EngineProfile:
    """The profile called ``name`` (a ``--target`` value); a one-line error lists the known ones."""
    if isinstance(name, EngineProfile):
        return name
    for p in PROFILES:
        if p.name == name:
            return p
    raise GaudiVLError(f"unknown target {name!r}", f"use one of {', '.join(NAMES)}")


# The doctor reads a log with the grammar of the profile it is told (``logs.GRAMMARS`` by name, also
# ``gaudi-vl doctor --target``'s choices); every profile brings its own, so profiles added after that
# table (vllm-fork-1.22) are reachable too. Existing entries are left as they are.
for _p in PROFILES:
    if _p.log_grammar is not None:
        GRAMMARS.setdefault(_p.name, _p.log_grammar)


FINGERPRINT_ORDER: tuple[EngineProfile, ...] = (VLLM_GAUDI, FORK_121, FORK_122, FORK_MAIN, VLLM_UPSTREAM)
"""Most specific first: vllm-gaudi also has ``vllm``; the fork's runner file tells its branches apart
(1.22's marker before habana_main, whose fingerprint is only "no 1.21 ratio")."""


def identify(installed: InstalledEngine) -> EngineProfile | None:
    """The profile whose fingerprint the installed engine matches, or None when no engine is there."""
    for p in FINGERPRINT_ORDER:
        if installed.matches(p.fingerprint):
            return p
    return None


def probe_plan() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a probe must look up: the module names and the marker files the fingerprints name."""
    modules = sorted({m for p in PROFILES for m in (*p.fingerprint.modules, *p.fingerprint.absent)})
    files = sorted({p.fingerprint.marker_file for p in PROFILES if p.fingerprint.marker_file})
    return tuple(modules), tuple(files)


__all__ = [
    "DEFAULT_PROFILE",
    "FINGERPRINT_ORDER",
    "FORK_121",
    "FORK_122",
    "FORK_MAIN",
    "NAMES",
    "PROFILES",
    "VLLM_GAUDI",
    "VLLM_UPSTREAM",
    "EngineProfile",
    "EnvVar",
    "ExecutionMode",
    "Fingerprint",
    "GridRule",
    "InstalledEngine",
    "MemorySplit",
    "ModeFacts",
    "SchedulerRule",
    "Setting",
    "VisionAttention",
    "WarmupRule",
    "WarmupSet",
    "get_profile",
    "identify",
    "probe_plan",
]
