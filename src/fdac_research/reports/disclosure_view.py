"""What the disclosure-review notebook shows: aggregate re-identification risk of the
research dataset, what recoding buys, and the output check of every published table.

Only aggregate measures are published; the reviewer's full report (with the riskiest key
combinations, which would themselves disclose) stays in the secure environment.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Image

from fdac_research import schema
from fdac_research.dataset import load_research
from fdac_research.risk.report import risk_report

__all__ = ["DisclosureReview", "disclosure_review"]

_SAFE_FIGURES = ("_risk_distribution.png", "_fixes.png")  # never the riskiest-keys figure


@dataclass
class DisclosureReview:
    """Tables and figures of the published disclosure review."""

    dictionary: pd.DataFrame
    microdata: pd.DataFrame
    fixes: pd.DataFrame
    tables: pd.DataFrame
    figures: list[Image] = field(default_factory=list)


def _measures(name: str, m: dict[str, Any]) -> dict[str, Any]:
    fam = m.get("family") or {}
    return {
        "table": name,
        "records": m.get("n_records"),
        "k-anonymity": m.get("k_anonymity"),
        "sample uniques": m.get("n_sample_uniques"),
        "records violating 3-anonymity": (m.get("n_violating") or {}).get("3"),
        "global risk": round(float(m["global_risk"]), 4) if "global_risk" in m else None,
        "expected re-identifications": round(float(m.get("expected_reidentifications", 0)), 1),
        "family-level global risk": round(float(fam["global_risk"]), 4)
        if "global_risk" in fam
        else None,
    }


def _fix_rows(name: str, fixes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for f in fixes:
        rows.append(
            {
                "table": name,
                "step": f.get("step") or f.get("name") or f.get("method"),
                "global risk before": round(float(f["before"]["global_risk"]), 4),
                "global risk after": round(float(f["after"]["global_risk"]), 4),
                "sample uniques after": f["after"].get("n_sample_uniques"),
                "values changed": (f.get("information_loss") or {}).get("total_values_changed"),
                "key values suppressed": (f.get("information_loss") or {}).get(
                    "total_suppressed", 0
                ),
            }
        )
    return rows


def _published_checks(tables_dir: Path) -> pd.DataFrame:
    rows = []
    for p in sorted(Path(tables_dir).glob("*.check.json")):
        c = json.loads(p.read_text())
        rows.append(
            {
                "published table": f"{c['table']}.csv",
                "kind": c.get("kind"),
                "rules": c.get("rules", c.get("rule")),
                "cells": c.get("n_cells"),
                "primary suppressions": c.get("n_primary"),
                "secondary suppressions": c.get("n_secondary"),
                "suppressed cells protected (LP bounds)": c.get("protected", c.get("passed")),
            }
        )
    return pd.DataFrame(rows)


def disclosure_review(research_dir: str | Path, tables_dir: str | Path) -> DisclosureReview:
    """Score the research dataset with :func:`fdac_research.risk.risk_report` (roles from the
    schema) and summarise the output checks of the tables published so far."""
    data = load_research(research_dir)
    report, pngs = risk_report(data)  # aggregate measures and figures by file name
    dictionary = schema.describe(schema.RESEARCH)
    dictionary = dictionary[dictionary["table"] != "linkage_quality"][
        ["table", "column", "type", "roles", "description"]
    ]
    micro, fixes = [], []
    for name, t in report["tables"].items():
        micro.append(_measures(name, t["measures"]))
        fixes += _fix_rows(name, (t.get("figures") or {}).get("fixes", []))
    figures = [
        Image(data=io.BytesIO(b).getvalue(), format="png")
        for f, b in sorted(pngs.items())
        if f.endswith(_SAFE_FIGURES) and "riskiest" not in f
    ]
    return DisclosureReview(
        dictionary=dictionary.reset_index(drop=True),
        microdata=pd.DataFrame(micro).set_index("table"),
        fixes=pd.DataFrame(fixes),
        tables=_published_checks(Path(tables_dir)),
        figures=figures,
    )
