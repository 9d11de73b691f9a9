"""The contract declared in code matches docs/data-contract.md (column lists copied from it)."""

from __future__ import annotations

import pytest

from fdac_research import schema

# Required columns as listed in docs/data-contract.md §1 and §2 (version 1).
CONTRACT = {
    "court_cases": "case_ref cohort court local_authority application_date final_hearing_date contested_final_hearing expert_witness",
    "court_people": "case_ref person_ref role given_name family_name date_of_birth sex postcode ethnicity",
    "court_outcomes": "person_ref ceased_misuse final_order placement_at_end returned_to_court_3y",
    "hearings": "case_ref date kind parent_attended",
    "opt_outs": "person_ref case_ref received_date scope",
    "cases": "case_id cohort court local_authority application_year duration_weeks n_children contested_final_hearing expert_witness",
    "adults": "person_id case_id role sex age_at_application ethnicity substances domestic_abuse mental_health prior_proceedings convictions hearings_attended_pct ceased_misuse",
    "children": "person_id case_id sex age_at_application ethnicity final_order placement_at_end reunified returned_to_court_3y",
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_tables_match_contract(name: str) -> None:
    layout = (
        schema.SOURCES
        if name in {"court_cases", "court_people", "court_outcomes", "hearings", "opt_outs"}
        else schema.RESEARCH
    )
    assert layout.table(name).required_names == CONTRACT[name].split()


def test_identifiers_never_in_research_layout() -> None:
    for t in schema.RESEARCH.tables:
        assert not t.with_role("direct_identifier"), t.name
        assert not t.with_role("reference"), t.name


def test_roles_declared_for_reviewers() -> None:
    qi = schema.RESEARCH.table("children").with_role("quasi_identifier")
    assert {"sex", "age_at_application", "ethnicity"} <= set(qi)
    assert "substances" in schema.RESEARCH.table("adults").with_role("sensitive")
    assert schema.RESEARCH.table("cases").with_role("treatment") == ["cohort"]
    with pytest.raises(ValueError, match="unknown role"):
        schema.RESEARCH.table("cases").with_role("secret")


def test_agency_tables() -> None:
    police = schema.agency_table("police")
    assert {"record_id", "given_name", "convictions", "cautions"} <= set(police.names)
    assert schema.agency_table("probation").names[:6] == [
        "record_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "postcode",
    ]
    with pytest.raises(ValueError):
        schema.agency_table("../etc")


def test_describe_lists_every_column() -> None:
    d = schema.describe(schema.RESEARCH)
    assert len(d) == sum(len(t.columns) for t in schema.RESEARCH.tables)
    assert set(d.columns) >= {"table", "column", "roles", "description"}
