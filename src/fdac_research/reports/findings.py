"""The findings of each report in plain sentences, drawn from the published tables only.

Every number here is read back from a CSV in the tables folder, that is from a table that
passed the output check (``[c]`` stays unsaid: a suppressed estimate becomes "not
published"). The same sentences open each report and the landing page, so that the two
cannot disagree. Counts in the published tables are rounded to 5, and the sentences say so.

A finding is a (lead, text) pair: :func:`as_markdown` writes them for a notebook,
:mod:`fdac_research.reports._index` as HTML.

Examples
--------
>>> _direction(1.45, 0.83, 2.54)
'compatible with no difference'
>>> _direction(1.86, 1.63, 2.12)
'higher in FDAC'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fdac_research.risk.tables import SUPPRESSED

__all__ = [
    "Finding",
    "OUTCOME_WORDS",
    "as_markdown",
    "cohort_findings",
    "disclosure_findings",
    "headline_findings",
    "linkage_findings",
    "outcome_findings",
    "recurrence_finding",
    "synthetic_findings",
]

Finding = tuple[str, str]

#: Per outcome key: who is counted, and the outcome as a clause.
OUTCOME_WORDS: dict[str, tuple[str, str]] = {
    "reunified_children": ("children", "were living with a parent at the end of proceedings"),
    "ceased_misuse_mothers": (
        "mothers",
        "had stopped misusing substances by the end of proceedings",
    ),
    "ceased_misuse_fathers": (
        "fathers",
        "had stopped misusing substances by the end of proceedings",
    ),
    "returned_to_court_3y_children": ("children", "were back in court within 3 years"),
}
_LEADS = {
    "reunified_children": "Children going home.",
    "ceased_misuse_mothers": "Mothers stopping substance misuse.",
    "ceased_misuse_fathers": "Fathers stopping substance misuse.",
    "returned_to_court_3y_children": "Children back in court within 3 years.",
}
_PRIMARY = "aipw (ATE)"
_NAIVE = "naive (association)"


def _read(tables_dir: str | Path, name: str) -> pd.DataFrame | None:
    """A published table as text (``[c]`` kept), or None when it was not published."""
    path = Path(tables_dir) / f"{name}.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)


def _num(value: object) -> float | None:
    try:
        x = float(str(value))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _shown(row: pd.Series | pd.DataFrame, columns: Sequence[str]) -> list[float] | None:
    """The numbers in ``columns`` of a published row, or None when any is suppressed or
    missing (a repeated label: its first row)."""
    if isinstance(row, pd.DataFrame):
        row = row.iloc[0]
    out = []
    for c in columns:
        v = row.get(c)
        if v is None or str(v) == SUPPRESSED:
            return None
        x = _num(v)
        if x is None:
            return None
        out.append(x)
    return out


def _int(x: float) -> str:
    return f"{int(round(x)):,}"


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _direction(value: float, low: float, high: float) -> str:
    if low > 1:
        return "higher in FDAC"
    if high < 1:
        return "lower in FDAC"
    return "compatible with no difference"


def _meaning(value: float, low: float, high: float, what: str) -> str:
    """What a ratio and its interval say, in words (``what`` + the direction)."""
    verdict = _direction(value, low, high)
    if verdict == "compatible with no difference":
        return "the data are compatible with FDAC making no difference"
    return f"{what} {verdict}"


def outcome_finding(tables_dir: str | Path, key: str) -> Finding | None:
    """The finding for one outcome from ``effects_<key>.csv`` (None when not published)."""
    table = _read(tables_dir, f"effects_{key}")
    if table is None:
        return None
    who, clause = OUTCOME_WORDS.get(key, ("people", key.replace("_", " ")))
    lead = _LEADS.get(key, key.replace("_", " ").capitalize() + ".")
    naive = table.loc[_NAIVE] if _NAIVE in table.index else None
    dr = table.loc[_PRIMARY] if _PRIMARY in table.index else None
    shares = None if naive is None else _shown(naive, ["p_treated", "p_untreated"])
    est = None if dr is None else _shown(dr, ["odds_ratio", "or_ci_low", "or_ci_high"])
    counts = None if dr is None else _shown(dr, ["n_treated", "n_untreated", "n_clusters"])
    if shares is None and est is None:
        return (
            lead,
            "Not published: too few people, events or non-events in an arm to estimate it safely.",
        )
    parts = []
    if shares is not None:
        parts.append(
            f"{_pct(shares[0])} of {who} in FDAC {clause}, against {_pct(shares[1])} in "
            "ordinary care proceedings (as observed, before any adjustment)."
        )
    if est is not None:
        o, lo, hi = est
        meaning = _meaning(o, lo, hi, "the odds were")
        parts.append(
            f"Allowing for the recorded differences between the families, the doubly robust "
            f"odds ratio is {o:.2f} (95% CI {lo:.2f}–{hi:.2f}): {meaning}."
        )
    if counts is not None:
        parts.append(
            f"Based on {_int(counts[0])} FDAC and {_int(counts[1])} comparison {who} in "
            f"{_int(counts[2])} families (rounded to 5)."
        )
    return lead, " ".join(parts)


def _total(table: pd.DataFrame | None) -> float | None:
    if table is None or "Total" not in table.index or "Total" not in table.columns:
        return None
    return _num(table.at["Total", "Total"])


def _estimate_n(tables_dir: str | Path, key: str) -> float | None:
    table = _read(tables_dir, f"effects_{key}")
    if table is None or _PRIMARY not in table.index:
        return None
    n = _shown(table.loc[_PRIMARY], ["n"])
    return None if n is None else n[0]


def who_is_counted(tables_dir: str | Path) -> Finding | None:
    """Why the number of children (and mothers) differs between the profile and the
    estimates."""
    children = _total(_read(tables_dir, "cohort_child_age_band"))
    est_children = _estimate_n(tables_dir, "reunified_children")
    mothers = _total(_read(tables_dir, "cohort_domestic_abuse"))
    est_mothers = _estimate_n(tables_dir, "ceased_misuse_mothers")
    parts = []
    if children is not None and est_children is not None:
        parts.append(
            f"The cohort profile counts all {_int(children)} children in the proceedings; "
            f"the reunification estimates count the {_int(est_children)} whose outcome is "
            "recorded (children of proceedings that had not ended, or with no recorded "
            "placement, are left out)."
        )
    if mothers is not None and est_mothers is not None:
        parts.append(
            f"Likewise {_int(mothers)} mothers are in the profile and {_int(est_mothers)} "
            "in the estimates of stopping substance misuse (those whose outcome is "
            "recorded)."
        )
    if not parts:
        return None
    parts.append("All counts are rounded to 5, so totals may differ by a few.")
    return "Who is counted.", " ".join(parts)


def _limits(tables_dir: str | Path) -> Finding:
    """What the comparison can and cannot show, with the published robustness checks."""
    text = [
        "Families were not randomised to FDAC: the adjusted estimates allow only for the "
        "differences the records hold (the characteristics listed under covariate "
        "balance in the outcomes report), not for what they do not hold, such as a "
        "parent's motivation or the severity of misuse."
    ]
    sens = _read(tables_dir, "sensitivity_e_values")
    if sens is not None:
        idx = "Children living with a parent at the end of proceedings"
        if idx in sens.index:
            e = _shown(sens.loc[idx], ["E-value (estimate)", "E-value (confidence limit)"])
            if e is not None:
                ci = (
                    "its confidence interval already includes no effect"
                    if e[1] <= 1
                    else f"one of {e[1]:.2f} could make its confidence interval include no effect"
                )
                text.append(
                    f"For children going home, an unmeasured confounder associated with both "
                    f"FDAC and the outcome by a risk ratio of {e[0]:.2f} could explain the "
                    f"estimate away, and {ci} (E-values)."
                )
    nc = _read(tables_dir, "negative_control")
    if nc is not None and _PRIMARY in nc.index:
        v = _shown(nc.loc[_PRIMARY], ["odds_ratio", "or_ci_low", "or_ci_high"])
        if v is not None:
            clean = v[1] <= 1 <= v[2]
            text.append(
                "The negative control (child-protection plans made before the proceedings, "
                f"which FDAC cannot have changed) gives an odds ratio of {v[0]:.2f} (95% CI "
                f"{v[1]:.2f}–{v[2]:.2f}): "
                + (
                    "compatible with none, as it should be."
                    if clean
                    else "not compatible with none, a sign of bias the adjustment missed."
                )
            )
    return "What this can and cannot show.", " ".join(text)


def recurrence_finding(tables_dir: str | Path) -> Finding | None:
    """Whether families came back to court, from ``recurrence_survival.csv`` (the shares
    still without a later case 3 years after the final hearing) and
    ``recurrence_hazard_ratio.csv`` (None when neither was published)."""
    curve = _read(tables_dir, "recurrence_survival")
    hazard = _read(tables_dir, "recurrence_hazard_ratio")
    if curve is None and hazard is None:
        return None
    lead = "Families back in court."
    parts = []
    # the row of 3 years since the final hearing (the CSV's labels read back as numbers)
    three = [] if curve is None else [i for i in curve.index if _num(i) == 3.0]
    if curve is not None and three:
        s = _shown(curve.loc[three[0]], ["s_treated", "s_untreated"])
        if s is not None:
            parts.append(
                f"Three years after the final hearing, {_pct(s[0])} of FDAC cases and "
                f"{_pct(s[1])} of comparison cases had no later care case naming any of "
                "their people (Kaplan–Meier, as observed, with cases censored at the end "
                "of follow-up)."
            )
    ratio = None
    for row, words in (
        ("adjusted", "Allowing for the recorded differences between the families"),
        ("unadjusted", "Before any adjustment"),
    ):
        if hazard is not None and row in hazard.index:
            v = _shown(hazard.loc[row], ["hazard_ratio", "hr_ci_low", "hr_ci_high"])
            n = _shown(hazard.loc[row], ["n_treated", "n_untreated", "n_clusters"])
            if v is not None and n is not None:
                ratio = (words, v, n)
                break
    if ratio is not None:
        words, (hr, lo, hi), (n1, n0, g) = ratio
        meaning = _meaning(hr, lo, hi, "the hazard of a later case was")
        parts.append(
            f"{words}, the hazard ratio of a later case is {hr:.2f} (95% CI "
            f"{lo:.2f}–{hi:.2f}): {meaning}. Based on {_int(n1)} FDAC and {_int(n0)} "
            f"comparison cases in {_int(g)} families (rounded to 5)."
        )
    if not parts:
        return (
            lead,
            "Not published: too few cases or later cases in an arm to estimate it safely.",
        )
    return lead, " ".join(parts)


def outcome_findings(tables_dir: str | Path, keys: Sequence[str] | None = None) -> list[Finding]:
    """Every outcome's finding, whether families came back to court, who is counted, and
    the limits of the comparison."""
    keys = list(OUTCOME_WORDS) if keys is None else list(keys)
    out = [f for f in (outcome_finding(tables_dir, k) for k in keys) if f is not None]
    back = recurrence_finding(tables_dir)
    if back is not None:
        out.append(back)
    counted = who_is_counted(tables_dir)
    if counted is not None:
        out.append(counted)
    out.append(_limits(tables_dir))
    return out


def cohort_findings(tables_dir: str | Path) -> list[Finding]:
    """Cases, mothers and children by cohort, and the most common substance."""
    out: list[Finding] = []
    cases = _read(tables_dir, "cohort_court")
    if cases is not None and "Total" in cases.index:
        row = cases.loc["Total"]
        v = _shown(row, ["fdac", "comparison", "Total"])
        if v is not None:
            out.append(
                (
                    "Cases.",
                    f"{_int(v[2])} care proceedings: {_int(v[0])} in FDAC and {_int(v[1])} "
                    "ordinary (comparison) proceedings.",
                )
            )
    children = _read(tables_dir, "cohort_child_age_band")
    if children is not None and "Total" in children.index:
        v = _shown(children.loc["Total"], ["fdac", "comparison", "Total"])
        if v is not None:
            out.append(
                (
                    "Children.",
                    f"{_int(v[2])} children: {_int(v[0])} in FDAC and {_int(v[1])} in "
                    "comparison proceedings.",
                )
            )
    subs = _read(tables_dir, "cohort_substances")
    if subs is not None:
        rows = [r for r in subs.index if r not in ("Total", "not recorded")]
        counts = {r: _num(subs.at[r, "Total"]) for r in rows}
        known = {r: c for r, c in counts.items() if c is not None}
        if known:
            top = max(sorted(known), key=lambda r: known[r])
            out.append(
                (
                    "Substances.",
                    f"The substance most often recorded for mothers is {top} "
                    f"({_int(known[top])} mothers; a mother may misuse several).",
                )
            )
    out.append(
        (
            "Counts.",
            "Every count is rounded to 5 and a count under 10 is shown as [c], with further "
            "cells hidden so that it cannot be worked out from the totals.",
        )
    )
    return out


def linkage_findings(tables_dir: str | Path) -> list[Finding]:
    """Share of each agency's records linked, precision and recall, and the sensitivity."""
    out: list[Finding] = []
    q = _read(tables_dir, "linkage_quality")
    if q is not None and len(q):
        linked = {a: _num(q.at[a, "linked_%"]) for a in q.index}
        shown = {a: v for a, v in linked.items() if v is not None}
        if shown:
            lo = min(sorted(shown), key=lambda a: shown[a])
            hi = max(sorted(shown), key=lambda a: shown[a])
            out.append(
                (
                    "Coverage.",
                    f"Between {shown[lo]:.0f}% ({lo.replace('_', ' ')}) and {shown[hi]:.0f}% "
                    f"({hi.replace('_', ' ')}) of each agency's records were linked to a "
                    f"parent or child in the court records ({len(q)} agencies).",
                )
            )
        prec = [x for x in (_num(v) for v in q["precision"]) if x is not None]
        rec = [x for x in (_num(v) for v in q["recall"]) if x is not None]
        if prec and rec:
            out.append(
                (
                    "Accuracy.",
                    f"Estimated precision (the share of links that are right) is at least "
                    f"{100 * min(prec):.1f}% and recall (the share of true links found) at "
                    f"least {100 * min(rec):.1f}% for every agency.",
                )
            )
        elif not prec and not rec:
            out.append(
                (
                    "Accuracy.",
                    "Precision and recall are not known: no truth and no reviewed clerical sample.",
                )
            )
    s = _read(tables_dir, "linkage_error_sensitivity")
    if s is not None and "as linked" in s.index:
        base = _shown(s.loc["as linked"], ["odds_ratio (median)"])
        spread = [_shown(s.loc[r], ["lowest", "highest"]) for r in s.index if r != "as linked"]
        if base is not None and spread and all(x is not None for x in spread):
            lows = [x[0] for x in spread if x is not None]
            highs = [x[1] for x in spread if x is not None]
            out.append(
                (
                    "Effect of linkage errors.",
                    f"With further linkage errors added, the doubly robust odds ratio for "
                    f"children going home ({base[0]:.2f} as linked) ranged from "
                    f"{min(lows):.2f} to {max(highs):.2f}.",
                )
            )
    return out


