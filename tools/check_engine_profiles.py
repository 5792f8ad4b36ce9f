"""Differential check of gaudi-vl's engine profiles against the engines' OWN code (run by hand).

Why: a profile (``gaudi_vl.engines``) restates what an engine version does. This tool takes the
engine's pure functions out of its source at run time (``git show COMMIT:path`` from the bare
mirrors), parses them with ``ast``, executes only those function and class bodies with small stubs
for their imports (``os.environ``, ``logger``, device calls), and compares their answers with the
profile's on thousands of random inputs: bucket parsing, lookup, grid padding and trimming, the
warm-up sets, the KV-cache split, the attention thresholds, the variables read and their defaults,
the ``min_pixels`` override, the block size, the fp8 KV-cache name, the fingerprints and the execution
modes (which code paths ``is_lazy()`` selects: HPU graphs, compile-only vision warm-up). The
processor step is transformers' own ``smart_resize`` (and, for a subset, the real
``Qwen2VLImageProcessor`` on solid images). Nothing of the engines is stored in this repository.

Usage (the mirrors are bare git directories; defaults are the project's):

    python tools/check_engine_profiles.py [--fork-git DIR] [--gaudi-git DIR] [--ext-git DIR]
        [--fork-121 COMMIT] [--fork-main COMMIT] [--fork-122 COMMIT] [--gaudi COMMIT]
        [--ext-121 COMMIT] [--ext-main COMMIT] [--ext-122 COMMIT] [--cases N] [--seed S] [--self-test]

It prints one row per (check, engine): cases run and mismatches, with the first mismatches spelled
out, and exits 1 on any mismatch. ``--self-test`` runs every check against deliberately wrong
profiles instead and exits 1 unless each is flagged by the check meant to catch it. Needs torch and
transformers (the test extras), not the engines. Results: BENCHMARKS.md, "Engine profile
differential check".
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import functools
import math
import random
import subprocess
import sys
import textwrap
import types
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as torch_f
from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as hf_smart_resize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gaudi_vl.assembly import PlanRequest, assemble  # noqa: E402
from gaudi_vl.engines import (  # noqa: E402
    FORK_121,
    FORK_122,
    FORK_MAIN,
    VLLM_GAUDI,
    EngineProfile,
    ExecutionMode,
    GridRule,
    InstalledEngine,
    Setting,
    WarmupRule,
    identify,
)
from gaudi_vl.engines.profile import VARIABLE_NAMES  # noqa: E402
from gaudi_vl.envvars import ALIGN_VAR, plan_env  # noqa: E402
from gaudi_vl.errors import GaudiVLError  # noqa: E402
from gaudi_vl.geometry import PixelRange  # noqa: E402
from gaudi_vl.geometry import smart_resize as gv_smart_resize  # noqa: E402
from gaudi_vl.models import builtin_model  # noqa: E402
from gaudi_vl.plan import Resolution  # noqa: E402
from gaudi_vl.settings import ServeSettings  # noqa: E402

MIRRORS = Path("/work/.mirror")
DEFAULTS = {
    "fork_git": MIRRORS / "HabanaAI+vllm-fork" / "repo",
    "gaudi_git": MIRRORS / "vllm-project+vllm-gaudi" / "repo",
    "ext_git": MIRRORS / "HabanaAI+vllm-hpu-extension" / "repo",
    "fork_121": "277a33cd907e3e475a408a7330698d55a9365fc7",  # aice/v1.21.0
    "fork_main": "95af70093fc0dbb1a8b16d4a2913c674a02434ac",  # habana_main
    "fork_122": "17a7946f471f972df6e53dcbf31c2ccaa0283ff6",  # aice/v1.22.0
    "gaudi": "091bbadda10bee4fd3f6d0efc1844d2610dd2707",  # vllm-gaudi main
    "ext_121": "8afd25348a285824c34ed10c15ac402138fd0019",  # extension aice/v1.21.0 (fork 1.21 pin)
    # habana_main pins the extension at f1d9275, which the mirror does not hold: its main is the nearest.
    "ext_main": "7717587d178061aaab7498c077b41501944bb288",
    "ext_122": "f5f9ecb7298bdaea33c06c06ad5fc96a81e22a61",  # extension aice/v1.22.0 (fork 1.22 pin)
}
RUNNER = "vllm/worker/hpu_model_runner.py"
FORK_QWEN = "vllm/model_executor/models/qwen2_5_vl.py"
FORK_WORKER = "vllm/worker/hpu_worker.py"
G_VISION = "vllm_gaudi/extension/bucketing/vision.py"
G_QWEN = "vllm_gaudi/models/qwen2_5_vl.py"
G_RUNNER = "vllm_gaudi/v1/worker/hpu_model_runner.py"
G_WORKER = "vllm_gaudi/v1/worker/hpu_worker.py"
EXT_FEATURES = "vllm_hpu_extension/features.py"
STATIC = "Qwen2_5_VisionTransformerStaticShape"
FORCED_MIN = 112 * 112
CUR = types.SimpleNamespace(f121=FORK_121, main=FORK_MAIN, gaudi=VLLM_GAUDI, f122=FORK_122)
"""The profiles under check (``--self-test`` swaps in deliberately wrong ones)."""


# ---------------------------------------------------------------- engine source, read at run time


class Source:
    """One commit of one bare mirror: file text, ``ast`` nodes by qualified name, exec'd bodies."""

    def __init__(self, git_dir: Path, commit: str, label: str) -> None:
        self.git_dir, self.commit, self.label = git_dir, commit, label
        self._text: dict[str, str] = {}
        self.executed: dict[str, str] = {}
        """``qualname -> path:first-last`` of every piece of engine code exec'd (printed with the table)."""

    def git(self, *args: str) -> str:
        out = subprocess.run(["git", f"--git-dir={self.git_dir}", *args], capture_output=True, text=True)
        if out.returncode not in (0, 1):
            raise SystemExit(f"git {' '.join(args)} in {self.git_dir}: {out.stderr.strip()}")
        return out.stdout

    def text(self, path: str) -> str:
        if path not in self._text:
            self._text[path] = self.git("show", f"{self.commit}:{path}")
            if not self._text[path]:
                raise SystemExit(f"{path} not found at {self.label} ({self.commit[:12]})")
        return self._text[path]

    def files_with(self, needle: str, *pathspecs: str) -> list[str]:
        """Python files under ``pathspecs`` whose text contains ``needle`` (``git grep -l -F``)."""
        out = self.git("grep", "-l", "-F", needle, self.commit, "--", *pathspecs)
        return [p for line in out.splitlines() if line and (p := line.split(":", 1)[1]).endswith(".py")]

    def node(self, path: str, qualname: str) -> ast.AST:
        """The class, function or assigned name ``qualname`` (``A.b`` for a method) in ``path``."""
        body: list[ast.stmt] = ast.parse(self.text(path)).body
        found: ast.AST | None = None
        for part in qualname.split("."):
            found = None
            for n in body:
                if (
                    isinstance(n, (ast.ClassDef, ast.FunctionDef))
                    and n.name == part
                    or isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == part for t in n.targets)
                ):
                    found = n
                if found is not None:
                    break
            if found is None:
                raise SystemExit(f"{qualname} not found in {path} at {self.label}")
            body = getattr(found, "body", [])
        assert found is not None
        return found

    def load(self, path: str, qualnames: Iterable[str], ns: dict[str, Any]) -> dict[str, Any]:
        """Exec the source of each ``qualname`` (dedented) into ``ns``; methods become plain functions."""
        text = self.text(path)
        for q in qualnames:
            n = self.node(path, q)
            code = textwrap.dedent(ast.get_source_segment(text, n, padded=True) or "")
            self.executed[q] = f"{path}:{n.lineno}-{n.end_lineno}"
            exec(compile(code, f"<{self.label}:{path}:{n.lineno}>", "exec"), ns)  # noqa: S102
        return ns


def expr_in(src: Source, path: str, qualname: str, needle: str) -> Callable[..., Any]:
    """The first ``if`` test inside ``qualname`` whose source contains ``needle``, as a function of the
    names it uses (so a threshold is evaluated exactly as the engine writes it)."""
    text = src.text(path)
    for n in ast.walk(src.node(path, qualname)):
        if isinstance(n, ast.If) and needle in (ast.get_source_segment(text, n.test) or ""):
            names = sorted({x.id for x in ast.walk(n.test) if isinstance(x, ast.Name)})
            code = compile(ast.Expression(n.test), f"<{src.label}:{path}:{n.lineno}>", "eval")
            return lambda **kw: eval(code, {}, {k: kw[k] for k in names})  # noqa: S307
    raise SystemExit(f"no `if` with {needle!r} in {qualname} ({path} at {src.label})")


def const_assigned(src: Source, path: str, qualname: str, target: str) -> list[Any]:
    """Values assigned to ``target`` (a name or dotted attribute) inside ``qualname``, evaluated."""
    out = []
    for n in ast.walk(src.node(path, qualname)):
        if isinstance(n, ast.Assign) and any(ast.unparse(t) == target for t in n.targets):
            out.append(eval(compile(ast.Expression(n.value), "<const>", "eval"), {}))  # noqa: S307
    return out


def env_reads(src: Source, path: str) -> dict[str, list[Any]]:
    """``os.environ.get(NAME, default)`` / ``os.getenv(NAME, default)`` in ``path``: NAME -> defaults."""
    key = (src.label, path)
    if key in _ENV_READS:
        return _ENV_READS[key]
    out: dict[str, list[Any]] = _ENV_READS.setdefault(key, {})
    for n in ast.walk(ast.parse(src.text(path))):
        if (
            isinstance(n, ast.Call)
            and ast.unparse(n.func) in ("os.environ.get", "os.getenv")
            and n.args
            and isinstance(n.args[0], ast.Constant)
        ):
            default = n.args[1].value if len(n.args) > 1 and isinstance(n.args[1], ast.Constant) else None
            out.setdefault(n.args[0].value, []).append(default)
    return out


_ENV_READS: dict[tuple[str, str], dict[str, list[Any]]] = {}


# ---------------------------------------------------------------- stubs


class Anything:
    """Stands in for engine objects a function touches but whose value does not matter here."""

    def __call__(self, *a: Any, **k: Any) -> Anything:
        return self

    def __getattr__(self, name: str) -> Anything:
        return self

    def __getitem__(self, key: Any) -> Anything:
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        return None

    def __mul__(self, other: Any) -> Anything:
        return self

    def __enter__(self) -> Anything:
        return self

    def __exit__(self, *a: Any) -> None:
        return None


ANY = Anything()


def fake_os(env: dict[str, str]) -> types.SimpleNamespace:
    return types.SimpleNamespace(environ=env, getenv=lambda k, d=None: env.get(k, d))


LOGGER = types.SimpleNamespace(
    **{k: (lambda *a, **kw: None) for k in ("info", "debug", "warning", "warning_once", "error")}
)


class Profiler:
    """HabanaMemoryProfiler stand-in: a context manager that measured nothing."""

    consumed_device_memory = 0

    def __enter__(self) -> Profiler:
        return self

    def __exit__(self, *a: Any) -> None:
        return None

    def get_summary_string(self) -> str:
        return ""


class TorchProxy:
    """The real torch, with ``einsum`` results' dtypes recorded (mask-building check)."""

    def __init__(self) -> None:
        self.einsum_dtypes: list[torch.dtype] = []
        self.square_zeros: list[torch.dtype] = []
        """dtypes of ``torch.zeros(N, N)`` masks (fork 1.22 builds its window mask that way)."""
        self.cheap_squares = True
        """Outside the mask check, a square ``zeros`` is a stand-in (no N^2 allocation)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(torch, name)

    def zeros(self, *shape: Any, **kw: Any) -> Any:
        flat = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        dims = [int(x) for x in flat]
        if len(dims) == 2 and dims[0] == dims[1] > 1:
            self.square_zeros.append(kw.get("dtype") or torch.float32)
            if self.cheap_squares:
                return ANY
        return torch.zeros(*shape, **kw)

    def einsum(self, *args: Any) -> torch.Tensor:
        out = torch.einsum(*args)
        self.einsum_dtypes.append(out.dtype)
        return out


# ---------------------------------------------------------------- results


@dataclass
class Row:
    check: str
    engine: str
    cases: int = 0
    mismatches: int = 0
    examples: list[str] = field(default_factory=list)
    note: str = ""

    def record(self, ok: bool, detail: Callable[[], str]) -> None:
        self.cases += 1
        if not ok:
            self.mismatches += 1
            if len(self.examples) < 3:
                self.examples.append(detail())


ROWS: list[Row] = []


def row(check: str, engine: str, note: str = "") -> Row:
    r = Row(check, engine, note=note)
    ROWS.append(r)
    return r


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("error", exception type name): engines crash with assertions and ValueErrors."""
    try:
        return "ok", fn()
    except (
        GaudiVLError,
        AssertionError,
        ValueError,
        TypeError,
        ArithmeticError,
        IndexError,
        RuntimeError,
    ) as exc:
        return "error", type(exc).__name__


# ---------------------------------------------------------------- the engines' functions


