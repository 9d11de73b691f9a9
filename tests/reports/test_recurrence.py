"""Report 03's recurrence section: the Kaplan-Meier shares and Cox hazard ratios of a later
case are published only through the output check, the plot, its alt text and the finding
are drawn from the published rows, and research data without the time to a later case give
one sentence instead."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdac_research.analysis import kaplan_meier, survival_at
from fdac_research.dataset import ResearchData
from fdac_research.reports import findings
from fdac_research.reports._index import describe_table
from fdac_research.reports.recurrence_view import (
    CURVE_TABLE,
    HAZARD_TABLE,
    evaluate_recurrence,
    hazard_view,
    publish_recurrence,
    recurrence_alt,
    survival_view,
)


def _research(seed: int = 5, n: int = 800) -> ResearchData:
    """Cases whose later case comes at rate 0.3 a year (FDAC: half that), followed for
    0 to 6 years; mothers with two characteristics; some mothers in two cases."""
    rng = np.random.default_rng(seed)
    fdac = rng.random(n) < 0.45
    later = rng.exponential(1 / np.where(fdac, 0.15, 0.3))
    follow = rng.uniform(0.05, 6.0, n)
    ids = [f"C{i:04d}" for i in range(n)]
    family = [f"F{i // 2:04d}" if i % 10 < 2 else f"F{i:04d}x" for i in range(n)]
    cases = pd.DataFrame(
        {
            "case_id": ids,
            "cohort": np.where(fdac, "fdac", "comparison"),
            "court": "X",
            "local_authority": "L",
            "application_year": pd.array(rng.integers(2012, 2020, n), dtype="Int64"),
            "n_children": pd.array(rng.integers(1, 4, n), dtype="Int64"),
            "years_to_later_case": np.where(later <= follow, np.round(later, 3), np.nan),
            "follow_up_years": np.round(follow, 3),
            "family_id": family,
        }
    )
    adults = pd.DataFrame(
        {
            "person_id": [f"M{i:04d}" for i in range(n)],
            "case_id": ids,
            "role": "mother",
            "sex": "F",
            "age_at_application": pd.array(rng.integers(18, 45, n), dtype="Int64"),
            "substances": rng.choice(np.array(["alcohol", "heroin", "cannabis"]), n),
            "domestic_abuse": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "mental_health": pd.array(rng.random(n) < 0.4, dtype="boolean"),
            "prior_proceedings": pd.array(rng.poisson(0.3, n), dtype="Int64"),
            "convictions": pd.array(rng.poisson(1.0, n), dtype="Int64"),
        }
    )
    children = pd.DataFrame({"person_id": ["K1"], "case_id": [ids[0]]})
    return ResearchData(cases=cases, adults=adults, children=children)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[ResearchData, Path, object]:
    research = _research()
    tables = tmp_path_factory.mktemp("tables")
    pub = publish_recurrence(evaluate_recurrence(research), tables)
    return research, tables, pub


def test_published_shares_are_the_kaplan_meier_estimate(published) -> None:
    research, tables, pub = published
    curve = pub.curve
    assert curve is not None and (tables / f"{CURVE_TABLE}.csv").is_file()
    check = json.loads((tables / f"{CURVE_TABLE}.check.json").read_text())
    assert check["kind"] == "estimates" and check["passed"] is True
    # the share at 1, 2 and 3 years is the product-limit estimate of each cohort, worked
    # out again here from the research cases
    c = research.cases
    time = c["years_to_later_case"].fillna(c["follow_up_years"])
    event = c["years_to_later_case"].notna().astype(int)
    for cohort, arm in (("fdac", "treated"), ("comparison", "untreated")):
        rows = (c["cohort"] == cohort).to_numpy()
        km = kaplan_meier(time[rows], event[rows])
        for year in ("1", "2", "3"):
            assert float(curve.loc[year, f"s_{arm}"]) == pytest.approx(
                survival_at(km, float(year)), abs=1e-4
            )
            followed = int((time[rows] >= float(year)).sum())
            assert int(curve.loc[year, f"at_risk_{arm}"]) == 5 * round(followed / 5)
    # counts are rounded to 5
    counts = curve[["n_treated", "at_risk_untreated", "events_untreated"]]
    assert (counts.astype(int) % 5 == 0).all().all()
    # the curve stops where fewer than 10 cases are still followed in an arm (here before
    # 6 years), so no row label tells how long the longest follow-up was
    last = float(curve.index[-1])
    assert last < 6.0 and int(curve.iloc[-1]["at_risk_treated"]) >= 10


def test_hazard_ratios_and_the_finding_read_back_the_published_rows(published) -> None:
    _, tables, pub = published
    hazard = pub.hazard
    assert hazard is not None and list(hazard.index) == ["unadjusted", "adjusted"]
    hr = float(hazard.loc["adjusted", "hazard_ratio"])
    lo, hi = float(hazard.loc["adjusted", "hr_ci_low"]), float(hazard.loc["adjusted", "hr_ci_high"])
    assert lo < hr < hi and hi < 1  # FDAC's planted hazard is half the comparison's
    assert lo < 0.5 < hi
    assert int(hazard.loc["adjusted", "n_clusters"]) < int(hazard.loc["adjusted", "n"])
    lead, text = findings.recurrence_finding(tables)
    assert lead == "Families back in court."
    assert f"{hr:.2f} (95% CI {lo:.2f}–{hi:.2f}): the hazard of a later case was lower" in text
    s3 = float(pub.curve.loc["3", "s_treated"])
    assert f"{100 * s3:.0f}% of FDAC cases" in text
    # and it opens the report among the other findings
    assert ("Families back in court.", text) in findings.outcome_findings(tables)
    # readers' tables: labelled, percentages with intervals, 1, 2 and 3 years only
    shown = survival_view(pub.curve).html
    assert "Years since the final hearing" in shown and shown.count("<tr>") == 4
    assert f"{100 * s3:.0f} (" in shown
    assert f"{hr:.2f} ({lo:.2f}–{hi:.2f})" in hazard_view(hazard).html
    alt = recurrence_alt(pub.curve)
    assert "at 3 years: FDAC" in alt and "not published" not in alt.split("at 2 years")[1]
    assert pub.plot is not None
    ax = pub.plot.axes[0]
    assert ax.get_xlabel() == "Years since the final hearing" and ax.get_title()
    assert "censored at the end of its follow-up" in pub.text
    for name in (CURVE_TABLE, HAZARD_TABLE):
        assert describe_table(f"tables/{name}.csv") != "Published table (output-checked)."


def test_a_suppressed_hazard_ratio_is_not_said(published, tmp_path: Path) -> None:
    research, _, _ = published
    rec = evaluate_recurrence(research)
    assert rec.hazard is not None
    rec.hazard["events_treated"] = 4  # as if only 4 FDAC cases had come back
    assert rec.curve is not None
    rec.curve.loc["1", "events_treated"] = 4  # and only 4 by the end of the first year
    pub = publish_recurrence(rec, tmp_path)
    assert (pub.hazard.drop(columns="model") == "[c]").all().all() and pub.hidden
    assert (pub.curve.loc["1"] == "[c]").all() and pub.curve.loc["2", "s_treated"] != "[c]"
    _, text = findings.recurrence_finding(tmp_path)
    assert "hazard ratio" not in text and "of FDAC cases" in text
    # the suppressed point is a gap in the plot, "not published" in its alt text and [c]
    # in the reader's table
    assert "at 1 year: not published" in recurrence_alt(pub.curve)
    assert "<td>1</td>" in survival_view(pub.curve).html
    line = pub.plot.axes[0].get_lines()[0].get_ydata()
    assert np.isnan(line[list(pub.curve.index).index("1") + 1])


def test_research_without_the_time_to_a_later_case_says_so(tmp_path: Path) -> None:
    research = _research(n=60)
    older = dataclasses.replace(
        research, cases=research.cases.drop(columns=["years_to_later_case", "follow_up_years"])
    )
    rec = evaluate_recurrence(older)
    assert rec.curve is None and rec.hazard is None
    assert rec.note.startswith("Not analysed:") and rec.note.count(".") == 1
    pub = publish_recurrence(rec, tmp_path)
    assert pub.text == rec.note and pub.plot is None and not list(tmp_path.iterdir())
    assert findings.recurrence_finding(tmp_path) is None
