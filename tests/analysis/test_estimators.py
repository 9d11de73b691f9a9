"""Effect estimators: hand-worked 2x2 tables, statsmodels cross-checks, known planted effects."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

from fdac_research.analysis import (
    AnalysisError,
    AnalysisFrame,
    aipw,
    analysis_frame,
    evaluate,
    g_computation,
    ipw,
    naive_contrast,
    ps_matching,
)
from fdac_research.analysis._models import fit_logistic
from tests.analysis.conftest import simulate_research

Z975 = 1.959963984540054


def two_by_two(a: int, b: int, c: int, d: int) -> AnalysisFrame:
    """Treated: a events, b non-events; untreated: c events, d non-events."""
    t = [1] * (a + b) + [0] * (c + d)
    y = [1] * a + [0] * b + [1] * c + [0] * d
    return AnalysisFrame.from_dataframe(pd.DataFrame({"t": t, "y": y}), outcome="y", treatment="t")


def test_naive_wald_hand_worked() -> None:
    # Treated 30/50 events, untreated 20/50.
    # p1 = 0.6, p0 = 0.4, RD = 0.2,
    # SE(RD) = sqrt(0.6*0.4/50 + 0.4*0.6/50) = sqrt(0.0096) = 0.0979796,
    # CI = 0.2 -/+ 1.959964*0.0979796 = (0.007964, 0.392036).
    # OR = (30/20)/(20/30) = 2.25; SE(log OR) = sqrt(1/30 + 1/20 + 1/20 + 1/30) = 0.4082483;
    # 1.959964 * 0.4082483 = 0.8164966 - 0.0163446 = 0.800152;
    # CI = exp(0.8109302 -/+ 0.800152) = exp(0.010778), exp(1.611082) = (1.010836, 5.008230).
    # RR = 1.5; SE(log RR) = sqrt(0.4/30 + 0.6/20) = 0.2081666.
    r = naive_contrast(two_by_two(30, 20, 20, 30), clustered=False)
    assert r.variance.startswith("wald")
    assert r.risk_difference.value == pytest.approx(0.2)
    assert r.risk_difference.se == pytest.approx(0.0979796, abs=1e-7)
    assert r.risk_difference.ci_low == pytest.approx(0.007964, abs=1e-6)
    assert r.risk_difference.ci_high == pytest.approx(0.392036, abs=1e-6)
    assert r.odds_ratio.value == pytest.approx(2.25)
    assert r.odds_ratio.se == pytest.approx(0.4082483, abs=1e-7)
    assert r.odds_ratio.ci_low == pytest.approx(1.010836, abs=1e-5)
    assert r.odds_ratio.ci_high == pytest.approx(5.008230, abs=1e-5)
    assert r.risk_ratio.value == pytest.approx(1.5)
    assert r.risk_ratio.se == pytest.approx(0.2081666, abs=1e-7)
    assert (r.n, r.n_treated, r.n_untreated) == (100, 50, 50)


def test_naive_unbalanced_hand_worked() -> None:
    # Unequal arms: treated 12 of 40 events, untreated 6 of 60.
    # p1 = 0.3, p0 = 0.1, RD = 0.2; SE = sqrt(0.3*0.7/40 + 0.1*0.9/60) = sqrt(0.00525 + 0.0015)
    # = 0.0821584. OR = (12/28)/(6/54) = 3.857143; SE(log OR) = sqrt(1/12+1/28+1/6+1/54) = 0.5177
    r = naive_contrast(two_by_two(12, 28, 6, 54), clustered=False)
    assert r.risk_difference.se == pytest.approx(0.0821584, abs=1e-7)
    assert r.odds_ratio.value == pytest.approx(3.857143, abs=1e-6)
    assert r.odds_ratio.se == pytest.approx(math.sqrt(1 / 12 + 1 / 28 + 1 / 6 + 1 / 54), abs=1e-9)


def _clustered_data(seed: int, n_clusters: int = 400, sd: float = 1.5) -> pd.DataFrame:
    """Cluster-level treatment and a strong cluster random effect on the outcome."""
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 5, n_clusters)
    g = np.repeat(np.arange(n_clusters), size)
    t = (rng.random(n_clusters) < 0.4).astype(int)[g]
    b = rng.normal(0, sd, n_clusters)[g]
    y = (rng.random(len(g)) < expit(-0.3 + 0.5 * t + b)).astype(int)
    x = rng.normal(size=len(g))
    return pd.DataFrame({"t": t, "y": y, "g": g, "x": x})


def test_cluster_robust_matches_statsmodels() -> None:
    # Independent oracle: statsmodels' cluster-robust covariance (no small-sample correction)
    # times G/(G-1) is the CR1 variance we document. For the saturated logistic model y ~ t the
    # coefficient of t is the log OR; for OLS y ~ t it is the RD.
    df = _clustered_data(11)
    frame = AnalysisFrame.from_dataframe(df, outcome="y", treatment="t", cluster="g")
    r = naive_contrast(frame)
    X = sm.add_constant(df[["t"]].astype(float))
    G = df["g"].nunique()
    kw = {"groups": df["g"].to_numpy(), "use_correction": False}
    logit = sm.GLM(df["y"], X, family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds=kw)
    ols = sm.OLS(df["y"], X).fit(cov_type="cluster", cov_kwds=kw)
    factor = math.sqrt(G / (G - 1))
    assert r.odds_ratio.value == pytest.approx(math.exp(logit.params["t"]), rel=1e-6)
    assert r.odds_ratio.se == pytest.approx(logit.bse["t"] * factor, rel=1e-4)
    assert r.risk_difference.value == pytest.approx(ols.params["t"], abs=1e-9)
    assert r.risk_difference.se == pytest.approx(ols.bse["t"] * factor, rel=1e-4)
    assert r.n_clusters == G


def test_clustered_se_larger_than_naive_when_clusters_correlated() -> None:
    df = _clustered_data(5)
    frame = AnalysisFrame.from_dataframe(df, outcome="y", treatment="t", cluster="g")
    clustered, naive = naive_contrast(frame), naive_contrast(frame, clustered=False)
    assert clustered.risk_difference.se > 1.15 * naive.risk_difference.se
    assert clustered.odds_ratio.se > 1.15 * naive.odds_ratio.se
    assert clustered.variance == "cluster-robust sandwich"
    # and for an adjusted estimator too
    adj = AnalysisFrame.from_dataframe(
        df, outcome="y", treatment="t", covariates=["x"], cluster="g"
    )
    assert (
        g_computation(adj).risk_difference.se
        > 1.15 * g_computation(adj, clustered=False).risk_difference.se
    )


def test_logistic_fit_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 3))
    y = (rng.random(500) < expit(0.2 + X @ np.array([0.5, -1.0, 0.25]))).astype(float)
    Z = np.column_stack([np.ones(500), X])
    beta, p, converged = fit_logistic(Z, y)
    ref = sm.GLM(y, Z, family=sm.families.Binomial()).fit()
    assert converged
    np.testing.assert_allclose(beta, ref.params, atol=1e-5)
    np.testing.assert_allclose(p, ref.fittedvalues, atol=1e-6)


def test_gcomputation_conditional_or_matches_statsmodels(simulated) -> None:
    frame = analysis_frame(simulated.research, "ceased_misuse", "mothers")
    r = g_computation(frame)
    X = sm.add_constant(frame.data[["treated", *frame.covariates]].astype(float))
    ref = sm.GLM(frame.y, X, family=sm.families.Binomial()).fit()
    assert r.details["conditional_odds_ratio"] == pytest.approx(
        math.exp(ref.params["treated"]), rel=1e-4
    )


# --------------------------------------------------------------------- known planted effect
@pytest.fixture(scope="module")
def children(simulated) -> AnalysisFrame:
    return analysis_frame(simulated.research, "reunified", "children")


def test_naive_is_biased_and_adjusted_estimators_recover_truth(simulated, children) -> None:
    # The simulation plants a conditional log-OR of 0.9 and confounding by the mother's
    # severity (heroin, mental health, prior proceedings lower both FDAC referral and
    # reunification... and raise the naive contrast). Truth = mean true risks under each arm.
    truth = simulated.truth["reunified_children"]
    naive = naive_contrast(children)
    assert not naive.risk_difference.covers(truth["ate"]["risk_difference"])
    assert not naive.odds_ratio.covers(truth["ate"]["odds_ratio"])
    for r in (g_computation(children), ipw(children), aipw(children)):
        assert r.estimand == "ATE"
        assert r.risk_difference.covers(truth["ate"]["risk_difference"]), r.method
        assert r.odds_ratio.covers(truth["ate"]["odds_ratio"]), r.method
        assert abs(r.risk_difference.value - truth["ate"]["risk_difference"]) < abs(
            naive.risk_difference.value - truth["ate"]["risk_difference"]
        )
    for r in (
        ipw(children, estimand="ATT"),
        ps_matching(children),
        g_computation(children, estimand="ATT"),
    ):
        assert r.estimand == "ATT"
        assert r.risk_difference.covers(truth["att"]["risk_difference"]), r.method
        assert r.odds_ratio.covers(truth["att"]["odds_ratio"]), r.method


def test_mothers_cessation_recovered(simulated) -> None:
    frame = analysis_frame(simulated.research, "ceased_misuse", "mothers")
    truth = simulated.truth["ceased_misuse_mothers"]["ate"]
    assert not naive_contrast(frame).risk_difference.covers(truth["risk_difference"])
    r = aipw(frame)
    assert r.risk_difference.covers(truth["risk_difference"])
    assert r.odds_ratio.covers(truth["odds_ratio"])


def test_bootstrap_is_seeded_and_agrees_with_sandwich(children) -> None:
    a = g_computation(children, variance="bootstrap", n_bootstrap=60, seed=1)
    b = g_computation(children, variance="bootstrap", n_bootstrap=60, seed=1)
    c = g_computation(children, variance="bootstrap", n_bootstrap=60, seed=2)
    s = g_computation(children)
    assert a == b
    assert a.risk_difference.se != c.risk_difference.se
    assert a.variance == "cluster bootstrap"
    assert a.details["n_bootstrap"] == 60 and a.details["seed"] == 1
    assert a.risk_difference.value == s.risk_difference.value
    # two independent variance estimates of the same quantity: within 35% at B = 60
    assert a.risk_difference.se == pytest.approx(s.risk_difference.se, rel=0.35)
    assert a.risk_difference.ci_low < a.risk_difference.value < a.risk_difference.ci_high


def test_bootstrap_for_every_estimator_runs(children) -> None:
    results = evaluate(children, variance="bootstrap", n_bootstrap=20, seed=3)
    assert [r.method for r in results] == [
        "naive",
        "g_computation",
        "g_computation",
        "ipw",
        "ipw",
        "matching",
        "aipw",
    ]
    assert all(r.variance in ("cluster bootstrap", "cluster-robust sandwich") for r in results)


def test_matching_caliper_and_counts(children) -> None:
    wide = ps_matching(children, caliper=float("inf"))
    assert wide.details["n_treated_unmatched"] == 0
    assert wide.n_treated == int(children.t.sum())
    narrow = ps_matching(children, caliper=0.001)
    assert narrow.details["n_treated_unmatched"] > 0
    assert narrow.n_treated < wide.n_treated
    k3 = ps_matching(children, n_neighbours=3)
    assert k3.n_untreated > ps_matching(children).n_untreated


def test_deterministic(children) -> None:
    assert evaluate(children) == evaluate(children)


# --------------------------------------------------------------------- bad inputs
def test_bad_arguments_are_named(children) -> None:
    with pytest.raises(AnalysisError, match="variance must be"):
        g_computation(children, variance="cr2")
    with pytest.raises(AnalysisError, match="explicit seed"):
        ipw(children, variance="bootstrap")
    with pytest.raises(AnalysisError, match="estimand must be"):
        ipw(children, estimand="ATC")
    with pytest.raises(AnalysisError, match="caliper"):
        ps_matching(children, caliper=0)
    with pytest.raises(AnalysisError, match="confidence"):
        aipw(children, confidence=95)
    with pytest.raises(AnalysisError, match="AnalysisFrame"):
        aipw(children.data)  # type: ignore[arg-type]


def test_one_arm_and_no_events_are_clear_errors() -> None:
    one_arm = pd.DataFrame({"t": [1, 1, 1], "y": [0, 1, 0]})
    with pytest.raises(AnalysisError, match="no comparison rows"):
        AnalysisFrame.from_dataframe(one_arm, outcome="y", treatment="t")
    no_events = pd.DataFrame({"t": [1, 0, 1, 0], "y": [0, 0, 0, 0]})
    with pytest.raises(AnalysisError, match="no outcome events"):
        AnalysisFrame.from_dataframe(no_events, outcome="y", treatment="t")
    with pytest.raises(AnalysisError, match=r"missing column\(s\) \['z'\]"):
        AnalysisFrame.from_dataframe(no_events, outcome="y", treatment="t", covariates=["z"])
    with pytest.raises(AnalysisError, match="must be binary"):
        AnalysisFrame.from_dataframe(
            pd.DataFrame({"t": [1, 0], "y": [2, 0]}), outcome="y", treatment="t"
        )
    with pytest.raises(AnalysisError, match="missing value"):
        AnalysisFrame.from_dataframe(
            pd.DataFrame({"t": [1, 0], "y": [1.0, None]}), outcome="y", treatment="t"
        )


def test_cohort_labels_accepted_as_treatment() -> None:
    df = pd.DataFrame(
        {"cohort": ["fdac", "fdac", "comparison", "comparison"], "y": [True, False, False, True]}
    )
    frame = AnalysisFrame.from_dataframe(df, outcome="y", treatment="cohort")
    assert frame.t.tolist() == [1.0, 1.0, 0.0, 0.0]
    with pytest.raises(AnalysisError, match="expected"):
        AnalysisFrame.from_dataframe(
            df.assign(cohort=["fdac", "x", "comparison", "fdac"]), outcome="y", treatment="cohort"
        )


def test_every_estimator_and_the_jackknife_use_the_frames_family_clusters() -> None:
    """Cases paired into families (two cases of one mother): every estimator counts the
    families, the jackknife leaves a family out at a time, and the intervals differ from the
    case-clustered ones."""
    from fdac_research.analysis._estimators import _frame_arrays
    from fdac_research.analysis._jackknife import jackknife_means

    research = simulate_research(7, n_cases=400).research
    cases = research.cases.assign(family_id=[f"F{i // 2:04d}" for i in range(400)])
    by_family = analysis_frame(dataclasses.replace(research, cases=cases), "reunified")
    by_case = analysis_frame(research, "reunified")
    # cases with no closed child's outcome leave the frame: count what is left
    n_fam = by_family.data["family_id"].nunique()
    n_case = by_case.data["case_id"].nunique()
    assert by_family.cluster == "family_id" and by_family.n_clusters == n_fam
    assert by_case.cluster == "case_id" and by_case.n_clusters == n_case
    assert n_fam < n_case <= 2 * n_fam
    for method in ("naive", "g_computation", "ipw", "aipw"):
        a = _frame_arrays(by_family, clustered=True)
        assert jackknife_means(a, method, "ATE").shape == (n_fam, 2)
    for estimator in (naive_contrast, g_computation, ipw, aipw, ps_matching):
        fam, case = estimator(by_family), estimator(by_case)
        assert fam.risk_difference.value == pytest.approx(case.risk_difference.value)
        assert fam.risk_difference.se != pytest.approx(case.risk_difference.se, rel=1e-6)
        if estimator is ps_matching:
            assert fam.n_clusters < case.n_clusters <= n_case
        else:
            assert (fam.n_clusters, case.n_clusters) == (n_fam, n_case)