def disclosure_findings(tables_dir: str | Path) -> list[Finding]:
    """Re-identification risk of the research tables and what the output checks did."""
    out: list[Finding] = []
    risk = _read(tables_dir, "disclosure_risk")
    if risk is not None and len(risk):
        parts = []
        for table in risk.index:
            g = _num(risk.at[table, "global risk"]) if "global risk" in risk.columns else None
            k = _num(risk.at[table, "k-anonymity"]) if "k-anonymity" in risk.columns else None
            if g is not None and k is not None:
                parts.append(f"{table}: k-anonymity {_int(k)}, global risk {g:.2f}")
        if parts:
            out.append(
                (
                    "Research dataset.",
                    "Re-identification risk for someone who knows the quasi-identifiers ("
                    + "; ".join(parts)
                    + "): the record-level data must stay in the secure environment; only "
                    "output-checked tables leave it.",
                )
            )
    checks = _read(tables_dir, "disclosure_output_checks")
    if checks is not None:
        n = len(checks) + 1  # the list does not list itself
        primary = sum(
            x
            for x in (_num(v) for v in checks.get("primary suppressions", pd.Series(dtype=str)))
            if x is not None
        )
        out.append(
            (
                "Published tables.",
                f"{n} tables were published, each after its output check; {_int(primary)} "
                "cells or rows in them are suppressed as [c] because they rest on too few "
                "people.",
            )
        )
    return out


