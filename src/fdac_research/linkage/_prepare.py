"""Standardise input records into the columns a linkage model compares (engine-neutral).

Every engine receives the same prepared frame: ``unique_id`` (the record id as text) and,
for each declared column, its standardised value and derived columns, as text with ``None``
for missing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, Problem
from fdac_research.linkage._config import ColumnSpec, LinkageModelConfig

__all__ = ["prepare", "nickname_key_map", "check_input"]

_FALLBACK_NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy", "Liam"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Katherine": ("Kate", "Kathy", "Katie"),
}


def _default_nicknames() -> Mapping[str, tuple[str, ...]]:
    try:
        from fdac_research.reference import NICKNAMES
    except ImportError:  # pragma: no cover - reference data ships with the package
        return _FALLBACK_NICKNAMES
    return NICKNAMES


_NON_NAME = re.compile(r"[^A-Z\- ]")
_POSTCODE = re.compile(r"^([A-Z]{1,2})([0-9][0-9A-Z]?)([0-9])([A-Z]{2})$")


def _clean_name_scalar(v: str) -> str | None:
    t = unicodedata.normalize("NFKD", v).encode("ascii", "ignore").decode("ascii").upper()
    t = _NON_NAME.sub("", t)
    t = re.sub(r"\s*-\s*", "-", t)
    t = " ".join(t.split())
    return t or None


def _by_unique(
    values: pd.Series, fn: Callable[[str], tuple[str | None, ...]], width: int
) -> list[pd.Series]:
    """Apply ``fn`` once per distinct value (stripped text; empty and missing give ``None``
    in every output); ``width`` outputs per value. Millions of records hold far fewer
    distinct names, postcodes or dates, so this is where the speed comes from."""
    codes, uniq = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    table = np.empty((len(uniq) + 1, width), dtype=object)
    table[-1, :] = None  # code -1 (missing) indexes the last row
    for i, v in enumerate(uniq):
        t = str(v).strip()
        table[i, :] = fn(t) if t else (None,) * width
    rows = table[codes]
    return [pd.Series(rows[:, k], index=values.index, dtype=object) for k in range(width)]


def nickname_key_map(nicknames: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """Map each upper-cased name in the nickname table to its group key.

    Groups that share a name (Sam: Samuel and Samantha) are merged, so the key is the
    alphabetically first name of the connected group.

    Examples
    --------
    >>> key = nickname_key_map({"William": ("Bill", "Will"), "Wilfred": ("Will", "Fred")})
    >>> key["BILL"] == key["FRED"] == "BILL"
    True
    """
    table = _default_nicknames() if nicknames is None else nicknames
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for formal, informal in table.items():
        a = find(formal.upper())
        for name in informal:
            b = find(name.upper())
            if a != b:
                lo, hi = sorted((a, b))
                parent[hi] = lo
                a = lo
    return {name: find(name) for name in sorted(parent)}


def _nullify(x: pd.Series) -> pd.Series:
    """Object dtype with ``None`` (not NaN/NA) for missing values."""
    out: pd.Series = x.astype(object)
    return out.where(x.notna(), None)  # type: ignore[call-overload]


def _as_text(values: pd.Series) -> pd.Series:
    s = _nullify(values)
    present = s.notna()
    if present.any():
        t = s[present].astype(str).str.strip()
        s = s.copy()
        s[present] = _nullify(t.where(t != ""))
    return s


def _names(values: pd.Series, keys: dict[str, str]) -> list[pd.Series]:
    def fn(v: str) -> tuple[str | None, ...]:
        c = _clean_name_scalar(v)
        if c is None:
            return (None, None, None, None)
        parts = [x for x in re.split(r"[- ]", c) if x]
        return (c, keys.get(c, c), parts[0] if parts else c, parts[-1] if parts else c)

    return _by_unique(values, fn, 4)


def _postcodes(values: pd.Series) -> list[pd.Series]:
    def fn(v: str) -> tuple[str | None, ...]:
        t = re.sub(r"[^A-Z0-9]", "", v.upper())
        if not t:
            return (None, None, None, None)
        m = _POSTCODE.match(t)
        if m is None:
            return (t, None, None, None)
        area, district, sector, unit = m.groups()
        outward = area + district
        return (f"{outward} {sector}{unit}", f"{outward} {sector}", outward, area)

    return _by_unique(values, fn, 4)


def _date_parts(ts: pd.Timestamp) -> tuple[str | None, ...]:
    y, m, d = f"{ts.year:04d}", f"{ts.month:02d}", f"{ts.day:02d}"
    lo, hi = sorted((m, d))
    swappable = ts.day <= 12 and ts.day != ts.month
    return (f"{y}-{m}-{d}", f"{y}-{d}-{m}" if swappable else None, f"{y}-{m}", y, f"{y}-{lo}-{hi}")


def _dates(values: pd.Series, column: str, dataset: str) -> dict[str, pd.Series]:
    """ISO date, day/month swapped (when that is another valid date), year-month, year and
    a transposition-proof key (year, then the smaller and larger of month and day)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        codes, uniq = pd.factorize(pd.to_datetime(values), use_na_sentinel=True)
        parsed = pd.DatetimeIndex(uniq)
    else:
        codes, raw = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
        text = pd.Series([str(v).strip() for v in raw], dtype=object)
        parsed = pd.DatetimeIndex(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))
        bad_u = (text != "").to_numpy() & parsed.isna()
        bad = (codes >= 0) & np.append(bad_u, False)[codes]
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ContractError(
                dataset,
                [
                    Problem(
                        dataset,
                        column,
                        i + 2,
                        str(text.iloc[codes[i]]),
                        "an ISO date YYYY-MM-DD",
                        int(bad.sum()),
                    )
                ],
            )
    table = np.empty((len(parsed) + 1, 5), dtype=object)
    table[:, :] = None  # missing, empty and code -1 stay None
    for i, ts in enumerate(parsed):
        if not pd.isna(ts):
            table[i, :] = _date_parts(ts)
    rows = table[codes]
    return {
        suffix: pd.Series(rows[:, k], index=values.index, dtype=object)
        for k, suffix in enumerate(("", "_dm", "_ym", "_year", "_key"))
    }


