"""CART at the size of a real evaluation: the leaf size and method of each column chosen by
grouped cross-validation (noise gets large leaves, structure small ones, an additive outcome
a logistic model), and the copy-redraw loop bounded in rounds and in work."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from fdac_research.dataset import ResearchData
from fdac_research.synth import CARTSynthesizer
from fdac_research.synth._cart_tree import LEAF_FACTORS, ColumnTree, select_leaf_size


def _groups(n: int, size: int = 2) -> np.ndarray:
    return np.array([f"f{i // size}" for i in range(n)])


def test_noise_gets_the_largest_leaf_and_a_step_the_smallest() -> None:
    rng = np.random.default_rng(4)
    n = 600
    X = rng.normal(size=(n, 3))  # noqa: N806
    # y independent of X: no leaf size predicts unseen families better than the mean, and
    # the one-standard-error rule takes the simplest tree (the largest leaf)
    noise = rng.normal(size=n)
    leaf, rec = select_leaf_size(X, noise, _groups(n), True, 5, seed=0)
    assert leaf == 5 * LEAF_FACTORS[-1] and rec["method"] == "tree"
    # a yes/no noise: the largest leaf too (or the logistic model, which is no better than
    # the mean either)
    coin = rng.integers(0, 2, n).astype(str)
    leaf, rec = select_leaf_size(X, coin, _groups(n), False, 5, seed=0)
    assert leaf == 5 * LEAF_FACTORS[-1]
    # y a step function of X[:, 0] with 3 steps, no noise: every tree finds it; still the
    # largest leaf that loses nothing, and far better than the noise's loss
    step = np.digitize(X[:, 0], [-0.5, 0.5]).astype(float)
    leaf, rec = select_leaf_size(X, step, _groups(n), True, 5, seed=0)
    assert min(rec["mean"]) < 0.05
    # a fine-grained function (40 levels) needs small leaves
    fine = np.floor(X[:, 0] * 8)
    leaf_fine, rec = select_leaf_size(X, fine, _groups(n), True, 5, seed=0)
    assert leaf_fine <= 10 and rec["method"] == "tree"


def test_an_additive_outcome_gets_the_logistic_model() -> None:
    # P(y) = logistic(sum of 6 covariates): a tree on 300 rows cannot show how y moves with
    # six covariates at once; the logistic model can (the Brier score on unseen families)
    rng = np.random.default_rng(7)
    n = 300
    X = rng.normal(size=(n, 6))  # noqa: N806
    y = (rng.random(n) < 1 / (1 + np.exp(-X.sum(axis=1)))).astype(str)
    _, rec = select_leaf_size(X, y, _groups(n), False, 5, seed=1)
    assert rec["method"] == "logistic"
    assert rec["mean"][-1] < min(rec["mean"][:-1])
    tree = ColumnTree("boolean", smooth=False, min_samples_leaf=5, select_leaf=True)
    values = pd.Series(pd.array(y == "True", dtype="boolean"))
    tree.fit(X, values, seed=1, groups=_groups(n))
    assert tree.logit_ is not None
    # the released values keep the column's type and follow the covariates
    out = tree.sample(X, np.random.default_rng(0))
    assert str(out.dtype) == "boolean" and len(out) == n
    hi = X.sum(axis=1) > 1
    assert out[hi].mean() > 0.7 and out[~hi & (X.sum(axis=1) < -1)].mean() < 0.3
    # seeded
    again = tree.sample(X, np.random.default_rng(0))
    pd.testing.assert_series_equal(out, again)


def test_select_leaf_needs_groups() -> None:
    tree = ColumnTree("boolean", smooth=False, min_samples_leaf=5, select_leaf=True)
    with pytest.raises(ValueError, match="groups"):
        tree.fit(np.zeros((20, 1)), pd.Series([True, False] * 10), seed=0)


def test_fitted_model_reports_its_leaf_sizes(research_small: ResearchData) -> None:
    model = CARTSynthesizer(seed=1).fit(research_small)
    sizes = model.leaf_sizes()
    assert {"comparison/mothers", "fdac/children"} <= set(sizes)
    allowed = {5 * f for f in LEAF_FACTORS} | {"logistic"}
    assert all(v in allowed for part in sizes.values() for v in part.values())
    fixed = CARTSynthesizer(seed=1, leaf_selection="fixed", strata=None).fit(research_small)
    assert all(v == 5 for part in fixed.leaf_sizes().values() for v in part.values())
    with pytest.raises(ValueError, match="leaf_selection"):
        CARTSynthesizer(leaf_selection="auto").fit(research_small)
    with pytest.raises(ValueError, match="max_copy_redraw_share"):
        CARTSynthesizer(max_copy_redraw_share=-1).fit(research_small)


class _CountingCopies:
    """Stands in for ``CARTSynthesizer._copies``: every family is a copy (a model that can
    only copy), and the families checked are counted."""

    def __init__(self) -> None:
        self.checked: list[int] = []

    def __call__(self, fam: dict[str, pd.DataFrame]) -> np.ndarray:
        ids = fam["cases"]["case_id"].to_numpy()
        self.checked.append(len(ids))
        return np.array(sorted(ids), dtype=object)


@pytest.fixture(scope="module")
def unstratified(research_small: ResearchData) -> CARTSynthesizer:
    """One fitted model; each case below sets its own bounds (read when sampling)."""
    return CARTSynthesizer(seed=1, strata=None).fit(research_small)


@pytest.mark.parametrize(
    ("retries", "share", "rounds"),
    [(10, 1.0, 1), (3, 5.0, 3), (10, 0.5, 0), (0, 1.0, 0)],
)
def test_the_copy_redraws_are_bounded(
    unstratified: CARTSynthesizer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    retries: int,
    share: float,
    rounds: int,
) -> None:
    model = unstratified
    monkeypatch.setattr(model, "max_copy_retries", retries)
    monkeypatch.setattr(model, "max_copy_redraw_share", share)
    counter = _CountingCopies()
    monkeypatch.setattr(model, "_copies", counter)
    n = 40
    with caplog.at_level(logging.INFO, logger="fdac_research.synth._cart"):
        out = model._sample_one(n, seed=3)
    # at most `retries` rounds and at most share * n families redrawn: with every family a
    # copy, round r redraws all n, so the cap allows floor(share) rounds
    redraws = [r for r in caplog.records if r.getMessage().startswith("cart: redrawing")]
    assert len(redraws) == rounds
    assert counter.checked == ([] if retries == 0 else [n] * (1 + rounds))
    # a round checks only the families it drew, never the whole release again
    assert sum(counter.checked) <= n * (1 + rounds)
    if retries:
        assert any("still copy a real record" in r.getMessage() for r in caplog.records)
    # the release keeps its size and its case order
    assert len(out["cases"]) == n
    assert list(out["cases"]["case_id"]) == [f"tmp{i}" for i in range(n)]
    kids = out["children"].groupby("case_id").size()
    assert (
        kids.reindex(out["cases"]["case_id"]).fillna(0).to_numpy()
        == (pd.to_numeric(out["cases"]["n_children"]).to_numpy())
    ).all()
