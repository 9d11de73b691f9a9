"""Schema-derived metadata and the contract's rules (hand-built tables with known breaks)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.synth import RULES, column_specs, rule_violations, sdv_metadata_dict
from fdac_research.synth._enforce import enforce_rules, learn_conditionals
from fdac_research.synth._metadata import NOT_SYNTHESISED


def test_metadata_comes_from_schema_and_carries_no_values() -> None:
    md = sdv_metadata_dict()
    text = json.dumps(md)
    # no value ranges, category lists or data-derived numbers of any kind
    for word in ("min", "max", "values", "regex", "datetime_format"):
        assert f'"{word}' not in text
    assert set(md["tables"]) == {"cases", "adults", "children"}
    for name, t in md["tables"].items():
        # every contract column but the optional ones no release carries (the negative control)
        released = [c for c in schema.RESEARCH.table(name).names if c not in NOT_SYNTHESISED]
        assert list(t["columns"]) == released
    assert md["tables"]["adults"]["columns"]["person_id"] == {"sdtype": "id"}
    assert {r["child_table_name"] for r in md["relationships"]} == {"adults", "children"}


def test_column_specs_bounds_are_the_schema_bounds() -> None:
    spec = {s.name: s for s in column_specs("adults")}
    assert (spec["age_at_application"].minimum, spec["age_at_application"].maximum) == (10, 100)
    assert spec["hearings_attended_pct"].maximum == 100
    assert spec["person_id"].kind == "key"
    assert spec["substances"].kind == "categorical"


def _tables() -> dict[str, pd.DataFrame]:
    """Two cases: c1 closed (2 children), c2 open (1 child); every rule holds."""
    cases = pd.DataFrame(
        {
            "case_id": ["c1", "c2"],
            "cohort": ["fdac", "comparison"],
            "court": ["A", "B"],
            "local_authority": ["X", "Y"],
            "application_year": pd.array([2020, 2021], dtype="Int64"),
            "duration_weeks": [40.0, np.nan],
            "n_children": pd.array([2, 1], dtype="Int64"),
            "contested_final_hearing": pd.array([False, None], dtype="boolean"),
            "expert_witness": pd.array([True, None], dtype="boolean"),
        }
    )
    adults = pd.DataFrame(
        {
            "person_id": ["a1", "a2", "a3"],
            "case_id": ["c1", "c1", "c2"],
            "role": ["mother", "father", "mother"],
            "sex": ["F", "M", "F"],
            "age_at_application": pd.array([30, 33, 25], dtype="Int64"),
            "ethnicity": ["White", "White", None],
            "substances": ["alcohol", None, "heroin"],
            "domestic_abuse": pd.array([True, False, None], dtype="boolean"),
            "mental_health": pd.array([False, False, True], dtype="boolean"),
            "prior_proceedings": pd.array([0, 1, 0], dtype="Int64"),
            "convictions": pd.array([0, 2, 1], dtype="Int64"),
            "hearings_attended_pct": [80.0, 50.0, 60.0],
            "ceased_misuse": pd.array([True, False, None], dtype="boolean"),
        }
    )
    children = pd.DataFrame(
        {
            "person_id": ["k1", "k2", "k3"],
            "case_id": ["c1", "c1", "c2"],
            "sex": ["F", "M", "F"],
            "age_at_application": pd.array([0, 18, 2], dtype="Int64"),
            "ethnicity": ["White", "White", None],
            "final_order": ["supervision_order", "special_guardianship_order", None],
            "placement_at_end": ["parent", "kinship", None],
            "reunified": pd.array([True, False, None], dtype="boolean"),
            "returned_to_court_3y": pd.array([False, None, None], dtype="boolean"),
        }
    )
    return {"cases": cases, "adults": adults, "children": children}


def test_clean_tables_have_no_violations() -> None:
    res = rule_violations(_tables())
    assert set(res["rules"]) == set(RULES)
    assert res["n_rows_violating"] == 0
    assert res["row_violation_rate"] == 0.0


def test_each_planted_break_is_found() -> None:
    t = _tables()
    t["adults"].loc[0, "age_at_application"] = 20  # child k2 aged 18: gap 2 < 12
    t["children"].loc[0, "reunified"] = False  # placement parent but not reunified
    t["children"].loc[1, "final_order"] = "placement_order"  # kinship with a placement order
    t["cases"].loc[0, "n_children"] = 3  # two child rows
    t["children"].loc[2, "final_order"] = "care_order"  # an order while the case is open
    t["adults"].loc[1, "sex"] = "F"  # a father recorded F
    t["adults"].loc[2, "hearings_attended_pct"] = 120.0  # above 100
    t["cases"].loc[1, "expert_witness"] = True  # an outcome while open
    res = rule_violations(t)["rules"]
    # child k1 (age 0) stays >= 12 years younger than a mother aged 20; k2 (18) does not
    assert res["child_younger_than_mother"]["n_violations"] == 1
    assert res["reunified_matches_placement"]["n_violations"] == 1
    assert res["order_matches_placement"]["n_violations"] == 1
    assert res["n_children_matches"]["n_violations"] == 1
    assert res["outcome_empty_iff_open"]["n_violations"] == 1
    assert res["parent_sex"]["n_violations"] == 1
    assert res["bounds"]["n_violations"] == 1
    assert res["no_outcome_while_open"]["n_violations"] == 1
    # rows: cases c1, c2; adults a2 (sex), a3 (pct); children k1, k2, k3
    assert rule_violations(t)["n_rows_violating"] == 2 + 2 + 3


def test_enforcement_repairs_every_break() -> None:
    t = _tables()
    t["adults"].loc[0, "age_at_application"] = 20
    t["children"].loc[0, "reunified"] = False
    t["children"].loc[1, "final_order"] = "placement_order"
    t["cases"].loc[0, "n_children"] = 3
    t["children"].loc[2, "final_order"] = "care_order"
    t["adults"].loc[2, "hearings_attended_pct"] = 120.0
    t["children"].loc[2, "case_id"] = "c9"  # orphan
    fixed = enforce_rules(t, learn_conditionals(_tables()), np.random.default_rng(0))
    assert rule_violations(fixed)["n_rows_violating"] == 0
    assert len(fixed["children"]) == 2  # the orphan is dropped
    assert int(fixed["children"].loc[1, "age_at_application"]) == 8  # 20 - 12
    assert fixed["children"].loc[1, "final_order"] in {
        "special_guardianship_order",
        "child_arrangements_order",
        "care_order",
    }
    assert fixed["cases"]["n_children"].tolist() == [2, 0]
