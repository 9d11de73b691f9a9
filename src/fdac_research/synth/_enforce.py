"""Enforce the contract's logical rules on synthetic tables (every model's output passes here).

Repairs are the smallest change that makes a row consistent: numbers clipped to the
*schema's* bounds, derived columns recomputed (``reunified`` from the placement,
``n_children`` from the child rows), a final order inconsistent with the placement redrawn
from the fitted P(order | placement), outcomes of open cases emptied, a child older than the
mother's age minus 12 brought down to it. The conditionals are learned from the training
data by :func:`learn_conditionals` and stay inside the fitted synthesizer (never released).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.synth._metadata import (
    COMPATIBLE_ORDERS,
    MIN_MOTHER_CHILD_GAP,
    column_specs,
)

__all__ = ["learn_conditionals", "enforce_rules", "relabel_keys"]


def learn_conditionals(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """P(placement) and P(final_order | placement) among closed cases, with every compatible
    order kept possible (add-one smoothing) so that a redraw never fails."""
    kids = tables["children"]
    place = kids["placement_at_end"].dropna()
    p_counts = place.value_counts()
    placements = {p: float(p_counts.get(p, 0)) + 1.0 for p in schema.PLACEMENTS}
    orders: dict[str, dict[str, float]] = {}
    for p, allowed in COMPATIBLE_ORDERS.items():
        sub = kids.loc[kids["placement_at_end"] == p, "final_order"].dropna()
        counts = sub.value_counts()
        orders[p] = {o: float(counts.get(o, 0)) + 1.0 for o in sorted(allowed)}
    return {"placement": placements, "order_given_placement": orders}


def _draw(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _clip_columns(df: pd.DataFrame, table: str) -> pd.DataFrame:
    df = df.copy()
    for s in column_specs(table):
        if s.name not in df.columns or s.kind == "key":
            continue
        v = df[s.name]
        if s.kind in ("integer", "float"):
            x = pd.to_numeric(v, errors="coerce").astype(float)
            x = x.clip(lower=s.minimum, upper=s.maximum)
            if s.kind == "integer":
                df[s.name] = x.round().astype("Int64")
            else:
                df[s.name] = x.round(1)
        elif s.kind == "boolean":
            df[s.name] = v.astype("boolean")
        else:
            v = v.astype(object).where(v.notna(), np.nan)
            if s.allowed is not None:
                v = v.where(v.isin(s.allowed), np.nan)
            df[s.name] = v
    return df


def enforce_rules(
    tables: dict[str, pd.DataFrame], conditionals: dict[str, Any], rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """Return copies of ``cases``/``adults``/``children`` that satisfy every rule.

    Orphan adults and children (a ``case_id`` not in ``cases``) are dropped; everything else
    is repaired in place as the module docstring describes.
    """
    cases = _clip_columns(tables["cases"], "cases")
    adults = _clip_columns(tables["adults"], "adults")
    kids = _clip_columns(tables["children"], "children")
    ids = set(cases["case_id"])
    adults = adults[adults["case_id"].isin(ids)].reset_index(drop=True)
    kids = kids[kids["case_id"].isin(ids)].reset_index(drop=True)
    # non-nullable categories (role) and parents' sex
    role = adults["role"]
    if role.isna().any():
        adults.loc[role.isna(), "role"] = "other_carer"
    adults.loc[(adults["role"] == "mother") & adults["sex"].notna(), "sex"] = "F"
    adults.loc[(adults["role"] == "father") & adults["sex"].notna(), "sex"] = "M"
    # open cases: no outcomes
    open_ids = set(cases.loc[cases["duration_weeks"].isna(), "case_id"])
    c_open = cases["case_id"].isin(open_ids)
    cases.loc[c_open, ["contested_final_hearing", "expert_witness"]] = pd.NA
    k_open = kids["case_id"].isin(open_ids).to_numpy()
    kids.loc[k_open, ["final_order", "placement_at_end", "returned_to_court_3y"]] = np.nan
    # closed cases: a placement and a consistent order
    place = kids["placement_at_end"].to_numpy(dtype=object)
    need = ~k_open & pd.isna(place)
    if need.any():
        place[need] = _draw(rng, conditionals["placement"], int(need.sum()))
    kids["placement_at_end"] = place
    order = kids["final_order"].to_numpy(dtype=object)
    for p, weights in conditionals["order_given_placement"].items():
        bad = (place == p) & ~np.isin(order, list(COMPATIBLE_ORDERS[p]))
        if bad.any():
            order[bad] = _draw(rng, weights, int(bad.sum()))
    kids["final_order"] = order
    kids["reunified"] = pd.array(np.where(k_open, None, place == "parent"), dtype="boolean")  # type: ignore[call-overload]
    # a mother at least MIN_MOTHER_CHILD_GAP years older than each of her children
    mothers = adults["role"] == "mother"
    young = mothers & (adults["age_at_application"] < MIN_MOTHER_CHILD_GAP)
    adults.loc[young, "age_at_application"] = MIN_MOTHER_CHILD_GAP
    m_age = (
        adults[mothers & adults["age_at_application"].notna()]
        .groupby("case_id")["age_at_application"]
        .min()
        .astype(float)
    )
    cap = kids["case_id"].map(m_age).to_numpy(dtype=float) - MIN_MOTHER_CHILD_GAP
    age = kids["age_at_application"].to_numpy(dtype=float, na_value=np.nan)
    too_old = np.nan_to_num(age > cap, nan=False).astype(bool)
    age[too_old] = np.maximum(cap[too_old], 0)
    ages: Any = np.where(np.isnan(age), None, np.round(age))  # type: ignore[call-overload]
    kids["age_at_application"] = pd.array(ages, dtype="Int64")
    # derived count
    counts = kids["case_id"].value_counts()
    cases["n_children"] = pd.array(
        counts.reindex(cases["case_id"]).fillna(0).astype(int).to_numpy(), dtype="Int64"
    )
    return {"cases": cases, "adults": adults, "children": kids}


def relabel_keys(tables: dict[str, pd.DataFrame], prefix: str = "syn") -> dict[str, pd.DataFrame]:
    """Replace every key by a fresh synthetic one (``syn-c000001`` ...) in a fixed order."""
    cases = tables["cases"].reset_index(drop=True).copy()
    width = max(6, len(str(len(cases))))
    new = {old: f"{prefix}-c{i + 1:0{width}d}" for i, old in enumerate(cases["case_id"])}
    cases["case_id"] = cases["case_id"].map(new)
    out = {"cases": cases}
    for name, letter in (("adults", "a"), ("children", "k")):
        df = tables[name].copy()
        df["case_id"] = df["case_id"].map(new)
        order = pd.Series(range(len(cases)), index=cases["case_id"])
        df = df.assign(_o=df["case_id"].map(order).to_numpy())
        df = df.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
        w = max(6, len(str(len(df))))
        df["person_id"] = [f"{prefix}-{letter}{i + 1:0{w}d}" for i in range(len(df))]
        out[name] = df
    return out
