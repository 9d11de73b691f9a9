"""Figures for the outcomes report: a forest plot of estimates and a propensity overlap plot.

Both build a :class:`matplotlib.figure.Figure` directly (no pyplot state) and use no
randomness, so the same inputs draw the same figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from matplotlib.figure import Figure

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._estimators import propensity_scores
from fdac_research.analysis._frames import AnalysisFrame
from fdac_research.analysis._results import EffectResult
from fdac_research.analysis._tables import load_effects

__all__ = ["forest_plot", "overlap_plot"]

_LABELS = {
    "risk_difference": "risk difference",
    "odds_ratio": "odds ratio",
    "risk_ratio": "risk ratio",
}


def forest_plot(
    results: Iterable[EffectResult],
    *,
    measure: str = "risk_difference",
    truth: Mapping[str, object] | None = None,
    title: str | None = None,
) -> Figure:
    """Each estimate with its confidence interval, one row per result.

    Parameters
    ----------
    results : iterable of EffectResult
    measure : {"risk_difference", "odds_ratio", "risk_ratio"}
    truth : mapping, optional
        The planted effects (``truth/effects.json`` contents): the true ATE and ATT of each
        result's key are drawn as markers on its row (``risk_ratio`` from the probabilities).
    title : str, optional
    """
    if measure not in _LABELS:
        raise AnalysisError(f"measure must be one of {list(_LABELS)}, got {measure!r}")
    rows = list(results)
    if not rows or not all(isinstance(r, EffectResult) for r in rows):
        raise AnalysisError("forest_plot needs a non-empty list of EffectResult")
    effects = load_effects(truth) if truth is not None else None
    fig = Figure(figsize=(6.5, 0.45 * len(rows) + 1.4))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows, strict=True):
        e = r.measure(measure)
        ax.plot([e.ci_low, e.ci_high], [yi, yi], color="black", linewidth=1.5)
        ax.plot([e.value], [yi], marker="s", color="black")
        if effects is not None and r.key in effects:
            block = effects[r.key].get("att" if r.estimand == "ATT" else "ate", {})
            if measure == "risk_ratio" and {"p_treated", "p_untreated"} <= set(block):
                t = float(block["p_treated"]) / float(block["p_untreated"])
            elif measure in block:
                t = float(block[measure])
            else:
                continue
            ax.plot(
                [t],
                [yi],
                marker="x",
                color="tab:red",
                markersize=9,
                label="truth" if yi == y[0] else None,
            )
    null = 0.0 if measure == "risk_difference" else 1.0
    ax.axvline(null, color="grey", linestyle="--", linewidth=1)
    if measure != "risk_difference":
        ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r.method} ({r.estimand})" for r in rows], fontsize=8)
    ax.set_xlabel(f"{_LABELS[measure]}, FDAC vs comparison ({rows[0].confidence:.0%} CI)")
    ax.grid(axis="x", alpha=0.3)
    if effects is not None:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def overlap_plot(frame: AnalysisFrame, *, bins: int = 30, title: str | None = None) -> Figure:
    """Histograms of the estimated propensity score in each arm (common support).

    The bars are densities of individual-level scores: a bin with very few people is a
    small cell, so use coarse ``bins`` for publication and have the figure output-checked.
    """
    if not isinstance(bins, int) or bins < 2:
        raise AnalysisError(f"bins must be an integer >= 2, got {bins!r}")
    e = propensity_scores(frame)
    t = frame.t == 1
    edges = np.linspace(0.0, 1.0, bins + 1).tolist()
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(e[t], bins=edges, alpha=0.6, label=f"FDAC (n = {int(t.sum())})", density=True)
    ax.hist(e[~t], bins=edges, alpha=0.6, label=f"comparison (n = {int((~t).sum())})", density=True)
    ax.set_xlabel("estimated probability of FDAC (propensity score)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
