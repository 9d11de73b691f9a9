"""Analysis fidelity: do the evaluation's findings survive synthesis?

The FDAC-vs-comparison effects on reunification (children) and on cessation of misuse
(mothers) are estimated on the real and on the synthetic data with the evaluation's own
estimators (:mod:`fdac_research.analysis`: the unadjusted contrast and the g-computation
ATE, cluster-robust by case), and compared: whether the 95% intervals overlap, whether the
synthetic point estimate lies inside the real interval, and the interval-overlap measure of
Karr, Kohnen, Oganian, Reiter & Sanil (2006, The American Statistician 60(3)):
``0.5 * (overlap / real width + overlap / synthetic width)``, 1 when the intervals coincide.
"""

from __future__ import annotations

import logging
from typing import Any

from fdac_research.analysis import AnalysisError, analysis_frame, g_computation, naive_contrast
from fdac_research.dataset import ResearchData

__all__ = ["EFFECTS", "effect_fidelity", "interval_overlap"]

log = logging.getLogger(__name__)

#: (outcome, population) pairs the evaluation reports.
EFFECTS = (("reunified", "children"), ("ceased_misuse", "mothers"))
_METHODS = {"naive": naive_contrast, "g_computation": g_computation}


def interval_overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Karr et al. (2006) confidence-interval overlap of ``a`` (real) and ``b`` (synthetic).

    >>> interval_overlap((0.0, 1.0), (0.0, 1.0))
    1.0
    >>> interval_overlap((0.0, 1.0), (0.5, 1.5))
    0.5
    >>> interval_overlap((0.0, 1.0), (2.0, 3.0))
    0.0
    """
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    ov = max(0.0, hi - lo)
    wa, wb = a[1] - a[0], b[1] - b[0]
    if wa <= 0 or wb <= 0:
        return float(ov > 0)
    return 0.5 * (ov / wa + ov / wb)


def _estimate(data: ResearchData, outcome: str, population: str, method: str) -> dict[str, Any]:
    frame = analysis_frame(data, outcome, population)
    res = _METHODS[method](frame)
    rd = res.risk_difference
    orr = res.odds_ratio
    return {
        "risk_difference": rd.value,
        "ci": [rd.ci_low, rd.ci_high],
        "odds_ratio": orr.value,
        "odds_ratio_ci": [orr.ci_low, orr.ci_high],
        "p_treated": res.p_treated,
        "p_untreated": res.p_untreated,
        "n": res.n,
        "n_clusters": res.n_clusters,
    }


def effect_fidelity(real: ResearchData, synthetic: ResearchData) -> list[dict[str, Any]]:
    """One row per effect and method: real and synthetic estimates and how they compare.

    An effect that cannot be estimated on one side (no events, one arm) is reported with
    ``error`` and counts as not reproduced.
    """
    rows = []
    for outcome, population in EFFECTS:
        for method in _METHODS:
            row: dict[str, Any] = {"outcome": outcome, "population": population, "method": method}
            try:
                r = _estimate(real, outcome, population, method)
                s = _estimate(synthetic, outcome, population, method)
            except AnalysisError as err:
                log.warning("fidelity %s/%s (%s): %s", outcome, population, method, err)
                row.update(error=str(err), ci_overlap=False, inside_real_ci=False, overlap=0.0)
                rows.append(row)
                continue
            row["real"], row["synthetic"] = r, s
            row["ci_overlap"] = bool(s["ci"][0] <= r["ci"][1] and r["ci"][0] <= s["ci"][1])
            row["inside_real_ci"] = bool(r["ci"][0] <= s["risk_difference"] <= r["ci"][1])
            row["overlap"] = interval_overlap((r["ci"][0], r["ci"][1]), (s["ci"][0], s["ci"][1]))
            row["same_sign"] = bool((r["risk_difference"] > 0) == (s["risk_difference"] > 0))
            rows.append(row)
    return rows
