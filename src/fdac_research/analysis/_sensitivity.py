"""Sensitivity to unmeasured confounding: E-values (VanderWeele & Ding 2017).

VanderWeele TJ, Ding P. Sensitivity analysis in observational research: introducing the
E-value. Ann Intern Med 2017;167:268-274. For a risk ratio ``RR >= 1``::

    E = RR + sqrt(RR * (RR - 1))

(for ``RR < 1`` use ``1 / RR``). The E-value of the confidence interval is that of the limit
closer to the null, and 1 when the interval contains the null. An odds ratio of a common
outcome (over 15%) is first turned into an approximate risk ratio ``sqrt(OR)``; a rare
outcome's OR is used as a RR. With ``true != 1`` the estimate is shifted to that value
(``RR / true``), as in the R package EValue.

Reading: "an unmeasured confounder associated with both FDAC and the outcome by a risk
ratio of E each, above and beyond the measured covariates, could explain the estimate away;
weaker confounding could not".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._results import EffectResult

__all__ = ["EValueResult", "evalue_rr", "evalue_or", "e_value", "is_sensitive_to_hidden_bias"]


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
