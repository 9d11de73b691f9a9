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
