"""Synthetic-data privacy: distances and anonymeter-style attacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.exceptions import ConfigError, ContractError
from fdac_research.risk._distance import encode_all, nearest
from fdac_research.risk.synthetic import distance_metrics, synthetic_privacy, wilson

QI = ["sex", "age", "eth", "la"]


def _frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "age": rng.integers(18, 60, n),
            "eth": rng.choice(list("ABCDE"), n),
            "la": rng.choice([f"la{i}" for i in range(20)], n),
            "drug": rng.choice(["alcohol", "heroin", "cocaine"], n),
        }
    )


def test_wilson_interval_textbook_values() -> None:
    # Hand-worked Wilson (1927) interval, z = 1.96: p = 0.8, n = 10, den = 1 + z^2/n = 1.38416,
    # centre = (0.8 + 0.19208) / den = 0.71674, half = z sqrt(0.016 + 0.009604) / den = 0.22658
    # -> (0.4902, 0.9433)
    r = wilson(8, 10)
    assert r.lower == pytest.approx(0.4902, abs=1e-4)
    assert r.upper == pytest.approx(0.9433, abs=1e-4)
    # 0 in 10: centre = half = 0.19208 / 1.38416 = 0.13877 -> upper 0.2775
    assert wilson(0, 10).upper == pytest.approx(0.2775, abs=1e-4)


def test_gower_distance_hand_worked() -> None:
    ref = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    q = pd.DataFrame({"x": [5.0], "c": ["b"]})
    r, qq = encode_all(["x", "c"], ref, q)
    d, idx = nearest(r, qq, 2, k=2)
    # to (10, b): |5 - 10| / 10 = 0.5, same category 0 -> 0.25; to (0, a): (0.5 + 1) / 2 = 0.75
    assert d[0].tolist() == pytest.approx([0.25, 0.75])
    assert idx[0].tolist() == [1, 0]


def test_copy_of_training_data_is_flagged_and_independent_data_is_not() -> None:
    rng = np.random.default_rng(3)
    real, holdout, fresh = _frame(600, rng), _frame(600, rng), _frame(600, rng)
    leak = synthetic_privacy(
        real, holdout, real.copy(), quasi_identifiers=QI, secret="drug", n_attacks=300, seed=5
    )
    safe = synthetic_privacy(
        real, holdout, fresh, quasi_identifiers=QI, secret="drug", n_attacks=300, seed=5
    )
    assert leak.distances["exact_copies_synthetic"] == 1.0
    assert leak.distances["share_closer_to_train"] > 0.9
    assert safe.distances["overfitting_protection"] > 0.9
    assert leak.singling_out is not None and safe.singling_out is not None
    assert leak.singling_out.risk["lower"] > 0.5
    assert safe.singling_out.risk["lower"] < 0.05 < leak.singling_out.risk["value"]
    assert leak.inference["drug"].risk["lower"] > 0.3
    assert (
        safe.inference["drug"].risk["lower"] <= 0.0 <= safe.inference["drug"].risk["upper"] + 0.05
    )


def test_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(4)
    real, holdout, syn = _frame(200, rng), _frame(200, rng), _frame(200, rng)
    a = synthetic_privacy(
        real, holdout, syn, quasi_identifiers=QI, secret="drug", n_attacks=100, seed=9
    )
    b = synthetic_privacy(
        real, holdout, syn, quasi_identifiers=QI, secret="drug", n_attacks=100, seed=9
    )
    assert a.to_dict() == b.to_dict()


def test_distance_metrics_mixed_types_with_missing() -> None:
    rng = np.random.default_rng(5)
    real, holdout, syn = _frame(50, rng), _frame(50, rng), _frame(50, rng)
    real.loc[real.index[:5], "age"] = np.nan
    syn["sex"] = syn["sex"].astype("category")
    d = distance_metrics(real, holdout, syn, QI)
    assert 0.0 <= d["share_closer_to_train"] <= 1.0
    assert d["dcr_synthetic_to_train"]["median"] >= 0.0


def test_bad_inputs() -> None:
    rng = np.random.default_rng(6)
    real = _frame(20, rng)
    with pytest.raises(ContractError, match="nope"):
        synthetic_privacy(real, real, real, quasi_identifiers=["nope"])
    with pytest.raises(ContractError, match="empty"):
        synthetic_privacy(real, real.iloc[:0], real, quasi_identifiers=QI)
    with pytest.raises(ConfigError, match="n_attacks"):
        synthetic_privacy(real, real, real, quasi_identifiers=QI, n_attacks=0)


def test_missing_equals_only_missing_and_unseen_categories_differ() -> None:
    # Hand-worked Gower distances over 3 columns (sex, la, age; age range 30..50 in the
    # training data): each column contributes 0 or 1, numbers |a - b| / 20.
    train = pd.DataFrame({"sex": ["F", "F"], "la": [None, "LA1"], "age": [30.0, 50.0]})
    queries = pd.DataFrame(
        {
            "sex": ["F", "F", "F", "F"],
            "la": ["LA99", None, "LA98", None],
            "age": [30.0, 30.0, 50.0, np.nan],
        }
    )
    r, q = encode_all(["sex", "la", "age"], train, queries)
    d, idx = nearest(r, q, 3, k=2)
    # (F, LA99, 30) vs (F, None, 30): an unseen category is not missing -> 1/3 (was 0)
    assert d[0, 0] == pytest.approx(1 / 3) and idx[0, 0] == 0
    # (F, None, 30) vs (F, None, 30): missing equals missing -> 0
    assert d[1, 0] == pytest.approx(0.0)
    # (F, LA98, 50) vs (F, LA1, 50): two different categories -> 1/3; vs (F, None, 30): 2/3
    assert d[2].tolist() == pytest.approx([1 / 3, 2 / 3])
    # (F, None, missing age) vs (F, None, 30): a missing number is 1 from any number -> 1/3
    assert d[3, 0] == pytest.approx(1 / 3)
    # two different unseen categories differ (both unseen in training)
    a, b = encode_all(
        ["la"], train, pd.DataFrame({"la": ["LA98"]}), pd.DataFrame({"la": ["LA99"]})
    )[1:]
    assert np.abs(a - b).sum() == pytest.approx(1.0)
    # and the distance measures count none of these as exact copies
    m = distance_metrics(train, train, queries.iloc[[0, 2]], ["sex", "la", "age"])
    assert m["exact_copies_synthetic"] == 0.0


def test_near_copies_are_counted_record_by_record() -> None:
    from fdac_research.risk import near_copy_rates

    rng = np.random.default_rng(8)
    real, holdout, fresh = _frame(500, rng), _frame(500, rng), _frame(500, rng)
    real["x"], holdout["x"], fresh["x"] = rng.random(500), rng.random(500), rng.random(500)
    cols = [*QI, "drug", "x"]
    clean = near_copy_rates(real, holdout, fresh, cols)
    # 5% of the release: training records with x nudged by 0.001 (of a range of 1)
    leaky = fresh.copy()
    leaky.iloc[:25] = real.iloc[:25].to_numpy()
    leaky.loc[leaky.index[:25], "x"] += 0.001
    leak = near_copy_rates(real, holdout, leaky, cols)
    assert clean["excess"] < 0.005
    assert leak["n_synthetic_near"] >= 25 and leak["excess"] > 0.04
    assert leak["threshold"] == clean["threshold"] > 0
