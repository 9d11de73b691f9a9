"""The reviewer's disclosure-risk report for a research folder: HTML with figures, plus the
same figures and measures as JSON.

Quasi-identifiers and sensitive columns come from the schema's roles (overridable). Each
person table (``adults``, ``children``) is scored with the case-level quasi-identifiers of
its case joined on (an intruder who knows a parent usually knows their court, local
authority and year too), and families are the cases (``case_id``).
"""

from __future__ import annotations

import base64
import html
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import atomic_dir, write_json, write_table
from fdac_research.dataset import ResearchData, load_research
from fdac_research.exceptions import ConfigError
from fdac_research.refdata import UNKNOWN_REGION, region_of
from fdac_research.risk import _plots
from fdac_research.risk.fixes import (
    FixResult,
    local_suppression,
    recode_bands,
    recode_map,
    top_bottom_code,
)
from fdac_research.risk.microdata import MicrodataRiskResult, microdata_risk

__all__ = ["scoring_frame", "risk_report", "write_risk_report"]

log = logging.getLogger(__name__)

PERSON_TABLES = ("adults", "children")


def scoring_frame(data: ResearchData, table: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The person table with its case's quasi-identifiers joined, its QIs and sensitive columns."""
    people = getattr(data, table)
    t = schema.RESEARCH.table(table)
    case_qi = [
        c
        for c in schema.RESEARCH.table("cases").with_role("quasi_identifier")
        if c in data.cases.columns
    ]
    frame = people.merge(
        data.cases[["case_id", *case_qi]], on="case_id", how="left", validate="many_to_one"
    )
    frame.index = people.index
    qi = [c for c in t.with_role("quasi_identifier") if c in people.columns] + [
        c for c in case_qi if c not in people.columns
    ]
    sens = [c for c in t.with_role("sensitive") if c in people.columns and c not in qi]
    return frame, qi, sens


def _fixes(
    frame: pd.DataFrame, qi: list[str], *, k: int, suppression_limit: int
) -> list[FixResult]:
    steps: list[tuple[str, FixResult]] = []
    if "age_at_application" in qi:
        steps.append(
            ("age_at_application", recode_bands(frame, qi, column="age_at_application", width=5))
        )
    if "local_authority" in qi:
        las = sorted(pd.unique(frame["local_authority"].dropna()))
        regions, unknown = region_of(las)
        mapping = {la: r or UNKNOWN_REGION for la, r in zip(las, regions, strict=True)}
        name = "local authority to region"
        if unknown:
            name += (
                f" ({len(unknown)} local authorit{'y' if len(unknown) == 1 else 'ies'} not in "
                f"the reference table grouped as '{UNKNOWN_REGION}')"
            )
        steps.append(
            (
                "local_authority",
                recode_map(frame, qi, column="local_authority", mapping=mapping, name=name),
            )
        )
    if "court" in qi:
        courts = pd.unique(frame["court"].dropna())
        steps.append(
            (
                "court",
                recode_map(
                    frame,
                    qi,
                    column="court",
                    mapping=dict.fromkeys(courts, "any"),
                    name="court removed",
                ),
            )
        )
    for col, top in (("n_children", 4), ("prior_proceedings", 3)):
        if col in qi and pd.to_numeric(frame[col], errors="coerce").max() > top:
            steps.append((col, top_bottom_code(frame, qi, column=col, top=top)))
    out = [f for _, f in steps]
    if not steps:
        return out
    # all recodings together, then local suppression of what is left
    combined = frame.assign(**{col: f.data[col] for col, f in steps})
    out.append(
        FixResult(
            name="all recodings",
            data=combined,
            before=out[0].before,
            after=_summary(combined, qi),
            information_loss={"steps": [f.name for f in out]},
        )
    )
    if len(combined) <= suppression_limit:
        ls = local_suppression(combined, qi, k=k)
        ls.before = out[0].before
        ls.name = f"all recodings + local suppression to {k}-anonymity"
        out.append(ls)
    return out


def _summary(df: pd.DataFrame, qi: list[str]) -> dict[str, Any]:
    from fdac_research.risk.fixes import _summary as s

    return s(df, qi, "own_category", None)


def _key_label(row: pd.Series, qi: list[str]) -> str:
    return ", ".join(f"{c}={'missing' if pd.isna(row[c]) else row[c]}" for c in qi)


def risk_report(
    data: ResearchData,
    *,
    tables: Sequence[str] = PERSON_TABLES,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    family: str = "case_id",
    k: int = 3,
    n_keys: int = 15,
    suppression_limit: int = 50_000,
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Measures and figures of the report, as a JSON-ready dict and PNG bytes by file name."""
    out: dict[str, Any] = {"tables": {}, "k": k}
    figures: dict[str, bytes] = {}
    for name in tables:
        frame, qi, sens = scoring_frame(data, name)
        if quasi_identifiers is not None:
            qi = [c for c in quasi_identifiers if c in frame.columns]
            missing = [c for c in quasi_identifiers if c not in frame.columns]
            if missing and name == tables[0]:
                log.info("quasi-identifiers %s are not in %s; skipped there", missing, name)
            if not qi:
                raise ConfigError(
                    "risk report",
                    [
                        f"none of the quasi-identifiers {list(quasi_identifiers)} is a column of {name}"
                    ],
                )
        if sensitive is not None:
            sens = [c for c in sensitive if c in frame.columns and c not in qi]
        if len(frame) == 0:
            out["tables"][name] = {"n_records": 0}
            continue
        res: MicrodataRiskResult = microdata_risk(
            frame, qi, sensitive=sens or None, family=family if family in frame.columns else None
        )
        keys = res.riskiest_keys(n_keys)
        fixes = _fixes(frame, qi, k=k, suppression_limit=suppression_limit)
        fk = res.records["fk"].to_numpy()
        risk = res.records["risk"].to_numpy()
        figures[f"{name}_risk_distribution.png"] = _plots.risk_distribution(name, fk, risk)
        labels = [_key_label(r, qi) for _, r in keys.iterrows()]
        figures[f"{name}_riskiest_keys.png"] = _plots.riskiest_keys(
            name, labels, keys["risk"].tolist()
        )
        if fixes:
            figures[f"{name}_fixes.png"] = _plots.fixes_chart(name, [f.to_dict() for f in fixes])
        t = schema.RESEARCH.table(name)
        described = {}
        for c in qi + sens:
            try:
                described[c] = t.column(c).description
            except KeyError:
                described[c] = (
                    schema.RESEARCH.table("cases").column(c).description
                    if c in schema.RESEARCH.table("cases").names
                    else ""
                )
        out["tables"][name] = {
            "quasi_identifiers": qi,
            "sensitive": sens,
            "descriptions": described,
            "measures": res.to_dict(),
            "figures": {
                "records_by_fk": _plots.fk_counts(fk),
                "risk_histogram": _plots.risk_histogram(risk),
                "riskiest_keys": [
                    {
                        "key": lab,
                        "n_records": int(r["n_records"]),
                        "fk": float(r["fk"]),
                        "risk": float(r["risk"]),
                    }
                    for lab, (_, r) in zip(labels, keys.iterrows(), strict=True)
                ],
                "fixes": [f.to_dict() for f in fixes],
            },
        }
    return out, figures


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.bad{color:#b2182b;font-weight:bold}.ok{color:#1a7f37}img{max-width:100%}"""


def _html_table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return "" if v is None else str(v)


def render_html(report: dict[str, Any], figures: dict[str, bytes], *, title: str) -> str:
    """The report as one self-contained HTML page (figures embedded as base64)."""
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
    ]
    parts.append(f"<h1>{html.escape(title)}</h1>")
    parts.append(
        "<p>Individual risk is sdcMicro's re-identification risk (without sampling weights the file is "
        "treated as the population: risk = 1/fk). Family risk is the chance that at least one member of a "
        "case is re-identified. Quasi-identifiers and sensitive columns come from the schema's roles.</p>"
    )
    for name, t in report["tables"].items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        if not t.get("measures"):
            parts.append("<p>No records.</p>")
            continue
        m = t["measures"]
        parts.append("<h3>What an intruder is assumed to know</h3>")
        parts.append(
            _html_table(
                [
                    {
                        "column": c,
                        "role": "quasi-identifier",
                        "meaning": t["descriptions"].get(c, ""),
                    }
                    for c in t["quasi_identifiers"]
                ]
                + [
                    {"column": c, "role": "sensitive", "meaning": t["descriptions"].get(c, "")}
                    for c in t["sensitive"]
                ],
                ["column", "role", "meaning"],
            )
        )
        cls = "bad" if m["k_anonymity"] < report["k"] else "ok"
        rows = [
            {"measure": "records", "value": m["n_records"]},
            {"measure": "distinct keys", "value": m["n_keys"]},
            {"measure": "k-anonymity (smallest fk)", "value": m["k_anonymity"]},
            {"measure": "sample uniques", "value": m["n_sample_uniques"]},
            {
                "measure": "records violating 2/3/5-anonymity",
                "value": " / ".join(str(m["n_violating"][k]) for k in ("2", "3", "5")),
            },
            {"measure": "expected re-identifications", "value": m["expected_reidentifications"]},
            {"measure": "global risk (mean individual risk)", "value": m["global_risk"]},
        ]
        if m.get("family"):
            rows.append(
                {
                    "measure": "expected families re-identified",
                    "value": m["family"]["expected_families_reidentified"],
                }
            )
            rows.append(
                {
                    "measure": "families with risk above 0.5",
                    "value": m["family"]["families_above_0.5"],
                }
            )
        if m.get("suda"):
            rows.append(
                {
                    "measure": "records with a special unique (SUDA > 0)",
                    "value": m["suda"]["records_with_msu"],
                }
            )
        for s, d in m.get("l_diversity", {}).items():
            rows.append(
                {
                    "measure": f"l-diversity of {s} (distinct / entropy)",
                    "value": f"{d['distinct']:.0f} / {d['entropy']:.3g}",
                }
            )
        rows.append(
            {
                "measure": "prosecutor: highest / average risk",
                "value": f"{m['prosecutor']['highest_risk']:.3g} / {m['prosecutor']['average_risk']:.3g}",
            }
        )
        rows.append(
            {"measure": "marketer risk", "value": m["marketer"]["prosecutor_marketer_risk"]}
        )
        parts.append(f"<p class='{cls}'>k-anonymity {m['k_anonymity']} (target {report['k']}).</p>")
        parts.append(_html_table(rows, ["measure", "value"]))
        for fig, caption in (
            ("risk_distribution", "Risk distribution"),
            ("riskiest_keys", "Riskiest key combinations"),
            ("fixes", "What each recoding buys"),
        ):
            key = f"{name}_{fig}.png"
            if key in figures:
                b64 = base64.b64encode(figures[key]).decode("ascii")
                parts.append(
                    f"<h3>{caption}</h3><img alt='{html.escape(caption)}' src='data:image/png;base64,{b64}'>"
                )
            if fig == "riskiest_keys":
                parts.append(
                    _html_table(t["figures"]["riskiest_keys"], ["key", "n_records", "fk", "risk"])
                )
            if fig == "fixes":
                parts.append(
                    _html_table(
                        [
                            {
                                "fix": f["name"],
                                "sample uniques": f"{f['before']['n_sample_uniques']} → {f['after']['n_sample_uniques']}",
                                "expected re-identifications": f"{f['before']['expected_reidentifications']:.1f} → {f['after']['expected_reidentifications']:.1f}",
                                "k": f"{f['before']['k_anonymity']} → {f['after']['k_anonymity']}",
                                "information lost": _fmt(
                                    f["information_loss"].get(
                                        "values_changed", f["information_loss"].get("steps")
                                    )
                                ),
                            }
                            for f in t["figures"]["fixes"]
                        ],
                        [
                            "fix",
                            "sample uniques",
                            "expected re-identifications",
                            "k",
                            "information lost",
                        ],
                    )
                )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_risk_report(
    research: ResearchData | Path | str,
    out: Path | str,
    *,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    k: int = 3,
    validate: bool = True,
) -> dict[str, Any]:
    """Write ``risk.html``, ``risk.json``, the PNG figures and ``riskiest_keys_<table>.csv``.

    The folder is written atomically; the same inputs give byte-identical files.
    """
    data = (
        research
        if isinstance(research, ResearchData)
        else load_research(research, validate=validate)
    )
    report, figures = risk_report(
        data, quasi_identifiers=quasi_identifiers, sensitive=sensitive, k=k
    )
    title = "Disclosure-risk report"
    if data.folder is not None:
        title += f": {Path(data.folder).name}"
    with atomic_dir(Path(out)) as tmp:
        for fname, b in figures.items():
            (tmp / fname).write_bytes(b)
        write_json(_jsonable(report), tmp / "risk.json")
        (tmp / "risk.html").write_text(render_html(report, figures, title=title), encoding="utf-8")
        for name, t in report["tables"].items():
            if t.get("figures"):
                write_table(
                    pd.DataFrame(t["figures"]["riskiest_keys"]), tmp / f"riskiest_keys_{name}.csv"
                )
    return report


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_jsonable(v) for v in o]
    if isinstance(o, float | np.floating):
        return float(o) if np.isfinite(o) else None
    if isinstance(o, np.integer):
        return int(o)
    return o
