"""E-values against the published examples, and the hidden-bias flag."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fdac_research.analysis import (
    AnalysisError,
    AnalysisFrame,
    bias_adjusted_risk_ratio,
    bias_factor,
    confounder_strength,
    e_value,
    evalue_or,
    evalue_rr,
    is_sensitive_to_hidden_bias,
    naive_contrast,
)


def test_published_breastfeeding_example() -> None:
    # VanderWeele & Ding 2017 (Ann Intern Med 167:268), breastfeeding and infant respiratory
    # death: RR 3.9 (95% CI 1.8 to 8.7) -> E-value 7.26 for the estimate, 3.02 for the lower
    # limit. Also the EValue R package's test "Annals case #1"
    # (evalues.RR(3.9, 1.8, 8.7): 3.9 + sqrt(3.9 * 2.9) and 1.8 + sqrt(1.8 * 0.8)).
    point, ci = evalue_rr(3.9, 1.8, 8.7)
    assert point == pytest.approx(7.26, abs=0.005)
    assert ci == pytest.approx(3.0, abs=0.005)
    # the preventive version (EValue test "Annals case #1, preventive version")
    point, ci = evalue_rr(1 / 3.9, 1 / 8.7, 1 / 1.8)
    assert point == pytest.approx(7.26, abs=0.005)
    assert ci == pytest.approx(3.0, abs=0.005)


def test_published_leukaemia_example() -> None:
    # VanderWeele & Ding 2017, further examples: RR 0.80 (0.71 to 0.91) -> E-values 1.81 and
    # 1.43 (EValue docs: "compute E-value for leukemia example", evalues.RR(0.80, 0.71, 0.91)).
    point, ci = evalue_rr(0.80, 0.71, 0.91)
    assert point == pytest.approx(1.81, abs=0.005)
    assert ci == pytest.approx(1.43, abs=0.005)


def test_published_smoking_lung_cancer_example() -> None:
    # VanderWeele & Ding 2017 (Hammond & Horn smoking and lung cancer): RR 10.73 (8.02 to
    # 14.36) -> 20.95 and 15.52; the same figures as the episensr test of confounders.evalue
    # (20.947, 15.523).
    point, ci = evalue_rr(10.73, 8.02, 14.36)
    assert point == pytest.approx(20.947, abs=1e-3)
    assert ci == pytest.approx(15.523, abs=1e-3)


def test_interval_covering_null_has_evalue_one() -> None:
    assert evalue_rr(1.3, 0.9, 1.8)[1] == 1.0
    assert evalue_rr(1.2)[1] is None


def test_odds_ratio_conversions() -> None:
    # EValue test "Rare OR": evalues.OR(5, rare = TRUE) = 5 + sqrt(5 * 4)
    assert evalue_or(5.0, rare=True)[0] == pytest.approx(5 + math.sqrt(20))
    # EValue test "Common OR": evalues.OR(5, true = 2, rare = FALSE)
    #   = (sqrt(5) + sqrt(sqrt(5) * (sqrt(5) - sqrt(2)))) / sqrt(2)
    # and its lower limit 3: (sqrt(3) + sqrt(sqrt(3) * (sqrt(3) - sqrt(2)))) / sqrt(2)
    s5, s3, s2 = math.sqrt(5), math.sqrt(3), math.sqrt(2)
    point, ci = evalue_or(5.0, 3.0, 8.0, rare=False, true=2.0)
    assert point == pytest.approx((s5 + math.sqrt(s5 * (s5 - s2))) / s2)
    assert ci == pytest.approx((s3 + math.sqrt(s3 * (s3 - s2))) / s2)
    # EValue docs example evalues.OR(0.86, 0.75, 0.99, rare = FALSE): RR = sqrt(0.86) = 0.92736,
    # 1/RR = 1.07833, E = 1.07833 + sqrt(1.07833 * 0.07833) = 1.36897; upper limit
    # sqrt(0.99) = 0.99499, 1/0.99499 = 1.00504, E = 1.00504 + sqrt(1.00504 * 0.00504) = 1.07621.
    point, ci = evalue_or(0.86, 0.75, 0.99, rare=False)
    assert point == pytest.approx(1.36897, abs=1e-4)
    assert ci == pytest.approx(1.07621, abs=1e-4)


def test_bad_inputs() -> None:
    with pytest.raises(AnalysisError, match="not inside"):
        evalue_rr(1.2, 1.3, 1.4)  # also an error in the EValue package
    with pytest.raises(AnalysisError, match="positive"):
        evalue_rr(-0.1)
    with pytest.raises(AnalysisError, match="threshold"):
        is_sensitive_to_hidden_bias(_result(30, 20, 20, 30), threshold=0.5)
    with pytest.raises(AnalysisError, match="measure"):
        e_value(_result(30, 20, 20, 30), measure="hazard_ratio")


def _result(a: int, b: int, c: int, d: int):
    t = [1] * (a + b) + [0] * (c + d)
    y = [1] * a + [0] * b + [1] * c + [0] * d
    frame = AnalysisFrame.from_dataframe(pd.DataFrame({"t": t, "y": y}), outcome="y", treatment="t")
    return naive_contrast(frame, clustered=False)


def test_e_value_of_a_result_and_flag() -> None:
    # 300/500 vs 200/500: RR = 1.5 with a tight CI; Wald SE(log RR) = sqrt(0.4/300 + 0.6/200)
    # = 0.065828; lower limit exp(0.405465 - 1.959964 * 0.065828) = exp(0.276444) = 1.318433;
    # E = 1.318433 + sqrt(1.318433 * 0.318433) = 1.318433 + 0.647944 = 1.966377.
    strong = _result(300, 200, 200, 300)
    ev = e_value(strong)
    assert ev.point == pytest.approx(1.5 + math.sqrt(1.5 * 0.5))
    assert ev.ci == pytest.approx(1.966377, abs=1e-5)
    assert "at least 2.37" in ev.statement and "1.97" in ev.statement
    assert is_sensitive_to_hidden_bias(strong, threshold=2.0)
    assert not is_sensitive_to_hidden_bias(strong, threshold=1.5)
    # a small study whose CI includes 1 is always flagged
    weak = _result(6, 4, 4, 6)
    assert e_value(weak).ci == 1.0
    assert is_sensitive_to_hidden_bias(weak, threshold=1.0)
    assert "already includes no effect" in e_value(weak).statement
    # odds-ratio route: the outcome is common (40-60%), so sqrt(OR) is used
    ev_or = e_value(strong, measure="odds_ratio")
    assert ev_or.measure.startswith("odds_ratio (common")
    assert ev_or.rr == pytest.approx(math.sqrt(2.25))


def test_bias_factor_and_evalue_are_consistent() -> None:
    # VanderWeele & Ding 2017: the E-value is the equal strength RR_EU = RR_UD = E whose
    # bounding factor E^2 / (2E - 1) equals the observed RR. For E = 2: B = 4/3, and the
    # E-value of 4/3 is 4/3 + sqrt(4/3 * 1/3) = 2.
    assert bias_factor(2.0, 2.0) == pytest.approx(4 / 3)
    assert evalue_rr(4 / 3)[0] == pytest.approx(2.0)
    # Ding & VanderWeele 2016: B = RR_EU * RR_UD / (RR_EU + RR_UD - 1); 3 and 1.5 -> 4.5/3.5
    assert bias_factor(3.0, 1.5) == pytest.approx(4.5 / 3.5)
    assert bias_factor(1 / 3.0, 1.5) == pytest.approx(4.5 / 3.5)


def test_confounder_strength_hand_counted() -> None:
    # u high in 3 of 4 treated rows and 1 of 4 untreated: RR_EU = max(.75/.25, .25/.75) = 3.
    # Outcome among treated: u high 2/3, u low 0/1 (zero risk skipped); untreated: high 1/1,
    # low 1/3 -> RR_UD = 1 / (1/3) = 3.
    df = pd.DataFrame(
        {
            "t": [1, 1, 1, 1, 0, 0, 0, 0],
            "y": [1, 1, 0, 0, 1, 1, 0, 0],
            "u": [5.0, 6.0, 7.0, 0.0, 8.0, 1.0, 2.0, 3.0],
        }
    )
    frame = AnalysisFrame.from_dataframe(df, outcome="y", treatment="t")
    rr_eu, rr_ud = confounder_strength(frame, df["u"].to_numpy())
    assert rr_eu == pytest.approx(3.0)
    assert rr_ud == pytest.approx(3.0)
    with pytest.raises(AnalysisError, match="one per row"):
        confounder_strength(frame, np.ones(3))


def test_hidden_confounder_biases_estimate_and_bias_factor_accounts_for_it(
    simulated_hidden,
) -> None:
    from fdac_research.analysis import aipw, analysis_frame

    sim = simulated_hidden
    frame = analysis_frame(sim.research, "reunified", "children")
    truth = sim.truth["reunified_children"]["ate"]
    true_rr = truth["p_treated"] / truth["p_untreated"]
    r = aipw(frame)
    # U is not measured: the doubly robust interval misses the truth ...
    assert not r.risk_ratio.covers(true_rr)
    assert r.risk_ratio.ci_low > true_rr
    # ... and a confounder as strong as the planted one could remove the bias
    u = frame.data["case_id"].map(sim.hidden).to_numpy()
    b = bias_factor(*confounder_strength(frame, u))
    adjusted = bias_adjusted_risk_ratio(r, b)
    assert adjusted.ci_low <= true_rr <= r.risk_ratio.ci_high
    assert "at least" in e_value(r).statement
    with pytest.raises(AnalysisError, match="bounding factor"):
        bias_adjusted_risk_ratio(r, 0.5)


def test_benchmark_comparison_points_to_hidden_confounding(simulated, simulated_hidden) -> None:
    from fdac_research.analysis import aipw, analysis_frame, compare_with_benchmark

    def dr(sim):
        return aipw(analysis_frame(sim.research, "reunified", "children"))

    # the benchmark here is the planted truth of the simulation, as a published figure would be
    for sim, agrees in ((simulated, True), (simulated_hidden, False)):
        t = sim.truth["reunified_children"]["ate"]["odds_ratio"]
        c = compare_with_benchmark(dr(sim), (t, t * 0.85, t * 1.15), source="the benchmark")
        assert c.agrees is agrees
        if not agrees:
            assert c.direction == "above" and "hidden confounding" in c.statement
    # 300/500 vs 200/500: OR 2.25, SE(log OR) = sqrt(2/300 + 2/200) = 0.129099, Wald CI
    # exp(0.810930 -/+ 0.253030) = (1.748, 2.898): overlaps Zhang's (1.38, 2.22)
    r = _result(300, 200, 200, 300)
    assert compare_with_benchmark(r).agrees
    assert compare_with_benchmark(r, (1.2, 1.1, 1.3)).direction == "above"
    assert compare_with_benchmark(r, (5.0, 4.0, 6.0)).direction == "below"
    with pytest.raises(AnalysisError, match="not inside"):
        compare_with_benchmark(r, (1.0, 2.0, 3.0))


def test_benchmark_test_with_both_uncertainties_hand_worked() -> None:
    from fdac_research.analysis import compare_with_benchmark

    # 300/500 vs 200/500 (Wald): log OR = 0.810930, SE = 0.129099; Zhang et al. (1.75, 1.38 to
    # 2.22): SE = (log 2.22 - log 1.38) / (2 * 1.959964) = (0.797507 - 0.322083) / 3.919928
    # = 0.121284; z = (0.810930 - 0.559616) / sqrt(0.129099^2 + 0.121284^2)
    # = 0.251314 / 0.177131 = 1.41881; p = 2 * (1 - Phi(1.41881)) = 0.15595.
    r = _result(300, 200, 200, 300)
    c = compare_with_benchmark(r)
    assert c.se_benchmark == pytest.approx(0.121284, abs=1e-6)
    assert c.z == pytest.approx(1.41881, abs=1e-4)
    assert c.p_value == pytest.approx(0.15595, abs=1e-4)
    assert c.agrees and c.direction == "consistent" and "consistent" in c.statement
    # 400/500 vs 200/500: OR 6.0, SE = sqrt(1/400 + 1/100 + 1/200 + 1/300) = 0.144338;
    # z = (1.791759 - 0.559616) / sqrt(0.144338^2 + 0.121284^2) = 1.232143 / 0.188524 = 6.5358.
    big = compare_with_benchmark(_result(400, 100, 200, 300))
    assert big.z == pytest.approx(6.5358, abs=1e-3) and big.direction == "above"
    # the bias needed to reach the benchmark, on the RR scale: RR = 0.8 / 0.4 = 2; the
    # benchmark OR 1.75 at p0 = 0.4 is RR 1.75 / (0.6 + 0.7) = 1.346154; B = 1.485714;
    # E = B + sqrt(B (B - 1)) = 1.485714 + sqrt(0.721633) = 1.485714 + 0.849490 = 2.335204.
    assert big.bias_to_benchmark == pytest.approx(1.485714, abs=1e-5)
    assert big.evalue_to_benchmark == pytest.approx(2.335204, abs=1e-5)
    assert "2.34 each" in big.statement


def test_negative_control_and_the_robustness_verdict() -> None:
    from fdac_research.analysis import check_robustness, negative_control_check

    null = _result(250, 250, 250, 250)  # OR 1 exactly: nothing to see
    shifted = _result(200, 300, 300, 200)  # OR 0.44 (0.35 to 0.57): FDAC cannot have done it
    assert not negative_control_check(null).flagged
    assert negative_control_check(shifted).flagged
    assert "cannot have changed" in negative_control_check(shifted).statement
    consistent = _result(300, 200, 200, 300)  # consistent with Zhang (z = 1.42)
    ok = check_robustness(consistent, negative_control=null)
    assert ok.robust is True and "No sign of hidden bias" in ok.statement
    bad = check_robustness(consistent, negative_control=shifted)
    assert bad.robust is False and bad.reasons and "Not robust" in bad.statement
    both = check_robustness(_result(400, 100, 200, 300), negative_control=shifted)
    assert len(both.reasons) == 2 and "significantly above" in both.statement
    unknown = check_robustness(consistent, negative_control=None, benchmark=None)
    assert unknown.robust is None and "not checked" in unknown.statement
