"""Every estimator on one analysis frame, in report order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._estimators import (
    DEFAULT_VARIANCE,
    _check_args,
    aipw,
    g_computation,
    ipw,
    naive_contrast,
    ps_matching,
)
from fdac_research.analysis._frames import AnalysisFrame
from fdac_research.analysis._results import EffectResult

__all__ = ["evaluate", "evaluate_each"]


def _all_estimators(
    caliper: float, kw: dict[str, Any], confidence: float, clustered: bool
) -> list[tuple[str, Callable[[AnalysisFrame], EffectResult]]]:
    return [
        (
            "naive (association)",
            lambda f: naive_contrast(f, confidence=confidence, clustered=clustered),
        ),
        ("g_computation (ATE)", lambda f: g_computation(f, estimand="ATE", **kw)),
        ("g_computation (ATT)", lambda f: g_computation(f, estimand="ATT", **kw)),
        ("ipw (ATE)", lambda f: ipw(f, estimand="ATE", **kw)),
        ("ipw (ATT)", lambda f: ipw(f, estimand="ATT", **kw)),
        ("matching (ATT)", lambda f: ps_matching(f, caliper=caliper, **kw)),
        ("aipw (ATE)", lambda f: aipw(f, **kw)),
    ]


def evaluate_each(
    frame: AnalysisFrame,
    *,
    variance: str = DEFAULT_VARIANCE,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int | None = None,
    caliper: float = 0.2,
    clustered: bool = True,
) -> tuple[list[EffectResult], dict[str, str]]:
    """Every estimator on one frame, keeping those that could be computed.

    Returns the results in report order and, for each estimator that could not be
    computed on these data (no matched controls, an arm with no events once weighted ...),
    the reason, keyed ``"method (estimand)"``. Argument errors still raise.
    """
    _check_args(variance, None, confidence, n_bootstrap, seed if variance == "bootstrap" else 0)
    kw: dict[str, Any] = {
        "variance": variance,
        "clustered": clustered,
        "confidence": confidence,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
    }
    results, failed = [], {}
    for name, fit in _all_estimators(caliper, kw, confidence, clustered):
        try:
            results.append(fit(frame))
        except AnalysisError as err:
            failed[name] = str(err)
    return results, failed


def evaluate(
    frame: AnalysisFrame,
    *,
    variance: str = DEFAULT_VARIANCE,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int | None = None,
    caliper: float = 0.2,
    clustered: bool = True,
) -> list[EffectResult]:
    """Every estimator on one frame, in report order.

    Naive; g-computation (ATE, ATT); IPW (ATE, ATT); matching (ATT); AIPW (ATE). The naive
    contrast always uses the sandwich (it needs no bootstrap). Raises the first estimator's
    error if any cannot be computed (:func:`evaluate_each` keeps the others).
    """
    results, failed = evaluate_each(
        frame,
        variance=variance,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
        caliper=caliper,
        clustered=clustered,
    )
    if failed:
        raise AnalysisError(next(iter(failed.values())))
    return results
