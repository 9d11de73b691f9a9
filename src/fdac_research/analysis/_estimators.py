"""Effect of FDAC on a binary outcome: naive, g-computation, IPW, matching, AIPW.

Every estimator takes an :class:`~fdac_research.analysis.AnalysisFrame` and returns an
:class:`~fdac_research.analysis.EffectResult` with the marginal risk difference, odds ratio
and risk ratio, standard errors and confidence intervals that allow for clustering
(children and parents nested in families, and a family's cases together: ``frame.cluster``,
``family_id`` when the research data has it, else ``case_id``).

Variance (``variance="jackknife"``, the default; ``"sandwich"``; or ``"bootstrap"``)
------------------------------------------------------------------------------------
The default is the **delete-one-cluster jackknife** with ``t(G-1)`` intervals
(:mod:`fdac_research.analysis._jackknife`): with the 100 to 400 families of a real
evaluation the sandwich's intervals are too narrow (measured in ``make bench
BENCH=coverage``), because each family's leverage on the fitted models hides part of its
residual. It is computed for g-computation, IPW and AIPW; matching and the naive contrast
keep the sandwich (the jackknife is not valid for matching; the naive contrast has no
model to refit).

========================  ==========================================================
estimator                 sandwich (cluster-robust, CR1 ``G/(G-1)``)
========================  ==========================================================
``naive_contrast``        exact influence functions of the two proportions (Wald when
                          ``clustered=False``); no bootstrap needed
``g_computation``         influence functions including the outcome model's estimation
                          (M-estimation / delta method)
``ipw``                   influence functions including the propensity model's
                          estimation (Hájek weights, ATE or ATT)
``ps_matching``           conditional on the estimated propensity score and the
                          matches (matched controls reused across treated rows count
                          once per use; clusters absorb the reuse)
``aipw``                  the efficient influence function (nuisance estimation
                          ignored: valid when both models are right, the usual
                          practice for AIPW)
========================  ==========================================================

``variance="bootstrap"`` resamples whole clusters with replacement (``n_bootstrap`` times,
from ``numpy.random.default_rng(seed)``; ``seed`` is required), refits every model, and
reports the bootstrap SD and percentile intervals. It is the more honest choice for
matching (which the sandwich treats as fixed), although the bootstrap is not strictly valid
for nearest-neighbour matching either (Abadie & Imbens 2008).

Propensity and outcome models are main-effects logistic regressions on ``frame.covariates``
(standardised), fitted by Newton-Raphson.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.neighbors import NearestNeighbors

from fdac_research._progress import progress
from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._frames import AnalysisFrame
from fdac_research.analysis._jackknife import JACKKNIFE_METHODS, jackknife_means
from fdac_research.analysis._models import (
    Arrays,
    arrays,
    beta_influence,
    fit_logistic,
    single_threaded,
    subset,
)
from fdac_research.analysis._results import (
    EffectResult,
    cluster_variance,
    measures_from_bootstrap,
    measures_from_influence,
    measures_from_jackknife,
)

__all__ = [
    "naive_contrast",
    "g_computation",
    "ipw",
    "ps_matching",
    "aipw",
    "propensity_scores",
    "ipw_weights",
    "matching_weights",
]

log = logging.getLogger(__name__)
#: The variance methods every estimator accepts (``jackknife`` falls back to the sandwich
#: for matching, where the jackknife is not valid).
VARIANCES = ("sandwich", "jackknife", "bootstrap")
#: The variance every estimator uses unless told otherwise (see the module docstring).
DEFAULT_VARIANCE = "jackknife"
_Core = Callable[..., tuple[float, float, np.ndarray | None, np.ndarray | None, dict[str, Any]]]
_MAX_FAILED_SHARE = 0.05


# ------------------------------------------------------------------------------ cores
def _naive_core(a: Arrays, need_if: bool) -> tuple[float, float, Any, Any, dict[str, Any]]:
    t, y = a.t, a.y
    p1, p0 = float(y[t == 1].mean()), float(y[t == 0].mean())
    if not need_if:
        return p1, p0, None, None, {}
    pt = t.mean()
    return p1, p0, t * (y - p1) / pt, (1 - t) * (y - p0) / (1 - pt), {}


def _outcome_model(a: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Logistic outcome model on [1, t, X]: coefficients, design, m1, m0."""
    Zt = np.column_stack([a.Z[:, :1], a.t, a.Z[:, 1:]])
    beta, _, _ = fit_logistic(Zt, a.y)
    Z1, Z0 = Zt.copy(), Zt.copy()
    Z1[:, 1], Z0[:, 1] = 1.0, 0.0
    return beta, Zt, expit(Z1 @ beta), expit(Z0 @ beta)


