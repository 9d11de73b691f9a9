"""People across cases in the research build: one individual_id per person, families of
linked cases, and the recurrence outcome derived from the linked court records (checked
against the world's truth) or taken as supplied."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdac_research._io import read_text_table
from fdac_research.exceptions import ConfigError
from fdac_research.governance import BuildConfig, build_research
from fdac_research.governance import _recurrence as recurrence_module
from fdac_research.governance._recurrence import derive_recurrence
from fdac_research.world import generate_world, truth_crosswalk
from tests.governance.conftest import TEST_KEY
from tests.governance.test_optouts import _hmac


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("recur")
    generate_world(root / "sources", n_families=600, seed=5, opt_out_rate=0.0)
    truth_crosswalk(root / "sources", root / "link")
    return root / "sources", root / "link"


@pytest.fixture(scope="module")
def built(world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    src, link = world
    out = tmp_path_factory.mktemp("recur_research") / "research"
    build_research(src, link, out, key=TEST_KEY)
    return out


def test_doctests() -> None:
    result = doctest.testmod(recurrence_module)
    assert result.failed == 0 and result.attempted > 0


def test_one_individual_id_and_one_family_across_cases(
    world: tuple[Path, Path], built: Path
) -> None:
    src, _ = world
    people = read_text_table(src / "court_people.csv")
    truth = read_text_table(src / "truth" / "people.csv").set_index("person_ref")
    rec = read_text_table(src / "truth" / "recurrence.csv")
    adults = read_text_table(built / "adults.csv").set_index("person_id")
    cases = read_text_table(built / "cases.csv").set_index("case_id")
    mothers = people[people["role"] == "mother"].set_index("case_ref")["person_ref"]
    pairs = rec[rec["later_case_ref"] != ""]
    assert len(pairs) > 20
    for a, b in zip(pairs["case_ref"], pairs["later_case_ref"], strict=True):
        ma, mb = mothers[a], mothers[b]
        assert truth.loc[ma, "true_person_id"] == truth.loc[mb, "true_person_id"]
        # two person_id (one per case), one individual_id: the keyed pseudonym of the person
        ia, ib = adults.loc[_hmac("person", ma)], adults.loc[_hmac("person", mb)]
        assert ia["individual_id"] == ib["individual_id"]
        assert ia["individual_id"] == _hmac("individual", truth.loc[ma, "true_person_id"])
        # and the two cases are one family
        fa = cases.loc[_hmac("case", a), "family_id"]
        assert fa == cases.loc[_hmac("case", b), "family_id"] != ""
    # people in one case only have an individual_id of their own
    assert adults["individual_id"].nunique() < len(adults)
    assert cases["family_id"].nunique() < len(cases)


def test_recurrence_is_derived_from_the_linked_court_records(
    world: tuple[Path, Path], built: Path
) -> None:
    """Oracle: the world's truth/recurrence.csv (the mother's later case and the gap), and
    follow-up to the latest application date, recomputed here from court_cases.csv."""
    src, _ = world
    m = json.loads((built / "manifest.json").read_text())
    assert m["recurrence"]["returned_to_court_3y"] == "derived from the linked court records"
    court = read_text_table(src / "court_cases.csv").set_index("case_ref")
    rec = read_text_table(src / "truth" / "recurrence.csv").set_index("case_ref")
    cases = read_text_table(built / "cases.csv").set_index("case_id")
    end = pd.Timestamp(court["application_date"].max())
    assert m["recurrence"]["follow_up_end_year"] == end.year
    got = cases.loc[[_hmac("case", c) for c in court.index]]
    got.index = court.index
    closed = court["final_hearing_date"] != ""
    follow = (end - pd.to_datetime(court.loc[closed, "final_hearing_date"])).dt.days / 365.25
    assert np.allclose(
        got.loc[closed, "follow_up_years"].astype(float), follow.clip(lower=0), atol=0.006
    )
    placed = rec["later_case_ref"] != ""
    years = got["years_to_later_case"].replace("", np.nan).astype(float)
    assert np.allclose(
        years[placed], rec.loc[placed, "years_to_later_case"].astype(float), atol=0.006
    )
    assert years[~placed].isna().all()
    # each child's outcome: true within three years, false after three years without one
    people = read_text_table(src / "court_people.csv")
    kids = people[people["role"] == "child"]
    children = read_text_table(built / "children.csv").set_index("person_id")
    r3 = children.loc[[_hmac("person", p) for p in kids["person_ref"]], "returned_to_court_3y"]
    y = kids["case_ref"].map(years).to_numpy()
    f = kids["case_ref"].map(follow).to_numpy()  # unrounded (the column has 2 decimals)
    expected = np.where(y <= 3, "true", np.where(f >= 3, "false", ""))
    bad = r3.to_numpy() != expected
    assert not bad.any(), (r3[bad].tolist()[:5], y[bad][:5], f[bad][:5])
    assert {"true", "false", ""} <= set(r3)


def test_supplied_values_are_used_and_said_so(tmp_path: Path) -> None:
    generate_world(tmp_path / "s", n_families=200, seed=6, supply_recurrence=True, opt_out_rate=0.0)
    truth_crosswalk(tmp_path / "s", tmp_path / "l")
    build_research(tmp_path / "s", tmp_path / "l", tmp_path / "r", key=TEST_KEY)
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert m["recurrence"]["returned_to_court_3y"] == "supplied (court_outcomes.csv)"
    out = read_text_table(tmp_path / "s" / "court_outcomes.csv").set_index("person_ref")
    kids = read_text_table(tmp_path / "s" / "court_people.csv")
    kids = kids[kids["role"] == "child"]
    children = read_text_table(tmp_path / "r" / "children.csv").set_index("person_id")
    got = children.loc[[_hmac("person", p) for p in kids["person_ref"]], "returned_to_court_3y"]
    assert (got.to_numpy() == out.loc[kids["person_ref"], "returned_to_court_3y"].to_numpy()).all()
    # asked to derive, the build derives
    build_research(
        tmp_path / "s",
        tmp_path / "l",
        tmp_path / "d",
        key=TEST_KEY,
        config=BuildConfig(recurrence="derived"),
    )
    m = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert m["recurrence"]["returned_to_court_3y"] == "derived from the linked court records"


def test_bad_options_are_named() -> None:
    with pytest.raises(ConfigError) as err:
        BuildConfig(recurrence="guess", follow_up_end="31/12/2024")
    assert "recurrence" in str(err.value) and "follow_up_end" in str(err.value)


def test_a_removed_later_case_makes_the_outcome_unknown() -> None:
    """Hand-worked: A's mother is named again in B (issued 200 days after A's final
    hearing); B is removed by an objection, so A's return is unknown, not false."""
    cases = pd.DataFrame(
        {
            "case_ref": ["A", "B", "C"],
            "application_date": pd.to_datetime(["2015-01-01", "2016-07-19", "2021-01-01"]),
            "final_hearing_date": pd.to_datetime(["2016-01-01", None, None]),
        }
    )
    people = pd.DataFrame({"case_ref": ["A", "B", "C"], "person_key": ["m", "m", "z"]})
    both = derive_recurrence(cases, people, np.array(["A", "B", "C"])).table
    assert bool(both.loc["A", "returned_3y"])
    assert round(float(both.loc["A", "years_to_later_case"]), 4) == round(200 / 365.25, 4)
    gone = derive_recurrence(cases, people, np.array(["A", "C"]))
    assert gone.table.loc["A", "returned_3y"] is pd.NA
    assert np.isnan(gone.table.loc["A", "years_to_later_case"])
    assert gone.counts["later_case_removed_by_objection"] == 1
