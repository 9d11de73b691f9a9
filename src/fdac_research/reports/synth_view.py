"""What the synthetic-release notebook shows, read from the release's
``synthetic_report.json`` (written by ``fdac-research synthesise``).

:func:`synthetic_release_view` reads; :func:`publish_release` output-checks the tables the
notebook shows: the real-vs-synthetic effects with
:func:`~fdac_research.reports.publish_estimates` (people, and events and non-events per arm
of the real data), the whole-dataset utility and privacy measures with
:func:`~fdac_research.reports.publish.publish_summary` (recording why no suppression
applies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fdac_research.exceptions import ContractError, Problem
from fdac_research.reports.publish import (
    DEFAULT_RULES,
    SUPPRESSED,
    SUPPRESSION_NOTE,
    publish_estimates,
    publish_summary,
    suppressed_rows,
)
from fdac_research.risk import TableRules

__all__ = [
    "PublishedRelease",
    "SyntheticReleaseView",
    "publish_release",
    "synthetic_release_view",
]

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
    fidelity_note: str = ""
    #: Per fidelity row, the real people behind it (``real n``) and, when the research
    #: folder was given, people and events per arm (missing when they could not be
    #: counted): for :func:`publish_release`'s check; not to be shown.
    fidelity_counts: pd.DataFrame | None = None
    #: One paragraph for the top of the report: released or refused, and by which checks.
    verdict: str = ""


def _utility(u: dict[str, Any]) -> pd.DataFrame:
    rows = [
        ("SDMetrics quality score (1 = identical distributions)", round(u["quality"]["score"], 3))
    ]
    for prop, score in sorted((u["quality"].get("properties") or {}).items()):
        rows.append((f"SDMetrics property: {prop} (1 = identical)", round(float(score), 3)))
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


_ARMS = ("n_treated", "events_treated", "n_untreated", "events_untreated")


def _arm_counts(
    research_dir: str | Path | None, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], list[int]]:
    """Cells (untreated/treated x no event/event) of each fidelity effect's (outcome,
    population) on the real data (both fidelity estimators use every row of the analysis
    frame)."""
    if not research_dir:
        return {}
    from fdac_research import analysis
    from fdac_research.dataset import load_research

    research = load_research(research_dir)
    out: dict[tuple[str, str], list[int]] = {}
    for outcome, population in sorted(set(pairs)):
        try:
            frame = analysis.analysis_frame(research, outcome, population)
        except analysis.AnalysisError:
            continue
        t, y = frame.t, frame.y
        cells = [int(((t == a) & (y == e)).sum()) for a in (0, 1) for e in (0, 1)]
        out[(outcome, population)] = cells
    return out


def _fidelity(
    items: list[dict[str, Any]], cells: dict[tuple[str, str], list[int]], threshold: int
) -> tuple[pd.DataFrame, bool]:
    """The fidelity table and whether a row was suppressed. A real estimate is shown only
    when at least ``threshold`` people lie behind it and, when the real data are at hand,
    ``threshold`` events and non-events in each arm; otherwise its estimates and the
    comparisons made with it are ``[c]``."""
    rows = []
    hidden = False
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
        arms = cells.get((str(f["outcome"]), str(f["population"])), [])
        small = int(r.get("n", 0)) < threshold or any(c < threshold for c in arms)
        row: dict[str, Any] = {
            "outcome": f"{f['outcome']} ({f['population']})",
            "method": f["method"],
        }
        if small:  # output rule for estimates: enough people and events behind it
            hidden = True
            row.update(
                {
                    "real odds ratio": SUPPRESSED,
                    "synthetic odds ratio": SUPPRESSED,
                    "intervals overlap": SUPPRESSED,
                    "synthetic inside real CI": SUPPRESSED,
                }
            )
        else:
            row.update(
                {
                    "real odds ratio": f"{r['odds_ratio']:.2f} ({r['odds_ratio_ci'][0]:.2f} to {r['odds_ratio_ci'][1]:.2f})",
                    "synthetic odds ratio": f"{s['odds_ratio']:.2f} ({s['odds_ratio_ci'][0]:.2f} to {s['odds_ratio_ci'][1]:.2f})",
                    "intervals overlap": bool(f["ci_overlap"]),
                    "synthetic inside real CI": bool(f["inside_real_ci"]),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows), hidden


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
    columns = ["measure", "synthetic", "held-out real (baseline)"]
    return pd.DataFrame(rows, columns=columns).set_index("measure")


def _shown_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _gate_text(gate: dict[str, Any]) -> str:
    """The gate as a Markdown table: each check, its value, threshold and result, and the
    same measure on the real held-out data when the gate recorded it (``holdout``)."""
    checks = gate.get("checks", [])
    holdout = any(c.get("holdout") is not None for c in checks)
    head = [
        "Check",
        "Synthetic copy",
        *(["Real held-out data"] if holdout else []),
        "Threshold",
        "Result",
    ]
    lines = [
        f"**Release gate: {'PASSED' if gate.get('passed') else 'REFUSED'}.** Each check and its threshold:",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for c in checks:
        detail = str(c.get("detail", c.get("name"))).replace("|", "/")
        cells = [detail, _shown_value(c.get("value"))]
        if holdout:
            h = c.get("holdout")
            cells.append("–" if h is None else _shown_value(h))
        cells += [str(c.get("threshold")), "passed" if c.get("passed") else "**FAILED**"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _verdict_text(gate: dict[str, Any]) -> str:
    """The gate's decision in words, for the top of the report (the values are those of
    the gate section, :func:`_gate_text`)."""
    if gate.get("passed"):
        return (
            "**The release gate PASSED this synthetic copy: it was released.** Every check "
            "is listed under *Release gate* below."
        )
    failed = [str(c.get("detail", c.get("name"))) for c in gate.get("checks", [])]
    failed = [
        str(c.get("detail", c.get("name"))) for c in gate.get("checks", []) if not c.get("passed")
    ] or failed
    return (
        "**The release gate REFUSED this synthetic copy: nothing was released.** It failed: "
        + "; ".join(failed)
        + ". The tables below describe the refused candidate, so that the reason can be "
        "judged; the values and thresholds are under *Release gate* below."
    )


def _objections_text(objections: Any) -> str:
    """What the release did about families who objected to external sharing."""
    if not isinstance(objections, dict):
        return ""
    withheld = objections.get("cases_withheld")
    if withheld is None:
        return (
            "The research folder held no list of families who objected to external sharing "
            "(`_governance/external_exclusions.csv`, written by `fdac-research build`), so "
            "none could be left out of the training data."
        )
    return (
        "Families who objected to external sharing were left out of the training data "
        f"before anything was fitted (cases left out: {withheld})."
    )


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


def synthetic_release_view(
    synthetic_dir: str | Path,
    research_dir: str | Path | None = None,
    *,
    threshold: int = MIN_PEOPLE,
) -> SyntheticReleaseView:
    """Read a release folder's report; a missing report is a clear error.

    Parameters
    ----------
    synthetic_dir : path
        The folder holding ``synthetic_report.json``.
    research_dir : path, optional
        The real research folder the release was made from: when given, a real estimate is
        also suppressed when an arm has fewer than ``threshold`` events or non-events (the
        report itself records only the number of people).
    threshold : int
        Fewest people (and events, non-events per arm) behind a shown real estimate.
    """
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
    items = d["utility"].get("fidelity", [])
    pairs = [(str(f.get("outcome")), str(f.get("population"))) for f in items]
    estimated = [pair for f, pair in zip(items, pairs, strict=True) if "real" in f]
    cells = _arm_counts(research_dir, estimated)
    fidelity, hidden = _fidelity(items, cells, threshold)
    return SyntheticReleaseView(
        utility=_utility(d["utility"]),
        fidelity=fidelity,
        privacy=_privacy(d.get("privacy", {}), gate),
        gate=_gate_text(gate)
        + f"\n\nModel: `{d.get('model', {}).get('name')}`, seed {d.get('seed')}. "
        + _objections_text(d.get("external_sharing_objections")),
        passed=bool(gate.get("passed")),
        verdict=_verdict_text(gate),
        figures=[_children_chart(d["utility"].get("children_per_case", {}))],
        fidelity_note=SUPPRESSION_NOTE if hidden else "",
        fidelity_counts=_fidelity_counts(items, pairs, cells if research_dir else None),
    )


def _fidelity_counts(
    items: list[dict[str, Any]],
    pairs: list[tuple[str, str]],
    cells: dict[tuple[str, str], list[int]] | None,
) -> pd.DataFrame:
    rows = []
    for f, pair in zip(items, pairs, strict=True):
        real = f.get("real")
        if not isinstance(real, dict):
            real = {}
        row: dict[str, float] = {"real n": float(real.get("n", np.nan))}
        if cells is not None:
            c = cells.get(pair)  # c00, c01, c10, c11 (treatment, outcome)
            arms = [c[2] + c[3], c[3], c[0] + c[1], c[1]] if c else [np.nan] * 4
            row.update(dict(zip(_ARMS, map(float, arms), strict=True)))
        rows.append(row)
    columns = ["real n", *(_ARMS if cells is not None else ())]
    return pd.DataFrame(rows, columns=columns)


@dataclass
class PublishedRelease:
    """What notebook 5 may show: every table returned by a publish_* call."""

    utility: pd.DataFrame
    fidelity: pd.DataFrame
    privacy: pd.DataFrame
    fidelity_note: str = ""


_UTILITY_REASON = (
    "utility measures of the synthetic release computed on whole tables (quality score, "
    "pMSE, rule violation and key validity rates, distance between distributions); no "
    "figure about a group of real people"
)
_PRIVACY_REASON = (
    "privacy measures computed on whole tables (shares of exact copies, distance to "
    "closest record, attack success rates); no figure about a group of real people"
)


def publish_release(
    view: SyntheticReleaseView,
    tables_dir: str | Path,
    *,
    rules: TableRules | str | dict[str, Any] = DEFAULT_RULES,
) -> PublishedRelease:
    """Output-check the release tables and write them to ``tables_dir``.

    ``synthetic_fidelity.csv``: the real-vs-synthetic odds ratios, with
    :func:`~fdac_research.reports.publish_estimates` on the real people (``real n``) and,
    when the view was built with the research folder, people, events and non-events per
    arm; a failing row (or one whose counts are unknown, e.g. an effect that could not be
    estimated) is ``[c]`` except its outcome and method. ``synthetic_utility.csv`` and
    ``synthetic_privacy.csv``: whole-table measures, with
    :func:`~fdac_research.reports.publish.publish_summary` and the reason.
    """
    counts = view.fidelity_counts
    if counts is None:
        counts = pd.DataFrame({"real n": [np.nan] * len(view.fidelity)})
    table = pd.concat([view.fidelity.reset_index(drop=True), counts.reset_index(drop=True)], axis=1)
    arms = [c for c in _ARMS if c in table.columns]
    fidelity = publish_estimates(
        table,
        "synthetic_fidelity",
        tables_dir,
        n_columns=["real n", *(c for c in arms if c.startswith("n_"))],
        events=[(e, e.replace("events_", "n_")) for e in arms if e.startswith("events_")],
        rules=rules,
        allow_suppression=True,
        label_columns=[c for c in ("outcome", "method") if c in table.columns],
    )
    hidden = bool(suppressed_rows(fidelity).any())
    return PublishedRelease(
        utility=publish_summary(
            view.utility, "synthetic_utility", tables_dir, reason=_UTILITY_REASON
        ),
        fidelity=fidelity,
        privacy=publish_summary(
            view.privacy, "synthetic_privacy", tables_dir, reason=_PRIVACY_REASON
        ),
        fidelity_note=SUPPRESSION_NOTE if hidden or view.fidelity_note else "",
    )


# ---- what the reader sees -----------------------------------------------------------------


def utility_view(published: pd.DataFrame) -> Any:
    """The published utility measures for people."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [Col("Measure", "@index"), Col("Value", "value", "text")],
        caption="How useful the synthetic copy is",
        note="SDMetrics' properties: Column Shapes (each column's distribution), Column "
        "Pair Trends (pairs of columns), Cardinality (children per case), Intertable Trends "
        "(columns across linked tables).",
    )


def fidelity_view(published: pd.DataFrame) -> Any:
    """Real against synthetic odds ratios for people (the counts are in the CSV)."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Outcome", "outcome"),
            Col("Estimate", "method", "method"),
            Col("Real data: odds ratio (95% CI)", "real odds ratio"),
            Col("Synthetic copy: odds ratio (95% CI)", "synthetic odds ratio"),
            Col("Intervals overlap", "intervals overlap", "bool"),
            Col("Synthetic estimate inside the real interval", "synthetic inside real CI", "bool"),
            Col("Real people", "real n", "int"),
        ],
        caption="Real against synthetic: the FDAC findings",
        note="Counts rounded to 5; [c]: not published (too few people, events or "
        "non-events). People and events per arm are in the published CSV.",
    )


def privacy_view(published: pd.DataFrame) -> Any:
    """The published privacy measures for people."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Measure", "@index"),
            Col("Synthetic copy", "synthetic"),
            Col("Real held-out data (baseline)", "held-out real (baseline)"),
        ],
        caption="How private the synthetic copy is",
        note="An attack risk is the attack's success rate above its rate on held-out real "
        "records (the baseline is subtracted); 0 or below means no measurable risk.",
    )
