"""What the disclosure-review notebook shows: aggregate re-identification risk of the
research dataset, what recoding buys, and the output check of every published table.

Only aggregate measures are published; the reviewer's full report (with the riskiest key
combinations, which would themselves disclose) stays in the secure environment.
:func:`disclosure_review` computes; :func:`publish_review` writes every table the notebook
shows with :func:`~fdac_research.reports.publish.publish_summary`, recording why no
suppression applies (none holds a figure about a group of people: counts of records become
shares of the whole table, and the remaining counts are rounded to base 5).
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
from fdac_research.reports.publish import publish_summary
from fdac_research.risk.report import risk_report

__all__ = ["DisclosureReview", "PublishedReview", "disclosure_review", "publish_review"]

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


#: Counts in the review tables that describe records of the whole dataset: published as a
#: share of the table's records (``share``) or rounded to base 5 (``round``).
_SHARES = ("sample uniques", "records violating 3-anonymity")
_ROUNDED = (
    "records",
    "expected re-identifications",
    "sample uniques after",
    "values changed",
    "key values suppressed",
)
_REASONS = {
    "dictionary": "data dictionary: column names, types, roles and descriptions; no figure "
    "about people",
    "microdata": "risk measures computed on each whole research table (k-anonymity, shares "
    "of records, global risk); record totals rounded to base 5; no figure about a group "
    "of people",
    "fixes": "risk measures of each whole research table before and after recoding; counts "
    "of records and values rounded to base 5; no figure about a group of people",
    "tables": "metadata of the output checks of the published tables (rules, numbers of "
    "suppressed cells); no figure about people",
}


@dataclass
class PublishedReview:
    """The review tables as published (each returned by ``publish_summary``)."""

    dictionary: pd.DataFrame
    microdata: pd.DataFrame
    fixes: pd.DataFrame
    tables: pd.DataFrame
    figures: list[Image] = field(default_factory=list)


def _round5(values: pd.Series) -> pd.Series:
    n = pd.to_numeric(values, errors="coerce")
    return (5 * (n / 5).round()).astype("Int64")


def _aggregate(table: pd.DataFrame, records: pd.Series | None) -> pd.DataFrame:
    out = table.copy()
    for c in _SHARES:
        if c in out.columns and records is not None:
            share = pd.to_numeric(out[c], errors="coerce") / records.where(records > 0)
            out[c] = (100 * share).round(1)
            out = out.rename(columns={c: f"{c} (% of records)"})
    for c in _ROUNDED:
        if c in out.columns:
            out[c] = _round5(out[c])
    return out


def publish_review(review: DisclosureReview, tables_dir: str | Path) -> PublishedReview:
    """Write the four review tables to ``tables_dir`` (``disclosure_dictionary``,
    ``disclosure_risk``, ``disclosure_recoding``, ``disclosure_output_checks``) and return
    them as published. Counts of sample uniques and of records under 3-anonymity become
    shares of the table's records (1 decimal); record and value counts are rounded to 5."""
    m = review.microdata
    records = pd.to_numeric(m["records"], errors="coerce") if "records" in m.columns else None
    return PublishedReview(
        dictionary=publish_summary(
            review.dictionary,
            "disclosure_dictionary",
            tables_dir,
            reason=_REASONS["dictionary"],
        ),
        microdata=publish_summary(
            _aggregate(review.microdata, records),
            "disclosure_risk",
            tables_dir,
            reason=_REASONS["microdata"],
        ),
        fixes=publish_summary(
            _aggregate(review.fixes, None),
            "disclosure_recoding",
            tables_dir,
            reason=_REASONS["fixes"],
        ),
        tables=publish_summary(
            review.tables, "disclosure_output_checks", tables_dir, reason=_REASONS["tables"]
        ),
        figures=review.figures,
    )
