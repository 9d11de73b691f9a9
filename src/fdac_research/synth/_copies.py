"""Exact copies of real records: rows (per table) and whole families (a case with its adults
and children), compared on every non-key contract column in contract text form; and the
family frame (one row per family, members in slots) on which near copies are measured."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fdac_research._io import to_contract_text
from fdac_research.synth._metadata import DATA_TABLES, column_specs

__all__ = [
    "row_text",
    "family_text",
    "exact_copy_mask",
    "sorted_unique",
    "contains_sorted",
    "exact_copy_rates",
    "family_slots",
    "family_frame",
]


def attribute_columns(table: str) -> list[str]:
    """The non-key contract columns of ``table`` (``n_children`` is derived; kept in)."""
    return [s.name for s in column_specs(table) if s.kind != "key"]


def row_text(df: pd.DataFrame, table: str) -> np.ndarray:
    """One string per row: its attribute values in contract text, ``|``-joined."""
    cols = attribute_columns(table)
    if df.empty:
        return np.array([], dtype=object)
    parts = [to_contract_text(df[c]).astype(str).to_numpy() for c in cols]
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = out + "|" + p
    return out


def family_text(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """One string per case: the case row plus its sorted adult and child rows."""
    cases = tables["cases"]
    text = pd.Series(row_text(cases, "cases"), index=cases["case_id"].to_numpy())
    for name in ("adults", "children"):
        df = tables[name]
        rows = pd.Series(row_text(df, name), index=df.index)
        joined = (
            pd.DataFrame({"case_id": df["case_id"].to_numpy(), "t": rows.to_numpy()})
            .sort_values(["case_id", "t"], kind="stable")
            .groupby("case_id", sort=False)["t"]
            .agg("#".join)
        )
        text = text + f"/{name}:" + joined.reindex(text.index).fillna("")
    return text


def exact_copy_mask(synthetic: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Whether each synthetic string occurs among the real ones."""
    return np.isin(synthetic, np.unique(real.astype(str))) if len(synthetic) else np.zeros(0, bool)


def sorted_unique(texts: np.ndarray) -> np.ndarray:
    """The distinct strings of ``texts``, sorted (the lookup table of
    :func:`contains_sorted`, made once per fit rather than once per lookup)."""
    return np.unique(np.asarray(texts).astype(str))


def contains_sorted(table: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Whether each string of ``texts`` occurs in ``table`` (from :func:`sorted_unique`),
    by binary search: ``O(m log n)`` for ``m`` lookups, with no sort of the table.

    >>> contains_sorted(sorted_unique(np.array(["b", "a", "b"])), np.array(["a", "c", "b"]))
    array([ True, False,  True])
    """
    x = np.asarray(texts).astype(str)
    if not len(x) or not len(table):
        return np.zeros(len(x), dtype=bool)
    idx = np.minimum(np.searchsorted(table, x), len(table) - 1)
    return np.asarray(table[idx] == x, dtype=bool)


def exact_copy_rates(
    synthetic: dict[str, pd.DataFrame], real: dict[str, pd.DataFrame]
) -> dict[str, float]:
    """Share of synthetic rows (per table) and families identical to a real one."""
    out = {}
    for name in DATA_TABLES:
        s = row_text(synthetic[name], name).astype(str)
        r = row_text(real[name], name).astype(str)
        out[name] = float(exact_copy_mask(s, r).mean()) if len(s) else 0.0
    fs = family_text(synthetic).to_numpy().astype(str)
    fr = family_text(real).to_numpy().astype(str)
    out["families"] = float(exact_copy_mask(fs, fr).mean()) if len(fs) else 0.0
    return out


def family_slots(*tables: dict[str, pd.DataFrame]) -> tuple[int, int]:
    """The most adults and the most children of any family in ``tables`` (at least 1)."""
    most = [1, 1]
    for t in tables:
        for k, name in enumerate(("adults", "children")):
            if len(t[name]):
                most[k] = max(most[k], int(t[name].groupby("case_id").size().max()))
    return most[0], most[1]


def family_frame(tables: dict[str, pd.DataFrame], n_adults: int, n_children: int) -> pd.DataFrame:
    """One row per family: the case's attributes, then its adults and its children in
    numbered slots (``a0_...``, ``c0_...``; adults by role and age, children by age and sex,
    ties by the other attributes), missing where a family has fewer members. Two families
    are close only when all of their members are."""
    cases = tables["cases"].set_index("case_id")
    out = cases[attribute_columns("cases")].copy()
    out.columns = [f"case_{c}" for c in out.columns]
    order = {
        "adults": ["role", "age_at_application", "sex"],
        "children": ["age_at_application", "sex"],
    }
    for name, n in (("adults", n_adults), ("children", n_children)):
        cols = attribute_columns(name)
        df = tables[name]
        keys = ["case_id", *order[name], *(c for c in cols if c not in order[name])]
        df = df.sort_values(keys, kind="stable", na_position="last")
        slot = df.groupby("case_id", sort=False).cumcount().to_numpy()
        for k in range(n):
            part = df[slot == k].set_index("case_id")[cols]
            part.columns = [f"{name[0]}{k}_{c}" for c in cols]
            out = out.join(part)
    return out.reset_index(drop=True)
