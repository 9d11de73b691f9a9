"""Covariate balance: standardised mean differences before and after weighting, love plot.

The standardised mean difference of a covariate is::

    SMD = (mean_FDAC - mean_comparison) / sqrt((var_FDAC + var_comparison) / 2)

(Austin 2009, Stat Med 28:3083; for a 0/1 covariate the variances are ``p (1 - p)``). The
means are weighted after weighting; the denominator is always the **unweighted** pooled SD,
so that a change in SMD reflects a change in means only (as the R package cobalt does by
default). ``|SMD| < 0.1`` is the usual mark of good balance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._estimators import propensity_scores
from fdac_research.analysis._frames import AnalysisFrame

__all__ = ["standardised_mean_differences", "balance_table", "love_plot", "trim_by_propensity"]


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum()
    if total <= 0:
        raise AnalysisError("weights sum to zero in one arm; cannot compute weighted means")
    return np.asarray((x * w[:, None]).sum(axis=0) / total)


def standardised_mean_differences(
    X: np.ndarray, t: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """SMD of each column of ``X`` between ``t == 1`` and ``t == 0`` rows.

    Parameters
    ----------
    X : array (n, k)
        Covariates.
    t : array (n,)
        Treatment 0/1.
    weights : array (n,), optional
        Row weights for the means (IPW or matching weights); the SD is unweighted.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [3.0], [0.0], [2.0]])
    >>> standardised_mean_differences(X, np.array([1, 1, 0, 0])).round(4).tolist()
    [0.7071]
    """
    X = np.asarray(X, dtype=float)
    t = np.asarray(t)
    if X.ndim != 2 or len(X) != len(t):
        raise AnalysisError(f"X must be (n, k) with n = len(t) = {len(t)}; got shape {X.shape}")
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(t):
        raise AnalysisError(f"weights have length {len(w)}, expected {len(t)}")
    m1, m0 = t == 1, t == 0
    if not m1.any() or not m0.any():
        raise AnalysisError("balance needs rows in both arms")
    var1 = X[m1].var(axis=0, ddof=1) if m1.sum() > 1 else np.zeros(X.shape[1])
    var0 = X[m0].var(axis=0, ddof=1) if m0.sum() > 1 else np.zeros(X.shape[1])
    sd = np.sqrt((var1 + var0) / 2)
    diff = _weighted_mean(X[m1], w[m1]) - _weighted_mean(X[m0], w[m0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, diff / sd, 0.0)


def balance_table(
    frame: AnalysisFrame, weights: Mapping[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """SMD of every covariate, unadjusted and under each set of weights.

    Parameters
    ----------
    frame : AnalysisFrame
    weights : mapping of str to array, optional
        For example ``{"ipw_ate": ipw_weights(frame), "matching": matching_weights(frame)}``.

    Returns
    -------
    pandas.DataFrame
        Column ``covariate``, then ``unadjusted`` and one column per weighting, rounded to
        3 decimals, in the frame's covariate order.
    """
    if not frame.covariates:
        raise AnalysisError("the frame has no covariates to check balance on")
    X, t = frame.X, frame.t
    out = pd.DataFrame({"covariate": list(frame.covariates)})
    out["unadjusted"] = standardised_mean_differences(X, t)
    for name, w in (weights or {}).items():
        out[name] = standardised_mean_differences(X, t, w)
    num = out.columns[1:]
    out[num] = out[num].round(3)
    return out


def love_plot(balance: pd.DataFrame, *, threshold: float = 0.1, title: str | None = None) -> Figure:
    """A love plot: |SMD| per covariate, one marker per column of ``balance``.

    Deterministic (no random jitter); built on :class:`matplotlib.figure.Figure` without
    pyplot, so it creates no global state. Covariates are ordered by unadjusted |SMD|.
    """
    if "covariate" not in balance.columns or "unadjusted" not in balance.columns:
        raise AnalysisError(
            f"balance table must have 'covariate' and 'unadjusted' columns; got {list(balance.columns)}"
        )
    order = balance.assign(_k=balance["unadjusted"].abs()).sort_values(
        ["_k", "covariate"], kind="stable"
    )
    cols = [c for c in balance.columns if c != "covariate"]
    fig = Figure(figsize=(6.5, 0.28 * len(order) + 1.6))
    ax = fig.add_subplot(1, 1, 1)
    ypos = np.arange(len(order))
    markers = ["o", "s", "^", "D", "v", "P", "X"]
    for i, c in enumerate(cols):
        ax.scatter(
            order[c].abs().to_numpy(), ypos, marker=markers[i % len(markers)], label=c, zorder=3
        )
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(ypos)
    ax.set_yticklabels(order["covariate"].tolist(), fontsize=8)
    ax.set_xlabel("absolute standardised mean difference")
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def trim_by_propensity(
    frame: AnalysisFrame, low: float = 0.05, high: float = 0.95
) -> AnalysisFrame:
    """The rows whose estimated propensity score lies in ``[low, high]``.

    Trimming (Crump et al. 2009) restores overlap when some families almost certainly would
    or would not have gone to FDAC; it changes the estimand to the population with overlap,
    which the returned frame's ``notes`` say. Estimators refit their models on the trimmed
    rows.
    """
    if not (0 <= low < high <= 1):
        raise AnalysisError(f"need 0 <= low < high <= 1, got low={low!r}, high={high!r}")
    e = propensity_scores(frame)
    keep = (e >= low) & (e <= high)
    n_out = int((~keep).sum())
    note = (
        f"trimmed {n_out} row(s) with propensity score outside [{low:g}, {high:g}] "
        f"({int((~keep & (frame.t == 1)).sum())} FDAC); estimand is the population with overlap"
    )
    return dataclasses.replace(
        frame, data=frame.data[keep].reset_index(drop=True), notes=(*frame.notes, note)
    )
