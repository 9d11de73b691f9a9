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
import pandas as pd

from fdac_research.risk._keys import group_ids

__all__ = ["SudaScores", "suda2"]

FLAG_BYTES = 400_000_000  # above this, alive flags are packed one bit per subset


@dataclass(frozen=True)
class SudaScores:
    """Per-record SUDA results."""

    score: np.ndarray
    dis_score: np.ndarray
    msu_counts: np.ndarray  # (n, q): number of MSUs of size 1..q per record
    contributions: np.ndarray  # (q,): percent of the total score each variable takes part in


def suda2(
    codes: np.ndarray,
    cards: list[int],
    *,
    dis_fraction: float = 0.01,
    max_size: int | None = None,
    groups: tuple[np.ndarray, int] | None = None,
) -> SudaScores:
    """SUDA2 scores of every record of ``codes`` (``(n, q)`` int codes, ``-1`` = missing).

    Subsets are visited depth first so that every proper subset of ``S`` is visited before
    ``S`` (children add a variable below the lowest one already in the set, which walks the
    subsets in increasing bit-mask order). A node keeps only the records that are still not
    unique; a record that becomes unique at ``S`` is an MSU there when it is not unique on
    every other ``S \\ {v}`` (looked up in a bit set) and has no missing value in ``S``.
    """
    n, q = codes.shape
    # Low-cardinality variables first: the DFS parent of a subset holds its higher-numbered
    # variables, so high-cardinality ones there make the surviving (non-unique) sets small.
    order = sorted(range(q), key=lambda j: (cards[j], j))
    codes = codes[:, order]
    cards = [cards[j] for j in order]
    m_eff = max(q, 3)
    weight = np.array([float(math.factorial(m_eff - s)) for s in range(1, q + 1)])
    max_size = q if max_size is None else min(max_size, q)
    # collapse to distinct full keys with multiplicities
    ids, g = group_ids(codes, cards) if groups is None else groups
    first = np.full(g, -1, dtype=np.int64)
    first[ids[::-1]] = np.arange(n)[::-1]
    x = codes[first] + 1  # 0 = missing
    mult_i = np.bincount(ids, minlength=g)
    mult = None if (mult_i == 1).all() else mult_i.astype(float)
    cand = np.flatnonzero(mult_i == 1)  # only sample uniques can have MSUs
    c = len(cand)
    cand_pos = np.full(g, -1, dtype=np.int64)
    cand_pos[cand] = np.arange(c)
    # one bit per candidate for every subset that can be a parent (size < max_size)
    slot = {
        sum(1 << v for v in sub): i
        for i, sub in enumerate(
            sub for size in range(1, max_size) for sub in itertools.combinations(range(q), size)
        )
    }
    # alive(S, i): candidate i is not unique on S. A byte per (subset, candidate) when that
    # fits in memory (fast scatter; the last column is a sink for non-candidates), else a bit.
    if len(slot) * (c + 1) <= FLAG_BYTES:
        flags = np.zeros((len(slot), c + 1), dtype=bool)

        def set_alive(b: int, sink: np.ndarray, alive: np.ndarray, cp: np.ndarray) -> None:
            flags[b, sink] = alive

        def is_alive(b: int, ev: np.ndarray) -> np.ndarray:
            return flags[b, ev]
    else:
        bits = np.zeros((len(slot) // 8 + 1, c), dtype=np.uint8)

        def set_alive(b: int, sink: np.ndarray, alive: np.ndarray, cp: np.ndarray) -> None:
            live = cp[alive & (cp >= 0)]
            bits[b >> 3, live] |= np.uint8(1 << (b & 7))

        def is_alive(b: int, ev: np.ndarray) -> np.ndarray:
            return ((bits[b >> 3, ev] >> (b & 7)) & 1).astype(bool)

    na_mask = ((x[cand] == 0) * (1 << np.arange(q, dtype=np.int64))).sum(axis=1)
    msu = np.zeros((c, q), dtype=np.int64)
    contrib = np.zeros((c, q))
    xt = [np.ascontiguousarray(x[:, j]) for j in range(q)]

    def events(s_mask: int, size: int, ev: np.ndarray, skip: int) -> None:
        ev = ev[(na_mask[ev] & s_mask) == 0]
        for v in range(q):
            if len(ev) == 0:
                return
            if v == skip or not (s_mask >> v) & 1:
                continue
            pm = s_mask ^ (1 << v)
            ev = ev[is_alive(slot[pm], ev)]
        if len(ev):
            msu[ev, size - 1] += 1
            cols = [v for v in range(q) if (s_mask >> v) & 1]
            contrib[np.ix_(ev, np.asarray(cols, dtype=np.intp))] += weight[size - 1]

    limit = 1 << 22

    def visit(
        mask: int,
        low: int,
        size: int,
        idx: np.ndarray | None,
        key: np.ndarray,
        radix: int,
        m: np.ndarray | None,
        cp: np.ndarray,
        is_c: np.ndarray,
        sink: np.ndarray,
    ) -> None:
        for j in range(low):
            base = cards[j] + 1
            k = key * base + (xt[j] if idx is None else xt[j][idx])
            rad = radix * base
            if rad > limit:
                k, uniq = pd.factorize(k, sort=False)
                rad = len(uniq)
            counts = np.bincount(k, weights=m, minlength=rad)
            alive = (counts >= 2)[k]
            s_mask = mask | (1 << j)
            live_c = is_c & alive
            dead_c = is_c ^ live_c
            if np.count_nonzero(dead_c):
                events(s_mask, size + 1, cp[dead_c], j)
            if size + 1 < max_size:  # the largest sets are nobody's parent
                set_alive(slot[s_mask], sink, alive, cp)
            if size + 1 < max_size and j > 0 and np.count_nonzero(live_c):
                # only groups holding a candidate that is still not unique matter below
                # (descendant groups refine these groups, so their counts stay exact);
                # the kept groups are renumbered densely to keep the next radix small
                gkeep = np.zeros(rad, dtype=bool)
                gkeep[k[live_c]] = True
                keep = gkeep[k]
                dense = np.cumsum(gkeep) - 1
                if np.count_nonzero(keep) == len(keep):
                    visit(s_mask, j, size + 1, idx, dense[k], int(dense[-1]) + 1, m, cp, is_c, sink)
                else:
                    visit(
                        s_mask,
                        j,
                        size + 1,
                        np.flatnonzero(keep) if idx is None else idx[keep],
                        dense[k[keep]],
                        int(dense[-1]) + 1,
                        None if m is None else m[keep],
                        cp[keep],
                        is_c[keep],
                        sink[keep],
                    )

    if c and q:
        visit(
            0,
            q,
            0,
            None,
            np.zeros(g, dtype=np.int64),
            1,
            mult,
            cand_pos,
            cand_pos >= 0,
            np.where(cand_pos >= 0, cand_pos, c),
        )
    score_g = np.zeros(g)
    score_g[cand] = msu @ weight
    score = score_g[ids]
    inverse = np.argsort(order)
    msu_g = np.zeros((g, q), dtype=np.int64)
    msu_g[cand] = msu
    total = score.sum()
    contributions = (100.0 * contrib.sum(axis=0) / total)[inverse] if total > 0 else np.zeros(q)
    # DIS-SUDA
    fk = mult_i[ids]
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
        score=score, dis_score=dis_score, msu_counts=msu_g[ids], contributions=contributions
    )
