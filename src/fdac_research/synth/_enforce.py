"""Enforce the contract's logical rules on synthetic tables (every model's output passes here).

Repairs are the smallest change that makes a row consistent: numbers clipped to the
*schema's* bounds, derived columns recomputed (``reunified`` from the placement,
``n_children`` from the child rows), a final order inconsistent with the placement redrawn
from the fitted P(order | placement), outcomes of open cases emptied, a child older than the
mother's age minus 12 brought down to it. The conditionals are learned from the training
data by :func:`learn_conditionals` and stay inside the fitted synthesizer (never released).

Statistical top- and bottom-coding
----------------------------------
Before any repair, every number is also clipped into ``[low_k, high_k]``, the k-th smallest
and k-th largest training value of its column (:func:`learn_tail_bounds`; the standard
statistical-disclosure-control rule, e.g. Hundepool et al. 2012, *Statistical Disclosure
Control*, Wiley, section 3.4.5), so a released minimum or maximum can equal the real one only
when at least ``k`` training records hold that value. The repairs keep to those bounds: a
mother is raised to no more than ``high_k`` and only as far as ``low_k`` of child ages plus
the gap needs, a child lowered no further than ``low_k``; ``n_children`` is derived from the
child rows, so a case's surplus children (beyond ``high_k``, last rows first) are dropped and a
case with fewer than ``low_k`` children is dropped with its adults. The bounds are real
values: they stay inside the fitted synthesizer and are never written out.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.synth._metadata import (
    COMPATIBLE_ORDERS,
    DATA_TABLES,
    MIN_MOTHER_CHILD_GAP,
    column_specs,
)

__all__ = [
    "learn_conditionals",
    "learn_tail_bounds",
    "enforce_rules",
    "relabel_keys",
    "DEFAULT_MIN_TAIL_COUNT",
    "TailBounds",
]

log = logging.getLogger(__name__)

#: Default k of the top/bottom-coding: a released extreme needs k real records holding it.
DEFAULT_MIN_TAIL_COUNT = 10
#: ``{table: {column: (low_k, high_k)}}`` for every numeric column of the data tables.
TailBounds = dict[str, dict[str, tuple[float, float]]]


def learn_conditionals(
    tables: dict[str, pd.DataFrame], exclude: dict[str, set[str]] | None = None
) -> dict[str, Any]:
    """P(placement) and P(final_order | placement) among closed cases, with every compatible
    order kept possible (add-one smoothing) so that a redraw never fails, except the
    categories in ``exclude`` (``{column: values}``, the rare categories coded away before
    synthesis), which a redraw never gives while another value is possible."""
    exclude = exclude or {}
    kids = tables["children"]
    place = kids["placement_at_end"].dropna()
    p_counts = place.value_counts()
    placements = _smoothed(p_counts, schema.PLACEMENTS, exclude.get("placement_at_end", set()))
    orders: dict[str, dict[str, float]] = {}
    for p, allowed in COMPATIBLE_ORDERS.items():
        sub = kids.loc[kids["placement_at_end"] == p, "final_order"].dropna()
        orders[p] = _smoothed(
            sub.value_counts(), sorted(allowed), exclude.get("final_order", set())
        )
    return {"placement": placements, "order_given_placement": orders}


def _smoothed(counts: pd.Series, values: Any, excluded: set[str]) -> dict[str, float]:
    """Add-one weights of ``values``; excluded values weigh 0 unless every value would."""
    w = {v: 0.0 if v in excluded else float(counts.get(v, 0)) + 1.0 for v in values}
    if not any(w.values()):
        w = {v: float(counts.get(v, 0)) + 1.0 for v in values}
    return w


def learn_tail_bounds(tables: dict[str, pd.DataFrame], k: int) -> TailBounds:
    """The k-th smallest and k-th largest value of every numeric column of the data tables.

    Parameters
    ----------
    tables : dict of DataFrame
        ``cases``, ``adults``, ``children`` (training data).
    k : int
        Tail count (``1`` keeps the real minimum and maximum: no coding).

    Returns
    -------
    dict
        ``{table: {column: (low_k, high_k)}}``. A column with fewer than ``2k`` values has
        crossing bounds; both become its lower median (every value is then rare). A column
        with no values is left out (nothing to clip).

    Examples
    --------
    >>> df = pd.DataFrame({"convictions": [0, 0, 1, 2, 40]})
    >>> b = learn_tail_bounds({"adults": df}, 2)
    >>> b["adults"]["convictions"]
    (0.0, 2.0)
    """
    out: TailBounds = {}
    for table in DATA_TABLES:
        if table not in tables:
            continue
        out[table] = {}
        for s in column_specs(table):
            if s.kind not in ("integer", "float") or s.name not in tables[table].columns:
                continue
            x = pd.to_numeric(tables[table][s.name], errors="coerce").astype(float).to_numpy()
            x = np.sort(x[np.isfinite(x)])
            n = len(x)
            if n == 0:
                continue
            lo, hi = float(x[min(k, n) - 1]), float(x[max(n - k, 0)])
            if lo > hi:
                lo = hi = float(x[(n - 1) // 2])
            out[table][s.name] = (lo, hi)
    return out


def _draw(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _clip_columns(
    df: pd.DataFrame, table: str, tails: dict[str, tuple[float, float]]
) -> pd.DataFrame:
    df = df.copy()
    for s in column_specs(table):
        if s.name not in df.columns or s.kind == "key":
            continue
        v = df[s.name]
        if s.kind in ("integer", "float"):
            x = pd.to_numeric(v, errors="coerce").astype(float)
            x = x.clip(lower=s.minimum, upper=s.maximum)
            if s.name in tails:
                x = x.clip(lower=tails[s.name][0], upper=tails[s.name][1])
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


def _children_within(
    cases: pd.DataFrame, adults: pd.DataFrame, kids: pd.DataFrame, bounds: tuple[float, float]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Children per case inside ``bounds``: surplus child rows dropped (a case keeps its
    first rows), cases with too few children dropped with their adults."""
    lo, hi = bounds
    pos = kids.groupby("case_id", sort=False).cumcount().to_numpy()
    surplus = pos >= hi
    if surplus.any():
        log.info("top-coding n_children at %g: dropping %d child rows", hi, int(surplus.sum()))
        kids = kids[~surplus].reset_index(drop=True)
    counts = kids["case_id"].value_counts().reindex(cases["case_id"]).fillna(0).to_numpy()
    few = counts < lo
    if few.any():
        log.info("bottom-coding n_children at %g: dropping %d cases", lo, int(few.sum()))
        gone = set(cases.loc[few, "case_id"])
        cases = cases[~few].reset_index(drop=True)
        adults = adults[~adults["case_id"].isin(gone)].reset_index(drop=True)
        kids = kids[~kids["case_id"].isin(gone)].reset_index(drop=True)
    return cases, adults, kids


