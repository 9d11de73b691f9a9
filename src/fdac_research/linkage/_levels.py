"""Comparison levels evaluated in pandas: the in-memory reference semantics of each level kind.

The Splink engine translates the same levels into SQL; tests check that both agree on
hand-made pairs.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable

import jellyfish
import numpy as np
import pandas as pd

from fdac_research.exceptions import ConfigError
from fdac_research.linkage._config import Comparison, Level, LinkageModelConfig

__all__ = ["comparison_vectors", "level_of_pairs", "bayes_factors", "match_weights"]


def _col(frame: pd.DataFrame, idx: np.ndarray, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=object)[idx]


def _present(a: np.ndarray) -> np.ndarray:
    return np.array([v is not None and v == v for v in a], dtype=bool)


def _pairwise(a: np.ndarray, b: np.ndarray, fn: Callable[[str, str], float]) -> np.ndarray:
    ok = _present(a) & _present(b)
    out = np.full(len(a), np.nan)
    cache: dict[tuple[str, str], float] = {}
    for i in np.flatnonzero(ok):
        key = (a[i], b[i])
        v = cache.get(key)
        if v is None:
            v = cache[key] = float(fn(str(a[i]), str(b[i])))
        out[i] = v
    return out


def _day_number(a: np.ndarray) -> np.ndarray:
    """Proleptic Gregorian day number of ISO date text (NaN for missing or invalid)."""
    codes, uniq = pd.factorize(pd.Series(a, dtype=object), use_na_sentinel=True)
    table = np.full(len(uniq) + 1, np.nan)
    for i, v in enumerate(uniq):
        with contextlib.suppress(ValueError):
            table[i] = datetime.date.fromisoformat(str(v)).toordinal()
    return table[codes]


def _sql_condition(
    level: Level, left: pd.DataFrame, right: pd.DataFrame, il: np.ndarray, ir: np.ndarray
) -> np.ndarray:
    """A custom SQL level evaluated by DuckDB on the pairs' ``<column>_l`` / ``_r`` values
    (the same SQL Splink runs on DuckDB)."""
    import duckdb

    frame = pd.DataFrame(
        {
            **{f"{c}_l": _col(left, il, c) for c in level.columns},
            **{f"{c}_r": _col(right, ir, c) for c in level.columns},
        }
    )
    if len(frame) == 0:
        return np.zeros(0, dtype=bool)
    con = duckdb.connect()
    try:
        con.register("__pairs", frame)
        res = con.execute(f"SELECT coalesce(({level.sql}), false) AS hit FROM __pairs").fetchnumpy()
    except duckdb.Error as err:
        raise ConfigError(
            "linkage model",
            [
                f"level {level.label or 'sql'!r}: SQL condition {level.sql!r} failed in DuckDB: {err}"
            ],
        ) from err
    finally:
        con.close()
    return np.asarray(res["hit"], dtype=bool)


def _eq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ok = _present(a) & _present(b)
    res = np.zeros(len(a), dtype=bool)
    res[ok] = a[ok] == b[ok]
    return res


def _condition(
    level: Level, left: pd.DataFrame, right: pd.DataFrame, il: np.ndarray, ir: np.ndarray
) -> np.ndarray:
    n = len(il)
    cols = level.columns
    if level.kind == "else":
        return np.ones(n, dtype=bool)
    if level.kind == "null":
        res = np.zeros(n, dtype=bool)
        for c in cols:
            res |= ~_present(_col(left, il, c)) | ~_present(_col(right, ir, c))
        return res
    if level.kind == "exact":
        res = np.ones(n, dtype=bool)
        for c in cols:
            res &= _eq(_col(left, il, c), _col(right, ir, c))
        return res
    if level.kind == "columns_reversed":
        a, b = cols
        return _eq(_col(left, il, a), _col(right, ir, b)) & _eq(
            _col(left, il, b), _col(right, ir, a)
        )
    if level.kind == "sql":
        return _sql_condition(level, left, right, il, ir)
    if level.kind == "any_exact":
        res = np.zeros(n, dtype=bool)
        for a in cols:
            for b in cols:
                res |= _eq(_col(left, il, a), _col(right, ir, b))
        return res
    (c,) = cols
    xa, xb = _col(left, il, c), _col(right, ir, c)
    t = float(level.threshold or 0)
    with np.errstate(invalid="ignore"):
        if level.kind == "jaro_winkler":
            return _pairwise(xa, xb, jellyfish.jaro_winkler_similarity) >= t
        if level.kind == "jaro":
            return _pairwise(xa, xb, jellyfish.jaro_similarity) >= t
        if level.kind == "levenshtein":
            return _pairwise(xa, xb, jellyfish.levenshtein_distance) <= t
        if level.kind == "damerau_levenshtein":
            return _pairwise(xa, xb, jellyfish.damerau_levenshtein_distance) <= t
        if level.kind == "date_within":  # day numbers: no nanosecond limits (any year 1-9999)
            days = np.abs(_day_number(xa) - _day_number(xb))
            return days <= t
    raise ValueError(
        f"unknown level kind {level.kind!r}"
    )  # pragma: no cover - config validates kinds


def level_of_pairs(
    comparison: Comparison, left: pd.DataFrame, right: pd.DataFrame, il: np.ndarray, ir: np.ndarray
) -> np.ndarray:
    """The level (index into ``comparison.levels``) of each pair ``(left[il], right[ir])``."""
    n = len(il)
    out = np.full(n, -1, dtype=np.int64)
    todo = np.ones(n, dtype=bool)
    for k, level in enumerate(comparison.levels):
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        hit = _condition(level, left, right, il[idx], ir[idx])
        out[idx[hit]] = k
        todo[idx[hit]] = False
    return out


def comparison_vectors(
    model: LinkageModelConfig,
    left: pd.DataFrame,
    right: pd.DataFrame,
    il: np.ndarray,
    ir: np.ndarray,
) -> pd.DataFrame:
    """One column ``gamma_<comparison>`` (level index) per comparison for the given pairs."""
    il = np.asarray(il, dtype=np.int64)
    ir = np.asarray(ir, dtype=np.int64)
    return pd.DataFrame(
        {f"gamma_{c.name}": level_of_pairs(c, left, right, il, ir) for c in model.comparisons}
    )


def bayes_factors(model: LinkageModelConfig) -> dict[str, np.ndarray]:
    """Per comparison, the Bayes factor m/u of each level (1 for null and unfitted levels)."""
    out = {}
    for comp in model.comparisons:
        bf = []
        for lv in comp.levels:
            m, u = lv.m_probability, lv.u_probability
            bf.append(1.0 if lv.is_null or m is None or u is None or u == 0 or m == 0 else m / u)
        out[comp.name] = np.array(bf)
    return out


def match_weights(model: LinkageModelConfig, gamma: pd.DataFrame) -> pd.DataFrame:
    """Partial weights (log2 Bayes factors) per comparison plus ``match_weight`` and
    ``match_probability`` for comparison vectors from :func:`comparison_vectors`.

    Term-frequency adjustments are not applied here (the Splink engine applies them).
    """
    prior = model.prior if model.prior is not None else 1e-4
    out = pd.DataFrame(index=gamma.index)
    total = np.full(len(gamma), np.log2(prior / (1 - prior)))
    for comp, bf in bayes_factors(model).items():
        w = np.log2(bf)[gamma[f"gamma_{comp}"].to_numpy()]
        out[f"bf_{comp}"] = w
        total = total + w
    out["match_weight"] = total
    out["match_probability"] = 1.0 / (1.0 + np.power(2.0, -total))
    return out
