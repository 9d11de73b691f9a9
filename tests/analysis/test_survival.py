"""Time to a later case: Kaplan-Meier with Greenwood intervals and the Cox model, against
hand-worked values, the cluster-robust variance, and the planted effect of a world."""

from __future__ import annotations

import dataclasses
import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdac_research.analysis import (
    AnalysisError,
    SurvivalFrame,
    analysis_frame,
    cox_model,
    kaplan_meier,
    kaplan_meier_by_cohort,
    survival_at,
    survival_frame,
)
from fdac_research.analysis import _survival as survival_module
from fdac_research.dataset import load_research
from fdac_research.governance import build_research
from fdac_research.world import generate_world, truth_crosswalk

Z = 1.959964


def test_doctests() -> None:
    result = doctest.testmod(survival_module)
    assert result.failed == 0 and result.attempted > 0


def test_kaplan_meier_six_subjects_by_hand() -> None:
    """Times 1, 2, 2+, 3, 4+, 5 (+ censored). Worked by hand:

    t=1: n=6, d=1: S = 5/6 = 0.833333; Greenwood sum 1/(6*5) = 1/30;
         SE = 0.833333 * sqrt(1/30) = 0.152145
    t=2: n=5, d=1 (the censoring at 2 counts as at risk): S = 5/6 * 4/5 = 0.666667;
         sum 1/30 + 1/(5*4) = 1/12; SE = 0.666667 * 0.288675 = 0.192450;
         plain 95%: 0.666667 -+ 1.959964 * 0.192450 = [0.289472, 1.043862 -> 1]
    t=3: n=3, d=1: S = 0.666667 * 2/3 = 0.444444; sum 1/12 + 1/(3*2) = 1/4;
         SE = 0.444444 * 0.5 = 0.222222; log-log 95%: log S = -0.810930,
         SE of log(-log S) = 0.5 / 0.810930 = 0.616576, exp(1.959964 * 0.616576) = 3.348346:
         [S^3.348346, S^(1/3.348346)] = [0.066187, 0.784908]
    t=4: n=2, d=0: unchanged
    t=5: n=1, d=1: S = 0, SE 0.
    """
    t = [1, 2, 2, 3, 4, 5]
    e = [1, 1, 0, 1, 0, 1]
    km = kaplan_meier(t, e, ci="plain").set_index("time")
    assert km["n_at_risk"].tolist() == [6, 5, 3, 2, 1]
    assert km["n_events"].tolist() == [1, 1, 1, 0, 1]
    assert km["n_censored"].tolist() == [0, 1, 0, 1, 0]
    assert np.allclose(km["survival"], [5 / 6, 4 / 6, 4 / 9, 4 / 9, 0.0], atol=1e-9)
    assert np.allclose(km["se"], [0.152145, 0.192450, 0.222222, 0.222222, 0.0], atol=1e-6)
    assert km.loc[2.0, "ci_low"] == pytest.approx(0.289472, abs=1e-6)
    assert km.loc[2.0, "ci_high"] == 1.0
    ll = kaplan_meier(t, e).set_index("time")
    assert ll.loc[3.0, "ci_low"] == pytest.approx(0.066187, abs=1e-6)
    assert ll.loc[3.0, "ci_high"] == pytest.approx(0.784908, abs=1e-6)
    assert ll.loc[5.0, ["survival", "ci_low", "ci_high"]].tolist() == [0.0, 0.0, 0.0]
    assert survival_at(km.reset_index(), 0.5) == 1.0
    assert survival_at(km.reset_index(), 3.5) == pytest.approx(4 / 9)


def test_kaplan_meier_refuses_bad_input() -> None:
    with pytest.raises(AnalysisError, match="row 1"):
        kaplan_meier([1, -2], [1, 0])
    with pytest.raises(AnalysisError, match="0/1"):
        kaplan_meier([1, 2], [1, 2])
    with pytest.raises(AnalysisError, match="ci must be"):
        kaplan_meier([1, 2], [1, 0], ci="arcsine")


def _frame(
    time: list[float], event: list[int], treated: list[int], cluster: list[str]
) -> SurvivalFrame:
    data = pd.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(len(time))],
            "cohort": ["fdac" if x else "comparison" for x in treated],
            "treated": treated,
            "time": time,
            "event": event,
            "family_id": cluster,
        }
    )
    return SurvivalFrame(data=data, covariates=())


def test_cox_three_subjects_by_hand() -> None:
    """Subject 1 (FDAC) has the event at t=1, subject 2 (comparison) at t=2, subject 3
    (FDAC) is censored at t=3. With u = exp(b) the partial likelihood is
    u / (2u + 1) * 1 / (1 + u); setting its log-derivative to 0 gives
    (2u + 1)(1 + u) - 2u(1 + u) - u(2u + 1) = 1 - 2u^2 = 0, so HR = u = 1/sqrt(2)."""
    res = cox_model(_frame([1, 2, 3], [1, 1, 0], [1, 0, 1], ["a", "b", "c"]), adjust=False)
    assert res.hazard_ratio == pytest.approx(1 / np.sqrt(2), abs=1e-5)
    assert res.n == 3 and res.n_events == 2 and res.n_clusters == 3


