"""Figures drawn from *published* (already output-checked) tables only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["cohort_bar_chart"]

_COLOURS = {"fdac": "#1b7837", "comparison": "#762a83"}


def cohort_bar_chart(published: pd.DataFrame, *, title: str = "") -> Figure:
    """Side-by-side bars of FDAC and comparison counts from a published table.

    Suppressed cells (``[c]``) are drawn as gaps and the margins (``Total``) are left out,
    so the chart shows exactly what the published table shows and nothing more.
    """
    rows = [r for r in published.index if str(r).lower() != "total"]
    cols = [c for c in ("fdac", "comparison") if c in published.columns]
    values = published.loc[rows, cols].apply(pd.to_numeric, errors="coerce")
    fig = Figure(figsize=(7, 0.35 * len(rows) + 1.5))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(rows))
    h = 0.8 / max(len(cols), 1)
    for i, c in enumerate(cols):
        ax.barh(y + i * h, values[c].fillna(0).to_numpy(), height=h, label=c, color=_COLOURS.get(c))
        for yy, v in zip(y + i * h, values[c].to_numpy(), strict=True):
            if np.isnan(v):
                ax.text(0, yy, " [c]", va="center", fontsize=7)
    ax.set_yticks(y + h * (len(cols) - 1) / 2, [str(r) for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("published count (rounded to 5; [c] = suppressed)")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
