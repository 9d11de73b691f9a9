"""Known-answer tests for microdata risk against sdcMicro's published test suite and
hand-worked examples (each test says where its numbers come from)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fdac_research.exceptions import ConfigError, ContractError
from fdac_research.risk import individual_risk, microdata_risk

# sdcMicro tests/testthat/test_indivRisk.R: sample_Data <- array(c(...), dim = c(8, 3))
A = [2, 3, 2, 2, 3, 3, 1, 2]
B = [3, 3, 3, 3, 3, 3, 4, 3]
C = [1, 3, 1, 2, 1, 1, 1, 1]
W = [18.0, 45.5, 39.0, 17.0, 92.0, 8.0, 123.5, 51]


def test_individual_risk_weighted_matches_sdcmicro_test_suite() -> None:
    # sdcMicro test_indivRisk.R, "data frame with weight, method = approx, qual = default"
    expected = [
        0.01369863,
        0.08579129,
        0.01369863,
        0.17707583,
        0.01877883,
        0.01877883,
        0.03931625,
        0.01369863,
    ]
    df = pd.DataFrame({"A": A, "B": B, "C": C, "w": W})
    r = microdata_risk(df, ["A", "B", "C"], weight="w")
    np.testing.assert_allclose(r.records["risk"], expected, atol=5e-9)
    # fk and Fk by hand: key (2,3,1) is rows 1, 3, 8 with weights 18 + 39 + 51
    assert r.records["fk"].tolist() == [3, 1, 3, 1, 2, 2, 1, 3]
    assert r.records["Fk"].iloc[0] == pytest.approx(108.0)
    # global risk: sum and mean of the individual risks (sdcMicro measure_risk definition)
    assert r.expected_reidentifications == pytest.approx(sum(expected), abs=1e-7)
    assert r.global_risk == pytest.approx(sum(expected) / 8, abs=1e-8)


def test_individual_risk_unweighted_is_one_over_fk() -> None:
    # sdcMicro test_indivRisk.R, non-weighted: 0.33333, 1, 0.33333, 1, 0.5, 0.5, 1, 0.33333
    df = pd.DataFrame({"A": A, "B": B, "C": C})
    r = microdata_risk(df, ["A", "B", "C"])
    np.testing.assert_allclose(r.records["risk"], [1 / 3, 1, 1 / 3, 1, 0.5, 0.5, 1, 1 / 3])
    assert r.k_anonymity == 1
    # hand count: fk = 3,1,3,1,2,2,1,3
    assert r.n_violating == {2: 3, 3: 5, 5: 8}
    assert r.n_sample_uniques == 3


def test_missing_matches_any_weighted_matches_sdcmicro_test_suite() -> None:
    # sdcMicro test_indivRisk.R "with missing / weighted / approx / qual = default" (9 d.p.)
    a = [2, 3, 2, 2, 3, 3, 1, np.nan]
    c = [1, 3, np.nan, 2, 1, 1, np.nan, 1]
    df = pd.DataFrame({"A": a, "B": B, "C": c, "w": W})
    r = microdata_risk(df, ["A", "B", "C"], weight="w", missing="matches_any")
    expected = [
        0.013698630,
        0.085791288,
        0.010554090,
        0.032466112,
        0.009836066,
        0.009836066,
        0.039316254,
        0.005973716,
    ]
    np.testing.assert_allclose(r.records["risk"], expected, atol=5e-10)
    # survey = FALSE in the same file gives 1/fk = 0.33333 1 0.25 0.5 0.33333 0.33333 1 0.2
    assert r.records["fk"].tolist() == [3, 1, 4, 2, 3, 3, 1, 5]


def test_missing_own_category_hand_worked() -> None:
    # hand-worked: with NaN as its own category rows 1 and 2 match, row 3 is unique
    df = pd.DataFrame({"sex": [np.nan, np.nan, "F"], "age": [30, 30, 30]})
    r = microdata_risk(df, ["sex", "age"])
    assert r.records["fk"].tolist() == [2, 2, 1]
    # matches_any: the NaN rows match row 3 too, and row 3 matches both
    r2 = microdata_risk(df, ["sex", "age"], missing="matches_any")
    assert r2.records["fk"].tolist() == [3, 3, 3]


def test_exact_formulas_for_fk_1_2_and_more_hand_worked() -> None:
    # Franconi & Polettini (2004) approximations as coded in sdcMicro indivRisk
    p1, p2, p3 = 1 / 50, 2 / 40, 4 / 30
    r = individual_risk(np.array([1.0, 2.0, 4.0, 5.0]), np.array([50.0, 40.0, 30.0, 5.0]))
    assert r[0] == pytest.approx(p1 / (1 - p1) * math.log(1 / p1))
    assert r[1] == pytest.approx(p2 / (1 - p2) - (p2 / (1 - p2)) ** 2 * math.log(1 / p2))
    assert r[2] == pytest.approx(p3 / (4 - (1 - p3)))
    assert r[3] == pytest.approx(1 / 5)  # Fk == fk: the sample is the population


SUDA_GUIDELINE = pd.DataFrame(
    {
        "Residence": [
            "Urban",
            "Urban",
            "Urban",
            "Urban",
            "Rural",
            "Urban",
            "Urban",
            "Urban",
            "Urban",
            "Urban",
        ],
        "Gender": [
            "Female",
            "Female",
            "Female",
            "Male",
            "Female",
            "Male",
            "Female",
            "Male",
            "Female",
            "Female",
        ],
        "Education": [
            "Secondary incomplete",
            "Secondary incomplete",
            "Primary incomplete",
            "Secondary complete",
            "Secondary complete",
            "Secondary complete",
            "Primary complete",
            "Post-secondary",
            "Secondary incomplete",
            "Secondary incomplete",
        ],
        "Labor": [
            "Employed",
            "Employed",
            "Non-LF",
            "Employed",
            "Unemployed",
            "Employed",
            "Non-LF",
            "Unemployed",
            "Non-LF",
            "Non-LF",
        ],
    }
)


def test_suda_scores_match_sdcmicro_guideline_example() -> None:
    # sdcMicro tests/testthat/test_suda2.R "suda2 sdc guideline": 0,0,6,0,12,0,6,10,0,0
    r = microdata_risk(SUDA_GUIDELINE, list(SUDA_GUIDELINE.columns))
    assert r.records["suda_score"].tolist() == [0, 0, 6, 0, 12, 0, 6, 10, 0, 0]


def test_dis_suda_hand_worked_from_sdcmicro_formula() -> None:
    # Hand-worked with the DIS formula of sdcMicro src/Suda2.h: M = 4 so Q = 1 + 4/20 = 1.2;
    # sample uniques U = rows 3,5,7,8; records in pairs P = rows 1,2 / 4,6 / 9,10 = 6;
    # U/Dis - U = P (1 - f) / f = 6 * 0.99 / 0.01 = 594; scores 6, 12, 6, 10.
    adj = 2 * 6**-1.2 + 12**-1.2 + 10**-1.2
    r = microdata_risk(SUDA_GUIDELINE, list(SUDA_GUIDELINE.columns))
    dis = r.records["dis_suda_score"].to_numpy()
    assert dis[4] == pytest.approx(1 / (1 + 594 / (12**1.2 * adj)), rel=1e-9)
    assert dis[7] == pytest.approx(1 / (1 + 594 / (10**1.2 * adj)), rel=1e-9)
    assert dis[0] == 0.0


def test_suda_book_example_and_contributions() -> None:
    # sdcMicro test_suda2.R "suda2 book example": scores[5:8] == 4, 2, 6, 8
    tab = pd.DataFrame(
        {
            "age": ["20s"] * 7 + ["60s"],
            "gender": ["male"] * 4 + ["female"] * 3 + ["male"],
            "income": ["50k+", "50k+"] + ["50k-"] * 6,
            "education": ["highschool"] * 4
            + ["university", "highschool", "middleschool", "university"],
        }
    )
    r = microdata_risk(tab, list(tab.columns))
    assert r.records["suda_score"].tolist()[4:] == [4, 2, 6, 8]
    # sdcMicro test_suda2.R "simple example contribution": 50, 37.5, 37.5 (any column order)
    d = pd.DataFrame({"c": [0, 6, 0], "a": [2, 1, 1], "b": [0, 3, 0]})
    contrib = microdata_risk(d, ["c", "a", "b"]).suda["contribution_percent"]
    assert contrib == {"c": 37.5, "a": 50.0, "b": 37.5}


def test_ldiversity_matches_sdcmicro_test_suite_and_entropy_by_hand() -> None:
    # sdcMicro tests/testthat/test_ldiversity.R: distinct l-diversity 3,3,3,2,2,2,2
    d = pd.DataFrame(
        {
            "sex": ["female", "female", "female", "male", "male", "female", "female"],
            "occupation": [None, None, None, "teacher", "teacher", "nurse", "nurse"],
            "ethnicity": ["other", "other", "other", "other", "other", "majority", "majority"],
            "sensitive": [1, 0, 2, 1, 0, 0, 1],
        }
    )
    r = microdata_risk(d, ["sex", "occupation", "ethnicity"], sensitive="sensitive")
    assert r.records["l_distinct_sensitive"].tolist() == [3, 3, 3, 2, 2, 2, 2]
    # entropy l-diversity = exp(entropy): 3 equally likely values -> 3; two -> 2
    np.testing.assert_allclose(r.records["l_entropy_sensitive"], [3, 3, 3, 2, 2, 2, 2])
    assert r.l_diversity["sensitive"] == {"distinct": 2.0, "entropy": pytest.approx(2.0)}


def test_entropy_ldiversity_unequal_by_hand() -> None:
    # one group with values a, a, a, b: exp(-(3/4 ln 3/4 + 1/4 ln 1/4)) = 1.7548...
    d = pd.DataFrame({"k": [1, 1, 1, 1], "s": ["a", "a", "a", "b"]})
    r = microdata_risk(d, ["k"], sensitive=["s"])
    expected = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert r.records["l_entropy_s"].iloc[0] == pytest.approx(expected)


def test_family_risk_is_one_minus_product() -> None:
    # hand-worked: family f1 has risks 1/2, 1/2 -> 1 - 1/4 = 0.75; f2 has one record 1/1
    d = pd.DataFrame({"k": ["a", "a", "b"], "fam": ["f1", "f1", "f2"]})
    r = microdata_risk(d, ["k"], family="fam")
    assert r.records["family_risk"].tolist() == [0.75, 0.75, 1.0]
    assert r.family is not None and r.family["expected_families_reidentified"] == pytest.approx(
        1.75
    )


def test_families_are_counted_as_present_not_as_categories() -> None:
    # a categorical family id listing 5 categories of which 2 hold records: 2 families
    fam = pd.Categorical(["f1", "f1", "f2"], categories=["f0", "f1", "f2", "f3", "f4"])
    d = pd.DataFrame({"k": ["a", "a", "b"], "fam": fam})
    r = microdata_risk(d, ["k"], family="fam")
    assert r.family is not None and r.family["n_families"] == 2
    assert r.records["family_risk"].tolist() == [0.75, 0.75, 1.0]


def test_attack_models_hand_worked() -> None:
    d = pd.DataFrame({"k": ["a", "a", "b"] + ["c"] * 6})
    r = microdata_risk(d, ["k"])
    assert r.prosecutor["highest_risk"] == 1.0
    # risks 1/2, 1/2, 1 exceed 0.2; the six c records (1/6) do not
    assert r.prosecutor["records_at_risk"] == pytest.approx(3 / 9)
    # marketer: number of key groups / n = 3 / 9
    assert r.marketer["prosecutor_marketer_risk"] == pytest.approx(3 / 9)


@pytest.mark.parametrize("kind", ["category", "string", "object", "int"])
def test_any_dtype_and_index_gives_the_same_answer(kind: str) -> None:
    base = pd.DataFrame({"x": [1, 1, 2, 3, 3, 3], "y": [5, 5, 5, 6, 6, 7]})
    df = base.copy()
    if kind != "int":
        df = df.astype(str).astype(kind)
    df.index = [10, 3, 99, -1, 7, 7]  # duplicated, unsorted index
    r = microdata_risk(df, ["x", "y"])
    assert r.records["fk"].tolist() == [2, 2, 1, 2, 2, 1]
    assert list(r.records.index) == list(df.index)


def test_bad_input_errors_name_the_problem() -> None:
    df = pd.DataFrame({"a": [1, 2], "w": [1.0, 0.0]})
    with pytest.raises(ContractError, match="'nope'"):
        microdata_risk(df, ["a", "nope"])
    with pytest.raises(ContractError, match="empty"):
        microdata_risk(df.iloc[:0], ["a"])
    with pytest.raises(ContractError, match="positive"):
        microdata_risk(df, ["a"], weight="w")
    with pytest.raises(ConfigError, match="missing"):
        microdata_risk(df, ["a"], missing="drop")  # type: ignore[arg-type]
    with pytest.raises(ContractError, match="sensitive"):
        microdata_risk(df, ["a"], sensitive="zzz")


def _naive_suda(df: pd.DataFrame) -> list[float]:
    """Independent brute-force SUDA: enumerate every subset, test uniqueness and minimality."""
    import itertools

    cols = list(df.columns)
    m = max(len(cols), 3)
    rows = [tuple(r) for r in df.itertuples(index=False)]
    scores = []
    for i, r in enumerate(rows):
        uniq = {}
        for size in range(1, len(cols) + 1):
            for s in itertools.combinations(range(len(cols)), size):
                if any(pd.isna(r[j]) for j in s):
                    uniq[s] = False
                    continue
                same = sum(all(o[j] == r[j] for j in s) for o in rows)
                uniq[s] = same == 1
        score = 0.0
        for s, u in uniq.items():
            subs = [tuple(x for x in s if x != v) for v in s]
            if u and all(not uniq.get(p, False) for p in subs if p):
                score += math.factorial(m - len(s))
        scores.append(score)
        del i
    return scores


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_suda_agrees_with_brute_force_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 2, n),
            "b": rng.integers(0, 3, n),
            "c": rng.integers(0, 4, n),
            "d": rng.choice(["x", "y", "z", "w", "v"], n),
            "e": rng.integers(0, 2, n).astype(float),
        }
    )
    if seed % 2:
        df.loc[rng.choice(n, 5, replace=False), "c"] = np.nan
    r = microdata_risk(df, list(df.columns))
    assert r.records["suda_score"].tolist() == _naive_suda(df)


def test_suda_max_size_limits_msus_and_many_qis_need_it() -> None:
    # with MSUs up to size 1 only, the guideline example keeps the one-variable MSUs:
    # Primary incomplete (row 3), Rural (row 5), Primary complete (row 7) and
    # Post-secondary (row 8) are unique values; each weighs (4 - 1)! = 6
    r = microdata_risk(SUDA_GUIDELINE, list(SUDA_GUIDELINE.columns), suda_max_size=1)
    assert r.records["suda_score"].tolist() == [0, 0, 6, 0, 6, 0, 6, 6, 0, 0]
    wide = pd.DataFrame({f"c{i}": [0, 1, 0, 1] for i in range(13)})
    with pytest.raises(ConfigError, match="suda_max_size"):
        microdata_risk(wide, list(wide.columns))
    assert microdata_risk(wide, list(wide.columns), suda_max_size=2).k_anonymity == 2


def test_suda_bit_packed_path_gives_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    import fdac_research.risk._suda as suda_mod

    rng = np.random.default_rng(11)
    df = pd.DataFrame(
        {c: rng.integers(0, k, 300) for c, k in zip("abcdef", [2, 3, 4, 5, 6, 8], strict=True)}
    )
    fast = microdata_risk(df, list(df.columns)).records["suda_score"].to_numpy()
    monkeypatch.setattr(suda_mod, "FLAG_BYTES", 0)
    packed = microdata_risk(df, list(df.columns)).records["suda_score"].to_numpy()
    np.testing.assert_array_equal(fast, packed)
    assert fast.sum() > 0


def test_exact_method_matches_sdcmicro_test_suite() -> None:
    # sdcMicro test_indivRisk.R, "method = exact, qual = default, survey = TRUE"
    df = pd.DataFrame({"A": A, "B": B, "C": C, "w": W})
    r = microdata_risk(df, ["A", "B", "C"], weight="w", method="exact")
    expected = [
        0.01355297,
        0.08579129,
        0.01355297,
        0.17707583,
        0.01877883,
        0.01877883,
        0.03931625,
        0.01355297,
    ]
    np.testing.assert_allclose(r.records["risk"], expected, atol=5e-9)
    # with missing values (fk = 4 and 5 exercise the alternating series), 9 decimals
    a = [2, 3, 2, 2, 3, 3, 1, np.nan]
    c = [1, 3, np.nan, 2, 1, 1, np.nan, 1]
    df2 = pd.DataFrame({"A": a, "B": B, "C": c, "w": W})
    r2 = microdata_risk(df2, ["A", "B", "C"], weight="w", missing="matches_any", method="exact")
    expected2 = [
        0.013552968,
        0.085791288,
        0.010504889,
        0.032466112,
        0.009756889,
        0.009756889,
        0.039316254,
        0.005962551,
    ]
    np.testing.assert_allclose(r2.records["risk"], expected2, atol=5e-10)


@pytest.mark.parametrize("kind", ["object", "string", "category"])
def test_nullable_dtypes_with_missing_hand_worked(kind: str) -> None:
    # rows: (a,1,T) (a,1,T) (NA,2,NA) (NA,2,NA) (b,NA,F)
    df = pd.DataFrame(
        {
            "x": pd.Series(["a", "a", None, None, "b"]).astype(kind),
            "y": pd.array([1, 1, 2, 2, None], dtype="Int64"),
            "z": pd.array([True, True, None, None, False], dtype="boolean"),
        }
    )
    own = microdata_risk(df, ["x", "y", "z"])
    assert own.records["fk"].tolist() == [2, 2, 2, 2, 1]
    # matches anything: row 5 (b, NA, F) agrees with rows 3 and 4 wherever both are observed
    anyv = microdata_risk(df, ["x", "y", "z"], missing="matches_any")
    assert anyv.records["fk"].tolist() == [2, 2, 3, 3, 3]
    # SUDA of row 5: x = b and z = F are unique values, each (3 - 1)! = 2; y is missing
    assert own.records["suda_score"].tolist() == [0, 0, 0, 0, 4]