def test_cox_intervals_are_cluster_robust() -> None:
    """Every case written twice within its own family: the point estimate is unchanged and
    so is the cluster-robust SE (the score residuals and the information both double), where
    errors that ignored the clusters would shrink by sqrt(2)."""
    rng = np.random.default_rng(3)
    n = 300
    treated = (rng.random(n) < 0.5).astype(int)
    t_event = rng.exponential(1 / np.where(treated == 1, 0.5, 1.0))
    cens = rng.uniform(0.5, 3, n)
    time = np.minimum(t_event, cens)
    event = (t_event <= cens).astype(int)
    ids = [f"f{i}" for i in range(n)]
    one = cox_model(_frame(list(time), list(event), list(treated), ids), adjust=False)
    two = cox_model(
        _frame(
            list(np.r_[time, time]),
            list(np.r_[event, event]),
            list(np.r_[treated, treated]),
            ids + ids,
        ),
        adjust=False,
    )
    assert two.hazard_ratio == pytest.approx(one.hazard_ratio, rel=1e-6)
    assert two.se == pytest.approx(one.se, rel=1e-6)
    assert two.n_clusters == one.n_clusters == n
    # and the estimate is near the simulated hazard ratio 0.5
    assert one.covers(0.5)


def test_a_case_censored_before_the_first_event_adds_nothing() -> None:
    """A case censored before anyone's first later case is in no risk set: its score
    residual is 0, so in a family of an existing cluster it changes neither the hazard ratio
    nor its cluster-robust SE (statsmodels' own robust covariance is missing here: it gives
    such a row a missing residual)."""
    time, event = [1.0, 2.0, 3.0, 1.5, 2.5], [1, 1, 0, 1, 0]
    treated, cluster = [1, 0, 1, 0, 1], ["a", "b", "c", "d", "e"]
    base = cox_model(_frame(time, event, treated, cluster), adjust=False)
    more = cox_model(
        _frame([*time, 0.5], [*event, 0], [*treated, 1], [*cluster, "a"]), adjust=False
    )
    assert np.isfinite(base.se) and more.n == 6 and more.n_clusters == base.n_clusters
    assert more.hazard_ratio == pytest.approx(base.hazard_ratio, rel=1e-6)
    assert more.se == pytest.approx(base.se, rel=1e-6)


@pytest.fixture(scope="module")
def research(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("surv")
    generate_world(root / "w", n_families=2000, seed=31)
    truth_crosswalk(root / "w", root / "l")
    build_research(root / "w", root / "l", root / "r", key=b"survival-test-key-0123456789abcd")
    effects = json.loads((root / "w" / "truth" / "effects.json").read_text())
    return root / "r", effects


def test_survival_frame_and_planted_hazard_ratio(research: tuple[Path, dict]) -> None:
    """A 2,000-family world (seed 31): the adjusted, cluster-robust interval of the FDAC
    hazard ratio of a later case holds the planted one (0.44), and the unadjusted curves
    show fewer FDAC families back in court within three years."""
    folder, effects = research
    data = load_research(folder)
    frame = survival_frame(data)
    assert frame.cluster == "family_id"
    assert frame.data["time"].gt(0).all() and set(frame.data["event"]) == {0, 1}
    assert frame.data["family_id"].nunique() < len(frame.data)
    assert "mother_substance_opiates" in frame.covariates
    res = cox_model(frame)
    planted = effects["effects"]["returned_to_court_3y_children"]["hazard_ratio"]
    assert res.covers(planted), res
    assert res.hazard_ratio < 1 and res.adjusted
    km = kaplan_meier_by_cohort(frame)
    s3 = {c: survival_at(km[km["cohort"] == c], 3.0) for c in ("fdac", "comparison")}
    assert s3["fdac"] > s3["comparison"]


def test_survival_and_analysis_frames_adjust_for_one_set(research: tuple[Path, dict]) -> None:
    """The Cox model adjusts for what the other estimators do at case level (the case's and
    the mother's covariates, none of the child's), and clusters on the same families."""
    data = load_research(research[0])
    surv = survival_frame(data)
    children = analysis_frame(data, "reunified")
    own = {c for c in children.covariates if c.startswith("child_")}
    assert own and set(surv.covariates) == set(children.covariates) - own
    assert surv.cluster == children.cluster == "family_id"
    assert "clusters: family_id" in surv.notes[1]
    without = dataclasses.replace(data, cases=data.cases.drop(columns="family_id"))
    assert survival_frame(without).cluster == analysis_frame(without).cluster == "case_id"


def test_survival_frame_refuses_a_folder_without_follow_up(research: tuple[Path, dict]) -> None:
    data = load_research(research[0])
    data.cases = data.cases.drop(columns=["follow_up_years"])
    with pytest.raises(AnalysisError, match="follow_up_years"):
        survival_frame(data)
