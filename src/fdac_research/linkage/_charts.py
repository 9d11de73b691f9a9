"""Charts researchers expect from a linkage run (matplotlib; deterministic PNG bytes).

Each function returns a :class:`matplotlib.figure.Figure` (shown inline in a notebook);
:func:`save_link_charts` writes them into a linkage folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.linkage._config import LinkageModelConfig
from fdac_research.linkage._levels import bayes_factors

__all__ = [
    "match_weight_histogram",
    "m_u_chart",
    "waterfall_chart",
    "precision_recall_chart",
    "save_link_charts",
    "save_agency_charts",
    "save_precision_recall",
]


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def match_weight_histogram(
    pairs: pd.DataFrame, threshold: float | None = None, title: str = ""
) -> Any:
    """Histogram of match weights (log2 Bayes factors) of the scored pairs."""
    fig = _figure(7, 4)
    ax = fig.add_subplot()
    w = pairs["match_weight"].to_numpy(dtype=float)
    if len(w):
        bins = np.arange(np.floor(w.min()), np.ceil(w.max()) + 1, 1.0)
        ax.hist(w, bins=bins if len(bins) > 1 else 10, color="#4c72b0")
    if threshold is not None:
        t = float(np.log2(threshold / (1 - threshold)))
        ax.axvline(
            t, color="#c44e52", linestyle="--", label=f"threshold p={threshold:g} (w={t:.1f})"
        )
        ax.legend(loc="upper left")
    ax.set_xlabel("match weight (log2 Bayes factor, prior included)")
    ax.set_ylabel("pairs")
    ax.set_yscale("log")
    ax.set_title(title or "Match-weight distribution")
    fig.tight_layout()
    return fig


def m_u_chart(model: LinkageModelConfig, title: str = "") -> Any:
    """m and u probabilities of every comparison level, and the level's weight."""
    rows = []
    for comp in model.comparisons:
        for lv in comp.levels:
            if lv.is_null:
                continue
            rows.append(
                (
                    f"{comp.name}: {lv.label or lv.kind}",
                    lv.m_probability or 0.0,
                    lv.u_probability or 0.0,
                )
            )
    fig = _figure(11, max(3.0, 0.28 * len(rows) + 1.2))
    ax_mu, ax_w = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(rows))[::-1]
    m = np.array([r[1] for r in rows])
    u = np.array([r[2] for r in rows])
    ax_mu.barh(y + 0.2, m, height=0.4, color="#55a868", label="m (among matches)")
    ax_mu.barh(y - 0.2, u, height=0.4, color="#c44e52", label="u (among non-matches)")
    ax_mu.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax_mu.set_xlim(0, 1)
    ax_mu.legend(loc="lower right", fontsize=8)
    ax_mu.set_xlabel("probability")
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where((m > 0) & (u > 0), np.log2(m / np.where(u > 0, u, 1)), 0.0)
    ax_w.barh(y, w, color=np.where(w >= 0, "#4c72b0", "#dd8452"))
    ax_w.axvline(0, color="black", linewidth=0.8)
    ax_w.set_xlabel("partial match weight log2(m/u)")
    fig.suptitle(title or "m and u probabilities per comparison level")
    fig.tight_layout()
    return fig