def _gcomp_core(
    a: Arrays, need_if: bool, estimand: str
) -> tuple[float, float, Any, Any, dict[str, Any]]:
    beta, Zt, m1, m0 = _outcome_model(a)
    s = np.ones(a.n) if estimand == "ATE" else a.t
    ps = s.mean()
    mu1, mu0 = float(np.sum(s * m1) / np.sum(s)), float(np.sum(s * m0) / np.sum(s))
    if not need_if:
        return mu1, mu0, None, None, {}
    ifb = beta_influence(Zt, a.y, expit(Zt @ beta))
    out = []
    for m, mu, tval in ((m1, mu1, 1.0), (m0, mu0, 0.0)):
        Za = Zt.copy()
        Za[:, 1] = tval
        grad = (Za * (s * m * (1 - m))[:, None]).sum(axis=0) / (a.n * ps)
        out.append(s * (m - mu) / ps + ifb @ grad)
    se_b = np.sqrt(cluster_variance(ifb[:, 1], a.groups))
    details = {
        "conditional_log_odds_ratio": float(beta[1]),
        "conditional_log_odds_ratio_se": float(se_b),
    }
    return mu1, mu0, out[0], out[1], details


def _ps(a: Arrays) -> np.ndarray:
    _, e, _ = fit_logistic(a.Z, a.t)
    return np.asarray(e)


def _ipw_weights(t: np.ndarray, e: np.ndarray, estimand: str) -> tuple[np.ndarray, np.ndarray]:
    if estimand == "ATE":
        return t / e, (1 - t) / (1 - e)
    return t.copy(), (1 - t) * e / (1 - e)


def _ipw_core(
    a: Arrays, need_if: bool, estimand: str
) -> tuple[float, float, Any, Any, dict[str, Any]]:
    e = _ps(a)
    t, y = a.t, a.y
    w1, w0 = _ipw_weights(t, e, estimand)
    mu1, mu0 = float(np.sum(w1 * y) / np.sum(w1)), float(np.sum(w0 * y) / np.sum(w0))
    if not need_if:
        return mu1, mu0, None, None, {}
    n = a.n
    if1 = w1 * (y - mu1) / w1.mean()
    if0 = w0 * (y - mu0) / w0.mean()
    ifa = beta_influence(a.Z, t, e)
    # derivative of each Hajek mean with respect to the propensity coefficients
    d0 = (1 - t) * e / (1 - e) * (y - mu0)
    if0 = if0 + ifa @ ((a.Z * d0[:, None]).sum(axis=0) / n / w0.mean())
    if estimand == "ATE":
        d1 = -t * (1 - e) / e * (y - mu1)
        if1 = if1 + ifa @ ((a.Z * d1[:, None]).sum(axis=0) / n / w1.mean())
    details = {
        "propensity_min": float(e.min()),
        "propensity_max": float(e.max()),
        "max_weight": float(max(w1.max(), w0.max())),
    }
    return mu1, mu0, if1, if0, details


