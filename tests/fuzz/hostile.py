"""Run the gaudi-vl CLI as a careless user or an attacker would, and judge it by the hostile-input
contract (issue 13):

* it ends within :data:`TIME_LIMIT_S` (a normal run takes a fraction of a second: longer is a hang);
* no Python traceback;
* exit 0, or exit 2 with exactly one line on stderr starting with ``gaudi-vl`` (plus the command's
  own documented codes: align 1 = some files failed, doctor 1/3);
* no file outside the command's output changed (:func:`snapshot` before and after, links not followed).

Also the hostile values the fuzz strategies draw from, and :data:`fuzz`, the settings of every fuzz
test: each example starts the CLI once (about 0.2 s), so the number of examples sets the cost:
:data:`FUZZ_EXAMPLES` per test (CI profile 25, dev 8; ``GAUDI_VL_FUZZ_EXAMPLES=N`` for a long hunt).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = int(
    os.environ.get("GAUDI_VL_FUZZ_EXAMPLES")
    or (15 if os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev") == "ci" else 8)
)
"""Examples per fuzz property: 15 in CI (each example runs the CLI in fresh processes, about 0.6 s each, and
the whole suite must stay under 20 minutes on a 2-core runner), 8 locally; ``GAUDI_VL_FUZZ_EXAMPLES=200`` for
a deep run. Hypothesis draws new examples every run, so CI runs add up."""
fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
"""The settings of every fuzz test (``@fuzz`` above ``@given``)."""

TIME_LIMIT_S = 20.0
"""A hostile input that takes longer than this is a hang (normal runs: 0.2 s, 2 s on a slow CI)."""
GAUDI_VL = [sys.executable, "-m", "gaudi_vl"]


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str


def run_cli(
    args: Sequence[str],
    cwd: Path,
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = TIME_LIMIT_S,
) -> Result:
    """``gaudi-vl ARGS`` in ``cwd``; a run past ``timeout`` fails the test as a hang."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VLLM_")}
    full_env.update(env or {})
    try:
        done = subprocess.run(
            [*GAUDI_VL, *args],
            cwd=cwd,
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=timeout,
            env=full_env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"gaudi-vl {list(args)!r} hung (> {timeout:g} s)")
    decode = lambda b: b.decode("utf-8", "surrogateescape")  # noqa: E731
    return Result(tuple(args), done.returncode, decode(done.stdout), decode(done.stderr))


def assert_contract(r: Result, ok: Sequence[int] = (0, 2)) -> None:
    """No traceback; an allowed exit code; exit 2 is one line."""
    where = f"gaudi-vl {list(r.argv)!r}"
    assert "Traceback (most recent call last)" not in r.stderr, f"{where} raised:\n{r.stderr[-3000:]}"
    assert r.rc in ok, f"{where} exited {r.rc}:\n{r.stderr[-2000:]}"
    if r.rc == 2:
        lines = r.stderr.strip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("gaudi-vl"), f"{where}: not one line:\n{r.stderr}"


