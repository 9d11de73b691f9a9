"""Cohort profile tables: hand-counted small research data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.analysis import (
    PROFILE_VARIABLES,
    TOTAL,
    AnalysisError,
    add_percentages,
    as_check_table,
    profile_table,
    profile_tables,
)
from fdac_research.dataset import ResearchData


@pytest.fixture()
def research() -> ResearchData:
    """4 cases: F1, F2 fdac (court X), C1, C2 comparison (courts X, Y)."""
    cases = pd.DataFrame(
        {
            "case_id": ["F1", "F2", "C1", "C2"],
            "cohort": ["fdac", "fdac", "comparison", "comparison"],
            "court": ["X", "X", "X", "Y"],
            "local_authority": ["L1", "L2", "L1", "L1"],
            "application_year": pd.array([2019, 2020, 2020, 2020], dtype="Int64"),
            "duration_weeks": [30.0, None, 20.0, 50.0],
            "n_children": pd.array([1, 5, 2, 1], dtype="Int64"),
            "contested_final_hearing": pd.array([False, None, True, True], dtype="boolean"),
            "expert_witness": pd.array([False, None, True, True], dtype="boolean"),
        }
    )
    adults = pd.DataFrame(
        {
            "person_id": ["m1", "m2", "m3", "f1", "m4"],
            "case_id": ["F1", "F2", "C1", "C1", "C2"],
            "role": ["mother", "mother", "mother", "father", "mother"],
            "sex": ["F", "F", "F", "M", "F"],
            "age_at_application": pd.array([25, 30, 28, 33, 40], dtype="Int64"),
            "ethnicity": [None] * 5,
            "substances": ["alcohol;heroin", "alcohol", None, "cocaine", "heroin;crack"],
            "domestic_abuse": pd.array([True, False, None, True, True], dtype="boolean"),
            "mental_health": pd.array([True, True, False, False, False], dtype="boolean"),
            "prior_proceedings": pd.array([0, 1, 0, 0, 2], dtype="Int64"),
            "convictions": pd.array([0, 0, 1, 3, 0], dtype="Int64"),
            "hearings_attended_pct": [np.nan] * 5,
            "ceased_misuse": pd.array([True, False, None, None, False], dtype="boolean"),
        }
    )
    children = pd.DataFrame(
        {
            "person_id": [f"k{i}" for i in range(9)],
            "case_id": ["F1", "F2", "F2", "F2", "F2", "F2", "C1", "C1", "C2"],
            "sex": ["F"] * 9,
            "age_at_application": pd.array([0, 1, 4, 5, 9, 10, 15, 16, None], dtype="Int64"),
            "ethnicity": [None] * 9,
            "final_order": [None] * 9,
            "placement_at_end": [None] * 9,
            "reunified": pd.array([None] * 9, dtype="boolean"),
            "returned_to_court_3y": pd.array([None] * 9, dtype="boolean"),
        }
    )
    return ResearchData(cases=cases, adults=adults, children=children)


def _rows(table: pd.DataFrame) -> dict[str, tuple[int, int]]:
    name = table.columns[0]
    return {r[name]: (r["fdac"], r["comparison"]) for _, r in table.iterrows()}


def test_case_level_tables(research) -> None:
    court = profile_table(research, "court")
    assert list(court.columns) == ["court", "fdac", "comparison"]
    assert _rows(court) == {"X": (2, 1), "Y": (0, 1), TOTAL: (2, 2)}
    assert court["fdac"].dtype == np.int64 and court["comparison"].dtype == np.int64
    assert _rows(profile_table(research, "application_year")) == {
        "2019": (1, 0),
        "2020": (1, 2),
        TOTAL: (2, 2),
    }
    # n_children: 1, 5 (-> "4 or more"), 2, 1
    assert _rows(profile_table(research, "n_children")) == {
        "1": (1, 1),
        "2": (0, 1),
        "3": (0, 0),
        "4 or more": (1, 0),
        TOTAL: (2, 2),
    }


def test_adult_tables(research) -> None:
    # mothers: m1 (F) alcohol+heroin, m2 (F) alcohol, m3 (C) not recorded, m4 (C) heroin+crack
    subs = _rows(profile_table(research, "substances"))
    assert subs["alcohol"] == (2, 0)
    assert subs["opiates"] == (1, 1)
    assert subs["crack"] == (0, 1)
    assert subs["cocaine"] == (0, 0)  # the father's cocaine is not counted for mothers
    assert subs["not recorded"] == (0, 1)
    assert subs[TOTAL] == (2, 2)
    parents = _rows(profile_table(research, "substances", adults="parents"))
    assert parents["cocaine"] == (0, 1) and parents[TOTAL] == (2, 3)
    da = _rows(profile_table(research, "domestic_abuse"))
    assert da == {"yes": (1, 1), "no": (1, 0), "not recorded": (0, 1), TOTAL: (2, 2)}
    assert "not recorded" not in _rows(profile_table(research, "mental_health"))


def test_child_age_bands(research) -> None:
    # ages F: 0 | 1, 4, 5, 9, 10; C: 15, 16, missing
    bands = _rows(profile_table(research, "child_age_band"))
    assert bands == {
        "under 1": (1, 0),
        "1 to 4": (2, 0),
        "5 to 9": (2, 0),
        "10 to 15": (1, 1),
        "16 and over": (0, 1),
        "not recorded": (0, 1),
        TOTAL: (6, 3),
    }


def test_all_tables_integer_only(research) -> None:
    tables = profile_tables(research)
    assert list(tables) == list(PROFILE_VARIABLES)
    for t in tables.values():
        assert t.iloc[-1, 0] == TOTAL
        assert set(t.dtypes.iloc[1:]) == {np.dtype("int64")}


def test_percentages_after_suppression(research) -> None:
    table = profile_table(research, "court").astype({"fdac": "Int64", "comparison": "Int64"})
    table.loc[table["court"] == "Y", "comparison"] = pd.NA  # as if suppressed by the output check
    pct = add_percentages(table)
    assert list(pct.columns) == ["court", "fdac", "fdac_pct", "comparison", "comparison_pct"]
    row = pct.set_index("court")
    assert row.loc["X", "fdac_pct"] == 100 and row.loc["X", "comparison_pct"] == 50
    assert pd.isna(row.loc["Y", "comparison_pct"])
    with pytest.raises(AnalysisError, match="total"):
        add_percentages(table[table["court"] != TOTAL])


def test_errors(research) -> None:
    with pytest.raises(AnalysisError, match="unknown profile variable"):
        profile_table(research, "shoe_size")
    with pytest.raises(AnalysisError, match="adults must be"):
        profile_table(research, "substances", adults="cousins")
    bad = ResearchData(
        cases=research.cases.drop(columns=["court"]),
        adults=research.adults,
        children=research.children,
    )
    with pytest.raises(AnalysisError, match=r"missing column\(s\) \['court'\]"):
        profile_table(bad, "court")


def test_tables_go_through_the_output_check(research) -> None:
    # integration with fdac_research.risk: the court table has cells of 0, 1 and 2, all below
    # any UK threshold, so the checker must suppress them; interior only, no total row
    from fdac_research.risk import check_table

    inner = as_check_table(profile_table(research, "court"))
    assert list(inner.index) == ["X", "Y"] and list(inner.columns) == ["fdac", "comparison"]
    result = check_table(inner)
    assert not result.passes
    assert ("X", "fdac", "threshold") in result.unsafe_cells()
