"""Statistical top/bottom-coding: a release never carries a real extreme that fewer than k
training records hold (hand-made data with planted outliers, hand-worked bounds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.dataset import ResearchData
from fdac_research.synth import BaseSynthesizer, CARTSynthesizer, rule_violations
from fdac_research.synth._enforce import enforce_rules, learn_conditionals, learn_tail_bounds
from fdac_research.synth._gate import ReleaseGateConfig, evaluate_gate
from fdac_research.synth._release import _extremes
from tests.synth._fake import fake_research
from tests.synth.test_metadata_rules import _tables
from tests.synth.test_release import Memoriser


@pytest.fixture(scope="module")
def outlier_research() -> ResearchData:
    """120 families; one adult with 40 convictions, every other 0..5; one case in 1995."""
    data = fake_research(120, seed=11)
    adults = data.adults.copy()
    adults["convictions"] = pd.array(
        np.minimum(adults["convictions"].fillna(0).to_numpy(dtype=int), 5), dtype="Int64"
    )
    adults.loc[7, "convictions"] = 40
    cases = data.cases.copy()
    cases.loc[3, "application_year"] = 1995  # every other year is 2016..2024
    return ResearchData(
        cases=cases,
        adults=adults,
        children=data.children,
        linkage_quality=data.linkage_quality,
    )


def _kth(values: pd.Series, k: int, largest: bool) -> float:
    x = np.sort(pd.to_numeric(values).dropna().to_numpy(dtype=float))
    return float(x[-k] if largest else x[k - 1])


def test_tail_bounds_are_the_kth_values_hand_worked() -> None:
    # sorted convictions 0 0 1 1 2 3 5 40: 3rd smallest 1, 3rd largest 3
    adults = pd.DataFrame({"convictions": [40, 0, 1, 5, 0, 2, 3, 1]})
    assert learn_tail_bounds({"adults": adults}, 3)["adults"]["convictions"] == (1.0, 3.0)
    # k = 1: the real minimum and maximum (no coding)
    assert learn_tail_bounds({"adults": adults}, 1)["adults"]["convictions"] == (0.0, 40.0)
    # 4 values, k = 3: bounds cross (3rd smallest 5 > 3rd largest 1), both the lower median 1
    few = pd.DataFrame({"convictions": [0, 1, 5, 40]})
    assert learn_tail_bounds({"adults": few}, 3)["adults"]["convictions"] == (1.0, 1.0)


@pytest.mark.parametrize("model", [CARTSynthesizer(seed=2), Memoriser()])
def test_release_max_is_below_a_lone_outlier(
    outlier_research: ResearchData, model: BaseSynthesizer
) -> None:
    out = model.fit(outlier_research).sample(seed=4)
    tenth = _kth(outlier_research.adults["convictions"], 10, largest=True)
    assert tenth <= 5
    assert out.adults["convictions"].max() < 40
    assert out.adults["convictions"].max() <= tenth
    # a year held by one case is bottom-coded to the 10th earliest year; years stay whole
    first = _kth(outlier_research.cases["application_year"], 10, largest=False)
    years = out.cases["application_year"]
    assert years.min() >= first > 1995
    assert years.max() <= _kth(outlier_research.cases["application_year"], 10, largest=True)
    assert str(years.dtype) == "Int64"
    dur = out.cases["duration_weeks"].dropna()
    assert dur.max() <= _kth(outlier_research.cases["duration_weeks"], 10, largest=True)
    assert rule_violations(out)["n_rows_violating"] == 0
    assert _extremes(outlier_research.tables(), out.tables(), 10) == []


def test_without_coding_the_memoriser_releases_the_outlier(outlier_research: ResearchData) -> None:
    out = Memoriser(min_tail_count=1).fit(outlier_research).sample(seed=4)
    assert out.adults["convictions"].max() == 40
    found = _extremes(outlier_research.tables(), out.tables(), 10)
    assert "adults.convictions (maximum)" in found
    assert "cases.application_year (minimum)" in found


def test_extremes_held_by_k_records_are_not_reported() -> None:
    # real: five adults at the maximum 3 and one at the minimum 0
    real = _tables()
    synth = _tables()
    real["adults"] = pd.concat([real["adults"]] * 2, ignore_index=True)
    real["adults"]["convictions"] = pd.array([0, 3, 3, 3, 3, 3], dtype="Int64")
    synth["adults"]["convictions"] = pd.array([0, 3, 3], dtype="Int64")
    found = _extremes(real, synth, 5)
    assert "adults.convictions (minimum)" in found  # 1 real record < 5
    assert "adults.convictions (maximum)" not in found  # 5 real records hold it
    assert "adults.convictions (maximum)" in _extremes(real, synth, 6)


def test_gate_refuses_a_rare_extreme() -> None:
    utility = {
        "pmse": {"cases": {"s_pmse": 1.0}},
        "quality": {"score": 0.99},
        "rules": {"row_violation_rate": 0.0},
        "key_validity": {"adults": 1.0},
        "fidelity": [],
    }
    privacy = {
        "exact_copies": {
            "synthetic": {"families": 0.0, "adults": 0.0},
            "holdout": {"families": 0.0, "adults": 0.0},
        },
        "real_extremes_reproduced": ["adults.convictions (maximum)"],
    }
    checks = {c.name: c for c in evaluate_gate(utility, privacy, ReleaseGateConfig())}
    assert not checks["rare_real_extremes"].passed
    assert "adults.convictions (maximum)" in checks["rare_real_extremes"].detail
    privacy["real_extremes_reproduced"] = []
    checks = {c.name: c for c in evaluate_gate(utility, privacy, ReleaseGateConfig())}
    assert checks["rare_real_extremes"].passed and all(c.passed for c in checks.values())


def test_repairs_stay_inside_the_codes() -> None:
    t = _tables()  # c1: mother 30, father 33, children 0 and 18; c2: mother 25, child 2
    t["adults"].loc[0, "age_at_application"] = 13  # mother of c1
    bounds = {
        "cases": {"n_children": (1.0, 1.0)},
        "adults": {"age_at_application": (10.0, 40.0)},
        "children": {"age_at_application": (3.0, 15.0)},
    }
    fixed = enforce_rules(t, learn_conditionals(_tables()), np.random.default_rng(0), bounds)
    a, k, c = fixed["adults"], fixed["children"], fixed["cases"]
    # the mother is raised to 12 + 3 (gap + the youngest age a child may have), so her
    # child need not go below 3; the father (33) is untouched
    assert a.set_index("person_id")["age_at_application"].to_dict() == {
        "a1": 15,
        "a2": 33,
        "a3": 25,
    }
    # c1 keeps its first child only (n_children top-coded at 1); ages 0 and 2 raised to 3
    assert c["n_children"].tolist() == [1, 1]
    assert k["person_id"].tolist() == ["k1", "k3"]
    assert k["age_at_application"].tolist() == [3, 3]
    assert rule_violations(fixed)["n_rows_violating"] == 0
    # a mother of 18 and a child of 17 (top-coded to 15): the child is lowered to
    # 18 - 12 = 6, never below the children's bottom code 3
    t = _tables()
    t["adults"].loc[0, "age_at_application"] = 18
    t["children"].loc[1, "age_at_application"] = 17
    bounds["cases"]["n_children"] = (0.0, 5.0)
    fixed = enforce_rules(t, learn_conditionals(_tables()), np.random.default_rng(0), bounds)
    ages = fixed["children"].set_index("person_id")["age_at_application"]
    assert ages.to_dict() == {"k1": 3, "k2": 6, "k3": 3}
    assert rule_violations(fixed)["n_rows_violating"] == 0


def test_too_few_children_drops_the_case() -> None:
    t = _tables()
    bounds = {"cases": {"n_children": (2.0, 3.0)}}  # c2 has one child
    fixed = enforce_rules(t, learn_conditionals(_tables()), np.random.default_rng(0), bounds)
    assert fixed["cases"]["case_id"].tolist() == ["c1"]
    assert set(fixed["adults"]["case_id"]) == {"c1"}
    assert set(fixed["children"]["case_id"]) == {"c1"}


def test_bad_min_tail_count_is_a_clear_error(outlier_research: ResearchData) -> None:
    with pytest.raises(ValueError, match="min_tail_count"):
        CARTSynthesizer(min_tail_count=0).fit(outlier_research)
