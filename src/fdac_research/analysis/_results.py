"""Result objects of the outcome evaluation and how their intervals are computed.

Every estimator produces the two arm means ``p_treated`` and ``p_untreated`` (of the
estimand's population) and, for the sandwich variance, each row's *influence function*
for both. The risk difference, odds ratio and risk ratio and their standard errors follow
by the delta method:

* RD: ``IF1 - IF0``;
* log OR: ``IF1 / (p1 (1 - p1)) - IF0 / (p0 (1 - p0))``;
* log RR: ``IF1 / p1 - IF0 / p0``.

Cluster-robust (sandwich) variance of a mean of influence functions::

    V = G / (G - 1) * sum_g (sum_{i in g} IF_i)^2 / n^2

with ``G`` clusters (the usual CR1 small-sample factor ``G/(G-1)``; it is omitted when every
row is its own cluster, which gives exactly the textbook Wald variances, e.g.
``p1 (1 - p1) / n1 + p0 (1 - p0) / n0`` for the naive RD). Intervals are
``estimate ± z * SE`` (on the log scale for ratios). Bootstrap results use percentile
intervals and report the bootstrap standard deviation as SE.

Delete-one-cluster jackknife (:mod:`fdac_research.analysis._jackknife`): with
``theta_(g)`` the measure (RD, log OR, log RR) recomputed without cluster ``g``::

    V = (G - 1) / G * sum_g (theta_(g) - mean_g theta_(g))^2

and intervals ``estimate ± t_{G-1} * SE``, the t quantile with ``G - 1`` degrees of freedom
(as for CR2/CR3 variances with few clusters).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

from fdac_research.analysis._errors import AnalysisError

__all__ = ["Estimate", "EffectResult", "cluster_variance", "measures_from_jackknife"]


@dataclass(frozen=True)
class Estimate:
    """One effect measure with its standard error and confidence interval.

    Attributes
    ----------
    measure : str
        ``risk_difference``, ``odds_ratio`` or ``risk_ratio``.
    value : float
        Point estimate (a ratio for ratio measures).
    se : float
        Standard error: on the RD scale for the risk difference, on the **log** scale for
        ratios.
    ci_low, ci_high : float
        Confidence limits on the measure's own scale.
    """

    measure: str
    value: float
    se: float
    ci_low: float
    ci_high: float

    def covers(self, truth: float) -> bool:
        """Whether the interval contains ``truth``."""
        return bool(self.ci_low <= truth <= self.ci_high)

    @property
    def null(self) -> float:
        """The no-effect value (0 for a difference, 1 for a ratio)."""
        return 0.0 if self.measure == "risk_difference" else 1.0

    def excludes_null(self) -> bool:
        """Whether the interval excludes no effect."""
        return not self.covers(self.null)


@dataclass(frozen=True)
class EffectResult:
    """The estimated effect of FDAC (treatment) on a binary outcome.

    Attributes
    ----------
    method : str
        ``naive``, ``g_computation``, ``ipw``, ``matching`` or ``aipw``.
    estimand : str
        ``ATE`` (everyone) or ``ATT`` (the FDAC families); ``association`` for the naive
        contrast.
    outcome, population : str
        What was estimated, for whom (the truth key is ``f"{outcome}_{population}"``).
    risk_difference, odds_ratio, risk_ratio : Estimate
        Marginal effect measures (the odds ratio is the marginal one, from the two arm
        probabilities, not a conditional regression coefficient).
    p_treated, p_untreated : float
        Estimated outcome probability with and without FDAC in the estimand's population.
    n, n_treated, n_untreated, n_clusters : int
        Rows used (for matching: matched treated rows and distinct matched controls).
    variance : str
        How the SEs were computed: ``wald`` (independent rows), ``cluster-robust sandwich``
        or ``cluster bootstrap``.
    confidence : float
        Confidence level of the intervals.
    details : mapping
        Method-specific extras (bootstrap reps and seed, caliper, unmatched, conditional OR).
    """

    method: str
    estimand: str
    outcome: str
    population: str
    risk_difference: Estimate
    odds_ratio: Estimate
    risk_ratio: Estimate
    p_treated: float
    p_untreated: float
    n: int
    n_treated: int
    n_untreated: int
    n_clusters: int
    variance: str
    confidence: float = 0.95
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``<outcome>_<population>``: the key of this analysis in ``truth/effects.json``."""
        return f"{self.outcome}_{self.population}"

    def measure(self, name: str) -> Estimate:
        """The :class:`Estimate` called ``name``."""
        if name not in ("risk_difference", "odds_ratio", "risk_ratio"):
            raise ValueError(
                f"unknown measure {name!r}; expected risk_difference, odds_ratio or risk_ratio"
            )
        est: Estimate = getattr(self, name)
        return est