class Engines:
    """The pure pieces of the three engines, exec'd from their source with stubs."""

    def __init__(
        self, fork121: Source, forkmain: Source, gaudi: Source, ext121: Source, extmain: Source,
        fork122: Source, ext122: Source,
    ) -> None:
        self.f121, self.fmain, self.g, self.e121, self.emain = fork121, forkmain, gaudi, ext121, extmain
        self.f122, self.e122 = fork122, ext122
        self.env: dict[str, str] = {}
        os_ = fake_os(self.env)
        self.ns121 = fork121.load(RUNNER, ["DefaultVisionBuckets"], {"os": os_})
        self.nsmain = forkmain.load(RUNNER, ["VisionBuckets"], {"os": os_})
        self.ns122 = fork122.load(RUNNER, ["VisionBuckets"], {"os": os_})
        self.nsg = gaudi.load(
            G_VISION,
            ["MULTIMODAL_CONFIG", "HPUVisionBucketManager"],
            {"os": os_, "logger": LOGGER, "torch": torch},
        )

    @contextlib.contextmanager
    def environ(self, **env: str | None) -> Iterator[None]:
        old = dict(self.env)
        self.env.clear()
        self.env.update({k: v for k, v in env.items() if v is not None})
        try:
            yield
        finally:
            self.env.clear()
            self.env.update(old)

    # buckets: the engine's own object for a VLLM_MULTIMODAL_BUCKETS value
    def buckets(self, name: str, text: str | None) -> Any:
        with self.environ(VLLM_MULTIMODAL_BUCKETS=text):
            if name == CUR.f121.name:
                return self.ns121["DefaultVisionBuckets"]()
            if name == CUR.main.name:
                return self.nsmain["VisionBuckets"](False)
            if name == CUR.f122.name:
                return self.ns122["VisionBuckets"](False)
            return self.nsg["HPUVisionBucketManager"]("qwen2_5_vl")


# ---------------------------------------------------------------- random inputs


def random_bucket_list(rng: random.Random, multiple: int = 64) -> list[int]:
    k = rng.randint(1, 12)
    top = rng.choice((64, 256, 1024))
    return [multiple * rng.randint(1, top) for _ in range(k)]


def random_bucket_text(rng: random.Random) -> str | None:
    kind = rng.random()
    if kind < 0.05:
        return None
    if kind < 0.10:
        return ""
    if kind < 0.15:
        return rng.choice(("None", " None", "none", "abc", "1.5", "64,", ",64", "64,,128", "0x40", "1e3"))
    items = [rng.choice((8, 16, 64, 64, 64, 1)) * rng.randint(0, 700) for _ in range(rng.randint(1, 8))]
    if rng.random() < 0.05:
        items.append(rng.choice((0, -64, -8)))
    items += rng.sample(items, k=min(len(items), rng.randint(0, 2)))  # duplicates
    rng.shuffle(items)
    words = [rng.choice(("{}", " {}", "{} ", "+{}", "{}")).format(x) for x in items]
    return ",".join(words)


def random_grid(rng: random.Random, hi: int = 200) -> tuple[int, int]:
    """A patch grid a Qwen2-VL processor can produce: even sides (28-px multiples), >= 64 patches."""
    while True:
        h, w = 2 * rng.randint(1, hi), 2 * rng.randint(1, hi)
        if h * w >= 64:
            return h, w


# ---------------------------------------------------------------- checks


def check_parse(eng: Engines, towers: Towers, rng: random.Random, n: int) -> None:
    """VLLM_MULTIMODAL_BUCKETS -> list, as the engine's bucket class reads it, vs parse_buckets."""
    dummy = {CUR.f121.name: dummy_grid_121(eng), CUR.main.name: dummy_grid_main(eng),
             CUR.f122.name: dummy_grid_122(eng)}
    attn = Attention(eng)

    @functools.cache
    def warmup_crashes(name: str, b: int) -> bool:
        """Does the engine's own warm-up crash on bucket b? Forks: the dummy image builder; vllm-gaudi:
        its guessed images for b through the processor step."""
        if name in dummy:
            return dummy[name](b) is None
        mgr = eng.buckets(name, str(b))
        kind, images = outcome(lambda: mgr.bucket_to_image_resolution(patch_size=14))
        if kind == "error":
            return True
        for w, h in images:
            kind, grid = outcome(lambda w=w, h=h: engine_processor_grid(w, h, FORCED_MIN, 12845056, False))
            if kind == "error" or not attn.runs(CUR.gaudi, towers.run(CUR.gaudi, *grid, mgr)):
                return True
        return False

    for prof in (CUR.f121, CUR.f122, CUR.main, CUR.gaudi):
        r = row("bucket parse", prof.name)
        stricter = {"None": 0, "%64 (dummy image asserts)": 0, "warm-up crashes": 0}
        for _ in range(n):
            text = random_bucket_text(rng)
            e_kind, e_val = outcome(lambda t=text: eng.buckets(prof.name, t).multimodal_buckets)  # noqa: B023
            p_kind, p_val = outcome(lambda t=text: list(prof.parse_buckets(t or "")))  # noqa: B023
            ok = (e_kind, e_val) == (p_kind, p_val) or (e_kind == p_kind == "error")
            if not ok and e_kind == "ok" and p_kind == "error":
                if e_val is None:  # the engine's 'None': no buckets (profile refuses it)
                    stricter["None"] += 1
                    ok = True
                elif prof.name in dummy and any(dummy[prof.name](b) is None for b in e_val):
                    # the profile refuses a bucket whose warm-up dummy image the engine itself asserts on
                    stricter["%64 (dummy image asserts)"] += 1
                    ok = True
                elif any(warmup_crashes(prof.name, b) for b in e_val):
                    # the profile refuses a bucket the engine parses and then crashes on in warm-up
                    stricter["warm-up crashes"] += 1
                    ok = True
            crash = (
                [b for b in e_val if warmup_crashes(prof.name, b)] if ok and p_kind == "ok" and e_val else []
            )
            r.record(
                ok and not crash,
                lambda t=text, e=(e_kind, e_val), p=(p_kind, p_val), c=crash: (
                    f"{t!r}: engine {e}, profile {p}" + (f"; engine warm-up crashes on {c}" if c else "")
                ),
            )
        r.note = (
            "profile refuses " + ", ".join(f"{k}: {v}" for k, v in stricter.items() if v)
            if any(stricter.values())
            else ""
        )


def dummy_grid_121(eng: Engines) -> Callable[[int], list[int] | None]:
    """create_dummy_multi_modal_seq_group_metadata (fork 1.21): the warm-up / profiling dummy image's
    grid for bucket b, or None when it crashes (its asserts). Executed from the source, with the model
    and the sequence classes stubbed."""
    ns = eng.f121.load(
        RUNNER, ["HPUModelRunnerBase.create_dummy_multi_modal_seq_group_metadata"], _dummy_ns()
    )
    return lambda b: _dummy_grid(ns, b, fork_main=False)


def dummy_grid_main(eng: Engines) -> Callable[[int], list[int] | None]:
    ns = eng.fmain.load(
        RUNNER, ["HPUModelRunnerBase.create_dummy_multi_modal_seq_group_metadata"], _dummy_ns()
    )
    return lambda b: _dummy_grid(ns, b, fork_main=True)


def dummy_grid_122(eng: Engines) -> Callable[[int], list[int] | None]:
    """create_dummy_multi_modal_seq_group_metadata (fork 1.22): habana_main's signature."""
    ns = eng.f122.load(
        RUNNER, ["HPUModelRunnerBase.create_dummy_multi_modal_seq_group_metadata"], _dummy_ns()
    )
    return lambda b: _dummy_grid(ns, b, fork_main=True)


def _dummy_ns() -> dict[str, Any]:
    seen: list[Any] = []
    t = types.SimpleNamespace(**{k: getattr(torch, k) for k in ("tensor", "zeros", "int32")})
    # the asserts look at the pixel values' shape only: a meta tensor checks it as torch.randn would
    t.randn = lambda *shape: torch.empty(*(int(x) for x in shape), device="meta")
    return {
        "torch": t,
        "array": array,
        "PlaceholderRange": ANY,
        "SequenceData": ANY,
        "MultiModalKwargs": lambda d: seen.append(d) or ANY,
        "SequenceGroupMetadata": ANY,
        "UNSET_NUM_PATCHES": 9999999,
        "UNSET_IMG_ARGS": 9999999,
        "_seen": seen,
    }


