"""Fixes: recoding, top/bottom coding and local suppression (hand-worked examples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.exceptions import ConfigError, ContractError
from fdac_research.risk import microdata_risk
from fdac_research.risk.fixes import local_suppression, recode_bands, recode_map, top_bottom_code


def test_age_bands_by_width_and_edges_hand_worked() -> None:
    df = pd.DataFrame({"age": [21, 23, 37, 38, np.nan], "sex": ["F", "F", "M", "M", "M"]})
    fix = recode_bands(df, ["age", "sex"], column="age", width=5)
    assert fix.data["age"].tolist()[:4] == ["20-24", "20-24", "35-39", "35-39"]
    assert pd.isna(fix.data["age"].iloc[4])
    fix = recode_bands(df, ["age", "sex"], column="age", edges=[16, 25, 35, np.inf])
    assert fix.data["age"].tolist()[:4] == ["16-24", "16-24", "35+", "35+"]
    # before: four uniques (the NaN row is its own key); after: only the NaN row is unique
    assert fix.before["n_sample_uniques"] == 5 and fix.after["n_sample_uniques"] == 1
    assert fix.information_loss["values_changed"] == {"age": 4}
    with pytest.raises(ContractError, match="band edges"):
        recode_bands(df, ["age"], column="age", edges=[30, 40])


def test_region_mapping_and_unmapped_error() -> None:
    df = pd.DataFrame({"la": ["Camden", "Islington", "Leeds"], "sex": ["F", "F", "F"]})
    region = {"Camden": "London", "Islington": "London", "Leeds": "Yorkshire"}
    fix = recode_map(df, ["la", "sex"], column="la", mapping=region)
    assert fix.data["la"].tolist() == ["London", "London", "Yorkshire"]
    assert fix.before["k_anonymity"] == 1 and fix.after["n_sample_uniques"] == 1
    with pytest.raises(ContractError, match="Leeds"):
        recode_map(df, ["la"], column="la", mapping={"Camden": "London", "Islington": "London"})


def test_top_bottom_coding_hand_worked() -> None:
    df = pd.DataFrame({"n": [0, 1, 2, 7, 9]})
    fix = top_bottom_code(df, ["n"], column="n", top=5, bottom=1)
    assert fix.data["n"].tolist() == [1, 1, 2, 5, 5]
    assert fix.before["n_sample_uniques"] == 5 and fix.after["n_sample_uniques"] == 1
    with pytest.raises(ConfigError):
        top_bottom_code(df, ["n"], column="n")


def test_local_suppression_reaches_k_with_one_suppression_per_violator() -> None:
    # hand-worked: (a, x) x3, (b, y) x3 are safe at k=3; (a, z) is unique. Suppressing its
    # second value makes it (a, *), which matches the three (a, x): fk = 4. One suppression.
    df = pd.DataFrame({"p": ["a"] * 3 + ["b"] * 3 + ["a"], "q": ["x"] * 3 + ["y"] * 3 + ["z"]})
    fix = local_suppression(df, ["p", "q"], k=3, importance=["p", "q"])
    assert fix.information_loss["total_suppressed"] == 1
    assert pd.isna(fix.data["q"].iloc[6]) and fix.data["p"].iloc[6] == "a"
    assert fix.after["k_anonymity"] >= 3


@pytest.mark.parametrize("seed", [0, 1])
def test_local_suppression_random_frames_are_k_anonymous(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    df = pd.DataFrame(
        {"a": rng.integers(0, 3, n), "b": rng.integers(0, 6, n), "c": rng.choice(list("uvwxyz"), n)}
    )
    df.index = rng.permutation(n) + 1000
    fix = local_suppression(df, ["a", "b", "c"], k=4)
    r = microdata_risk(fix.data, ["a", "b", "c"], missing="matches_any", suda=False)
    assert r.k_anonymity >= 4
    assert list(fix.data.index) == list(df.index)
    # only key values were touched, and never more than one per violating record per round
    assert fix.information_loss["total_suppressed"] <= 2 * fix.before["n_violating"]["5"]


def test_local_suppression_bad_arguments() -> None:
    df = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(ConfigError, match="larger than the number of records"):
        local_suppression(df, ["a"], k=3)
    with pytest.raises(ContractError, match="'b'"):
        local_suppression(df, ["b"], k=2)


def test_local_suppression_does_not_suppress_both_of_a_pair() -> None:
    # hand-worked: (a, x) and (a, y) are unique at k = 2. Suppressing y's partner value once
    # makes (a, *) match the other record, so one suppression is enough, not two.
    df = pd.DataFrame({"p": ["a", "a", "b", "b"], "q": ["x", "y", "z", "z"]})
    fix = local_suppression(df, ["p", "q"], k=2, importance=["p", "q"])
    assert fix.information_loss["total_suppressed"] == 1
    assert fix.after["k_anonymity"] >= 2