def cluster_variance(influence: np.ndarray, groups: np.ndarray, *, correct: bool = True) -> float:
    """Cluster-robust variance of the mean whose influence functions are ``influence``.

    Parameters
    ----------
    influence : array of shape (n,)
        Each row's influence function (mean zero).
    groups : array of shape (n,)
        Integer cluster codes ``0 .. G-1``.
    correct : bool
        Multiply by ``G / (G - 1)`` (skipped automatically when every row is its own
        cluster).

    Examples
    --------
    >>> import numpy as np
    >>> round(cluster_variance(np.array([1.0, -1.0, 1.0, -1.0]), np.arange(4)), 6)
    0.25
    """
    n = len(influence)
    sums = np.bincount(groups, weights=influence)
    g = len(sums)
    v = float(np.sum(sums**2)) / n**2
    if correct and g < n and g > 1:
        v *= g / (g - 1)
    return v


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def _exp(x: float) -> float:
    """``exp`` that gives ``inf`` instead of raising on overflow."""
    return math.exp(x) if x < 709 else math.inf


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def measures_from_influence(
    p1: float,
    p0: float,
    if1: np.ndarray,
    if0: np.ndarray,
    groups: np.ndarray,
    confidence: float,
) -> tuple[Estimate, Estimate, Estimate]:
    """RD, OR and RR estimates with sandwich SEs from arm means and influence functions."""
    z = _z(confidence)
    rd_if = if1 - if0
    lor_if = if1 / (p1 * (1 - p1)) - if0 / (p0 * (1 - p0))
    lrr_if = if1 / p1 - if0 / p0
    rd = p1 - p0
    se_rd = math.sqrt(cluster_variance(rd_if, groups))
    lor = _logit(p1) - _logit(p0)
    se_lor = math.sqrt(cluster_variance(lor_if, groups))
    lrr = math.log(p1 / p0)
    se_lrr = math.sqrt(cluster_variance(lrr_if, groups))
    return (
        Estimate("risk_difference", rd, se_rd, rd - z * se_rd, rd + z * se_rd),
        Estimate(
            "odds_ratio",
            math.exp(lor),
            se_lor,
            math.exp(lor - z * se_lor),
            math.exp(lor + z * se_lor),
        ),
        Estimate(
            "risk_ratio",
            math.exp(lrr),
            se_lrr,
            math.exp(lrr - z * se_lrr),
            math.exp(lrr + z * se_lrr),
        ),
    )


def measures_from_bootstrap(
    p1: float, p0: float, reps: np.ndarray, confidence: float
) -> tuple[Estimate, Estimate, Estimate]:
    """RD, OR and RR with bootstrap SEs and percentile intervals.

    ``reps`` has shape (B, 2): bootstrap arm means ``(p1*, p0*)`` strictly inside (0, 1).
    """
    a = (1 - confidence) / 2
    b1, b0 = reps[:, 0], reps[:, 1]
    out = []
    for name, point, boot, to_scale in (
        ("risk_difference", p1 - p0, b1 - b0, None),
        (
            "odds_ratio",
            _logit(p1) - _logit(p0),
            np.log(b1 / (1 - b1)) - np.log(b0 / (1 - b0)),
            np.exp,
        ),
        ("risk_ratio", math.log(p1 / p0), np.log(b1 / b0), np.exp),
    ):
        se = float(np.std(boot, ddof=1))
        lo, hi = (float(q) for q in np.quantile(boot, [a, 1 - a]))
        if to_scale is None:
            out.append(Estimate(name, point, se, lo, hi))
        else:
            out.append(Estimate(name, math.exp(point), se, math.exp(lo), math.exp(hi)))
    return out[0], out[1], out[2]


def measures_from_jackknife(
    p1: float, p0: float, reps: np.ndarray, confidence: float
) -> tuple[Estimate, Estimate, Estimate]:
    """RD, OR and RR with delete-one-cluster jackknife SEs and ``t_{G-1}`` intervals.

    ``reps`` has shape (G, 2): the arm means ``(p1, p0)`` with each cluster left out.

    Examples
    --------
    Four clusters whose left-out risk differences are 0.2, 0.1, 0.3 and 0.2 (hand-worked:
    mean 0.2, V = 3/4 * (0 + 0.01 + 0.01 + 0) = 0.015, SE = 0.1225, t_3 = 3.182):

    >>> import numpy as np
    >>> reps = np.array([[0.6, 0.4], [0.5, 0.4], [0.6, 0.3], [0.5, 0.3]])
    >>> rd, _, _ = measures_from_jackknife(0.55, 0.35, reps, 0.95)
    >>> round(rd.se, 4), round(rd.ci_low, 3), round(rd.ci_high, 3)
    (0.1225, -0.19, 0.59)
    """
    if not (np.isfinite(reps).all() and (reps > 0).all() and (reps < 1).all()):
        raise AnalysisError(
            "leaving one family out leaves an arm with no events or no non-events: too few "
            "families carry this outcome for a jackknife interval"
        )
    g = len(reps)
    q = float(student_t.ppf(0.5 + confidence / 2, df=max(g - 1, 1)))
    b1, b0 = reps[:, 0], reps[:, 1]
    out = []
    for name, point, loo, to_scale in (
        ("risk_difference", p1 - p0, b1 - b0, None),
        ("odds_ratio", _logit(p1) - _logit(p0), np.log(b1 / (1 - b1) / (b0 / (1 - b0))), _exp),
        ("risk_ratio", math.log(p1 / p0), np.log(b1 / b0), _exp),
    ):
        se = math.sqrt((g - 1) / g * float(np.sum((loo - loo.mean()) ** 2)))
        lo, hi = point - q * se, point + q * se
        if to_scale is None:
            out.append(Estimate(name, point, se, lo, hi))
        else:
            out.append(Estimate(name, to_scale(point), se, to_scale(lo), to_scale(hi)))
    return out[0], out[1], out[2]