# --- the files around a command -------------------------------------------------------------------


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh folder with things a careless ``-o`` or input path could destroy: a precious file, a
    symbolic link to it, a FIFO, a folder, a link leading out of the sandbox's output folder."""
    root = Path(tempfile.mkdtemp(prefix="gaudi-vl-fuzz-"))
    try:
        (root / "victim.txt").write_text("precious\n")
        (root / "victim-link").symlink_to("victim.txt")
        (root / "dangling-link").symlink_to("nowhere")
        os.mkfifo(root / "fifo")
        (root / "dir").mkdir()
        (root / "dir" / "keep.txt").write_text("keep\n")
        (root / "out").mkdir()
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _fingerprint(path: Path, st_: os.stat_result) -> tuple[Any, ...]:
    if stat.S_ISLNK(st_.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(st_.st_mode):
        digest = hashlib.sha1(path.read_bytes()).hexdigest() if st_.st_size <= 1 << 22 else st_.st_size
        return ("file", st_.st_size, st_.st_mtime_ns, digest, stat.S_IMODE(st_.st_mode))
    if stat.S_ISDIR(st_.st_mode):
        return ("dir", stat.S_IMODE(st_.st_mode))
    return ("special", stat.S_IFMT(st_.st_mode))


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` (links not followed) with what identifies its content."""
    out: dict[str, tuple[Any, ...]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            out[str(path.relative_to(root))] = _fingerprint(path, os.lstat(path))
    return out


def assert_unchanged(root: Path, before: dict[str, tuple[Any, ...]], allowed: Sequence[str] = ()) -> None:
    """Nothing under ``root`` changed, appeared or vanished, except at or below ``allowed`` paths."""
    after = snapshot(root)

    def free(rel: str) -> bool:
        return any(rel == a or rel.startswith(a.rstrip("/") + "/") for a in allowed)

    changed = sorted(
        rel for rel in before.keys() | after.keys() if before.get(rel) != after.get(rel) and not free(rel)
    )
    assert not changed, f"files outside the output changed: {changed}"


# --- hostile values ---------------------------------------------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "-",
    "--",
    "a\nb",
    "\n",
    "\r",
    "\t",
    "\x1b[31mred",
    "$(touch PWNED)",
    "`touch PWNED`",
    "; touch PWNED #",
    "'",
    '"',
    "\\",
    "*",
    "~",
    "~nobody-here/x",
    "..",
    "/",
    "é",
    "名前",
    "\u2028",
    "\udcff",
    "x" * 300,
    "a/" * 200,
    "-h",
    "--help",
    "None",
    "null",
    "{}",
    "[]",
]
NASTY_NUMBERS = [
    "0",
    "-1",
    "-0",
    "1",
    "2",
    "3",
    "7",
    "8",
    "63",
    "64",
    "65",
    "1e30",
    "1e-30",
    "9" * 29,
    "9" * 5000,
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1.5",
    "0.5",
    "0x10",
    "1_000",
    "١٢٣",
    " 7 ",
    "",
    "abc",
    "1*2*3",
    "*",
    "2**8",
    "401408",
    "1003520",
    "1280*28*28",
    "3136",
    "12544",
    "12845056",
    "178956970",
    "178956971",
    "99999999999999999999",
    "18446744073709551616",
    "65535",
    "65536",
    "256",
    "257",
    "1024",
    "128000",
    "16777216",
    "16777217",
    "2147483647",
    "2147483648",
]


def no_nul(text: str) -> bool:
    return "\x00" not in text


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=16).filter(no_nul))


def nasty_number() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_NUMBERS),
        st.integers(-(10**25), 10**25).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(alphabet="0123456789*_-.e ", max_size=12),
    )


def json_values(max_leaves: int = 4) -> st.SearchStrategy[Any]:
    """JSON values a broken or malicious config may hold (NaN and Infinity included)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from([0, -1, 1, 7, 2**31, 2**63, 10**30, -(10**30)]),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["", "abc", "false", "true", "28", "1e30", "NaN", "\n"]),
        st.text(max_size=8),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def dumps(value: Any) -> str:
    """JSON as a careless tool writes it: NaN and Infinity as bare words."""
    return json.dumps(value, allow_nan=True)


# --- a valid Qwen2.5-VL model folder to break --------------------------------------------------------

CONFIG: dict[str, Any] = {
    "model_type": "qwen2_5_vl",
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "vocab_size": 152064,
    "max_position_embeddings": 128000,
    "tie_word_embeddings": False,
    "vision_config": {
        "depth": 32,
        "hidden_size": 1280,
        "num_heads": 16,
        "intermediate_size": 3420,
        "out_hidden_size": 3584,
        "fullatt_block_indexes": [7, 15, 23, 31],
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
    },
}
"""Qwen2.5-VL-7B-Instruct's config.json, the keys gaudi-vl reads (transformers 4 flat layout)."""
PREPROCESSOR: dict[str, Any] = {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14}


def write_model(folder: Path, config: bytes | Any = None, preprocessor: bytes | Any = None) -> Path:
    """A model folder: ``config``/``preprocessor`` as raw bytes, or values dumped as JSON (default: valid)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, value, default in (
        ("config.json", config, CONFIG),
        ("preprocessor_config.json", preprocessor, PREPROCESSOR),
    ):
        data = value if isinstance(value, bytes) else dumps(default if value is None else value).encode()
        (folder / name).write_bytes(data)
    return folder