def waterfall_chart(
    model: LinkageModelConfig, gamma: dict[str, int] | pd.Series, title: str = ""
) -> Any:
    """How one pair's match weight builds up: the prior, then each comparison's level.

    ``gamma`` maps each comparison name (or ``gamma_<name>``) to the pair's level index
    (as in the pairs frame of the recordlinkage engine or :func:`comparison_vectors`).
    """
    g = {str(k).removeprefix("gamma_"): int(v) for k, v in dict(gamma).items()}
    prior = model.prior if model.prior is not None else 1e-4
    labels = ["prior"]
    steps = [float(np.log2(prior / (1 - prior)))]
    bfs = bayes_factors(model)
    for comp in model.comparisons:
        k = g[comp.name]
        labels.append(f"{comp.name}\n{comp.levels[k].label or comp.levels[k].kind}")
        steps.append(float(np.log2(bfs[comp.name][k])))
    total = float(np.sum(steps))
    fig = _figure(max(6.0, 1.3 * len(steps) + 1), 4.5)
    ax = fig.add_subplot()
    start = np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    ax.bar(
        range(len(steps)),
        steps,
        bottom=start,
        color=["#8172b2"] + ["#4c72b0" if s >= 0 else "#dd8452" for s in steps[1:]],
    )
    ax.bar(len(steps), total, color="#55a868")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(steps) + 1), [*labels, "total"], fontsize=7)
    prob = 1 / (1 + 2 ** (-total))
    ax.set_ylabel("match weight (log2)")
    ax.set_title(title or f"Match weight {total:.2f}, probability {prob:.4f}")
    fig.tight_layout()
    return fig


def precision_recall_chart(
    curve: pd.DataFrame, threshold: float | None = None, title: str = ""
) -> Any:
    """Precision and recall against the match-probability threshold (one line per agency)."""
    fig = _figure(9, 4)
    ax_p, ax_r = fig.subplots(1, 2, sharex=True)
    for agency, c in curve.groupby("agency", sort=True):
        ax_p.plot(c["threshold"], c["precision"], label=str(agency))
        ax_r.plot(c["threshold"], c["recall"], label=str(agency))
    for ax, name in ((ax_p, "precision"), (ax_r, "recall")):
        ax.set_xlabel("match-probability threshold")
        ax.set_ylabel(name)
        if threshold is not None:
            ax.axvline(threshold, color="grey", linestyle="--")
    ax_r.legend(fontsize=7, loc="lower left")
    fig.suptitle(title or "Pairwise precision and recall against threshold")
    fig.tight_layout()
    return fig


def _save(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})


def save_agency_charts(
    folder: Path,
    agency: str,
    model: LinkageModelConfig,
    pairs: pd.DataFrame,
    example: dict[str, int] | None = None,
) -> list[Path]:
    """Write ``charts/<agency>_match_weights.png``, ``charts/<agency>_m_u.png`` and, when
    ``example`` gives a pair's levels, ``charts/<agency>_waterfall.png``."""
    charts = Path(folder) / "charts"
    written = []
    p = charts / f"{agency}_match_weights.png"
    _save(match_weight_histogram(pairs, model.match_threshold, f"{agency}: match weights"), p)
    written.append(p)
    p = charts / f"{agency}_m_u.png"
    _save(m_u_chart(model, f"{agency}: m and u probabilities"), p)
    written.append(p)
    if example is not None:
        p = charts / f"{agency}_waterfall.png"
        fig = waterfall_chart(model, example)
        title = fig.axes[0].get_title()
        fig.axes[0].set_title(
            f"{agency}: pair closest to the threshold (no term-frequency adjustment)\n{title}",
            fontsize=9,
        )
        _save(fig, p)
        written.append(p)
    return written


def save_precision_recall(
    folder: Path, curve: pd.DataFrame, threshold: float | None = None
) -> Path:
    """Write ``charts/precision_recall.png``."""
    p = Path(folder) / "charts" / "precision_recall.png"
    _save(precision_recall_chart(curve, threshold), p)
    return p


def save_link_charts(
    folder: Path,
    models: dict[str, LinkageModelConfig],
    pairs: dict[str, pd.DataFrame],
    curves: pd.DataFrame | None,
    examples: dict[str, dict[str, int]] | None = None,
) -> list[Path]:
    """Write every chart of a linkage run (see :func:`save_agency_charts`) plus
    ``charts/precision_recall.png`` when a curve exists."""
    written = []
    for agency, model in models.items():
        written += save_agency_charts(
            folder, agency, model, pairs[agency], (examples or {}).get(agency)
        )
    if curves is not None and len(curves):
        thr = next(iter(models.values())).match_threshold if models else None
        written.append(save_precision_recall(folder, curves, thr))
    return written
