"""Extract specs: validation against the schema, coarsening known answers, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fdac_research._io import read_text_table
from fdac_research.cli import main
from fdac_research.exceptions import ConfigError, ContractError
from fdac_research.governance import (
    EXCLUSIONS_FILE,
    ExtractSpec,
    build_research,
    load_spec,
    shipped_specs,
    write_extract,
)
from fdac_research.governance._extract import _bands, _coarsen
from tests.governance._tiny import write_tiny
from tests.governance.conftest import TEST_KEY


def _spec(tables: dict, external: bool = True) -> ExtractSpec:  # type: ignore[type-arg]
    return ExtractSpec(recipient="r", purpose="p", external=external, tables=tables)


def test_unknown_tables_and_columns_listed_together() -> None:
    with pytest.raises(ConfigError) as err:
        _spec(
            {
                "cases": {"columns": ["case_id", "postcode", "court_name"]},
                "adults": {"columns": ["date_of_birth"]},
                "hearings": {"columns": ["date"]},
            }
        )
    text = str(err.value)
    assert "4 problem(s)" in text
    for bad in ("'postcode'", "'court_name'", "'date_of_birth'", "'hearings'"):
        assert bad in text


@pytest.mark.parametrize(
    ("coarsen", "message"),
    [
        ({"cohort": {"bands": [1, 2]}}, "bands applies to int/float columns"),
        ({"duration_weeks": {"top_code": 3}}, "top_code applies to int columns"),
        ({"court": "region"}, "region applies to local_authority only"),
        ({"n_children": {"bands": [3, 1]}}, "strictly increasing"),
        ({"n_children": {"round_to": 0}}, "positive step"),
        ({"n_children": {"blur": 2}}, "unknown transform"),
        ({"case_id": {"top_code": 2}}, "key columns"),
        ({"expert_witness": "region"}, "not in tables.cases.columns"),
    ],
)
def test_bad_transforms(coarsen: dict, message: str) -> None:  # type: ignore[type-arg]
    cols = ["case_id", "cohort", "court", "duration_weeks", "n_children"]
    with pytest.raises(ConfigError, match=message):
        _spec({"cases": {"columns": cols, "coarsen": coarsen}})


def test_unknown_keys_in_spec_file(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "recipient": "r",
                "purpose": "p",
                "external": True,
                "tables": {"cases": {"columns": ["cohort"]}},
                "colour": "red",
            }
        )
    )
    with pytest.raises(ConfigError, match="colour"):
        load_spec(f)


def test_shipped_specs_load_and_are_minimal() -> None:
    specs = {n: load_spec(n) for n in shipped_specs()}
    assert set(specs) == {"case_statistics", "impact_evaluation"}
    stats = specs["case_statistics"]
    sensitive = {"substances", "mental_health", "convictions", "ethnicity", "domestic_abuse"}
    for table in stats.tables.values():
        assert not sensitive & set(table["columns"])
        assert "person_id" not in table["columns"]
    for spec in specs.values():
        assert spec.external
        assert "court" not in spec.tables["cases"]["columns"]
        assert spec.output_columns("cases")[2] == "region"
        assert ExtractSpec.from_dict(spec.to_dict()) == spec  # round trip


def test_coarsening_known_answers() -> None:
    ages = pd.Series([17, 18, 24, 25, 49, 50, None], dtype="Int64")
    # hand-worked: edges 18,25,30,35,40,50 -> under 18 | 18-24 | 25-29 | ... | 40-49 | 50+
    got = list(_bands(ages, [18, 25, 30, 35, 40, 50], "int"))
    assert got[:-1] == ["under 18", "18-24", "18-24", "25-29", "40-49", "50+"]
    assert pd.isna(got[-1])  # missing stays missing
    kids = pd.Series([0, 1, 4, 5, 16], dtype="Int64")
    assert list(_bands(kids, [1, 5, 10, 16], "int")) == ["under 1", "1-4", "1-4", "5-9", "16+"]
    counts = pd.Series([0, 2, 3, 7, None], dtype="Int64")
    got = list(_coarsen(counts, "top_code", 3, "int", "x"))
    assert got[:-1] == ["0", "2", "3+", "3+"] and pd.isna(got[-1])
    pct = pd.Series([66.7, 64.9, 100.0, None])
    assert list(_coarsen(pct, "round_to", 10, "float", "x")[:3]) == [70.0, 60.0, 100.0]
    # regions of the ONS lookup (refdata/local_authorities.csv), any common spelling
    las = pd.Series(["Camden", "Leeds City Council", "Tower Hamlets", "Caerdydd", None])
    assert list(_coarsen(las, "region", None, "str", "x")[:4]) == [
        "London",
        "Yorkshire and The Humber",
        "London",
        "Wales",
    ]
    # an unknown authority: an error naming every unknown value once...
    odd = pd.Series(["Atlantis", "Leeds", "Atlantis", "Lyonesse"])
    with pytest.raises(ContractError) as err:
        _coarsen(odd, "region", None, "str", "x")
    assert [p.value for p in err.value.problems] == ["Atlantis", "Lyonesse"]
    # ...or the category the spec states, counted
    counts: dict[str, int] = {}
    got = _coarsen(odd, "region", {"unknown": "Unknown region"}, "str", "x", counts)
    assert list(got) == ["Unknown region", "Yorkshire and The Humber"] + ["Unknown region"] * 2
    assert counts == {
        "local_authorities_not_in_reference_table": 2,
        "rows_with_unknown_region": 3,
    }


@pytest.fixture
def research(tmp_path: Path) -> Path:
    src, link = write_tiny(tmp_path)
    build_research(src, link, tmp_path / "research", key=TEST_KEY)
    return tmp_path / "research"


def test_extract_content_and_manifest(research: Path, tmp_path: Path) -> None:
    spec = load_spec("impact_evaluation")
    write_extract(research, spec, tmp_path / "x")
    files = sorted(p.name for p in (tmp_path / "x").iterdir())
    assert files == [
        "adults.csv",
        "cases.csv",
        "children.csv",
        "data_dictionary.csv",
        "linkage_quality.csv",
        "manifest.json",
    ]
    cases = read_text_table(tmp_path / "x" / "cases.csv")
    assert list(cases["region"]) == ["London"]  # FDB2 (Leeds) objected to external sharing
    adults = read_text_table(tmp_path / "x" / "adults.csv")
    assert sorted(adults["age_at_application_band"]) == ["25-29", "35-39"]  # 29 and 35
    assert sorted(adults["hearings_attended_pct"]) == ["70", "70"]  # 66.7 to nearest 10
    research_ids = set(read_text_table(research / "adults.csv")["person_id"])
    assert not research_ids & set(adults["person_id"])  # re-keyed for the recipient
    m = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert m["spec"]["recipient"] == spec.recipient and "data_dictionary.csv" in m["files"]


def test_external_extract_needs_exclusions(research: Path, tmp_path: Path) -> None:
    (research / EXCLUSIONS_FILE).unlink()
    with pytest.raises(ContractError, match="external_exclusions"):
        write_extract(research, load_spec("case_statistics"), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_cli_extract_unknown_column(
    research: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "recipient": "r",
                "purpose": "p",
                "external": True,
                "tables": {"adults": {"columns": ["person_id", "postcode"]}},
            }
        )
    )
    assert main(["extract", str(research), "--spec", str(f), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown column 'postcode'" in err and "adults" in err
    assert not (tmp_path / "x").exists()
