"""What the outcomes notebook shows: every estimator for every outcome, balance, orders and
placements, sensitivity to unmeasured confounding, and (for synthetic worlds) the truth.

:func:`evaluate_outcomes` computes; :func:`publish_evaluation` output-checks every table
(counts with :func:`~fdac_research.reports.publish_table`, estimates with
:func:`~fdac_research.reports.publish_estimates`: enough people, events and non-events per
arm) and builds the figures and the prose **from the published rows only**, so that a
suppressed estimate is not given back by a plot or a sentence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fdac_research import analysis
from fdac_research.analysis import AnalysisError, AnalysisFrame, EffectResult
from fdac_research.dataset import ResearchData
from fdac_research.reports.links import outcome_link
from fdac_research.reports.present import method_name
from fdac_research.reports.publish import (
    DEFAULT_RULES,
    SUPPRESSION_NOTE,
    publish_estimates,
    publish_table,
    suppressed_rows,
)
from fdac_research.reports.recurrence_view import (
    PublishedRecurrence,
    RecurrenceEvaluation,
    evaluate_recurrence,
    publish_recurrence,
)
from fdac_research.risk import TableRules
from fdac_research.truth import read_truth_effects

__all__ = [
    "OUTCOMES",
    "OutcomeEvaluation",
    "PublishedEvaluation",
    "TruthComparison",
    "evaluate_outcomes",
    "publish_evaluation",
    "readable_forest",
    "truth_comparison",
]

log = logging.getLogger(__name__)

#: (key, outcome, population, title) of every outcome the evaluation reports.
OUTCOMES: tuple[tuple[str, str, str, str], ...] = (
    (
        "reunified_children",
        "reunified",
        "children",
        "Children living with a parent at the end of proceedings",
    ),
    (
        "ceased_misuse_mothers",
        "ceased_misuse",
        "mothers",
        "Mothers who ceased substance misuse by the end of proceedings",
    ),
    (
        "ceased_misuse_fathers",
        "ceased_misuse",
        "fathers",
        "Fathers who ceased substance misuse (less complete data)",
    ),
    (
        "returned_to_court_3y_children",
        "returned_to_court_3y",
        "children",
        "Children returned to court within 3 years",
    ),
)
_N_COLUMNS = ("n", "n_treated", "n_untreated", "n_clusters")
#: (events column, people column) per arm, checked by publish_estimates.
_EVENTS = (("events_treated", "n_treated"), ("events_untreated", "n_untreated"))
_ARM_CHECK: dict[str, Any] = {"n_columns": _N_COLUMNS, "events": _EVENTS}
_BALANCE_CHECK: dict[str, Any] = {
    "n_columns": ("n_treated", "n_untreated", "n_matched_treated", "n_matched_untreated"),
    "events": (
        ("with_treated", "n_treated"),
        ("with_untreated", "n_untreated"),
        ("with_matched_treated", "n_matched_treated"),
        ("with_matched_untreated", "n_matched_untreated"),
    ),
}
_COUNTS = (*_N_COLUMNS, "events_treated", "events_untreated")
#: The balance table's SMD columns, in words (love plot legend).
_SMD_WORDS = {
    "unadjusted": "Before adjustment",
    "ipw_ate": "Inverse probability weighting (ATE)",
    "matching": "Propensity-score matching",
}
#: Ticks of a log axis of ratios, as plain numbers.
_RATIO_TICKS = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 50, 100)
_HIDDEN_BIAS = "explained away by a confounder of RR < {:g}"


@dataclass
class OutcomeEvaluation:
    """Everything the outcomes report computes, **before** the output check.

    Nothing here may be shown as it is: :func:`publish_evaluation` checks every table and
    draws the figures from what passed. Every estimates table carries the counts its check
    needs: people per arm (``n_treated``, ``n_untreated``), families (``n_clusters``) and
    events per arm (``events_treated``, ``events_untreated``); the balance table carries,
    per covariate, the people per arm and (binary covariates) those with the
    characteristic, in all rows and in the matched sample.
    """

    results: dict[str, list[EffectResult]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    count_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    balance: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    benchmark: analysis.BenchmarkComparison | None = None
    hidden_bias_threshold: float = 2.0
    skipped: dict[str, str] = field(default_factory=dict)
    #: per outcome, the estimators that could not be computed and why (researcher's log only:
    #: a reason can quote small counts)
    not_estimated: dict[str, dict[str, str]] = field(default_factory=dict)
    negative_control: EffectResult | None = None
    negative_control_table: pd.DataFrame | None = None
    negative_control_note: str = ""
    robustness: analysis.RobustnessCheck | None = None
    #: time to a later case (:mod:`fdac_research.reports.recurrence_view`)
    recurrence: RecurrenceEvaluation = field(default_factory=RecurrenceEvaluation)

    @property
    def hidden_confounding_flagged(self) -> bool:
        """True when a check that can see hidden bias fired on the doubly robust
        reunification estimate: it differs significantly from the published meta-analytic
        evidence, or the negative control shows an effect FDAC cannot have had."""
        return self.robustness is not None and self.robustness.robust is False


def _arm_counts(frame: AnalysisFrame, used: np.ndarray | None = None) -> dict[str, int]:
    """People and events per arm among the rows an estimate used (all rows by default)."""
    t, y = frame.t, frame.y
    keep = np.ones(len(t), dtype=bool) if used is None else used
    return {
        "n_treated": int((keep & (t == 1)).sum()),
        "n_untreated": int((keep & (t == 0)).sum()),
        "events_treated": int((keep & (t == 1) & (y == 1)).sum()),
        "events_untreated": int((keep & (t == 0) & (y == 1)).sum()),
    }


def _estimates(frame: AnalysisFrame, results: list[EffectResult]) -> pd.DataFrame:
    t = analysis.estimates_table(results)
    t.index = [f"{m} ({e})" for m, e in zip(t["method"], t["estimand"], strict=True)]
    t.index.name = "estimate"
    everyone = _arm_counts(frame)
    matched = None
    events = []
    for r in results:
        counts = everyone
        if r.method == "matching":  # the matched treated rows and distinct matched controls
            if matched is None:
                matched = _arm_counts(frame, analysis.matching_weights(frame) > 0)
            counts = matched
        if (counts["n_treated"], counts["n_untreated"]) != (r.n_treated, r.n_untreated):
            raise AnalysisError(
                f"{r.method} ({r.estimand}) on {r.key}: {r.n_treated}/{r.n_untreated} people per "
                f"arm, but {counts['n_treated']}/{counts['n_untreated']} rows were counted for "
                "the output check"
            )
        events.append((counts["events_treated"], counts["events_untreated"]))
    t["events_treated"] = [e[0] for e in events]
    t["events_untreated"] = [e[1] for e in events]
    keep = [
        *_N_COLUMNS,
        "events_treated",
        "events_untreated",
        "p_treated",
        "p_untreated",
        "risk_difference",
        "rd_ci_low",
        "rd_ci_high",
        "odds_ratio",
        "or_ci_low",
        "or_ci_high",
        "variance",
    ]
    return t[keep]


def _count_table(children: pd.DataFrame, cases: pd.DataFrame, column: str) -> pd.DataFrame:
    cohort = children["case_id"].map(cases.set_index("case_id")["cohort"])
    done = children[column].notna()
    table = pd.crosstab(children.loc[done, column], cohort[done]).reindex(
        columns=["fdac", "comparison"], fill_value=0
    )
    table.index.name = column
    table.columns.name = None
    return table


def _balance(frame: AnalysisFrame) -> pd.DataFrame:
    """SMDs (unadjusted, IPW, matching) with the counts the output check needs."""
    matched = analysis.matching_weights(frame)
    weights = {"ipw_ate": analysis.ipw_weights(frame, "ATE"), "matching": matched}
    table = analysis.balance_table(frame, weights).set_index("covariate")
    t, X = frame.t, frame.X
    samples = {"": np.ones(len(t), dtype=bool), "matched_": matched > 0}
    for prefix, used in samples.items():
        for arm, a in (("treated", 1), ("untreated", 0)):
            rows = used & (t == a)
            table[f"n_{prefix}{arm}"] = int(rows.sum())
            with_ = []
            for j in range(X.shape[1]):
                col = X[:, j]
                binary = bool(np.isin(col, (0.0, 1.0)).all())
                with_.append(float((col[rows] == 1).sum()) if binary else np.nan)
            table[f"with_{prefix}{arm}"] = with_
    return table


#: The negative control outcome the evaluation checks (recorded before the proceedings).
NEGATIVE_CONTROL = ("any_child_protection_plan", "mothers")
NEGATIVE_CONTROL_TITLE = (
    "Mothers with a child-protection plan before the proceedings (negative control)"
)


def _negative_control(ev: OutcomeEvaluation, research: ResearchData) -> None:
    """The doubly robust estimate on the negative control, or why there is none."""
    if "child_protection_plans" not in research.adults.columns or (
        research.adults["child_protection_plans"].isna().all()
    ):
        ev.negative_control_note = (
            "No negative control: these data hold no `child_protection_plans` (a "
            "local-authority attribute recorded before the proceedings)."
        )
        return
    try:
        frame = analysis.analysis_frame(research, *NEGATIVE_CONTROL)
        ev.negative_control = analysis.aipw(frame)
    except AnalysisError as err:
        log.warning("negative control not estimated: %s", err)
        ev.negative_control_note = (
            "No negative control: the doubly robust estimator could not be fitted on "
            "child-protection plans before the proceedings in these data."
        )
        return
    ev.negative_control_table = _estimates(frame, [ev.negative_control])
    ev.titles["negative_control"] = NEGATIVE_CONTROL_TITLE


def evaluate_outcomes(
    research: ResearchData, *, seed: int = 0, hidden_bias_threshold: float = 2.0
) -> OutcomeEvaluation:
    """Run every estimator (:func:`fdac_research.analysis.evaluate`) on every outcome.

    An outcome that cannot be estimated (for example no fathers with a recorded outcome) is
    skipped with its reason in ``skipped`` rather than failing the whole report.
    """
    ev = OutcomeEvaluation(hidden_bias_threshold=hidden_bias_threshold)
    sens_rows = []
    primary: EffectResult | None = None  # the doubly robust reunification estimate
    for key, outcome, population, title in OUTCOMES:
        ev.titles[key] = title
        try:
            frame = analysis.analysis_frame(research, outcome, population)
            results, failed = analysis.evaluate_each(frame, seed=seed)
        except AnalysisError as err:
            ev.skipped[key] = str(err)
            log.warning("outcome %s skipped: %s", key, err)
            continue
        for name, reason in failed.items():
            log.warning("outcome %s: %s not estimated: %s", key, name, reason)
        if not results:
            ev.skipped[key] = "; ".join(failed.values())
            continue
        ev.not_estimated[key] = failed
        ev.results[key] = results
        ev.tables[key] = _estimates(frame, results)
        if key == "reunified_children":
            ev.balance = _balance(frame)
        dr = next((r for r in results if r.method == "aipw"), None)
        if dr is None:
            continue
        e = analysis.e_value(dr)
        sens_rows.append(
            {
                "outcome": title,
                "doubly robust risk ratio": round(dr.risk_ratio.value, 3),
                "risk ratio 95% CI low": round(dr.risk_ratio.ci_low, 3),
                "risk ratio 95% CI high": round(dr.risk_ratio.ci_high, 3),
                "E-value (estimate)": round(e.point, 3),
                "E-value (confidence limit)": round(e.ci, 3),
                _HIDDEN_BIAS.format(hidden_bias_threshold): analysis.is_sensitive_to_hidden_bias(
                    dr, hidden_bias_threshold
                ),
                **ev.tables[key][list(_COUNTS)].loc["aipw (ATE)"].to_dict(),
            }
        )
        if key == "reunified_children":
            primary = dr
    _negative_control(ev, research)
    if primary is not None:
        ev.robustness = analysis.check_robustness(primary, negative_control=ev.negative_control)
        ev.benchmark = ev.robustness.benchmark
    ev.sensitivity = pd.DataFrame(sens_rows)
    if not ev.sensitivity.empty:
        ev.sensitivity = ev.sensitivity.set_index("outcome")
    ev.titles["final_order"] = "Children's final orders (closed cases)"
    ev.titles["placement_at_end"] = "Where children lived at the end of proceedings"
    for column in ("final_order", "placement_at_end"):
        ev.count_tables[column] = _count_table(research.children, research.cases, column)
    ev.recurrence = evaluate_recurrence(research)
    return ev


def _sensitivity_text(table: pd.DataFrame, threshold: float) -> str:
    """The sensitivity prose, from the published (checked) rows only."""
    shown = table[~suppressed_rows(table)] if not table.empty else table
    if shown.empty:
        return "No outcome could be estimated and published."
    flag = shown[_HIDDEN_BIAS.format(threshold)].astype(bool)
    fragile = shown.index[flag.to_numpy()].tolist()
    lines = [
        "The **E-value** is the minimum strength of association (as a risk ratio) that an "
        "unmeasured confounder would need with both referral to FDAC and the outcome to explain "
        "the doubly robust estimate away (VanderWeele and Ding, 2017); the E-value of the "
        "confidence limit is what it would take to make the interval include no effect."
    ]
    if fragile:
        lines.append(
            f"**Sensitivity flag:** for {', '.join(fragile)}, an unmeasured confounder weaker than a "
            f"risk ratio of {threshold:g} (for example motivation or severity of misuse, which the "
            "records do not capture) could be enough to make the effect compatible with none."
        )
    else:
        lines.append(
            f"No published estimate could be explained away by an unmeasured confounder weaker than a risk ratio of {threshold:g}."
        )
    return "\n\n".join(lines)


def _robustness_text(
    ev: OutcomeEvaluation,
    primary: EffectResult | None,
    nc: EffectResult | None,
    nc_table: pd.DataFrame | None,
) -> str:
    """The verdict on the reunification estimate, from published rows only."""
    if primary is None:
        return (
            "**Robustness not checked:** the doubly robust reunification estimate could not "
            "be published, so nothing can be said about hidden bias in it."
        )
    verdict = analysis.check_robustness(primary, negative_control=nc)
    lines = [verdict.statement]
    if verdict.benchmark is not None:
        lines.append(f"Against published evidence: {verdict.benchmark.statement}")
    if verdict.negative_control is not None:
        lines.append(verdict.negative_control.statement)
    elif nc_table is not None:
        lines.append(
            "The negative control is shown as `[c]`: too few families lie behind it to "
            "publish it, so it was not used."
        )
    elif ev.negative_control_note:
        lines.append(ev.negative_control_note)
    return "\n\n".join(lines)


@dataclass
class TruthComparison:
    """Estimates against the planted effects of a synthetic world (or a note when real).

    ``table`` carries the counts of each estimate for the output check; ``effects`` holds the
    planted effects for the figure :func:`publish_evaluation` draws from published rows.
    """

    text: str
    table: pd.DataFrame | None = None
    effects: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


_TRUTH_LABELS = ("key", "method", "estimand", "truth_estimand", "measure")


def _has_truth(entry: Any, r: EffectResult) -> bool:
    block = entry.get("att" if r.estimand == "ATT" else "ate") if isinstance(entry, dict) else None
    return isinstance(block, dict) and all(m in block for m in ("risk_difference", "odds_ratio"))


def truth_comparison(ev: OutcomeEvaluation, sources_dir: str | Path) -> TruthComparison:
    """Compare every estimate with the planted effects of ``<sources>/truth/effects.json``
    when it follows the documented layout (:mod:`fdac_research.truth`); otherwise the
    comparison is skipped and the text says why."""
    truth = read_truth_effects(sources_dir)
    if truth.effects is None:
        return TruthComparison(f"No comparison with a planted truth: {truth.note}.")
    effects = truth.effects
    results = [
        r
        for key, rs in ev.results.items()
        if key in effects
        for r in rs
        if _has_truth(effects[key], r)
    ]
    if not results:
        return TruthComparison(
            "The planted effects in `truth/effects.json` do not cover any outcome estimated "
            "here in the documented layout (an 'ate'/'att' block with risk_difference and "
            "odds_ratio), so nothing is compared."
        )
    table = analysis.compare_with_truth(results, effects).round(3)
    per_row = [
        ev.tables[k][list(_COUNTS)].loc[f"{m} ({e})"]
        for k, m, e in zip(table["key"], table["method"], table["estimand"], strict=True)
    ]
    table = pd.concat([table, pd.DataFrame(per_row, index=table.index)], axis=1)
    dr = table[(table["method"] == "aipw") & (table["measure"] == "odds_ratio")]
    covered = {str(k): bool(c) for k, c in zip(dr["key"], dr["covered"], strict=True)}
    return TruthComparison(
        "The planted effects of this synthetic world are in `truth/effects.json`.",
        table,
        effects,
        {"aipw_or_covers_truth": covered},
    )


def readable_forest(fig: Figure) -> Figure:
    """A forest plot for readers (in place): estimator names in words on the rows and
    plain numbers (0.5, 1, 2) on a log axis of ratios instead of powers of ten."""
    import textwrap

    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    for ax in fig.axes:
        title = ax.get_title()
        if title:
            ax.set_title(textwrap.fill(title, 60), fontsize=10)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        if labels:
            ax.set_yticks(ax.get_yticks(), [method_name(t) for t in labels], fontsize=8)
        if ax.get_xscale() == "log":
            lo, hi = ax.get_xlim()
            ticks = [t for t in _RATIO_TICKS if lo <= t <= hi]
            if len(ticks) > 7:  # every other tick, keeping 1
                keep = ticks.index(1) % 2 if 1 in ticks else 0
                ticks = [t for i, t in enumerate(ticks) if i % 2 == keep]
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlim(lo, hi)
    fig.tight_layout()
    return fig


@dataclass
class PublishedEvaluation:
    """What the outcomes report shows: every table as written to the tables folder after its
    output check, and figures and prose drawn from the published rows only.

    A figure is ``None`` when none of its estimates could be published. ``notes`` holds the
    footnote for suppressed values (empty when nothing was suppressed).
    """

    effects: dict[str, pd.DataFrame] = field(default_factory=dict)
    forest_plots: dict[str, Figure | None] = field(default_factory=dict)
    counts: dict[str, pd.DataFrame] = field(default_factory=dict)
    balance: pd.DataFrame | None = None
    love_plot: Figure | None = None
    sensitivity: pd.DataFrame | None = None
    sensitivity_text: str = ""
    negative_control: pd.DataFrame | None = None
    robustness_text: str = ""
    truth_text: str = ""
    truth: pd.DataFrame | None = None
    truth_plot: Figure | None = None
    notes: str = ""
    recurrence: PublishedRecurrence = field(default_factory=PublishedRecurrence)


def _kept(results: list[EffectResult], published: pd.DataFrame) -> list[EffectResult]:
    hidden = suppressed_rows(published).to_numpy()
    return [r for r, h in zip(results, hidden, strict=True) if not h]


def publish_evaluation(
    ev: OutcomeEvaluation,
    tables_dir: str | Path,
    *,
    sources_dir: str | Path = "",
    rules: TableRules | str | dict[str, Any] = DEFAULT_RULES,
) -> PublishedEvaluation:
    """Output-check and write every table of ``ev``; build the report from what passed.

    Counts (final orders, placements) go through
    :func:`~fdac_research.reports.publish_table` (suppression, secondary suppression,
    rounding). Estimates (effects per outcome as ``effects_<outcome>``, the covariate
    balance as ``balance_reunified_children``, the E-values as ``sensitivity_e_values``,
    the truth comparison as ``truth_comparison``, the time to a later case as
    ``recurrence_survival`` and ``recurrence_hazard_ratio``) go through
    :func:`~fdac_research.reports.publish_estimates` with people per arm, families, and
    events and non-events per arm (binary covariates: with and without the characteristic,
    in all rows and in the matched sample); a failing row is shown as ``[c]``, and the
    forest plots, love plot, sensitivity statements and truth statements leave it out.

    Parameters
    ----------
    ev : OutcomeEvaluation
        From :func:`evaluate_outcomes`.
    tables_dir : path
        The reports' tables folder.
    sources_dir : path, optional
        A synthetic world's sources folder: its ``truth/effects.json`` is compared with the
        estimates (nothing is compared for real data).
    rules : preset name, TableRules or dict
        Output-checking rules (threshold and rounding) for every table.
    """
    pub = PublishedEvaluation()

    def checked(table: pd.DataFrame, name: str, **check: Any) -> pd.DataFrame:
        return publish_estimates(
            table, name, tables_dir, rules=rules, allow_suppression=True, **check
        )

    for key, table in ev.tables.items():
        pub.effects[key] = checked(table, f"effects_{key}", **_ARM_CHECK)
        kept = _kept(ev.results[key], pub.effects[key])
        pub.forest_plots[key] = (
            readable_forest(analysis.forest_plot(kept, measure="odds_ratio", title=ev.titles[key]))
            if kept
            else None
        )
    for column, counts in ev.count_tables.items():
        pub.counts[column] = publish_table(
            counts, f"outcomes_{column}", tables_dir, rules=rules, link=outcome_link(column)
        )
    if ev.balance is not None:
        pub.balance = checked(ev.balance, "balance_reunified_children", **_BALANCE_CHECK)
        ok = pub.balance[~suppressed_rows(pub.balance)]
        if len(ok):
            smd = ok[list(_SMD_WORDS)].astype(float).reset_index()
            smd["covariate"] = smd["covariate"].astype(str).str.replace("_", " ")
            pub.love_plot = analysis.love_plot(
                smd, title="Covariate balance: children (reunification)"
            )
            for ax in pub.love_plot.axes:  # the legend in words
                legend = ax.get_legend()
                for text in legend.get_texts() if legend is not None else []:
                    text.set_text(_SMD_WORDS.get(text.get_text(), text.get_text()))
    if ev.sensitivity is not None and not ev.sensitivity.empty:
        pub.sensitivity = checked(ev.sensitivity, "sensitivity_e_values", **_ARM_CHECK)
    pub.sensitivity_text = _sensitivity_text(
        pub.sensitivity if pub.sensitivity is not None else pd.DataFrame(),
        ev.hidden_bias_threshold,
    )
    nc = None
    if ev.negative_control_table is not None:
        pub.negative_control = checked(ev.negative_control_table, "negative_control", **_ARM_CHECK)
        if not suppressed_rows(pub.negative_control).any():
            nc = ev.negative_control
    primary = None
    if "reunified_children" in pub.effects:
        shown = pub.effects["reunified_children"]
        if "aipw (ATE)" in shown.index and not suppressed_rows(shown).get("aipw (ATE)", True):
            primary = next(r for r in ev.results["reunified_children"] if r.method == "aipw")
    pub.robustness_text = _robustness_text(ev, primary, nc, pub.negative_control)
    truth = truth_comparison(ev, sources_dir)
    pub.truth_text = truth.text
    if truth.table is not None:
        pub.truth = checked(
            truth.table, "truth_comparison", label_columns=_TRUTH_LABELS, **_ARM_CHECK
        )
        shown = pub.truth[~suppressed_rows(pub.truth)]
        dr = shown[(shown["method"] == "aipw") & (shown["measure"] == "odds_ratio")]
        pub.truth_text = " ".join(
            [truth.text]
            + [
                f"For {k.replace('_', ' ')}, the doubly robust 95% interval for the odds ratio "
                f"{'covers' if bool(c) else 'does NOT cover'} the true value."
                for k, c in zip(dr["key"], dr["covered"], strict=True)
            ]
        )
        if "reunified_children" in pub.effects:
            kept = _kept(ev.results["reunified_children"], pub.effects["reunified_children"])
            if kept:
                pub.truth_plot = readable_forest(
                    analysis.forest_plot(
                        kept,
                        measure="odds_ratio",
                        truth=truth.effects,
                        title="Children reunified: estimates against the truth",
                    )
                )
    tables = [
        *pub.effects.values(),
        *pub.counts.values(),
        pub.balance,
        pub.sensitivity,
        pub.negative_control,
        pub.truth,
    ]
    pub.recurrence = publish_recurrence(ev.recurrence, tables_dir, rules=rules)
    hidden = any(suppressed_rows(t).any() for t in tables if t is not None)
    hidden = hidden or pub.recurrence.hidden
    pub.notes = SUPPRESSION_NOTE if hidden else ""
    return pub


# ---- what the reader sees: the published rows as tables for people ------------------------

_PP = "percentage points"


def _intervals_note(published: pd.DataFrame) -> str:
    methods = sorted(
        {str(v) for v in published.get("variance", pd.Series(dtype=object)) if v != "[c]"}
    )
    return (
        "Counts are rounded to 5; [c]: not published (too few people, events or non-events). "
        + (f"95% confidence intervals: {'; '.join(methods)}. " if methods else "")
        + "Full detail (events per arm, risk-difference intervals) is in the published CSV."
    )


def effects_view(published: pd.DataFrame, caption: str = "") -> Any:
    """An effects table for people: the estimator in words, people and families, the share
    with the outcome in each arm, the difference in percentage points and the odds ratio,
    each with its 95% interval."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Estimate", "@index", "method"),
            Col("FDAC (people)", "n_treated", "int"),
            Col("Comparison (people)", "n_untreated", "int"),
            Col("Families", "n_clusters", "int"),
            Col("FDAC with the outcome", "p_treated", "percent"),
            Col("Comparison with the outcome", "p_untreated", "percent"),
            Col(
                f"Difference, {_PP} (95% CI)",
                ("risk_difference", "rd_ci_low", "rd_ci_high"),
                "estimate",
                1,
                scale=100.0,
            ),
            Col("Odds ratio (95% CI)", ("odds_ratio", "or_ci_low", "or_ci_high"), "estimate"),
        ],
        caption=caption,
        note=_intervals_note(published),
    )