def _dummy_grid(ns: dict[str, Any], b: int, *, fork_main: bool) -> list[int] | None:
    fn = ns["create_dummy_multi_modal_seq_group_metadata"]
    vision = types.SimpleNamespace(spatial_merge_size=2)
    config = types.SimpleNamespace(vision_config=vision, model_type="qwen2_5_vl", image_token_id=1)
    model = types.SimpleNamespace(config=config, vision_buckets=types.SimpleNamespace(multimodal_buckets=[b]))
    me = types.SimpleNamespace(model_is_mrope=True, is_mm_optimized=False, get_model=lambda: model)
    ns["_seen"].clear()
    try:
        if fork_main:
            fn(me, 0, b, None, None, b // 4 + 1)
        else:
            fn(me, 0, b, None, None)
    except Exception:  # noqa: BLE001 - an assert or a division by zero: the engine's warm-up crashes
        return None
    return [int(x) for x in ns["_seen"][-1]["image_grid_thw"][0]]


def check_lookup(eng: Engines, rng: random.Random, n: int) -> None:
    for prof in (CUR.f121, CUR.f122, CUR.main, CUR.gaudi):
        r = row("bucket lookup", prof.name)
        for _ in range(n):
            buckets = random_bucket_list(rng)
            obj = eng.buckets(prof.name, ",".join(map(str, buckets)))
            x = rng.randint(0, int(max(buckets) * 1.3))
            e = obj.get_multimodal_bucket(x)
            b = prof.bucket_for(x, buckets)
            r.record(
                e == (x if b is None else b), lambda e=e, b=b, x=x, bs=buckets: f"{bs} n={x}: {e} vs {b}"
            )


class Towers:
    """Per engine: the patch count the vision tower's static forward runs at for one image, from the
    engine's own padding (and trimming) code; masks and thresholds for the attention checks."""

    def __init__(self, eng: Engines) -> None:
        self.eng = eng
        self.seen: list[dict[str, Any]] = []
        self.mask_calls: list[int] = []
        self.compile_only = False
        """vllm-gaudi's tower under PT_COMPILE_ONLY_MODE (its compile-mode vision warm-up)."""
        self.torch = TorchProxy()
        base = {
            "torch": self.torch,
            "F": torch_f,
            "ceil": math.ceil,
            "logger": LOGGER,
            "math": math,
            "htcore": types.SimpleNamespace(mark_step=lambda: None),
        }
        # fork aice/v1.21.0: wh padding + bucket padding + the full mask product in get_image_embeds
        cls = "Qwen2_5_VisionTransformerStaticShape"
        # the same tower functions (and lazy-mode stub) on both aice branches
        aice_tower = [
            f"{cls}.pad_multimodal_data_wh",
            f"{cls}.pad_multimodal_data",
            f"{cls}.pre_attn",
            f"{cls}.prepare_for_attn_cpu",
            f"{cls}.pre_attn_hpu",
            f"{cls}.get_image_embeds",
            "Qwen2_5_VisionTransformer.rot_pos_emb",
            "Qwen2_5_VisionTransformer.get_window_index",
        ]
        not_lazy = types.SimpleNamespace(internal=types.SimpleNamespace(is_lazy=lambda: False))
        aice_stubs = dict(base, htorch=types.SimpleNamespace(utils=not_lazy))
        self.ns121 = eng.f121.load(FORK_QWEN, aice_tower, dict(aice_stubs))  # each its own namespace
        # fork habana_main: trimming + bucket padding in get_image_embeds
        self.nsmain = eng.fmain.load(
            FORK_QWEN,
            [
                f"{cls}.pad_multimodal_data",
                f"{cls}.pre_attn",
                f"{cls}.get_image_embeds",
                "Qwen2_5_VisionTransformer.rot_pos_emb",
                "Qwen2_5_VisionTransformer.get_window_index",
                "create_block_diagonal_attention_mask_outerprod",
            ],
            dict(base),
        )
        self.real_mask_main = self.nsmain["create_block_diagonal_attention_mask_outerprod"]
        # fork aice/v1.22.0: 1.21's wh padding + bucket padding, its own window mask (pre_attn_hpu)
        self.ns122 = eng.f122.load(FORK_QWEN, aice_tower, dict(aice_stubs))  # each its own namespace
        # vllm-gaudi: bucket padding in get_image_embeds, two masks
        self.nsg = eng.g.load(
            G_QWEN,
            ["Qwen2_5_VisionTransformerStaticShape.get_image_embeds", "create_block_diagonal_attention_mask"],
            dict(base, bridge_config=types.SimpleNamespace(
                get_pt_compile_only_mode=lambda: self.compile_only)),
        )
        self.real_mask_g = self.nsg["create_block_diagonal_attention_mask"]
        self.real_masks = False

    @staticmethod
    def _tower_self(ns: dict[str, Any]) -> types.SimpleNamespace:
        """A stand-in for the fork's vision transformer: Qwen2.5-VL's geometry (patch 14, merge 2,
        window 112), identity patch embedding, a zero rotary table; every method in ``ns`` bound to it."""
        me = types.SimpleNamespace(
            window_size=112,
            spatial_merge_size=2,
            patch_size=14,
            spatial_merge_unit=4,
            device="cpu",
            dtype=torch.float32,
            patch_embed=lambda x: x,
            rotary_pos_emb=lambda size: torch.zeros(int(size), 20),
        )
        for name, fn in ns.items():
            if isinstance(fn, types.FunctionType) and fn.__code__.co_varnames[:1] == ("self",):
                setattr(me, name, types.MethodType(fn, me))
        return me

    def _mask_stub(self, real: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], Any]:
        def build(indices: torch.Tensor) -> Any:
            self.mask_calls.append(int(indices[-1]))
            return real(indices) if self.real_masks else None

        return build

    def _forward(self, x: torch.Tensor, **kw: Any) -> torch.Tensor:
        self.seen.append({"n": int(x.shape[0]), **kw})
        return x.unsqueeze(1) if x.dim() == 2 else x

    def run(self, prof: EngineProfile, h: int, w: int, buckets_obj: Any) -> int:
        """Patches the tower's forward sees for a ``[1, h, w]`` image (engine code; raises on a crash)."""
        self.seen.clear()
        self.mask_calls.clear()
        self.torch.cheap_squares = not self.real_masks
        pv = torch.zeros(h * w, 1)
        grid = torch.tensor([[1, h, w]])
        if prof is CUR.f122:
            me = self._tower_self(self.ns122)
            real_pre_attn_122 = types.MethodType(self.ns122["pre_attn"], me)

            def pre_attn_122(x: torch.Tensor, g: torch.Tensor, vb: Any) -> tuple[Any, ...]:
                out = real_pre_attn_122(x, g, vb)
                if self.real_masks:
                    return out
                # the [1,1,1,N] padding mask whose [N, N] product get_image_embeds builds: only
                # materialised in the mask check (small N); the window mask is a stand-in then too
                return (*out[:5], ANY, ANY, *out[7:])

            me.pre_attn = pre_attn_122
            me.forward = lambda x, **kw: self._forward(x, **kw)
            me.post_attn = lambda hs, wi, shape, padded: torch.zeros(int(padded.prod()) // 4, 1)
            self.ns122["get_image_embeds"](me, pv, grid, buckets_obj)
        elif prof is CUR.f121:
            me = self._tower_self(self.ns121)
            real_pre_attn = types.MethodType(self.ns121["pre_attn"], me)

            def pre_attn(x: torch.Tensor, g: torch.Tensor, vb: Any) -> tuple[Any, ...]:
                out = real_pre_attn(x, g, vb)
                if self.real_masks:
                    return out
                # the [N, N] product get_image_embeds builds from this [1, 1, 1, N] mask is only
                # materialised in the mask check (small N)
                return (*out[:5], ANY, *out[6:])

            me.pre_attn = pre_attn
            me.forward = lambda x, **kw: self._forward(x, **kw)
            me.post_attn = lambda hs, wi, shape, padded: torch.zeros(int(padded.prod()) // 4, 1)
            self.ns121["get_image_embeds"](me, pv, grid, buckets_obj)
        elif prof is CUR.main:
            self.nsmain["create_block_diagonal_attention_mask_outerprod"] = self._mask_stub(
                self.real_mask_main
            )
            me = self._tower_self(self.nsmain)
            me.forward = lambda x, **kw: self._forward(x, **kw)
            me.post_attn = lambda hs, wi: hs
            self.nsmain["get_image_embeds"](me, pv, grid, buckets_obj)
        else:
            self.nsg["create_block_diagonal_attention_mask"] = self._mask_stub(self.real_mask_g)
            me = types.SimpleNamespace(device="cpu")

            def pre_attn_g(x: torch.Tensor, g: torch.Tensor) -> tuple[Any, ...]:
                n = x.shape[0]
                cu = torch.tensor([0, n], dtype=torch.int32)
                return x, torch.zeros(n, 1), torch.zeros(n, 1), cu, cu.clone(), None

            me.pre_attn = pre_attn_g
            me.forward = lambda hs, **kw: self._forward(hs, **kw)
            me.post_attn = lambda hs, wi: hs
            self.nsg["get_image_embeds"](me, pv, grid, buckets_obj)
        assert len(self.seen) == 1, self.seen
        return self.seen[0]["n"]


class Attention:
    """Does the engine's vision attention run at N patches? Its own dispatch (fused below the
    threshold, else ``AttentionLongSequence``, whose first statement asserts ``q_len % q_block_size ==
    0``), executed up to the first tensor allocation."""

    class Passed(Exception):
        """Raised at the first tensor op after the asserts: the call would go on."""

    def __init__(self, eng: Engines) -> None:
        def passed(*a: Any, **k: Any) -> Any:
            raise Attention.Passed

        base = {
            "torch": types.SimpleNamespace(zeros_like=passed),
            "math": math,
            "htcore": ANY,
            "FusedSDPA": types.SimpleNamespace(apply=lambda *a: "fused"),
            "os": fake_os({}),
        }
        self.ns121 = eng.f121.load(FORK_QWEN, ["AttentionLongSequence"], dict(base))
        self.nsmain = eng.fmain.load(FORK_QWEN, ["AttentionLongSequence"], dict(base))
        self.ns122 = eng.f122.load(FORK_QWEN, ["AttentionLongSequence"], dict(base))
        self.nsg = eng.g.load(G_QWEN, ["AttentionLongSequence", "HPU_Attention"], dict(base))
        self.fork = {}
        for key, src, ns in (("f121", eng.f121, self.ns121), ("main", eng.fmain, self.nsmain),
                             ("f122", eng.f122, self.ns122)):
            test = expr_in(src, FORK_QWEN, "Qwen2_5_VisionAttention.forward", "q1.shape[2]")
            call = next(
                c
                for c in ast.walk(src.node(FORK_QWEN, "Qwen2_5_VisionAttention.forward"))
                if isinstance(c, ast.Call) and ast.unparse(c.func) == "AttentionLongSequence.forward"
            )
            block = ast.literal_eval(call.args[4])  # the q_block_size the fork passes (64)
            self.fork[key] = (test, ns["AttentionLongSequence"], block)

    def runs(self, prof: EngineProfile, n: int) -> bool:
        q = _Q(n)
        try:
            if prof is CUR.gaudi:
                self.nsg["HPU_Attention"].forward(q, None, None, None, None)
            else:
                key = "f121" if prof is CUR.f121 else "f122" if prof is CUR.f122 else "main"
                test, long_seq, block = self.fork[key]
                if not test(q1=q):
                    long_seq.forward(q, None, None, None, block, None)
        except Attention.Passed:
            return True
        except AssertionError:
            return False
        return True


class _Q:
    """A query of N rows: what the attention dispatch looks at (``q.size(-2)``, ``q1.shape[2]``)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.shape = (1, 1, n, 1)

    def size(self, dim: int) -> int:
        return self.n


def check_grids(eng: Engines, towers: Towers, rng: random.Random, n: int) -> None:
    """One image's grid -> the patches its tower runs at (padding, trimming, bucket), vs run_patches;
    and whether the engine's attention then runs at that size, vs ``VisionAttention.refuses``."""
    attn = Attention(eng)
    for prof in (CUR.f121, CUR.f122, CUR.main, CUR.gaudi):
        r = row("grid -> tower patches", prof.name)
        r_att = row("attention runs at that size", prof.name)
        for i in range(n):
            buckets = random_bucket_list(rng)
            obj = eng.buckets(prof.name, ",".join(map(str, buckets)))
            h, w = random_grid(rng, hi=60 if i % 2 else 200)
            kind, got = outcome(lambda h=h, w=w, o=obj: towers.run(prof, h, w, o))  # noqa: B023
            want = prof.run_patches(h, w, buckets)
            r.record(
                kind == "ok" and got == want,
                lambda h=h, w=w, g=(kind, got), x=want, b=buckets: (
                    f"grid {h}x{w} buckets {sorted(b)}: engine {g}, profile {x}"
                ),
            )
            if kind == "ok":
                assert prof.attention is not None
                r_att.record(
                    attn.runs(prof, got) != prof.attention.refuses(got),
                    lambda h=h, w=w, g=got, b=buckets, p=prof: (
                        f"grid {h}x{w} buckets {sorted(b)}: runs at {g} patches, {g} % 64 = {g % 64}: "
                        f"engine attention runs: {attn.runs(p, g)}, profile refuses: "
                        f"{p.attention.refuses(g)}"  # type: ignore[union-attr]
                    ),
                )


def check_masks(towers: Towers, rng: random.Random, n: int) -> None:
    """[N, N] masks held during the tower's forward, how they are built (float einsum or bool), and the
    CPU / query-tiling thresholds as the engines write them."""
    towers.real_masks = True
    for prof in (CUR.f121, CUR.f122, CUR.main, CUR.gaudi):
        att = prof.attention
        assert att is not None
        r = row("vision masks (held, dtype)", prof.name)
        for _ in range(n):
            b = 64 * rng.randint(1, 40)
            obj = towers.eng.buckets(prof.name, str(b))
            h, w = random_grid(rng, hi=20)
            if h * w > b:
                continue
            towers.torch.einsum_dtypes.clear()
            towers.torch.square_zeros.clear()
            towers.run(prof, h, w, obj)
            kw = towers.seen[0]
            size = kw["n"]
            masks = [v for v in kw.values() if isinstance(v, torch.Tensor) and v.numel() == size * size]
            built_float = torch.float32 in towers.torch.einsum_dtypes + towers.torch.square_zeros
            ok = (
                len(masks) == att.masks_held
                and all(m.dtype == torch.bool for m in masks)
                and built_float == att.mask_built_in_float
            )
            detail = (
                f"b={b}: {len(masks)} masks, float einsum {built_float}, "
                f"profile {att.masks_held} / {att.mask_built_in_float}"
            )
            r.record(ok, lambda d=detail: d)
    # fork 1.22: which 64-patch blocks of its window mask the engine sets (the last one: never, a note)
    noted = any("last 64-patch window" in x for x in CUR.f122.notes)
    r = row("fork-1.22 window mask", CUR.f122.name, note="last 64-patch block empty (profile note)")
    for _ in range(n):
        h, w = 8 * rng.randint(1, 3), 8 * rng.randint(1, 3)
        b = h * w + 64 * rng.randint(0, 2)
        towers.run(CUR.f122, h, w, towers.eng.buckets(CUR.f122.name, str(b)))
        kw = towers.seen[0]
        win, size = kw["windowattn_mask"], kw["n"]
        empty = [i for i in range(0, size, 64) if not bool(win[i : i + 64, i : i + 64].any())]
        want = sorted(set(range(h * w, size, 64)) | {size - 64})  # pad blocks, and the last one
        r.record(empty == want and noted, lambda e=empty, s_=size: f"N={s_}: empty window blocks {e}")
    towers.real_masks = False

    f121, fmain, g = towers.eng.f121, towers.eng.fmain, towers.eng.g
    ns: dict[str, Any] = {
        "FusedSDPA": types.SimpleNamespace(apply=lambda *a: "fused"),
        "AttentionLongSequence": types.SimpleNamespace(forward=lambda *a: "tiled"),
        "os": fake_os({}),
    }
    g.load(G_QWEN, ["HPU_Attention"], ns)

    class Q:
        def __init__(self, n: int) -> None:
            self.n = n
            self.shape = (1, 1, n, 1)

        def size(self, dim: int) -> int:
            return self.n

    test121 = expr_in(f121, FORK_QWEN, "Qwen2_5_VisionAttention.forward", "q1.shape[2]")
    testmain = expr_in(fmain, FORK_QWEN, "Qwen2_5_VisionAttention.forward", "q1.shape[2]")
    test122 = expr_in(towers.eng.f122, FORK_QWEN, "Qwen2_5_VisionAttention.forward", "q1.shape[2]")
    fused: dict[EngineProfile, Callable[[int], bool]] = {
        CUR.f121: lambda n: bool(test121(q1=Q(n))),
        CUR.f122: lambda n: bool(test122(q1=Q(n))),
        CUR.main: lambda n: bool(testmain(q1=Q(n))),
        CUR.gaudi: lambda n: ns["HPU_Attention"].forward(Q(n), None, None, None, None) == "fused",
    }
    # fork 1.22: the window mask is torch.zeros(N, N) with no device, then .to(device): the CPU for every N
    f122_text = towers.eng.f122.text(FORK_QWEN)
    zeros_on_cpu = [
        c
        for c in ast.walk(towers.eng.f122.node(FORK_QWEN, f"{STATIC}.pre_attn_hpu"))
        if isinstance(c, ast.Call) and ast.unparse(c.func) == "torch.zeros" and len(c.args) == 2
        and not any(k.arg == "device" for k in c.keywords)
    ]
    assert f122_text
    cpu = {
        CUR.main: expr_in(fmain, FORK_QWEN, "create_block_diagonal_attention_mask_outerprod", "shape"),
        CUR.gaudi: expr_in(g, G_QWEN, "create_block_diagonal_attention_mask", "shape"),
        CUR.f122: lambda range_indices: bool(zeros_on_cpu),
    }
    probes = [65535, 65536, 65537, 40000, 40001, *(rng.randint(1, 200_000) for _ in range(100 * n))]
    for prof, is_fused in fused.items():
        att = prof.attention
        assert att is not None
        r = row("query tiling threshold", prof.name)
        for x in probes:
            e, rows = is_fused(x), att.query_rows(x)
            r.record(
                e == (rows == x), lambda x=x, e=e, rows=rows: f"N={x}: engine fused {e}, profile rows {rows}"
            )
        r2 = row("mask einsum on CPU above", prof.name)
        for x in probes:
            shape = types.SimpleNamespace(shape=(1, x))
            e = bool(cpu[prof](range_indices=shape)) if prof in cpu else False
            p = att.mask_on_cpu_above is not None and x > att.mask_on_cpu_above
            r2.record(e == p, lambda x=x, e=e, p=p: f"N={x}: engine CPU {e}, profile {p}")
    # fork 1.21 never calls the CPU-einsum builder for Qwen2.5-VL (the profile says None)
    text = f121.text(FORK_QWEN)
    calls = [
        n
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.Call) and ast.unparse(n.func) == "create_block_diagonal_attention_mask_outerprod"
    ]
    row("mask einsum on CPU above", CUR.f121.name, note="builder never called in qwen2_5_vl.py").record(
        not calls and CUR.f121.attention is not None and CUR.f121.attention.mask_on_cpu_above is None,
        lambda: f"{len(calls)} calls",
    )


def engine_processor_grid(w: int, h: int, lo: int, hi: int, align: bool) -> tuple[int, int]:
    """The processor step: transformers' smart_resize (factor 28; 112 with gaudi-vl's aligned processor,
    which passes factor=112 to the same resize) -> patch grid."""
    rh, rw = hf_smart_resize(h, w, factor=112 if align else 28, min_pixels=lo, max_pixels=hi)
    return rh // 14, rw // 14


def check_warmup(eng: Engines, towers: Towers, rng: random.Random, n: int) -> None:
    """The sizes each engine's warm-up compiles, from its own warm-up loop, vs warmup_set."""
    # fork 1.21: _warmup_multimodal (lazy, every bucket) and _warmup_multimodal_graph (graphs)
    ns121 = eng.f121.load(
        RUNNER,
        ["HPUModelRunnerBase._warmup_multimodal", "HPUModelRunnerBase._warmup_multimodal_graph"],
        {
            "supports_multimodal": lambda m: True,
            "HabanaMemoryProfiler": Profiler,
            "align_workers": lambda x, op: x,
            "torch": ANY,
        },
    )
    nsmain = eng.fmain.load(
        RUNNER,
        ["HPUModelRunnerBase._warmup_multimodal_graph"],
        {"HabanaMemoryProfiler": Profiler, "align_workers": lambda x, op: x, "torch": ANY},
    )
    ns122 = eng.f122.load(
        RUNNER,
        ["HPUModelRunnerBase._warmup_multimodal_graph"],
        {"HabanaMemoryProfiler": Profiler, "align_workers": lambda x, op: x, "torch": ANY},
    )
    dummy = {CUR.f121.name: dummy_grid_121(eng), CUR.main.name: dummy_grid_main(eng),
             CUR.f122.name: dummy_grid_122(eng)}
    for prof in (CUR.f121, CUR.f122, CUR.main):
        r = row("warm-up set", prof.name)
        for _ in range(n // 4):
            buckets = random_bucket_list(rng)
            obj = eng.buckets(prof.name, ",".join(map(str, buckets)))
            ran: list[int] = []
            me = types.SimpleNamespace(
                multimodal_buckets=obj.multimodal_buckets,
                graphed_multimodal_buckets=set(),
                get_model=lambda: None,
                log_warmup_multimodal=lambda *a: None,
                bucketing_ctx=types.SimpleNamespace(get_max_prompt_shape=lambda: (1, 1024)),
                bucketing_manager=types.SimpleNamespace(get_max_prompt_shape=lambda: 1024),
                warmup_scenario=lambda *a, ran=ran, **k: ran.append(k.get("num_patches", k.get("img_args"))),
            )
            if prof is CUR.f121:
                ns121["_warmup_multimodal"](me, None)
                ns121["_warmup_multimodal_graph"](me, None, available_mem=float("inf"))
            elif prof is CUR.f122:
                ns122["_warmup_multimodal_graph"](me, None)
            else:
                nsmain["_warmup_multimodal_graph"](me, None)
            # each run's dummy image comes from the engine's dummy builder; the tower pads it itself
            grid_of = dummy[prof.name]
            sizes = {towers.run(prof, *grid_of(b)[1:], obj) for b in ran}
            want = prof.warmup_set(buckets, PixelRange(FORCED_MIN, 12845056))
            r.record(
                sorted(sizes) == list(want.compiled),
                lambda s=sizes, w=want, b=buckets: f"{sorted(b)}: engine {sorted(s)}, profile {w.compiled}",
            )

    # vllm-gaudi: warmup_multimodal_graphs with the real bucket manager, then the processor step
    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "vllm.multimodal.encoder_budget":
            return types.SimpleNamespace(
                MultiModalBudget=lambda *a: types.SimpleNamespace(mm_limits={"image": 4})
            )
        return builtins.__import__(name, *args, **kwargs)

    nsg = eng.g.load(
        G_RUNNER,
        [
            "_MM_WARMUP_GRAPH_WARN_THRESHOLD",
            "HPUModelRunner.warmup_multimodal_graphs",
            "HPUModelRunner._resolve_mm_limit_options",
        ],
        {"__builtins__": dict(vars(builtins), __import__=fake_import), "logger": LOGGER},
    )
    r = row("warm-up set", CUR.gaudi.name, note="raw images through transformers' smart_resize")
    r_att = row("attention runs at that size", CUR.gaudi.name, note="vllm-gaudi warm-up images")
    attn = Attention(eng)
    for i in range(n // 4):
        buckets = random_bucket_list(rng)
        lo = FORCED_MIN
        hi = rng.choice((max(buckets) * 196, rng.randint(lo, 20_000_000), 12845056))
        align = bool(i % 2)
        res = tuple(
            Resolution(rng.randint(28, 4000), rng.randint(28, 4000), rng.choice((1, 1, 2)))
            for _ in range(rng.randint(0, 3))
        )
        env_res = ",".join(map(str, res)) or None  # as gaudi-vl's envvars.resolutions writes it
        with eng.environ(
            VLLM_MULTIMODAL_BUCKETS=",".join(map(str, buckets)), VLLM_MULTIMODAL_RESOLUTIONS=env_res
        ):
            mgr = eng.nsg["HPUVisionBucketManager"]("qwen2_5_vl")
        images: list[tuple[int, int, int]] = []
        limits = {"image": types.SimpleNamespace(count=4)}
        me = types.SimpleNamespace(
            supports_mm_inputs=True,
            vllm_config=None,
            mm_registry=None,
            get_model=lambda m=mgr: types.SimpleNamespace(vision_bucket_manager=m),
            model_config=types.SimpleNamespace(
                get_multimodal_config=lambda limits=limits: types.SimpleNamespace(limit_per_prompt=limits)
            ),
            get_patch_size_from_model=lambda: 14,
            cache_config=types.SimpleNamespace(enable_prefix_caching=False),
            _get_mm_dummy_batch=lambda modality, image_args, width, height, count_override, images=images: (
                images.append((width, height, count_override)) or {}
            ),
            model=types.SimpleNamespace(embed_multimodal=lambda **k: None),
            log_warmup_multimodal=lambda *a: None,
            graphed_buckets=set(),
        )
        me._resolve_mm_limit_options = types.MethodType(nsg["_resolve_mm_limit_options"], me)
        nsg["warmup_multimodal_graphs"](me, mgr.multimodal_buckets)
        sizes = set()
        for w, h, _count in images:
            kind, grid = outcome(lambda w=w, h=h: engine_processor_grid(w, h, lo, hi, align))  # noqa: B023
            if kind == "ok":
                size = towers.run(CUR.gaudi, *grid, mgr)
                sizes.add(size)
                r_att.record(
                    attn.runs(CUR.gaudi, size) != CUR.gaudi.attention.refuses(size),  # type: ignore[union-attr]
                    lambda w=w, h=h, n=size, b=buckets, hi=hi: (
                        f"warm-up image {w}x{h} (buckets {sorted(b)}, max_pixels {hi}) runs at {n} patches: "
                        "engine and profile disagree on whether its attention runs there"
                    ),
                )
        want = CUR.gaudi.warmup_set(
            buckets, PixelRange(lo, hi), align=align, resolutions=tuple((x.width, x.height) for x in res)
        )
        distinct = sorted(set(buckets))
        # sizes the attention refuses are the engine's crash, reported by the profile as ``fails``
        ok = sorted(sizes) == sorted(want.compiled + want.fails) and list(want.never_warmed) == [
            b for b in distinct if b not in sizes
        ]
        r.record(
            ok,
            lambda s=sizes, w=want, b=buckets, hi=hi, a=align, rs=res: (
                f"{sorted(b)} max_pixels {hi} align {a} res {rs}: engine {sorted(s)}, profile {w.compiled}"
            ),
        )


def check_guessed_images(eng: Engines, rng: random.Random, n: int) -> None:
    r = row("guessed warm-up images", CUR.gaudi.name)
    for _ in range(n):
        buckets = [rng.randint(1, 70000) for _ in range(rng.randint(1, 10))]
        mgr = eng.buckets(CUR.gaudi.name, ",".join(map(str, buckets)))
        e = list(dict.fromkeys(mgr.bucket_to_image_resolution(patch_size=14)))
        p = list(CUR.gaudi.guessed_warmup_images(sorted(buckets)))
        r.record(e == p, lambda b=buckets: f"{b}")


def check_processor(rng: random.Random, n: int) -> None:
    """gaudi-vl's smart_resize and each profile's image_patches vs transformers' smart_resize; a subset
    through the real Qwen2VLImageProcessor (and gaudi-vl's aligned subclass) on solid images."""
    r = row("smart_resize", "transformers")
    for _ in range(n):
        h, w = rng.randint(1, 20000), rng.randint(1, 20000)
        factor = rng.choice((28, 112))
        lo = rng.randint(1, 2_000_000)
        hi = lo + rng.randint(0, 20_000_000)
        e = outcome(lambda: hf_smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi))  # noqa: B023
        g = outcome(lambda: gv_smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi))  # noqa: B023
        r.record(
            e == g or (e[0] == g[0] == "error"), lambda h=h, w=w, f=factor, e=e, g=g: f"{h}x{w}/{f}: {e} {g}"
        )
    from PIL import Image
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    from gaudi_vl.processor import GaudiQwen2VLImageProcessor

    for prof in (CUR.f121, CUR.f122, CUR.main, CUR.gaudi):
        r = row("image_patches (real processor)", prof.name)
        for _ in range(max(20, n // 40)):
            asked = PixelRange(rng.randint(3136, 400_000), rng.randint(400_000, 4_000_000))
            rng_eff, _ = prof.effective_pixel_range(asked)
            align = rng.random() < 0.5
            w, h = rng.randint(20, 2500), rng.randint(20, 2500)
            cls = GaudiQwen2VLImageProcessor if align else Qwen2VLImageProcessor
            proc = cls(size={"shortest_edge": rng_eff.min_pixels, "longest_edge": rng_eff.max_pixels})
            _, gh, gw = proc(images=[Image.new("RGB", (w, h), color=255)])["image_grid_thw"][0].tolist()
            p = prof.image_patches(w, h, rng_eff, align=align)
            r.record(p == (gh, gw), lambda w=w, h=h, p=p, e=(gh, gw): f"{w}x{h}: engine {e}, profile {p}")


def check_memory(eng: Engines, rng: random.Random, n: int) -> None:
    """KV blocks from the workers' own memory arithmetic vs MemorySplit.kv_blocks."""
    # the decode block step of fork 1.21 comes from the extension's read_bucket_settings (linear bucketing)
    ext = eng.e121.load(
        "vllm_hpu_extension/bucketing/linear.py",
        ["read_bucket_settings"],
        {"os": fake_os(eng.env), "logger": LOGGER},
    )
    env_common = fake_os(eng.env)
    fork_ns = {
        "os": env_common,
        "logger": LOGGER,
        "format_bytes": str,
        "is_fake_hpu": lambda: False,
        "HabanaMemoryProfiler": Profiler,
        "gc": types.SimpleNamespace(collect=lambda: None),
    }
    ns121 = eng.f121.load(FORK_WORKER, ["HPUWorker.determine_num_available_blocks"], dict(fork_ns))
    nsmain = eng.fmain.load(FORK_WORKER, ["HPUWorker.determine_num_available_blocks"], dict(fork_ns))
    ns122 = eng.f122.load(FORK_WORKER, ["HPUWorker.determine_num_available_blocks"], dict(fork_ns))

    class FullAttentionSpec:
        def __init__(self, page: int) -> None:
            self.dtype, self.block_size, self.num_kv_heads, self.head_size = torch.bfloat16, 128, 4, 128
            self.page_size_bytes = page

    class MambaSpec:
        pass

    g_ns = dict(
        fork_ns,
        FullAttentionSpec=FullAttentionSpec,
        MambaSpec=MambaSpec,
        _GDN_MAMBA_TYPES=(),
        bind_kv_cache=lambda *a: None,
        math=math,
        get_dtype_size=lambda d: 2,
    )
    nsg = eng.g.load(G_WORKER, ["HPUWorker.determine_available_memory"], g_ns)
    for prof, fn in (
        (CUR.f121, ns121["determine_num_available_blocks"]),
        (CUR.main, nsmain["determine_num_available_blocks"]),
        (CUR.f122, ns122["determine_num_available_blocks"]),
        (CUR.gaudi, nsg["determine_available_memory"]),
    ):
        split = prof.memory
        assert split is not None
        r = row(
            "KV blocks (memory split)",
            prof.name,
            note="vLLM core: blocks = available // bytes per block (vllm 0.32.0 kv_cache_utils.py:1627)"
            if prof is CUR.gaudi
            else "",
        )
        for _ in range(n):
            free = rng.choice((rng.uniform(0, 2e11), float(rng.randint(0, 10**11))))
            util = rng.choice((rng.uniform(0.01, 0.99), round(rng.uniform(0.01, 0.99), 2)))
            reserved = float(f"{rng.uniform(0, 0.9):.4g}")  # as envvars._ratio writes it
            layers = rng.choice((28, 36, 80))
            page = rng.randint(1, 10**6)
            block = page * layers
            eager = rng.random() < 0.3
            torch_stub = types.SimpleNamespace(
                hpu=types.SimpleNamespace(synchronize=lambda: None, mem_get_info=lambda f=free: (f, 2 * f)),
                float8_e4m3fn=object(),
                zeros=lambda *a, **k: None,
            )
            fn.__globals__["torch"] = torch_stub
            with eng.environ(VLLM_GRAPH_RESERVED_MEM=f"{reserved:.4g}"):
                step = ext["read_bucket_settings"]("decode", "block", min=128, step=128, max=10**6)[1]
                runner = types.SimpleNamespace(
                    profile_run=lambda **k: None,
                    lora_manager=None,
                    mem_margin=None,
                    bucketing_ctx=types.SimpleNamespace(
                        global_state=types.SimpleNamespace(decode_block_bucket_cfg=[128, step, 10**6])
                    ),
                    get_kv_cache_spec=lambda L=layers, p=page: {
                        f"l{i}": FullAttentionSpec(p) for i in range(L)
                    },
                    attn_backend=types.SimpleNamespace(get_kv_cache_shape=lambda *a: (1,)),
                )
                me = types.SimpleNamespace(
                    model_runner=runner,
                    get_cache_block_size_bytes=lambda b=block: b,
                    model_config=types.SimpleNamespace(enforce_eager=eager, use_mla=False),
                    cache_config=types.SimpleNamespace(gpu_memory_utilization=util, swap_space_bytes=0),
                    vllm_config=types.SimpleNamespace(
                        compilation_config=types.SimpleNamespace(static_forward_context={})
                    ),
                )
                out = fn(me)
            e = out[0] if isinstance(out, tuple) else max(int(out) // block, 0)
            p = split.kv_blocks(free, util, reserved, block, enforce_eager=eager)
            r.record(
                e == p,
                lambda f=free, u=util, rs=reserved, b=block, x=eager, e=e, p=p: (
                    f"free {f} util {u} R {rs} block {b} eager {x}: engine {e}, profile {p}"
                ),
            )


def check_variables(eng: Engines) -> None:
    """Which managed variables each engine reads (anywhere in its package) and their defaults, vs the
    profile; and that a plan exports nothing else."""

    class Pred:
        """ModelType / Any for the extensions' feature rules, evaluated for model_type qwen2_5_vl."""

        def __init__(self, f: Callable[[str], bool]) -> None:
            self.f = f

        def __or__(self, o: Pred) -> Pred:
            return Pred(lambda t: self.f(t) or o.f(t))

    rule_ns = {
        "ModelType": lambda m: Pred(lambda t, m=m: t == m),
        "Any": lambda *ps: Pred(lambda t: any(p.f(t) for p in ps)),
    }

    def rule(src: Source, path: str, func: str, key: str) -> tuple[str, Any]:
        """(env var, default for qwen2_5_vl) of ``func(key, dep[, env_var=...])`` in the extension's list."""
        for node in ast.walk(ast.parse(src.text(path))):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == func
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == key
            ):
                dep = eval(compile(ast.Expression(node.args[1]), path, "eval"), rule_ns)  # noqa: S307
                value = dep.f("qwen2_5_vl") if isinstance(dep, Pred) else dep
                name = (
                    key
                    if func == "EnvFlag"
                    else next(
                        (k.value.value for k in node.keywords if k.arg == "env_var"), "VLLM_" + key.upper()
                    )
                )
                return name, value
        raise SystemExit(f"{func}({key!r}) not in {path} at {src.label}")

    sources = {
        CUR.f121: (
            eng.f121,
            "vllm/",
            {
                Setting.FP32_SOFTMAX: rule(
                    eng.e121, "vllm_hpu_extension/flags.py", "EnvFlag", "VLLM_FP32_SOFTMAX"
                )
            },
        ),
        CUR.main: (
            eng.fmain,
            "vllm/",
            {
                Setting.FP32_SOFTMAX: rule(
                    eng.emain, "vllm_hpu_extension/features.py", "Value", "fp32_softmax"
                ),
                Setting.SKIP_WARMUP: rule(
                    eng.emain, "vllm_hpu_extension/features.py", "Value", "skip_warmup"
                ),
            },
        ),
        CUR.f122: (
            eng.f122,
            "vllm/",
            {
                Setting.FP32_SOFTMAX: rule(eng.e122, EXT_FEATURES, "Value", "fp32_softmax"),
                Setting.SKIP_WARMUP: rule(eng.e122, EXT_FEATURES, "Value", "skip_warmup"),
            },
        ),
        CUR.gaudi: (
            eng.g,
            "vllm_gaudi/",
            {
                Setting.FP32_SOFTMAX: rule(
                    eng.g, "vllm_gaudi/extension/features.py", "Value", "fp32_softmax"
                ),
                Setting.SKIP_WARMUP: rule(eng.g, "vllm_gaudi/extension/features.py", "Value", "skip_warmup"),
            },
        ),
    }
    names = {
        s: n
        for p in (CUR.f121, CUR.f122, CUR.main, CUR.gaudi)
        for v in p.variables
        for s, n in [(v.setting, v.name)]
    }
    for prof, (src, pkg, ext_rules) in sources.items():
        r = row(
            "variables read + defaults",
            prof.name,
            note="ext main@7717587 (pin f1d9275 not mirrored)" if prof is CUR.main else "",
        )
        for setting in Setting:
            name = names.get(setting)
            if name is None or setting is Setting.EXECUTION_MODE:
                continue  # PT_HPU_LAZY_MODE is the Habana bridge's: checked in "execution mode"
            if setting is Setting.RECIPE_CACHE:
                # read by the Habana PyTorch bridge, not by the engine's Python: check the engine's docs
                # document it (vllm-gaudi managing_warm-up.md) and the profile sets no default
                doc = eng.g.text("docs/configuration/warm-up/managing_warm-up.md")
                var = prof.variable(setting)
                r.record(var is not None and var.default == "" and f"export {name}=" in doc,
                         lambda n=name: f"{n}: not in vllm-gaudi's managing_warm-up.md, or a default set")
                continue
            defaults: set[str] = set()
            read = False
            if setting in ext_rules:
                ename, value = ext_rules[setting]
                read = ename == name
                defaults.add(str(value).lower())
            for path in src.files_with(name, pkg):
                reads = env_reads(src, path).get(name)
                if reads:
                    read = True
                    defaults |= {str(d).lower() for d in reads if d is not None}
            var = prof.variable(setting)
            want_default = None if var is None else var.default.lower()
            ok = read == (var is not None) and (var is None or defaults == {want_default})
            r.record(
                ok,
                lambda n=name, rd=read, d=defaults, v=var: (
                    f"{n}: engine reads {rd} defaults {d}, "
                    f"profile {'reads' if v else 'does not read'} {v.default if v else ''!r}"
                ),
            )
        # plans: every exported variable is one this engine reads
        r2 = row("plan exports only read variables", prof.name,
                 note="PT_HPU_LAZY_MODE: the bridge's (see execution mode)")
        bridge = {VARIABLE_NAMES[Setting.EXECUTION_MODE]}
        modes = [None, *(m.mode.value for m in prof.execution_modes)]
        combos = [(f, k, e, m) for f in (None, True, False) for k in (False, True) for e in (False, True)
                  for m in modes]
        for fp32, skip, eager, mode in combos:
            serve = ServeSettings(
                target=prof.name,
                fp32_softmax=fp32,
                fp32_softmax_vision=fp32,
                skip_warmup=skip,
                enforce_eager=eager,
                execution_mode=mode,
            )
            plan, _ = assemble(PlanRequest(model=builtin_model("qwen2.5-vl-7b"), serve=serve))
            exported = set(plan_env(plan)) - {ALIGN_VAR}
            unread = {
                x
                for x in exported
                if not any(env_reads(src, p).get(x) for p in src.files_with(x, pkg))
                and x not in {n for n, _ in ext_rules.values()} | bridge
            }
            r2.record(not unread, lambda u=unread: f"exports {sorted(u)} the engine never reads")


def check_static(eng: Engines) -> None:
    """min_pixels override, block size, fp8 KV-cache name, fingerprints: read from the source."""
    cases = (
        (CUR.f121, eng.f121, FORK_QWEN, "Qwen2_5_VLProcessingInfo.get_hf_processor"),
        (CUR.main, eng.fmain, FORK_QWEN, "Qwen2_5_VLProcessingInfo.get_hf_processor"),
        (CUR.f122, eng.f122, FORK_QWEN, "Qwen2_5_VLProcessingInfo.get_hf_processor"),
        (CUR.gaudi, eng.g, G_QWEN, "HPUQwen2_5_VLProcessingInfo.get_hf_processor"),
    )
    for prof, src, path, q in cases:
        values = const_assigned(src, path, q, "min_pixels")
        engine = values[0] if values else None
        row("min_pixels override", prof.name).record(
            engine == prof.min_pixels_override,
            lambda e=engine, p=prof: f"engine {e}, profile {p.min_pixels_override}",
        )
    for prof, src, path, q in (
        (CUR.f121, eng.f121, "vllm/platforms/hpu.py", "HpuPlatform.check_and_update_config"),
        (CUR.main, eng.fmain, "vllm/platforms/hpu.py", "HpuPlatform.check_and_update_config"),
        (CUR.f122, eng.f122, "vllm/platforms/hpu.py", "HpuPlatform.check_and_update_config"),
        (CUR.gaudi, eng.g, "vllm_gaudi/platform.py", "HpuPlatform.check_and_update_config"),
    ):
        values = const_assigned(src, path, q, "cache_config.block_size")
        row("default block size", prof.name).record(
            values[:1] == [prof.block_size], lambda v=values, p=prof: f"engine {v}, profile {p.block_size}"
        )
    for prof, src in ((CUR.f121, eng.f121), (CUR.main, eng.fmain), (CUR.f122, eng.f122)):
        literal = src.node("vllm/config.py", "CacheDType")
        allowed = [c.value for c in ast.walk(literal) if isinstance(c, ast.Constant)]
        row("fp8 KV-cache name", prof.name).record(
            prof.kv_cache_dtype("fp8") in allowed, lambda a=allowed: f"{a}"
        )
    ns = eng.g.load("vllm_gaudi/platform.py", ["HpuPlatform.is_kv_cache_dtype_supported"], {})
    supported = ns["is_kv_cache_dtype_supported"]
    row("fp8 KV-cache name", CUR.gaudi.name).record(
        supported(None, CUR.gaudi.kv_cache_dtype("fp8"), None) and not supported(None, "fp8", None),
        lambda: "is_kv_cache_dtype_supported disagrees",
    )
    runner121, runnermain, runner122 = eng.f121.text(RUNNER), eng.fmain.text(RUNNER), eng.f122.text(RUNNER)
    for label, installed, want in (
        ("fork 1.21 runner", InstalledEngine(frozenset({"vllm"}), {RUNNER: runner121}), CUR.f121),
        ("habana_main runner", InstalledEngine(frozenset({"vllm"}), {RUNNER: runnermain}), CUR.main),
        ("fork 1.22 runner", InstalledEngine(frozenset({"vllm"}), {RUNNER: runner122}), CUR.f122),
        (
            "vllm + vllm_gaudi",
            InstalledEngine(frozenset({"vllm", "vllm_gaudi"}), {RUNNER: runner121}),
            CUR.gaudi,
        ),
    ):
        got = identify(installed)
        row("fingerprint", want.name, note=label).record(
            got is not None and got.name == want.name, lambda g=got: f"identified {g and g.name}"
        )


# ---------------------------------------------------------------- execution modes


def _ifs(src: Source, path: str, qualname: str, needle: str) -> list[Callable[..., Any]]:
    """Every ``if`` test inside ``qualname`` whose source contains ``needle``, in order (see ``expr_in``)."""
    text = src.text(path)
    found: list[tuple[int, Callable[..., Any]]] = []
    for n in ast.walk(src.node(path, qualname)):
        if isinstance(n, ast.If) and needle in (ast.get_source_segment(text, n.test) or ""):
            names = sorted({x.id for x in ast.walk(n.test) if isinstance(x, ast.Name)})
            code = compile(ast.Expression(n.test), f"<{src.label}:{path}:{n.lineno}>", "eval")
            found.append((n.lineno, lambda code=code, names=names, **kw: eval(  # noqa: S307
                code, {}, {k: kw[k] for k in names})))
    if not found:
        raise SystemExit(f"no `if` with {needle!r} in {qualname} ({path} at {src.label})")
    return [fn for _, fn in sorted(found, key=lambda x: x[0])]


def _htorch(lazy: bool) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        utils=types.SimpleNamespace(internal=types.SimpleNamespace(is_lazy=lambda: lazy)),
        hpu=types.SimpleNamespace(wrap_in_hpu_graph=lambda m, **k: ("hpu graph", m)),
    )


def _mentions_mode(src: Source, path: str, qualname: str) -> bool:
    text = ast.get_source_segment(src.text(path), src.node(path, qualname)) or ""
    return "is_lazy" in text or "PT_HPU_LAZY_MODE" in text


def check_modes(eng: Engines, towers: Towers, rng: random.Random, n: int) -> None:
    """What each execution mode switches in the engines' code (``is_lazy()`` and ``enforce_eager``
    evaluated in the engine's own expressions) vs the profiles' ``ModeFacts``."""
    g = eng.g
    # vllm-gaudi: where the vision warm-up runs (hpu_model_runner.py warmup_model)
    utc = next(
        x for x in ast.walk(g.node(G_RUNNER, "HPUModelRunner.warmup_model"))
        if isinstance(x, ast.Assign) and ast.unparse(x.targets[0]) == "use_torch_compile"
    )
    utc_code = compile(ast.Expression(utc.value), f"<{g.label}:{G_RUNNER}:{utc.lineno}>", "eval")
    outside, inside = _ifs(g, G_RUNNER, "HPUModelRunner.warmup_model", "mm_warmup_outside")
    mm_default = env_reads(g, "vllm_gaudi/envs.py").get("VLLM_MM_WARMUP_OUTSIDE_COMPILE_ONLY", ["?"])
    ns = g.load(G_RUNNER, ["_maybe_wrap_in_hpu_graph"], {"HpuModelAdapter": lambda *a, **k: "adapter"})
    compiles = expr_in(g, G_RUNNER, "HPUModelRunner._maybe_compile", "is_lazy")
    r_warm = row("mode: vision warm-up place", CUR.gaudi.name, note=f"MM_WARMUP_OUTSIDE default {mm_default}")
    r_graph = row("mode: HPU graphs / compile", CUR.gaudi.name)
    for mode in (ExecutionMode.COMPILE, ExecutionMode.LAZY):
        lazy = mode is ExecutionMode.LAZY
        facts = CUR.gaudi.execution(mode.value)
        for eager in (False, True):
            me = types.SimpleNamespace(
                supports_mm_inputs=True,
                model_config=types.SimpleNamespace(enforce_eager=eager),
                vllm_config=types.SimpleNamespace(model_config=types.SimpleNamespace(enforce_eager=eager)),
            )
            use_tc = eval(utc_code, {}, {"htorch": _htorch(lazy), "self": me})  # noqa: S307
            mm_out = str(mm_default[0]).lower() in ("1", "true")
            e_out = bool(outside(self=me, use_torch_compile=use_tc, mm_warmup_outside=mm_out))
            e_in = bool(inside(self=me, use_torch_compile=use_tc, mm_warmup_outside=mm_out))
            p_in = facts is not None and facts.vision_warmup_compile_only and not eager
            r_warm.record(
                (e_in, e_out) == (p_in, not p_in) and (not eager or CUR.gaudi.warms_under_eager),
                lambda m=mode, x=eager, a=(e_in, e_out), b=p_in: (
                    f"{m.value} eager {x}: engine (inside, outside) {a}, profile compile-only {b}"),
            )
            ns["htorch"] = _htorch(lazy)
            graphed = isinstance(ns["_maybe_wrap_in_hpu_graph"](), tuple)
            compiled = bool(compiles(htorch=_htorch(lazy), is_fake_hpu=lambda: False, self=me))
            if not eager:
                r_graph.record(
                    facts is not None and graphed == facts.hpu_graphs and compiled == (not facts.hpu_graphs),
                    lambda m=mode, a=(graphed, compiled): f"{m.value}: engine (HPU graph, compiled) {a}",
                )
    # graph memory: the workers' split never asks the mode (only enforce_eager)
    for prof, src, path, q in (
        (CUR.f121, eng.f121, FORK_WORKER, "HPUWorker.determine_num_available_blocks"),
        (CUR.f122, eng.f122, FORK_WORKER, "HPUWorker.determine_num_available_blocks"),
        (CUR.main, eng.fmain, FORK_WORKER, "HPUWorker.determine_num_available_blocks"),
        (CUR.gaudi, g, G_WORKER, "HPUWorker.determine_available_memory"),
    ):
        asks = _mentions_mode(src, path, q)
        row("mode: graph memory reserved", prof.name).record(
            bool(prof.execution_modes)
            and all(m.graph_reserved_applies != asks for m in prof.execution_modes),
            lambda a=asks: f"worker tests the mode: {a}",
        )
    # forks (lazy only): the Qwen2.5-VL tower is wrapped in an HPU graph when is_lazy(), and the vision
    # embedding runs with PT_COMPILE_ONLY_MODE forced off (its warm-up executes)
    for prof, src in ((CUR.f121, eng.f121), (CUR.f122, eng.f122), (CUR.main, eng.fmain)):
        wrap = expr_in(src, RUNNER, "HpuModelAdapter.__init__", "is_lazy")
        node = src.node(RUNNER, "HpuModelAdapter")
        off = any(
            isinstance(c, ast.Call) and "PT_COMPILE_ONLY_MODE" in ast.unparse(c) and "False" in ast.unparse(c)
            for c in ast.walk(node)
        )
        facts = prof.execution(None)
        ok = (
            [m.mode for m in prof.execution_modes] == [ExecutionMode.LAZY] and facts is not None
            and bool(wrap(htorch=_htorch(True))) == facts.hpu_graphs and not wrap(htorch=_htorch(False))
            and off == (not facts.vision_warmup_compile_only)
        )
        row("mode: HPU graphs / compile", prof.name, note="lazy only").record(
            ok,
            lambda w=wrap, o=off: (
                f"visual wrapped when lazy {bool(w(htorch=_htorch(True)))}, compile-only off {o}"
            ),
        )
    # the documented default of PT_HPU_LAZY_MODE, at the line each profile cites
    for prof, src in ((CUR.f121, eng.f121), (CUR.f122, eng.f122), (CUR.main, eng.fmain), (CUR.gaudi, g)):
        var = prof.variable(Setting.EXECUTION_MODE)
        r = row("mode: PT_HPU_LAZY_MODE default", prof.name)
        if var is None:
            r.record(False, lambda: "profile reads no PT_HPU_LAZY_MODE")
            continue
        first = var.cited.split(";")[0].split("@")[0].strip()
        path, line = first.split(":")[0], int(first.split(":")[1].split(",")[0].split("-")[0])
        text = src.text(path).splitlines()[line - 1] if path.endswith(".md") else ""
        r.note = f"{path}:{line}" if text else "no documented default cited"
        if text:
            r.record("PT_HPU_LAZY_MODE" in text and f"`{var.default}`" in text,
                     lambda t=text, d=var.default: f"default {d} not at {t.strip()[:90]!r}")
        else:
            r.record(True, lambda: "")
    # the same vision sizes whether the warm-up executes (lazy) or compiles only (compile mode)
    r = row("mode: sizes compile-only = executed", CUR.gaudi.name)
    for _ in range(n):
        buckets = random_bucket_list(rng)
        obj = eng.buckets(CUR.gaudi.name, ",".join(map(str, buckets)))
        h, w = random_grid(rng, hi=60)
        sizes = []
        for only in (False, True):
            towers.compile_only = only
            sizes.append(outcome(lambda h=h, w=w, o=obj: towers.run(CUR.gaudi, h, w, o)))  # noqa: B023
        towers.compile_only = False
        r.record(
            sizes[0] == sizes[1], lambda h=h, w=w, s=tuple(sizes): f"grid {h}x{w}: executed, compile-only {s}"
        )


# ---------------------------------------------------------------- text buckets

E_BUCKETING = "vllm_hpu_extension/bucketing"
G_BUCKETING = "vllm_gaudi/extension/bucketing"


class _Config:
    """vllm-gaudi ``get_config()`` stand-in: bucket variables from the env (int or None), the profile's
    prefix-caching assumption for ``use_contiguous_pa``, everything else off."""

    def __init__(self, env: dict[str, str], contiguous_pa: bool) -> None:
        self._env = env
        self.merged_prefill = False
        self.use_contiguous_pa = contiguous_pa
        self.prefix_caching = not contiguous_pa
        self.bucketing_strategy = env.get("VLLM_BUCKETING_STRATEGY", "exp")
        self.VLLM_BUCKETING_FROM_FILE = None
        self.PT_HPU_SDPA_QKV_SLICE_MODE_FWD = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("VLLM_") and name in self._env:
            return int(self._env[name])
        return None


class TextBucketEngines:
    """The engines' own text-bucket generators, exec'd from the mirrors."""

    def __init__(self, eng: Engines) -> None:
        import itertools
        import operator

        import numpy as np

        self.env: dict[str, str] = {}
        base = {"os": fake_os(self.env), "logger": LOGGER, "itertools": itertools, "operator": operator,
                "math": math, "np": np, "List": list, "Tuple": tuple, "Set": set, "Dict": dict}
        self.ext_lin = eng.e121.load(
            f"{E_BUCKETING}/linear.py",
            ["read_bucket_settings", "warmup_range", "generate_prompt_buckets", "generate_decode_buckets",
             "HPUBucketingContext._setup_buckets"], dict(base))
        self.ext_exp = eng.e121.load(
            f"{E_BUCKETING}/exponential.py",
            ["read_bucket_settings", "warmup_range_with_limit", "generate_prompt_buckets",
             "generate_decode_buckets", "HPUExponentialBucketingContext._setup_buckets"], dict(base))
        self.cfg = _Config(self.env, False)
        leveled = types.SimpleNamespace(getEffectiveLevel=lambda: 20, **vars(LOGGER))
        g = dict(base, logger=lambda: leveled, get_config=lambda: self.cfg,
                 logging=types.SimpleNamespace(DEBUG=10), bisect=__import__("bisect"),
                 boolean=lambda v: str(v).lower() in ("true", "1", "t"),
                 PaddingAwareBucketingStrategy=object, FileBucketingStrategy=object)
        eng.g.load(f"{G_BUCKETING}/linear.py", ["LinearBucketingStrategy", "read_bucket_settings",
                                                "warmup_range"], g)
        eng.g.load(f"{G_BUCKETING}/exponential.py", ["LONG_CTX_THRESHOLD", "ExponentialBucketingStrategy",
                                                     "warmup_range_with_limit"], g)
        eng.g.load(f"{G_BUCKETING}/common.py", ["HPUBucketingManager", "generate_buckets"], g)
        self.g = g

    def fork(self, inp: Any) -> tuple[list[Any], list[Any]]:
        exp = self.env.get("VLLM_EXPONENTIAL_BUCKETING", "false").lower() == "true"
        ns = self.ext_exp if exp else self.ext_lin
        me = types.SimpleNamespace(
            max_num_seqs=inp.max_num_seqs, max_num_prefill_seqs=inp.max_num_seqs, block_size=inp.block_size,
            max_num_batched_tokens=inp.max_num_batched_tokens, use_merged_prefill=False,
            max_model_len=inp.max_model_len, max_prompt_seq=None, max_decode_seq=None,
            global_state=types.SimpleNamespace())
        ns["_setup_buckets"](me)
        gs = me.global_state
        if exp:
            prompt = ns["generate_prompt_buckets"](gs.prompt_bs_bucket_cfg, gs.prompt_seq_bucket_cfg,
                                                   inp.max_num_batched_tokens, inp.max_model_len)[0]
            decode = ns["generate_decode_buckets"](gs.decode_bs_bucket_cfg, gs.decode_block_bucket_cfg,
                                                   inp.num_blocks, inp.max_model_len, inp.block_size)
        else:
            prompt = ns["generate_prompt_buckets"](gs.prompt_bs_bucket_cfg, gs.prompt_seq_bucket_cfg,
                                                   inp.max_num_batched_tokens)[0]
            decode = ns["generate_decode_buckets"](gs.decode_bs_bucket_cfg, gs.decode_block_bucket_cfg,
                                                   inp.num_blocks)
        return [tuple(int(x) for x in b) for b in prompt], [tuple(int(x) for x in b) for b in decode]

    def gaudi(self, inp: Any, contiguous_pa: bool) -> tuple[list[Any], list[Any]]:
        self.cfg = _Config(self.env, contiguous_pa)
        m = self.g["HPUBucketingManager"]()
        mnps = int(self.env.get("VLLM_PROMPT_BS_BUCKET_MAX", 1))
        m.initialize(max_num_seqs=inp.max_num_seqs, max_num_prefill_seqs=mnps, block_size=inp.block_size,
                     max_num_batched_tokens=inp.max_num_batched_tokens, max_model_len=inp.max_model_len)
        m.num_hpu_blocks = inp.num_blocks
        m.generate_prompt_buckets()
        m.generate_decode_buckets()
        return ([tuple(int(x) for x in b) for b in m.prompt_buckets],
                [tuple(int(x) for x in b) for b in m.decode_buckets])


class ManagerEngine:
    """A fork's text buckets by the extension's OWN code: ``HPUBucketingManager`` with its linear and
    exponential strategies, and the ``get_config()`` they consult built by the extension's own config
    machinery (config.py, features.py, environment.py, runtime.py; validation.py on main) over ``env``.
    ``main`` False: aice/v1.22.0 @f5f9ecb7 (fork 1.22's pin); True: main @7717587d (habana_main's
    stand-in: its pin f1d9275 is not in the mirror), whose config module was refactored (validation.py,
    ``RUNTIME_CONFIG``). Stubs: the device probes (gaudi3, lazy, V0), the kernels (absent) and the engine's
    ``enable_prefix_caching`` (False: V0 turns it off for multimodal models)."""

    def __init__(self, eng: Engines, *, main: bool = False) -> None:
        import bisect
        import itertools
        import operator
        import re

        import numpy as np
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        src, self.env = (eng.emain if main else eng.e122), {}
        leveled = types.SimpleNamespace(getEffectiveLevel=lambda: 20, **vars(LOGGER))
        typing_stubs = {k: ANY for k in ("Any", "Callable", "Dict", "List", "Optional", "Tuple", "TypeAlias",
                                         "Union", "Set", "ValueFn", "Constructor", "HasName", "T", "Checker",
                                         "Error")}
        cfg: dict[str, Any] = {
            "os": fake_os(self.env), "itertools": itertools, "re": re, "logger": lambda: leveled,
            "DETECTED": None, "RUNTIME_CONFIG": None,
            "_VLLM_VALUES": {"prefix_caching": False, "model_type": "qwen2_5_vl"},
            "fsdpa": lambda: None, "block_softmax_adjustment": lambda: None,
            "_get_hw": lambda _: "gaudi3", "_get_build": lambda _: "1.22.0.0",
            "_get_vllm_engine_version": lambda _: "v0", "_get_pt_bridge_mode": lambda _: "lazy",
            "Version": Version, "SpecifierSet": SpecifierSet, **typing_stubs,
        }
        ext = "vllm_hpu_extension"
        config = ["Config", "All", "Not", "Eq", "Enabled", "Disabled", "FirstEnabled", "Hardware", "Kernel",
                  "ModelType", "Engine", "VersionRange", "boolean", "Env", "Value", "to_dict", "env_flags",
                  "split_values_and_flags"]
        if main:
            src.load(f"{ext}/validation.py", ["for_all", "choice", "regex", "skip_validation"], cfg)
            config += ["list_of", "ValueFromList"]
        else:
            config.append("choice")
        src.load(f"{ext}/config.py", config, cfg)
        src.load(f"{ext}/features.py", ["get_user_flags", "get_experimental_flags", "get_features"], cfg)
        src.load(f"{ext}/environment.py", ["VllmValue", "get_environment"], cfg)
        src.load(f"{ext}/runtime.py", ["HIDDEN_PARAMS", "filter_defined", "dump", "get_config"], cfg)
        self.cfg = cfg
        base = {"os": fake_os(self.env), "logger": lambda: leveled, "get_config": cfg["get_config"],
                "itertools": itertools, "operator": operator, "math": math, "np": np, "bisect": bisect,
                **typing_stubs}
        lin = src.load(f"{E_BUCKETING}/linear.py", ["LinearBucketingStrategy", "read_bucket_settings",
                                                     "warmup_range", "generate_prompt_buckets",
                                                     "generate_decode_buckets"], dict(base))
        exp = src.load(f"{E_BUCKETING}/exponential.py",
                       ["ExponentialBucketingStrategy", "generate_prompt_buckets", "generate_decode_buckets",
                        "warmup_range_with_limit"], dict(base))
        modules = {f"{ext}.bucketing.linear": types.SimpleNamespace(**lin),
                   f"{ext}.bucketing.exponential": types.SimpleNamespace(**exp)}

        def imp(name: str, *a: Any, **k: Any) -> Any:  # get_bucketing_strategy imports a strategy module
            return modules[name] if name in modules else builtins.__import__(name, *a, **k)

        common = dict(base, __builtins__={**vars(builtins), "__import__": imp})
        self.ns = src.load(f"{E_BUCKETING}/common.py", ["calc_fallback_value", "HPUBucketingManager"], common)

    def __call__(self, inp: Any) -> tuple[list[Any], list[Any]]:
        self.env.clear()
        self.env.update(inp.env)
        self.cfg["DETECTED"] = self.cfg["RUNTIME_CONFIG"] = None  # get_config() caches: resolve afresh
        try:
            m = self.ns["HPUBucketingManager"]()
            # the runner's call (vllm/worker/hpu_model_runner.py:1184-1190@17a7946f: max_num_prefill_seqs
            # is max_num_seqs), then the worker's (hpu_worker.py:389-393)
            m.initialize(max_num_seqs=inp.max_num_seqs, max_num_prefill_seqs=inp.max_num_seqs,
                         block_size=inp.block_size, max_num_batched_tokens=inp.max_num_batched_tokens,
                         max_model_len=inp.max_model_len)
            m.num_hpu_blocks = inp.num_blocks
            m.generate_prompt_buckets()
            m.generate_decode_buckets()
            return ([tuple(int(x) for x in b) for b in m.prompt_buckets],
                    [tuple(int(x) for x in b) for b in m.decode_buckets])
        finally:
            self.env.clear()


def random_text_inputs(rng: random.Random, *, small: bool) -> Any:
    from gaudi_vl.engines.text_buckets import TextBucketInputs

    block = 128
    sizes = (512, 1024, 2048, 8192) if small else (1024, 2048, 4096, 8192, 16384, 32768)
    mml = rng.choice(sizes)
    mns = rng.choice((1, 2, 4, 8, 16, 32, 64, 100, 128, 256))
    mnbt = max(block, rng.choice((mml, 2048, 4096, 8192, mml // 2)))
    blocks = max(1, rng.randint(mml // block, mml * mns // block + 64))
    return TextBucketInputs(mns, mnbt, mml, block, blocks)


def check_text_buckets(eng: Engines, rng: random.Random, n: int) -> None:
    """The profiles' text prompt/decode buckets against the engines' own generators."""
    from gaudi_vl.engines.text_buckets import text_buckets

    te = TextBucketEngines(eng)
    fork_envs: list[dict[str, str]] = [
        {}, {"VLLM_EXPONENTIAL_BUCKETING": "true"},
        {"VLLM_PROMPT_SEQ_BUCKET_STEP": "256", "VLLM_DECODE_BS_BUCKET_STEP": "16"},
        {"VLLM_EXPONENTIAL_BUCKETING": "true", "VLLM_PROMPT_SEQ_BUCKET_LIMIT": "5"},
    ]
    gaudi_envs: list[dict[str, str]] = [
        {}, {"VLLM_BUCKETING_STRATEGY": "lin"},
        {"VLLM_EXPONENTIAL_BUCKETING": "false", "VLLM_PROMPT_BS_BUCKET_MAX": "4"},
        {"VLLM_PROMPT_BS_BUCKET_MAX": "8"},
    ]
    def compare(r: Row, tb: Any, inp: Any) -> None:
        te.env.clear()
        te.env.update(inp.env)
        try:
            if tb.generator.name == "EXT_2D":
                want = outcome(lambda: te.fork(inp))
            else:
                # V1 enables prefix caching by default: contiguous PA off (features.py:97)
                want = outcome(lambda: te.gaudi(inp, False))
        finally:
            te.env.clear()
        got = outcome(lambda: text_buckets(tb, inp))
        if got[0] == want[0] == "error":  # both refuse to start (the profile says so in one line)
            got = want
        if got[0] == "ok":
            got = ("ok", (sorted(got[1].prompt), sorted(got[1].decode)))
        if want[0] == "ok":
            want = ("ok", (sorted(want[1][0]), sorted(want[1][1])))
        r.record(got == want, lambda: f"{inp}: engine {str(want)[:160]} / profile {str(got)[:160]}")

    for prof in (CUR.f121, CUR.gaudi):
        r = row("text buckets (prompt, decode)", prof.name)
        tb = prof.text_buckets
        envs = fork_envs if tb.generator.name == "EXT_2D" else gaudi_envs
        for i in range(max(20, n // 20)):
            env = envs[i % len(envs)]
            lin = "lin" in env.values() or env.get("VLLM_EXPONENTIAL_BUCKETING") == "false"
            compare(r, tb, replace(random_text_inputs(rng, small=lin), env=env))
    check_manager_buckets(eng, rng, n)


MANAGER_ENVS: list[dict[str, str]] = [
    {}, {"VLLM_EXPONENTIAL_BUCKETING": "false"}, {"VLLM_EXPONENTIAL_BUCKETING": "True"},
    {"VLLM_EXPONENTIAL_BUCKETING": "0"}, {"VLLM_EXPONENTIAL_BUCKETING": "no"},
    {"VLLM_EXPONENTIAL_BUCKETING": "false", "VLLM_PROMPT_SEQ_BUCKET_STEP": "256",
     "VLLM_DECODE_BS_BUCKET_STEP": "16", "VLLM_PROMPT_BS_BUCKET_MAX": "8"},
    {"VLLM_EXPONENTIAL_BUCKETING": "false", "VLLM_DECODE_BLOCK_BUCKET_MAX": "512",
     "VLLM_DECODE_BLOCK_BUCKET_MIN": "16", "VLLM_DECODE_BLOCK_BUCKET_STEP": "64"},
    {"VLLM_PROMPT_SEQ_BUCKET_LIMIT": "5", "VLLM_PROMPT_BS_BUCKET_MAX": "4"},  # overwritten by exponential
    {"VLLM_CONTIGUOUS_PA": "false"}, {"VLLM_EXPONENTIAL_BUCKETING": "false", "VLLM_CONTIGUOUS_PA": "false"},
    {"VLLM_EXPONENTIAL_BUCKETING": "false", "VLLM_MERGED_PREFILL": "true"}, {"VLLM_MERGED_PREFILL": "1"},
    {"VLLM_PREFIX_CACHING": "true"}, {"VLLM_PREFIX_CACHING": "true", "VLLM_EXPONENTIAL_BUCKETING": "false"},
    {"PT_HPU_SDPA_QKV_SLICE_MODE_FWD": "1"},
    {"PT_HPU_SDPA_QKV_SLICE_MODE_FWD": "true", "PT_HPU_SDPA_BC_FACTOR": "2048",
     "VLLM_FUSEDSDPA_SLIDE_THLD": "4096", "VLLM_EXPONENTIAL_BUCKETING": "false"},
]
"""Fork 1.22 settings: strategy flag spellings, linear ranges, the ignored exponential variables, contiguous
PA off, merged prefill, prefix caching forced on, the fused-SDPA slicing filter."""


def check_manager_buckets(eng: Engines, rng: random.Random, n: int) -> None:
    """Fork 1.22's prompt and decode buckets, in order, against the extension's manager @f5f9ecb7, and
    habana_main's against the manager at extension main @7717587d (its pin's stand-in)."""
    for name, main in (("f122", False), ("main", True)):
        _check_manager(ManagerEngine(eng, main=main), name, rng, n)
        _check_graphed(eng.fmain if main else eng.f122, name, rng, n)


def _check_graphed(src: Source, name: str, rng: random.Random, n: int) -> None:
    """Which prompt buckets serve from a graph: the runner's own ``HPUModelRunnerBase._use_graphs``
    (1.22: ``bs * seq <= max_seq_len_to_capture``, 8192 capped at max_model_len, vllm/config.py:322,
    948-950@17a7946f; habana_main: ``not enforce_eager``) over the profile's prompt buckets."""
    import inspect

    from gaudi_vl.engines.text_buckets import text_buckets

    use_graphs = src.load(RUNNER, ["HPUModelRunnerBase._use_graphs"], {})["_use_graphs"]
    takes_shape = len(inspect.signature(use_graphs).parameters) > 1
    prof = getattr(CUR, name)
    r = row("text prompt graphs", prof.name)
    for i in range(max(20, n // 20)):
        inp = replace(random_text_inputs(rng, small=False), env=MANAGER_ENVS[i % 2])
        # the linear decode range starts at block_size blocks (linear.py:67-69): fewer KV blocks refuse
        inp = replace(inp, num_blocks=max(inp.num_blocks, inp.block_size))
        got = outcome(lambda inp=inp: text_buckets(prof.text_buckets, inp))  # type: ignore[misc]
        if got[0] != "ok":  # the bucket row compares refusals with the engine's
            r.record(False, lambda inp=inp, g=got: f"{inp}: profile {g}")
            continue
        me = types.SimpleNamespace(enforce_eager=False, max_seq_len_to_capture=min(8192, inp.max_model_len))
        want = [b for b in got[1].prompt if (use_graphs(me, b[0], b[1]) if takes_shape else use_graphs(me))]
        r.record(list(got[1].prompt_graphed) == want,
                 lambda inp=inp, w=want, g=got[1].prompt_graphed: f"{inp}: runner {w[:8]} / profile {g[:8]}")


def _check_manager(run: ManagerEngine, name: str, rng: random.Random, n: int) -> None:
    from gaudi_vl.engines.text_buckets import text_buckets

    prof = getattr(CUR, name)
    r = row("text buckets (prompt, decode)", prof.name)
    for i in range(max(40, n // 5)):
        env = MANAGER_ENVS[i % len(MANAGER_ENVS)]
        # linear with prefix caching makes every (bs, seq, ctx): keep it to short contexts
        small = env.get("VLLM_EXPONENTIAL_BUCKETING") in ("false", "0", "no") and (
            "VLLM_PREFIX_CACHING" in env or rng.random() < 0.5)
        inp = replace(random_text_inputs(rng, small=small), env=env)
        if rng.random() < 0.5:  # the linear decode range starts at block_size blocks (linear.py:67-69)
            inp = replace(inp, num_blocks=rng.randint(inp.block_size, 20000))
        if "PT_HPU_SDPA_QKV_SLICE_MODE_FWD" in env:  # the slicing filter acts on long prompts only
            mml = rng.choice((16384, 32768)) - rng.choice((0, 0, 72))
            inp = replace(inp, max_model_len=mml, max_num_batched_tokens=mml)
        if rng.random() < 0.2:  # odd sizes: max_model_len and KV blocks off the block grid
            inp = replace(inp, max_model_len=inp.max_model_len - rng.randint(1, 200),
                          num_blocks=rng.randint(1, 300))
        want = outcome(lambda inp=inp: run(inp))  # type: ignore[misc]
        got = outcome(lambda inp=inp: text_buckets(prof.text_buckets, inp))  # type: ignore[misc]
        if got[0] == want[0] == "error":
            got = want
        if got[0] == "ok":
            got = ("ok", (list(got[1].prompt), list(got[1].decode)))
        r.record(got == want,
                 lambda inp=inp, w=want, g=got: f"{inp}: engine {str(w)[:200]} / profile {str(g)[:200]}")


# ---------------------------------------------------------------- main


ONLY: list[str] = []
"""``--only``: run just these check functions (e.g. ``text_buckets``); empty: all."""


def run_checks(eng: Engines, towers: Towers, seed: int, n: int) -> list[Row]:
    ROWS.clear()
    rng = random.Random(seed)
    if ONLY:
        checks = {"text_buckets": lambda: check_text_buckets(eng, rng, n),
                  "variables": lambda: check_variables(eng)}
        for name in ONLY:
            checks[name]()
        return list(ROWS)
    check_variables(eng)
    check_static(eng)
    check_modes(eng, towers, rng, max(20, n // 10))
    check_parse(eng, towers, rng, n)
    check_lookup(eng, rng, n)
    check_grids(eng, towers, rng, n)
    check_masks(towers, rng, max(10, n // 100))
    check_guessed_images(eng, rng, n)
    check_warmup(eng, towers, rng, n)
    check_memory(eng, rng, n)
    check_processor(rng, n)
    check_text_buckets(eng, rng, n)
    return list(ROWS)


def mutants() -> list[tuple[str, str, types.SimpleNamespace]]:
    """Deliberately wrong profiles, each with the check that must flag it (``--self-test``)."""
    f, m, g, v = FORK_121, FORK_MAIN, VLLM_GAUDI, FORK_122
    assert f.memory and m.memory and g.memory and f.attention and g.attention and v.attention
    assert f.text_buckets and g.text_buckets and v.text_buckets and m.text_buckets
    from gaudi_vl.engines.text_buckets import TextStrategy

    def cur(**kw: EngineProfile) -> types.SimpleNamespace:
        return types.SimpleNamespace(**{"f121": f, "main": m, "gaudi": g, "f122": v, **kw})

    comp, lazy = g.execution_modes

    ratio = next(v for v in f.variables if v.setting is Setting.GRAPH_MULTIMODAL_RATIO)
    return [
        ("fork-1.21 keeps grids", "grid -> tower patches", cur(f121=replace(f, grid_rule=GridRule.KEEP))),
        (
            "habana_main pads grids",
            "grid -> tower patches",
            cur(main=replace(m, grid_rule=GridRule.PAD_SIDES_TO_8)),
        ),
        ("fork-1.21 no %64 crash", "bucket parse", cur(f121=replace(f, bucket_crash_multiple=None))),
        ("vllm-gaudi asserts %8", "bucket parse", cur(gaudi=replace(g, bucket_assert_multiple=8))),
        (
            "fork-1.21 no block rounding",
            "KV blocks (memory split)",
            cur(f121=replace(f, memory=replace(f.memory, block_round=1))),
        ),
        (
            "vllm-gaudi no dummy block",
            "KV blocks (memory split)",
            cur(gaudi=replace(g, memory=replace(g.memory, dummy_blocks=0))),
        ),
        (
            "vllm-gaudi tiles from 65537",
            "query tiling threshold",
            cur(gaudi=replace(g, attention=replace(g.attention, query_tiled_from=65537))),
        ),
        (
            "vllm-gaudi one mask",
            "vision masks (held, dtype)",
            cur(gaudi=replace(g, attention=replace(g.attention, masks_held=1))),
        ),
        (
            "fork-1.21 float masks",
            "vision masks (held, dtype)",
            cur(f121=replace(f, attention=replace(f.attention, mask_built_in_float=True))),
        ),
        (
            "vllm-gaudi four aspect ratios",
            "guessed warm-up images",
            cur(gaudi=replace(g, warmup_aspect_ratios=g.warmup_aspect_ratios[:4])),
        ),
        (
            "vllm-gaudi one graph per bucket",
            "warm-up set",
            cur(gaudi=replace(g, warmup=WarmupRule.ONE_PER_BUCKET)),
        ),
        (
            "fork-1.21 forces min_pixels",
            "min_pixels override",
            cur(f121=replace(f, min_pixels_override=12544)),
        ),
        (
            "fork-1.21 ratio default 0.5",
            "variables read + defaults",
            cur(
                f121=replace(
                    f, variables=tuple(replace(v, default="0.5") if v is ratio else v for v in f.variables)
                )
            ),
        ),
        (
            "vllm-gaudi contiguous PA",
            "text buckets (prompt, decode)",
            cur(gaudi=replace(g, text_buckets=replace(g.text_buckets, contiguous_pa=True))),
        ),
        (
            "fork-1.21 prompt bs max 1",
            "text buckets (prompt, decode)",
            cur(f121=replace(f, text_buckets=replace(f.text_buckets, prompt_bs_follows_max_num_seqs=False))),
        ),
        (
            "fork-1.22 linear by default",
            "text buckets (prompt, decode)",
            cur(f122=replace(v, text_buckets=replace(v.text_buckets, default_strategy=TextStrategy.LINEAR))),
        ),
        (
            "fork-1.22 no contiguous PA",
            "text buckets (prompt, decode)",
            cur(f122=replace(v, text_buckets=replace(v.text_buckets, contiguous_pa=False))),
        ),
        (
            "fork-1.22 prompt bs max 1",
            "text buckets (prompt, decode)",
            cur(f122=replace(v, text_buckets=replace(v.text_buckets, prompt_bs_follows_max_num_seqs=False))),
        ),
        (
            "habana_main 1.21 generator (the old assumption)",
            "text buckets (prompt, decode)",
            cur(main=replace(m, text_buckets=f.text_buckets)),
        ),
        (
            "habana_main linear by default",
            "text buckets (prompt, decode)",
            cur(main=replace(m, text_buckets=replace(m.text_buckets, default_strategy=TextStrategy.LINEAR))),
        ),
        (
            "habana_main no contiguous PA",
            "text buckets (prompt, decode)",
            cur(main=replace(m, text_buckets=replace(m.text_buckets, contiguous_pa=False))),
        ),
        (
            "habana_main 1.22 context range",
            "text buckets (prompt, decode)",
            cur(main=replace(m, text_buckets=replace(m.text_buckets, linear_context_extra=2))),
        ),
        (
            "habana_main keeps duplicate buckets",
            "text buckets (prompt, decode)",
            cur(main=replace(m, text_buckets=replace(m.text_buckets, prompt_deduplicated=False))),
        ),
        (
            "habana_main capture limit 8192",
            "text prompt graphs",
            cur(main=replace(m, text_buckets=replace(m.text_buckets, capture_tokens_limit=8192))),
        ),
        (
            "fork-1.22 graphs every bucket",
            "text prompt graphs",
            cur(f122=replace(v, text_buckets=replace(v.text_buckets, capture_tokens_limit=None))),
        ),
        (
            "habana_main reads the ratio",
            "variables read + defaults",
            cur(main=replace(m, variables=(*m.variables, ratio))),
        ),
        (
            "fork-1.22 seven default buckets",
            "bucket parse",
            cur(f122=replace(v, default_buckets=f.default_buckets)),
        ),
        (
            "fork-1.22 trims grids",
            "grid -> tower patches",
            cur(f122=replace(v, grid_rule=GridRule.TRIM_SIDES_TO_8)),
        ),
        (
            "fork-1.22 one mask",
            "vision masks (held, dtype)",
            cur(f122=replace(v, attention=replace(v.attention, masks_held=1))),
        ),
        (
            "fork-1.22 bool masks",
            "vision masks (held, dtype)",
            cur(f122=replace(v, attention=replace(v.attention, mask_built_in_float=False))),
        ),
        ("fork-1.22 keeps min_pixels", "min_pixels override", cur(f122=replace(v, min_pixels_override=None))),
        (
            "fork-1.22 reads the ratio",
            "variables read + defaults",
            cur(f122=replace(v, variables=(*v.variables, ratio))),
        ),
        (
            "fork-1.22 rounds blocks",
            "KV blocks (memory split)",
            cur(f122=replace(v, memory=replace(v.memory, block_round=128))),  # type: ignore[arg-type]
        ),
        (
            "mode: vllm-gaudi compile warms outside compile-only",
            "mode: vision warm-up place",
            cur(gaudi=replace(g, execution_modes=(replace(comp, vision_warmup_compile_only=False), lazy))),
        ),
        (
            "mode: vllm-gaudi compile has HPU graphs",
            "mode: HPU graphs / compile",
            cur(gaudi=replace(g, execution_modes=(replace(comp, hpu_graphs=True), lazy))),
        ),
        (
            "mode: vllm-gaudi lazy reserves no graph memory",
            "mode: graph memory reserved",
            cur(gaudi=replace(g, execution_modes=(comp, replace(lazy, graph_reserved_applies=False)))),
        ),
    ]


def print_table(rows: list[Row]) -> None:
    w = max(len(r.check) for r in rows)
    print(f"| {'check':<{w}} | {'engine':<14} | {'cases':>6} | {'mismatches':>10} | note")
    print(f"|{'-' * (w + 2)}|{'-' * 16}|{'-' * 8}|{'-' * 12}|------")
    for r in rows:
        print(f"| {r.check:<{w}} | {r.engine:<14} | {r.cases:>6} | {r.mismatches:>10} | {r.note}")
    for r in rows:
        if r.mismatches:
            print(f"\nMISMATCH {r.check} / {r.engine}:")
            for e in r.examples:
                print("  " + e)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    for key, value in DEFAULTS.items():
        ap.add_argument(
            "--" + key.replace("_", "-"), default=value, type=Path if key.endswith("git") else str
        )
    ap.add_argument("--cases", type=int, default=2000, help="random cases per cheap check (default 2000)")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument(
        "--self-test",
        action="store_true",
        help="run against deliberately wrong profiles: each must be flagged by its check",
    )
    ap.add_argument(
        "--mutants", metavar="TEXT", default="",
        help="with --self-test: only the wrong profiles whose label contains TEXT (e.g. 1.22, vllm-gaudi)",
    )
    ap.add_argument("--only", action="append", default=[], choices=("text_buckets", "variables"),
                    help="run only this check (repeatable); default: every check")
    args = ap.parse_args(argv)
    ONLY[:] = args.only

    srcs = (
        Source(args.fork_git, args.fork_121, "vllm-fork aice/v1.21.0"),
        Source(args.fork_git, args.fork_main, "vllm-fork habana_main"),
        Source(args.gaudi_git, args.gaudi, "vllm-gaudi main"),
        Source(args.ext_git, args.ext_121, "vllm-hpu-extension aice/v1.21.0"),
        Source(args.ext_git, args.ext_main, "vllm-hpu-extension main"),
        Source(args.fork_git, args.fork_122, "vllm-fork aice/v1.22.0"),
        Source(args.ext_git, args.ext_122, "vllm-hpu-extension aice/v1.22.0"),
    )
    for s in srcs:
        s.commit = s.git("rev-parse", "--verify", f"{s.commit}^{{commit}}").strip() or s.commit
    eng = Engines(*srcs)
    towers = Towers(eng)
    print("commits: " + "; ".join(f"{s.label} {s.commit[:12]}" for s in srcs))
    print(f"seed {args.seed}, --cases {args.cases}\n")

    if args.self_test:
        missed, tried = [], 0
        chosen = [m for m in mutants() if args.mutants in m[0]]
        for label, check, profiles in chosen:
            CUR.__dict__.update(vars(profiles))
            rows = run_checks(eng, towers, args.seed, args.cases)
            if not any(r.check == check for r in rows):
                continue  # its check is not among --only
            tried += 1
            flagged = sum(r.mismatches for r in rows if r.check == check)
            print(f"mutant {label!r}: {flagged} mismatches in {check!r}")
            if not flagged:
                missed.append(label)
        CUR.__dict__.update(f121=FORK_121, main=FORK_MAIN, gaudi=VLLM_GAUDI, f122=FORK_122)
        print(
            f"\n{tried - len(missed)} of {tried} mutants flagged"
            + (f"; missed: {missed}" if missed else "")
        )
        return 1 if missed else 0

    rows = run_checks(eng, towers, args.seed, args.cases)
    print_table(rows)
    print("\nengine code executed:")
    for s in srcs:
        if s.executed:
            print(f"  {s.label} @{s.commit[:12]}: " + ", ".join(f"{q} ({w})" for q, w in s.executed.items()))
    bad = [r for r in rows if r.mismatches]
    total, wrong = sum(r.cases for r in rows), sum(r.mismatches for r in rows)
    print(f"\n{total} cases, {wrong} mismatches in {len(bad)} of {len(rows)} checks")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
