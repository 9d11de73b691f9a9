"""A table with a small cell never reaches reports/ unsuppressed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fdac_research.exceptions import ConfigError, DisclosureError
from fdac_research.reports import publish_estimates, publish_table
from fdac_research.reports.publish import suppressed_rows
from tests.risk._examples import three_way


def _table() -> pd.DataFrame:
    # hand-made counts: cell (b, fdac) = 3 is under the threshold of 10
    return pd.DataFrame(
        {"fdac": [120, 3, 40], "comparison": [200, 25, 30]},
        index=pd.Index(["a", "b", "c"], name="court"),
    )


def test_small_cell_is_suppressed_before_it_is_written(tmp_path: Path) -> None:
    published = publish_table(_table(), "by_court", tmp_path)
    text = (tmp_path / "by_court.csv").read_text()
    assert published.loc["b", "fdac"] == "[c]"
    # the small count appears nowhere, and neither can it be recovered: the fdac column
    # total and its other suppressed cell are not both published with the rest
    body = pd.read_csv(tmp_path / "by_court.csv", index_col=0, dtype=str)
    assert "3" not in set(body.to_numpy().ravel())
    assert body.loc["b", "fdac"] == "[c]"
    visible = [v for v in body["fdac"].tolist() if v != "[c]"]
    assert (body["fdac"] == "[c]").sum() >= 2, (
        "a lone suppressed cell could be recovered from its total"
    )
    # every published count is a multiple of 5
    assert all(int(v) % 5 == 0 for v in visible)
    assert "[c]" in text


def test_without_suppression_the_build_fails_naming_the_cell(tmp_path: Path) -> None:
    with pytest.raises(DisclosureError, match=r"by_court.*\(b, fdac\).*threshold"):
        publish_table(_table(), "by_court", tmp_path, allow_suppression=False)
    assert not (tmp_path / "by_court.csv").exists()


def test_estimates_need_enough_people(tmp_path: Path) -> None:
    est = pd.DataFrame({"estimate": [0.12, 0.3], "n": [240, 7]}, index=["reunified", "tiny group"])
    with pytest.raises(DisclosureError, match="tiny group.*7 people"):
        publish_estimates(est, "effects", tmp_path)
    assert not (tmp_path / "effects.csv").exists()
    ok = publish_estimates(est.iloc[:1], "effects", tmp_path)
    assert ok["n"].iloc[0] == 240 and (tmp_path / "effects.csv").is_file()


def test_bad_names_and_folders(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lower-case"):
        publish_table(_table(), "../escape", tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        publish_table(_table(), "t", tmp_path / "nope")


def _arm(events: int, people: int = 50) -> pd.DataFrame:
    # one estimate from an FDAC arm of `people` children of whom `events` were reunified,
    # against a comparison arm of 60 with 20 events (safe on its own)
    return pd.DataFrame(
        {
            "method": ["naive"],
            "p_treated": [events / people],
            "odds_ratio": [1.9],
            "n_treated": [people],
            "n_untreated": [60],
            "events_treated": [events],
            "events_untreated": [20],
        },
        index=pd.Index(["naive (association)"], name="estimate"),
    )


_ARMS = {
    "n_columns": ("n_treated", "n_untreated"),
    "events": (("events_treated", "n_treated"), ("events_untreated", "n_untreated")),
}


def test_estimates_need_enough_events_and_non_events_per_arm(tmp_path: Path) -> None:
    # Hand-worked (threshold 10, the ONS-style rule): 50 people and 3 events leave a cell
    # of 3 reunified children -> refused; 45 events leave 50 - 45 = 5 not reunified ->
    # refused; 12 events (38 non-events) and 40 events (10 non-events) pass.
    with pytest.raises(DisclosureError, match=r"3 events in column 'events_treated'"):
        publish_estimates(_arm(3), "effects", tmp_path, **_ARMS)
    with pytest.raises(DisclosureError, match=r"5 non-events"):
        publish_estimates(_arm(45), "effects", tmp_path, **_ARMS)
    assert not (tmp_path / "effects.csv").exists()
    for ok in (12, 40):
        out = publish_estimates(_arm(ok), f"effects_{ok}", tmp_path, **_ARMS)
        assert out.loc["naive (association)", "odds_ratio"] == 1.9
    # counts are published rounded to base 5, like the people columns
    assert out.loc["naive (association)", "events_treated"] == 40
    assert publish_estimates(_arm(12), "e12", tmp_path, **_ARMS)["events_treated"].iloc[0] == 10
    # an arm of 9 fails on people before events are looked at
    with pytest.raises(DisclosureError, match="9 people"):
        publish_estimates(_arm(0, people=9), "tiny", tmp_path, **_ARMS)


def test_small_event_rows_are_suppressed_and_not_recorded(tmp_path: Path) -> None:
    table = pd.concat([_arm(3), _arm(12).rename(index=lambda _: "ipw (ATE)")])
    out = publish_estimates(
        table, "effects", tmp_path, allow_suppression=True, label_columns=["method"], **_ARMS
    )
    bad, good = out.loc["naive (association)"], out.loc["ipw (ATE)"]
    assert bad["method"] == "naive" and (bad.drop("method") == "[c]").all()
    assert good["p_treated"] == 0.24 and good["events_treated"] == 10
    body = pd.read_csv(tmp_path / "effects.csv", index_col=0, dtype=str)
    assert body.loc["naive (association)", "p_treated"] == "[c]"
    assert "0.06" not in (tmp_path / "effects.csv").read_text()
    record = json.loads((tmp_path / "effects.check.json").read_text())
    assert record["n_primary"] == 1 and record["suppressed_rows"] == ["naive (association)"]
    # the published record says why in general terms, never which arm or the small value
    assert "events" in record["suppression_reason"]
    assert "treated" not in json.dumps(record) and " 3 " not in json.dumps(record)
    assert suppressed_rows(out).tolist() == [True, False]


def test_estimate_threshold_and_rounding_come_from_the_rules(tmp_path: Path) -> None:
    # tre_10_zeros: threshold 10, no rounding; a custom rule set with threshold 3 passes 3 events
    out = publish_estimates(_arm(12), "tre", tmp_path, rules="tre_10_zeros", **_ARMS)
    assert out["events_treated"].iloc[0] == 12 and out["n_treated"].iloc[0] == 50
    relaxed = publish_estimates(_arm(3), "relaxed", tmp_path, rules={"threshold": 3}, **_ARMS)
    assert relaxed["events_treated"].iloc[0] == 3
    with pytest.raises(DisclosureError):
        publish_estimates(_arm(3), "strict", tmp_path, threshold=4, rules={"threshold": 3}, **_ARMS)


def test_estimates_bad_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"events column\(s\) \['events_x'\]"):
        publish_estimates(_arm(12), "e", tmp_path, events=[("events_x", "n_treated")])
    with pytest.raises(ConfigError, match="not a count between 0"):
        publish_estimates(_arm(12, people=10), "e", tmp_path, **_ARMS)


def test_only_the_returned_table_counts_as_checked(tmp_path: Path) -> None:
    from fdac_research.reports._guard import is_checked

    published = publish_table(_table(), "by_court", tmp_path)
    assert is_checked(published) and is_checked(published.style)
    # a copy or a derived table is a different table: it has not been checked as shown
    assert not is_checked(published.copy()) and not is_checked(published.iloc[:1])
    assert not is_checked(_table())


def test_linked_tables_in_one_folder_are_protected_together(tmp_path: Path) -> None:
    from fdac_research.reports.publish import TableLink, linked_tables
    from fdac_research.risk.linked import audit_linked

    t3 = three_way()
    link3 = TableLink(unit="children", rows=("sex", "age"), columns=("outcome",))
    link2 = TableLink(unit="children", rows=("sex",), columns=("outcome",))
    publish_table(t3, "three_way", tmp_path, rules="tre_10_zeros", link=link3)
    body = pd.read_csv(tmp_path / "three_way.csv", index_col=[0, 1], dtype=str)
    assert body.loc[("F", "45+"), "reunified"] == "[c]"  # one CSV column per row variable
    sub = publish_table(
        t3.groupby(level="sex").sum(), "sub_table", tmp_path, rules="tre_10_zeros", link=link2
    )
    # alone the sub-table passes; published after the 3-way table it must not pin its cells
    assert (sub.iloc[:2, :2] == "[c]").all().all()
    record = json.loads((tmp_path / "sub_table.check.json").read_text())
    assert record["linked_with"] == ["three_way"] and record["linked"]["link"]["unit"] == "children"
    tables = linked_tables(tmp_path, "children")
    assert [t.name for t in tables] == ["sub_table", "three_way"]
    assert audit_linked(tables, integer=True).protected
    # a table of another population is not drawn in
    publish_table(
        _table(), "by_court", tmp_path, link=TableLink(unit="cases", rows="court", columns="cohort")
    )
    assert [t.name for t in linked_tables(tmp_path, "children")] == ["sub_table", "three_way"]


def test_output_record_is_what_acro_writes_and_reads(tmp_path: Path) -> None:
    from acro.record import load_records

    from fdac_research.reports._record import RESULTS_FILE
    from fdac_research.reports.publish import TableLink, publish_summary

    publish_table(
        _table(), "by_court", tmp_path, link=TableLink(unit="cases", rows="court", columns="cohort")
    )
    publish_table(_table(), "unlinked", tmp_path)
    publish_estimates(_arm(12), "effects", tmp_path, **_ARMS)
    publish_summary(
        pd.DataFrame({"measure": ["risk"], "value": [0.5]}), "risk", tmp_path, reason="whole table"
    )
    data = json.loads((tmp_path / RESULTS_FILE).read_text())
    res = data["results"]
    assert sorted(res) == ["by_court", "effects", "risk", "unlinked"]
    assert res["by_court"]["status"] == "review"  # cells were suppressed
    summary = res["by_court"]["files"][0]["sdc"]["summary"]
    assert summary["MinimumThresholdCheck"] == 1 and summary["SecondarySuppression"] >= 1
    # which suppressed cell was primary is not published; the [c] positions are
    assert res["by_court"]["outcome"]["fdac"]["b"] == "suppressed; "
    assert res["unlinked"]["files"][0]["sdc"]["summary"]["PresenceOfLinkedTableCheck"] == 1
    assert res["effects"]["status"] == "pass"
    assert res["risk"]["status"] == "review" and res["risk"]["exception"] == "whole table"
    # ACRO 1.0.2 loads the record (the format SACRO's viewer reads), with the table CSVs
    loaded = load_records(str(tmp_path))
    assert sorted(loaded.get_keys()) == sorted(res)
    assert loaded.get("by_court").status == "review"
    assert loaded.get("by_court").output[0].shape[0] == 4  # a, b, c and Total


def test_a_table_with_columns_of_two_variables_is_read_back(tmp_path: Path) -> None:
    from fdac_research.reports.publish import TableLink, linked_tables
    from fdac_research.risk.linked import audit_linked

    t3 = three_way()
    by_age = t3.stack().unstack(level="age").T  # rows: age; columns: (sex, outcome)
    link = TableLink(unit="children", rows=("age",), columns=("sex", "outcome"))
    publish_table(by_age, "by_age", tmp_path, rules="tre_10_zeros", link=link)
    sub = TableLink(unit="children", rows=("sex",), columns=("outcome",))
    publish_table(t3.groupby(level="sex").sum(), "sub", tmp_path, rules="tre_10_zeros", link=sub)
    tables = linked_tables(tmp_path, "children")
    assert [t.link.columns for t in tables] == [("sex", "outcome"), ("outcome",)]
    assert audit_linked(tables, integer=True).protected
