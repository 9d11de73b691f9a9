"""Notebooks 2, 4 and 5 show only output-checked tables: every table their views hand to the
notebook was returned by a publish_* call (and written with its check), and a small-n case
is suppressed, turned into a share or refused. All data here are hand-made."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from fdac_research.dataset import load_research
from fdac_research.exceptions import ConfigError
from fdac_research.reports._guard import is_checked
from fdac_research.reports.disclosure_view import DisclosureReview, publish_review
from fdac_research.reports.linkage_view import (
    LinkageSensitivity,
    linkage_error_sensitivity,
    linkage_overview,
    publish_linkage,
)
from fdac_research.reports.publish import publish_summary
from fdac_research.reports.synth_view import publish_release, synthetic_release_view

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _check(folder: Path, name: str) -> dict:
    assert (folder / f"{name}.csv").is_file()
    return json.loads((folder / f"{name}.check.json").read_text())


def test_publish_summary_records_why_no_suppression_applies(tmp_path: Path) -> None:
    table = pd.DataFrame({"value": [0.95, 1.7]}, index=["quality score", "pMSE"])
    shown = publish_summary(table, "demo_summary", tmp_path, reason="whole-table measures")
    assert is_checked(shown) and not is_checked(table)
    record = _check(tmp_path, "demo_summary")
    assert record["kind"] == "summary" and record["passed"] is True
    assert record["reason"] == "whole-table measures"
    assert pd.read_csv(tmp_path / "demo_summary.csv", index_col=0)["value"].tolist() == [0.95, 1.7]
    with pytest.raises(ConfigError, match="reason"):
        publish_summary(table, "no_reason", tmp_path, reason="  ")
    with pytest.raises(ConfigError, match="DataFrame"):
        publish_summary([1, 2], "not_a_frame", tmp_path, reason="x")  # type: ignore[arg-type]
    assert not (tmp_path / "no_reason.csv").exists()


def _quality_folder(folder: Path) -> Path:
    folder.mkdir()
    # hand-made: health has 4 unlinked records (1204 - 1200), under the threshold of 10
    (folder / "linkage_quality.csv").write_text(
        "agency,n_records,n_linked,match_threshold,precision,recall\n"
        "police,1000,600,0.9,0.99,0.98\n"
        "health,1204,1200,0.9,0.99,0.97\n"
    )
    return folder


def test_linkage_tables_are_checked_and_small_cells_suppressed(tmp_path: Path) -> None:
    view = linkage_overview(_quality_folder(tmp_path / "research"), "")
    # hand-made sensitivity estimates; the second scenario's comparison arm has 3 events
    table = pd.DataFrame(
        {
            "odds_ratio (median)": [1.9, 1.8],
            "lowest": [1.9, 1.7],
            "highest": [1.9, 2.0],
            "n_treated": [200, 200],
            "events_treated": [80, 80],
            "n_untreated": [250, 250],
            "events_untreated": [60, 3],
        },
        index=pd.Index(["as linked", "extra errors x1"], name="scenario"),
    )
    tables = tmp_path / "tables"
    tables.mkdir()
    pub = publish_linkage(view, LinkageSensitivity(table, "OR 1.90 (CI 1.6 to 2.2)"), tables)
    assert is_checked(pub.quality) and is_checked(pub.sensitivity)
    assert (
        pub.quality.loc["police", "n_records"] == 1000
        and pub.quality.loc["police", "n_linked"] == 600
    )
    assert (pub.quality.loc["health"].drop("match_threshold") == "[c]").all()
    assert pub.quality.loc["health", "match_threshold"] == 0.9  # a setting, not a figure
    assert pub.sensitivity is not None and (pub.sensitivity.loc["extra errors x1"] == "[c]").all()
    assert "1.90" not in pub.summary and pub.notes.startswith("`[c]`")
    assert _check(tables, "linkage_quality")["suppressed_rows"] == ["health"]
    assert _check(tables, "linkage_error_sensitivity")["suppressed_rows"] == ["extra errors x1"]
    assert "1204" not in (tables / "linkage_quality.csv").read_text()


def test_linkage_sensitivity_carries_people_and_events_per_arm(small_research: Path) -> None:
    research = load_research(small_research)
    view = linkage_overview(small_research, "")
    sens = linkage_error_sensitivity(research, view.quality, scales=(1.0,), n_reps=1, seed=3)
    # counted independently from the research children: reunified children per cohort
    children = research.children[research.children["reunified"].notna()]
    cohort = children["case_id"].map(research.cases.set_index("case_id")["cohort"])
    reunified = children["reunified"].astype(bool)
    row = sens.table.loc["as linked"]
    assert row["n_treated"] == (cohort == "fdac").sum()
    assert row["events_treated"] == (reunified & (cohort == "fdac")).sum()
    assert row["events_untreated"] == (reunified & (cohort == "comparison")).sum()


def _review(tables_dir: Path) -> DisclosureReview:
    # hand-made aggregate measures: 7 sample uniques among 1003 adults
    micro = pd.DataFrame(
        {
            "records": [1003],
            "k-anonymity": [1],
            "sample uniques": [7],
            "records violating 3-anonymity": [52],
            "global risk": [0.0123],
            "expected re-identifications": [12.3],
        },
        index=pd.Index(["adults"], name="table"),
    )
    fixes = pd.DataFrame(
        {
            "table": ["adults"],
            "step": ["bands"],
            "sample uniques after": [3],
            "values changed": [998],
        }
    )
    dictionary = pd.DataFrame({"table": ["adults"], "column": ["age"], "roles": ["qi"]})
    return DisclosureReview(dictionary, micro, fixes, pd.DataFrame({"published table": ["a.csv"]}))


def test_disclosure_review_tables_are_checked_and_small_counts_not_shown(tmp_path: Path) -> None:
    pub = publish_review(_review(tmp_path), tmp_path)
    for t in (pub.dictionary, pub.microdata, pub.fixes, pub.tables):
        assert is_checked(t)
    for name in ("disclosure_dictionary", "disclosure_risk", "disclosure_recoding"):
        assert _check(tmp_path, name)["reason"]
    m = pub.microdata.loc["adults"]
    # Hand-worked under ons_10_5: 52 / 1003 = 5.18% -> 5.2 (a share of a count >= 10); a
    # share of the 7 sample uniques would give them back (7 / 1003 of a published total of
    # 1005 is 7.0), so it is [c]; 1003 records -> 1005; 12.3 expected re-identifications
    # -> 10 (base 5).
    assert m["sample uniques (% of records)"] == "[c]"
    assert m["records violating 3-anonymity (% of records)"] == 5.2
    assert m["records"] == 1005 and m["expected re-identifications"] == 10
    assert "sample uniques" not in pub.microdata.columns
    # 3 sample uniques after banding is a count of people under 10; 998 values -> 1000
    assert pub.fixes.loc[0, "sample uniques after"] == "[c]"
    assert pub.fixes.loc[0, "values changed"] == 1000
    written = (tmp_path / "disclosure_risk.csv").read_text()
    assert "1003" not in written and ",7," not in written and "0.7" not in written
    assert _check(tmp_path, "disclosure_recoding")["counts_checked"]["n_suppressed"] == 1


def test_recoding_table_counts_of_people_are_checked(tmp_path: Path) -> None:
    # The case of issue 15: top-coding n_children at 4 changed the values of 4 adults (in 2
    # cases); "values changed 4" is a count of people under the threshold of 10 -> [c]. The
    # 1485 values of local suppression are published rounded to base 5 (1485 -> 1485).
    fixes = pd.DataFrame(
        {
            "table": ["adults", "adults"],
            "step": ["n_children top-coded at 4", "local suppression to 3-anonymity"],
            "global risk before": [0.95, 0.95],
            "global risk after": [0.95, 0.15],
            "sample uniques after": [4320, 0],
            "values changed": [4, 1485],
            "key values suppressed": [0, 1485],
        }
    )
    review = _review(tmp_path)
    review.fixes = fixes
    pub = publish_review(review, tmp_path)
    assert pub.fixes.loc[0, "values changed"] == "[c]"
    assert pub.fixes.loc[1, "values changed"] == 1485
    body = pd.read_csv(tmp_path / "disclosure_recoding.csv", dtype=str)
    assert (
        body.loc[0, "values changed"] == "[c]"
        and ",4," not in (tmp_path / "disclosure_recoding.csv").read_text()
    )


def test_summary_refuses_an_undeclared_count(tmp_path: Path) -> None:
    from fdac_research.reports.publish import publish_summary

    table = pd.DataFrame({"step": ["top-coding"], "values changed": [4], "risk": [0.9]})
    with pytest.raises(ConfigError, match=r"\['values changed'\] hold whole numbers"):
        publish_summary(table, "recoding", tmp_path, reason="whole-table measures")
    assert not (tmp_path / "recoding.csv").exists()
    ok = publish_summary(
        table, "recoding", tmp_path, reason="whole-table measures", counts=["values changed"]
    )
    assert ok.loc[0, "values changed"] == "[c]" and ok.loc[0, "risk"] == 0.9
    with pytest.raises(ConfigError, match="say why"):
        publish_summary(
            table, "recoding2", tmp_path, reason="x", not_counts={"values changed": " "}
        )


def _release(folder: Path) -> Path:
    est = {"odds_ratio": 1.8, "odds_ratio_ci": [1.5, 2.1], "n": 240}
    thin = {"odds_ratio": 3.14159, "odds_ratio_ci": [1.25, 7.5], "n": 7}
    fid = {"ci_overlap": True, "inside_real_ci": True}
    report = {
        "utility": {
            "quality": {"score": 0.95},
            "fidelity": [
                {
                    "outcome": "reunified",
                    "population": "children",
                    "method": "naive",
                    "real": est,
                    "synthetic": est,
                    **fid,
                },
                {
                    "outcome": "ceased_misuse",
                    "population": "fathers",
                    "method": "naive",
                    "real": thin,
                    "synthetic": thin,
                    **fid,
                },
            ],
        },
        "privacy": {"exact_copies": {"synthetic": {"cases": 0.0}, "holdout": {"cases": 0.05}}},
        "gate": {"passed": True, "checks": []},
    }
    folder.mkdir()
    (folder / "synthetic_report.json").write_text(json.dumps(report))
    return folder


def test_release_tables_are_checked_and_small_n_suppressed(tmp_path: Path) -> None:
    view = synthetic_release_view(_release(tmp_path / "release"))
    tables = tmp_path / "tables"
    tables.mkdir()
    pub = publish_release(view, tables)
    for t in (pub.utility, pub.fidelity, pub.privacy):
        assert is_checked(t)
    assert pub.fidelity.loc[0, "real odds ratio"] == "1.80 (1.50 to 2.10)"
    assert pub.fidelity.loc[0, "real n"] == 240
    # the estimate resting on 7 people: [c] except its labels, and the footnote is shown
    thin = pub.fidelity.loc[1]
    assert thin["outcome"] == "ceased_misuse (fathers)"
    assert (thin.drop(["outcome", "method"]) == "[c]").all() and pub.fidelity_note
    text = (tables / "synthetic_fidelity.csv").read_text()
    assert "3.14" not in text and ",7," not in text
    assert _check(tables, "synthetic_utility")["reason"]
    assert _check(tables, "synthetic_privacy")["reason"]


def test_release_checks_events_per_arm_of_the_real_data(tmp_path: Path) -> None:
    view = synthetic_release_view(_release(tmp_path / "release"))
    # hand-made real arms: 240 children, only 4 reunified in the comparison arm
    view.fidelity_counts = pd.DataFrame(
        {
            "real n": [240.0, 7.0],
            "n_treated": [100.0, np.nan],
            "events_treated": [40.0, np.nan],
            "n_untreated": [140.0, np.nan],
            "events_untreated": [4.0, np.nan],
        }
    )
    pub = publish_release(view, tmp_path)
    assert (
        pub.fidelity.loc[0, "real odds ratio"] == "[c]" and pub.fidelity.loc[0, "method"] == "naive"
    )
    assert pub.fidelity_note.startswith("`[c]`")
    assert "1.80" not in (tmp_path / "synthetic_fidelity.csv").read_text()


@pytest.mark.parametrize(
    "name",
    ["02_linkage_quality.ipynb", "04_disclosure_review.ipynb", "05_synthetic_release.ipynb"],
)
def test_notebook_turns_the_guard_on_before_showing_a_table(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    guard = next(i for i, src in enumerate(code) if "require_checked_tables()" in src)
    first_display = next(i for i, src in enumerate(code) if "display(" in src)
    assert guard <= first_display
    assert "require_checked_tables()" in code[guard].split("display(")[0]
