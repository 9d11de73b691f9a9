"""What the outcomes report shows of recurrence: did mothers come back to court?

The unit is the case: from its final hearing, the time to the first later case naming any
of its people, censored at the end of follow-up (:mod:`fdac_research.analysis._survival`).
:func:`evaluate_recurrence` computes, before any output check:

* the Kaplan-Meier share of cases still without a later case, per cohort, every three
  months (:data:`STEP_YEARS`) from the final hearing, with log-log 95% intervals and the
  counts behind each point: cases followed, cases still followed at that time, and later
  cases by then;
* the Cox hazard ratio of a later case, FDAC against comparison, unadjusted and adjusted
  for the covariates of the other estimators, with cluster-robust (by family) intervals.

:func:`publish_recurrence` output-checks both as estimates
(:func:`~fdac_research.reports.publish_estimates`): a point of the curve is published only
when at least 10 cases are followed and still followed in each arm and at least 10 have,
and 10 have not, had a later case by then; a hazard ratio only when at least 10 cases,
10 later cases and 10 cases without one lie behind it in each arm. Counts are rounded to 5.
The plot and its alt text are drawn from the published rows only, so a suppressed point
leaves a gap: the curve is the published quarterly estimate, not every step of the
product-limit estimator (each step would be one family's return to court).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fdac_research import analysis
from fdac_research.analysis import AnalysisError
from fdac_research.dataset import ResearchData
from fdac_research.reports.publish import (
    DEFAULT_RULES,
    publish_estimates,
    suppressed_rows,
)
from fdac_research.risk import TableRules
from fdac_research.risk.tables import rules_from

__all__ = [
    "CENSORING_TEXT",
    "CURVE_TABLE",
    "HAZARD_TABLE",
    "SHOWN_YEARS",
    "STEP_YEARS",
    "PublishedRecurrence",
    "RecurrenceEvaluation",
    "evaluate_recurrence",
    "hazard_view",
    "publish_recurrence",
    "recurrence_alt",
    "survival_view",
]

log = logging.getLogger(__name__)

#: The published tables (file stems).
CURVE_TABLE = "recurrence_survival"
HAZARD_TABLE = "recurrence_hazard_ratio"
#: The curve is published every three months from the final hearing.
STEP_YEARS = 0.25
#: The rows the report's table shows (years since the final hearing).
SHOWN_YEARS = (1.0, 2.0, 3.0)
_ARMS = (("treated", "fdac"), ("untreated", "comparison"))
_CURVE_CHECK: dict[str, Any] = {
    "n_columns": ("n_treated", "n_untreated", "at_risk_treated", "at_risk_untreated"),
    "events": (("events_treated", "n_treated"), ("events_untreated", "n_untreated")),
}
_HAZARD_CHECK: dict[str, Any] = {
    "n_columns": ("n", "n_treated", "n_untreated", "n_clusters"),
    "events": (("events_treated", "n_treated"), ("events_untreated", "n_untreated")),
}
_NEEDED = ("years_to_later_case", "follow_up_years")
_COLOURS = {"fdac": "#1b7837", "comparison": "#762a83"}
_WORDS = {"fdac": "FDAC", "comparison": "Comparison"}
#: Row labels of the hazard-ratio table, and the models in words.
UNADJUSTED, ADJUSTED = "unadjusted", "adjusted"
_MODEL_WORDS = {
    UNADJUSTED: "Unadjusted",
    ADJUSTED: "Adjusted for the families' recorded characteristics",
}


def year_label(t: float) -> str:
    """A grid time as the published row label (``0.25``, ``1``, ``2.5``)."""
    return f"{t:g}"


@dataclass
class RecurrenceEvaluation:
    """The recurrence analysis **before** the output check (nothing here may be shown).

    Attributes
    ----------
    curve : DataFrame or None
        One row per grid time (index: years since the final hearing, as text): per arm
        (``treated`` = FDAC, ``untreated`` = comparison) the cases followed ``n_*``, still
        followed ``at_risk_*``, later cases by then ``events_*``, and the share still
        without a later case ``s_*`` with ``s_*_low``/``s_*_high``.
    hazard : DataFrame or None
        Rows ``unadjusted`` and ``adjusted`` (when it could be fitted): ``hazard_ratio``,
        ``hr_ci_low``, ``hr_ci_high``, ``p_value``, the counts its check needs and
        ``variance``.
    note : str
        Why there is no analysis (empty when there is one): one sentence for the reader.
    not_estimated : dict
        Model -> why it could not be fitted (researcher's log only).
    """

    curve: pd.DataFrame | None = None
    hazard: pd.DataFrame | None = None
    note: str = ""
    not_estimated: dict[str, str] = field(default_factory=dict)


def _curve(frame: analysis.SurvivalFrame, level: float) -> pd.DataFrame:
    d = frame.data
    km = analysis.kaplan_meier_by_cohort(frame, level=level)
    last = math.floor(float(d["time"].max()) / STEP_YEARS + 1e-9)
    grid = [STEP_YEARS * k for k in range(1, last + 1)]
    rows: dict[str, dict[str, float]] = {}
    for t in grid:
        row: dict[str, float] = {}
        for arm, cohort in _ARMS:
            c = d[d["cohort"] == cohort]
            curve = km[km["cohort"] == cohort]
            before = curve[curve["time"] <= t + 1e-12]
            s, lo, hi = (
                (1.0, 1.0, 1.0)
                if before.empty
                else tuple(float(before[x].iloc[-1]) for x in ("survival", "ci_low", "ci_high"))
            )
            row[f"n_{arm}"] = int(len(c))
            row[f"at_risk_{arm}"] = int((c["time"] >= t).sum())
            row[f"events_{arm}"] = int(((c["time"] <= t) & (c["event"] == 1)).sum())
            row[f"s_{arm}"] = round(s, 4)
            row[f"s_{arm}_low"] = round(lo, 4)
            row[f"s_{arm}_high"] = round(hi, 4)
        rows[year_label(t)] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "years_since_final_hearing"
    return out


def _hazard_row(frame: analysis.SurvivalFrame, res: analysis.CoxResult) -> dict[str, Any]:
    d = frame.data
    t = d["treated"].to_numpy() == 1
    e = d["event"].to_numpy() == 1
    return {
        "model": _MODEL_WORDS[ADJUSTED if res.adjusted else UNADJUSTED],
        "hazard_ratio": round(res.hazard_ratio, 3),
        "hr_ci_low": round(res.ci_low, 3),
        "hr_ci_high": round(res.ci_high, 3),
        "p_value": round(res.p_value, 4),
        "n": res.n,
        "n_treated": int(t.sum()),
        "n_untreated": int((~t).sum()),
        "n_clusters": res.n_clusters,
        "events_treated": int((t & e).sum()),
        "events_untreated": int((~t & e).sum()),
        "n_covariates": len(res.covariates),
        "variance": f"cluster-robust sandwich (by {frame.cluster.replace('_id', '')})",
    }


def evaluate_recurrence(research: ResearchData, *, level: float = 0.95) -> RecurrenceEvaluation:
    """The Kaplan-Meier curves and Cox hazard ratios of a later case (module docstring).

    Research data without the time to a later case (an older research folder, a synthetic
    release without it) give a :class:`RecurrenceEvaluation` whose ``note`` says so; a model
    that cannot be fitted is left out (its reason in ``not_estimated``), and the report
    still runs.
    """
    missing = [c for c in _NEEDED if c not in research.cases.columns]
    if missing:
        log.info("recurrence not analysed: cases has no %s", missing)
        return RecurrenceEvaluation(
            note=(
                "Not analysed: these research data hold no time to a later case "
                f"({', '.join(f'`{c}`' for c in missing)}; an older research folder, or a "
                "synthetic release without it)."
            )
        )
    try:
        frame = analysis.survival_frame(research)
    except AnalysisError as err:
        log.warning("recurrence not analysed: %s", err)
        return RecurrenceEvaluation(
            note="Not analysed: the time to a later case could not be used on these data."
        )
    ev = RecurrenceEvaluation()
    ev.curve = _curve(frame, level)
    rows: dict[str, dict[str, Any]] = {}
    for label, adjust in ((UNADJUSTED, False), (ADJUSTED, True)):
        try:
            rows[label] = _hazard_row(frame, analysis.cox_model(frame, adjust=adjust, level=level))
        except AnalysisError as err:
            log.warning("recurrence: %s Cox model not estimated: %s", label, err)
            ev.not_estimated[label] = str(err)
    if rows:
        ev.hazard = pd.DataFrame.from_dict(rows, orient="index")
        ev.hazard.index.name = "model"
    return ev


@dataclass
class PublishedRecurrence:
    """What the report shows of recurrence: the published tables (as written), the plot
    drawn from their rows, and the words."""

    curve: pd.DataFrame | None = None
    hazard: pd.DataFrame | None = None
    plot: Figure | None = None
    text: str = ""
    hidden: bool = False
    #: which hazard ratio could not be estimated (names only: a reason can quote counts)
    model_note: str = ""


def _published_points(
    curve: pd.DataFrame, arm: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(years, share, low, high) of the published rows, NaN where a row is suppressed,
    starting at (0, 1): every case is without a later case at its final hearing."""
    gone = suppressed_rows(curve).to_numpy()
    t = np.r_[0.0, [float(i) for i in curve.index]]
    cols = [f"s_{arm}", f"s_{arm}_low", f"s_{arm}_high"]
    vals = curve[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    vals[gone] = np.nan
    vals = np.vstack([[1.0, 1.0, 1.0], vals])
    return t, vals[:, 0], vals[:, 1], vals[:, 2]


def _plot(curve: pd.DataFrame) -> Figure | None:
    if suppressed_rows(curve).all():
        return None
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    for arm, cohort in _ARMS:
        t, s, lo, hi = _published_points(curve, arm)
        colour = _COLOURS[cohort]
        ax.step(t, 100 * s, where="post", color=colour, linewidth=1.8, label=_WORDS[cohort])
        ax.fill_between(t, 100 * lo, 100 * hi, step="post", color=colour, alpha=0.15, lw=0)
    ax.set_xlabel("Years since the final hearing")
    ax.set_ylabel("Cases without a later case")
    ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_ylim(0, 100)
    ax.set_xlim(0, float(curve.index.astype(float).max()))
    ax.set_title(
        "Time to a later care case, by cohort (Kaplan–Meier, every three months)", fontsize=10
    )
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.legend(fontsize=8, loc="lower left", title="Shaded: 95% CI", title_fontsize=8)
    fig.tight_layout()
    return fig


def _share(curve: pd.DataFrame, year: float, arm: str) -> tuple[float, float, float] | None:
    label = year_label(year)
    if label not in curve.index or bool(suppressed_rows(curve).get(label, True)):
        return None
    cols = [f"s_{arm}", f"s_{arm}_low", f"s_{arm}_high"]
    row = curve.iloc[list(curve.index).index(label)]
    vals = [float(pd.to_numeric(row[c], errors="coerce")) for c in cols]
    return None if any(math.isnan(v) for v in vals) else (vals[0], vals[1], vals[2])


def recurrence_alt(published: pd.DataFrame) -> str:
    """Alt text of the curves: what they show, with the published shares at 1, 2 and 3
    years."""
    parts = []
    for year in SHOWN_YEARS:
        shown = []
        for arm, cohort in _ARMS:
            v = _share(published, year, arm)
            if v is not None:
                shown.append(
                    f"{_WORDS[cohort]} {100 * v[0]:.0f}% ({100 * v[1]:.0f}–{100 * v[2]:.0f}%)"
                )
        unit = "year" if year == 1 else "years"
        parts.append(f"at {year:g} {unit}: " + (", ".join(shown) if shown else "not published"))
    return (
        "Step plot of the share of cases still without a later care case (vertical axis, 0 "
        "to 100%) against years since the final hearing (horizontal axis), one line for "
        "FDAC and one for comparison cases, with shaded 95% confidence intervals; estimated "
        "every three months, gaps where too few cases lie behind a point to publish it. "
        + "; ".join(parts)
        + "."
    )


#: How the follow-up and its censoring are told to the reader.
CENSORING_TEXT = (
    "A case is followed from its final hearing until the first later care case naming any "
    "of its people (a mother, father, carer or child). Follow-up ends on the last "
    "application date the court records hold, so the earliest cases were followed for "
    "years and the latest for only months: a case with no later case by then is censored "
    "at the end of its follow-up, counted as at risk until that day and not as a family "
    "that never came back, and the Kaplan–Meier curves allow for this. The curves are as "
    "observed, before any adjustment; the hazard ratios allow for the recorded "
    "differences between the families."
)


def _within_follow_up(curve: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The curve up to its last time with at least ``threshold`` cases still followed in
    each arm (later rows could only be suppressed, and their labels would tell how long
    the longest follow-up was)."""
    ok = (curve["at_risk_treated"] >= threshold) & (curve["at_risk_untreated"] >= threshold)
    if not ok.any():
        return curve.iloc[:1]
    return curve.iloc[: int(np.flatnonzero(ok.to_numpy())[-1]) + 1]


def publish_recurrence(
    rec: RecurrenceEvaluation,
    tables_dir: str | Path,
    *,
    rules: TableRules | str | dict[str, Any] = DEFAULT_RULES,
) -> PublishedRecurrence:
    """Output-check and write :data:`CURVE_TABLE` and :data:`HAZARD_TABLE` (module
    docstring); the plot and the words are drawn from what passed."""
    pub = PublishedRecurrence(text=rec.note)
    if rec.curve is None:
        return pub
    curve = _within_follow_up(rec.curve, rules_from(rules).threshold)
    pub.curve = publish_estimates(
        curve, CURVE_TABLE, tables_dir, rules=rules, allow_suppression=True, **_CURVE_CHECK
    )
    pub.plot = _plot(pub.curve)
    pub.text = CENSORING_TEXT
    if rec.not_estimated:
        which = " and ".join(f"the {m} model" for m in rec.not_estimated)
        pub.model_note = f"Hazard ratio not estimated on these data: {which} could not be fitted."
    if rec.hazard is not None:
        pub.hazard = publish_estimates(
            rec.hazard,
            HAZARD_TABLE,
            tables_dir,
            rules=rules,
            allow_suppression=True,
            label_columns=("model",),
            **_HAZARD_CHECK,
        )
    pub.hidden = any(
        bool(suppressed_rows(t).any()) for t in (pub.curve, pub.hazard) if t is not None
    )
    return pub


def survival_view(published: pd.DataFrame) -> Any:
    """The shares still without a later case at 1, 2 and 3 years, per cohort, for people."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Years since the final hearing", "@index"),
            Col("FDAC cases", "n_treated", "int"),
            Col("FDAC still followed", "at_risk_treated", "int"),
            Col(
                "FDAC without a later case, % (95% CI)",
                ("s_treated", "s_treated_low", "s_treated_high"),
                "estimate",
                0,
                scale=100.0,
            ),
            Col("Comparison cases", "n_untreated", "int"),
            Col("Comparison still followed", "at_risk_untreated", "int"),
            Col(
                "Comparison without a later case, % (95% CI)",
                ("s_untreated", "s_untreated_low", "s_untreated_high"),
                "estimate",
                0,
                scale=100.0,
            ),
        ],
        rows=[year_label(y) for y in SHOWN_YEARS],
        caption="Cases still without a later care case (Kaplan–Meier)",
        note="Kaplan–Meier estimates with log-log 95% confidence intervals; cases censored "
        "at the end of follow-up. Counts rounded to 5; [c]: not published (fewer than 10 "
        "cases followed, with a later case or without one by then, in an arm). The "
        "estimate every three months, with the later cases behind it, is in the published "
        "CSV.",
    )


def hazard_view(published: pd.DataFrame) -> Any:
    """The hazard ratios of a later case, unadjusted and adjusted, for people."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Model", "model"),
            Col("FDAC cases", "n_treated", "int"),
            Col("Comparison cases", "n_untreated", "int"),
            Col("Families", "n_clusters", "int"),
            Col("FDAC with a later case", "events_treated", "int"),
            Col("Comparison with a later case", "events_untreated", "int"),
            Col("Hazard ratio (95% CI)", ("hazard_ratio", "hr_ci_low", "hr_ci_high"), "estimate"),
        ],
        caption="Hazard ratio of a later care case, FDAC against comparison (Cox model)",
        note="Below 1: FDAC cases came back to court less often, over the whole follow-up. "
        "95% confidence intervals are cluster-robust: a family's cases (a mother in two "
        "cases) are one cluster. The adjusted model allows for the case's year and number "
        "of children and the mother's recorded characteristics (as the estimates above). "
        "Counts rounded to 5; [c]: not published (fewer than 10 cases, later cases or "
        "cases without one in an arm).",
    )
