"""Sensitivity to unmeasured confounding: E-values (VanderWeele & Ding 2017).

VanderWeele TJ, Ding P. Sensitivity analysis in observational research: introducing the
E-value. Ann Intern Med 2017;167:268-274. For a risk ratio ``RR >= 1``::

    E = RR + sqrt(RR * (RR - 1))

(for ``RR < 1`` use ``1 / RR``). The E-value of the confidence interval is that of the limit
closer to the null, and 1 when the interval contains the null. An odds ratio of a common
outcome (over 15%) is first turned into an approximate risk ratio ``sqrt(OR)``; a rare
outcome's OR is used as a RR. With ``true != 1`` the estimate is shifted to that value
(``RR / true``), as in the R package EValue.

A confounder ``U`` with risk ratios ``RR_EU`` (with FDAC) and ``RR_UD`` (with the outcome) can
shift a risk ratio by at most the bounding factor (Ding & VanderWeele 2016, Epidemiology
27:368)::

    B = RR_EU * RR_UD / (RR_EU + RR_UD - 1)

and the E-value is the equal strength ``RR_EU = RR_UD = E`` whose ``B`` equals the observed
risk ratio; so the E-value of ``B`` is the "equal-strength" size of a given confounder, the
scale of ``is_sensitive_to_hidden_bias``'s threshold. When the confounder is known (the
planted ``hidden_confounder`` of a synthetic world), :func:`confounder_strength` measures it
and :func:`bias_adjusted_risk_ratio` divides the estimate and its limits by ``B``.

Reading: "an unmeasured confounder associated with both FDAC and the outcome by a risk
ratio of E each, above and beyond the measured covariates, could explain the estimate away;
weaker confounding could not".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._frames import AnalysisFrame
from fdac_research.analysis._results import EffectResult, Estimate

__all__ = [
    "EValueResult",
    "evalue_rr",
    "evalue_or",
    "e_value",
    "is_sensitive_to_hidden_bias",
    "bias_factor",
    "confounder_strength",
    "bias_adjusted_risk_ratio",
    "BenchmarkComparison",
    "compare_with_benchmark",
    "ZHANG_REUNIFICATION_OR",
    "format_p",
]

#: Published benchmark: reunification odds ratio of family treatment drug courts, meta-analysis
#: of 16 studies (Zhang et al., Child Abuse & Neglect; docs/fdac-figures.md): 1.75 (1.38 to 2.22).
ZHANG_REUNIFICATION_OR = (1.75, 1.38, 2.22)


@dataclass(frozen=True)
class EValueResult:
    """E-values of an estimate and its confidence interval.

    Attributes
    ----------
    rr, rr_low, rr_high : float
        The estimate and interval on the risk-ratio scale (after any OR conversion).
    point : float
        E-value of the point estimate.
    ci : float
        E-value of the confidence limit closer to the null (1 if the interval covers it).
    measure : str
        What the E-value was computed from (``risk_ratio``, ``odds_ratio (common outcome,
        sqrt approximation)`` ...).
    statement : str
        A plain-English reading for the report.
    """

    rr: float
    rr_low: float
    rr_high: float
    point: float
    ci: float
    measure: str
    statement: str


def _e(rr: float) -> float:
    if rr < 1:
        rr = 1 / rr
    return rr + math.sqrt(rr * (rr - 1))


def _check(name: str, v: float) -> None:
    if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
        raise AnalysisError(f"{name} must be a positive finite ratio, got {v!r}")


def evalue_rr(
    rr: float, lo: float | None = None, hi: float | None = None, *, true: float = 1.0
) -> tuple[float, float | None]:
    """E-values of a risk ratio and of its confidence interval.

    Returns
    -------
    (point, ci)
        ``ci`` is ``None`` when no interval is given.

    Examples
    --------
    VanderWeele & Ding (2017), breastfeeding and respiratory death, RR 3.9 (1.8 to 8.7):

    >>> [round(v, 2) for v in evalue_rr(3.9, 1.8, 8.7)]
    [7.26, 3.0]
    """
    _check("rr", rr)
    _check("true", true)
    for name, v in (("lo", lo), ("hi", hi)):
        if v is not None:
            _check(name, v)
    if lo is not None and hi is not None and not lo <= rr <= hi:
        raise AnalysisError(f"point estimate {rr} is not inside its interval ({lo}, {hi})")
    point = _e(rr / true) if rr != true else 1.0
    if lo is None and hi is None:
        return point, None
    lo_ = lo if lo is not None else rr
    hi_ = hi if hi is not None else rr
    if lo_ <= true <= hi_:
        return point, 1.0
    limit = lo_ if rr > true else hi_
    return point, _e(limit / true)


def evalue_or(
    or_: float, lo: float | None = None, hi: float | None = None, *, rare: bool, true: float = 1.0
) -> tuple[float, float | None]:
    """E-values of an odds ratio: ``sqrt(OR)`` as the RR for a common outcome (``rare=False``).

    Examples
    --------
    >>> round(evalue_or(5.0, rare=True)[0], 3)  # 5 + sqrt(5 * 4)
    9.472
    """
    _check("or_", or_)
    conv = (lambda v: v) if rare else math.sqrt
    return evalue_rr(
        conv(or_),
        None if lo is None else conv(lo),
        None if hi is None else conv(hi),
        true=conv(true),
    )


def e_value(
    result: EffectResult, *, measure: str = "risk_ratio", rare: bool | None = None
) -> EValueResult:
    """E-values of an estimated effect, with a statement for the report.

    Parameters
    ----------
    result : EffectResult
    measure : {"risk_ratio", "odds_ratio"}
        The default uses the marginal risk ratio the estimators report (no approximation).
        ``odds_ratio`` converts with ``sqrt(OR)`` unless the outcome is rare.
    rare : bool, optional
        For ``odds_ratio``: whether the outcome is rare (< 15%); by default decided from the
        estimated untreated and treated probabilities.
    """
    if not isinstance(result, EffectResult):
        raise AnalysisError(f"expected an EffectResult, got {type(result).__name__}")
    if measure == "risk_ratio":
        est = result.risk_ratio
        point, ci = evalue_rr(est.value, est.ci_low, est.ci_high)
        rr, lo, hi = est.value, est.ci_low, est.ci_high
        label = "risk_ratio"
    elif measure == "odds_ratio":
        est = result.odds_ratio
        if rare is None:
            rare = max(result.p_treated, result.p_untreated) < 0.15
        point, ci = evalue_or(est.value, est.ci_low, est.ci_high, rare=rare)
        conv = (lambda v: v) if rare else math.sqrt
        rr, lo, hi = conv(est.value), conv(est.ci_low), conv(est.ci_high)
        label = (
            "odds_ratio (rare outcome)"
            if rare
            else "odds_ratio (common outcome, sqrt approximation)"
        )
    else:
        raise AnalysisError(f"measure must be 'risk_ratio' or 'odds_ratio', got {measure!r}")
    assert ci is not None
    direction = "higher" if rr > 1 else "lower"
    if ci <= 1.0:
        ci_text = "The confidence interval already includes no effect."
    else:
        ci_text = (
            f"To move the confidence interval to include no effect, a confounder would need "
            f"risk ratios of {ci:.2f} with both."
        )
    statement = (
        f"{result.method} ({result.estimand}) for {result.key}: FDAC associated with "
        f"{direction} risk (risk ratio {rr:.2f}, {result.confidence:.0%} CI {lo:.2f} to {hi:.2f}). "
        f"An unmeasured confounder associated with both FDAC referral and the outcome by a "
        f"risk ratio of at least {point:.2f} each, above and beyond the measured covariates, "
        f"could explain the estimate away; weaker confounding could not. {ci_text}"
    )
    return EValueResult(rr, lo, hi, point, ci, label, statement)


def is_sensitive_to_hidden_bias(
    result: EffectResult, threshold: float = 2.0, *, measure: str = "risk_ratio"
) -> bool:
    """Whether a hidden confounder weaker than ``threshold`` could make the CI include no effect.

    True when the E-value of the confidence limit is below ``threshold`` (a risk ratio with
    both FDAC and the outcome); also True when the interval already includes no effect
    (E-value 1). The default 2.0 is a judgement: a confounder doubling both the chance of
    FDAC referral and of the outcome is plausible in care proceedings (motivation, severity
    not captured by records).
    """
    if not (isinstance(threshold, int | float) and threshold >= 1):
        raise AnalysisError(f"threshold must be a risk ratio >= 1, got {threshold!r}")
    ci = e_value(result, measure=measure).ci
    return bool(ci <= 1.0 or ci < threshold)


def bias_factor(rr_eu: float, rr_ud: float) -> float:
    """Ding & VanderWeele (2016) bounding factor of a confounder of the given strengths.

    Examples
    --------
    >>> round(bias_factor(2.0, 2.0), 4)  # 4 / 3: and the E-value of 4/3 is 2
    1.3333
    """
    _check("rr_eu", rr_eu)
    _check("rr_ud", rr_ud)
    a, b = max(rr_eu, 1 / rr_eu), max(rr_ud, 1 / rr_ud)
    return a * b / (a + b - 1)


def confounder_strength(
    frame: AnalysisFrame, u: np.ndarray, *, n_bins: int = 2
) -> tuple[float, float]:
    """Risk ratios of a known confounder with treatment and with the outcome.

    ``u`` (one value per row of ``frame.data``) is cut into ``n_bins`` quantile groups.
    ``RR_EU = max_k P(U=k | FDAC) / P(U=k | comparison)`` and ``RR_UD = max over arms and
    pairs of groups of P(y | U=k, arm) / P(y | U=k', arm)`` (Ding & VanderWeele 2016; here
    unadjusted for the measured covariates, so an upper-end summary).
    """
    u = np.asarray(u, dtype=float)
    if u.shape != (len(frame.data),) or not np.isfinite(u).all():
        raise AnalysisError(f"u must be {len(frame.data)} finite values, one per row of the frame")
    if not isinstance(n_bins, int) or n_bins < 2:
        raise AnalysisError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    edges = np.quantile(u, np.linspace(0, 1, n_bins + 1)[1:-1])
    k = np.searchsorted(edges, u, side="right")
    t, y = frame.t == 1, frame.y
    rr_eu, rr_ud = 1.0, 1.0
    for g in np.unique(k):
        p1, p0 = np.mean(k[t] == g), np.mean(k[~t] == g)
        if p1 > 0 and p0 > 0:
            rr_eu = max(rr_eu, p1 / p0, p0 / p1)
    for arm in (t, ~t):
        risks = [y[arm & (k == g)].mean() for g in np.unique(k) if (arm & (k == g)).any()]
        risks = [r for r in risks if r > 0]
        if len(risks) > 1:
            rr_ud = max(rr_ud, max(risks) / min(risks))
    return float(rr_eu), float(rr_ud)


def bias_adjusted_risk_ratio(result: EffectResult, bias: float) -> Estimate:
    """The risk ratio and its limits moved towards the null by a bounding factor ``bias``.

    For an estimate above 1 the limits are divided by ``bias`` (below 1, multiplied): the
    most a confounder with that bounding factor could remove.
    """
    if not isinstance(result, EffectResult):
        raise AnalysisError(f"expected an EffectResult, got {type(result).__name__}")
    _check("bias", bias)
    if bias < 1:
        raise AnalysisError(f"bias must be a bounding factor >= 1, got {bias!r}")
    rr = result.risk_ratio
    f = 1 / bias if rr.value >= 1 else bias
    return Estimate("risk_ratio", rr.value * f, rr.se, rr.ci_low * f, rr.ci_high * f)


@dataclass(frozen=True)
class BenchmarkComparison:
    """An estimate tested against external (published) evidence on the same scale.

    Attributes
    ----------
    agrees : bool
        Whether the difference is within what chance allows (``|z|`` below the two-sided
        critical value at ``level``).
    direction : str
        ``"above"`` or ``"below"`` (the estimate differs significantly from the benchmark)
        or ``"consistent"``.
    z, p_value : float
        The test of the difference of the two log estimates with both standard errors:
        ``z = (log est - log bench) / sqrt(se_est^2 + se_bench^2)``, two-sided p.
    se_estimate, se_benchmark : float
        The standard errors on the log scale (the benchmark's from its interval).
    bias_to_benchmark : float
        The risk-ratio bounding factor a hidden confounder would need to move the estimate
        to the benchmark (``RR_est / RR_bench`` or its inverse, >= 1), and ``evalue_to_benchmark``
        its E-value: the equal strength of association with both FDAC and the outcome that
        such a confounder would need (Ding & VanderWeele 2016).
    statement : str
        A plain-English reading for the report.
    """

    agrees: bool
    direction: str
    statement: str
    z: float = 0.0
    p_value: float = 1.0
    se_estimate: float = 0.0
    se_benchmark: float = 0.0
    bias_to_benchmark: float = 1.0
    evalue_to_benchmark: float = 1.0


def format_p(p: float) -> str:
    """A p-value as a report prints it.

    Examples
    --------
    >>> format_p(0.0312), format_p(0.00004)
    ('p = 0.031', 'p < 0.001')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _or_to_rr(odds_ratio: float, p_untreated: float) -> float:
    """The risk ratio an odds ratio implies at the untreated risk ``p_untreated`` (Zhang &
    Yu 1998: ``RR = OR / (1 - p0 + p0 OR)``)."""
    return odds_ratio / (1 - p_untreated + p_untreated * odds_ratio)


def compare_with_benchmark(
    result: EffectResult,
    benchmark: tuple[float, float, float] = ZHANG_REUNIFICATION_OR,
    *,
    measure: str = "odds_ratio",
    source: str = "Zhang et al. meta-analysis of family treatment drug courts",
    level: float = 0.05,
) -> BenchmarkComparison:
    """Test an estimate against published evidence ``(estimate, low, high)`` (a 95% CI).

    The difference of the log estimates is divided by the square root of the sum of both
    variances (the benchmark's standard error is read from its 95% interval on the log
    scale), giving ``z`` and a two-sided p-value: the estimate and the benchmark disagree
    when ``p < level``. An adjusted estimate significantly **above** the published one is
    the pattern docs/fdac-figures.md describes for the NatCen 2023 contrasts: selection into
    FDAC on factors the records do not hold (motivation, severity) inflating the effect. It
    can point to hidden confounding, which an E-value by itself cannot; so can a negative
    control outcome (:func:`negative_control_check`).

    Notes
    -----
    Worked example: an odds ratio of 2.40 with SE(log OR) 0.075 against Zhang et al. (1.75, 1.38 to 2.22;
    SE = (log 2.22 - log 1.38) / 3.92 = 0.1213): z = (0.8755 - 0.5596) / 0.1426 = 2.22.
    """
    if not isinstance(result, EffectResult):
        raise AnalysisError(f"expected an EffectResult, got {type(result).__name__}")
    try:
        b, lo, hi = (float(v) for v in benchmark)
    except (TypeError, ValueError) as err:
        raise AnalysisError(f"benchmark must be (estimate, low, high), got {benchmark!r}") from err
    if not (0 < lo <= b <= hi):
        raise AnalysisError(
            f"benchmark estimate {b} is not inside its interval ({lo}, {hi}) of positive ratios"
        )
    if not 0 < level < 1:
        raise AnalysisError(f"level must be in (0, 1), got {level!r}")
    from scipy.stats import norm

    est = result.measure(measure)
    se_b = (math.log(hi) - math.log(lo)) / (2 * float(norm.ppf(0.975)))
    se_e = float(est.se)
    z = (math.log(est.value) - math.log(b)) / math.sqrt(se_e**2 + se_b**2)
    p = float(2 * norm.sf(abs(z)))
    direction = "consistent" if p >= level else ("above" if z > 0 else "below")
    # the bias a hidden confounder would need, on the risk-ratio scale of this estimate
    rr_est = result.risk_ratio.value
    rr_bench = b if measure == "risk_ratio" else _or_to_rr(b, result.p_untreated)
    bias = max(rr_est / rr_bench, rr_bench / rr_est)
    e_bench = _e(bias) if bias > 1 else 1.0
    name = measure.replace("_", " ")
    text = (
        f"{result.method} ({result.estimand}) {name} {est.value:.2f} "
        f"({est.ci_low:.2f} to {est.ci_high:.2f}) against {source} {b:.2f} ({lo:.2f} to {hi:.2f}): "
        f"difference z = {z:.2f} ({format_p(p)}, allowing for the uncertainty of both); "
    )
    if direction == "consistent":
        text += "consistent with the published evidence."
    else:
        text += (
            f"significantly {direction} the published evidence; selection on factors the "
            "records do not hold (hidden confounding) or a real difference in this population "
            "would explain it. A hidden confounder associated with both FDAC and the outcome by "
            f"a risk ratio of {e_bench:.2f} each would be enough to move the estimate to the "
            "published one."
        )
    return BenchmarkComparison(
        agrees=direction == "consistent",
        direction=direction,
        statement=text,
        z=z,
        p_value=p,
        se_estimate=se_e,
        se_benchmark=se_b,
        bias_to_benchmark=bias,
        evalue_to_benchmark=e_bench,
    )
