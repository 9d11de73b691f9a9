"""Fixes a researcher can try: global recoding (age bands, area to region), top/bottom coding
and local suppression to reach k-anonymity. Each returns the fixed frame together with the
risk before and after and the information lost, so a reviewer can see what each one buys.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"age": [21, 23, 37, 38, 39], "sex": ["F", "F", "M", "M", "M"]})
>>> fix = recode_bands(df, ["age", "sex"], column="age", width=10)
>>> fix.data["age"].tolist()
['20-29', '20-29', '30-39', '30-39', '30-39']
>>> fix.before["k_anonymity"], fix.after["k_anonymity"]
(1, 2)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fdac_research._progress import progress
from fdac_research.exceptions import ConfigError, ContractError, Problem
from fdac_research.risk._keys import check_frame, encode, key_frequencies
from fdac_research.risk.microdata import Missing, microdata_risk

__all__ = ["FixResult", "recode_bands", "recode_map", "top_bottom_code", "local_suppression"]

log = logging.getLogger(__name__)

_SUMMARY_KEYS = (
    "k_anonymity",
    "n_violating",
    "n_sample_uniques",
    "expected_reidentifications",
    "global_risk",
    "n_keys",
)


@dataclass
class FixResult:
    """A fix and what it buys.

    Attributes
    ----------
    name : str
        What was done (for reports), e.g. ``"age in 5-year bands"``.
    data : pandas.DataFrame
        The fixed frame (same index and columns as the input).
    before, after : dict
        Risk summaries (k-anonymity, records violating 2/3/5-anonymity, sample uniques,
        expected re-identifications, global risk, number of keys).
    information_loss : dict
        What was lost: values changed or suppressed (per column and in total), and the
        number of distinct categories of the changed column(s) before and after.
    """

    name: str
    data: pd.DataFrame
    before: dict[str, Any]
    after: dict[str, Any]
    information_loss: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without the data)."""
        return {
            "name": self.name,
            "before": self.before,
            "after": self.after,
            "information_loss": self.information_loss,
        }


def _summary(
    df: pd.DataFrame, qi: Sequence[str], missing: Missing, weight: str | None
) -> dict[str, Any]:
    r = microdata_risk(df, qi, weight=weight, missing=missing, suda=False)
    d = r.to_dict()
    return {k: d[k] for k in _SUMMARY_KEYS}


def _check_column(df: pd.DataFrame, qi: Sequence[str], column: str) -> None:
    check_frame(df, qi)
    if column not in df.columns:
        raise ContractError(
            "data", [Problem("data", column, None, None, "column to recode is not in the frame")]
        )


def _finish(
    name: str,
    df: pd.DataFrame,
    out: pd.DataFrame,
    qi: Sequence[str],
    columns: Sequence[str],
    *,
    missing: Missing = "own_category",
    weight: str | None = None,
    suppressed: dict[str, int] | None = None,
) -> FixResult:
    loss: dict[str, Any] = {}
    changed = {}
    for c in columns:
        a, b = df[c], out[c]
        diff = ~((a.astype(object) == b.astype(object)) | (a.isna() & b.isna()))
        changed[c] = int(diff.sum())
        loss[f"categories_{c}"] = {"before": int(a.nunique()), "after": int(b.nunique())}
    loss["values_changed"] = changed
    loss["total_values_changed"] = int(sum(changed.values()))
    if suppressed is not None:
        loss["suppressed"] = suppressed
        loss["total_suppressed"] = int(sum(suppressed.values()))
        loss["share_of_key_values_suppressed"] = float(
            sum(suppressed.values()) / (len(df) * len(qi))
        )
    return FixResult(
        name=name,
        data=out,
        before=_summary(df, qi, missing, weight),
        after=_summary(out, qi, missing, weight),
        information_loss=loss,
    )


def _numeric(df: pd.DataFrame, column: str, expected: str) -> pd.Series:
    """``df[column]`` as floats; any non-number is an error naming the column."""
    values = pd.to_numeric(df[column], errors="coerce").astype(float)
    bad = values.isna() & df[column].notna()
    if bad.any():
        example = str(df[column][bad].iloc[0])
        raise ContractError(
            "data", [Problem("data", column, None, example, expected, int(bad.sum()))]
        )
    return values


def _band_labels(edges: np.ndarray) -> list[str]:
    labels = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if np.isinf(hi):
            labels.append(f"{int(lo)}+")
        elif np.isinf(lo):
            labels.append(f"<{int(hi)}")
        else:
            labels.append(f"{int(lo)}-{int(hi) - 1}")
    return labels