def _match(a: Arrays, caliper: float, n_neighbours: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Matching weights: 1 for matched treated rows, reuse counts for controls."""
    e = np.clip(_ps(a), 1e-12, 1 - 1e-12)
    lp = np.log(e / (1 - e))
    t = a.t == 1
    pooled_sd = (
        float(np.sqrt((lp[t].var(ddof=1) + lp[~t].var(ddof=1)) / 2))
        if t.sum() > 1 and (~t).sum() > 1
        else 0.0
    )
    width = caliper * pooled_sd if np.isfinite(caliper) else np.inf
    ctrl = np.flatnonzero(~t)
    trt = np.flatnonzero(t)
    k = min(n_neighbours, len(ctrl))
    nn = NearestNeighbors(n_neighbors=k).fit(lp[ctrl, None])
    dist, idx = nn.kneighbors(lp[trt, None])
    ok = dist <= width
    n_ok = ok.sum(axis=1)
    w = np.zeros(a.n)
    matched = n_ok > 0
    w[trt[matched]] = 1.0
    share = np.where(ok, 1.0 / np.maximum(n_ok, 1)[:, None], 0.0)
    np.add.at(w, ctrl[idx[ok]], share[ok])
    details = {
        "caliper_sd": caliper,
        "caliper_width": float(width),
        "n_neighbours": k,
        "n_treated_unmatched": int((~matched).sum()),
    }
    return w, details


def _match_core(
    a: Arrays, need_if: bool, caliper: float, n_neighbours: int
) -> tuple[float, float, Any, Any, dict[str, Any]]:
    w, details = _match(a, caliper, n_neighbours)
    t, y = a.t, a.y
    w1, w0 = t * w, (1 - t) * w
    if w1.sum() == 0:
        raise AnalysisError(
            f"no treated row has a control within the caliper ({caliper} SD of the logit propensity); "
            "widen the caliper"
        )
    mu1, mu0 = float(np.sum(w1 * y) / w1.sum()), float(np.sum(w0 * y) / w0.sum())
    if not need_if:
        return mu1, mu0, None, None, details
    return mu1, mu0, w1 * (y - mu1) / w1.mean(), w0 * (y - mu0) / w0.mean(), details


def _aipw_core(a: Arrays, need_if: bool) -> tuple[float, float, Any, Any, dict[str, Any]]:
    _, _, m1, m0 = _outcome_model(a)
    e = _ps(a)
    t, y = a.t, a.y
    phi1 = m1 + t * (y - m1) / e
    phi0 = m0 + (1 - t) * (y - m0) / (1 - e)
    mu1, mu0 = float(phi1.mean()), float(phi0.mean())
    if not need_if:
        return mu1, mu0, None, None, {}
    return (
        mu1,
        mu0,
        phi1 - mu1,
        phi0 - mu0,
        {"propensity_min": float(e.min()), "propensity_max": float(e.max())},
    )


# ------------------------------------------------------------------------------ driver
def _check_args(
    variance: str, estimand: str | None, confidence: float, n_bootstrap: int, seed: int | None
) -> None:
    problems = []
    if variance not in VARIANCES:
        problems.append(f"variance must be one of {', '.join(VARIANCES)}, got {variance!r}")
    if estimand is not None and estimand not in ("ATE", "ATT"):
        problems.append(f"estimand must be 'ATE' or 'ATT', got {estimand!r}")
    if not 0 < confidence < 1:
        problems.append(f"confidence must be in (0, 1), got {confidence!r}")
    if variance == "bootstrap":
        if not isinstance(n_bootstrap, int) or n_bootstrap < 10:
            problems.append(f"n_bootstrap must be an integer >= 10, got {n_bootstrap!r}")
        if seed is None:
            problems.append("variance='bootstrap' needs an explicit seed")
    if problems:
        raise AnalysisError("; ".join(problems))


def _frame_arrays(frame: AnalysisFrame, clustered: bool) -> Arrays:
    if not isinstance(frame, AnalysisFrame):
        raise AnalysisError(
            f"expected an AnalysisFrame (see analysis_frame), got {type(frame).__name__}"
        )
    groups = frame.groups if clustered else np.arange(len(frame.data))
    return arrays(frame.y, frame.t, frame.X, groups)


def _bootstrap(
    core: _Core, a: Arrays, n_bootstrap: int, seed: int, **kw: Any
) -> tuple[np.ndarray, int]:
    """Cluster bootstrap replicates of (p1, p0); failed or degenerate replicates skipped."""
    rng = np.random.default_rng(seed)
    order = np.argsort(a.groups, kind="stable")
    sizes = np.bincount(a.groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_groups = len(sizes)
    reps, failed = [], 0
    for _ in progress(range(n_bootstrap), desc="cluster bootstrap", total=n_bootstrap):
        pick = rng.integers(0, n_groups, n_groups)
        lens = sizes[pick]
        offsets = np.repeat(starts[pick] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
        rows = order[np.arange(lens.sum()) + offsets]
        b = subset(a, rows, np.repeat(np.arange(n_groups), lens))
        if b.t.min() == b.t.max() or b.y.min() == b.y.max():
            failed += 1
            continue
        try:
            p1, p0, *_ = core(b, False, **kw)
        except AnalysisError:
            failed += 1
            continue
        if not (0 < p1 < 1 and 0 < p0 < 1):
            failed += 1
            continue
        reps.append((p1, p0))
    if failed > _MAX_FAILED_SHARE * n_bootstrap:
        raise AnalysisError(
            f"{failed} of {n_bootstrap} bootstrap replicates were degenerate (one arm, no events "
            "or no matches); the data are too small or sparse for the bootstrap"
        )
    return np.array(reps), failed


@single_threaded
def _run(
    frame: AnalysisFrame,
    core: _Core,
    *,
    method: str,
    estimand: str,
    variance: str,
    clustered: bool,
    confidence: float,
    n_bootstrap: int,
    seed: int | None,
    core_kw: dict[str, Any] | None = None,
) -> EffectResult:
    _check_args(
        variance, None if estimand == "association" else estimand, confidence, n_bootstrap, seed
    )
    a = _frame_arrays(frame, clustered)
    kw = dict(core_kw or {})
    p1, p0, if1, if0, details = core(a, True, **kw)
    if not (0 < p1 < 1 and 0 < p0 < 1):
        raise AnalysisError(
            f"{method}: estimated outcome probabilities ({p1:.3g} treated, {p0:.3g} untreated) "
            "are not strictly between 0 and 1; ratios are undefined"
        )
    details = dict(details)
    jackknifed = False
    if variance == "jackknife" and method in JACKKNIFE_METHODS:
        try:
            reps = jackknife_means(a, method, estimand)
            rd, or_, rr = measures_from_jackknife(p1, p0, reps, confidence)
            jackknifed = True
            how = (
                "cluster jackknife, t(G-1)"
                if clustered and frame.cluster
                else "jackknife (independent rows), t(n-1)"
            )
        except AnalysisError as err:
            # one family holds all of an arm's events (or non-events): no jackknife interval
            # exists; the sandwich is reported and says so
            log.info("%s %s: jackknife undefined (%s); sandwich used", method, frame.key, err)
            details["jackknife_undefined"] = True
    if variance in ("sandwich", "jackknife") and not jackknifed:
        assert if1 is not None and if0 is not None
        rd, or_, rr = measures_from_influence(p1, p0, if1, if0, a.groups, confidence)
        how = (
            "cluster-robust sandwich" if clustered and frame.cluster else "wald (independent rows)"
        )
        if details.get("jackknife_undefined"):
            how += " (jackknife undefined: one family holds an arm's events)"
    elif variance == "bootstrap":
        assert seed is not None
        reps, failed = _bootstrap(core, a, n_bootstrap, seed, **kw)
        rd, or_, rr = measures_from_bootstrap(p1, p0, reps, confidence)
        how = "cluster bootstrap" if clustered and frame.cluster else "bootstrap (independent rows)"
        details.update({"n_bootstrap": n_bootstrap, "seed": seed, "n_bootstrap_failed": failed})
    t = a.t
    if method == "matching":
        w, _ = _match(a, kw["caliper"], kw["n_neighbours"])
        used = w > 0
        n, n1, n0 = int(used.sum()), int((used & (t == 1)).sum()), int((used & (t == 0)).sum())
        n_clusters = len(np.unique(a.groups[used]))
    else:
        n, n1 = a.n, int(t.sum())
        n0, n_clusters = n - n1, len(np.unique(a.groups))
    if "conditional_log_odds_ratio" in details:
        from scipy.stats import norm

        z = float(norm.ppf(0.5 + confidence / 2))
        b, se = (
            details.pop("conditional_log_odds_ratio"),
            details.pop("conditional_log_odds_ratio_se"),
        )
        details["conditional_odds_ratio"] = float(np.exp(b))
        details["conditional_odds_ratio_ci"] = (
            float(np.exp(b - z * se)),
            float(np.exp(b + z * se)),
        )
    log.info(
        "%s %s %s: RD %.3f OR %.3f (%s)", method, estimand, frame.key, rd.value, or_.value, how
    )
    return EffectResult(
        method=method,
        estimand=estimand,
        outcome=frame.outcome,
        population=frame.population,
        risk_difference=rd,
        odds_ratio=or_,
        risk_ratio=rr,
        p_treated=p1,
        p_untreated=p0,
        n=n,
        n_treated=n1,
        n_untreated=n0,
        n_clusters=n_clusters,
        variance=how,
        confidence=confidence,
        details=details,
    )


# ------------------------------------------------------------------------------ public
def naive_contrast(
    frame: AnalysisFrame, *, clustered: bool = True, confidence: float = 0.95
) -> EffectResult:
    """Unadjusted FDAC vs comparison contrast of outcome proportions.

    With ``clustered=False`` the intervals are the textbook Wald intervals
    (``SE(RD)^2 = p1(1-p1)/n1 + p0(1-p0)/n0``, ``SE(log OR)^2 = 1/a + 1/b + 1/c + 1/d``);
    with ``clustered=True`` (default) the same influence functions summed within clusters.

    Examples
    --------
    >>> import pandas as pd
    >>> from fdac_research.analysis import AnalysisFrame, naive_contrast
    >>> df = pd.DataFrame({"t": [1, 1, 1, 1, 0, 0, 0, 0], "y": [1, 1, 1, 0, 1, 0, 0, 0]})
    >>> r = naive_contrast(AnalysisFrame.from_dataframe(df, outcome="y", treatment="t"))
    >>> round(r.risk_difference.value, 2), round(r.odds_ratio.value, 1)
    (0.5, 9.0)
    """
    return _run(
        frame,
        _naive_core,
        method="naive",
        estimand="association",
        variance="sandwich",
        clustered=clustered,
        confidence=confidence,
        n_bootstrap=0,
        seed=None,
    )


def g_computation(
    frame: AnalysisFrame,
    *,
    estimand: str = "ATE",
    variance: str = DEFAULT_VARIANCE,
    clustered: bool = True,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int | None = None,
) -> EffectResult:
    """Covariate-adjusted effect: logistic outcome model, then marginal standardisation.

    Fits ``logit P(y) = a + b*t + c'X``, predicts every row's risk with ``t`` set to 1 and to
    0, and averages over everyone (ATE) or the FDAC rows (ATT). ``details`` also holds the
    conditional odds ratio ``exp(b)`` and its interval.
    """
    return _run(
        frame,
        _gcomp_core,
        method="g_computation",
        estimand=estimand,
        variance=variance,
        clustered=clustered,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
        core_kw={"estimand": estimand},
    )


def ipw(
    frame: AnalysisFrame,
    *,
    estimand: str = "ATE",
    variance: str = DEFAULT_VARIANCE,
    clustered: bool = True,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int | None = None,
) -> EffectResult:
    """Inverse-probability-of-treatment weighting (normalised, Hájek) for the ATE or ATT.

    ATE weights ``1/e`` (FDAC) and ``1/(1-e)`` (comparison); ATT weights 1 and ``e/(1-e)``,
    with ``e`` the logistic propensity score. No trimming: ``details`` reports the extreme
    propensities and the largest weight so that poor overlap is visible.
    """
    return _run(
        frame,
        _ipw_core,
        method="ipw",
        estimand=estimand,
        variance=variance,
        clustered=clustered,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
        core_kw={"estimand": estimand},
    )


def ps_matching(
    frame: AnalysisFrame,
    *,
    caliper: float = 0.2,
    n_neighbours: int = 1,
    variance: str = DEFAULT_VARIANCE,
    clustered: bool = True,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int | None = None,
) -> EffectResult:
    """Nearest-neighbour propensity-score matching (with replacement) for the ATT.

    Each FDAC row is matched to its ``n_neighbours`` nearest comparison rows on the logit of
    the propensity score, within ``caliper`` pooled standard deviations of that logit (0.2 as
    recommended by Austin 2011; ``float('inf')`` for none). FDAC rows without a match are
    dropped (``details['n_treated_unmatched']``), which changes the estimand to the matched
    FDAC rows.
    """
    if not (caliper > 0):
        raise AnalysisError(
            f"caliper must be positive (SDs of the logit propensity), got {caliper!r}"
        )
    if not isinstance(n_neighbours, int) or n_neighbours < 1:
        raise AnalysisError(f"n_neighbours must be a positive integer, got {n_neighbours!r}")
    return _run(
        frame,
        _match_core,
        method="matching",
        estimand="ATT",
        variance=variance,
        clustered=clustered,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
        core_kw={"caliper": float(caliper), "n_neighbours": n_neighbours},
    )


def aipw(
    frame: AnalysisFrame,
    *,
    variance: str = DEFAULT_VARIANCE,
    clustered: bool = True,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int | None = None,
) -> EffectResult:
    """Doubly robust augmented IPW estimate of the ATE.

    Consistent if either the propensity model or the outcome model is right.
    """
    return _run(
        frame,
        _aipw_core,
        method="aipw",
        estimand="ATE",
        variance=variance,
        clustered=clustered,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )


@single_threaded
def propensity_scores(frame: AnalysisFrame) -> np.ndarray:
    """Estimated probability of FDAC given the covariates (main-effects logistic model)."""
    return _ps(_frame_arrays(frame, clustered=False))


@single_threaded
def ipw_weights(frame: AnalysisFrame, estimand: str = "ATE") -> np.ndarray:
    """Inverse-probability weights per row (see :func:`ipw`)."""
    _check_args("sandwich", estimand, 0.95, 0, None)
    a = _frame_arrays(frame, clustered=False)
    w1, w0 = _ipw_weights(a.t, _ps(a), estimand)
    return np.asarray(w1 + w0)


@single_threaded
def matching_weights(
    frame: AnalysisFrame, caliper: float = 0.2, n_neighbours: int = 1
) -> np.ndarray:
    """Matching weights per row (see :func:`ps_matching`): 0 for rows not used."""
    w, _ = _match(_frame_arrays(frame, clustered=False), float(caliper), n_neighbours)
    return w
