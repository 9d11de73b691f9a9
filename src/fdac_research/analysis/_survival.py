"""Time to the family's next care proceedings: Kaplan-Meier curves by cohort and a Cox model.

The unit is the *case*: from its final hearing, the time to the first later case naming
any of its people (``cases.years_to_later_case`` of the research build), censored at the
end of follow-up (``cases.follow_up_years``) when none began. Open cases (no final
hearing) and cases with no follow-up left are not at risk and are dropped (counted).

* :func:`survival_frame` builds the rows (time, event, cohort, covariates, cluster) from a
  research dataset, with the adjustment set of the other estimators at case level: the
  case's ``application_year`` and ``n_children`` and the mother's covariates (age, a flag
  per substance, domestic abuse, mental health, prior proceedings, convictions; missing
  values flagged and filled as :mod:`fdac_research.analysis._frames` does). The cluster is
  ``family_id`` (cases joined by a person named in both) when the research folder has it,
  else ``case_id``.
* :func:`kaplan_meier` is the product-limit estimator with Greenwood's variance::

      S(t) = prod_{t_i <= t} (1 - d_i / n_i)
      Var S(t) = S(t)^2 * sum_{t_i <= t} d_i / (n_i (n_i - d_i))

  and a ``plain`` (S +- z SE, clipped to [0, 1]) or ``log-log`` interval
  (``S^exp(+-z SE / (S log S))``, Kalbfleisch & Prentice 2002, which stays inside [0, 1]).
  Rows are censored *after* the events at the same time (the usual convention).
* :func:`cox_model` fits a proportional-hazards model of the hazard of a later case on
  FDAC (``statsmodels`` ``PHReg``, Breslow ties) with or without the covariates; the
  standard errors are cluster-robust (Lin & Wei 1989 score residuals summed within
  clusters, ``PHReg.fit(groups=...)``) times the CR1 factor ``G / (G - 1)`` used by the
  other estimators; the interval for the hazard ratio is ``exp(b +- z SE)``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._frames import (
    CASE_COVARIATES,
    MOTHER_COLUMNS,
    _fill_and_prune,
    _require,
    case_clusters,
    case_covariates,
    mother_covariates,
    with_mother,
)
from fdac_research.dataset import ResearchData

__all__ = [
    "SurvivalFrame",
    "CoxResult",
    "survival_frame",
    "kaplan_meier",
    "kaplan_meier_by_cohort",
    "survival_at",
    "cox_model",
]

log = logging.getLogger(__name__)

# the adjustment set is the analysis frame's (case covariates and the mother's), so the two
# cannot drift apart
_CASE_COLUMNS = ("case_id", "cohort", *CASE_COVARIATES)
_TIME_COLUMNS = ("years_to_later_case", "follow_up_years")


@dataclass(frozen=True)
class SurvivalFrame:
    """One row per case at risk of a later case.

    Attributes
    ----------
    data : DataFrame
        ``case_id``, ``cohort``, ``treated`` (0/1), ``time`` (years, > 0), ``event`` (0/1),
        the cluster column and the covariates.
    covariates : tuple of str
        Columns adjusted for by :func:`cox_model`.
    cluster : str
        Column identifying clusters (``family_id`` or ``case_id``).
    n_dropped : int
        Cases not at risk (open, or no follow-up left).
    notes : tuple of str
        What was done to the data.
    """

    data: pd.DataFrame
    covariates: tuple[str, ...]
    cluster: str = "family_id"
    n_dropped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CoxResult:
    """The FDAC hazard ratio of a later case (cluster-robust interval)."""

    hazard_ratio: float
    ci_low: float
    ci_high: float
    log_hr: float
    se: float
    p_value: float
    n: int
    n_events: int
    n_clusters: int
    adjusted: bool
    covariates: tuple[str, ...]
    level: float = 0.95

    def covers(self, value: float) -> bool:
        """Whether the interval holds ``value`` (a planted hazard ratio, say)."""
        return bool(self.ci_low <= value <= self.ci_high)

    def as_dict(self) -> dict[str, Any]:
        """The result as a flat mapping (for a table)."""
        return {
            "hazard_ratio": self.hazard_ratio,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "se_log_hr": self.se,
            "p_value": self.p_value,
            "n": self.n,
            "n_events": self.n_events,
            "n_clusters": self.n_clusters,
            "adjusted": self.adjusted,
        }


def survival_frame(research: ResearchData) -> SurvivalFrame:
    """Cases at risk of a later case, with their time, event, covariates and cluster.

    Raises
    ------
    AnalysisError
        Not a research dataset; ``cases`` without ``years_to_later_case`` and
        ``follow_up_years`` (a research folder built before they existed: rebuild it);
        a negative time; no case at risk; or one cohort only.
    """
    if not isinstance(research, ResearchData):
        raise AnalysisError(
            f"expected ResearchData (dataset.load_research), got {type(research).__name__}"
        )
    cases, adults = research.cases, research.adults
    _require(cases, _CASE_COLUMNS + _TIME_COLUMNS, "cases")
    _require(adults, MOTHER_COLUMNS, "adults")
    cluster, cluster_note = case_clusters(cases)
    c = cases.copy()
    later = c["years_to_later_case"].astype("Float64").astype(float)
    follow = c["follow_up_years"].astype("Float64").astype(float)
    for name, v in (("years_to_later_case", later), ("follow_up_years", follow)):
        if (v < 0).any():
            i = int(np.flatnonzero((v < 0).to_numpy())[0])
            raise AnalysisError(
                f"cases.{name} has a negative value ({v.iloc[i]!r} for case_id "
                f"{c['case_id'].iloc[i]!r}); expected years >= 0"
            )
    event = later.notna()
    time = later.where(event, follow)
    at_risk = time.notna() & (time > 0)
    n_dropped = int((~at_risk).sum())
    c = c.assign(time=time, event=event.astype(np.int64), treated=(c["cohort"] == "fdac"))
    c = c[at_risk.to_numpy()].copy()
    if c.empty:
        raise AnalysisError(
            f"no case at risk of a later case ({n_dropped} open or without follow-up)"
        )
    if c["treated"].nunique() < 2:
        raise AnalysisError(
            f"only one cohort ({c['cohort'].iloc[0]!r}) among {len(c)} cases at risk; a "
            "hazard ratio needs both"
        )
    c["treated"] = c["treated"].astype(np.int64)
    mcov, _ = mother_covariates(adults)
    rows = with_mother(case_covariates(c), mcov)
    covs = [*CASE_COVARIATES, *[x for x in mcov.columns if x != "case_id"]]
    rows = rows.sort_values("case_id", kind="stable").reset_index(drop=True)
    rows, kept, notes = _fill_and_prune(rows, covs)
    keep = ["case_id", "cohort", "treated", "time", "event"]
    keep += [cluster] if cluster != "case_id" else []
    keep += [x for x in rows.columns if x in set(covs) or x.endswith("_missing")]
    notes = [f"{n_dropped} case(s) not at risk (open, or no follow-up left)", cluster_note, *notes]
    return SurvivalFrame(
        data=rows[list(dict.fromkeys(keep))].reset_index(drop=True),
        covariates=tuple(kept),
        cluster=cluster,
        n_dropped=n_dropped,
        notes=tuple(notes),
    )


def kaplan_meier(
    time: np.ndarray | pd.Series,
    event: np.ndarray | pd.Series,
    *,
    level: float = 0.95,
    ci: str = "log-log",
) -> pd.DataFrame:
    """The Kaplan-Meier estimate with Greenwood standard errors (module docstring).

    Parameters
    ----------
    time : array
        Time to the event or to censoring (finite, >= 0).
    event : array
        1 (or True) for an event, 0 for censoring.
    level : float
        Confidence level of the interval.
    ci : {"log-log", "plain"}
        Interval on the log(-log S) scale or on S itself.

    Returns
    -------
    DataFrame
        One row per distinct time with an event or a censoring: ``time``, ``n_at_risk``,
        ``n_events``, ``n_censored``, ``survival``, ``se`` (Greenwood), ``ci_low``,
        ``ci_high``.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1], ci="plain")
    >>> km[["time", "n_at_risk", "n_events", "survival"]].values.tolist()
    [[1.0, 4.0, 1.0, 0.75], [2.0, 3.0, 1.0, 0.5], [3.0, 1.0, 1.0, 0.0]]
    """
    t = np.asarray(time, dtype=float)
    d = np.asarray(event)
    if t.shape != d.shape or t.ndim != 1:
        raise AnalysisError(
            f"time and event must be 1-d of one length, got {t.shape} and {d.shape}"
        )
    if len(t) == 0:
        raise AnalysisError("no rows: a survival curve needs at least one")
    if not np.isfinite(t).all() or (t < 0).any():
        i = int(np.flatnonzero(~np.isfinite(t) | (t < 0))[0])
        raise AnalysisError(f"time must be finite and >= 0; row {i} is {t[i]!r}")
    d = d.astype(float)
    if not np.isin(d, (0.0, 1.0)).all():
        raise AnalysisError(f"event must be 0/1; found {sorted(set(d) - {0.0, 1.0})[:5]}")
    if ci not in ("log-log", "plain"):
        raise AnalysisError(f"ci must be 'log-log' or 'plain', got {ci!r}")
    if not 0 < level < 1:
        raise AnalysisError(f"level must be in (0, 1), got {level!r}")
    times, inv = np.unique(t, return_inverse=True)
    events = np.bincount(inv, weights=d, minlength=len(times))
    total = np.bincount(inv, minlength=len(times)).astype(float)
    at_risk = total[::-1].cumsum()[::-1]
    surv = np.cumprod(1 - events / at_risk)
    # where everyone at risk had the event S drops to 0: its SE is 0 (set below)
    safe = np.where(at_risk > events, at_risk * (at_risk - events), 1.0)
    greenwood = np.cumsum(np.where(at_risk > events, events / safe, 0.0))
    se = surv * np.sqrt(greenwood)
    z = float(stats.norm.ppf(0.5 + level / 2))
    if ci == "plain":
        lo, hi = np.clip(surv - z * se, 0, 1), np.clip(surv + z * se, 0, 1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            s_ll = np.sqrt(greenwood) / np.log(surv)  # SE of log(-log S), up to sign
            lo = surv ** np.exp(-z * s_ll)
            hi = surv ** np.exp(z * s_ll)
        edge = (surv <= 0) | (surv >= 1)
        lo, hi = np.where(edge, surv, lo), np.where(edge, surv, hi)
    se = np.where(surv <= 0, 0.0, se)
    lo = np.where(surv <= 0, 0.0, lo)
    hi = np.where(surv <= 0, 0.0, hi)
    return pd.DataFrame(
        {
            "time": times,
            "n_at_risk": at_risk,
            "n_events": events,
            "n_censored": total - events,
            "survival": surv,
            "se": se,
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def kaplan_meier_by_cohort(
    frame: SurvivalFrame, *, level: float = 0.95, ci: str = "log-log"
) -> pd.DataFrame:
    """:func:`kaplan_meier` per cohort (a ``cohort`` column first; comparison, then fdac).

    Unadjusted: the cohorts differ in who was referred, so read the curves as a description
    and :func:`cox_model` for the effect.
    """
    parts = []
    for cohort in sorted(frame.data["cohort"].unique()):
        rows = frame.data[frame.data["cohort"] == cohort]
        km = kaplan_meier(rows["time"], rows["event"], level=level, ci=ci)
        km.insert(0, "cohort", cohort)
        parts.append(km)
    return pd.concat(parts, ignore_index=True)


def survival_at(curve: pd.DataFrame, at: float) -> float:
    """The step function ``S(at)`` of a :func:`kaplan_meier` table (1 before the first
    time)."""
    before = curve[curve["time"] <= at]
    return 1.0 if before.empty else float(before["survival"].iloc[-1])


def _robust_covariance(
    model: Any, params: np.ndarray, groups: np.ndarray, n_groups: int
) -> np.ndarray:
    """The Lin & Wei (1989) sandwich ``H^-1 (sum_g U_g U_g') H^-1`` with ``U_g`` the score
    residuals summed within cluster ``g``.

    ``PHReg.fit(groups=...)`` computes the same, except that statsmodels gives a row never
    at risk at an event time (censored before the first event) a missing score residual,
    which makes the whole covariance missing; that residual is 0 by definition (the row is
    in no risk set, so it adds nothing to the score), and is taken as 0 here.
    """
    hess = np.asarray(model.hessian(params))
    resid = np.nan_to_num(np.asarray(model.score_residuals(params)), nan=0.0)
    sums = np.zeros((n_groups, resid.shape[1]))
    np.add.at(sums, groups, resid)
    inv = np.linalg.inv(hess)
    return np.asarray(inv @ (sums.T @ sums) @ inv)


def cox_model(frame: SurvivalFrame, *, adjust: bool = True, level: float = 0.95) -> CoxResult:
    """The FDAC hazard ratio of a later case from a proportional-hazards model.

    Parameters
    ----------
    frame : SurvivalFrame
        From :func:`survival_frame`.
    adjust : bool
        Adjust for ``frame.covariates`` (standardised); False fits FDAC alone.
    level : float
        Confidence level.

    Raises
    ------
    AnalysisError
        No events, fewer than two clusters, or a model that does not converge.
    """
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import HessianInversionWarning

    d = frame.data
    if int(d["event"].sum()) == 0:
        raise AnalysisError(f"no later case among {len(d)} cases at risk: no hazard to model")
    groups, _ = pd.factorize(d[frame.cluster], sort=True)
    n_groups = int(groups.max()) + 1
    if n_groups < 2:
        raise AnalysisError("cluster-robust errors need at least two clusters")
    covs = list(frame.covariates) if adjust else []
    X = [d["treated"].to_numpy(dtype=float)]
    for c in covs:
        v = d[c].to_numpy(dtype=float)
        sd = v.std()
        X.append((v - v.mean()) / sd if sd > 0 else v - v.mean())
    exog = np.column_stack(X)
    model = PHReg(
        d["time"].to_numpy(dtype=float),
        exog,
        status=d["event"].to_numpy(dtype=float),
        ties="breslow",
    )
    # BFGS: statsmodels' default Newton steps overflow on a few dozen covariates; the
    # score at the solution is checked instead of trusting the optimiser
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # a singular Hessian (a covariate without events in a group) is reported below
            # as an AnalysisError, not as statsmodels' warning
            warnings.simplefilter("ignore", HessianInversionWarning)
            res = model.fit(method="bfgs", maxiter=2000, gtol=1e-8)
            params = np.asarray(res.params)
            score = np.asarray(model.score(params))
            cov = _robust_covariance(model, params, groups, n_groups)
    except (np.linalg.LinAlgError, ValueError) as err:
        raise AnalysisError(f"the Cox model could not be fitted: {err}") from err
    b = float(params[0])
    var = float(cov[0, 0]) * n_groups / (n_groups - 1)
    if not np.isfinite(b) or not np.isfinite(var) or var <= 0:
        raise AnalysisError("the Cox model did not converge (no finite FDAC coefficient)")
    if not np.all(np.abs(score) <= 1e-4 * max(1, int(d["event"].sum()))):
        raise AnalysisError(
            f"the Cox model did not converge (largest score {float(np.abs(score).max()):.3g}); "
            "fewer covariates or more events are needed"
        )
    se = float(np.sqrt(var))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return CoxResult(
        hazard_ratio=float(np.exp(b)),
        ci_low=float(np.exp(b - z * se)),
        ci_high=float(np.exp(b + z * se)),
        log_hr=b,
        se=se,
        p_value=float(2 * stats.norm.sf(abs(b) / se)),
        n=int(len(d)),
        n_events=int(d["event"].sum()),
        n_clusters=n_groups,
        adjusted=adjust,
        covariates=tuple(covs),
        level=level,
    )
