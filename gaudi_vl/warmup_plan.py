"""Warm-up from traffic for vllm-gaudi's non-padding models: buckets, resolutions, per-prompt limit.

Pure. For a model whose encoder call has one compile key (``ShapeKey.CONCAT_GRIDS`` and
``TILES_TOTAL``; ``BATCH_BREAKDOWN`` is scored too), ``plan_warmup`` scores the engine's default
warm-up on the workload's requests and picks the warm-up that leaves the fewest requests compiling
while serving, within ``max_graphs`` distinct warm-up graphs:

* models that read ``VLLM_MULTIMODAL_RESOLUTIONS`` (not batch-based): the bucket list cannot be
  empty (an empty variable means the default list, ``None`` crashes warm-up), and every bucket
  adds up to five guessed count-1 images. The candidates are the default list and every single
  bucket among the default ones and the workload's one-image patch counts; for each, its guessed
  graphs are warm for free (they may serve some requests) and the remaining budget takes the
  heaviest remaining keys as ``WxHxN`` resolutions (``gaudi_vl.buckets.resolutions``: optimal for a
  graph-count budget). The candidate serving the most requests wins (then: fewer graphs).
* batch-based models (the engine reads no resolutions; warm-up runs ``b`` 896 x 896 images per
  bucket ``b``): the buckets are the image counts whose 896 x 896 run matches the heaviest keys.

Requests that need several keys (Gemma-4 calls mixing patch counts, ``GROUPED_BY_PATCHES``) are
counted warm only when every key is warmed; the budget goes to one-key requests' keys, which is
optimal for those only (covering multi-key requests is a maximum-coverage problem).

The assumption behind "compiling while serving": one request per encoder call and no image already
in the encoder cache (a prefill batch of several requests, or a repeated image, changes the call).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gaudi_vl.buckets.resolutions import heaviest_keys
from gaudi_vl.engines.vllm_gaudi_models import (
    BATCH_WARMUP_SIDE,
    WARN_GRAPHS,
    Key,
    ModelFacts,
    ShapeKey,
    WarmResolution,
    call_keys,
    compact,
    key_images,
    resolution_for_key,
    warmed_keys,
)
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.families import ImageRule
from gaudi_vl.warmup import VISION_GRAPH_S

Request = tuple[tuple[int, int], ...]
"""The (width, height) of each image of one request, in order."""
DEFAULT_MAX_GRAPHS = WARN_GRAPHS
"""``--max-graphs`` default: the engine's own warning threshold for multimodal warm-up graphs."""


