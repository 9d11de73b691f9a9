"""Private helpers: quasi-identifier columns as integer codes, key groups and frequencies.

Every measure works on integer codes (``-1`` = missing), so it is the same for categorical,
string, integer and float columns and does not depend on the frame's index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, Problem

__all__ = [
    "check_frame",
    "column_codes",
    "encode",
    "combine",
    "group_ids",
    "key_frequencies",
]


def check_frame(
    df: object, columns: Sequence[str], *, what: str = "quasi_identifiers", where: str = "data"
) -> pd.DataFrame:
    """Check ``df`` is a non-empty frame holding every column in ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where}: expected a pandas DataFrame, got {type(df).__name__}")
    if isinstance(columns, str):
        raise TypeError(f"{what} must be a list of column names, not the string {columns!r}")
    problems = []
    if len(df) == 0:
        problems.append(Problem(where, None, None, None, "at least one row (the frame is empty)"))
    if len(columns) == 0:
        problems.append(Problem(where, None, None, None, f"at least one column in {what}"))
    seen: set[str] = set()
    for c in columns:
        if c not in df.columns:
            problems.append(
                Problem(
                    where,
                    str(c),
                    None,
                    None,
                    f"{what} names a column that is not in the frame; columns are {list(map(str, df.columns))[:20]}",
                )
            )
        if c in seen:
            problems.append(Problem(where, str(c), None, None, f"each column once in {what}"))
        seen.add(c)
    if problems:
        raise ContractError(where, problems)
    return df


def column_codes(s: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of one column (``-1`` = missing) and its number of distinct values."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        card = len(s.cat.categories)
        return codes, card
    codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
    return codes.astype(np.int64), len(uniques)


def encode(df: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[int]]:
    """Codes of ``columns`` as an ``(n, q)`` int64 array (``-1`` = missing) and cardinalities."""
    n = len(df)
    out = np.empty((n, len(columns)), dtype=np.int64)
    cards = []
    for j, c in enumerate(columns):
        codes, card = column_codes(df[c])
        out[:, j] = codes
        cards.append(card)
    return out, cards


def combine(codes: np.ndarray, cards: Sequence[int]) -> np.ndarray:
    """Dense group ids (``0..g-1``) of the rows of ``codes``; missing (``-1``) is a value.

    Uses a mixed-radix number when it fits in int64, otherwise factorises column by column.
    """
    n, q = codes.shape
    if q == 0:
        return np.zeros(n, dtype=np.int64)
    key = codes[:, 0] + 1
    radix = cards[0] + 1
    for j in range(1, q):
        base = cards[j] + 1
        if radix * base >= 2**62:
            key, _ = pd.factorize(key, sort=False)
            radix = int(key.max()) + 1 if n else 1
        key = key * base + (codes[:, j] + 1)
        radix *= base
    ids, _ = pd.factorize(key, sort=False)
    return ids.astype(np.int64)


def group_ids(codes: np.ndarray, cards: Sequence[int]) -> tuple[np.ndarray, int]:
    """Group ids and the number of groups."""
    ids = combine(codes, cards)
    return ids, int(ids.max()) + 1 if len(ids) else 0


def _group_sums(ids: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(ids, weights=values, minlength=n_groups)


def key_frequencies(
    codes: np.ndarray,
    cards: Sequence[int],
    weights: np.ndarray | None,
    *,
    missing: str = "own_category",
    alpha: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample frequency ``fk`` and estimated population frequency ``Fk`` of each record's key.

    ``missing="own_category"`` treats a missing value as one more category.
    ``missing="matches_any"`` follows sdcMicro's ``freqCalc``: a missing value matches any
    category, so a record's frequency counts every record that agrees with it wherever both
    are observed; contributions of records whose missing pattern differs from the record's
    own (other than fully observed records counting towards an incomplete key) are weighted
    by ``alpha``; a key missing everywhere matches every record.
    """
    n, q = codes.shape
    w = np.ones(n) if weights is None else weights
    miss = codes < 0
    if missing == "own_category" or not miss.any():
        ids, g = group_ids(codes, cards)
        fk = np.bincount(ids, minlength=g).astype(float)[ids]
        Fk = _group_sums(ids, w, g)[ids]
        return fk, Fk
    if missing != "matches_any":
        raise ValueError(f"missing must be 'own_category' or 'matches_any', got {missing!r}")
    bits = (miss * (1 << np.arange(q, dtype=np.int64))).sum(axis=1)
    patterns = np.unique(bits)
    full = (1 << q) - 1
    fk = np.zeros(n)
    Fk = np.zeros(n)
    rows_of = {int(p): np.flatnonzero(bits == p) for p in patterns}
    for p in patterns:
        p = int(p)
        rows_p = rows_of[p]
        if p == full:  # nothing observed: matches every record
            fk[rows_p] = n
            Fk[rows_p] = w.sum()
            continue
        for qq in patterns:
            qq = int(qq)
            rows_q = rows_of[qq]
            cols = [j for j in range(q) if not ((p | qq) >> j) & 1]
            factor = 1.0 if (qq == p or (qq == 0 and p != 0)) else alpha
            if factor == 0.0:
                continue
            both = np.concatenate([rows_p, rows_q])
            sub = (
                codes[np.ix_(both, np.asarray(cols, dtype=np.intp))]
                if cols
                else np.zeros((len(both), 0), dtype=np.int64)
            )
            ids, g = group_ids(sub, [cards[j] for j in cols])
            ids_p, ids_q = ids[: len(rows_p)], ids[len(rows_p) :]
            cnt = np.bincount(ids_q, minlength=g).astype(float)
            wsum = _group_sums(ids_q, w[rows_q], g)
            fk[rows_p] += factor * cnt[ids_p]
            Fk[rows_p] += factor * wsum[ids_p]
    return fk, Fk
