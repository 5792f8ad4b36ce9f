"""Device profiles: sizes and units (GB vs GiB), overrides, and one-line errors for unknown names."""

from __future__ import annotations

import pytest

from gaudi_vl.devices import BUILTIN_HBM_BYTES, device_spec, parse_memory_size
from gaudi_vl.errors import GaudiVLError


def test_builtin_sizes_are_gib() -> None:
    # server_defaults.yaml says 96 / 128; hl-smi shows a Gaudi2 as 98304MiB = 96 GiB
    assert device_spec("gaudi2").hbm_bytes == 98304 * 1024 * 1024
    assert device_spec("Gaudi3").hbm_bytes == 128 * 1024**3


def test_visible_memory_matches_the_engine_log() -> None:
    # vllm-fork docs log: "(15.05 GiB/94.62 GiB used)" on a Gaudi2
    visible = device_spec("gaudi2").visible_bytes / 1024**3
    assert round(visible, 2) == 94.62


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("96GiB", 96 * 2**30),
        ("96 GiB", 96 * 2**30),
        ("96GB", 96 * 10**9),
        ("98304MiB", 96 * 2**30),
        ("103079215104", 103079215104),
        ("1.5TiB", int(1.5 * 2**40)),
        ("512mb", 512 * 10**6),
    ],
)
def test_parse_memory_size(text: str, expected: int) -> None:
    assert parse_memory_size(text) == expected


@pytest.mark.parametrize("text", ["", "GiB", "96 parsecs", "-5GiB", "0", "1e9"])
def test_bad_sizes_are_one_line_errors(text: str) -> None:
    with pytest.raises(GaudiVLError) as err:
        parse_memory_size(text)
    assert "\n" not in err.value.one_line()


def test_override_memory_and_tp() -> None:
    d = device_spec("gaudi2", memory="80GiB", tp=4)
    assert (d.hbm_bytes, d.cards, d.runtime_reserved_bytes) == (80 * 2**30, 4, 0)
    assert d.total_hbm_bytes == 320 * 2**30


def test_unknown_device_lists_known_ones() -> None:
    with pytest.raises(GaudiVLError) as err:
        device_spec("h100")
    line = err.value.one_line()
    assert "'h100'" in line
    for name in BUILTIN_HBM_BYTES:
        assert name in line
    assert "\n" not in line