def check_input(
    df: pd.DataFrame, model: LinkageModelConfig, dataset: str, id_column: str = "record_id"
) -> pd.Series:
    """Raise :class:`ContractError` listing every problem of one input frame.

    Checks: the frame has rows, the id column and every column the model declares exist,
    ids are present and unique. Returns the record ids as text (``None`` for missing).
    """
    problems: list[Problem] = []
    ids = pd.Series(dtype=object)
    if len(df) == 0:
        problems.append(
            Problem(dataset, None, None, None, "at least one record (the extract is empty)")
        )
    if id_column not in df.columns:
        problems.append(Problem(dataset, id_column, 1, None, f"a record id column '{id_column}'"))
    else:
        ids = _as_text(df[id_column])
        missing = ids.isna().to_numpy()
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            problems.append(
                Problem(
                    dataset, id_column, i + 2, "", "a record id on every row", int(missing.sum())
                )
            )
        dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            problems.append(
                Problem(
                    dataset,
                    id_column,
                    i + 2,
                    str(ids.iloc[i]),
                    "unique record ids (duplicate id)",
                    int(dup.sum()),
                )
            )
    for c in model.input_columns:
        if c not in df.columns:
            problems.append(
                Problem(
                    dataset,
                    c,
                    1,
                    None,
                    f"column '{c}' named by the linkage model (columns present: {list(df.columns)[:12]})",
                )
            )
    if problems:
        raise ContractError(dataset, problems)
    return ids


def prepare(
    df: pd.DataFrame,
    model: LinkageModelConfig,
    dataset: str,
    id_column: str = "record_id",
    nickname_keys: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Standardise ``df`` for ``model``: ``unique_id`` plus every available column.

    Parameters
    ----------
    df : DataFrame
        Records with ``id_column`` and every input column the model declares.
    model : LinkageModelConfig
        The model whose ``columns`` say how to standardise.
    dataset : str
        Name used in error messages (for example ``agencies/police.csv``).
    id_column : str
        The record id column.
    nickname_keys : dict, optional
        A precomputed :func:`nickname_key_map` (computed from the model when omitted).

    Returns
    -------
    DataFrame
        Text columns with ``None`` for missing, in a fixed order.
    """
    ids = check_input(df, model, dataset, id_column)
    keys = nickname_key_map(model.nicknames) if nickname_keys is None else nickname_keys
    out: dict[str, pd.Series] = {"unique_id": ids.reset_index(drop=True)}
    for spec in model.columns:
        out.update(_standardise(df[spec.name].reset_index(drop=True), spec, dataset, keys))
    return pd.DataFrame(out)


def _standardise(
    values: pd.Series, spec: ColumnSpec, dataset: str, keys: dict[str, str]
) -> dict[str, pd.Series]:
    n = spec.name
    if spec.kind == "name":
        return dict(
            zip(
                (f"{n}{k}" for k in ("", "_nick", "_first", "_last")),
                _names(values, keys),
                strict=True,
            )
        )
    if spec.kind == "postcode":
        return dict(
            zip(
                (f"{n}{k}" for k in ("", "_sector", "_district", "_area")),
                _postcodes(values),
                strict=True,
            )
        )
    if spec.kind == "date":
        return {f"{n}{k}": v for k, v in _dates(values, n, dataset).items()}
    if spec.kind == "text":
        return {n: _by_unique(values, lambda v: (" ".join(v.upper().split()),), 1)[0]}
    return {n: _by_unique(values, lambda v: (v,), 1)[0]}