def synthetic_findings(tables_dir: str | Path, released: bool | None) -> list[Finding]:
    """The gate's decision, the quality score and how many findings the copy reproduces."""
    out: list[Finding] = []
    if released is not None:
        out.append(
            (
                "Synthetic release.",
                "The release gate passed the synthetic copy: it was released."
                if released
                else "The release gate refused the synthetic copy: nothing was released.",
            )
        )
    u = _read(tables_dir, "synthetic_utility")
    if u is not None:
        score = next((u.at[m, "value"] for m in u.index if m.startswith("SDMetrics")), None)
        x = _num(score)
        if x is not None:
            out.append(
                (
                    "Quality.",
                    f"SDMetrics quality score {x:.2f} (1 means the synthetic columns and "
                    "pairs of columns are distributed exactly as the real ones).",
                )
            )
    f = _read(tables_dir, "synthetic_fidelity")
    if f is not None and "synthetic inside real CI" in f.columns:
        flags = [str(v) for v in f["synthetic inside real CI"] if str(v) in ("True", "False")]
        if flags:
            out.append(
                (
                    "Findings reproduced.",
                    f"{flags.count('True')} of {len(flags)} published real-data odds ratios "
                    "are reproduced by the synthetic copy (its estimate inside the real 95% "
                    "CI).",
                )
            )
    return out


def headline_findings(tables_dir: str | Path, released: bool | None) -> list[Finding]:
    """The landing page's findings: the primary outcomes, then the release."""
    out = [
        f
        for f in (
            outcome_finding(tables_dir, k) for k in ("reunified_children", "ceased_misuse_mothers")
        )
        if f is not None
    ]
    counted = who_is_counted(tables_dir)
    if counted is not None:
        out.append(counted)
    out += [s for s in synthetic_findings(tables_dir, released) if s[0] == "Synthetic release."]
    return out


def as_markdown(findings: Sequence[Finding]) -> str:
    """The findings as a Markdown list (for a notebook's opening cell)."""
    if not findings:
        return "No finding could be published from these data."
    return "\n".join(f"* **{lead}** {text}" for lead, text in findings)
