"""Private: SUDA2 special-uniques scores as sdcMicro's ``suda2`` computes them.

A *minimal sample unique* (MSU) of a record is a set of key variables on which the record's
values are unique in the sample while they are not unique on any proper subset. The SUDA
score of a record sums, over its MSUs, ``(M - size)!`` where ``M`` is the number of key
variables (sdcMicro pads to at least 3 with constant dummy columns, which changes only the
weights), exactly as sdcMicro's ``suda2(..., original_scores=TRUE)`` (Elliot et al.).

The search walks the lattice of variable subsets level by level with the SUDA2 pruning
rule: a record unique on a subset is unique on every superset, so it leaves the counting
population for the supersets (it cannot share their values with anyone). Missing values
never form part of an MSU (as sdcMicro ignores items with a missing value).

DIS-SUDA follows sdcMicro's C++: ``Q = 1 + (8 - M) / 20``;
``dis = 1 / (1 + (U / Dis - U) / (score**Q * sum(score**-Q)))`` with
``Dis = U f / (U f + P (1 - f))``, ``U`` the sample uniques, ``P`` the records in keys of
frequency exactly 2 and ``f`` the sampling fraction (``dis_fraction``, default 0.01).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from fdac_research.risk._keys import group_ids

__all__ = ["SudaScores", "suda2"]


@dataclass(frozen=True)
class SudaScores:
    """Per-record SUDA results."""

    score: np.ndarray
    dis_score: np.ndarray
    msu_counts: np.ndarray  # (n, q): number of MSUs of size 1..q per record
    contributions: np.ndarray  # (q,): percent of the total score each variable takes part in


def suda2(
    codes: np.ndarray, cards: list[int], *, dis_fraction: float = 0.01, max_size: int | None = None
) -> SudaScores:
    """SUDA2 scores of every record of ``codes`` (``(n, q)`` int codes, ``-1`` = missing)."""
    n, q = codes.shape
    m_eff = max(q, 3)
    weight = np.array([float(math.factorial(m_eff - s)) for s in range(1, q + 1)])
    max_size = q if max_size is None else min(max_size, q)
    # collapse to distinct full keys with multiplicities
    ids, g = group_ids(codes, cards)
    first = np.full(g, -1, dtype=np.int64)
    first[ids[::-1]] = np.arange(n)[::-1]
    x = codes[first]
    mult = np.bincount(ids, minlength=g)
    na = x < 0
    msu = np.zeros((g, q), dtype=np.int64)
    contrib = np.zeros((g, q))
    # nonuniq[S]: boolean mask over distinct keys of "in counting population and not unique"
    everyone = np.ones(g, dtype=bool) if n > 1 else np.zeros(g, dtype=bool)
    prev: dict[tuple[int, ...], np.ndarray] = {(): everyone}
    for size in range(1, max_size + 1):
        cur: dict[tuple[int, ...], np.ndarray] = {}
        for subset in itertools.combinations(range(q), size):
            pop = None
            for v in subset:
                parent = prev.get(tuple(c for c in subset if c != v))
                if parent is None:
                    pop = None
                    break
                pop = parent.copy() if pop is None else pop & parent
            if pop is None:
                continue
            cols = list(subset)
            pop &= ~na[:, cols].any(axis=1)
            rows = np.flatnonzero(pop)
            if len(rows) == 0:
                continue
            sub_ids, sg = group_ids(x[np.ix_(rows, cols)], [cards[c] for c in cols])
            counts = np.bincount(sub_ids, weights=mult[rows], minlength=sg)[sub_ids]
            unique = counts == 1
            hit = rows[unique]
            if len(hit):
                msu[hit, size - 1] += 1
                contrib[np.ix_(hit, cols)] += weight[size - 1]
            keep = rows[~unique]
            if len(keep):
                mask = np.zeros(g, dtype=bool)
                mask[keep] = True
                cur[subset] = mask
        prev = cur
        if not prev:
            break
    score_g = msu @ weight
    score = score_g[ids]
    total = score.sum()
    contributions = 100.0 * contrib[ids].sum(axis=0) / total if total > 0 else np.zeros(q)
    # DIS-SUDA
    fk = mult[ids]
    u = int((fk == 1).sum())
    p = int((fk == 2).sum())
    dis_score = np.zeros(n)
    pos = score > 0
    if pos.any() and u > 0:
        qexp = 1.0 + (8.0 - m_eff) / 20.0
        adj = float(np.sum(score[pos] ** -qexp))
        f = dis_fraction
        extra = p * (1.0 - f) / f  # = U / Dis - U
        dis_score[pos] = 1.0 / (1.0 + extra / (score[pos] ** qexp * adj))
    return SudaScores(
        score=score, dis_score=dis_score, msu_counts=msu[ids], contributions=contributions
    )
