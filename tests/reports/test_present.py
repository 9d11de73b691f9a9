"""Tables for people and findings in words: hand-worked values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fdac_research.exceptions import DisclosureError
from fdac_research.reports import findings
from fdac_research.reports._guard import mark_checked
from fdac_research.reports.present import Col, method_name, people_table

HEADER = (
    "estimate,n,n_treated,n_untreated,n_clusters,events_treated,events_untreated,p_treated,"
    "p_untreated,risk_difference,rd_ci_low,rd_ci_high,odds_ratio,or_ci_low,or_ci_high,variance\n"
)


def test_people_table_formats_published_rows_and_refuses_others() -> None:
    table = pd.DataFrame(
        {
            "n_treated": [160.0, "[c]"],
            "p_treated": [0.4334, "[c]"],
            "odds_ratio": [1.8567, "[c]"],
            "lo": [1.63, "[c]"],
            "hi": [2.1249, "[c]"],
            "care": ["care_order", None],
        },
        index=["aipw (ATE)", "ipw (ATT)"],
    )
    cols = [
        Col("Estimate", "@index", "method"),
        Col("FDAC (people)", "n_treated", "int"),
        Col("FDAC with the outcome", "p_treated", "percent"),
        Col("Odds ratio (95% CI)", ("odds_ratio", "lo", "hi"), "estimate"),
        Col("Order", "care"),
    ]
    with pytest.raises(DisclosureError):
        people_table(table, cols)  # not returned by a publish_* call
    html = people_table(mark_checked(table), cols, caption="Effects").html
    # hand-worked: 0.4334 -> 43.3%; 160.0 -> 160; 1.8567 (1.63 to 2.1249) to 2 places
    for cell in ("Doubly robust (ATE)", ">160<", ">43.3%<", "1.86 (1.63–2.12)", "care order"):
        assert cell in html
    assert "NaN" not in html and "&lt;NA&gt;" not in html and "[c]" in html and ">–<" in html


def test_method_names_in_words() -> None:
    assert method_name("naive (association)") == "Unadjusted comparison"
    assert method_name("ipw (ATT)") == "Inverse probability weighting (ATT)"
    assert method_name("matching (ATT)") == "Propensity-score matching (ATT)"


def test_outcome_finding_from_the_published_rows(tmp_path: Path) -> None:
    (tmp_path / "effects_reunified_children.csv").write_text(
        HEADER
        + "naive (association),325,160,165,195,65,40,0.414,0.236,0.177,0.075,0.279,2.279,1.406,3.693,x\n"
        + "aipw (ATE),325,160,165,195,65,40,0.35,0.271,0.079,-0.039,0.197,1.448,0.825,2.541,x\n"
    )
    cells = ",".join(["[c]"] * 15)
    (tmp_path / "effects_ceased_misuse_fathers.csv").write_text(
        HEADER + f"naive (association),{cells}\naipw (ATE),{cells}\n"
    )
    (tmp_path / "cohort_child_age_band.csv").write_text(
        ",fdac,comparison,Total\nTotal,165,165,330\n"
    )
    lead, text = findings.outcome_finding(tmp_path, "reunified_children")  # type: ignore[misc]
    assert lead == "Children going home."
    # 0.414 -> 41%, 0.236 -> 24%; the interval 0.825-2.541 includes 1
    assert "41% of children in FDAC" in text and "against 24%" in text
    assert "1.45 (95% CI 0.82–2.54)" in text and "compatible with FDAC making no difference" in text
    assert "160 FDAC and 165 comparison children in 195 families" in text
    fathers = findings.outcome_finding(tmp_path, "ceased_misuse_fathers")
    assert fathers is not None and fathers[1].startswith("Not published")
    assert "[c]" not in fathers[1]
    counted = findings.who_is_counted(tmp_path)
    assert (
        counted is not None and "all 330 children" in counted[1] and "the 325 whose" in counted[1]
    )
    assert findings.outcome_finding(tmp_path, "returned_to_court_3y_children") is None
