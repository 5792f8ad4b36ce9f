"""Device profiles: how much HBM one Gaudi card has, and how many cards a plan uses.

Pure. The built-in sizes follow vllm-gaudi's server defaults (``.cd/server/server_defaults.yaml``:
``HPU_MEM: {GAUDI2: 96, GAUDI3: 128}``). That file writes plain numbers; its calculator
(``.cd/server/vllm_autocalc_rules.py``) treats them as GiB (it divides byte counts by 1024**3 before
subtracting them from ``HPU_MEM``), and ``hl-smi`` reports a Gaudi2 card (HL-225) as ``98304MiB``,
exactly 96 GiB. So a Gaudi2 card is 96 GiB = 103,079,215,104 bytes and a Gaudi3 card 128 GiB.
Marketing "96 GB" is the same memory. The runtime does not hand all of it out: vllm-fork's own logs
in its docs (README_GAUDI / docs "Managing memory": ``Loading model weights took in total 15.05 GiB of
device memory (15.05 GiB/94.62 GiB used)``) show 94.62 GiB visible on a Gaudi2, so 1.38 GiB is kept by
the runtime; the same amount is assumed for Gaudi3 (not measured). ``--device-memory`` gives the
memory the runtime sees on another card (the ``/N GiB used`` figure of the engine log), with nothing
held back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gaudi_vl.errors import GaudiVLError

GIB = 1 << 30
GB = 10**9

BUILTIN_HBM_BYTES: dict[str, int] = {
    "gaudi2": 96 * GIB,
    "gaudi3": 128 * GIB,
}
"""HBM per card: vllm-gaudi ``.cd/server/server_defaults.yaml`` (GiB, see the module docstring)."""

DEFAULT_DEVICE = "gaudi2"
RUNTIME_RESERVED_BYTES = 96 * GIB - int(94.62 * GIB)
"""96 GiB card, 94.62 GiB visible in the engine's log (see the module docstring)."""

_UNITS: dict[str, int] = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": GB, "tb": 10**12,
    "kib": 1 << 10, "mib": 1 << 20, "gib": GIB, "tib": 1 << 40,
}
_SIZE = re.compile(r"^\s*(\d{1,20}(?:\.\d{1,20})?)\s*([a-zA-Z]{0,3})\s*$")
MAX_DEVICE_MEMORY_BYTES = 16 << 40
"""16 TiB: the largest ``--device-memory`` accepted (a Gaudi3 card has 128 GiB; README "Limits")."""


@dataclass(frozen=True)
class DeviceSpec:
    """One card type and the number of cards (tensor parallel ranks) a plan spreads over."""

    name: str
    hbm_bytes: int
    """Device memory of ONE card, in bytes."""
    cards: int = 1
    """Cards used by one engine: the tensor parallel size."""
    runtime_reserved_bytes: int = 0
    """Memory of each card the runtime keeps for itself (never visible to the engine)."""

    @property
    def visible_bytes(self) -> int:
        """What ``torch.hpu.mem_get_info`` reports as total on one card."""
        return self.hbm_bytes - self.runtime_reserved_bytes

    @property
    def total_hbm_bytes(self) -> int:
        return self.hbm_bytes * self.cards


def parse_memory_size(text: str) -> int:
    """Bytes from ``96GiB``, ``96GB``, ``98304MiB``, ``1.5TiB`` or a plain byte count.

    GB/MB are powers of ten and GiB/MiB powers of two, so the units never get mixed up silently.
    """
    m = _SIZE.match(text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise GaudiVLError(
            f"{text!r} is not a memory size",
            "write it as 96GiB, 96GB, 98304MiB or a byte count such as 103079215104",
        )
    value = float(m.group(1)) * _UNITS[unit]
    if value < 1:
        raise GaudiVLError(f"memory size {text!r} must be positive", "e.g. --device-memory 96GiB")
    if value > MAX_DEVICE_MEMORY_BYTES:
        raise GaudiVLError(
            f"memory size {text!r} is above the limit of 16 TiB per card", "e.g. --device-memory 96GiB"
        )
    return int(value)


def device_spec(name: str = DEFAULT_DEVICE, *, memory: str | int | None = None, tp: int = 1) -> DeviceSpec:
    """A built-in card by name (case-insensitive), optionally with its memory overridden.

    Unknown names raise a one-line ``GaudiVLError`` that lists the known ones.
    """
    key = name.strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    if key not in BUILTIN_HBM_BYTES:
        known = ", ".join(BUILTIN_HBM_BYTES)
        raise GaudiVLError(
            f"unknown device {name!r}",
            f"use one of {known} (for another card add --device-memory SIZE, e.g. 96GiB)",
        )
    if tp < 1:
        raise GaudiVLError(f"tensor parallel size {tp} is below 1", "use --tp 1 or more")
    hbm = BUILTIN_HBM_BYTES[key]
    reserved = RUNTIME_RESERVED_BYTES
    if memory is not None:
        reserved = 0
        hbm = memory if isinstance(memory, int) else parse_memory_size(memory)
        if not 1 <= hbm <= MAX_DEVICE_MEMORY_BYTES:
            raise GaudiVLError(
                f"device memory {memory!r} must be 1 byte to 16 TiB", "e.g. --device-memory 96GiB"
            )
    return DeviceSpec(name=key, hbm_bytes=hbm, cards=tp, runtime_reserved_bytes=reserved)


def format_bytes(n: float) -> str:
    """``12.34 GiB`` style, the way the engines log memory (vllm_gaudi.extension.profiler.format_bytes)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.4g} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    raise AssertionError("unreachable")
