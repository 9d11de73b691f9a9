"""pMSE / S_pMSE (hand-worked values), interval overlap, children per case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.synth import children_per_case, interval_overlap, pmse


def _adults(sex: list[str]) -> pd.DataFrame:
    """Adults rows varying only in ``sex`` (every other column constant)."""
    n = len(sex)
    return pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "case_id": "c",
            "role": "mother",
            "sex": sex,
            "age_at_application": pd.array([30] * n, dtype="Int64"),
            "ethnicity": "White",
            "substances": "alcohol",
            "domestic_abuse": pd.array([True] * n, dtype="boolean"),
            "mental_health": pd.array([True] * n, dtype="boolean"),
            "prior_proceedings": pd.array([0] * n, dtype="Int64"),
            "convictions": pd.array([0] * n, dtype="Int64"),
            "hearings_attended_pct": [50.0] * n,
            "ceased_misuse": pd.array([True] * n, dtype="boolean"),
        }
    )


def test_pmse_hand_worked() -> None:
    # real F,F,M,M vs synthetic F,M,M,M; one binary variable, saturated logistic model:
    # p(F) = 1/3, p(M) = 3/5, c = 1/2, N = 8.
    # pMSE = (3 (1/3 - 1/2)^2 + 5 (3/5 - 1/2)^2) / 8 = (1/12 + 1/20) / 8 = 1/60
    # E[pMSE] = (k - 1)(1 - c)^2 c / N = 1 * 1/4 * 1/2 / 8 = 1/64 (Snoke et al. 2018)
    res = pmse(_adults(["F", "F", "M", "M"]), _adults(["F", "M", "M", "M"]), "adults")
    assert res["pmse"] == pytest.approx(1 / 60, rel=1e-6)
    assert res["expected_null_pmse"] == pytest.approx(1 / 64)
    assert res["s_pmse"] == pytest.approx(64 / 60, rel=1e-6)
    assert res["n_parameters"] == 2


def test_pmse_of_an_identical_copy_is_zero() -> None:
    df = _adults(["F", "M", "M", "F", "M"])
    assert pmse(df, df, "adults")["pmse"] == pytest.approx(0.0, abs=1e-12)


def test_s_pmse_of_two_samples_of_one_population_is_near_one() -> None:
    rng = np.random.default_rng(0)

    def draw(n: int) -> pd.DataFrame:
        df = _adults(list(rng.choice(["F", "M"], n)))
        df["ethnicity"] = rng.choice(["White", "Black", "Asian"], n)
        df["age_at_application"] = pd.array(rng.integers(18, 50, n), dtype="Int64")
        return df

    s = pmse(draw(1500), draw(1500), "adults")["s_pmse"]
    assert 0.3 < s < 3.0


def test_interval_overlap_known_values() -> None:
    # Karr et al. (2006): half the overlap relative to each interval's width, summed
    assert interval_overlap((0.0, 2.0), (1.0, 2.0)) == pytest.approx(0.5 * (0.5 + 1.0))
    assert interval_overlap((0.0, 1.0), (3.0, 4.0)) == 0.0


def test_children_per_case_is_top_coded() -> None:
    cases = pd.DataFrame({"case_id": ["a", "b", "c", "d"]})
    kids = pd.DataFrame({"case_id": ["a"] + ["b"] * 2 + ["c"] * 6})
    got = children_per_case({"cases": cases, "children": kids}, top=4)
    assert got == {"0": 0.25, "1": 0.25, "2": 0.25, "3": 0.0, "4+": 0.25}
