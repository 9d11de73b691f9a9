"""Standardise input records into the columns a linkage model compares (engine-neutral).

Every engine receives the same prepared frame: ``unique_id`` (the record id as text) and,
for each declared column, its standardised value and derived columns, as text with ``None``
for missing.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, Problem
from fdac_research.linkage._config import ColumnSpec, LinkageModelConfig

__all__ = ["prepare", "nickname_key_map", "check_input"]

log = logging.getLogger(__name__)

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


_DROP_IN_NAME = re.compile(r"['`.\u2019]")
_NON_NAME = re.compile(r"[^A-Z0-9\- ]")
#: Generation suffixes dropped from names (Jr, Sr, II-IV, ordinals such as 3rd).
_SUFFIX = re.compile(r"^(?:JR|JNR|SR|SNR|II|III|IV|[0-9]+(?:ST|ND|RD|TH))$")
#: Particles that belong to the following word when a name is split into parts
#: (van der Berg has the one part VANDERBERG, not VAN and BERG).
_PARTICLES = frozenset(
    [
        "AL",
        "BIN",
        "DA",
        "DE",
        "DEL",
        "DELLA",
        "DEN",
        "DER",
        "DI",
        "DOS",
        "DU",
        "EL",
        "LA",
        "LE",
        "TEN",
        "TER",
        "VAN",
        "VON",
    ]
)
_POSTCODE = re.compile(r"^([A-Z]{1,2})([0-9][0-9A-Z]?)([0-9])([A-Z]{2})$")


def _clean_name_scalar(v: str) -> str | None:
    """Upper-case Latin letters, hyphens and single spaces.

    Transliterated first (``anyascii``: Михаил -> MIKHAIL, 李小龍 -> LIXIAOLONG, José ->
    JOSE); apostrophes and full stops are dropped (d'Arcy -> DARCY, O'Brien -> OBRIEN);
    other characters separate words; generation suffixes (Jr, Sr, II, III, IV, 3rd) are
    dropped when another word remains; digits are dropped.

    Examples
    --------
    >>> _clean_name_scalar("d'Arcy 3rd"), _clean_name_scalar("Михаил")
    ('DARCY', 'MIKHAIL')
    """
    from anyascii import anyascii

    t = _DROP_IN_NAME.sub("", anyascii(v).upper())
    words = _NON_NAME.sub(" ", t).split()
    kept = [w for w in words if not _SUFFIX.match(w)]
    words = kept if kept else words
    t = " ".join(re.sub(r"[0-9]", "", w) for w in words)
    t = re.sub(r"\s*-\s*", "-", t).strip("- ")
    t = " ".join(t.split())
    return t or None


def _name_parts(clean: str) -> list[str]:
    """Words of a cleaned name (split at spaces and hyphens), particles joined to the next."""
    words = [x for x in re.split(r"[- ]", clean) if x]
    parts: list[str] = []
    carry = ""
    for i, w in enumerate(words):
        if w in _PARTICLES and i < len(words) - 1:
            carry += w
            continue
        parts.append(carry + w)
        carry = ""
    return parts


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


def _names(values: pd.Series, keys: dict[str, str], column: str, dataset: str) -> list[pd.Series]:
    lost: list[str] = []

    def fn(v: str) -> tuple[str | None, ...]:
        c = _clean_name_scalar(v)
        if c is None:
            lost.append(v)
            return (None, None, None, None)
        parts = _name_parts(c) or [c]
        return (c, keys.get(c, c), parts[0], parts[-1])

    out = _by_unique(values, fn, 4)
    if lost:
        n = int(values.astype(str).str.strip().isin(lost).sum())
        log.warning(
            "%s, column '%s': %d name(s) have no letters after transliteration (for example "
            "%r) and are treated as missing",
            dataset,
            column,
            n,
            lost[0],
        )
    return out


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


def _date_parts(d: datetime.date) -> tuple[str | None, ...]:
    y, m, dd = f"{d.year:04d}", f"{d.month:02d}", f"{d.day:02d}"
    lo, hi = sorted((m, dd))
    swappable = d.day <= 12 and d.day != d.month
    return (
        f"{y}-{m}-{dd}",
        f"{y}-{dd}-{m}" if swappable else None,
        f"{y}-{m}",
        y,
        f"{y}-{lo}-{hi}",
    )


def _as_date(v: object, fmt: str) -> datetime.date | None:
    """A date from a date-like object or text in ``fmt`` (``None`` when it is not one)."""
    if isinstance(v, datetime.datetime | pd.Timestamp):
        return None if pd.isna(v) else v.date()
    if isinstance(v, datetime.date):
        return v
    if isinstance(v, float) and v.is_integer():  # 19151111 read as a float column
        v = int(v)
    text = str(v).strip()
    try:
        return datetime.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def _dates(
    values: pd.Series, column: str, dataset: str, fmt: str | None = None
) -> dict[str, pd.Series]:
    """ISO date, day/month swapped (when that is another valid date), year-month, year and
    a transposition-proof key (year, then the smaller and larger of month and day).

    Dates are parsed with Python's calendar (any year 1-9999, no nanosecond limits) and kept
    as ISO text; values that are not a date in ``fmt`` (ISO ``%Y-%m-%d`` by default) become
    missing and are counted in a warning."""
    fmt = fmt or "%Y-%m-%d"
    codes, raw = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    table = np.empty((len(raw) + 1, 5), dtype=object)
    table[:, :] = None  # missing, empty and code -1 stay None
    bad_u = np.zeros(len(raw) + 1, dtype=bool)
    for i, v in enumerate(raw):
        if isinstance(v, str) and not v.strip():
            continue
        d = _as_date(v, fmt)
        if d is None:
            bad_u[i] = True
        else:
            table[i, :] = _date_parts(d)
    bad = bad_u[codes]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        problem = Problem(
            dataset,
            column,
            i + 2,
            str(raw[codes[i]]),
            f"a date in the format {fmt!r} (year 1-9999)",
            int(bad.sum()),
        )
        if not table[:-1, 0].astype(bool).any():  # not one date read: the format is wrong
            raise ContractError(
                dataset,
                [
                    dataclasses.replace(
                        problem,
                        expected=f"{problem.expected}; no value of the column is one: give the "
                        "column's format (for example format: '%Y%m%d')",
                    )
                ],
            )
        log.warning("%s; these dates are treated as missing", problem)
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
                _names(values, keys, n, dataset),
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
        return {f"{n}{k}": v for k, v in _dates(values, n, dataset, spec.format).items()}
    if spec.kind == "text":
        return {n: _by_unique(values, lambda v: (" ".join(v.upper().split()),), 1)[0]}
    return {n: _by_unique(values, lambda v: (v,), 1)[0]}
