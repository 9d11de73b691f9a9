"""What a research dataset lacks, in words: the lead sentence only above a list."""

from __future__ import annotations

import dataclasses

from fdac_research import schema
from fdac_research.reports.data_notes import data_notes, missing_items
from tests.synth._fake import fake_research

LEAD = "What the adjusted estimates could not use:"


def test_nothing_missing_is_one_sentence_without_the_lead() -> None:
    research = fake_research(30, seed=1)
    assert missing_items(research) == []
    text = data_notes(research, lead=LEAD)
    assert LEAD not in text and text.startswith("Every attribute the reports use was supplied")


def test_a_column_missing_for_everyone_is_listed_under_the_lead() -> None:
    research = fake_research(30, seed=1)
    nullable = [c.name for c in schema.RESEARCH.table("adults").columns if c.nullable]
    column = next(c for c in nullable if c in research.adults)
    adults = research.adults.copy()
    adults[column] = None
    lacking = dataclasses.replace(research, adults=adults)
    text = data_notes(lacking, lead=LEAD)
    assert text.splitlines()[0] == LEAD
    assert f"* `adults.{column}`: not recorded for anyone in these data." in text
    # without a lead: the list alone
    assert data_notes(lacking).startswith("* ")
