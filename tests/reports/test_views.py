"""The report views the notebooks call: they run on a contract research folder, every
published figure comes from checked data, and nothing disclosive is shown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fdac_research.dataset import load_research
from fdac_research.reports import publish_table
from fdac_research.reports.disclosure_view import disclosure_review
from fdac_research.reports.figures import cohort_bar_chart
from fdac_research.reports.linkage_view import linkage_error_sensitivity, linkage_overview
from fdac_research.reports.outcomes_view import (
    evaluate_outcomes,
    publish_evaluation,
    truth_comparison,
)


def test_outcomes_view(small_research: Path, small_world: Path, tmp_path: Path) -> None:
    research = load_research(small_research)
    ev = evaluate_outcomes(research, seed=1)
    assert "reunified_children" in ev.tables and "ceased_misuse_mothers" in ev.tables
    t = ev.tables["reunified_children"]
    assert list(t.index[:2]) == ["naive (association)", "g_computation (ATE)"]
    # events per arm, counted independently from the research children: reunified children
    # with a known outcome in FDAC and in comparison cases
    cohort = research.children["case_id"].map(research.cases.set_index("case_id")["cohort"])
    known = research.children["reunified"].notna()
    reunified = research.children["reunified"].astype("boolean").fillna(False)
    naive = t.loc["naive (association)"]
    assert naive["n_treated"] == (known & (cohort == "fdac")).sum()
    assert naive["events_treated"] == (reunified & (cohort == "fdac")).sum()
    assert naive["events_untreated"] == (reunified & (cohort == "comparison")).sum()
    # the matched sample is smaller, and its events cannot exceed its people
    m = t.loc["matching (ATT)"]
    assert m["n_untreated"] < naive["n_untreated"] and m["events_untreated"] <= m["n_untreated"]
    assert set(ev.count_tables) == {"final_order", "placement_at_end"}
    assert ev.benchmark is not None and ev.sensitivity is not None

    tables = tmp_path / "tables"
    tables.mkdir()
    pub = publish_evaluation(ev, tables, sources_dir=small_world)
    # every displayed table was written with its output check
    written = sorted(p.stem for p in tables.glob("*.csv"))
    assert written == sorted(
        [f"effects_{k}" for k in ev.tables]
        + ["outcomes_final_order", "outcomes_placement_at_end"]
        + ["balance_reunified_children", "sensitivity_e_values", "truth_comparison"]
        + ["negative_control", "recurrence_survival", "recurrence_hazard_ratio"]
    )
    # the time to a later case: 3 FDAC cases of this 300-family world came back, too few to
    # publish the hazard ratio, so the finding says so instead of a number
    assert pub.recurrence.curve is not None and pub.recurrence.hazard is not None
    assert (pub.recurrence.hazard.drop(columns="model") == "[c]").all().all()
    assert pub.notes.startswith("`[c]`")
    # the verdict on hidden bias is drawn from published rows and names both checks
    assert pub.negative_control is not None and ev.robustness is not None
    assert "benchmark" in pub.robustness_text and "Negative control" in pub.robustness_text
    assert all((tables / f"{w}.check.json").is_file() for w in written)
    shown = pub.effects["reunified_children"]
    assert (shown["n"] % 5 == 0).all() and (shown["events_treated"] % 5 == 0).all()
    assert "E-value" in pub.sensitivity_text and pub.forest_plots["reunified_children"]
    # in this 300-family world some binary covariates are too rare in an arm: their balance
    # rows are suppressed, flagged in the note, and left out of the love plot
    assert pub.balance is not None and pub.love_plot is not None
    gone = pub.balance.index[pub.balance["unadjusted"].astype(str) == "[c]"].tolist()
    assert gone and pub.notes.startswith("`[c]`")
    labels = [t.get_text() for t in pub.love_plot.axes[0].get_yticklabels()]
    assert not set(gone) & set(labels) and len(labels) == len(pub.balance) - len(gone)
    # a continuous covariate is checked on people only
    assert pub.balance.loc["child_age", "unadjusted"] != "[c]"
    assert pub.truth is not None and "truth" in pub.truth.columns and pub.truth_plot
    assert "doubly robust 95% interval" in pub.truth_text
    truth = truth_comparison(ev, small_world)
    assert "reunified_children" in truth.summary["aipw_or_covers_truth"]
    # on real data (no truth/) it says so instead of failing
    assert truth_comparison(ev, tmp_path).table is None


def test_suppressed_outcome_leaves_no_trace_in_figures_or_text(
    small_research: Path, small_world: Path, tmp_path: Path
) -> None:
    """An outcome whose estimates fail the events rule is [c] in every table and absent
    from the forest plots, the sensitivity and benchmark statements and the truth."""
    ev = evaluate_outcomes(load_research(small_research), seed=1)
    title = ev.titles["reunified_children"]
    # as if only 3 comparison children had been reunified
    ev.tables["reunified_children"]["events_untreated"] = 3
    assert ev.sensitivity is not None
    ev.sensitivity.loc[title, "events_untreated"] = 3
    pub = publish_evaluation(ev, tmp_path, sources_dir=small_world)
    assert (pub.effects["reunified_children"] == "[c]").all().all()
    assert pub.forest_plots["reunified_children"] is None
    assert pub.forest_plots["ceased_misuse_mothers"] is not None  # others unaffected
    assert pub.sensitivity is not None and (pub.sensitivity.loc[title] == "[c]").all()
    assert title not in pub.sensitivity_text and "published evidence" not in pub.sensitivity_text
    # the verdict on hidden bias would quote the suppressed estimate: it says why it is absent
    assert pub.robustness_text.startswith("**Robustness not checked:**")
    assert "odds ratio" not in pub.robustness_text
    assert pub.truth is not None and pub.truth_plot is None
    rows = pub.truth[pub.truth["key"] == "reunified_children"].drop(
        columns=["key", "method", "estimand", "truth_estimand", "measure"]
    )
    assert (rows == "[c]").all().all()
    assert "reunified children" not in pub.truth_text and "mothers" in pub.truth_text
    assert pub.notes
    text = (tmp_path / "effects_reunified_children.csv").read_text()
    assert "0.419" not in text  # the naive FDAC proportion of this world is not written


def test_linkage_view(small_research: Path) -> None:
    view = linkage_overview(small_research, "")
    # published counts are rounded to 5 (suppressed under 10)
    counts = view.quality[["n_records", "n_linked"]].stack()
    assert (counts % 5 == 0).all()
    assert {"linked_%", "precision", "recall"} <= set(view.quality.columns)
    # a perfect linkage (truth crosswalk) adds no errors, so the estimate cannot move
    sens = linkage_error_sensitivity(load_research(small_research), view.quality, n_reps=2, seed=3)
    assert (sens.table["lowest"] == sens.table["highest"]).all()
    worse = view.quality.assign(recall=0.7, precision=0.9)
    moved = linkage_error_sensitivity(load_research(small_research), worse, n_reps=3, seed=3)
    assert (moved.table["lowest"] != moved.table["highest"]).any()


def test_disclosure_view_publishes_aggregates_only(small_research: Path, tmp_path: Path) -> None:
    publish_table(
        pd.DataFrame({"fdac": [50, 3], "comparison": [40, 60]}, index=["a", "b"]), "demo", tmp_path
    )
    review = disclosure_review(small_research, tmp_path)
    assert set(review.microdata.index) == {"adults", "children"}
    assert (review.microdata["global risk"].between(0, 1)).all()
    assert len(review.tables) == 1 and review.tables["primary suppressions"].iloc[0] >= 1
    # the riskiest key combinations (values of sample uniques) are not in the published review
    assert "riskiest" not in " ".join(review.fixes.columns) and review.figures
    assert all(b"riskiest" not in (img.data or b"") for img in review.figures)
    assert "quasi_identifier" in " ".join(review.dictionary["roles"])


def test_bar_chart_shows_published_values_only() -> None:
    pub = pd.DataFrame(
        {"fdac": ["120", "[c]"], "comparison": ["200", "25"], "Total": ["320", "[c]"]},
        index=["a", "Total"],
    )
    fig = cohort_bar_chart(pub)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a"]  # margins left out


def test_synth_view_reads_the_release_report(tmp_path: Path) -> None:
    import json

    import pytest

    from fdac_research.exceptions import ContractError
    from fdac_research.reports.synth_view import synthetic_release_view

    with pytest.raises(ContractError, match="synthetic_report.json"):
        synthetic_release_view(tmp_path)
    est = {"odds_ratio": 1.8, "odds_ratio_ci": [1.5, 2.1], "n": 240}
    thin = {"odds_ratio": 3.14159, "odds_ratio_ci": [1.25, 7.5], "n": 7}
    report = {
        "seed": 3,
        "model": {"name": "cart"},
        "utility": {
            "quality": {"score": 0.95},
            "pmse": {"cases": {"s_pmse": 1.7}},
            "rules": {"row_violation_rate": 0.0},
            "key_validity": {"adults": 1.0},
            "children_per_case": {
                "real": {"1": 0.6, "2": 0.4},
                "synthetic": {"1": 0.5, "2": 0.5},
                "total_variation": 0.1,
            },
            "fidelity": [
                {
                    "outcome": "reunified",
                    "population": "children",
                    "method": "aipw",
                    "real": est,
                    "synthetic": est,
                    "ci_overlap": True,
                    "inside_real_ci": True,
                },
                {
                    "outcome": "ceased_misuse",
                    "population": "mothers",
                    "method": "aipw",
                    "error": "no events",
                },
                {  # a real estimate resting on 7 people
                    "outcome": "ceased_misuse",
                    "population": "fathers",
                    "method": "naive",
                    "real": thin,
                    "synthetic": thin,
                    "ci_overlap": True,
                    "inside_real_ci": False,
                },
            ],
        },
        "privacy": {"exact_copies": {"synthetic": {"cases": 0.0}, "holdout": {"cases": 0.05}}},
        "gate": {
            "passed": False,
            "checks": [
                {
                    "name": "quality",
                    "detail": "SDMetrics score",
                    "value": 0.5,
                    "threshold": 0.8,
                    "passed": False,
                }
            ],
        },
    }
    (tmp_path / "synthetic_report.json").write_text(json.dumps(report))
    view = synthetic_release_view(tmp_path)
    assert not view.passed and "REFUSED" in view.gate and "FAILED" in view.gate
    # said first, in words, with the check that failed
    assert view.verdict.startswith("**The release gate REFUSED this synthetic copy")
    assert "It failed: SDMetrics score." in view.verdict
    assert view.utility.loc["S_pMSE, two-way, cases (about 1 ideal, under 3 good)", "value"] == 1.7
    assert view.fidelity["synthetic inside real CI"].tolist() == [True, False, "[c]"]
    assert view.fidelity["real odds ratio"].iloc[0] == "1.80 (1.50 to 2.10)"
    assert view.fidelity["synthetic odds ratio"].iloc[1] == "no events"
    # the small-n estimate is shown as [c] (never "nan") with the footnote
    assert (view.fidelity.iloc[2, 2:] == "[c]").all()
    assert "nan" not in view.fidelity.to_string() and "3.14" not in view.fidelity.to_string()
    assert view.fidelity_note.startswith("`[c]`")
    assert view.privacy.loc["exact copies of real rows, cases", "synthetic"] == "0.00%"
    # no check carries the real held-out measure: the gate table has no column for it
    assert "Real held-out data" not in view.gate
    # with the measure on the real held-out split, the gate table shows it in its own column
    report["gate"]["checks"][0]["holdout"] = 0.75  # type: ignore[index]
    (tmp_path / "synthetic_report.json").write_text(json.dumps(report))
    gate = synthetic_release_view(tmp_path).gate
    assert "| Check | Synthetic copy | Real held-out data | Threshold | Result |" in gate
    assert "| SDMetrics score | 0.5 | 0.75 | 0.8 | **FAILED** |" in gate


def test_planted_effect_recovered_and_hidden_confounding_flagged(tmp_path: Path) -> None:
    """Issue 7's check on worlds with a known planted effect (truth linkage, so only
    confounding is at play): with no hidden confounder the doubly robust 95% CI covers the
    true odds ratio and nothing is flagged; with a strong hidden confounder the estimate is
    inflated beyond the published evidence and the report flags it."""
    from fdac_research.governance import build_research, load_key
    from fdac_research.world import generate_world, truth_crosswalk

    out = {}
    for h in (0.0, 1.5):
        w = tmp_path / f"h{h}"
        generate_world(w / "src", n_families=2000, seed=8, hidden_confounder=h)
        truth_crosswalk(w / "src", w / "link")
        key, kind = load_key(demo=True, sources=w / "src")
        build_research(w / "src", w / "link", w / "research", key=key, key_kind=kind)
        ev = evaluate_outcomes(load_research(w / "research"), seed=1)
        tc = truth_comparison(ev, w / "src")
        out[h] = (
            ev.hidden_confounding_flagged,
            tc.summary["aipw_or_covers_truth"]["reunified_children"],
        )
    assert out[0.0] == (False, True)
    assert out[1.5] == (True, False)


def test_synth_view_checks_real_events_per_arm(small_research: Path, tmp_path: Path) -> None:
    """With the research folder at hand, a real estimate is also suppressed when an arm has
    too few events or non-events (the release report records only the people)."""
    import json

    from fdac_research.reports.synth_view import synthetic_release_view

    research = load_research(small_research)
    # mothers' cells (cohort x ceased misuse), counted here from the research adults
    mothers = research.adults[(research.adults["role"] == "mother")]
    mothers = mothers[mothers["ceased_misuse"].notna()]
    cohort = mothers["case_id"].map(research.cases.set_index("case_id")["cohort"])
    cells = pd.crosstab(cohort, mothers["ceased_misuse"].astype(bool))
    smallest = int(cells.to_numpy().min())
    est = {"odds_ratio": 1.5, "odds_ratio_ci": [1.1, 2.0], "n": 10_000}
    row = {"real": est, "synthetic": est, "ci_overlap": True, "inside_real_ci": True}
    fidelity = [
        {"outcome": "ceased_misuse", "population": "mothers", "method": "naive", **row},
    ]
    report = {
        "utility": {"quality": {"score": 0.9}, "fidelity": fidelity},
        "gate": {"passed": True, "checks": []},
    }
    (tmp_path / "synthetic_report.json").write_text(json.dumps(report))
    shown = synthetic_release_view(tmp_path, small_research, threshold=smallest)
    assert shown.fidelity["real odds ratio"].iloc[0] == "1.50 (1.10 to 2.00)"
    hidden = synthetic_release_view(tmp_path, small_research, threshold=smallest + 1)
    assert hidden.fidelity["real odds ratio"].iloc[0] == "[c]" and hidden.fidelity_note
    # without the research folder only the people are checked
    assert synthetic_release_view(tmp_path, threshold=smallest + 1).fidelity_note == ""
