"""Metadata of the research dataset for synthesis, derived from the package schema only, and
the contract's logical rules: checked (violation rates) and enforced on synthetic output.

Nothing here is learned from the real data's values: bounds come from
:mod:`fdac_research.schema` (never the real minimum or maximum), so neither the metadata nor
the clipping of synthetic values can disclose a real extreme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.dataset import ResearchData
from fdac_research.exceptions import ContractError, Problem

__all__ = [
    "DATA_TABLES",
    "ColumnSpec",
    "column_specs",
    "synth_columns",
    "NOT_SYNTHESISED",
    "sdv_metadata_dict",
    "RULES",
    "COMPATIBLE_ORDERS",
    "rule_violations",
    "prepare_research",
]

#: The person-level tables synthesised (``linkage_quality`` is aggregate and handled apart).
DATA_TABLES = ("cases", "adults", "children")
#: Minimum gap in years between a mother and her child.
MIN_MOTHER_CHILD_GAP = 12

#: Final orders consistent with each placement at the end of proceedings (England and Wales:
#: a child at home is under a supervision or child arrangements order or no order; kinship
#: carers hold a special guardianship or child arrangements order, or foster under a care
#: order; adoption needs a placement order; foster and other placements a care order).
COMPATIBLE_ORDERS: dict[str, frozenset[str]] = {
    "parent": frozenset({"supervision_order", "child_arrangements_order", "no_order"}),
    "kinship": frozenset({"special_guardianship_order", "child_arrangements_order", "care_order"}),
    "foster": frozenset({"care_order"}),
    "adoption": frozenset({"placement_order"}),
    "other": frozenset({"care_order"}),
}

#: The logical rules checked on every release: name -> (table, description).
RULES: dict[str, tuple[str, str]] = {
    "allowed_values": ("all", "categories are allowed values of the schema"),
    "bounds": ("all", "numbers lie within the schema bounds (e.g. duration_weeks >= 0, ages)"),
    "integers": ("all", "integer columns hold whole numbers"),
    "not_null": ("all", "non-nullable columns are filled"),
    "n_children_matches": ("cases", "n_children equals the case's number of child rows"),
    "child_younger_than_mother": (
        "children",
        f"a child is at least {MIN_MOTHER_CHILD_GAP} years younger than the case's mother",
    ),
    "reunified_matches_placement": (
        "children",
        "reunified is true exactly when placement_at_end is 'parent' (both empty together)",
    ),
    "order_matches_placement": (
        "children",
        "final_order is consistent with placement_at_end (COMPATIBLE_ORDERS)",
    ),
    "outcome_empty_iff_open": (
        "children",
        "final_order and placement_at_end are empty exactly when the case is open",
    ),
    "no_outcome_while_open": (
        "all",
        "returned_to_court_3y, contested_final_hearing, expert_witness empty while open",
    ),
    "parent_sex": ("adults", "a mother is recorded F and a father M (when sex is recorded)"),
    "foreign_keys": ("all", "every adult and child belongs to a case in cases"),
}


@dataclass(frozen=True)
class ColumnSpec:
    """How a contract column is synthesised (derived from :mod:`fdac_research.schema`).

    Attributes
    ----------
    table, name : str
        Where the column is.
    kind : {"key", "categorical", "boolean", "integer", "float"}
        Synthesis type (``list`` and free ``str`` columns are categorical).
    nullable : bool
        Whether the contract allows empty cells.
    minimum, maximum : float or None
        The schema's bounds (never the data's).
    allowed : tuple of str or None
        The schema's allowed values (``None`` for free text such as ``court``).
    """

    table: str
    name: str
    kind: str
    nullable: bool
    minimum: float | None
    maximum: float | None
    allowed: tuple[str, ...] | None


_KIND = {
    "str": "categorical",
    "category": "categorical",
    "list": "categorical",
    "bool": "boolean",
    "int": "integer",
    "float": "float",
}


#: Optional research columns the synthesizers do not release (yet): the evaluation's
#: negative control, the pseudonymous person and family ids that join cases (a release
#: must not say which synthetic cases are one family's), and the time to a later case with
#: its follow-up (the survival analysis runs on real data only for now). A release leaves
#: them out (they are optional in the contract).
NOT_SYNTHESISED = frozenset(
    {
        "child_protection_plans",
        "individual_id",
        "family_id",
        "years_to_later_case",
        "follow_up_years",
    }
)


def synth_columns(table: str) -> list[str]:
    """The research columns of ``table`` a synthetic release holds, in contract order."""
    return [c for c in schema.RESEARCH.table(table).names if c not in NOT_SYNTHESISED]


def column_specs(table: str) -> list[ColumnSpec]:
    """The :class:`ColumnSpec` of every released contract column of ``table``, in contract
    order (:func:`synth_columns`)."""
    t = schema.RESEARCH.table(table)
    out = []
    for c in (c for c in t.columns if c.name not in NOT_SYNTHESISED):
        kind = "key" if "key" in c.roles else _KIND.get(c.kind, "categorical")
        allowed = c.allowed if c.kind == "category" else None
        out.append(ColumnSpec(table, c.name, kind, c.nullable, c.minimum, c.maximum, allowed))
    return out


def sdv_metadata_dict() -> dict[str, Any]:
    """SDV 2.0 multi-table metadata (``Metadata.load_from_dict``) built from the schema.

    Numbers are ``numerical``, booleans ``boolean``,
    categories, lists and free text ``categorical``, keys ``id``. No value range is given:
    SDV learns none here because the synthesizers are created with
    ``enforce_min_max_values=False`` and the schema bounds are applied afterwards.
    """
    tables: dict[str, Any] = {}
    for name in DATA_TABLES:
        cols: dict[str, Any] = {}
        for s in column_specs(name):
            if s.kind == "key":
                cols[s.name] = {"sdtype": "id"}
            elif s.kind == "boolean":
                cols[s.name] = {"sdtype": "boolean"}
            elif s.kind in ("integer", "float"):
                cols[s.name] = {"sdtype": "numerical"}
            else:
                cols[s.name] = {"sdtype": "categorical"}
        table = schema.RESEARCH.table(name)
        tables[name] = {"columns": cols, "primary_key": table.primary_key}
    relationships = [
        {
            "parent_table_name": fk.parent,
            "parent_primary_key": fk.parent_column,
            "child_table_name": child,
            "child_foreign_key": fk.column,
        }
        for child in ("adults", "children")
        for fk in schema.RESEARCH.table(child).foreign_keys
    ]
    return {"METADATA_SPEC_VERSION": "V1", "tables": tables, "relationships": relationships}


def prepare_research(research: ResearchData) -> dict[str, pd.DataFrame]:
    """The contract columns of the three data tables, checked for synthesis.

    Raises
    ------
    ContractError
        Naming every missing table or column, empty table, duplicate key or orphan row.
    """
    if not isinstance(research, ResearchData):
        raise TypeError(
            f"expected a fdac_research.dataset.ResearchData, got {type(research).__name__}; "
            "load a folder with dataset.load_research"
        )
    problems: list[Problem] = []
    out: dict[str, pd.DataFrame] = {}
    for name in DATA_TABLES:
        df = getattr(research, name, None)
        file = f"{name}.csv"
        if not isinstance(df, pd.DataFrame):
            problems.append(Problem(file, None, None, None, "a data frame"))
            continue
        table = schema.RESEARCH.table(name)
        names = synth_columns(name)
        missing = [c for c in table.required_names if c not in df.columns]
        for c in missing:
            problems.append(Problem(file, c, None, None, f"required column '{c}'"))
        if df.empty:
            problems.append(Problem(file, None, None, None, "at least one row"))
        if missing or df.empty:
            continue
        key = schema.RESEARCH.table(name).primary_key
        dup = df[key].duplicated()
        if dup.any():
            problems.append(
                Problem(file, key, None, str(df[key][dup].iloc[0]), "unique keys", int(dup.sum()))
            )
        out[name] = df[names].reset_index(drop=True)
    cases = getattr(research, "cases", None)
    if isinstance(cases, pd.DataFrame) and "case_id" in cases.columns:
        ids = set(cases["case_id"])
        for name in ("adults", "children"):
            if name in out:
                orphan = ~out[name]["case_id"].isin(ids)
                if orphan.any():
                    problems.append(
                        Problem(
                            f"{name}.csv",
                            "case_id",
                            None,
                            str(out[name]["case_id"][orphan].iloc[0]),
                            "a case_id present in cases.csv",
                            int(orphan.sum()),
                        )
                    )
    if problems:
        raise ContractError("research data given to the synthesizer", problems)
    return out


# --- rule checks --------------------------------------------------------------------------
def _open_cases(cases: pd.DataFrame) -> set[Any]:
    return set(cases.loc[cases["duration_weeks"].isna(), "case_id"])


def _mother_age(cases: pd.DataFrame, adults: pd.DataFrame) -> pd.Series:
    m = adults[(adults["role"] == "mother") & adults["age_at_application"].notna()]
    return m.groupby("case_id")["age_at_application"].min().astype(float)


def _per_table_checks(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, np.ndarray]]:
    """``{rule: {table: boolean violation mask}}`` for the column-wise rules."""
    out: dict[str, dict[str, np.ndarray]] = {
        r: {} for r in ("allowed_values", "bounds", "integers", "not_null")
    }
    for name, df in tables.items():
        n = len(df)
        masks = {r: np.zeros(n, dtype=bool) for r in out}
        for s in column_specs(name):
            if s.name not in df.columns:
                continue
            v = df[s.name]
            na = v.isna().to_numpy()
            if not s.nullable:
                masks["not_null"] |= na
            if s.allowed is not None:
                masks["allowed_values"] |= ~na & ~v.isin(s.allowed).to_numpy()
            if s.kind in ("integer", "float"):
                x = pd.to_numeric(v, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                bad = np.zeros(n, dtype=bool)
                if s.minimum is not None:
                    bad |= x < s.minimum
                if s.maximum is not None:
                    bad |= x > s.maximum
                masks["bounds"] |= bad & ~na
                if s.kind == "integer":
                    masks["integers"] |= ~na & (np.round(x) != x)
        for r in out:
            out[r][name] = masks[r]
    return out


def rule_violations(tables: dict[str, pd.DataFrame] | ResearchData) -> dict[str, Any]:
    """Check every rule of :data:`RULES` and return violation counts and rates.

    Parameters
    ----------
    tables : ResearchData or dict of DataFrame
        ``cases``, ``adults`` and ``children``.

    Returns
    -------
    dict
        ``{"rules": {rule: {"table", "description", "n_checked", "n_violations", "rate"}},
        "n_rows": rows of all tables, "n_rows_violating": rows breaking any rule,
        "row_violation_rate": their share}``.
    """
    if isinstance(tables, ResearchData):
        tables = {n: getattr(tables, n) for n in DATA_TABLES}
    cases, adults, children = tables["cases"], tables["adults"], tables["children"]
    masks: dict[str, dict[str, np.ndarray]] = _per_table_checks(tables)
    opened = _open_cases(cases)
    k_open = children["case_id"].isin(opened).to_numpy()
    counts = children["case_id"].value_counts()
    n_kids = counts.reindex(cases["case_id"]).fillna(0).to_numpy()
    nc = pd.to_numeric(cases["n_children"], errors="coerce").to_numpy(dtype=float, na_value=-1)
    masks["n_children_matches"] = {"cases": nc != n_kids}
    m_age = _mother_age(cases, adults).reindex(children["case_id"]).to_numpy()
    k_age = children["age_at_application"].to_numpy(dtype=float, na_value=np.nan)
    masks["child_younger_than_mother"] = {
        "children": np.nan_to_num(k_age > m_age - MIN_MOTHER_CHILD_GAP, nan=False).astype(bool)
    }
    place = children["placement_at_end"]
    reun = children["reunified"]
    expect = place == "parent"
    masks["reunified_matches_placement"] = {
        "children": (
            (place.isna() != reun.isna())
            | (reun.notna() & (reun.astype("boolean").fillna(False) != expect))
        ).to_numpy(dtype=bool)
    }
    order = children["final_order"]
    ok = [
        (p not in COMPATIBLE_ORDERS) or (o in COMPATIBLE_ORDERS[p])
        for p, o in zip(place.fillna(""), order.fillna(""), strict=True)
    ]
    both = place.notna().to_numpy() & order.notna().to_numpy()
    masks["order_matches_placement"] = {"children": both & ~np.array(ok, dtype=bool)}
    has_out = order.notna().to_numpy() | place.notna().to_numpy()
    all_out = order.notna().to_numpy() & place.notna().to_numpy()
    masks["outcome_empty_iff_open"] = {"children": np.where(k_open, has_out, ~all_out)}
    c_open = cases["case_id"].isin(opened).to_numpy()
    masks["no_outcome_while_open"] = {
        "children": k_open & children["returned_to_court_3y"].notna().to_numpy(),
        "cases": c_open
        & (
            cases["contested_final_hearing"].notna().to_numpy()
            | cases["expert_witness"].notna().to_numpy()
        ),
    }
    role, sex = adults["role"], adults["sex"]
    masks["parent_sex"] = {
        "adults": (((role == "mother") & (sex == "M")) | ((role == "father") & (sex == "F")))
        .fillna(False)
        .to_numpy(dtype=bool)
    }
    ids = set(cases["case_id"])
    masks["foreign_keys"] = {
        "adults": ~adults["case_id"].isin(ids).to_numpy(),
        "children": ~children["case_id"].isin(ids).to_numpy(),
    }
    rules: dict[str, Any] = {}
    any_bad = {n: np.zeros(len(df), dtype=bool) for n, df in tables.items()}
    for rule, per_table in masks.items():
        n_checked = sum(len(m) for m in per_table.values())
        n_bad = int(sum(int(m.sum()) for m in per_table.values()))
        for n, m in per_table.items():
            any_bad[n] |= m
        rules[rule] = {
            "table": RULES[rule][0],
            "description": RULES[rule][1],
            "n_checked": int(n_checked),
            "n_violations": n_bad,
            "rate": n_bad / n_checked if n_checked else 0.0,
        }
    n_rows = int(sum(len(df) for df in tables.values()))
    n_bad_rows = int(sum(int(m.sum()) for m in any_bad.values()))
    return {
        "rules": rules,
        "n_rows": n_rows,
        "n_rows_violating": n_bad_rows,
        "row_violation_rate": n_bad_rows / n_rows if n_rows else 0.0,
    }
