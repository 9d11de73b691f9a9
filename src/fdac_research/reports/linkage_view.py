"""What the linkage-quality notebook shows: coverage and precision/recall per agency, the
linkage charts, and how much linkage errors of the measured size could move the findings.

:func:`linkage_overview` and :func:`linkage_error_sensitivity` compute;
:func:`publish_linkage` output-checks both tables (a coverage proportion needs enough linked
and unlinked records, an effect estimate enough people, events and non-events per arm) and
gives the summary sentence only when the estimates it quotes were published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Image

from fdac_research import analysis
from fdac_research._io import find_table, read_text_table
from fdac_research.dataset import ResearchData
from fdac_research.exceptions import ContractError, Problem
from fdac_research.reports.publish import (
    DEFAULT_RULES,
    SUPPRESSION_NOTE,
    publish_estimates,
    suppressed_rows,
)
from fdac_research.risk import TableRules

__all__ = [
    "LinkageOverview",
    "LinkageSensitivity",
    "PublishedLinkage",
    "linkage_overview",
    "linkage_error_sensitivity",
    "publish_linkage",
    "AGENCY_OF_COLUMN",
    "CHART_KINDS",
    "chart_views",
    "quality_view",
    "sensitivity_view",
]

#: The research column each agency's linkage feeds, and its value when a link is missed
#: (governance's "no linked record" rule): None means missing.
AGENCY_OF_COLUMN: dict[str, tuple[str, object]] = {
    "convictions": ("police", 0),
    "substances": ("substance_misuse", None),
    "domestic_abuse": ("domestic_abuse", False),
    "mental_health": ("health", None),
    "prior_proceedings": ("local_authority", None),
}
#: Per-agency charts of the link stage, with what each shows (for the small multiples).
CHART_KINDS: dict[str, str] = {
    "match_weights": "histogram of the match weights of the scored candidate pairs (log "
    "scale of pairs), with the match threshold dashed",
    "m_u": "m and u probabilities of each comparison level and the partial match weight they give",
    "waterfall": "how the match weight of the pair closest to the threshold builds up from "
    "the prior through each comparison",
}
_CHARTS = (
    "precision_recall.png",
    "police_match_weights.png",
    "police_m_u.png",
    "police_waterfall.png",
)


@dataclass
class LinkageOverview:
    """Per-agency quality table and the chart images to show."""

    quality: pd.DataFrame
    figures: list[Image] = field(default_factory=list)
    #: Unrounded records and linked records per agency (for the output check only).
    counts: pd.DataFrame | None = None
    #: Every agency's charts by kind (``match_weights``, ``m_u``, ``waterfall``): agency ->
    #: PNG path, for small multiples; and the precision-recall chart when there is one.
    agency_charts: dict[str, dict[str, Path]] = field(default_factory=dict)
    precision_recall: Path | None = None


def linkage_overview(research_dir: str | Path, linkage_dir: str | Path) -> LinkageOverview:
    """Read ``linkage_quality.csv`` (from the linkage folder, else the research folder) and
    collect the linkage charts when the linkage folder has them."""
    folders = [Path(linkage_dir), Path(research_dir)] if linkage_dir else [Path(research_dir)]
    path = next(
        (p for p in (find_table(f, "linkage_quality") for f in folders if f.is_dir()) if p), None
    )
    if path is None:
        raise ContractError(
            str(research_dir),
            [
                Problem(
                    "linkage_quality.csv",
                    None,
                    None,
                    None,
                    "the linkage-quality table (contract §2)",
                )
            ],
        )
    q = read_text_table(path)
    counts = pd.DataFrame(
        {c: pd.to_numeric(q[c]).to_numpy() for c in ("n_records", "n_linked")},
        index=pd.Index(q["agency"], name="agency"),
    )
    out = pd.DataFrame({"agency": q["agency"]})
    for c in ("n_records", "n_linked"):
        # published counts: rounded to base 5 and suppressed (missing) under 10, as the tables
        n = pd.to_numeric(q[c]).astype(float)
        out[c] = (5 * (n / 5).round()).where(n >= 10)
    out["linked_%"] = (100 * out["n_linked"] / out["n_records"].where(out["n_records"] > 0)).round(
        0
    )
    out["match_threshold"] = pd.to_numeric(q["match_threshold"])
    for c in ("precision", "recall"):
        out[c] = pd.to_numeric(q[c].mask(q[c] == "")).round(4)
    out = out.set_index("agency")
    charts = Path(linkage_dir) / "charts" if linkage_dir else None
    figures = [
        Image(filename=str(charts / c)) for c in _CHARTS if charts and (charts / c).is_file()
    ]
    kinds: dict[str, dict[str, Path]] = {}
    for kind in CHART_KINDS:
        found = {
            str(a): charts / f"{a}_{kind}.png"
            for a in out.index
            if charts and (charts / f"{a}_{kind}.png").is_file()
        }
        if found:
            kinds[kind] = found
    pr = charts / "precision_recall.png" if charts else None
    return LinkageOverview(
        out,
        figures,
        counts,
        agency_charts=kinds,
        precision_recall=pr if pr is not None and pr.is_file() else None,
    )


@dataclass
class LinkageSensitivity:
    """Estimates under simulated linkage errors of the measured (and a larger) size.

    ``table`` is ``None`` when no agency's precision and recall are known (nothing to
    simulate); ``summary`` then says why."""

    table: pd.DataFrame | None
    summary: str


#: Said when precision and recall are unknown (real data with no reviewed sample).
UNKNOWN_QUALITY = (
    "Precision and recall are not known for {agencies}: these data have no truth/ and no "
    "reviewed clerical sample was given (`fdac-research link SOURCES --labels "
    "clerical_review.csv` after a reviewer fills in `is_match`), so they are shown as missing"
)


def _perturb(
    adults: pd.DataFrame, quality: pd.DataFrame, scale: float, rng: np.random.Generator
) -> pd.DataFrame:
    out = adults.copy()
    n = len(out)
    recalls: dict[str, float] = {str(k): float(v) for k, v in quality["recall"].items()}
    precisions: dict[str, float] = {str(k): float(v) for k, v in quality["precision"].items()}
    for column, (agency, absent) in AGENCY_OF_COLUMN.items():
        if column not in out or agency not in quality.index:
            continue
        recall = recalls.get(agency, np.nan)
        precision = precisions.get(agency, np.nan)
        miss = min(scale * (1.0 - (recall if np.isfinite(recall) else 1.0)), 1.0)
        false = min(scale * (1.0 - (precision if np.isfinite(precision) else 1.0)), 1.0)
        missed = rng.random(n) < miss
        values = out[column].copy()
        values[missed] = absent if absent is not None else pd.NA
        wrong = np.flatnonzero(rng.random(n) < false)
        if len(wrong):  # a false link brings someone else's record
            donors = rng.integers(0, n, len(wrong))
            values.iloc[wrong] = out[column].iloc[donors].to_numpy()
        out[column] = values
    return out


def linkage_error_sensitivity(
    research: ResearchData,
    quality: pd.DataFrame,
    *,
    outcome: str = "reunified",
    population: str = "children",
    scales: tuple[float, ...] = (1.0, 5.0),
    n_reps: int = 10,
    seed: int = 0,
) -> LinkageSensitivity:
    """Re-estimate the doubly robust effect after adding linkage errors to the covariates.

    The research dataset already carries the real linkage's errors; this adds *further*
    errors of the measured size (``scale=1``: a share ``1 - recall`` of each agency's
    covariate set to its "no linked record" value, a share ``1 - precision`` replaced by
    another person's) and of a larger size, ``n_reps`` times each, and reports how far the
    odds ratio moves. A finding that barely moves is robust to linkage errors of that size.
    """
    if not {"recall", "precision"} <= set(quality.columns):
        raise ContractError(
            "linkage quality",
            [Problem("linkage_quality.csv", "recall", None, None, "precision and recall columns")],
        )
    known = quality[["precision", "recall"]].notna().all(axis=1)
    if not known.any():
        agencies = "any agency" if len(quality) != 1 else str(quality.index[0])
        return LinkageSensitivity(
            None,
            UNKNOWN_QUALITY.format(agencies=agencies)
            + " and linkage errors of the measured size cannot be simulated.",
        )
    unknown = [str(a) for a in quality.index[~known]]
    quality = quality[known]
    rng = np.random.default_rng(seed)
    frame = analysis.analysis_frame(research, outcome, population)
    base = analysis.aipw(frame)
    # the people and events behind every scenario: the errors change covariates only, so
    # each scenario rests on the same people and outcomes as the linked data
    t, y = np.asarray(frame.t), np.asarray(frame.y)
    arms = {
        "n_treated": int((t == 1).sum()),
        "events_treated": int(((t == 1) & (y == 1)).sum()),
        "n_untreated": int((t == 0).sum()),
        "events_untreated": int(((t == 0) & (y == 1)).sum()),
    }
    rows = [
        {
            "scenario": "as linked",
            "odds_ratio (median)": base.odds_ratio.value,
            "lowest": base.odds_ratio.value,
            "highest": base.odds_ratio.value,
        }
    ]
    for scale in scales:
        ors = []
        for _ in range(n_reps):
            adults = _perturb(research.adults, quality, scale, rng)
            r = ResearchData(research.cases, adults, research.children, research.linkage_quality)
            ors.append(
                analysis.aipw(analysis.analysis_frame(r, outcome, population)).odds_ratio.value
            )
        rows.append(
            {
                "scenario": f"extra errors x{scale:g} the measured rate",
                "odds_ratio (median)": float(np.median(ors)),
                "lowest": float(np.min(ors)),
                "highest": float(np.max(ors)),
            }
        )
    table = pd.DataFrame(rows).set_index("scenario").round(3).assign(**arms)
    worst = max(
        abs(table["lowest"] - base.odds_ratio.value).max(),
        abs(table["highest"] - base.odds_ratio.value).max(),
    )
    ci = base.odds_ratio
    summary = (
        f"Doubly robust odds ratio for {outcome.replace('_', ' ')} ({population}): {ci.value:.2f} "
        f"(95% CI {ci.ci_low:.2f} to {ci.ci_high:.2f}). Adding linkage errors at up to "
        f"{max(scales):g} times the measured rates moved it by at most {worst:.2f} over {n_reps} "
        "simulations per scenario"
        + (
            ", well inside its confidence interval."
            if worst < (ci.ci_high - ci.ci_low) / 2
            else ": comparable to its confidence interval, so linkage quality matters for this finding."
        )
    )
    if unknown:
        summary += (
            " " + UNKNOWN_QUALITY.format(agencies=", ".join(unknown)) + ", so no errors were "
            "added to what they feed."
        )
    return LinkageSensitivity(table, summary)


#: (events column, people column) per arm of the sensitivity table.
_EVENTS = (("events_treated", "n_treated"), ("events_untreated", "n_untreated"))


@dataclass
class PublishedLinkage:
    """What notebook 2 may show: output-checked tables and a summary drawn from them."""

    quality: pd.DataFrame
    sensitivity: pd.DataFrame | None
    summary: str
    notes: str = ""


def publish_linkage(
    overview: LinkageOverview,
    sensitivity: LinkageSensitivity | None,
    tables_dir: str | Path,
    *,
    rules: TableRules | str | dict[str, object] = DEFAULT_RULES,
) -> PublishedLinkage:
    """Output-check the linkage tables and write them to ``tables_dir``.

    The quality table (``linkage_quality.csv``) is published with
    :func:`~fdac_research.reports.publish_estimates`: the share linked is a proportion of
    records, so each agency needs ``threshold`` records, linked records and unlinked records
    (else its row is ``[c]``; the match threshold, a setting, stays visible). The
    sensitivity table (``linkage_error_sensitivity.csv``) holds odds ratios of a binary
    outcome: it needs ``threshold`` people, events and non-events in each arm, else its rows
    are ``[c]`` and the summary sentence (which quotes them) is withheld.

    Parameters
    ----------
    overview : LinkageOverview
        From :func:`linkage_overview`.
    sensitivity : LinkageSensitivity or None
        From :func:`linkage_error_sensitivity` (None: not estimated).
    tables_dir : path
        The reports' tables folder.
    rules : preset name, TableRules or dict
        The output-checking rules (threshold and rounding base).
    """
    q = overview.quality.copy()
    counts = overview.counts
    if counts is None:  # a hand-built overview: its (already rounded) counts are checked
        counts = q[["n_records", "n_linked"]]
    q["n_records"] = counts["n_records"].reindex(q.index)
    q["n_linked"] = counts["n_linked"].reindex(q.index)
    quality = publish_estimates(
        q,
        "linkage_quality",
        tables_dir,
        n_columns=["n_records"],
        events=[("n_linked", "n_records")],
        rules=rules,
        allow_suppression=True,
        label_columns=["match_threshold"],
    )
    hidden = bool(suppressed_rows(quality).any())
    table, summary = None, ""
    if sensitivity is not None and sensitivity.table is None:
        summary = sensitivity.summary
    elif sensitivity is not None and sensitivity.table is not None:
        table = publish_estimates(
            sensitivity.table,
            "linkage_error_sensitivity",
            tables_dir,
            n_columns=["n_treated", "n_untreated"],
            events=_EVENTS,
            rules=rules,
            allow_suppression=True,
        )
        if suppressed_rows(table).any():
            hidden = True
            summary = "Not published: too few people, events or non-events in an arm."
        else:
            summary = sensitivity.summary
    return PublishedLinkage(quality, table, summary, SUPPRESSION_NOTE if hidden else "")


# ---- what the reader sees -----------------------------------------------------------------


def quality_view(published: pd.DataFrame) -> Any:
    """The published linkage-quality table for people."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Agency", "@index"),
            Col("Records", "n_records", "int"),
            Col("Linked records", "n_linked", "int"),
            Col("Linked", "linked_%", "percent100", 0),
            Col("Match threshold (probability)", "match_threshold", "number"),
            Col("Precision (links that are right)", "precision", "percent"),
            Col("Recall (true links found)", "recall", "percent"),
        ],
        caption="Coverage and estimated accuracy of the linkage, per agency",
        note="Counts rounded to 5; [c]: fewer than 10 records, linked or unlinked. Precision "
        "and recall are estimated against the world's truth or a reviewed clerical sample; "
        "'–' when neither exists.",
    )


