"""The delete-one-cluster jackknife: exact for the naive contrast (hand-worked), and its
one-step refits against exact refits of every model (computed here by refitting the
estimator without each family, an independent path through the estimators' own cores)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fdac_research.analysis import (
    AnalysisError,
    AnalysisFrame,
    analysis_frame,
    g_computation,
    naive_contrast,
)
from fdac_research.analysis._estimators import (
    _aipw_core,
    _frame_arrays,
    _gcomp_core,
    _ipw_core,
    _naive_core,
)
from fdac_research.analysis._jackknife import jackknife_means
from fdac_research.analysis._models import subset
from fdac_research.analysis._results import measures_from_jackknife

from .conftest import simulate_research


def test_naive_jackknife_hand_worked() -> None:
    # Four families of one child each per arm. Treated outcomes 1,1,1,0 (p1 = 3/4), untreated
    # 1,0,0,0 (p0 = 1/4). Leaving out a treated family with an event: p1 = 2/3, else 1;
    # p0 stays 1/4. Leaving out an untreated event: p0 = 0, else 1/3 (p1 stays 3/4).
    # RD leave-outs: 2/3-1/4 (x3), 1-1/4, 3/4-0, 3/4-1/3 (x3): mean = 0.5;
    # deviations: -1/12 (x3), 1/4, 1/4, -1/12 (x3): sum of squares = 6/144 + 2/16 = 1/6;
    # V = 7/8 * 1/6 = 0.1458333, SE = 0.3818813; t_7 (0.975) = 2.364624.
    df = pd.DataFrame(
        {"t": [1] * 4 + [0] * 4, "y": [1, 1, 1, 0, 1, 0, 0, 0], "case_id": list("abcdefgh")}
    )
    frame = AnalysisFrame.from_dataframe(df, outcome="y", treatment="t", cluster="case_id")
    reps = jackknife_means(_frame_arrays(frame, True), "naive", "ATE")
    assert reps[:, 0] == pytest.approx([2 / 3] * 3 + [1] + [3 / 4] * 4)
    assert reps[:, 1] == pytest.approx([1 / 4] * 4 + [0] + [1 / 3] * 3)
    # one family holds the only untreated event: no jackknife interval for the ratios
    with pytest.raises(AnalysisError, match="too few families"):
        measures_from_jackknife(3 / 4, 1 / 4, reps, 0.95)


@pytest.mark.parametrize(
    "method,estimand,core,kw",
    [
        ("naive", "ATE", _naive_core, {}),
        ("g_computation", "ATE", _gcomp_core, {"estimand": "ATE"}),
        ("g_computation", "ATT", _gcomp_core, {"estimand": "ATT"}),
        ("ipw", "ATE", _ipw_core, {"estimand": "ATE"}),
        ("ipw", "ATT", _ipw_core, {"estimand": "ATT"}),
        ("aipw", "ATE", _aipw_core, {}),
    ],
)
def test_one_step_jackknife_matches_exact_refits(method, estimand, core, kw) -> None:
    sim = simulate_research(3, n_cases=150)
    frame = analysis_frame(sim.research, "reunified", "children")
    a = _frame_arrays(frame, True)
    n_groups = int(a.groups.max()) + 1
    one_step = jackknife_means(a, method, estimand)
    exact = np.array(
        [core(subset(a, np.flatnonzero(a.groups != g)), False, **kw)[:2] for g in range(n_groups)]
    )
    assert np.abs(one_step - exact).max() < 0.01  # arm means within a percentage point

    def se(r: np.ndarray) -> float:
        lor = np.log(r[:, 0] / (1 - r[:, 0])) - np.log(r[:, 1] / (1 - r[:, 1]))
        return math.sqrt((n_groups - 1) / n_groups * float(np.sum((lor - lor.mean()) ** 2)))

    assert se(one_step) == pytest.approx(se(exact), rel=0.03)


def test_jackknife_is_the_default_and_wider_than_the_sandwich_with_few_families() -> None:
    sim = simulate_research(5, n_cases=120)
    frame = analysis_frame(sim.research, "reunified", "children")
    jk = g_computation(frame)
    sw = g_computation(frame, variance="sandwich")
    assert jk.variance.startswith("cluster jackknife") and sw.variance == "cluster-robust sandwich"
    assert jk.odds_ratio.value == sw.odds_ratio.value
    assert jk.odds_ratio.se > sw.odds_ratio.se
    # the naive contrast has no model to refit: the sandwich, whatever is asked
    assert naive_contrast(frame).variance == "cluster-robust sandwich"


def test_undefined_jackknife_falls_back_to_the_sandwich_and_says_so() -> None:
    """Ten treated families (5 with the outcome) and ten untreated, of which one family of
    two children holds the only events: leaving it out leaves that arm without events, so
    no jackknife interval exists; the estimate comes with the sandwich and the label says why."""
    from fdac_research.analysis import ipw

    t = [1] * 10 + [0] * 11
    y = [1] * 5 + [0] * 5 + [1, 1] + [0] * 9
    case = [f"t{i}" for i in range(10)] + ["u0", "u0"] + [f"u{i}" for i in range(1, 10)]
    x = [float(i % 3) for i in range(21)]
    df = pd.DataFrame({"t": t, "y": y, "case_id": case, "x": x})
    frame = AnalysisFrame.from_dataframe(
        df, outcome="y", treatment="t", covariates=["x"], cluster="case_id"
    )
    r = ipw(frame)
    assert r.variance.startswith("cluster-robust sandwich (jackknife undefined")
    assert r.details["jackknife_undefined"] is True
    assert r.odds_ratio.ci_low < r.odds_ratio.value < r.odds_ratio.ci_high
