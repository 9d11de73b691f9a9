"""Cohort profile: who goes through FDAC and ordinary proceedings, as count tables.

Every table is a plain :class:`pandas.DataFrame` with one text column (the category) and one
integer count column per cohort (``fdac``, ``comparison``), ending with a total row
(:data:`TOTAL`) giving the number of units (cases, mothers, children) in each cohort. Only
integer counts are returned, so the whole table can go to the disclosure output check
(``fdac_research.risk``) as it is; percentages come afterwards from the *checked* (possibly
suppressed or rounded) counts with :func:`add_percentages`, so that no percentage carries
more precision than the published counts.

Multi-valued characteristics (substances) count a person once per substance, so their rows
can sum to more than the total; percentages are always of the total row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.analysis._errors import AnalysisError
from fdac_research.dataset import ResearchData
from fdac_research.refdata import SUBSTANCE_CATEGORIES, substance_categories

__all__ = [
    "as_check_table",
    "PROFILE_VARIABLES",
    "TOTAL",
    "NOT_RECORDED",
    "AGE_BANDS",
    "profile_table",
    "profile_tables",
    "add_percentages",
]

TOTAL = "total"
NOT_RECORDED = "not recorded"
COHORT_COLUMNS = ("fdac", "comparison")
#: Children's age bands of the DfE "Children looked after in England" statistics.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("under 1", 0, 0),
    ("1 to 4", 1, 4),
    ("5 to 9", 5, 9),
    ("10 to 15", 10, 15),
    ("16 and over", 16, 200),
)
#: Variable → (unit, description).
PROFILE_VARIABLES: dict[str, tuple[str, str]] = {
    "court": ("cases", "family court"),
    "local_authority": ("cases", "local authority"),
    "application_year": ("cases", "year the application was issued"),
    "n_children": ("cases", "children named in the case (4 or more grouped)"),
    "substances": ("adults", "substances misused, in categories (a person may have several)"),
    "domestic_abuse": ("adults", "domestic abuse recorded"),
    "mental_health": ("adults", "mental-health condition recorded"),
    "child_age_band": ("children", "child's age at application"),
}
_ADULT_UNITS = {
    "mothers": ("mother",),
    "fathers": ("father",),
    "parents": ("mother", "father"),
    "adults": schema.ADULT_ROLES,
}


def _require(df: pd.DataFrame, cols: Sequence[str], table: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise AnalysisError(f"research table {table!r} is missing column(s) {missing}")


def _counts(
    categories: pd.Series, cohort: pd.Series, order: Sequence[str], name: str
) -> pd.DataFrame:
    """Wide integer count table, categories in ``order`` (zero rows kept), total last."""
    frame = pd.DataFrame({"category": categories.to_numpy(), "cohort": cohort.to_numpy()})
    tab = pd.crosstab(frame["category"], frame["cohort"])
    tab = tab.reindex(index=list(order), columns=list(COHORT_COLUMNS), fill_value=0)
    out = tab.reset_index().rename(columns={"category": name})
    out.columns.name = None
    return out


def _with_total(table: pd.DataFrame, cohort: pd.Series, name: str) -> pd.DataFrame:
    totals = cohort.value_counts().reindex(list(COHORT_COLUMNS), fill_value=0)
    row = pd.DataFrame({name: [TOTAL], **{c: [int(totals[c])] for c in COHORT_COLUMNS}})
    out = pd.concat([table, row], ignore_index=True)
    for c in COHORT_COLUMNS:
        out[c] = out[c].astype(np.int64)
    out[name] = out[name].astype(str)
    return out


def _bool_category(values: pd.Series) -> pd.Series:
    return values.map({True: "yes", False: "no"}).astype(object).where(values.notna(), NOT_RECORDED)


def profile_table(
    research: ResearchData, variable: str, *, adults: str = "mothers"
) -> pd.DataFrame:
    """Counts of one characteristic by cohort.

    Parameters
    ----------
    research : ResearchData
    variable : str
        One of :data:`PROFILE_VARIABLES`.
    adults : {"mothers", "fathers", "parents", "adults"}
        Whose characteristics, for adult variables.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable``, ``fdac``, ``comparison`` (int64); last row :data:`TOTAL`.
        Missing values are a :data:`NOT_RECORDED` row (only when there are any).

    Examples
    --------
    See ``tests/analysis/test_profile.py`` for a hand-counted example.
    """
    if variable not in PROFILE_VARIABLES:
        raise AnalysisError(
            f"unknown profile variable {variable!r}; expected one of {list(PROFILE_VARIABLES)}"
        )
    if adults not in _ADULT_UNITS:
        raise AnalysisError(f"adults must be one of {list(_ADULT_UNITS)}, got {adults!r}")
    if not isinstance(research, ResearchData):
        raise AnalysisError(
            f"expected ResearchData (dataset.load_research), got {type(research).__name__}"
        )
    cases = research.cases
    _require(
        cases,
        ("case_id", "cohort", variable)
        if PROFILE_VARIABLES[variable][0] == "cases"
        else ("case_id", "cohort"),
        "cases",
    )
    cohort_of = cases.set_index("case_id")["cohort"]
    unit = PROFILE_VARIABLES[variable][0]
    if unit == "cases":
        values, cohort = cases[variable], cases["cohort"]
        if variable == "n_children":
            n = values.astype("Float64")
            cats = n.map(lambda v: "4 or more" if v >= 4 else str(int(v)), na_action="ignore")
            order = ["0", "1", "2", "3", "4 or more"]
            order = [o for o in order if o != "0" or (n == 0).any()]
        elif variable == "application_year":
            cats = values.astype("Int64").astype(str).where(values.notna())
            order = sorted(cats.dropna().unique())
        else:
            cats = values.astype(object)
            order = sorted(cats.dropna().astype(str).unique())
    elif unit == "children":
        ch = research.children
        _require(ch, ("case_id", "age_at_application"), "children")
        cohort = ch["case_id"].map(cohort_of)
        age = ch["age_at_application"].astype("Float64")
        cats = pd.Series(np.nan, index=ch.index, dtype=object)
        for label, lo, hi in AGE_BANDS:
            cats[(age >= lo).fillna(False) & (age <= hi).fillna(False)] = label
        cats = cats.where(age.notna())
        order = [b[0] for b in AGE_BANDS]
    else:
        ad = research.adults
        _require(ad, ("case_id", "role", variable), "adults")
        ad = ad[ad["role"].isin(_ADULT_UNITS[adults])]
        cohort = ad["case_id"].map(cohort_of)
        if variable == "substances":
            lists = substance_categories(ad["substances"]).categories
            exploded = pd.DataFrame({"s": lists, "cohort": cohort.to_numpy()}).explode("s")
            none = lists.map(len) == 0
            recorded = ad["substances"].notna()
            # a person with a recorded but empty list is impossible in the contract; an empty
            # cell means no linked substance-misuse record
            exploded = exploded.dropna(subset=["s"])
            cats_s = pd.concat(
                [exploded["s"], pd.Series(NOT_RECORDED, index=ad.index[none & ~recorded])]
            )
            coh_s = pd.concat([exploded["cohort"], cohort[none & ~recorded]])
            order = list(SUBSTANCE_CATEGORIES) + [NOT_RECORDED]
            table = _counts(
                cats_s.reset_index(drop=True), coh_s.reset_index(drop=True), order, variable
            )
            if (
                table.loc[table[variable] == NOT_RECORDED, list(COHORT_COLUMNS)].to_numpy().sum()
                == 0
            ):
                table = table[table[variable] != NOT_RECORDED]
            return _with_total(table.reset_index(drop=True), cohort, variable)
        cats = _bool_category(ad[variable].astype("boolean"))
        order = ["yes", "no"]
    cats = cats.astype(object).where(cats.notna(), NOT_RECORDED)
    if (cats == NOT_RECORDED).any():
        order = [*order, NOT_RECORDED] if NOT_RECORDED not in order else order
    unknown = cohort.isna()
    if unknown.any():
        raise AnalysisError(f"{int(unknown.sum())} {unit} row(s) have a case_id not in cases")
    table = _counts(cats, cohort, order, variable)
    return _with_total(table, cohort, variable)


def profile_tables(research: ResearchData, *, adults: str = "mothers") -> dict[str, pd.DataFrame]:
    """Every :data:`PROFILE_VARIABLES` table, by variable name, in a fixed order."""
    return {v: profile_table(research, v, adults=adults) for v in PROFILE_VARIABLES}


def as_check_table(table: pd.DataFrame) -> pd.DataFrame:
    """The interior cells of a profile table, as ``fdac_research.risk.check_table`` takes them.

    Category labels become the index, the :data:`TOTAL` row is dropped (the checker computes
    and publishes margins itself). For multi-valued variables (substances) the checker's
    margin is a count of mentions, not of people; publish the people total from a
    single-valued table of the same unit.
    """
    if not isinstance(table, pd.DataFrame) or table.shape[1] < 3:
        raise AnalysisError("expected a profile table (category, fdac, comparison)")
    name = table.columns[0]
    inner = table[table[name] != TOTAL]
    return inner.set_index(name)[list(COHORT_COLUMNS)].rename_axis(name)


def add_percentages(table: pd.DataFrame, *, decimals: int = 0) -> pd.DataFrame:
    """Add ``<cohort>_pct`` columns: each count as a percentage of its cohort's total row.

    Call this on the table **after** the disclosure check: suppressed cells (missing)
    stay missing, and rounded counts give percentages of the rounded counts. Percentages
    are rounded to ``decimals`` places (whole numbers by default).
    """
    if not isinstance(table, pd.DataFrame) or table.shape[1] < 3:
        raise AnalysisError("expected a profile table (category, fdac, comparison)")
    name = table.columns[0]
    missing = [c for c in COHORT_COLUMNS if c not in table.columns]
    if missing:
        raise AnalysisError(f"profile table is missing column(s) {missing}")
    total = table[table[name] == TOTAL]
    if len(total) != 1:
        raise AnalysisError(f"profile table needs exactly one {TOTAL!r} row in column {name!r}")
    out = table.copy()
    for c in COHORT_COLUMNS:
        denom = pd.to_numeric(total[c]).iloc[0]
        counts = pd.to_numeric(out[c], errors="coerce")
        pct = (100 * counts / denom).round(decimals) if denom and denom > 0 else counts * np.nan
        out[f"{c}_pct"] = pct
    return out[
        [
            name,
            "fdac",
            "fdac_pct",
            "comparison",
            "comparison_pct",
            *[c for c in table.columns[1:] if c not in COHORT_COLUMNS],
        ]
    ]