def recode_bands(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    column: str,
    width: int | None = None,
    edges: Sequence[float] | None = None,
    weight: str | None = None,
) -> FixResult:
    """Global recoding of a whole-number column (e.g. age) into bands.

    Parameters
    ----------
    df : pandas.DataFrame
    quasi_identifiers : sequence of str
        Key variables for the before/after risk.
    column : str
        Column to recode (numeric; missing stays missing).
    width : int, optional
        Equal bands of this width starting at a multiple of it (``20-24``, ``25-29``...).
    edges : sequence of float, optional
        Band edges (left-closed), e.g. ``[0, 18, 25, 35, 50, inf]``; labels ``18-24``, ``50+``.
    weight : str, optional
        Sampling-weight column for the risk summaries.

    Returns
    -------
    FixResult
        Labels are strings (``"25-29"``); values outside ``edges`` are an error.
    """
    _check_column(df, quasi_identifiers, column)
    if (width is None) == (edges is None):
        raise ConfigError("recode_bands arguments", ["give exactly one of width or edges"])
    values = _numeric(df, column, "numbers to band")
    if width is not None:
        if width < 1:
            raise ConfigError("recode_bands arguments", [f"width must be >= 1, got {width}"])
        lo = pd.Series(np.floor(values.to_numpy() / width) * width, index=df.index)
        label = lo.map(lambda v: f"{int(v)}-{int(v) + width - 1}" if pd.notna(v) else np.nan)
        name = f"{column} in {width}-year bands"
    else:
        e = np.asarray(edges, dtype=float)
        if len(e) < 2 or np.any(np.diff(e) <= 0):
            raise ConfigError(
                "recode_bands arguments",
                [f"edges must be increasing with at least two values, got {list(edges or [])}"],
            )
        pos = np.searchsorted(e, values.to_numpy(), side="right") - 1
        outside = values.notna().to_numpy() & ((pos < 0) | (pos >= len(e) - 1))
        if outside.any():
            raise ContractError(
                "data",
                [
                    Problem(
                        "data",
                        column,
                        None,
                        str(values[outside].iloc[0]),
                        f"values inside the band edges {list(e)}",
                        int(outside.sum()),
                    )
                ],
            )
        labels = np.array(_band_labels(e), dtype=object)
        label = pd.Series(
            np.where(values.notna(), labels[np.clip(pos, 0, len(labels) - 1)], np.nan),
            index=df.index,
            dtype=object,
        )
        name = f"{column} in bands {', '.join(_band_labels(e))}"
    out = df.copy()
    out[column] = label.astype(object)
    return _finish(name, df, out, quasi_identifiers, [column], weight=weight)


def recode_map(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    column: str,
    mapping: Mapping[Any, Any],
    name: str | None = None,
    weight: str | None = None,
) -> FixResult:
    """Global recoding through a mapping, e.g. local authority to region.

    Every observed value must be in ``mapping`` (missing stays missing); unmapped values are
    an error listing them, so nothing is silently left identifiable.
    """
    _check_column(df, quasi_identifiers, column)
    s = df[column]
    observed = pd.unique(s.dropna())
    unmapped = [v for v in observed if v not in mapping]
    if unmapped:
        raise ContractError(
            "data",
            [
                Problem(
                    "data",
                    column,
                    None,
                    str(unmapped[0]),
                    f"every value in the mapping ({len(unmapped)} value(s) are not: {unmapped[:10]})",
                    len(unmapped),
                )
            ],
        )
    out = df.copy()
    out[column] = s.map(lambda v: mapping[v] if pd.notna(v) else np.nan).astype(object)
    return _finish(
        name or f"{column} recoded by mapping", df, out, quasi_identifiers, [column], weight=weight
    )


def top_bottom_code(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    column: str,
    top: float | None = None,
    bottom: float | None = None,
    weight: str | None = None,
) -> FixResult:
    """Top and/or bottom coding: values above ``top`` become ``top`` (shown as ``"top+"``),
    values below ``bottom`` become ``bottom`` (``"<bottom"`` style labels are left to the
    reader: the column stays numeric with the threshold as the value)."""
    _check_column(df, quasi_identifiers, column)
    if top is None and bottom is None:
        raise ConfigError("top_bottom_code arguments", ["give top, bottom or both"])
    if top is not None and bottom is not None and bottom > top:
        raise ConfigError("top_bottom_code arguments", [f"bottom ({bottom}) is above top ({top})"])
    values = _numeric(df, column, "numbers to top/bottom code")
    out = df.copy()
    coded = values.clip(lower=bottom, upper=top)
    if pd.api.types.is_integer_dtype(df[column].dtype) and not coded.isna().any():
        coded = coded.astype(df[column].dtype)
    out[column] = coded
    parts = ([f"top-coded at {top}"] if top is not None else []) + (
        [f"bottom-coded at {bottom}"] if bottom is not None else []
    )
    return _finish(
        f"{column} {' and '.join(parts)}", df, out, quasi_identifiers, [column], weight=weight
    )


