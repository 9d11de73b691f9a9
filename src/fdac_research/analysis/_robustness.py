"""Can the estimate see hidden bias? Two checks that can, and a verdict in words.

An E-value cannot reveal hidden confounding from the data: a confounded estimate is larger
and so looks *more* robust. Two checks can:

* **the published benchmark** (:func:`compare_with_benchmark`): the adjusted estimate tested
  against the meta-analytic evidence with both standard errors;
* **a negative control outcome** (:func:`negative_control_check`): the same adjusted
  estimator on something FDAC cannot have changed (child-protection plans made *before* the
  proceedings). Its true effect is none, so an adjusted "effect" on it measures the
  confounding the adjustment left behind (Lipsitch, Tchetgen Tchetgen & Cohen 2010,
  *Epidemiology* 21:383).

:func:`check_robustness` combines them into one verdict with the reasons, for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._results import EffectResult
from fdac_research.analysis._sensitivity import (
    ZHANG_REUNIFICATION_OR,
    BenchmarkComparison,
    compare_with_benchmark,
    format_p,
)

__all__ = ["NegativeControlCheck", "RobustnessCheck", "negative_control_check", "check_robustness"]


@dataclass(frozen=True)
class NegativeControlCheck:
    """An adjusted estimate on an outcome FDAC cannot have changed.

    ``flagged`` is True when its confidence interval for the odds ratio excludes 1 (no
    effect): confounding the adjustment did not remove.
    """

    result: EffectResult
    flagged: bool
    statement: str


def negative_control_check(
    result: EffectResult, *, what: str = "child-protection plans before the proceedings"
) -> NegativeControlCheck:
    """Read an adjusted estimate on a negative control outcome (true effect: none).

    Notes
    -----
    An odds ratio of 0.62 (0.48 to 0.80) on plans made before the proceedings cannot be an
    effect of FDAC: it is flagged. One of 1.03 (0.78 to 1.36) is not.
    """
    if not isinstance(result, EffectResult):
        raise AnalysisError(f"expected an EffectResult, got {type(result).__name__}")
    o = result.odds_ratio
    flagged = not (o.ci_low <= 1.0 <= o.ci_high)
    text = (
        f"Negative control: FDAC cannot have changed {what}, yet after the same adjustment "
        f"the two groups differ (odds ratio {o.value:.2f}, {result.confidence:.0%} CI "
        f"{o.ci_low:.2f} to {o.ci_high:.2f}): the families differ in ways the adjustment "
        "does not capture."
        if flagged
        else f"Negative control: on {what}, which FDAC cannot have changed, the adjusted "
        f"groups do not differ (odds ratio {o.value:.2f}, {result.confidence:.0%} CI "
        f"{o.ci_low:.2f} to {o.ci_high:.2f}), as they should not."
    )
    return NegativeControlCheck(result, flagged, text)


@dataclass(frozen=True)
class RobustnessCheck:
    """The verdict on one adjusted estimate.

    Attributes
    ----------
    robust : bool or None
        False when a check points to hidden bias; True when every available check passed;
        None when no check could be made.
    reasons : list of str
        Why (one sentence per check that fired).
    statement : str
        The verdict in plain words, for the report.
    benchmark, negative_control
        The checks themselves (None when not available).
    """

    robust: bool | None
    statement: str
    reasons: list[str] = field(default_factory=list)
    benchmark: BenchmarkComparison | None = None
    negative_control: NegativeControlCheck | None = None


def check_robustness(
    primary: EffectResult,
    *,
    negative_control: EffectResult | None = None,
    benchmark: tuple[float, float, float] | None = ZHANG_REUNIFICATION_OR,
    outcome: str = "reunification",
) -> RobustnessCheck:
    """Combine the benchmark test and the negative control into one verdict.

    The estimate is **not robust** when it differs significantly from the benchmark (either
    way) or the negative control shows an effect FDAC cannot have had. With neither check
    available the verdict is None and the statement says that nothing can be concluded.
    """
    bench = compare_with_benchmark(primary, benchmark) if benchmark is not None else None
    nc = negative_control_check(negative_control) if negative_control is not None else None
    reasons = []
    if bench is not None and not bench.agrees:
        reasons.append(
            f"it is significantly {bench.direction} the published evidence "
            f"(z = {bench.z:.2f}, {format_p(bench.p_value)})"
        )
    if nc is not None and nc.flagged:
        o = nc.result.odds_ratio
        reasons.append(
            "a measure FDAC cannot have changed differs between the adjusted groups "
            f"(odds ratio {o.value:.2f}, {o.ci_low:.2f} to {o.ci_high:.2f})"
        )
    o = primary.odds_ratio
    est = f"the {outcome} estimate (odds ratio {o.value:.2f}, {o.ci_low:.2f} to {o.ci_high:.2f})"
    if bench is None and nc is None:
        return RobustnessCheck(
            None,
            f"**Robustness not checked:** neither a published benchmark nor a negative control "
            f"was available for {est}; an E-value alone cannot show hidden bias.",
        )
    if reasons:
        move = (
            f" A hidden confounder associated with both FDAC and {outcome} by a risk ratio of "
            f"{bench.evalue_to_benchmark:.2f} each would be enough to move the estimate to the "
            "published one."
            if bench is not None and not bench.agrees
            else ""
        )
        statement = (
            f"**Not robust to hidden selection:** {est} should not be read as the effect of "
            f"FDAC, because {' and '.join(reasons)}. Families referred to FDAC probably "
            "differ in ways the records do not hold (motivation, severity of misuse)." + move
        )
        return RobustnessCheck(False, statement, reasons, bench, nc)
    done = [
        name
        for name, c in (("the published benchmark", bench), ("the negative control", nc))
        if c is not None
    ]
    statement = (
        f"**No sign of hidden bias:** {est} passed {' and '.join(done)}. This does not prove "
        "there is none: both checks have little power in small evaluations."
    )
    return RobustnessCheck(True, statement, reasons, bench, nc)
