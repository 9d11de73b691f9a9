"""What the synthetic-release notebook shows, read from the release's
``synthetic_report.json`` (written by ``fdac-research synthesise``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fdac_research.exceptions import ContractError, Problem

__all__ = ["SyntheticReleaseView", "synthetic_release_view"]

REPORT = "synthetic_report.json"
#: Fewest real people behind a published real-data estimate (as publish_estimates).
MIN_PEOPLE = 10


@dataclass
class SyntheticReleaseView:
    """Utility, fidelity, privacy and gate tables of one synthetic release."""

    utility: pd.DataFrame
    fidelity: pd.DataFrame
    privacy: pd.DataFrame
    gate: str
    passed: bool
    figures: list[Figure] = field(default_factory=list)


def _utility(u: dict[str, Any]) -> pd.DataFrame:
    rows = [
        ("SDMetrics quality score (1 = identical distributions)", round(u["quality"]["score"], 3))
    ]
    for table, p in sorted(u.get("pmse", {}).items()):
        rows.append(
            (f"S_pMSE, two-way, {table} (about 1 ideal, under 3 good)", round(p["s_pmse"], 2))
        )
    rules = u.get("rules", {})
    rows.append(
        (
            "rows breaking a logical rule of the contract",
            f"{100 * rules.get('row_violation_rate', 0):.2f}%",
        )
    )
    for table, v in sorted(u.get("key_validity", {}).items()):
        rows.append((f"valid case keys, {table}", f"{100 * v:.1f}%"))
    cpc = u.get("children_per_case", {})
    if "total_variation" in cpc:
        rows.append(
            (
                "children per case: total variation distance from real",
                round(cpc["total_variation"], 3),
            )
        )
    return pd.DataFrame(rows, columns=["measure", "value"]).set_index("measure")


def _fidelity(items: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for f in items:
        if "real" not in f or "synthetic" not in f:  # the effect could not be estimated
            rows.append(
                {
                    "outcome": f"{f.get('outcome')} ({f.get('population')})",
                    "method": f.get("method"),
                    "real odds ratio": "not estimable",
                    "synthetic odds ratio": str(f.get("error", "not estimable")),
                    "intervals overlap": False,
                    "synthetic inside real CI": False,
                }
            )
            continue
        r, s = f["real"], f["synthetic"]
        if int(r.get("n", 0)) < MIN_PEOPLE:  # output rule for estimates: enough people behind it
            r = s = {"odds_ratio": float("nan"), "odds_ratio_ci": [float("nan"), float("nan")]}
        rows.append(
            {
                "outcome": f"{f['outcome']} ({f['population']})",
                "method": f["method"],
                "real odds ratio": f"{r['odds_ratio']:.2f} ({r['odds_ratio_ci'][0]:.2f} to {r['odds_ratio_ci'][1]:.2f})",
                "synthetic odds ratio": f"{s['odds_ratio']:.2f} ({s['odds_ratio_ci'][0]:.2f} to {s['odds_ratio_ci'][1]:.2f})",
                "intervals overlap": bool(f["ci_overlap"]),
                "synthetic inside real CI": bool(f["inside_real_ci"]),
            }
        )
    return pd.DataFrame(rows)


def _privacy(p: dict[str, Any], gate: dict[str, Any]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    copies = p.get("exact_copies", {})
    for table in sorted(copies.get("synthetic", {})):
        rows.append(
            {
                "measure": f"exact copies of real rows, {table}",
                "synthetic": f"{100 * copies['synthetic'][table]:.2f}%",
                "held-out real (baseline)": f"{100 * copies.get('holdout', {}).get(table, np.nan):.2f}%",
            }
        )
    for check in gate.get("checks", []):
        name = check["name"]
        if any(k in name for k in ("dcr", "singling_out", "linkability", "inference")):
            rows.append(
                {
                    "measure": check["detail"],
                    "synthetic": round(float(check["value"]), 4),
                    "held-out real (baseline)": "(subtracted)"
                    if "above" in check["detail"]
                    else "0.5 ideal",
                }
            )
    return pd.DataFrame(rows).set_index("measure")


def _gate_text(gate: dict[str, Any]) -> str:
    lines = [
        f"**Release gate: {'PASSED' if gate.get('passed') else 'REFUSED'}.** Each check and its threshold:",
        "",
    ]
    for c in gate.get("checks", []):
        mark = "passed" if c.get("passed") else "FAILED"
        value = c.get("value")
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(
            f"* {mark}: {c.get('detail', c.get('name'))}: {shown} (threshold {c.get('threshold')})"
        )
    return "\n".join(lines)


def _children_chart(cpc: dict[str, Any]) -> Figure:
    """Children per case in the *synthetic* release only: the real distribution is not
    drawn (its exact shares would give back small counts); its distance from the real one
    is in the utility table."""
    syn = cpc.get("synthetic", {})
    keys = [k for k in syn if syn.get(k, 0)]
    fig = Figure(figsize=(5.5, 3))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(keys))
    ax.bar(x, [100 * syn.get(k, 0) for k in keys], width=0.6, label="synthetic")
    ax.set_xticks(x, keys)
    ax.set_xlabel("children in the case")
    ax.set_ylabel("% of cases")
    ax.legend(fontsize=8)
    ax.set_title("Children per case in the synthetic release", fontsize=10)
    fig.tight_layout()
    return fig


def synthetic_release_view(synthetic_dir: str | Path) -> SyntheticReleaseView:
    """Read a release folder's report; a missing report is a clear error."""
    path = Path(synthetic_dir) / REPORT
    if not path.is_file():
        raise ContractError(
            str(synthetic_dir),
            [
                Problem(
                    REPORT, None, None, None, "the release's report (run fdac-research synthesise)"
                )
            ],
        )
    d = json.loads(path.read_text(encoding="utf-8"))
    gate = d.get("gate", {})
    return SyntheticReleaseView(
        utility=_utility(d["utility"]),
        fidelity=_fidelity(d["utility"].get("fidelity", [])),
        privacy=_privacy(d.get("privacy", {}), gate),
        gate=_gate_text(gate)
        + f"\n\nModel: `{d.get('model', {}).get('name')}`, seed {d.get('seed')}.",
        passed=bool(gate.get("passed")),
        figures=[_children_chart(d["utility"].get("children_per_case", {}))],
    )
