"""Rare categories: coded before synthesis, as numbers are top-coded (statistical disclosure
control's global recoding, Hundepool et al. 2012, section 3.4.4).

A category that fewer than ``k`` real training families hold (a court with 3 cases, a
substance two mothers named) would reach the release if the model saw it: a synthesizer
reproduces the values it is trained on. Before fitting, each such value is coded:

* in a column that may be empty (sex, ethnicity, outcomes, booleans): to empty;
* in an open vocabulary that may not be empty (court, local authority): to ``"other"``, or,
  when the merged ``"other"`` is still held by fewer than ``k`` families, to the column's most
  common value;
* in a closed vocabulary that may not be empty (cohort, role): to the most common value;
* in a ``;``-separated list (substances): a rare item becomes ``other`` (dropped when
  ``other`` is itself rare), then a rare combination is reduced to its most common item.

The codes are learned from the training data and kept inside the fitted synthesizer (they
name real rare values); :func:`rare_categories` is what the release gate checks.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.synth._metadata import DATA_TABLES, column_specs

__all__ = [
    "CategoryCodes",
    "learn_category_codes",
    "apply_category_codes",
    "rare_categories",
    "coded_columns",
    "OTHER",
]

#: ``{table: {column: {real value: code (None = empty)}}}``; list columns code whole cells.
CategoryCodes = dict[str, dict[str, dict[str, str | None]]]
OTHER = "other"
_SEP = ";"


def coded_columns(table: str) -> list[tuple[str, str, bool, bool]]:
    """``(column, kind, nullable, open vocabulary)`` of every categorical or boolean column;
    ``kind`` is ``"list"``, ``"category"`` or ``"boolean"``."""
    out = []
    for s in column_specs(table):
        if s.kind not in ("categorical", "boolean"):
            continue
        col = schema.RESEARCH.table(table).column(s.name)
        kind = "list" if col.kind == "list" else ("boolean" if s.kind == "boolean" else "category")
        out.append((s.name, kind, s.nullable, s.allowed is None))
    return out


def _text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    return str(v)


def _families(values: pd.Series, case_id: pd.Series) -> Counter[str]:
    """Families (distinct cases) holding each value."""
    seen: dict[str, set[object]] = {}
    for v, c in zip(values.to_numpy(), case_id.to_numpy(), strict=True):
        t = _text(v)
        if t is not None:
            seen.setdefault(t, set()).add(c)
    return Counter({v: len(s) for v, s in seen.items()})


def _items(cell: str | None) -> list[str]:
    return [x.strip() for x in cell.split(_SEP) if x.strip()] if cell else []


def _item_families(values: pd.Series, case_id: pd.Series) -> Counter[str]:
    seen: dict[str, set[object]] = {}
    for v, c in zip(values, case_id, strict=True):
        for item in _items(_text(v)):
            seen.setdefault(item, set()).add(c)
    return Counter({v: len(s) for v, s in seen.items()})


def _list_codes(values: pd.Series, case_id: pd.Series, k: int) -> dict[str, str | None]:
    items = _item_families(values, case_id)
    rare_items = {i for i, n in items.items() if n < k}
    other_n = len(
        {
            c
            for v, c in zip(values, case_id, strict=True)
            for i in _items(_text(v))
            if i in rare_items or i == OTHER
        }
    )
    keep_other = other_n >= k

    def recode(cell: str) -> str | None:
        out: list[str] = []
        for i in _items(cell):
            j = (OTHER if keep_other else None) if i in rare_items else i
            if j is not None and j not in out:
                out.append(j)
        return _SEP.join(out) if out else None

    texts = [_text(x) for x in values]
    step1 = {v: recode(v) for v in set(texts) if v is not None}
    coded = pd.Series([None if t is None else step1[t] for t in texts], dtype=object)
    cells = _families(coded, case_id)
    codes: dict[str, str | None] = {}
    for v, new in step1.items():
        if new is not None and cells.get(new, 0) < k:
            best = max(_items(new), key=lambda i: (items.get(i, 0), i))
            new = best if cells.get(best, 0) >= k else None
        if new != v:
            codes[v] = new
    return codes


def learn_category_codes(tables: dict[str, pd.DataFrame], k: int) -> CategoryCodes:
    """The codes of every categorical value fewer than ``k`` training families hold.

    Parameters
    ----------
    tables : dict of DataFrame
        ``cases``, ``adults``, ``children`` (training data; each has ``case_id``).
    k : int
        Least number of families a released category needs (``1`` codes nothing).
    """
    out: CategoryCodes = {}
    for table in DATA_TABLES:
        if table not in tables:
            continue
        df = tables[table]
        out[table] = {}
        for col, kind, nullable, open_vocab in coded_columns(table):
            if col not in df.columns:
                continue
            if kind == "list":
                codes = _list_codes(df[col], df["case_id"], k)
            else:
                fam = _families(df[col], df["case_id"])
                rare = sorted(v for v, n in fam.items() if n < k)
                codes = {}
                if rare:
                    common = max(fam, key=lambda v: (fam[v], v))
                    merged = sum(fam[v] for v in rare) + fam.get(OTHER, 0)
                    for v in rare:
                        if nullable:
                            codes[v] = None
                        elif open_vocab and merged >= k:
                            codes[v] = OTHER
                        else:
                            codes[v] = common
            if codes:
                out[table][col] = codes
    return out


def apply_category_codes(
    tables: dict[str, pd.DataFrame], codes: CategoryCodes
) -> dict[str, pd.DataFrame]:
    """``tables`` with every coded value replaced (copies; other columns untouched)."""
    out = dict(tables)
    for table, cols in codes.items():
        if table not in out or not cols:
            continue
        df = out[table].copy()
        for col, mapping in cols.items():
            if col not in df.columns:
                continue
            text = [_text(v) for v in df[col].to_numpy()]
            hit = np.array([t in mapping for t in text], dtype=bool)
            if not hit.any():
                continue
            if pd.api.types.is_bool_dtype(df[col].dtype) or str(df[col].dtype) == "boolean":
                flags = [None if h else v for v, h in zip(df[col].astype(object), hit, strict=True)]
                df[col] = pd.array(flags, dtype="boolean")  # a coded boolean is nullable
            else:
                values = df[col].astype(object).to_numpy()
                values[hit] = [mapping[str(t)] for t, h in zip(text, hit, strict=True) if h]
                df[col] = pd.Series(values, index=df.index, dtype=object)
        out[table] = df
    return out


def rare_categories(
    real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame], min_count: int
) -> list[str]:
    """Columns whose release holds a value (or, in a list column, an item) that fewer than
    ``min_count`` real families hold, as ``table.column (n value(s))``: names only, never
    the rare values."""
    out = []
    for table in DATA_TABLES:
        r, s = real[table], synthetic[table]
        for col, kind, _, _ in coded_columns(table):
            if col not in r.columns or col not in s.columns:
                continue
            fam = _families(r[col], r["case_id"])
            released = {t for t in map(_text, s[col]) if t is not None}
            rare = {v for v in released if 0 < fam.get(v, 0) < min_count}
            if kind == "list":
                items = _item_families(r[col], r["case_id"])
                rel_items = {i for v in released for i in _items(v)}
                rare |= {f"item:{i}" for i in rel_items if 0 < items.get(i, 0) < min_count}
            if rare:
                out.append(f"{table}.{col} ({len(rare)} value(s))")
    return out
