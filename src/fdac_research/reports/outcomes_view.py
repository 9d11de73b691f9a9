"""What the outcomes notebook shows: every estimator for every outcome, balance, orders and
placements, sensitivity to unmeasured confounding, and (for synthetic worlds) the truth."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from fdac_research import analysis
from fdac_research.analysis import AnalysisError, EffectResult
from fdac_research.dataset import ResearchData

__all__ = [
    "OUTCOMES",
    "OutcomeEvaluation",
    "TruthComparison",
    "evaluate_outcomes",
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


@dataclass
class OutcomeEvaluation:
    """Everything the outcomes report displays (tables are ready for the output check)."""

    results: dict[str, list[EffectResult]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    forest_plots: dict[str, Figure] = field(default_factory=dict)
    count_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    balance: pd.DataFrame | None = None
    love_plot: Figure | None = None
    sensitivity: pd.DataFrame | None = None
    sensitivity_text: str = ""
    benchmark: analysis.BenchmarkComparison | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def hidden_confounding_flagged(self) -> bool:
        """True when the adjusted reunification effect lies wholly above the published
        meta-analytic evidence: the pattern hidden selection into FDAC produces."""
        return self.benchmark is not None and self.benchmark.direction == "above"


def _estimates(results: list[EffectResult]) -> pd.DataFrame:
    t = analysis.estimates_table(results)
    t.index = [f"{m} ({e})" for m, e in zip(t["method"], t["estimand"], strict=True)]
    t.index.name = "estimate"
    keep = [
        *_N_COLUMNS,
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


def evaluate_outcomes(
    research: ResearchData, *, seed: int = 0, hidden_bias_threshold: float = 2.0
) -> OutcomeEvaluation:
    """Run every estimator (:func:`fdac_research.analysis.evaluate`) on every outcome.

    An outcome that cannot be estimated (for example no fathers with a recorded outcome) is
    skipped with its reason in ``skipped`` rather than failing the whole report.
    """
    ev = OutcomeEvaluation()
    sens_rows = []
    for key, outcome, population, title in OUTCOMES:
        ev.titles[key] = title
        try:
            frame = analysis.analysis_frame(research, outcome, population)
            results = analysis.evaluate(frame, seed=seed)
        except AnalysisError as err:
            ev.skipped[key] = str(err)
            log.warning("outcome %s skipped: %s", key, err)
            continue
        ev.results[key] = results
        ev.tables[key] = _estimates(results)
        ev.forest_plots[key] = analysis.forest_plot(results, measure="odds_ratio", title=title)
        dr = next(r for r in results if r.method == "aipw")
        e = analysis.e_value(dr)
        sens_rows.append(
            {
                "outcome": title,
                "doubly robust risk ratio": round(dr.risk_ratio.value, 3),
                "E-value (estimate)": round(e.point, 3),
                "E-value (confidence limit)": round(e.ci, 3),
                f"explained away by a confounder of RR < {hidden_bias_threshold:g}": analysis.is_sensitive_to_hidden_bias(
                    dr, hidden_bias_threshold
                ),
            }
        )
        if key == "reunified_children":
            ev.benchmark = analysis.compare_with_benchmark(dr)
            weights = {
                "ipw_ate": analysis.ipw_weights(frame, "ATE"),
                "matching": analysis.matching_weights(frame),
            }
            ev.balance = analysis.balance_table(frame, weights)
            ev.love_plot = analysis.love_plot(
                ev.balance, title="Covariate balance: children (reunification)"
            )
    ev.sensitivity = pd.DataFrame(sens_rows)
    ev.sensitivity_text = _sensitivity_text(ev.sensitivity, hidden_bias_threshold)
    if ev.benchmark is not None:
        flag = (
            "**Hidden confounding flagged:** the adjusted effect is larger than the published evidence allows. "
            if ev.hidden_confounding_flagged
            else ""
        )
        ev.sensitivity_text += (
            "\n\n**Against published evidence.** An E-value alone cannot reveal hidden confounding "
            "(an inflated estimate looks *more* robust), so the reunification estimate is also "
            f"triangulated with the meta-analysis of family treatment drug courts: {flag}{ev.benchmark.statement}"
        )
    ev.titles["final_order"] = "Children's final orders (closed cases)"
    ev.titles["placement_at_end"] = "Where children lived at the end of proceedings"
    for column in ("final_order", "placement_at_end"):
        ev.count_tables[column] = _count_table(research.children, research.cases, column)
    return ev


def _sensitivity_text(table: pd.DataFrame, threshold: float) -> str:
    if table.empty:
        return "No outcome could be estimated."
    flag = [c for c in table.columns if c.startswith("explained away")][0]
    fragile = table.loc[table[flag], "outcome"].tolist()
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
            f"No estimate could be explained away by an unmeasured confounder weaker than a risk ratio of {threshold:g}."
        )
    return "\n\n".join(lines)


@dataclass
class TruthComparison:
    """Estimates against the planted effects of a synthetic world (or a note when real)."""

    text: str
    table: pd.DataFrame | None = None
    figure: Figure | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def truth_comparison(ev: OutcomeEvaluation, sources_dir: str | Path) -> TruthComparison:
    """Compare every estimate with ``<sources>/truth/effects.json`` when it exists."""
    path = Path(sources_dir) / "truth" / "effects.json" if sources_dir else None
    if path is None or not path.is_file():
        return TruthComparison(
            "No planted truth: these data are not a synthetic world, so there is nothing to compare with."
        )
    effects = analysis.load_effects(path)
    results = [r for key, rs in ev.results.items() if key in effects for r in rs]
    if not results:
        return TruthComparison("The planted effects do not cover any outcome estimated here.")
    table = analysis.compare_with_truth(results, effects)
    dr = table[(table["method"] == "aipw") & (table["measure"] == "odds_ratio")]
    covered = {str(k): bool(c) for k, c in zip(dr["key"], dr["covered"], strict=True)}
    text = "The planted effects of this synthetic world are in `truth/effects.json`. " + " ".join(
        f"For {k.replace('_', ' ')}, the doubly robust 95% interval for the odds ratio "
        f"{'covers' if c else 'does NOT cover'} the true value."
        for k, c in covered.items()
    )
    fig = None
    if "reunified_children" in ev.results:
        fig = analysis.forest_plot(
            ev.results["reunified_children"],
            measure="odds_ratio",
            truth=effects,
            title="Children reunified: estimates against the truth",
        )
    return TruthComparison(text, table.round(3), fig, {"aipw_or_covers_truth": covered})
