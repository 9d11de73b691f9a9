"""What the disclosure-review notebook shows: aggregate re-identification risk of the
research dataset, what recoding buys, and the output check of every published table.

Only aggregate measures are published; the reviewer's full report (with the riskiest key
combinations, which would themselves disclose) stays in the secure environment.
:func:`disclosure_review` computes; :func:`publish_review` writes every table the notebook
shows with :func:`~fdac_research.reports.publish.publish_summary`, recording why no
suppression applies (none holds a figure about a group of people) and checking every count
of records or values in it like a count: under 10 it is ``[c]``, and so is a share of the
table's records whose count is under 10; the other counts are rounded to base 5.

The review also lists the output checker's record of the run (``results.json``, in the
layout ACRO/SACRO write) and audits every registered count table of each population
together, as an intruder reading all of them would (:func:`fdac_research.risk.linked.audit_linked`,
whole counts): the narrowest interval of any suppressed cell, against the protection level.
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
from fdac_research.reports._record import read_results
from fdac_research.reports.publish import DEFAULT_RULES, linked_tables, publish_summary
from fdac_research.risk.linked import audit_linked
from fdac_research.risk.report import risk_report
from fdac_research.risk.tables import SUPPRESSED, rules_from

__all__ = ["DisclosureReview", "PublishedReview", "disclosure_review", "publish_review"]

_SAFE_FIGURES = ("_risk_distribution.png", "_fixes.png")  # never the riskiest-keys figure


@dataclass
class DisclosureReview:
    """Tables and figures of the published disclosure review."""

    dictionary: pd.DataFrame
    microdata: pd.DataFrame
    fixes: pd.DataFrame
    tables: pd.DataFrame
    record: pd.DataFrame = field(default_factory=pd.DataFrame)
    linked: pd.DataFrame = field(default_factory=pd.DataFrame)
    figures: list[Image] = field(default_factory=list)
    #: the tables folder ``tables``, ``record`` and ``linked`` were read from (``None``: given)
    tables_dir: Path | None = None
    #: alt text of each figure, in the same order
    figure_alts: list[str] = field(default_factory=list)


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
        linked = c.get("linked")
        protection = (c.get("protection") or {}).get("min_interval")
        rows.append(
            {
                "published table": f"{c['table']}.csv",
                "kind": c.get("kind"),
                "rules": c.get("rules", c.get("rule")),
                "cells": c.get("n_cells"),
                "primary suppressions": c.get("n_primary"),
                "secondary suppressions": c.get("n_secondary"),
                "least interval of a suppressed cell": protection,
                "population (audited together)": linked["link"]["unit"]
                if linked
                else ("not registered" if c.get("kind") == "counts" else ""),
                "suppressed cells protected (LP bounds)": c.get("protected", c.get("passed")),
            }
        )
    return pd.DataFrame(rows)


def _output_record(tables_dir: Path) -> pd.DataFrame:
    """One row per output of the ACRO/SACRO-style ``results.json`` written so far."""
    rows = []
    for uid, r in sorted(read_results(tables_dir)["results"].items()):
        checks = r["files"][0]["sdc"]["summary"] if r["files"] else {}
        rows.append(
            {
                "output": uid,
                "status": r["status"],
                "published by": r["properties"].get("method"),
                "checks (cells or rows flagged)": "; ".join(
                    f"{k}: {int(v)}" for k, v in checks.items() if k != "suppressed"
                ),
                "summary": r["summary"],
                "exception request": r["exception"],
            }
        )
    return pd.DataFrame(rows)


def _linked_audit(tables_dir: Path) -> pd.DataFrame:
    """Every registered count table of each population audited together (whole counts)."""
    units = set()
    for p in Path(tables_dir).glob("*.check.json"):
        linked = json.loads(p.read_text()).get("linked")
        if linked:
            units.add(linked["link"]["unit"])
    rows = []
    for unit in sorted(units):
        tables = linked_tables(tables_dir, unit)
        audit = audit_linked(tables, integer=True)
        rows.append(
            {
                "population": unit,
                "tables audited together": ", ".join(audit.tables),
                "suppressed cells": len(audit.cells),
                "narrowest interval an intruder can derive": audit.min_width,
                "protection level (least width)": min(
                    (c["required"] for c in audit.cells), default=None
                ),
                "every suppressed cell protected": audit.protected,
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
    safe = [
        (f, b) for f, b in sorted(pngs.items()) if f.endswith(_SAFE_FIGURES) and "riskiest" not in f
    ]
    figures = [Image(data=io.BytesIO(b).getvalue(), format="png") for _, b in safe]
    alts = [_figure_alt(f) for f, _ in safe]
    return DisclosureReview(
        dictionary=dictionary.reset_index(drop=True),
        microdata=pd.DataFrame(micro).set_index("table"),
        fixes=pd.DataFrame(fixes),
        tables=_published_checks(Path(tables_dir)),
        record=_output_record(Path(tables_dir)),
        linked=_linked_audit(Path(tables_dir)),
        figures=figures,
        tables_dir=Path(tables_dir),
        figure_alts=alts,
    )


def _figure_alt(filename: str) -> str:
    """What a risk-report figure shows, from its file name (``<table>_<kind>.png``)."""
    table = Path(filename).stem
    if table.endswith("_risk_distribution"):
        return (
            f"Two bar charts of the {table.removesuffix('_risk_distribution')} table: "
            "records by how many records share their key (key frequency), and records by "
            "individual re-identification risk (0 to 1); the aggregate measures are in the "
            "table above."
        )
    return (
        f"Horizontal bar charts of the {table.removesuffix('_fixes')} table's risk "
        "measures before (grey) and after (blue) each recoding step; the values are in "
        "the recoding table below."
    )


#: Counts in the review tables that describe records of the whole dataset: published as a
#: share of the table's records (``share``; ``[c]`` when the count is under the threshold)
#: or checked like counts by ``publish_summary`` (``counts``).
_SHARES = ("sample uniques", "records violating 3-anonymity")
_COUNTS = (
    "records",
    "expected re-identifications",
    "sample uniques after",
    "values changed",
    "key values suppressed",
)
_NOT_COUNTS = {
    "k-anonymity": "the size of the smallest group of records sharing a key: a property of "
    "the whole table, naming no group",
    "cells": "numbers of table cells, not of people",
    "primary suppressions": "numbers of table cells, not of people",
    "secondary suppressions": "numbers of table cells, not of people",
    "suppressed cells": "numbers of table cells, not of people",
}
_REASONS = {
    "dictionary": "data dictionary: column names, types, roles and descriptions; no figure "
    "about people",
    "microdata": "risk measures computed on each whole research table (k-anonymity, shares "
    "of records, global risk); counts of records checked like counts; no figure about a "
    "group of people",
    "fixes": "risk measures of each whole research table before and after recoding; counts "
    "of records and values checked like counts; no figure about a group of people",
    "tables": "metadata of the output checks of the published tables (rules, numbers of "
    "suppressed cells); no figure about people",
    "record": "the output checker's record of the run (status and checks of each published "
    "table); no figure about people",
    "linked": "the joint audit of the published count tables of each population (numbers of "
    "suppressed cells, the narrowest interval an intruder can derive from the published "
    "tables); no figure about people",
}


@dataclass
class PublishedReview:
    """The review tables as published (each returned by ``publish_summary``)."""

    dictionary: pd.DataFrame
    microdata: pd.DataFrame
    fixes: pd.DataFrame
    tables: pd.DataFrame
    record: pd.DataFrame
    linked: pd.DataFrame
    figures: list[Image] = field(default_factory=list)
    figure_alts: list[str] = field(default_factory=list)

    def figure_views(self) -> list[Any]:
        """The figures as inline PNGs with alt text."""
        from fdac_research.reports.present import image

        alts = [*self.figure_alts, *[""] * (len(self.figures) - len(self.figure_alts))]
        return [
            image(bytes(f.data), alt or "Chart of the disclosure-risk report.")
            for f, alt in zip(self.figures, alts, strict=True)
        ]


def _aggregate(table: pd.DataFrame, records: pd.Series | None, threshold: int) -> pd.DataFrame:
    """Counts of risky records as shares of the table's records (``[c]`` when the count is
    above zero and under ``threshold``: a share of a small count is that count)."""
    out = table.copy()
    for c in _SHARES:
        if c in out.columns and records is not None:
            n = pd.to_numeric(out[c], errors="coerce")
            share = (100 * n / records.where(records > 0)).round(1).astype(object)
            share[((n > 0) & (n < threshold)).fillna(False).to_numpy()] = SUPPRESSED
            out[c] = share
            out = out.rename(columns={c: f"{c} (% of records)"})
    return out


def _publish(table: pd.DataFrame, name: str, tables_dir: str | Path, reason: str) -> pd.DataFrame:
    return publish_summary(
        table,
        name,
        tables_dir,
        reason=reason,
        counts=[c for c in _COUNTS if c in table.columns],
        not_counts={c: w for c, w in _NOT_COUNTS.items() if c in table.columns},
        rules=DEFAULT_RULES,
    )


def publish_review(review: DisclosureReview, tables_dir: str | Path) -> PublishedReview:
    """Write the review tables to ``tables_dir`` (``disclosure_dictionary``,
    ``disclosure_risk``, ``disclosure_recoding``, ``disclosure_output_checks``,
    ``disclosure_output_record``, ``disclosure_linked_audit``) and return them as published.
    Counts of sample uniques and of records under 3-anonymity become shares of the table's
    records (1 decimal); record and value counts are checked like counts (under 10: ``[c]``)
    and rounded to 5.

    When the review was read from ``tables_dir`` (:func:`disclosure_review`), the output
    checker's record and the list of output checks are read again after the review's own
    other tables are written, the list last: it then names every table in the folder but
    itself (the pipeline runs this report last, so that is every table the run publishes)."""
    m = review.microdata
    records = pd.to_numeric(m["records"], errors="coerce") if "records" in m.columns else None
    threshold = rules_from(DEFAULT_RULES).threshold
    dictionary = _publish(
        review.dictionary, "disclosure_dictionary", tables_dir, _REASONS["dictionary"]
    )
    microdata = _publish(
        _aggregate(review.microdata, records, threshold),
        "disclosure_risk",
        tables_dir,
        _REASONS["microdata"],
    )
    fixes = _publish(review.fixes, "disclosure_recoding", tables_dir, _REASONS["fixes"])
    linked = _publish(review.linked, "disclosure_linked_audit", tables_dir, _REASONS["linked"])
    reread = review.tables_dir is not None and (
        Path(review.tables_dir).resolve() == Path(tables_dir).resolve()
    )
    record_table = _output_record(Path(tables_dir)) if reread else review.record
    record = _publish(record_table, "disclosure_output_record", tables_dir, _REASONS["record"])
    checks = _published_checks(Path(tables_dir)) if reread else review.tables
    tables = _publish(checks, "disclosure_output_checks", tables_dir, _REASONS["tables"])
    return PublishedReview(
        dictionary=dictionary,
        microdata=microdata,
        fixes=fixes,
        tables=tables,
        record=record,
        linked=linked,
        figures=review.figures,
        figure_alts=review.figure_alts,
    )
