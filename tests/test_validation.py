"""The contract validator: every problem reported at once, each naming file, column, line, value."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fdac_research.cli import main
from fdac_research.dataset import load_sources
from fdac_research.exceptions import ContractError
from fdac_research.validation import check_folder, detect_layout, validate_folder


@pytest.fixture
def broken(small_world: Path, tmp_path: Path) -> Path:
    d = tmp_path / "broken"
    shutil.copytree(small_world, d)
    return d


def _edit(path: Path, fn) -> None:  # type: ignore[no-untyped-def]
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def test_small_world_is_valid(small_world: Path) -> None:
    report = validate_folder(small_world)
    assert report.layout == "sources"
    assert report.ok, report.summary()
    assert report.n_rows["court_cases.csv"] == 300


def test_broken_copy_lists_every_problem(broken: Path) -> None:
    _edit(broken / "court_people.csv", lambda d: d.drop(columns=["role"]))
    bad_case = {}

    def bad_date(d: pd.DataFrame) -> pd.DataFrame:
        bad_case["value"] = "2019-13-45"
        d.loc[4, "application_date"] = "2019-13-45"
        return d

    _edit(broken / "court_cases.csv", bad_date)
    _edit(
        broken / "hearings.csv",
        lambda d: d.assign(case_ref=d["case_ref"].where(d.index != 2, "FD_NOT_A_CASE")),
    )
    _edit(
        broken / "agencies" / "police.csv",
        lambda d: d.assign(record_id=d["record_id"].where(d.index != 9, d["record_id"].iloc[0])),
    )
    _edit(
        broken / "court_cases.csv",
        lambda d: d.assign(cohort=d["cohort"].where(d.index != 7, "FDAC!")),
    )

    report = validate_folder(broken)
    text = report.summary()
    assert not report.ok
    # 1. missing column: names the file and the column
    assert any(p.file == "court_people.csv" and p.column == "role" for p in report.problems), text
    # 2. bad date: file, column, line (row index 4 -> line 6) and the value
    p = next(p for p in report.problems if p.column == "application_date")
    assert (p.file, p.line, p.value) == ("court_cases.csv", 6, "2019-13-45")
    # 3. orphan foreign key
    p = next(p for p in report.problems if p.file == "hearings.csv" and p.column == "case_ref")
    assert p.value == "FD_NOT_A_CASE" and "orphan" in p.expected
    # 4. duplicate primary key
    p = next(p for p in report.problems if p.file == "agencies/police.csv")
    assert p.column == "record_id" and "duplicate" in p.expected and p.line == 11
    # 5. bad category value, with the allowed values
    p = next(p for p in report.problems if p.column == "cohort")
    assert p.value == "FDAC!" and "fdac, comparison" in p.expected
    with pytest.raises(ContractError) as err:
        check_folder(broken)
    assert "court_people.csv, column 'role'" in str(err.value)
    with pytest.raises(ContractError):
        load_sources(broken)


def test_missing_file_and_empty_file(broken: Path) -> None:
    (broken / "hearings.csv").unlink()
    (broken / "agencies" / "health.csv").write_text(
        "record_id,given_name,family_name,date_of_birth,sex,postcode,mental_health\n"
    )
    problems = validate_folder(broken).problems
    assert any(p.file == "hearings.csv.csv" or p.file.startswith("hearings") for p in problems)
    assert any(p.file == "agencies/health.csv" and "empty" in p.expected for p in problems)


def test_cli_validate_exit_codes(
    small_world: Path, broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(small_world)]) == 0
    assert "valid sources folder" in capsys.readouterr().out
    _edit(
        broken / "court_outcomes.csv",
        lambda d: d.assign(person_ref=d["person_ref"].where(d.index != 0, "NOBODY")),
    )
    assert main(["validate", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "court_outcomes.csv, column 'person_ref', line 2" in err and "NOBODY" in err


def test_detect_layout_errors_on_unknown_folder(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="court_cases.csv"):
        detect_layout(tmp_path)


def test_parquet_reads_like_csv(small_world: Path, tmp_path: Path) -> None:
    d = tmp_path / "pq"
    shutil.copytree(small_world, d)
    df = pd.read_csv(d / "court_cases.csv", dtype=str, keep_default_na=False)
    (d / "court_cases.csv").unlink()
    typed = df.assign(application_date=pd.to_datetime(df["application_date"]))
    typed.to_parquet(d / "court_cases.parquet")
    assert validate_folder(d).ok


def test_an_empty_opt_out_register_is_valid(tmp_path: Path) -> None:
    """No objections is a legitimate state; an empty agency extract is not."""
    from fdac_research.world import generate_world

    generate_world(tmp_path / "w", n_families=20, seed=1, opt_out_rate=0.0)
    assert (
        tmp_path / "w" / "opt_outs.csv"
    ).read_text().strip() == "person_ref,case_ref,received_date,scope"
    assert validate_folder(tmp_path / "w").ok
    sources = load_sources(tmp_path / "w")
    assert len(sources.opt_outs) == 0


def test_repeated_bad_value_gives_first_line_and_count() -> None:
    """Checks run once per distinct value: the first offending line and the count of rows
    must still be exact (rows 2 and 5 hold the same bad date; row 4 a padded good one, which
    the reading rules strip before any check)."""
    from fdac_research import schema
    from fdac_research.reading import normalise
    from fdac_research.validation import validate_frame

    table = schema.SOURCES.table("court_cases")
    good = {
        "case_ref": "C",
        "cohort": "fdac",
        "court": "X",
        "local_authority": "Y",
        "application_date": "2020-01-31",
        "final_hearing_date": "",
        "contested_final_hearing": "",
        "expert_witness": "",
    }
    rows = [dict(good, case_ref=f"C{i}") for i in range(6)]
    rows[2]["application_date"] = rows[5]["application_date"] = "2020-02-30"
    rows[4]["application_date"] = " 2020-01-31 "
    text, _ = normalise(pd.DataFrame(rows), table, "court_cases.csv")
    problems = validate_frame(text, table, "court_cases.csv")
    assert [(p.column, p.line, p.value, p.count) for p in problems] == [
        ("application_date", 4, "2020-02-30", 2)  # row index 2 -> line 4 (header is line 1)
    ]


def test_research_side_files_are_validated_as_the_stages_read_them(
    small_research: Path, tmp_path: Path
) -> None:
    """A manifest the stages cannot read, and an external-sharing list without its key
    column, are refused by validate (not first by the stage that reads them)."""
    from fdac_research.dataset import load_research

    cases = [
        ("manifest.json", '{"contract_version": "1", ', "a readable JSON manifest"),
        ("manifest.json", '["a list"]', "a JSON object (got a JSON list or value)"),
        ("_governance/external_exclusions.csv", "case\nabc\n", "required column 'case_id'"),
    ]
    for i, (name, text, expected) in enumerate(cases):
        folder = tmp_path / f"r{i}"
        shutil.copytree(small_research, folder)
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        report = validate_folder(folder)
        assert [(p.file, p.expected) for p in report.problems] == [(name, expected)]
        with pytest.raises(ContractError, match=re.escape(expected)):
            load_research(folder)
