"""The reading layer: the rules, and a property test that ``validate`` and the stages agree.

For every declared column of both layouts, random cells (valid values with noise, and
arbitrary junk) go through the one reader: whenever the validator accepts a cell, typing it
as the stages do must succeed and give exactly the value typing the clean cell gives; when it
rejects one, the problem names the file, the column, the line and the value.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fdac_research import schema
from fdac_research.dataset import load_sources, to_typed
from fdac_research.exceptions import ContractError
from fdac_research.reading import normalise, normalise_postcode, read_table
from fdac_research.validation import validate_folder, validate_frame

_NOISE = (" ", "\t", "\u00a0", "  ", "\u2003")


def _valid_examples(col: schema.Column) -> list[str]:
    """Clean valid cells of a column (its contract spelling)."""
    if col.allowed and col.kind == "category":
        return list(col.allowed)
    if col.kind == "list":
        items = list(col.allowed or ("alcohol", "opiates", "Cocaine powder"))
        return [items[0], ";".join(items[:2])]
    if col.kind == "bool":
        return ["true", "false"]
    if col.kind == "date":
        return ["2020-02-29", "1999-12-31"]
    if col.kind == "int":
        lo = int(col.minimum or 0)
        hi = int(col.maximum) if col.maximum is not None else lo + 40
        return [str(lo), str(hi), str((lo + hi) // 2)]
    if col.kind == "float":
        lo = col.minimum or 0.0
        hi = col.maximum if col.maximum is not None else 50.0
        return [f"{lo:g}", f"{(lo + hi) / 2:g}", f"{hi:g}"]
    if col.name == "postcode":
        return ["SW1A 1AA", "LS1 4AP", "M1 1AE"]
    return ["FD123", "Leeds Family Court", "Zoë O'Brien-Ó Briain"]


def _noisy(rng: np.random.Generator, value: str, col: schema.Column) -> str:
    """``value`` as someone else might write it: surrounding whitespace, case of closed
    vocabularies, spacing of lists and postcodes."""
    v = value
    if col.kind in ("bool", "category") and col.allowed or col.kind == "bool":
        v = [v.upper(), v.lower(), v.title(), v][int(rng.integers(4))]
    if col.kind == "list":
        v = (" ; " if rng.random() < 0.5 else ";  ").join(v.split(";"))
        if col.allowed:
            v = v.upper() if rng.random() < 0.5 else v
    if col.name == "postcode":
        v = [v.lower(), v.replace(" ", ""), v.replace(" ", "   "), v][int(rng.integers(4))]
    pre = _NOISE[int(rng.integers(len(_NOISE)))] if rng.random() < 0.7 else ""
    post = _NOISE[int(rng.integers(len(_NOISE)))] if rng.random() < 0.7 else ""
    return pre + v + post


_JUNK = (
    "n/a",
    "-",
    "?",
    "NULL",
    "nan",
    "inf",
    "1e999",
    "2024-02-30",
    "14/04/2024",
    "2024-4-1",
    "1600-01-01",
    "3.5",
    "+-3",
    "yes",
    "TRUE!",
    "١٢",  # Arabic-Indic digits
    "2024\u201304\u201301",  # en dashes
    "-1",
    "101",
    "fdac;comparison",
    "=HYPERLINK(1)",
    "SW1A 1AA",
    "sw1a",
)


def _tables() -> list[tuple[schema.Table, schema.Column]]:
    tables = list(schema.SOURCES.tables) + list(schema.RESEARCH.tables)
    return [(t, c) for t in tables for c in t.columns]


@pytest.mark.parametrize(
    ("table", "col"), _tables(), ids=[f"{t.name}.{c.name}" for t, c in _tables()]
)
def test_validate_and_stages_agree_on_every_column(table: schema.Table, col: schema.Column) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{table.name}.{col.name}".encode()))
    clean = _valid_examples(col)
    n = 30
    cells = [_noisy(rng, clean[i % len(clean)], col) for i in range(n)] + list(_JUNK)
    reference = to_typed(pd.DataFrame({col.name: clean}), table)[col.name]
    for i, cell in enumerate(cells):
        # one cell at a time, exactly as validate reads it and as a stage reads it
        text, _notes = normalise(pd.DataFrame({col.name: [cell]}), table, "t.csv")
        problems = [
            p
            for p in validate_frame(text, table, "t.csv")
            if p.column == col.name and "required column" not in p.expected
        ]
        for p in problems:  # a rejection names file, column, line and value
            assert (p.file, p.line, p.value) == ("t.csv", 2, text[col.name].iloc[0])
        if problems:
            assert i >= n, f"noisy valid cell {cell!r} rejected: {problems[0]}"
            continue
        typed = to_typed(text, table)[col.name].iloc[0]  # never raises on an accepted cell
        if i < n:  # a noisy valid cell types exactly like its clean spelling
            want = reference.iloc[i % len(clean)]
            assert (pd.isna(typed) and pd.isna(want)) or typed == want, (cell, typed, want)
        elif isinstance(typed, float):
            assert math.isfinite(typed) or math.isnan(typed)


def test_postcode_rules() -> None:
    assert normalise_postcode("sw1a1aa") == "SW1A 1AA"
    assert normalise_postcode(" ls1   4ap ") == "LS1 4AP"
    assert normalise_postcode("NFA") == normalise_postcode("ZZZZZ") == ""
    table = schema.agency_table("police")
    raw = pd.DataFrame({"record_id": ["a", "b", "c"], "postcode": ["n1 9gu", "NFA", ""]})
    text, notes = normalise(raw, table, "agencies/police.csv")
    assert list(text["postcode"]) == ["N1 9GU", "", ""]
    # a postcode that is not one is read as missing and reported (line 3, the value), not an error
    assert [(n.column, n.line, n.value, n.count) for n in notes] == [("postcode", 3, "NFA", 1)]


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def test_headers_bom_crlf_and_duplicates(tmp_path: Path) -> None:
    table = schema.SOURCES.table("hearings")
    _write(
        tmp_path,
        "h.csv",
        "\ufeff case_ref ,date,kind,parent_attended\r\nFD1, 2024-04-14 ,Final_Hearing, TRUE\r\n",
    )
    rt = read_table(tmp_path / "h.csv", table)
    assert list(rt.text.columns) == ["case_ref", "date", "kind", "parent_attended"]
    assert rt.text.iloc[0].tolist() == ["FD1", "2024-04-14", "final_hearing", "true"]
    _write(tmp_path, "d.csv", "case_ref,date,date,kind\nFD1,2024-01-01,2024-01-02,x\n")
    with pytest.raises(ContractError) as err:
        read_table(tmp_path / "d.csv", table)
    (p,) = err.value.problems
    assert (p.file, p.column, p.line) == ("d.csv", "date", 1) and "repeated" in p.expected
    _write(tmp_path, "e.csv", "case_ref,,kind\nFD1,x,y\n")
    with pytest.raises(ContractError, match="header cell 2"):
        read_table(tmp_path / "e.csv", table)


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    """Typed Parquet (dates, nullable booleans and counts) reads as the CSV text form."""
    table = schema.SOURCES.table("hearings")
    pq.write_table(
        pa.table(
            {
                "case_ref": pa.array(["FD1", " FD2"]),
                "date": pa.array([pd.Timestamp("2024-04-14").date(), None], pa.date32()),
                "kind": pa.array(["FINAL_HEARING", "fdac_review"]),
                "parent_attended": pa.array([True, None], pa.bool_()),
            }
        ),
        tmp_path / "h.parquet",
    )
    rt = read_table(tmp_path / "h.parquet", table)
    assert rt.text.to_dict("list") == {
        "case_ref": ["FD1", "FD2"],
        "date": ["2024-04-14", ""],
        "kind": ["final_hearing", "fdac_review"],
        "parent_attended": ["true", ""],
    }


def test_whitespace_is_the_same_everywhere(small_world: Path, tmp_path: Path) -> None:
    """The issue's cases: a padded opt-out scope, boolean, cohort and date are read the same
    by validate and by the stages (before, validate stripped and the stages did not)."""
    import shutil

    world = tmp_path / "w"
    shutil.copytree(small_world, world)
    cases = pd.read_csv(world / "court_cases.csv", dtype=str, keep_default_na=False)
    cases.loc[0, "cohort"] = " fdac"
    cases.loc[1, "expert_witness"] = "true "
    cases.loc[2, "application_date"] = " " + cases.loc[2, "application_date"] + " "
    cases.to_csv(world / "court_cases.csv", index=False)
    opt = pd.read_csv(world / "opt_outs.csv", dtype=str, keep_default_na=False)
    opt.loc[0, "scope"] = "all_research "
    opt.to_csv(world / "opt_outs.csv", index=False)
    assert validate_folder(world).ok
    s = load_sources(world)
    assert set(s.court_cases["cohort"]) == {"fdac", "comparison"}
    assert s.court_cases["expert_witness"].iloc[1]
    assert s.court_cases["application_date"].notna().all()
    assert s.opt_outs["scope"].iloc[0] == "all_research"


def test_agency_file_names(tmp_path: Path, small_world: Path) -> None:
    import shutil

    world = tmp_path / "w"
    shutil.copytree(small_world, world)
    (world / "agencies" / "police.csv").rename(world / "agencies" / "Youth Offending.csv")
    shutil.copy(world / "agencies" / "health.csv", world / "agencies" / "notes.txt")
    pd.read_csv(world / "agencies" / "cafcass.csv", dtype=str).to_parquet(
        world / "agencies" / "cafcass.parquet"
    )
    problems = [str(p) for p in validate_folder(world).problems]
    assert any("agencies/Youth Offending.csv" in p and "youth_offending" in p for p in problems)
    assert any(p.startswith("agencies/notes.txt") for p in problems)
    assert any("cafcass.csv and agencies/cafcass.parquet" in p for p in problems)
