"""Text (language-model) buckets: the prompt and decode shapes an HPU engine warms at start-up.

Pure (standard library and numpy). The engines pad every text batch to a bucket and compile one
graph per bucket, so the bucket set decides the graph count, the graph memory and most of the
warm-up time. This module reproduces each engine's generator exactly (the differential check,
``tools/check_engine_profiles.py``, runs the engines' own functions from the mirrors against these):

* vllm-fork (V0) uses vllm-hpu-extension's 2-D buckets ``(batch, seq)`` for prompts and
  ``(batch, blocks)`` for decode. aice/v1.21.0 pins the extension branch ``aice/v1.21.0``
  (requirements/hpu.txt:12@277a33cd; read at @8afd25348a28); the linear strategy is the default and
  ``VLLM_EXPONENTIAL_BUCKETING=true`` picks the exponential one (ext: bucketing/common.py:41-50).
* vllm-fork habana_main @95af7009 builds the same ``HPUBucketingManager`` (hpu_model_runner.py:33,
  1041-1047@95af7009). It pins the extension at f1d9275 (requirements/hpu.txt@95af7009, set 2025-10-14
  by PR 2021 for extension PR 374), which the mirror does not hold (its main ends at @7717587d,
  2025-09-25, PR 371): the profile follows @7717587d, an assumption it states. There the manager
  differs from @f5f9ecb7 only off the default path: linear prefix-caching contexts stop one earlier
  and the prompt filter keeps a set (``TextBucketing.linear_context_extra``, ``prompt_deduplicated``).
* vllm-fork aice/v1.22.0 (V0) pins extension branch ``aice/v1.22.0`` @f5f9ecb7298b
  (requirements/hpu.txt:10@17a7946f), whose ``HPUBucketingManager`` (bucketing/common.py:34-117) makes
  3-D buckets ``(batch, seq, context blocks)`` for prompts and ``(batch, 1, blocks)`` for decode:
  exponential unless ``VLLM_EXPONENTIAL_BUCKETING`` parses false (common.py:66-80), the linear strategy
  reading the MIN/STEP/MAX variables, the exponential one overwriting them (exponential.py:15-27).
* vllm-gaudi (V1) uses 3-D buckets ``(batch, query, context blocks)`` from
  ``vllm_gaudi/extension/bucketing/`` @091bbadda10b: ``exp`` (the default), ``lin`` or ``pad`` by
  ``VLLM_BUCKETING_STRATEGY`` (features.py:99-103), ``VLLM_EXPONENTIAL_BUCKETING`` overriding it
  (common.py:135-150), or a file (``VLLM_BUCKETING_FROM_FILE``, common.py:117-120, 159-160).

The padding-aware (``pad``) and file strategies are recognised but not generated here: a plan for
them says so and counts no text graphs (``TextBucketSet.modelled`` is False).

Names: ``E`` = extension @8afd25348a28 (``vllm_hpu_extension/bucketing/``); ``M`` = extension
@f5f9ecb7298b (``vllm_hpu_extension/``, the manager fork 1.22 uses; ``F`` = its runner,
``vllm/worker/hpu_model_runner.py@17a7946f``); ``N`` = extension main @7717587d1780 (habana_main's
stand-in); ``G`` = vllm-gaudi @091bbadda10b (``vllm_gaudi/extension/bucketing/``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from gaudi_vl.errors import GaudiVLError

Bucket = tuple[int, ...]
"""``(batch, seq)`` / ``(batch, blocks)`` (2-D) or ``(batch, query, context_blocks)`` (3-D)."""


class Generator(str, Enum):
    """Which engine code generates the buckets."""

    EXT_2D = "vllm-hpu-extension 2-D"
    EXT_MANAGER = "vllm-hpu-extension HPUBucketingManager 3-D"
    GAUDI_3D = "vllm-gaudi 3-D"


class TextStrategy(str, Enum):
    """The engine's bucketing strategy (vllm-gaudi's ``VLLM_BUCKETING_STRATEGY`` values)."""

    LINEAR = "lin"
    EXPONENTIAL = "exp"
    PADDING_AWARE = "pad"
    FILE = "file"


@dataclass(frozen=True)
class TextBucketing:
    """How one engine version makes its text buckets and which of them become graphs."""

    generator: Generator
    default_strategy: TextStrategy
    strategy_variable: str
    """The variable that picks the strategy (its values per ``generator``)."""
    prompt_bs_follows_max_num_seqs: bool
    """The prompt batch-size maximum defaults to ``max_num_seqs`` (else to 1)."""
    contiguous_pa: bool
    """Contiguous paged attention: the exponential ranges end exactly at their maximum and decode
    blocks are bounded by the KV blocks (vllm-gaudi: on only without prefix caching)."""
    capture_tokens_limit: int | None
    """Prompt buckets above this many tokens run without a graph (``Generator.EXT_MANAGER`` caps it at
    max_model_len as fork 1.22's config does). None: ``max_num_batched_tokens``, except under
    ``Generator.EXT_MANAGER``, where it means no limit (habana_main graphs every bucket:
    ``_use_graphs`` is ``not enforce_eager``, hpu_model_runner.py:1415-1416@95af7009)."""
    capture_gated_by_memory: bool
    """Graphs are captured only while the engine's graph memory lasts (else every bucket is graphed
    and too small a reserve runs out of memory)."""
    compiles_every_bucket: bool
    """Every bucket is compiled (lazy warm-up) before graphs are captured."""
    variables: tuple[str, ...]
    """The bucket variables the engine reads (for the plan's "defaults in force" list)."""
    cited: str = ""
    notes: tuple[str, ...] = ()
    linear_context_extra: int = 2
    """``Generator.EXT_MANAGER``, linear strategy with prefix caching: the contexts of a prompt bucket
    run over ``range((seq max - seq) // block + this)`` (M linear.py:142: 2, "Warmup one context more",
    extension PR 313 on aice/v1.22.0; N linear.py:142: 1)."""
    prompt_deduplicated: bool = False
    """``Generator.EXT_MANAGER``: the budget filter keeps a set, so duplicate ``(bs, seq, ctx)`` (the
    exponential context range repeats values for short spans) collapse (N linear.py:157-163,
    exponential.py:131-137); M keeps a list and warms duplicates twice. The "none fits" fallback returns
    every bucket, duplicates included, in both."""


@dataclass(frozen=True)
class TextBucketInputs:
    """What the engine's generator sees (the plan's serving settings and KV blocks)."""

    max_num_seqs: int
    max_num_batched_tokens: int
    max_model_len: int
    block_size: int
    num_blocks: int
    """KV-cache blocks the engine allocated (decode buckets depend on it)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Bucket variables set for the engine (unset: its defaults)."""


@dataclass(frozen=True)
class TextBucketSet:
    """The prompt and decode buckets one engine warms for one plan, and which become graphs."""

    strategy: TextStrategy
    prompt: tuple[Bucket, ...]
    decode: tuple[Bucket, ...]
    prompt_graphed: tuple[Bucket, ...]
    """Prompt buckets the engine would capture as graphs (capture limit; memory not applied)."""
    config: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """The resolved ranges, e.g. ``("prompt bs", (1, 32, 128))`` as the engine logs them."""
    modelled: bool = True

    @property
    def graphs(self) -> int:
        return len(self.prompt) + len(self.decode)

    @staticmethod
    def tokens(bucket: Bucket, prompt: bool) -> int:
        """Tokens one run of the bucket computes: ``batch * seq`` for a prompt, ``batch`` for decode
        (the engines' own graph-memory proportionality, hpu_model_runner.py:2668-2669@277a33cd)."""
        return bucket[0] * bucket[1] if prompt else bucket[0]


# ---------------------------------------------------------------- env


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    """``int(os.environ.get(name, default))`` as both generators read a bucket variable."""
    value = env.get(name)
    return default if value is None else int(value)


def ext_flag(env: Mapping[str, str], name: str) -> bool | None:
    """An extension flag as M config.py:122-142 reads it (``Env(name, boolean)``): None when unset,
    else whether the lower-cased value is one of true/t/1/yes/y/on."""
    value = env.get(name)
    return None if value is None else value.lower() in ("true", "t", "1", "yes", "y", "on")


def strategy_in_force(bucketing: TextBucketing, env: Mapping[str, str]) -> TextStrategy:
    """The strategy the engine picks from ``env``."""
    if bucketing.generator is Generator.EXT_2D:
        # E common.py:41-50: 'true' (lower-cased) -> exponential, anything else -> linear
        on = env.get("VLLM_EXPONENTIAL_BUCKETING", "false").lower() == "true"
        return TextStrategy.EXPONENTIAL if on else TextStrategy.LINEAR
    if bucketing.generator is Generator.EXT_MANAGER:
        # M bucketing/common.py:66-80: unset (None) -> exponential; else the flag's boolean value
        flag = ext_flag(env, "VLLM_EXPONENTIAL_BUCKETING")
        if flag is None:
            return bucketing.default_strategy
        return TextStrategy.EXPONENTIAL if flag else TextStrategy.LINEAR
    if env.get("VLLM_BUCKETING_FROM_FILE"):
        return TextStrategy.FILE
    strategy = TextStrategy(env.get("VLLM_BUCKETING_STRATEGY", bucketing.default_strategy.value))
    legacy = env.get("VLLM_EXPONENTIAL_BUCKETING")
    if legacy is not None:
        # G common.py:135-150 (extension config.boolean: 'true'/'1'/'t' are true)
        on = legacy.lower() in ("true", "1", "t")
        strategy = TextStrategy.EXPONENTIAL if on else TextStrategy.LINEAR
    return strategy


# ---------------------------------------------------------------- vllm-hpu-extension (fork)


def ext_linear_range(bmin: int, bstep: int, bmax: int) -> list[int]:
    """E linear.py:205-228 ``warmup_range``: doubling from ``bmin`` below ``bstep``, then multiples of
    ``bstep`` up to ``bmax``; values below ``bmin`` dropped."""
    if bmin > bmax:
        raise ValueError(f"bucket min {bmin} above max {bmax}")
    ramp = list(itertools.takewhile(lambda x: x < bstep and x <= bmax,
                                    itertools.accumulate(itertools.repeat(2), lambda a, b: a * b,
                                                         initial=bmin)))
    stable = list(range(bstep, bmax + 1, bstep))
    return [b for b in ramp + stable if b >= bmin]


def ext_exponential_range(bmin: int, bstep: int, bmax: int, limit: int, *, contiguous_pa: bool = True,
                          long_context: bool = False) -> list[int]:
    """E exponential.py:307-390 ``warmup_range_with_limit(fill=True)``: ``limit`` exponentially spaced
    values from ``bmin`` to ``bmax`` rounded up to ``bstep``; a duplicate takes the nearest unused
    multiple of ``bstep``; the last is ``bmax`` itself under contiguous PA.

    ``long_context`` (M bucketing/exponential.py:203-320, fork 1.22's copy; without it the two are the
    same): ``limit // 2`` exponential values up to ``bmax / limit``, then ``limit - limit // 2`` evenly
    spaced ones up to ``bmax`` (rounded up to ``bstep``, so the last may pass ``bmax``), no fill."""
    import numpy as np  # here, not at import: the doctor's start-up does not need numpy
    if limit <= 0:
        raise ValueError("num_buckets must be a positive integer")
    linear = set(range(bmin, bmax + 1, bstep))
    if limit == 1:
        return [bmax]
    buckets: set[int] = set()
    n_exp, top = (limit // 2, bmax / limit) if long_context else (limit, bmax)
    for i in range(n_exp):
        power = bmin * np.float_power(top / bmin, (1.0 / float(n_exp - 1)) * i)
        bucket = bmax if i == limit - 1 and contiguous_pa else math.ceil(power / bstep) * bstep
        if bucket in buckets:
            available = linear.difference(buckets)
            if not available:
                break
            buckets.add(int(min(available, key=lambda x: abs(x - power))))
        else:
            buckets.add(int(bucket))
    if long_context:
        n_lin = limit - n_exp
        step = (bmax - top) / n_lin
        for i in range(1, n_lin + 1):  # i == limit never holds here: the engine's bmax branch is dead
            buckets.add(math.ceil((top + i * step) / bstep) * bstep)
    return sorted(int(b) for b in buckets)


def _ext_sort(buckets: Sequence[Bucket]) -> tuple[Bucket, ...]:
    return tuple(sorted(buckets, key=lambda b: (b[0] * b[1], b[1], b[0])))


def ext_prompt_buckets(bs: Sequence[int], seq: Sequence[int], max_num_batched_tokens: int,
                       max_model_len: int | None = None) -> tuple[Bucket, ...]:
    """E linear.py:231-275 / exponential.py:222-267 ``generate_prompt_buckets``: the product of the
    two ranges without the buckets above the token budget (and, exponential, above max_model_len);
    if none is left, all of them (the engine warns and ignores the budget)."""
    product = list(itertools.product(bs, seq))
    if not product:
        raise ValueError("no prompt buckets")
    kept = [b for b in product if b[0] * b[1] <= max_num_batched_tokens
            and (max_model_len is None or b[1] <= max_model_len)]
    return _ext_sort(kept or product)


def ext_linear_decode_buckets(bs: Sequence[int], blocks: Sequence[int], max_blocks: int
                              ) -> tuple[Bucket, ...]:
    """E linear.py:278-292: for each batch size, the block buckets not below it, the first one at or
    above the KV blocks replaced by the KV block count and the rest dropped."""
    out: list[Bucket] = []
    for b in bs:
        for n in blocks:
            if b > n:
                continue
            if n >= max_blocks:
                out.append((b, max_blocks))
                break
            out.append((b, n))
    return _ext_sort(out)


def ext_buckets(bucketing: TextBucketing, inp: TextBucketInputs) -> TextBucketSet:
    """The fork's prompt and decode buckets (E linear.py:51-78 / exponential.py:53-82 configs)."""
    env, blk = inp.env, inp.block_size
    strategy = strategy_in_force(bucketing, env)
    # hpu_model_runner.py:834-837@277a33cd: max_num_prefill_seqs, else max_num_seqs
    mnps = inp.max_num_seqs if bucketing.prompt_bs_follows_max_num_seqs else 1
    max_blocks_cfg = max(blk, inp.max_num_seqs * inp.max_model_len // blk)

    def cfg(phase: str, dim: str, **d: int) -> tuple[int, ...]:
        names = ("min", "step", "max") if strategy is TextStrategy.LINEAR else ("min", "step", "max", "limit")
        hidden = () if strategy is TextStrategy.LINEAR else ("min", "step", "max")
        return tuple(d[p] if p in hidden else env_int(env, f"VLLM_{phase}_{dim}_BUCKET_{p}".upper(), d[p])
                     for p in names)

    if strategy is TextStrategy.LINEAR:
        pbs = cfg("prompt", "bs", min=1, step=32, max=mnps)
        pseq = cfg("prompt", "seq", min=blk, step=blk, max=inp.max_model_len)
        dbs = cfg("decode", "bs", min=1, step=32, max=inp.max_num_seqs)
        dblk = cfg("decode", "block", min=blk, step=blk, max=max_blocks_cfg)
        prompt = ext_prompt_buckets(ext_linear_range(*pbs), ext_linear_range(*pseq),
                                    inp.max_num_batched_tokens)
        decode = ext_linear_decode_buckets(ext_linear_range(*dbs), ext_linear_range(*dblk), inp.num_blocks)
    else:
        def lim(n: int) -> int:
            return math.ceil(math.log2(n)) + 1

        pbs = cfg("prompt", "bs", min=1, step=1, max=mnps, limit=lim(mnps))
        dbs = cfg("decode", "bs", min=1, step=1, max=inp.max_num_seqs, limit=lim(inp.max_num_seqs))
        pseq = cfg("prompt", "seq", min=blk, step=blk, max=inp.max_model_len, limit=lim(inp.max_model_len))
        dblk = cfg("decode", "block", min=blk, step=blk, max=max_blocks_cfg, limit=lim(max_blocks_cfg))
        cpa = bucketing.contiguous_pa

        def rng(c: tuple[int, ...]) -> list[int]:
            return ext_exponential_range(c[0], c[1], c[2], c[3], contiguous_pa=cpa)

        prompt = ext_prompt_buckets(rng(pbs), rng(pseq), inp.max_num_batched_tokens, inp.max_model_len)
        # exponential.py:270-304 (skip_invalid False): every (bs, blocks) with blocks up to the KV blocks
        blocks = rng((dblk[0], dblk[1], inp.num_blocks, dblk[3]))
        decode = _ext_sort([(b, n) for n in blocks for b in rng(dbs)])
    limit = bucketing.capture_tokens_limit or inp.max_num_batched_tokens
    graphed = tuple(b for b in prompt if b[0] * b[1] <= limit)
    config = (("prompt bs", pbs), ("prompt seq", pseq), ("decode bs", dbs), ("decode block", dblk))
    return TextBucketSet(strategy, prompt, decode, graphed, config)


# ---------------------------------------------------------------- vllm-hpu-extension manager (fork 1.22)


@dataclass(frozen=True)
class ManagerConfig:
    """What M's ``get_config()`` answers for the bucket code (M runtime.py:33-73 over features.py,
    environment.py and config.py), resolved from the env and the profile."""

    prefix_caching: bool
    """The engine's ``enable_prefix_caching`` (M environment.py:56): V0 turns it off for multimodal
    models (vllm/engine/arg_utils.py:1553-1560@17a7946f), so False unless ``VLLM_PREFIX_CACHING``
    overrides it (M environment.py:79-81, 91; config.py:158-164)."""
    contiguous_pa: bool
    """``use_contiguous_pa``: ``VLLM_CONTIGUOUS_PA``, else not prefix caching (M features.py:74)."""
    merged_prefill: bool
    """``VLLM_MERGED_PREFILL``, default False (M features.py:73)."""
    slice_size: int | None
    """With ``PT_HPU_SDPA_QKV_SLICE_MODE_FWD`` on, prompt buckets from ``slice_threshold`` tokens on are
    kept only at multiples of this (``PT_HPU_SDPA_BC_FACTOR``, default 1024; M common.py:59-64, 92-95)."""
    slice_threshold: int = 8192
    """``VLLM_FUSEDSDPA_SLIDE_THLD`` (default 8192)."""


def manager_config(bucketing: TextBucketing, env: Mapping[str, str]) -> ManagerConfig:
    """M ``get_config()`` for the bucket code; ``bucketing.contiguous_pa`` is the engine default
    without prefix caching (an override by ``VLLM_CONTIGUOUS_PA`` wins)."""
    prefix = bool(ext_flag(env, "VLLM_PREFIX_CACHING"))
    cpa = ext_flag(env, "VLLM_CONTIGUOUS_PA")
    sliding = ext_flag(env, "PT_HPU_SDPA_QKV_SLICE_MODE_FWD")
    bc, thld = env.get("PT_HPU_SDPA_BC_FACTOR"), env.get("VLLM_FUSEDSDPA_SLIDE_THLD")
    return ManagerConfig(
        prefix_caching=prefix,
        contiguous_pa=(bucketing.contiguous_pa and not prefix) if cpa is None else cpa,
        merged_prefill=bool(ext_flag(env, "VLLM_MERGED_PREFILL")),
        slice_size=(1024 if bc is None else int(bc)) if sliding else None,
        slice_threshold=8192 if thld is None else int(thld),
    )


def _manager_prompt_filter(buckets: Sequence[Bucket], block_size: int, max_num_batched_tokens: int,
                           max_model_len: int | None, dedup: bool = False) -> list[Bucket]:
    """M linear.py:150-189 / exponential.py:124-162: drop the buckets whose ``bs * (seq + ctx * block)``
    passes the token budget (and, exponential, whose seq passes max_model_len); none left: keep all
    (the engine warns and ignores the budget); sorted as tuples by the caller (linear.py:55). ``dedup``:
    N's set-based filter (``TextBucketing.prompt_deduplicated``)."""
    if not buckets:
        raise ValueError("No buckets could be captured")
    kept = [b for b in buckets if b[0] * (b[1] + b[2] * block_size) <= max_num_batched_tokens
            and (max_model_len is None or b[1] <= max_model_len)]
    if kept and dedup:
        return sorted(set(kept))
    return sorted(kept or buckets)


def manager_buckets(bucketing: TextBucketing, inp: TextBucketInputs) -> TextBucketSet:
    """Fork 1.22's prompt and decode buckets: ``HPUBucketingManager.generate_prompt_buckets`` /
    ``generate_decode_buckets`` (M common.py:82-117) as the runner sets it up (F:1134-1137, 1184-1190:
    ``max_num_prefill_seqs`` is max_num_seqs unless the scheduler sets it) and the worker feeds it the
    KV blocks (vllm/worker/hpu_worker.py:389-393@17a7946f). habana_main's (N, same calls at
    hpu_model_runner.py:992-995, 1041-1047 and hpu_worker.py:339-343@95af7009) differ by the two
    ``TextBucketing`` switches and the capture limit."""
    import numpy as np  # here, not at import: the doctor's start-up does not need numpy
    env, blk, mml, mnbt, mns = inp.env, inp.block_size, inp.max_model_len, inp.max_num_batched_tokens, \
        inp.max_num_seqs
    strategy = strategy_in_force(bucketing, env)
    cfg = manager_config(bucketing, env)
    mnps = mns if bucketing.prompt_bs_follows_max_num_seqs else 1
    nblocks = inp.num_blocks

    def read(phase: str, dim: str, bmin: int, bstep: int, bmax: int) -> list[int]:
        """M linear.py:83-99 ``read_bucket_settings``: ``int(os.environ.get(VAR, default))``."""
        return [env_int(env, f"VLLM_{phase}_{dim}_BUCKET_{p}".upper(), d)
                for p, d in (("min", bmin), ("step", bstep), ("max", bmax))]

    if strategy is TextStrategy.LINEAR:
        # M linear.py:13-55
        pbs = read("prompt", "bs", 1, 32, mnps)
        pseq = read("prompt", "seq", blk, blk, mml)
        if cfg.merged_prefill:  # linear.py:27-40: one "sequence" of up to max bs * max seq tokens
            pbs, pseq = [1, 1, 1], [pseq[0], pseq[1], min(pbs[2] * pseq[2], mnbt)]
        seq_max = pseq[2]
        bs_r, seq_r = ext_linear_range(*pbs), ext_linear_range(*pseq)
        if cfg.prefix_caching:  # linear.py:137-144: every context below (seq max - seq) // block + extra
            extra = bucketing.linear_context_extra
            grid = [(b, q, c) for b in bs_r for q in seq_r for c in range((seq_max - q) // blk + extra)]
        else:
            grid = [(b, q, 0) for b in bs_r for q in seq_r]
        prompt = _manager_prompt_filter(grid, blk, mnbt, None, bucketing.prompt_deduplicated)
        # M linear.py:57-80, 192-214: block max defaults to the KV blocks; under contiguous PA (and no
        # user max) the KV block count is forced in as the top bucket
        dbs = read("decode", "bs", 1, 32, mns)
        dblk = read("decode", "block", blk, blk, nblocks)
        user_max = "VLLM_DECODE_BLOCK_BUCKET_MAX" in env
        if not user_max and cfg.contiguous_pa:
            dblk[2] = nblocks
        blocks = ext_linear_range(*dblk)
        if not user_max and nblocks not in blocks and cfg.contiguous_pa:
            blocks.append(nblocks)
        decode = sorted((b, 1, n) for b, n in ext_linear_decode_buckets(ext_linear_range(*dbs), blocks,
                                                                          nblocks))
    else:
        # M exponential.py:30-85: user MIN/STEP/MAX/LIMIT are overwritten (exponential.py:15-27)
        def rng(c: Sequence[int], long_context: bool = False) -> list[int]:
            return ext_exponential_range(c[0], c[1], c[2], c[3], contiguous_pa=cfg.contiguous_pa,
                                         long_context=long_context)

        pbs = [1, 2, mnps, math.ceil(math.log2(mnps)) + 1]
        pseq = [blk, blk, mml, math.ceil(math.log2(mml)) + 1]
        bs_r, seq_r = rng(pbs), rng(pseq, long_context=mml >= 8192)  # exponential.py:94-99
        grid = []
        for b in bs_r:
            for q in seq_r:
                grid.append((b, q, 0))
                if not cfg.prefix_caching:
                    continue
                # exponential.py:101-116: exponentially spaced contexts up to (max_model_len - seq) // block
                span = (mml - q) // blk
                if span == 0:
                    continue
                n3d = math.ceil(math.log2(span)) + 1
                grid += [(b, q, math.ceil(1 * np.float_power(span, (1 / float(n3d)) * i)))
                         for i in range(1, n3d + 1)]
        prompt = _manager_prompt_filter(grid, blk, mnbt, mml, bucketing.prompt_deduplicated)
        # exponential.py:63-85, 165-200 (skip_invalid False): every (bs, blocks) pair
        dbs = [1, 2, mns, math.ceil(math.log2(mns)) + 1]
        dblk = [blk, blk, nblocks, math.ceil(math.log2(nblocks)) + 1]
        decode = sorted({(b, 1, n) for n in rng(dblk) for b in rng(dbs)})
    if cfg.slice_size is not None:  # M common.py:92-95
        prompt = [t for t in prompt if t[1] < cfg.slice_threshold or t[1] % cfg.slice_size == 0]
    # F:1620-1623: a prompt bucket runs from a graph while bs * query <= max_seq_len_to_capture (8192,
    # capped at max_model_len: vllm/config.py:322, 948-950@17a7946f); warm-up captures every bucket
    # with no memory test (F:3435-3495). habana_main (limit None): every bucket (module docstring).
    if bucketing.capture_tokens_limit is None:
        graphed = tuple(prompt)
    else:
        limit = min(bucketing.capture_tokens_limit, mml)
        graphed = tuple(b for b in prompt if b[0] * b[1] <= limit)
    config = (("prompt bs", tuple(pbs)), ("prompt seq", tuple(pseq)), ("decode bs", tuple(dbs)),
              ("decode block", tuple(dblk)))
    return TextBucketSet(strategy, tuple(prompt), tuple(decode), graphed, config)


# ---------------------------------------------------------------- vllm-gaudi


def gaudi_linear_range(bmin: int, bstep: int, bmax: int) -> list[int]:
    """G linear.py:129-160 ``warmup_range``: as the extension's, plus a 0 bucket when ``bmin`` is 0
    (the ramp then starts at ``bstep``); sorted by the caller (linear.py:92-94)."""
    if bmin > bmax:
        raise ValueError(f"bucket min {bmin} above max {bmax}")
    zero = bmin == 0
    if zero:
        if bmax == 0:
            return [0]
        bmin = bstep
    ramp = list(itertools.takewhile(lambda x: x < bstep and x <= bmax,
                                    itertools.accumulate(itertools.repeat(2), lambda a, b: a * b,
                                                         initial=bmin)))
    out = [b for b in ramp + list(range(bstep, bmax + 1, bstep)) if b >= bmin]
    if zero:
        out.append(0)
    return sorted(out)


def gaudi_exponential_range(bmin: int, bstep: int, bmax: int, limit: int, *, contiguous_pa: bool
                            ) -> list[int]:
    """G exponential.py:144-203 ``warmup_range_with_limit``: exponentially spaced values rounded up
    to ``bstep``, duplicates removed (no fill); ``bmin`` 0 or 1 starts at ``bstep`` and adds itself;
    the last is ``bmax`` under contiguous PA; a last value above ``bmax`` becomes ``bmax``."""
    import numpy as np  # here, not at import: the doctor's start-up does not need numpy
    origin = bmin
    low = bmin in (0, 1)
    if low:
        bmin = bstep
    if limit <= 0:
        raise ValueError("num_buckets must be a positive integer")
    if limit <= 1:
        return [bmax]
    buckets: set[int] = set()
    for i in range(limit):
        power = bmin * np.float_power(bmax / bmin, (1.0 / float(limit - 1)) * i)
        buckets.add(bmax if i == limit - 1 and contiguous_pa else math.ceil(power / bstep) * bstep)
    if low:
        buckets.add(origin)
    out = sorted(int(b) for b in buckets)
    if out and out[-1] > bmax:
        out[-1] = bmax
    return out


def gaudi_generate(
    bs_range: Sequence[int], query_range: Sequence[int], ctx_range: Sequence[int], *, prompt: bool,
    max_model_len: int, max_num_batched_tokens: int, block_size: int, contiguous_pa: bool,
    ctx_bucket_max: int | None = None,
) -> tuple[Bucket, ...]:
    """G common.py:386-547 ``generate_buckets`` without merged prefill, file or mamba: (bs, ctx)
    pairs (decode: with their next neighbours), times every query; long contexts (>= 8192) move
    the largest context to ``(max_model_len - query) // block`` per query; prompt filters
    ``ctx <= ceil((max_model_len - 1) / block)``, ``query <= max_model_len``,
    ``bs * query <= max_num_batched_tokens``; decode keeps ``bs <= ctx`` and caps ctx at
    ``bs * ceil(max_model_len / block)`` (both only without contiguous PA)."""
    pairs: set[tuple[int, int]] = set()
    for i, b in enumerate(bs_range):
        for j, c in enumerate(ctx_range):
            if prompt:
                pairs.add((b, c))
            else:
                for bi, ci in ((i, j), (i + 1, j), (i, j + 1), (i + 1, j + 1)):
                    if bi < len(bs_range) and ci < len(ctx_range):
                        pairs.add((bs_range[bi], ctx_range[ci]))
    max_ctx = max(c for _, c in pairs)
    out: set[Bucket] = set()
    for b, c0 in pairs:
        c = c0  # the engine reassigns ctx inside the query loop: an edge value carries over
        for q in query_range:
            if prompt and c0 == max_ctx and max_model_len >= 8192:
                edge = math.ceil((max_model_len - q) // block_size)
                if edge >= 0 and (ctx_bucket_max is None or edge < ctx_bucket_max):
                    c = edge
            if prompt:
                ok = c <= math.ceil((max_model_len - 1) / block_size) and q <= max_model_len \
                    and b * q <= max_num_batched_tokens
                if ok:
                    out.add((b, q, c))
            elif contiguous_pa:
                out.add((b, q, c))
            elif b <= c:
                out.add((b, q, min(c, b * math.ceil(max_model_len / block_size))))
    if not out:
        raise RuntimeError(f"Generated 0 {'prompt' if prompt else 'decode'} buckets")
    return tuple(sorted(out))


def gaudi_buckets(bucketing: TextBucketing, inp: TextBucketInputs) -> TextBucketSet:
    """vllm-gaudi's prompt and decode buckets (G linear.py:14-90, exponential.py:34-137 configs;
    common.py:153-245 ranges and generation)."""
    env, blk, cpa = inp.env, inp.block_size, bucketing.contiguous_pa
    strategy = strategy_in_force(bucketing, env)
    if strategy in (TextStrategy.PADDING_AWARE, TextStrategy.FILE):
        return TextBucketSet(strategy, (), (), (), modelled=False)
    # hpu_model_runner.py:1510-1513, 1521-1522: max_prefill_batch_size = VLLM_PROMPT_BS_BUCKET_MAX or 1
    mnps = env_int(env, "VLLM_PROMPT_BS_BUCKET_MAX",
                   inp.max_num_seqs if bucketing.prompt_bs_follows_max_num_seqs else 1)
    mnbt, mml, mns = inp.max_num_batched_tokens, inp.max_model_len, inp.max_num_seqs

    def read(phase: str, dim: str, **d: int) -> list[int]:
        """G linear.py:97-126 ``read_bucket_settings``: QUERY falls back to the SEQ variables."""
        out = []
        for p in ("min", "step", "max"):
            val = env.get(f"VLLM_{phase}_{dim}_BUCKET_{p}".upper())
            if val is None and dim == "query":
                val = env.get(f"VLLM_{phase}_SEQ_BUCKET_{p}".upper())
            out.append(int(val) if val is not None else d[p])
        return out

    if strategy is TextStrategy.LINEAR:
        pbs = read("prompt", "bs", min=1, step=1, max=mnps)
        pq = read("prompt", "query", min=blk, step=blk, max=mnbt)
        pctx = read("prompt", "ctx", min=0, step=1, max=math.ceil((mml - pq[0]) // blk))
        dbs = read("decode", "bs", min=1, step=32, max=mns)
        dq = [1, 1, 1]
        mdb = max(math.ceil(mml * mns // blk), blk)
        if cpa:
            mdb = inp.num_blocks
        dblk = read("decode", "block", min=1, step=blk, max=mdb)
        if cpa and dblk[2] > inp.num_blocks:
            dblk[2] = inp.num_blocks
        if dblk[0] > dblk[2]:
            dblk[0] = max(1, dblk[2] - dblk[1])

        def rng(c: Sequence[int]) -> list[int]:
            return gaudi_linear_range(c[0], c[1], c[2])
    else:
        qmin = 1 if env.get("VLLM_PROMPT_QUERY_BUCKET_MIN") == "1" else blk
        long_ctx = mml >= 8192
        pbs = [1, 2, mnps, math.ceil(math.log2(mnps)) + 1]
        pq = [qmin, blk, mnbt, math.ceil(math.log2(mnbt))]
        mctx = max(1, math.ceil((mml - mnbt) // blk)) if long_ctx else max(1, math.ceil((mml - qmin) // blk))
        pctx = [0, 1, mctx, 2 if mctx == 1 else math.ceil(math.log2(mctx)) + 1]
        dbs = [1, 2, mns, math.ceil(math.log2(mns)) + 1]
        dq = [1, 1, 1, 1]
        mdb = math.ceil(mml / blk) * mns
        # contiguous PA: bounded by the KV blocks; else clamped to 3x them (exponential.py:102-123)
        mdb = min(inp.num_blocks, mdb) if cpa else min(mdb, inp.num_blocks * 3)
        dlim = math.ceil(math.log2(mdb)) + 1
        dblk = [1, mns, mdb, dlim]

        def rng(c: Sequence[int]) -> list[int]:
            return gaudi_exponential_range(c[0], c[1], c[2], c[3], contiguous_pa=cpa)

    ctx_max = env.get("VLLM_PROMPT_CTX_BUCKET_MAX")
    prompt = gaudi_generate(rng(pbs), rng(pq), rng(pctx), prompt=True, max_model_len=mml,
                            max_num_batched_tokens=mnbt, block_size=blk, contiguous_pa=cpa,
                            ctx_bucket_max=int(ctx_max) if ctx_max is not None else None)
    dctx = rng(dblk)
    if cpa and dctx[-1] < inp.num_blocks:
        dctx.append(inp.num_blocks)
    decode = gaudi_generate(rng(dbs), rng(dq), dctx, prompt=False, max_model_len=mml,
                            max_num_batched_tokens=mnbt, block_size=blk, contiguous_pa=cpa)
    # hpu_model_runner.py:5006-5019: a prompt graph only while bs*query + ctx*block <= capture size
    limit = bucketing.capture_tokens_limit or mnbt
    graphed = tuple(b for b in prompt if b[0] * b[1] + b[2] * blk <= limit)
    config = (("prompt bs", tuple(pbs)), ("prompt query", tuple(pq)), ("prompt ctx", tuple(pctx)),
              ("decode bs", tuple(dbs)), ("decode block", tuple(dblk)))
    return TextBucketSet(strategy, prompt, decode, graphed, config)


def text_buckets(bucketing: TextBucketing, inp: TextBucketInputs) -> TextBucketSet:
    """The buckets ``bucketing``'s engine warms for ``inp`` (its own generator, exactly).

    Where the generators raise, the engine's own generator asserts at start-up (e.g. the extension's
    ``warmup_range`` asserts ``bmin <= bmax``, E linear.py:219-221, so a ``--max-model-len`` below
    the block size crashes the fork): that is a one-line error here, never a plan.
    """
    try:
        if bucketing.generator is Generator.EXT_2D:
            return ext_buckets(bucketing, inp)
        if bucketing.generator is Generator.EXT_MANAGER:
            return manager_buckets(bucketing, inp)
        return gaudi_buckets(bucketing, inp)
    except (ValueError, RuntimeError, ArithmeticError) as exc:  # assertion / "Generated 0 ... buckets"
        raise GaudiVLError(
            f"the engine refuses to start: its text bucketing rejects max_model_len {inp.max_model_len}, "
            f"max_num_seqs {inp.max_num_seqs}, max_num_batched_tokens {inp.max_num_batched_tokens} ({exc})",
            f"use --max-model-len and --max-num-batched-tokens >= the block size ({inp.block_size}), or set "
            "the VLLM_*_BUCKET_* variables so that each minimum is at most its maximum",
        ) from None


EXT_VARIABLES: tuple[str, ...] = tuple(
    f"VLLM_{phase}_{dim}_BUCKET_{p}"
    for phase, dims in (("PROMPT", ("BS", "SEQ")), ("DECODE", ("BS", "BLOCK")))
    for dim in dims for p in ("MIN", "STEP", "MAX")
) + ("VLLM_EXPONENTIAL_BUCKETING",)
"""Read by the extension @8afd25348a28 (linear.py:186-202; exponential reads ``..._LIMIT`` instead)."""

EXT_MANAGER_VARIABLES: tuple[str, ...] = EXT_VARIABLES + ("VLLM_CONTIGUOUS_PA", "VLLM_MERGED_PREFILL")
"""Read by fork 1.22's manager @f5f9ecb7298b: the linear strategy's MIN/STEP/MAX (M linear.py:83-99),
the strategy flag and the two feature flags that change the buckets (M features.py:16, 73-74). It also
honours ``VLLM_PREFIX_CACHING`` and the bridge's ``PT_HPU_SDPA_*`` slicing flags (``manager_config``),
which plans leave alone."""

GAUDI_VARIABLES: tuple[str, ...] = tuple(
    f"VLLM_{phase}_{dim}_BUCKET_{p}"
    for phase, dims in (("PROMPT", ("BS", "QUERY", "CTX")), ("DECODE", ("BS", "BLOCK")))
    for dim in dims for p in ("MIN", "STEP", "MAX")
) + ("VLLM_BUCKETING_STRATEGY", "VLLM_BUCKETING_FROM_FILE")
"""Read by vllm-gaudi @091bbadda10b (features.py:15-47): the ``lin`` strategy reads MIN/STEP/MAX."""


def linear_seq_variables(bucketing: TextBucketing) -> tuple[str, str, str] | None:
    """The variables that set the prompt sequence range of the engine's LINEAR strategy, when that
    strategy is its default (the fork: ``VLLM_PROMPT_SEQ_BUCKET_MIN/STEP/MAX``, E linear.py:73-75);
    None where the default strategy ignores them (vllm-gaudi's ``exp`` overwrites user ranges,
    G exponential.py:18-32: a fitted list goes into a bucket file instead)."""
    if bucketing.generator is Generator.EXT_2D and bucketing.default_strategy is TextStrategy.LINEAR:
        return ("VLLM_PROMPT_SEQ_BUCKET_MIN", "VLLM_PROMPT_SEQ_BUCKET_STEP", "VLLM_PROMPT_SEQ_BUCKET_MAX")
    return None


def linear_range_function(bucketing: TextBucketing) -> Callable[[int, int, int], list[int]]:
    """The engine's own linear range generator."""
    return ext_linear_range if bucketing.generator is Generator.EXT_2D else gaudi_linear_range


FILE_VARIABLE = "VLLM_BUCKETING_FROM_FILE"
"""vllm-gaudi's bucket-file variable (G common.py:159-160, features.py:47)."""


def bucket_file_text(prompt: Sequence[Bucket], decode: Sequence[Bucket]) -> str:
    """A ``VLLM_BUCKETING_FROM_FILE`` file (G file_strategy.py:36-66): one ``(bs, query, ctx)`` tuple a
    line; a query of 1 makes a decode bucket. The file replaces BOTH phases, so decode is listed too."""
    lines = ["# gaudi-vl: fitted prompt buckets (bs, query, ctx), then the decode buckets (bs, 1, blocks)"]
    lines += [f"({b[0]}, {b[1]}, {b[2] if len(b) > 2 else 0})" for b in prompt]
    lines += [f"({b[0]}, 1, {b[-1]})" for b in decode]
    return "\n".join(lines) + "\n"
