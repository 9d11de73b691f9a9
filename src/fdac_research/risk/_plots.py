"""Private: the report's figures (matplotlib, Agg) as deterministic PNG bytes."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["png", "risk_distribution", "riskiest_keys", "fixes_chart", "FK_BINS"]

FK_BINS = [(1, 1, "1 (unique)"), (2, 2, "2"), (3, 4, "3-4"), (5, 9, "5-9"), (10, None, "10+")]


def png(fig: Any) -> bytes:
    """PNG bytes with no software/date metadata, so the same figure gives the same bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def fk_counts(fk: np.ndarray) -> dict[str, int]:
    """Records by key-frequency band."""
    out = {}
    for lo, hi, label in FK_BINS:
        m = (fk >= lo) if hi is None else ((fk >= lo) & (fk <= hi))
        out[label] = int(m.sum())
    return out


def risk_histogram(risk: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    """Counts of individual risk in equal bins over [0, 1]."""
    counts, edges = np.histogram(np.clip(risk, 0, 1), bins=bins, range=(0.0, 1.0))
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def risk_distribution(name: str, fk: np.ndarray, risk: np.ndarray) -> bytes:
    """Two panels: records by key frequency, and the distribution of individual risk."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    fc = fk_counts(fk)
    a.bar(
        list(fc), list(fc.values()), color=["#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf"]
    )
    a.set_xlabel("records sharing the key (fk)")
    a.set_ylabel("records")
    a.set_title(f"{name}: records by key frequency")
    h = risk_histogram(risk)
    b.bar(h["edges"][:-1], h["counts"], width=0.05, align="edge", color="#4d4d4d")
    b.set_yscale("symlog")
    b.set_xlabel("individual re-identification risk")
    b.set_ylabel("records")
    b.set_title(f"{name}: risk distribution")
    return png(fig)


def riskiest_keys(name: str, labels: list[str], risks: list[float]) -> bytes:
    """Horizontal bars of the riskiest key combinations."""
    fig, ax = plt.subplots(figsize=(9, 0.35 * max(len(labels), 3) + 1))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, risks, color="#b2182b")
    ax.set_yticks(y)
    ax.set_yticklabels([lab if len(lab) < 90 else lab[:87] + "..." for lab in labels], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("individual re-identification risk")
    ax.set_title(f"{name}: riskiest key combinations")
    return png(fig)


def fixes_chart(name: str, fixes: list[dict[str, Any]]) -> bytes:
    """Sample uniques and expected re-identifications before and after each fix."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 0.45 * max(len(fixes), 2) + 1.5))
    labels = [f["name"] for f in fixes]
    y = np.arange(len(fixes))[::-1]
    before_u = [f["before"]["n_sample_uniques"] for f in fixes]
    after_u = [f["after"]["n_sample_uniques"] for f in fixes]
    before_e = [f["before"]["expected_reidentifications"] for f in fixes]
    after_e = [f["after"]["expected_reidentifications"] for f in fixes]
    for ax, bef, aft, title in (
        (a, before_u, after_u, "sample uniques"),
        (b, before_e, after_e, "expected re-identifications"),
    ):
        ax.barh(y + 0.2, bef, height=0.4, color="#bababa", label="before")
        ax.barh(y - 0.2, aft, height=0.4, color="#2166ac", label="after")
        ax.set_title(f"{name}: {title}")
        ax.set_yticks(y)
        ax.set_yticklabels(labels if ax is a else [""] * len(labels), fontsize=8)
    a.legend(loc="lower right", fontsize=8)
    return png(fig)
