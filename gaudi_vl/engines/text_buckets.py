"""Text (language-model) buckets: the prompt and decode shapes an HPU engine warms at start-up.

Pure (standard library and numpy). The engines pad every text batch to a bucket and compile one
graph per bucket, so the bucket set decides the graph count, the graph memory and most of the
warm-up time. This module reproduces each engine's generator exactly (the differential check,
``tools/check_engine_profiles.py``, runs the engines' own functions from the mirrors against these):

* vllm-fork (V0) uses vllm-hpu-extension's 2-D buckets ``(batch, seq)`` for prompts and
  ``(batch, blocks)`` for decode. aice/v1.21.0 pins the extension branch ``aice/v1.21.0``
  (requirements/hpu.txt:12@277a33cd; read at @8afd25348a28); the linear strategy is the default and
  ``VLLM_EXPONENTIAL_BUCKETING=true`` picks the exponential one (ext: bucketing/common.py:41-50).
  habana_main pins the extension at f1d9275, which no mirror holds: its profile reuses the
  aice/v1.21.0 generator, an assumption it states.
* vllm-gaudi (V1) uses 3-D buckets ``(batch, query, context blocks)`` from
  ``vllm_gaudi/extension/bucketing/`` @091bbadda10b: ``exp`` (the default), ``lin`` or ``pad`` by
  ``VLLM_BUCKETING_STRATEGY`` (features.py:99-103), ``VLLM_EXPONENTIAL_BUCKETING`` overriding it
  (common.py:135-150), or a file (``VLLM_BUCKETING_FROM_FILE``, common.py:117-120, 159-160).

The padding-aware (``pad``) and file strategies are recognised but not generated here: a plan for
them says so and counts no text graphs (``TextBucketSet.modelled`` is False).

Names: ``E`` = extension @8afd25348a28 (``vllm_hpu_extension/bucketing/``); ``G`` = vllm-gaudi
@091bbadda10b (``vllm_gaudi/extension/bucketing/``).
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
    """Prompt buckets above this many tokens run without a graph (None: ``max_num_batched_tokens``)."""
    capture_gated_by_memory: bool
    """Graphs are captured only while the engine's graph memory lasts (else every bucket is graphed
    and too small a reserve runs out of memory)."""
    compiles_every_bucket: bool
    """Every bucket is compiled (lazy warm-up) before graphs are captured."""
    variables: tuple[str, ...]
    """The bucket variables the engine reads (for the plan's "defaults in force" list)."""
    cited: str = ""
    notes: tuple[str, ...] = ()


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


def strategy_in_force(bucketing: TextBucketing, env: Mapping[str, str]) -> TextStrategy:
    """The strategy the engine picks from ``env``."""
    if bucketing.generator is Generator.EXT_2D:
        # E common.py:41-50: 'true' (lower-cased) -> exponential, anything else -> linear
        on = env.get("VLLM_EXPONENTIAL_BUCKETING", "false").lower() == "true"
        return TextStrategy.EXPONENTIAL if on else TextStrategy.LINEAR
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


def ext_exponential_range(bmin: int, bstep: int, bmax: int, limit: int, *, contiguous_pa: bool = True
                          ) -> list[int]:
    """E exponential.py:307-390 ``warmup_range_with_limit(fill=True)``: ``limit`` exponentially spaced
    values from ``bmin`` to ``bmax`` rounded up to ``bstep``; a duplicate takes the nearest unused
    multiple of ``bstep``; the last is ``bmax`` itself under ``VLLM_CONTIGUOUS_PA`` (default true)."""
    if limit <= 0:
        raise ValueError("num_buckets must be a positive integer")
    linear = set(range(bmin, bmax + 1, bstep))
    if limit == 1:
        return [bmax]
    buckets: set[int] = set()
    import numpy as np  # here, not at import: the doctor's start-up does not need numpy
    for i in range(limit):
        power = bmin * np.float_power(bmax / bmin, (1.0 / float(limit - 1)) * i)
        bucket = bmax if i == limit - 1 and contiguous_pa else math.ceil(power / bstep) * bstep
        if bucket in buckets:
            available = linear.difference(buckets)
            if not available:
                break
            buckets.add(min(available, key=lambda x: abs(x - power)))
        else:
            buckets.add(bucket)
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
    origin = bmin
    low = bmin in (0, 1)
    if low:
        bmin = bstep
    if limit <= 0:
        raise ValueError("num_buckets must be a positive integer")
    if limit <= 1:
        return [bmax]
    buckets: set[int] = set()
    import numpy as np  # here, not at import: the doctor's start-up does not need numpy
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
        return gaudi_buckets(bucketing, inp)
    except (ValueError, RuntimeError) as exc:  # the engines: assertion / "Generated 0 ... buckets"
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