def forest_alt(published: pd.DataFrame, title: str) -> str:
    """Alt text of a forest plot: what it shows, with the published odds ratios."""
    from fdac_research.reports.present import fmt_estimate

    shown = published[~suppressed_rows(published)]
    parts = [
        f"{method_name(i)} {fmt_estimate(r['odds_ratio'], r['or_ci_low'], r['or_ci_high'])}"
        for i, r in shown.iterrows()
    ]
    return (
        f"Forest plot of {title.lower()}: odds ratio, FDAC against comparison, with 95% "
        f"confidence intervals on a log scale, a dashed line at 1 (no difference). "
        + "; ".join(parts)
        + "."
    )


def balance_view(published: pd.DataFrame) -> Any:
    """The balance table for people: each characteristic's standardised mean difference
    before and after adjustment, and how many in each arm have it."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Characteristic", "@index"),
            Col("SMD before adjustment", "unadjusted", "number", 3),
            Col("SMD after weighting (IPW, ATE)", "ipw_ate", "number", 3),
            Col("SMD after matching", "matching", "number", 3),
            Col("FDAC (people)", "n_treated", "int"),
            Col("FDAC with it", "with_treated", "int"),
            Col("Comparison (people)", "n_untreated", "int"),
            Col("Comparison with it", "with_untreated", "int"),
        ],
        caption="Covariate balance: children (reunification)",
        note="SMD: standardised mean difference (under 0.1 in absolute value is usually "
        "taken as balanced). '–': not a yes/no characteristic. Counts rounded to 5; the "
        "matched sample's counts are in the published CSV.",
    )


def counts_view(published: pd.DataFrame, caption: str) -> Any:
    """A count table of children (final orders, placements) for people."""
    from fdac_research.reports.present import count_table

    return count_table(published, caption, "children")


def sensitivity_view(published: pd.DataFrame) -> Any:
    """The E-values for people, with the risk ratio and its interval they rest on."""
    from fdac_research.reports.present import Col, people_table

    flag = next((c for c in published.columns if str(c).startswith("explained away")), None)
    cols = [
        Col("Outcome", "@index"),
        Col(
            "Doubly robust risk ratio (95% CI)",
            ("doubly robust risk ratio", "risk ratio 95% CI low", "risk ratio 95% CI high"),
            "estimate",
        ),
        Col("E-value of the estimate", "E-value (estimate)", "number"),
        Col("E-value of the confidence limit", "E-value (confidence limit)", "number"),
    ]
    if flag is not None:
        threshold = str(flag).rsplit("<", 1)[-1].strip()
        cols.append(
            Col(f"Explained away by a confounder weaker than RR {threshold}?", flag, "bool")
        )
    cols += [
        Col("FDAC (people)", "n_treated", "int"),
        Col("Comparison (people)", "n_untreated", "int"),
    ]
    return people_table(
        published,
        cols,
        caption="How strong an unmeasured confounder would have to be",
        note="E-values are defined on the risk-ratio scale (the ratio of the two arms' "
        "shares with the outcome), so this table gives the doubly robust risk ratio rather "
        "than the odds ratio of the tables above. An E-value of 1 means the interval already "
        "includes no effect.",
    )


def truth_view(published: pd.DataFrame) -> Any:
    """Estimates against the planted truth (odds ratios; the risk differences are in the
    published CSV)."""
    from fdac_research.reports.present import Col, people_table

    rows = [i for i in published.index if str(published.at[i, "measure"]) == "odds_ratio"]
    return people_table(
        published,
        [
            Col("Outcome", "key"),
            Col("Estimate", ("method", "estimand"), "method"),
            Col("Odds ratio (95% CI)", ("estimate", "ci_low", "ci_high"), "estimate"),
            Col("Planted truth", "truth", "number"),
            Col("Bias", "bias", "number"),
            Col("Interval covers the truth", "covered", "bool"),
        ],
        rows=rows,
        caption="Odds ratios against the effects planted in the synthetic world",
        note="Risk differences and the counts behind each row are in the published CSV.",
    )