def _compatible(rows: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Which ``rows`` (codes) match ``key`` when a missing value matches anything."""
    return ((rows == key) | (rows < 0) | (key < 0)).all(axis=1)


def _apply_in_order(
    current: np.ndarray,
    viol: np.ndarray,
    choice: np.ndarray,
    fk: np.ndarray,
    k: int,
    suppressed: np.ndarray,
) -> None:
    """Suppress the chosen value of each violating record, rarest keys first, skipping a
    record once earlier suppressions in this round already lift its frequency to ``k``
    (a suppressed record starts matching the records it now agrees with)."""
    order = np.lexsort((viol, fk[viol]))
    rows, cols = viol[order], choice[order]
    bonus = np.zeros(len(rows))
    for t in range(len(rows)):
        i, j = rows[t], cols[t]
        if fk[i] + bonus[t] >= k:
            continue
        rest = rows[t + 1 :]
        before = _compatible(current[rest], current[i])
        current[i, j] = -1
        suppressed[j] += 1
        after = _compatible(current[rest], current[i])
        bonus[t + 1 :] += after & ~before


def local_suppression(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    k: int = 3,
    importance: Sequence[str] | None = None,
    weight: str | None = None,
    max_rounds: int = 100,
) -> FixResult:
    """Suppress (set to missing) key values until the file is k-anonymous.

    Suppressed values are read as "matches anything" (sdcMicro's rule), so the result is
    k-anonymous under the conservative reading. Greedy: in each round every record still in
    a key of frequency below ``k`` loses one value, the one whose suppression raises its
    frequency most (ties go to the least important variable: the last in ``importance``,
    by default the variable with the most categories). Records are handled rarest key first
    and skipped once earlier suppressions in the round have lifted them to ``k`` (a
    suppressed record starts matching the records it now agrees with). Rounds repeat until
    no record violates k-anonymity.

    Parameters
    ----------
    k : int
        Target k (>= 2).
    importance : sequence of str, optional
        Quasi-identifiers from most to least important to keep.

    Raises
    ------
    ConfigError
        ``k < 2``, ``k`` above the number of records, or ``importance`` not a permutation of
        the quasi-identifiers.
    """
    qi = list(quasi_identifiers)
    check_frame(df, qi)
    problems = []
    if k < 2:
        problems.append(f"k must be >= 2, got {k}")
    if k > len(df):
        problems.append(
            f"k ({k}) is larger than the number of records ({len(df)}); no suppression can reach it"
        )
    if importance is not None and sorted(importance) != sorted(qi):
        problems.append(f"importance must list each quasi-identifier once, got {list(importance)}")
    if problems:
        raise ConfigError("local_suppression arguments", problems)
    codes, cards = encode(df, qi)
    if importance is None:
        # least important = most categories (sdcMicro's default ranking)
        rank = {c: (cards[j], j) for j, c in enumerate(qi)}
        importance = sorted(qi, key=lambda c: rank[c])
    tie_rank = np.array([list(importance).index(c) for c in qi])  # higher = less important
    w = None if weight is None else df[weight].to_numpy(dtype=float)
    current = codes.copy()
    suppressed = np.zeros(len(qi), dtype=np.int64)
    for _round in progress(range(max_rounds), desc=f"local suppression to k={k}"):
        fk, _ = key_frequencies(current, cards, w, missing="matches_any")
        viol = np.flatnonzero(fk < k)
        if len(viol) == 0:
            break
        gains = np.full((len(viol), len(qi)), -np.inf)
        for j in range(len(qi)):
            trial = current.copy()
            trial[viol, j] = -1
            fk_j, _ = key_frequencies(trial, cards, w, missing="matches_any")
            ok = current[viol, j] >= 0
            gains[ok, j] = fk_j[viol][ok]
        # best gain, ties to the least important variable
        score = gains * (len(qi) + 1) + tie_rank[None, :]
        choice = np.argmax(score, axis=1)
        _apply_in_order(current, viol, choice, fk, k, suppressed)
    else:
        log.warning("local_suppression stopped after %d rounds before reaching k=%d", max_rounds, k)
    out = df.copy()
    for j, c in enumerate(qi):
        mask = (current[:, j] < 0) & (codes[:, j] >= 0)
        if mask.any():
            col = (
                out[c].astype(object)
                if not isinstance(out[c].dtype, pd.CategoricalDtype)
                else out[c]
            )
            col = col.copy()
            col[mask] = np.nan
            out[c] = col
    supp = {c: int(suppressed[j]) for j, c in enumerate(qi)}
    return _finish(
        f"local suppression to {k}-anonymity",
        df,
        out,
        qi,
        qi,
        missing="matches_any",
        weight=weight,
        suppressed=supp,
    )