def graphs_for_seconds(seconds: float) -> int:
    """A vision warm-up time budget as a graph budget. Every vision graph is estimated at the same
    time (``VISION_GRAPH_S``), so a time budget IS a graph budget and the top-K choice stays optimal."""
    return int(seconds // VISION_GRAPH_S)
SINGLE_BUCKET_CANDIDATES = 32
"""One-image patch counts of the workload tried as a single bucket (heaviest first)."""


@dataclass(frozen=True)
class WarmupScore:
    """One warm-up configuration scored on a workload."""

    label: str
    buckets: tuple[int, ...]
    resolutions: tuple[WarmResolution, ...]
    limit: int
    """``--limit-mm-per-prompt`` image count (the count of a bare ``WxH``)."""
    graphs: int
    """Distinct compile keys warm-up leaves compiled."""
    requests: int
    compiling: int
    """Requests whose encoder call needs a key warm-up did not compile."""
    compiling_keys: int
    """Distinct keys those requests need (the compiles serving pays once each)."""

    @property
    def compiling_share(self) -> float:
        return self.compiling / self.requests if self.requests else 0.0

    @property
    def warmup_seconds(self) -> float:
        """Estimated vision warm-up: graphs x ``gaudi_vl.warmup.VISION_GRAPH_S`` (vllm-gaudi PR 1182,
        Qwen3-VL-32B on Gaudi2: 17 s for at most 35 warm-up images). An estimate, not a measurement."""
        return self.graphs * VISION_GRAPH_S

    @property
    def env_resolutions(self) -> str:
        return ",".join(map(str, self.resolutions))


@dataclass(frozen=True)
class WarmupReport:
    model_type: str
    facts: ModelFacts
    max_graphs: int
    default: WarmupScore
    planned: WarmupScore
    notes: tuple[str, ...] = ()


def _weights(requests: Mapping[Request, int], facts: ModelFacts, rule: ImageRule,
             buckets: Sequence[int]) -> dict[tuple[Key, ...], int]:
    out: dict[tuple[Key, ...], int] = {}
    for sizes, n in requests.items():
        keys = call_keys(facts, rule, sizes, buckets)
        out[keys] = out.get(keys, 0) + n
    return out


def score(label: str, requests: Mapping[Request, int], facts: ModelFacts, rule: ImageRule,
          buckets: Sequence[int], resolutions: Sequence[WarmResolution], limit: int,
          weights: Mapping[tuple[Key, ...], int] | None = None) -> WarmupScore:
    """How many requests compile while serving under this warm-up (``weights``: the requests' keys,
    when already computed for these buckets)."""
    warm = warmed_keys(facts, rule, buckets, resolutions, limit)
    if weights is None:
        weights = _weights(requests, facts, rule, buckets)
    cold = {keys: n for keys, n in weights.items() if not set(keys) <= warm}
    cold_keys = {k for keys in cold for k in keys if k not in warm}
    return WarmupScore(label, tuple(buckets), tuple(resolutions), limit, len(warm),
                       sum(requests.values()), sum(cold.values()), len(cold_keys))


def _one_key(weights: Mapping[tuple[Key, ...], int]) -> list[tuple[Key, int]]:
    """Per-key weights of one-key calls, heaviest first (ties: smaller repr first)."""
    pairs = [(keys[0], n) for keys, n in weights.items() if len(keys) == 1]
    return sorted(pairs, key=lambda p: (-p[1], repr(p[0])))


def _plan_resolutions(requests: Mapping[Request, int], facts: ModelFacts, rule: ImageRule,
                      max_graphs: int, limit: int) -> WarmupScore:
    # CONCAT_GRIDS / TILES_TOTAL keys do not depend on the bucket list: computed once
    all_weights = _weights(requests, facts, rule, facts.default_buckets)
    weights = _one_key(all_weights)
    # a traffic image that builds the key when sent N times (the fallback where no canonical size does)
    reps: dict[Key, WarmResolution] = {}
    for r in requests:
        keys = call_keys(facts, rule, r, facts.default_buckets)
        if len(keys) == 1 and keys[0] not in reps \
                and call_keys(facts, rule, [r[0]] * len(r), facts.default_buckets) == keys:
            reps[keys[0]] = WarmResolution(r[0][0], r[0][1], len(r))

    def resolve(k: Key) -> WarmResolution | None:
        return resolution_for_key(rule, k) or reps.get(k)

    singles = [k[0][0] * k[0][1] for k, _ in weights if isinstance(k, tuple) and len(k) == 1]
    candidates: list[tuple[int, ...]] = [facts.default_buckets]
    seen: set[tuple[int, ...]] = {facts.default_buckets}
    # an empty default list (gemma4) warms no guessed image: every graph of the budget is explicit
    for b in [*facts.default_buckets, *singles[:SINGLE_BUCKET_CANDIDATES]] if facts.default_buckets else []:
        if (b,) not in seen and b >= 4:  # below 4 a guessed image has a zero side (vision.py:276-284)
            seen.add((b,))
            candidates.append((b,))
    best: tuple[tuple[int, int], WarmupScore] | None = None
    for buckets in candidates:
        guessed = warmed_keys(facts, rule, buckets, (), limit)
        room = max_graphs - len(guessed)
        if room < 0:
            continue
        open_keys = [(k, n) for k, n in weights
                     if k not in guessed and key_images(facts, k) <= limit
                     and resolve(k) is not None]
        chosen = heaviest_keys(open_keys, room)
        res = [r for k in chosen if (r := resolve(k)) is not None]
        planned = score("planned", requests, facts, rule, buckets, compact(res), limit, all_weights)
        rank = (planned.compiling, planned.graphs)
        if best is None or rank < best[0]:
            best = (rank, planned)
    if best is None:  # a non-empty default list: at least one bucket's guessed graphs
        smallest = min(len(warmed_keys(facts, rule, (b,), (), limit)) for b in facts.default_buckets)
        raise GaudiVLError(
            f"--max-graphs {max_graphs} is below the {smallest} graphs one bucket's guessed warm-up "
            "images compile on vllm-gaudi", f"pass --max-graphs {smallest} or more")
    return best[1]


def _plan_batches(requests: Mapping[Request, int], facts: ModelFacts, rule: ImageRule,
                  max_graphs: int, limit: int) -> WarmupScore:
    """Batch-based: bucket ``b`` warms the key of ``b`` 896 x 896 images; the heaviest such keys."""
    side = (BATCH_WARMUP_SIDE, BATCH_WARMUP_SIDE)
    if facts.shape_key is ShapeKey.BATCH_BREAKDOWN:
        # Every call splits greedily into bucket-sized batches, so any list holding 1 leaves nothing
        # compiling: the default list, or under a smaller budget 1 and the largest that fit.
        ordered = sorted(facts.default_buckets)
        keep = ordered if max_graphs >= len(ordered) else [1, *ordered[len(ordered) - max_graphs + 1:]]
        return score("planned", requests, facts, rule, tuple(sorted(set(keep))), (), limit)
    weights = dict(_one_key(_weights(requests, facts, rule, facts.default_buckets)))
    by_count = [(b, weights.get(call_keys(facts, rule, [side] * b, ())[0], 0)) for b in range(1, limit + 1)]
    chosen = tuple(sorted(heaviest_keys(by_count, max_graphs))) or (1,)
    return score("planned", requests, facts, rule, chosen, (), limit)


def plan_warmup(requests: Mapping[Request, int], facts: ModelFacts, rule: ImageRule, *,
                max_graphs: int = DEFAULT_MAX_GRAPHS, limit: int = 1) -> WarmupReport:
    """The engine's default warm-up and the planned one, scored on ``requests`` (request -> count).

    ``limit`` is the ``--limit-mm-per-prompt`` image count: raised to the workload's most images
    per request (the engine refuses requests above it).
    """
    if not requests:
        raise GaudiVLError("the workload has no request with an image", "check --workload")
    if max_graphs < 1:
        raise GaudiVLError(f"--max-graphs must be at least 1, got {max_graphs}", "pass --max-graphs 25")
    notes: list[str] = []
    kept: dict[Request, int] = {}
    refused = 0
    for r, n in requests.items():
        try:
            for w, h in r:
                rule.shape(w, h)
        except GaudiVLError:
            refused += n
            continue
        kept[r] = n
    if refused:
        notes.append(f"{refused} request(s) hold an image the model's processor refuses (aspect ratio over "
                     "200): left out")
    if not kept:
        raise GaudiVLError("every request of the workload holds an image the processor refuses",
                           "check --workload")
    requests = kept
    most = max(len(r) for r in requests)
    if most > limit:
        notes.append(f"--limit-mm-per-prompt image count raised {limit} -> {most}: the workload sends up "
                     f"to {most} images per request and the engine refuses more than the limit")
        limit = most
    default = score("default", requests, facts, rule, facts.default_buckets, (), limit)
    if facts.reads_resolutions:
        planned = _plan_resolutions(requests, facts, rule, max_graphs, limit)
    else:
        planned = _plan_batches(requests, facts, rule, max_graphs, limit)
        notes.append(f"vllm-gaudi treats {facts.model_type} as batch-based (MULTIMODAL_CONFIG key "
                     f"{facts.config_key or 'none: the default'}): it warms only 896 x 896 images and "
                     "reads no VLLM_MULTIMODAL_RESOLUTIONS; only the bucket list (image counts) is planned")
    if facts.shape_key is ShapeKey.CONCAT_GRIDS:
        mixed = sum(n for r, n in requests.items() if len({rule.shape(w, h).grid for w, h in r}) > 1)
        if mixed:
            notes.append(f"{mixed} request(s) mix image grids in one call: warm-up only builds N copies "
                         "of one image, so no warm-up can cover them")
    if planned.compiling and planned.graphs >= max_graphs:
        notes.append(f"the graph budget ({max_graphs}) leaves {planned.compiling} request(s) compiling; "
                     "raise --max-graphs to warm more")
    return WarmupReport(facts.model_type, facts, max_graphs, default, planned, tuple(notes))


def padded_compiling_images(histogram_patches: Sequence[int], histogram_counts: Sequence[int],
                            buckets: Sequence[int], compiled: Sequence[int]) -> int:
    """Qwen2.5-VL (``ShapeKey.PADDED_PER_IMAGE``): images whose run size (their bucket, or their own
    patch count above the largest) is not a size warm-up compiled (``WarmupSet.compiled``); each
    such size compiles once while serving, on its first image."""
    from gaudi_vl.engines.profile import EngineProfile

    ordered = tuple(sorted(buckets))
    warm = set(compiled)
    out = 0
    for v, n in zip(histogram_patches, histogram_counts, strict=True):
        b = EngineProfile.bucket_for(v, ordered)
        if (v if b is None else b) not in warm:
            out += n
    return out