def sensitivity_view(published: pd.DataFrame) -> Any:
    """The published linkage-error sensitivity table for people."""
    from fdac_research.reports.present import Col, people_table

    return people_table(
        published,
        [
            Col("Scenario", "@index"),
            Col("Doubly robust odds ratio (median)", "odds_ratio (median)", "number"),
            Col("Lowest", "lowest", "number"),
            Col("Highest", "highest", "number"),
            Col("FDAC (children)", "n_treated", "int"),
            Col("Comparison (children)", "n_untreated", "int"),
        ],
        caption="Children going home: the estimate under further linkage errors",
        note="Counts rounded to 5. Each scenario adds linkage errors at a multiple of the "
        "measured rates to the linked covariates and re-estimates, several times.",
    )


def chart_views(overview: LinkageOverview) -> list[Any]:
    """The linkage charts with alt text: the precision-recall chart, then one small-multiple
    grid per chart kind with every agency that has it."""
    from fdac_research.reports.present import image, image_grid

    out: list[Any] = []
    if overview.precision_recall is not None:
        out.append(
            image(
                overview.precision_recall.read_bytes(),
                "Line charts of pairwise precision (left) and recall (right) against the "
                "match-probability threshold, one line per agency; the dashed line is the "
                "threshold used.",
            )
        )
    for kind, charts in overview.agency_charts.items():
        what = CHART_KINDS[kind]
        out.append(
            image_grid(
                [
                    (
                        path.read_bytes(),
                        f"{agency.replace('_', ' ')}: {what}.",
                        agency.replace("_", " "),
                    )
                    for agency, path in sorted(charts.items())
                ]
            )
        )
    return out