def enforce_rules(
    tables: dict[str, pd.DataFrame],
    conditionals: dict[str, Any],
    rng: np.random.Generator,
    tail_bounds: TailBounds | None = None,
) -> dict[str, pd.DataFrame]:
    """Return copies of ``cases``/``adults``/``children`` that satisfy every rule.

    Orphan adults and children (a ``case_id`` not in ``cases``) are dropped; everything else
    is repaired in place as the module docstring describes. With ``tail_bounds`` (from
    :func:`learn_tail_bounds`) every number is top- and bottom-coded first, and no repair
    moves it back outside.
    """
    tails = tail_bounds or {}
    cases = _clip_columns(tables["cases"], "cases", tails.get("cases", {}))
    adults = _clip_columns(tables["adults"], "adults", tails.get("adults", {}))
    kids = _clip_columns(tables["children"], "children", tails.get("children", {}))
    ids = set(cases["case_id"])
    adults = adults[adults["case_id"].isin(ids)].reset_index(drop=True)
    kids = kids[kids["case_id"].isin(ids)].reset_index(drop=True)
    if "n_children" in tails.get("cases", {}):
        cases, adults, kids = _children_within(cases, adults, kids, tails["cases"]["n_children"])
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
    # a mother at least MIN_MOTHER_CHILD_GAP years older than each of her children: old
    # enough for the youngest age a child may have, never above the adults' top code
    k_lo, _ = tails.get("children", {}).get("age_at_application", (0.0, np.inf))
    _, a_hi = tails.get("adults", {}).get("age_at_application", (-np.inf, np.inf))
    floor = min(MIN_MOTHER_CHILD_GAP + max(k_lo, 0.0), a_hi)
    mothers = adults["role"] == "mother"
    young = mothers & (adults["age_at_application"] < floor)
    adults.loc[young, "age_at_application"] = int(np.ceil(floor))
    m_age = (
        adults[mothers & adults["age_at_application"].notna()]
        .groupby("case_id")["age_at_application"]
        .min()
        .astype(float)
    )
    cap = kids["case_id"].map(m_age).to_numpy(dtype=float) - MIN_MOTHER_CHILD_GAP
    age = kids["age_at_application"].to_numpy(dtype=float, na_value=np.nan)
    too_old = np.nan_to_num(age > cap, nan=False).astype(bool)
    age[too_old] = np.maximum(cap[too_old], max(k_lo, 0.0))
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
