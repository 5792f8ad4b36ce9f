"""Warm-up keys from traffic: the graph set that leaves the fewest requests compiling while serving.

Pure (standard library). Input: each distinct compile key a request can need (a request of a
model whose encoder call has ONE key: Qwen2-VL / Qwen3-VL's grids of the call, Llama-4's tile
total, a batch size), its weight (the number of requests that need it), and a budget of K graphs.
Output: the keys to warm.

Why taking the K heaviest keys is optimal. Each warmable key costs exactly one graph (warm-up
compiles it once, whatever else is warmed), and each request needs exactly one key, so a request
is served warm iff its key is chosen. The requests left compiling are
``total - sum(weight(k) for k in chosen)``; minimising it under ``|chosen| <= K`` is maximising a
sum of K non-negative item values with unit costs: a uniform-cost knapsack. Exchange argument: if
an optimal set S held a key a while a heavier unchosen key b existed (``w(b) > w(a)``), then
``S - {a} + {b}`` has the same size and a larger sum, a contradiction; so some optimal set consists
of K keys of maximal weight, which is what sorting returns (ties broken by the input order, so the
result is deterministic). Keys of zero weight are never taken (they would cost a graph for
nothing). The test suite checks the choice against brute force over every subset.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def heaviest_keys(weighted: Sequence[tuple[K, int]], budget: int) -> tuple[K, ...]:
    """The at most ``budget`` keys of largest weight (positive weights only), heaviest first.

    ``weighted`` lists each key once; ties keep the input order.
    """
    if budget < 0:
        raise ValueError(f"budget {budget} is negative")
    ranked = sorted(range(len(weighted)), key=lambda i: -weighted[i][1])
    return tuple(weighted[i][0] for i in ranked[:budget] if weighted[i][1] > 0)


def covered_weight(weighted: Sequence[tuple[K, int]], chosen: set[K] | frozenset[K]) -> int:
    """Requests whose key is in ``chosen``."""
    return sum(w for k, w in weighted if k in chosen)
