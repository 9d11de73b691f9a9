"""analysis_frame: joins, dropped outcomes, missing covariates, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from fdac_research.analysis import AnalysisError, analysis_frame, naive_contrast
from fdac_research.dataset import ResearchData


def _tiny() -> ResearchData:
    """Two cases; case A (fdac) has a mother with unknown age and two children (one open),
    case B (comparison) has no mother recorded and one child."""
    cases = pd.DataFrame(
        {
            "case_id": ["A", "B", "C"],
            "cohort": ["fdac", "comparison", "comparison"],
            "court": ["X", "Y", "Y"],
            "local_authority": ["L1", "L2", "L2"],
            "application_year": pd.array([2019, 2020, 2020], dtype="Int64"),
            "duration_weeks": [30.0, 40.0, 20.0],
            "n_children": pd.array([2, 1, 1], dtype="Int64"),
            "contested_final_hearing": pd.array([False, True, False], dtype="boolean"),
            "expert_witness": pd.array([False, True, True], dtype="boolean"),
        }
    )
    adults = pd.DataFrame(
        {
            "person_id": ["mA", "fA", "mC"],
            "case_id": ["A", "A", "C"],
            "role": ["mother", "father", "mother"],
            "sex": ["F", "M", "F"],
            "age_at_application": pd.array([None, 35, 29], dtype="Int64"),
            "ethnicity": ["White", None, "Black"],
            "substances": ["alcohol;heroin", None, "cannabis"],
            "domestic_abuse": pd.array([True, None, False], dtype="boolean"),
            "mental_health": pd.array([False, True, True], dtype="boolean"),
            "prior_proceedings": pd.array([1, 0, 0], dtype="Int64"),
            "convictions": pd.array([2, 5, 0], dtype="Int64"),
            "hearings_attended_pct": [80.0, 50.0, 90.0],
            "ceased_misuse": pd.array([True, None, False], dtype="boolean"),
        }
    )
    children = pd.DataFrame(
        {
            "person_id": ["k1", "k2", "k3", "k4"],
            "case_id": ["A", "A", "B", "C"],
            "sex": ["F", "M", "F", None],
            "age_at_application": pd.array([0, 6, 3, 12], dtype="Int64"),
            "ethnicity": ["White"] * 4,
            "final_order": [None] * 4,
            "placement_at_end": [None] * 4,
            "reunified": pd.array([True, None, False, False], dtype="boolean"),
            "returned_to_court_3y": pd.array([None] * 4, dtype="boolean"),
        }
    )
    return ResearchData(cases=cases, adults=adults, children=children)


def test_children_frame_joins_mother_and_drops_unknown() -> None:
    f = analysis_frame(_tiny(), "reunified")
    assert f.population == "children" and f.key == "reunified_children"
    assert f.n_dropped == 1  # k2 is open
    assert f.data["person_id"].tolist() == ["k1", "k3", "k4"]
    assert f.data["treated"].tolist() == [1, 0, 0]
    assert f.data["reunified"].tolist() == [1, 0, 0]
    assert f.cluster == "case_id" and f.n_clusters == 3
    d = f.data.set_index("person_id")
    # k1's mother mA: heroin yes, age missing -> filled with the observed median (29) + flag
    assert d.loc["k1", "mother_substance_opiates"] == 1.0
    assert d.loc["k1", "mother_age"] == 29.0 and d.loc["k1", "mother_age_missing"] == 1.0
    # case B has no mother: every mother covariate missing -> filled, flagged
    assert d.loc["k3", "mother_substances_missing"] == 1.0
    assert d.loc["k1", "child_infant"] == 1.0 and d.loc["k3", "child_infant"] == 0.0
    assert not f.data[list(f.covariates)].isna().any().any()
    assert any("dropped" in n and "unknown" in n for n in f.notes)


def test_mothers_frame_and_populations() -> None:
    research = _tiny()
    f = analysis_frame(research, "ceased_misuse")
    assert f.population == "mothers"
    assert f.data["person_id"].tolist() == ["mA", "mC"]
    assert f.data["ceased_misuse"].tolist() == [1, 0]
    assert analysis_frame(research, "ceased_misuse", "adults").n_dropped == 1  # the father
    with pytest.raises(AnalysisError, match="defined for population"):
        analysis_frame(research, "reunified", "mothers")
    with pytest.raises(AnalysisError, match="unknown outcome"):
        analysis_frame(research, "happiness")


def test_constant_and_collinear_covariates_dropped(simulated) -> None:
    f = analysis_frame(simulated.research, "reunified", "children")
    # the simulation records only alcohol, cannabis and heroin: other substance flags constant
    assert "mother_substance_cocaine" not in f.covariates
    assert any("mother_substance_cocaine: dropped (constant" in n for n in f.notes)
    X = f.X
    full = np.column_stack([np.ones(len(X)), X])
    assert np.linalg.matrix_rank(full) == full.shape[1]


def test_missing_columns_and_broken_keys_are_named() -> None:
    research = _tiny()
    bad = dataclasses.replace(research, cases=research.cases.drop(columns=["n_children"]))
    with pytest.raises(AnalysisError, match=r"'cases' is missing column\(s\) \['n_children'\]"):
        analysis_frame(bad, "reunified")
    bad = dataclasses.replace(research, children=research.children.drop(columns=["reunified"]))
    with pytest.raises(AnalysisError, match=r"'children' is missing column\(s\) \['reunified'\]"):
        analysis_frame(bad, "reunified")
    orphan = research.children.copy()
    orphan.loc[0, "case_id"] = "Z"
    with pytest.raises(AnalysisError, match="not in cases"):
        analysis_frame(dataclasses.replace(research, children=orphan), "reunified")
    with pytest.raises(AnalysisError, match="ResearchData"):
        analysis_frame(research.cases, "reunified")  # type: ignore[arg-type]


def test_no_known_outcomes_is_a_clear_error() -> None:
    research = _tiny()
    children = research.children.assign(reunified=pd.array([None] * 4, dtype="boolean"))
    with pytest.raises(AnalysisError, match=r"no rows with a known outcome.*4 dropped"):
        analysis_frame(dataclasses.replace(research, children=children), "reunified")
    one_arm = research.cases.assign(cohort="comparison")
    with pytest.raises(AnalysisError, match="no fdac"):
        analysis_frame(dataclasses.replace(research, cases=one_arm), "reunified")


def test_returned_to_court_and_boolean_covariates() -> None:
    research = _tiny()
    children = research.children.assign(
        returned_to_court_3y=pd.array([True, None, False, None], dtype="boolean")
    )
    f = analysis_frame(dataclasses.replace(research, children=children), "returned_to_court_3y")
    assert f.key == "returned_to_court_3y_children"
    assert f.data["person_id"].tolist() == ["k1", "k3"] and f.n_dropped == 2
    from fdac_research.analysis import AnalysisFrame

    df = pd.DataFrame(
        {
            "t": [1, 0, 1, 0],
            "y": [1, 0, 0, 1],
            "flag": pd.array([True, False, False, True], dtype="boolean"),
        }
    )
    frame = AnalysisFrame.from_dataframe(df, outcome="y", treatment="t", covariates=["flag"])
    assert frame.X[:, 0].tolist() == [1.0, 0.0, 0.0, 1.0]
    with pytest.raises(AnalysisError, match="not numeric"):
        AnalysisFrame.from_dataframe(
            df.assign(flag=["a", "b", "c", "d"]), outcome="y", treatment="t", covariates=["flag"]
        )


def test_a_familys_cases_are_one_cluster() -> None:
    """Cases A and C name one mother (the research build gives them one family_id): her
    children are one cluster, not two; without family_id the frame falls back to case_id and
    says so."""
    research = _tiny()
    cases = research.cases.assign(family_id=["F1", "F2", "F1"])
    f = analysis_frame(dataclasses.replace(research, cases=cases), "reunified")
    assert f.cluster == "family_id" and f.n_clusters == 2
    assert f.data.set_index("person_id")["family_id"].to_dict() == {
        "k1": "F1",
        "k3": "F2",
        "k4": "F1",
    }
    assert "clusters: family_id (2 families of 3 cases" in f.notes[1]
    old = analysis_frame(research, "reunified")
    assert old.cluster == "case_id" and old.n_clusters == 3
    assert any("has no family_id" in n for n in old.notes)
    gap = cases.astype({"family_id": object})
    gap.loc[1, "family_id"] = None
    with pytest.raises(AnalysisError, match=r"'family_id': 1 missing value.*case_id 'B'"):
        analysis_frame(dataclasses.replace(research, cases=gap), "reunified")


def test_family_clusters_change_the_cluster_robust_se() -> None:
    """Hand-worked. One child per case; FDAC cases A (reunified) and B (not), comparison
    cases C (not) and D (reunified); A and C are one mother's two cases. p1 = p0 = 1/2,
    P(t) = 1/2, so the influence functions of the risk difference, t (y - p1) / P(t) -
    (1 - t) (y - p0) / (1 - P(t)), are A +1, B -1, C +1, D -1. Clustered by case (G = n = 4,
    no correction): Var = (1 + 1 + 1 + 1) / 4^2 = 0.25, SE 0.5. Clustered by family ({A, C}
    sums to 2; B, D): Var = (4 + 1 + 1) / 16 * 3/2 = 0.5625, SE 0.75."""
    ids = ["A", "B", "C", "D"]
    cases = pd.DataFrame(
        {
            "case_id": ids,
            "cohort": ["fdac", "fdac", "comparison", "comparison"],
            "court": "X",
            "local_authority": "L",
            "application_year": pd.array([2019, 2020, 2021, 2020], dtype="Int64"),
            "n_children": pd.array([1, 1, 1, 1], dtype="Int64"),
            "family_id": ["A", "B", "A", "D"],
        }
    )
    adults = pd.DataFrame(
        {
            "person_id": [f"m{c}" for c in ids],
            "case_id": ids,
            "role": "mother",
            "sex": "F",
            "age_at_application": pd.array([30, 25, 32, 40], dtype="Int64"),
            "substances": "alcohol",
            "domestic_abuse": pd.array([True, False, True, False], dtype="boolean"),
            "mental_health": pd.array([False] * 4, dtype="boolean"),
            "prior_proceedings": pd.array([0, 0, 1, 0], dtype="Int64"),
            "convictions": pd.array([0] * 4, dtype="Int64"),
        }
    )
    children = pd.DataFrame(
        {
            "person_id": [f"k{c}" for c in ids],
            "case_id": ids,
            "sex": "F",
            "age_at_application": pd.array([0, 1, 0, 2], dtype="Int64"),
            "reunified": pd.array([True, False, False, True], dtype="boolean"),
        }
    )
    research = ResearchData(cases=cases, adults=adults, children=children)
    by_family = naive_contrast(analysis_frame(research, "reunified"))
    assert by_family.n_clusters == 3
    assert by_family.risk_difference.se == pytest.approx(0.75, abs=1e-12)
    by_case = naive_contrast(
        analysis_frame(
            dataclasses.replace(research, cases=cases.drop(columns="family_id")), "reunified"
        )
    )
    assert by_case.n_clusters == 4
    assert by_case.risk_difference.se == pytest.approx(0.5, abs=1e-12)
